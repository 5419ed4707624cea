"""The asynchronous Submit client, the async adapter, and the contract suite through a portal."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import anyio
import pytest

from eintegr.errors import ReceiverError, SenderError, TransportFault
from eintegr.testing import BlockingTransport, ContractWorld, ScriptedReceiver, TransportContract
from eintegr.transport import (
    AsyncAdapter,
    AsyncSubmitTransport,
    MemoryTransport,
    SubmitTimeouts,
    TlsCredentials,
    Transport,
)
from tests.transport.scripted_server import Reply, ScriptedServer, deliver_to, submit_response

FAST = SubmitTimeouts(connect=5, write=5, read=5, pool=5, total=10)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def world() -> ContractWorld:
    return ContractWorld.default()


def client(world: ContractWorld, **options: object) -> AsyncSubmitTransport:
    options.setdefault("timeouts", FAST)
    return AsyncSubmitTransport(
        TlsCredentials.from_issued(world.sender.credentials),
        register=world.register,
        ca=[world.ca.certificate],
        participant=world.sender.guid,
        **options,  # type: ignore[arg-type]
    )


async def test_empty_and_response(world: ContractWorld) -> None:
    receiver = ScriptedReceiver()
    with ScriptedServer(world.recipient.credentials, world.ca, deliver_to(receiver)) as server:
        here = world.with_endpoints(recipient=server.url)
        async with client(here) as transport:
            assert (await transport.send(here.recipient.participant, here.message())).is_empty
            message = here.message()
            response = here.response_to(message)
            receiver.behaviour = lambda received: response
            outcome = await transport.send(here.recipient.participant, message)
            assert outcome.response is not None
            await transport.check_outgoing(here.message(), here.recipient.participant)
            with pytest.raises(SenderError):
                await transport.check_outgoing(here.message(signed=False))
    assert len(receiver.received) == 2
    assert server.handshakes == 1


async def test_i7_wrong_server_certificate(world: ContractWorld) -> None:
    script = lambda request: Reply(body=submit_response(None))  # noqa: E731
    with ScriptedServer(world.stranger.credentials, world.ca, script) as server:
        here = world.with_endpoints(recipient=server.url)
        async with client(here) as transport:
            with pytest.raises(TransportFault) as caught:
                await transport.send(here.recipient.participant, here.message())
        await anyio.sleep(0.05)
    assert caught.value.code == "И.7"
    assert server.requests == []


async def test_timeouts_and_size(world: ContractWorld) -> None:
    def script(request: object) -> Reply:
        return Reply(body=submit_response(None) + b" " * 300_000, chunked=True, drip=0.05)

    with ScriptedServer(world.recipient.credentials, world.ca, script) as server:
        here = world.with_endpoints(recipient=server.url)
        async with client(here, max_response_bytes=50_000) as transport:
            with pytest.raises(ReceiverError) as caught:
                await transport.send(here.recipient.participant, here.message())
        assert caught.value.code == "SUBMIT-TOO-LARGE"
        timeouts = SubmitTimeouts(connect=2, write=2, read=2, pool=2, total=0.3)
        started = time.monotonic()
        async with client(here, timeouts=timeouts) as transport:
            with pytest.raises(TransportFault) as slow:
                await transport.send(here.recipient.participant, here.message())
        assert slow.value.code == "И.8"
        assert time.monotonic() - started < 2


async def test_response_checks_run(world: ContractWorld) -> None:
    receiver = ScriptedReceiver()
    with ScriptedServer(world.recipient.credentials, world.ca, deliver_to(receiver)) as server:
        here = world.with_endpoints(recipient=server.url)
        message = here.message()
        receiver.behaviour = lambda received: here.response_to(message, signed=False)
        async with client(here) as transport:
            with pytest.raises(ReceiverError) as caught:
                await transport.send(here.recipient.participant, message)
            await transport.aclose()
            with pytest.raises(TransportFault):
                await transport.send(here.recipient.participant, message)
    assert caught.value.code == "И.13"


async def test_connection_refused(world: ContractWorld) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    here = world.with_endpoints(recipient=f"https://127.0.0.1:{port}/")
    async with client(here) as transport:
        with pytest.raises(TransportFault) as caught:
            await transport.send(here.recipient.participant, here.message())
    assert caught.value.code == "И.8"


async def test_async_adapter_runs_a_sync_transport(world: ContractWorld) -> None:
    receiver = ScriptedReceiver()
    adapter = AsyncAdapter(
        MemoryTransport({world.recipient.guid: receiver}, checks=world.checks()), max_threads=2
    )
    async with adapter, anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(adapter.send, world.recipient.participant, world.message())
    assert len(receiver.received) == 4
    with pytest.raises(TransportFault):
        await adapter.send(world.recipient.participant, world.message())
    with pytest.raises(ValueError, match="max_threads"):
        AsyncAdapter(adapter.transport, max_threads=0)


class TestAsyncSubmitContract(TransportContract):
    preserves_refusal_class = False

    @pytest.fixture(scope="class")
    @classmethod
    def submit_server(cls, contract_receiver: ScriptedReceiver) -> Iterator[ScriptedServer]:
        base = ContractWorld.default()
        with ScriptedServer(
            base.recipient.credentials, base.ca, deliver_to(contract_receiver)
        ) as server:
            yield server

    @pytest.fixture(scope="class")
    @classmethod
    def contract_world(cls, submit_server: ScriptedServer) -> ContractWorld:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return ContractWorld.default().with_endpoints(
            recipient=submit_server.url, stranger=f"https://127.0.0.1:{port}/"
        )

    @pytest.fixture
    def transport(self, contract_world: ContractWorld) -> Iterator[Transport]:
        with BlockingTransport(lambda: client(contract_world)) as transport:
            yield transport
