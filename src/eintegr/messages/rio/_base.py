"""Binding machinery shared by the РИО models: namespaces, the model base, errors, writing.

The lexical value types, the source mirror that catches unbound content and the mapping of
binding errors to source elements are shared with the СЕОС models
(:mod:`eintegr.messages._binding`); what differs for
РИО is that every segment lives in its own namespace and that a segment's element name is
chosen by the document that uses it.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable
from typing import Annotated, Any, ClassVar, Final, Self, TypeVar, cast

import pydantic
from lxml import etree
from pydantic import ConfigDict, PlainSerializer, Strict
from pydantic_core import PydanticCustomError
from pydantic_xml import BaseXmlModel
from pydantic_xml.element.element import SearchMode, XmlElementReader

from eintegr.errors import EintegrError, MessageError
from eintegr.messages._binding import (
    _b64decode_json,
    _Base64Bytes,
    _bind_error,
    _build_error,
    _Date,
    _DateTime,
    _describe,
    _deserialize,
    _element_name,
    _field_error,
    _lexical,
    _LexicalError,
    _PositiveInteger,
    _root_of,
    _shown,
    _take,
    _XmlText,
    _xsi_attributes,
)
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, element_path, parse_xml

__all__ = [
    "DS_NS",
    "RIO_BASE",
    "Bool",
    "Date",
    "DateTime",
    "PositiveInteger",
    "RioModel",
    "Text",
    "nomenclature_ns",
    "prefix_of",
    "segment_ns",
    "value_ns",
]

RIO_BASE: Final = "http://ereg.egov.bg/"
DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def segment_ns(code: str) -> str:
    """The namespace of the РИО segment ``code`` (``0009-000152`` → ``…/segment/0009-000152``).

    The declaration segment R-3136 was published with a double slash and keeps it.
    """
    if code == "R-3136":
        return f"{RIO_BASE}segment//R-3136"
    return f"{RIO_BASE}segment/{code}"


def value_ns(code: str) -> str:
    """The namespace of the РИО value ``code`` (``0008-000036`` → ``…/value/0008-000036``)."""
    return f"{RIO_BASE}value/{code}"


def nomenclature_ns(code: str) -> str:
    """The namespace of the РИО nomenclature ``code``."""
    return f"{RIO_BASE}nomenclature/{code}"


def prefix_of(namespace: str) -> str:
    """The prefix eintegr writes for a РИО namespace: ``s152`` for segment 0009-000152,
    ``r3059`` for R-3059, ``v36`` for value 0008-000036, ``ds`` for XML-DSig."""
    if namespace == DS_NS:
        return "ds"
    code = namespace.rstrip("/").rsplit("/", 1)[-1]
    if code.startswith("R-") and code[2:].isdigit():
        return "r" + code[2:]
    kind = namespace[len(RIO_BASE) :].split("/", 1)[0] if namespace.startswith(RIO_BASE) else ""
    letter = {"segment": "s", "value": "v", "nomenclature": "n"}.get(kind)
    head, _, number = code.partition("-")
    if letter and head.isdigit() and number.isdigit():
        return f"{letter}{int(number)}"
    return "ns"


# ---------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------

_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}


def _parse_boolean(text: str) -> bool:
    value = _BOOLEANS.get(text.strip(" \t\r\n"))
    if value is None:
        raise _LexicalError(
            f"{_shown(text)} is not an xsd:boolean (true, false, 1 or 0)",
            f"{_shown(text)} не е логическа стойност xsd:boolean (true, false, 1 или 0)",
        )
    return value


def _boolean_text(value: bool) -> str:
    return "true" if value else "false"


Text = _XmlText
"""A string that XML 1.0 can carry."""
Date = _Date
"""An ``xsd:date``."""
DateTime = _DateTime
"""An ``xsd:dateTime`` (time-zone-aware when built, possibly naive when parsed)."""
PositiveInteger = _PositiveInteger
"""An ``xsd:integer`` of at least 1."""
Bool = Annotated[
    bool,
    Strict(),
    _lexical("xsd_boolean", _parse_boolean),
    PlainSerializer(_boolean_text, when_used="always"),
]
"""An ``xsd:boolean`` (written ``true``/``false``)."""


def base64_from_xml(parent: XmlElementReader, tag: str) -> bytes | None:
    """Decode the ``xsd:base64Binary`` text of the next child ``tag`` (whitespace allowed)."""
    taken = _take(parent, tag)
    if taken is None:
        return None
    text = taken[1] or ""
    try:
        return binascii.a2b_base64("".join(text.split()), strict_mode=True)
    except (binascii.Error, ValueError):
        raise _field_error("base64", text[:60]) from None


b64_json = _b64decode_json
"""In JSON mode, base64 text becomes bytes; elsewhere values pass on unchanged."""

Base64Bytes = _Base64Bytes
"""Raw bytes, base64 on the wire."""


# Fixed errors of the РИО models: kind -> (English, Bulgarian).
RIO_ERRORS: Final[dict[str, tuple[str, str]]] = {
    "rio_choice_many": (
        "only one of the alternatives may be given",
        "може да се посочи само една от алтернативите",
    ),
    "rio_choice_none": (
        "one of the alternatives is required",
        "задължително се посочва една от алтернативите",
    ),
}


def choice(model: BaseXmlModel, names: Iterable[str], *, required: bool) -> None:
    """Raise a pydantic error unless at most one (or, if ``required``, exactly one) of the
    fields ``names`` of ``model`` is set."""
    given = [name for name in names if getattr(model, name) is not None]
    if len(given) > 1:
        raise PydanticCustomError("rio_choice_many", RIO_ERRORS["rio_choice_many"][0])
    if required and not given:
        raise PydanticCustomError("rio_choice_none", RIO_ERRORS["rio_choice_none"][0])


# ---------------------------------------------------------------------------------------------
# The model base
# ---------------------------------------------------------------------------------------------

_WRAPPERS: Final = frozenset(
    {"Discrepancies", "PhoneNumbers", "FaxNumbers", "Declarations", "AttachedDocuments"}
)


class RioModel(BaseXmlModel, search_mode=SearchMode.STRICT):
    """Common base of the РИО models: schema order, nothing unknown accepted or dropped.

    A model whose class is a document (it has a global element) checks the root element's
    name on :meth:`from_xml`; a segment binds whatever element name its document uses.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    _DOCUMENT: ClassVar[bool] = False

    @classmethod
    def from_xml(  # type: ignore[override]
        cls, data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS
    ) -> Self:
        """Parse ``data`` with :func:`eintegr.xml.parse_xml` and bind it.

        :raises eintegr.errors.XmlError: the bytes are not acceptable XML.
        :raises MessageError: ``MODEL-BIND``: the XML does not fit the model; ``path`` and
            ``line`` say where.
        """
        return cls.from_tree(parse_xml(data, limits=limits))

    @classmethod
    def from_tree(cls, tree: etree._ElementTree | etree._Element) -> Self:
        """Bind an already parsed document or element (see :meth:`from_xml`)."""
        root = _root_of(tree)
        if cls._DOCUMENT and root.tag != cls.xml_name():
            raise _wrong_root(root, cls)
        return _deserialize(
            cls,
            root,
            skip_root_attributes=_xsi_attributes(root),
            on_error=lambda exc: bind_error(cls, root, exc),
        )

    @classmethod
    def xml_name(cls) -> str:
        """The element name (Clark notation) this model is written with by default."""
        return _element_name(cls)

    def to_tree(self, tag: str | None = None) -> etree._Element:
        """The model as a new lxml element (named ``tag`` if given), every namespace declared
        once on it with eintegr's prefixes."""
        root = cast(etree._Element, self.to_xml_tree(exclude_none=True))
        for wrapper in [e for e in root.iter() if etree.QName(e).localname in _WRAPPERS]:
            if len(wrapper) == 0 and wrapper is not root:
                parent = wrapper.getparent()
                assert parent is not None
                parent.remove(wrapper)
        if tag is not None:
            root.tag = tag
        return tidy_namespaces(root)

    def to_xml(self, *, pretty: bool = False) -> bytes:  # type: ignore[override]
        """UTF-8 bytes with an XML declaration."""
        return _DECLARATION + etree.tostring(self.to_tree(), encoding="UTF-8", pretty_print=pretty)


def tidy_namespaces(root: etree._Element) -> etree._Element:
    """``root`` rebuilt with every namespace used below it declared once, on it, with
    :func:`prefix_of` prefixes (the element's own namespace first)."""
    used: dict[str, str] = {}
    for element in root.iter():
        if isinstance(element.tag, str):
            namespace = etree.QName(element).namespace
            if namespace and namespace not in used.values():
                used[_free_prefix(prefix_of(namespace), used)] = namespace
    etree.cleanup_namespaces(root, top_nsmap=used)
    return root


def _free_prefix(prefix: str, used: dict[str, str]) -> str:
    candidate, number = prefix, 1
    while candidate in used:
        number += 1
        candidate = f"{prefix}_{number}"
    return candidate


def _wrong_root(root: etree._Element, cls: type[RioModel]) -> MessageError:
    found = etree.QName(root)
    expected = etree.QName(cls.xml_name())
    return MessageError(
        f"cannot bind {cls.__name__}: the root element is <{found.localname}> in namespace "
        f"{found.namespace or '(none)'}; expected <{expected.localname}> in namespace "
        f"{expected.namespace}",
        code="MODEL-BIND",
        message_bg=(
            f"{cls.__name__} не може да се прочете: кореновият елемент е <{found.localname}> "
            f"в пространството от имена {found.namespace or '(няма)'}; очаква се "
            f"<{expected.localname}> в пространството от имена {expected.namespace}"
        ),
        path=element_path(root),
        line=root.sourceline,
    )


# ---------------------------------------------------------------------------------------------
# Binding errors
# ---------------------------------------------------------------------------------------------


def _explain(error: Any, missing: str | None) -> tuple[str, str]:
    kind = error["type"]
    if kind in RIO_ERRORS:
        return RIO_ERRORS[kind]
    en, bg = _describe(error, missing)
    return en, bg


def bind_error(
    model: type[RioModel], root: etree._Element, exc: pydantic.ValidationError
) -> MessageError:
    """A :class:`MessageError` (``MODEL-BIND``) naming where in ``root`` binding failed."""
    return _bind_error(model, root, exc, RioModel, explain=_explain)


build_error = _build_error
"""A :class:`MessageError` for a builder's refusal: ``build_error(code, en, bg)``."""


_T = TypeVar("_T")


def checked_build(build: Callable[[], _T]) -> _T:
    """Run ``build()``; a pydantic error becomes :class:`MessageError` ``MODEL-INVALID``."""
    try:
        return build()
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        kind = first["type"]
        en, bg = RIO_ERRORS.get(kind, (first["msg"], first["msg"]))
        raise build_error(
            "MODEL-INVALID",
            f"invalid content at {where or 'the model'}: {en}",
            f"невалидно съдържание в {where or 'модела'}: {bg}",
        ) from exc
    except EintegrError:
        raise
