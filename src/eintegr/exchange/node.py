"""A СЕОС participant: send documents, answer messages, keep every promise in the journal.

A :class:`Node` is what a document-management system embeds. It is configured with the
participant's identity (its register entry), its transport-certificate :class:`Signer`, the
participants' :class:`Register`, a :class:`Transport` and a :class:`Journal`, and offers:

* :meth:`Node.send_document` — a ``MSG_DocumentRegistrationRequest``, tracked until the
  recipient registers, rejects or closes the document;
* :meth:`Node.request_status` — a ``MSG_DocumentStatusRequest`` about a document we sent;
* :meth:`Node.set_status` — a status change of a document we received, checked against the
  lifecycle (:mod:`eintegr.exchange.lifecycle`) and pushed to its sender as a signed
  ``MSG_DocumentStatusResponse``, as the specification requires on every change;
* :meth:`Node.receiver` — the receiving side (a
  :class:`~eintegr.transport.receiving.ReceivingPipeline` running П.1–П.15) whose handler is
  :meth:`Node.handle`: every incoming message is committed to the journal *before* it is
  answered, and answered as the specification says:

  ====================================  ====================================================
  incoming                              default answer
  ====================================  ====================================================
  registration request, new document    the host's :data:`RegistrationPolicy` decides
                                        (ЗР.2–ЗР.9; by default ``DS_WAIT_REGISTRATION``)
  registration request, known GUID      ``DS_ALREADY_RECEIVED`` with our number (ЗР.1)
  status request                        the document's status from the journal (ПС.1–ПС.7)
  status notice about a sent document   recorded (ИС.2–ИС.7); empty answer
  status notice about anything else     ``MSG_Error`` ``ERR_EXTERNAL`` (ИС.1)
  error notice about our message        the exchange is failed: ``ERR_INTERNAL`` the
                                        receiver's error (ИГ.2), ``ERR_EXTERNAL`` the
                                        sender's (ИГ.3); empty answer
  error notice about anything else      ``MSG_Error`` ``ERR_EXTERNAL`` (ИГ.1)
  ====================================  ====================================================

* :meth:`Node.process_due` — sends what is due: first attempts that were not made at once,
  and retries after faults on the :class:`RetrySchedule` (the same signed bytes and
  ``MessageGUID`` every time). :class:`~eintegr.exchange.worker.Worker` calls it in a
  background thread.

**Crash safety.** A message is in the journal before the first attempt and before it is
answered; an attempt is counted when it starts and its lease expires if the process dies,
so the message is sent again. A retry of a message whose answer was lost gets the stored
answer again (while its ``MessageGUID`` is not yet recorded as seen), or a ``П.9`` fault —
which, on a retry, proves an earlier attempt was delivered: the item is then delivered and
a status request asks for the document's status. Registration decisions, their number and
the answer are one transaction, so a document is registered once.

**Host callbacks** (``on_status``, ``on_status_request``, ``on_error``) are notifications
called after the journal committed; an exception in them is logged, never lost silently,
and does not undo the exchange. ``on_registration`` decides, and may be called again for the
same document after a crash (make it idempotent by ``DocumentGUID``).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from eintegr.errors import (
    EintegrError,
    ExchangeError,
    MessageError,
    ReceiverError,
    RegistryError,
    SenderError,
    TransportError,
    TransportFault,
    XmlError,
)
from eintegr.exchange.journal import (
    Attempt,
    DocumentRecord,
    Incoming,
    Journal,
    MessageRecord,
    NewDocument,
    NewMessage,
)
from eintegr.exchange.lifecycle import (
    LOCAL_STATUSES,
    NEEDS_NUMBER,
    DeliveryState,
    Direction,
    Role,
    StatusChange,
    check_local_transition,
    remote_transition,
)
from eintegr.exchange.retry import (
    STANDARD_SCHEDULE,
    ExchangeOutcome,
    RetrySchedule,
    classify,
    classify_error_kind,
)
from eintegr.identifiers import Guid
from eintegr.messages.seos import (
    Document,
    DocumentIdentification,
    DocumentNumber,
    DocumentRegistrationRequest,
    DocumentStatus,
    DocumentStatusRequest,
    DocumentStatusResponse,
    DocumentURI,
    EntityNode,
    ErrorKind,
    ErrorMessage,
    Message,
    MessageType,
    error_message,
    registration_request,
    status_request,
    status_response,
)
from eintegr.registry.model import Participant, Register
from eintegr.signing import Signer, sign_message
from eintegr.transport.base import Transport
from eintegr.transport.receiving import ReceivedMessage, ReceivingPipeline

__all__ = [
    "Decision",
    "ErrorNotice",
    "IncomingDocument",
    "Node",
    "OutgoingItem",
    "RegistrationPolicy",
    "StatusNotice",
    "StatusQuery",
    "register_automatically",
    "wait_for_registration",
]

_log = logging.getLogger("eintegr.exchange")

_S = DocumentStatus


# --- what the host sees ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncomingDocument:
    """A document another participant asks us to register (the host decides on it)."""

    document: Document
    comment: str
    sender: Participant
    message_guid: Guid
    received_at: datetime

    @property
    def document_guid(self) -> Guid:
        """The ``DocumentGUID`` shared by both sides."""
        return self.document.doc_id.document_guid

    @property
    def parent_guid(self) -> Guid | None:
        """The initiating document of the case file (``DocParentID``), if given (ЗР.4, ЗР.5)."""
        parent = self.document.parent_id
        return None if parent is None else parent.document_guid


@dataclass(frozen=True, slots=True)
class Decision:
    """What to answer a registration request (ЗР.2–ЗР.9).

    Build it with :meth:`wait`, :meth:`register`, :meth:`reject`, :meth:`stop` or
    :meth:`close`. A registration number left out is assigned by the node.
    """

    status: DocumentStatus
    number: str | None = None
    number_date: date | None = None
    reason: str | None = None
    expect_close_date: date | None = None

    def __post_init__(self) -> None:
        if DocumentStatus(self.status) not in LOCAL_STATUSES:
            raise ExchangeError(
                f"{self.status} is not a decision on a registration request",
                code="EXCHANGE-DECISION",
                message_bg=f"{self.status} не е решение по заявление за регистриране",
            )
        if (self.status is _S.DS_REJECTED) != bool((self.reason or "").strip()):
            raise ExchangeError(
                "a rejection needs a reason, and only a rejection takes one",
                code="EXCHANGE-DECISION",
                message_bg="Отказът изисква причина и само отказът има причина",
            )

    @classmethod
    def wait(cls) -> Decision:
        """Registration postponed: ``DS_WAIT_REGISTRATION`` (ЗР.2)."""
        return cls(_S.DS_WAIT_REGISTRATION)

    @classmethod
    def register(
        cls,
        number: str | None = None,
        *,
        number_date: date | None = None,
        expect_close_date: date | None = None,
    ) -> Decision:
        """Registered, work goes on: ``DS_REGISTERED`` (ЗР.7)."""
        return cls(
            _S.DS_REGISTERED,
            number=number,
            number_date=number_date,
            expect_close_date=expect_close_date,
        )

    @classmethod
    def reject(cls, reason: str) -> Decision:
        """Registration refused: ``DS_REJECTED`` with ``reason`` (ЗР.3)."""
        return cls(_S.DS_REJECTED, reason=reason)

    @classmethod
    def stop(cls, number: str | None = None, *, number_date: date | None = None) -> Decision:
        """Registered, work stopped: ``DS_STOPPED`` (ЗР.8)."""
        return cls(_S.DS_STOPPED, number=number, number_date=number_date)

    @classmethod
    def close(cls, number: str | None = None, *, number_date: date | None = None) -> Decision:
        """Registered, work completed: ``DS_CLOSED`` (ЗР.9)."""
        return cls(_S.DS_CLOSED, number=number, number_date=number_date)


RegistrationPolicy = Callable[[IncomingDocument], Decision]
"""How the host decides on a new document (called before the answer is sent)."""


def wait_for_registration(document: IncomingDocument) -> Decision:
    """The default policy: answer ``DS_WAIT_REGISTRATION`` and let a clerk register the
    document later with :meth:`Node.set_status`."""
    return Decision.wait()


def register_automatically(document: IncomingDocument) -> Decision:
    """Register every new document at once under the node's next number."""
    return Decision.register()


@dataclass(frozen=True, slots=True)
class StatusNotice:
    """The recipient of a document we sent reported its status (ИС.2–ИС.7).

    :ivar accepted: False when the report did not fit the document's status (it is only in
        the history).
    """

    document: DocumentRecord
    reported: DocumentStatus
    accepted: bool
    message_guid: Guid


@dataclass(frozen=True, slots=True)
class StatusQuery:
    """Another participant asked about a document (ПС.1–ПС.7); ``answer`` is what we said."""

    document_guid: Guid
    sender: Participant
    answer: DocumentStatus
    document: DocumentRecord | None


@dataclass(frozen=True, slots=True)
class ErrorNotice:
    """An exchange of ours failed at the other side's application level (ИГ.2, ИГ.3).

    :ivar about: our message the error is about.
    :ivar outcome: :attr:`ExchangeOutcome.RECEIVER_ERROR` (``ERR_INTERNAL``) or
        :attr:`ExchangeOutcome.SENDER_ERROR` (``ERR_EXTERNAL``).
    """

    about: MessageRecord
    kind: ErrorKind
    description: str
    outcome: ExchangeOutcome
    message_guid: Guid


@dataclass(frozen=True, slots=True)
class OutgoingItem:
    """A message we send, as tracked by the journal, with the document it concerns."""

    message: MessageRecord
    document: DocumentRecord | None

    @property
    def message_guid(self) -> Guid:
        """The message's ``MessageGUID`` (the same on every attempt)."""
        return self.message.message_guid

    @property
    def state(self) -> DeliveryState:
        """The delivery state."""
        return self.message.state

    @property
    def is_final(self) -> bool:
        """True when nothing more will be tried."""
        return self.message.state.is_final

    @property
    def outcome(self) -> ExchangeOutcome | None:
        """The outcome of the last attempt."""
        return self.message.outcome


# --- helpers ----------------------------------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _entity(participant: Participant) -> EntityNode:
    return EntityNode(
        identifier=participant.eik,
        administrative_body_name=participant.name,
        guid=participant.guid,
    )


def _entity_of(eik: str, name: str, guid: Guid) -> EntityNode:
    return EntityNode(identifier=eik, administrative_body_name=name, guid=guid)


def _uri_text(uri: DocumentURI) -> str:
    when = "" if uri.receipt_or_signing_date is None else uri.receipt_or_signing_date.isoformat()
    return f"{uri.register_index or ''}-{uri.sequence_number or ''}/{when}"


def _uri_from_text(text: str) -> DocumentURI:
    numbers, _, when = text.partition("/")
    index, _, sequence = numbers.partition("-")
    return DocumentURI(
        register_index=int(index) if index else None,
        sequence_number=int(sequence) if sequence else None,
        receipt_or_signing_date=date.fromisoformat(when) if when else None,
    )


def _identification(doc_id: DocumentIdentification) -> tuple[str | None, date | None, str | None]:
    if doc_id.number is not None:
        return doc_id.number.number, doc_id.number.date, None
    if doc_id.uri is not None:
        return None, None, _uri_text(doc_id.uri)
    return None, None, None


def _short(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _event(level: int, event: str, text: str, *args: object, **fields: Any) -> None:
    """A structured log record: ``extra={"event": ..., **fields}``."""
    _log.log(level, text, *args, extra={"event": event, **fields})


# --- the node ---------------------------------------------------------------------------------


class Node:
    """A СЕОС participant; see the module documentation.

    :param identity: this participant as the register describes it.
    :param signer: signs every message with our transport certificate.
    :param register: the participants' register (recipients are looked up in it).
    :param transport: how messages are sent; its И.15 check should use ``journal.seen``.
    :param journal: where everything is kept (e.g. :class:`SqliteJournal`).
    :param schedule: the retry schedule (the specification's by default).
    :param on_registration: decides on new documents (default: :func:`wait_for_registration`).
    :param on_status: told when the recipient of a document we sent reports its status.
    :param on_status_request: told when another participant asked about a document.
    :param on_error: told when another participant reported an error about our message.
    :param number_prefix: registration numbers the node assigns are ``<prefix>-<n>`` (``n``
        from a journal counter, zero-padded to six digits), dated the day they are given.
    :param lease: how long one attempt may take before another worker may try the message
        again (longer than the transport's own time limit).
    :param clock: the current time (UTC, time-zone-aware).
    """

    def __init__(
        self,
        *,
        identity: Participant,
        signer: Signer,
        register: Register,
        transport: Transport,
        journal: Journal,
        schedule: RetrySchedule = STANDARD_SCHEDULE,
        on_registration: RegistrationPolicy = wait_for_registration,
        on_status: Callable[[StatusNotice], None] | None = None,
        on_status_request: Callable[[StatusQuery], None] | None = None,
        on_error: Callable[[ErrorNotice], None] | None = None,
        number_prefix: str = "ВХ",
        lease: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError("lease must be positive")
        if not identity.holds_certificate(signer.certificate):
            raise ExchangeError(
                f"the signer's certificate (serial {signer.certificate.serial_number:x}) is not "
                f"the transport certificate registered for {identity.name} "
                f"({identity.certificate_serial})",
                code="EXCHANGE-IDENTITY",
                message_bg="Сертификатът за подписване не е регистрираният транспортен "
                f"сертификат на {identity.name}",
            )
        self.identity = identity
        self.signer = signer
        self.register = register
        self.transport = transport
        self.journal = journal
        self.schedule = schedule
        self.on_registration = on_registration
        self.on_status = on_status
        self.on_status_request = on_status_request
        self.on_error = on_error
        self.number_prefix = number_prefix
        self.lease = lease
        self.clock = clock
        self.owner = _owner_id()
        if not schedule.is_standard:
            _event(
                logging.WARNING,
                "schedule",
                "retry schedule %s is not the one the specification requires",
                schedule,
                participant=str(identity.guid),
            )

    # -- the host's API ---------------------------------------------------------------------

    def send_document(
        self,
        recipient: Participant | Guid | str,
        document: Document,
        comment: str = "",
        *,
        deliver: bool = True,
    ) -> OutgoingItem:
        """Send ``document`` to ``recipient`` for registration and track it.

        The signed message is committed to the journal first; with ``deliver`` (default) the
        first attempt is made at once in this thread, otherwise the worker sends it. Delivery
        failures are recorded in the item, not raised.

        :raises RegistryError: the recipient is not in the register.
        :raises ExchangeError: ``JOURNAL-DUPLICATE`` — the document was already sent to that
            recipient (ask for its status instead).
        :raises MessageError, SigningError: the message cannot be built or signed.
        """
        peer = self._participant(recipient)
        message = registration_request(
            sender=_entity(self.identity),
            recipient=_entity(peer),
            document=document,
            comment=comment,
        )
        new_document = NewDocument(
            role=Role.SENT,
            document_guid=document.doc_id.document_guid,
            peer_guid=peer.guid,
            peer_eik=peer.eik,
            peer_name=peer.name,
            kind=document.kind,
            about=document.about,
        )
        record = self._queue(message, deliver=deliver, document=new_document)
        _event(
            logging.INFO,
            "document.sent",
            "document %s queued for %s (%s)",
            document.doc_id.document_guid,
            peer.name,
            record.message_guid,
            document_guid=str(document.doc_id.document_guid),
            message_guid=str(record.message_guid),
            peer=str(peer.guid),
        )
        return self._deliver_now(record) if deliver else self._item(record)

    def request_status(
        self,
        document_guid: Guid | str,
        *,
        recipient: Participant | Guid | str | None = None,
        deliver: bool = True,
    ) -> OutgoingItem:
        """Ask the recipient of a document we sent for its status (``MSG_DocumentStatusRequest``).

        The answer updates the document's status in the journal (ИС.2–ИС.7).

        :param recipient: which recipient, when the document was sent to several.
        :raises ExchangeError: ``EXCHANGE-UNKNOWN-DOCUMENT``.
        """
        guid = _as_guid(document_guid)
        peer_guid = None if recipient is None else self._participant(recipient).guid
        document = self.journal.document(Role.SENT, guid, peer_guid)
        if document is None:
            raise _unknown_document(guid, "sent")
        message = status_request(
            sender=_entity(self.identity),
            recipient=_entity_of(document.peer_eik, document.peer_name, document.peer_guid),
            document_id=self._original_doc_id(document, Direction.OUT),
        )
        record = self._queue(message, deliver=deliver)
        return self._deliver_now(record) if deliver else self._item(record)

    def set_status(
        self,
        document_guid: Guid | str,
        status: DocumentStatus | str,
        *,
        reg_number: str | None = None,
        reg_date: date | None = None,
        reason: str | None = None,
        expect_close_date: date | None = None,
        deliver: bool = True,
    ) -> OutgoingItem:
        """Change the status of a document we received and notify its sender.

        Only the changes of :mod:`eintegr.exchange.lifecycle` are allowed. ``DS_REGISTERED``,
        ``DS_STOPPED`` and ``DS_CLOSED`` carry our registration number: ``reg_number``, else
        the one already given, else the node's next one. ``DS_REJECTED`` needs ``reason``.
        The signed ``MSG_DocumentStatusResponse`` is committed with the change (one
        transaction) and sent like any message (retried on faults).

        :raises ExchangeError: ``EXCHANGE-UNKNOWN-DOCUMENT``, ``EXCHANGE-TRANSITION``,
            ``EXCHANGE-UNCHANGED``, ``EXCHANGE-CLOSE-DATE`` / ``EXCHANGE-NUMBER`` (given with
            a status that does not carry it), ``JOURNAL-CONFLICT`` (changed meanwhile: read it
            again).
        :raises MessageError: ``DS_REJECTED`` without a reason, or a reason with another
            status.
        """
        guid = _as_guid(document_guid)
        status = DocumentStatus(status)
        document = self.journal.document(Role.RECEIVED, guid)
        if document is None:
            raise _unknown_document(guid, "received")
        check_local_transition(document.status, status)
        if (
            status is document.status
            and (reg_number is None or reg_number == document.number)
            and (expect_close_date is None or expect_close_date == document.expect_close_date)
        ):
            raise ExchangeError(
                f"the document is already {status.value}; nothing changes",
                code="EXCHANGE-UNCHANGED",
                message_bg=f"Документът вече е в състояние {status.value}; няма промяна",
            )
        if expect_close_date is not None and status is not _S.DS_REGISTERED:
            raise ExchangeError(
                f"an expected close date goes only with DS_REGISTERED, not {status.value}",
                code="EXCHANGE-CLOSE-DATE",
                message_bg="Очаквана дата за приключване се посочва само при DS_REGISTERED",
            )
        if (reg_number is not None or reg_date is not None) and status not in NEEDS_NUMBER:
            raise ExchangeError(
                f"a registration number goes only with a registered status, not {status.value}",
                code="EXCHANGE-NUMBER",
                message_bg="Регистрационен номер се посочва само при регистриран документ",
            )
        now = self.clock()
        number, number_date = reg_number, reg_date
        if status in NEEDS_NUMBER and number is None:
            number, number_date = document.number, document.number_date
            if number is None:
                number, number_date = self._next_number(now)
        if number is not None and number_date is None:
            number_date = now.astimezone().date()
        doc_id = self._answer_doc_id(document, status, number, number_date)
        message = status_response(
            sender=_entity(self.identity),
            recipient=_entity_of(document.peer_eik, document.peer_name, document.peer_guid),
            document_id=doc_id,
            status=status,
            rejection_reason=reason,
            expect_close_date=expect_close_date,
        )
        change = StatusChange(
            status=status,
            source="local",
            at=now,
            resulting=status,
            number=number if status in NEEDS_NUMBER else None,
            number_date=number_date if status in NEEDS_NUMBER else None,
            reason=reason,
            expect_close_date=expect_close_date,
            message_guid=message.header.message_guid,
            previous=document.status,
        )
        record = self._queue(
            message,
            deliver=deliver,
            change=(document.id, document.status, change),
        )
        _event(
            logging.INFO,
            "document.status",
            "document %s: %s -> %s",
            guid,
            document.status.value if document.status else "—",
            status.value,
            document_guid=str(guid),
            status=status.value,
            message_guid=str(record.message_guid),
        )
        return self._deliver_now(record) if deliver else self._item(record)

    def document(
        self, document_guid: Guid | str, *, role: Role = Role.RECEIVED
    ) -> DocumentRecord | None:
        """A document we received (or, with ``role=Role.SENT``, sent) by its GUID."""
        return self.journal.document(role, _as_guid(document_guid))

    def item(self, message_guid: Guid | str) -> OutgoingItem:
        """The current state of an outgoing message.

        :raises ExchangeError: ``EXCHANGE-UNKNOWN-MESSAGE``.
        """
        guid = _as_guid(message_guid)
        record = self.journal.message(guid, Direction.OUT)
        if record is None:
            raise ExchangeError(
                f"no outgoing message {guid} in the journal",
                code="EXCHANGE-UNKNOWN-MESSAGE",
                message_bg=f"В журнала няма изходящо съобщение {guid}",
            )
        return self._item(record)

    def receiver(self, **options: Any) -> ReceivingPipeline:
        """The receiving side of this participant: a
        :class:`~eintegr.transport.receiving.ReceivingPipeline` (П.1–П.15) that hands each
        accepted message to :meth:`handle` and records ``MessageGUID`` values in the
        journal. ``options`` go to the pipeline (e.g. ``client_roots``, ``allow_sha1``)."""
        options.setdefault("seen", self.journal.seen)
        options.setdefault("signer", self.signer)
        return ReceivingPipeline(self.identity, self.register, handler=self.handle, **options)

    # -- sending ------------------------------------------------------------------------------

    def process_due(self, limit: int = 16) -> int:
        """Make one attempt for each outgoing message that is due (at most ``limit``);
        return how many were attempted."""
        now = self.clock()
        claimed = self.journal.claim_due(
            now=now, owner=self.owner, until=now + self.lease, limit=limit
        )
        for record in claimed:
            self._attempt(record)
        return len(claimed)

    def _participant(self, who: Participant | Guid | str) -> Participant:
        if isinstance(who, Participant):
            return who
        return self.register.by_guid(who)

    def _queue(
        self,
        message: Message,
        *,
        deliver: bool,
        document: NewDocument | None = None,
        change: tuple[int, DocumentStatus | None, StatusChange] | None = None,
    ) -> MessageRecord:
        raw = sign_message(message, self.signer)
        recipient = message.header.recipient
        now = self.clock()
        body = message.body
        document_guid: Guid | None = None
        status: DocumentStatus | None = None
        in_reply_to: Guid | None = None
        if isinstance(body, DocumentRegistrationRequest):
            document_guid = body.document.doc_id.document_guid
        elif isinstance(body, DocumentStatusRequest | DocumentStatusResponse):
            document_guid = body.doc_id.document_guid
            if isinstance(body, DocumentStatusResponse):
                status = body.status
        elif isinstance(body, ErrorMessage):
            in_reply_to = body.message_guid
        return self.journal.add_outgoing(
            NewMessage(
                message_guid=message.header.message_guid,
                message_type=message.header.message_type,
                peer_guid=recipient.guid,
                peer_eik=recipient.identifier,
                peer_name=recipient.administrative_body_name,
                raw=raw,
                document_guid=document_guid,
                in_reply_to=in_reply_to,
                status=status,
            ),
            now=now,
            document=document,
            change=change,
            lease=(self.owner, now + self.lease) if deliver else None,
        )

    def _deliver_now(self, record: MessageRecord) -> OutgoingItem:
        self._attempt(record)
        return self.item(record.message_guid)

    def _item(self, record: MessageRecord) -> OutgoingItem:
        document = None
        if record.document_guid is not None:
            role = (
                Role.SENT
                if record.message_type
                in (
                    MessageType.MSG_DocumentRegistrationRequest,
                    MessageType.MSG_DocumentStatusRequest,
                )
                else Role.RECEIVED
            )
            document = self.journal.document(role, record.document_guid, None)
        return OutgoingItem(record, document)

    def _attempt(self, record: MessageRecord) -> None:
        """One attempt at a leased message; the result goes to the journal."""
        assert record.raw is not None
        started = record.last_attempt_at or self.clock()
        error: BaseException | None = None
        response: bytes | None = None
        try:
            peer = self.register.by_guid(record.peer_guid)
            response = self.transport.send(peer, record.raw).response
        except RegistryError as failure:
            error = SenderError(
                f"the recipient {record.peer_guid} is not in the register (И.4): {failure}",
                code="И.4",
                message_bg=f"Получателят {record.peer_guid} не е вписан в Регистъра (И.4)",
            )
        except TransportError as failure:
            error = failure
        except Exception as failure:  # a bug or an unexpected library error: retry later
            _log.exception("unexpected failure sending %s", record.message_guid)
            error = TransportFault(
                f"unexpected failure while sending: {type(failure).__name__}: {failure}",
                code="EXCHANGE-UNEXPECTED",
                message_bg=f"Неочаквана грешка при изпращане: {type(failure).__name__}",
            )
        now = self.clock()
        outcome = classify(error)
        if error is not None and self._already_delivered(record, error):
            self._finish(
                record,
                Attempt(
                    state=DeliveryState.DELIVERED,
                    outcome=ExchangeOutcome.SUCCESS,
                    at=now,
                    error_code="П.9",
                    error_message="an earlier attempt was received (П.9 on a retry); "
                    "the status is asked for",
                ),
            )
            self._after_duplicate(record)
            return
        if error is None:
            attempt = Attempt(state=DeliveryState.DELIVERED, outcome=outcome, at=now)
            if response is not None:
                attempt = self._process_response(record, response, now)
            self._finish(record, attempt)
            return
        assert isinstance(error, TransportError)
        code, text = error.code, _short(str(error))
        if outcome is ExchangeOutcome.FAULT:
            following = self.schedule.next_attempt(record.attempts, started)
            state = DeliveryState.RETRY if following is not None else DeliveryState.EXPIRED
            self._finish(
                record,
                Attempt(state, outcome, now, following, code, text),
            )
            return
        state = (
            DeliveryState.FAILED_SENDER
            if outcome is ExchangeOutcome.SENDER_ERROR
            else DeliveryState.FAILED_RECEIVER
        )
        self._finish(record, Attempt(state, outcome, now, None, code, text))

    def _finish(self, record: MessageRecord, attempt: Attempt) -> None:
        held = self.journal.finish_attempt(record.id, self.owner, attempt)
        level = logging.INFO if attempt.state is not DeliveryState.RETRY else logging.WARNING
        if attempt.state in (
            DeliveryState.FAILED_SENDER,
            DeliveryState.FAILED_RECEIVER,
            DeliveryState.EXPIRED,
        ):
            level = logging.ERROR
        _event(
            level,
            "message.attempt",
            "%s %s to %s: attempt %d, %s%s",
            record.message_type.value,
            record.message_guid,
            record.peer_name,
            record.attempts,
            attempt.state.value,
            f" ({attempt.error_code}: {attempt.error_message})" if attempt.error_code else "",
            message_guid=str(record.message_guid),
            message_type=record.message_type.value,
            attempt=record.attempts,
            state=attempt.state.value,
            outcome=attempt.outcome.value,
            error_code=attempt.error_code,
            next_attempt_at=attempt.next_attempt_at.isoformat()
            if attempt.next_attempt_at
            else None,
            lease_held=held,
        )

    @staticmethod
    def _already_delivered(record: MessageRecord, error: BaseException) -> bool:
        """A ``П.9`` refusal of a retry: an earlier attempt of this very message arrived."""
        if record.attempts < 2 or not isinstance(error, SenderError | TransportFault):
            return False
        if isinstance(error, SenderError):
            return error.code == "П.9"
        return error.peer_code == "П.9"

    def _after_duplicate(self, record: MessageRecord) -> None:
        if (
            record.message_type is not MessageType.MSG_DocumentRegistrationRequest
            or record.document_guid is None
        ):
            return
        try:
            self.request_status(record.document_guid, recipient=record.peer_guid, deliver=False)
        except (EintegrError, LookupError) as failure:  # pragma: no cover - logged
            _log.warning("cannot ask for the status of %s: %s", record.document_guid, failure)

    def _process_response(self, record: MessageRecord, raw: bytes, now: datetime) -> Attempt:
        """Application-level processing of the synchronous answer to ``record``."""
        try:
            answer = Message.from_xml(raw)
        except (MessageError, XmlError) as failure:
            return Attempt(
                DeliveryState.FAILED_RECEIVER,
                ExchangeOutcome.RECEIVER_ERROR,
                now,
                error_code="И.10",
                error_message=_short(str(failure)),
            )
        body = answer.body
        new = NewMessage(
            message_guid=answer.header.message_guid,
            message_type=answer.header.message_type,
            peer_guid=answer.header.sender.guid,
            peer_eik=answer.header.sender.identifier,
            peer_name=answer.header.sender.administrative_body_name,
            raw=raw,
            document_guid=body.doc_id.document_guid
            if isinstance(body, DocumentStatusResponse)
            else record.document_guid,
            in_reply_to=record.message_guid,
            status=body.status if isinstance(body, DocumentStatusResponse) else None,
        )
        if isinstance(body, DocumentStatusResponse):
            guid = body.doc_id.document_guid
            document = self.journal.document(Role.SENT, guid, record.peer_guid)
            if document is None or (
                record.document_guid is not None and record.document_guid != guid
            ):
                self.journal.record_response(record.id, new, now=now)
                return Attempt(
                    DeliveryState.FAILED_RECEIVER,
                    ExchangeOutcome.RECEIVER_ERROR,
                    now,
                    error_code="ИС.1",
                    error_message=f"the status response is about document {guid}, which was "
                    "not sent to this participant in this message",
                )
            change = _remote_change(document, body, answer.header.message_guid, now)
            self.journal.record_response(
                record.id, new, now=now, change=(document.id, document.status, change)
            )
            self._notify_status(document, change)
            return Attempt(DeliveryState.DELIVERED, ExchangeOutcome.SUCCESS, now)
        if isinstance(body, ErrorMessage):
            self.journal.record_response(record.id, new, now=now)
            if body.message_guid != record.message_guid:
                return Attempt(
                    DeliveryState.FAILED_RECEIVER,
                    ExchangeOutcome.RECEIVER_ERROR,
                    now,
                    error_code="ИГ.1",
                    error_message=f"the error answer is about message {body.message_guid}, "
                    f"not {record.message_guid}",
                )
            outcome = classify_error_kind(body.error_type)
            state = (
                DeliveryState.FAILED_RECEIVER
                if outcome is ExchangeOutcome.RECEIVER_ERROR
                else DeliveryState.FAILED_SENDER
            )
            code = "ИГ.2" if outcome is ExchangeOutcome.RECEIVER_ERROR else "ИГ.3"
            self._notify_error(record, body, outcome, answer.header.message_guid)
            return Attempt(
                state,
                outcome,
                now,
                error_code=code,
                error_message=_short(f"{body.error_type.value}: {body.description}"),
            )
        self.journal.record_response(record.id, new, now=now)
        return Attempt(
            DeliveryState.FAILED_RECEIVER,
            ExchangeOutcome.RECEIVER_ERROR,
            now,
            error_code="SEOS-RESPONSE-KIND",
            error_message=f"a {answer.header.message_type.value} cannot be an answer",
        )

    # -- receiving ----------------------------------------------------------------------------

    def handle(self, received: ReceivedMessage) -> bytes | None:
        """Process a message that passed П.1–П.9 (the pipeline's handler).

        Commits it to the journal first; answers as the module documentation says; returns
        the signed answer (kept in the journal too) or ``None``. A copy of an already
        processed message gets the same answer again.
        """
        message = received.message
        header, body = message.header, message.body
        sender = received.sender
        now = self.clock()
        document: NewDocument | None = None
        document_guid: Guid | None = None
        if isinstance(body, DocumentRegistrationRequest):
            document_guid = body.document.doc_id.document_guid
            document = NewDocument(
                role=Role.RECEIVED,
                document_guid=document_guid,
                peer_guid=sender.guid,
                peer_eik=sender.eik,
                peer_name=sender.name,
                kind=body.document.kind,
                about=body.document.about,
            )
        elif isinstance(body, DocumentStatusRequest | DocumentStatusResponse):
            document_guid = body.doc_id.document_guid
        incoming = self.journal.add_incoming(
            NewMessage(
                message_guid=header.message_guid,
                message_type=header.message_type,
                peer_guid=sender.guid,
                peer_eik=sender.eik,
                peer_name=sender.name,
                raw=received.raw,
                document_guid=document_guid,
                in_reply_to=body.message_guid if isinstance(body, ErrorMessage) else None,
                status=body.status if isinstance(body, DocumentStatusResponse) else None,
            ),
            now=now,
            document=document,
        )
        _event(
            logging.INFO,
            "message.received",
            "%s %s from %s%s",
            header.message_type.value,
            header.message_guid,
            sender.name,
            "" if incoming.created else " (again)",
            message_guid=str(header.message_guid),
            message_type=header.message_type.value,
            peer=str(sender.guid),
            repeated=not incoming.created,
        )
        if incoming.message.state is DeliveryState.PROCESSED:
            return self._stored_answer(header.message_guid)
        if header.message_type is not message.body_type:
            return self._answer_error(
                incoming,
                message,
                f"MessageType {header.message_type.value} does not match the body "
                f"({message.body_type.value})",
                f"MessageType {header.message_type.value} не съответства на съдържанието "
                f"({message.body_type.value})",
            )
        if isinstance(body, DocumentRegistrationRequest):
            return self._registration(incoming, message, body, sender)
        if isinstance(body, DocumentStatusRequest):
            return self._status_request(incoming, message, body, sender)
        if isinstance(body, DocumentStatusResponse):
            return self._status_notice(incoming, message, body, sender)
        assert isinstance(body, ErrorMessage)
        return self._error_notice(incoming, message, body, sender)

    def _stored_answer(self, message_guid: Guid) -> bytes | None:
        answers = self.journal.messages(
            direction=Direction.OUT, states=[DeliveryState.RESPONSE], in_reply_to=message_guid
        )
        if not answers:
            return None
        stored = self.journal.message_by_id(answers[-1].id)
        assert stored is not None
        return stored.raw

    def _sign_answer(self, incoming: Message, answer: Message) -> tuple[bytes, NewMessage]:
        raw = sign_message(answer, self.signer)
        body = answer.body
        return raw, NewMessage(
            message_guid=answer.header.message_guid,
            message_type=answer.header.message_type,
            peer_guid=incoming.header.sender.guid,
            peer_eik=incoming.header.sender.identifier,
            peer_name=incoming.header.sender.administrative_body_name,
            raw=raw,
            document_guid=body.doc_id.document_guid
            if isinstance(body, DocumentStatusResponse)
            else None,
            in_reply_to=incoming.header.message_guid,
            status=body.status if isinstance(body, DocumentStatusResponse) else None,
        )

    def _complete(
        self,
        incoming: Incoming,
        answer: Message | None,
        change: tuple[int, DocumentStatus | None, StatusChange] | None = None,
    ) -> tuple[bool, bytes | None]:
        message = incoming.message
        raw: bytes | None = None
        new: NewMessage | None = None
        if answer is not None:
            assert message.raw is not None
            raw, new = self._sign_answer(Message.from_xml(message.raw), answer)
        done = self.journal.complete_incoming(
            message.id, now=self.clock(), response=new, change=change
        )
        return done, raw

    def _answer_error(self, incoming: Incoming, message: Message, en: str, bg: str) -> bytes | None:
        answer = error_message(
            sender=message.header.recipient,
            recipient=message.header.sender,
            error_type=ErrorKind.ERR_EXTERNAL,
            description=en,
            about_message_guid=message.header.message_guid,
        )
        _event(
            logging.WARNING,
            "message.refused",
            "answering %s with MSG_Error ERR_EXTERNAL: %s",
            message.header.message_guid,
            en,
            message_guid=str(message.header.message_guid),
            description_bg=bg,
        )
        done, raw = self._complete(incoming, answer)
        return raw if done else self._stored_answer(message.header.message_guid)

    def _registration(
        self,
        incoming: Incoming,
        message: Message,
        body: DocumentRegistrationRequest,
        sender: Participant,
    ) -> bytes | None:
        document = incoming.document
        assert document is not None
        request_id = body.document.doc_id
        mine = document.message_guid == message.header.message_guid
        if not mine or document.status is not None:
            # ЗР.1: the document is known (sent before, or decided already)
            status = _S.DS_ALREADY_RECEIVED
            answer = status_response(
                sender=message.header.recipient,
                recipient=message.header.sender,
                document_id=self._answer_doc_id(document, status, None, None, request_id),
                status=status,
            )
            done, raw = self._complete(incoming, answer)
            return raw if done else self._stored_answer(message.header.message_guid)
        decision = self.on_registration(
            IncomingDocument(
                document=body.document,
                comment=body.comment,
                sender=sender,
                message_guid=message.header.message_guid,
                received_at=incoming.message.created_at,
            )
        )
        if not isinstance(decision, Decision):
            raise TypeError(
                f"the registration policy returned {type(decision).__name__}, not a Decision"
            )
        now = self.clock()
        number, number_date = decision.number, decision.number_date
        if decision.status in NEEDS_NUMBER and number is None:
            number, number_date = self._next_number(now)
        if number is not None and number_date is None:
            number_date = now.astimezone().date()
        answer = status_response(
            sender=message.header.recipient,
            recipient=message.header.sender,
            document_id=self._answer_doc_id(
                document, decision.status, number, number_date, request_id
            ),
            status=decision.status,
            rejection_reason=decision.reason,
            expect_close_date=decision.expect_close_date,
        )
        change = StatusChange(
            status=decision.status,
            source="local",
            at=now,
            resulting=decision.status,
            number=number if decision.status in NEEDS_NUMBER else None,
            number_date=number_date if decision.status in NEEDS_NUMBER else None,
            reason=decision.reason,
            expect_close_date=decision.expect_close_date,
            message_guid=answer.header.message_guid,
            previous=None,
        )
        done, raw = self._complete(incoming, answer, (document.id, None, change))
        if done:
            _event(
                logging.INFO,
                "document.received",
                "document %s from %s: %s%s",
                document.document_guid,
                sender.name,
                decision.status.value,
                f" {number}" if number else "",
                document_guid=str(document.document_guid),
                status=decision.status.value,
                number=number,
            )
            return raw
        # decided meanwhile (e.g. by set_status from the policy): answer with what is there
        current = self.journal.document(Role.RECEIVED, document.document_guid)
        assert current is not None
        if current.status is None:  # pragma: no cover - the message was processed elsewhere
            return self._stored_answer(message.header.message_guid)
        answer = status_response(
            sender=message.header.recipient,
            recipient=message.header.sender,
            document_id=self._answer_doc_id(current, current.status, None, None, request_id),
            status=current.status,
            rejection_reason=current.rejection_reason if current.status is _S.DS_REJECTED else None,
        )
        done, raw = self._complete(incoming, answer)
        return raw if done else self._stored_answer(message.header.message_guid)

    def _status_request(
        self,
        incoming: Incoming,
        message: Message,
        body: DocumentStatusRequest,
        sender: Participant,
    ) -> bytes | None:
        guid = body.doc_id.document_guid
        document = self.journal.document(Role.RECEIVED, guid)
        if document is None:
            status = _S.DS_NOT_FOUND  # ПС.1
        elif document.status is None:
            status = _S.DS_ALREADY_RECEIVED  # ПС.2: received, no decision yet
        else:
            status = document.status  # ПС.3–ПС.7
        answer = status_response(
            sender=message.header.recipient,
            recipient=message.header.sender,
            document_id=self._answer_doc_id(document, status, None, None, body.doc_id),
            status=status,
            rejection_reason=document.rejection_reason
            if document is not None and status is _S.DS_REJECTED
            else None,
            expect_close_date=document.expect_close_date
            if document is not None and status is _S.DS_REGISTERED
            else None,
        )
        done, raw = self._complete(incoming, answer)
        if not done:
            return self._stored_answer(message.header.message_guid)
        if self.on_status_request is not None:
            self._call(
                self.on_status_request,
                StatusQuery(document_guid=guid, sender=sender, answer=status, document=document),
            )
        return raw

    def _status_notice(
        self,
        incoming: Incoming,
        message: Message,
        body: DocumentStatusResponse,
        sender: Participant,
    ) -> bytes | None:
        guid = body.doc_id.document_guid
        for _ in range(5):
            document = self.journal.document(Role.SENT, guid, sender.guid)
            if document is None:  # ИС.1
                return self._answer_error(
                    incoming,
                    message,
                    f"no document {guid} was sent to {sender.name} (ИС.1)",
                    f"Документ {guid} не е изпращан до {sender.name} (ИС.1)",
                )
            change = _remote_change(document, body, message.header.message_guid, self.clock())
            done, _ = self._complete(incoming, None, (document.id, document.status, change))
            if done:
                self._notify_status(document, change)
                return None
            current = self.journal.message_by_id(incoming.message.id)
            if current is not None and current.state is DeliveryState.PROCESSED:
                return self._stored_answer(message.header.message_guid)
        raise ReceiverError(  # pragma: no cover - only under a storm of concurrent changes
            "the document's status kept changing while the notice was recorded",
            code="EXCHANGE-CONFLICT",
            message_bg="Състоянието на документа се променяше, докато известието се записваше",
        )

    def _error_notice(
        self,
        incoming: Incoming,
        message: Message,
        body: ErrorMessage,
        sender: Participant,
    ) -> bytes | None:
        about = body.message_guid
        ours = None if about is None else self.journal.message(about, Direction.OUT)
        if ours is None or ours.peer_guid != sender.guid:  # ИГ.1
            return self._answer_error(
                incoming,
                message,
                f"no message {about} was sent to {sender.name} (ИГ.1)",
                f"Съобщение {about} не е изпращано до {sender.name} (ИГ.1)",
            )
        assert about is not None
        outcome = classify_error_kind(body.error_type)
        state = (
            DeliveryState.FAILED_RECEIVER
            if outcome is ExchangeOutcome.RECEIVER_ERROR
            else DeliveryState.FAILED_SENDER
        )
        settled = self.journal.settle(
            about,
            state=state,
            outcome=outcome,
            now=self.clock(),
            error_code="ИГ.2" if outcome is ExchangeOutcome.RECEIVER_ERROR else "ИГ.3",
            error_message=_short(f"{body.error_type.value}: {body.description}"),
        )
        done, _ = self._complete(incoming, None)
        if done and settled is not None:
            self._notify_error(settled, body, outcome, message.header.message_guid)
        return None if done else self._stored_answer(message.header.message_guid)

    # -- notifications and numbers ------------------------------------------------------------

    def _notify_status(self, document: DocumentRecord, change: StatusChange) -> None:
        _event(
            logging.INFO,
            "document.remote-status",
            "%s reports document %s: %s%s",
            document.peer_name,
            document.document_guid,
            change.status.value,
            "" if change.accepted else " (recorded only: it does not fit the current status)",
            document_guid=str(document.document_guid),
            status=change.status.value,
            accepted=change.accepted,
        )
        if self.on_status is None:
            return
        current = self.journal.document(Role.SENT, document.document_guid, document.peer_guid)
        assert current is not None
        assert change.message_guid is not None
        self._call(
            self.on_status,
            StatusNotice(
                document=current,
                reported=change.status,
                accepted=change.accepted,
                message_guid=change.message_guid,
            ),
        )

    def _notify_error(
        self, about: MessageRecord, body: ErrorMessage, outcome: ExchangeOutcome, guid: Guid
    ) -> None:
        _event(
            logging.ERROR,
            "message.error-notice",
            "%s reports %s about %s: %s",
            about.peer_name,
            body.error_type.value,
            about.message_guid,
            body.description,
            message_guid=str(about.message_guid),
            error_type=body.error_type.value,
        )
        if self.on_error is not None:
            self._call(
                self.on_error,
                ErrorNotice(
                    about=about,
                    kind=body.error_type,
                    description=body.description,
                    outcome=outcome,
                    message_guid=guid,
                ),
            )

    @staticmethod
    def _call(callback: Callable[[Any], None], argument: object) -> None:
        try:
            callback(argument)
        except Exception:
            _log.exception("the host's callback %r failed on %r", callback, argument)

    def _next_number(self, now: datetime) -> tuple[str, date]:
        value = self.journal.next_number(f"registration:{self.number_prefix}")
        return f"{self.number_prefix}-{value:06d}", now.astimezone().date()

    def _original_doc_id(
        self, document: DocumentRecord, direction: Direction
    ) -> DocumentIdentification:
        """The ``DocID`` the registration request carried (the sender's number or URI)."""
        stored = self.journal.message(document.message_guid, direction)
        if stored is not None and stored.raw is not None:
            try:
                body = Message.from_xml(stored.raw).body
            except (MessageError, XmlError):  # pragma: no cover - we stored it after checks
                body = None
            if isinstance(body, DocumentRegistrationRequest):
                return body.document.doc_id
        return DocumentIdentification(document_guid=document.document_guid)

    def _answer_doc_id(
        self,
        document: DocumentRecord | None,
        status: DocumentStatus,
        number: str | None,
        number_date: date | None,
        request: DocumentIdentification | None = None,
    ) -> DocumentIdentification:
        """The ``DocID`` of a status answer: our number for a registered document, else the
        request's identification (ЗР.*, ПС.*)."""
        if document is not None and status in (*NEEDS_NUMBER, _S.DS_ALREADY_RECEIVED):
            number = number or document.number
            number_date = number_date or document.number_date
            if number is not None and number_date is not None:
                return DocumentIdentification(
                    number=DocumentNumber(number=number, date=number_date),
                    document_guid=document.document_guid,
                )
            if document.uri is not None:
                return DocumentIdentification(
                    uri=_uri_from_text(document.uri), document_guid=document.document_guid
                )
        if request is not None:
            return request
        assert document is not None
        return self._original_doc_id(document, Direction.IN)


def _remote_change(
    document: DocumentRecord, body: DocumentStatusResponse, message_guid: Guid, now: datetime
) -> StatusChange:
    resulting = remote_transition(document.status, body.status)
    number, number_date, uri = (None, None, None)
    if body.status in (*NEEDS_NUMBER, _S.DS_ALREADY_RECEIVED):
        number, number_date, uri = _identification(body.doc_id)
    return StatusChange(
        status=body.status,
        source="remote",
        at=now,
        resulting=resulting,
        accepted=resulting is not None,
        number=number,
        number_date=number_date,
        uri=uri,
        reason=body.rejection_reason,
        expect_close_date=body.expect_close_date,
        message_guid=message_guid,
        previous=document.status,
        note=None if resulting is not None else "does not fit the current status",
    )


def _as_guid(value: Guid | str) -> Guid:
    return value if isinstance(value, Guid) else Guid.parse_lenient(value)


def _unknown_document(guid: Guid, role: str) -> ExchangeError:
    what_bg = "изпратен" if role == "sent" else "получен"
    return ExchangeError(
        f"no {role} document {guid} in the journal",
        code="EXCHANGE-UNKNOWN-DOCUMENT",
        message_bg=f"В журнала няма {what_bg} документ {guid}",
    )
