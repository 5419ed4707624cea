"""Crash safety: SIGKILL the receiving process at random points while documents are sent.

A sender node pushes N documents over the real ``Submit`` transport (mutual TLS on
127.0.0.1) to a receiving node that runs in another process and is killed with SIGKILL at
random moments, then restarted on the same port and journal. Afterwards every document is
registered exactly once on the receiving side, and every item of the sender is final (and
knows the registration number).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eintegr.exchange import (
    DeliveryState,
    Direction,
    Node,
    RetrySchedule,
    Role,
    SqliteJournal,
    Worker,
)
from eintegr.exchange.local import LocalParty, submit_transport
from eintegr.identifiers import Guid
from eintegr.messages.seos import Attachment, DocumentStatus, new_document
from eintegr.registry.files import save_directory
from eintegr.registry.model import StaticRegister
from eintegr.registry.soap import Directory
from eintegr.signing.pki import make_ca
from eintegr.transport import SubmitTimeouts

from .conftest import OBLAST_EIK, OBSHTINA_EIK

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

DOCUMENTS = 30
KILLS = 5
SCRIPT = Path(__file__).with_name("crash_receiver.py")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Receiver:
    """Starts, kills and restarts the receiving process."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.process: subprocess.Popen[str] | None = None
        self.kills = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(self.folder), str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # "ready", or "" when it died
        assert line.strip() == "ready", "the receiving process did not start"

    def kill(self, *, count: bool = True) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None
            self.kills += count


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    running = Receiver(tmp_path, _free_port())
    yield running
    running.kill(count=False)


def test_sigkill_of_the_receiver_loses_and_duplicates_nothing(
    tmp_path: Path, receiver: Receiver
) -> None:
    started = time.monotonic()
    ca = make_ca("eintegr crash-test CA")
    oblast = LocalParty.create(ca, name="Областна администрация – Русе", eik=OBLAST_EIK)
    obshtina = LocalParty.create(ca, name="Община Русе", eik=OBSHTINA_EIK)
    endpoint = f"https://127.0.0.1:{receiver.port}/"
    register = StaticRegister(
        [oblast.participant("https://127.0.0.1:9/"), obshtina.participant(endpoint)]
    )
    save_directory(Directory(tuple(register.participants())), tmp_path / "register.json")
    obshtina.credentials.write(tmp_path, "obshtina")
    (tmp_path / "ca.crt.pem").write_bytes(ca.certificate_pem())
    (tmp_path / "obshtina.guid").write_text(str(obshtina.guid), encoding="ascii")

    journal = SqliteJournal(tmp_path / "oblast.sqlite")
    transport = submit_transport(
        oblast,
        register=register,
        ca=[ca.certificate],
        journal=journal,
        timeouts=SubmitTimeouts(connect=2, write=5, read=5, pool=5, total=10),
    )
    node = Node(
        identity=register.by_guid(oblast.guid),
        signer=oblast.signer(),
        register=register,
        transport=transport,
        journal=journal,
        schedule=RetrySchedule.scaled(0.05),  # 10 retries over 51 s
    )
    receiver.start()
    rng = random.Random(20240506)
    sent: list[Guid] = []
    stop_killing = threading.Event()

    def killer() -> None:
        while receiver.kills < KILLS and not stop_killing.is_set():
            time.sleep(rng.uniform(0.05, 0.6))
            receiver.kill()
            time.sleep(rng.uniform(0.0, 0.3))
            receiver.start()

    with Worker(node, poll_interval=0.05):
        chaos = threading.Thread(target=killer)
        chaos.start()
        for number in range(DOCUMENTS):
            document = new_document(
                kind="Писмо",
                about=f"Писмо №{number}",
                attachments=[
                    Attachment(file_name="p.txt", content=b"x" * 2048, mime_type="text/plain")
                ],
            )
            node.send_document(register.by_guid(obshtina.guid), document)
            sent.append(document.doc_id.document_guid)
            time.sleep(rng.uniform(0.0, 0.08))
        chaos.join(60)
        stop_killing.set()
        deadline = time.monotonic() + 50
        while not all(m.state.is_final for m in journal.messages(direction=Direction.OUT)):
            assert time.monotonic() < deadline, journal.counts()
            time.sleep(0.05)
    receiver.kill(count=False)
    transport.close()

    # the receiver: every document exactly once, registered once, numbers unique
    other = SqliteJournal(tmp_path / "obshtina.sqlite")
    received = other.documents(role=Role.RECEIVED)
    assert sorted(str(d.document_guid) for d in received) == sorted(str(g) for g in sent)
    assert all(d.status is DocumentStatus.DS_REGISTERED for d in received)
    numbers = [d.number for d in received]
    assert len(set(numbers)) == DOCUMENTS
    assert None not in numbers
    for record in received:
        history = other.history(record.id)
        assert [h.status for h in history] == [DocumentStatus.DS_REGISTERED]
    # the sender: every item final and delivered; every document known as registered
    outgoing = journal.messages(direction=Direction.OUT)
    assert all(m.state is DeliveryState.DELIVERED for m in outgoing), journal.counts()
    by_guid = {str(d.document_guid): d.number for d in received}
    for guid in sent:
        mine = journal.document(Role.SENT, guid)
        assert mine is not None
        assert mine.status is DocumentStatus.DS_REGISTERED
        assert mine.number == by_guid[str(guid)]
    retried = sum(1 for m in outgoing if m.attempts > 1)
    duplicates = sum(1 for m in outgoing if m.error_code == "П.9")
    log = (tmp_path / "receiver.log").read_text(encoding="utf-8")
    again = log.count("(again)")  # committed before a kill, delivered again after it
    print(
        f"\ncrash test: N={DOCUMENTS} documents, {receiver.kills} SIGKILLs of the receiver, "
        f"{retried} messages retried, {again} re-deliveries of messages committed before a "
        f"kill, {duplicates} retries answered П.9 (+ {len(outgoing) - DOCUMENTS} status "
        f"requests); all {DOCUMENTS} registered exactly once; "
        f"{time.monotonic() - started:.1f} s"
    )
    other.close()
    journal.close()
