"""Register files: the JSON format, the EGovMessageDir XML, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from eintegr.errors import RegistryError
from eintegr.registry.files import (
    JSON_FORMAT,
    atomic_write,
    directory_from_json,
    directory_from_xml,
    directory_to_json,
    directory_to_xml,
    load_directory,
    participant_from_json,
    participant_to_json,
    save_directory,
)
from eintegr.registry.model import DOCUMENT_EXCHANGE_SERVICE
from eintegr.registry.soap import MESSAGING_NS, Directory
from tests.conftest import reference_path
from tests.registry.conftest import ALPHA_GUID, T2, Pki


@pytest.mark.parametrize("suffix", [".json", ".xml"])
def test_files_round_trip(directory: Directory, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"register{suffix}"
    save_directory(directory, path)
    loaded = load_directory(path)
    assert loaded.participants == directory.participants
    assert loaded.last_change == T2
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_the_json_format_is_documented_and_minimal_records_work(pki: Pki, tmp_path: Path) -> None:
    pki.alpha.write(tmp_path, "alpha")
    document = {
        "format": JSON_FORMAT,
        "participants": [
            {
                "eik": "831641791",
                "guid": str(ALPHA_GUID.uuid),  # braces optional
                "name": "Община Алфа",
                "certificate_file": "alpha.crt.pem",  # relative to the file
                "endpoint": "https://alpha.example.bg/Submit",
            }
        ],
    }
    path = tmp_path / "register.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    (alpha,) = load_directory(path).participants
    assert alpha.guid == ALPHA_GUID
    assert alpha.holds_certificate(pki.alpha.certificate)
    assert alpha.endpoint == "https://alpha.example.bg/Submit"
    assert alpha.exchange_service is not None
    assert alpha.exchange_service.guid == DOCUMENT_EXCHANGE_SERVICE
    assert alpha.is_active
    again = participant_from_json(json.loads(json.dumps(participant_to_json(alpha))))
    assert again == alpha


def _minimal(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eik": "831641791",
        "guid": str(ALPHA_GUID),
        "name": "Алфа",
        "certificate_serial": "abcdef",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


@pytest.mark.parametrize(
    ("record", "where"),
    [
        (_minimal(eik=...), "participants[0].eik"),
        (_minimal(eik="12345"), "participants[0].eik"),
        (_minimal(name=12), "participants[0].name"),
        (_minimal(guid="{nope}"), "participants[0].guid"),
        (_minimal(certificate_serial=...), "participants[0].certificate_serial"),
        (_minimal(certificate_serial="xyz"), "participants[0].certificate_serial"),
        (
            _minimal(certificate_serial=..., certificate_file="missing.pem"),
            "participants[0].certificate_file",
        ),
        (_minimal(status="Sleeping"), "participants[0].status"),
        (_minimal(last_change="soon"), "participants[0].last_change"),
        (_minimal(parent_guid="x"), "participants[0].parent_guid"),
        (_minimal(contact=[]), "participants[0].contact"),
        (_minimal(services={}), "participants[0].services"),
        (_minimal(services=[{"guid": str(ALPHA_GUID)}]), "participants[0].services[0].uri"),
        (
            _minimal(services=[{"guid": str(ALPHA_GUID), "uri": "u", "version": "1"}]),
            "participants[0].services[0].version",
        ),
        (
            _minimal(
                endpoint="https://x/",
                services=[{"guid": str(DOCUMENT_EXCHANGE_SERVICE), "uri": "https://y/"}],
            ),
            "participants[0].endpoint",
        ),
        ("not an object", "participants[0]"),
    ],
)  # fmt: skip
def test_json_errors_name_the_place(record: object, where: str, tmp_path: Path) -> None:
    data = json.dumps({"participants": [record]}).encode()
    with pytest.raises(RegistryError) as info:
        directory_from_json(data, base=tmp_path)
    assert info.value.code == "REGISTRY-FILE"
    assert info.value.path == where
    assert where in info.value.message_bg


@pytest.mark.parametrize(
    "data",
    [
        b"{not json",
        b"[]",
        b'{"format": "something-else/2"}',
        b'{"participants": {}}',
        json.dumps({"participants": [_minimal(), _minimal(name="again")]}).encode(),
    ],
    ids=["syntax", "array", "format", "participants-object", "duplicate-guid"],
)
def test_bad_json_files(data: bytes) -> None:
    with pytest.raises(RegistryError) as info:
        directory_from_json(data)
    assert info.value.code == "REGISTRY-FILE"


def test_the_xml_file_is_valid_against_the_official_schema(directory: Directory) -> None:
    schema_file = reference_path("seos", "seme-docs", "schemas", "EGovRegistry.xsd")
    schema = etree.XMLSchema(etree.parse(str(schema_file)))
    document = etree.fromstring(directory_to_xml(directory))
    assert document.tag == f"{{{MESSAGING_NS}}}EGovMessageDir"
    # The official schema wants every element; fill what our sample leaves empty.
    for entity in document.iter(f"{{{MESSAGING_NS}}}Entity"):
        parent = entity.find(f"{{{MESSAGING_NS}}}ParentGuid")
        assert parent is not None
        if parent.get("{http://www.w3.org/2001/XMLSchema-instance}nil"):
            del parent.attrib["{http://www.w3.org/2001/XMLSchema-instance}nil"]
            parent.text = str(ALPHA_GUID)
        contact = entity.find(f"{{{MESSAGING_NS}}}Contact")
        assert contact is not None
        for name, value in (
            ("Phone", "+359 2 1"),
            ("Fax", "+359 2 2"),
            ("EmailAddress", "it@example.bg"),
        ):
            if contact.find(f"{{{MESSAGING_NS}}}{name}") is None:
                etree.SubElement(contact, f"{{{MESSAGING_NS}}}{name}").text = value
        serial = entity.find(f"{{{MESSAGING_NS}}}CertificateSN")
        assert serial is not None
        serial.text = (serial.text or "")[:20]  # the schema allows 6-20 hex digits
    schema.assertValid(document)


def test_xml_records_that_cannot_be_read(directory: Directory) -> None:
    guid = f"<Guid>{ALPHA_GUID}</Guid>".encode()
    data = directory_to_xml(directory).replace(guid, b"<Guid>{broken}</Guid>")
    with pytest.raises(RegistryError) as info:
        directory_from_xml(data)
    assert info.value.code == "REGISTRY-FILE"
    assert "Entity[1]" in str(info.value)
    lenient = directory_from_xml(data, strict=False)
    assert len(lenient.participants) == len(directory.participants) - 1
    assert [i.code for i in lenient.rejected] == ["ID-GUID"]


@pytest.mark.parametrize(
    "data", [b"<x", b"<Other/>", b'<!DOCTYPE a [<!ENTITY b "c">]><EGovMessageDir/>']
)
def test_bad_xml_files(data: bytes) -> None:
    with pytest.raises(RegistryError) as info:
        directory_from_xml(data)
    assert info.value.code == "REGISTRY-FILE"


def test_load_directory_limits_and_missing_files(directory: Directory, tmp_path: Path) -> None:
    path = tmp_path / "register.json"
    path.write_bytes(directory_to_json(directory))
    with pytest.raises(RegistryError, match="larger than 100 bytes"):
        load_directory(path, max_bytes=100)
    with pytest.raises(RegistryError) as info:
        load_directory(tmp_path / "missing.json")
    assert info.value.code == "REGISTRY-FILE"


def test_atomic_write_replaces_whole_files(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "file.json"
    atomic_write(path, b"one")
    atomic_write(path, b"two")
    assert path.read_bytes() == b"two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.json"]


def test_extra_keys_are_kept_out_of_the_directory(directory: Directory) -> None:
    data = directory_to_json(directory, source="https://register.example/")
    assert json.loads(data)["source"] == "https://register.example/"
    assert directory_from_json(data).participants == directory.participants
