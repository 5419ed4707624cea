"""A local test PKI for trials, demos and tests: a CA, transport and signing certificates.

Nothing here is meant for production keys. It generates, with ``cryptography``, what the
state's infrastructure hands out for real:

* :func:`make_ca` — a self-signed root (or, with ``issuer=``, an intermediate) CA;
* :func:`make_transport_certificate` — a СЕОС transport certificate shaped like the ones the
  state issues: subject ``C=BG, ST=B:<ЕИК>, O=<organisation>, CN=<host>``, SAN DNS = host,
  key usage digitalSignature + keyEncipherment, extended key usage serverAuth + clientAuth;
* :func:`make_signing_certificate` — a personal signing certificate, optionally marked as
  qualified (EU qualified certificate policy and QC statements), for XAdES trials.

Each returns an :class:`Issued` (key, certificate, intermediates) that serializes to PEM or
PKCS#12, writes itself to a folder, reads itself back, and becomes a
:class:`~eintegr.signing.signer.KeySigner`.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from eintegr.errors import IdentifierError, KeyLoadError
from eintegr.identifiers import is_valid_eik

if TYPE_CHECKING:
    from eintegr.signing.signer import KeySigner

__all__ = [
    "OID_QCP_NATURAL_QSCD",
    "OID_QC_COMPLIANCE",
    "OID_QC_SSCD",
    "Issued",
    "PrivateKey",
    "make_ca",
    "make_signing_certificate",
    "make_transport_certificate",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
"""The private key types the test PKI generates."""

#: ETSI EN 319 411-2 policy "QCP-n-qscd": qualified certificate of a natural person, key in a QSCD.
OID_QCP_NATURAL_QSCD = "0.4.0.194112.1.2"
#: ETSI EN 319 412-5 QC statement "QcCompliance": an EU qualified certificate.
OID_QC_COMPLIANCE = "0.4.0.1862.1.1"
#: ETSI EN 319 412-5 QC statement "QcSSCD": the private key resides in a QSCD.
OID_QC_SSCD = "0.4.0.1862.1.4"
_OID_QC_STATEMENTS = ObjectIdentifier("1.3.6.1.5.5.7.1.3")  # RFC 3739 qcStatements extension

_END_ENTITY = x509.BasicConstraints(ca=False, path_length=None)
_BACKDATE = _dt.timedelta(minutes=5)  # tolerate small clock differences between test hosts
_SUFFIXES = {"key": ".key.pem", "certificate": ".crt.pem", "chain": ".chain.pem"}


@dataclass(frozen=True)
class Issued:
    """A private key, its certificate and the intermediate CA certificates above it.

    ``chain`` holds the issuing CA certificates from the issuer upwards, **without** the
    self-signed root (the root is what the verifying side trusts); it is empty for a
    certificate issued directly by a root, and for a root itself.
    """

    key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def key_pem(self, password: bytes | None = None) -> bytes:
        """The private key as PKCS#8 PEM, encrypted with ``password`` when one is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def certificate_pem(self) -> bytes:
        """The certificate as PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def chain_pem(self) -> bytes:
        """The intermediate certificates as concatenated PEM (empty when there are none)."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def pkcs12(self, password: bytes | None) -> bytes:
        """A PKCS#12 bundle (key, certificate, intermediates), encrypted with ``password``."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return pkcs12.serialize_key_and_certificates(
            _common_name(self.certificate).encode(),
            self.key,
            self.certificate,
            list(self.chain) or None,
            encryption,
        )

    def signer(self) -> KeySigner:
        """A :class:`~eintegr.signing.signer.KeySigner` over this key and certificate."""
        from eintegr.signing.signer import KeySigner  # at call time: keeps pki import-light

        return KeySigner(self.key, self.certificate, self.chain)

    def write(
        self,
        directory: str | os.PathLike[str],
        stem: str,
        *,
        password: bytes | None = None,
        overwrite: bool = False,
    ) -> dict[str, Path]:
        """Write ``<stem>.key.pem`` (mode 0600), ``<stem>.crt.pem`` and, when there are
        intermediates, ``<stem>.chain.pem`` into ``directory`` (created when missing).

        Returns the written paths under the keys ``"key"``, ``"certificate"`` and ``"chain"``.
        Existing files are not replaced unless ``overwrite`` is true.

        :raises FileExistsError: a target file exists and ``overwrite`` is false.
        """
        folder = Path(directory)
        _check_stem(stem)
        contents = {"key": self.key_pem(password), "certificate": self.certificate_pem()}
        if self.chain:
            contents["chain"] = self.chain_pem()
        paths = {name: folder / f"{stem}{_SUFFIXES[name]}" for name in contents}
        if not overwrite:
            for path in paths.values():
                if path.exists():
                    raise FileExistsError(f"{path} exists; refusing to overwrite it")
        folder.mkdir(parents=True, exist_ok=True)
        for name, path in paths.items():
            _write_file(path, contents[name], private=name == "key")
        return paths

    @classmethod
    def read(
        cls,
        directory: str | os.PathLike[str],
        stem: str,
        *,
        password: bytes | None = None,
    ) -> Issued:
        """Read back what :meth:`write` wrote.

        :raises KeyLoadError: a file is missing or unusable (``KEY-LOAD``), the password is
            wrong or missing (``KEY-PASSWORD``), or the key does not match the certificate
            (``KEY-MISMATCH``).
        """
        folder = Path(directory)
        _check_stem(stem)
        key_path = folder / f"{stem}{_SUFFIXES['key']}"
        cert_path = folder / f"{stem}{_SUFFIXES['certificate']}"
        chain_path = folder / f"{stem}{_SUFFIXES['chain']}"
        key = _load_key(_read_file(key_path), password, key_path)
        certificate = _load_pem_certificates(_read_file(cert_path), cert_path)[0]
        chain: tuple[x509.Certificate, ...] = ()
        if chain_path.exists():
            chain = tuple(_load_pem_certificates(_read_file(chain_path), chain_path))
        if _public_der(key.public_key()) != _public_der(certificate.public_key()):
            raise KeyLoadError(
                f"the key in {key_path} does not belong to the certificate in {cert_path}",
                code="KEY-MISMATCH",
                message_bg=f"Ключът в {key_path} не съответства на сертификата в {cert_path}",
            )
        return cls(key, certificate, chain)


def make_ca(
    common_name: str = "eintegr test CA",
    *,
    key_size: int = 2048,
    valid_days: int = 3650,
    valid_from: _dt.datetime | None = None,
    issuer: Issued | None = None,
) -> Issued:
    """A CA: self-signed root, or an intermediate CA issued by ``issuer``.

    The certificate has basicConstraints ``CA:TRUE`` (critical) and key usage keyCertSign +
    cRLSign (critical), with subject and authority key identifiers. RSA key of ``key_size``
    bits; valid from ``valid_from`` (tz-aware; default: five minutes ago) for ``valid_days``.
    """
    _check_days(valid_days)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BG"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eintegr test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    not_before = _aware(valid_from) if valid_from is not None else _now() - _BACKDATE
    builder = _builder(subject, key, issuer, not_before, valid_days)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    builder = builder.add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
    return _issue(builder, key, issuer)


def make_transport_certificate(
    ca: Issued,
    *,
    eik: str,
    host: str,
    organization: str | None = None,
    key_size: int = 2048,
    valid_from: _dt.datetime | None = None,
    valid_days: int = 730,
    key_type: Literal["rsa", "ec"] = "rsa",
) -> Issued:
    """A СЕОС transport certificate for the participant with ЕИК ``eik`` serving ``host``.

    Subject ``C=BG, ST=B:<eik>, [O=<organization>,] CN=<host>``; SAN DNS = ``host`` (plus IP
    127.0.0.1 when ``host`` is ``localhost`` or ``127.0.0.1``); key usage digitalSignature +
    keyEncipherment (digitalSignature + keyAgreement for an EC key); extended key usage
    serverAuth + clientAuth. ``key_type="ec"`` makes a P-256 key, ``"rsa"`` one of
    ``key_size`` bits. ``valid_from`` (tz-aware; default: five minutes ago) and ``valid_days``
    set the validity period — a past ``valid_from`` makes an expired certificate for tests.

    :raises IdentifierError: ``eik`` is not a valid 9- or 13-digit ЕИК/БУЛСТАТ (``ID-EIK``).
    :raises ValueError: an empty host, an unknown ``key_type`` or a non-positive ``valid_days``.
    """
    if not isinstance(eik, str) or not is_valid_eik(eik):
        raise IdentifierError(
            f"{eik!r} is not a valid EIK/BULSTAT",
            code="ID-EIK",
            message_bg=f"{eik!r} не е валиден ЕИК/БУЛСТАТ",
        )
    if not host or host != host.strip():
        raise ValueError(f"invalid host name {host!r}")
    _check_days(valid_days)
    key = _generate_key(key_type, key_size)
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "BG"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, f"B:{eik}"),
    ]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, host))
    not_before = _aware(valid_from) if valid_from is not None else _now() - _BACKDATE
    builder = _builder(x509.Name(attributes), key, ca, not_before, valid_days)
    names: list[x509.GeneralName] = [x509.DNSName(host)]
    if host in {"localhost", "127.0.0.1"}:
        names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    builder = builder.add_extension(_END_ENTITY, critical=True)
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    builder = builder.add_extension(
        _key_usage(digital_signature=True, key_encipherment=is_rsa, key_agreement=not is_rsa),
        critical=True,
    )
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
        critical=False,
    )
    return _issue(builder, key, ca)


def make_signing_certificate(
    ca: Issued,
    *,
    common_name: str,
    serial_number: str | None = None,
    qualified: bool = False,
    key_size: int = 2048,
    valid_from: _dt.datetime | None = None,
    valid_days: int = 730,
    key_type: Literal["rsa", "ec"] = "rsa",
) -> Issued:
    """A personal document-signing certificate (for XAdES trials).

    Subject ``C=BG, [serialNumber=<serial_number>,] CN=<common_name>`` (real Bulgarian
    qualified certificates use ``serialNumber=PNOBG-<ЕГН>``); key usage digitalSignature +
    nonRepudiation. With ``qualified=True`` the certificate carries the certificate policy
    :data:`OID_QCP_NATURAL_QSCD` and the QC statements :data:`OID_QC_COMPLIANCE` and
    :data:`OID_QC_SSCD` — the marks of an EU qualified certificate, not a real qualification.
    """
    if not common_name:
        raise ValueError("common_name must not be empty")
    _check_days(valid_days)
    key = _generate_key(key_type, key_size)
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "BG")]
    if serial_number:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    not_before = _aware(valid_from) if valid_from is not None else _now() - _BACKDATE
    builder = _builder(x509.Name(attributes), key, ca, not_before, valid_days)
    builder = builder.add_extension(_END_ENTITY, critical=True)
    builder = builder.add_extension(
        _key_usage(digital_signature=True, content_commitment=True), critical=True
    )
    if qualified:
        builder = builder.add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(ObjectIdentifier(OID_QCP_NATURAL_QSCD), None)]
            ),
            critical=False,
        )
        builder = builder.add_extension(
            x509.UnrecognizedExtension(
                _OID_QC_STATEMENTS, _der_qc_statements((OID_QC_COMPLIANCE, OID_QC_SSCD))
            ),
            critical=False,
        )
    return _issue(builder, key, ca)


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


def _aware(moment: _dt.datetime) -> _dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("valid_from must be timezone-aware")
    return moment


def _check_days(days: int) -> None:
    if days < 1:
        raise ValueError("valid_days must be at least 1")


def _check_stem(stem: str) -> None:
    if not stem or Path(stem).name != stem or stem in {".", ".."}:
        raise ValueError(f"invalid file stem {stem!r} (a plain name, no folders)")


def _generate_key(key_type: str, key_size: int) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown key type {key_type!r} (use 'rsa' or 'ec')")


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_encipherment: bool = False,
    key_agreement: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=key_agreement,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(
    subject: x509.Name,
    key: PrivateKey,
    issuer: Issued | None,
    not_before: _dt.datetime,
    valid_days: int,
) -> x509.CertificateBuilder:
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + _dt.timedelta(days=valid_days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    authority = issuer.key.public_key() if issuer else public
    return builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(authority), critical=False
    )


def _issue(builder: x509.CertificateBuilder, key: PrivateKey, issuer: Issued | None) -> Issued:
    signing_key = issuer.key if issuer else key
    certificate = builder.sign(signing_key, hashes.SHA256())
    chain: tuple[x509.Certificate, ...] = ()
    if issuer is not None and not _self_signed(issuer.certificate):
        chain = (issuer.certificate, *issuer.chain)
    return Issued(key, certificate, chain)


def _self_signed(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else "eintegr"
    return value if isinstance(value, str) else value.decode()


def _public_der(public: object) -> bytes:
    if not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return b""
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_file(path: Path, data: bytes, *, private: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    if private:
        path.chmod(0o600)  # also when an existing file is overwritten


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyLoadError(
            f"cannot read {path}: {exc.strerror or exc}",
            code="KEY-LOAD",
            message_bg=f"Файлът {path} не може да бъде прочетен: {exc.strerror or exc}",
        ) from None


def _load_key(data: bytes, password: bytes | None, path: Path) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password)
    except TypeError:  # encrypted without a password, or a password for a plain key
        if password is None:
            en, bg = "needs a password", "изисква парола"
        else:
            en, bg = "is not encrypted; give no password", "не е шифриран; не подавайте парола"
        raise KeyLoadError(
            f"the key in {path} {en}", code="KEY-PASSWORD", message_bg=f"Ключът в {path} {bg}"
        ) from None
    except ValueError:
        code, en, bg = "KEY-LOAD", "not a usable PEM private key", "не е използваем PEM частен ключ"
        if password is not None and b"ENCRYPTED" in data:
            code, en, bg = "KEY-PASSWORD", "wrong password", "грешна парола"
        raise KeyLoadError(f"{path}: {en}", code=code, message_bg=f"{path}: {bg}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyLoadError(
            f"{path}: only RSA and EC keys are supported",
            message_bg=f"{path}: поддържат се само RSA и EC ключове",
        )
    return key


def _load_pem_certificates(data: bytes, path: Path) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise KeyLoadError(
            f"{path}: no PEM certificate found",
            message_bg=f"{path}: не е намерен PEM сертификат",
        )
    return certificates


# A few lines of DER for the one structure cryptography cannot build: RFC 3739 QCStatements
# with statement identifiers only (SEQUENCE OF SEQUENCE { OBJECT IDENTIFIER }).


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def _der_oid(dotted: str) -> bytes:
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _der(0x06, bytes(body))


def _der_qc_statements(oids: Iterable[str]) -> bytes:
    return _der(0x30, b"".join(_der(0x30, _der_oid(oid)) for oid in oids))
