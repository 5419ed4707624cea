"""The local RegiX: answers from files, faults for what RegiX refuses, the ASGI surface."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from eintegr.errors import MessageError, RegistryError
from eintegr.messages.regix import (
    PERSON_DATA_SEARCH,
    RegixCall,
    ServiceCheckResultArgument,
    ServiceResultData,
    XmlPayload,
    read_response_body,
    request_body,
    service_request,
)
from eintegr.messages.regix_operations.grao_nbd import PersonDataRequest, PersonDataResponse
from eintegr.testing.regix_server import NO_DATA, RegixTestServer, ResponseStore, demo_store
from eintegr.transport.soap import build_envelope, parse_envelope
from tests.regix.conftest import CONTEXT, PERSON_EGN, Pki

ACTION = '"http://egov.bg/RegiX/IRegiXEntryPointV2/Execute"'


def _execute(server: RegixTestServer, egn: str = PERSON_EGN, **options: Any) -> tuple[int, bytes]:
    request = service_request(
        PERSON_DATA_SEARCH, PersonDataRequest(egn=egn), CONTEXT, check_identifiers=False, **options
    )
    status, _, body = server.handle(
        build_envelope([request_body(RegixCall.EXECUTE, request)]), ACTION
    )
    return status, body


def _result(body: bytes, call: RegixCall = RegixCall.EXECUTE) -> ServiceResultData:
    element = read_response_body(call, parse_envelope(body).body_element)
    assert element is not None
    return ServiceResultData.from_element(element)


def _fault(body: bytes) -> str:
    envelope = parse_envelope(body)
    assert envelope.fault is not None
    return envelope.fault.string


def test_the_store_reads_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "PersonDataSearch"
    folder.mkdir()
    (folder / f"{PERSON_EGN}.xml").write_bytes(PersonDataResponse(egn=PERSON_EGN).to_xml())
    (folder / "default.xml").write_bytes(PersonDataResponse(alias="someone").to_xml())
    (folder / "8506258485.error.txt").write_text("Лицето е починало\n", encoding="utf-8")
    (folder / "notes.md").write_text("ignored", encoding="utf-8")
    store = ResponseStore.from_folder(tmp_path)
    server = RegixTestServer(store)
    assert _result(_execute(server)[1]).data.response.element()[0].text == PERSON_EGN  # type: ignore[union-attr]
    other = _result(_execute(server, "7501020018")[1])
    assert PersonDataResponse.from_element(other.data.response.element()).alias == "someone"  # type: ignore[union-attr]
    failed = _result(_execute(server, "8506258485")[1])
    assert failed.has_error
    assert failed.error == "Лицето е починало"
    with pytest.raises(FileNotFoundError):
        ResponseStore.from_folder(tmp_path / "missing")
    (tmp_path / "NoSuchOperation").mkdir()
    with pytest.raises(RegistryError):
        ResponseStore.from_folder(tmp_path)


def test_the_store_refuses_a_response_of_another_operation() -> None:
    store = ResponseStore()
    with pytest.raises(MessageError) as caught:
        store.add("GetActualState", "1", PersonDataResponse(egn=PERSON_EGN))
    assert caught.value.code == "REGIX-RESPONSE"
    assert ResponseStore.key_of(etree.fromstring(b"<a><b/></a>")) == "default"


def test_calls_without_data_get_no_data_found() -> None:
    status, body = _execute(RegixTestServer())
    assert status == 200
    result = _result(body)
    assert result.has_error
    assert result.error == NO_DATA
    assert result.service_call_id is not None


def test_results_are_signed_only_when_asked_and_possible(pki: Pki) -> None:
    server = RegixTestServer(demo_store(), signer=pki.signer.signer())
    assert _result(_execute(server)[1]).signature is not None
    assert _result(_execute(server, sign_result=False)[1]).signature is None
    assert _result(_execute(RegixTestServer(demo_store()))[1]).signature is None


def test_asynchronous_calls_are_polled_with_their_code() -> None:
    server = RegixTestServer(demo_store(), polls_until_ready=2)
    accepted = _result(_execute(server, asynchronous=True)[1])
    assert not accepted.is_ready
    assert accepted.service_call_id is not None
    assert accepted.verification_code
    argument = ServiceCheckResultArgument(
        service_call_id=accepted.service_call_id, verification_code=accepted.verification_code
    )
    check = build_envelope([request_body(RegixCall.CHECK_RESULT, argument)])
    states = [_result(server.handle(check)[2], RegixCall.CHECK_RESULT).is_ready for _ in range(3)]
    assert states == [False, False, True]
    wrong = argument.model_copy(update={"verification_code": "guess"})
    status, _, body = server.handle(build_envelope([request_body(RegixCall.CHECK_RESULT, wrong)]))
    assert status == 500
    assert "VerificationCode" in _fault(body)
    ack = build_envelope([request_body(RegixCall.ACKNOWLEDGE, argument)])
    status, _, body = server.handle(ack)
    assert status == 200
    assert read_response_body(RegixCall.ACKNOWLEDGE, parse_envelope(body).body_element) is None
    assert server.acknowledged == [accepted.service_call_id]
    status, _, body = server.handle(ack)
    assert status == 500
    assert "no call" in _fault(body)


@pytest.mark.parametrize(
    ("body", "action", "message"),
    [
        (b"<not xml", None, "not acceptable XML"),
        (b"<x/>", None, "not a SOAP 1.1 Envelope"),
        (
            build_envelope([etree.Element("{http://egov.bg/RegiX}ExecuteSynchronous")]),
            None,
            "not an operation",
        ),
        (None, '"http://egov.bg/RegiX/IRegiXEntryPointV2/CheckResult"', "does not match"),
    ],
)
def test_malformed_calls_get_client_faults(
    body: bytes | None, action: str | None, message: str
) -> None:
    server = RegixTestServer()
    if body is None:
        request = service_request(PERSON_DATA_SEARCH, PersonDataRequest(egn=PERSON_EGN), CONTEXT)
        body = build_envelope([request_body(RegixCall.EXECUTE, request)])
    status, content_type, answer = server.handle(body, action)
    assert status == 500
    assert content_type.startswith("text/xml")
    assert message in _fault(answer)
    assert parse_envelope(answer).fault.is_client  # type: ignore[union-attr]


def test_unknown_operations_and_invalid_arguments_are_faults() -> None:
    server = RegixTestServer(demo_store())
    request = service_request(PERSON_DATA_SEARCH, PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    bad_argument = XmlPayload(
        b'<PersonDataRequest xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataRequest">'
        b"<EGN>1</EGN></PersonDataRequest>"
    )
    for change, message in (
        ({"operation": "TechnoLogica.RegiX.X.APIService.IX.Nope"}, "is not known"),
        ({"operation": "PersonDataSearch"}, "full key"),
        ({"argument": bad_argument}, "pattern"),
    ):
        changed = request.model_copy(update=change)
        status, _, body = server.handle(build_envelope([request_body(RegixCall.EXECUTE, changed)]))
        assert status == 500
        assert message in _fault(body)
    without_context = request_body(RegixCall.EXECUTE, request)
    data = without_context.find(".//{http://egov.bg/RegiX/SignedData}CallContext")
    assert data is not None
    data.getparent().remove(data)  # type: ignore[union-attr]
    status, _, body = server.handle(build_envelope([without_context]))
    assert status == 500
    assert "CallContext" in _fault(body)


def _asgi(server: RegixTestServer, method: str, body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    chunks = [body[:10], body[10:]]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "headers": [(b"soapaction", ACTION.encode())]}
    asyncio.run(server(scope, receive, send))  # type: ignore[arg-type]
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_the_asgi_surface() -> None:
    server = RegixTestServer(demo_store(), max_request_bytes=5000)
    assert _asgi(server, "GET", b"")[0] == 405
    assert _asgi(server, "POST", b"x" * 6000)[0] == 413
    request = service_request(PERSON_DATA_SEARCH, PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    status, body = _asgi(server, "POST", build_envelope([request_body(RegixCall.EXECUTE, request)]))
    assert status == 200
    assert parse_envelope(body).body_element.tag == "{http://egov.bg/RegiX}ExecuteResponse"
    server.inject(418, b"teapot", "text/plain")
    assert _asgi(server, "POST", b"anything") == (418, b"teapot")

    events = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    replies: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return events.pop(0)

    async def send(message: dict[str, Any]) -> None:
        replies.append(message)

    asyncio.run(server({"type": "lifespan"}, receive, send))  # type: ignore[arg-type]
    assert [r["type"] for r in replies] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


def test_demo_store_covers_the_bundled_operations() -> None:
    store = demo_store()
    assert len(store.operations()) == 5
    assert isinstance(_result(_execute(RegixTestServer(store))[1]).service_call_id, Decimal)
