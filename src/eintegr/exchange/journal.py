"""The journal: every message in and out, every document and its status history, durably.

:class:`Journal` is the storage interface a :class:`~eintegr.exchange.node.Node` needs; each
method is one atomic transaction, so a backend for a database shared by several nodes (e.g.
PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED`` for :meth:`Journal.claim_due`) can be
added without touching the node. :class:`SqliteJournal` is the default: one SQLite file in
WAL mode, ``synchronous=FULL`` (a commit is on disk before the call returns), safe for
several threads and — through SQLite's own locking — several processes on one host.

What it keeps:

* **messages** — direction, ``MessageGUID``, type, the other party, the signed bytes exactly
  as sent or received, the :class:`~eintegr.exchange.lifecycle.DeliveryState`, attempts,
  the next attempt's time, a lease (who is sending it now, until when), the outcome and the
  last error. ``(direction, MessageGUID)`` is unique: recording an incoming message twice is
  detected atomically (:meth:`Journal.add_incoming`).
* **documents** — every document sent (one per recipient) or received (one per
  ``DocumentGUID``: a second registration request for it is a duplicate, ЗР.1), with its
  current status, registration number and rejection reason.
* **history** — every status change, ours or reported, accepted or only recorded.
* **seen** — the ``MessageGUID`` values of every message received or sent: the
  :class:`~eintegr.transport.base.SeenMessages` of П.9 and И.15 (:attr:`Journal.seen`).

Times are stored as UTC ISO-8601 text with microseconds (sortable as text).
"""

from __future__ import annotations

import abc
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Literal

from eintegr.errors import ExchangeError
from eintegr.exchange.lifecycle import DeliveryState, Direction, Role, StatusChange
from eintegr.exchange.retry import ExchangeOutcome
from eintegr.identifiers import Guid
from eintegr.messages.seos import DocumentStatus, MessageType

__all__ = [
    "SCHEMA_VERSION",
    "Attempt",
    "DocumentRecord",
    "HistoryEntry",
    "Incoming",
    "Journal",
    "JournalSeen",
    "MessageRecord",
    "NewDocument",
    "NewMessage",
    "SqliteJournal",
]

SCHEMA_VERSION: Final = "eintegr-journal/1"
"""The layout version written into (and required of) a journal file."""


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to record: its header facts and its signed bytes.

    :ivar peer_guid: the other party (the recipient of an outgoing message, the sender of an
        incoming one), with its ЕИК/БУЛСТАТ and name.
    :ivar in_reply_to: for a synchronous answer, the ``MessageGUID`` of the message it
        answers; for a ``MSG_Error``, the one it is about.
    :ivar status: the ``DocRegStatus`` a status response carries (for timelines).
    """

    message_guid: Guid
    message_type: MessageType
    peer_guid: Guid
    peer_eik: str
    peer_name: str
    raw: bytes = field(repr=False)
    document_guid: Guid | None = None
    in_reply_to: Guid | None = None
    status: DocumentStatus | None = None


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A document to record alongside the message that carries it."""

    role: Role
    document_guid: Guid
    peer_guid: Guid
    peer_eik: str
    peer_name: str
    kind: str | None = None
    about: str | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A message as the journal holds it (``raw`` is ``None`` in listings)."""

    id: int
    direction: Direction
    message_guid: Guid
    message_type: MessageType
    peer_guid: Guid
    peer_eik: str
    peer_name: str
    document_guid: Guid | None
    in_reply_to: Guid | None
    status: DocumentStatus | None
    state: DeliveryState
    attempts: int
    created_at: datetime
    updated_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None
    outcome: ExchangeOutcome | None
    error_code: str | None
    error_message: str | None
    raw: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A document we sent or received, with its current status.

    For a received document ``status`` / ``number`` are ours; for a sent one, what its
    recipient last reported (``None`` until it reports anything).
    """

    id: int
    role: Role
    document_guid: Guid
    peer_guid: Guid
    peer_eik: str
    peer_name: str
    status: DocumentStatus | None
    number: str | None
    number_date: date | None
    uri: str | None
    rejection_reason: str | None
    expect_close_date: date | None
    kind: str | None
    about: str | None
    message_guid: Guid
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded status change of a document."""

    id: int
    document_id: int
    at: datetime
    previous: DocumentStatus | None
    status: DocumentStatus
    resulting: DocumentStatus | None
    accepted: bool
    source: str
    number: str | None
    reason: str | None
    message_guid: Guid | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Incoming:
    """What :meth:`Journal.add_incoming` did.

    :ivar message: the stored message (the earlier copy when it was already there).
    :ivar created: False when a message with the same ``MessageGUID`` was already recorded.
    :ivar document: for a registration request, the received document with that
        ``DocumentGUID`` (new, or the one recorded before).
    :ivar document_created: True when this message recorded the document.
    """

    message: MessageRecord
    created: bool
    document: DocumentRecord | None = None
    document_created: bool = False


@dataclass(frozen=True, slots=True)
class Attempt:
    """The result of one send attempt, to record with :meth:`Journal.finish_attempt`."""

    state: DeliveryState
    outcome: ExchangeOutcome
    at: datetime
    next_attempt_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None


# --- the interface -------------------------------------------------------------------------


class JournalSeen:
    """The journal's ``MessageGUID`` set as a :class:`~eintegr.transport.base.SeenMessages`
    (atomic across threads and processes sharing the journal)."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def add_if_new(self, guid: Guid) -> bool:
        """Record ``guid``; True when it had not been seen."""
        return self._journal.mark_seen(guid)

    def __contains__(self, guid: object) -> bool:
        if isinstance(guid, str):
            try:
                guid = Guid.parse_lenient(guid)
            except ValueError:
                return False
        if not isinstance(guid, Guid):
            return False
        return self._journal.is_seen(guid)


class Journal(abc.ABC):
    """The storage a participant needs; every method is one atomic transaction.

    Methods that change a document take the status the caller read (``expected``) and apply
    the change only when it is still current (compare-and-set), so concurrent writers never
    lose an update.
    """

    @property
    def seen(self) -> JournalSeen:
        """The ``MessageGUID`` values received or sent (П.9, И.15)."""
        return JournalSeen(self)

    # -- messages
    @abc.abstractmethod
    def add_outgoing(
        self,
        message: NewMessage,
        *,
        now: datetime,
        document: NewDocument | None = None,
        change: tuple[int, DocumentStatus | None, StatusChange] | None = None,
        lease: tuple[str, datetime] | None = None,
        state: DeliveryState = DeliveryState.QUEUED,
    ) -> MessageRecord:
        """Record an outgoing message (and the document it sends, and a status change of a
        received document made by it), due now; its GUID becomes seen.

        :param change: ``(document_id, expected status, change)``: applied only if the
            document still has the expected status.
        :param lease: ``(owner, until)``: the caller sends it at once (one attempt counted).
        :param state: :attr:`DeliveryState.RESPONSE` for a synchronous answer (not sent by
            the journal's queue).
        :raises ExchangeError: ``JOURNAL-DUPLICATE`` (the GUID exists), ``JOURNAL-CONFLICT``
            (the document's status changed meanwhile).
        """

    @abc.abstractmethod
    def add_incoming(
        self, message: NewMessage, *, now: datetime, document: NewDocument | None = None
    ) -> Incoming:
        """Record an incoming message (once per ``MessageGUID``) and, for a registration
        request, the received document (once per ``DocumentGUID``)."""

    @abc.abstractmethod
    def complete_incoming(
        self,
        message_id: int,
        *,
        now: datetime,
        response: NewMessage | None = None,
        change: tuple[int, DocumentStatus | None, StatusChange] | None = None,
    ) -> bool:
        """Mark a received message processed, record our answer to it and the status change
        it made; False (and nothing changed) when it was already processed or the document's
        status is no longer the expected one."""

    @abc.abstractmethod
    def record_response(
        self,
        request_id: int,
        response: NewMessage,
        *,
        now: datetime,
        change: tuple[int, DocumentStatus | None, StatusChange] | None = None,
    ) -> MessageRecord:
        """Record the synchronous answer to our message ``request_id`` (processed) and the
        status change it reports; a change whose expected status is stale is recorded in
        the history as not accepted."""

    @abc.abstractmethod
    def claim_due(
        self, *, now: datetime, owner: str, until: datetime, limit: int = 16
    ) -> list[MessageRecord]:
        """Lease up to ``limit`` outgoing messages due at ``now`` (queued or waiting for a
        retry, lease free or expired) to ``owner`` until ``until``; each counts an attempt."""

    @abc.abstractmethod
    def finish_attempt(self, message_id: int, owner: str, attempt: Attempt) -> bool:
        """Record an attempt's result and free the lease; False when ``owner`` no longer
        held it (the result is recorded anyway if the message is still pending)."""

    @abc.abstractmethod
    def settle(
        self,
        message_guid: Guid,
        *,
        state: DeliveryState,
        outcome: ExchangeOutcome,
        now: datetime,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> MessageRecord | None:
        """Set the final state of an outgoing message from a later notice (ИГ.2, ИГ.3);
        ``None`` when there is no such outgoing message."""

    @abc.abstractmethod
    def message(self, message_guid: Guid, direction: Direction) -> MessageRecord | None:
        """One message with its bytes."""

    @abc.abstractmethod
    def message_by_id(self, message_id: int) -> MessageRecord | None:
        """One message with its bytes."""

    @abc.abstractmethod
    def messages(
        self,
        *,
        direction: Direction | None = None,
        states: Sequence[DeliveryState] = (),
        document_guid: Guid | None = None,
        peer_guid: Guid | None = None,
        in_reply_to: Guid | None = None,
        limit: int | None = None,
    ) -> list[MessageRecord]:
        """Messages (without bytes), oldest first."""

    @abc.abstractmethod
    def next_due(self) -> datetime | None:
        """The earliest time an outgoing message becomes due (or its lease expires)."""

    # -- documents
    @abc.abstractmethod
    def document(
        self, role: Role, document_guid: Guid, peer_guid: Guid | None = None
    ) -> DocumentRecord | None:
        """A document by role and GUID (a sent one also by recipient; without
        ``peer_guid`` the most recent)."""

    @abc.abstractmethod
    def documents(
        self, *, role: Role | None = None, limit: int | None = None
    ) -> list[DocumentRecord]:
        """Documents, oldest first."""

    @abc.abstractmethod
    def history(self, document_id: int) -> list[HistoryEntry]:
        """A document's status history, oldest first."""

    @abc.abstractmethod
    def change_status(
        self, document_id: int, expected: DocumentStatus | None, change: StatusChange
    ) -> bool:
        """Apply (or only record, when ``change.accepted`` is false) a status change; False
        when the document's status is no longer ``expected`` (nothing recorded)."""

    # -- the rest
    @abc.abstractmethod
    def next_number(self, counter: str) -> int:
        """The next value of a named counter (1, 2, …), e.g. for registration numbers."""

    @abc.abstractmethod
    def mark_seen(self, guid: Guid) -> bool:
        """Record a ``MessageGUID`` as seen; True when it was new."""

    @abc.abstractmethod
    def is_seen(self, guid: Guid) -> bool:
        """True when ``guid`` was recorded as seen."""

    @abc.abstractmethod
    def counts(self) -> dict[str, int]:
        """How many messages are in each (direction, state): ``{"out/delivered": 3, …}``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the storage (idempotent)."""


# --- SQLite ---------------------------------------------------------------------------------

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    message_guid TEXT NOT NULL,
    message_type TEXT NOT NULL,
    peer_guid TEXT NOT NULL,
    peer_eik TEXT NOT NULL,
    peer_name TEXT NOT NULL,
    document_guid TEXT,
    in_reply_to TEXT,
    status TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_attempt_at TEXT,
    next_attempt_at TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    outcome TEXT,
    error_code TEXT,
    error_message TEXT,
    raw BLOB NOT NULL,
    UNIQUE (direction, message_guid)
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (next_attempt_at)
    WHERE state IN ('queued', 'retry');
CREATE INDEX IF NOT EXISTS messages_document ON messages (document_guid);
CREATE INDEX IF NOT EXISTS messages_reply ON messages (in_reply_to);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('sent', 'received')),
    document_guid TEXT NOT NULL,
    peer_guid TEXT NOT NULL,
    peer_eik TEXT NOT NULL,
    peer_name TEXT NOT NULL,
    status TEXT,
    number TEXT,
    number_date TEXT,
    uri TEXT,
    rejection_reason TEXT,
    expect_close_date TEXT,
    kind TEXT,
    about TEXT,
    message_guid TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_guid ON documents (document_guid);
CREATE UNIQUE INDEX IF NOT EXISTS documents_received ON documents (document_guid)
    WHERE role = 'received';
CREATE UNIQUE INDEX IF NOT EXISTS documents_sent ON documents (document_guid, peer_guid)
    WHERE role = 'sent';
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    at TEXT NOT NULL,
    previous TEXT,
    status TEXT NOT NULL,
    resulting TEXT,
    accepted INTEGER NOT NULL,
    source TEXT NOT NULL,
    number TEXT,
    reason TEXT,
    message_guid TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS history_document ON history (document_id);
CREATE TABLE IF NOT EXISTS seen (guid TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_MESSAGE_COLUMNS: Final = (
    "id, direction, message_guid, message_type, peer_guid, peer_eik, peer_name, document_guid, "
    "in_reply_to, status, state, attempts, created_at, updated_at, last_attempt_at, "
    "next_attempt_at, lease_owner, lease_until, outcome, error_code, error_message"
)
_DOCUMENT_COLUMNS: Final = (
    "id, role, document_guid, peer_guid, peer_eik, peer_name, status, number, number_date, uri, "
    "rejection_reason, expect_close_date, kind, about, message_guid, created_at, updated_at"
)
# Fixed column lists (no input ever reaches these strings; values are bound parameters).
_SELECT_MESSAGES: Final = f"SELECT {_MESSAGE_COLUMNS} FROM messages"  # noqa: S608
_SELECT_MESSAGES_RAW: Final = f"SELECT {_MESSAGE_COLUMNS}, raw FROM messages"  # noqa: S608
_SELECT_DOCUMENTS: Final = f"SELECT {_DOCUMENT_COLUMNS} FROM documents"  # noqa: S608

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


def _t(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("journal times must be time-zone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dt(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _dt_required(text: str) -> datetime:
    value = _dt(text)
    assert value is not None
    return value


def _g(guid: Guid | None) -> str | None:
    return None if guid is None else str(guid)


def _guid(text: str | None) -> Guid | None:
    return None if text is None else Guid.parse(text)


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _status(text: str | None) -> DocumentStatus | None:
    return None if text is None else DocumentStatus(text)


def _message(row: sqlite3.Row, raw: bytes | None = None) -> MessageRecord:
    return MessageRecord(
        id=row["id"],
        direction=Direction(row["direction"]),
        message_guid=Guid.parse(row["message_guid"]),
        message_type=MessageType(row["message_type"]),
        peer_guid=Guid.parse(row["peer_guid"]),
        peer_eik=row["peer_eik"],
        peer_name=row["peer_name"],
        document_guid=_guid(row["document_guid"]),
        in_reply_to=_guid(row["in_reply_to"]),
        status=_status(row["status"]),
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        created_at=_dt_required(row["created_at"]),
        updated_at=_dt_required(row["updated_at"]),
        last_attempt_at=_dt(row["last_attempt_at"]),
        next_attempt_at=_dt(row["next_attempt_at"]),
        lease_owner=row["lease_owner"],
        lease_until=_dt(row["lease_until"]),
        outcome=None if row["outcome"] is None else ExchangeOutcome(row["outcome"]),
        error_code=row["error_code"],
        error_message=row["error_message"],
        raw=raw,
    )


def _document(row: sqlite3.Row) -> DocumentRecord:
    return DocumentRecord(
        id=row["id"],
        role=Role(row["role"]),
        document_guid=Guid.parse(row["document_guid"]),
        peer_guid=Guid.parse(row["peer_guid"]),
        peer_eik=row["peer_eik"],
        peer_name=row["peer_name"],
        status=_status(row["status"]),
        number=row["number"],
        number_date=_date(row["number_date"]),
        uri=row["uri"],
        rejection_reason=row["rejection_reason"],
        expect_close_date=_date(row["expect_close_date"]),
        kind=row["kind"],
        about=row["about"],
        message_guid=Guid.parse(row["message_guid"]),
        created_at=_dt_required(row["created_at"]),
        updated_at=_dt_required(row["updated_at"]),
    )


def _history(row: sqlite3.Row) -> HistoryEntry:
    status = _status(row["status"])
    assert status is not None
    return HistoryEntry(
        id=row["id"],
        document_id=row["document_id"],
        at=_dt_required(row["at"]),
        previous=_status(row["previous"]),
        status=status,
        resulting=_status(row["resulting"]),
        accepted=bool(row["accepted"]),
        source=row["source"],
        number=row["number"],
        reason=row["reason"],
        message_guid=_guid(row["message_guid"]),
        note=row["note"],
    )


class _Conflict(Exception):
    """Rolls a transaction back: a compare-and-set found another status."""


def _journal_error(code: str, en: str, bg: str) -> ExchangeError:
    return ExchangeError(en, code=code, message_bg=bg)


class SqliteJournal(Journal):
    """The journal in one SQLite file (WAL mode).

    :param path: the database file (created with its folder when missing); ``":memory:"``
        for a throw-away journal (tests).
    :param synchronous: SQLite's ``synchronous`` setting; ``FULL`` (default) makes every
        commit durable before it returns, even across a power loss. ``NORMAL`` survives a
        crash of the process but not of the machine.
    :param busy_timeout: seconds to wait for another process's write lock.
    :raises ExchangeError: ``JOURNAL-OPEN`` (not a journal, or unreadable),
        ``JOURNAL-VERSION`` (written by an incompatible version).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 30.0,
    ) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"unknown synchronous setting {synchronous!r}")
        memory = str(path) == ":memory:"
        self.path: Path | None = None if memory else Path(path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._closed = False
        try:
            self._db = sqlite3.connect(
                ":memory:" if self.path is None else str(self.path),
                timeout=busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            if not memory:
                mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":  # pragma: no cover - file systems without WAL
                    raise sqlite3.OperationalError(f"WAL mode refused ({mode})")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as error:
            raise _journal_error(
                "JOURNAL-OPEN",
                f"the journal {path} cannot be opened: {error}",
                f"Журналът {path} не може да бъде отворен: {error}",
            ) from error
        self._create()

    # -- plumbing

    def _create(self) -> None:
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                    if row is None:
                        self._db.execute(
                            "INSERT INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
                        )
                    elif row[0] != SCHEMA_VERSION:
                        raise _journal_error(
                            "JOURNAL-VERSION",
                            f"the journal has layout {row[0]!r}, this version reads "
                            f"{SCHEMA_VERSION!r}",
                            f"Журналът е във формат {row[0]!r}, а тази версия чете "
                            f"{SCHEMA_VERSION!r}",
                        )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.DatabaseError as error:
            raise _journal_error(
                "JOURNAL-OPEN",
                f"{self.path or ':memory:'} is not a usable journal: {error}",
                f"{self.path or ':memory:'} не е използваем журнал: {error}",
            ) from error

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: the write lock is taken first)."""
        with self._lock:
            self._check_open()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._check_open()
            yield self._db

    def _check_open(self) -> None:
        if getattr(self, "_closed", False):
            raise _journal_error("JOURNAL-CLOSED", "the journal is closed", "Журналът е затворен")

    # -- messages

    @staticmethod
    def _insert_message(
        db: sqlite3.Connection,
        message: NewMessage,
        direction: Direction,
        state: DeliveryState,
        now: datetime,
        *,
        attempts: int = 0,
        lease: tuple[str, datetime] | None = None,
    ) -> int:
        stamp = _t(now)
        cursor = db.execute(
            "INSERT INTO messages (direction, message_guid, message_type, peer_guid, peer_eik, "
            "peer_name, document_guid, in_reply_to, status, state, attempts, created_at, "
            "updated_at, last_attempt_at, next_attempt_at, lease_owner, lease_until, raw) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                direction.value,
                str(message.message_guid),
                message.message_type.value,
                str(message.peer_guid),
                message.peer_eik,
                message.peer_name,
                _g(message.document_guid),
                _g(message.in_reply_to),
                None if message.status is None else message.status.value,
                state.value,
                attempts,
                stamp,
                stamp,
                stamp if attempts else None,
                stamp if state.is_pending else None,
                None if lease is None else lease[0],
                None if lease is None else _t(lease[1]),
                message.raw,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @staticmethod
    def _insert_document(
        db: sqlite3.Connection, document: NewDocument, message_guid: Guid, now: datetime
    ) -> int:
        stamp = _t(now)
        cursor = db.execute(
            "INSERT INTO documents (role, document_guid, peer_guid, peer_eik, peer_name, kind, "
            "about, message_guid, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document.role.value,
                str(document.document_guid),
                str(document.peer_guid),
                document.peer_eik,
                document.peer_name,
                document.kind,
                document.about,
                str(message_guid),
                stamp,
                stamp,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @staticmethod
    def _apply_change(
        db: sqlite3.Connection,
        document_id: int,
        expected: DocumentStatus | None,
        change: StatusChange,
    ) -> bool:
        row = db.execute("SELECT status FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            raise _journal_error(
                "JOURNAL-NO-DOCUMENT",
                f"the journal has no document #{document_id}",
                f"В журнала няма документ №{document_id}",
            )
        current = _status(row["status"])
        if current != expected:
            return False
        stamp = _t(change.at)
        if change.accepted:
            resulting = change.resulting if change.resulting is not None else change.status
            db.execute(
                "UPDATE documents SET status = ?, "
                "number = COALESCE(?, number), number_date = COALESCE(?, number_date), "
                "uri = COALESCE(?, uri), rejection_reason = COALESCE(?, rejection_reason), "
                "expect_close_date = COALESCE(?, expect_close_date), updated_at = ? "
                "WHERE id = ?",
                (
                    resulting.value,
                    change.number,
                    None if change.number_date is None else change.number_date.isoformat(),
                    change.uri,
                    change.reason,
                    None
                    if change.expect_close_date is None
                    else change.expect_close_date.isoformat(),
                    stamp,
                    document_id,
                ),
            )
        else:
            resulting = current  # type: ignore[assignment]
        db.execute(
            "INSERT INTO history (document_id, at, previous, status, resulting, accepted, source, "
            "number, reason, message_guid, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document_id,
                stamp,
                None if current is None else current.value,
                change.status.value,
                None if resulting is None else resulting.value,
                int(change.accepted),
                change.source,
                change.number,
                change.reason,
                _g(change.message_guid),
                change.note,
            ),
        )
        return True

    def add_outgoing(
        self,
        message: NewMessage,
        *,
        now: datetime,
        document: NewDocument | None = None,
        change: tuple[int, DocumentStatus | None, StatusChange] | None = None,
        lease: tuple[str, datetime] | None = None,
        state: DeliveryState = DeliveryState.QUEUED,
    ) -> MessageRecord:
        """See :meth:`Journal.add_outgoing`."""
        try:
            with self._write() as db:
                message_id = self._insert_message(
                    db,
                    message,
                    Direction.OUT,
                    state,
                    now,
                    attempts=1 if lease is not None else 0,
                    lease=lease,
                )
                if document is not None:
                    self._insert_document(db, document, message.message_guid, now)
                if change is not None and not self._apply_change(db, *change):
                    raise _journal_error(
                        "JOURNAL-CONFLICT",
                        "the document's status was changed meanwhile; read it again",
                        "Състоянието на документа беше променено междувременно; прочетете го "
                        "отново",
                    )
                db.execute(
                    "INSERT OR IGNORE INTO seen (guid, at) VALUES (?, ?)",
                    (str(message.message_guid), _t(now)),
                )
        except sqlite3.IntegrityError as error:
            raise _journal_error(
                "JOURNAL-DUPLICATE",
                f"the journal already holds the message or document ({error})",
                f"Журналът вече съдържа съобщението или документа ({error})",
            ) from error
        found = self.message_by_id(message_id)
        assert found is not None
        return found

    def add_incoming(
        self, message: NewMessage, *, now: datetime, document: NewDocument | None = None
    ) -> Incoming:
        """See :meth:`Journal.add_incoming`."""
        with self._write() as db:
            row = db.execute(
                _SELECT_MESSAGES + " WHERE direction = 'in' AND message_guid = ?",
                (str(message.message_guid),),
            ).fetchone()
            created = row is None
            if created:
                self._insert_message(db, message, Direction.IN, DeliveryState.RECEIVED, now)
            found: DocumentRecord | None = None
            document_created = False
            if document is not None:
                doc_row = db.execute(
                    _SELECT_DOCUMENTS + " WHERE role = 'received' AND document_guid = ?",
                    (str(document.document_guid),),
                ).fetchone()
                if doc_row is None and created:
                    self._insert_document(db, document, message.message_guid, now)
                    document_created = True
                    doc_row = db.execute(
                        _SELECT_DOCUMENTS + " WHERE role = 'received' AND document_guid = ?",
                        (str(document.document_guid),),
                    ).fetchone()
                if doc_row is not None:
                    found = _document(doc_row)
            stored = db.execute(
                _SELECT_MESSAGES_RAW + " WHERE direction = 'in' AND message_guid = ?",
                (str(message.message_guid),),
            ).fetchone()
        return Incoming(
            message=_message(stored, bytes(stored["raw"])),
            created=created,
            document=found,
            document_created=document_created,
        )

    def complete_incoming(
        self,
        message_id: int,
        *,
        now: datetime,
        response: NewMessage | None = None,
        change: tuple[int, DocumentStatus | None, StatusChange] | None = None,
    ) -> bool:
        """See :meth:`Journal.complete_incoming`."""
        try:
            return self._complete_incoming(message_id, now=now, response=response, change=change)
        except _Conflict:
            return False

    def _complete_incoming(
        self,
        message_id: int,
        *,
        now: datetime,
        response: NewMessage | None,
        change: tuple[int, DocumentStatus | None, StatusChange] | None,
    ) -> bool:
        with self._write() as db:
            updated = db.execute(
                "UPDATE messages SET state = 'processed', updated_at = ? "
                "WHERE id = ? AND direction = 'in' AND state = 'received'",
                (_t(now), message_id),
            ).rowcount
            if not updated:
                return False
            if change is not None and not self._apply_change(db, *change):
                raise _Conflict
            if response is not None:
                self._insert_message(db, response, Direction.OUT, DeliveryState.RESPONSE, now)
                db.execute(
                    "INSERT OR IGNORE INTO seen (guid, at) VALUES (?, ?)",
                    (str(response.message_guid), _t(now)),
                )
        return True

    def record_response(
        self,
        request_id: int,
        response: NewMessage,
        *,
        now: datetime,
        change: tuple[int, DocumentStatus | None, StatusChange] | None = None,
    ) -> MessageRecord:
        """See :meth:`Journal.record_response`."""
        with self._write() as db:
            existing = db.execute(
                "SELECT id FROM messages WHERE direction = 'in' AND message_guid = ?",
                (str(response.message_guid),),
            ).fetchone()
            if existing is None:
                message_id = self._insert_message(
                    db, response, Direction.IN, DeliveryState.PROCESSED, now
                )
            else:
                message_id = existing["id"]
            db.execute(
                "INSERT OR IGNORE INTO seen (guid, at) VALUES (?, ?)",
                (str(response.message_guid), _t(now)),
            )
            if change is not None:
                document_id, expected, status_change = change
                if not self._apply_change(db, document_id, expected, status_change):
                    current = db.execute(
                        "SELECT status FROM documents WHERE id = ?", (document_id,)
                    ).fetchone()
                    stale = StatusChange(
                        status=status_change.status,
                        source=status_change.source,
                        at=status_change.at,
                        accepted=False,
                        message_guid=status_change.message_guid,
                        number=status_change.number,
                        reason=status_change.reason,
                        note="the status changed meanwhile",
                    )
                    self._apply_change(db, document_id, _status(current["status"]), stale)
            del request_id  # the link is the response's in_reply_to
        found = self.message_by_id(message_id)
        assert found is not None
        return found

    def claim_due(
        self, *, now: datetime, owner: str, until: datetime, limit: int = 16
    ) -> list[MessageRecord]:
        """See :meth:`Journal.claim_due`."""
        stamp = _t(now)
        with self._write() as db:
            rows = db.execute(
                "SELECT id FROM messages WHERE direction = 'out' AND state IN ('queued', 'retry') "
                "AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) "
                "ORDER BY next_attempt_at, id LIMIT ?",
                (stamp, stamp, limit),
            ).fetchall()
            ids = [row["id"] for row in rows]
            for message_id in ids:
                db.execute(
                    "UPDATE messages SET lease_owner = ?, lease_until = ?, "
                    "attempts = attempts + 1, last_attempt_at = ?, updated_at = ? WHERE id = ?",
                    (owner, _t(until), stamp, stamp, message_id),
                )
            claimed = [
                db.execute(_SELECT_MESSAGES_RAW + " WHERE id = ?", (message_id,)).fetchone()
                for message_id in ids
            ]
        return [_message(row, bytes(row["raw"])) for row in claimed]

    def finish_attempt(self, message_id: int, owner: str, attempt: Attempt) -> bool:
        """See :meth:`Journal.finish_attempt`."""
        with self._write() as db:
            row = db.execute(
                "SELECT lease_owner, state FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise _journal_error(
                    "JOURNAL-NO-MESSAGE",
                    f"the journal has no message #{message_id}",
                    f"В журнала няма съобщение №{message_id}",
                )
            held: bool = row["lease_owner"] == owner
            if not DeliveryState(row["state"]).is_pending:
                # settled meanwhile (e.g. by an error notice): only free the lease
                db.execute(
                    "UPDATE messages SET lease_owner = NULL, lease_until = NULL WHERE id = ? "
                    "AND lease_owner = ?",
                    (message_id, owner),
                )
                return held
            db.execute(
                "UPDATE messages SET state = ?, outcome = ?, error_code = ?, error_message = ?, "
                "next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? "
                "WHERE id = ?",
                (
                    attempt.state.value,
                    attempt.outcome.value,
                    attempt.error_code,
                    attempt.error_message,
                    None if attempt.next_attempt_at is None else _t(attempt.next_attempt_at),
                    _t(attempt.at),
                    message_id,
                ),
            )
        return held

    def settle(
        self,
        message_guid: Guid,
        *,
        state: DeliveryState,
        outcome: ExchangeOutcome,
        now: datetime,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> MessageRecord | None:
        """See :meth:`Journal.settle`."""
        with self._write() as db:
            row = db.execute(
                "SELECT id FROM messages WHERE direction = 'out' AND message_guid = ?",
                (str(message_guid),),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE messages SET state = ?, outcome = ?, error_code = ?, error_message = ?, "
                "next_attempt_at = NULL, updated_at = ? WHERE id = ?",
                (state.value, outcome.value, error_code, error_message, _t(now), row["id"]),
            )
        return self.message_by_id(row["id"])

    def message(self, message_guid: Guid, direction: Direction) -> MessageRecord | None:
        """See :meth:`Journal.message`."""
        with self._read() as db:
            row = db.execute(
                _SELECT_MESSAGES_RAW + " WHERE direction = ? AND message_guid = ?",
                (direction.value, str(message_guid)),
            ).fetchone()
        return None if row is None else _message(row, bytes(row["raw"]))

    def message_by_id(self, message_id: int) -> MessageRecord | None:
        """See :meth:`Journal.message_by_id`."""
        with self._read() as db:
            row = db.execute(_SELECT_MESSAGES_RAW + " WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else _message(row, bytes(row["raw"]))

    def messages(
        self,
        *,
        direction: Direction | None = None,
        states: Sequence[DeliveryState] = (),
        document_guid: Guid | None = None,
        peer_guid: Guid | None = None,
        in_reply_to: Guid | None = None,
        limit: int | None = None,
    ) -> list[MessageRecord]:
        """See :meth:`Journal.messages`."""
        where: list[str] = []
        args: list[Any] = []
        if direction is not None:
            where.append("direction = ?")
            args.append(direction.value)
        if states:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            args.extend(s.value for s in states)
        if document_guid is not None:
            where.append("document_guid = ?")
            args.append(str(document_guid))
        if peer_guid is not None:
            where.append("peer_guid = ?")
            args.append(str(peer_guid))
        if in_reply_to is not None:
            where.append("in_reply_to = ?")
            args.append(str(in_reply_to))
        sql = _SELECT_MESSAGES
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._read() as db:
            rows = db.execute(sql, args).fetchall()
        return [_message(row) for row in rows]

    def next_due(self) -> datetime | None:
        """See :meth:`Journal.next_due`."""
        with self._read() as db:
            row = db.execute(
                "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at "
                "THEN lease_until ELSE next_attempt_at END) AS due FROM messages "
                "WHERE direction = 'out' AND state IN ('queued', 'retry')"
            ).fetchone()
        return _dt(row["due"])

    # -- documents

    def document(
        self, role: Role, document_guid: Guid, peer_guid: Guid | None = None
    ) -> DocumentRecord | None:
        """See :meth:`Journal.document`."""
        sql = _SELECT_DOCUMENTS + " WHERE role = ? AND document_guid = ?"
        args: list[Any] = [role.value, str(document_guid)]
        if peer_guid is not None:
            sql += " AND peer_guid = ?"
            args.append(str(peer_guid))
        sql += " ORDER BY id DESC LIMIT 1"
        with self._read() as db:
            row = db.execute(sql, args).fetchone()
        return None if row is None else _document(row)

    def documents(
        self, *, role: Role | None = None, limit: int | None = None
    ) -> list[DocumentRecord]:
        """See :meth:`Journal.documents`."""
        sql = _SELECT_DOCUMENTS
        args: list[Any] = []
        if role is not None:
            sql += " WHERE role = ?"
            args.append(role.value)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._read() as db:
            rows = db.execute(sql, args).fetchall()
        return [_document(row) for row in rows]

    def history(self, document_id: int) -> list[HistoryEntry]:
        """See :meth:`Journal.history`."""
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM history WHERE document_id = ? ORDER BY id", (document_id,)
            ).fetchall()
        return [_history(row) for row in rows]

    def change_status(
        self, document_id: int, expected: DocumentStatus | None, change: StatusChange
    ) -> bool:
        """See :meth:`Journal.change_status`."""
        with self._write() as db:
            return self._apply_change(db, document_id, expected, change)

    # -- the rest

    def next_number(self, counter: str) -> int:
        """See :meth:`Journal.next_number`."""
        with self._write() as db:
            db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (counter,),
            )
            row = db.execute("SELECT value FROM counters WHERE name = ?", (counter,)).fetchone()
        return int(row["value"])

    def mark_seen(self, guid: Guid) -> bool:
        """See :meth:`Journal.mark_seen`."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO seen (guid, at) VALUES (?, ?)",
                (str(guid), _t(datetime.now(UTC))),
            )
            return cursor.rowcount == 1

    def is_seen(self, guid: Guid) -> bool:
        """See :meth:`Journal.is_seen`."""
        with self._read() as db:
            row = db.execute("SELECT 1 FROM seen WHERE guid = ?", (str(guid),)).fetchone()
        return row is not None

    def counts(self) -> dict[str, int]:
        """See :meth:`Journal.counts`."""
        with self._read() as db:
            rows = db.execute(
                "SELECT direction, state, COUNT(*) AS n FROM messages GROUP BY direction, state"
            ).fetchall()
        return {f"{row['direction']}/{row['state']}": int(row["n"]) for row in rows}

    def close(self) -> None:
        """Close the database connection (idempotent)."""
        with self._lock:
            if getattr(self, "_closed", False):
                return
            self._closed = True
            self._db.close()

    def __enter__(self) -> SqliteJournal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteJournal({str(self.path) if self.path else ':memory:'!r})"
