"""The application-level receiving scenarios (ЗР.*, ПС.*, ИС.*, ИГ.*), derived from the
specification where the procedure's lists say ``TODO``.

The tester sends a valid, signed message of each kind and judges the system's answer. The
system may answer at once (a signed message in ``SubmitResult``) or answer empty and *push*
its answer later to the tester's own ``Submit`` endpoint. For the second way the register
the system uses must list the tester with a document-exchange service URI: the run then
starts a small endpoint there (:class:`Inbox`, mutual TLS with the tester's certificate)
that checks every pushed message as a receiver must (П.1–П.9: registered client
certificate, signature by the sender's registered certificate, the tester as recipient,
…), records it and waits up to :attr:`TesterSetup.answer_wait` seconds for the answer.

Every answer must pass the transport checks: a synchronous one the sender's checks
И.9–И.15 (:meth:`ExchangeChecks.check_response` — signed with the system's registered
certificate, sender and recipient swapped, a new ``MessageGUID``), a pushed one the
receiving checks and come from the system under test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Final
from urllib.parse import urlsplit

from cryptography import x509

from eintegr.errors import EintegrError, RegistryError, SenderError
from eintegr.identifiers import Guid
from eintegr.messages.seos import (
    DocumentIdentification,
    DocumentNumber,
    DocumentRegistrationRequest,
    DocumentStatus,
    DocumentStatusRequest,
    DocumentStatusResponse,
    ErrorKind,
    ErrorMessage,
    Message,
    error_message,
    registration_request,
    status_request,
    status_response,
)
from eintegr.signing.trust import CertificateAuthorities
from eintegr.testing.conformance.client import submit
from eintegr.testing.conformance.kit import TesterSetup
from eintegr.testing.conformance.messages import entity, registration, signed
from eintegr.testing.conformance.report import Evidence, Verdict, excerpt
from eintegr.transport.asgi_server import server_ssl_context
from eintegr.transport.checks import ExchangeChecks, read_outgoing
from eintegr.transport.receiving import ReceivingPipeline
from eintegr.transport.server import SubmitApp, SubmitServer

__all__ = ["APPLICATION_CASES", "ApplicationRun", "Inbox", "Outcome", "tester_endpoint"]

Outcome = tuple[Verdict, str, Evidence]
"""A scenario's verdict, reason and evidence."""

_S = DocumentStatus
_REGISTRATION_ANSWERS: Final = frozenset(
    {_S.DS_WAIT_REGISTRATION, _S.DS_REJECTED, _S.DS_REGISTERED, _S.DS_STOPPED, _S.DS_CLOSED}
)
"""What ЗР.2–ЗР.9 allow for a new document."""
_KNOWN_ANSWERS: Final = _REGISTRATION_ANSWERS | {_S.DS_ALREADY_RECEIVED}
"""What ПС.2–ПС.7 allow for a known document."""


@dataclass(frozen=True, slots=True)
class _Pushed:
    message: Message
    raw: bytes


@dataclass
class _Recorded:
    pushed: list[_Pushed] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class Inbox:
    """The tester's own ``Submit`` endpoint: records what the system under test pushes.

    Each pushed message passes the receiving checks П.1–П.9 with the tester as recipient
    and must come from the system under test; what fails is refused with a fault and
    noted (:attr:`refused`).
    """

    def __init__(self, setup: TesterSetup, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or not parts.port:
            raise ValueError(f"the tester's endpoint must be https://host:port/, not {url!r}")
        self.url = url
        self.setup = setup
        self._host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
        self._port = parts.port
        self._tester = setup.tester_participant
        self._pipeline = ReceivingPipeline(self._tester, setup.register, handler=lambda _r: None)
        self._recorded = _Recorded()
        self._changed = threading.Condition()
        self._server: SubmitServer | None = None

    def __enter__(self) -> Inbox:
        context = server_ssl_context(
            self.setup.tester, client_ca=list(self.setup.server_ca), require_client_certificate=True
        )
        self._server = SubmitServer(
            SubmitApp(self), ssl_context=context, host=self._host, port=self._port
        ).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def refused(self) -> list[str]:
        """The pushed messages refused so far, as ``code: reason``."""
        with self._changed:
            return list(self._recorded.refused)

    def __call__(
        self, message: bytes, *, client_certificate: x509.Certificate | None
    ) -> bytes | None:
        try:
            received = self._pipeline.check(message, client_certificate=client_certificate)
        except EintegrError as error:
            with self._changed:
                self._recorded.refused.append(f"{error.code}: {error}")
                self._changed.notify_all()
            raise
        self._pipeline.release(received)
        sender = received.sender.guid
        with self._changed:
            if sender != self.setup.sut.guid:
                note = (
                    f"CONFORMANCE-PUSH-SENDER: a message from {sender}, not from the system "
                    f"under test {self.setup.sut.guid}"
                )
                self._recorded.refused.append(note)
                self._changed.notify_all()
                raise SenderError(
                    note,
                    code="CONFORMANCE-PUSH-SENDER",
                    message_bg=f"Съобщение от {sender}, а не от проверяваната система "
                    f"{self.setup.sut.guid}",
                )
            self._recorded.pushed.append(_Pushed(received.message, bytes(received.raw)))
            self._changed.notify_all()
        return None

    def wait_for(self, wanted: Callable[[Message], bool], timeout: float) -> _Pushed | None:
        """The first pushed message ``wanted`` accepts (taken out of the inbox), waiting up to
        ``timeout`` seconds; ``None`` if none came."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index, pushed in enumerate(self._recorded.pushed):
                    if wanted(pushed.message):
                        del self._recorded.pushed[index]
                        return pushed
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)


@dataclass(frozen=True, slots=True)
class _Reply:
    message: Message | None
    how: str
    evidence: Evidence
    problem: str | None = None


def _answers(sent: Message) -> Callable[[Message], bool]:
    """Whether a pushed message is the answer to ``sent``."""
    body = sent.body
    document: Guid | None = None
    if isinstance(body, DocumentRegistrationRequest):
        document = body.document.doc_id.document_guid
    elif isinstance(body, DocumentStatusRequest):
        document = body.doc_id.document_guid

    def wanted(message: Message) -> bool:
        answer = message.body
        if isinstance(answer, ErrorMessage):
            return answer.message_guid == sent.header.message_guid
        return (
            document is not None
            and isinstance(answer, DocumentStatusResponse)
            and answer.doc_id.document_guid == document
        )

    return wanted


def _describe(message: Message) -> str:
    body = message.body
    if isinstance(body, DocumentStatusResponse):
        ident = body.doc_id
        number = (
            f" № {ident.number.number}/{ident.number.date.isoformat()}"
            if ident.number is not None
            else (" with a DocumentURI" if ident.uri is not None else " without number or URI")
        )
        return f"DocumentStatusResponse {body.status.value} for {ident.document_guid}{number}"
    if isinstance(body, ErrorMessage):
        return (
            f"Error {body.error_type.value} about {body.message_guid}: "
            f"{excerpt(body.description, 200)}"
        )
    return f"an unexpected {message.header.message_type.value}"


class ApplicationRun:
    """The application-level scenarios of one run against ``endpoint``.

    :param inbox: the tester's endpoint for pushed answers (``None``: the register lists
        no endpoint of the tester; an empty answer then fails a scenario that needs one).
    """

    def __init__(self, setup: TesterSetup, endpoint: str, inbox: Inbox | None) -> None:
        self.setup = setup
        self.endpoint = endpoint
        self.inbox = inbox
        self.tester = setup.tester_participant
        self.signer = setup.tester.signer()
        self._registered: tuple[Message, _Reply] | None = None

    # --- sending and collecting the answer --------------------------------------------------

    def ask(self, message: Message, what: str) -> _Reply:
        """Send ``message`` (signed) and collect the system's answer to it."""
        data = signed(message, self.signer)
        sent = f"{what} (MessageGUID {message.header.message_guid})"
        exchange = submit(
            self.endpoint,
            data,
            client=self.setup.tester,
            server_ca=self.setup.server_ca,
            timeout=self.setup.timeout,
        )
        answer = exchange.answer()
        if answer.kind == "response" and answer.response is not None:
            evidence = Evidence(sent=sent, received=f"{answer.detail}: {excerpt(answer.response)}")
            checks = ExchangeChecks(
                register=self.setup.register,
                certificate=self.setup.tester.certificate,
                trust=CertificateAuthorities(list(self.setup.server_ca)),
            )
            checks.seen.add_if_new(message.header.message_guid)
            try:
                verified = checks.check_response(
                    answer.response,
                    read_outgoing(data),
                    self.setup.sut,
                    peer_certificate=exchange.server_certificate,
                )
                reply = Message.from_xml(verified.signed_xml)
            except EintegrError as error:
                return _Reply(
                    None,
                    "synchronous",
                    evidence,
                    f"the answer fails the sender's check {error.code}: {error}",
                )
            return _Reply(reply, "synchronous", evidence)
        if answer.kind != "empty":
            return _Reply(
                None,
                "none",
                Evidence(sent=sent, received=answer.detail),
                f"the valid message was not accepted ({answer.kind})",
            )
        if self.inbox is None:
            return _Reply(
                None,
                "none",
                Evidence(
                    sent=sent,
                    received=answer.detail,
                    notes=("the register lists no endpoint of the tester for a pushed answer",),
                ),
                "the system answered empty and no tester endpoint could receive a pushed answer",
            )
        wait = self.setup.answer_wait
        pushed = self.inbox.wait_for(_answers(message), wait)
        refused = tuple(f"pushed message refused: {r}" for r in self.inbox.refused)
        if pushed is None:
            return _Reply(
                None,
                "none",
                Evidence(
                    sent=sent,
                    received=f"{answer.detail}; nothing pushed to {self.inbox.url} in {wait:g} s",
                    notes=refused,
                ),
                f"the system answered empty and pushed no valid answer within {wait:g} s",
            )
        return _Reply(
            pushed.message,
            "pushed",
            Evidence(
                sent=sent,
                received=f"{answer.detail}; pushed to {self.inbox.url}: {excerpt(pushed.raw)}",
                notes=refused,
            ),
        )

    def registration(self) -> tuple[Message, _Reply]:
        """The registration request of a new document and its answer (sent once per run)."""
        if self._registered is None:
            message = registration(self.tester, self.setup.sut)
            reply = self.ask(message, "a registration request for a new document")
            self._registered = (message, reply)
        return self._registered

    # --- judging ----------------------------------------------------------------------------

    @staticmethod
    def _status(
        reply: _Reply, document: Guid, allowed: frozenset[DocumentStatus], rule: str
    ) -> Outcome:
        if reply.message is None:
            return Verdict.FAIL, reply.problem or "no answer", reply.evidence
        body = reply.message.body
        evidence = Evidence(
            reply.evidence.sent,
            reply.evidence.received,
            (*reply.evidence.notes, f"answer ({reply.how}): {_describe(reply.message)}"),
        )
        if not isinstance(body, DocumentStatusResponse):
            return (
                Verdict.FAIL,
                f"expected a DocumentStatusResponse ({rule}), got {_describe(reply.message)}",
                evidence,
            )
        if body.doc_id.document_guid != document:
            return (
                Verdict.FAIL,
                f"the answer is about {body.doc_id.document_guid}, not {document}",
                evidence,
            )
        if body.status not in allowed:
            want = " or ".join(sorted(s.value for s in allowed))
            return Verdict.FAIL, f"{body.status.value}, expected {want} ({rule})", evidence
        if body.doc_id.number is None and body.doc_id.uri is None:
            return (
                Verdict.FAIL,
                f"{body.status.value} without DocumentNumber or DocumentURI ({rule})",
                evidence,
            )
        return Verdict.PASS, f"{body.status.value} ({reply.how} answer)", evidence

    @staticmethod
    def _error(reply: _Reply, about: Guid, rule: str) -> Outcome:
        if reply.message is None:
            return Verdict.FAIL, reply.problem or "no answer", reply.evidence
        body = reply.message.body
        evidence = Evidence(
            reply.evidence.sent,
            reply.evidence.received,
            (*reply.evidence.notes, f"answer ({reply.how}): {_describe(reply.message)}"),
        )
        if not isinstance(body, ErrorMessage):
            return (
                Verdict.FAIL,
                f"expected an Error ({rule}), got {_describe(reply.message)}",
                (evidence),
            )
        if body.error_type is not ErrorKind.ERR_EXTERNAL:
            return (
                Verdict.FAIL,
                f"{body.error_type.value}, expected ERR_EXTERNAL ({rule})",
                (evidence),
            )
        if body.message_guid != about:
            return (
                Verdict.FAIL,
                f"the Error names {body.message_guid}, not the message {about} ({rule})",
                evidence,
            )
        return Verdict.PASS, f"Error ERR_EXTERNAL ({reply.how} answer)", evidence

    # --- the scenarios ----------------------------------------------------------------------

    def zr_new(self) -> Outcome:
        message, reply = self.registration()
        assert isinstance(message.body, DocumentRegistrationRequest)
        return self._status(
            reply, message.body.document.doc_id.document_guid, _REGISTRATION_ANSWERS, "ЗР.2–ЗР.9"
        )

    def zr_1(self) -> Outcome:
        first, reply = self.registration()
        body = first.body
        assert isinstance(body, DocumentRegistrationRequest)
        if reply.message is None:
            return (
                Verdict.FAIL,
                f"the first registration request was not answered: {reply.problem}",
                reply.evidence,
            )
        again = registration_request(
            sender=entity(self.tester),
            recipient=entity(self.setup.sut),
            document=body.document,
            comment=body.comment,
        )
        guid = body.document.doc_id.document_guid
        answer = self.ask(
            again, f"the registration request for document {guid} again, with a new MessageGUID"
        )
        return self._status(answer, guid, frozenset({_S.DS_ALREADY_RECEIVED}), "ЗР.1")

    def ps_1(self) -> Outcome:
        unknown = DocumentIdentification(
            number=DocumentNumber(number=f"CONF-NF-{str(Guid.new())[1:9]}", date=date.today()),
            document_guid=Guid.new(),
        )
        message = status_request(
            sender=entity(self.tester), recipient=entity(self.setup.sut), document_id=unknown
        )
        reply = self.ask(
            message, f"a status request for the unknown document {unknown.document_guid}"
        )
        return self._status(reply, unknown.document_guid, frozenset({_S.DS_NOT_FOUND}), "ПС.1")

    def ps_known(self) -> Outcome:
        first, reply = self.registration()
        body = first.body
        assert isinstance(body, DocumentRegistrationRequest)
        if reply.message is None:
            return (
                Verdict.FAIL,
                f"the registration request was not answered: {reply.problem}",
                reply.evidence,
            )
        doc_id = body.document.doc_id
        message = status_request(
            sender=entity(self.tester), recipient=entity(self.setup.sut), document_id=doc_id
        )
        answer = self.ask(
            message, f"a status request for the document {doc_id.document_guid} sent before"
        )
        return self._status(answer, doc_id.document_guid, _KNOWN_ANSWERS, "ПС.2–ПС.7")

    def is_1(self) -> Outcome:
        unknown = DocumentIdentification(
            number=DocumentNumber(number=f"CONF-IS-{str(Guid.new())[1:9]}", date=date.today()),
            document_guid=Guid.new(),
        )
        message = status_response(
            sender=entity(self.tester),
            recipient=entity(self.setup.sut),
            document_id=unknown,
            status=_S.DS_REGISTERED,
        )
        reply = self.ask(
            message,
            f"a DS_REGISTERED status notice about {unknown.document_guid}, a document the "
            "system never sent",
        )
        return self._error(reply, message.header.message_guid, "ИС.1")

    def _ig_1(self, kind: ErrorKind) -> Outcome:
        about = Guid.new()
        message = error_message(
            sender=entity(self.tester),
            recipient=entity(self.setup.sut),
            error_type=kind,
            description="eintegr conformance: an error about a message never sent",
            about_message_guid=about,
        )
        reply = self.ask(
            message, f"an {kind.value} error notice about {about}, a message the system never sent"
        )
        return self._error(reply, message.header.message_guid, "ИГ.1")

    def ig_1_internal(self) -> Outcome:
        return self._ig_1(ErrorKind.ERR_INTERNAL)

    def ig_1_external(self) -> Outcome:
        return self._ig_1(ErrorKind.ERR_EXTERNAL)


APPLICATION_CASES: Final[dict[str, Callable[[ApplicationRun], Outcome]]] = {
    "ЗР.NEW": ApplicationRun.zr_new,
    "ЗР.1": ApplicationRun.zr_1,
    "ПС.1": ApplicationRun.ps_1,
    "ПС.KNOWN": ApplicationRun.ps_known,
    "ИС.1": ApplicationRun.is_1,
    "ИГ.1-INTERNAL": ApplicationRun.ig_1_internal,
    "ИГ.1-EXTERNAL": ApplicationRun.ig_1_external,
}
"""The application-level scenarios by ID."""


def tester_endpoint(setup: TesterSetup) -> str | None:
    """The tester's endpoint URI in the register, if it lists one."""
    try:
        return setup.tester_participant.endpoint
    except RegistryError:
        return None
