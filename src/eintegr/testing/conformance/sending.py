"""The sending scenarios: the system under test is the client, the tester a scripted server.

For each scenario the tester starts a ``Submit`` server on a loopback port (mutual TLS),
checks the request it receives with the receiving checks П.1–П.9 (the tester is the
recipient), answers as the scenario says — correctly, with a fault, with garbage, with a
forged response — and asks the system under test, through a :data:`SendHook`, to send one
registration request to it. The hook reports what the system made of the answer: ``sent``
(delivered), ``failed`` (marked as an error, no retry) or ``retry`` (will try again later).

Systems run as separate programs use :func:`command_hook`: the command runs once per
scenario with these environment variables and prints ``sent``, ``failed`` or ``retry`` as
the last line of its output:

===============================  =============================================================
``EINTEGR_CONFORMANCE_SCENARIO``  the scenario ID
``EINTEGR_CONFORMANCE_URL``       the tester's ``Submit`` URL for this scenario
``EINTEGR_CONFORMANCE_RECIPIENT`` the tester's participant GUID (send to it)
``EINTEGR_CONFORMANCE_EIK``       the tester's ЕИК
``EINTEGR_CONFORMANCE_REGISTER``  a register file (JSON) listing the tester with that URL
``EINTEGR_CONFORMANCE_ATTACH``    ``1`` when the request must carry attachments, else ``0``
===============================  =============================================================
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

from cryptography import x509

from eintegr.errors import EintegrError, TransportFault
from eintegr.identifiers import Guid
from eintegr.messages.seos import (
    DocumentRegistrationRequest,
    DocumentStatus,
    EntityNode,
    Message,
    status_response,
)
from eintegr.registry.files import save_directory
from eintegr.registry.model import (
    DOCUMENT_EXCHANGE_SERVICE,
    Participant,
    Service,
    StaticRegister,
)
from eintegr.registry.soap import Directory
from eintegr.signing.pki import Issued
from eintegr.testing.conformance.kit import TesterSetup
from eintegr.testing.conformance.messages import (
    entity,
    foreign_signer,
    signed,
    with_stray_element,
)
from eintegr.testing.conformance.report import ConformanceReport, Evidence, ScenarioResult, Verdict
from eintegr.testing.conformance.scenarios import Direction, Scenario, select
from eintegr.transport.asgi_server import server_ssl_context
from eintegr.transport.receiving import ReceivingPipeline
from eintegr.transport.server import SubmitApp, SubmitServer

__all__ = ["OUTCOMES", "SendHook", "SendRequest", "command_hook", "run_sending"]

OUTCOMES: Final = ("sent", "failed", "retry")
"""What a hook may report: delivered; marked as an error for good; to be retried later."""


@dataclass(frozen=True)
class SendRequest:
    """What the system under test must send in one scenario.

    :ivar scenario: the scenario ID.
    :ivar url: the tester's ``Submit`` URL.
    :ivar recipient: the tester as the register describes it (its service at :attr:`url`).
    :ivar register: the register with the tester at :attr:`url`.
    :ivar attachments: the registration request must carry attachments.
    """

    scenario: str
    url: str
    recipient: Participant
    register: StaticRegister
    attachments: bool


SendHook = Callable[[SendRequest], str]
"""Makes the system under test send one registration request; returns one of
:data:`OUTCOMES`."""


@dataclass
class _Seen:
    requests: list[bytes] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    message: Message | None = None


class _ScriptedReceiver:
    """The scripted peer's answer to a ``Submit``: checks the request, then misbehaves."""

    def __init__(self, scenario: str, setup: TesterSetup, tester: Participant) -> None:
        self.scenario = scenario
        self.setup = setup
        self.tester = tester
        self.seen = _Seen()
        self.lock = threading.Lock()
        self.pipeline = ReceivingPipeline(tester, setup.register, handler=lambda _r: None)

    def __call__(
        self, message: bytes, *, client_certificate: x509.Certificate | None
    ) -> bytes | None:
        with self.lock:
            self.seen.requests.append(bytes(message))
        try:
            received = self.pipeline.check(message, client_certificate=client_certificate)
        except EintegrError as error:
            with self.lock:
                self.seen.refused.append(f"{error.code}: {error}")
            raise
        self.pipeline.release(received)
        incoming = received.message
        with self.lock:
            self.seen.message = incoming
        return self.answer(incoming)

    def answer(self, incoming: Message) -> bytes | None:
        s, setup = self.scenario, self.setup
        signer = setup.tester.signer()
        if s == "И.8":
            raise TransportFault(
                "conformance: a fault on purpose",
                code="CONFORMANCE-FAULT",
                message_bg="Тест за съвместимост: умишлена грешка",
            )
        if s in {"И.REG", "И.REG-ATT"}:
            return None
        if s == "И.9":
            return b"this is not XML <"
        sender: EntityNode = incoming.header.recipient
        recipient: EntityNode = incoming.header.sender
        guid: Guid | None = None
        if s == "И.11":
            recipient = entity(self.tester)
        elif s == "И.12":
            sender = entity(setup.sut)
        elif s == "И.15":
            guid = incoming.header.message_guid
        body = incoming.body
        doc_id = body.document.doc_id if isinstance(body, DocumentRegistrationRequest) else None
        if doc_id is None:
            return b"not a registration request"
        response = status_response(
            sender=sender,
            recipient=recipient,
            document_id=doc_id,
            status=DocumentStatus.DS_WAIT_REGISTRATION,
            message_guid=guid,
        )
        if s == "И.10":
            return signed(with_stray_element(response), signer)
        if s == "И.13":
            return response.to_xml()
        if s == "И.14":
            return signed(response, foreign_signer(eik=self.tester.eik).signer())
        return signed(response, signer)


def _server_identity(scenario: str, setup: TesterSetup) -> Issued:
    if scenario != "И.7":
        return setup.tester
    return setup.unregistered or foreign_signer(eik=setup.tester_participant.eik)


def _verdict(scenario: str, outcome: str, seen: _Seen, attachments: bool) -> tuple[Verdict, str]:
    arrived = bool(seen.requests)
    if scenario == "И.7":
        if outcome == "sent":
            return Verdict.FAIL, "the client reported the message as delivered to a wrong server"
        if arrived:
            return Verdict.FAIL, "the client wrote the message to a server it should have refused"
        return Verdict.PASS, f"the client refused the server ({outcome}); nothing was written"
    if not arrived:
        return Verdict.FAIL, f"no request reached the tester (client reported {outcome})"
    if seen.refused:
        return Verdict.FAIL, f"the client's request fails the receiving check {seen.refused[0]}"
    if scenario == "И.8":
        if outcome == "sent":
            return Verdict.FAIL, "the client took a fault for a delivery"
        return Verdict.PASS, f"the fault was handled ({outcome})"
    if scenario in {"И.REG", "И.REG-ATT"}:
        body = seen.message.body if seen.message is not None else None
        if not isinstance(body, DocumentRegistrationRequest):
            return Verdict.FAIL, "the request is not a registration request"
        has = bool(body.document.attachments)
        if has != attachments:
            want = "with" if attachments else "without"
            return Verdict.FAIL, f"the registration request is not {want} attachments"
        if outcome != "sent":
            return Verdict.FAIL, f"an empty answer is a delivery, the client reported {outcome}"
        return Verdict.PASS, "valid request; the empty answer was taken as delivered"
    if outcome == "failed":
        return Verdict.PASS, "the client marked the message as failed"
    return Verdict.FAIL, f"the client should mark the message as failed, it reported {outcome}"


def run_sending(
    setup: TesterSetup,
    hook: SendHook,
    *,
    only: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: int = 0,
) -> ConformanceReport:
    """Run the sending scenarios (``only`` those IDs): for each one start the scripted peer on
    ``host:port`` (0: a free port), call ``hook``, judge the outcome and the request.

    :raises KeyError: an unknown scenario ID.
    """
    tester = setup.tester_participant
    results: list[ScenarioResult] = []
    for scenario in select(list(only), direction=Direction.SENDING):
        results.append(_one(scenario, setup, tester, hook, host, port))
    return ConformanceReport(tuple(results), "")


def _one(
    scenario: Scenario,
    setup: TesterSetup,
    tester: Participant,
    hook: SendHook,
    host: str,
    port: int,
) -> ScenarioResult:
    started = time.monotonic()
    receiver = _ScriptedReceiver(scenario.id, setup, tester)
    context = server_ssl_context(
        _server_identity(scenario.id, setup),
        client_ca=list(setup.server_ca),
        require_client_certificate=True,
    )
    attachments = scenario.id == "И.REG-ATT"
    with SubmitServer(SubmitApp(receiver), ssl_context=context, host=host, port=port) as server:
        url = f"https://{host}:{server.port}/"
        listed = replace(
            tester,
            services=(Service(guid=DOCUMENT_EXCHANGE_SERVICE, name="Документооборот", uri=url),),
        )
        others = [p for p in setup.register.participants() if p.guid != tester.guid]
        request = SendRequest(
            scenario.id, url, listed, StaticRegister([*others, listed]), attachments
        )
        try:
            outcome = hook(request).strip().lower()
        except Exception as error:
            outcome = f"crashed: {type(error).__name__}: {error}"
    seen = receiver.seen
    if outcome not in OUTCOMES:
        verdict, reason = Verdict.FAIL, f"the client did not report an outcome: {outcome}"
    else:
        verdict, reason = _verdict(scenario.id, outcome, seen, attachments)
    evidence = Evidence(
        sent=f"scripted peer at {url}: {scenario.setup}",
        received=f"{len(seen.requests)} request(s); client reported: {outcome}",
        notes=tuple(f"refused: {r}" for r in seen.refused),
    )
    return ScenarioResult(scenario, verdict, reason, evidence, time.monotonic() - started)


def command_hook(command: str, *, timeout: float = 120.0) -> SendHook:
    """A hook that runs ``command`` (a shell-like string, no shell) once per scenario with the
    ``EINTEGR_CONFORMANCE_*`` variables; its last output line is the outcome."""
    argv = shlex.split(command)
    if not argv:
        raise ValueError("the client command is empty")

    def run(request: SendRequest) -> str:
        with tempfile.TemporaryDirectory(prefix="eintegr-conformance-") as folder:
            register = Path(folder) / "register.json"
            save_directory(Directory(participants=tuple(request.register.participants())), register)
            env = dict(os.environ)
            env.update(
                EINTEGR_CONFORMANCE_SCENARIO=request.scenario,
                EINTEGR_CONFORMANCE_URL=request.url,
                EINTEGR_CONFORMANCE_RECIPIENT=str(request.recipient.guid),
                EINTEGR_CONFORMANCE_EIK=request.recipient.eik,
                EINTEGR_CONFORMANCE_REGISTER=str(register),
                EINTEGR_CONFORMANCE_ATTACH="1" if request.attachments else "0",
            )
            done = subprocess.run(  # noqa: S603 - the operator's own command, no shell
                argv, env=env, capture_output=True, timeout=timeout, check=False
            )
        lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
        last = lines[-1].strip() if lines else ""
        if last.lower() in OUTCOMES:
            return last
        return f"exit {done.returncode}, last line {last!r}"

    return run
