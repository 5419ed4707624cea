"""Loading signing keys and certificates: PEM / DER keys, PKCS#12 bundles, certificate files.

Every failure is a :class:`~eintegr.errors.KeyLoadError` with a stable code:

* ``KEY-LOAD`` — unreadable file, not a key / certificate / PKCS#12 bundle, no certificate;
* ``KEY-PASSWORD`` — a password is missing, not expected, or wrong;
* ``KEY-MISMATCH`` — the private key does not belong to the certificate;
* ``KEY-UNSUPPORTED`` / ``KEY-ALGORITHM`` — see :class:`~eintegr.signing.signer.KeySigner`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from eintegr.errors import KeyLoadError
from eintegr.signing.signer import KeySigner, SignatureAlgorithm, _public_der

__all__ = ["load_certificates", "load_pem_signer", "load_pkcs12_signer"]

_MAX_FILE_BYTES = 16 * 1024 * 1024  # no key, certificate or PKCS#12 file is anywhere near this


def _read(source: bytes | Path, what: str) -> tuple[bytes, str]:
    """The bytes of ``source`` and a label for messages."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), what
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > _MAX_FILE_BYTES:
            raise KeyLoadError(
                f"{what} file {path} is too large ({size} bytes)",
                message_bg=f"Файлът {path} е твърде голям ({size} байта)",
            )
        return path.read_bytes(), f"{what} file {path}"
    except OSError as exc:
        raise KeyLoadError(
            f"cannot read {what} file {path}: {exc.strerror or exc}",
            message_bg=f"Файлът {path} не може да бъде прочетен: {exc.strerror or exc}",
        ) from None


def _is_pem(data: bytes) -> bool:
    return b"-----BEGIN " in data[:4096] or data.lstrip().startswith(b"-----BEGIN ")


def load_certificates(data: bytes | Path) -> list[x509.Certificate]:
    """Every certificate in ``data``: PEM (one or many), DER, or a PKCS#7 bundle (PEM or DER).

    :raises KeyLoadError: ``KEY-LOAD`` when nothing usable is found.
    """
    raw, label = _read(data, "certificate")
    try:
        if _is_pem(raw):
            if b"-----BEGIN PKCS7-----" in raw:
                certificates = pkcs7.load_pem_pkcs7_certificates(raw)
            else:
                certificates = x509.load_pem_x509_certificates(raw)
        else:
            try:
                certificates = [x509.load_der_x509_certificate(raw)]
            except ValueError:
                certificates = pkcs7.load_der_pkcs7_certificates(raw)
    except ValueError as exc:
        raise KeyLoadError(
            f"{label}: no readable X.509 certificate ({exc})",
            message_bg="Не е намерен четим X.509 сертификат",
        ) from None
    if not certificates:
        raise KeyLoadError(
            f"{label}: no X.509 certificate found",
            message_bg="Не е намерен X.509 сертификат",
        )
    return list(certificates)


def _load_private_key(raw: bytes, password: bytes | None, label: str) -> PrivateKeyTypes:
    loader = (
        serialization.load_pem_private_key if _is_pem(raw) else serialization.load_der_private_key
    )
    try:
        return loader(raw, password)
    except TypeError as exc:  # cryptography: password given but not encrypted, or vice versa
        needed = password is None
        raise KeyLoadError(
            f"{label}: " + ("the key is encrypted and needs a password" if needed else str(exc)),
            code="KEY-PASSWORD",
            message_bg=(
                "Ключът е шифрован и изисква парола"
                if needed
                else "Ключът не е шифрован, а е подадена парола"
            ),
        ) from None
    except ValueError as exc:
        if password is not None and "decrypt" in str(exc).lower():
            raise KeyLoadError(
                f"{label}: wrong password",
                code="KEY-PASSWORD",
                message_bg="Грешна парола за ключа",
            ) from None
        raise KeyLoadError(
            f"{label}: not a readable private key ({exc})",
            message_bg="Файлът не съдържа четим частен ключ",
        ) from None
    except Exception as exc:  # unsupported algorithms surface as UnsupportedAlgorithm
        raise KeyLoadError(
            f"{label}: not a usable private key ({exc})",
            message_bg="Файлът не съдържа използваем частен ключ",
        ) from None


def _split_leaf(
    key: PrivateKeyTypes, certificates: Sequence[x509.Certificate]
) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The certificate of ``key`` among ``certificates``, and the others in their order."""
    public = _public_der(key.public_key())
    for index, certificate in enumerate(certificates):
        if _public_der(certificate.public_key()) == public:
            return certificate, [c for i, c in enumerate(certificates) if i != index]
    raise KeyLoadError(
        "the private key does not belong to the certificate",
        code="KEY-MISMATCH",
        message_bg="Частният ключ не съответства на сертификата",
    )


def load_pem_signer(
    key: bytes | Path,
    certificate: bytes | Path,
    *,
    password: bytes | None = None,
    chain: Sequence[bytes | Path] = (),
    algorithm: SignatureAlgorithm | None = None,
) -> KeySigner:
    """A :class:`KeySigner` from a private key and its certificate (PEM, or DER).

    ``certificate`` may hold the whole chain: the certificate matching the key is the signer's,
    the rest become :attr:`KeySigner.chain` (followed by the certificates of ``chain``).

    :raises KeyLoadError: ``KEY-LOAD``, ``KEY-PASSWORD``, ``KEY-MISMATCH``,
        ``KEY-UNSUPPORTED``, ``KEY-ALGORITHM``.
    """
    raw_key, key_label = _read(key, "key")
    private_key = _load_private_key(raw_key, password, key_label)
    leaf, rest = _split_leaf(private_key, load_certificates(certificate))
    for extra in chain:
        rest.extend(load_certificates(extra))
    return KeySigner(private_key, leaf, rest, algorithm)


def load_pkcs12_signer(
    data: bytes | Path, password: bytes | None, *, algorithm: SignatureAlgorithm | None = None
) -> KeySigner:
    """A :class:`KeySigner` from a PKCS#12 (``.p12`` / ``.pfx``) bundle.

    :raises KeyLoadError: ``KEY-LOAD`` (not PKCS#12, no key or no certificate inside),
        ``KEY-PASSWORD`` (wrong or missing password), ``KEY-MISMATCH``, ``KEY-UNSUPPORTED``,
        ``KEY-ALGORITHM``.
    """
    raw, label = _read(data, "PKCS#12")
    if not raw.startswith(b"\x30"):  # a DER SEQUENCE; anything else cannot be PKCS#12
        raise KeyLoadError(
            f"{label}: not a PKCS#12 bundle",
            message_bg="Файлът не е PKCS#12 контейнер",
        )
    try:
        private_key, leaf, additional = pkcs12.load_key_and_certificates(raw, password)
    except ValueError:
        # cryptography cannot tell a wrong password from damaged data.
        raise KeyLoadError(
            f"{label}: wrong password, or a damaged PKCS#12 bundle",
            code="KEY-PASSWORD",
            message_bg="Грешна парола или повреден PKCS#12 контейнер",
        ) from None
    except Exception as exc:
        raise KeyLoadError(
            f"{label}: not a usable PKCS#12 bundle ({exc})",
            message_bg="Неизползваем PKCS#12 контейнер",
        ) from None
    if private_key is None:
        raise KeyLoadError(
            f"{label}: the bundle holds no private key",
            message_bg="Контейнерът не съдържа частен ключ",
        )
    certificates = ([leaf] if leaf is not None else []) + list(additional)
    if not certificates:
        raise KeyLoadError(
            f"{label}: the bundle holds no certificate",
            message_bg="Контейнерът не съдържа сертификат",
        )
    leaf, rest = _split_leaf(private_key, certificates)
    return KeySigner(private_key, leaf, rest, algorithm)
