"""Binding machinery shared by the СЕОС and РИО pydantic-xml models (private).

XSD lexical value types with English + Bulgarian errors, the lossless opaque XML value
(:class:`_XmlFragment`), the source mirror that remembers lxml elements and catches unbound
content (:class:`_Node`), the helpers that map a pydantic error back to an element of the
source document, and the small helpers the builders share.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any, ClassVar, Final, Self, TypeVar, get_args, get_origin

import pydantic
from lxml import etree
from pydantic import BeforeValidator, Field, GetCoreSchemaHandler, PlainSerializer, Strict
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema
from pydantic_xml import BaseXmlModel
from pydantic_xml.element.element import SearchMode, XmlElementReader, XmlElementWriter
from pydantic_xml.element.native.lxml import XmlElement as _PxElement
from pydantic_xml.fields import extract_field_xml_entity_info

from eintegr.errors import EintegrError, MessageError
from eintegr.schemas import SEOS_NS, XMLDSIG_NS
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, element_path, parse_xml

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


# Elements kept as opaque values (their content is not mirrored).
_OPAQUE_TAGS: Final = frozenset({f"{{{XMLDSIG_NS}}}Signature", f"{{{SEOS_NS}}}DocAddData"})


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


_XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"
_M = TypeVar("_M", bound=BaseXmlModel)


def _root_of(tree: etree._ElementTree | etree._Element) -> etree._Element:
    """The root element of a parsed document or element; anything else is a ``TypeError``."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    if not isinstance(root, etree._Element) or not isinstance(root.tag, str):
        raise TypeError("from_tree() takes an lxml element or element tree")
    return root


def _xsi_attributes(root: etree._Element) -> frozenset[str]:
    """The names of ``root``'s ``xsi:`` attributes."""
    return frozenset(k for k in root.attrib if str(k).startswith(f"{{{_XSI_NS}}}"))


def _deserialize(
    model: type[_M],
    root: etree._Element,
    *,
    skip_root_attributes: frozenset[str],
    on_error: Callable[[pydantic.ValidationError], MessageError],
) -> _M:
    """Bind ``root`` (mirrored without ``skip_root_attributes``) to ``model``; a pydantic error
    is raised as ``on_error(error)``."""
    node = _Node.mirror(root, skip_root_attributes=skip_root_attributes)
    serializer = model.__xml_serializer__
    assert serializer is not None
    try:
        bound = serializer.deserialize(
            node, context=None, sourcemap={}, loc=(), empty_as_string=True
        )
    except pydantic.ValidationError as exc:
        raise on_error(exc) from None
    assert isinstance(bound, model)
    return bound


# ---------------------------------------------------------------------------------------------
# Binding errors: a pydantic error location -> an element of the source document
# ---------------------------------------------------------------------------------------------


def _element_name(model: type[BaseXmlModel]) -> str:
    """The element name (Clark notation) ``model`` is written with by default."""
    serializer = model.__xml_serializer__
    assert serializer is not None
    return serializer.element_name


@dataclass(frozen=True, slots=True)
class _Step:
    tags: tuple[str, ...]  # local names to descend (a wrapper, then the element)
    item_tag: str | None  # for a list: the item's local name
    models: tuple[type[BaseXmlModel], ...]


def _models_in(annotation: Any, base: type[BaseXmlModel]) -> tuple[type[BaseXmlModel], ...]:
    if isinstance(annotation, type) and issubclass(annotation, base):
        return (annotation,)
    found: list[type[BaseXmlModel]] = []
    for arg in get_args(annotation):
        found.extend(_models_in(arg, base))
    return tuple(found)


def _step(model: type[BaseXmlModel], field: str, base: type[BaseXmlModel]) -> _Step:
    info = model.model_fields[field]
    entity = extract_field_xml_entity_info(info)
    models = _models_in(info.annotation, base)
    if entity is None or entity.path is None:
        return _Step((), None, models)
    is_list = get_origin(info.annotation) is list
    if entity.wrapped is not None:
        inner = entity.wrapped.path
        if is_list:
            return _Step((entity.path,), inner, models)
        return _Step((entity.path,) if inner is None else (entity.path, inner), None, models)
    if is_list:
        return _Step((), entity.path, models)
    return _Step((entity.path,), None, models)


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _child(node: etree._Element, name: str) -> etree._Element | None:
    """The first child element named ``name`` (a local name, or Clark notation)."""
    clark = name.startswith("{")
    for child in node:
        if isinstance(child.tag, str) and (child.tag == name if clark else _local(child) == name):
            return child
    return None


def _locate(
    root: etree._Element,
    model: type[BaseXmlModel],
    loc: tuple[int | str, ...],
    base: type[BaseXmlModel],
    *,
    union_members: bool,
) -> tuple[etree._Element, str | None]:
    """The deepest element of ``root`` that a pydantic error location reaches, and the local
    name of the element missing below it, if any. ``base`` is the models' common base; with
    ``union_members`` a location item naming a union member's class is followed too."""
    node = root
    models: tuple[type[BaseXmlModel], ...] = (model,)
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
        if current is None:
            member = next((m for m in models if m.__name__ == item), None)
            if member is None or not union_members:
                return node, None
            name = etree.QName(_element_name(member)).localname
            found = _child(node, name)
            if found is None:
                return node, name
            node, models = found, (member,)
            continue
        step = _step(current, item, base)
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
    model: type[BaseXmlModel],
    root: etree._Element,
    exc: pydantic.ValidationError,
    base: type[BaseXmlModel],
    *,
    explain: Callable[[Any, str | None], tuple[str, str]] = _describe,
    union_members: bool = False,
    name_unknown: bool = False,
) -> MessageError:
    """A :class:`MessageError` (``MODEL-BIND``) naming where in ``root`` binding ``model``
    failed. ``explain`` words an error; with ``name_unknown`` a required element that is
    missing where an unrecognised one stands names the unrecognised one."""
    errors = exc.errors()
    first = errors[0]
    if isinstance(first["input"], _Stray):
        node = first["input"].node
        path, en, bg = _describe_stray(first["input"])
    else:
        node, missing = _locate(root, model, tuple(first["loc"]), base, union_members=union_members)
        unknown = next((c for c in node if isinstance(c.tag, str)), None)
        if name_unknown and first["type"] == "missing" and missing is None and unknown is not None:
            # e.g. <Body><Unknown/></Body>: name the culprit
            node = unknown
            path, en, bg = _describe_stray(_Stray(unknown, "element", ""))
        else:
            en, bg = explain(first, missing)
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
    """A :class:`MessageError` for a builder's refusal."""
    return MessageError(en, code=code, message_bg=bg)


def _aware(value: datetime | None, what: str) -> datetime:
    """``value``, or now when ``None``; a naive datetime is refused (``MODEL-NAIVE-DATETIME``)."""
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
