"""Loading is offline and safe, cached, and thread-safe."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree

from eintegr.errors import SchemaError
from eintegr.schemas import SEOS_NS, SchemaCatalogue, load_schema, seos_schema

XS = "http://www.w3.org/2001/XMLSchema"


class Trap:
    """A TCP listener on 127.0.0.1: any connection attempt made to it is recorded."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def trap() -> Iterator[Trap]:
    listener = Trap()
    try:
        yield listener
    finally:
        listener.sock.close()


def schema_doc(target: str, body: str, *, prolog: str = "", extra_ns: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{prolog}<xs:schema xmlns:xs="{XS}" targetNamespace="{target}"'
        f"{extra_ns}>{body}</xs:schema>"
    ).encode()


def folder_with(tmp_path: Path, **files: bytes) -> SchemaCatalogue:
    for name, data in files.items():
        (tmp_path / f"{name}.xsd").write_bytes(data)
    return SchemaCatalogue.from_folder(tmp_path)


# --- hostile schemas ---------------------------------------------------------------------------


def test_external_entity_in_a_schema_is_refused(tmp_path: Path, trap: Trap) -> None:
    data = schema_doc(
        "urn:a",
        "<xs:annotation><xs:documentation>&x;</xs:documentation></xs:annotation>",
        prolog=f'<!DOCTYPE xs:schema [<!ENTITY x SYSTEM "{trap.url}/secret">]>\n',
    )
    with pytest.raises(SchemaError) as info:
        folder_with(tmp_path, a=data)
    assert info.value.code == "SCHEMA-DTD-FORBIDDEN"
    assert "a.xsd" in str(info.value)
    assert trap.connections() == 0


def test_entity_expansion_bomb_is_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    data = schema_doc(
        "urn:a",
        "<xs:annotation><xs:documentation>&l9;</xs:documentation></xs:annotation>",
        prolog=f"<!DOCTYPE xs:schema [{entities}]>\n",
    )
    with pytest.raises(SchemaError) as info:
        folder_with(tmp_path, a=data)
    assert info.value.code == "SCHEMA-DTD-FORBIDDEN"


def test_entity_in_an_attribute_is_refused(tmp_path: Path) -> None:
    data = schema_doc("&ns;", "", prolog='<!DOCTYPE xs:schema [<!ENTITY ns "urn:a">]>\n')
    with pytest.raises(SchemaError) as info:
        folder_with(tmp_path, a=data)
    assert info.value.code == "SCHEMA-DTD-FORBIDDEN"


def test_unused_doctype_is_never_fetched(tmp_path: Path, trap: Trap) -> None:
    data = schema_doc(
        "urn:a",
        '<xs:element name="a" type="xs:int"/>',
        prolog=f'<!DOCTYPE xs:schema SYSTEM "{trap.url}/schema.dtd" [<!ENTITY unused "x">]>\n',
    )
    schema = load_schema("urn:a", folder_with(tmp_path, a=data))
    assert schema.validate(etree.fromstring(b'<a xmlns="urn:a">1</a>'))
    assert trap.connections() == 0


@pytest.mark.parametrize("directive", ["include", "redefine"])
def test_include_from_the_network_is_refused(tmp_path: Path, trap: Trap, directive: str) -> None:
    data = schema_doc("urn:a", f'<xs:{directive} schemaLocation="{trap.url}/more.xsd"/>')
    catalogue = folder_with(tmp_path, a=data)
    with pytest.raises(SchemaError) as info:
        load_schema("urn:a", catalogue)
    assert info.value.code == "SCHEMA-EXTERNAL-REFUSED"
    assert f"{trap.url}/more.xsd" in str(info.value)
    assert trap.connections() == 0


def test_include_of_a_file_outside_the_catalogue_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "more.xsd").write_bytes(schema_doc("urn:a", '<xs:element name="b"/>'))
    inside = tmp_path / "inside"
    inside.mkdir()
    data = schema_doc("urn:a", f'<xs:include schemaLocation="{(outside / "more.xsd").as_uri()}"/>')
    catalogue = folder_with(inside, a=data)
    with pytest.raises(SchemaError) as info:
        load_schema("urn:a", catalogue)
    assert info.value.code == "SCHEMA-EXTERNAL-REFUSED"


def test_import_of_an_unknown_namespace_from_the_network_is_refused(
    tmp_path: Path, trap: Trap
) -> None:
    data = schema_doc(
        "urn:a", f'<xs:import namespace="urn:remote" schemaLocation="{trap.url}/remote.xsd"/>'
    )
    catalogue = folder_with(tmp_path, a=data)
    with pytest.raises(SchemaError) as info:
        load_schema("urn:a", catalogue)
    assert info.value.code == "SCHEMA-MISSING-NAMESPACE"
    assert trap.connections() == 0


def test_network_location_of_a_catalogued_namespace_is_ignored(tmp_path: Path, trap: Trap) -> None:
    leaf = schema_doc(
        "urn:leaf", '<xs:simpleType name="T"><xs:restriction base="xs:int"/></xs:simpleType>'
    )
    top = schema_doc(
        "urn:top",
        f'<xs:import namespace="urn:leaf" schemaLocation="{trap.url}/leaf.xsd"/>'
        '<xs:element name="top" type="l:T"/>',
        extra_ns=' xmlns:l="urn:leaf"',
    )
    schema = load_schema("urn:top", folder_with(tmp_path, leaf=leaf, top=top))
    assert schema.validate(etree.fromstring(b'<top xmlns="urn:top">5</top>'))
    assert not schema.validate(etree.fromstring(b'<top xmlns="urn:top">five</top>'))
    assert trap.connections() == 0


# --- caching -----------------------------------------------------------------------------------


def test_cache_returns_the_same_object(tmp_path: Path) -> None:
    assert load_schema(SEOS_NS) is load_schema(SEOS_NS)
    assert seos_schema() is load_schema(SEOS_NS, SchemaCatalogue.builtin())
    data = schema_doc("urn:a", '<xs:element name="a"/>')
    (tmp_path / "a.xsd").write_bytes(data)
    first = load_schema("urn:a", SchemaCatalogue.from_folder(tmp_path))
    # a new but equal catalogue hits the same cache entry
    assert load_schema("urn:a", SchemaCatalogue.from_folder(tmp_path)) is first


@pytest.mark.reference
def test_official_folder_cache_uses_the_resolved_path(
    seos_official_schemas: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = seos_schema(seos_official_schemas)
    assert schema is not seos_schema()
    monkeypatch.chdir(seos_official_schemas.parent)
    assert seos_schema(Path("schemas")) is schema
    assert seos_schema(Path("schemas/../schemas/")) is schema


def test_concurrent_first_calls_share_one_schema(tmp_path: Path) -> None:
    (tmp_path / "a.xsd").write_bytes(schema_doc("urn:concurrent", '<xs:element name="a"/>'))
    catalogue = SchemaCatalogue.from_folder(tmp_path)
    barrier = threading.Barrier(8)

    def load(_: int) -> etree.XMLSchema:
        barrier.wait()
        return load_schema("urn:concurrent", catalogue)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(load, range(8)))
    assert all(result is results[0] for result in results)


def test_seos_schema_from_a_folder_without_message(tmp_path: Path) -> None:
    (tmp_path / "other.xsd").write_bytes(schema_doc(SEOS_NS, '<xs:element name="Other"/>'))
    with pytest.raises(SchemaError) as info:
        seos_schema(tmp_path)
    assert info.value.code == "SCHEMA-MISSING-NAMESPACE"


def test_seos_schema_from_a_folder_with_two_messages(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.xsd").write_bytes(
            schema_doc(SEOS_NS, f'<xs:element name="Message" id="{name}"/>')
        )
    with pytest.raises(SchemaError) as info:
        seos_schema(tmp_path)
    assert info.value.code == "SCHEMA-CONFLICT"


def test_seos_schema_from_a_copy_of_our_files(tmp_path: Path) -> None:
    for path in SchemaCatalogue.builtin().location(SEOS_NS).parent.glob("*.xsd"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    message = etree.fromstring(
        b'<Message xmlns="http://schemas.egov.bg/messaging/v1"><Header/><Body/></Message>'
    )
    schema = seos_schema(tmp_path)
    assert schema is not seos_schema()
    assert not schema.validate(message)
    assert "Header" in str(schema.error_log)
