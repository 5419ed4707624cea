"""A СЕОС participant ("node"): document lifecycle, durable journal, retries, answers.

* :class:`Node` — sends documents and status notices, answers incoming messages as the
  specification says, tracks every document until it is registered, rejected or closed;
* :class:`SqliteJournal` (behind the :class:`Journal` interface) — every message in and out
  with its signed bytes, every document and its status history, in one SQLite file;
* :class:`RetrySchedule` — the mandatory schedule (15 minutes, doubling, at most 10 retries);
* :class:`Worker` — sends due messages in the background and resumes after a restart;
* :mod:`.lifecycle` — the allowed status changes and the delivery states.

See ``docs/participant.md`` for embedding a participant in a document-management system.
"""

from __future__ import annotations

from eintegr.exchange.journal import (
    DocumentRecord,
    HistoryEntry,
    Journal,
    MessageRecord,
    SqliteJournal,
)
from eintegr.exchange.lifecycle import DeliveryState, Direction, Role, StatusChange
from eintegr.exchange.node import (
    Decision,
    ErrorNotice,
    IncomingDocument,
    Node,
    OutgoingItem,
    RegistrationPolicy,
    StatusNotice,
    StatusQuery,
    register_automatically,
    wait_for_registration,
)
from eintegr.exchange.retry import (
    STANDARD_SCHEDULE,
    ExchangeOutcome,
    RetrySchedule,
    classify,
    classify_error_kind,
)
from eintegr.exchange.worker import Worker

__all__ = [
    "STANDARD_SCHEDULE",
    "Decision",
    "DeliveryState",
    "Direction",
    "DocumentRecord",
    "ErrorNotice",
    "ExchangeOutcome",
    "HistoryEntry",
    "IncomingDocument",
    "Journal",
    "MessageRecord",
    "Node",
    "OutgoingItem",
    "RegistrationPolicy",
    "RetrySchedule",
    "Role",
    "SqliteJournal",
    "StatusChange",
    "StatusNotice",
    "StatusQuery",
    "Worker",
    "classify",
    "classify_error_kind",
    "register_automatically",
    "wait_for_registration",
]
