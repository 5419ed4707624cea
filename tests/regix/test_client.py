"""The RegiX client against the local RegiX, over mutual TLS on 127.0.0.1."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest

from eintegr.errors import (
    IdentifierError,
    MessageError,
    ReceiverError,
    SenderError,
    TransportFault,
    VerificationError,
)
from eintegr.messages.regix import GET_ACTUAL_STATE, PERSON_DATA_SEARCH
from eintegr.messages.regix_operations.av_tr import (
    ActualStateRequest,
    ActualStateResponse,
    ValidUICRequest,
)
from eintegr.messages.regix_operations.grao_nbd import PersonDataRequest, PersonDataResponse
from eintegr.messages.regix_operations.grao_pna import (
    PermanentAddressRequest,
    TemporaryAddressResponse,
)
from eintegr.signing import PinnedCertificates, VerificationPolicy
from eintegr.testing.regix_server import NO_DATA, RegixTestServer, demo_store
from eintegr.transport.regix import (
    PRODUCTION_URL,
    AsyncRegixClient,
    PendingCall,
    RegixClient,
    read_result,
)
from eintegr.transport.soap import SoapFault, build_fault
from eintegr.transport.submit_client import TlsCredentials
from tests.regix.conftest import COMPANY_EIK, CONTEXT, PERSON_EGN, Pki, Regix


def test_execute_returns_typed_signed_data(regix: Regix) -> None:
    with regix.client() as client:
        result = client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    assert result.is_ready
    assert not result.has_error
    assert result.operation is PERSON_DATA_SEARCH
    assert isinstance(result.response, PersonDataResponse)
    assert result.response.person_names is not None
    assert result.response.person_names.full == "Мария Иванова Петрова"
    assert result.warnings == ()
    assert result.signature is not None
    assert result.signed
    assert result.signature.certificate == regix.pki.signer.certificate
    assert result.response_xml is not None
    sent = regix.server.requests[-1]
    assert sent.call_context == CONTEXT
    assert sent.operation == PERSON_DATA_SEARCH.key
    assert sent.sign_result
    assert not sent.asynchronous


def test_register_data_problems_are_warnings(regix: Regix) -> None:
    with regix.client() as client:
        result = client.execute(GET_ACTUAL_STATE, ActualStateRequest(uic=COMPANY_EIK), CONTEXT)
    assert isinstance(result.response, ActualStateResponse)
    assert [(w.code, w.path, str(w.severity)) for w in result.warnings] == [
        ("ID-EGN", "/ActualStateResponse/Details/Detail[2]/Subject/Indent", "warning")
    ]
    assert "7501020019" in result.warnings[0].message_en
    assert result.warnings[0].message("bg").startswith("ЕГН")


def test_asynchronous_execution_is_polled_and_acknowledged(fresh: Regix) -> None:
    fresh.server.polls_until_ready = 2
    with fresh.client() as client:
        result = client.execute(
            "PermanentAddressSearch",
            PermanentAddressRequest(egn=PERSON_EGN, search_date="2024-01-31"),
            CONTEXT,
            asynchronous=True,
        )
    assert result.is_ready
    assert result.service_call_id in fresh.server.acknowledged
    assert fresh.server.requests[-1].asynchronous


def test_asynchronous_steps_one_by_one(fresh: Regix) -> None:
    with fresh.client() as client:
        pending = client.submit(
            "TemporaryAddressSearch",
            b'<TemporaryAddressRequest xmlns="http://egov.bg/RegiX/GRAO/PNA/'
            b'TemporaryAddressRequest"><EGN>9001011238</EGN><SearchDate>2024-01-31'
            b"</SearchDate></TemporaryAddressRequest>",
            CONTEXT,
        )
        assert isinstance(pending, PendingCall)
        assert pending.verification_code
        first = client.check_result(pending)
        assert not first.is_ready
        assert first.response is None
        second = client.check_result(pending)
        assert second.is_ready
        assert isinstance(second.response, TemporaryAddressResponse)
        assert second.signature is not None
        client.acknowledge(pending)
        assert pending.service_call_id in fresh.server.acknowledged
        with pytest.raises(SenderError) as gone:  # acknowledged: RegiX has forgotten it
            client.check_result(pending)
        assert gone.value.code == "REGIX-FAULT"
        forged = PendingCall(PERSON_DATA_SEARCH, Decimal(999999), "wrong")
        with pytest.raises(SenderError):
            client.check_result(forged)


def test_waiting_too_long_keeps_the_call_for_later(fresh: Regix) -> None:
    fresh.server.polls_until_ready = 1000
    with fresh.client(wait_timeout=0.3) as client, pytest.raises(TransportFault) as caught:
        client.execute(
            "PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT, asynchronous=True
        )
    assert caught.value.code == "REGIX-NOT-READY"
    assert "poll it again" in str(caught.value)


def test_has_error_raises_or_is_returned(regix: Regix) -> None:
    with regix.client() as client:
        with pytest.raises(ReceiverError) as caught:
            client.execute("PersonDataSearch", PersonDataRequest(egn="8506258485"), CONTEXT)
        assert caught.value.code == "REGIX-HAS-ERROR"
        assert NO_DATA in str(caught.value)
        assert "ServiceCallID" in str(caught.value)
        result = client.execute(
            "PersonDataSearch",
            PersonDataRequest(egn="8506258485"),
            CONTEXT,
            raise_on_error=False,
        )
    assert result.has_error
    assert result.error == NO_DATA
    assert result.response is None


def test_invalid_arguments_never_leave(regix: Regix) -> None:
    before = len(regix.server.requests)
    with regix.client() as client:
        with pytest.raises(IdentifierError) as bad_egn:
            client.execute("PersonDataSearch", PersonDataRequest(egn="9001011239"), CONTEXT)
        assert bad_egn.value.code == "ID-EGN"
        with pytest.raises(MessageError) as bad_xml:
            client.execute(
                "PersonDataSearch",
                b'<PersonDataRequest xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataRequest"/>',
                CONTEXT,
            )
        assert bad_xml.value.code == "REGIX-ARGUMENT"
    assert len(regix.server.requests) == before
    with regix.client() as client:
        result = client.execute(
            "PersonDataSearch",
            PersonDataRequest(egn="9001011239"),
            CONTEXT,
            check_identifiers=False,
            raise_on_error=False,
        )
    assert result.has_error  # sent: the register has no such person


def test_unsigned_results_when_a_signature_was_asked_for(pki: Pki) -> None:
    server = RegixTestServer(demo_store())  # no signer
    with server.run(tls=pki.server, client_ca=[pki.ca.certificate]) as running:
        client = RegixClient(
            running.url,
            credentials=TlsCredentials.from_issued(pki.client),
            ca=[pki.ca.certificate],
            signature_policy=pki.policy(),
        )
        with client:
            with pytest.raises(VerificationError) as caught:
                client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
            assert caught.value.code == "П.7"
            unsigned = client.execute(
                "PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT, sign_result=False
            )
            assert unsigned.signature is None
            assert not unsigned.signed


def test_a_signature_by_someone_else_is_refused(regix: Regix) -> None:
    stranger = VerificationPolicy(trust=PinnedCertificates([regix.pki.stranger.certificate]))
    with (
        regix.client(signature_policy=stranger) as client,
        pytest.raises(VerificationError) as caught,
    ):
        client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    assert caught.value.code == "П.8"
    with regix.client(signature_policy=None) as client:  # no policy: nothing is claimed
        result = client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    assert result.signed
    assert result.signature is None


def test_faults_and_http_errors_are_classified(fresh: Regix) -> None:
    def call(client: RegixClient) -> object:
        return client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)

    server = fresh.server
    cases: list[tuple[int, bytes, type[Exception], str]] = [
        (500, build_fault(SoapFault("Client", "bad request")), SenderError, "REGIX-FAULT"),
        (500, build_fault(SoapFault("Server", "adapter down")), TransportFault, "REGIX-FAULT"),
        (503, b"Service Unavailable", TransportFault, "REGIX-HTTP"),
        (403, b"Forbidden", SenderError, "REGIX-HTTP"),
        (200, b"<not-soap/>", ReceiverError, "REGIX-BAD-RESPONSE"),
        (200, b"\x00\x01", ReceiverError, "REGIX-BAD-RESPONSE"),
    ]
    with fresh.client() as client:
        for status, body, kind, code in cases:
            server.inject(status, body)
            with pytest.raises(kind) as caught:
                call(client)
            assert caught.value.code == code, (status, body)  # type: ignore[attr-defined]
        empty = (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b'<ExecuteResponse xmlns="http://egov.bg/RegiX"/></s:Body></s:Envelope>'
        )
        server.inject(200, empty)
        with pytest.raises(ReceiverError, match="exactly one ExecuteResult"):
            call(client)


def test_timeouts_and_size_limits(fresh: Regix) -> None:
    fresh.server.delay = 1.0
    with fresh.client(timeout=0.2) as client, pytest.raises(TransportFault) as caught:
        client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    assert caught.value.code == "REGIX-TIMEOUT"
    fresh.server.delay = 0.0
    with fresh.client(max_response_bytes=1000) as client, pytest.raises(ReceiverError) as big:
        client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    assert big.value.code == "REGIX-TOO-LARGE"


def test_mutual_tls_is_required_and_the_server_is_checked(regix: Regix) -> None:
    pki = regix.pki
    no_cert = RegixClient(regix.url, ca=[pki.ca.certificate], timeout=5)
    with no_cert, pytest.raises(TransportFault) as caught:
        no_cert.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    assert caught.value.code in ("REGIX-TLS", "REGIX-NETWORK")
    wrong_ca = RegixClient(
        regix.url,
        credentials=TlsCredentials.from_issued(pki.client),
        ca=[pki.other_ca.certificate],
        timeout=5,
    )
    with wrong_ca, pytest.raises(TransportFault) as untrusted:
        wrong_ca.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    assert untrusted.value.code == "REGIX-TLS"
    stranger = regix.client(issued=pki.stranger, timeout=5)
    with stranger, pytest.raises(TransportFault):
        stranger.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)


def test_plain_http_needs_an_explicit_opt_in() -> None:
    with pytest.raises(ValueError, match="https only"):
        RegixClient("http://127.0.0.1:1/")
    assert PRODUCTION_URL.startswith("https://")
    assert PRODUCTION_URL.endswith("/basic")
    with pytest.raises(ValueError, match="positive"):
        RegixClient(max_response_bytes=0)


def test_an_unreachable_regix_is_a_transport_fault(pki: Pki) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = RegixClient(
        f"https://127.0.0.1:{port}/", credentials=TlsCredentials.from_issued(pki.client), timeout=2
    )
    with client, pytest.raises(TransportFault) as caught:
        client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    assert caught.value.code == "REGIX-NETWORK"


def test_a_caller_supplied_http_client(regix: Regix) -> None:
    pki = regix.pki
    context = TlsCredentials.from_issued(pki.client).client_context([pki.ca.certificate])
    with httpx.Client(verify=context) as http:
        client = RegixClient(regix.url, http_client=http, signature_policy=pki.policy())
        result = client.execute("GetValidUICInfo", ValidUICRequest(uic=COMPANY_EIK), CONTEXT)
        client.close()  # does not close the caller's client
        assert not http.is_closed
    assert result.response is not None


def test_the_asyncio_client(fresh: Regix) -> None:
    pki = fresh.pki

    async def scenario() -> None:
        async with AsyncRegixClient(
            fresh.url,
            credentials=TlsCredentials.from_issued(pki.client),
            ca=[pki.ca.certificate],
            signature_policy=pki.policy(),
        ) as client:
            results = await asyncio.gather(
                client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT),
                client.execute(
                    GET_ACTUAL_STATE,
                    ActualStateRequest(uic=COMPANY_EIK),
                    CONTEXT,
                    asynchronous=True,
                ),
            )
            assert isinstance(results[0].response, PersonDataResponse)
            assert results[1].warnings
            assert results[1].signature is not None
            pending = await client.submit(
                "PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT
            )
            waited = await client.wait(pending)
            assert waited.is_ready
            assert pending.service_call_id in fresh.server.acknowledged
            fresh.server.polls_until_ready = 1000
            slow = await client.submit(
                "PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT
            )
            with pytest.raises(TransportFault):
                await client.wait(slow, timeout=0.2)
            fresh.server.inject(500, build_fault(SoapFault("Client", "no")))
            with pytest.raises(SenderError):
                await client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
            fresh.server.delay = 1.0
        async with AsyncRegixClient(
            fresh.url,
            credentials=TlsCredentials.from_issued(pki.client),
            ca=[pki.ca.certificate],
            timeout=0.2,
            max_response_bytes=10,
        ) as quick:
            with pytest.raises(TransportFault):
                await quick.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
            fresh.server.delay = 0.0
            with pytest.raises(ReceiverError):
                await quick.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)

    asyncio.run(scenario())


def test_saved_results_can_be_read_offline(regix: Regix) -> None:
    regix.server.requests.clear()
    with regix.client() as client:
        live = client.execute("PersonDataSearch", PersonDataRequest(egn=PERSON_EGN), CONTEXT)
    saved = live.result.to_xml()
    offline = read_result(saved)
    assert offline.operation is PERSON_DATA_SEARCH  # recognised by the response element
    assert offline.response == live.response
    assert offline.signature is None
    assert offline.signed
    with pytest.raises(MessageError, match="answers"):
        read_result(saved, "GetValidUICInfo")
    unknown = read_result(
        b'<ServiceResultData xmlns="http://egov.bg/RegiX/SignedData"><IsReady>true</IsReady>'
        b'<Data id="data"><Request/><Response><X xmlns="urn:x"/></Response></Data>'
        b"<HasError>false</HasError></ServiceResultData>"
    )
    assert unknown.operation is None
    assert unknown.response is None
    assert unknown.response_xml is not None
