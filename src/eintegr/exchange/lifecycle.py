"""The life of a document and of a message: the allowed status changes, and delivery states.

**Documents we received** (role :attr:`Role.RECEIVED`) carry *our* registration status, the
one we report to the sender with ``MSG_DocumentStatusResponse``. Only these changes are
allowed (ЗР.2–ЗР.9 and "a status notice on every change"):

==========================  ==========================================================
from                        to
==========================  ==========================================================
(not decided yet)           ``DS_WAIT_REGISTRATION``, ``DS_REGISTERED``, ``DS_REJECTED``,
                            ``DS_STOPPED``, ``DS_CLOSED``
``DS_WAIT_REGISTRATION``    ``DS_REGISTERED``, ``DS_REJECTED``, ``DS_STOPPED``, ``DS_CLOSED``
``DS_REGISTERED``           ``DS_REGISTERED`` (a new expected close date), ``DS_STOPPED``,
                            ``DS_CLOSED``
``DS_STOPPED``              ``DS_REGISTERED`` (work resumed), ``DS_CLOSED``
``DS_REJECTED``             — (final)
``DS_CLOSED``               — (final)
==========================  ==========================================================

``DS_NOT_FOUND`` and ``DS_ALREADY_RECEIVED`` are answers, never a document's status.

**Documents we sent** (role :attr:`Role.SENT`) carry the status the *recipient* reported
(ИС.2–ИС.7). Notices may arrive late or twice, so :func:`remote_transition` accepts every
report that does not move a document backwards out of a final status, and keeps the known
status when the recipient only says ``DS_ALREADY_RECEIVED``. Every report, accepted or not, is
kept in the document's history.

**Messages** have a :class:`DeliveryState`: outgoing ones are queued, retried after faults and
end delivered, failed (the sender's or the receiver's error) or expired (the retry schedule
ran out); incoming ones are received (committed) and then processed (answered).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from eintegr.errors import ExchangeError
from eintegr.identifiers import Guid
from eintegr.messages.seos import DocumentStatus

__all__ = [
    "FINAL_LOCAL_STATUSES",
    "LOCAL_STATUSES",
    "NEEDS_NUMBER",
    "DeliveryState",
    "Direction",
    "Role",
    "StatusChange",
    "check_local_transition",
    "local_transitions",
    "remote_transition",
]

_S = DocumentStatus


class Role(enum.StrEnum):
    """Whether we sent a document or received it."""

    SENT = "sent"
    RECEIVED = "received"


class Direction(enum.StrEnum):
    """Whether a message left us or came to us."""

    OUT = "out"
    IN = "in"


class DeliveryState(enum.StrEnum):
    """Where a message is in its own life (the journal's ``state``)."""

    QUEUED = "queued"
    """Outgoing, waiting for its first attempt."""
    RETRY = "retry"
    """Outgoing, a fault happened; waiting for the next attempt of the schedule."""
    DELIVERED = "delivered"
    """Outgoing, the recipient accepted it ("Успешен")."""
    FAILED_SENDER = "failed-sender"
    """Outgoing, "Неуспешен – Грешка при подателя": stopped."""
    FAILED_RECEIVER = "failed-receiver"
    """Outgoing, "Неуспешен – Грешка при получателя": stopped."""
    EXPIRED = "expired"
    """Outgoing, faults until the retry schedule ran out: stopped."""
    RESPONSE = "response"
    """Outgoing, our synchronous answer to an incoming message (sent within that exchange)."""
    RECEIVED = "received"
    """Incoming, committed to the journal, not processed yet."""
    PROCESSED = "processed"
    """Incoming, processed (and answered when an answer was due)."""

    @property
    def is_final(self) -> bool:
        """True when nothing more will happen to the message."""
        return self not in (DeliveryState.QUEUED, DeliveryState.RETRY, DeliveryState.RECEIVED)

    @property
    def is_pending(self) -> bool:
        """True for an outgoing message still to be (re)sent."""
        return self in (DeliveryState.QUEUED, DeliveryState.RETRY)

    @property
    def label_bg(self) -> str:
        """The state in Bulgarian."""
        return _DELIVERY_BG[self]


_DELIVERY_BG: Final[Mapping[DeliveryState, str]] = {
    DeliveryState.QUEUED: "чака изпращане",
    DeliveryState.RETRY: "чака повторен опит",
    DeliveryState.DELIVERED: "доставено",
    DeliveryState.FAILED_SENDER: "неуспешно – грешка при подателя",
    DeliveryState.FAILED_RECEIVER: "неуспешно – грешка при получателя",
    DeliveryState.EXPIRED: "неуспешно – изчерпани опити",
    DeliveryState.RESPONSE: "изпратено като отговор",
    DeliveryState.RECEIVED: "получено, необработено",
    DeliveryState.PROCESSED: "получено и обработено",
}

LOCAL_STATUSES: Final = frozenset(
    {_S.DS_WAIT_REGISTRATION, _S.DS_REGISTERED, _S.DS_REJECTED, _S.DS_STOPPED, _S.DS_CLOSED}
)
"""The statuses a received document can have (and that we can set)."""

FINAL_LOCAL_STATUSES: Final = frozenset({_S.DS_REJECTED, _S.DS_CLOSED})
"""Statuses after which no change is allowed."""

_LOCAL: Final[Mapping[DocumentStatus | None, frozenset[DocumentStatus]]] = {
    None: LOCAL_STATUSES,
    _S.DS_WAIT_REGISTRATION: frozenset(
        {_S.DS_REGISTERED, _S.DS_REJECTED, _S.DS_STOPPED, _S.DS_CLOSED}
    ),
    _S.DS_REGISTERED: frozenset({_S.DS_REGISTERED, _S.DS_STOPPED, _S.DS_CLOSED}),
    _S.DS_STOPPED: frozenset({_S.DS_REGISTERED, _S.DS_CLOSED}),
    _S.DS_REJECTED: frozenset(),
    _S.DS_CLOSED: frozenset(),
}

NEEDS_NUMBER: Final = frozenset({_S.DS_REGISTERED, _S.DS_STOPPED, _S.DS_CLOSED})
"""Statuses whose notice carries our registration number (ЗР.7–ЗР.9, ПС.5–ПС.7)."""


def local_transitions(current: DocumentStatus | None) -> frozenset[DocumentStatus]:
    """The statuses a received document in ``current`` may move to."""
    return _LOCAL.get(current, frozenset())


def check_local_transition(current: DocumentStatus | None, new: DocumentStatus) -> None:
    """Refuse a status change of a received document that the lifecycle does not allow.

    :raises ExchangeError: ``EXCHANGE-TRANSITION``.
    """
    new = DocumentStatus(new)
    if new in local_transitions(current):
        return
    shown = current.value if current is not None else "(undecided)"
    shown_bg = current.value if current is not None else "(без решение)"
    if new not in LOCAL_STATUSES:
        raise ExchangeError(
            f"{new.value} is an answer, not a status a document can be given",
            code="EXCHANGE-TRANSITION",
            message_bg=f"{new.value} е отговор, а не състояние, в което документ може да бъде",
        )
    allowed = ", ".join(sorted(s.value for s in local_transitions(current))) or "none"
    raise ExchangeError(
        f"a document in {shown} cannot move to {new.value} (allowed: {allowed})",
        code="EXCHANGE-TRANSITION",
        message_bg=f"Документ в състояние {shown_bg} не може да премине в {new.value} "
        f"(допустими: {allowed if allowed != 'none' else 'няма'})",
    )


_REMOTE_FINAL: Final = frozenset({_S.DS_REJECTED, _S.DS_CLOSED})
_KNOWN: Final = frozenset(
    {_S.DS_WAIT_REGISTRATION, _S.DS_REGISTERED, _S.DS_STOPPED, _S.DS_CLOSED, _S.DS_REJECTED}
)


def remote_transition(
    current: DocumentStatus | None, reported: DocumentStatus
) -> DocumentStatus | None:
    """The status of a document we sent after its recipient reported ``reported``.

    Returns the new status, or ``None`` when the report does not fit (it would take the
    document out of ``DS_REJECTED`` or ``DS_CLOSED``, or back to ``DS_WAIT_REGISTRATION`` once
    registered); such a report is only recorded in the history. ``DS_ALREADY_RECEIVED`` keeps a
    known status (the recipient only says it has the document).
    """
    reported = DocumentStatus(reported)
    if current in _REMOTE_FINAL:
        return current if reported in (current, _S.DS_ALREADY_RECEIVED) else None
    if reported is _S.DS_ALREADY_RECEIVED:
        return current if current in _KNOWN else reported
    if reported is _S.DS_NOT_FOUND:
        # the recipient lost track of it, or has not processed it yet: only before any
        # positive status may it replace what we know
        return reported if current in (None, _S.DS_NOT_FOUND) else None
    if reported is _S.DS_WAIT_REGISTRATION and current in (_S.DS_REGISTERED, _S.DS_STOPPED):
        return None
    return reported


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One entry of a document's status history (and the change it makes).

    :ivar status: the status set (ours) or reported (the recipient's).
    :ivar resulting: the document's status after the change; ``None`` with
        ``accepted=False`` when the report was only recorded.
    :ivar source: ``"local"`` (we changed it) or ``"remote"`` (the other side reported it).
    :ivar message_guid: the message that carried the change, when there is one.
    :ivar number: the registration number (ours for received documents, the recipient's for
        sent ones), with ``number_date``; or ``uri`` (a ``DocumentURI`` as text).
    """

    status: DocumentStatus
    source: str
    at: datetime
    resulting: DocumentStatus | None = None
    accepted: bool = True
    number: str | None = None
    number_date: date | None = None
    uri: str | None = None
    reason: str | None = None
    expect_close_date: date | None = None
    message_guid: Guid | None = None
    note: str | None = None
    previous: DocumentStatus | None = None
