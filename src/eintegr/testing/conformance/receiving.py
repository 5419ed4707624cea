"""The receiving scenarios: the tester is the client, the system under test the server.

The transport-level ones (П.*) are here; the application-level ones (ЗР.*, ПС.*, ИС.*, ИГ.*)
in :mod:`.application`, which also runs the tester's endpoint for answers the system pushes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eintegr.errors import EintegrError, TransportError
from eintegr.messages.seos import Message
from eintegr.signing.pki import Issued
from eintegr.signing.trust import CertificateAuthorities
from eintegr.testing.conformance.application import (
    APPLICATION_CASES,
    ApplicationRun,
    Inbox,
    tester_endpoint,
)
from eintegr.testing.conformance.client import Answer, Exchange, expired_certificate, submit
from eintegr.testing.conformance.kit import TesterSetup
from eintegr.testing.conformance.messages import (
    foreign_signer,
    registration,
    signed,
    with_stray_element,
)
from eintegr.testing.conformance.report import (
    ConformanceReport,
    Evidence,
    ScenarioResult,
    Verdict,
    excerpt,
)
from eintegr.testing.conformance.scenarios import Direction, Scenario, select
from eintegr.transport.checks import ExchangeChecks, read_outgoing

__all__ = ["run_receiving"]


@dataclass(frozen=True)
class _Outcome:
    verdict: Verdict
    reason: str
    evidence: Evidence


class _Run:
    def __init__(self, setup: TesterSetup, endpoint: str) -> None:
        self.setup = setup
        self.endpoint = endpoint
        self.tester = setup.tester_participant
        self.signer = setup.tester.signer()

    def post(self, message: bytes, client: Issued | None) -> Exchange:
        return submit(
            self.endpoint,
            message,
            client=client,
            server_ca=self.setup.server_ca,
            timeout=self.setup.timeout,
        )

    def good(self, *, attachment_bytes: int = 0) -> tuple[Message, bytes]:
        message = registration(self.tester, self.setup.sut, attachment_bytes=attachment_bytes)
        return message, signed(message, self.signer)

    def expect_refusal(
        self, message: bytes, client: Issued | None, sent: str, notes: Sequence[str] = ()
    ) -> _Outcome:
        answer = self.post(message, client).answer()
        evidence = Evidence(sent=sent, received=_received(answer), notes=tuple(notes))
        if answer.refused:
            return _Outcome(Verdict.PASS, f"refused ({answer.kind})", evidence)
        return _Outcome(
            Verdict.FAIL, f"expected a fault, the system answered: {answer.kind}", evidence
        )

    # --- the scenarios ------------------------------------------------------------------------

    def p1(self) -> _Outcome:
        _, data = self.good()
        return self.expect_refusal(
            data,
            None,
            f"a valid signed message over TLS without a client certificate ({len(data)} bytes)",
        )

    def p1_invalid(self) -> _Outcome:
        invalid = expired_certificate(eik=self.tester.eik)
        _, data = self.good()
        return self.expect_refusal(
            data,
            invalid,
            "a valid message over TLS with an expired certificate of an "
            f"untrusted CA (serial {invalid.certificate.serial_number:x})",
        )

    def p5_unregistered(self) -> _Outcome | str:
        stranger = self.setup.unregistered
        if stranger is None:
            return "no certificate that no participant holds was configured"
        message = registration(self.tester, self.setup.sut)
        data = signed(message, stranger.signer())
        return self.expect_refusal(
            data,
            stranger,
            "a message signed and sent (TLS) with a trusted certificate held "
            f"by no participant (serial {stranger.certificate.serial_number:x})",
        )

    def p5_inactive(self) -> _Outcome | str:
        inactive, participant = self.setup.inactive, self.setup.inactive_participant
        if inactive is None or participant is None:
            return "no inactive participant's certificate was configured"
        if participant.is_active:
            return f"the configured 'inactive' participant {participant.guid} is active"
        data = signed(registration(participant, self.setup.sut), inactive.signer())
        return self.expect_refusal(
            data,
            inactive,
            f"a message from the inactive participant {participant.guid}, signed "
            "and sent with its registered certificate",
        )

    def p_size(self) -> _Outcome:
        limit = self.setup.max_bytes
        _, data = self.good(attachment_bytes=limit * 3 // 4 + 1024)
        return self.expect_refusal(
            data, self.setup.tester, f"a signed message of {len(data)} bytes (limit {limit})"
        )

    def p2(self) -> _Outcome:
        data = b'<?xml version="1.0" encoding="utf-8"?><Message><Header>not closed'
        return self.expect_refusal(data, self.setup.tester, f"not well-formed XML: {data!r}")

    def p3(self) -> _Outcome:
        message = registration(self.tester, self.setup.sut)
        data = signed(with_stray_element(message), self.signer)
        return self.expect_refusal(
            data, self.setup.tester, "a signed Message with Header/ConformanceUnexpected"
        )

    def p4(self) -> _Outcome:
        data = signed(registration(self.tester, self.tester), self.signer)
        return self.expect_refusal(
            data,
            self.setup.tester,
            f"a signed message addressed to {self.tester.guid} "
            "(the tester), not to the system under test",
        )

    def p6(self) -> _Outcome | str:
        other = self.setup.inactive or self.setup.unregistered
        if other is None:
            return "no second certificate (inactive or unregistered) was configured"
        _, data = self.good()
        return self.expect_refusal(
            data,
            other,
            "a message from the tester, signed with its certificate, sent over TLS "
            f"with another certificate (serial {other.certificate.serial_number:x})",
        )

    def p7(self) -> _Outcome:
        data = registration(self.tester, self.setup.sut).to_xml()
        return self.expect_refusal(data, self.setup.tester, "a valid message without a signature")

    def p8(self) -> _Outcome:
        foreign = foreign_signer(eik=self.tester.eik)
        data = signed(registration(self.tester, self.setup.sut), foreign.signer())
        return self.expect_refusal(
            data,
            self.setup.tester,
            "a message signed with a certificate of another CA "
            f"(serial {foreign.certificate.serial_number:x}), TLS with the tester's",
        )

    def p9(self) -> _Outcome:
        message, data = self.good()
        guid = message.header.message_guid
        first = self.post(data, self.setup.tester).answer()
        sent = f"a valid signed message (MessageGUID {guid}) twice"
        if first.refused or first.kind == "garbled":
            return _Outcome(
                Verdict.FAIL,
                "the first, valid submission was not accepted",
                Evidence(sent=sent, received=f"first: {_received(first)}"),
            )
        second = self.post(data, self.setup.tester).answer()
        evidence = Evidence(
            sent=sent, received=f"first: {_received(first)}; second: {_received(second)}"
        )
        if second.refused:
            return _Outcome(Verdict.PASS, f"the copy was refused ({second.kind})", evidence)
        return _Outcome(Verdict.FAIL, f"the copy was accepted ({second.kind})", evidence)

    def p_ok(self) -> _Outcome:
        message, data = self.good(attachment_bytes=256)
        exchange = self.post(data, self.setup.tester)
        answer = exchange.answer()
        sent = f"a valid signed registration request (MessageGUID {message.header.message_guid})"
        evidence = Evidence(sent=sent, received=_received(answer))
        if answer.kind == "empty":
            return _Outcome(Verdict.PASS, "accepted with an empty answer", evidence)
        if answer.kind != "response" or answer.response is None:
            return _Outcome(Verdict.FAIL, f"not accepted ({answer.kind})", evidence)
        checks = ExchangeChecks(
            register=self.setup.register,
            certificate=self.setup.tester.certificate,
            trust=CertificateAuthorities(list(self.setup.server_ca)),
        )
        checks.seen.add_if_new(message.header.message_guid)
        try:
            checks.check_response(
                answer.response,
                read_outgoing(data),
                self.setup.sut,
                peer_certificate=exchange.server_certificate,
            )
        except EintegrError as error:
            return _Outcome(
                Verdict.FAIL,
                f"the response message fails the sender's check {error.code}: {error}",
                evidence,
            )
        return _Outcome(Verdict.PASS, "accepted; the response passes И.9–И.15", evidence)


_CASES: dict[str, Callable[[_Run], _Outcome | str]] = {
    "П.1": _Run.p1,
    "П.1-INVALID": _Run.p1_invalid,
    "П.5-UNREGISTERED": _Run.p5_unregistered,
    "П.5-INACTIVE": _Run.p5_inactive,
    "П.SIZE": _Run.p_size,
    "П.2": _Run.p2,
    "П.3": _Run.p3,
    "П.4": _Run.p4,
    "П.6": _Run.p6,
    "П.7": _Run.p7,
    "П.8": _Run.p8,
    "П.9": _Run.p9,
    "П.OK": _Run.p_ok,
}


def _received(answer: Answer) -> str:
    if answer.response is not None:
        return f"{answer.detail}: {excerpt(answer.response, 300)}"
    return answer.detail


def run_receiving(
    setup: TesterSetup, endpoint: str | None = None, *, only: Sequence[str] = ()
) -> ConformanceReport:
    """Run the receiving scenarios (``only`` those IDs, when given) against the system's
    ``Submit`` endpoint (default: its URI in the register).

    :raises TransportError: ``CONFORMANCE-UNREACHABLE`` — the endpoint cannot be reached with
        the tester's certificate at all (nothing would be meaningful).
    :raises KeyError: an unknown scenario ID.
    """
    url = endpoint or setup.sut.endpoint
    run = _Run(setup, url)
    chosen: list[Scenario] = select(list(only), direction=Direction.RECEIVING)
    if not chosen:
        return ConformanceReport((), url)
    probe = submit(
        url,
        b"",
        client=setup.tester,
        server_ca=setup.server_ca,
        timeout=setup.timeout,
        raw_body=b"",
    )
    if probe.error is not None and probe.server_certificate is None:
        raise TransportError(
            f"the endpoint {url} cannot be reached with the tester's certificate: {probe.error}",
            code="CONFORMANCE-UNREACHABLE",
            message_bg=f"Крайната точка {url} е недостъпна със сертификата на тестващия: "
            f"{probe.error}",
        )
    with contextlib.ExitStack() as stack:
        application: ApplicationRun | None = None
        if any(s.id in APPLICATION_CASES for s in chosen):
            inbox_url = tester_endpoint(setup)
            inbox = None if inbox_url is None else stack.enter_context(Inbox(setup, inbox_url))
            application = ApplicationRun(setup, url, inbox)
        results = [_run_one(scenario, run, application) for scenario in chosen]
    return ConformanceReport(tuple(results), url)


def _run_one(scenario: Scenario, run: _Run, application: ApplicationRun | None) -> ScenarioResult:
    started = time.monotonic()
    if scenario.id in APPLICATION_CASES:
        assert application is not None
        verdict, reason, evidence = APPLICATION_CASES[scenario.id](application)
        outcome: _Outcome | str = _Outcome(verdict, reason, evidence)
    else:
        outcome = _CASES[scenario.id](run)
    seconds = time.monotonic() - started
    if isinstance(outcome, str):
        return ScenarioResult(scenario, Verdict.NOT_APPLICABLE, outcome, seconds=seconds)
    return ScenarioResult(scenario, outcome.verdict, outcome.reason, outcome.evidence, seconds)
