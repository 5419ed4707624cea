"""The local register server: the ASGI application over HTTP, its file source, its faults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eintegr.errors import RegistryError
from eintegr.registry.client import RegistryClient
from eintegr.registry.files import save_directory
from eintegr.registry.server import DirectoryFile, RegisterApp, start_register_server
from eintegr.registry.soap import Directory, Operation, build_request, parse_response
from eintegr.transport.asgi_server import BackgroundServer
from eintegr.transport.soap import SOAP11_CONTENT_TYPE, parse_envelope
from tests.registry.conftest import ALPHA_GUID, BETA_GUID, T2, Pki


@pytest.fixture(scope="module")
def plain(directory: Directory) -> Iterator[str]:
    """The register over plain HTTP on 127.0.0.1 (wire-level checks)."""
    with BackgroundServer(RegisterApp(directory, max_request_bytes=4096)) as server:
        yield server.url + "/"


def post(url: str, body: bytes, action: str | None = None, **headers: str) -> httpx.Response:
    sent = {"content-type": SOAP11_CONTENT_TYPE, **headers}
    if action is not None:
        sent["soapaction"] = action
    return httpx.post(url, content=body, headers=sent, timeout=5)


def fault_code(response: httpx.Response) -> str:
    fault = parse_envelope(response.content).fault
    assert fault is not None
    assert fault.detail is not None
    return fault.detail.removeprefix("<code>").removesuffix("</code>")


def test_answers_with_and_without_soapaction(plain: str) -> None:
    body = build_request(Operation.GET_BY_GUID, str(ALPHA_GUID))
    for action in ('"uri:egovmsg/GetByGuid"', "uri:egovmsg/GetByGuid", "", None):
        response = post(plain, body, action)
        assert response.status_code == 200
        assert response.headers["content-type"] == SOAP11_CONTENT_TYPE
        (alpha,) = parse_response(response.content, "GetByGuid").participants
        assert alpha.guid == ALPHA_GUID


@pytest.mark.parametrize(
    ("body", "action", "status", "code"),
    [
        (build_request("GetAllRecords"), '"uri:egovmsg/GetByGuid"', 500, "REGISTRY-ACTION"),
        (b"not xml", None, 500, "SOAP-XML"),
        (b"<html/>", None, 500, "SOAP-MALFORMED"),
        (build_request("GetByGuid", "{nope}"), None, 500, "ID-GUID"),
        (build_request("GetByCertificateSN", "xyz"), None, 500, "REGISTRY-SERIAL"),
        (build_request("GetNewRecords", "soon"), None, 500, "REGISTRY-ARGUMENT"),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b'<m:Drop xmlns:m="uri:egovmsg"/></s:Body></s:Envelope>',
            None,
            500,
            "REGISTRY-OPERATION",
        ),
        (b"<x>" + b" " * 5000 + b"</x>", None, 413, "REGISTRY-TOO-LARGE"),
    ],
    ids=["action", "not-xml", "not-soap", "guid", "serial", "date", "operation", "too-large"],
)
def test_bad_requests_get_client_faults(
    plain: str, body: bytes, action: str | None, status: int, code: str
) -> None:
    response = post(plain, body, action)
    assert response.status_code == status
    assert fault_code(response) == code
    fault = parse_envelope(response.content).fault
    assert fault is not None
    assert fault.is_client


def test_a_streamed_oversized_request_is_cut_short(plain: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1024

    response = httpx.post(plain, content=chunks(), timeout=5)  # chunked: no length declared
    assert response.status_code == 413


def test_only_post(plain: str) -> None:
    response = httpx.get(plain, timeout=5)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_new_records_are_those_changed_at_or_after_the_date(plain: str) -> None:
    response = post(plain, build_request("GetNewRecords", T2))
    directory = parse_response(response.content, "GetNewRecords")
    assert BETA_GUID in {p.guid for p in directory.participants}
    assert ALPHA_GUID not in {p.guid for p in directory.participants}
    assert directory.last_change == T2  # always the register's own LastChange


def test_internal_failures_are_server_faults() -> None:
    def broken() -> Directory:
        raise RuntimeError("database is gone")

    status, body = RegisterApp(broken).answer(build_request("GetAllRecords"))
    assert status == 500
    fault = parse_envelope(body).fault
    assert fault is not None
    assert not fault.is_client
    assert "database" not in fault.string  # no internals leak


def test_the_file_source_follows_changes(directory: Directory, tmp_path: Path) -> None:
    path = tmp_path / "register.xml"
    save_directory(directory, path)
    source = DirectoryFile(path)
    assert source() == Directory(directory.participants, T2)
    smaller = Directory(directory.participants[:1], T2)
    save_directory(smaller, path)
    assert source().participants == smaller.participants
    path.write_text("<broken", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert source().participants == smaller.participants  # the previous one is kept
    with pytest.raises(RegistryError):
        DirectoryFile(tmp_path / "missing.json")


def test_inline_style_over_tls_from_an_xml_file(
    directory: Directory, pki: Pki, tmp_path: Path
) -> None:
    path = tmp_path / "register.xml"
    save_directory(directory, path)
    with (
        start_register_server(path, certificate=pki.server, style="inline") as server,
        RegistryClient(server.url, verify=[pki.ca.certificate], timeout=5) as registry,
    ):
        assert registry.all_records().participants == directory.participants


def test_options_are_checked(directory: Directory) -> None:
    with pytest.raises(ValueError, match="need TLS"):
        start_register_server(directory, client_ca=b"")
    with pytest.raises(ValueError, match="style"):
        RegisterApp(directory, style="soap12")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        RegisterApp(directory, max_request_bytes=0)
