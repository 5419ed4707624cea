"""СЕОС messages as pydantic(-xml) models: parse, build and serialise.

The models follow ``EGovMessaging.xsd`` (namespace ``http://schemas.egov.bg/messaging/v1``)
element by element and in the schema's order, including the schema's spelling
``Corespondent``. A message is parsed with :meth:`Message.from_xml` (always through the
hardened :func:`eintegr.xml.parse_xml`) and written with :meth:`Message.to_xml`::

    msg = Message.from_xml(data)
    msg.header.message_type, msg.body_type
    data = msg.to_xml()

The builders (:func:`registration_request`, :func:`status_request`, :func:`status_response`,
:func:`error_message`, :func:`reply_to`, :func:`new_document`) fill a new ``MessageGUID``
(``DocumentGUID``), the current time-zone-aware ``MessageDate`` and ``Version`` ``"1.0"``,
and refuse contradictions early with :class:`~eintegr.errors.MessageError`.

Binding is faithful rather than judgemental: a message whose ``MessageType`` does not match
its body, a naive ``MessageDate`` or a ``Version`` other than ``"1"``/``"1.0"`` still parses,
so that :mod:`eintegr.validation` can report it. XML-DSig signatures (``ds:Signature`` of the
message and of the document) and ``DocAddData`` are kept as opaque, lossless XML values
(:class:`SignatureXml`, :class:`AdditionalData`); the models never claim that a signature is
valid. A parsed message is written back with its root namespace declarations (and prefix) and
its exact ``MessageDate`` text, so re-serialising an unmodified, compactly written signed
message keeps its signature verifiable (pretty-printing, or any change, breaks it).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import (
    Annotated,
    Any,
    ClassVar,
    Final,
    Self,
    TypeAlias,
    TypeVar,
    Union,
    cast,
)

import pydantic
from lxml import etree
from pydantic import (
    ConfigDict,
    PrivateAttr,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_xml import BaseXmlModel, element, wrapped, xml_field_serializer, xml_field_validator
from pydantic_xml.element.element import SearchMode, XmlElementReader, XmlElementWriter

from eintegr.errors import MessageError
from eintegr.identifiers import Guid
from eintegr.messages._binding import (
    _FIXED_ERRORS,
    _append_fragment,
    _aware,
    _Base64Bytes,
    _bind_error,
    _build_error,
    _check_xml_text,
    _child,
    _Date,
    _DateTime,
    _deserialize,
    _element_name,
    _field_error,
    _fragment_from,
    _lexical,
    _parse_xsd_datetime,
    _PositiveInteger,
    _reparse,
    _root_of,
    _take,
    _XmlFragment,
    _XmlText,
    _xsi_attributes,
)
from eintegr.schemas import SEOS_NS, XMLDSIG_NS
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, element_path, parse_xml

__all__ = [
    "AdditionalData",
    "Attachment",
    "Correspondent",
    "CorrespondentKind",
    "Document",
    "DocumentIdentification",
    "DocumentNumber",
    "DocumentRegistrationRequest",
    "DocumentStatus",
    "DocumentStatusRequest",
    "DocumentStatusResponse",
    "DocumentURI",
    "EntityNode",
    "ErrorKind",
    "ErrorMessage",
    "Header",
    "Message",
    "MessageBody",
    "MessageType",
    "ServiceItem",
    "SignatureXml",
    "error_message",
    "new_document",
    "registration_request",
    "reply_to",
    "status_request",
    "status_response",
]

_SEOS_NS: Final = SEOS_NS
_DURI_NS: Final = "http://ereg.egov.bg/segment/0009-000001"
_DS_NS: Final = XMLDSIG_NS

_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_VERSION: Final = "1.0"  # what the deployed state implementation emits; "1" is accepted too


def _q(local: str, ns: str = _SEOS_NS) -> str:
    return f"{{{ns}}}{local}"


# ---------------------------------------------------------------------------------------------
# Enumerations (the XSD's simple types)
# ---------------------------------------------------------------------------------------------


# Member names are the schema's values, so code reads like the specification; as StrEnums
# the members also equal their strings.


class MessageType(StrEnum):
    """``MessageType``: the kind of a message; it must match the element in ``Body``."""

    MSG_DocumentRegistrationRequest = "MSG_DocumentRegistrationRequest"
    MSG_DocumentStatusRequest = "MSG_DocumentStatusRequest"
    MSG_DocumentStatusResponse = "MSG_DocumentStatusResponse"
    MSG_Error = "MSG_Error"


class DocumentStatus(StrEnum):
    """``DocumentStatusType``: the registration status reported in ``DocRegStatus``."""

    DS_WAIT_REGISTRATION = "DS_WAIT_REGISTRATION"
    DS_REGISTERED = "DS_REGISTERED"
    DS_STOPPED = "DS_STOPPED"
    DS_CLOSED = "DS_CLOSED"
    DS_NOT_FOUND = "DS_NOT_FOUND"
    DS_ALREADY_RECEIVED = "DS_ALREADY_RECEIVED"
    DS_REJECTED = "DS_REJECTED"  # needs a RejectionReason


class ErrorKind(StrEnum):
    """``ErrorKindType``: whose fault an error is."""

    ERR_INTERNAL = "ERR_INTERNAL"  # the receiver's (e.g. its database is down)
    ERR_EXTERNAL = "ERR_EXTERNAL"  # the sender's (e.g. a malformed message)


class CorrespondentKind(StrEnum):
    """``CorrespondentKindType``."""

    Corr_Applicant = "Corr_Applicant"  # the applicant for an electronic service
    Corr_Other = "Corr_Other"


# ---------------------------------------------------------------------------------------------
# Values (the lexical types and the binding machinery are in eintegr.messages._binding)
# ---------------------------------------------------------------------------------------------

_Guid = Annotated[Guid, _lexical("guid", Guid.parse)]


class SignatureXml(_XmlFragment):
    """An XML-DSig ``ds:Signature`` element, kept verbatim.

    It is an opaque value: the models carry it so that a signed message round-trips, and never
    look inside it or claim that it is valid — verifying is :mod:`eintegr.signing`'s job.
    """

    __slots__ = ()
    _ROOT = _q("Signature", _DS_NS)
    _ROOT_DISPLAY = "ds:Signature"


class AdditionalData(_XmlFragment):
    """The content of a ``DocAddData`` element (``xsd:anyType``), kept losslessly.

    The value is the whole ``DocAddData`` element (attributes, text, child elements, comments)
    as it stood in its message; equality ignores prefixes and unused namespace declarations.
    """

    __slots__ = ()
    _ROOT = _q("DocAddData")
    _ROOT_DISPLAY = "DocAddData"

    @classmethod
    def from_children(
        cls, children: Iterable[etree._Element | bytes] = (), *, text: str | None = None
    ) -> Self:
        """Build ``<DocAddData>text children…</DocAddData>`` from copies of ``children``
        (elements, or bytes parsed with :func:`eintegr.xml.parse_xml`)."""
        holder = etree.Element(cls._ROOT, nsmap={None: _SEOS_NS})
        holder.text = None if text is None else _check_xml_text(text)
        for child in children:
            if isinstance(child, bytes | bytearray | memoryview):
                node = parse_xml(bytes(child)).getroot()
            elif isinstance(child, etree._Element):  # a copy with its in-scope namespaces
                node = _reparse(etree.tostring(child, encoding="utf-8", with_tail=False))
            else:
                raise TypeError(f"children must be lxml elements or bytes, not {type(child)}")
            holder.append(node)
        return cls.from_element(holder)

    @property
    def text(self) -> str | None:
        """The text before the first child element (``None`` when there is none)."""
        return self.element().text

    def children(self) -> list[etree._Element]:
        """Copies of the child elements, in order."""
        return [child for child in self.element() if isinstance(child.tag, str)]


class _SeosModel(BaseXmlModel, ns="", nsmap={"": _SEOS_NS}, search_mode=SearchMode.STRICT):
    """Common base: СЕОС namespace, schema order, nothing unknown accepted or dropped."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    _ROOT_TAGS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_xml(  # type: ignore[override]
        cls, data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS
    ) -> Self:
        """Parse ``data`` with :func:`eintegr.xml.parse_xml` and bind it.

        :raises eintegr.errors.XmlError: the bytes are not acceptable XML.
        :raises MessageError: ``MODEL-BIND``, the XML does not fit the model; ``path`` and
            ``line`` say where.
        """
        return cls.from_tree(parse_xml(data, limits=limits))

    @classmethod
    def from_tree(cls, tree: etree._ElementTree | etree._Element) -> Self:
        """Bind an already parsed document or element (see :meth:`from_xml`)."""
        root = _root_of(tree)
        expected = cls._ROOT_TAGS or frozenset({cls._xml_name()})
        if root.tag not in expected:
            raise _wrong_root(root, cls)
        keep_xsi = issubclass(cls, Message)  # a message keeps root xsi: attributes (see _Wire)
        bound = _deserialize(
            cls,
            root,
            skip_root_attributes=_xsi_attributes(root) if keep_xsi else frozenset(),
            on_error=lambda exc: _bind_error(
                cls, root, exc, _SeosModel, union_members=True, name_unknown=True
            ),
        )
        bound._after_bind(root)
        return bound

    @classmethod
    def _xml_name(cls) -> str:
        return _element_name(cls)

    def _after_bind(self, root: etree._Element) -> None:
        """Hook: keep details of the source document after binding."""

    def to_tree(self) -> etree._Element:
        """The model as an lxml element (a new tree)."""
        root = cast(etree._Element, self.to_xml_tree(exclude_none=True))
        for wrapper in root.iter(_q("DocCorrespondentList"), _q("DocAttachmentList")):
            if len(wrapper) == 0:  # an empty list is written as no list at all
                parent = wrapper.getparent()
                assert parent is not None
                parent.remove(wrapper)
        return root

    def to_xml(self, *, pretty: bool = False) -> bytes:  # type: ignore[override]
        """UTF-8 bytes with an XML declaration; the СЕОС namespace is the default one (a parsed
        :class:`Message` keeps the prefix it was written with)."""
        body = etree.tostring(self.to_tree(), encoding="UTF-8", pretty_print=pretty)
        return _DECLARATION + body


def _wrong_root(root: etree._Element, cls: type[_SeosModel]) -> MessageError:
    found = etree.QName(root)
    expected = sorted(etree.QName(t).localname for t in (cls._ROOT_TAGS or {cls._xml_name()}))
    want = " or ".join(f"<{name}>" for name in expected)
    where = f" in namespace {found.namespace}" if found.namespace else " without a namespace"
    return MessageError(
        f"cannot bind {cls.__name__}: the root element is <{found.localname}>{where}; "
        f"expected {want} in namespace {_SEOS_NS}",
        code="MODEL-BIND",
        message_bg=(
            f"{cls.__name__} не може да се прочете: кореновият елемент е <{found.localname}>"
            f"{' в пространството от имена ' + found.namespace if found.namespace else ''}; "
            f"очаква се {want.replace(' or ', ' или ')} в пространството от имена {_SEOS_NS}"
        ),
        path=element_path(root),
        line=root.sourceline,
    )


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


class EntityNode(_SeosModel, tag="Sender"):
    """``EntityNodeType``: a participant (``Sender`` or ``Recipient``)."""

    _ROOT_TAGS = frozenset({_q("Sender"), _q("Recipient")})

    identifier: _XmlText = element(tag="Identifier")
    """ЕИК/БУЛСТАТ of the administration."""
    administrative_body_name: _XmlText = element(tag="AdministrativeBodyName")
    guid: _Guid = element(tag="GUID")
    """The participant's GUID in the register."""


class Header(_SeosModel, tag="Header"):
    """The message header."""

    version: _XmlText = element(tag="Version")
    """Protocol version as written (``"1"`` or ``"1.0"``)."""
    message_type: MessageType = element(tag="MessageType")
    message_date: _DateTime = element(tag="MessageDate")
    """Creation time; time-zone-aware when built, possibly naive when parsed."""
    sender: EntityNode = element(tag="Sender")
    recipient: EntityNode = element(tag="Recipient")
    message_guid: _Guid = element(tag="MessageGUID")


class DocumentNumber(_SeosModel, tag="DocumentNumber"):
    """``DocumentNumberType``: a registration number and date."""

    number: _XmlText = element(tag="DocNumber")
    date: _Date = element(tag="DocDate")


class DocumentURI(_SeosModel, tag="DocumentURI", nsmap={"duri": _DURI_NS}):
    """A РИО document URI (segment 0009-000001); its children are in that segment's namespace."""

    register_index: _PositiveInteger | None = element(tag="RegisterIndex", ns="duri", default=None)
    sequence_number: _PositiveInteger | None = element(
        tag="SequenceNumber", ns="duri", default=None
    )
    receipt_or_signing_date: _Date | None = element(
        tag="ReceiptOrSigningDate", ns="duri", default=None
    )


class DocumentIdentification(_SeosModel, tag="DocID"):
    """``DocumentIdentificationType``: a number *or* a URI (or neither), and the GUID."""

    _ROOT_TAGS = frozenset({_q("DocID"), _q("DocParentID")})

    number: DocumentNumber | None = element(tag="DocumentNumber", default=None)
    uri: DocumentURI | None = element(tag="DocumentURI", default=None)
    document_guid: _Guid = element(tag="DocumentGUID")

    @model_validator(mode="after")
    def _number_or_uri(self) -> Self:
        if self.number is not None and self.uri is not None:
            raise PydanticCustomError("doc_id_choice", _FIXED_ERRORS["doc_id_choice"][0])
        return self


class Correspondent(_SeosModel, tag="Corespondent"):
    """``CorrespondentType`` (the element is spelled ``Corespondent``)."""

    name: _XmlText = element(tag="CorName")
    city: _XmlText = element(tag="CorCity")
    address: _XmlText | None = element(tag="CorAddress", default=None)
    egn: _XmlText | None = element(tag="CorEGN", default=None)
    """ЕГН/ЛНЧ/СлНЧ."""
    id_card: _XmlText | None = element(tag="CorIDCard", default=None)
    bulstat: _XmlText | None = element(tag="CorBULSTAT", default=None)
    """ЕИК/БУЛСТАТ."""
    email: _XmlText | None = element(tag="CorEMail", default=None)
    phone: _XmlText | None = element(tag="CorPhone", default=None)
    mobile_phone: _XmlText | None = element(tag="CorMobilePhone", default=None)
    mol: _XmlText | None = element(tag="CorMOL", default=None)
    """The accountable person (МОЛ)."""
    comment: _XmlText | None = element(tag="CorComment", default=None)
    kind: CorrespondentKind | None = element(tag="CorKind", default=None)


class Attachment(_SeosModel, tag="Attachment"):
    """``AttachmentFileType``; ``content`` is raw bytes (base64 on the wire)."""

    file_name: _XmlText = element(tag="AttFileName")
    content: _Base64Bytes = element(tag="AttBody")
    comment: _XmlText | None = element(tag="AttComment", default=None)
    mime_type: _XmlText = element(tag="AttMIMEType")

    def __repr__(self) -> str:  # never dump megabytes of content
        return (
            f"Attachment(file_name={self.file_name!r}, content=<{len(self.content)} bytes>, "
            f"comment={self.comment!r}, mime_type={self.mime_type!r})"
        )

    @xml_field_validator("content")
    @classmethod
    def _content_from_xml(cls, parent: XmlElementReader, field: str) -> bytes | None:
        taken = _take(parent, _q("AttBody"))
        if taken is None:
            return None
        text = taken[1] or ""
        try:
            return binascii.a2b_base64(text, strict_mode=True)
        except (binascii.Error, ValueError):
            pass
        try:  # xsd:base64Binary allows whitespace (line-wrapped base64)
            return binascii.a2b_base64("".join(text.split()), strict_mode=True)
        except (binascii.Error, ValueError):
            raise _field_error("base64", text[:60]) from None


class ServiceItem(_SeosModel, tag="DocService"):
    """``ServiceItemType``: the administrative service a document applies for."""

    name: _XmlText = element(tag="ServiceName")
    type: _XmlText = element(tag="ServiceType")
    """E.g. "Нормална", "Бърза", "Експресна"."""
    code: _XmlText = element(tag="ServiceCode")
    """Identifier / URI of the service."""


class Document(_SeosModel, tag="Document"):
    """``DocumentType``: the document sent for registration."""

    doc_id: DocumentIdentification = element(tag="DocID")
    parent_id: DocumentIdentification | None = element(tag="DocParentID", default=None)
    """The initiating document of the case file."""
    kind: _XmlText = element(tag="DocKind")
    correspondents: list[Correspondent] = wrapped(
        "DocCorrespondentList", element(tag="Corespondent", default_factory=list)
    )
    attachments: list[Attachment] = wrapped(
        "DocAttachmentList", element(tag="Attachment", default_factory=list)
    )
    about: _XmlText | None = element(tag="DocAbout", default=None)
    service: ServiceItem | None = element(tag="DocService", default=None)
    comment: _XmlText | None = element(tag="DocComment", default=None)
    additional_data: AdditionalData | None = element(tag="DocAddData", default=None)
    required_close_date: _Date | None = element(tag="DocReqDateClose", default=None)
    attention_to: _XmlText | None = element(tag="DocAttentionTo", default=None)
    signature: SignatureXml | None = element(tag="Signature", default=None)
    """The document's own ``ds:Signature`` (opaque; never verified here)."""

    @xml_field_validator("additional_data")
    @classmethod
    def _add_data_from_xml(cls, parent: XmlElementReader, field: str) -> Any:
        return _fragment_from(parent, _q("DocAddData"), AdditionalData)

    @xml_field_validator("signature")
    @classmethod
    def _signature_from_xml(cls, parent: XmlElementReader, field: str) -> Any:
        return _fragment_from(parent, _q("Signature", _DS_NS), SignatureXml)

    @xml_field_serializer("additional_data", "signature")
    def _fragment_to_xml(self, parent: XmlElementWriter, value: Any, field: str) -> None:
        _append_fragment(parent, value)


class DocumentRegistrationRequest(_SeosModel, tag="DocumentRegistrationRequest"):
    """``DocumentRegistrationRequestType``: a document sent for registration."""

    document: Document = element(tag="Document")
    comment: _XmlText = element(tag="Comment")
    """The sender's comment on the sending; required by the schema, may be empty."""


class DocumentStatusRequest(_SeosModel, tag="DocumentStatusRequest"):
    """``DocumentStatusRequestType``: asks for the status of a sent document."""

    doc_id: DocumentIdentification = element(tag="DocID")


class DocumentStatusResponse(_SeosModel, tag="DocumentStatusResponse"):
    """``DocumentStatusResponseType``: a document's status (sent on every change)."""

    doc_id: DocumentIdentification = element(tag="DocID")
    status: DocumentStatus = element(tag="DocRegStatus")
    rejection_reason: _XmlText | None = element(tag="RejectionReason", default=None)
    """Only with ``DS_REJECTED``, where it is required."""
    expect_close_date: _Date | None = element(tag="DocExpectCloseDate", default=None)
    additional_data: AdditionalData | None = element(tag="DocAddData", default=None)

    @xml_field_validator("additional_data")
    @classmethod
    def _add_data_from_xml(cls, parent: XmlElementReader, field: str) -> Any:
        return _fragment_from(parent, _q("DocAddData"), AdditionalData)

    @xml_field_serializer("additional_data")
    def _fragment_to_xml(self, parent: XmlElementWriter, value: Any, field: str) -> None:
        _append_fragment(parent, value)


class ErrorMessage(_SeosModel, tag="Error"):
    """``ErrorMessageType`` (element ``Error``): an error in processing a message."""

    message_guid: _Guid | None = element(tag="MessageGUID", default=None)
    """The GUID of the message that caused the error."""
    error_type: ErrorKind = element(tag="ErrorType")
    description: _XmlText = element(tag="ErrorDescription")


MessageBody: TypeAlias = Union[  # noqa: UP007 - pydantic-xml binds this union by element name
    DocumentRegistrationRequest, DocumentStatusRequest, DocumentStatusResponse, ErrorMessage
]
"""The content of ``Body``: one of the four body models."""

_BODY_TYPES: Final[dict[type[_SeosModel], MessageType]] = {
    DocumentRegistrationRequest: MessageType.MSG_DocumentRegistrationRequest,
    DocumentStatusRequest: MessageType.MSG_DocumentStatusRequest,
    DocumentStatusResponse: MessageType.MSG_DocumentStatusResponse,
    ErrorMessage: MessageType.MSG_Error,
}


@dataclass(frozen=True, slots=True)
class _Wire:
    """Details of a parsed message's text that the model does not hold as values."""

    nsmap: dict[str | None, str]
    attributes: dict[str, str]
    message_date: str | None


class Message(_SeosModel, tag="Message"):
    """A СЕОС message: ``Header``, ``Body`` and an optional enveloped ``ds:Signature``.

    Equality compares the values only (not how a parsed message was written).
    """

    header: Header = element(tag="Header")
    body: MessageBody = wrapped("Body")
    signature: SignatureXml | None = element(tag="Signature", default=None)
    """The message's enveloped ``ds:Signature`` (opaque; never verified here)."""

    _wire: _Wire | None = PrivateAttr(default=None)

    @property
    def body_type(self) -> MessageType:
        """The ``MessageType`` the body implies (compare with ``header.message_type``)."""
        return _BODY_TYPES[type(self.body)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseXmlModel):
            return NotImplemented
        return type(other) is type(self) and self.__dict__ == other.__dict__

    @xml_field_validator("signature")
    @classmethod
    def _signature_from_xml(cls, parent: XmlElementReader, field: str) -> Any:
        return _fragment_from(parent, _q("Signature", _DS_NS), SignatureXml)

    @xml_field_serializer("signature")
    def _signature_to_xml(self, parent: XmlElementWriter, value: Any, field: str) -> None:
        _append_fragment(parent, value)

    def _after_bind(self, root: etree._Element) -> None:
        header = _child(root, _q("Header"))
        date_node = None if header is None else _child(header, _q("MessageDate"))
        date_text = None if date_node is None else date_node.text
        attributes = {str(k): str(v) for k, v in root.attrib.items()}
        self._wire = _Wire(dict(root.nsmap), attributes, date_text)

    def to_tree(self) -> etree._Element:
        """The message as an lxml element. A parsed message keeps its root namespace
        declarations (so also its prefix for the СЕОС namespace, if it used one), its root
        ``xsi:`` attributes and its exact ``MessageDate`` text."""
        root = super().to_tree()
        wire = self._wire
        if wire is None:
            return root
        if wire.message_date is not None:
            header = root[0]
            date_node = header[2]
            assert date_node.tag == _q("MessageDate")
            if _same_instant_and_zone(wire.message_date, self.header.message_date):
                date_node.text = wire.message_date
        nsmap = dict(wire.nsmap)
        if _SEOS_NS not in nsmap.values():
            nsmap[None] = _SEOS_NS
        if nsmap != root.nsmap or wire.attributes:
            rebuilt = etree.Element(root.tag, attrib=wire.attributes, nsmap=nsmap)
            rebuilt.text = root.text
            rebuilt.extend(list(root))
            root = rebuilt
        return root


def _same_instant_and_zone(text: str, value: datetime) -> bool:
    try:
        parsed = _parse_xsd_datetime(text)
    except ValueError:
        return False
    if (parsed.tzinfo is None) != (value.tzinfo is None):
        return False
    return parsed == value and parsed.utcoffset() == value.utcoffset()


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------


_T = TypeVar("_T")


def _checked(build: Callable[[], _T]) -> _T:
    try:
        return build()
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise _build_error(
            "MODEL-INVALID",
            f"invalid message content at {where or 'the model'}: {first['msg']}",
            f"невалидно съдържание на съобщението в {where or 'модела'}: {first['msg']}",
        ) from exc


def _message(
    sender: EntityNode,
    recipient: EntityNode,
    body: MessageBody,
    message_guid: Guid | None,
    message_date: datetime | None,
) -> Message:
    when = _aware(message_date, "message_date")
    if type(body) not in _BODY_TYPES:
        raise TypeError(f"body must be one of the four СЕОС bodies, not {type(body).__name__}")
    return _checked(
        lambda: Message(
            header=Header(
                version=_VERSION,
                message_type=_BODY_TYPES[type(body)],
                message_date=when,
                sender=sender,
                recipient=recipient,
                message_guid=message_guid if message_guid is not None else Guid.new(),
            ),
            body=body,
        )
    )


def registration_request(
    *,
    sender: EntityNode,
    recipient: EntityNode,
    document: Document,
    comment: str = "",
    message_guid: Guid | None = None,
    message_date: datetime | None = None,
) -> Message:
    """A ``MSG_DocumentRegistrationRequest`` sending ``document`` from ``sender`` to
    ``recipient`` (new ``MessageGUID``, ``MessageDate`` now, unless given)."""
    body = _checked(lambda: DocumentRegistrationRequest(document=document, comment=comment))
    return _message(sender, recipient, body, message_guid, message_date)


def status_request(
    *,
    sender: EntityNode,
    recipient: EntityNode,
    document_id: DocumentIdentification,
    message_guid: Guid | None = None,
    message_date: datetime | None = None,
) -> Message:
    """A ``MSG_DocumentStatusRequest`` asking about the document ``document_id``."""
    body = _checked(lambda: DocumentStatusRequest(doc_id=document_id))
    return _message(sender, recipient, body, message_guid, message_date)


def _status_body(
    document_id: DocumentIdentification,
    status: DocumentStatus,
    rejection_reason: str | None,
    expect_close_date: date | None,
    additional_data: AdditionalData | None,
) -> DocumentStatusResponse:
    status = DocumentStatus(status)
    if status is DocumentStatus.DS_REJECTED and not (rejection_reason or "").strip():
        raise _build_error(
            "MODEL-REASON-REQUIRED",
            "a DS_REJECTED status needs a rejection reason",
            "статус DS_REJECTED изисква причина за отказа (RejectionReason)",
        )
    if status is not DocumentStatus.DS_REJECTED and rejection_reason is not None:
        raise _build_error(
            "MODEL-REASON-UNEXPECTED",
            f"a rejection reason goes only with DS_REJECTED, not with {status.value}",
            f"причина за отказ се посочва само при DS_REJECTED, не при {status.value}",
        )
    return _checked(
        lambda: DocumentStatusResponse(
            doc_id=document_id,
            status=status,
            rejection_reason=rejection_reason,
            expect_close_date=expect_close_date,
            additional_data=additional_data,
        )
    )


def status_response(
    *,
    sender: EntityNode,
    recipient: EntityNode,
    document_id: DocumentIdentification,
    status: DocumentStatus,
    rejection_reason: str | None = None,
    expect_close_date: date | None = None,
    additional_data: AdditionalData | None = None,
    message_guid: Guid | None = None,
    message_date: datetime | None = None,
) -> Message:
    """A ``MSG_DocumentStatusResponse``; ``DS_REJECTED`` needs ``rejection_reason``, and
    only ``DS_REJECTED`` takes one."""
    body = _status_body(document_id, status, rejection_reason, expect_close_date, additional_data)
    return _message(sender, recipient, body, message_guid, message_date)


def error_message(
    *,
    sender: EntityNode,
    recipient: EntityNode,
    error_type: ErrorKind,
    description: str,
    about_message_guid: Guid | None = None,
    message_guid: Guid | None = None,
    message_date: datetime | None = None,
) -> Message:
    """A ``MSG_Error``; ``about_message_guid`` is the GUID of the message that caused it."""
    body = _checked(
        lambda: ErrorMessage(
            message_guid=about_message_guid, error_type=error_type, description=description
        )
    )
    return _message(sender, recipient, body, message_guid, message_date)


def reply_to(
    incoming: Message,
    body: MessageBody,
    *,
    message_guid: Guid | None = None,
    message_date: datetime | None = None,
) -> Message:
    """A message answering ``incoming``: sender and recipient swapped, the ``MessageType``
    implied by ``body``, a new ``MessageGUID`` and ``MessageDate``."""
    if not isinstance(incoming, Message):
        raise TypeError(f"incoming must be a Message, not {type(incoming).__name__}")
    if isinstance(body, DocumentStatusResponse):
        body = _status_body(
            body.doc_id,
            body.status,
            body.rejection_reason,
            body.expect_close_date,
            body.additional_data,
        )
    return _message(
        incoming.header.recipient.model_copy(deep=True),
        incoming.header.sender.model_copy(deep=True),
        body,
        message_guid,
        message_date,
    )


def new_document(
    *,
    kind: str,
    number: str | None = None,
    date: date | None = None,
    uri: DocumentURI | None = None,
    document_guid: Guid | None = None,
    parent: DocumentIdentification | None = None,
    correspondents: Iterable[Correspondent] = (),
    attachments: Iterable[Attachment] = (),
    about: str | None = None,
    service: ServiceItem | None = None,
    comment: str | None = None,
    additional_data: AdditionalData | None = None,
    required_close_date: date | None = None,
    attention_to: str | None = None,
) -> Document:
    """A :class:`Document` with a new ``DocumentGUID`` (unless given).

    ``number`` and ``date`` (the registration number and date) go together; ``uri`` is the
    alternative to them. ``parent`` identifies the initiating document of the case file.
    """
    if (number is None) != (date is None):
        raise _build_error(
            "MODEL-DOC-NUMBER",
            "a document number needs its registration date and a date needs a number",
            "номерът на документа изисква дата на регистрация и датата изисква номер",
        )
    if number is not None and uri is not None:
        raise _build_error(
            "MODEL-DOC-NUMBER",
            "a document is identified by a number or by a URI, not both",
            "документът се идентифицира с номер или с УРИ, не с двете",
        )
    return _checked(
        lambda: Document(
            doc_id=DocumentIdentification(
                number=None if number is None else DocumentNumber(number=number, date=date),
                uri=uri,
                document_guid=document_guid if document_guid is not None else Guid.new(),
            ),
            parent_id=parent,
            kind=kind,
            correspondents=list(correspondents),
            attachments=list(attachments),
            about=about,
            service=service,
            comment=comment,
            additional_data=additional_data,
            required_close_date=required_close_date,
            attention_to=attention_to,
        )
    )
