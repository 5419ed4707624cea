"""The file-system transport: the contract suite, atomic writes, crashes, the receiving loop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eintegr.errors import ReceiverError, SenderError, TransportFault
from eintegr.testing import ContractWorld, ScriptedReceiver, TransportContract
from eintegr.transport import (
    FileSystemEndpoint,
    FileSystemTransport,
    Transport,
    create_endpoint,
)
from eintegr.xml import parse_xml

SRC = Path(__file__).resolve().parents[2] / "src"


def endpoint_of(root: Path, world: ContractWorld) -> Path:
    return root / str(world.recipient.guid.uuid)


class TestFileSystemContract(TransportContract):
    large_message_bytes = 2 * 1024 * 1024

    @pytest.fixture
    def transport(
        self,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        tmp_path: Path,
    ) -> Iterator[Transport]:
        with (
            FileSystemEndpoint(endpoint_of(tmp_path, contract_world), contract_receiver),
            FileSystemTransport(
                tmp_path, checks=contract_world.checks(), response_timeout=20
            ) as transport,
        ):
            yield transport


@pytest.fixture
def world() -> ContractWorld:
    return ContractWorld.default()


def test_layout_and_outcome_files(tmp_path: Path, world: ContractWorld) -> None:
    endpoint = create_endpoint(endpoint_of(tmp_path, world))
    assert sorted(p.name for p in endpoint.iterdir()) == [
        "failed",
        "inbox",
        "outbox",
        "processed",
        "tmp",
    ]
    transport = FileSystemTransport(tmp_path, checks=world.checks(), response_timeout=None)
    message = world.message()
    assert transport.send(world.recipient.participant, message).is_empty
    inbox = sorted((endpoint / "inbox").iterdir())
    assert [p.suffix for p in inbox] == [".pem", ".xml"]
    assert inbox[1].read_bytes() == message
    assert inbox[1].stat().st_mode & 0o777 == 0o600
    assert list((endpoint / "tmp").iterdir()) == []

    receiver = ScriptedReceiver()
    consumer = FileSystemEndpoint(endpoint, receiver)
    assert consumer.process_pending() == 1
    assert consumer.process_pending() == 0
    assert receiver.received[0].message == message
    assert receiver.received[0].client_certificate == world.sender.certificate
    assert list((endpoint / "inbox").iterdir()) == []
    assert len(list((endpoint / "processed").iterdir())) == 2
    (result,) = (endpoint / "outbox").iterdir()
    assert json.loads(result.read_bytes()) == {"version": 1, "outcome": "empty"}


def test_refused_message_goes_to_failed_with_its_reason(
    tmp_path: Path, world: ContractWorld
) -> None:
    endpoint = create_endpoint(endpoint_of(tmp_path, world))
    transport = FileSystemTransport(tmp_path, checks=world.checks(), response_timeout=None)
    transport.send(world.recipient.participant, world.message())

    def refuse(message: bytes) -> bytes | None:
        raise SenderError("duplicate", code="П.9", message_bg="дубликат")

    receiver = ScriptedReceiver()
    receiver.behaviour = refuse
    FileSystemEndpoint(endpoint, receiver).process_pending()
    assert len(list((endpoint / "failed").iterdir())) == 2
    (result,) = (endpoint / "outbox").iterdir()
    assert json.loads(result.read_bytes()) == {
        "version": 1,
        "outcome": "sender",
        "code": "П.9",
        "message": "duplicate",
        "message_bg": "дубликат",
    }


def test_receiver_answering_text_is_recorded_as_a_fault(
    tmp_path: Path, world: ContractWorld
) -> None:
    endpoint = create_endpoint(endpoint_of(tmp_path, world))
    transport = FileSystemTransport(tmp_path, checks=world.checks(), response_timeout=None)
    transport.send(world.recipient.participant, world.message())
    receiver = ScriptedReceiver()
    receiver.behaviour = lambda message: "text"  # type: ignore[assignment,return-value]
    FileSystemEndpoint(endpoint, receiver).process_pending()
    (result,) = (endpoint / "outbox").iterdir()
    assert json.loads(result.read_bytes())["outcome"] == "fault"
    assert len(list((endpoint / "failed").iterdir())) == 2


def test_the_background_loop_survives_a_failing_pass(
    tmp_path: Path, world: ContractWorld, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint_folder = endpoint_of(tmp_path, world)
    receiver = ScriptedReceiver()
    calls: list[int] = []

    class Flaky(FileSystemEndpoint):
        def _pass(self, stop: threading.Event | None) -> int:
            calls.append(1)
            if len(calls) == 1:
                raise OSError("disk full")
            return super()._pass(stop)

    with (
        Flaky(endpoint_folder, receiver),
        FileSystemTransport(tmp_path, checks=world.checks(), response_timeout=10) as transport,
    ):
        assert transport.send(world.recipient.participant, world.message()).is_empty
    assert "disk full" in caplog.text


def test_oversized_inbox_file_is_refused_unread(tmp_path: Path, world: ContractWorld) -> None:
    endpoint = create_endpoint(endpoint_of(tmp_path, world))
    transport = FileSystemTransport(tmp_path, checks=world.checks(), response_timeout=None)
    transport.send(world.recipient.participant, world.message())
    receiver = ScriptedReceiver()
    FileSystemEndpoint(endpoint, receiver, max_message_bytes=100).process_pending()
    assert receiver.received == []
    (result,) = (endpoint / "outbox").iterdir()
    assert json.loads(result.read_bytes())["code"] == "FS-TOO-LARGE"


def test_missing_endpoint_is_a_fault(tmp_path: Path, world: ContractWorld) -> None:
    transport = FileSystemTransport(tmp_path, checks=world.checks())
    with pytest.raises(TransportFault) as caught:
        transport.send(world.recipient.participant, world.message())
    assert caught.value.code == "FS-NO-ENDPOINT"


def test_no_outcome_in_time_is_a_fault_and_the_message_stays(
    tmp_path: Path, world: ContractWorld
) -> None:
    endpoint = create_endpoint(endpoint_of(tmp_path, world))
    transport = FileSystemTransport(tmp_path, checks=world.checks(), response_timeout=0.05)
    with pytest.raises(TransportFault) as caught:
        transport.send(world.recipient.participant, world.message())
    assert caught.value.code == "FS-TIMEOUT"
    assert len(list((endpoint / "inbox").glob("*.xml"))) == 1


def test_unreadable_outcome_is_the_receivers_error(tmp_path: Path, world: ContractWorld) -> None:
    endpoint = create_endpoint(endpoint_of(tmp_path, world))

    class Garbler(FileSystemEndpoint):
        def _process(self, path: Path) -> None:
            name = path.name.removesuffix(".xml")
            (self.directory / "outbox" / f"{name}.json").write_bytes(b"{not json")
            path.unlink()

    with (
        Garbler(endpoint, ScriptedReceiver()),
        FileSystemTransport(tmp_path, checks=world.checks(), response_timeout=10) as transport,
        pytest.raises(ReceiverError) as caught,
    ):
        transport.send(world.recipient.participant, world.message())
    assert caught.value.code == "FS-RESULT"


def test_world_writable_inbox_is_refused(tmp_path: Path, world: ContractWorld) -> None:
    endpoint = create_endpoint(tmp_path / "open")
    (endpoint / "inbox").chmod(0o777)
    with pytest.raises(PermissionError):
        FileSystemEndpoint(endpoint, ScriptedReceiver())


def test_close_stops_a_waiting_sender(tmp_path: Path, world: ContractWorld) -> None:
    create_endpoint(endpoint_of(tmp_path, world))
    transport = FileSystemTransport(tmp_path, checks=world.checks(), response_timeout=30)
    threading.Timer(0.1, transport.close).start()
    started = time.monotonic()
    with pytest.raises(TransportFault) as caught:
        transport.send(world.recipient.participant, world.message())
    assert caught.value.code == "TRANSPORT-CLOSED"
    assert time.monotonic() - started < 5


# --- crashes: nothing is lost -------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from eintegr.transport.filesystem import INBOX, _atomic_write

    endpoint = Path(sys.argv[1])
    payload = b"<m>" + b"x" * 400_000 + b"</m>"
    number = 0
    while True:
        _atomic_write(endpoint, INBOX, f"{number:06d}.xml", payload, 0o600)
        number += 1
        if number == 3:
            print("ready", flush=True)
    """
)


def test_killed_writer_leaves_only_complete_messages(tmp_path: Path) -> None:
    endpoint = create_endpoint(tmp_path / "endpoint")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(endpoint)], stdout=subprocess.PIPE, env=env
    ) as writer:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == b"ready"
        time.sleep(0.05)
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    messages = sorted((endpoint / "inbox").iterdir())
    assert len(messages) >= 3
    for path in messages:  # whatever was in the inbox is whole
        assert parse_xml(path.read_bytes()).getroot().tag == "m"
    # a partial write may remain in tmp/, where the receiving side never looks
    assert all(p.name.endswith(".part") for p in (endpoint / "tmp").iterdir())


_CONSUMER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from eintegr.transport import FileSystemEndpoint

    def receiver(message, *, client_certificate):
        print("handling", flush=True)
        time.sleep(30)  # killed here, in the middle of processing
        return None

    FileSystemEndpoint(Path(sys.argv[1]), receiver).process_pending()
    """
)


def test_consumer_killed_mid_processing_loses_nothing(tmp_path: Path, world: ContractWorld) -> None:
    endpoint = create_endpoint(endpoint_of(tmp_path, world))
    sender = FileSystemTransport(tmp_path, checks=world.checks(), response_timeout=None)
    message = world.message()
    sender.send(world.recipient.participant, message)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with subprocess.Popen(
        [sys.executable, "-c", _CONSUMER, str(endpoint)], stdout=subprocess.PIPE, env=env
    ) as consumer:
        assert consumer.stdout is not None
        assert consumer.stdout.readline().strip() == b"handling"
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(10)
    # the message is still in the inbox, no outcome was written
    assert len(list((endpoint / "inbox").glob("*.xml"))) == 1
    assert list((endpoint / "outbox").iterdir()) == []
    # a restarted consumer processes it
    receiver = ScriptedReceiver()
    assert FileSystemEndpoint(endpoint, receiver).process_pending() == 1
    assert receiver.received[0].message == message
    assert len(list((endpoint / "outbox").iterdir())) == 1
    assert list((endpoint / "inbox").iterdir()) == []
