"""The single hardened XML parser of eintegr, and serialization helpers.

Every byte of XML that eintegr reads goes through :func:`parse_xml`:

* a document with a ``DOCTYPE`` is refused before libxml2 sees it, so no DTD, no entity
  declaration, no external entity and no entity expansion (XXE, billion laughs, quadratic
  blow-up) can ever take effect;
* the parser never touches the network and never resolves entities;
* the size (bytes) and nesting depth are limited explicitly by :class:`XmlLimits`;
* every failure is an :class:`~eintegr.errors.XmlError` with a stable code, a line number and
  messages in English and Bulgarian.
"""

from __future__ import annotations

import codecs
import threading
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from eintegr.errors import XmlLimitError, XmlSecurityError, XmlSyntaxError

__all__ = [
    "DEFAULT_LIMITS",
    "XmlLimits",
    "element_path",
    "parse_xml",
    "to_bytes",
]

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Explicit limits applied to every parsed document.

    :param max_bytes: the largest accepted input, in bytes (default 64 MiB; a СЕОС message
        carries its attachments inline, base64-encoded).
    :param max_depth: the deepest accepted element nesting (the root is depth 1; default 256,
        which libxml2 itself enforces for documents that do not need its huge-tree mode).
    """

    max_bytes: int = 64 * _MIB
    max_depth: int = 256

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.max_depth < 1:
            raise ValueError("XML limits must be positive")


DEFAULT_LIMITS = XmlLimits()

# libxml2 refuses text nodes over 10 MB unless "huge tree" is on; with huge tree on it drops
# its own depth and amplification limits. DOCTYPEs are refused before parsing, so nothing is
# ever amplified; still, keep the libxml2 defaults for every document small enough not to need
# the huge-tree mode.
_HUGE_TREE_THRESHOLD = 9 * _MIB

_LIBXML2_MAX_DEPTH = 256

_local = threading.local()


def _parser(huge: bool) -> etree.XMLParser:
    """A per-thread parser (lxml parsers must not be shared between threads)."""
    name = "huge" if huge else "normal"
    parser: etree.XMLParser | None = getattr(_local, name, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            attribute_defaults=False,
            huge_tree=huge,
            collect_ids=False,
            remove_blank_text=False,
        )
        setattr(_local, name, parser)
    return parser


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_PROLOG_SCAN_BYTES = 256 * 1024


def _ascii_compatible(data: bytes) -> bytes:
    """The document, or for UTF-16/32 its re-encoded start, in which "<!DOCTYPE" reads as ASCII."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            head = data[len(bom) : len(bom) + _PROLOG_SCAN_BYTES]
            return head.decode(name, errors="replace").encode("utf-8")
    if data[:2] in (b"<\x00", b"\x00<"):
        encoding = "utf-16-le" if data[0] == 0x3C else "utf-16-be"
        return data[:_PROLOG_SCAN_BYTES].decode(encoding, errors="replace").encode("utf-8")
    return data  # UTF-8 (with or without BOM) and every other ASCII-compatible encoding


def _reject_doctype(data: bytes) -> None:
    """Refuse any document whose prolog declares a DOCTYPE (before libxml2 parses it)."""
    text = _ascii_compatible(data)
    limit = min(len(text), _PROLOG_SCAN_BYTES)
    pos = 0
    while True:
        start = text.find(b"<", pos, limit)
        if start < 0:
            return
        marker = text[start + 1 : start + 2]
        if marker == b"?":
            end = text.find(b"?>", start + 2, limit)
        elif marker != b"!":
            return  # the root element: the prolog is over
        elif text.startswith(b"<!--", start):
            end = text.find(b"-->", start + 4, limit)
        else:
            # Only a DOCTYPE can stand here in a well-formed prolog; refuse any "<!" markup.
            raise XmlSecurityError(
                "DOCTYPE declarations are not accepted (no DTDs, no entities)",
                code="XML-DTD-FORBIDDEN",
                message_bg="Декларации DOCTYPE не се приемат (без DTD и без ентитита)",
                line=text.count(b"\n", 0, start) + 1,
            )
        if end < 0:
            return  # unterminated or longer than the scan: the checks after parsing apply
        pos = end + 2


@lru_cache(maxsize=16)
def _depth_probe(max_depth: int) -> etree.XPath:
    """An XPath that is true when some element is nested deeper than ``max_depth``."""
    return etree.XPath("boolean(/" + "/".join(["*"] * (max_depth + 1)) + ")")


def parse_xml(data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> etree._ElementTree:
    """Parse ``data`` with the hardened parser and return the document.

    :raises XmlLimitError: the input is larger than ``limits.max_bytes`` or nested deeper than
        ``limits.max_depth``.
    :raises XmlSecurityError: the document declares a DOCTYPE (DTD, entities).
    :raises XmlSyntaxError: the input is empty, not XML, or not well-formed.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse_xml() takes bytes, not {type(data).__name__}")
    data = bytes(data)
    size = len(data)
    if size > limits.max_bytes:
        raise XmlLimitError(
            f"the document has {size} bytes, more than the limit of {limits.max_bytes}",
            code="XML-TOO-LARGE",
            message_bg=f"Документът е {size} байта, повече от допустимите {limits.max_bytes}",
        )
    if not data.strip():
        raise XmlSyntaxError(
            "the document is empty",
            code="XML-EMPTY",
            message_bg="Документът е празен",
        )
    _reject_doctype(data)
    huge = size > _HUGE_TREE_THRESHOLD
    try:
        root = etree.fromstring(data, _parser(huge))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        detail = exc.msg or str(exc)
        if "Excessive depth" in detail:
            raise _too_deep(min(limits.max_depth, _LIBXML2_MAX_DEPTH)) from None
        raise XmlSyntaxError(
            f"not well-formed XML: {detail}",
            message_bg=f"Документът не е добре формиран XML: {detail}",
            line=line,
        ) from None
    tree = root.getroottree()
    # Defence in depth: prologs the scan could not finish, encodings it cannot read (UTF-7).
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlSecurityError(
            "DOCTYPE declarations are not accepted (no DTDs, no entities)",
            code="XML-DTD-FORBIDDEN",
            message_bg="Декларации DOCTYPE не се приемат (без DTD и без ентитита)",
        )
    # libxml2 stops at 256 levels unless in huge-tree mode: probe only below that, or when huge.
    if (huge or limits.max_depth < _LIBXML2_MAX_DEPTH) and _depth_probe(limits.max_depth)(tree):
        raise _too_deep(limits.max_depth)
    return tree


def _too_deep(max_depth: int) -> XmlLimitError:
    return XmlLimitError(
        f"elements are nested deeper than the limit of {max_depth}",
        code="XML-TOO-DEEP",
        message_bg=f"Елементите са вложени по-дълбоко от допустимите {max_depth} нива",
    )


def element_path(element: etree._Element) -> str:
    """A readable XPath-like location of ``element``: local names, 1-based positions.

    ``/Message/Body/DocumentRegistrationRequest/Document/DocCorrespondentList/Corespondent[2]``
    — a position is given only where the parent has several children of that name.
    """
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = etree.QName(node).localname if isinstance(node.tag, str) else "node()"
        parent = node.getparent()
        if parent is not None and isinstance(node.tag, str):
            same = list(parent.iterchildren(node.tag))
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def to_bytes(
    node: etree._Element | etree._ElementTree,
    *,
    xml_declaration: bool = True,
    pretty: bool = False,
) -> bytes:
    """Serialize as UTF-8 bytes (with an XML declaration unless told otherwise)."""
    return etree.tostring(
        node, encoding="utf-8", xml_declaration=xml_declaration, pretty_print=pretty
    )
