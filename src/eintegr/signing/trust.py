"""Who is trusted to sign: pinned certificates or CA bundles.

A :class:`Trust` decides whether the certificate a signature was made with is acceptable at
the verification time. It raises :class:`~eintegr.errors.VerificationError` with code ``П.8``
(the check of the same number in the СЕОС compatibility procedure) when it is not.

* :class:`PinnedCertificates` — the СЕОС case: the sender's transport certificate(s) as
  registered, matched by the whole certificate or by issuer and serial number;
* :class:`CertificateAuthorities` — a CA bundle: chain building to a root, validity of every
  certificate in the chain, CA basic constraints and key usage (RFC 5280 / Web PKI CA
  profile, by ``cryptography.x509.verification``).
"""

from __future__ import annotations

import abc
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

from eintegr.errors import VerificationError
from eintegr.signing.codes import UNTRUSTED

__all__ = ["CertificateAuthorities", "PinnedCertificates", "Trust"]


def _describe(certificate: x509.Certificate) -> str:
    return (
        f"subject {certificate.subject.rfc4514_string()}, issuer "
        f"{certificate.issuer.rfc4514_string()}, serial {certificate.serial_number:X}"
    )


class Trust(abc.ABC):
    """Decides whether a signer certificate is trusted at a given time."""

    @abc.abstractmethod
    def check(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], at: datetime
    ) -> None:
        """Return when ``certificate`` is trusted at ``at``; raise otherwise.

        :param certificate: the signer's certificate.
        :param chain: other certificates offered with the signature (untrusted hints).
        :param at: the verification time (timezone-aware).
        :raises VerificationError: code ``П.8`` when the certificate is not trusted.
        """


# --- distinguished names given as text ---------------------------------------------------

_ATTRIBUTE_NAMES: dict[str, str] = {
    "CN": NameOID.COMMON_NAME.dotted_string,
    "C": NameOID.COUNTRY_NAME.dotted_string,
    "L": NameOID.LOCALITY_NAME.dotted_string,
    "ST": NameOID.STATE_OR_PROVINCE_NAME.dotted_string,
    "S": NameOID.STATE_OR_PROVINCE_NAME.dotted_string,
    "O": NameOID.ORGANIZATION_NAME.dotted_string,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME.dotted_string,
    "STREET": NameOID.STREET_ADDRESS.dotted_string,
    "DC": NameOID.DOMAIN_COMPONENT.dotted_string,
    "UID": NameOID.USER_ID.dotted_string,
    "E": NameOID.EMAIL_ADDRESS.dotted_string,
    "EMAIL": NameOID.EMAIL_ADDRESS.dotted_string,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS.dotted_string,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER.dotted_string,
    "ORGANIZATIONIDENTIFIER": NameOID.ORGANIZATION_IDENTIFIER.dotted_string,
    "SN": NameOID.SURNAME.dotted_string,
    "SURNAME": NameOID.SURNAME.dotted_string,
    "G": NameOID.GIVEN_NAME.dotted_string,
    "GN": NameOID.GIVEN_NAME.dotted_string,
    "GIVENNAME": NameOID.GIVEN_NAME.dotted_string,
    "T": NameOID.TITLE.dotted_string,
    "TITLE": NameOID.TITLE.dotted_string,
}
_DOTTED = re.compile(r"^(?:OID\.)?(\d+(?:\.\d+)+)$", re.IGNORECASE)
_NameKey = tuple[tuple[str, str], ...]


def _normalize_value(value: str) -> str:
    """Values compare like X.520 caseIgnoreMatch: NFKC, case-folded, inner spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def _split_dn(text: str) -> list[tuple[str, str]]:
    """``type=value`` pairs of an RFC 4514 / RFC 2253 / .NET style distinguished name.

    Handles backslash escapes, double-quoted values, ``,`` / ``;`` / ``+`` separators and the
    ``OID.2.5.4.97=`` spelling .NET uses; the order of the pairs does not matter to callers.
    """
    pairs: list[tuple[str, str]] = []
    attribute: list[str] = []
    value: list[str] = []
    target = attribute
    quoted = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1 : i + 3]
            if re.fullmatch(r"[0-9A-Fa-f]{2}", following):  # \XX hex escape (one UTF-8 byte)
                hex_bytes = bytearray()
                while re.fullmatch(r"\\[0-9A-Fa-f]{2}", text[i : i + 3]):
                    hex_bytes.append(int(text[i + 1 : i + 3], 16))
                    i += 3
                target.append(hex_bytes.decode("utf-8", errors="replace"))
                continue
            target.append(text[i + 1])
            i += 2
            continue
        if char == '"' and target is value:
            quoted = not quoted
        elif quoted:
            target.append(char)
        elif char == "=" and target is attribute:
            target = value
        elif char in ",;+":
            pairs.append(("".join(attribute), "".join(value)))
            attribute, value = [], []
            target = attribute
        else:
            target.append(char)
        i += 1
    if attribute or value:
        pairs.append(("".join(attribute), "".join(value)))
    return pairs


def _name_key(name: x509.Name | str) -> _NameKey:
    """An order-insensitive comparison key for a distinguished name (object or text).

    :raises ValueError: ``name`` is text that does not read as a distinguished name.
    """
    items: list[tuple[str, str]] = []
    if isinstance(name, x509.Name):
        for attribute in name:
            raw = attribute.value
            text = raw if isinstance(raw, str) else raw.hex()
            items.append((attribute.oid.dotted_string, _normalize_value(text)))
    else:
        for attribute_type, value in _split_dn(name):
            label = attribute_type.strip()
            dotted = _DOTTED.match(label)
            oid = dotted.group(1) if dotted else _ATTRIBUTE_NAMES.get(label.upper())
            if oid is None:
                raise ValueError(f"unknown attribute type {label!r} in distinguished name")
            items.append((oid, _normalize_value(value)))
        if not items:
            raise ValueError("empty distinguished name")
    return tuple(sorted(items))


def _parse_serial(serial: int | str) -> int:
    """A certificate serial number from an int or a hex string (``"0x"``, ``:`` and spaces allowed).

    :raises ValueError: negative, or not hexadecimal.
    """
    if isinstance(serial, bool):
        raise TypeError("a serial number is an int or a hex string")
    if isinstance(serial, int):
        value = serial
    else:
        text = re.sub(r"[\s:]", "", serial)
        if text[:2].lower() == "0x":
            text = text[2:]
        if not text or not re.fullmatch(r"[0-9A-Fa-f]+", text):
            raise ValueError(f"not a hexadecimal serial number: {serial!r}")
        value = int(text, 16)
    if value < 0:
        raise ValueError("a serial number cannot be negative")
    return value


class PinnedCertificates(Trust):
    """Trust exactly the given certificates: the sender's registered transport certificate(s).

    :param certificates: matched by the whole certificate (DER equality).
    :param issuer_serials: ``(issuer, serial)`` pairs; ``issuer`` is an :class:`x509.Name` or its
        text (RFC 4514 or .NET style, attribute order and letter case do not matter), ``serial``
        an int or a hex string (case-insensitive, as the СЕОС register publishes it).
    :raises ValueError: nothing is pinned, or an issuer / serial cannot be read.
    """

    def __init__(
        self,
        certificates: Sequence[x509.Certificate] = (),
        issuer_serials: Sequence[tuple[x509.Name | str, int | str]] = (),
    ) -> None:
        if not certificates and not issuer_serials:
            raise ValueError("PinnedCertificates needs at least one certificate or issuer+serial")
        self._ders = frozenset(c.public_bytes(serialization.Encoding.DER) for c in certificates)
        self._issuer_serials = frozenset(
            (_name_key(issuer), _parse_serial(serial)) for issuer, serial in issuer_serials
        )

    def check(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], at: datetime
    ) -> None:
        """Return when ``certificate`` is one of the pinned ones; raise ``П.8`` otherwise."""
        if certificate.public_bytes(serialization.Encoding.DER) in self._ders:
            return
        if self._issuer_serials and (
            (_name_key(certificate.issuer), certificate.serial_number) in self._issuer_serials
        ):
            return
        raise VerificationError(
            f"the signing certificate is not the registered one ({_describe(certificate)})",
            code=UNTRUSTED,
            message_bg=(
                "Подписът не е положен с регистрирания сертификат "
                f"(сериен номер {certificate.serial_number:X})"
            ),
        )

    def __repr__(self) -> str:
        return (
            f"PinnedCertificates({len(self._ders)} certificate(s), "
            f"{len(self._issuer_serials)} issuer+serial pair(s))"
        )


class CertificateAuthorities(Trust):
    """Trust certificates that chain to one of ``roots`` at the verification time.

    The chain is built from ``intermediates`` and the certificates offered with the signature;
    every CA in it must be valid at the verification time, be a CA (basic constraints) and be
    allowed to sign certificates (key usage). Key usage of the signer certificate itself is
    checked by :class:`~eintegr.signing.policy.VerificationPolicy`.

    :param roots: the trust anchors (at least one).
    :param intermediates: intermediate CA certificates known in advance.
    :param max_chain_depth: the longest accepted chain below the root.
    """

    def __init__(
        self,
        roots: Sequence[x509.Certificate],
        intermediates: Sequence[x509.Certificate] = (),
        *,
        max_chain_depth: int = 8,
    ) -> None:
        if not roots:
            raise ValueError("CertificateAuthorities needs at least one root certificate")
        self._store = verification.Store(list(roots))
        self._roots = tuple(roots)
        self._intermediates = tuple(intermediates)
        self._max_chain_depth = max_chain_depth

    def check(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], at: datetime
    ) -> None:
        """Return when a valid chain leads from ``certificate`` to a root; else raise ``П.8``."""
        builder = (
            verification.PolicyBuilder()
            .store(self._store)
            .time(at)
            .max_chain_depth(self._max_chain_depth)
            .extension_policies(
                ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                ee_policy=verification.ExtensionPolicy.permit_all(),
            )
        )
        try:
            builder.build_client_verifier().verify(certificate, [*self._intermediates, *chain])
        except (verification.VerificationError, ValueError) as exc:
            raise VerificationError(
                f"the signing certificate does not chain to a trusted CA ({exc}; "
                f"{_describe(certificate)})",
                code=UNTRUSTED,
                message_bg=(
                    "Сертификатът на подписа не води до доверен удостоверяващ орган "
                    f"(сериен номер {certificate.serial_number:X})"
                ),
            ) from None

    def __repr__(self) -> str:
        return (
            f"CertificateAuthorities({len(self._roots)} root(s), "
            f"{len(self._intermediates)} intermediate(s))"
        )
