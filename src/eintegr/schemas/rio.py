"""РИО schemas: eintegr's own, or an official folder with its non-standard patterns rewritten.

The segment schemas of the Registry of Information Objects were written for .NET, and some
of their ``xs:pattern`` facets use regular-expression constructs that XML Schema does not
define. Strict processors (libxml2/lxml, ``xmlschema``) either refuse them or read them
differently:

* **look-ahead / look-behind** ``(?=…)``, ``(?!…)``, ``(?<=…)``, ``(?<!…)`` — refused. They
  are *removed*; the constraint they expressed is lost from the schema. (The only one in the
  published segments, in ``0008-000036`` ``EmailAddress``, limits the local part to 64 and
  the domain to 255 characters; :mod:`eintegr.validation.rio` checks that as ``RIO-EMAIL``.)
* **non-capturing and named groups** ``(?:…)``, ``(?<name>…)`` — refused. They become plain
  groups ``(…)``, which match the same strings.
* **anchors** ``^`` and ``$`` outside a character class — accepted, but XML Schema reads them
  as the *literal characters*, so ``^[А-Яа-я]+$`` would only accept ``^Иван$``. A pattern is
  always matched against the whole value, so the anchors are *removed* — the meaning .NET
  gives them.
* **lazy quantifiers** ``*?``, ``+?``, ``??``, ``{n,m}?`` — refused. The ``?`` is removed:
  matching the whole value, lazy and greedy accept the same strings.

Anything else not valid in XML Schema (inline options ``(?i)``, atomic groups, ``\\b``, …) is
left as it is and reported; such a schema then fails to compile with ``SCHEMA-COMPILE``.

Every rewrite is reported once, when the folder is read, as a
:class:`NonStandardPatternWarning` (file, line, type, the pattern before and after), and is
listed in :attr:`RioSchemas.rewrites`. eintegr's own РИО schemas are written with the
rewritten patterns, so both give the same verdicts::

    from eintegr.schemas.rio import rio_schema, rio_schemas

    schema = rio_schema("http://ereg.egov.bg/segment/R-3059")               # eintegr's own
    official = rio_schemas(Path("peu-segments"))   # warns about 0008-000036_EmailAddress.xsd
    official.schema("http://ereg.egov.bg/segment/R-3059").validate(tree)
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

from lxml import etree

from eintegr.errors import SchemaError
from eintegr.schemas._catalogue import XSD_NS, SchemaCatalogue, SchemaFile, scan_folder
from eintegr.schemas._loader import load_schema
from eintegr.xml import parse_xml

__all__ = [
    "RIO_BASE",
    "NonStandardPatternWarning",
    "PatternRewrite",
    "RioSchemas",
    "is_rio_namespace",
    "read_rio_folder",
    "rewrite_pattern",
    "rio_schema",
    "rio_schemas",
]

RIO_BASE: Final = "http://ereg.egov.bg/"
"""The common start of every РИО namespace."""

_PATTERN: Final = f"{{{XSD_NS}}}pattern"
_LOCK = threading.Lock()


def is_rio_namespace(namespace: str | None) -> bool:
    """Whether ``namespace`` is a РИО segment, value or nomenclature namespace."""
    if not namespace or not namespace.startswith(RIO_BASE):
        return False
    return namespace[len(RIO_BASE) :].split("/", 1)[0] in {"segment", "value", "nomenclature"}


class NonStandardPatternWarning(UserWarning):
    """An official schema uses a regular-expression construct XML Schema does not define;
    eintegr rewrote the pattern (see :mod:`eintegr.schemas.rio` for the rules)."""


@dataclass(frozen=True, slots=True)
class PatternRewrite:
    """One pattern of an official schema that was rewritten.

    :ivar file: the schema file.
    :ivar line: the line of the ``xs:pattern`` element.
    :ivar type_name: the simple type it restricts (``None`` for an anonymous type).
    :ivar original: the pattern as published.
    :ivar rewritten: the pattern eintegr uses.
    :ivar constructs: what was found, e.g. ``("look-ahead", "non-capturing group")``.
    :ivar unsupported: constructs that could not be rewritten (the schema will not compile).
    """

    file: Path
    line: int | None
    type_name: str | None
    original: str
    rewritten: str
    constructs: tuple[str, ...]
    unsupported: tuple[str, ...] = ()

    def message(self, lang: str = "en") -> str:
        """A one-paragraph description in ``"en"`` or ``"bg"``."""
        where = f"{self.file.name}:{self.line}" if self.line else self.file.name
        what = f" (type {self.type_name})" if self.type_name else ""
        found = ", ".join(self.constructs)
        if lang == "bg":
            text = (
                f"{where}{what.replace('type', 'тип')}: шаблонът използва конструкции, които "
                f"XML Schema не определя ({found}); използва се пренаписан шаблон "
                f"{self.rewritten!r} вместо {self.original!r}"
            )
            if self.unsupported:
                text += f"; не могат да се пренапишат: {', '.join(self.unsupported)}"
            return text
        text = (
            f"{where}{what}: the pattern uses constructs XML Schema does not define ({found}); "
            f"using the rewritten pattern {self.rewritten!r} instead of {self.original!r}"
        )
        if self.unsupported:
            text += f"; cannot be rewritten: {', '.join(self.unsupported)}"
        return text + " (see eintegr.schemas.rio)"


# ---------------------------------------------------------------------------------------------
# Rewriting one pattern
# ---------------------------------------------------------------------------------------------


def _class_end(pattern: str, start: int) -> int:
    """The index just after the character class opening at ``start`` (XSD subtraction
    ``[a-z-[aeiou]]`` nests)."""
    depth, index = 0, start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return len(pattern)


def _group_end(pattern: str, start: int) -> int:
    """The index just after the group opening at ``start``."""
    depth, index = 0, start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(pattern, index)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return len(pattern)


_LOOKAROUNDS: Final = (
    ("(?<=", "look-behind"),
    ("(?<!", "look-behind"),
    ("(?=", "look-ahead"),
    ("(?!", "look-ahead"),
)
_UNSUPPORTED_ESCAPES: Final = {"b", "B", "A", "Z", "z", "G"}


def rewrite_pattern(pattern: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Rewrite a .NET-style pattern into XML Schema's dialect.

    :returns: the rewritten pattern, the constructs found (in order of first appearance)
        and those that could not be rewritten. A standard pattern comes back unchanged with
        two empty tuples.
    """
    out: list[str] = []
    found: dict[str, None] = {}
    unsupported: dict[str, None] = {}
    index = 0
    quantifier_end = False  # the previous token was a quantifier
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escape = pattern[index : index + 2]
            if escape[1:] in _UNSUPPORTED_ESCAPES:
                found[f"escape {escape}"] = None
                unsupported[f"escape {escape}"] = None
            out.append(escape)
            index += 2
            quantifier_end = False
            continue
        if char == "[":
            end = _class_end(pattern, index)
            out.append(pattern[index:end])
            index = end
            quantifier_end = False
            continue
        if char == "(" and pattern.startswith("(?", index):
            lookaround = next(
                (name for start, name in _LOOKAROUNDS if pattern.startswith(start, index)), None
            )
            if lookaround is not None:
                found[lookaround] = None
                index = _group_end(pattern, index)
                quantifier_end = False
                continue
            if pattern.startswith("(?:", index):
                found["non-capturing group"] = None
                out.append("(")
                index += 3
                continue
            if pattern.startswith(("(?<", "(?P<", "(?'"), index):
                closer = "'" if pattern.startswith("(?'", index) else ">"
                close = pattern.find(closer, index + 3)
                if close > 0:
                    found["named group"] = None
                    out.append("(")
                    index = close + 1
                    continue
            end = _group_end(pattern, index)
            construct = f"group {pattern[index : min(index + 3, end)]}…"
            found[construct] = None
            unsupported[construct] = None
            out.append(pattern[index:end])
            index = end
            quantifier_end = False
            continue
        if char in "^$":
            found["anchors ^ $"] = None
            index += 1
            continue
        if char == "?" and quantifier_end:
            found["lazy quantifier"] = None
            index += 1
            quantifier_end = False
            continue
        if char == "{":
            end = pattern.find("}", index)
            if end > 0:
                out.append(pattern[index : end + 1])
                index = end + 1
                quantifier_end = True
                continue
        out.append(char)
        quantifier_end = char in "*+?"
        index += 1
    return "".join(out), tuple(found), tuple(unsupported)


# ---------------------------------------------------------------------------------------------
# Reading an official folder
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RioSchemas:
    """A catalogue of РИО schemas and the pattern rewrites made while reading it."""

    catalogue: SchemaCatalogue
    rewrites: tuple[PatternRewrite, ...] = ()
    folder: Path | None = None

    def schema(self, namespace: str) -> etree.XMLSchema:
        """The compiled schema of ``namespace`` (cached; see
        :func:`eintegr.schemas.load_schema`).

        :raises SchemaError: ``SCHEMA-MISSING-NAMESPACE`` (not in the catalogue, or imports
            one that is not), ``SCHEMA-COMPILE``, ``SCHEMA-EXTERNAL-REFUSED``.
        """
        return load_schema(namespace, self.catalogue)

    def __contains__(self, namespace: object) -> bool:
        return namespace in self.catalogue.namespaces


def _rewrite_file(file: SchemaFile) -> tuple[SchemaFile, list[PatternRewrite]]:
    if b"pattern" not in file.data:
        return file, []
    tree = parse_xml(file.data)
    rewrites: list[PatternRewrite] = []
    for node in tree.getroot().iter(_PATTERN):
        value = node.get("value")
        if value is None:
            continue
        rewritten, constructs, unsupported = rewrite_pattern(value)
        if not constructs:
            continue
        node.set("value", rewritten)
        owner = next(
            (a for a in node.iterancestors(f"{{{XSD_NS}}}simpleType") if a.get("name")), None
        )
        rewrites.append(
            PatternRewrite(
                file=file.path,
                line=node.sourceline,
                type_name=owner.get("name") if owner is not None else None,
                original=value,
                rewritten=rewritten,
                constructs=constructs,
                unsupported=unsupported,
            )
        )
    if not rewrites:
        return file, []
    data = etree.tostring(tree, encoding="utf-8", xml_declaration=True)
    # a new digest: the catalogue (and the compiled-schema cache) must tell the two apart
    digest = hashlib.sha256(file.digest.encode() + b"\0rewritten\0" + data).hexdigest()
    return dataclasses.replace(file, data=data, digest=digest), rewrites


def read_rio_folder(folder: Path, *, warn: bool = True) -> RioSchemas:
    """Read a folder of official РИО schemas (recursively), rewriting non-standard patterns.

    Not cached (see :func:`rio_schemas`). Each rewrite is reported as a
    :class:`NonStandardPatternWarning` when ``warn`` is true.

    :raises SchemaError: see :meth:`eintegr.schemas.SchemaCatalogue.from_folder`.
    """
    folder = Path(folder).resolve()
    files: list[SchemaFile] = []
    rewrites: list[PatternRewrite] = []
    for file in scan_folder(folder):
        patched, found = _rewrite_file(file)
        files.append(patched)
        rewrites.extend(found)
    catalogue = SchemaCatalogue._scanned(folder, files, {})
    if warn:
        for rewrite in rewrites:
            warnings.warn(NonStandardPatternWarning(rewrite.message()), stacklevel=3)
    return RioSchemas(catalogue, tuple(rewrites), folder)


@lru_cache(maxsize=16)
def _cached(folder: Path) -> RioSchemas:
    return read_rio_folder(folder)


_BUILTIN: RioSchemas | None = None


def rio_schemas(folder: Path | None = None) -> RioSchemas:
    """The РИО schemas: eintegr's own (``None``), or an official folder read once (by its
    resolved path) with its patterns rewritten — the warnings are issued on that first read.

    :raises SchemaError: the folder cannot be used (see :func:`read_rio_folder`).
    """
    global _BUILTIN
    with _LOCK:
        if folder is None:
            if _BUILTIN is None:
                _BUILTIN = RioSchemas(SchemaCatalogue.builtin())
            return _BUILTIN
        return _cached(Path(folder).resolve())


def rio_schema(namespace: str, folder: Path | None = None) -> etree.XMLSchema:
    """The compiled schema of the РИО namespace ``namespace`` (see :func:`rio_schemas`).

    :raises SchemaError: ``SCHEMA-NOT-RIO`` for a namespace outside ``http://ereg.egov.bg/``;
        otherwise as :meth:`RioSchemas.schema`.
    """
    if not is_rio_namespace(namespace):
        raise SchemaError(
            f"{namespace!r} is not a РИО namespace ({RIO_BASE}segment|value|nomenclature/…)",
            code="SCHEMA-NOT-RIO",
            message_bg=f"{namespace!r} не е пространство от имена на РИО "
            f"({RIO_BASE}segment|value|nomenclature/…)",
        )
    return rio_schemas(folder).schema(namespace)
