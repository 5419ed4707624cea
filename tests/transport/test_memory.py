"""The in-memory transport: the contract suite, plus its own edges."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eintegr.errors import SenderError, TransportFault
from eintegr.testing import ContractWorld, ScriptedReceiver, TransportContract
from eintegr.transport import MemoryTransport, Transport


class TestMemoryContract(TransportContract):
    @pytest.fixture
    def transport(
        self, contract_world: ContractWorld, contract_receiver: ScriptedReceiver
    ) -> Iterator[Transport]:
        with MemoryTransport(
            {contract_world.recipient.guid: contract_receiver}, checks=contract_world.checks()
        ) as transport:
            yield transport


def test_route_can_be_added_and_removed() -> None:
    world = ContractWorld.default()
    receiver = ScriptedReceiver()
    transport = MemoryTransport(checks=world.checks())
    recipient = world.recipient.participant
    with pytest.raises(TransportFault) as caught:
        transport.send(recipient, world.message())
    assert caught.value.code == "MEMORY-NO-ROUTE"
    transport.route(str(recipient.guid), receiver)
    assert transport.send(recipient, world.message()).is_empty
    transport.route(recipient.guid, None)
    with pytest.raises(TransportFault):
        transport.send(recipient, world.message())
    assert len(receiver.received) == 1


def test_without_checks_bytes_pass_unchecked() -> None:
    world = ContractWorld.default()
    receiver = ScriptedReceiver()
    receiver.behaviour = lambda message: b"<anything/>"
    transport = MemoryTransport({world.recipient.guid: receiver})
    outcome = transport.send(world.recipient.participant, b"not even XML")
    assert outcome.response == b"<anything/>"
    assert receiver.received[0].client_certificate is None


def test_message_addressed_to_someone_else_is_refused() -> None:
    world = ContractWorld.default()
    receiver = ScriptedReceiver()
    transport = MemoryTransport({world.recipient.guid: receiver}, checks=world.checks())
    with pytest.raises(SenderError) as caught:
        transport.send(world.recipient.participant, world.message(to=world.stranger))
    assert caught.value.code == "И.4"
    assert receiver.received == []


def test_a_blank_answer_is_empty() -> None:
    world = ContractWorld.default()
    receiver = ScriptedReceiver()
    receiver.behaviour = lambda message: b"  \n"
    transport = MemoryTransport({world.recipient.guid: receiver}, checks=world.checks())
    assert transport.send(world.recipient.participant, world.message()).is_empty


def test_an_answer_that_is_not_bytes_is_a_fault() -> None:
    world = ContractWorld.default()
    receiver = ScriptedReceiver()
    receiver.behaviour = lambda message: "text, not bytes"  # type: ignore[assignment,return-value]
    transport = MemoryTransport({world.recipient.guid: receiver}, checks=world.checks())
    with pytest.raises(TransportFault) as caught:
        transport.send(world.recipient.participant, world.message())
    assert caught.value.code == "И.8"
