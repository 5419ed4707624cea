"""The mandatory retry strategy and the outcome classes of an exchange.

The specification ("Стратегия за повторен опит") fixes the schedule: the first retry **15
minutes** after the first attempt, each following wait **doubled**, **at most 10 retries**
(11 attempts in all, the last one 10 days, 15 hours and 45 minutes after the first). A retry
resends the same signed bytes with the same ``MessageGUID``. :data:`STANDARD_SCHEDULE` is that
schedule; :meth:`RetrySchedule.scaled` makes a faster one of the same shape for tests and
demos.

Each attempt ends in one of the outcome classes of "Обработка на грешки"
(:class:`ExchangeOutcome`): success, a fault (retry later), the sender's error or the
receiver's error (stop). :func:`classify` maps the transport's exceptions onto them and
:func:`classify_error_kind` the ``ErrorType`` of a received ``MSG_Error`` (ИГ.2, ИГ.3).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from eintegr.errors import ReceiverError, SenderError, TransportFault
from eintegr.messages.seos import ErrorKind

__all__ = [
    "STANDARD_SCHEDULE",
    "ExchangeOutcome",
    "RetrySchedule",
    "classify",
    "classify_error_kind",
]


class ExchangeOutcome(enum.StrEnum):
    """The result of one exchange, as the specification classifies it."""

    SUCCESS = "success"
    """"Успешен"."""
    FAULT = "fault"
    """"Неуспешен – Изключение": retry later."""
    SENDER_ERROR = "sender-error"
    """"Неуспешен – Грешка при подателя": stop."""
    RECEIVER_ERROR = "receiver-error"
    """"Неуспешен – Грешка при получателя": stop."""

    @property
    def retry(self) -> bool:
        """True when the same message should be sent again later."""
        return self is ExchangeOutcome.FAULT

    @property
    def label_bg(self) -> str:
        """The class as the specification names it."""
        return _OUTCOME_BG[self]


_OUTCOME_BG: Final = {
    ExchangeOutcome.SUCCESS: "Успешен",
    ExchangeOutcome.FAULT: "Неуспешен – Изключение",
    ExchangeOutcome.SENDER_ERROR: "Неуспешен – Грешка при подателя",
    ExchangeOutcome.RECEIVER_ERROR: "Неуспешен – Грешка при получателя",
}


def classify(error: BaseException | None) -> ExchangeOutcome:
    """The outcome class of an attempt that raised ``error`` (``None``: it succeeded).

    :class:`~eintegr.errors.SenderError` and :class:`~eintegr.errors.ReceiverError` stop; a
    :class:`~eintegr.errors.TransportFault` — and anything unexpected, which cannot be
    blamed on either side — is retried.
    """
    if error is None:
        return ExchangeOutcome.SUCCESS
    if isinstance(error, SenderError):
        return ExchangeOutcome.SENDER_ERROR
    if isinstance(error, ReceiverError):
        return ExchangeOutcome.RECEIVER_ERROR
    if isinstance(error, TransportFault):
        return ExchangeOutcome.FAULT
    return ExchangeOutcome.FAULT


def classify_error_kind(kind: ErrorKind) -> ExchangeOutcome:
    """ИГ.2: an internal error (``ERR_INTERNAL``) is the receiver's; ИГ.3: an external one
    (``ERR_EXTERNAL``) is the sender's."""
    if ErrorKind(kind) is ErrorKind.ERR_INTERNAL:
        return ExchangeOutcome.RECEIVER_ERROR
    return ExchangeOutcome.SENDER_ERROR


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """When a message that met a fault is sent again.

    :param first_delay: the wait before the first retry (the specification: 15 minutes).
    :param factor: each following wait is this many times the previous one (2).
    :param max_retries: retries after the first attempt (10; 11 attempts in all).
    :raises ValueError: a non-positive delay, a factor below 1 or a negative count.
    """

    first_delay: timedelta = timedelta(minutes=15)
    factor: int = 2
    max_retries: int = 10

    def __post_init__(self) -> None:
        if self.first_delay <= timedelta(0):
            raise ValueError("first_delay must be positive")
        if self.factor < 1:
            raise ValueError("factor must be at least 1")
        if self.max_retries < 0:
            raise ValueError("max_retries cannot be negative")

    @classmethod
    def scaled(cls, first_delay: timedelta | float, *, max_retries: int = 10) -> RetrySchedule:
        """The standard shape with another first wait (seconds, or a ``timedelta``): for
        tests and demos, e.g. ``RetrySchedule.scaled(0.05)``."""
        delay = (
            first_delay if isinstance(first_delay, timedelta) else timedelta(seconds=first_delay)
        )
        return cls(first_delay=delay, max_retries=max_retries)

    @property
    def max_attempts(self) -> int:
        """Attempts in all: the first one and every retry."""
        return self.max_retries + 1

    @property
    def is_standard(self) -> bool:
        """True for the schedule the specification requires."""
        return self == STANDARD_SCHEDULE

    def delay(self, retry: int) -> timedelta:
        """The wait before retry number ``retry`` (1 is the first retry).

        :raises ValueError: ``retry`` is outside ``1 … max_retries``.
        """
        if not 1 <= retry <= self.max_retries:
            raise ValueError(f"retry must be between 1 and {self.max_retries}, not {retry}")
        multiplier: int = self.factor ** (retry - 1)
        return self.first_delay * multiplier

    def next_attempt(self, attempts_made: int, last_attempt_at: datetime) -> datetime | None:
        """When to try again after ``attempts_made`` attempts, the last at
        ``last_attempt_at``; ``None`` when the schedule is exhausted."""
        if attempts_made < 1:
            return last_attempt_at
        if attempts_made > self.max_retries:
            return None
        return last_attempt_at + self.delay(attempts_made)

    def offsets(self) -> list[timedelta]:
        """When each attempt is made, counted from the first one (``[0, 15 min, 45 min, …]``
        for the standard schedule)."""
        times = [timedelta(0)]
        for retry in range(1, self.max_retries + 1):
            times.append(times[-1] + self.delay(retry))
        return times


STANDARD_SCHEDULE: Final = RetrySchedule()
"""The schedule of the specification: 15 minutes, doubling, at most 10 retries."""
