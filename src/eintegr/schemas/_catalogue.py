"""The namespace → file catalogue: reading XSD files safely and scanning schema folders."""

from __future__ import annotations

import codecs
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

from lxml import etree

from eintegr.errors import SchemaError, XmlError
from eintegr.xml import parse_xml

__all__ = [
    "XSD_NS",
    "SchemaCatalogue",
    "SchemaFile",
    "builtin_folder",
    "read_schema_file",
    "scan_folder",
    "strip_doctype",
]

XSD_NS: Final = "http://www.w3.org/2001/XMLSchema"
_IMPORT: Final = f"{{{XSD_NS}}}import"
_ELEMENT: Final = f"{{{XSD_NS}}}element"
_SCHEMA: Final = f"{{{XSD_NS}}}schema"


def builtin_folder() -> Path:
    """The folder of the XSD files bundled with eintegr."""
    return Path(__file__).resolve().with_name("xsd")


# --- DOCTYPE neutralisation --------------------------------------------------------------
#
# Some official schemas (the W3C XML-Signature and XML-Encryption schemas) carry a DOCTYPE
# with an internal subset that declares entities nobody uses. eintegr never processes a DTD:
# the DOCTYPE is cut out of the bytes (replaced by as many newlines, so line numbers stay
# right) before the hardened parser sees them. A schema that actually needs its DTD (an
# entity reference, say) then fails to parse and is refused.


def _skip(data: bytes, pos: int, terminator: bytes) -> int:
    end = data.find(terminator, pos)
    return -1 if end < 0 else end + len(terminator)


def _doctype_end(data: bytes, pos: int) -> int:
    """The offset just after the DOCTYPE declaration whose body starts at ``pos``; -1 if none."""
    quote: int | None = None
    in_subset = False
    size = len(data)
    while pos < size:
        char = data[pos]
        if quote is not None:
            if char == quote:
                quote = None
        elif in_subset and data.startswith(b"<!--", pos):
            pos = _skip(data, pos + 4, b"-->")
            if pos < 0:
                return -1
            continue
        elif in_subset and data.startswith(b"<?", pos):
            pos = _skip(data, pos + 2, b"?>")
            if pos < 0:
                return -1
            continue
        elif char in b"\"'":
            quote = char
        elif char == ord("["):
            in_subset = True
        elif char == ord("]"):
            in_subset = False
        elif char == ord(">") and not in_subset:
            return pos + 1
        pos += 1
    return -1


def strip_doctype(data: bytes) -> tuple[bytes, bool]:
    """``data`` without its DOCTYPE declaration, and whether there was one.

    Only ASCII-compatible encodings are handled; anything else is returned unchanged (and the
    hardened parser refuses a DOCTYPE there).
    """
    pos = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    while True:
        while pos < len(data) and data[pos] in b" \t\r\n":
            pos += 1
        if data.startswith(b"<?", pos):
            pos = _skip(data, pos + 2, b"?>")
        elif data.startswith(b"<!--", pos):
            pos = _skip(data, pos + 4, b"-->")
        elif data.startswith(b"<!DOCTYPE", pos):
            end = _doctype_end(data, pos + len(b"<!DOCTYPE"))
            if end < 0:
                return data, False
            return data[:pos] + b"\n" * data.count(b"\n", pos, end) + data[end:], True
        else:
            return data, False
        if pos < 0:
            return data, False


# --- one schema file ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchemaFile:
    """One XSD file as read (and checked) by eintegr.

    Equality and hashing use the namespace, the path and the SHA-256 of the file's bytes.
    """

    namespace: str
    path: Path
    digest: str
    data: bytes = field(compare=False, repr=False)  # the bytes served to libxml2, no DOCTYPE
    imports: tuple[str, ...] = field(compare=False, default=())
    global_elements: frozenset[str] = field(compare=False, default=frozenset())


def read_schema_file(path: Path) -> SchemaFile:
    """Read ``path`` with the hardened parser and describe it.

    :raises SchemaError: the file cannot be read, is not well-formed, needs its DTD, or is not
        an XML Schema document.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SchemaError(
            f"cannot read the schema file {path}: {exc.strerror or exc}",
            code="SCHEMA-UNREADABLE",
            message_bg=f"Файлът със схема {path} не може да бъде прочетен: {exc.strerror or exc}",
        ) from None
    data, had_doctype = strip_doctype(raw)
    try:
        tree = parse_xml(data)
    except XmlError as exc:
        if had_doctype:
            raise SchemaError(
                f"the schema file {path} relies on its DOCTYPE (DTD, entities), which eintegr "
                f"never processes: {exc.message}",
                code="SCHEMA-DTD-FORBIDDEN",
                message_bg=f"Файлът със схема {path} зависи от декларацията си DOCTYPE "
                f"(DTD, ентитита), която eintegr никога не обработва: {exc.message_bg}",
                line=exc.line,
            ) from None
        raise SchemaError(
            f"the schema file {path} is not acceptable XML: {exc.message}",
            code="SCHEMA-MALFORMED",
            message_bg=f"Файлът със схема {path} не е допустим XML: {exc.message_bg}",
            line=exc.line,
        ) from None
    root = tree.getroot()
    if root.tag != _SCHEMA:
        tag = etree.QName(root).text
        raise SchemaError(
            f"the file {path} is not an XML Schema (its root element is {tag})",
            code="SCHEMA-NOT-XSD",
            message_bg=f"Файлът {path} не е XML схема (коренният му елемент е {tag})",
        )
    imports = tuple(
        dict.fromkeys(child.get("namespace", "") for child in root.iterchildren(_IMPORT))
    )
    names = frozenset(
        name for child in root.iterchildren(_ELEMENT) if (name := child.get("name")) is not None
    )
    return SchemaFile(
        namespace=root.get("targetNamespace", ""),
        path=path,
        digest=hashlib.sha256(raw).hexdigest(),
        data=data,
        imports=imports,
        global_elements=names,
    )


def scan_folder(folder: Path) -> list[SchemaFile]:
    """Every ``*.xsd`` under ``folder`` (recursively, symlinked folders not followed), read."""
    if not folder.is_dir():
        raise SchemaError(
            f"the schema folder {folder} does not exist or is not a folder",
            code="SCHEMA-FOLDER-MISSING",
            message_bg=f"Папката със схеми {folder} не съществува или не е папка",
        )
    paths: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        paths.extend(
            Path(dirpath, name) for name in sorted(filenames) if name.lower().endswith(".xsd")
        )
    if not paths:
        raise SchemaError(
            f"the folder {folder} holds no *.xsd file",
            code="SCHEMA-EMPTY-FOLDER",
            message_bg=f"Папката {folder} не съдържа нито един файл *.xsd",
        )
    return [read_schema_file(path) for path in paths]


# --- the catalogue ----------------------------------------------------------------------------


class SchemaCatalogue:
    """An immutable map from target namespace to the XSD file that defines it.

    Build one with :meth:`builtin` (eintegr's own XSDs) or :meth:`from_folder` (a folder of
    official schemas). The files are read once, when the catalogue is built: later changes on
    disk do not affect it. Catalogues are hashable and compare equal when they map the same
    namespaces to the same paths with the same content.
    """

    __slots__ = ("_files", "_key")

    _files: dict[str, SchemaFile]
    _key: frozenset[SchemaFile]

    def __init__(self) -> None:
        raise TypeError("use SchemaCatalogue.builtin() or SchemaCatalogue.from_folder(folder)")

    @classmethod
    def _of(cls, files: Iterable[SchemaFile]) -> SchemaCatalogue:
        self = object.__new__(cls)
        mapping = {file.namespace: file for file in files}
        object.__setattr__(self, "_files", mapping)
        object.__setattr__(self, "_key", frozenset(mapping.values()))
        return self

    @classmethod
    def builtin(cls) -> SchemaCatalogue:
        """The catalogue of the XSD files bundled with eintegr (always the same object)."""
        return _builtin()

    @classmethod
    def from_folder(
        cls, folder: Path, *, prefer: Mapping[str, Path] | None = None
    ) -> SchemaCatalogue:
        """Scan ``folder`` recursively for ``*.xsd`` files and map each target namespace.

        :param prefer: for a namespace defined by several files, the file to use (absolute, or
            relative to ``folder``); the other files of that namespace are then ignored.
        :raises SchemaError: ``SCHEMA-CONFLICT`` when two different files define the same
            namespace (byte-identical copies are fine); ``SCHEMA-FOLDER-MISSING``,
            ``SCHEMA-EMPTY-FOLDER``, ``SCHEMA-UNREADABLE``, ``SCHEMA-MALFORMED``,
            ``SCHEMA-DTD-FORBIDDEN``, ``SCHEMA-NOT-XSD`` (naming the file) when a file
            cannot be used; ``SCHEMA-PREFER-MISMATCH`` when a preferred file does not define
            its namespace.
        """
        folder = Path(folder).resolve()
        return cls._scanned(folder, scan_folder(folder), prefer or {})

    @classmethod
    def _scanned(
        cls, folder: Path, files: list[SchemaFile], prefer: Mapping[str, Path]
    ) -> SchemaCatalogue:
        return cls._of(_choose(folder, files, prefer))

    @property
    def namespaces(self) -> frozenset[str]:
        """The target namespaces in the catalogue (``""`` for a schema without one)."""
        return frozenset(self._files)

    def location(self, namespace: str) -> Path:
        """The file that defines ``namespace``.

        :raises SchemaError: ``SCHEMA-MISSING-NAMESPACE`` when no file defines it.
        """
        return self._file(namespace).path

    def _file(self, namespace: str) -> SchemaFile:
        try:
            return self._files[namespace]
        except KeyError:
            raise SchemaError(
                f"no schema for the namespace {namespace!r} in the catalogue",
                code="SCHEMA-MISSING-NAMESPACE",
                message_bg=f"В каталога няма схема за пространството от имена {namespace!r}",
            ) from None

    def _entries(self) -> Iterator[SchemaFile]:
        return iter(self._files.values())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SchemaCatalogue is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SchemaCatalogue):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        inner = ", ".join(f"{ns!r}: {f.path.name!r}" for ns, f in sorted(self._files.items()))
        return f"SchemaCatalogue({{{inner}}})"


def _choose(folder: Path, files: list[SchemaFile], prefer: Mapping[str, Path]) -> list[SchemaFile]:
    """One file per namespace: the preferred one, or the only distinct one."""
    by_namespace: dict[str, list[SchemaFile]] = {}
    for file in files:
        by_namespace.setdefault(file.namespace, []).append(file)
    chosen: list[SchemaFile] = []
    for namespace, preferred in prefer.items():
        path = (folder / preferred).resolve()
        match = next((f for f in by_namespace.get(namespace, []) if f.path == path), None)
        if match is None:
            match = read_schema_file(path)
            if match.namespace != namespace:
                raise SchemaError(
                    f"the preferred file {path} does not define the namespace {namespace!r}",
                    code="SCHEMA-PREFER-MISMATCH",
                    message_bg=f"Предпочетеният файл {path} не определя пространството от "
                    f"имена {namespace!r}",
                )
        by_namespace[namespace] = [match]
    for namespace, candidates in by_namespace.items():
        if len({f.digest for f in candidates}) > 1:
            names = ", ".join(str(f.path) for f in candidates)
            raise SchemaError(
                f"the namespace {namespace!r} is defined by several different files: {names}",
                code="SCHEMA-CONFLICT",
                message_bg=f"Пространството от имена {namespace!r} е определено от няколко "
                f"различни файла: {names}",
            )
        chosen.append(candidates[0])
    return chosen


_BUILTIN_LOCK = threading.Lock()


@cache
def _builtin_unlocked() -> SchemaCatalogue:
    return SchemaCatalogue.from_folder(builtin_folder())


def _builtin() -> SchemaCatalogue:
    with _BUILTIN_LOCK:  # concurrent first calls must still get one object
        return _builtin_unlocked()
