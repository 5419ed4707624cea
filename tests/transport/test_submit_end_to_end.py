"""End to end: the Submit client against the real Submit server and receiving pipeline.

Two participants on 127.0.0.1 with certificates of a local CA; mutual TLS both ways; the
server runs every П.* check and the client every И.* check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from eintegr.errors import TransportFault
from eintegr.messages import DocumentStatus, Message, status_response
from eintegr.testing import ContractWorld
from eintegr.transport import SubmitTimeouts, SubmitTransport, TlsCredentials

server_module = pytest.importorskip("eintegr.transport.server")
receiving = pytest.importorskip("eintegr.transport.receiving")
asgi = pytest.importorskip("eintegr.transport.asgi_server")

FAST = SubmitTimeouts(connect=5, write=5, read=5, pool=5, total=10)


@dataclass
class Handler:
    """Stores what it gets; answers empty, or with a status response when asked."""

    answer: bool = False
    received: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, received: object) -> Message | None:
        with self.lock:
            self.received.append(received.raw)  # type: ignore[attr-defined]
        if not self.answer:
            return None
        incoming: Message = received.message  # type: ignore[attr-defined]
        return status_response(
            sender=incoming.header.recipient,
            recipient=incoming.header.sender,
            document_id=incoming.body.document.doc_id,  # type: ignore[union-attr]
            status=DocumentStatus.DS_REGISTERED,
        )


@pytest.fixture(scope="module")
def handler() -> Handler:
    return Handler()


@pytest.fixture(scope="module")
def world(handler: Handler) -> Iterator[ContractWorld]:
    base = ContractWorld.default()
    pipeline = receiving.ReceivingPipeline(
        base.recipient.participant,
        base.register,
        handler=handler,
        signer=base.recipient.signer(),
    )
    context = asgi.server_ssl_context(
        base.recipient.credentials,
        client_ca=[base.ca.certificate],
        require_client_certificate=True,
    )
    app = server_module.SubmitApp(pipeline)
    with server_module.SubmitServer(app, ssl_context=context) as server:
        yield base.with_endpoints(recipient=server.url)


def client(world: ContractWorld, *, as_stranger: bool = False) -> SubmitTransport:
    party = world.stranger if as_stranger else world.sender
    return SubmitTransport(
        TlsCredentials.from_issued(party.credentials),
        register=world.register,
        ca=[world.ca.certificate],
        timeouts=FAST,
        check_outgoing=not as_stranger,
    )


def test_accepted_empty_and_with_a_response(world: ContractWorld, handler: Handler) -> None:
    with client(world) as transport:
        message = world.message()
        assert transport.send(world.recipient.participant, message).is_empty
        assert handler.received[-1] == message
        handler.answer = True
        try:
            outcome = transport.send(world.recipient.participant, world.message())
        finally:
            handler.answer = False
    assert outcome.response is not None
    response = Message.from_xml(outcome.response)
    assert response.header.sender.guid == world.recipient.guid
    assert response.header.recipient.guid == world.sender.guid


def test_a_duplicate_is_a_fault_naming_p9(world: ContractWorld) -> None:
    message = world.message()
    with client(world) as transport:
        assert transport.send(world.recipient.participant, message).is_empty
        with pytest.raises(TransportFault) as caught:
            transport.send(world.recipient.participant, message)
    assert caught.value.code == "И.8"
    assert "П.9" in str(caught.value)


def test_a_client_certificate_of_another_participant_is_refused(world: ContractWorld) -> None:
    with client(world, as_stranger=True) as transport, pytest.raises(TransportFault) as caught:
        transport.send(world.recipient.participant, world.message())
    assert caught.value.code == "И.8"
    assert "П.6" in str(caught.value)


def test_large_message_end_to_end(world: ContractWorld, handler: Handler) -> None:
    message = world.message(attachment_bytes=3 * 1024 * 1024)
    with client(world) as transport:
        assert transport.send(world.recipient.participant, message).is_empty
    assert handler.received[-1] == message
