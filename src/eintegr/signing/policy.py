"""The verification policy: which algorithms, keys and certificates a signature may use.

Secure by default: SHA-1 is refused, RSA keys need 2048 bits, the signer certificate must be
valid at the verification time, allow signing in its key usage, and be trusted by
:attr:`VerificationPolicy.trust`. The checks are ordered cheapest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from eintegr.errors import VerificationError
from eintegr.signing import codes
from eintegr.signing.signer import SUPPORTED_CURVES, DigestAlgorithm, SignatureAlgorithm
from eintegr.signing.trust import Trust

__all__ = ["DEFAULT_ALGORITHMS", "VerificationPolicy"]

#: Every signature algorithm except RSA-SHA1.
DEFAULT_ALGORITHMS: frozenset[SignatureAlgorithm] = frozenset(
    a for a in SignatureAlgorithm if a is not SignatureAlgorithm.RSA_SHA1
)


@dataclass(frozen=True)
class VerificationPolicy:
    """What a signature must satisfy to be accepted.

    :param trust: who may sign (:class:`~eintegr.signing.trust.PinnedCertificates` for the
        sender's registered transport certificate, or a
        :class:`~eintegr.signing.trust.CertificateAuthorities` bundle).
    :param allow_sha1: accept SHA-1 digests and RSA-SHA1 (old СЕОС deployments); this is the
        only switch for SHA-1: it adds RSA-SHA1 to ``allowed_algorithms``.
    :param min_rsa_bits: the smallest accepted RSA key.
    :param at: the verification time (timezone-aware); ``None`` means now.
    :param allowed_algorithms: accepted signature algorithms (names or members).
    :param check_validity: refuse a signer certificate outside its validity at ``at``. When
        off, a CA chain is evaluated at ``at`` moved into the signer certificate's validity.
    :param require_digital_signature_key_usage: refuse a signer certificate whose key usage
        extension allows neither ``digitalSignature`` nor ``nonRepudiation``.
    """

    trust: Trust
    allow_sha1: bool = False
    min_rsa_bits: int = 2048
    at: datetime | None = None
    allowed_algorithms: frozenset[SignatureAlgorithm] = field(default=DEFAULT_ALGORITHMS)
    check_validity: bool = True
    require_digital_signature_key_usage: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.trust, Trust):
            raise TypeError("VerificationPolicy.trust must be a Trust")
        if self.at is not None and (self.at.tzinfo is None or self.at.utcoffset() is None):
            raise ValueError("VerificationPolicy.at must be timezone-aware")
        if isinstance(self.min_rsa_bits, bool) or self.min_rsa_bits < 1:
            raise ValueError("VerificationPolicy.min_rsa_bits must be a positive number of bits")
        algorithms: Iterable[str] = self.allowed_algorithms
        object.__setattr__(
            self, "allowed_algorithms", frozenset(SignatureAlgorithm(a) for a in algorithms)
        )

    def verification_time(self) -> datetime:
        """:attr:`at`, or the current time."""
        return self.at if self.at is not None else datetime.now(UTC)

    def allows(self, algorithm: SignatureAlgorithm | DigestAlgorithm) -> bool:
        """Whether the signature or digest ``algorithm`` is acceptable."""
        if algorithm in (SignatureAlgorithm.RSA_SHA1, DigestAlgorithm.SHA1):
            return self.allow_sha1
        if isinstance(algorithm, DigestAlgorithm):
            return True
        return algorithm in self.allowed_algorithms

    def check_algorithm(self, algorithm: SignatureAlgorithm | DigestAlgorithm) -> None:
        """Raise ``SIG-ALGORITHM`` unless :meth:`allows` ``algorithm``."""
        if not self.allows(algorithm):
            sha1 = algorithm in (SignatureAlgorithm.RSA_SHA1, DigestAlgorithm.SHA1)
            raise VerificationError(
                f"algorithm {algorithm} is not allowed"
                + (" (SHA-1 needs allow_sha1=True)" if sha1 else ""),
                code=codes.ALGORITHM,
                message_bg=f"Алгоритъмът {algorithm} не е допустим"
                + (" (SHA-1 изисква изрично разрешение)" if sha1 else ""),
            )

    def check_certificate(
        self,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        algorithm: SignatureAlgorithm | None = None,
    ) -> None:
        """Check the signer ``certificate``: key, validity, key usage, then :attr:`trust`.

        :param chain: other certificates offered with the signature (for chain building).
        :param algorithm: when given, the key must be of the kind it needs.
        :raises VerificationError: ``SIG-KEY``, ``SIG-CERT-EXPIRED``, ``SIG-CERT-USAGE``,
            ``П.8``.
        """
        self._check_key(certificate, algorithm)
        at = self.verification_time()
        before, after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        if self.check_validity:
            if not before <= at <= after:
                raise VerificationError(
                    f"the signing certificate is valid from {before:%Y-%m-%d %H:%M:%S} to "
                    f"{after:%Y-%m-%d %H:%M:%S} UTC, not at {at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
                    code=codes.CERT_EXPIRED,
                    message_bg=(
                        f"Сертификатът на подписа е валиден от {before:%Y-%m-%d %H:%M:%S} до "
                        f"{after:%Y-%m-%d %H:%M:%S} UTC, не и към "
                        f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
                    ),
                )
        else:
            at = min(max(at, before), after)
        if self.require_digital_signature_key_usage:
            self._check_key_usage(certificate)
        self.trust.check(certificate, chain, at)

    def _check_key(
        self, certificate: x509.Certificate, algorithm: SignatureAlgorithm | None
    ) -> None:
        try:
            key = certificate.public_key()
        except Exception:  # unsupported or malformed key: cryptography raises several types
            key = None
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size < self.min_rsa_bits:
                raise VerificationError(
                    f"the signing RSA key has {key.key_size} bits, fewer than {self.min_rsa_bits}",
                    code=codes.KEY,
                    message_bg=(
                        f"RSA ключът на подписа е {key.key_size} бита, "
                        f"по-малко от {self.min_rsa_bits}"
                    ),
                )
        elif not (
            isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in SUPPORTED_CURVES
        ):
            raise VerificationError(
                "the signing key is of an unsupported kind (RSA, or EC on P-256/P-384/P-521)",
                code=codes.KEY,
                message_bg="Ключът на подписа е от неподдържан вид (RSA или EC P-256/P-384/P-521)",
            )
        if algorithm is not None and not algorithm.accepts_key(key):
            raise VerificationError(
                f"algorithm {algorithm} does not fit the certificate's key",
                code=codes.KEY,
                message_bg=f"Алгоритъмът {algorithm} не съответства на ключа на сертификата",
            )

    @staticmethod
    def _check_key_usage(certificate: x509.Certificate) -> None:
        try:
            usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            return  # no key usage extension: not restricted (RFC 5280 4.2.1.3)
        except ValueError:  # malformed or duplicated extensions
            raise VerificationError(
                "the signing certificate's extensions cannot be read",
                code=codes.CERT_USAGE,
                message_bg="Разширенията на сертификата на подписа не могат да бъдат прочетени",
            ) from None
        if not (usage.digital_signature or usage.content_commitment):
            raise VerificationError(
                "the signing certificate's key usage does not allow digital signatures",
                code=codes.CERT_USAGE,
                message_bg="Предназначението на ключа на сертификата не позволява подписване",
            )
