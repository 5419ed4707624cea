"""Transports: how signed messages travel between participants.

:class:`Transport` (and its async twin :class:`AsyncTransport`) sends a signed message to a
participant and returns an :class:`Outcome`, or raises
:class:`~eintegr.errors.TransportFault` (retry later),
:class:`~eintegr.errors.SenderError` or :class:`~eintegr.errors.ReceiverError` (stop). The
receiving side is a :class:`Receiver`. Implementations:

* :class:`MemoryTransport` — in-process receivers (tests, embedding);
* :class:`FileSystemTransport` / :class:`FileSystemEndpoint` — inbox/outbox folders;
* :class:`SubmitTransport` / :class:`AsyncSubmitTransport` — the СЕОС ``Submit`` web service
  over mutual TLS.

:class:`ExchangeChecks` runs the sender's checks of the specification (И.1–И.6 before
sending, И.9–И.15 on the answer) for all of them. SOAP 1.1 envelopes are in :mod:`.soap`.
"""

from __future__ import annotations

from eintegr.transport.base import (
    AsyncAdapter,
    AsyncTransport,
    InMemorySeenMessages,
    Outcome,
    Receiver,
    SeenMessages,
    Transport,
)
from eintegr.transport.checks import (
    ExchangeChecks,
    OutgoingMessage,
    Party,
    ResponsePolicy,
    read_outgoing,
)
from eintegr.transport.filesystem import FileSystemEndpoint, FileSystemTransport, create_endpoint
from eintegr.transport.memory import MemoryTransport
from eintegr.transport.submit_client import (
    SUBMIT_ACTION,
    SUBMIT_NS,
    AsyncSubmitTransport,
    SubmitTimeouts,
    SubmitTransport,
    TlsCredentials,
    build_submit_request,
    read_submit_response,
)

__all__ = [
    "SUBMIT_ACTION",
    "SUBMIT_NS",
    "AsyncAdapter",
    "AsyncSubmitTransport",
    "AsyncTransport",
    "ExchangeChecks",
    "FileSystemEndpoint",
    "FileSystemTransport",
    "InMemorySeenMessages",
    "MemoryTransport",
    "Outcome",
    "OutgoingMessage",
    "Party",
    "Receiver",
    "ResponsePolicy",
    "SeenMessages",
    "SubmitTimeouts",
    "SubmitTransport",
    "TlsCredentials",
    "Transport",
    "build_submit_request",
    "create_endpoint",
    "read_outgoing",
    "read_submit_response",
]
