"""The receiving pipeline in memory: П.1–П.15 in the specification's order, duplicates, handlers.

The participants, their certificates and the register are built once per session by
:func:`make_world` (also used by the server tests over real sockets).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from eintegr.errors import ReceiverError, SenderError, TransportError, TransportFault
from eintegr.identifiers import Guid
from eintegr.messages import (
    DocumentStatus,
    EntityNode,
    Message,
    new_document,
    registration_request,
    reply_to,
    status_request,
    status_response,
)
from eintegr.messages.seos import DocumentStatusResponse
from eintegr.registry.model import (
    DOCUMENT_EXCHANGE_SERVICE,
    Participant,
    ParticipantStatus,
    Register,
    Service,
    StaticRegister,
)
from eintegr.signing import (
    CertificateAuthorities,
    PinnedCertificates,
    VerificationPolicy,
    sign_message,
    verify_message,
)
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.transport.base import InMemorySeenMessages
from eintegr.transport.receiving import (
    CHECKS,
    FolderHandler,
    ReceivedMessage,
    ReceivingPipeline,
    RegisteredCertificate,
)

# --- the world: a CA, participants, a register -------------------------------------------------


@dataclass(frozen=True)
class Party:
    """A participant with its transport key and certificate."""

    key: Issued
    participant: Participant

    @property
    def node(self) -> EntityNode:
        p = self.participant
        return EntityNode(identifier=p.eik, administrative_body_name=p.name, guid=p.guid)


@dataclass(frozen=True)
class World:
    """Everything the receiving tests need; Bob is the receiving endpoint."""

    ca: Issued
    alice: Party  # an active sender
    bob: Party  # the participant the endpoint serves
    carol: Party  # another active participant
    dave: Party  # registered, inactive
    eve: Party  # a certificate of the right CA, not in the register
    expired: Issued  # Alice's EIK, expired
    outsider: Issued  # Alice's EIK, another CA
    alice_second: Issued  # Alice's EIK, same CA, not the registered serial
    register: StaticRegister = field(repr=False)

    def message(
        self,
        sender: Party | None = None,
        recipient: Party | None = None,
        *,
        status: bool = False,
    ) -> Message:
        source = (sender or self.alice).node
        target = (recipient or self.bob).node
        if status:
            document = new_document(kind="Писмо")
            return status_request(sender=source, recipient=target, document_id=document.doc_id)
        return registration_request(
            sender=source,
            recipient=target,
            document=new_document(kind="Писмо", about="Тест"),
            comment="тест",
        )

    def signed(
        self,
        sender: Party | None = None,
        recipient: Party | None = None,
        *,
        key: Issued | None = None,
        status: bool = False,
    ) -> bytes:
        message = self.message(sender, recipient, status=status)
        return sign_message(message, (key or (sender or self.alice).key).signer())


def _party(ca: Issued, eik: str, name: str, status: ParticipantStatus) -> Party:
    key = make_transport_certificate(ca, eik=eik, host="127.0.0.1")
    participant = Participant(
        eik=eik,
        guid=Guid.new(),
        name=name,
        certificate_serial=format(key.certificate.serial_number, "x"),
        status=status,
        services=(Service(DOCUMENT_EXCHANGE_SERVICE, "Документооборот", "https://127.0.0.1:1/"),),
    )
    return Party(key, participant)


@cache
def make_world() -> World:
    """The session's participants (RSA keys take time: built once)."""
    ca = make_ca("eintegr receiving test CA")
    active = ParticipantStatus.ACTIVE
    alice = _party(ca, "100000001", "Община Алфа", active)
    bob = _party(ca, "100000019", "Агенция Бета", active)
    carol = _party(ca, "100000026", "Министерство Гама", active)
    dave = _party(ca, "100000033", "Община Делта", ParticipantStatus.INACTIVE)
    eve = _party(ca, "100000040", "Неизвестен", active)
    expired = make_transport_certificate(
        ca,
        eik="100000001",
        host="127.0.0.1",
        valid_from=dt.datetime.now(dt.UTC) - dt.timedelta(days=30),
        valid_days=2,
    )
    outsider = make_transport_certificate(make_ca("another CA"), eik="100000001", host="127.0.0.1")
    second = make_transport_certificate(ca, eik="100000001", host="127.0.0.1")
    register = StaticRegister(
        [alice.participant, bob.participant, carol.participant, dave.participant]
    )
    return World(ca, alice, bob, carol, dave, eve, expired, outsider, second, register)


@pytest.fixture(scope="session")
def world() -> World:
    return make_world()


# --- a recording handler -----------------------------------------------------------------------


class Recorder:
    """A handler that records what it gets; answers per ``reply`` (None by default)."""

    def __init__(self, reply: Callable[[ReceivedMessage], Message | bytes | None] | None = None):
        self.received: list[ReceivedMessage] = []
        self.reply = reply
        self.lock = threading.Lock()

    def __call__(self, received: ReceivedMessage) -> Message | bytes | None:
        with self.lock:
            self.received.append(received)
        return self.reply(received) if self.reply else None


def pipeline(
    world: World, handler: Callable[[ReceivedMessage], object], **options: object
) -> ReceivingPipeline:
    options.setdefault("signer", world.bob.key.signer())
    return ReceivingPipeline(world.bob.participant, world.register, handler=handler, **options)  # type: ignore[arg-type]


def refused(call: Callable[[], object]) -> TransportError:
    with pytest.raises(TransportError) as caught:
        call()
    assert caught.value.code in CHECKS
    assert caught.value.message_bg
    assert caught.value.message_bg != caught.value.message
    return caught.value


# --- the happy path ------------------------------------------------------------------------------


def test_a_valid_message_reaches_the_handler_and_gets_an_empty_answer(world: World) -> None:
    recorder = Recorder()
    data = world.signed()
    assert pipeline(world, recorder)(data, client_certificate=world.alice.key.certificate) is None
    (received,) = recorder.received
    assert received.raw == data
    assert received.sender == world.alice.participant
    assert received.recipient == world.bob.participant
    assert received.client_certificate == world.alice.key.certificate
    assert received.verified.certificate == world.alice.key.certificate
    assert received.message.header.message_guid == received.message_guid
    assert received.received_at.tzinfo is not None


def test_a_handler_response_is_signed_and_checked(world: World) -> None:
    def answer(received: ReceivedMessage) -> Message:
        doc_id = received.message.body.doc_id  # type: ignore[union-attr]
        body = DocumentStatusResponse(doc_id=doc_id, status=DocumentStatus.DS_NOT_FOUND)
        return reply_to(received.message, body)

    response = pipeline(world, Recorder(answer))(
        world.signed(status=True), client_certificate=world.alice.key.certificate
    )
    assert response is not None
    policy = VerificationPolicy(trust=PinnedCertificates([world.bob.key.certificate]))
    header = verify_message(response, policy).message.header
    assert header.sender.guid == world.bob.participant.guid
    assert header.recipient.guid == world.alice.participant.guid


# --- П.1–П.9 -------------------------------------------------------------------------------------


def test_p1_no_client_certificate(world: World) -> None:
    error = refused(lambda: pipeline(world, Recorder())(world.signed(), client_certificate=None))
    assert isinstance(error, SenderError)
    assert error.code == "П.1"


def test_p1_expired_client_certificate(world: World) -> None:
    call = pipeline(world, Recorder())
    error = refused(lambda: call(world.signed(), client_certificate=world.expired.certificate))
    assert error.code == "П.1"
    assert "valid from" in str(error)


def test_p1_client_certificate_of_another_ca_with_client_roots(world: World) -> None:
    call = pipeline(world, Recorder(), client_roots=[world.ca.certificate])
    error = refused(lambda: call(world.signed(), client_certificate=world.outsider.certificate))
    assert error.code == "П.1"
    assert "certification authority" in str(error)


def test_oversized_message(world: World) -> None:
    data = world.signed()
    call = pipeline(world, Recorder(), max_bytes=len(data) - 1)
    error = refused(lambda: call(data, client_certificate=world.alice.key.certificate))
    assert isinstance(error, SenderError)
    assert error.code == "RECV-TOO-LARGE"


@pytest.mark.parametrize(
    "data", [b"", b"not xml", b"<Message>", b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>']
)
def test_p2_not_well_formed(world: World, data: bytes) -> None:
    call = pipeline(world, Recorder())
    assert refused(lambda: call(data, client_certificate=world.alice.key.certificate)).code == "П.2"


def test_p3_not_valid_against_the_xsd(world: World) -> None:
    data = world.signed().replace(b"<DocKind>", b"<Unexpected/><DocKind>")
    call = pipeline(world, Recorder())
    error = refused(lambda: call(data, client_certificate=world.alice.key.certificate))
    assert error.code == "П.3"
    assert "Unexpected" in str(error)


def test_p3_another_root_element(world: World) -> None:
    call = pipeline(world, Recorder())
    data = b'<Header xmlns="http://schemas.egov.bg/messaging/v1"/>'
    assert refused(lambda: call(data, client_certificate=world.alice.key.certificate)).code == "П.3"


def test_p4_another_recipient(world: World) -> None:
    call = pipeline(world, Recorder())
    data = world.signed(recipient=world.carol)
    assert refused(lambda: call(data, client_certificate=world.alice.key.certificate)).code == "П.4"


def test_p4_recipient_guid_with_another_identifier(world: World) -> None:
    bob = replace(world.bob, participant=replace(world.bob.participant, eik="100000026"))
    call = pipeline(world, Recorder())
    data = world.signed(recipient=bob)
    assert refused(lambda: call(data, client_certificate=world.alice.key.certificate)).code == "П.4"


def test_p5_unknown_sender(world: World) -> None:
    call = pipeline(world, Recorder())
    data = world.signed(sender=world.eve)
    error = refused(lambda: call(data, client_certificate=world.eve.key.certificate))
    assert error.code == "П.5"
    assert "not a participant" in str(error)


def test_p5_inactive_sender(world: World) -> None:
    call = pipeline(world, Recorder())
    data = world.signed(sender=world.dave)
    error = refused(lambda: call(data, client_certificate=world.dave.key.certificate))
    assert error.code == "П.5"
    assert "not active" in str(error)


def test_p5_sender_guid_with_another_identifier(world: World) -> None:
    alice = replace(world.alice, participant=replace(world.alice.participant, eik="100000026"))
    call = pipeline(world, Recorder())
    data = world.signed(sender=alice)
    assert refused(lambda: call(data, client_certificate=world.alice.key.certificate)).code == "П.5"


def test_p5_register_failure_is_a_fault_to_retry(world: World) -> None:
    class Broken(Register):
        def participants(self) -> list[Participant]:
            raise OSError("the register's cache is unreadable")

    call = ReceivingPipeline(world.bob.participant, Broken(), handler=Recorder())
    error = refused(lambda: call(world.signed(), client_certificate=world.alice.key.certificate))
    assert isinstance(error, TransportFault)
    assert error.code == "П.5"


def test_p6_client_certificate_is_not_the_senders(world: World) -> None:
    call = pipeline(world, Recorder())
    error = refused(lambda: call(world.signed(), client_certificate=world.carol.key.certificate))
    assert error.code == "П.6"


def test_p7_unsigned(world: World) -> None:
    call = pipeline(world, Recorder())
    data = world.message().to_xml()
    assert refused(lambda: call(data, client_certificate=world.alice.key.certificate)).code == "П.7"


def test_p8_signed_by_another_participant(world: World) -> None:
    call = pipeline(world, Recorder())
    data = world.signed(key=world.carol.key)
    assert refused(lambda: call(data, client_certificate=world.alice.key.certificate)).code == "П.8"


def test_p8_signed_by_another_certificate_of_the_same_organisation(world: World) -> None:
    call = pipeline(world, Recorder())
    data = world.signed(key=world.alice_second)
    assert refused(lambda: call(data, client_certificate=world.alice.key.certificate)).code == "П.8"


def test_p8_tampered_after_signing(world: World) -> None:
    call = pipeline(world, Recorder())
    data = world.signed().replace("Тест".encode(), "Тост".encode())
    error = refused(lambda: call(data, client_certificate=world.alice.key.certificate))
    assert error.code == "П.8"
    assert "SIG-DIGEST" in str(error)


def test_p9_duplicate_message_guid(world: World) -> None:
    recorder = Recorder()
    call = pipeline(world, recorder)
    data = world.signed()
    call(data, client_certificate=world.alice.key.certificate)
    error = refused(lambda: call(data, client_certificate=world.alice.key.certificate))
    assert error.code == "П.9"
    assert len(recorder.received) == 1


def test_checks_run_in_the_specifications_order(world: World) -> None:
    call = pipeline(world, Recorder())
    unsigned_from_unknown = world.message(sender=world.eve).to_xml()
    assert refused(lambda: call(b"not xml", client_certificate=None)).code == "П.1"
    assert (
        refused(
            lambda: call(unsigned_from_unknown, client_certificate=world.eve.key.certificate)
        ).code
        == "П.5"
    )
    unsigned_to_carol = world.message(recipient=world.carol).to_xml()
    assert (
        refused(
            lambda: call(unsigned_to_carol, client_certificate=world.carol.key.certificate)
        ).code
        == "П.4"
    )


# --- duplicates, retries and handlers ---------------------------------------------------------


def test_a_refused_message_can_be_resent(world: World) -> None:
    recorder = Recorder()
    call = pipeline(world, recorder)
    data = world.signed()
    assert refused(lambda: call(data, client_certificate=None)).code == "П.1"
    assert call(data, client_certificate=world.alice.key.certificate) is None
    assert len(recorder.received) == 1


@pytest.mark.parametrize(
    ("failure", "kind", "code"),
    [
        (RuntimeError("database down"), ReceiverError, "RECV-HANDLER"),
        (TransportFault("busy", code="HOST-BUSY"), TransportFault, "HOST-BUSY"),
    ],
)
def test_a_failed_handler_leaves_the_message_unseen(
    world: World, failure: Exception, kind: type[Exception], code: str
) -> None:
    attempts: list[Guid] = []

    def flaky(received: ReceivedMessage) -> None:
        attempts.append(received.message_guid)
        if len(attempts) == 1:
            raise failure

    seen = InMemorySeenMessages()
    call = pipeline(world, flaky, seen=seen)
    data = world.signed()
    with pytest.raises(kind) as caught:
        call(data, client_certificate=world.alice.key.certificate)
    assert getattr(caught.value, "code", None) == code
    assert attempts[0] not in seen
    assert call(data, client_certificate=world.alice.key.certificate) is None
    assert attempts[0] in seen
    assert len(attempts) == 2


def test_concurrent_copies_are_handled_once(world: World) -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[Guid] = []

    def slow(received: ReceivedMessage) -> None:
        calls.append(received.message_guid)
        started.set()
        release.wait(5)

    call = pipeline(world, slow)
    data = world.signed()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(call, data, client_certificate=world.alice.key.certificate)
        assert started.wait(5)
        second = pool.submit(call, data, client_certificate=world.alice.key.certificate)
        error = second.exception(5)
        release.set()
        assert first.result(5) is None
    assert isinstance(error, SenderError)
    assert error.code == "П.9"
    assert len(calls) == 1


def test_check_then_release_frees_the_guid(world: World) -> None:
    recorder = Recorder()
    call = pipeline(world, recorder)
    data = world.signed()
    received = call.check(data, client_certificate=world.alice.key.certificate)
    assert (
        refused(lambda: call.check(data, client_certificate=world.alice.key.certificate)).code
        == "П.9"
    )
    call.release(received)
    call.release(received)  # idempotent
    assert call(data, client_certificate=world.alice.key.certificate) is None


# --- П.10–П.15: the handler's response ---------------------------------------------------------


def _answer(world: World, sender: Party, recipient: Party) -> Message:
    document = new_document(kind="Писмо")
    return status_response(
        sender=sender.node,
        recipient=recipient.node,
        document_id=document.doc_id,
        status=DocumentStatus.DS_REGISTERED,
    )


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda w: b"<not xml", "П.10"),
        (lambda w: b'<Message xmlns="http://schemas.egov.bg/messaging/v1"/>', "П.11"),
        (lambda w: _answer(w, w.carol, w.alice), "П.12"),
        (lambda w: _answer(w, w.bob, w.carol), "П.13"),
        (lambda w: _answer(w, w.bob, w.alice).to_xml(), "П.14"),
        (lambda w: sign_message(_answer(w, w.bob, w.alice), w.carol.key.signer()), "П.15"),
    ],
    ids=["П.10", "П.11", "П.12", "П.13", "П.14", "П.15"],
)
def test_response_checks(world: World, make: Callable[[World], object], code: str) -> None:
    reply = make(world)
    seen = InMemorySeenMessages()
    call = pipeline(world, Recorder(lambda r: reply), seen=seen)  # type: ignore[arg-type,return-value]
    data = world.signed()
    error = refused(lambda: call(data, client_certificate=world.alice.key.certificate))
    assert isinstance(error, ReceiverError)
    assert error.code == code
    assert len(seen) == 1  # the handler stored the message: a resend is a duplicate


def test_a_message_response_needs_a_signer(world: World) -> None:
    call = pipeline(world, Recorder(lambda r: _answer(world, world.bob, world.alice)), signer=None)
    error = refused(lambda: call(world.signed(), client_certificate=world.alice.key.certificate))
    assert error.code == "П.14"


def test_presigned_response_bytes_are_passed_through(world: World) -> None:
    signed = sign_message(_answer(world, world.bob, world.alice), world.bob.key.signer())
    call = pipeline(world, Recorder(lambda r: signed), signer=None)
    assert call(world.signed(), client_certificate=world.alice.key.certificate) == signed


def test_a_handler_returning_something_else(world: World) -> None:
    call = pipeline(world, Recorder(lambda r: "text"))  # type: ignore[arg-type,return-value]
    error = refused(lambda: call(world.signed(), client_certificate=world.alice.key.certificate))
    assert error.code == "RECV-HANDLER"


# --- trust without TLS, custom policies ----------------------------------------------------------


def test_without_client_certificates_trust_must_be_configured(world: World) -> None:
    with pytest.raises(ValueError, match="client_roots or policy_for"):
        pipeline(world, Recorder(), require_client_certificate=False)
    with pytest.raises(ValueError, match="serial number alone"):
        RegisteredCertificate(world.alice.participant.certificate_serial)
    with pytest.raises(ValueError, match="served participant"):
        ReceivingPipeline([], world.register, handler=Recorder())


def test_in_process_delivery_with_ca_roots(world: World) -> None:
    recorder = Recorder()
    call = pipeline(
        world, recorder, require_client_certificate=False, client_roots=[world.ca.certificate]
    )
    assert call(world.signed(), client_certificate=None) is None
    assert len(recorder.received) == 1
    assert (
        refused(lambda: call(world.signed(key=world.alice_second), client_certificate=None)).code
        == "П.8"
    )
    outsider_signed = world.signed(key=world.outsider)
    assert refused(lambda: call(outsider_signed, client_certificate=None)).code == "П.8"


def test_a_custom_policy_is_used_and_the_serial_still_checked(world: World) -> None:
    asked: list[Participant] = []

    def policy_for(sender: Participant) -> VerificationPolicy:
        asked.append(sender)
        return VerificationPolicy(trust=CertificateAuthorities([world.ca.certificate]))

    call = pipeline(world, Recorder(), policy_for=policy_for)
    assert call(world.signed(), client_certificate=world.alice.key.certificate) is None
    assert asked == [world.alice.participant]
    data = world.signed(key=world.alice_second)  # trusted by the CA policy, wrong serial
    assert refused(lambda: call(data, client_certificate=world.alice.key.certificate)).code == "П.8"


def test_header_values_are_read_without_comments(world: World) -> None:
    guid = str(world.bob.participant.guid)
    data = (
        world.message()
        .to_xml()
        .replace(
            f"<GUID>{guid}</GUID>".encode(), f"<GUID>{guid[:5]}<!-- x -->{guid[5:]}</GUID>".encode()
        )
    )
    signed = sign_message(data, world.alice.key.signer())
    recorder = Recorder()
    assert pipeline(world, recorder)(signed, client_certificate=world.alice.key.certificate) is None
    assert recorder.received[0].message.header.recipient.guid == world.bob.participant.guid


# --- the folder handler ----------------------------------------------------------------------


def test_folder_handler_stores_atomically(world: World, tmp_path: Path) -> None:
    handler = FolderHandler(tmp_path / "inbox")
    call = pipeline(world, handler)
    data = world.signed()
    assert call(data, client_certificate=world.alice.key.certificate) is None
    stored = list((tmp_path / "inbox").iterdir())
    assert len(stored) == 1
    assert stored[0].read_bytes() == data
    guid = etree.fromstring(data).findtext(".//{http://schemas.egov.bg/messaging/v1}MessageGUID")
    assert stored[0] == handler.path_for(Guid.parse(guid or ""))


def test_folder_handler_keeps_an_existing_file(world: World, tmp_path: Path) -> None:
    handler = FolderHandler(tmp_path)
    received = pipeline(world, Recorder()).check(
        world.signed(), client_certificate=world.alice.key.certificate
    )
    target = handler.path_for(received.message_guid)
    target.write_bytes(b"first")
    handler(received)
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_every_check_is_described() -> None:
    assert list(CHECKS)[:10] == [
        "П.1", "RECV-TOO-LARGE", "П.2", "П.3", "П.4", "П.5", "П.6", "П.7", "П.8", "П.9",
    ]  # fmt: skip
    assert all(c.meaning and c.meaning_bg for c in CHECKS.values())


def test_folder_handler_lists_what_it_stored(world: World, tmp_path: Path) -> None:
    handler = FolderHandler(tmp_path)
    call = pipeline(world, handler)
    call(world.signed(), client_certificate=world.alice.key.certificate)
    (tmp_path / "notes.xml").write_text("not a message")
    (guid,) = handler.stored()
    assert handler.path_for(guid).exists()
    assert isinstance(guid, Guid)


def test_folder_handler_files_are_private_and_failures_leave_nothing(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = FolderHandler(tmp_path)
    call = pipeline(world, handler)
    call(world.signed(), client_certificate=world.alice.key.certificate)
    (stored,) = tmp_path.iterdir()
    assert stored.stat().st_mode & 0o777 == 0o600
    received = call.check(world.signed(), client_certificate=world.alice.key.certificate)

    def disk_full(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        handler(received)
    assert list(tmp_path.iterdir()) == [stored]  # no temporary file left behind
