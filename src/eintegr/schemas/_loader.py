"""Compiling a namespace's schema from a catalogue with lxml, offline, cached."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from lxml import etree

from eintegr.errors import SchemaError
from eintegr.schemas._catalogue import XSD_NS, SchemaCatalogue, SchemaFile, scan_folder

__all__ = ["SEOS_NS", "XMLDSIG_NS", "load_schema", "seos_schema"]

SEOS_NS: Final = "http://schemas.egov.bg/messaging/v1"
XMLDSIG_NS: Final = "http://www.w3.org/2000/09/xmldsig#"

# The target namespace of the in-memory wrapper schema that imports everything needed.
_WRAPPER_NS: Final = "urn:x-eintegr:schema-loader"

# One lock for compiling and for the caches: compiling takes milliseconds, and it guarantees
# that concurrent first calls get the very same compiled object.
_LOCK = threading.RLock()


def _import_order(catalogue: SchemaCatalogue, namespace: str) -> list[SchemaFile]:
    """The files needed for ``namespace``: its import closure, leaves first."""
    order: list[SchemaFile] = []
    seen: set[str] = set()

    def visit(ns: str, importer: SchemaFile | None) -> None:
        if ns in seen:
            return
        seen.add(ns)
        if ns not in catalogue.namespaces:
            via = f" (imported by {importer.path})" if importer is not None else ""
            via_bg = f" (внесено от {importer.path})" if importer is not None else ""
            raise SchemaError(
                f"no schema for the namespace {ns!r} in the catalogue{via}",
                code="SCHEMA-MISSING-NAMESPACE",
                message_bg=f"В каталога няма схема за пространството от имена {ns!r}{via_bg}",
            )
        file = catalogue._file(ns)
        for imported in file.imports:
            visit(imported, file)
        order.append(file)

    visit(namespace, None)
    return order


def _url_path(url: str) -> Path | None:
    """The local path a ``file:`` URL or an absolute path names; None for anything else."""
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return Path(unquote(parts.path))
    if not parts.scheme and url.startswith("/"):
        return Path(unquote(url))
    return None


class _CatalogueResolver(etree.Resolver):
    """Serves the catalogue's files to libxml2 and refuses every other resource."""

    def __init__(self, catalogue: SchemaCatalogue) -> None:
        super().__init__()
        self._files = {file.path: file for file in catalogue._entries()}
        self.refused: list[str] = []

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        path = _url_path(system_url) if system_url else None
        file = self._files.get(path) if path is not None else None
        if file is None:
            # Raising makes libxml2 fail the load: nothing is ever fetched by a fallback loader.
            self.refused.append(system_url or public_id or "?")
            raise SchemaError(
                f"refused to load {system_url!r}: not a file of the schema catalogue",
                code="SCHEMA-EXTERNAL-REFUSED",
            )
        return self.resolve_string(file.data, context, base_url=file.path.as_uri())


def _describe(catalogue: SchemaCatalogue, url: str | None) -> str:
    path = _url_path(url) if url else None
    return str(path) if path is not None else (url or "<schema>")


def _compile(catalogue: SchemaCatalogue, namespace: str) -> etree.XMLSchema:
    files = _import_order(catalogue, namespace)
    resolver = _CatalogueResolver(catalogue)
    parser = etree.XMLParser(
        no_network=True, resolve_entities=False, load_dtd=False, dtd_validation=False
    )
    parser.resolvers.add(resolver)
    # Elements made by the parser belong to a document tied to it, so libxml2 loads every
    # import through the resolver above.
    wrapper = parser.makeelement(
        f"{{{XSD_NS}}}schema", attrib={"targetNamespace": _WRAPPER_NS}, nsmap={"xs": XSD_NS}
    )
    for file in files:
        attrib = {"schemaLocation": file.path.as_uri()}
        if file.namespace:
            attrib["namespace"] = file.namespace
        etree.SubElement(wrapper, f"{{{XSD_NS}}}import", attrib=attrib)
    try:
        schema = etree.XMLSchema(wrapper.getroottree())
    except etree.XMLSchemaParseError as exc:
        if resolver.refused:
            raise _refused(namespace, resolver.refused) from None
        errors = [e for e in exc.error_log if e.level >= etree.ErrorLevels.ERROR] or list(
            exc.error_log
        )
        first = errors[0] if errors else None
        where = f"{_describe(catalogue, first.filename)}:{first.line}" if first else "?"
        detail = first.message if first else str(exc)
        raise SchemaError(
            f"the schema for {namespace!r} does not compile: {where}: {detail}",
            code="SCHEMA-COMPILE",
            message_bg=f"Схемата за {namespace!r} не може да бъде компилирана: {where}: {detail}",
            line=first.line if first else None,
        ) from None
    if resolver.refused:  # a refused optional resource must not pass silently either
        raise _refused(namespace, resolver.refused)
    return schema


def _refused(namespace: str, urls: list[str]) -> SchemaError:
    listed = ", ".join(urls)
    return SchemaError(
        f"the schema for {namespace!r} refers to resources outside the catalogue, which are "
        f"never loaded (no network, no stray files): {listed}",
        code="SCHEMA-EXTERNAL-REFUSED",
        message_bg=f"Схемата за {namespace!r} сочи ресурси извън каталога, които никога не се "
        f"зареждат (без мрежа и без чужди файлове): {listed}",
    )


@lru_cache(maxsize=128)
def _cached(catalogue: SchemaCatalogue, namespace: str) -> etree.XMLSchema:
    return _compile(catalogue, namespace)


def load_schema(namespace: str, catalogue: SchemaCatalogue | None = None) -> etree.XMLSchema:
    """The compiled schema for ``namespace``, with everything it imports.

    Every namespace imported (with or without ``schemaLocation``) is taken from
    ``catalogue`` (default: eintegr's own XSDs); nothing else is ever loaded — no network, no
    file outside the catalogue, no DTD. The result is cached per catalogue and namespace, and
    concurrent callers get the same object.

    The compiled schema also accepts, as document roots, the global elements of the imported
    namespaces (as every XSD processor does): check the root element's name separately.
    ``validate()`` may be called from several threads, but lxml keeps one ``error_log`` per
    schema object: read error details under a lock of your own.

    :raises SchemaError: ``SCHEMA-MISSING-NAMESPACE`` (the namespace or one it imports is not
        in the catalogue), ``SCHEMA-EXTERNAL-REFUSED`` (a reference to a resource outside the
        catalogue), ``SCHEMA-COMPILE`` (naming the file, line and libxml2's message).
    """
    if catalogue is None:
        catalogue = SchemaCatalogue.builtin()
    with _LOCK:
        return _cached(catalogue, namespace)


@lru_cache(maxsize=32)
def _seos_catalogue(folder: Path) -> SchemaCatalogue:
    files = scan_folder(folder)
    candidates = {
        f.digest: f for f in files if f.namespace == SEOS_NS and "Message" in f.global_elements
    }
    if not candidates:
        raise SchemaError(
            f"no schema in {folder} declares the СЕОС element Message of {SEOS_NS}",
            code="SCHEMA-MISSING-NAMESPACE",
            message_bg=f"Никоя схема в {folder} не декларира елемента Message на СЕОС ({SEOS_NS})",
        )
    if len(candidates) > 1:
        names = ", ".join(str(f.path) for f in candidates.values())
        raise SchemaError(
            f"several different schemas in {folder} declare the СЕОС element Message: {names}",
            code="SCHEMA-CONFLICT",
            message_bg=f"Няколко различни схеми в {folder} декларират елемента Message на "
            f"СЕОС: {names}",
        )
    (messaging,) = candidates.values()
    # The folder may hold other schemas of the same namespace (EGovRegistry.xsd): prefer the
    # one that declares Message.
    return SchemaCatalogue._scanned(folder, files, {SEOS_NS: messaging.path})


def seos_schema(folder: Path | None = None) -> etree.XMLSchema:
    """The compiled СЕОС messaging schema (``Message`` of :data:`SEOS_NS`).

    :param folder: ``None`` for eintegr's own XSDs; otherwise a folder of official schemas
        (e.g. the specification's folder, whose imports carry no ``schemaLocation``). The
        folder is read once and cached by its resolved path; among several schemas of the
        СЕОС namespace, the one declaring ``Message`` is used.
    :raises SchemaError: see :meth:`SchemaCatalogue.from_folder` and :func:`load_schema`.
    """
    if folder is None:
        return load_schema(SEOS_NS)
    with _LOCK:
        catalogue = _seos_catalogue(Path(folder).resolve())
    return load_schema(SEOS_NS, catalogue)
