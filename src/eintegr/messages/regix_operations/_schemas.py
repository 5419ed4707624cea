"""eintegr's own RegiX XSDs and checking payloads against them."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from lxml import etree

from eintegr.schemas import SchemaCatalogue, load_schema
from eintegr.xml import element_path

__all__ = ["REGIX_SCHEMA_FOLDER", "SchemaProblem", "regix_catalogue", "schema_problems"]

REGIX_SCHEMA_FOLDER: Final = (
    Path(__file__).resolve().parent.parent.parent / "schemas" / "xsd" / "regix"
)
"""The folder of eintegr's own RegiX XSDs (envelope and the bundled adapters)."""

_LOCK = threading.Lock()  # lxml keeps one error_log per compiled schema


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One way in which a RegiX payload or envelope does not match its XSD.

    :ivar message: libxml2's message (English).
    :ivar message_bg: the same, introduced in Bulgarian.
    :ivar path: readable location of the offending element, when known.
    :ivar line: source line, when known.
    """

    message: str
    message_bg: str
    path: str | None
    line: int | None


@cache
def regix_catalogue() -> SchemaCatalogue:
    """The catalogue of eintegr's own RegiX XSDs (read once)."""
    return SchemaCatalogue.from_folder(REGIX_SCHEMA_FOLDER)


def schema_problems(
    element: etree._Element, expected: str, catalogue: SchemaCatalogue | None = None
) -> list[SchemaProblem]:
    """Check ``element`` against the XSD of the namespace of ``expected`` (Clark notation
    ``{namespace}Local``), which must also be its name. An empty list means valid.

    The element is checked as a document of its own: paths in the problems start at it,
    lines are those of its source.

    :param catalogue: where the XSDs come from; default :func:`regix_catalogue`.
    :raises eintegr.errors.SchemaError: the namespace has no schema in the catalogue.
    """
    if element.tag != expected:
        found = element.tag if isinstance(element.tag, str) else "a non-element node"
        return [
            SchemaProblem(
                f"the element is {found}, expected {expected}",
                f"Елементът е {found}, а се очаква {expected}",
                element_path(element),
                element.sourceline,
            )
        ]
    namespace = etree.QName(expected).namespace or ""
    schema = load_schema(namespace, catalogue or regix_catalogue())
    standalone = copy.deepcopy(element)  # keeps the source lines and in-scope namespaces
    standalone.tail = None
    with _LOCK:
        if schema.validate(standalone):
            return []
        entries = [(e.message, e.line, e.path) for e in schema.error_log]
    problems: list[SchemaProblem] = []
    tree = standalone.getroottree()
    for message, line, path in entries:
        where: str | None = None
        if path:
            try:
                found_nodes = tree.xpath(path)
            except etree.XPathError:
                found_nodes = None
            if isinstance(found_nodes, list) and found_nodes:
                node = found_nodes[0]
                if isinstance(node, etree._Element):
                    where = element_path(node)
        problems.append(
            SchemaProblem(
                message,
                f"Несъответствие със схемата: {message}",
                where,
                line if line and line > 0 else None,
            )
        )
    return problems
