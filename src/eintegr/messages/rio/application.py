"""Electronic applications: any application (:class:`ApplicationDocument`) and one complete
concrete type (:class:`ApplicationForWithdrawService`, document type ``0010-003059``).

An application is a document of its own type (its root element is in the namespace of its
segment, e.g. ``http://ereg.egov.bg/segment/R-3059``) made of common parts — the header, the
service term, how the result is received, the applicant, declarations, attached documents
and the footer with the signature — and the service-specific data in between.

:class:`ApplicationDocument` reads and writes *any* application: the common parts are bound
to their models, everything else is kept, losslessly and in its place, as
:class:`ServiceData`. Its ``layout`` records the order of the root's children, so a parsed
application is written back in the same order.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Final, Self

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field
from pydantic_xml import element, wrapped

from eintegr.errors import MessageError
from eintegr.messages._binding import _XmlFragment
from eintegr.messages.rio._base import (
    RIO_BASE,
    RioModel,
    Text,
    segment_ns,
    tidy_namespaces,
)
from eintegr.messages.rio.codes import ServiceTermType
from eintegr.messages.rio.segments import (
    AttachedDocument,
    Declaration,
    ElectronicAdministrativeServiceFooter,
    ElectronicAdministrativeServiceHeader,
    ElectronicServiceApplicant,
    ServiceApplicantReceiptData,
)
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, element_path, parse_xml

__all__ = [
    "STANDARD_LAYOUT",
    "ApplicationDocument",
    "ApplicationForWithdrawService",
    "ApplicationForWithdrawServiceData",
    "ApplicationPart",
    "PoliceDepartment",
    "ServiceData",
]

_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
R3037: Final = segment_ns("R-3037")
R3059: Final = segment_ns("R-3059")
R3060: Final = segment_ns("R-3060")


class ApplicationPart(StrEnum):
    """The common parts of an application, by the local name of their element."""

    HEADER = "ElectronicAdministrativeServiceHeader"
    SERVICE_TERM_TYPE = "ServiceTermType"
    RECEIPT_DATA = "ServiceApplicantReceiptData"
    APPLICANT = "ElectronicServiceApplicant"
    DECLARATIONS = "Declarations"
    ATTACHED_DOCUMENTS = "AttachedDocuments"
    FOOTER = "ElectronicAdministrativeServiceFooter"


SERVICE_DATA_SLOT: Final = "*"
"""In a layout, where service data goes when it has no place of its own."""

STANDARD_LAYOUT: Final[tuple[str, ...]] = (
    ApplicationPart.HEADER,
    ApplicationPart.SERVICE_TERM_TYPE,
    ApplicationPart.RECEIPT_DATA,
    ApplicationPart.APPLICANT,
    SERVICE_DATA_SLOT,
    ApplicationPart.DECLARATIONS,
    ApplicationPart.ATTACHED_DOCUMENTS,
    ApplicationPart.FOOTER,
)
"""The order the portals write: header, service term, receipt data, applicant, the service
data, declarations, attached documents, and the footer last."""

_RANK: Final = {name: index for index, name in enumerate(STANDARD_LAYOUT)}


class ServiceData(_XmlFragment):
    """One element of an application's service-specific data, kept verbatim (lossless,
    compared by canonical form). Read it with :meth:`element`."""

    __slots__ = ("_tag",)
    _tag: str
    _ROOT = ""
    _ROOT_DISPLAY = "any"

    @classmethod
    def _check_root(cls, node: etree._Element) -> None:
        if not isinstance(node.tag, str):
            raise MessageError(
                "ServiceData needs an element",
                code="MODEL-FRAGMENT",
                message_bg="ServiceData изисква елемент",
            )

    @property
    def tag(self) -> str:
        """The element's name in Clark notation."""
        try:
            return self._tag
        except AttributeError:
            object.__setattr__(self, "_tag", str(self.element().tag))
            return self._tag


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


class ApplicationDocument(BaseModel):
    """Any electronic application: the common parts as models, the rest as
    :class:`ServiceData`.

    :ivar tag: the root element in Clark notation, e.g.
        ``{http://ereg.egov.bg/segment/R-3059}ApplicationForWithdrawService``.
    :ivar layout: the local names of the root's children in document order (service data
        by their own names); ``None`` writes :data:`STANDARD_LAYOUT`. Parts missing from the
        layout are written where the standard order puts them.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=True)

    tag: str
    header: ElectronicAdministrativeServiceHeader | None = None
    service_term_type: ServiceTermType | None = None
    receipt_data: ServiceApplicantReceiptData | None = None
    applicant: ElectronicServiceApplicant | None = None
    service_data: list[ServiceData] = Field(default_factory=list)
    declarations: list[Declaration] = Field(default_factory=list)
    attached_documents: list[AttachedDocument] = Field(default_factory=list)
    footer: ElectronicAdministrativeServiceFooter | None = None
    layout: tuple[str, ...] | None = None

    @property
    def namespace(self) -> str:
        """The namespace of the root element (the application's own segment)."""
        return etree.QName(self.tag).namespace or ""

    @property
    def name(self) -> str:
        """The local name of the root element."""
        return etree.QName(self.tag).localname

    @property
    def signed(self) -> bool:
        """Whether the footer holds a ``ds:Signature`` (not whether it is valid)."""
        return self.footer is not None and self.footer.signed

    def applicants(self) -> ElectronicServiceApplicant | None:
        """The applicant: the document's own ``ElectronicServiceApplicant``, else the
        header's."""
        if self.applicant is not None:
            return self.applicant
        return self.header.applicant if self.header is not None else None

    # --- reading ------------------------------------------------------------------------------

    @classmethod
    def from_xml(cls, data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> Self:
        """Parse ``data`` with :func:`eintegr.xml.parse_xml` and bind it.

        :raises eintegr.errors.XmlError: the bytes are not acceptable XML.
        :raises MessageError: ``MODEL-BIND``: the root is not a РИО segment, a common part
            does not fit its model or appears twice, or the root holds text.
        """
        return cls.from_tree(parse_xml(data, limits=limits))

    @classmethod
    def from_tree(cls, tree: etree._ElementTree | etree._Element) -> Self:
        """Bind an already parsed application (see :meth:`from_xml`)."""
        root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
        namespace = etree.QName(root).namespace or ""
        if not namespace.startswith(f"{RIO_BASE}segment/"):
            raise _bind_error(
                root,
                f"the root element is not in a РИО segment namespace ({RIO_BASE}segment/…)",
                f"кореновият елемент не е в пространство от имена на сегмент от РИО "
                f"({RIO_BASE}segment/…)",
            )
        if (root.text or "").strip():
            raise _bind_error(root, "unexpected text", "неочакван текст")
        values: dict[str, Any] = {"tag": str(root.tag), "service_data": []}
        layout: list[str] = []
        for child in root:
            if not isinstance(child.tag, str):
                continue
            if (child.tail or "").strip():
                raise _bind_error(child, "unexpected text after it", "неочакван текст след него")
            local = _local(child)
            part = local if etree.QName(child).namespace == namespace else None
            layout.append(local)
            if part not in _BINDERS:
                values["service_data"].append(ServiceData.from_element(child))
                continue
            field, bind = _BINDERS[part]
            if field in values:
                raise _bind_error(child, f"<{local}> appears twice", f"<{local}> се среща два пъти")
            values[field] = bind(child)
        return cls(**values, layout=tuple(layout))

    # --- writing ------------------------------------------------------------------------------

    def _plan(self) -> list[str | ServiceData]:
        """What to write, in order: part names and service data elements."""
        present: list[str] = [
            part
            for part, value in (
                (ApplicationPart.HEADER, self.header),
                (ApplicationPart.SERVICE_TERM_TYPE, self.service_term_type),
                (ApplicationPart.RECEIPT_DATA, self.receipt_data),
                (ApplicationPart.APPLICANT, self.applicant),
                (ApplicationPart.DECLARATIONS, self.declarations or None),
                (ApplicationPart.ATTACHED_DOCUMENTS, self.attached_documents or None),
                (ApplicationPart.FOOTER, self.footer),
            )
            if value is not None
        ]
        order = list(self.layout if self.layout is not None else STANDARD_LAYOUT)
        for part in present:
            if part not in order:
                order.insert(_slot_index(order, _RANK[part]), part)
        pending = list(self.service_data)
        reserved: dict[int, ServiceData] = {}
        for index, name in enumerate(order):
            if name not in _RANK:
                match = next((d for d in pending if _name(d) == name), None)
                if match is not None:
                    reserved[index] = match
                    pending.remove(match)
        if pending and SERVICE_DATA_SLOT not in order:
            slot = _slot_index(order, _RANK[SERVICE_DATA_SLOT])
            order.insert(slot, SERVICE_DATA_SLOT)
            reserved = {i + (i >= slot): d for i, d in reserved.items()}
        plan: list[str | ServiceData] = []
        for index, name in enumerate(order):
            if name == SERVICE_DATA_SLOT:
                plan.extend(pending)
                pending = []
            elif name in _RANK:
                plan.append(name)
            elif index in reserved:
                plan.append(reserved[index])
        return plan

    def to_tree(self) -> etree._Element:
        """The application as a new lxml element, namespaces declared once on the root."""
        namespace = self.namespace
        root = etree.Element(self.tag, nsmap={None: namespace} if namespace else None)

        def q(local: str) -> str:
            return f"{{{namespace}}}{local}"

        for step in self._plan():
            if isinstance(step, ServiceData):
                root.append(step.element())
            elif step == ApplicationPart.HEADER and self.header is not None:
                root.append(self.header.to_tree(q(step)))
            elif step == ApplicationPart.SERVICE_TERM_TYPE and self.service_term_type:
                etree.SubElement(root, q(step)).text = str(self.service_term_type)
            elif step == ApplicationPart.RECEIPT_DATA and self.receipt_data is not None:
                root.append(self.receipt_data.to_tree(q(step)))
            elif step == ApplicationPart.APPLICANT and self.applicant is not None:
                root.append(self.applicant.to_tree(q(step)))
            elif step == ApplicationPart.DECLARATIONS and self.declarations:
                wrapper = etree.SubElement(root, q(step))
                for item in self.declarations:
                    wrapper.append(item.to_tree(q("Declaration")))
            elif step == ApplicationPart.ATTACHED_DOCUMENTS and self.attached_documents:
                wrapper = etree.SubElement(root, q(step))
                for document in self.attached_documents:
                    wrapper.append(document.to_tree(q("AttachedDocument")))
            elif step == ApplicationPart.FOOTER and self.footer is not None:
                root.append(self.footer.to_tree(q(step)))
        return tidy_namespaces(root)

    def to_xml(self, *, pretty: bool = False) -> bytes:
        """UTF-8 bytes with an XML declaration."""
        return _DECLARATION + etree.tostring(self.to_tree(), encoding="UTF-8", pretty_print=pretty)


def _name(data: ServiceData) -> str:
    return etree.QName(data.tag).localname


def _slot_index(order: list[str], rank: int) -> int:
    """Where a part of standard ``rank`` goes: after the last entry not ranked above it
    (service data by name rank as the service-data slot)."""
    index = 0
    for position, name in enumerate(order):
        if _RANK.get(name, _RANK[SERVICE_DATA_SLOT]) <= rank:
            index = position + 1
    return index


def _bind_error(node: etree._Element, en: str, bg: str) -> MessageError:
    path = element_path(node)
    return MessageError(
        f"cannot bind ApplicationDocument: {en} at {path}",
        code="MODEL-BIND",
        message_bg=f"ApplicationDocument не може да се прочете: {bg} в {path}",
        path=path,
        line=node.sourceline,
    )


def _term(node: etree._Element) -> ServiceTermType:
    text = (node.text or "").strip()
    try:
        return ServiceTermType(text)
    except ValueError:
        raise _bind_error(
            node,
            f"{text!r} is not a service term code",
            f"{text!r} не е код на вид услуга според срока",
        ) from None


def _wrapped(model: type[RioModel], item: str) -> Any:
    def bind(node: etree._Element) -> list[Any]:
        namespace = etree.QName(node).namespace
        items: list[Any] = []
        for child in node:
            if not isinstance(child.tag, str):
                continue
            if child.tag != f"{{{namespace}}}{item}":
                raise _bind_error(
                    child,
                    f"unexpected element <{_local(child)}>",
                    f"неочакван елемент <{_local(child)}>",
                )
            items.append(model.from_tree(child))
        return items

    return bind


_BINDERS: Final[dict[str | None, tuple[str, Any]]] = {
    ApplicationPart.HEADER: ("header", ElectronicAdministrativeServiceHeader.from_tree),
    ApplicationPart.SERVICE_TERM_TYPE: ("service_term_type", _term),
    ApplicationPart.RECEIPT_DATA: ("receipt_data", ServiceApplicantReceiptData.from_tree),
    ApplicationPart.APPLICANT: ("applicant", ElectronicServiceApplicant.from_tree),
    ApplicationPart.DECLARATIONS: ("declarations", _wrapped(Declaration, "Declaration")),
    ApplicationPart.ATTACHED_DOCUMENTS: (
        "attached_documents",
        _wrapped(AttachedDocument, "AttachedDocument"),
    ),
    ApplicationPart.FOOTER: ("footer", ElectronicAdministrativeServiceFooter.from_tree),
}


# ---------------------------------------------------------------------------------------------
# A complete concrete application: R-3059, withdrawal of a requested service
# ---------------------------------------------------------------------------------------------


class PoliceDepartment(RioModel, tag="PoliceDepartment", ns="r3037", nsmap={"r3037": R3037}):
    """Segment R-3037: a police department (code and name)."""

    code: Text | None = element(tag="PoliceDepartmentCode", default=None)
    name: Text = element(tag="PoliceDepartmentName")


class ApplicationForWithdrawServiceData(
    RioModel, tag="ApplicationForWithdrawServiceData", ns="r3060", nsmap={"r3060": R3060}
):
    """Segment R-3060: the service data of a withdrawal — which case, which department,
    which document was requested, and why the application is withdrawn."""

    case_file_uri: Text | None = element(tag="CaseFileURI", default=None)
    issuing_police_department: PoliceDepartment | None = element(
        tag="IssuingPoliceDepartment", ns="r3060", default=None
    )
    issuing_document: Text | None = element(tag="IssuingDocument", default=None)
    refusal_reasons: Text | None = element(tag="RefusalReasons", default=None)


class ApplicationForWithdrawService(
    RioModel, tag="ApplicationForWithdrawService", ns="r3059", nsmap={"r3059": R3059}
):
    """Segment R-3059: an application to withdraw a requested service (document type
    ``0010-003059``), the worked example of a complete application."""

    _DOCUMENT: ClassVar[bool] = True
    DOCUMENT_TYPE_URI: ClassVar[str] = "0010-003059"
    DOCUMENT_TYPE_NAME: ClassVar[str] = "Заявление за отказ от заявена услуга"

    header: ElectronicAdministrativeServiceHeader | None = element(
        tag="ElectronicAdministrativeServiceHeader", ns="r3059", default=None
    )
    service_term_type: ServiceTermType | None = element(tag="ServiceTermType", default=None)
    receipt_data: ServiceApplicantReceiptData | None = element(
        tag="ServiceApplicantReceiptData", ns="r3059", default=None
    )
    applicant: ElectronicServiceApplicant = element(tag="ElectronicServiceApplicant", ns="r3059")
    data: ApplicationForWithdrawServiceData | None = element(
        tag="ApplicationForWithdrawServiceData", ns="r3059", default=None
    )
    footer: ElectronicAdministrativeServiceFooter | None = element(
        tag="ElectronicAdministrativeServiceFooter", ns="r3059", default=None
    )
    declarations: list[Declaration] = wrapped(
        "Declarations", element(tag="Declaration", ns="r3059", default_factory=list)
    )
    attached_documents: list[AttachedDocument] = wrapped(
        "AttachedDocuments", element(tag="AttachedDocument", ns="r3059", default_factory=list)
    )

    def to_document(self) -> ApplicationDocument:
        """The same application as an :class:`ApplicationDocument`."""
        return ApplicationDocument.from_tree(self.to_tree())
