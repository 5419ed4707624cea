"""Schemas: eintegr's own XSDs, a namespace catalogue, and a cache of compiled schemas.

eintegr ships its own XSD files for the СЕОС messaging format (written from the
specification; they accept and reject exactly the documents the official set does) and
loads official schema folders supplied by the user, whose ``xsd:import`` elements carry no
``schemaLocation``::

    from eintegr.schemas import seos_schema

    schema = seos_schema()                      # eintegr's own XSDs
    official = seos_schema(Path("seme-docs/schemas"))
    schema.validate(tree)

Loading is offline and safe: files are read with the hardened parser (a DOCTYPE is never
processed), imports are served from the catalogue only, and anything else — a URL, a file
outside the catalogue — is refused with :class:`~eintegr.errors.SchemaError`.

Bundled files (see :func:`schema_source`): ``seos-messaging-v1.xsd``, ``xmldsig-core.xsd``,
``rio-0009-000001-document-uri.xsd``, ``rio-0008-000001-batch-number.xsd``,
``rio-0008-000002-register-index.xsd``, ``rio-0008-000003-document-sequence-number.xsd``,
``rio-0008-000004-document-receipt-or-signing-date.xsd``.
"""

from __future__ import annotations

from eintegr.errors import SchemaError
from eintegr.schemas._catalogue import SchemaCatalogue, builtin_folder
from eintegr.schemas._loader import SEOS_NS, XMLDSIG_NS, load_schema, seos_schema

__all__ = [
    "SEOS_NS",
    "XMLDSIG_NS",
    "SchemaCatalogue",
    "load_schema",
    "schema_source",
    "seos_schema",
]


def schema_source(name: str) -> bytes:
    """The bytes of the bundled XSD file ``name`` (e.g. ``"seos-messaging-v1.xsd"``).

    :raises SchemaError: ``SCHEMA-UNKNOWN-FILE`` when no bundled file has that name.
    """
    folder = builtin_folder()
    available = sorted(path.name for path in folder.glob("*.xsd"))
    if name not in available:
        raise SchemaError(
            f"no bundled schema file named {name!r}; available: {', '.join(available)}",
            code="SCHEMA-UNKNOWN-FILE",
            message_bg=f"Няма вграден файл със схема с име {name!r}; налични: "
            f"{', '.join(available)}",
        )
    return (folder / name).read_bytes()
