"""The SQLite journal: durability settings, atomic duplicate detection, leases, reopening."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eintegr.errors import ExchangeError
from eintegr.exchange import DeliveryState, Direction, Role, SqliteJournal
from eintegr.exchange.journal import Attempt, NewDocument, NewMessage
from eintegr.exchange.retry import ExchangeOutcome
from eintegr.identifiers import Guid
from eintegr.messages.seos import MessageType
from eintegr.transport.base import SeenMessages

NOW = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
PEER = Guid.new()


def _message(kind: MessageType = MessageType.MSG_DocumentRegistrationRequest) -> NewMessage:
    return NewMessage(
        message_guid=Guid.new(),
        message_type=kind,
        peer_guid=PEER,
        peer_eik="000530632",
        peer_name="Община Русе",
        raw=b"<Message/>",
        document_guid=Guid.new(),
    )


def _document(message: NewMessage, role: Role) -> NewDocument:
    assert message.document_guid is not None
    return NewDocument(role, message.document_guid, PEER, "000530632", "Община Русе", "Писмо")


def test_file_is_wal_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "journal.sqlite"
    message = _message()
    with SqliteJournal(path) as journal:
        record = journal.add_outgoing(message, now=NOW, document=_document(message, Role.SENT))
        assert record.state is DeliveryState.QUEUED
        assert record.next_attempt_at == NOW
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with SqliteJournal(path) as journal:
        again = journal.message(message.message_guid, Direction.OUT)
        assert again is not None
        assert again.raw == b"<Message/>"
        assert message.message_guid in journal.seen
        assert str(message.message_guid) in journal.seen
        assert "not a guid" not in journal.seen
        assert 42 not in journal.seen
        assert isinstance(journal.seen, SeenMessages)
        assert journal.counts() == {"out/queued": 1}
        assert repr(journal).startswith("SqliteJournal(")


def test_not_a_journal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ExchangeError) as caught:
        SqliteJournal(bad)
    assert caught.value.code == "JOURNAL-OPEN"
    other = tmp_path / "other.sqlite"
    SqliteJournal(other).close()
    with sqlite3.connect(other) as raw:
        raw.execute("UPDATE meta SET value = 'eintegr-journal/99'")
    with pytest.raises(ExchangeError) as caught:
        SqliteJournal(other)
    assert caught.value.code == "JOURNAL-VERSION"
    closed = SqliteJournal(":memory:")
    closed.close()
    closed.close()
    with pytest.raises(ExchangeError) as caught:
        closed.counts()
    assert caught.value.code == "JOURNAL-CLOSED"
    with pytest.raises(ValueError, match="synchronous"):
        SqliteJournal(":memory:", synchronous="SOMETIMES")  # type: ignore[arg-type]


def test_duplicate_detection_is_atomic_across_threads(tmp_path: Path) -> None:
    """Many threads (each with its own connection, as separate processes would have) record
    the same incoming message and document: exactly one creates them."""
    path = tmp_path / "journal.sqlite"
    SqliteJournal(path).close()
    message = _message()
    document = _document(message, Role.RECEIVED)
    results: list[tuple[bool, bool]] = []
    barrier = threading.Barrier(8)

    def record() -> None:
        journal = SqliteJournal(path)
        barrier.wait()
        incoming = journal.add_incoming(message, now=NOW, document=document)
        results.append((incoming.created, incoming.document_created))
        journal.close()

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [(False, False)] * 7 + [(True, True)]
    seen_results: list[bool] = []
    journal = SqliteJournal(path)
    guid = Guid.new()

    def mark() -> None:
        seen_results.append(journal.seen.add_if_new(guid))

    threads = [threading.Thread(target=mark) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen_results.count(True) == 1
    # the same DocumentGUID in another message: the document is the first one
    other = NewMessage(
        message_guid=Guid.new(),
        message_type=message.message_type,
        peer_guid=PEER,
        peer_eik="000530632",
        peer_name="Община Русе",
        raw=b"<Message/>",
        document_guid=message.document_guid,
    )
    incoming = journal.add_incoming(other, now=NOW, document=document)
    assert incoming.created
    assert not incoming.document_created
    assert incoming.document is not None
    assert incoming.document.message_guid == message.message_guid
    journal.close()


def test_leases_and_attempts(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    message = _message()
    record = journal.add_outgoing(message, now=NOW)
    later = NOW + timedelta(seconds=1)
    claimed = journal.claim_due(now=later, owner="a", until=later + timedelta(minutes=5))
    assert [c.id for c in claimed] == [record.id]
    assert claimed[0].attempts == 1
    assert claimed[0].raw == b"<Message/>"
    # leased: nobody else gets it until the lease ends
    assert journal.claim_due(now=later, owner="b", until=later + timedelta(minutes=5)) == []
    assert journal.next_due() == later + timedelta(minutes=5)
    # the owner died; after the lease another worker takes it (a second attempt)
    after = later + timedelta(minutes=6)
    again = journal.claim_due(now=after, owner="b", until=after + timedelta(minutes=5))
    assert again[0].attempts == 2
    # the first owner comes back late: its result is still recorded, but it is told
    late = Attempt(DeliveryState.RETRY, ExchangeOutcome.FAULT, after, after, "И.8", "x")
    assert journal.finish_attempt(record.id, "a", late) is False
    done = Attempt(DeliveryState.DELIVERED, ExchangeOutcome.SUCCESS, after)
    assert journal.finish_attempt(record.id, "b", done) is False  # a's result freed the lease
    stored = journal.message_by_id(record.id)
    assert stored is not None
    assert stored.state is DeliveryState.DELIVERED
    assert journal.next_due() is None
    with pytest.raises(ExchangeError) as caught:
        journal.finish_attempt(999, "a", done)
    assert caught.value.code == "JOURNAL-NO-MESSAGE"
    with pytest.raises(ExchangeError) as caught:
        journal.add_outgoing(message, now=NOW)
    assert caught.value.code == "JOURNAL-DUPLICATE"
    assert journal.settle(Guid.new(), state=DeliveryState.FAILED_SENDER,
                          outcome=ExchangeOutcome.SENDER_ERROR, now=NOW) is None  # fmt: skip
    with pytest.raises(ValueError, match="aware"):
        journal.add_outgoing(_message(), now=datetime(2024, 1, 1))
    journal.close()


def test_counters_and_listing(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    assert [journal.next_number("x") for _ in range(3)] == [1, 2, 3]
    assert journal.next_number("y") == 1
    first, second = _message(), _message(MessageType.MSG_DocumentStatusRequest)
    journal.add_outgoing(first, now=NOW, document=_document(first, Role.SENT))
    journal.add_outgoing(second, now=NOW)
    assert len(journal.messages(limit=1)) == 1
    assert len(journal.messages(direction=Direction.IN)) == 0
    assert len(journal.messages(peer_guid=PEER, states=[DeliveryState.QUEUED])) == 2
    assert journal.messages(document_guid=first.document_guid)[0].raw is None
    assert len(journal.documents(role=Role.SENT, limit=5)) == 1
    assert journal.document(Role.RECEIVED, Guid.new()) is None
    journal.close()
