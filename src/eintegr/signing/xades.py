"""XAdES-B-B enveloped signatures for XML documents (РИО applications, RegiX results, …).

:func:`sign_xades` appends one ``ds:Signature`` at an exact place — by default as the last
child of the root, or into the one element an XPath ``place`` selects (a РИО application puts
it inside ``XMLDigitalSignature`` of its footer). The signature covers the whole document
(``URI=""`` with the enveloped-signature transform, exclusive C14N) and its
``xades:SignedProperties``: ``SigningTime``, ``SigningCertificateV2`` and a
``DataObjectFormat``. Digests are SHA-256; the signature algorithm is the signer's.

:func:`verify_xades` takes the signature from that exact place only and checks, in order:
structure, algorithms (against the :class:`~eintegr.signing.policy.VerificationPolicy`), the
signing certificate named by ``SigningCertificateV2``, then the policy on that certificate
(key strength, validity, key usage, trust) before any expensive work, the signature value,
the digests of the signed properties and of the document, and ``SigningTime``. It returns
the document re-parsed from the exact bytes that were signed — use that, not the input.

Only references this module can resolve *structurally* are accepted: the whole document
(``URI=""``), this signature's own ``SignedProperties`` and, optionally, its own ``KeyInfo``;
every ``Id`` they point to must be unique in the document. Anything else — by-Id references
to content, XPath transforms, external URIs, extra references — is refused as
``SIG-STRUCTURE``.

XAdES-B-T: given ``timestamp=`` (a :class:`~eintegr.signing.timestamp.TimestampClient` or any
``Callable[[bytes], bytes]`` returning an RFC 3161 token), :func:`sign_xades` adds
``UnsignedProperties/UnsignedSignatureProperties/SignatureTimeStamp`` over the exclusive C14N
of ``ds:SignatureValue``. :func:`verify_xades` verifies every ``SignatureTimeStamp`` present
(with ``timestamp_trust``) and can require one; see ``docs/signing.md``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from lxml import etree

from eintegr.errors import SigningError, VerificationError
from eintegr.signing import _dsig, codes
from eintegr.signing._dsig import b64decode as _b64decode
from eintegr.signing._dsig import b64encode as _b64
from eintegr.signing._dsig import check_algorithm as _allowed
from eintegr.signing._dsig import digest as _digest
from eintegr.signing._dsig import digest_algorithm as _digest_algorithm
from eintegr.signing._dsig import elements as _children
from eintegr.signing._dsig import fail as _fail
from eintegr.signing._dsig import signature_valid as _signature_valid
from eintegr.signing._dsig import structure as _structure
from eintegr.signing._dsig import transforms as _transforms
from eintegr.signing.policy import VerificationPolicy
from eintegr.signing.signer import (
    Canonicalization,
    DigestAlgorithm,
    SignatureAlgorithm,
    Signer,
)
from eintegr.signing.timestamp import (
    TS_RESPONSE,
    TS_TIME,
    TimestampClient,
    TimestampToken,
    parse_timestamp_token,
    verify_timestamp_token,
)
from eintegr.signing.trust import Trust
from eintegr.xml import element_path, parse_xml, to_bytes

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "SIGNING_CERT",
    "SIGNING_TIME",
    "TIMESTAMP",
    "XADES_FAILURE_CODES",
    "XADES_NS",
    "VerifiedXades",
    "sign_xades",
    "verify_xades",
]

XADES_NS: Final = "http://uri.etsi.org/01903/v1.3.2#"
"""The XAdES namespace (ETSI EN 319 132-1 keeps the 1.3.2 namespace for the V2 elements)."""

DEFAULT_CLOCK_SKEW: Final = _dt.timedelta(minutes=5)
"""How far in the future a ``SigningTime`` may lie, to tolerate clock differences."""

SIGNING_CERT: Final = "XADES-SIGNING-CERT"
"""Failure code: ``SigningCertificateV2`` is missing or names no certificate in ``KeyInfo``."""
SIGNING_TIME: Final = "XADES-SIGNING-TIME"
"""Failure code: ``SigningTime`` is missing, malformed, in the future or outside validity."""
TIMESTAMP: Final = "XADES-TIMESTAMP"
"""Failure code: a required ``SignatureTimeStamp`` is missing, malformed, or cannot be judged."""

XADES_FAILURE_CODES: Final[Mapping[str, codes.FailureCode]] = {
    f.code: f
    for f in (
        codes.FailureCode(
            SIGNING_CERT,
            "SigningCertificateV2 is missing, or its digest matches no certificate in KeyInfo",
            "SigningCertificateV2 липсва или хешът му не съответства на сертификат от KeyInfo",
        ),
        codes.FailureCode(
            SIGNING_TIME,
            "SigningTime is missing, malformed, in the future, or outside the certificate's"
            " validity",
            "SigningTime липсва, е неправилно, в бъдещето или извън валидността на сертификата",
        ),
    )
}
"""The XAdES-specific failure codes (the others are in :data:`eintegr.signing.codes`)."""

DS: Final = _dsig.DS_NS
_C14N_10: Final = Canonicalization.C14N_1_0.uri
_C14N_EXC: Final = Canonicalization.EXCLUSIVE.uri
_C14N_11: Final = Canonicalization.C14N_1_1.uri
_CANONICALIZATIONS: Final = frozenset({_C14N_10, _C14N_11, _C14N_EXC})
_ENVELOPED: Final = _dsig.ENVELOPED
_SIGNED_PROPERTIES_TYPE: Final = _dsig.SIGNED_PROPERTIES_TYPE
_SHA256: Final = DigestAlgorithm.SHA256.uri
_OID_QC_STATEMENTS: Final = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
_OID_QC_COMPLIANCE: Final = "0.4.0.1862.1.1"
_MAX_CERTIFICATES: Final = _dsig.MAX_CERTIFICATES
_XSD_DATETIME: Final = re.compile(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


_SIGNATURE: Final = _q(DS, "Signature")


@dataclass(frozen=True)
class VerifiedXades:
    """What a valid XAdES signature covers, and who made it when.

    :ivar document: the signed document, re-parsed from ``signed_xml`` (signature removed).
    :ivar signed_xml: the canonical bytes the document reference digested — exactly what was
        signed.
    :ivar certificate: the signing certificate (named by ``SigningCertificateV2``).
    :ivar chain: the other certificates carried in ``KeyInfo``, as given by the signer.
    :ivar signing_time: the claimed ``SigningTime`` (tz-aware; a claim, not a time-stamp).
    :ivar certificate_policies: certificate policy OIDs of the signing certificate.
    :ivar qc_statements: QC statement OIDs (ETSI EN 319 412-5) of the signing certificate.
    :ivar timestamp: the verified signature time-stamp (XAdES-B-T; the earliest when there are
        several), or None when the signature has none.
    """

    document: etree._ElementTree
    signed_xml: bytes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    signing_time: _dt.datetime
    signature_algorithm: SignatureAlgorithm
    digest_algorithm: str
    canonicalization: str
    certificate_policies: tuple[str, ...] = ()
    qc_statements: tuple[str, ...] = ()
    timestamp: TimestampToken | None = None

    @property
    def qualified(self) -> bool:
        """Whether the certificate claims to be an EU qualified certificate (QcCompliance).

        This reads the certificate; whether its issuer may issue qualified certificates is
        decided by the trust anchors in the policy (an EU trusted list), not here.
        """
        return _OID_QC_COMPLIANCE in self.qc_statements


# ---------------------------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------------------------


def sign_xades(
    data: bytes,
    signer: Signer,
    *,
    place: str | None = None,
    namespaces: Mapping[str, str] | None = None,
    signing_time: _dt.datetime | None = None,
    algorithm: SignatureAlgorithm | None = None,
    timestamp: TimestampClient | Callable[[bytes], bytes] | None = None,
) -> bytes:
    """Sign the XML document ``data`` with a XAdES-B-B (or, with ``timestamp``, B-T) signature.

    :param place: an XPath selecting exactly one element; the signature becomes its last
        child. Default: the root element.
    :param namespaces: prefixes used in ``place``.
    :param signing_time: the ``SigningTime`` to state (tz-aware); default: now.
    :param algorithm: the signature algorithm; default: the signer's.
    :param timestamp: makes a XAdES-B-T signature: called with the exclusive C14N of
        ``ds:SignatureValue``, it returns an RFC 3161 token (DER) over those bytes — a
        :class:`~eintegr.signing.timestamp.TimestampClient` or e.g.
        :meth:`TimestampAuthority.token <eintegr.signing.timestamp.TimestampAuthority.token>`.
    :returns: the signed document, UTF-8 with an XML declaration.
    :raises XmlError: ``data`` is refused by the hardened parser.
    :raises SigningError: ``place`` does not select exactly one element (``SIG-PLACE``) or
        already holds a signature (``SIG-ALREADY-SIGNED``), the algorithm is not usable for
        signing (``SIG-ALGORITHM``), the signer's signature does not verify with its
        certificate (``SIG-SIGNER``), or ``signing_time`` is naive (``SIG-SIGN``), or the
        time-stamp token is unreadable or over other data (``TS-RESPONSE``).
    :raises TransportFault: ``TS-UNAVAILABLE`` — the TSA cannot be reached.
    """
    tree = parse_xml(data)
    target = _place_for_signing(tree, place, namespaces)
    chosen = algorithm or signer.algorithm
    if chosen is SignatureAlgorithm.RSA_SHA1:
        raise SigningError(
            "rsa-sha1 is accepted for verification only; sign with rsa-sha256 or stronger",
            code=codes.ALGORITHM,
            message_bg="rsa-sha1 се приема само при проверка; подписвайте с rsa-sha256 или"
            " по-силен",
        )
    moment = signing_time or _dt.datetime.now(_dt.UTC)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise SigningError(
            "signing_time must be timezone-aware",
            message_bg="Времето на подписване трябва да съдържа часова зона",
        )
    certificate = signer.certificate
    chain = tuple(signer.chain)
    if not chosen.accepts_key(certificate.public_key()):
        raise SigningError(
            f"algorithm {chosen} does not fit the signer's key",
            code=codes.ALGORITHM,
            message_bg=f"Алгоритъмът {chosen} не съответства на ключа на подписващия",
        )

    token = uuid.uuid4().hex
    ids = {name: f"xades-{token}-{name}" for name in ("sig", "ref", "props", "keyinfo")}
    signature = etree.SubElement(target, _SIGNATURE, nsmap={"ds": DS}, Id=ids["sig"])
    signed_info = _sub(signature, DS, "SignedInfo")
    _sub(signed_info, DS, "CanonicalizationMethod", Algorithm=_C14N_EXC)
    _sub(signed_info, DS, "SignatureMethod", Algorithm=chosen.uri)
    doc_ref = _sub(signed_info, DS, "Reference", Id=ids["ref"], URI="")
    transforms = _sub(doc_ref, DS, "Transforms")
    _sub(transforms, DS, "Transform", Algorithm=_ENVELOPED)
    _sub(transforms, DS, "Transform", Algorithm=_C14N_EXC)
    _sub(doc_ref, DS, "DigestMethod", Algorithm=_SHA256)
    doc_digest = _sub(doc_ref, DS, "DigestValue")
    props_ref = _sub(
        signed_info, DS, "Reference", Type=_SIGNED_PROPERTIES_TYPE, URI=f"#{ids['props']}"
    )
    _sub(_sub(props_ref, DS, "Transforms"), DS, "Transform", Algorithm=_C14N_EXC)
    _sub(props_ref, DS, "DigestMethod", Algorithm=_SHA256)
    props_digest = _sub(props_ref, DS, "DigestValue")
    signature_value = _sub(signature, DS, "SignatureValue", Id=f"{ids['sig']}-value")
    x509_data = _sub(_sub(signature, DS, "KeyInfo", Id=ids["keyinfo"]), DS, "X509Data")
    for cert in (certificate, *chain):
        _sub(x509_data, DS, "X509Certificate").text = _b64(_der(cert))

    ds_object = _sub(signature, DS, "Object")
    qualifying = etree.SubElement(
        ds_object, _q(XADES_NS, "QualifyingProperties"), nsmap={"xades": XADES_NS}
    )
    qualifying.set("Target", f"#{ids['sig']}")
    signed_props = _sub(qualifying, XADES_NS, "SignedProperties", Id=ids["props"])
    ssp = _sub(signed_props, XADES_NS, "SignedSignatureProperties")
    _sub(ssp, XADES_NS, "SigningTime").text = _xsd_datetime(moment)
    cert_ref = _sub(_sub(ssp, XADES_NS, "SigningCertificateV2"), XADES_NS, "Cert")
    cert_digest = _sub(cert_ref, XADES_NS, "CertDigest")
    _sub(cert_digest, DS, "DigestMethod", Algorithm=_SHA256)
    _sub(cert_digest, DS, "DigestValue").text = _b64(certificate.fingerprint(hashes.SHA256()))
    sdop = _sub(signed_props, XADES_NS, "SignedDataObjectProperties")
    data_format = _sub(sdop, XADES_NS, "DataObjectFormat", ObjectReference=f"#{ids['ref']}")
    _sub(data_format, XADES_NS, "MimeType").text = "text/xml"

    content = _signed_content(tree, signature, _C14N_EXC)
    doc_digest.text = _b64(_digest(content, DigestAlgorithm.SHA256))
    props_digest.text = _b64(_digest(_c14n(signed_props, _C14N_EXC), DigestAlgorithm.SHA256))
    to_sign = _c14n(signed_info, _C14N_EXC)
    value = signer.sign(to_sign, chosen)
    if not _signature_valid(certificate, value, to_sign, chosen):  # a misconfigured Signer
        raise SigningError(
            "the signer's signature does not verify with its certificate",
            code="SIG-SIGNER",
            message_bg="Подписът на подписващия не се потвърждава с неговия сертификат",
        )
    signature_value.text = _b64(value)
    if timestamp is not None:
        _add_timestamp(qualifying, signature_value, timestamp, f"{ids['sig']}-ts")
    return to_bytes(tree)


def _add_timestamp(
    qualifying: etree._Element,
    signature_value: etree._Element,
    timestamp: TimestampClient | Callable[[bytes], bytes],
    stamp_id: str,
) -> None:
    stamped = _c14n(signature_value, _C14N_EXC)
    token = timestamp(stamped)
    try:
        parsed = parse_timestamp_token(token)
    except VerificationError as exc:
        raise SigningError(str(exc), code=TS_RESPONSE, message_bg=exc.message_bg) from None
    if parsed.message_imprint != hashlib.new(parsed.hash_algorithm, stamped).digest():
        raise SigningError(
            "the time-stamp token is over other data than the signature value",
            code=TS_RESPONSE,
            message_bg="Удостоверението за време е за други данни, а не за стойността на подписа",
        )
    unsigned = _sub(qualifying, XADES_NS, "UnsignedProperties")
    usp = _sub(unsigned, XADES_NS, "UnsignedSignatureProperties")
    stamp = _sub(usp, XADES_NS, "SignatureTimeStamp", Id=stamp_id)
    _sub(stamp, DS, "CanonicalizationMethod", Algorithm=_C14N_EXC)
    _sub(stamp, XADES_NS, "EncapsulatedTimeStamp").text = _b64(token)


def _sub(parent: etree._Element, namespace: str, name: str, **attrib: str) -> etree._Element:
    return etree.SubElement(parent, _q(namespace, name), attrib)


def _place_for_signing(
    tree: etree._ElementTree, place: str | None, namespaces: Mapping[str, str] | None
) -> etree._Element:
    found = _select(tree, place, namespaces)
    if len(found) != 1:
        raise SigningError(
            f"the signature place {place!r} selects {len(found)} elements, not exactly one",
            code="SIG-PLACE",
            message_bg=f"Мястото за подпис {place!r} избира {len(found)} елемента вместо един",
        )
    target = found[0]
    if any(child.tag == _SIGNATURE for child in target):
        raise SigningError(
            f"{element_path(target)} already holds a signature",
            code="SIG-ALREADY-SIGNED",
            message_bg=f"{element_path(target)} вече съдържа подпис",
            path=element_path(target),
        )
    return target


def _select(
    tree: etree._ElementTree, place: str | None, namespaces: Mapping[str, str] | None
) -> list[etree._Element]:
    root = tree.getroot()
    if place is None:
        return [root]
    try:
        result = root.xpath(place, namespaces=dict(namespaces or {}))
    except etree.XPathError as exc:
        raise ValueError(f"invalid signature place XPath {place!r}: {exc}") from None
    if not isinstance(result, list) or not all(isinstance(n, etree._Element) for n in result):
        raise ValueError(f"the signature place XPath {place!r} must select elements")
    return [n for n in result if isinstance(n, etree._Element)]


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


def verify_xades(
    data: bytes,
    policy: VerificationPolicy,
    *,
    place: str | None = None,
    namespaces: Mapping[str, str] | None = None,
    max_clock_skew: _dt.timedelta = DEFAULT_CLOCK_SKEW,
    timestamp_trust: Trust | None = None,
    require_timestamp: bool = False,
) -> VerifiedXades:
    """Verify the XAdES signature at ``place`` (default: last child of the root).

    Every ``SignatureTimeStamp`` present is verified (XAdES-B-T): its imprint over the C14N
    of ``ds:SignatureValue``, the token and its TSA certificate with ``timestamp_trust``
    (see :func:`~eintegr.signing.timestamp.verify_timestamp_token`), and that ``genTime`` is
    not before ``SigningTime - max_clock_skew``. A time-stamp present without
    ``timestamp_trust`` fails (``XADES-TIMESTAMP``) rather than being ignored; so does a
    missing one when ``require_timestamp``. The signer certificate is still judged at the
    policy's time, not at ``genTime`` (no long-term validation).

    :raises VerificationError: with ``code`` ``SIG-XML``, ``П.7`` (no signature at its
        place), ``SIG-STRUCTURE``, ``SIG-ALGORITHM``, ``SIG-KEY``, ``SIG-DIGEST``,
        ``SIG-VALUE``, ``XADES-SIGNING-CERT``, ``XADES-SIGNING-TIME``, ``П.8``,
        ``SIG-CERT-EXPIRED``, ``SIG-CERT-USAGE``, ``XADES-TIMESTAMP`` or a ``TS-*`` code of
        :mod:`eintegr.signing.timestamp`; English in ``str(exc)``, Bulgarian in
        ``exc.message_bg``.
    :raises ValueError: ``place`` is not a valid XPath selecting elements.
    """
    tree = _dsig.parse(data, name_code=False)
    at = policy.verification_time()
    signature = _signature_at_place(tree, place, namespaces)
    parsed = _parse_signature(tree, signature)
    _check_algorithms(parsed, policy)
    certificate, chain = _signing_certificate(parsed, policy)
    # the policy before any expensive work: key, validity, key usage, trust (П.8)
    policy.check_certificate(certificate, chain, algorithm=parsed.algorithm)
    _check_value(parsed, certificate)
    for ref, target, c14n, digest_algorithm, expected in parsed.internal_refs:
        _check_digest(ref, digest_algorithm, _c14n(target, c14n), expected)
    signed_xml = _signed_content(tree, signature, parsed.doc_c14n)
    _check_digest(parsed.doc_ref, parsed.doc_digest_algorithm, signed_xml, parsed.doc_digest)
    signing_time = _check_signing_time(parsed, certificate, at, max_clock_skew)
    stamp = _check_timestamps(
        parsed, signing_time, at, max_clock_skew, timestamp_trust, require_timestamp
    )
    document = parse_xml(signed_xml)
    policies, statements = _qualified_info(certificate)
    return VerifiedXades(
        document=document,
        signed_xml=signed_xml,
        certificate=certificate,
        chain=chain,
        signing_time=signing_time,
        signature_algorithm=parsed.algorithm,
        digest_algorithm=parsed.doc_digest_algorithm.uri,
        canonicalization=parsed.doc_c14n,
        certificate_policies=policies,
        qc_statements=statements,
        timestamp=stamp,
    )


def _check_timestamps(
    parsed: _Parsed,
    signing_time: _dt.datetime,
    at: _dt.datetime,
    skew: _dt.timedelta,
    trust: Trust | None,
    required: bool,
) -> TimestampToken | None:
    signature = parsed.signature
    qualifying = signature.find(f"{_q(DS, 'Object')}/{_q(XADES_NS, 'QualifyingProperties')}")
    unsigned = (
        qualifying.findall(_q(XADES_NS, "UnsignedProperties")) if qualifying is not None else []
    )
    if len(unsigned) > 1:
        _structure(
            "QualifyingProperties holds more than one UnsignedProperties",
            "QualifyingProperties съдържа повече от един UnsignedProperties",
            unsigned[1],
        )
    stamps = (
        unsigned[0].findall(
            f"{_q(XADES_NS, 'UnsignedSignatureProperties')}/{_q(XADES_NS, 'SignatureTimeStamp')}"
        )
        if unsigned
        else []
    )
    if not stamps:
        if required:
            _fail(
                TIMESTAMP,
                "the signature has no SignatureTimeStamp (XAdES-B-T is required)",
                "Подписът няма SignatureTimeStamp (изисква се XAdES-B-T)",
                signature,
            )
        return None
    if trust is None:
        _fail(
            TIMESTAMP,
            "the signature carries a SignatureTimeStamp but no timestamp_trust was given to"
            " judge it",
            "Подписът съдържа SignatureTimeStamp, но не е зададено доверие към доставчици на"
            " удостоверения за време",
            stamps[0],
        )
    value_el = signature.find(_q(DS, "SignatureValue"))
    assert value_el is not None  # checked by _parse_signature
    tokens = [_check_timestamp(s, value_el, signing_time, at, skew, trust) for s in stamps]
    return min(tokens, key=lambda t: t.gen_time)


def _check_timestamp(
    stamp: etree._Element,
    value_el: etree._Element,
    signing_time: _dt.datetime,
    at: _dt.datetime,
    skew: _dt.timedelta,
    trust: Trust,
) -> TimestampToken:
    children = _children(stamp)
    tags = [c.tag for c in children]
    if tags == [_q(XADES_NS, "EncapsulatedTimeStamp")]:
        c14n = _C14N_10
    elif tags == [_q(DS, "CanonicalizationMethod"), _q(XADES_NS, "EncapsulatedTimeStamp")]:
        c14n = children[0].get("Algorithm") or ""
    else:
        _fail(
            TIMESTAMP,
            "SignatureTimeStamp must hold CanonicalizationMethod? and one EncapsulatedTimeStamp",
            "SignatureTimeStamp трябва да съдържа CanonicalizationMethod? и един"
            " EncapsulatedTimeStamp",
            stamp,
        )
    if c14n not in _CANONICALIZATIONS:
        _fail(
            TIMESTAMP,
            f"unsupported canonicalization {c14n!r} for the time-stamp",
            f"Неподдържана канонизация {c14n!r} за удостоверението за време",
            stamp,
        )
    encapsulated = children[-1]
    if encapsulated.get("Encoding") not in (None, "http://uri.etsi.org/01903/v1.2.2#DER"):
        _fail(
            TIMESTAMP,
            "only DER-encoded time-stamp tokens are accepted",
            "Приемат се само удостоверения за време в DER",
            encapsulated,
        )
    token_der = _b64decode(encapsulated.text, encapsulated)
    stamped = _c14n(value_el, c14n)
    try:
        declared = parse_timestamp_token(token_der)
        token = verify_timestamp_token(
            token_der,
            hashlib.new(declared.hash_algorithm, stamped).digest(),
            trust=trust,
            at=at,
            hash_algorithm=declared.hash_algorithm,
            max_clock_skew=skew,
        )
    except VerificationError as exc:
        _fail(exc.code, str(exc), exc.message_bg, encapsulated)
    if token.gen_time < signing_time - skew:
        _fail(
            TS_TIME,
            f"the time-stamp ({token.gen_time.isoformat()}) precedes SigningTime"
            f" ({signing_time.isoformat()})",
            f"Удостоверението за време ({token.gen_time.isoformat()}) предхожда SigningTime"
            f" ({signing_time.isoformat()})",
            encapsulated,
        )
    return token


def _signature_at_place(
    tree: etree._ElementTree, place: str | None, namespaces: Mapping[str, str] | None
) -> etree._Element:
    found = _select(tree, place, namespaces)
    anywhere = tree.getroot().iter(_SIGNATURE)
    if len(found) > 1:
        _structure(
            f"the signature place {place!r} selects {len(found)} elements, not exactly one",
            f"Мястото за подпис {place!r} избира {len(found)} елемента вместо един",
        )
    signatures = [c for c in found[0] if c.tag == _SIGNATURE] if found else []
    if not signatures:
        if next(anywhere, None) is not None:
            _structure(
                "the document has a signature, but not at its place",
                "Документът съдържа подпис, но не на определеното място",
                found[0] if found else None,
            )
        _fail(
            codes.UNSIGNED,
            "the document is not signed (no ds:Signature at its place)",
            "Документът не е електронно подписан (няма ds:Signature на определеното място)",
            found[0] if found else None,
        )
    if len(signatures) > 1:
        _structure(
            "several signatures at the signature place",
            "Няколко подписа на мястото за подпис",
            signatures[1],
        )
    signature = signatures[0]
    last = [c for c in found[0] if isinstance(c.tag, str)][-1]
    if last is not signature:
        _structure(
            "the signature is not the last element at its place",
            "Подписът не е последният елемент на своето място",
            signature,
        )
    return signature


_InternalRef = tuple[etree._Element, etree._Element, str, DigestAlgorithm, bytes]


@dataclass(frozen=True)
class _Parsed:
    """A structurally checked XAdES ``ds:Signature``."""

    signature: etree._Element
    signed_info: etree._Element
    signed_info_c14n: str
    algorithm: SignatureAlgorithm
    algorithm_element: etree._Element
    signature_value: bytes
    doc_ref: etree._Element
    doc_c14n: str
    doc_digest_algorithm: DigestAlgorithm
    doc_digest: bytes
    # (reference, referenced element, c14n, digest algorithm, digest value)
    internal_refs: tuple[_InternalRef, ...]
    digest_methods: tuple[tuple[etree._Element, DigestAlgorithm], ...]
    certificates: tuple[x509.Certificate, ...]
    signed_signature_properties: etree._Element


def _expect(element: etree._Element, names: Sequence[tuple[str, str]]) -> list[etree._Element]:
    children = _children(element)
    expected = [_q(ns, name) for ns, name in names]
    if [c.tag for c in children] != expected:
        found = ", ".join(etree.QName(c).localname for c in children) or "nothing"
        wanted = ", ".join(name for _, name in names)
        name = etree.QName(element).localname
        _structure(
            f"{name} must hold {wanted}, not {found}",
            f"{name} трябва да съдържа {wanted}, а не {found}",
            element,
        )
    return children


def _parse_signature(tree: etree._ElementTree, signature: etree._Element) -> _Parsed:
    signed_info, value_el, key_info, ds_object = _expect(
        signature, [(DS, "SignedInfo"), (DS, "SignatureValue"), (DS, "KeyInfo"), (DS, "Object")]
    )
    si_children = _children(signed_info)
    if len(si_children) < 3 or [c.tag for c in si_children[:2]] != [
        _q(DS, "CanonicalizationMethod"),
        _q(DS, "SignatureMethod"),
    ]:
        _structure(
            "SignedInfo must hold CanonicalizationMethod, SignatureMethod and references",
            "SignedInfo трябва да съдържа CanonicalizationMethod, SignatureMethod и препратки",
            signed_info,
        )
    c14n_el, method_el, *references = si_children
    if any(r.tag != _q(DS, "Reference") for r in references):
        _structure(
            "unexpected element in SignedInfo", "Неочакван елемент в SignedInfo", signed_info
        )
    si_c14n, algorithm = _dsig.signed_info_methods(c14n_el, method_el, _CANONICALIZATIONS)

    # the structure around SignedProperties, resolved by position, not by Id
    sig_id = signature.get("Id")
    qualifying = _expect(ds_object, [(XADES_NS, "QualifyingProperties")])[0]
    if not sig_id or qualifying.get("Target") != f"#{sig_id}":
        _structure(
            "QualifyingProperties/@Target does not name this signature",
            "QualifyingProperties/@Target не сочи този подпис",
            qualifying,
        )
    q_children = _children(qualifying)
    if not q_children or q_children[0].tag != _q(XADES_NS, "SignedProperties"):
        _structure(
            "QualifyingProperties must start with SignedProperties",
            "QualifyingProperties трябва да започва със SignedProperties",
            qualifying,
        )
    if any(c.tag != _q(XADES_NS, "UnsignedProperties") for c in q_children[1:]):
        _structure(
            "unexpected element in QualifyingProperties",
            "Неочакван елемент в QualifyingProperties",
            qualifying,
        )
    signed_props = q_children[0]
    ssp = signed_props.find(_q(XADES_NS, "SignedSignatureProperties"))
    if ssp is None:
        _fail(
            SIGNING_CERT,
            "SignedProperties has no SignedSignatureProperties (no signing certificate)",
            "SignedProperties няма SignedSignatureProperties (няма сертификат на подписващия)",
            signed_props,
        )

    id_counts = _dsig.id_counts(tree.getroot())
    targets = {"props": signed_props, "keyinfo": key_info}
    doc_ref: etree._Element | None = None
    doc_c14n = _C14N_10
    doc_digest_algorithm = DigestAlgorithm.SHA256
    doc_digest = b""
    internal: list[_InternalRef] = []
    digest_methods: list[tuple[etree._Element, DigestAlgorithm]] = []
    seen: set[str] = set()
    for ref in references:
        uri = ref.get("URI")
        ref_children = _children(ref)
        tags = [c.tag for c in ref_children]
        if tags not in (
            [_q(DS, "DigestMethod"), _q(DS, "DigestValue")],
            [_q(DS, "Transforms"), _q(DS, "DigestMethod"), _q(DS, "DigestValue")],
        ):
            _structure(
                "Reference must hold Transforms?, DigestMethod, DigestValue",
                "Reference трябва да съдържа Transforms?, DigestMethod, DigestValue",
                ref,
            )
        transforms = _transforms(ref_children[0]) if len(ref_children) == 3 else []
        digest_algorithm = _digest_algorithm(ref_children[-2])
        digest_value = _b64decode(ref_children[-1].text, ref_children[-1])
        digest_methods.append((ref_children[-2], digest_algorithm))
        if uri == "":
            kind = "document"
            if ref.get("Type") is not None or transforms[:1] != [_ENVELOPED]:
                _structure(
                    "the document reference must use the enveloped-signature transform",
                    "Препратката към документа трябва да е с трансформация enveloped-signature",
                    ref,
                )
            if len(transforms) > 2 or (
                len(transforms) == 2 and transforms[1] not in _CANONICALIZATIONS
            ):
                _structure(
                    "unexpected transforms on the document reference",
                    "Неочаквани трансформации в препратката към документа",
                    ref,
                )
            doc_ref, doc_digest_algorithm, doc_digest = ref, digest_algorithm, digest_value
            doc_c14n = transforms[1] if len(transforms) == 2 else _C14N_10
        else:
            if ref.get("Type") == _SIGNED_PROPERTIES_TYPE:
                kind = "props"
            elif ref.get("Type") is None and uri == f"#{key_info.get('Id')}":
                kind = "keyinfo"
            else:
                _structure(
                    f"reference {uri!r} is not accepted (only the document, SignedProperties"
                    " and KeyInfo)",
                    f"Препратката {uri!r} не се приема (само документът, SignedProperties"
                    " и KeyInfo)",
                    ref,
                )
            target = targets[kind]
            target_id = target.get("Id")
            if not target_id or uri != f"#{target_id}" or id_counts.get(target_id, 0) != 1:
                _structure(
                    f"reference {uri!r} does not point to this signature's own, uniquely"
                    " identified element",
                    f"Препратката {uri!r} не сочи собствен, еднозначно означен елемент на подписа",
                    ref,
                )
            if len(transforms) > 1 or (transforms and transforms[0] not in _CANONICALIZATIONS):
                _structure(
                    f"unexpected transforms on reference {uri!r}",
                    f"Неочаквани трансформации в препратката {uri!r}",
                    ref,
                )
            c14n = transforms[0] if transforms else _C14N_10
            internal.append((ref, target, c14n, digest_algorithm, digest_value))
        if kind in seen:
            _structure("a reference is repeated", "Препратка е повторена", ref)
        seen.add(kind)
    if doc_ref is None or "props" not in seen:
        _structure(
            "the signature must reference the whole document and its SignedProperties",
            "Подписът трябва да сочи целия документ и своите SignedProperties",
            signed_info,
        )

    certificates = _key_info_certificates(key_info)
    return _Parsed(
        signature=signature,
        signed_info=signed_info,
        signed_info_c14n=si_c14n,
        algorithm=algorithm,
        algorithm_element=method_el,
        signature_value=_b64decode(value_el.text, value_el),
        doc_ref=doc_ref,
        doc_c14n=doc_c14n,
        doc_digest_algorithm=doc_digest_algorithm,
        doc_digest=doc_digest,
        internal_refs=tuple(internal),
        digest_methods=tuple(digest_methods),
        certificates=certificates,
        signed_signature_properties=ssp,
    )


def _key_info_certificates(key_info: etree._Element) -> tuple[x509.Certificate, ...]:
    nodes = key_info.findall(f"{_q(DS, 'X509Data')}/{_q(DS, 'X509Certificate')}")
    if not nodes:
        _structure(
            "KeyInfo carries no X509Certificate",
            "KeyInfo не съдържа X509Certificate",
            key_info,
        )
    if len(nodes) > _MAX_CERTIFICATES:
        _structure(
            f"KeyInfo carries more than {_MAX_CERTIFICATES} certificates",
            f"KeyInfo съдържа повече от {_MAX_CERTIFICATES} сертификата",
            key_info,
        )
    return _dsig.load_certificates(nodes)


def _check_algorithms(parsed: _Parsed, policy: VerificationPolicy) -> None:
    _allowed(policy, parsed.algorithm, parsed.algorithm_element)
    for element, digest_algorithm in parsed.digest_methods:
        _allowed(policy, digest_algorithm, element)


def _signing_certificate(
    parsed: _Parsed, policy: VerificationPolicy
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    ssp = parsed.signed_signature_properties
    v2 = ssp.findall(_q(XADES_NS, "SigningCertificateV2"))
    v1 = ssp.findall(_q(XADES_NS, "SigningCertificate"))
    if len(v2) != 1 or v1:
        _fail(
            SIGNING_CERT,
            "SignedSignatureProperties must hold exactly one SigningCertificateV2",
            "SignedSignatureProperties трябва да съдържа точно един SigningCertificateV2",
            ssp,
        )
    first = v2[0].find(_q(XADES_NS, "Cert"))
    digest_el = first.find(_q(XADES_NS, "CertDigest")) if first is not None else None
    if digest_el is None:
        _fail(
            SIGNING_CERT,
            "SigningCertificateV2 has no Cert/CertDigest",
            "SigningCertificateV2 няма Cert/CertDigest",
            v2[0],
        )
    method, value = _expect(digest_el, [(DS, "DigestMethod"), (DS, "DigestValue")])
    digest_algorithm = _digest_algorithm(method)
    _allowed(policy, digest_algorithm, method)
    expected = _b64decode(value.text, value)
    signer = next(
        (c for c in parsed.certificates if c.fingerprint(digest_algorithm.hash) == expected), None
    )
    if signer is None:
        _fail(
            SIGNING_CERT,
            "no certificate in KeyInfo matches the digest in SigningCertificateV2",
            "Никой сертификат в KeyInfo не съответства на хеша в SigningCertificateV2",
            digest_el,
        )
    return signer, tuple(c for c in parsed.certificates if c is not signer)


def _check_digest(
    ref: etree._Element, algorithm: DigestAlgorithm, content: bytes, expected: bytes
) -> None:
    if _digest(content, algorithm) != expected:
        target = ref.get("URI") or "the document"
        _fail(
            codes.DIGEST,
            f"the digest of {target} does not match: the signed content was changed",
            f"Хешът на {'документа' if target == 'the document' else target} не съвпада:"
            " подписаното съдържание е променено",
            ref,
        )


def _check_value(parsed: _Parsed, certificate: x509.Certificate) -> None:
    public = certificate.public_key()
    algorithm = parsed.algorithm
    if not algorithm.accepts_key(public):
        _fail(
            codes.KEY,
            f"the certificate's key does not fit the signature algorithm {algorithm}",
            f"Ключът на сертификата не съответства на алгоритъма за подпис {algorithm}",
            parsed.algorithm_element,
        )
    data = _c14n(parsed.signed_info, parsed.signed_info_c14n)
    if not _signature_valid(certificate, parsed.signature_value, data, algorithm):
        _fail(
            codes.VALUE,
            "the signature value is wrong",
            "Стойността на подписа е грешна",
            parsed.signature.find(_q(DS, "SignatureValue")),
        )


def _check_signing_time(
    parsed: _Parsed, certificate: x509.Certificate, at: _dt.datetime, skew: _dt.timedelta
) -> _dt.datetime:
    ssp = parsed.signed_signature_properties
    nodes = ssp.findall(_q(XADES_NS, "SigningTime"))
    if len(nodes) != 1:
        _fail(
            SIGNING_TIME,
            "SignedSignatureProperties must hold exactly one SigningTime",
            "SignedSignatureProperties трябва да съдържа точно едно SigningTime",
            ssp,
        )
    text = (nodes[0].text or "").strip()
    moment = _parse_xsd_datetime(text)
    if moment is None:
        _fail(
            SIGNING_TIME,
            f"SigningTime {text!r} is not a date and time with a time zone",
            f"SigningTime {text!r} не е дата и час с часова зона",
            nodes[0],
        )
    _dsig.check_signing_time(SIGNING_TIME, text, moment, nodes[0], certificate, latest=at + skew)
    return moment


def _parse_xsd_datetime(text: str) -> _dt.datetime | None:
    if not _XSD_DATETIME.fullmatch(text):
        return None
    try:
        return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


def _signed_content(tree: etree._ElementTree, signature: etree._Element, c14n: str) -> bytes:
    """The document without ``signature`` (enveloped-signature transform), canonicalized.

    The signature is detached only for the canonicalization and put back exactly as it was,
    with the text that followed it.
    """
    parent = signature.getparent()
    if parent is None:  # pragma: no cover - a signature is never the root here
        raise ValueError("the signature must not be the root element")
    index = parent.index(signature)
    tail = signature.tail
    previous = signature.getprevious()
    saved_text, saved_tail = parent.text, previous.tail if previous is not None else None
    parent.remove(signature)  # lxml removes the tail with the element: keep it in place
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    try:
        content = _c14n(tree, c14n)
    finally:
        if previous is not None:
            previous.tail = saved_tail
        else:
            parent.text = saved_text
        parent.insert(index, signature)
        signature.tail = tail
    return content


def _c14n(node: etree._Element | etree._ElementTree, algorithm: str) -> bytes:
    """Canonicalize a whole document, or a subtree as a document subset (no comments).

    lxml canonicalizes a subtree in place through a temporary document and may then emit a
    spurious ``xmlns=""`` (the real signed СЕОС sample triggers it). So a subtree is first
    serialized — which declares every in-scope namespace on its apex, what inclusive C14N
    renders there — and the re-parsed copy is canonicalized whole. Inclusive C14N would also
    carry ``xml:*`` attributes down from the ancestors (1.0 and 1.1 differ there); nothing
    here uses them, so such a subtree is refused rather than canonicalized ambiguously. lxml
    has no C14N 1.1; without those attributes it equals 1.0.
    """
    exclusive = algorithm == _C14N_EXC
    if isinstance(node, etree._Element) and not exclusive:
        _dsig.refuse_xml_attributes(node.iterancestors())
    return _dsig.canonicalize(node, exclusive=exclusive)


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _xsd_datetime(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _qualified_info(certificate: x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Certificate policy OIDs and QC statement OIDs (empty when absent or unreadable)."""
    try:
        policies = tuple(
            p.policy_identifier.dotted_string
            for p in certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
        )
    except (x509.ExtensionNotFound, ValueError):
        policies = ()
    try:
        extension = certificate.extensions.get_extension_for_oid(_OID_QC_STATEMENTS).value
    except (x509.ExtensionNotFound, ValueError):
        return policies, ()
    raw = extension.value if isinstance(extension, x509.UnrecognizedExtension) else b""
    return policies, _qc_statement_ids(raw)


def _qc_statement_ids(der: bytes) -> tuple[str, ...]:
    """The statementId of each QCStatement in an RFC 3739 ``QCStatements`` DER value."""
    try:
        outer, rest = _tlv(der, 0, 0x30)
        if rest != len(der):
            return ()
        ids: list[str] = []
        position = outer[0]
        while position < outer[1]:
            (start, end), position = _tlv(der, position, 0x30)
            (oid_start, oid_end), _ = _tlv(der, start, 0x06)
            if oid_end > end:
                return ()
            ids.append(_oid_text(der[oid_start:oid_end]))
        return tuple(ids)
    except ValueError:
        return ()


def _tlv(der: bytes, position: int, tag: int) -> tuple[tuple[int, int], int]:
    """The (start, end) of the value of the DER element at ``position``, and its end."""
    if position + 2 > len(der) or der[position] != tag:
        raise ValueError("unexpected DER")
    length = der[position + 1]
    position += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or position + count > len(der):
            raise ValueError("bad DER length")
        length = int.from_bytes(der[position : position + count], "big")
        position += count
    end = position + length
    if end > len(der):
        raise ValueError("truncated DER")
    return (position, end), end


def _oid_text(body: bytes) -> str:
    if not body or body[-1] & 0x80:
        raise ValueError("bad OID")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))
