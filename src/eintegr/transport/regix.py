"""The RegiX client: ex-officio register look-ups over the V2 entry point (SOAP 1.1, mutual TLS).

An administration's system asks RegiX for register data with its own certificate::

    client = RegixClient(
        credentials=TlsCredentials.from_pem_files(Path("adm.crt"), Path("adm.key")),
        signature_policy=VerificationPolicy(trust=CertificateAuthorities(regix_roots)),
    )
    context = CallContext(service_uri="123-4567-01.01.2024", service_type="Проверка",
                          law_reason="чл. 5, ал. 1 АПК")
    result = client.execute("PersonDataSearch", PersonDataRequest(egn="8506258485"), context)
    result.response.person_names.full     # typed (PersonDataResponse)
    result.warnings                       # e.g. ID-EGN: a bad check digit in register data
    result.signature.signer, result.signature.signing_time

* :meth:`RegixClient.execute` — ``Execute`` to ``…/RegiXEntryPointV2.svc/basic``
  (:data:`PRODUCTION_URL`); with ``asynchronous=True`` (or when RegiX answers "not ready") the
  call is polled with ``CheckResult`` (``ServiceCallID`` + ``VerificationCode``) and then
  acknowledged with ``AcknowledgeResultReceived``; :meth:`~RegixClient.submit`,
  :meth:`~RegixClient.check_result`, :meth:`~RegixClient.wait` and
  :meth:`~RegixClient.acknowledge` do the steps one by one. :class:`AsyncRegixClient` is the
  ``asyncio`` twin.
* Before sending, the argument is checked against the operation's XSD and its identifiers'
  check digits (:func:`eintegr.messages.regix.service_request`).
* Answers are read with the hardened parser, size-limited while streaming. Register data is
  not always clean: XSD problems and invalid ЕГН/ЕИК in a response are reported as warnings
  (:class:`~eintegr.validation.Issue`), never refused.
* Signed results (``SignResult``): the XAdES signature over ``#data`` (the ``Data`` element,
  ID attribute ``id``) is verified with the :class:`~eintegr.signing.VerificationPolicy`
  (:func:`verify_result`); a result that was asked to be signed but is not, or whose
  signature fails, raises :class:`~eintegr.errors.VerificationError`.

Errors: a SOAP ``Client`` fault, an HTTP 4xx → :class:`~eintegr.errors.SenderError` (do not
retry); a ``Server`` fault, HTTP 5xx, a timeout, a network or TLS failure →
:class:`~eintegr.errors.TransportFault` (retry later); an answer that cannot be read, or
``HasError`` → :class:`~eintegr.errors.ReceiverError` (``REGIX-HAS-ERROR`` carries RegiX's
message). Every error has a stable ``code`` and English and Bulgarian messages.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as _dt
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Final, Self

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from lxml import etree

from eintegr.errors import (
    EintegrError,
    MessageError,
    ReceiverError,
    SenderError,
    SigningError,
    SoapError,
    TransportError,
    TransportFault,
)
from eintegr.messages.regix import (
    SIGNED_DATA_NS,
    CallContext,
    Operation,
    RegixCall,
    RequestPayload,
    ResponsePayload,
    ServiceCheckResultArgument,
    ServiceRequestData,
    ServiceResultData,
    XmlPayload,
    get_operation,
    operation_for_response,
    read_response_body,
    request_body,
    service_request,
)
from eintegr.signing import _dsig
from eintegr.signing import codes as sig_codes
from eintegr.signing._dsig import b64decode as _b64
from eintegr.signing._dsig import digest as _digest
from eintegr.signing._dsig import ds as _ds
from eintegr.signing._dsig import elements as _elements
from eintegr.signing._dsig import fail as _fail
from eintegr.signing._dsig import id_counts as _id_counts
from eintegr.signing._dsig import signature_valid as _valid
from eintegr.signing._dsig import structure as _structure
from eintegr.signing._dsig import transforms as _transforms
from eintegr.signing.policy import VerificationPolicy
from eintegr.signing.signer import (
    Canonicalization,
    DigestAlgorithm,
    SignatureAlgorithm,
    Signer,
)
from eintegr.signing.xades import SIGNING_CERT, SIGNING_TIME, XADES_NS
from eintegr.transport.soap import SOAP11_CONTENT_TYPE, SOAP11_NS, build_envelope, parse_envelope
from eintegr.transport.submit_client import TlsCredentials
from eintegr.validation.report import Issue, Severity
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, parse_xml

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_RESPONSE_BYTES",
    "PRODUCTION_URL",
    "AsyncRegixClient",
    "PendingCall",
    "RegixClient",
    "RegixResult",
    "ResultSignature",
    "read_result",
    "sign_result",
    "verify_result",
]

PRODUCTION_URL: Final = "https://service-regix.egov.bg/RegiXEntryPointV2.svc/basic"
"""The production RegiX entry point V2, SOAP 1.1 binding (mutual TLS)."""
DEFAULT_TIMEOUT: Final = 30.0
"""Seconds for connecting, writing, reading and pool waits of one HTTP call."""
MAX_RESPONSE_BYTES: Final = 32 * 1024 * 1024
"""The largest answer read (a commercial register's actual state can be large)."""
DEFAULT_WAIT: Final = 120.0
"""Seconds :meth:`RegixClient.wait` polls an asynchronous call before giving up."""

_DS: Final = _dsig.DS_NS
_XADES_141: Final = "http://uri.etsi.org/01903/v1.4.1#"
_XADES_NAMESPACES: Final = frozenset({XADES_NS, _XADES_141})
_ENVELOPED: Final = _dsig.ENVELOPED
_SIGNED_PROPERTIES: Final = _dsig.SIGNED_PROPERTIES_TYPE
_C14N_URIS: Final = frozenset(c.uri for c in Canonicalization)
_EXC: Final = Canonicalization.EXCLUSIVE.uri
_C14N_10: Final = Canonicalization.C14N_1_0.uri
_MAX_CERTIFICATES: Final = _dsig.MAX_CERTIFICATES
_CLOCK_SKEW: Final = _dt.timedelta(minutes=5)
_WS: Final = " \t\r\n"


def _sd(local: str) -> str:
    return f"{{{SIGNED_DATA_NS}}}{local}"


# =============================================================================================
# Signed results: XAdES over #data
# =============================================================================================


@dataclass(frozen=True)
class ResultSignature:
    """A verified signature of a RegiX result: who signed the data, and when.

    :ivar certificate: the signing certificate (named by the XAdES signing-certificate
        property and trusted under the policy).
    :ivar chain: the other certificates carried in ``KeyInfo``.
    :ivar signing_time: the claimed ``SigningTime`` (a claim, not a time-stamp).
    :ivar signature_algorithm, digest_algorithm, canonicalization: what was used.
    :ivar signed_data: the canonical bytes of ``Data`` that the signature covers.
    """

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    signing_time: _dt.datetime
    signature_algorithm: SignatureAlgorithm
    digest_algorithm: DigestAlgorithm
    canonicalization: str
    signed_data: bytes = field(repr=False)

    @property
    def signer(self) -> str:
        """The signing certificate's subject (RFC 4514)."""
        return self.certificate.subject.rfc4514_string()

    @property
    def signer_name(self) -> str | None:
        """The signing certificate's organisation, else its common name."""
        for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
            found = self.certificate.subject.get_attributes_for_oid(oid)
            if found:
                value = found[0].value
                return value if isinstance(value, str) else value.decode("utf-8", "replace")
        return None


def _digest_method(node: etree._Element, policy: VerificationPolicy) -> DigestAlgorithm:
    algorithm = _dsig.digest_algorithm(node)
    _dsig.check_algorithm(policy, algorithm, node)
    return algorithm


def _c14n(node: etree._Element, algorithm: str) -> bytes:
    """Canonicalize a subtree as a document subset (no comments).

    The subtree is serialized first — declaring on its apex every namespace in scope, which
    inclusive C14N renders there — and the re-parsed copy is canonicalized whole (lxml may
    otherwise emit a spurious ``xmlns=""`` for a subtree). ``xml:*`` attributes above the
    subtree, which inclusive C14N would carry down, are refused.
    """
    exclusive = algorithm == _EXC
    if not exclusive:
        _dsig.refuse_xml_attributes(
            node.iterancestors(),
            "xml:* attributes above a signed element are not supported",
            "Атрибути xml:* над подписан елемент не се поддържат",
        )
    return _dsig.canonicalize(node, exclusive=exclusive, limits=None)


def _result_element(source: bytes | etree._Element, limits: XmlLimits) -> etree._Element:
    """The ``ServiceResultData`` element of ``source`` (itself, or inside a SOAP envelope)."""
    if isinstance(source, etree._Element):
        root = source
    else:
        try:
            root = parse_xml(source, limits=limits).getroot()
        except EintegrError as exc:
            raise MessageError(
                f"the RegiX result is not acceptable XML: {exc}",
                code="REGIX-ENVELOPE",
                message_bg=f"Резултатът от RegiX не е приемлив XML: {exc.message_bg}",
                line=exc.line,
            ) from None
    if root.tag == _sd("ServiceResultData"):
        return root
    if root.tag == f"{{{SOAP11_NS}}}Envelope":
        found = root.findall(f".//{_sd('ServiceResultData')}")
        if len(found) == 1:
            return found[0]
    raise MessageError(
        f"no single ServiceResultData in {root.tag!r}",
        code="REGIX-ENVELOPE",
        message_bg=f"Няма точно един ServiceResultData в {root.tag!r}",
        line=root.sourceline,
    )


def verify_result(
    source: bytes | etree._Element,
    policy: VerificationPolicy,
    *,
    max_clock_skew: _dt.timedelta = _CLOCK_SKEW,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> ResultSignature:
    """Verify the XAdES signature of a RegiX result and say who signed it, and when.

    ``source`` is a ``ServiceResultData`` (bytes or element; a SOAP envelope holding one is
    accepted). The signature is taken from its exact place only — the ``ds:Signature`` child
    of ``ServiceResultData`` — and must reference, besides its own ``SignedProperties`` (and
    optionally its ``KeyInfo``), exactly the ``Data`` sibling by its ``id`` attribute
    (``#data``), which must be unique in the document. Checked in order: structure,
    algorithms (the policy), the signing certificate named by ``SigningCertificateV2`` (or
    ``SigningCertificate``) and the policy on it (key, validity, key usage, trust), the
    signature value, the digests of ``SignedProperties`` and of ``Data``, ``SigningTime``.

    :raises VerificationError: ``П.7`` (no signature), ``SIG-STRUCTURE``, ``SIG-ALGORITHM``,
        ``SIG-KEY``, ``SIG-CERT-EXPIRED``, ``SIG-CERT-USAGE``, ``П.8`` (not trusted),
        ``SIG-VALUE``, ``SIG-DIGEST``, ``XADES-SIGNING-CERT``, ``XADES-SIGNING-TIME``.
    :raises MessageError: ``source`` holds no single ``ServiceResultData``.
    """
    result = _result_element(source, limits)
    signatures = [c for c in result if c.tag == _ds("Signature")]
    if not signatures:
        _fail(
            sig_codes.UNSIGNED,
            "the RegiX result is not signed (no ds:Signature in ServiceResultData)",
            "Резултатът от RegiX не е подписан (няма ds:Signature в ServiceResultData)",
            result,
        )
    if len(signatures) > 1:
        _structure(
            "the RegiX result holds several signatures",
            "Резултатът от RegiX съдържа няколко подписа",
            signatures[1],
        )
    signature = signatures[0]
    datas = result.findall(_sd("Data"))
    data = datas[0] if len(datas) == 1 else None
    data_id = data.get("id") if data is not None else None
    if data is None or not data_id:
        _structure(
            "the signed result must hold exactly one Data element, with an id",
            "Подписаният резултат трябва да съдържа точно един елемент Data, с атрибут id",
            result,
        )
    root = result.getroottree().getroot()
    ids = _id_counts(root)
    if ids.get(data_id, 0) != 1:
        _structure(
            f"the id {data_id!r} of Data is not unique in the document",
            f"Идентификаторът {data_id!r} на Data не е единствен в документа",
            data,
        )

    children = _elements(signature)
    tags = [c.tag for c in children]
    if tags[:2] != [_ds("SignedInfo"), _ds("SignatureValue")] or len(tags) < 4:
        _structure(
            "ds:Signature must hold SignedInfo, SignatureValue, KeyInfo and the XAdES Object",
            "ds:Signature трябва да съдържа SignedInfo, SignatureValue, KeyInfo и XAdES Object",
            signature,
        )
    signed_info, value_node, key_info, *objects = children
    if key_info.tag != _ds("KeyInfo") or any(o.tag != _ds("Object") for o in objects):
        _structure(
            "ds:Signature must hold SignedInfo, SignatureValue, KeyInfo and ds:Object elements",
            "ds:Signature трябва да съдържа SignedInfo, SignatureValue, KeyInfo и ds:Object",
            signature,
        )

    # SignedInfo: canonicalization, signature method, references
    si = _elements(signed_info)
    if len(si) < 3 or [c.tag for c in si[:2]] != [
        _ds("CanonicalizationMethod"),
        _ds("SignatureMethod"),
    ]:
        _structure(
            "SignedInfo must hold CanonicalizationMethod, SignatureMethod and references",
            "SignedInfo трябва да съдържа CanonicalizationMethod, SignatureMethod и препратки",
            signed_info,
        )
    c14n_node, method_node, *references = si
    si_c14n, algorithm = _dsig.signed_info_methods(c14n_node, method_node, _C14N_URIS)
    _dsig.check_algorithm(policy, algorithm, method_node)

    # the XAdES qualifying properties, found by position, not by Id
    sig_id = signature.get("Id")
    qualifying = [
        q
        for o in objects
        for q in _elements(o)
        if etree.QName(q).localname == "QualifyingProperties"
        and etree.QName(q).namespace in _XADES_NAMESPACES
    ]
    if len(qualifying) != 1:
        _structure(
            "the signature must hold exactly one xades:QualifyingProperties",
            "Подписът трябва да съдържа точно един xades:QualifyingProperties",
            signature,
        )
    qp = qualifying[0]
    if not sig_id or qp.get("Target") != f"#{sig_id}":
        _structure(
            "QualifyingProperties/@Target does not name this signature",
            "QualifyingProperties/@Target не сочи този подпис",
            qp,
        )
    signed_props = _xades_child(qp, "SignedProperties")
    props_id = signed_props.get("Id") if signed_props is not None else None
    if signed_props is None or not props_id or ids.get(props_id, 0) != 1:
        _structure(
            "the signature has no uniquely identified xades:SignedProperties",
            "Подписът няма еднозначно означен xades:SignedProperties",
            qp,
        )

    # references: exactly Data, SignedProperties and optionally KeyInfo
    data_ref: tuple[etree._Element, list[str], DigestAlgorithm, bytes] | None = None
    checked: list[tuple[etree._Element, etree._Element, str, DigestAlgorithm, bytes]] = []
    seen: set[str] = set()
    key_info_id = key_info.get("Id")
    for ref in references:
        if ref.tag != _ds("Reference"):
            _structure("unexpected element in SignedInfo", "Неочакван елемент в SignedInfo", ref)
        parts = _elements(ref)
        shape = [c.tag for c in parts]
        if shape not in (
            [_ds("DigestMethod"), _ds("DigestValue")],
            [_ds("Transforms"), _ds("DigestMethod"), _ds("DigestValue")],
        ):
            _structure(
                "Reference must hold Transforms?, DigestMethod, DigestValue",
                "Reference трябва да съдържа Transforms?, DigestMethod, DigestValue",
                ref,
            )
        transforms = _transforms(parts[0]) if len(parts) == 3 else []
        digest_algorithm = _digest_method(parts[-2], policy)
        expected = _b64(parts[-1].text, parts[-1])
        uri = ref.get("URI")
        kind = ref.get("Type")
        if uri == f"#{data_id}" and kind is None:
            name = "data"
            rest = transforms[1:] if transforms[:1] == [_ENVELOPED] else transforms
            if len(rest) > 1 or (rest and rest[0] not in _C14N_URIS):
                _structure(
                    f"unexpected transforms on the reference {uri!r}",
                    f"Неочаквани трансформации в препратката {uri!r}",
                    ref,
                )
            data_ref = (ref, transforms, digest_algorithm, expected)
        elif kind == _SIGNED_PROPERTIES and uri == f"#{props_id}":
            name = "props"
            checked.append(
                (ref, signed_props, _one_c14n(ref, transforms), digest_algorithm, expected)
            )
        elif kind is None and key_info_id and uri == f"#{key_info_id}":
            if ids.get(key_info_id, 0) != 1:
                _structure(
                    "the KeyInfo id is not unique", "Идентификаторът на KeyInfo не е единствен", ref
                )
            name = "keyinfo"
            checked.append((ref, key_info, _one_c14n(ref, transforms), digest_algorithm, expected))
        else:
            _structure(
                f"reference {uri!r} is not accepted (only #{data_id}, SignedProperties, KeyInfo)",
                f"Препратката {uri!r} не се приема (само #{data_id}, SignedProperties, KeyInfo)",
                ref,
            )
        if name in seen:
            _structure("a reference is repeated", "Препратка е повторена", ref)
        seen.add(name)
    if data_ref is None or "props" not in seen:
        _structure(
            f"the signature must reference #{data_id} and its SignedProperties",
            f"Подписът трябва да сочи #{data_id} и своите SignedProperties",
            signed_info,
        )

    # the signing certificate
    certificates = _key_info_certificates(key_info)
    ssp = _xades_child(signed_props, "SignedSignatureProperties")
    if ssp is None:
        _fail(
            SIGNING_CERT,
            "SignedProperties has no SignedSignatureProperties",
            "SignedProperties няма SignedSignatureProperties",
            signed_props,
        )
    certificate = _signing_certificate(ssp, certificates, policy)
    chain = tuple(c for c in certificates if c is not certificate)
    policy.check_certificate(certificate, chain, algorithm=algorithm)

    # the value, then the digests
    signature_value = _b64(value_node.text, value_node)
    to_verify = _c14n(signed_info, si_c14n)
    if not _valid(certificate, signature_value, to_verify, algorithm):
        _fail(
            sig_codes.VALUE,
            "the signature value is wrong",
            "Стойността на подписа е грешна",
            value_node,
        )
    for ref, target, c14n, digest_algorithm, expected in checked:
        if _digest(_c14n(target, c14n), digest_algorithm) != expected:
            _fail(
                sig_codes.DIGEST,
                f"the digest of {ref.get('URI')} does not match",
                f"Хешът на {ref.get('URI')} не съвпада",
                ref,
            )
    ref, transforms, digest_algorithm, expected = data_ref
    data_c14n = next((t for t in transforms if t != _ENVELOPED), _C14N_10)
    if any(signature is d for d in data.iter()):  # pragma: no cover - excluded by the place
        _structure("the signature lies inside Data", "Подписът е вътре в Data", signature)
    signed_data = _c14n(data, data_c14n)
    if _digest(signed_data, digest_algorithm) != expected:
        _fail(
            sig_codes.DIGEST,
            "the digest of Data does not match: the register data was changed after signing",
            "Хешът на Data не съвпада: данните от регистъра са променени след подписването",
            ref,
        )
    signing_time = _signing_time(ssp, certificate, policy, max_clock_skew)
    return ResultSignature(
        certificate=certificate,
        chain=chain,
        signing_time=signing_time,
        signature_algorithm=algorithm,
        digest_algorithm=digest_algorithm,
        canonicalization=data_c14n,
        signed_data=signed_data,
    )


def _xades_child(node: etree._Element, local: str) -> etree._Element | None:
    """The one child ``local`` of ``node`` in a XAdES namespace (``None`` if not exactly one)."""
    found = [
        c
        for c in _elements(node)
        if etree.QName(c).localname == local and etree.QName(c).namespace in _XADES_NAMESPACES
    ]
    return found[0] if len(found) == 1 else None


def _one_c14n(ref: etree._Element, transforms: list[str]) -> str:
    if len(transforms) > 1 or (transforms and transforms[0] not in _C14N_URIS):
        _structure(
            f"unexpected transforms on the reference {ref.get('URI')!r}",
            f"Неочаквани трансформации в препратката {ref.get('URI')!r}",
            ref,
        )
    return transforms[0] if transforms else _C14N_10


def _key_info_certificates(key_info: etree._Element) -> tuple[x509.Certificate, ...]:
    nodes = key_info.findall(f"{_ds('X509Data')}/{_ds('X509Certificate')}")
    if not nodes or len(nodes) > _MAX_CERTIFICATES:
        _structure(
            f"KeyInfo must carry 1 to {_MAX_CERTIFICATES} X509Certificate elements",
            f"KeyInfo трябва да съдържа от 1 до {_MAX_CERTIFICATES} елемента X509Certificate",
            key_info,
        )
    return _dsig.load_certificates(nodes)


def _signing_certificate(
    ssp: etree._Element, certificates: Sequence[x509.Certificate], policy: VerificationPolicy
) -> x509.Certificate:
    holders = [
        c
        for c in _elements(ssp)
        if etree.QName(c).localname in ("SigningCertificateV2", "SigningCertificate")
        and etree.QName(c).namespace in _XADES_NAMESPACES
    ]
    if len(holders) != 1:
        _fail(
            SIGNING_CERT,
            "SignedSignatureProperties must hold exactly one SigningCertificate(V2)",
            "SignedSignatureProperties трябва да съдържа точно един SigningCertificate(V2)",
            ssp,
        )
    certs = [c for c in _elements(holders[0]) if etree.QName(c).localname == "Cert"]
    digest_node = _xades_child(certs[0], "CertDigest") if certs else None  # the signer first
    parts = _elements(digest_node) if digest_node is not None else []
    if digest_node is None or [p.tag for p in parts] != [_ds("DigestMethod"), _ds("DigestValue")]:
        _fail(
            SIGNING_CERT,
            "the signing-certificate property has no Cert/CertDigest",
            "Свойството за сертификат на подписващия няма Cert/CertDigest",
            holders[0],
        )
    digest_algorithm = _digest_method(parts[0], policy)
    expected = _b64(parts[1].text, parts[1])
    signer = next(
        (c for c in certificates if c.fingerprint(digest_algorithm.hash) == expected), None
    )
    if signer is None:
        _fail(
            SIGNING_CERT,
            "no certificate in KeyInfo matches the signing-certificate digest",
            "Никой сертификат в KeyInfo не съответства на хеша на сертификата на подписващия",
            digest_node,
        )
    return signer


def _signing_time(
    ssp: etree._Element,
    certificate: x509.Certificate,
    policy: VerificationPolicy,
    skew: _dt.timedelta,
) -> _dt.datetime:
    nodes = [
        c
        for c in _elements(ssp)
        if etree.QName(c).localname == "SigningTime"
        and etree.QName(c).namespace in _XADES_NAMESPACES
    ]
    text = (nodes[0].text or "").strip(_WS) if len(nodes) == 1 else ""
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        _fail(
            SIGNING_TIME,
            f"SigningTime {text!r} is missing or not a date and time with a time zone",
            f"SigningTime {text!r} липсва или не е дата и час с часова зона",
            nodes[0] if nodes else ssp,
        )
    _dsig.check_signing_time(
        SIGNING_TIME, text, moment, nodes[0], certificate, latest=policy.verification_time() + skew
    )
    return moment


def sign_result(
    result: etree._Element,
    signer: Signer,
    *,
    signing_time: _dt.datetime | None = None,
    algorithm: SignatureAlgorithm | None = None,
) -> etree._Element:
    """Sign a ``ServiceResultData`` element in place, as RegiX signs its results.

    For test servers and tests. The XAdES-B-B signature (``SigningTime``,
    ``SigningCertificateV2``, a ``DataObjectFormat``) references the ``Data`` element by its
    ``id`` (``#data``) with the enveloped-signature transform and exclusive C14N, so it stays
    valid wherever the result is embedded; it is inserted after ``Data``, the schema's place.

    :raises SigningError: ``result`` has no ``Data`` with an ``id``, is already signed, the
        algorithm is unusable (``SIG-ALGORITHM``) or the signer misbehaves (``SIG-SIGNER``).
    """
    if result.tag != _sd("ServiceResultData"):
        raise SigningError(
            f"only a ServiceResultData is signed, not {result.tag!r}",
            code="SIG-PLACE",
            message_bg=f"Подписва се само ServiceResultData, а не {result.tag!r}",
        )
    data = result.find(_sd("Data"))
    if data is None or not data.get("id"):
        raise SigningError(
            "the result has no Data element with an id to sign",
            code="SIG-PLACE",
            message_bg="Резултатът няма елемент Data с атрибут id за подписване",
        )
    if result.find(_ds("Signature")) is not None:
        raise SigningError(
            "the result is already signed",
            code="SIG-ALREADY-SIGNED",
            message_bg="Резултатът вече е подписан",
        )
    chosen = algorithm or signer.algorithm
    if chosen is SignatureAlgorithm.RSA_SHA1 or not chosen.accepts_key(
        signer.certificate.public_key()
    ):
        raise SigningError(
            f"algorithm {chosen} cannot sign with this key",
            code=sig_codes.ALGORITHM,
            message_bg=f"Алгоритъмът {chosen} не може да подписва с този ключ",
        )
    moment = signing_time or _dt.datetime.now(_dt.UTC)
    if moment.tzinfo is None:
        raise SigningError(
            "signing_time must be timezone-aware",
            message_bg="Времето на подписване трябва да има часова зона",
        )
    token = uuid.uuid4().hex
    sig_id, ref_id, props_id = f"sig-{token}", f"ref-{token}", f"props-{token}"
    digest = DigestAlgorithm.SHA256

    signature = etree.Element(_ds("Signature"), nsmap={"ds": _DS}, Id=sig_id)
    data.addnext(signature)
    signed_info = etree.SubElement(signature, _ds("SignedInfo"))
    etree.SubElement(signed_info, _ds("CanonicalizationMethod"), Algorithm=_EXC)
    etree.SubElement(signed_info, _ds("SignatureMethod"), Algorithm=chosen.uri)
    data_ref = etree.SubElement(signed_info, _ds("Reference"), Id=ref_id, URI=f"#{data.get('id')}")
    transforms = etree.SubElement(data_ref, _ds("Transforms"))
    etree.SubElement(transforms, _ds("Transform"), Algorithm=_ENVELOPED)
    etree.SubElement(transforms, _ds("Transform"), Algorithm=_EXC)
    etree.SubElement(data_ref, _ds("DigestMethod"), Algorithm=digest.uri)
    data_digest = etree.SubElement(data_ref, _ds("DigestValue"))
    props_ref = etree.SubElement(
        signed_info, _ds("Reference"), Type=_SIGNED_PROPERTIES, URI=f"#{props_id}"
    )
    etree.SubElement(
        etree.SubElement(props_ref, _ds("Transforms")), _ds("Transform"), Algorithm=_EXC
    )
    etree.SubElement(props_ref, _ds("DigestMethod"), Algorithm=digest.uri)
    props_digest = etree.SubElement(props_ref, _ds("DigestValue"))
    value = etree.SubElement(signature, _ds("SignatureValue"))
    x509_data = etree.SubElement(etree.SubElement(signature, _ds("KeyInfo")), _ds("X509Data"))
    for cert in (signer.certificate, *signer.chain):
        der = cert.public_bytes(serialization.Encoding.DER)
        etree.SubElement(x509_data, _ds("X509Certificate")).text = base64.b64encode(der).decode()
    qp = etree.SubElement(
        etree.SubElement(signature, _ds("Object")),
        f"{{{XADES_NS}}}QualifyingProperties",
        nsmap={"xades": XADES_NS},
        Target=f"#{sig_id}",
    )
    props = etree.SubElement(qp, f"{{{XADES_NS}}}SignedProperties", Id=props_id)
    ssp = etree.SubElement(props, f"{{{XADES_NS}}}SignedSignatureProperties")
    etree.SubElement(ssp, f"{{{XADES_NS}}}SigningTime").text = (
        moment.astimezone(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )
    cert_digest = etree.SubElement(
        etree.SubElement(
            etree.SubElement(ssp, f"{{{XADES_NS}}}SigningCertificateV2"), f"{{{XADES_NS}}}Cert"
        ),
        f"{{{XADES_NS}}}CertDigest",
    )
    etree.SubElement(cert_digest, _ds("DigestMethod"), Algorithm=digest.uri)
    etree.SubElement(cert_digest, _ds("DigestValue")).text = base64.b64encode(
        signer.certificate.fingerprint(digest.hash)
    ).decode()
    dof = etree.SubElement(
        etree.SubElement(props, f"{{{XADES_NS}}}SignedDataObjectProperties"),
        f"{{{XADES_NS}}}DataObjectFormat",
        ObjectReference=f"#{ref_id}",
    )
    etree.SubElement(dof, f"{{{XADES_NS}}}MimeType").text = "text/xml"

    data_digest.text = base64.b64encode(_digest(_c14n(data, _EXC), digest)).decode()
    props_digest.text = base64.b64encode(_digest(_c14n(props, _EXC), digest)).decode()
    to_sign = _c14n(signed_info, _EXC)
    signed = signer.sign(to_sign, chosen)
    if not _valid(signer.certificate, signed, to_sign, chosen):
        signature.getparent().remove(signature)  # type: ignore[union-attr]
        raise SigningError(
            "the signer's signature does not verify with its certificate",
            code="SIG-SIGNER",
            message_bg="Подписът на подписващия не се потвърждава с неговия сертификат",
        )
    value.text = base64.b64encode(signed).decode()
    return result


# =============================================================================================
# Results
# =============================================================================================


@dataclass(frozen=True)
class RegixResult:
    """A RegiX result, read and checked.

    :ivar result: the :class:`~eintegr.messages.regix.ServiceResultData` as received.
    :ivar operation: the operation it answers (``None`` when unknown).
    :ivar response: the typed response (``None`` when not ready, on error, without data, or
        for an operation without a response model — see :attr:`response_xml`).
    :ivar warnings: what is wrong with the register's data but did not stop reading it: XSD
        problems (``REGIX-XSD``) and identifiers failing their check digits (``ID-EGN``,
        ``ID-LNCH``, ``ID-EIK``), each with its path inside the response.
    :ivar signature: the verified signature, or ``None`` when the result is unsigned or was
        read without a :class:`~eintegr.signing.VerificationPolicy`.
    """

    result: ServiceResultData
    operation: Operation | None = None
    response: ResponsePayload | None = None
    warnings: tuple[Issue, ...] = ()
    signature: ResultSignature | None = None

    @property
    def is_ready(self) -> bool:
        """Whether the register's data is there."""
        return self.result.is_ready

    @property
    def has_error(self) -> bool:
        """Whether RegiX reported an error."""
        return self.result.has_error

    @property
    def error(self) -> str | None:
        """RegiX's error message."""
        return self.result.error

    @property
    def service_call_id(self) -> Decimal | None:
        """RegiX's identifier of the call (quote it to RegiX's support)."""
        return self.result.service_call_id

    @property
    def response_xml(self) -> XmlPayload | None:
        """The register's response element, exactly as received."""
        return self.result.data.response if self.result.data is not None else None

    @property
    def signed(self) -> bool:
        """Whether the result carries a signature (verified or not)."""
        return self.result.signature is not None


@dataclass(frozen=True)
class PendingCall:
    """An asynchronous call RegiX is working on: poll it with ``CheckResult``.

    Keep it (e.g. in a database) to resume polling later: it is plain data.
    """

    operation: Operation
    service_call_id: Decimal
    verification_code: str | None
    sign_result: bool = True

    def argument(self) -> ServiceCheckResultArgument:
        """The ``ServiceCheckResultArgument`` identifying this call."""
        return ServiceCheckResultArgument(
            service_call_id=self.service_call_id, verification_code=self.verification_code
        )


def _issue(code: str, path: str | None, line: int | None, en: str, bg: str) -> Issue:
    return Issue(
        code=code, severity=Severity.WARNING, path=path, line=line, message_en=en, message_bg=bg
    )


def read_result(
    source: bytes | etree._Element,
    operation: Operation | str | None = None,
    *,
    policy: VerificationPolicy | None = None,
    require_signature: bool = False,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> RegixResult:
    """Read a RegiX result (``ServiceResultData`` bytes or element, or a SOAP response).

    The response payload is checked against the operation's XSD and its identifiers'
    check digits — problems become :attr:`RegixResult.warnings` — and bound to its model. With
    a ``policy`` the signature is verified (:func:`verify_result`).

    :param operation: the operation asked; ``None`` to recognise it by the response element.
    :param require_signature: with a policy, refuse a result without a signature (``П.7``).
    :raises MessageError: the result cannot be read (``REGIX-ENVELOPE``), the response is not
        the operation's (``REGIX-RESPONSE``) or cannot be bound (``MODEL-BIND``).
    :raises VerificationError: see :func:`verify_result`.
    """
    element = _result_element(source, limits)
    model = ServiceResultData.from_element(element)
    signature: ResultSignature | None = None
    if policy is not None and (model.signature is not None or require_signature):
        signature = verify_result(element, policy, limits=limits)
    op = (
        operation
        if isinstance(operation, Operation) or operation is None
        else get_operation(operation)
    )
    data = element.find(_sd("Data"))
    response_holder = data.find(_sd("Response")) if data is not None else None
    response_element = (
        next((c for c in response_holder if isinstance(c.tag, str)), None)
        if response_holder is not None
        else None
    )
    if response_element is None:
        return RegixResult(result=model, operation=op, signature=signature)
    if op is None:
        op = operation_for_response(str(response_element.tag))
        if op is None:
            return RegixResult(result=model, signature=signature)
    if response_element.tag != op.response_root:
        found = str(response_element.tag)
        raise MessageError(
            f"{op.name} answers {op.response_root}, not {found}",
            code="REGIX-RESPONSE",
            message_bg=f"{op.name} отговаря с {op.response_root}, а не с {found}",
            line=response_element.sourceline,
        )
    warnings = [
        _issue("REGIX-XSD", p.path, p.line, p.message, p.message_bg)
        for p in op.response_problems(response_element)
    ]
    warnings.extend(
        _issue(p.code, p.path, p.line, p.message, p.message_bg)
        for p in op.response_identifier_problems(response_element)
    )
    return RegixResult(
        result=model,
        operation=op,
        response=op.parse_response(response_element),
        warnings=tuple(warnings),
        signature=signature,
    )


# =============================================================================================
# The clients
# =============================================================================================


def _network_fault(error: httpx.HTTPError) -> TransportFault:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return TransportFault(
                f"the TLS connection to RegiX failed: {cause}",
                code="REGIX-TLS",
                message_bg=f"TLS връзката с RegiX е неуспешна: {cause}",
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, httpx.TimeoutException):
        return TransportFault(
            f"RegiX did not answer in time ({type(error).__name__})",
            code="REGIX-TIMEOUT",
            message_bg="RegiX не отговори навреме",
        )
    return TransportFault(
        f"RegiX cannot be reached: {type(error).__name__}: {error}",
        code="REGIX-NETWORK",
        message_bg=f"RegiX е недостъпен: {type(error).__name__}",
    )


def _too_large(limit: int) -> ReceiverError:
    return ReceiverError(
        f"the answer is larger than {limit} bytes",
        code="REGIX-TOO-LARGE",
        message_bg=f"Отговорът е по-голям от {limit} байта",
    )


class _Core:
    """What both clients share: building requests and interpreting answers (no I/O)."""

    def __init__(
        self,
        url: str,
        *,
        signature_policy: VerificationPolicy | None,
        max_response_bytes: int,
        allow_http: bool,
    ) -> None:
        scheme = httpx.URL(url).scheme
        if scheme != "https" and not (scheme == "http" and allow_http):
            raise ValueError(
                f"RegiX is reached over https only, not {url!r} (allow_http=True for tests)"
            )
        if max_response_bytes < 1:
            raise ValueError("max_response_bytes must be positive")
        self.url = url
        self.policy = signature_policy
        self.max_response_bytes = max_response_bytes

    @staticmethod
    def ssl_context(
        credentials: TlsCredentials | None, ca: Sequence[x509.Certificate] | None
    ) -> ssl.SSLContext:
        if ca:
            context = ssl.create_default_context(
                cadata="".join(
                    c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in ca
                )
            )
        else:
            context = ssl.create_default_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if credentials is not None:
            credentials.load_into(context)
        return context

    def envelope(
        self, call: RegixCall, payload: ServiceRequestData | ServiceCheckResultArgument
    ) -> tuple[bytes, dict[str, str]]:
        headers = {"Content-Type": SOAP11_CONTENT_TYPE, "SOAPAction": f'"{call.soap_action}"'}
        return build_envelope([request_body(call, payload)]), headers

    def request(
        self,
        operation: Operation | str,
        argument: RequestPayload | etree._Element | bytes,
        context: CallContext,
        *,
        asynchronous: bool,
        sign_result: bool,
        return_access_matrix: bool,
        employee_egn: str | None,
        citizen_egn: str | None,
        eid_token: str | None,
        check_identifiers: bool,
    ) -> tuple[Operation, ServiceRequestData]:
        op = operation if isinstance(operation, Operation) else get_operation(operation)
        request = service_request(
            op,
            argument,
            context,
            sign_result=sign_result,
            return_access_matrix=return_access_matrix,
            asynchronous=asynchronous,
            employee_egn=employee_egn,
            citizen_egn=citizen_egn,
            eid_token=eid_token,
            check_identifiers=check_identifiers,
        )
        return op, request

    def answer(self, call: RegixCall, status: int, content: bytes) -> etree._Element | None:
        limits = XmlLimits(max_bytes=self.max_response_bytes)
        try:
            envelope = parse_envelope(content, limits=limits)
        except SoapError as exc:
            if status >= 500:
                raise TransportFault(
                    f"RegiX answered HTTP {status} without a SOAP envelope",
                    code="REGIX-HTTP",
                    message_bg=f"RegiX отговори с HTTP {status} без SOAP плик",
                ) from exc
            if status != 200:
                raise SenderError(
                    f"RegiX refused the request with HTTP {status}",
                    code="REGIX-HTTP",
                    message_bg=f"RegiX отказа заявката с HTTP {status}",
                ) from exc
            raise ReceiverError(
                f"RegiX's answer is not a SOAP 1.1 envelope: {exc}",
                code="REGIX-BAD-RESPONSE",
                message_bg=f"Отговорът на RegiX не е SOAP 1.1 плик: {exc.message_bg}",
            ) from exc
        if envelope.fault is not None:
            fault = envelope.fault
            cls: type[TransportError] = SenderError if fault.is_client else TransportFault
            raise cls(
                f"RegiX answered with a SOAP fault ({fault.code}): {fault.string}",
                code="REGIX-FAULT",
                message_bg=f"RegiX отговори с SOAP грешка ({fault.code}): {fault.string}",
            )
        if status != 200:
            cls = TransportFault if status >= 500 else SenderError
            raise cls(
                f"RegiX answered HTTP {status}",
                code="REGIX-HTTP",
                message_bg=f"RegiX отговори с HTTP {status}",
            )
        try:
            return read_response_body(call, envelope.body_element)
        except (SoapError, MessageError) as exc:
            raise ReceiverError(
                f"RegiX's answer cannot be read: {exc}",
                code="REGIX-BAD-RESPONSE",
                message_bg=f"Отговорът на RegiX не може да бъде прочетен: {exc.message_bg}",
            ) from exc

    def result(
        self,
        op: Operation,
        element: etree._Element | None,
        *,
        sign_requested: bool,
        raise_on_error: bool,
    ) -> RegixResult:
        if element is None:
            raise ReceiverError(
                "RegiX answered without a ServiceResultData",
                code="REGIX-BAD-RESPONSE",
                message_bg="RegiX отговори без ServiceResultData",
            )
        try:
            result = read_result(
                element,
                op,
                policy=self.policy,
                require_signature=sign_requested and self._needs_data(element),
            )
        except MessageError as exc:
            raise ReceiverError(
                f"RegiX's result cannot be read: {exc}",
                code="REGIX-BAD-RESPONSE",
                message_bg=f"Резултатът от RegiX не може да бъде прочетен: {exc.message_bg}",
            ) from exc
        if result.has_error and raise_on_error:
            call_id = (
                f" (ServiceCallID {result.service_call_id})"
                if result.service_call_id is not None
                else ""
            )
            raise ReceiverError(
                f"RegiX reported an error for {op.name}{call_id}: {result.error or 'no message'}",
                code="REGIX-HAS-ERROR",
                message_bg=f"RegiX върна грешка за {op.name}{call_id}: "
                f"{result.error or 'без съобщение'}",
            )
        return result

    @staticmethod
    def _needs_data(element: etree._Element) -> bool:
        """Whether a result carries data that should be signed (ready, no error)."""
        model_ready = (element.findtext(_sd("IsReady")) or "").strip(_WS) in ("true", "1")
        has_error = (element.findtext(_sd("HasError")) or "").strip(_WS) in ("true", "1")
        return model_ready and not has_error and element.find(_sd("Data")) is not None

    @staticmethod
    def pending(op: Operation, result: RegixResult, sign_result: bool) -> PendingCall:
        if result.service_call_id is None:
            raise ReceiverError(
                "RegiX accepted the asynchronous call without a ServiceCallID",
                code="REGIX-BAD-RESPONSE",
                message_bg="RegiX прие асинхронната заявка без ServiceCallID",
            )
        return PendingCall(
            operation=op,
            service_call_id=result.service_call_id,
            verification_code=result.result.verification_code,
            sign_result=sign_result,
        )

    @staticmethod
    def not_ready(pending: PendingCall, waited: float) -> TransportFault:
        return TransportFault(
            f"RegiX has not finished the call {pending.service_call_id} after {waited:.0f} s; "
            "poll it again later",
            code="REGIX-NOT-READY",
            message_bg=f"RegiX не е приключил заявка {pending.service_call_id} след "
            f"{waited:.0f} с; проверете отново по-късно",
        )


def _intervals(first: float, limit: float) -> Callable[[], float]:
    state = [first]

    def next_interval() -> float:
        value = state[0]
        state[0] = min(value * 1.5, limit)
        return value

    return next_interval


class RegixClient:
    """A synchronous RegiX client (one HTTP connection pool; share it between threads).

    :param url: the entry point (default :data:`PRODUCTION_URL`); ``https`` only unless
        ``allow_http`` (tests).
    :param credentials: the administration's certificate and key for mutual TLS.
    :param ca: CA certificates to check RegiX's server certificate against; default: the
        system's trust store.
    :param signature_policy: verify signed results with it; without one, signatures are not
        checked (and :attr:`RegixResult.signature` stays ``None``).
    :param timeout: seconds for each connect, write, read and pool wait.
    :param max_response_bytes: the largest answer accepted.
    :param wait_timeout: how long :meth:`execute` polls an asynchronous call.
    :param http_client: an ``httpx.Client`` to use instead (its TLS settings apply).
    """

    def __init__(
        self,
        url: str = PRODUCTION_URL,
        *,
        credentials: TlsCredentials | None = None,
        ca: Sequence[x509.Certificate] | None = None,
        signature_policy: VerificationPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        wait_timeout: float = DEFAULT_WAIT,
        allow_http: bool = False,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._core = _Core(
            url,
            signature_policy=signature_policy,
            max_response_bytes=max_response_bytes,
            allow_http=allow_http,
        )
        self._wait_timeout = wait_timeout
        self._owned = http_client is None
        self._http = http_client or httpx.Client(
            verify=_Core.ssl_context(credentials, ca),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
        )

    def _call(
        self, call: RegixCall, payload: ServiceRequestData | ServiceCheckResultArgument
    ) -> etree._Element | None:
        body, headers = self._core.envelope(call, payload)
        try:
            with self._http.stream("POST", self._core.url, content=body, headers=headers) as answer:
                declared = answer.headers.get("Content-Length")
                if (
                    declared
                    and declared.isdigit()
                    and int(declared) > self._core.max_response_bytes
                ):
                    raise _too_large(self._core.max_response_bytes)
                chunks: list[bytes] = []
                size = 0
                for chunk in answer.iter_bytes():
                    size += len(chunk)
                    if size > self._core.max_response_bytes:
                        raise _too_large(self._core.max_response_bytes)
                    chunks.append(chunk)
                status = answer.status_code
        except httpx.HTTPError as exc:
            raise _network_fault(exc) from exc
        return self._core.answer(call, status, b"".join(chunks))

    def execute(
        self,
        operation: Operation | str,
        argument: RequestPayload | etree._Element | bytes,
        context: CallContext,
        *,
        asynchronous: bool = False,
        sign_result: bool = True,
        return_access_matrix: bool = False,
        employee_egn: str | None = None,
        citizen_egn: str | None = None,
        eid_token: str | None = None,
        check_identifiers: bool = True,
        raise_on_error: bool = True,
    ) -> RegixResult:
        """Call ``operation`` with ``argument`` and return the checked result.

        With ``asynchronous`` (or when RegiX answers "not ready") the call is polled until
        ready (at most ``wait_timeout`` seconds) and then acknowledged.

        :raises eintegr.errors.RegistryError: an unknown operation name.
        :raises MessageError: ``REGIX-ARGUMENT``: the argument is not valid.
        :raises eintegr.errors.IdentifierError: an identifier in the argument is invalid.
        :raises TransportFault: retry later (fault, HTTP 5xx, timeout, network, TLS,
            ``REGIX-NOT-READY``).
        :raises SenderError: RegiX refused the request (``Client`` fault, HTTP 4xx).
        :raises ReceiverError: an unreadable answer, or ``REGIX-HAS-ERROR``.
        :raises VerificationError: a signature was asked for and is missing or invalid.
        """
        op, request = self._core.request(
            operation,
            argument,
            context,
            asynchronous=asynchronous,
            sign_result=sign_result,
            return_access_matrix=return_access_matrix,
            employee_egn=employee_egn,
            citizen_egn=citizen_egn,
            eid_token=eid_token,
            check_identifiers=check_identifiers,
        )
        element = self._call(RegixCall.EXECUTE, request)
        result = self._core.result(
            op, element, sign_requested=sign_result, raise_on_error=raise_on_error
        )
        if result.is_ready:
            return result
        pending = self._core.pending(op, result, sign_result)
        return self.wait(pending, raise_on_error=raise_on_error)

    def submit(
        self,
        operation: Operation | str,
        argument: RequestPayload | etree._Element | bytes,
        context: CallContext,
        *,
        sign_result: bool = True,
        return_access_matrix: bool = False,
        employee_egn: str | None = None,
        citizen_egn: str | None = None,
        eid_token: str | None = None,
        check_identifiers: bool = True,
    ) -> PendingCall:
        """Start an asynchronous call; poll it with :meth:`check_result` or :meth:`wait`.

        :raises: as :meth:`execute`.
        """
        op, request = self._core.request(
            operation,
            argument,
            context,
            asynchronous=True,
            sign_result=sign_result,
            return_access_matrix=return_access_matrix,
            employee_egn=employee_egn,
            citizen_egn=citizen_egn,
            eid_token=eid_token,
            check_identifiers=check_identifiers,
        )
        element = self._call(RegixCall.EXECUTE, request)
        result = self._core.result(op, element, sign_requested=False, raise_on_error=True)
        return self._core.pending(op, result, sign_result)

    def check_result(self, pending: PendingCall, *, raise_on_error: bool = True) -> RegixResult:
        """Ask whether ``pending`` is done (``CheckResult``); ``is_ready`` says.

        :raises: as :meth:`execute`.
        """
        element = self._call(RegixCall.CHECK_RESULT, pending.argument())
        return self._core.result(
            pending.operation,
            element,
            sign_requested=pending.sign_result,
            raise_on_error=raise_on_error,
        )

    def acknowledge(self, pending: PendingCall) -> None:
        """Tell RegiX the result of ``pending`` was received (``AcknowledgeResultReceived``)."""
        self._call(RegixCall.ACKNOWLEDGE, pending.argument())

    def wait(
        self,
        pending: PendingCall,
        *,
        timeout: float | None = None,
        interval: float = 0.25,
        max_interval: float = 5.0,
        acknowledge: bool = True,
        raise_on_error: bool = True,
    ) -> RegixResult:
        """Poll ``pending`` until ready (growing intervals from ``interval`` up to
        ``max_interval``), acknowledge it, and return the result.

        :raises TransportFault: ``REGIX-NOT-READY`` after ``timeout`` seconds (default: the
            client's ``wait_timeout``); keep ``pending`` and poll again later.
        """
        limit = self._wait_timeout if timeout is None else timeout
        started = time.monotonic()
        pause = _intervals(interval, max_interval)
        while True:
            result = self.check_result(pending, raise_on_error=raise_on_error)
            if result.is_ready:
                if acknowledge:
                    self.acknowledge(pending)
                return result
            waited = time.monotonic() - started
            if waited >= limit:
                raise self._core.not_ready(pending, waited)
            time.sleep(min(pause(), max(0.0, limit - waited)))

    def close(self) -> None:
        """Close the connections (not those of an ``http_client`` given by the caller)."""
        if self._owned:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncRegixClient:
    """The ``asyncio`` twin of :class:`RegixClient` (same parameters and behaviour)."""

    def __init__(
        self,
        url: str = PRODUCTION_URL,
        *,
        credentials: TlsCredentials | None = None,
        ca: Sequence[x509.Certificate] | None = None,
        signature_policy: VerificationPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        wait_timeout: float = DEFAULT_WAIT,
        allow_http: bool = False,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._core = _Core(
            url,
            signature_policy=signature_policy,
            max_response_bytes=max_response_bytes,
            allow_http=allow_http,
        )
        self._wait_timeout = wait_timeout
        self._owned = http_client is None
        self._http = http_client or httpx.AsyncClient(
            verify=_Core.ssl_context(credentials, ca),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
        )

    async def _call(
        self, call: RegixCall, payload: ServiceRequestData | ServiceCheckResultArgument
    ) -> etree._Element | None:
        body, headers = self._core.envelope(call, payload)
        try:
            async with self._http.stream(
                "POST", self._core.url, content=body, headers=headers
            ) as answer:
                declared = answer.headers.get("Content-Length")
                if (
                    declared
                    and declared.isdigit()
                    and int(declared) > self._core.max_response_bytes
                ):
                    raise _too_large(self._core.max_response_bytes)
                chunks: list[bytes] = []
                size = 0
                async for chunk in answer.aiter_bytes():
                    size += len(chunk)
                    if size > self._core.max_response_bytes:
                        raise _too_large(self._core.max_response_bytes)
                    chunks.append(chunk)
                status = answer.status_code
        except httpx.HTTPError as exc:
            raise _network_fault(exc) from exc
        return self._core.answer(call, status, b"".join(chunks))

    async def execute(
        self,
        operation: Operation | str,
        argument: RequestPayload | etree._Element | bytes,
        context: CallContext,
        *,
        asynchronous: bool = False,
        sign_result: bool = True,
        return_access_matrix: bool = False,
        employee_egn: str | None = None,
        citizen_egn: str | None = None,
        eid_token: str | None = None,
        check_identifiers: bool = True,
        raise_on_error: bool = True,
    ) -> RegixResult:
        """See :meth:`RegixClient.execute`."""
        op, request = self._core.request(
            operation,
            argument,
            context,
            asynchronous=asynchronous,
            sign_result=sign_result,
            return_access_matrix=return_access_matrix,
            employee_egn=employee_egn,
            citizen_egn=citizen_egn,
            eid_token=eid_token,
            check_identifiers=check_identifiers,
        )
        element = await self._call(RegixCall.EXECUTE, request)
        result = self._core.result(
            op, element, sign_requested=sign_result, raise_on_error=raise_on_error
        )
        if result.is_ready:
            return result
        pending = self._core.pending(op, result, sign_result)
        return await self.wait(pending, raise_on_error=raise_on_error)

    async def submit(
        self,
        operation: Operation | str,
        argument: RequestPayload | etree._Element | bytes,
        context: CallContext,
        *,
        sign_result: bool = True,
        return_access_matrix: bool = False,
        employee_egn: str | None = None,
        citizen_egn: str | None = None,
        eid_token: str | None = None,
        check_identifiers: bool = True,
    ) -> PendingCall:
        """See :meth:`RegixClient.submit`."""
        op, request = self._core.request(
            operation,
            argument,
            context,
            asynchronous=True,
            sign_result=sign_result,
            return_access_matrix=return_access_matrix,
            employee_egn=employee_egn,
            citizen_egn=citizen_egn,
            eid_token=eid_token,
            check_identifiers=check_identifiers,
        )
        element = await self._call(RegixCall.EXECUTE, request)
        result = self._core.result(op, element, sign_requested=False, raise_on_error=True)
        return self._core.pending(op, result, sign_result)

    async def check_result(
        self, pending: PendingCall, *, raise_on_error: bool = True
    ) -> RegixResult:
        """See :meth:`RegixClient.check_result`."""
        element = await self._call(RegixCall.CHECK_RESULT, pending.argument())
        return self._core.result(
            pending.operation,
            element,
            sign_requested=pending.sign_result,
            raise_on_error=raise_on_error,
        )

    async def acknowledge(self, pending: PendingCall) -> None:
        """See :meth:`RegixClient.acknowledge`."""
        await self._call(RegixCall.ACKNOWLEDGE, pending.argument())

    async def wait(
        self,
        pending: PendingCall,
        *,
        timeout: float | None = None,
        interval: float = 0.25,
        max_interval: float = 5.0,
        acknowledge: bool = True,
        raise_on_error: bool = True,
    ) -> RegixResult:
        """See :meth:`RegixClient.wait`."""
        limit = self._wait_timeout if timeout is None else timeout
        started = time.monotonic()
        pause = _intervals(interval, max_interval)
        while True:
            result = await self.check_result(pending, raise_on_error=raise_on_error)
            if result.is_ready:
                if acknowledge:
                    await self.acknowledge(pending)
                return result
            waited = time.monotonic() - started
            if waited >= limit:
                raise self._core.not_ready(pending, waited)
            await asyncio.sleep(min(pause(), max(0.0, limit - waited)))

    async def aclose(self) -> None:
        """Close the connections (not those of an ``http_client`` given by the caller)."""
        if self._owned:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
