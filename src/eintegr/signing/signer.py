"""Signature algorithms and the :class:`Signer` abstraction.

A :class:`Signer` signs raw bytes (the canonical ``SignedInfo``) and says which certificate
verifies the result. Everything else — building, canonicalizing and placing the XML
signature — is done by :mod:`eintegr.signing.xmldsig`, so a key held in an HSM, a smart card
or a remote signing service only needs a small :class:`Signer` subclass::

    class HsmSigner(Signer):
        certificate = property(lambda self: self._certificate)
        algorithm = property(lambda self: SignatureAlgorithm.RSA_SHA256)

        def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
            return self._session.sign(data, mechanism=...)  # PKCS#1 v1.5 over SHA-256

:class:`KeySigner` is the in-process implementation over a ``cryptography`` private key.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from eintegr.errors import KeyLoadError, SigningError

__all__ = [
    "Canonicalization",
    "DigestAlgorithm",
    "KeySigner",
    "SignatureAlgorithm",
    "Signer",
]

_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_DSIG_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
_XMLENC = "http://www.w3.org/2001/04/xmlenc#"

#: The elliptic curves accepted for signing and verification (name -> coordinate bytes).
SUPPORTED_CURVES: dict[str, int] = {"secp256r1": 32, "secp384r1": 48, "secp521r1": 66}


class DigestAlgorithm(enum.StrEnum):
    """A reference digest algorithm; the value is its short name, :attr:`uri` its XMLDSig URI."""

    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"

    @property
    def uri(self) -> str:
        """The XMLDSig ``DigestMethod/@Algorithm`` URI."""
        return _DIGEST_URIS[self]

    @property
    def hash(self) -> hashes.HashAlgorithm:
        """A fresh ``cryptography`` hash object for this algorithm."""
        return _HASHES[self.value]()

    @classmethod
    def from_uri(cls, uri: str) -> DigestAlgorithm | None:
        """The algorithm named by ``uri``, or ``None`` when it is not one of ours."""
        return _DIGEST_BY_URI.get(uri)


class SignatureAlgorithm(enum.StrEnum):
    """A signature algorithm; the value is its CLI name, :attr:`uri` its XMLDSig URI.

    ``RSA_SHA1`` is accepted for verification only, and only when the policy opts in.
    """

    RSA_SHA256 = "rsa-sha256"
    RSA_SHA384 = "rsa-sha384"
    RSA_SHA512 = "rsa-sha512"
    RSA_PSS_SHA256 = "rsa-pss-sha256"
    ECDSA_SHA256 = "ecdsa-sha256"
    ECDSA_SHA384 = "ecdsa-sha384"
    RSA_SHA1 = "rsa-sha1"

    @property
    def uri(self) -> str:
        """The XMLDSig ``SignatureMethod/@Algorithm`` URI."""
        return _SIGNATURE_URIS[self]

    @property
    def hash(self) -> hashes.HashAlgorithm:
        """A fresh ``cryptography`` hash object for the hash this algorithm signs with."""
        return _HASHES[self.value.rsplit("-", 1)[1]]()

    @property
    def digest(self) -> DigestAlgorithm:
        """The reference digest algorithm paired with this one when signing."""
        return DigestAlgorithm(self.value.rsplit("-", 1)[1])

    @property
    def key_type(self) -> str:
        """``"rsa"`` or ``"ec"``: the kind of key this algorithm needs."""
        return "ec" if self.value.startswith("ecdsa") else "rsa"

    @classmethod
    def from_uri(cls, uri: str) -> SignatureAlgorithm | None:
        """The algorithm named by ``uri``, or ``None`` when it is not one of ours."""
        return _SIGNATURE_BY_URI.get(uri)

    def accepts_key(self, key: PublicKeyTypes | PrivateKeyTypes) -> bool:
        """Whether ``key`` (public or private) can make or check signatures of this algorithm."""
        if self.key_type == "ec":
            return isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
        return isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)


class Canonicalization(enum.StrEnum):
    """A canonicalization algorithm (comments never included); :attr:`uri` is its URI."""

    C14N_1_0 = "c14n"
    C14N_1_1 = "c14n11"
    EXCLUSIVE = "exc-c14n"

    @property
    def uri(self) -> str:
        """The XMLDSig algorithm URI."""
        return _C14N_URIS[self]

    @classmethod
    def from_uri(cls, uri: str) -> Canonicalization | None:
        """The algorithm named by ``uri``, or ``None`` when it is not one of ours."""
        return _C14N_BY_URI.get(uri)


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_DIGEST_URIS = {
    DigestAlgorithm.SHA1: _DSIG + "sha1",
    DigestAlgorithm.SHA256: _XMLENC + "sha256",
    DigestAlgorithm.SHA384: _DSIG_MORE + "sha384",
    DigestAlgorithm.SHA512: _XMLENC + "sha512",
}
_DIGEST_BY_URI = {uri: alg for alg, uri in _DIGEST_URIS.items()}
_SIGNATURE_URIS = {
    SignatureAlgorithm.RSA_SHA256: _DSIG_MORE + "rsa-sha256",
    SignatureAlgorithm.RSA_SHA384: _DSIG_MORE + "rsa-sha384",
    SignatureAlgorithm.RSA_SHA512: _DSIG_MORE + "rsa-sha512",
    SignatureAlgorithm.RSA_PSS_SHA256: "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
    SignatureAlgorithm.ECDSA_SHA256: _DSIG_MORE + "ecdsa-sha256",
    SignatureAlgorithm.ECDSA_SHA384: _DSIG_MORE + "ecdsa-sha384",
    SignatureAlgorithm.RSA_SHA1: _DSIG + "rsa-sha1",
}
_SIGNATURE_BY_URI = {uri: alg for alg, uri in _SIGNATURE_URIS.items()}
_C14N_URIS = {
    Canonicalization.C14N_1_0: "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    Canonicalization.C14N_1_1: "http://www.w3.org/2006/12/xml-c14n11",
    Canonicalization.EXCLUSIVE: "http://www.w3.org/2001/10/xml-exc-c14n#",
}
_C14N_BY_URI = {uri: alg for alg, uri in _C14N_URIS.items()}


def rsa_padding(algorithm: SignatureAlgorithm) -> padding.AsymmetricPadding:
    """RSA padding for ``algorithm``: PKCS#1 v1.5, or PSS (MGF1, salt = hash size, RFC 6931)."""
    if algorithm is SignatureAlgorithm.RSA_PSS_SHA256:
        return padding.PSS(mgf=padding.MGF1(algorithm.hash), salt_length=padding.PSS.DIGEST_LENGTH)
    return padding.PKCS1v15()


def ecdsa_raw_to_der(signature: bytes, curve: ec.EllipticCurve) -> bytes | None:
    """XMLDSig ECDSA value (``r || s``, fixed width) to DER; ``None`` when the width is wrong."""
    width = SUPPORTED_CURVES.get(curve.name, (curve.key_size + 7) // 8)
    if len(signature) != 2 * width:
        return None
    r = int.from_bytes(signature[:width], "big")
    s = int.from_bytes(signature[width:], "big")
    return utils.encode_dss_signature(r, s)


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class Signer(abc.ABC):
    """Something that signs bytes with the private key of :attr:`certificate`.

    Subclass it to sign with a key that never enters the process (HSM, smart card, remote
    service): implement :attr:`certificate`, :attr:`algorithm` and :meth:`sign`, and
    optionally :attr:`chain`. Signatures are checked against :attr:`certificate` right after
    signing, so a misconfigured signer fails early with :class:`~eintegr.errors.SigningError`.
    """

    @property
    @abc.abstractmethod
    def certificate(self) -> x509.Certificate:
        """The certificate whose public key verifies this signer's signatures."""

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Intermediate CA certificates, nearest the signer first, root excluded; default none."""
        return ()

    @property
    @abc.abstractmethod
    def algorithm(self) -> SignatureAlgorithm:
        """The algorithm used when the caller does not ask for another one."""

    @abc.abstractmethod
    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign ``data`` and return the XMLDSig ``SignatureValue`` bytes.

        For ECDSA that is the raw ``r || s`` concatenation (each half as wide as the curve),
        not DER, as XMLDSig requires.
        """


class KeySigner(Signer):
    """A :class:`Signer` over an in-process ``cryptography`` private key.

    :param key: an RSA key of at least 2048 bits, or an EC key on P-256 / P-384 / P-521.
    :param certificate: the certificate of ``key``.
    :param chain: intermediate CA certificates to offer in ``KeyInfo`` on request.
    :param algorithm: the default algorithm; by default RSA-SHA256 for RSA keys,
        ECDSA-SHA256 for P-256 and ECDSA-SHA384 for larger curves.
    :raises KeyLoadError: ``KEY-UNSUPPORTED`` (key type or size), ``KEY-MISMATCH`` (the key
        does not belong to the certificate), ``KEY-ALGORITHM`` (``algorithm`` does not fit
        the key, or is verification-only).
    """

    def __init__(
        self,
        key: PrivateKeyTypes,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        algorithm: SignatureAlgorithm | None = None,
    ) -> None:
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 2048:
                raise KeyLoadError(
                    f"RSA keys must have at least 2048 bits, this one has {key.key_size}",
                    code="KEY-UNSUPPORTED",
                    message_bg=f"RSA ключът трябва да е поне 2048 бита, този е {key.key_size}",
                )
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            if key.curve.name not in SUPPORTED_CURVES:
                raise KeyLoadError(
                    f"elliptic curve {key.curve.name} is not supported (P-256, P-384, P-521)",
                    code="KEY-UNSUPPORTED",
                    message_bg=f"Елиптичната крива {key.curve.name} не се поддържа",
                )
        else:
            raise KeyLoadError(
                f"unsupported private key type {type(key).__name__} (RSA or EC only)",
                code="KEY-UNSUPPORTED",
                message_bg="Неподдържан вид частен ключ (само RSA или EC)",
            )
        if _public_der(key.public_key()) != _public_der(certificate.public_key()):
            raise KeyLoadError(
                "the private key does not belong to the certificate",
                code="KEY-MISMATCH",
                message_bg="Частният ключ не съответства на сертификата",
            )
        if algorithm is None:
            if isinstance(key, rsa.RSAPrivateKey):
                algorithm = SignatureAlgorithm.RSA_SHA256
            elif key.curve.name == "secp256r1":
                algorithm = SignatureAlgorithm.ECDSA_SHA256
            else:
                algorithm = SignatureAlgorithm.ECDSA_SHA384
        algorithm = SignatureAlgorithm(algorithm)
        if algorithm is SignatureAlgorithm.RSA_SHA1 or not algorithm.accepts_key(key):
            raise KeyLoadError(
                f"algorithm {algorithm} cannot sign with this key",
                code="KEY-ALGORITHM",
                message_bg=f"Алгоритъмът {algorithm} не може да подписва с този ключ",
            )
        self._key = key
        self._certificate = certificate
        self._chain = tuple(chain)
        self._algorithm = algorithm

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The intermediate CA certificates given at construction."""
        return self._chain

    @property
    def algorithm(self) -> SignatureAlgorithm:
        """The default signature algorithm."""
        return self._algorithm

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign ``data``; ECDSA values come back as raw ``r || s``.

        :raises SigningError: ``SIG-ALGORITHM`` when ``algorithm`` does not fit the key or is
            verification-only (RSA-SHA1).
        """
        algorithm = SignatureAlgorithm(algorithm)
        if algorithm is SignatureAlgorithm.RSA_SHA1 or not algorithm.accepts_key(self._key):
            raise SigningError(
                f"algorithm {algorithm} cannot sign with this key",
                code="SIG-ALGORITHM",
                message_bg=f"Алгоритъмът {algorithm} не може да подписва с този ключ",
            )
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, rsa_padding(algorithm), algorithm.hash)
        assert isinstance(key, ec.EllipticCurvePrivateKey)  # checked in __init__
        r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(algorithm.hash)))
        width = SUPPORTED_CURVES[key.curve.name]
        return r.to_bytes(width, "big") + s.to_bytes(width, "big")

    def __repr__(self) -> str:
        return f"KeySigner(subject={self._certificate.subject.rfc4514_string()!r})"
