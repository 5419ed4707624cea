"""The participant end to end in memory: lifecycle, answers, retries, duplicates."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from eintegr.errors import (
    ExchangeError,
    MessageError,
    ReceiverError,
    SenderError,
    TransportFault,
)
from eintegr.exchange import (
    Decision,
    DeliveryState,
    Direction,
    ErrorNotice,
    ExchangeOutcome,
    IncomingDocument,
    Node,
    Role,
    SqliteJournal,
    StatusNotice,
    StatusQuery,
    register_automatically,
)
from eintegr.identifiers import Guid
from eintegr.messages.seos import (
    Attachment,
    Document,
    DocumentIdentification,
    DocumentStatus,
    DocumentStatusResponse,
    EntityNode,
    ErrorKind,
    ErrorMessage,
    Message,
    MessageType,
    error_message,
    new_document,
    status_request,
    status_response,
)
from eintegr.registry.model import Participant
from eintegr.signing import sign_message
from eintegr.transport import MemoryTransport
from eintegr.transport.base import Receiver

from .conftest import Pair, Party, World

S = DocumentStatus


def _entity(participant: Participant) -> EntityNode:
    return EntityNode(
        identifier=participant.eik,
        administrative_body_name=participant.name,
        guid=participant.guid,
    )


def _letter(about: str = "Писмо за съгласуване") -> Document:
    return new_document(
        kind="Писмо",
        number="ОА-12",
        date=date(2024, 5, 6),
        about=about,
        attachments=[
            Attachment(file_name="pismo.txt", content="Здравейте!".encode(), mime_type="text/plain")
        ],
    )


def _deliver(world: World, to: Receiver, sender: Party, message: Message) -> Message | None:
    raw = sign_message(message, sender.signer)
    answer = to(raw, client_certificate=sender.credentials.certificate)
    return None if answer is None else Message.from_xml(answer)


def test_document_lifecycle_from_waiting_to_closed(make_pair: Callable[..., Pair]) -> None:
    notices: list[StatusNotice] = []
    pair = make_pair(sender={"on_status": notices.append})
    document = _letter()
    item = pair.sender.send_document(pair.recipient.identity, document, "За съгласуване")
    guid = document.doc_id.document_guid
    assert item.state is DeliveryState.DELIVERED
    assert item.outcome is ExchangeOutcome.SUCCESS
    assert item.message.attempts == 1
    # the synchronous answer: the default policy postpones registration (ЗР.2)
    sent = pair.sender.document(guid, role=Role.SENT)
    assert sent is not None
    assert sent.status is S.DS_WAIT_REGISTRATION
    received = pair.recipient.document(guid)
    assert received is not None
    assert received.status is S.DS_WAIT_REGISTRATION
    assert received.kind == "Писмо"
    assert received.peer_guid == pair.sender.identity.guid

    # a clerk registers it: a status notice is pushed to the sender
    push = pair.recipient.set_status(guid, S.DS_REGISTERED, expect_close_date=date(2030, 1, 31))
    assert push.state is DeliveryState.DELIVERED
    assert push.message.message_type.value == "MSG_DocumentStatusResponse"
    received = pair.recipient.document(guid)
    assert received is not None
    assert received.number == "ВХ-000001"
    sent = pair.sender.document(guid, role=Role.SENT)
    assert sent is not None
    assert (sent.status, sent.number) == (S.DS_REGISTERED, "ВХ-000001")
    assert sent.expect_close_date == date(2030, 1, 31)
    assert [n.reported for n in notices] == [S.DS_WAIT_REGISTRATION, S.DS_REGISTERED]

    # the sender asks; the answer comes from the recipient's journal (ПС.5)
    asked = pair.sender.request_status(guid)
    assert asked.state is DeliveryState.DELIVERED
    assert notices[-1].reported is S.DS_REGISTERED

    pair.recipient.set_status(guid, S.DS_CLOSED)
    sent = pair.sender.document(guid, role=Role.SENT)
    assert sent is not None
    assert sent.status is S.DS_CLOSED

    # history on both sides, every change kept
    mine = pair.recipient.journal.history(received.id)
    assert [(h.previous, h.status, h.source) for h in mine] == [
        (None, S.DS_WAIT_REGISTRATION, "local"),
        (S.DS_WAIT_REGISTRATION, S.DS_REGISTERED, "local"),
        (S.DS_REGISTERED, S.DS_CLOSED, "local"),
    ]
    theirs = pair.sender.journal.history(sent.id)
    assert [h.status for h in theirs] == [
        S.DS_WAIT_REGISTRATION,
        S.DS_REGISTERED,
        S.DS_REGISTERED,
        S.DS_CLOSED,
    ]
    assert all(h.source == "remote" and h.accepted for h in theirs)

    # every message in and out is in the journals with its signed bytes
    out = pair.sender.journal.messages(direction=Direction.OUT)
    assert [m.message_type.value for m in out] == [
        "MSG_DocumentRegistrationRequest",
        "MSG_DocumentStatusRequest",
    ]
    stored = pair.sender.journal.message(out[0].message_guid, Direction.OUT)
    assert stored is not None
    assert stored.raw is not None
    assert b"Signature" in stored.raw

    # a closed document cannot be reopened
    with pytest.raises(ExchangeError) as caught:
        pair.recipient.set_status(guid, S.DS_REGISTERED)
    assert caught.value.code == "EXCHANGE-TRANSITION"
    assert caught.value.message_bg.startswith("Документ в състояние DS_CLOSED")


def test_automatic_registration_answers_with_the_number(make_pair: Callable[..., Pair]) -> None:
    pair = make_pair(recipient={"on_registration": register_automatically, "number_prefix": "94"})
    document = _letter()
    pair.sender.send_document(pair.recipient.identity.guid, document)
    sent = pair.sender.document(document.doc_id.document_guid, role=Role.SENT)
    assert sent is not None
    assert (sent.status, sent.number) == (S.DS_REGISTERED, "94-000001")
    assert sent.number_date is not None


def test_host_policy_can_reject(make_pair: Callable[..., Pair]) -> None:
    seen: list[IncomingDocument] = []

    def policy(incoming: IncomingDocument) -> Decision:
        seen.append(incoming)
        return Decision.reject("Не е от компетентността на общината")

    pair = make_pair(recipient={"on_registration": policy})
    document = _letter()
    pair.sender.send_document(pair.recipient.identity, document, "Моля, регистрирайте")
    assert seen[0].comment == "Моля, регистрирайте"
    assert seen[0].document.attachments[0].content == "Здравейте!".encode()
    sent = pair.sender.document(document.doc_id.document_guid, role=Role.SENT)
    assert sent is not None
    assert sent.status is S.DS_REJECTED
    assert sent.rejection_reason == "Не е от компетентността на общината"
    with pytest.raises(ExchangeError):
        pair.recipient.set_status(document.doc_id.document_guid, S.DS_REGISTERED)


def test_known_document_guid_is_already_received(
    make_pair: Callable[..., Pair], world: World
) -> None:
    pair = make_pair(recipient={"on_registration": register_automatically})
    document = _letter()
    pair.sender.send_document(pair.recipient.identity, document)
    # the same DocumentGUID in a new message, from another participant (ЗР.1)
    from eintegr.messages.seos import registration_request

    again = registration_request(
        sender=_entity(world.stranger.participant),
        recipient=_entity(pair.recipient.identity),
        document=document,
        comment="повторно",
    )
    answer = _deliver(world, pair.recipient.receiver(), world.stranger, again)
    assert answer is not None
    body = answer.body
    assert isinstance(body, DocumentStatusResponse)
    assert body.status is S.DS_ALREADY_RECEIVED
    assert body.doc_id.number is not None
    assert body.doc_id.number.number == "ВХ-000001"
    # one document, registered once
    received = pair.recipient.journal.documents(role=Role.RECEIVED)
    assert len(received) == 1
    # the sending node refuses to send the same document twice to one recipient
    with pytest.raises(ExchangeError) as caught:
        pair.sender.send_document(pair.recipient.identity, document)
    assert caught.value.code == "JOURNAL-DUPLICATE"


def test_status_request_for_unknown_document_is_not_found(
    make_pair: Callable[..., Pair], world: World
) -> None:
    queries: list[StatusQuery] = []
    pair = make_pair(recipient={"on_status_request": queries.append})
    asked = DocumentIdentification(document_guid=Guid.new())
    question = status_request(
        sender=_entity(pair.sender.identity),
        recipient=_entity(pair.recipient.identity),
        document_id=asked,
    )
    answer = _deliver(world, pair.recipient.receiver(), world.oblast, question)
    assert answer is not None
    assert isinstance(answer.body, DocumentStatusResponse)
    assert answer.body.status is S.DS_NOT_FOUND  # ПС.1
    assert answer.body.doc_id == asked
    assert queries[0].answer is S.DS_NOT_FOUND
    assert queries[0].document is None


def test_status_notice_about_a_document_never_sent_is_an_external_error(
    make_pair: Callable[..., Pair], world: World
) -> None:
    pair = make_pair()
    notice = status_response(
        sender=_entity(pair.recipient.identity),
        recipient=_entity(pair.sender.identity),
        document_id=DocumentIdentification(document_guid=Guid.new()),
        status=S.DS_REGISTERED,
    )
    answer = _deliver(world, pair.sender.receiver(), world.obshtina, notice)
    assert answer is not None
    assert isinstance(answer.body, ErrorMessage)
    assert answer.body.error_type is ErrorKind.ERR_EXTERNAL  # ИС.1
    assert answer.body.message_guid == notice.header.message_guid


def test_error_notices(make_pair: Callable[..., Pair], world: World) -> None:
    errors: list[ErrorNotice] = []
    pair = make_pair(sender={"on_error": errors.append})
    item = pair.sender.send_document(pair.recipient.identity, _letter())
    # ИГ.1: about a message that was never sent
    stray = error_message(
        sender=_entity(pair.recipient.identity),
        recipient=_entity(pair.sender.identity),
        error_type=ErrorKind.ERR_INTERNAL,
        description="?",
        about_message_guid=Guid.new(),
    )
    answer = _deliver(world, pair.sender.receiver(), world.obshtina, stray)
    assert answer is not None
    assert isinstance(answer.body, ErrorMessage)
    assert answer.body.error_type is ErrorKind.ERR_EXTERNAL
    # ИГ.3: an external error about our message: the exchange failed through our fault
    real = error_message(
        sender=_entity(pair.recipient.identity),
        recipient=_entity(pair.sender.identity),
        error_type=ErrorKind.ERR_EXTERNAL,
        description="Липсва приложение",
        about_message_guid=item.message_guid,
    )
    assert _deliver(world, pair.sender.receiver(), world.obshtina, real) is None
    settled = pair.sender.item(item.message_guid)
    assert settled.state is DeliveryState.FAILED_SENDER
    assert settled.message.error_code == "ИГ.3"
    assert errors[0].outcome is ExchangeOutcome.SENDER_ERROR
    assert errors[0].description == "Липсва приложение"


def test_faults_are_retried_with_the_same_bytes_until_delivered(
    make_pair: Callable[..., Pair],
) -> None:
    pair = make_pair()
    copies: list[bytes] = []
    real = pair.recipient.receiver()
    failures = iter([True, True, False])

    def flaky(message: bytes, *, client_certificate: object) -> bytes | None:
        copies.append(message)
        if next(failures):
            raise TransportFault("down for maintenance", code="И.8")
        return real(message, client_certificate=client_certificate)  # type: ignore[arg-type]

    pair.transports["sender"].route(pair.recipient.identity.guid, flaky)
    item = pair.sender.send_document(pair.recipient.identity, _letter())
    assert item.state is DeliveryState.RETRY
    assert item.message.attempts == 1
    assert item.message.error_code == "И.8"
    first_due = item.message.next_attempt_at
    assert first_due is not None
    assert item.message.last_attempt_at is not None
    assert first_due - item.message.last_attempt_at == timedelta(seconds=0.02)
    while not pair.sender.item(item.message_guid).is_final:
        pair.sender.process_due()
    done = pair.sender.item(item.message_guid)
    assert done.state is DeliveryState.DELIVERED
    assert done.message.attempts == 3
    assert len(set(copies)) == 1
    assert len(copies) == 3


def test_faults_expire_after_the_last_retry(make_pair: Callable[..., Pair]) -> None:
    pair = make_pair()
    pair.unroute()
    item = pair.sender.send_document(pair.recipient.identity, _letter())
    while not pair.sender.item(item.message_guid).is_final:
        pair.sender.process_due()
    done = pair.sender.item(item.message_guid)
    assert done.state is DeliveryState.EXPIRED
    assert done.message.attempts == 4  # FAST: 3 retries
    assert done.message.error_code == "MEMORY-NO-ROUTE"


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (SenderError("bad", code="П.3"), DeliveryState.FAILED_SENDER),
        (ReceiverError("broken", code="RECV-HANDLER"), DeliveryState.FAILED_RECEIVER),
    ],
)
def test_errors_stop(
    make_pair: Callable[..., Pair], error: Exception, state: DeliveryState
) -> None:
    pair = make_pair()

    def refuse(message: bytes, *, client_certificate: object) -> None:
        raise error

    pair.transports["sender"].route(pair.recipient.identity.guid, refuse)
    item = pair.sender.send_document(pair.recipient.identity, _letter())
    assert item.state is state
    assert item.is_final
    assert pair.sender.process_due() == 0


def test_a_retry_refused_as_duplicate_was_delivered(make_pair: Callable[..., Pair]) -> None:
    """The answer of the first attempt was lost; the retry meets П.9: delivered, and the
    status is asked for."""
    pair = make_pair(recipient={"on_registration": register_automatically})
    real = pair.recipient.receiver()
    calls = iter([True, False])

    def lose_answer(message: bytes, *, client_certificate: object) -> bytes | None:
        answer = real(message, client_certificate=client_certificate)  # type: ignore[arg-type]
        if next(calls):
            raise TransportFault("connection reset", code="И.8")
        return answer

    pair.transports["sender"].route(pair.recipient.identity.guid, lose_answer)
    document = _letter()
    item = pair.sender.send_document(pair.recipient.identity, document)
    assert item.state is DeliveryState.RETRY
    pair.transports["sender"].route(pair.recipient.identity.guid, real)
    while pair.sender.journal.next_due() is not None:
        pair.sender.process_due()
    done = pair.sender.item(item.message_guid)
    assert done.state is DeliveryState.DELIVERED
    assert done.message.error_code == "П.9"
    sent = pair.sender.document(document.doc_id.document_guid, role=Role.SENT)
    assert sent is not None
    assert sent.status is S.DS_REGISTERED
    assert len(pair.recipient.journal.documents(role=Role.RECEIVED)) == 1


def test_a_message_processed_before_a_crash_gets_the_same_answer(
    make_pair: Callable[..., Pair], world: World
) -> None:
    pair = make_pair(recipient={"on_registration": register_automatically})
    from eintegr.messages.seos import registration_request

    request = registration_request(
        sender=_entity(pair.sender.identity),
        recipient=_entity(pair.recipient.identity),
        document=_letter(),
    )
    raw = sign_message(request, world.oblast.signer)
    pipeline = pair.recipient.receiver()
    received = pipeline.check(raw, client_certificate=world.oblast.credentials.certificate)
    first = pair.recipient.handle(received)
    # the process died before the MessageGUID was recorded as seen: the retry is handled again
    second = pair.recipient.handle(received)
    pipeline.release(received)
    assert first is not None
    assert first == second
    assert len(pair.recipient.journal.documents(role=Role.RECEIVED)) == 1
    assert pair.recipient.journal.next_number("registration:ВХ") == 2  # numbered once


def test_set_status_refusals(make_pair: Callable[..., Pair]) -> None:
    pair = make_pair()
    document = _letter()
    pair.sender.send_document(pair.recipient.identity, document)
    guid = document.doc_id.document_guid
    with pytest.raises(ExchangeError) as caught:
        pair.recipient.set_status(Guid.new(), S.DS_REGISTERED)
    assert caught.value.code == "EXCHANGE-UNKNOWN-DOCUMENT"
    with pytest.raises(ExchangeError) as caught:
        pair.recipient.set_status(guid, S.DS_NOT_FOUND)
    assert caught.value.code == "EXCHANGE-TRANSITION"
    with pytest.raises(ExchangeError) as caught:
        pair.recipient.set_status(guid, S.DS_WAIT_REGISTRATION)
    assert caught.value.code == "EXCHANGE-TRANSITION"
    pair.recipient.set_status(guid, S.DS_REGISTERED, reg_number="12-00-1")
    with pytest.raises(ExchangeError) as caught:
        pair.recipient.set_status(guid, S.DS_REGISTERED)
    assert caught.value.code == "EXCHANGE-UNCHANGED"
    with pytest.raises(ExchangeError):
        pair.recipient.request_status(guid)  # we did not send it
    with pytest.raises(ExchangeError):
        Decision(S.DS_REJECTED)  # a rejection needs a reason
    with pytest.raises(ExchangeError) as caught:
        pair.recipient.set_status(guid, S.DS_CLOSED, expect_close_date=date(2030, 1, 1))
    assert caught.value.code == "EXCHANGE-CLOSE-DATE"
    with pytest.raises(MessageError):
        pair.recipient.set_status(guid, S.DS_CLOSED, reason="no")
    with pytest.raises(ExchangeError) as caught:
        pair.recipient.set_status(guid, S.DS_REJECTED, reason="x", reg_number="1")
    assert caught.value.code in {"EXCHANGE-NUMBER", "EXCHANGE-TRANSITION"}


def test_concurrent_status_changes_do_not_lose_updates(make_pair: Callable[..., Pair]) -> None:
    pair = make_pair()
    document = _letter()
    pair.sender.send_document(pair.recipient.identity, document)
    guid = document.doc_id.document_guid
    results: list[str] = []

    def close() -> None:
        try:
            pair.recipient.set_status(guid, S.DS_CLOSED, deliver=False)
            results.append("ok")
        except ExchangeError as error:
            results.append(error.code)

    threads = [threading.Thread(target=close) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 1
    assert set(results) <= {"ok", "JOURNAL-CONFLICT", "EXCHANGE-TRANSITION"}
    received = pair.recipient.document(guid)
    assert received is not None
    assert [h.status for h in pair.recipient.journal.history(received.id)][-1] is S.DS_CLOSED


def _answering(pair: Pair, world: World, build: Callable[[Message], Message]) -> Receiver:
    """A recipient that answers every message with ``build(incoming)``, signed."""

    def receive(message: bytes, *, client_certificate: object) -> bytes:
        incoming = Message.from_xml(message)
        return sign_message(build(incoming), world.obshtina.signer)

    return receive


def test_a_synchronous_internal_error_fails_the_exchange(
    make_pair: Callable[..., Pair], world: World
) -> None:
    errors: list[ErrorNotice] = []
    pair = make_pair(sender={"on_error": errors.append})

    def internal(incoming: Message) -> Message:
        return error_message(
            sender=incoming.header.recipient,
            recipient=incoming.header.sender,
            error_type=ErrorKind.ERR_INTERNAL,
            description="Базата данни не е достъпна",
            about_message_guid=incoming.header.message_guid,
        )

    pair.transports["sender"].route(pair.recipient.identity.guid, _answering(pair, world, internal))
    item = pair.sender.send_document(pair.recipient.identity, _letter())
    assert item.state is DeliveryState.FAILED_RECEIVER  # ИГ.2
    assert item.message.error_code == "ИГ.2"
    assert errors[0].kind is ErrorKind.ERR_INTERNAL
    answers = pair.sender.journal.messages(direction=Direction.IN)
    assert [m.in_reply_to for m in answers] == [item.message_guid]


def test_a_synchronous_answer_about_another_document_is_the_receivers_error(
    make_pair: Callable[..., Pair], world: World
) -> None:
    pair = make_pair()

    def wrong(incoming: Message) -> Message:
        return status_response(
            sender=incoming.header.recipient,
            recipient=incoming.header.sender,
            document_id=DocumentIdentification(document_guid=Guid.new()),
            status=S.DS_REGISTERED,
        )

    pair.transports["sender"].route(pair.recipient.identity.guid, _answering(pair, world, wrong))
    document = _letter()
    item = pair.sender.send_document(pair.recipient.identity, document)
    assert item.state is DeliveryState.FAILED_RECEIVER
    assert item.message.error_code == "ИС.1"
    sent = pair.sender.document(document.doc_id.document_guid, role=Role.SENT)
    assert sent is not None
    assert sent.status is None


def test_a_message_type_that_contradicts_the_body_is_an_external_error(
    make_pair: Callable[..., Pair], world: World
) -> None:
    pair = make_pair()
    question = status_request(
        sender=_entity(pair.sender.identity),
        recipient=_entity(pair.recipient.identity),
        document_id=DocumentIdentification(document_guid=Guid.new()),
    )
    question.header.message_type = MessageType.MSG_DocumentRegistrationRequest
    answer = _deliver(world, pair.recipient.receiver(), world.oblast, question)
    assert answer is not None
    assert isinstance(answer.body, ErrorMessage)
    assert answer.body.error_type is ErrorKind.ERR_EXTERNAL
    assert "MessageType" in answer.body.description


def test_the_signer_must_be_the_registered_certificate(world: World, tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    with pytest.raises(ExchangeError) as caught:
        Node(
            identity=world.oblast.participant,
            signer=world.obshtina.signer,
            register=world.register,
            transport=MemoryTransport(),
            journal=journal,
        )
    assert caught.value.code == "EXCHANGE-IDENTITY"
    journal.close()
