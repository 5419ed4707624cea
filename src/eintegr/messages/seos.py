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
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
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
    get_args,
    get_origin,
)

import pydantic
from lxml import etree
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    PrivateAttr,
    Strict,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema
from pydantic_xml import BaseXmlModel, element, wrapped, xml_field_serializer, xml_field_validator
from pydantic_xml.element.element import SearchMode, XmlElementReader, XmlElementWriter
from pydantic_xml.element.native.lxml import XmlElement as _PxElement
from pydantic_xml.fields import extract_field_xml_entity_info

from eintegr.errors import EintegrError, MessageError
from eintegr.identifiers import Guid
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
_XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"

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
# XSD lexical forms
# ---------------------------------------------------------------------------------------------


class _LexicalError(ValueError):
    """A value that is not in the lexical space of its XSD type (English + Bulgarian)."""

    def __init__(self, en: str, bg: str) -> None:
        super().__init__(en)
        self.message_bg = bg


def _shown(value: str, limit: int = 60) -> str:
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "…"


_XML_WS: Final = " \t\n\r"
_DATE_RE: Final = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_DATETIME_RE: Final = re.compile(
    r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_INTEGER_RE: Final = re.compile(r"[+-]?[0-9]+")
_BAD_XML_CHAR: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _zone(text: str | None, whole: str) -> timezone | None:
    if text is None:
        return None
    if text == "Z":
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if minutes > 59 or hours > 14 or (hours == 14 and minutes):
        raise _LexicalError(
            f"{_shown(whole)} has an impossible time-zone offset {text}",
            f"{_shown(whole)} съдържа невъзможно отместване на часовата зона {text}",
        )
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


def _year(text: str, whole: str) -> int:
    year = int(text)
    if not 1 <= year <= 9999 or len(text) > 4:  # (more than four digits: no leading zeros)
        raise _LexicalError(
            f"{_shown(whole)}: the year must be between 0001 and 9999",
            f"{_shown(whole)}: годината трябва да е между 0001 и 9999",
        )
    return year


def _parse_xsd_date(text: str) -> date:
    """An ``xsd:date`` (``2021-08-19``; a time-zone suffix is accepted and dropped)."""
    value = text.strip(_XML_WS)
    match = _DATE_RE.fullmatch(value)
    if match is None:
        raise _LexicalError(
            f"{_shown(text)} is not an xsd:date (YYYY-MM-DD)",
            f"{_shown(text)} не е дата xsd:date (ГГГГ-ММ-ДД)",
        )
    _zone(match[4], value)
    try:
        return date(_year(match[1], value), int(match[2]), int(match[3]))
    except ValueError as exc:
        if isinstance(exc, _LexicalError):
            raise
        raise _LexicalError(
            f"{_shown(text)} is not a real date",
            f"{_shown(text)} не е съществуваща дата",
        ) from None


def _parse_xsd_datetime(text: str) -> datetime:
    """An ``xsd:dateTime``; fractions beyond microseconds (.NET writes 7 digits) are cut."""
    value = text.strip(_XML_WS)
    match = _DATETIME_RE.fullmatch(value)
    if match is None:
        raise _LexicalError(
            f"{_shown(text)} is not an xsd:dateTime (YYYY-MM-DDThh:mm:ss[.fff][zone])",
            f"{_shown(text)} не е дата и час xsd:dateTime (ГГГГ-ММ-ДДTчч:мм:сс[.ддд][зона])",
        )
    tz = _zone(match[8], value)
    hour, minute, second = int(match[4]), int(match[5]), int(match[6])
    fraction = match[7] or ""
    end_of_day = hour == 24 and minute == 0 and second == 0 and not fraction.strip("0")
    try:
        result = datetime(
            _year(match[1], value),
            int(match[2]),
            int(match[3]),
            0 if end_of_day else hour,
            minute,
            second,
            int((fraction + "000000")[:6]),
            tzinfo=tz,
        )
    except ValueError as exc:
        if isinstance(exc, _LexicalError):
            raise
        raise _LexicalError(
            f"{_shown(text)} is not a real date and time",
            f"{_shown(text)} не е съществуващ момент (дата и час)",
        ) from None
    if not end_of_day:
        return result
    try:
        return result + timedelta(days=1)
    except OverflowError:
        raise _LexicalError(
            f"{_shown(text)} is beyond the year 9999",
            f"{_shown(text)} е след 9999 година",
        ) from None


def _parse_integer(text: str) -> int:
    value = text.strip(_XML_WS)
    try:
        if _INTEGER_RE.fullmatch(value) is None:
            raise ValueError(value)
        return int(value)  # Python refuses absurdly long digit strings with ValueError
    except ValueError:
        raise _LexicalError(
            f"{_shown(text)} is not an xsd:integer",
            f"{_shown(text)} не е цяло число xsd:integer",
        ) from None


# Error kinds raised while binding, and how to explain them again afterwards: pydantic-xml
# keeps an error's type, input and English text, but not its context, so the Bulgarian text
# is recovered by re-running the check on the input.
_RECHECKS: Final[dict[str, Callable[[str], object]]] = {}


def _lexical(kind: str, parse: Callable[[str], object]) -> Any:
    """A before-validator applying ``parse`` to strings (XML text), passing the rest on."""
    _RECHECKS[kind] = parse

    def validate(value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return parse(value)
        except (_LexicalError, EintegrError) as exc:
            raise PydanticCustomError(kind, str(exc)) from None

    return BeforeValidator(validate)


def _check_xml_text(value: str) -> str:
    bad = _BAD_XML_CHAR.search(value)
    if bad is not None:
        raise _LexicalError(
            f"the text contains the character U+{ord(bad[0]):04X}, which XML 1.0 cannot carry",
            f"текстът съдържа знака U+{ord(bad[0]):04X}, който не е допустим в XML 1.0",
        )
    return value


def _format_datetime(value: datetime) -> str:
    """The ``xsd:dateTime`` text: microseconds when present, ``Z`` for UTC, ``±hh:mm``; an
    offset the XSD cannot express (seconds, beyond ±14:00) is converted to UTC."""
    offset = value.utcoffset()
    if offset is not None and (offset % timedelta(minutes=1) or abs(offset) > timedelta(hours=14)):
        try:
            value, offset = value.astimezone(UTC), timedelta(0)
        except OverflowError:
            raise ValueError(f"{value!r} cannot be written as an xsd:dateTime") from None
    text = value.replace(tzinfo=None).isoformat()
    if offset is None:
        return text
    if not offset:
        return text + "Z"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{text}{'-' if offset < timedelta(0) else '+'}{minutes // 60:02d}:{minutes % 60:02d}"


def _b64encode(value: bytes) -> str:
    return binascii.b2a_base64(value, newline=False).decode("ascii")


def _b64decode_json(value: object, info: pydantic.ValidationInfo) -> object:
    """In JSON (where bytes are written as base64) decode base64 text; elsewhere pass on."""
    if info.mode == "json" and isinstance(value, str):
        try:
            return binascii.a2b_base64(value, strict_mode=True)
        except (binascii.Error, ValueError):
            raise PydanticCustomError("base64", _FIXED_ERRORS["base64"][0]) from None
    return value


_XmlText = Annotated[str, Strict(), _lexical("xml_text", _check_xml_text)]
_Date = Annotated[
    date,
    Strict(),
    _lexical("xsd_date", _parse_xsd_date),
    PlainSerializer(date.isoformat, when_used="json"),
]
_DateTime = Annotated[
    datetime,
    Strict(),
    _lexical("xsd_datetime", _parse_xsd_datetime),
    PlainSerializer(_format_datetime, when_used="json"),
]
_PositiveInteger = Annotated[int, Strict(), Field(ge=1), _lexical("xsd_integer", _parse_integer)]
_Base64Bytes = Annotated[
    bytes,
    Strict(),
    BeforeValidator(_b64decode_json),
    PlainSerializer(_b64encode, when_used="json"),
]
_Guid = Annotated[Guid, _lexical("guid", Guid.parse)]

# Errors with a fixed text: kind -> (English, Bulgarian).
_FIXED_ERRORS: Final = {
    "base64": ("the content is not valid base64", "съдържанието не е валидно base64"),
    "doc_id_choice": (
        "a document is identified by DocumentNumber or by DocumentURI, not both",
        "документът се идентифицира с DocumentNumber или с DocumentURI, не с двете",
    ),
}


# ---------------------------------------------------------------------------------------------
# Opaque XML values
# ---------------------------------------------------------------------------------------------

_INTERNAL_DEPTH: Final = 256


def _reparse(xml: bytes) -> etree._Element:
    """Parse XML that lxml serialized from an already accepted tree (size is not limited
    again; the depth is, to libxml2's own default)."""
    limits = XmlLimits(max_bytes=max(len(xml), DEFAULT_LIMITS.max_bytes), max_depth=_INTERNAL_DEPTH)
    return parse_xml(xml, limits=limits).getroot()


class _XmlFragment:
    """An immutable XML element kept as its serialized bytes — lossless, with every namespace
    declaration in scope where it stood — and compared by value: two fragments are equal when
    their canonical forms (C14N 2.0, comments kept, prefixes rewritten) are."""

    __slots__ = ("_canonical", "_xml")
    _xml: bytes
    _canonical: bytes | None
    _ROOT: ClassVar[str]
    _ROOT_DISPLAY: ClassVar[str]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __init__(self, xml: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> None:
        """Take the element from ``xml`` (parsed with :func:`eintegr.xml.parse_xml`).

        :raises eintegr.errors.XmlError: ``xml`` is not acceptable XML.
        :raises MessageError: the root element is not the expected one.
        """
        root = parse_xml(xml, limits=limits).getroot()
        self._check_root(root)
        object.__setattr__(self, "_xml", etree.tostring(root, encoding="utf-8"))
        object.__setattr__(self, "_canonical", None)

    @classmethod
    def from_element(cls, node: etree._Element) -> Self:
        """Keep a copy of ``node`` (its tail is not part of the value)."""
        cls._check_root(node)
        self = cls.__new__(cls)
        object.__setattr__(self, "_xml", etree.tostring(node, encoding="utf-8", with_tail=False))
        object.__setattr__(self, "_canonical", None)
        return self

    @classmethod
    def _check_root(cls, node: etree._Element) -> None:
        if node.tag != cls._ROOT:
            found = node.tag if isinstance(node.tag, str) else "a non-element node"
            raise MessageError(
                f"{cls.__name__} needs a {cls._ROOT_DISPLAY} element, not {found}",
                code="MODEL-FRAGMENT",
                message_bg=f"{cls.__name__} изисква елемент {cls._ROOT_DISPLAY}, а не {found}",
            )

    @property
    def xml(self) -> bytes:
        """The element serialized as UTF-8 (no XML declaration)."""
        return self._xml

    def element(self) -> etree._Element:
        """A fresh, independent copy of the element."""
        return _reparse(self._xml)

    def canonical(self) -> bytes:
        """The form equality and hashing use: C14N 2.0 with comments, prefixes rewritten
        (so neither prefixes nor unused namespace declarations matter)."""
        if self._canonical is None:
            text = etree.canonicalize(self.element(), with_comments=True, rewrite_prefixes=True)
            object.__setattr__(self, "_canonical", text.encode("utf-8"))
        assert self._canonical is not None
        return self._canonical

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _XmlFragment)
        return self._xml == other._xml or self.canonical() == other.canonical()

    def __hash__(self) -> int:
        return hash(self.canonical())

    def __repr__(self) -> str:
        text = self._xml.decode("utf-8", "replace")
        return f"{type(self).__name__}({text[:80]!r}{'…' if len(text) > 80 else ''})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._xml,))

    @classmethod
    def _from_json(cls, text: str) -> Self:
        return cls(text.encode("utf-8"))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """In python mode an instance; in JSON the element's XML text."""
        return core_schema.json_or_python_schema(
            json_schema=core_schema.no_info_after_validator_function(
                cls._from_json, core_schema.str_schema()
            ),
            python_schema=core_schema.is_instance_schema(cls),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.xml.decode("utf-8"), when_used="json"
            ),
        )


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


# ---------------------------------------------------------------------------------------------
# Binding machinery
# ---------------------------------------------------------------------------------------------


class _Node(_PxElement):
    """pydantic-xml's element mirror, remembering the lxml element it mirrors."""

    native: etree._Element | None = None

    @classmethod
    def mirror(cls, root: etree._Element, *, skip_root_attributes: frozenset[str]) -> _Node:
        """Mirror ``root`` without recursion; opaque elements are mirrored without content."""
        top = cls._one(root, skip_root_attributes)
        stack: list[tuple[etree._Element, _Node]] = [(root, top)]
        while stack:
            source, node = stack.pop()
            if source.tag in _OPAQUE_TAGS:
                continue
            children = node._state.elements
            for child in source:
                if isinstance(child.tag, str):
                    mirrored = cls._one(child, frozenset())
                    children.append(mirrored)
                    stack.append((child, mirrored))
                elif child.tail:  # text after a comment/PI belongs to the surrounding text
                    if children:
                        previous = children[-1]._state
                        previous.tail = (previous.tail or "") + child.tail
                    else:
                        node._state.text = (node._state.text or "") + child.tail
        return top

    @classmethod
    def _one(cls, source: etree._Element, skip: frozenset[str]) -> _Node:
        attributes = {str(k): str(v) for k, v in source.attrib.items() if k not in skip}
        node = cls(
            tag=str(source.tag),
            text=source.text,
            tail=source.tail,
            attributes=attributes or None,
            sourceline=source.sourceline or -1,
        )
        node.native = source
        return node

    def create_snapshot(self) -> _Node:
        """A copy that keeps the mirrored element (pydantic-xml snapshots a union's input)."""
        snapshot = super().create_snapshot()
        assert isinstance(snapshot, _Node)
        snapshot.native = self.native
        return snapshot

    def get_unbound(self, path: Any = ()) -> list[tuple[Any, str | None, Any]]:
        """What binding left unused: text, attributes, and (unlike pydantic-xml's own check,
        which misses empty ones) every child element the strict search never reached. Each
        entry's value is a :class:`_Stray` naming the source node."""
        state = self._state
        native = self.native
        assert native is not None
        result: list[tuple[Any, str | None, Any]] = []
        for text in (state.text, state.tail):
            if text and text.strip(_XML_WS):
                result.append((path, None, _Stray(native, "text", text.strip(_XML_WS))))
        for name in state.attrib or {}:
            result.append((path, name, _Stray(native, "attribute", name)))
        for index, child in enumerate(state.elements):
            assert isinstance(child, _Node)
            assert child.native is not None
            if index >= state.next_element_idx:
                result.append(((*path, child), None, _Stray(child.native, "element", "")))
            else:
                result.extend(child.get_unbound((*path, child)))
        return result


@dataclass(frozen=True, slots=True)
class _Stray:
    """Source content that binding did not use (the input of an ``extra_forbidden`` error)."""

    node: etree._Element
    what: str  # "element", "attribute" or "text"
    detail: str  # the attribute's name or the text


class _Payload(_PxElement):
    """An element of the output tree that is a copy of an opaque fragment."""

    fragment: _XmlFragment

    def to_native(self) -> etree._Element:
        return self.fragment.element()


_OPAQUE_TAGS: Final = frozenset({_q("Signature", _DS_NS), _q("DocAddData")})


def _field_error(kind: str, value: object) -> pydantic.ValidationError:
    return pydantic.ValidationError.from_exception_data(
        "xml",
        [
            InitErrorDetails(
                type=PydanticCustomError(kind, _FIXED_ERRORS[kind][0]), loc=(), input=value
            )
        ],
    )


def _take(parent: XmlElementReader, tag: str) -> tuple[_Node, str | None] | None:
    """Consume the next child ``tag`` of ``parent`` (strict order) with all its content;
    return it and its text."""
    node = parent.pop_element(tag, SearchMode.STRICT)
    if node is None:
        return None
    assert isinstance(node, _Node)
    text = node.pop_text()
    node.pop_attributes()
    node.pop_elements()
    return node, text


def _fragment_from(parent: XmlElementReader, tag: str, kind: type[_XmlFragment]) -> Any:
    taken = _take(parent, tag)
    if taken is None:
        return None
    node = taken[0]
    if node.native is None:  # pragma: no cover - only our mirror is ever bound
        raise AssertionError("an opaque element without its source")
    return kind.from_element(node.native)


def _append_fragment(parent: XmlElementWriter, value: _XmlFragment | None) -> None:
    if value is None:
        return
    payload = _Payload(tag=value._ROOT)
    payload.fragment = value
    parent.append_element(payload)


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
        root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
        if not isinstance(root, etree._Element) or not isinstance(root.tag, str):
            raise TypeError("from_tree() takes an lxml element or element tree")
        expected = cls._ROOT_TAGS or frozenset({cls._xml_name()})
        if root.tag not in expected:
            raise _wrong_root(root, cls)
        skip = frozenset(k for k in root.attrib if str(k).startswith(f"{{{_XSI_NS}}}"))
        keep_xsi = issubclass(cls, Message)  # a message keeps root xsi: attributes (see _Wire)
        node = _Node.mirror(root, skip_root_attributes=skip if keep_xsi else frozenset())
        serializer = cls.__xml_serializer__
        assert serializer is not None
        try:
            bound = serializer.deserialize(
                node, context=None, sourcemap={}, loc=(), empty_as_string=True
            )
        except pydantic.ValidationError as exc:
            raise _bind_error(cls, root, exc) from None
        assert isinstance(bound, cls)
        bound._after_bind(root)
        return bound

    @classmethod
    def _xml_name(cls) -> str:
        serializer = cls.__xml_serializer__
        assert serializer is not None
        return serializer.element_name

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
# Binding errors: a pydantic error location -> an element of the source document
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    tags: tuple[str, ...]  # local names to descend (a wrapper, then the element)
    item_tag: str | None  # for a wrapped list: the item's local name
    models: tuple[type[_SeosModel], ...]


def _models_in(annotation: Any) -> tuple[type[_SeosModel], ...]:
    if isinstance(annotation, type) and issubclass(annotation, _SeosModel):
        return (annotation,)
    found: list[type[_SeosModel]] = []
    for arg in get_args(annotation):
        found.extend(_models_in(arg))
    return tuple(found)


def _step(model: type[_SeosModel], field: str) -> _Step:
    info = model.model_fields[field]
    entity = extract_field_xml_entity_info(info)
    models = _models_in(info.annotation)
    if entity is None or entity.path is None:
        return _Step((), None, models)
    if entity.wrapped is not None:
        inner = entity.wrapped.path
        if get_origin(info.annotation) is list:
            return _Step((entity.path,), inner, models)
        return _Step((entity.path,) if inner is None else (entity.path, inner), None, models)
    return _Step((entity.path,), None, models)


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _child(node: etree._Element, name: str) -> etree._Element | None:
    clark = name.startswith("{")
    for child in node:
        if isinstance(child.tag, str) and (child.tag == name if clark else _local(child) == name):
            return child
    return None


def _locate(
    root: etree._Element, model: type[_SeosModel], loc: tuple[int | str, ...]
) -> tuple[etree._Element, str | None]:
    """The deepest element of ``root`` that a pydantic error location reaches, and the local
    name of the element missing below it, if any."""
    node = root
    models: tuple[type[_SeosModel], ...] = (model,)
    list_tag: str | None = None
    for item in loc:
        if isinstance(item, int):
            if list_tag is None:
                return node, None
            items = [c for c in node if isinstance(c.tag, str) and _local(c) == list_tag]
            if item >= len(items):
                return node, list_tag
            node, list_tag = items[item], None
            continue
        current = next((m for m in models if item in m.model_fields), None)
        if current is None:  # a union member's class name (the body)
            member = next((m for m in models if m.__name__ == item), None)
            if member is None:
                return node, None
            name = etree.QName(member._xml_name()).localname
            found = _child(node, name)
            if found is None:
                return node, name
            node, models = found, (member,)
            continue
        step = _step(current, item)
        for tag in step.tags:
            found = _child(node, tag)
            if found is None:
                return node, tag
            node = found
        models, list_tag = step.models, step.item_tag
    return node, None


def _describe(error: Any, missing: str | None) -> tuple[str, str]:
    """English and Bulgarian text for one pydantic error located at ``missing``."""
    kind, value = error["type"], error["input"]
    if kind == "missing":
        if missing is None:  # the element is there, but what it holds is not recognised
            return "the element has no recognised content", "елементът няма разпознато съдържание"
        return (
            f"the required element <{missing}> is missing",
            f"липсва задължителният елемент <{missing}>",
        )
    if kind in _FIXED_ERRORS:
        return _FIXED_ERRORS[kind]
    if kind in _RECHECKS and isinstance(value, str):
        try:
            _RECHECKS[kind](value)
        except (_LexicalError, EintegrError) as exc:
            return str(exc), exc.message_bg
    text = str((error.get("ctx") or {}).get("orig", error["msg"]))
    if kind == "enum":
        return (
            f"{_shown(str(value), 40)} is not an allowed value: {text}",
            f"{_shown(str(value), 40)} не е от допустимите стойности",
        )
    return (
        f"invalid value {_shown(str(value), 40)}: {text}",
        f"невалидна стойност {_shown(str(value), 40)}",
    )


def _describe_stray(stray: _Stray) -> tuple[str, str, str]:
    """Path, English and Bulgarian text for unused source content."""
    path = element_path(stray.node)
    if stray.what == "attribute":
        name = etree.QName(stray.detail).localname
        return f"{path}/@{name}", f"unexpected attribute {name}", f"неочакван атрибут {name}"
    if stray.what == "text":
        shown = _shown(stray.detail, 40)
        return path, f"unexpected text {shown}", f"неочакван текст {shown}"
    name = etree.QName(stray.node).localname
    return path, f"unexpected element <{name}>", f"неочакван елемент <{name}>"


def _bind_error(
    model: type[_SeosModel], root: etree._Element, exc: pydantic.ValidationError
) -> MessageError:
    errors = exc.errors()
    first = errors[0]
    if isinstance(first["input"], _Stray):
        node = first["input"].node
        path, en, bg = _describe_stray(first["input"])
    else:
        node, missing = _locate(root, model, tuple(first["loc"]))
        unknown = next((c for c in node if isinstance(c.tag, str)), None)
        if first["type"] == "missing" and missing is None and unknown is not None:
            # e.g. <Body><Unknown/></Body>: name the culprit
            node = unknown
            path, en, bg = _describe_stray(_Stray(unknown, "element", ""))
        else:
            en, bg = _describe(first, missing)
            path = element_path(node) + (f"/{missing}" if missing is not None else "")
    more = len(errors) - 1
    return MessageError(
        f"cannot bind {model.__name__}: {en} at {path}"
        + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""),
        code="MODEL-BIND",
        message_bg=f"{model.__name__} не може да се прочете: {bg} в {path}"
        + (f" (и още {more} проблем{'а' if more > 1 else ''})" if more else ""),
        path=path,
        line=node.sourceline,
    )


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------


def _build_error(code: str, en: str, bg: str) -> MessageError:
    return MessageError(en, code=code, message_bg=bg)


def _aware(value: datetime | None, what: str) -> datetime:
    if value is None:
        return datetime.now().astimezone()
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _build_error(
            "MODEL-NAIVE-DATETIME",
            f"{what} must be time-zone-aware (a naive datetime is ambiguous)",
            f"{what} трябва да съдържа часова зона (дата и час без зона са двусмислени)",
        )
    return value


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
