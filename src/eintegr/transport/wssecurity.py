"""WS-Security 1.0 with an X.509 token: sign and verify the timestamp of a SOAP 1.1 envelope.

ССЕВ's integration service (and WCF's ``TransportWithMessageCredential`` with certificate
credentials in general) asks, by its WS-SecurityPolicy, for HTTPS plus an *endorsing
supporting token*: the client's X.509 certificate travels in the ``wsse:Security`` header as
a ``BinarySecurityToken`` and signs the header's ``wsu:Timestamp`` (``IncludeTimestamp``,
``WssX509V3Token10``, ``AlwaysToRecipient``)::

    <wsse:Security s:mustUnderstand="1">
      <wsu:Timestamp wsu:Id="TS-…"><wsu:Created/><wsu:Expires/></wsu:Timestamp>
      <wsse:BinarySecurityToken wsu:Id="X509-…" ValueType="…#X509v3"
                                EncodingType="…#Base64Binary">MII…</wsse:BinarySecurityToken>
      <ds:Signature>  exclusive C14N, RSA-SHA256, one Reference to #TS-… (SHA-256),
        KeyInfo/wsse:SecurityTokenReference/wsse:Reference URI="#X509-…"
      </ds:Signature>
    </wsse:Security>

:func:`add_security_header` / :func:`sign_envelope` build it with ``cryptography`` and lxml's
exclusive canonicalization, through the :class:`~eintegr.signing.Signer` abstraction (so the
key may live in an HSM). :func:`verify_envelope` checks one strictly: a single header, a
unique ``Id`` for every referenced element (no signature wrapping), the timestamp covered by
the signature, exclusive C14N only, the algorithms, digest and signature value, the
timestamp's freshness (clock skew and lifetime), and finally the certificate under a
:class:`~eintegr.signing.VerificationPolicy` — e.g. with :class:`CertificateThumbprints`,
ССЕВ's own rule: the certificate's SHA-1 thumbprint must belong to a registered login.

Failures are :class:`~eintegr.errors.VerificationError` with a ``WSS-*`` code (or the policy's
``SIG-*`` codes for algorithms, keys and certificates).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from eintegr.errors import SigningError, VerificationError, XmlError
from eintegr.signing.policy import VerificationPolicy
from eintegr.signing.signer import (
    Canonicalization,
    DigestAlgorithm,
    SignatureAlgorithm,
    Signer,
    ecdsa_raw_to_der,
    rsa_padding,
)
from eintegr.signing.trust import Trust
from eintegr.transport.soap import SOAP11_NS
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, element_path, parse_xml

__all__ = [
    "DEFAULT_LIFETIME",
    "DEFAULT_MAX_CLOCK_SKEW",
    "DEFAULT_MAX_LIFETIME",
    "WSSE_NS",
    "WSU_NS",
    "X509_TOKEN_TYPE",
    "CertificateThumbprints",
    "VerifiedSecurity",
    "add_security_header",
    "certificate_thumbprint",
    "sign_envelope",
    "verify_envelope",
]

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
"""The WS-Security 1.0 ``wsse`` namespace."""
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
"""The WS-Security utility ``wsu`` namespace (``Timestamp``, ``Id``)."""
X509_TOKEN_TYPE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"  # noqa: S105
)
"""The ``ValueType`` of an X.509 v3 binary security token."""
_BASE64_ENCODING = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
_DS = "http://www.w3.org/2000/09/xmldsig#"
_EXC_C14N = Canonicalization.EXCLUSIVE.uri

DEFAULT_LIFETIME = timedelta(minutes=5)
"""How long a timestamp we make stays valid (WCF's default)."""
DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=5)
"""The clock difference tolerated between sender and receiver (WCF's default)."""
DEFAULT_MAX_LIFETIME = timedelta(hours=1)
"""The longest ``Expires - Created`` a verifier accepts."""

_WSU_ID = f"{{{WSU_NS}}}Id"
_ID_ATTRIBUTES = (_WSU_ID, "Id", "ID", "id")


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def certificate_thumbprint(certificate: x509.Certificate) -> str:
    """The certificate's SHA-1 thumbprint (lower-case hex): ССЕВ's name for a certificate."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der, usedforsecurity=False).hexdigest()


_HEX = re.compile(r"[0-9a-f]{40}")


def _normalize_thumbprint(value: str) -> str:
    normalized = "".join(value.split()).replace(":", "").lower()
    if not _HEX.fullmatch(normalized):
        raise ValueError(f"{value!r} is not a SHA-1 certificate thumbprint (40 hex digits)")
    return normalized


class CertificateThumbprints(Trust):
    """Trust the certificates whose SHA-1 thumbprints are registered (ССЕВ's login rule).

    :param thumbprints: hex thumbprints (any case; spaces and colons ignored).
    :raises ValueError: a value that is not 40 hex digits.
    """

    def __init__(self, thumbprints: Iterable[str]) -> None:
        self._thumbprints = frozenset(_normalize_thumbprint(t) for t in thumbprints)

    @property
    def thumbprints(self) -> frozenset[str]:
        """The registered thumbprints (lower-case hex)."""
        return self._thumbprints

    def check(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], at: datetime
    ) -> None:
        """Return when the thumbprint is registered; raise ``WSS-UNREGISTERED`` otherwise."""
        thumbprint = certificate_thumbprint(certificate)
        if thumbprint not in self._thumbprints:
            raise VerificationError(
                f"the certificate {thumbprint} ({certificate.subject.rfc4514_string()}) "
                "is not registered",
                code="WSS-UNREGISTERED",
                message_bg=f"Сертификатът {thumbprint} не е регистриран",
            )

    def __repr__(self) -> str:
        return f"CertificateThumbprints({len(self._thumbprints)} registered)"


# ---------------------------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------------------------


def _xsd_time(moment: datetime) -> str:
    """``2024-05-01T10:00:00.000Z``: UTC with milliseconds, as WCF writes timestamps."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def _header(envelope: etree._Element) -> etree._Element:
    if envelope.tag != _q(SOAP11_NS, "Envelope"):
        raise SigningError(
            f"the root element is {envelope.tag!r}, not a SOAP 1.1 Envelope",
            code="WSS-ENVELOPE",
            message_bg="Коренният елемент не е SOAP 1.1 Envelope",
        )
    header = envelope.find(_q(SOAP11_NS, "Header"))
    if header is None:
        header = etree.Element(_q(SOAP11_NS, "Header"))
        envelope.insert(0, header)
    return header


def _check_signature(
    certificate: x509.Certificate, algorithm: SignatureAlgorithm, data: bytes, value: bytes
) -> bool:
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, rsa_padding(algorithm), algorithm.hash)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            der = ecdsa_raw_to_der(value, key.curve)
            if der is None:
                return False
            key.verify(der, data, ec.ECDSA(algorithm.hash))
            return True
    except InvalidSignature:
        return False
    return False


def add_security_header(
    envelope: etree._Element,
    signer: Signer,
    *,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
    algorithm: SignatureAlgorithm | None = None,
) -> None:
    """Add a signed ``wsse:Security`` header to the SOAP 1.1 ``envelope`` element, in place.

    The header holds a timestamp valid from ``now`` (tz-aware; default: the current time) for
    ``lifetime``, the signer's certificate as a binary security token, and a signature by
    ``signer`` (``algorithm``, default the signer's) over the timestamp.

    :raises SigningError: ``WSS-ENVELOPE`` (not a SOAP 1.1 envelope), ``WSS-PRESENT`` (the
        envelope already has a ``wsse:Security`` header), ``SIG-ALGORITHM`` (the algorithm
        cannot sign with the key), ``SIG-SIGNER`` (the signer produced a signature its
        certificate does not verify); :class:`ValueError` for a non-positive ``lifetime``
        or a naive ``now``.
    """
    if lifetime <= timedelta(0):
        raise ValueError("the timestamp lifetime must be positive")
    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise ValueError("now must be timezone-aware")
    chosen = SignatureAlgorithm(algorithm) if algorithm is not None else signer.algorithm
    if chosen is SignatureAlgorithm.RSA_SHA1:
        raise SigningError(
            "RSA-SHA1 is accepted for verification only",
            code="SIG-ALGORITHM",
            message_bg="RSA-SHA1 се приема само при проверка",
        )
    header = _header(envelope)
    if header.find(_q(WSSE_NS, "Security")) is not None:
        raise SigningError(
            "the envelope already has a wsse:Security header",
            code="WSS-PRESENT",
            message_bg="Пликът вече има заглавие wsse:Security",
        )
    created = now if now is not None else datetime.now(UTC)
    token = uuid.uuid4().hex
    timestamp_id, token_id = f"TS-{token}", f"X509-{token}"

    security = etree.SubElement(
        header, _q(WSSE_NS, "Security"), nsmap={"wsse": WSSE_NS, "wsu": WSU_NS}
    )
    security.set(_q(SOAP11_NS, "mustUnderstand"), "1")
    timestamp = etree.SubElement(security, _q(WSU_NS, "Timestamp"), {_WSU_ID: timestamp_id})
    etree.SubElement(timestamp, _q(WSU_NS, "Created")).text = _xsd_time(created)
    etree.SubElement(timestamp, _q(WSU_NS, "Expires")).text = _xsd_time(created + lifetime)
    bst = etree.SubElement(
        security,
        _q(WSSE_NS, "BinarySecurityToken"),
        {_WSU_ID: token_id, "ValueType": X509_TOKEN_TYPE, "EncodingType": _BASE64_ENCODING},
    )
    bst.text = base64.b64encode(signer.certificate.public_bytes(serialization.Encoding.DER)).decode(
        "ascii"
    )

    digest = chosen.digest
    signature = etree.SubElement(security, _q(_DS, "Signature"), nsmap={"ds": _DS})
    signed_info = etree.SubElement(signature, _q(_DS, "SignedInfo"))
    etree.SubElement(signed_info, _q(_DS, "CanonicalizationMethod"), Algorithm=_EXC_C14N)
    etree.SubElement(signed_info, _q(_DS, "SignatureMethod"), Algorithm=chosen.uri)
    reference = etree.SubElement(signed_info, _q(_DS, "Reference"), URI=f"#{timestamp_id}")
    transforms = etree.SubElement(reference, _q(_DS, "Transforms"))
    etree.SubElement(transforms, _q(_DS, "Transform"), Algorithm=_EXC_C14N)
    etree.SubElement(reference, _q(_DS, "DigestMethod"), Algorithm=digest.uri)
    digest_value = hashlib.new(digest.value, _c14n(timestamp)).digest()
    etree.SubElement(reference, _q(_DS, "DigestValue")).text = base64.b64encode(
        digest_value
    ).decode("ascii")

    data = _c14n(signed_info)
    value = signer.sign(data, chosen)
    if not _check_signature(signer.certificate, chosen, data, value):
        security.getparent().remove(security)  # type: ignore[union-attr]
        raise SigningError(
            "the signer's signature does not verify with its certificate",
            code="SIG-SIGNER",
            message_bg="Подписът на подписващия не се потвърждава с неговия сертификат",
        )
    etree.SubElement(signature, _q(_DS, "SignatureValue")).text = base64.b64encode(value).decode(
        "ascii"
    )
    key_info = etree.SubElement(signature, _q(_DS, "KeyInfo"))
    str_ = etree.SubElement(key_info, _q(WSSE_NS, "SecurityTokenReference"))
    etree.SubElement(str_, _q(WSSE_NS, "Reference"), URI=f"#{token_id}", ValueType=X509_TOKEN_TYPE)


def sign_envelope(
    envelope: bytes,
    signer: Signer,
    *,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
    algorithm: SignatureAlgorithm | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> bytes:
    """Parse ``envelope`` (hardened parser), add a signed security header, and serialize it.

    See :func:`add_security_header`; additionally :class:`~eintegr.errors.XmlError` when
    ``envelope`` is not acceptable XML.
    """
    tree = parse_xml(envelope, limits=limits)
    add_security_header(tree.getroot(), signer, lifetime=lifetime, now=now, algorithm=algorithm)
    return etree.tostring(tree, encoding="utf-8", xml_declaration=True)


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedSecurity:
    """A verified ``wsse:Security`` header.

    :param certificate: the certificate of the binary security token that signed it.
    :param thumbprint: its SHA-1 thumbprint (lower-case hex).
    :param created: the timestamp's ``Created`` (UTC).
    :param expires: the timestamp's ``Expires`` (UTC).
    :param algorithm: the signature algorithm.
    :param signature_value: the raw signature value (a replay-cache key).
    """

    certificate: x509.Certificate
    thumbprint: str
    created: datetime
    expires: datetime
    algorithm: SignatureAlgorithm
    signature_value: bytes


def _fail(code: str, en: str, bg: str, element: etree._Element | None = None) -> VerificationError:
    return VerificationError(
        en,
        code=code,
        message_bg=bg,
        path=element_path(element) if element is not None else None,
        line=element.sourceline if element is not None else None,
    )


def _structure(en: str, bg: str, element: etree._Element | None = None) -> VerificationError:
    return _fail("WSS-STRUCTURE", en, bg, element)


def _only(parent: etree._Element, tag: str, en: str, bg: str) -> etree._Element:
    found = parent.findall(tag)
    if len(found) != 1:
        raise _structure(f"{en} ({len(found)} found, exactly one needed)", bg, parent)
    return found[0]


def _children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})"
)


def _timestamp_value(element: etree._Element) -> datetime:
    text = (element.text or "").strip()
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise _fail(
            "WSS-TIMESTAMP",
            f"{etree.QName(element).localname} {text[:40]!r} is not a dateTime with a time zone",
            f"{etree.QName(element).localname} не е дата и час с часова зона",
            element,
        )
    zone = match[8]
    tz: timezone = UTC
    if zone != "Z":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        tz = timezone(-offset if zone[0] == "-" else offset)
    try:
        moment = datetime(
            int(match[1]),
            int(match[2]),
            int(match[3]),
            int(match[4]),
            int(match[5]),
            int(match[6]),
            int(((match[7] or "") + "000000")[:6]),
            tzinfo=tz,
        )
    except ValueError:
        raise _fail(
            "WSS-TIMESTAMP",
            f"{text[:40]!r} is not a real date and time",
            "Невъзможна дата и час",
            element,
        ) from None
    return moment.astimezone(UTC)


def _b64(element: etree._Element, what: str) -> bytes:
    try:
        return binascii.a2b_base64("".join((element.text or "").split()), strict_mode=True)
    except (binascii.Error, ValueError):
        raise _structure(
            f"{what} is not valid base64", f"{what} не е валиден base64", element
        ) from None


def _ids(tree: etree._ElementTree) -> dict[str, list[etree._Element]]:
    found: dict[str, list[etree._Element]] = {}
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in _ID_ATTRIBUTES:
            value = element.get(attribute)
            if value is not None:
                found.setdefault(value, []).append(element)
    return found


def _resolve(
    ids: dict[str, list[etree._Element]], uri: str | None, at: etree._Element
) -> etree._Element:
    if not uri or not uri.startswith("#") or len(uri) == 1:
        raise _structure(
            f"the reference URI {uri!r} is not a same-document #Id reference",
            "Препратката не е към елемент от същия документ (#Id)",
            at,
        )
    targets = ids.get(uri[1:], [])
    if len(targets) != 1:
        raise _structure(
            f"{len(targets)} elements carry the Id {uri[1:]!r}; exactly one is required",
            f"{len(targets)} елемента носят Id {uri[1:]!r}; изисква се точно един",
            at,
        )
    return targets[0]


def _signature_algorithm(method: etree._Element, policy: VerificationPolicy) -> SignatureAlgorithm:
    uri = method.get("Algorithm") or ""
    algorithm = SignatureAlgorithm.from_uri(uri)
    if algorithm is None:
        raise _fail(
            "SIG-ALGORITHM",
            f"unsupported signature algorithm {uri!r}",
            f"Неподдържан алгоритъм на подписа {uri!r}",
            method,
        )
    policy.check_algorithm(algorithm)
    return algorithm


def _check_exclusive(method: etree._Element) -> None:
    uri = method.get("Algorithm")
    if uri != _EXC_C14N:
        raise _fail(
            "SIG-ALGORITHM",
            f"canonicalization {uri!r} is not accepted (exclusive C14N only)",
            f"Каноникализацията {uri!r} не се приема (само изключваща C14N)",
            method,
        )
    if _children(method):
        raise _structure(
            "InclusiveNamespaces and other canonicalization parameters are not accepted",
            "Не се приемат параметри на каноникализацията",
            method,
        )


def _check_reference(
    reference: etree._Element,
    ids: dict[str, list[etree._Element]],
    policy: VerificationPolicy,
) -> etree._Element:
    """Verify one reference's digest; return the element it covers."""
    target = _resolve(ids, reference.get("URI"), reference)
    parts = _children(reference)
    names = [etree.QName(p).localname for p in parts]
    if names not in (
        ["Transforms", "DigestMethod", "DigestValue"],
        ["DigestMethod", "DigestValue"],
    ):
        raise _structure(
            f"unexpected Reference content {names}",
            "Неочаквано съдържание на Reference",
            reference,
        )
    if names[0] == "Transforms":
        transforms = _children(parts[0])
        if len(transforms) != 1 or transforms[0].tag != _q(_DS, "Transform"):
            raise _structure(
                "exactly one transform (exclusive C14N) is accepted",
                "Приема се точно една трансформация (изключваща C14N)",
                parts[0],
            )
        _check_exclusive(transforms[0])
    method = parts[-2]
    uri = method.get("Algorithm") or ""
    digest = DigestAlgorithm.from_uri(uri)
    if digest is None:
        raise _fail(
            "SIG-ALGORITHM",
            f"unsupported digest algorithm {uri!r}",
            f"Неподдържан алгоритъм за извлечение {uri!r}",
            method,
        )
    policy.check_algorithm(digest)
    expected = _b64(parts[-1], "DigestValue")
    actual = hashlib.new(digest.value, _c14n(target)).digest()
    if not hmac.compare_digest(expected, actual):
        raise _fail(
            "WSS-DIGEST",
            f"the digest of {element_path(target)} does not match: it was changed after signing",
            f"Извлечението на {element_path(target)} не съвпада: променено е след подписването",
            reference,
        )
    return target


def _token_certificate(
    key_info: etree._Element, security: etree._Element, ids: dict[str, list[etree._Element]]
) -> x509.Certificate:
    children = _children(key_info)
    if len(children) != 1 or children[0].tag != _q(WSSE_NS, "SecurityTokenReference"):
        raise _structure(
            "KeyInfo must hold one wsse:SecurityTokenReference",
            "KeyInfo трябва да съдържа една wsse:SecurityTokenReference",
            key_info,
        )
    references = _children(children[0])
    if len(references) != 1 or references[0].tag != _q(WSSE_NS, "Reference"):
        raise _structure(
            "the SecurityTokenReference must hold one wsse:Reference to the token",
            "SecurityTokenReference трябва да съдържа една wsse:Reference към токена",
            children[0],
        )
    token = _resolve(ids, references[0].get("URI"), references[0])
    if token.tag != _q(WSSE_NS, "BinarySecurityToken") or token.getparent() is not security:
        raise _structure(
            "the key reference does not point to a BinarySecurityToken of this header",
            "Препратката към ключа не сочи BinarySecurityToken от това заглавие",
            references[0],
        )
    if token.get("ValueType") != X509_TOKEN_TYPE:
        raise _fail(
            "WSS-TOKEN",
            f"the token's ValueType {token.get('ValueType')!r} is not X509v3",
            "Типът на токена не е X509v3",
            token,
        )
    encoding = token.get("EncodingType")
    if encoding not in (None, _BASE64_ENCODING):
        raise _fail(
            "WSS-TOKEN",
            f"the token's EncodingType {encoding!r} is not Base64Binary",
            "Кодирането на токена не е Base64Binary",
            token,
        )
    try:
        return x509.load_der_x509_certificate(_b64(token, "BinarySecurityToken"))
    except ValueError:
        raise _fail(
            "WSS-TOKEN",
            "the BinarySecurityToken is not an X.509 certificate",
            "BinarySecurityToken не е X.509 сертификат",
            token,
        ) from None


def verify_envelope(
    envelope: bytes | etree._ElementTree,
    policy: VerificationPolicy,
    *,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> VerifiedSecurity:
    """Verify the ``wsse:Security`` header of a SOAP 1.1 envelope.

    The checks, in order: one ``wsse:Security`` header with one ``wsu:Timestamp`` and one
    ``ds:Signature``; every ``Id`` referenced is carried by exactly one element; the
    signature's references verify and one of them is the timestamp; exclusive C14N and
    algorithms the policy allows; the key reference points to an X.509 binary security token
    of the same header, whose key verifies the signature value; the timestamp is fresh at
    ``policy``'s verification time (``Created`` not later than ``max_clock_skew`` ahead,
    ``Expires`` not earlier than ``max_clock_skew`` ago, at most ``max_lifetime`` between
    them); and the certificate passes ``policy`` (key, validity, key usage, trust).

    :raises VerificationError: ``WSS-MISSING``, ``WSS-STRUCTURE``, ``WSS-TOKEN``,
        ``WSS-DIGEST``, ``WSS-SIGNATURE``, ``WSS-TIMESTAMP``, ``WSS-EXPIRED``,
        ``WSS-NOT-YET-VALID``, ``WSS-LIFETIME``, ``WSS-XML`` and the policy's codes
        (``SIG-ALGORITHM``, ``SIG-KEY``, ``SIG-CERT-EXPIRED``, ``SIG-CERT-USAGE``, the trust's).
    """
    if isinstance(envelope, bytes | bytearray | memoryview):
        try:
            tree = parse_xml(bytes(envelope), limits=limits)
        except XmlError as exc:
            raise VerificationError(
                f"the envelope is not acceptable XML: {exc}",
                code="WSS-XML",
                message_bg=f"Пликът не е приемлив XML: {exc.message_bg}",
            ) from exc
    else:
        tree = envelope
    root = tree.getroot()
    if root.tag != _q(SOAP11_NS, "Envelope"):
        raise _structure(
            "the root element is not a SOAP 1.1 Envelope", "Коренът не е SOAP 1.1 Envelope", root
        )
    headers = root.findall(_q(SOAP11_NS, "Header"))
    securities = [s for h in headers for s in h.findall(_q(WSSE_NS, "Security"))]
    if not securities:
        raise _fail(
            "WSS-MISSING",
            "the envelope has no wsse:Security header",
            "Пликът няма заглавие wsse:Security",
            root,
        )
    if len(headers) != 1 or len(securities) != 1:
        raise _structure(
            "exactly one Header with one wsse:Security is accepted",
            "Приема се точно едно заглавие с един wsse:Security",
            root,
        )
    security = securities[0]
    timestamp = _only(
        security, _q(WSU_NS, "Timestamp"), "wsu:Timestamp in the header", "Липсва wsu:Timestamp"
    )
    signature = _only(
        security, _q(_DS, "Signature"), "ds:Signature in the header", "Липсва ds:Signature"
    )
    ids = _ids(tree)

    # The signature: structure, references, key, value.
    parts = _children(signature)
    names = [p.tag for p in parts]
    expected = [_q(_DS, "SignedInfo"), _q(_DS, "SignatureValue"), _q(_DS, "KeyInfo")]
    if names != expected:
        raise _structure(
            "ds:Signature must hold SignedInfo, SignatureValue and KeyInfo (no Object)",
            "ds:Signature трябва да съдържа SignedInfo, SignatureValue и KeyInfo",
            signature,
        )
    signed_info, value_element, key_info = parts
    info_parts = _children(signed_info)
    if (
        len(info_parts) < 3
        or info_parts[0].tag != _q(_DS, "CanonicalizationMethod")
        or info_parts[1].tag != _q(_DS, "SignatureMethod")
        or any(p.tag != _q(_DS, "Reference") for p in info_parts[2:])
    ):
        raise _structure(
            "SignedInfo must hold CanonicalizationMethod, SignatureMethod and References",
            "SignedInfo трябва да съдържа CanonicalizationMethod, SignatureMethod и Reference",
            signed_info,
        )
    _check_exclusive(info_parts[0])
    algorithm = _signature_algorithm(info_parts[1], policy)
    covered = [_check_reference(r, ids, policy) for r in info_parts[2:]]
    if not any(target is timestamp for target in covered):
        raise _structure(
            "the signature does not cover the header's wsu:Timestamp",
            "Подписът не обхваща wsu:Timestamp на заглавието",
            signed_info,
        )
    certificate = _token_certificate(key_info, security, ids)
    signature_value = _b64(value_element, "SignatureValue")
    if not _check_signature(certificate, algorithm, _c14n(signed_info), signature_value):
        raise _fail(
            "WSS-SIGNATURE",
            "the signature value does not verify with the token's certificate",
            "Стойността на подписа не се потвърждава със сертификата на токена",
            value_element,
        )

    # The timestamp: freshness.
    stamp = _children(timestamp)
    stamp_names = [etree.QName(p).localname for p in stamp]
    if stamp_names != ["Created", "Expires"] or any(
        etree.QName(p).namespace != WSU_NS for p in stamp
    ):
        raise _fail(
            "WSS-TIMESTAMP",
            "the timestamp must hold wsu:Created and wsu:Expires",
            "Времевият печат трябва да съдържа wsu:Created и wsu:Expires",
            timestamp,
        )
    created, expires = _timestamp_value(stamp[0]), _timestamp_value(stamp[1])
    now = policy.verification_time().astimezone(UTC)
    if created > expires:
        raise _fail(
            "WSS-TIMESTAMP",
            "the timestamp expires before it was created",
            "Времевият печат изтича преди да е създаден",
            timestamp,
        )
    if expires - created > max_lifetime:
        raise _fail(
            "WSS-LIFETIME",
            f"the timestamp is valid for {expires - created}, longer than {max_lifetime}",
            f"Времевият печат е валиден {expires - created}, по-дълго от {max_lifetime}",
            timestamp,
        )
    if created - max_clock_skew > now:
        raise _fail(
            "WSS-NOT-YET-VALID",
            f"the timestamp was created in the future ({_xsd_time(created)}, now {_xsd_time(now)})",
            f"Времевият печат е създаден в бъдещето ({_xsd_time(created)})",
            timestamp,
        )
    if expires + max_clock_skew < now:
        raise _fail(
            "WSS-EXPIRED",
            f"the timestamp expired at {_xsd_time(expires)} (now {_xsd_time(now)})",
            f"Времевият печат е изтекъл в {_xsd_time(expires)}",
            timestamp,
        )

    # The certificate: key, validity, key usage, trust.
    policy.check_certificate(certificate, algorithm=algorithm)
    return VerifiedSecurity(
        certificate=certificate,
        thumbprint=certificate_thumbprint(certificate),
        created=created,
        expires=expires,
        algorithm=algorithm,
        signature_value=signature_value,
    )
