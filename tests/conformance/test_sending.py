"""The sending scenarios against eintegr's Submit client, sound and broken."""

from __future__ import annotations

import ssl

import httpx

from eintegr.errors import ReceiverError, SenderError, TransportFault
from eintegr.signing.trust import CertificateAuthorities
from eintegr.testing.conformance import ConformanceKit, Verdict
from eintegr.testing.conformance.messages import registration, signed
from eintegr.testing.conformance.sending import SendHook, SendRequest, run_sending
from eintegr.transport import ExchangeChecks, SubmitTransport, TlsCredentials
from eintegr.transport.submit_client import (
    SUBMIT_ACTION,
    build_submit_request,
    read_submit_response,
)


def _message(kit: ConformanceKit, request: SendRequest) -> bytes:
    message = registration(
        kit.sut_participant, request.recipient, attachment_bytes=512 if request.attachments else 0
    )
    return signed(message, kit.sut.signer())


def eintegr_client(kit: ConformanceKit) -> SendHook:
    def send(request: SendRequest) -> str:
        transport = SubmitTransport(
            TlsCredentials.from_issued(kit.sut),
            register=request.register,
            ca=[kit.ca.certificate],
            participant=kit.sut_participant.guid,
        )
        try:
            transport.send(request.recipient, _message(kit, request))
            return "sent"
        except TransportFault:
            return "retry"
        except (SenderError, ReceiverError):
            return "failed"
        finally:
            transport.close()

    return send


def trusting_client(kit: ConformanceKit) -> SendHook:
    """Broken on purpose: does not check the server's certificate (checks answers, though)."""

    def send(request: SendRequest) -> str:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        TlsCredentials.from_issued(kit.sut).load_into(context)
        data = _message(kit, request)
        checks = ExchangeChecks(
            register=request.register,
            certificate=kit.sut.certificate,
            trust=CertificateAuthorities([kit.ca.certificate]),
        )
        outgoing = checks.check_outgoing(data, request.recipient)
        assert outgoing.message_guid is not None
        checks.seen.add_if_new(outgoing.message_guid)
        try:
            with httpx.Client(verify=context, timeout=10.0) as client:
                answer = client.post(
                    request.url,
                    content=build_submit_request(data),
                    headers={
                        "Content-Type": "text/xml; charset=utf-8",
                        "SOAPAction": SUBMIT_ACTION,
                    },
                )
            response = read_submit_response(answer.content, status=answer.status_code)
            if response is not None:
                checks.check_response(response, outgoing, request.recipient)
            return "sent"
        except TransportFault:
            return "retry"
        except (SenderError, ReceiverError):
            return "failed"

    return send


def test_eintegr_client_passes_every_sending_scenario(kit: ConformanceKit) -> None:
    report = run_sending(kit.setup(timeout=10.0), eintegr_client(kit))
    assert len(report.results) == 11
    assert all(r.verdict is Verdict.PASS for r in report.results), report.to_text()


def test_client_that_ignores_the_server_certificate_fails_exactly_i7(kit: ConformanceKit) -> None:
    report = run_sending(kit.setup(timeout=10.0), trusting_client(kit))
    assert [r.scenario.id for r in report.failures] == ["И.7"], report.to_text()
