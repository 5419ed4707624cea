"""The retry schedule of the specification, the outcome classes and the status lifecycle."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eintegr.errors import ExchangeError, ReceiverError, SenderError, TransportFault
from eintegr.exchange import (
    STANDARD_SCHEDULE,
    DeliveryState,
    ExchangeOutcome,
    RetrySchedule,
    classify,
    classify_error_kind,
)
from eintegr.exchange.lifecycle import (
    LOCAL_STATUSES,
    check_local_transition,
    local_transitions,
    remote_transition,
)
from eintegr.messages.seos import DocumentStatus, ErrorKind

S = DocumentStatus
H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_the_standard_schedule_is_the_table_of_the_specification() -> None:
    # "Време след първия опит": –, 15 мин., 45 мин., 1 ч. 45 мин., … 10 дни, 15 ч. и 45 мин.
    assert STANDARD_SCHEDULE.offsets() == [
        timedelta(0),
        15 * M,
        45 * M,
        H + 45 * M,
        3 * H + 45 * M,
        7 * H + 45 * M,
        15 * H + 45 * M,
        timedelta(days=1, hours=7, minutes=45),
        timedelta(days=2, hours=15, minutes=45),
        timedelta(days=5, hours=7, minutes=45),
        timedelta(days=10, hours=15, minutes=45),
    ]
    assert STANDARD_SCHEDULE.max_attempts == 11
    assert [STANDARD_SCHEDULE.delay(n) for n in (1, 2, 10)] == [15 * M, 30 * M, 128 * H]
    assert STANDARD_SCHEDULE.is_standard
    assert not RetrySchedule.scaled(0.1).is_standard


def test_next_attempt() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert STANDARD_SCHEDULE.next_attempt(1, start) == start + 15 * M
    assert STANDARD_SCHEDULE.next_attempt(10, start) == start + 128 * H
    assert STANDARD_SCHEDULE.next_attempt(11, start) is None
    assert STANDARD_SCHEDULE.next_attempt(0, start) == start
    with pytest.raises(ValueError, match="retry must be"):
        STANDARD_SCHEDULE.delay(11)
    with pytest.raises(ValueError, match="positive"):
        RetrySchedule(first_delay=timedelta(0))
    with pytest.raises(ValueError, match="factor"):
        RetrySchedule(factor=0)
    with pytest.raises(ValueError, match="negative"):
        RetrySchedule(max_retries=-1)


@given(st.integers(min_value=1, max_value=20), st.floats(min_value=0.001, max_value=100))
def test_scaled_schedules_double(retries: int, first: float) -> None:
    schedule = RetrySchedule.scaled(first, max_retries=retries)
    delays = [schedule.delay(n) for n in range(1, retries + 1)]
    assert all(b == a * 2 for a, b in itertools.pairwise(delays))
    assert len(schedule.offsets()) == retries + 1


def test_outcome_classes() -> None:
    assert classify(None) is ExchangeOutcome.SUCCESS
    assert classify(TransportFault("x")) is ExchangeOutcome.FAULT
    assert classify(SenderError("x")) is ExchangeOutcome.SENDER_ERROR
    assert classify(ReceiverError("x")) is ExchangeOutcome.RECEIVER_ERROR
    assert classify(RuntimeError("x")) is ExchangeOutcome.FAULT
    assert ExchangeOutcome.FAULT.retry
    assert not ExchangeOutcome.SENDER_ERROR.retry
    assert classify_error_kind(ErrorKind.ERR_INTERNAL) is ExchangeOutcome.RECEIVER_ERROR  # ИГ.2
    assert classify_error_kind(ErrorKind.ERR_EXTERNAL) is ExchangeOutcome.SENDER_ERROR  # ИГ.3
    assert ExchangeOutcome.SENDER_ERROR.label_bg == "Неуспешен – Грешка при подателя"


def test_delivery_states() -> None:
    assert {s for s in DeliveryState if not s.is_final} == {
        DeliveryState.QUEUED,
        DeliveryState.RETRY,
        DeliveryState.RECEIVED,
    }
    assert DeliveryState.EXPIRED.label_bg == "неуспешно – изчерпани опити"


def test_local_transitions() -> None:
    assert local_transitions(None) == LOCAL_STATUSES
    check_local_transition(None, S.DS_WAIT_REGISTRATION)
    check_local_transition(S.DS_WAIT_REGISTRATION, S.DS_REGISTERED)
    check_local_transition(S.DS_REGISTERED, S.DS_CLOSED)
    check_local_transition(S.DS_STOPPED, S.DS_REGISTERED)
    for current, new in [
        (S.DS_CLOSED, S.DS_REGISTERED),
        (S.DS_REJECTED, S.DS_REGISTERED),
        (S.DS_REGISTERED, S.DS_WAIT_REGISTRATION),
        (S.DS_REGISTERED, S.DS_REJECTED),
        (None, S.DS_ALREADY_RECEIVED),
    ]:
        with pytest.raises(ExchangeError) as caught:
            check_local_transition(current, new)
        assert caught.value.code == "EXCHANGE-TRANSITION"


@pytest.mark.parametrize(
    ("current", "reported", "result"),
    [
        (None, S.DS_WAIT_REGISTRATION, S.DS_WAIT_REGISTRATION),
        (S.DS_WAIT_REGISTRATION, S.DS_REGISTERED, S.DS_REGISTERED),
        (S.DS_REGISTERED, S.DS_ALREADY_RECEIVED, S.DS_REGISTERED),
        (None, S.DS_ALREADY_RECEIVED, S.DS_ALREADY_RECEIVED),
        (S.DS_ALREADY_RECEIVED, S.DS_CLOSED, S.DS_CLOSED),
        (S.DS_REGISTERED, S.DS_WAIT_REGISTRATION, None),
        (S.DS_CLOSED, S.DS_REGISTERED, None),
        (S.DS_CLOSED, S.DS_CLOSED, S.DS_CLOSED),
        (S.DS_REGISTERED, S.DS_NOT_FOUND, None),
        (None, S.DS_NOT_FOUND, S.DS_NOT_FOUND),
        (S.DS_NOT_FOUND, S.DS_REGISTERED, S.DS_REGISTERED),
        (S.DS_REJECTED, S.DS_REGISTERED, None),
    ],
)
def test_remote_transitions(
    current: DocumentStatus | None, reported: DocumentStatus, result: DocumentStatus | None
) -> None:
    assert remote_transition(current, reported) is result
