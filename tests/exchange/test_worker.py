"""The background worker: sends what is due, and carries on after a restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from eintegr.exchange import DeliveryState, Direction, Role, SqliteJournal, Worker
from eintegr.messages.seos import DocumentStatus, new_document

from .conftest import Pair, World, build_node


def _wait(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_worker_sends_queued_messages(make_pair: Callable[..., Pair]) -> None:
    pair = make_pair()
    rounds: list[int] = []
    with Worker(pair.sender, poll_interval=0.05, on_round=rounds.append) as worker:
        assert worker.running
        items = [
            pair.sender.send_document(
                pair.recipient.identity, new_document(kind="Писмо"), deliver=False
            )
            for _ in range(3)
        ]
        worker.wake()
        _wait(lambda: all(pair.sender.item(i.message_guid).is_final for i in items))
    assert not worker.running
    assert sum(rounds) == 3 == worker.attempted
    assert all(pair.sender.item(i.message_guid).state is DeliveryState.DELIVERED for i in items)


def test_a_restarted_node_resumes_due_items(world: World, tmp_path: Path) -> None:
    path = tmp_path / "oblast.sqlite"
    recipient_journal = SqliteJournal(tmp_path / "obshtina.sqlite")
    recipient, _ = build_node(world, world.obshtina, recipient_journal)
    # first life: the recipient is unreachable; items wait for retries, one is mid-attempt
    journal = SqliteJournal(path)
    sender, _ = build_node(world, world.oblast, journal, lease=timedelta(milliseconds=300))
    documents = [new_document(kind="Писмо", about=f"№{n}") for n in range(4)]
    for document in documents[:3]:
        assert sender.send_document(recipient.identity, document).state is DeliveryState.RETRY
    sender.send_document(recipient.identity, documents[3], deliver=False)
    journal.claim_due(
        now=sender.clock() + timedelta(seconds=1), owner="dead", until=sender.clock()
    )  # an attempt whose process died (its lease has already run out)
    journal.close()  # the process "dies"
    # second life: a new node on the same journal, the recipient reachable again
    journal = SqliteJournal(path)
    sender, transport = build_node(world, world.oblast, journal)
    transport.route(recipient.identity.guid, recipient.receiver())
    with Worker(sender, poll_interval=0.05):
        _wait(lambda: all(m.state.is_final for m in journal.messages(direction=Direction.OUT)))
    for document in documents:
        sent = journal.document(Role.SENT, document.doc_id.document_guid)
        assert sent is not None
        assert sent.status is DocumentStatus.DS_WAIT_REGISTRATION
    assert all(
        m.state is DeliveryState.DELIVERED for m in journal.messages(direction=Direction.OUT)
    )
    assert len(recipient_journal.documents(role=Role.RECEIVED)) == 4
    journal.close()
    recipient_journal.close()


def test_worker_survives_a_failing_round(make_pair: Callable[..., Pair]) -> None:
    pair = make_pair()
    calls = 0

    def broken(limit: int = 16) -> int:
        nonlocal calls
        calls += 1
        raise RuntimeError("disk on fire")

    pair.sender.process_due = broken  # type: ignore[method-assign]
    worker = Worker(pair.sender, poll_interval=0.01).start()
    _wait(lambda: calls >= 3)
    worker.stop()
    assert not worker.running
