"""A contract test suite that any :class:`~eintegr.transport.base.Transport` can run.

A vendor who writes a transport proves it behaves like the ones eintegr ships by
subclassing :class:`TransportContract` in a pytest module and providing one fixture,
``transport``: a transport that delivers messages for ``contract_recipient`` to
``contract_receiver`` and runs the sender's checks of ``contract_world``::

    from eintegr.testing import TransportContract

    class TestMyTransport(TransportContract):
        @pytest.fixture
        def transport(self, contract_world, contract_receiver):
            with MyTransport(
                route={contract_world.recipient.guid: contract_receiver},
                checks=contract_world.checks(),
            ) as transport:
                yield transport

The suite covers: the empty answer, a response message, the checks of the response
(И.9, И.13, И.14, И.15), the checks before sending (И.5), each failure class of the
receiving side (fault, the sender's error, the receiver's error, a crash), an unreachable
recipient, a large message, concurrent sends and ``close()``. Class attributes tune it
(:attr:`TransportContract.preserves_refusal_class`, ...). An asynchronous transport runs the
same suite through :class:`BlockingTransport`.

Everything is generated locally (:class:`ContractWorld`: a CA, three participants with
transport certificates, a register, signed messages); nothing touches the network unless the
transport under test does.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from cryptography import x509
from lxml import etree

from eintegr.errors import ReceiverError, SenderError, TransportError, TransportFault
from eintegr.identifiers import Guid
from eintegr.messages.seos import (
    Attachment,
    DocumentRegistrationRequest,
    DocumentStatus,
    EntityNode,
    Message,
    new_document,
    registration_request,
    status_response,
)
from eintegr.registry.model import (
    DOCUMENT_EXCHANGE_SERVICE,
    Participant,
    Service,
    StaticRegister,
)
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.signing.signer import KeySigner
from eintegr.signing.trust import CertificateAuthorities
from eintegr.signing.xmldsig import sign_message
from eintegr.transport.base import AsyncTransport, InMemorySeenMessages, Outcome, Transport
from eintegr.transport.checks import ExchangeChecks
from eintegr.xml import parse_xml

__all__ = [
    "BlockingTransport",
    "ContractParty",
    "ContractWorld",
    "Delivery",
    "ScriptedReceiver",
    "TransportContract",
]

_SEOS = "{http://schemas.egov.bg/messaging/v1}"
_MIB = 1024 * 1024


# --- the world: a CA, participants, a register, messages ----------------------------------


@dataclass(frozen=True)
class ContractParty:
    """A participant of the contract world: its register entry and transport credentials."""

    participant: Participant
    credentials: Issued

    @property
    def guid(self) -> Guid:
        """The participant's GUID."""
        return self.participant.guid

    @property
    def certificate(self) -> x509.Certificate:
        """The participant's transport certificate."""
        return self.credentials.certificate

    @property
    def node(self) -> EntityNode:
        """How a message header names the participant."""
        return EntityNode(
            identifier=self.participant.eik,
            administrative_body_name=self.participant.name,
            guid=self.participant.guid,
        )

    def signer(self) -> KeySigner:
        """A signer with the participant's transport certificate."""
        return _signer(self.credentials)

    def with_endpoint(self, uri: str) -> ContractParty:
        """The same participant, its document-exchange service at ``uri``."""
        service = Service(guid=DOCUMENT_EXCHANGE_SERVICE, name="Документооборот", uri=uri)
        return replace(self, participant=replace(self.participant, services=(service,)))


@functools.cache
def _signer(credentials: Issued) -> KeySigner:
    return credentials.signer()


def _party(ca: Issued, eik: str, name: str, uri: str, host: str) -> ContractParty:
    issued = make_transport_certificate(ca, eik=eik, host=host, organization=name)
    participant = Participant(
        eik=eik,
        guid=Guid.new(),
        name=name,
        certificate_serial=format(issued.certificate.serial_number, "x"),
    )
    return ContractParty(participant, issued).with_endpoint(uri)


@dataclass(frozen=True)
class ContractWorld:
    """Everything the contract needs: a CA, a sender, a recipient, a stranger (registered,
    but not part of the exchange) and the register that lists them.

    Build one with :meth:`create` (keys are generated: about a second), or take the shared
    one of :meth:`default`.
    """

    ca: Issued
    sender: ContractParty
    recipient: ContractParty
    stranger: ContractParty
    register: StaticRegister = field(init=False)

    def __post_init__(self) -> None:
        parties = (self.sender.participant, self.recipient.participant, self.stranger.participant)
        object.__setattr__(self, "register", StaticRegister(parties))

    @classmethod
    def create(cls, *, host: str = "localhost") -> ContractWorld:
        """A new world; transport certificates name ``host`` (``localhost`` also gets the
        IP address 127.0.0.1). The endpoints are placeholders until :meth:`with_endpoints`."""
        ca = make_ca("eintegr contract CA")
        return cls(
            ca=ca,
            sender=_party(ca, "123456786", "Подател (договор)", "https://sender.invalid/", host),
            recipient=_party(
                ca, "202020204", "Получател (договор)", "https://recipient.invalid/", host
            ),
            stranger=_party(ca, "831821437", "Външен (договор)", "https://stranger.invalid/", host),
        )

    @staticmethod
    @functools.cache
    def default() -> ContractWorld:
        """A world created once per process (immutable, so it can be shared)."""
        return ContractWorld.create()

    def with_endpoints(
        self, *, recipient: str | None = None, stranger: str | None = None
    ) -> ContractWorld:
        """The same world with the recipient's and/or the stranger's endpoint changed."""
        return ContractWorld(
            ca=self.ca,
            sender=self.sender,
            recipient=self.recipient.with_endpoint(recipient) if recipient else self.recipient,
            stranger=self.stranger.with_endpoint(stranger) if stranger else self.stranger,
        )

    def checks(self, **options: Any) -> ExchangeChecks:
        """The sender's checks (as the sender), with a fresh set of seen GUIDs."""
        options.setdefault("seen", InMemorySeenMessages())
        return ExchangeChecks(
            register=self.register,
            certificate=self.sender.certificate,
            trust=CertificateAuthorities([self.ca.certificate]),
            **options,
        )

    def message(
        self, *, to: ContractParty | None = None, attachment_bytes: int = 0, signed: bool = True
    ) -> bytes:
        """A registration request from the sender (to the recipient by default), signed with
        the sender's transport certificate; ``attachment_bytes`` adds an attachment."""
        attachments = (
            [
                Attachment(
                    file_name="contract.bin",
                    content=bytes(range(256)) * (attachment_bytes // 256 + 1),
                    mime_type="application/octet-stream",
                )
            ]
            if attachment_bytes
            else []
        )
        document = new_document(
            kind="Писмо", about="Проверка на транспорт", attachments=attachments
        )
        message = registration_request(
            sender=self.sender.node,
            recipient=(to or self.recipient).node,
            document=document,
            comment="contract",
        ).to_xml()
        return sign_message(message, self.sender.signer()) if signed else message

    def response_to(
        self,
        message: bytes,
        *,
        signer: ContractParty | None = None,
        signed: bool = True,
        sender: ContractParty | None = None,
        to: ContractParty | None = None,
    ) -> bytes:
        """A status response to ``message``: from its recipient (or ``sender``) to its sender
        (or ``to``), signed by ``signer`` (by default the response's sender)."""
        incoming = Message.from_xml(message)
        body = incoming.body
        assert isinstance(body, DocumentRegistrationRequest)
        response = status_response(
            sender=sender.node if sender else incoming.header.recipient,
            recipient=to.node if to else incoming.header.sender,
            document_id=body.document.doc_id,
            status=DocumentStatus.DS_WAIT_REGISTRATION,
        ).to_xml()
        if not signed:
            return response
        party = signer or sender or self.party(incoming.header.recipient.guid)
        return sign_message(response, party.signer())

    def party(self, guid: Guid) -> ContractParty:
        """The party with ``guid``."""
        for party in (self.sender, self.recipient, self.stranger):
            if party.guid == guid:
                return party
        raise KeyError(guid)


def message_guid(message: bytes) -> Guid:
    """The ``MessageGUID`` of a message."""
    root = parse_xml(message).getroot()
    text = root.findtext(f"{_SEOS}Header/{_SEOS}MessageGUID") or ""
    return Guid.parse_lenient(text)


def _document_guid(message: bytes) -> str:
    root = parse_xml(message).getroot()
    found = root.find(f".//{_SEOS}DocID/{_SEOS}DocumentGUID")
    return (found.text or "").strip().lower() if found is not None else ""


def _canonical(message: bytes) -> bytes:
    return etree.tostring(parse_xml(message), method="c14n")


# --- the receiving side the suite controls ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as the receiving side got it."""

    message: bytes
    client_certificate: x509.Certificate | None


class ScriptedReceiver:
    """A :class:`~eintegr.transport.base.Receiver` whose answers a test scripts.

    :attr:`behaviour` gets each message and returns the answer (``None``: empty) or raises;
    :attr:`received` lists every delivery. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[Delivery] = []
        self.behaviour: Callable[[bytes], bytes | None] = lambda message: None

    def reset(self) -> None:
        """Forget the deliveries; answer empty again."""
        with self._lock:
            self.received = []
        self.behaviour = lambda message: None

    def __call__(
        self, message: bytes, *, client_certificate: x509.Certificate | None
    ) -> bytes | None:
        with self._lock:
            self.received.append(Delivery(bytes(message), client_certificate))
        return self.behaviour(bytes(message))


# --- running an asynchronous transport through the suite ----------------------------------


class BlockingTransport(Transport):
    """An :class:`~eintegr.transport.base.AsyncTransport` driven from synchronous code,
    through an event loop in a background thread (``anyio``'s blocking portal).

    :param factory: makes the async transport (called inside the event loop).
    :param backend: ``"asyncio"`` or ``"trio"`` (if installed).
    """

    def __init__(self, factory: Callable[[], AsyncTransport], *, backend: str = "asyncio") -> None:
        self._stack = ExitStack()
        manager: AbstractContextManager[BlockingPortal] = start_blocking_portal(backend)
        self._portal = self._stack.enter_context(manager)
        self._transport = self._portal.call(self._make, factory)
        self._closed = False

    @staticmethod
    async def _make(factory: Callable[[], AsyncTransport]) -> AsyncTransport:
        return factory()

    def send(self, recipient: Participant, message: bytes) -> Outcome:
        """Run the async transport's ``send`` in the event loop and wait for it."""
        if self._closed:
            raise TransportFault("the transport is closed", code="TRANSPORT-CLOSED")
        return self._portal.call(self._transport.send, recipient, message)

    def close(self) -> None:
        """Close the async transport, then stop the event loop (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._portal.call(self._transport.aclose)
        finally:
            self._stack.close()


# --- the suite ----------------------------------------------------------------------------


class TransportContract:
    """The contract every transport honours; subclass it and provide ``transport``.

    Fixtures a subclass **must** provide:

    * ``transport`` — a :class:`~eintegr.transport.base.Transport` (function scope) that
      delivers messages for ``contract_recipient`` to ``contract_receiver``, and runs
      ``contract_world.checks()`` (or equivalent: the outgoing checks and the response
      checks, with a fresh set of seen GUIDs).

    Fixtures a subclass **may** override:

    * ``contract_world`` — the :class:`ContractWorld` (default: :meth:`ContractWorld.default`);
    * ``contract_recipient`` / ``unreachable_recipient`` — the participants to send to
      (default: the world's recipient / stranger; the stranger must not be reachable).

    Class attributes:

    * :attr:`preserves_refusal_class` — the receiving side's ``SenderError`` and
      ``ReceiverError`` reach the caller as such (in-process transports). Over SOAP every
      refusal is a fault, so a web-service transport sets this to ``False`` and gets
      :class:`~eintegr.errors.TransportFault` instead.
    * :attr:`delivers_client_certificate` — the receiving side learns the sender's
      transport certificate.
    * :attr:`large_message_bytes`, :attr:`concurrent_threads`, :attr:`messages_per_thread`.
    """

    preserves_refusal_class: ClassVar[bool] = True
    delivers_client_certificate: ClassVar[bool] = True
    large_message_bytes: ClassVar[int] = 4 * _MIB
    concurrent_threads: ClassVar[int] = 8
    messages_per_thread: ClassVar[int] = 3

    # fixtures ------------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def contract_world(cls) -> ContractWorld:
        """The world of the suite."""
        return ContractWorld.default()

    @pytest.fixture(scope="class")
    @classmethod
    def contract_receiver(cls) -> ScriptedReceiver:
        """The receiving side the suite scripts (reset before every test)."""
        return ScriptedReceiver()

    @pytest.fixture(autouse=True)
    def _reset_contract_receiver(self, contract_receiver: ScriptedReceiver) -> Iterator[None]:
        contract_receiver.reset()
        yield
        contract_receiver.reset()

    @pytest.fixture
    def contract_recipient(self, contract_world: ContractWorld) -> Participant:
        """Who the suite sends to."""
        return contract_world.recipient.participant

    @pytest.fixture
    def unreachable_recipient(self, contract_world: ContractWorld) -> Participant:
        """A registered participant the transport cannot reach."""
        return contract_world.stranger.participant

    @pytest.fixture
    def transport(
        self, contract_world: ContractWorld, contract_receiver: ScriptedReceiver
    ) -> Transport:
        """The transport under test: provided by the subclass."""
        raise NotImplementedError("a TransportContract subclass must provide `transport`")

    # the empty answer and the response message ---------------------------------------------

    def test_accepted_empty(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
    ) -> None:
        """An empty answer is the empty outcome; the receiver got the very message."""
        message = contract_world.message()
        outcome = transport.send(contract_recipient, message)
        assert outcome == Outcome(None)
        assert outcome.is_empty
        assert len(contract_receiver.received) == 1
        delivery = contract_receiver.received[0]
        assert _canonical(delivery.message) == _canonical(message)
        if self.delivers_client_certificate:
            assert delivery.client_certificate == contract_world.sender.certificate

    def test_accepted_with_response(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
    ) -> None:
        """A response message comes back, checked, as the outcome."""
        message = contract_world.message()
        response = contract_world.response_to(message)
        contract_receiver.behaviour = lambda received: response
        outcome = transport.send(contract_recipient, message)
        assert outcome.response is not None
        assert not outcome.is_empty
        assert _canonical(outcome.response) == _canonical(response)

    @pytest.mark.parametrize(
        ("answer", "code"),
        [
            ("not-xml", "И.9"),
            ("not-a-message", "И.10"),
            ("wrong-sender", "И.11"),
            ("wrong-recipient", "И.12"),
            ("unsigned", "И.13"),
            ("wrong-signer", "И.14"),
        ],
    )
    def test_response_is_checked(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
        answer: str,
        code: str,
    ) -> None:
        """A response that fails a check of the specification is the receiver's error."""
        message = contract_world.message()
        answers: dict[str, Callable[[], bytes]] = {
            "not-xml": lambda: b"<Message>this is not XML",
            "not-a-message": lambda: b"<?xml version='1.0'?><Other/>",
            "unsigned": lambda: contract_world.response_to(message, signed=False),
            "wrong-signer": lambda: contract_world.response_to(
                message, signer=contract_world.stranger
            ),
            "wrong-sender": lambda: contract_world.response_to(
                message, sender=contract_world.stranger, signer=contract_world.recipient
            ),
            "wrong-recipient": lambda: contract_world.response_to(
                message, to=contract_world.stranger
            ),
        }
        body = answers[answer]()
        contract_receiver.behaviour = lambda received: body
        with pytest.raises(ReceiverError) as caught:
            transport.send(contract_recipient, message)
        assert caught.value.code == code

    def test_duplicate_response_guid(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
    ) -> None:
        """The same response twice: the second is refused (И.15)."""
        first = contract_world.message()
        response = contract_world.response_to(first)
        contract_receiver.behaviour = lambda received: response
        assert transport.send(contract_recipient, first).response is not None
        with pytest.raises(ReceiverError) as caught:
            transport.send(contract_recipient, contract_world.message())
        assert caught.value.code == "И.15"

    # before sending ------------------------------------------------------------------------

    def test_unsigned_message_is_not_sent(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
    ) -> None:
        """The sender's own checks run before anything is delivered (И.5)."""
        with pytest.raises(SenderError) as caught:
            transport.send(contract_recipient, contract_world.message(signed=False))
        assert caught.value.code == "И.5"
        assert contract_receiver.received == []

    # failures of the receiving side --------------------------------------------------------

    def test_receiver_fault(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
    ) -> None:
        """A temporary failure of the receiving side is a fault: retry later."""

        def fail(message: bytes) -> bytes | None:
            raise TransportFault("database unavailable", code="TEST-FAULT")

        contract_receiver.behaviour = fail
        with pytest.raises(TransportFault):
            transport.send(contract_recipient, contract_world.message())

    @pytest.mark.parametrize("refusal", [SenderError, ReceiverError])
    def test_receiver_refuses(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
        refusal: type[TransportError],
    ) -> None:
        """A refusal reaches the caller: as such in-process, as a fault over SOAP."""

        def refuse(message: bytes) -> bytes | None:
            raise refusal("refused by the contract", code="П.9")

        contract_receiver.behaviour = refuse
        expected = refusal if self.preserves_refusal_class else TransportFault
        with pytest.raises(expected) as caught:
            transport.send(contract_recipient, contract_world.message())
        assert type(caught.value) is expected
        if self.preserves_refusal_class:
            assert caught.value.code == "П.9"

    def test_receiver_crash(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
    ) -> None:
        """Any other exception of the receiving side is a fault, never a leak of its type."""

        def crash(message: bytes) -> bytes | None:
            raise RuntimeError("bug in the receiving system")

        contract_receiver.behaviour = crash
        with pytest.raises(TransportFault):
            transport.send(contract_recipient, contract_world.message())

    def test_unreachable_recipient(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        unreachable_recipient: Participant,
    ) -> None:
        """A recipient that cannot be reached is a fault (retry later)."""
        stranger = contract_world.party(unreachable_recipient.guid)
        with pytest.raises(TransportFault):
            transport.send(unreachable_recipient, contract_world.message(to=stranger))
        assert contract_receiver.received == []

    # size, concurrency, lifecycle ----------------------------------------------------------

    def test_large_message(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
    ) -> None:
        """A message of several megabytes travels intact."""
        message = contract_world.message(attachment_bytes=self.large_message_bytes)
        assert len(message) > self.large_message_bytes
        assert transport.send(contract_recipient, message).is_empty
        assert len(contract_receiver.received) == 1
        assert _canonical(contract_receiver.received[0].message) == _canonical(message)

    def test_concurrent_sends(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
    ) -> None:
        """Sends from several threads at once each get the answer to their own message."""
        total = self.concurrent_threads * self.messages_per_thread
        messages = [contract_world.message() for _ in range(total)]
        responses = {message_guid(m): contract_world.response_to(m) for m in messages}
        contract_receiver.behaviour = lambda received: responses[message_guid(received)]

        def send(message: bytes) -> tuple[bytes, Outcome]:
            return message, transport.send(contract_recipient, message)

        with ThreadPoolExecutor(self.concurrent_threads) as pool:
            results = list(pool.map(send, messages))
        assert len(contract_receiver.received) == total
        for message, outcome in results:
            assert outcome.response is not None
            assert _document_guid(outcome.response) == _document_guid(message)
        delivered = {message_guid(d.message) for d in contract_receiver.received}
        assert delivered == set(responses)

    def test_close(
        self,
        transport: Transport,
        contract_world: ContractWorld,
        contract_receiver: ScriptedReceiver,
        contract_recipient: Participant,
    ) -> None:
        """``close()`` is idempotent; a closed transport refuses to send, with a fault."""
        with transport as entered:
            assert entered is transport
            assert transport.send(contract_recipient, contract_world.message()).is_empty
        transport.close()
        with pytest.raises(TransportFault):
            transport.send(contract_recipient, contract_world.message())
        assert len(contract_receiver.received) == 1
