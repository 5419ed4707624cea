"""The namespace catalogue, the bundled XSD files and schema_source()."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

import eintegr.schemas
from eintegr.errors import SchemaError
from eintegr.schemas import (
    SEOS_NS,
    XMLDSIG_NS,
    SchemaCatalogue,
    load_schema,
    schema_source,
    seos_schema,
)
from eintegr.schemas._catalogue import strip_doctype
from eintegr.xml import parse_xml

XS = "http://www.w3.org/2001/XMLSchema"
BUILTIN_NAMESPACES = {
    SEOS_NS,
    XMLDSIG_NS,
    "http://ereg.egov.bg/segment/0009-000001",
    "http://ereg.egov.bg/value/0008-000001",
    "http://ereg.egov.bg/value/0008-000002",
    "http://ereg.egov.bg/value/0008-000003",
    "http://ereg.egov.bg/value/0008-000004",
}


def xsd(target: str | None = None, body: str = "", *, extra_ns: str = "") -> bytes:
    tns = f' targetNamespace="{target}"' if target is not None else ""
    return (
        f'<?xml version="1.0"?>\n<xs:schema xmlns:xs="{XS}"{tns}{extra_ns} '
        f'elementFormDefault="qualified">{body}</xs:schema>'
    ).encode()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- the builtin catalogue and bundled files ----------------------------------------------------


def test_builtin_catalogue_has_every_namespace() -> None:
    catalogue = SchemaCatalogue.builtin()
    # Every bundled file (СЕОС, РИО, RegiX, …) is catalogued under its target namespace.
    bundled = Path(eintegr.schemas.__file__).parent / "xsd"
    declared = {
        etree.parse(str(path)).getroot().get("targetNamespace") for path in bundled.rglob("*.xsd")
    }
    assert catalogue.namespaces == declared
    assert catalogue.namespaces >= BUILTIN_NAMESPACES
    assert SchemaCatalogue.builtin() is catalogue
    for namespace in BUILTIN_NAMESPACES:
        path = catalogue.location(namespace)
        assert path.is_file()
        assert parse_xml(path.read_bytes()).getroot().get("targetNamespace") == namespace
    assert catalogue.location(SEOS_NS).name == "seos-messaging-v1.xsd"
    assert catalogue.location(XMLDSIG_NS).name == "xmldsig-core.xsd"


def test_every_namespace_of_the_builtin_catalogue_compiles() -> None:
    for namespace in BUILTIN_NAMESPACES:
        assert isinstance(load_schema(namespace), etree.XMLSchema)


@pytest.mark.parametrize(
    "path", sorted(SchemaCatalogue.builtin().location(SEOS_NS).parent.glob("*.xsd")), ids=str
)
def test_bundled_files_are_standalone_and_dtd_free(path: Path) -> None:
    data = path.read_bytes()
    assert b"<!DOCTYPE" not in data
    assert b"<!ENTITY" not in data
    root = parse_xml(data).getroot()
    for imp in root.iterchildren(f"{{{XS}}}import"):
        location = imp.get("schemaLocation")
        assert location is not None, f"{path.name}: import of {imp.get('namespace')} lacks it"
        sibling = path.with_name(location)
        assert sibling.is_file()
        assert parse_xml(sibling.read_bytes()).getroot().get("targetNamespace") == imp.get(
            "namespace"
        )
    # each file also compiles on its own with plain lxml, thanks to the sibling locations
    etree.XMLSchema(etree.parse(str(path)))


@pytest.mark.reference
def test_bundled_files_are_not_copies_of_the_reference(reference_dir: Path) -> None:
    def squeeze(data: bytes) -> bytes:
        return re.sub(rb"\s+", b"", data)

    ours = {
        squeeze(p.read_bytes())
        for p in SchemaCatalogue.builtin().location(SEOS_NS).parent.glob("*.xsd")
    }
    for ref in reference_dir.rglob("*.xsd"):
        assert squeeze(ref.read_bytes()) not in ours, ref


def test_schema_source_returns_the_bundled_bytes() -> None:
    catalogue = SchemaCatalogue.builtin()
    for namespace in BUILTIN_NAMESPACES:
        path = catalogue.location(namespace)
        assert schema_source(path.name) == path.read_bytes()


@pytest.mark.parametrize(
    "name", ["nope.xsd", "../__init__.py", "xsd/seos-messaging-v1.xsd", "", "__init__.py"]
)
def test_schema_source_refuses_unknown_names(name: str) -> None:
    with pytest.raises(SchemaError) as info:
        schema_source(name)
    assert info.value.code == "SCHEMA-UNKNOWN-FILE"
    assert "seos-messaging-v1.xsd" in str(info.value)
    assert info.value.message_bg != str(info.value)


def test_catalogue_is_immutable_and_not_constructible() -> None:
    catalogue = SchemaCatalogue.builtin()
    with pytest.raises(AttributeError):
        catalogue._files = {}
    with pytest.raises(TypeError):
        SchemaCatalogue()


def test_missing_namespace() -> None:
    with pytest.raises(SchemaError) as info:
        SchemaCatalogue.builtin().location("urn:nowhere")
    assert info.value.code == "SCHEMA-MISSING-NAMESPACE"
    with pytest.raises(SchemaError) as info:
        load_schema("urn:nowhere")
    assert info.value.code == "SCHEMA-MISSING-NAMESPACE"
    assert "urn:nowhere" in info.value.message_bg


# --- folders -----------------------------------------------------------------------------------


def test_from_folder_maps_namespaces_recursively(tmp_path: Path) -> None:
    a = write(tmp_path, "a.xsd", xsd("urn:a"))
    b = write(tmp_path, "deep/er/b.XSD", xsd("urn:b"))
    c = write(tmp_path, "no-namespace.xsd", xsd())
    write(tmp_path, "notes.txt", b"not a schema")
    catalogue = SchemaCatalogue.from_folder(tmp_path)
    assert catalogue.namespaces == {"urn:a", "urn:b", ""}
    assert catalogue.location("urn:a") == a.resolve()
    assert catalogue.location("urn:b") == b.resolve()
    assert catalogue.location("") == c.resolve()
    assert catalogue == SchemaCatalogue.from_folder(tmp_path)
    assert hash(catalogue) == hash(SchemaCatalogue.from_folder(tmp_path))
    assert "a.xsd" in repr(catalogue)


def test_catalogue_is_a_snapshot(tmp_path: Path) -> None:
    path = write(tmp_path, "a.xsd", xsd("urn:a", '<xs:element name="x" type="xs:int"/>'))
    before = SchemaCatalogue.from_folder(tmp_path)
    path.write_bytes(xsd("urn:a", '<xs:element name="x" type="xs:string"/>'))
    after = SchemaCatalogue.from_folder(tmp_path)
    assert before != after  # same path, different content
    doc = etree.fromstring(b'<x xmlns="urn:a">abc</x>')
    assert not load_schema("urn:a", before).validate(doc)
    assert load_schema("urn:a", after).validate(doc)


def test_conflicting_files_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "one.xsd", xsd("urn:a", '<xs:element name="x"/>'))
    write(tmp_path, "sub/two.xsd", xsd("urn:a", '<xs:element name="y"/>'))
    with pytest.raises(SchemaError) as info:
        SchemaCatalogue.from_folder(tmp_path)
    assert info.value.code == "SCHEMA-CONFLICT"
    assert "one.xsd" in str(info.value)
    assert "two.xsd" in str(info.value)
    chosen = SchemaCatalogue.from_folder(tmp_path, prefer={"urn:a": Path("sub/two.xsd")})
    assert chosen.location("urn:a").name == "two.xsd"


def test_byte_identical_copies_are_fine(tmp_path: Path) -> None:
    data = xsd("urn:a", '<xs:element name="x"/>')
    write(tmp_path, "one.xsd", data)
    write(tmp_path, "copy/one.xsd", data)
    assert SchemaCatalogue.from_folder(tmp_path).namespaces == {"urn:a"}


def test_preferred_file_must_define_the_namespace(tmp_path: Path) -> None:
    write(tmp_path, "a.xsd", xsd("urn:a"))
    write(tmp_path, "b.xsd", xsd("urn:b"))
    with pytest.raises(SchemaError) as info:
        SchemaCatalogue.from_folder(tmp_path, prefer={"urn:a": Path("b.xsd")})
    assert info.value.code == "SCHEMA-PREFER-MISMATCH"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"<notes>hello</notes>", "SCHEMA-NOT-XSD"),
        (b"<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'>", "SCHEMA-MALFORMED"),
        (b"", "SCHEMA-MALFORMED"),
        (b"\xff\xfe\x00garbage", "SCHEMA-MALFORMED"),
    ],
)
def test_unusable_files_are_named(tmp_path: Path, content: bytes, code: str) -> None:
    write(tmp_path, "good.xsd", xsd("urn:a"))
    bad = write(tmp_path, "bad.xsd", content)
    with pytest.raises(SchemaError) as info:
        SchemaCatalogue.from_folder(tmp_path)
    assert info.value.code == code
    assert str(bad.resolve()) in str(info.value)
    assert str(bad.resolve()) in info.value.message_bg


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    write(tmp_path, "good.xsd", xsd("urn:a"))
    (tmp_path / "dangling.xsd").symlink_to(tmp_path / "gone.xsd")
    with pytest.raises(SchemaError) as info:
        SchemaCatalogue.from_folder(tmp_path)
    assert info.value.code == "SCHEMA-UNREADABLE"
    assert "dangling.xsd" in str(info.value)


def test_missing_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(SchemaError) as info:
        SchemaCatalogue.from_folder(tmp_path / "absent")
    assert info.value.code == "SCHEMA-FOLDER-MISSING"
    with pytest.raises(SchemaError) as info:
        SchemaCatalogue.from_folder(tmp_path)
    assert info.value.code == "SCHEMA-EMPTY-FOLDER"


def test_missing_imported_namespace_names_the_importer(tmp_path: Path) -> None:
    importer = write(tmp_path, "a.xsd", xsd("urn:a", '<xs:import namespace="urn:absent"/>'))
    catalogue = SchemaCatalogue.from_folder(tmp_path)
    with pytest.raises(SchemaError) as info:
        load_schema("urn:a", catalogue)
    assert info.value.code == "SCHEMA-MISSING-NAMESPACE"
    assert "urn:absent" in str(info.value)
    assert str(importer.resolve()) in str(info.value)


def test_compile_errors_name_the_file_and_line(tmp_path: Path) -> None:
    broken = write(
        tmp_path, "broken.xsd", xsd("urn:a", '\n\n<xs:element name="x" type="xs:nosuchtype"/>')
    )
    catalogue = SchemaCatalogue.from_folder(tmp_path)
    with pytest.raises(SchemaError) as info:
        load_schema("urn:a", catalogue)
    assert info.value.code == "SCHEMA-COMPILE"
    assert f"{broken.resolve()}:4" in str(info.value)
    assert "nosuchtype" in str(info.value)
    assert info.value.line == 4


def test_imports_without_schema_location_resolve_through_the_catalogue(tmp_path: Path) -> None:
    write(
        tmp_path,
        "leaf.xsd",
        xsd(
            "urn:leaf",
            '<xs:simpleType name="Small"><xs:restriction base="xs:int">'
            '<xs:maxInclusive value="9"/></xs:restriction></xs:simpleType>',
        ),
    )
    write(
        tmp_path,
        "mid/mid.xsd",
        xsd(
            "urn:mid",
            '<xs:import namespace="urn:leaf"/>'
            '<xs:complexType name="Pair"><xs:sequence>'
            '<xs:element name="v" type="l:Small" maxOccurs="2"/>'
            "</xs:sequence></xs:complexType>",
            extra_ns=' xmlns:l="urn:leaf"',
        ),
    )
    write(
        tmp_path,
        "top.xsd",
        xsd(
            "urn:top",
            '<xs:import namespace="urn:mid"/><xs:element name="top" type="m:Pair"/>',
            extra_ns=' xmlns:m="urn:mid"',
        ),
    )
    schema = load_schema("urn:top", SchemaCatalogue.from_folder(tmp_path))
    ok = etree.fromstring(b'<t:top xmlns:t="urn:top" xmlns:m="urn:mid"><m:v>3</m:v></t:top>')
    too_big = etree.fromstring(b'<t:top xmlns:t="urn:top" xmlns:m="urn:mid"><m:v>30</m:v></t:top>')
    assert schema.validate(ok)
    assert not schema.validate(too_big)


def test_strip_doctype_handles_tricky_subsets() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE r [\n<!ENTITY a "]>">\n'
        b"<!-- ]> -->\n<?pi ]>?>\n]>\n<r/>"
    )
    stripped, found = strip_doctype(data)
    assert found
    assert stripped.count(b"\n") == data.count(b"\n")
    assert parse_xml(stripped).getroot().tag == "r"
    assert strip_doctype(b"<r/>") == (b"<r/>", False)
    assert strip_doctype(b"<!DOCTYPE r [ unterminated") == (b"<!DOCTYPE r [ unterminated", False)


# --- the official folder -------------------------------------------------------------------------


@pytest.mark.reference
def test_official_folder_conflict_and_preference(seos_official_schemas: Path) -> None:
    # EGovRegistry.xsd shares the СЕОС namespace with EGovMessaging.xsd
    with pytest.raises(SchemaError) as info:
        SchemaCatalogue.from_folder(seos_official_schemas)
    assert info.value.code == "SCHEMA-CONFLICT"
    assert "EGovRegistry.xsd" in str(info.value)
    catalogue = SchemaCatalogue.from_folder(
        seos_official_schemas, prefer={SEOS_NS: Path("EGovMessaging.xsd")}
    )
    # the W3C schemas there carry a DOCTYPE: it is neutralised, never processed
    assert catalogue.location(XMLDSIG_NS).name == "xmldsig-core-schema.xsd"
    assert "http://www.w3.org/2001/04/xmlenc#" in catalogue.namespaces
    assert catalogue.namespaces >= BUILTIN_NAMESPACES
    assert load_schema(SEOS_NS, catalogue) is seos_schema(seos_official_schemas)
