"""XAdES signatures of РИО documents, at the one place each document type keeps them.

* an **application** is signed in its footer: ``ElectronicAdministrativeServiceFooter`` →
  ``XMLDigitalSignature`` → ``ds:Signature``, with ``ApplicationSigningTime`` set to the
  signing moment (:func:`sign_application`);
* a **receipt** (acknowledged or not) in its last element ``Signature``;
* a **refusal** in the ``XMLDigitalSignature`` of its ``Official`` (one official).

The signature is XAdES-B-B, enveloped, over the whole document, SHA-256
(:func:`eintegr.signing.xades.sign_xades`). Verification (:func:`verify_rio_document`)
accepts the document only if it holds exactly one ``ds:Signature`` and it is at that place,
then verifies it under the :class:`~eintegr.signing.policy.VerificationPolicy` and returns
what was signed — the bytes and the bound model — with the signer's qualified-certificate
information (policy OIDs, QC statements, the personal number or ЕИК in the subject)::

    signed = sign_application(application.to_xml(), signer)
    verified = verify_application(signed, VerificationPolicy(trust=CertificateAuthorities(cas)))
    verified.application.header.service_name, verified.qualified.egn
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from eintegr.errors import MessageError, SigningError, VerificationError, XmlError
from eintegr.identifiers import is_valid_egn, is_valid_eik
from eintegr.messages.rio import (
    ApplicationDocument,
    CorrespondenceConsiderationRefusal,
    IndividualAdministrativeActRefusal,
    ReceiptAcknowledgedMessage,
    ReceiptNotAcknowledgedMessage,
)
from eintegr.messages.rio._base import RIO_BASE, RioModel, segment_ns
from eintegr.signing import codes
from eintegr.signing.policy import VerificationPolicy
from eintegr.signing.signer import SignatureAlgorithm, Signer
from eintegr.signing.xades import DEFAULT_CLOCK_SKEW, VerifiedXades, sign_xades, verify_xades
from eintegr.xml import element_path, parse_xml, to_bytes

__all__ = [
    "QualifiedCertificateInfo",
    "RioDocumentKind",
    "VerifiedRioDocument",
    "qualified_certificate_info",
    "sign_application",
    "sign_rio_document",
    "signature_place",
    "verify_application",
    "verify_rio_document",
]

DS: Final = "http://www.w3.org/2000/09/xmldsig#"
_SIGNATURE: Final = f"{{{DS}}}Signature"
_FOOTER: Final = "ElectronicAdministrativeServiceFooter"
_S153: Final = segment_ns("0009-000153")
_S4_LOCAL: Final = "XMLDigitalSignature"
_RECEIPTS: Final = {
    segment_ns("0009-000019"): "ReceiptAcknowledgedMessage",
    segment_ns("0009-000017"): "ReceiptNotAcknowledgedMessage",
}
_REFUSALS: Final = {
    segment_ns("0009-000150"): "IndividualAdministrativeActRefusal",
    segment_ns("0009-000154"): "CorrespondenceConsiderationRefusal",
}
_OID_ORGANIZATION_IDENTIFIER: Final = x509.ObjectIdentifier("2.5.4.97")
_QC_COMPLIANCE: Final = "0.4.0.1862.1.1"
_QC_SSCD: Final = "0.4.0.1862.1.4"
#: ETSI EN 319 411-2 qualified certificate policies.
_QC_POLICIES: Final = {
    "0.4.0.194112.1.0": "QCP-n",
    "0.4.0.194112.1.1": "QCP-l",
    "0.4.0.194112.1.2": "QCP-n-qscd",
    "0.4.0.194112.1.3": "QCP-l-qscd",
    "0.4.0.194112.1.4": "QCP-w",
}


class RioDocumentKind(StrEnum):
    """What a signed РИО document is, which decides where its signature goes."""

    APPLICATION = "application"
    RECEIPT = "receipt"
    REFUSAL = "refusal"


# ---------------------------------------------------------------------------------------------
# Qualified-certificate information
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualifiedCertificateInfo:
    """What the signing certificate says about itself (read, not judged: whether its issuer
    may issue qualified certificates is for the trust anchors of the policy).

    :ivar qualified: it claims to be an EU qualified certificate (QcCompliance statement).
    :ivar qscd: its key is claimed to be on a qualified device (QcSSCD statement).
    :ivar policies: certificate policy OIDs.
    :ivar policy_names: the ETSI qualified policies among them (``QCP-n-qscd``, …).
    :ivar qc_statements: QC statement OIDs.
    :ivar subject_serial_number: the subject's ``serialNumber`` (``PNOBG-<ЕГН>``, …).
    :ivar egn: the ЕГН of a ``PNOBG-`` serial number, when it is a valid ЕГН.
    :ivar organization_identifier: the subject's ``organizationIdentifier``
        (``NTRBG-<ЕИК>``, …).
    :ivar eik: the ЕИК of an ``NTRBG-``/``VATBG-`` organization identifier, when valid.
    """

    qualified: bool
    qscd: bool
    policies: tuple[str, ...]
    policy_names: tuple[str, ...]
    qc_statements: tuple[str, ...]
    subject_serial_number: str | None
    egn: str | None
    organization_identifier: str | None
    eik: str | None


def _attribute(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    values = certificate.subject.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def qualified_certificate_info(verified: VerifiedXades) -> QualifiedCertificateInfo:
    """The qualified-certificate information of a verified XAdES signature's certificate."""
    certificate = verified.certificate
    serial = _attribute(certificate, NameOID.SERIAL_NUMBER)
    egn = None
    if serial is not None and serial.upper().startswith("PNOBG-"):
        candidate = serial[6:]
        egn = candidate if is_valid_egn(candidate) else None
    organization = _attribute(certificate, _OID_ORGANIZATION_IDENTIFIER)
    eik = None
    if organization is not None and organization.upper().startswith(("NTRBG-", "VATBG-")):
        candidate = organization[6:].removeprefix("BG")
        eik = candidate if is_valid_eik(candidate) else None
    return QualifiedCertificateInfo(
        qualified=_QC_COMPLIANCE in verified.qc_statements,
        qscd=_QC_SSCD in verified.qc_statements,
        policies=verified.certificate_policies,
        policy_names=tuple(
            _QC_POLICIES[p] for p in verified.certificate_policies if p in _QC_POLICIES
        ),
        qc_statements=verified.qc_statements,
        subject_serial_number=serial,
        egn=egn,
        organization_identifier=organization,
        eik=eik,
    )


# ---------------------------------------------------------------------------------------------
# The place of the signature
# ---------------------------------------------------------------------------------------------


def _kind(root: etree._Element) -> RioDocumentKind | None:
    qname = etree.QName(root)
    namespace = qname.namespace or ""
    if _RECEIPTS.get(namespace) == qname.localname:
        return RioDocumentKind.RECEIPT
    if _REFUSALS.get(namespace) == qname.localname:
        return RioDocumentKind.REFUSAL
    if (
        namespace.startswith(f"{RIO_BASE}segment/")
        and root.find(f"{{{namespace}}}{_FOOTER}") is not None
    ):
        return RioDocumentKind.APPLICATION
    return None


def signature_place(
    root: etree._Element,
) -> tuple[RioDocumentKind, str, Mapping[str, str]]:
    """The kind of the РИО document ``root`` and the XPath (with its prefixes) of the element
    its ``ds:Signature`` belongs in.

    :raises SigningError: ``RIO-NOT-SIGNABLE``: not a РИО application (no footer), receipt
        or refusal.
    """
    kind = _kind(root)
    namespace = etree.QName(root).namespace or ""
    prefixes = {"d": namespace, "f": _S153}
    if kind is RioDocumentKind.APPLICATION:
        return kind, f"/d:*/d:{_FOOTER}/f:{_S4_LOCAL}", prefixes
    if kind is RioDocumentKind.RECEIPT:
        return kind, "/d:*/d:Signature", prefixes
    if kind is RioDocumentKind.REFUSAL:
        return kind, f"/d:*/d:Official/d:{_S4_LOCAL}", prefixes
    qname = etree.QName(root)
    raise SigningError(
        f"<{qname.localname}> ({qname.namespace or 'no namespace'}) is not a РИО application"
        " with a footer, a receipt or a refusal",
        code="RIO-NOT-SIGNABLE",
        message_bg=f"<{qname.localname}> ({qname.namespace or 'без пространство от имена'}) не е"
        " заявление от РИО с долна част (footer), потвърждение или отказ",
    )


def _fail_sign(code: str, en: str, bg: str, element: etree._Element | None = None) -> SigningError:
    return SigningError(
        en,
        code=code,
        message_bg=bg,
        path=element_path(element) if element is not None else None,
        line=element.sourceline if element is not None else None,
    )


def _empty_holder(holder: etree._Element) -> None:
    """``holder`` must be empty but for whitespace; the whitespace is dropped."""
    if any(isinstance(c.tag, str) for c in holder) or (holder.text or "").strip():
        already = any(c.tag == _SIGNATURE for c in holder.iter())
        raise _fail_sign(
            "SIG-ALREADY-SIGNED" if already else "RIO-SIGNATURE-PLACE",
            f"{element_path(holder)} already holds a signature"
            if already
            else f"{element_path(holder)} must be empty before signing",
            f"{element_path(holder)} вече съдържа подпис"
            if already
            else f"{element_path(holder)} трябва да е празен преди подписване",
            holder,
        )
    holder.text = None
    for child in list(holder):  # comments and processing instructions
        holder.remove(child)


def _xsd_datetime(moment: _dt.datetime) -> str:
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if moment.utcoffset() == _dt.timedelta(0) else text


def _prepare(tree: etree._ElementTree, kind: RioDocumentKind, moment: _dt.datetime) -> None:
    root = tree.getroot()
    namespace = etree.QName(root).namespace or ""
    if kind is RioDocumentKind.APPLICATION:
        footers = root.findall(f"{{{namespace}}}{_FOOTER}")
        if len(footers) != 1:
            raise _fail_sign(
                "RIO-SIGNATURE-PLACE",
                f"the application has {len(footers)} footers, not one",
                f"заявлението има {len(footers)} долни части (footer) вместо една",
                root,
            )
        footer = footers[0]
        # new elements declare the footer segment's namespace the way portals do, as the
        # default one, unless it is already in scope
        nsmap = None if _S153 in footer.nsmap.values() else {None: _S153}
        time_node = footer.find(f"{{{_S153}}}ApplicationSigningTime")
        if time_node is None:
            time_node = etree.Element(f"{{{_S153}}}ApplicationSigningTime", nsmap=nsmap)
            footer.insert(0, time_node)
        time_node.text = _xsd_datetime(moment)
        holder = footer.find(f"{{{_S153}}}{_S4_LOCAL}")
        if holder is None:
            holder = etree.Element(f"{{{_S153}}}{_S4_LOCAL}", nsmap=nsmap)
            time_node.addnext(holder)
        _empty_holder(holder)
        return
    if kind is RioDocumentKind.RECEIPT:
        holder = root.find(f"{{{namespace}}}Signature")
        if holder is None:
            holder = etree.SubElement(root, f"{{{namespace}}}Signature")
        _empty_holder(holder)
        return
    officials = root.findall(f"{{{namespace}}}Official")
    if len(officials) != 1:
        raise _fail_sign(
            "RIO-SIGNERS",
            f"the refusal names {len(officials)} officials; eintegr signs refusals of exactly"
            " one official (several enveloped signatures would break each other)",
            f"отказът посочва {len(officials)} длъжностни лица; eintegr подписва откази на"
            " точно едно длъжностно лице",
            root,
        )
    holder = officials[0].find(f"{{{namespace}}}{_S4_LOCAL}")
    if holder is None:
        holder = etree.SubElement(officials[0], f"{{{namespace}}}{_S4_LOCAL}")
    _empty_holder(holder)


# ---------------------------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------------------------


def sign_rio_document(
    data: bytes,
    signer: Signer,
    *,
    signing_time: _dt.datetime | None = None,
    algorithm: SignatureAlgorithm | None = None,
) -> bytes:
    """Sign a РИО application, receipt or refusal at its place (see the module docstring).

    An application's ``ApplicationSigningTime`` is set to the signing moment, which is also
    the XAdES ``SigningTime`` (whole seconds; default: now).

    :raises XmlError: ``data`` is refused by the hardened parser.
    :raises SigningError: ``RIO-NOT-SIGNABLE``, ``RIO-SIGNATURE-PLACE`` (no single footer, or
        its ``XMLDigitalSignature`` is not empty), ``RIO-SIGNERS`` (a refusal of several
        officials), ``SIG-ALREADY-SIGNED``, and those of
        :func:`~eintegr.signing.xades.sign_xades`.
    """
    moment = signing_time or _dt.datetime.now(_dt.UTC)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise SigningError(
            "signing_time must be timezone-aware",
            message_bg="Времето на подписване трябва да съдържа часова зона",
        )
    moment = moment.replace(microsecond=0)
    tree = parse_xml(data)
    kind, place, prefixes = signature_place(tree.getroot())
    _prepare(tree, kind, moment)
    return sign_xades(
        to_bytes(tree),
        signer,
        place=place,
        namespaces=prefixes,
        signing_time=moment,
        algorithm=algorithm,
    )


def sign_application(
    data: bytes,
    signer: Signer,
    *,
    signing_time: _dt.datetime | None = None,
    algorithm: SignatureAlgorithm | None = None,
) -> bytes:
    """Sign an application in its footer (see :func:`sign_rio_document`).

    :raises SigningError: ``RIO-NOT-APPLICATION``: the document is a receipt or a refusal,
        or has no footer; otherwise as :func:`sign_rio_document`.
    """
    root = parse_xml(data).getroot()
    if _kind(root) is not RioDocumentKind.APPLICATION:
        raise _not_application(root, SigningError)
    return sign_rio_document(data, signer, signing_time=signing_time, algorithm=algorithm)


_E = TypeVar("_E", SigningError, VerificationError)


def _not_application(root: etree._Element, error: type[_E]) -> _E:
    qname = etree.QName(root)
    return error(
        f"<{qname.localname}> is not a РИО application with an "
        f"ElectronicAdministrativeServiceFooter",
        code="RIO-NOT-APPLICATION",
        message_bg=f"<{qname.localname}> не е заявление от РИО с "
        "ElectronicAdministrativeServiceFooter",
    )


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedRioDocument:
    """A verified РИО document: what was signed, by whom, when.

    :ivar kind: application, receipt or refusal.
    :ivar signed_xml: the canonical bytes the signature covers (the document without it).
    :ivar model: the signed document bound to its model (:class:`ApplicationDocument` for an
        application).
    :ivar xades: the XAdES verification result (certificate, chain, algorithms, …).
    :ivar signing_time: the XAdES ``SigningTime`` (a claim, not a time-stamp).
    :ivar application_signing_time: an application's ``ApplicationSigningTime``, if any.
    :ivar qualified: what the signing certificate says about itself.
    :ivar signer_is_author: for an application, whether the ЕГН in the certificate is the
        ЕГН of one of the applicant's authors (``None`` when either is unknown).
    """

    kind: RioDocumentKind
    signed_xml: bytes
    model: RioModel | ApplicationDocument
    xades: VerifiedXades
    signing_time: _dt.datetime
    application_signing_time: _dt.datetime | None
    qualified: QualifiedCertificateInfo
    signer_is_author: bool | None

    @property
    def application(self) -> ApplicationDocument:
        """The signed application.

        :raises TypeError: the document is not an application.
        """
        if not isinstance(self.model, ApplicationDocument):
            raise TypeError(f"a {self.kind} is not an application")
        return self.model

    @property
    def certificate(self) -> x509.Certificate:
        """The signing certificate."""
        return self.xades.certificate


_MODELS: Final[dict[str, type[RioModel]]] = {
    "ReceiptAcknowledgedMessage": ReceiptAcknowledgedMessage,
    "ReceiptNotAcknowledgedMessage": ReceiptNotAcknowledgedMessage,
    "IndividualAdministrativeActRefusal": IndividualAdministrativeActRefusal,
    "CorrespondenceConsiderationRefusal": CorrespondenceConsiderationRefusal,
}


def _structure(en: str, bg: str, element: etree._Element | None = None) -> VerificationError:
    return VerificationError(
        en,
        code=codes.STRUCTURE,
        message_bg=bg,
        path=element_path(element) if element is not None else None,
        line=element.sourceline if element is not None else None,
    )


def verify_rio_document(
    data: bytes,
    policy: VerificationPolicy,
    *,
    max_clock_skew: _dt.timedelta = DEFAULT_CLOCK_SKEW,
) -> VerifiedRioDocument:
    """Verify the signature of a РИО application, receipt or refusal at its exact place.

    :raises VerificationError: ``SIG-XML`` (refused XML), ``RIO-NOT-SIGNABLE`` (not a РИО
        document with a signature place), ``SIG-STRUCTURE`` (more than one ``ds:Signature``
        in the document, or one elsewhere), ``MODEL-BIND`` (the signed content does not fit
        its model), and every code of :func:`~eintegr.signing.xades.verify_xades`.
    """
    try:
        tree = parse_xml(data)
    except XmlError as exc:
        raise VerificationError(
            f"the XML is refused: {exc}",
            code=codes.XML,
            message_bg=f"XML документът е отхвърлен: {exc.message_bg}",
            line=exc.line,
        ) from None
    root = tree.getroot()
    try:
        kind, place, prefixes = signature_place(root)
    except SigningError as exc:
        raise VerificationError(str(exc), code=exc.code, message_bg=exc.message_bg) from None
    signatures = list(root.iter(_SIGNATURE))
    if len(signatures) > 1:
        raise _structure(
            f"the document holds {len(signatures)} ds:Signature elements; exactly one, at its"
            " place, is accepted",
            f"документът съдържа {len(signatures)} елемента ds:Signature; приема се точно един,"
            " на определеното място",
            signatures[1],
        )
    verified = verify_xades(
        data, policy, place=place, namespaces=prefixes, max_clock_skew=max_clock_skew
    )
    model = _bind(kind, verified.document)
    signing_time = None
    if isinstance(model, ApplicationDocument) and model.footer is not None:
        signing_time = model.footer.signing_time
    qualified = qualified_certificate_info(verified)
    return VerifiedRioDocument(
        kind=kind,
        signed_xml=verified.signed_xml,
        model=model,
        xades=verified,
        signing_time=verified.signing_time,
        application_signing_time=signing_time,
        qualified=qualified,
        signer_is_author=_signer_is_author(model, qualified),
    )


def verify_application(
    data: bytes,
    policy: VerificationPolicy,
    *,
    max_clock_skew: _dt.timedelta = DEFAULT_CLOCK_SKEW,
) -> VerifiedRioDocument:
    """Verify an application's signature in its footer (see :func:`verify_rio_document`).

    :raises VerificationError: ``RIO-NOT-APPLICATION``: a receipt, a refusal, or a document
        without a footer; otherwise as :func:`verify_rio_document`.
    """
    try:
        root = parse_xml(data).getroot()
    except XmlError as exc:
        raise VerificationError(
            f"the XML is refused: {exc}",
            code=codes.XML,
            message_bg=f"XML документът е отхвърлен: {exc.message_bg}",
            line=exc.line,
        ) from None
    if _kind(root) is not RioDocumentKind.APPLICATION:
        raise _not_application(root, VerificationError)
    return verify_rio_document(data, policy, max_clock_skew=max_clock_skew)


def _bind(kind: RioDocumentKind, document: etree._ElementTree) -> RioModel | ApplicationDocument:
    root = document.getroot()
    try:
        if kind is RioDocumentKind.APPLICATION:
            return ApplicationDocument.from_tree(root)
        return _MODELS[etree.QName(root).localname].from_tree(root)
    except MessageError as exc:
        raise VerificationError(
            f"the signed document does not fit its model: {exc}",
            code=exc.code,
            message_bg=f"подписаният документ не съответства на модела си: {exc.message_bg}",
            path=exc.path,
            line=exc.line,
        ) from None


def _signer_is_author(
    model: RioModel | ApplicationDocument, qualified: QualifiedCertificateInfo
) -> bool | None:
    if not isinstance(model, ApplicationDocument) or qualified.egn is None:
        return None
    applicant = model.applicants()
    if applicant is None:
        return None
    numbers = {
        author.person.identifier.egn
        for group in applicant.recipient_groups
        for author in group.authors
        if author.person is not None
        and author.person.identifier is not None
        and author.person.identifier.egn is not None
    }
    return qualified.egn in numbers if numbers else None
