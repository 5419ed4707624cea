"""The register client over real sockets (127.0.0.1, mutual TLS with the test PKI)."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path

import pytest

from eintegr.errors import ReceiverError, RegistryError, SenderError, TransportFault
from eintegr.registry.client import (
    AsyncRegistryClient,
    OnlineRegister,
    RegistryClient,
    client_ssl_context,
)
from eintegr.registry.soap import Directory, Operation, build_response
from eintegr.transport.soap import SoapFault, build_fault
from tests.registry.conftest import (
    ALPHA_GUID,
    BETA_GUID,
    BRANCH_GUID,
    T2,
    Pki,
    RunningRegister,
    ScriptedServer,
)


def client(url: str, pki: Pki, **options: object) -> RegistryClient:
    options.setdefault("timeout", 5.0)
    return RegistryClient(
        url,
        client_certificate=pki.alpha,
        verify=[pki.ca.certificate],
        **options,  # type: ignore[arg-type]
    )


# --- every operation against the local register ---------------------------------------------


def test_every_operation_over_mutual_tls(register: RunningRegister, pki: Pki) -> None:
    with client(register.url, pki) as registry:
        everything = registry.all_records()
        assert {p.guid for p in everything.participants} == {ALPHA_GUID, BETA_GUID, BRANCH_GUID}
        assert everything.last_change == T2

        newer = registry.new_records(T2)
        assert {p.guid for p in newer.participants} == {BETA_GUID, BRANCH_GUID}
        assert registry.new_records(T2 + timedelta(days=1)).participants == ()

        by_eik = registry.by_entity_identifier("831641791")
        assert {p.guid for p in by_eik.participants} == {ALPHA_GUID, BRANCH_GUID}

        (beta,) = registry.by_guid(str(BETA_GUID).upper()).participants
        assert beta.name == "Агенция Бета"
        assert beta.endpoint == "https://beta.example.bg/Submit"

        (alpha,) = registry.by_certificate_serial(pki.alpha.certificate.serial_number).participants
        assert alpha.guid == ALPHA_GUID
        assert alpha.holds_certificate(pki.alpha.certificate)

        assert registry.by_guid("{00000000-0000-4000-8000-000000000000}") == Directory((), T2)


def test_the_async_client_does_the_same(register: RunningRegister, pki: Pki) -> None:
    async def run() -> tuple[Directory, Directory, Directory, Directory, Directory]:
        async with AsyncRegistryClient(
            register.url, client_certificate=pki.beta, verify=[pki.ca.certificate], timeout=5
        ) as registry:
            return (
                await registry.all_records(),
                await registry.new_records(T2),
                await registry.by_entity_identifier("130277958"),
                await registry.by_guid(ALPHA_GUID),
                await registry.by_certificate_serial(
                    format(pki.beta.certificate.serial_number, "X")
                ),
            )

    everything, newer, by_eik, by_guid, by_serial = asyncio.run(run())
    assert len(everything.participants) == 3
    assert len(newer.participants) == 2
    assert [p.guid for p in by_eik.participants] == [BETA_GUID]
    assert [p.guid for p in by_guid.participants] == [ALPHA_GUID]
    assert [p.guid for p in by_serial.participants] == [BETA_GUID]


def test_online_register_is_a_register(register: RunningRegister, pki: Pki) -> None:
    with client(register.url, pki) as registry:
        online = OnlineRegister(registry)
        assert online.by_guid(ALPHA_GUID).endpoint == "https://alpha.example.bg:8443/Submit"
        assert online.by_eik("130277958").guid == BETA_GUID
        assert online.by_certificate_serial(pki.beta.certificate.serial_number).guid == BETA_GUID
        assert len(online.participants()) == 3
        with pytest.raises(RegistryError) as info:
            online.by_eik("000695089")
        assert info.value.code == "REGISTRY-UNKNOWN"


def test_pem_files_work_as_client_credentials(
    register: RunningRegister, pki: Pki, tmp_path: Path
) -> None:
    files = pki.alpha.write(tmp_path, "alpha")
    (tmp_path / "ca.pem").write_bytes(pki.ca.certificate_pem())
    with RegistryClient(
        register.url,
        client_certificate=(files["certificate"], files["key"]),
        verify=tmp_path / "ca.pem",
        timeout=5,
    ) as registry:
        assert len(registry.all_records().participants) == 3


# --- TLS failures ---------------------------------------------------------------------------


def test_a_register_with_an_untrusted_certificate_is_refused(
    register: RunningRegister, pki: Pki
) -> None:
    with (
        RegistryClient(
            register.url, client_certificate=pki.alpha, verify=[pki.foreign_ca.certificate]
        ) as registry,
        pytest.raises(TransportFault) as info,
    ):
        registry.all_records()
    assert info.value.code == "REGISTRY-TLS"
    assert info.value.message_bg


@pytest.mark.parametrize("credentials", ["none", "foreign"])
def test_the_register_refuses_clients_without_an_accepted_certificate(
    register: RunningRegister, pki: Pki, credentials: str
) -> None:
    chosen = None if credentials == "none" else pki.foreign
    with (
        RegistryClient(
            register.url, client_certificate=chosen, verify=[pki.ca.certificate], timeout=5
        ) as registry,
        pytest.raises(TransportFault) as info,
    ):
        registry.all_records()
    assert info.value.code in {"REGISTRY-TLS", "REGISTRY-CONNECTION"}


def test_secure_defaults(pki: Pki) -> None:
    with pytest.raises(ValueError, match="https"):
        RegistryClient("http://127.0.0.1:1/")
    with pytest.raises(ValueError, match="https"):
        RegistryClient("ftp://127.0.0.1/")
    with pytest.raises(ValueError, match="cannot be turned off"):
        RegistryClient("https://127.0.0.1:1/", verify=False)
    with pytest.raises(ValueError, match="positive"):
        RegistryClient("https://127.0.0.1:1/", timeout=0)
    context = client_ssl_context(pki.alpha, verify=[pki.ca.certificate])
    assert context.check_hostname
    assert context.minimum_version.value >= 0x0303  # TLS 1.2


def test_nothing_listening_is_a_fault_to_retry() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        RegistryClient(f"http://127.0.0.1:{port}/", allow_http=True, timeout=2) as registry,
        pytest.raises(TransportFault) as info,
    ):
        registry.all_records()
    assert info.value.code == "REGISTRY-CONNECTION"


# --- what a bad register answers ------------------------------------------------------------


def scripted_client(scripted: ScriptedServer, pki: Pki, **options: object) -> RegistryClient:
    return client(scripted.url, pki, **options)


def test_the_request_is_what_the_wsdl_says(scripted: ScriptedServer, pki: Pki) -> None:
    script = scripted.answer(chunks=[build_response("GetByGuid", Directory())])
    with scripted_client(scripted, pki) as registry:
        registry.by_guid(ALPHA_GUID)
    ((headers, body),) = script.requests
    assert headers["soapaction"] == '"uri:egovmsg/GetByGuid"'
    assert headers["content-type"] == "text/xml; charset=utf-8"
    assert f'<guid xsi:type="xsd:string">{ALPHA_GUID}</guid>'.encode() in body


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (SoapFault("Client", "bad request"), SenderError, "REGISTRY-FAULT-CLIENT"),
        (SoapFault("soap:Client.Auth", "who are you"), SenderError, "REGISTRY-FAULT-CLIENT"),
        (SoapFault("Server", "database down"), TransportFault, "REGISTRY-FAULT"),
    ],
)
def test_faults_are_classified(
    scripted: ScriptedServer,
    pki: Pki,
    fault: SoapFault,
    error: type[Exception],
    code: str,
) -> None:
    scripted.answer(status=500, chunks=[build_fault(fault)])
    with scripted_client(scripted, pki) as registry, pytest.raises(error) as info:
        registry.all_records()
    assert getattr(info.value, "code", None) == code
    assert fault.string in str(info.value)


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (503, b"Service Unavailable", TransportFault, "REGISTRY-HTTP"),
        (429, b"", TransportFault, "REGISTRY-HTTP"),
        (403, b"<html>Forbidden</html>", SenderError, "REGISTRY-HTTP"),
        (404, b"", SenderError, "REGISTRY-HTTP"),
        (302, b"", ReceiverError, "REGISTRY-HTTP"),
        (200, b"", ReceiverError, "REGISTRY-RESPONSE"),
        (200, b"<html>maintenance</html>", ReceiverError, "SOAP-MALFORMED"),
        (200, b"\x00\x01 binary", ReceiverError, "SOAP-XML"),
        (200, b"<s:Envelope", ReceiverError, "SOAP-XML"),
        (
            200,
            build_response("GetByGuid", Directory()),  # the answer to another operation
            ReceiverError,
            "REGISTRY-RESPONSE",
        ),
    ],
    ids=[
        "503", "429", "403", "404", "302", "empty-200", "html-200", "binary-200",
        "truncated-200", "wrong-operation",
    ],
)  # fmt: skip
def test_malformed_answers_are_typed_errors(
    scripted: ScriptedServer,
    pki: Pki,
    status: int,
    body: bytes,
    error: type[Exception],
    code: str,
) -> None:
    scripted.answer(status=status, chunks=[body] if body else [])
    with scripted_client(scripted, pki) as registry, pytest.raises(error) as info:
        registry.all_records()
    assert getattr(info.value, "code", None) == code
    assert getattr(info.value, "message_bg", "")


def test_unreadable_records_are_left_out_with_a_warning(
    scripted: ScriptedServer, pki: Pki, directory: Directory, caplog: pytest.LogCaptureFixture
) -> None:
    data = build_response("GetAllRecords", directory).replace(
        str(BETA_GUID).encode(), b"{not-a-guid}"
    )
    scripted.answer(chunks=[data])
    with scripted_client(scripted, pki) as registry:
        result = registry.all_records()
    assert {p.guid for p in result.participants} == {ALPHA_GUID, BRANCH_GUID}
    assert [i.code for i in result.rejected] == ["ID-GUID"]
    assert "left out" in caplog.text


def test_oversized_answers_are_refused(
    scripted: ScriptedServer, pki: Pki, directory: Directory
) -> None:
    data = build_response("GetAllRecords", directory)
    # declared too large
    scripted.answer(chunks=[data])
    with scripted_client(scripted, pki, max_bytes=len(data) - 1) as registry:
        with pytest.raises(ReceiverError) as info:
            registry.all_records()
        assert info.value.code == "REGISTRY-TOO-LARGE"
    # streamed without a length, larger than the limit
    scripted.answer(
        headers=[(b"content-type", b"text/xml")], chunks=[b"<s:Envelope>" + b" " * 4096] * 64
    )
    with scripted_client(scripted, pki, max_bytes=64 * 1024) as registry:
        with pytest.raises(ReceiverError) as info:
            registry.all_records()
        assert info.value.code == "REGISTRY-TOO-LARGE"


def test_too_many_records_are_refused(
    scripted: ScriptedServer, pki: Pki, directory: Directory
) -> None:
    scripted.answer(chunks=[build_response("GetAllRecords", directory)])
    with scripted_client(scripted, pki, max_records=2) as registry:
        with pytest.raises(ReceiverError) as info:
            registry.all_records()
        assert info.value.code == "REGISTRY-TOO-MANY"


def test_a_silent_register_times_out(scripted: ScriptedServer, pki: Pki) -> None:
    scripted.answer(delay_before=1.0, chunks=[build_response("GetAllRecords", Directory())])
    with scripted_client(scripted, pki, timeout=0.3) as registry:
        with pytest.raises(TransportFault) as info:
            registry.all_records()
        assert info.value.code == "REGISTRY-TIMEOUT"


def test_a_trickling_register_hits_the_deadline(scripted: ScriptedServer, pki: Pki) -> None:
    """Each byte arrives within the read timeout; the whole answer does not."""
    scripted.answer(chunks=[b" "] * 20, delay_between=0.1)
    with scripted_client(scripted, pki, timeout=0.5) as registry:
        with pytest.raises(TransportFault) as info:
            registry.all_records()
        assert info.value.code == "REGISTRY-TIMEOUT"


def test_the_async_client_classifies_failures_too(scripted: ScriptedServer, pki: Pki) -> None:
    scripted.answer(status=500, chunks=[build_fault(SoapFault("Server", "later"))])

    async def run() -> None:
        async with AsyncRegistryClient(
            scripted.url, client_certificate=pki.alpha, verify=[pki.ca.certificate], timeout=2
        ) as registry:
            await registry.call(Operation.GET_ALL_RECORDS)

    with pytest.raises(TransportFault) as info:
        asyncio.run(run())
    assert info.value.code == "REGISTRY-FAULT"
    scripted.answer(chunks=[b"x" * 2048])

    async def oversized() -> None:
        async with AsyncRegistryClient(
            scripted.url, verify=[pki.ca.certificate], timeout=2, max_bytes=1024
        ) as registry:
            await registry.all_records()

    with pytest.raises(ReceiverError) as too_large:
        asyncio.run(oversized())
    assert too_large.value.code == "REGISTRY-TOO-LARGE"
