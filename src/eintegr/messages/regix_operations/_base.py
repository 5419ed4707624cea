"""The base classes of typed RegiX payloads (operation arguments and responses).

A payload is a pydantic-xml model of one operation's argument or response element, written
from the operation's XSD. Binding is done on a normalised copy of the element: XML Schema
instance annotations that carry no data are consumed first — ``xsi:type`` naming a built-in
string type (the registers write ``xsi:type="xsd:string"`` on ``xsd:anyType`` elements),
``xsi:nil="true"`` (the element is then absent) and ``xsi:schemaLocation``. Whether the
element is *valid* is decided by the operation's XSD (see
:func:`eintegr.messages.regix.payload_problems`), not by binding.

* :class:`RequestPayload` — an argument: unknown content is refused.
* :class:`ResponsePayload` — a response: elements the model does not know are skipped when
  binding (so that a register adding an element does not break its consumers); the XSD
  check reports them.
"""

from __future__ import annotations

import copy
import datetime as _dt
import re
from typing import Annotated, Any, ClassVar, Final, Self, cast

import pydantic
from lxml import etree
from pydantic import BeforeValidator, ConfigDict, PlainSerializer
from pydantic_xml import BaseXmlModel
from pydantic_xml.element.element import SearchMode

from eintegr.errors import MessageError
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, parse_xml

__all__ = [
    "XSI_NS",
    "RequestPayload",
    "ResponsePayload",
    "XsdDate",
    "XsdDateTime",
    "normalized_copy",
]

XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"
_XSD_NS: Final = "http://www.w3.org/2001/XMLSchema"
_XSI_TYPE: Final = f"{{{XSI_NS}}}type"
_XSI_NIL: Final = f"{{{XSI_NS}}}nil"
_XSI_DROPPED: Final = frozenset(
    {f"{{{XSI_NS}}}schemaLocation", f"{{{XSI_NS}}}noNamespaceSchemaLocation"}
)
_STRING_TYPES: Final = frozenset({"string", "normalizedString", "token"})
_WS: Final = " \t\r\n"
_DATE: Final = re.compile(r"(-?\d{4,}-\d\d-\d\d)(Z|[+-]\d\d:\d\d)?")
_DATETIME: Final = re.compile(r"(-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?")


def _string_type(element: etree._Element, value: str) -> bool:
    prefix, _, local = value.strip(_WS).rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    return namespace == _XSD_NS and local in _STRING_TYPES


def normalized_copy(element: etree._Element) -> etree._Element:
    """A copy of ``element`` without the ``xsi`` annotations that carry no data.

    ``xsi:nil="true"`` removes the element (it then binds as absent); ``xsi:type`` naming
    ``xsd:string`` (or ``normalizedString``, ``token``) and ``xsi:schemaLocation`` are
    dropped. Any other ``xsi:type`` stays, so binding refuses it. Comments and processing
    instructions are removed.
    """
    root = copy.deepcopy(element)
    root.tail = None
    for node in list(root.iter()):
        if not isinstance(node.tag, str):
            parent = node.getparent()
            if parent is not None:
                _remove_keeping_tail(node)
            continue
        nil = node.get(_XSI_NIL)
        if nil is not None and nil.strip(_WS) in ("true", "1") and node is not root:
            _remove_keeping_tail(node)
            continue
        for name in list(node.attrib):
            key = str(name)
            dropped = key in _XSI_DROPPED or key == _XSI_NIL
            if dropped or (key == _XSI_TYPE and _string_type(node, str(node.attrib[name]))):
                del node.attrib[name]
    return root


def _remove_keeping_tail(node: etree._Element) -> None:
    parent = node.getparent()
    assert parent is not None
    tail = node.tail
    previous = node.getprevious()
    parent.remove(node)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


# --- XSD lexical forms the registers use ---------------------------------------------------


def _xsd_date(value: object) -> object:
    """``xsd:date`` text (a time-zone suffix is accepted and dropped) to a ``date``."""
    if not isinstance(value, str):
        return value
    match = _DATE.fullmatch(value.strip(_WS))
    if match is None:
        raise ValueError(f"{value!r} is not an xsd:date (YYYY-MM-DD)")
    return _dt.date.fromisoformat(match[1])


def _xsd_datetime(value: object) -> object:
    """``xsd:dateTime`` text to a ``datetime``; .NET's seven fraction digits are cut to six."""
    if not isinstance(value, str):
        return value
    match = _DATETIME.fullmatch(value.strip(_WS))
    if match is None:
        raise ValueError(f"{value!r} is not an xsd:dateTime (YYYY-MM-DDThh:mm:ss)")
    fraction = f".{match[2][:6]}" if match[2] else ""
    zone = "+00:00" if match[3] == "Z" else (match[3] or "")
    return _dt.datetime.fromisoformat(match[1] + fraction + zone)


def _format_datetime(value: _dt.datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


XsdDate = Annotated[_dt.date, BeforeValidator(_xsd_date), PlainSerializer(_dt.date.isoformat)]
"""An ``xsd:date`` field (a time-zone suffix in the input is dropped)."""

XsdDateTime = Annotated[
    _dt.datetime, BeforeValidator(_xsd_datetime), PlainSerializer(_format_datetime)
]
"""An ``xsd:dateTime`` field (naive when the input has no zone; ``Z`` for UTC on output)."""


# --- the payload bases ------------------------------------------------------------------------


class _Payload(BaseXmlModel):
    """Common behaviour of typed payloads."""

    _STRICT: ClassVar[bool] = True

    @classmethod
    def root_tag(cls) -> str:
        """The payload's root element in Clark notation (``{namespace}Local``)."""
        tag = cls.__xml_tag__
        namespace = (cls.__xml_nsmap__ or {}).get(cls.__xml_ns__ or "")
        if not tag:
            raise TypeError(f"{cls.__name__} is not a root payload model (no tag)")
        return f"{{{namespace}}}{tag}" if namespace else tag

    @classmethod
    def model_rebuild(  # type: ignore[override]
        cls,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        """Complete the model once the names in its annotations can be resolved.

        pydantic-xml's own override adds a stack frame and returns nothing; this looks up the
        caller's namespace at the right depth and says whether the model is complete (so that
        a model defined where pydantic cannot see its module — ``exec``, a doc test with
        ``from __future__ import annotations`` — still completes on first use).
        """
        super().model_rebuild(
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 2,
            _types_namespace=_types_namespace,
        )
        return cls.__pydantic_complete__

    @classmethod
    def from_element(cls, element: etree._Element) -> Self:
        """Bind ``element`` (which is not changed).

        :raises MessageError: ``REGIX-PAYLOAD-ROOT`` when the element is not this payload's
            root; ``MODEL-BIND`` when its content cannot be bound (``path`` and ``line`` say
            where).
        """
        expected = cls.root_tag()
        if element.tag != expected:
            found = element.tag if isinstance(element.tag, str) else "a non-element node"
            raise MessageError(
                f"{cls.__name__} needs the element {expected}, not {found}",
                code="REGIX-PAYLOAD-ROOT",
                message_bg=f"{cls.__name__} изисква елемент {expected}, а не {found}",
                line=element.sourceline,
            )
        try:
            return cls.from_xml_tree(cast(Any, normalized_copy(element)))
        except pydantic.ValidationError as exc:
            raise _bind_error(cls, element, exc) from None

    @classmethod
    def from_xml(  # type: ignore[override]
        cls, data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS
    ) -> Self:
        """Parse ``data`` with :func:`eintegr.xml.parse_xml` and bind it.

        :raises eintegr.errors.XmlError: the bytes are not acceptable XML.
        :raises MessageError: see :meth:`from_element`.
        """
        return cls.from_element(parse_xml(data, limits=limits).getroot())

    def to_element(self) -> etree._Element:
        """The payload as a new lxml element (absent values are left out)."""
        element = self.to_xml_tree(exclude_none=True)
        assert isinstance(element, etree._Element)
        return element

    def to_xml(self, **kwargs: Any) -> bytes:
        """The payload as UTF-8 bytes without an XML declaration (absent values left out)."""
        return etree.tostring(self.to_element(), encoding="utf-8", **kwargs)


class RequestPayload(_Payload, search_mode=SearchMode.STRICT):
    """Base of typed operation arguments: schema order, unknown content refused."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ResponsePayload(_Payload, search_mode=SearchMode.ORDERED):
    """Base of typed operation responses: schema order; elements the model does not know
    are skipped when binding (the XSD check of the response reports them)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)


def _bind_error(
    cls: type[_Payload], element: etree._Element, exc: pydantic.ValidationError
) -> MessageError:
    errors = exc.errors(include_url=False)
    first = errors[0] if errors else None
    ctx: dict[str, Any] = dict(first.get("ctx") or {}) if first else {}
    line = ctx.get("sourceline")
    where = "/".join(str(part) for part in first["loc"]) if first else ""
    detail = str(ctx.get("orig") or (first["msg"] if first else str(exc)))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    more_bg = f" (и още {len(errors) - 1})" if len(errors) > 1 else ""
    root = etree.QName(element).localname
    return MessageError(
        f"{root} cannot be bound to {cls.__name__} at {where or 'the root'}: {detail}{more}",
        code="MODEL-BIND",
        message_bg=f"{root} не може да бъде прочетен като {cls.__name__} при "
        f"{where or 'корена'}: {detail}{more_bg}",
        path=f"/{root}/{where}" if where else f"/{root}",
        line=line if isinstance(line, int) and line > 0 else element.sourceline,
    )
