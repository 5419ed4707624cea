"""The transport contract: how a signed message is sent to a participant, and what comes back.

A :class:`Transport` sends one signed СЕОС message to one participant and returns the
synchronous :class:`Outcome` of the exchange, or raises one of the three outcome classes of
the specification ("Изпращане на съобщение", И.1–И.15):

* :class:`~eintegr.errors.TransportFault` — a SOAP fault, a timeout, a connection failure,
  a server certificate that is not the recipient's (И.7, И.8): **retry later**;
* :class:`~eintegr.errors.SenderError` — the message is wrong (our fault): **do not retry**;
* :class:`~eintegr.errors.ReceiverError` — the recipient answered something unacceptable
  (invalid XML, XSD-invalid, wrong parties, unsigned, wrong signer, duplicate GUID: И.9–И.15):
  **do not retry**.

Every error carries a stable ``code`` — the specification's check ID (``"И.13"``) when one
exists. Implementations translate their library's own errors into these classes; nothing
else escapes ``send``.

The receiving side is a :class:`Receiver`: a callable that takes the incoming bytes (and the
client certificate when the transport has one) and returns the signed response bytes, or
``None`` for an empty answer. :class:`SeenMessages` remembers the ``MessageGUID`` values
already accepted (П.9, И.15).
"""

from __future__ import annotations

import abc
import threading
from collections import OrderedDict
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import anyio.to_thread
from cryptography import x509

from eintegr.identifiers import Guid
from eintegr.registry.model import Participant

__all__ = [
    "AsyncAdapter",
    "AsyncTransport",
    "InMemorySeenMessages",
    "Outcome",
    "Receiver",
    "SeenMessages",
    "Transport",
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The synchronous result of a successful ``Submit``.

    :ivar response: ``None`` for an empty answer ("accepted, processed later"); otherwise the
        signed response message's bytes, already checked by the transport (И.9–И.15).
    """

    response: bytes | None = None

    @property
    def is_empty(self) -> bool:
        """True when the recipient answered nothing (the message is accepted for processing)."""
        return self.response is None


class Transport(abc.ABC):
    """Sends signed messages to participants (synchronous); vendors subclass this.

    Use it as a context manager, or call :meth:`close` when done. A transport may be shared
    between threads unless its documentation says otherwise.
    """

    @abc.abstractmethod
    def send(self, recipient: Participant, message: bytes) -> Outcome:
        """Send the signed ``message`` to ``recipient`` and return the synchronous outcome.

        :raises TransportFault: retry later (SOAP fault, timeout, connection error, И.7, И.8).
        :raises SenderError: the message cannot be sent as it is; do not retry.
        :raises ReceiverError: the recipient's answer is unacceptable; do not retry.
        """

    def close(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Release connections, files and threads; the default does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncTransport(abc.ABC):
    """The asynchronous twin of :class:`Transport`: ``await send(...)``, ``await aclose()``."""

    @abc.abstractmethod
    async def send(self, recipient: Participant, message: bytes) -> Outcome:
        """Send the signed ``message`` to ``recipient``; see :meth:`Transport.send`."""

    async def aclose(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Release connections and tasks; the default does nothing."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@runtime_checkable
class Receiver(Protocol):
    """What a transport delivers incoming messages to (the receiving side of ``Submit``)."""

    def __call__(
        self, message: bytes, *, client_certificate: x509.Certificate | None
    ) -> bytes | None:
        """Accept ``message``; return the signed response bytes, or ``None`` for an empty answer.

        ``client_certificate`` is the peer's TLS certificate when the transport has one.

        :raises SenderError: the message is refused through the sender's fault.
        :raises ReceiverError: the message cannot be processed through the receiver's fault.
        :raises TransportFault: a temporary failure; the sender should retry later.
        """
        ...


@runtime_checkable
class SeenMessages(Protocol):
    """Duplicate detection by ``MessageGUID`` (П.9 on receipt, И.15 on responses)."""

    def add_if_new(self, guid: Guid) -> bool:
        """Atomically record ``guid``; True when it had not been seen before."""
        ...

    def __contains__(self, guid: object) -> bool:
        """True when ``guid`` (a :class:`Guid` or its text) has been seen."""
        ...


class InMemorySeenMessages:
    """A thread-safe, in-process :class:`SeenMessages`.

    :param max_entries: when given, the oldest GUIDs are forgotten beyond this many (bounded
        memory for long-running processes); ``None`` keeps every GUID.
    """

    def __init__(self, max_entries: int | None = None) -> None:
        if max_entries is not None and max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._seen: OrderedDict[Guid, None] = OrderedDict()
        self._lock = threading.Lock()

    def add_if_new(self, guid: Guid) -> bool:
        """Record ``guid``; True when it was new."""
        with self._lock:
            if guid in self._seen:
                return False
            self._seen[guid] = None
            if self._max is not None and len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return True

    def __contains__(self, guid: object) -> bool:
        if isinstance(guid, str):
            try:
                guid = Guid.parse_lenient(guid)
            except ValueError:
                return False
        if not isinstance(guid, Guid):
            return False
        with self._lock:
            return guid in self._seen

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


class AsyncAdapter(AsyncTransport):
    """Any synchronous :class:`Transport` as an :class:`AsyncTransport`: ``send`` runs in a
    worker thread, so the event loop is never blocked.

    :param transport: the transport to wrap; :meth:`aclose` closes it.
    :param max_threads: at most this many sends run at once (further ones wait).
    """

    def __init__(self, transport: Transport, *, max_threads: int = 16) -> None:
        if max_threads < 1:
            raise ValueError("max_threads must be at least 1")
        self.transport = transport
        self._limiter = anyio.CapacityLimiter(max_threads)

    async def send(self, recipient: Participant, message: bytes) -> Outcome:
        """Run :meth:`Transport.send` of the wrapped transport in a worker thread."""
        return await anyio.to_thread.run_sync(
            self.transport.send, recipient, message, limiter=self._limiter
        )

    async def aclose(self) -> None:
        """Close the wrapped transport (in a worker thread)."""
        await anyio.to_thread.run_sync(self.transport.close, limiter=self._limiter)
