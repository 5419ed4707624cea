"""The in-memory transport: messages handed to in-process receivers (tests, embedding).

::

    transport = MemoryTransport({recipient.guid: pipeline}, checks=checks)
    outcome = transport.send(recipient, signed_message)

Each recipient GUID is routed to a :class:`~eintegr.transport.base.Receiver` — for example
the real receiving pipeline, so a whole exchange runs without a socket. With ``checks``, the
sender's checks of the specification run exactly as over the network: the outgoing message
before delivery (И.1–И.6) and the answer after it (И.9–И.15). The receiver's
:class:`~eintegr.errors.SenderError`, :class:`~eintegr.errors.ReceiverError` and
:class:`~eintegr.errors.TransportFault` reach the caller unchanged; any other exception a
receiver raises becomes a :class:`~eintegr.errors.TransportFault` (``И.8``), as an internal
server error would over HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from cryptography import x509

from eintegr.errors import TransportError, TransportFault
from eintegr.identifiers import Guid
from eintegr.registry.model import Participant
from eintegr.transport.base import Outcome, Receiver, Transport
from eintegr.transport.checks import ExchangeChecks, OutgoingMessage, read_outgoing

__all__ = ["MemoryTransport"]


def _key(guid: Guid | str) -> Guid:
    return guid if isinstance(guid, Guid) else Guid.parse_lenient(guid)


def closed_fault(name: str) -> TransportFault:
    """The error of a transport used after :meth:`Transport.close`."""
    return TransportFault(
        f"the {name} is closed",
        code="TRANSPORT-CLOSED",
        message_bg="Транспортът е затворен",
    )


def receiver_crash(error: BaseException) -> TransportFault:
    """The error of a receiver that failed with something other than a transport error."""
    return TransportFault(
        f"the recipient failed while processing the message (И.8): {type(error).__name__}: {error}",
        code="И.8",
        message_bg=f"Получателят не успя да обработи съобщението (И.8): {type(error).__name__}",
    )


def answer_bytes(answer: object) -> bytes | None:
    """A receiver's answer as bytes, ``None`` when it is empty.

    :raises TransportFault: ``И.8`` when the receiver returned something else than bytes.
    """
    if answer is None:
        return None
    if not isinstance(answer, bytes | bytearray | memoryview):
        raise receiver_crash(TypeError(f"a receiver returned {type(answer).__name__}, not bytes"))
    data = bytes(answer)
    return data if data.strip() else None


class MemoryTransport(Transport):
    """Delivers messages to in-process :class:`~eintegr.transport.base.Receiver` objects.

    :param receivers: the route of each recipient GUID (more with :meth:`route`).
    :param checks: run the sender's checks (И.1–И.6 before, И.9–И.15 after); without it,
        messages and answers pass unchecked (tests of the receiving side only).
    :param client_certificate: what the receiver is told the client certificate is; by
        default ``checks.certificate`` (our transport certificate), else ``None``.
    :param check_outgoing: with ``checks``, run И.1–И.6 before delivery (default); when
        false, only the header is read (И.1).

    Thread-safe: several threads may send at once; receivers must be thread-safe too.
    """

    def __init__(
        self,
        receivers: Mapping[Guid | str, Receiver] | None = None,
        *,
        checks: ExchangeChecks | None = None,
        client_certificate: x509.Certificate | None = None,
        check_outgoing: bool = True,
    ) -> None:
        self._routes: dict[Guid, Receiver] = {
            _key(guid): receiver for guid, receiver in (receivers or {}).items()
        }
        self._lock = threading.Lock()
        self._closed = False
        self.checks = checks
        self.check_outgoing = check_outgoing
        self.client_certificate = (
            client_certificate
            if client_certificate is not None
            else (checks.certificate if checks is not None else None)
        )

    def route(self, guid: Guid | str, receiver: Receiver | None) -> None:
        """Deliver messages for participant ``guid`` to ``receiver`` (``None`` removes it)."""
        with self._lock:
            if receiver is None:
                self._routes.pop(_key(guid), None)
            else:
                self._routes[_key(guid)] = receiver

    def send(self, recipient: Participant, message: bytes) -> Outcome:
        """Hand ``message`` to the receiver of ``recipient`` and return its answer.

        :raises TransportFault: ``TRANSPORT-CLOSED``, ``MEMORY-NO-ROUTE`` (no receiver for the
            recipient), ``И.8`` (the receiver crashed), or the receiver's own fault.
        :raises SenderError: the checks before sending, or the receiver's refusal.
        :raises ReceiverError: the checks of the answer, or the receiver's own error.
        """
        with self._lock:
            if self._closed:
                raise closed_fault("memory transport")
            receiver = self._routes.get(recipient.guid)
        outgoing: OutgoingMessage | None = None
        if self.checks is not None:
            outgoing = (
                self.checks.check_outgoing(message, recipient)
                if self.check_outgoing
                else read_outgoing(message, limits=self.checks.limits)
            )
        if receiver is None:
            raise TransportFault(
                f"no receiver is routed for participant {recipient.guid} ({recipient.name})",
                code="MEMORY-NO-ROUTE",
                message_bg=f"Няма получател за участник {recipient.guid} ({recipient.name})",
            )
        try:
            answer = receiver(bytes(message), client_certificate=self.client_certificate)
        except TransportError:
            raise
        except Exception as error:
            raise receiver_crash(error) from error
        answer = answer_bytes(answer)
        if answer is None:
            return Outcome(None)
        if self.checks is not None and outgoing is not None:
            self.checks.check_response(answer, outgoing, recipient)
        return Outcome(answer)

    def close(self) -> None:
        """Refuse further sends (idempotent)."""
        with self._lock:
            self._closed = True
