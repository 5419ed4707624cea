"""Wiring participants on one host with the real transport: demos, tests, trials.

Everything a participant needs besides its journal — a transport certificate from a local
CA, its register entry, the ``Submit`` client (:class:`~eintegr.transport.SubmitTransport`,
mutual TLS) and a ``Submit`` endpoint (:class:`~eintegr.transport.server.SubmitServer` on
``127.0.0.1``, mutual TLS, the node's receiving pipeline) — in a few calls::

    ca = make_ca("trial CA")
    party = LocalParty.create(ca, name="Община Русе", eik="000530632")
    transport = submit_transport(party, register=register, ca=[ca.certificate], journal=journal)
    node = Node(identity=party.participant(url), signer=party.signer(), register=register,
                transport=transport, journal=journal)
    server = start_endpoint(node, party, ca=[ca.certificate], port=port)

Production systems use their own certificates (PKCS#12 or PEM files) and the real register;
the pieces are the same.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from eintegr.exchange.journal import Journal
from eintegr.exchange.node import Node
from eintegr.identifiers import Guid
from eintegr.registry.model import DOCUMENT_EXCHANGE_SERVICE, Participant, Register, Service
from eintegr.signing.pki import Issued, make_transport_certificate
from eintegr.signing.signer import KeySigner
from eintegr.transport.asgi_server import server_ssl_context
from eintegr.transport.base import Receiver
from eintegr.transport.server import SubmitApp, SubmitServer
from eintegr.transport.submit_client import SubmitTimeouts, SubmitTransport, TlsCredentials

__all__ = ["LocalParty", "start_endpoint", "submit_transport"]


@dataclass(frozen=True)
class LocalParty:
    """A participant with a transport certificate from a local CA."""

    name: str
    eik: str
    guid: Guid
    credentials: Issued

    @classmethod
    def create(
        cls, ca: Issued, *, name: str, eik: str, guid: Guid | None = None, host: str = "localhost"
    ) -> LocalParty:
        """A new participant: a transport certificate for ``host`` issued by ``ca``.

        :raises IdentifierError: ``eik`` is not a valid ЕИК/БУЛСТАТ.
        """
        issued = make_transport_certificate(ca, eik=eik, host=host, organization=name)
        return cls(name=name, eik=eik, guid=guid or Guid.new(), credentials=issued)

    @property
    def certificate(self) -> x509.Certificate:
        """The transport certificate."""
        return self.credentials.certificate

    def participant(self, endpoint: str | None = None) -> Participant:
        """The register entry; ``endpoint`` is the URI of its document-exchange service."""
        services = (
            ()
            if endpoint is None
            else (Service(guid=DOCUMENT_EXCHANGE_SERVICE, name="Документооборот", uri=endpoint),)
        )
        return Participant(
            eik=self.eik,
            guid=self.guid,
            name=self.name,
            certificate_serial=format(self.certificate.serial_number, "x"),
            services=services,
        )

    def signer(self) -> KeySigner:
        """A signer with the transport certificate."""
        return _signer(self.credentials)


@functools.cache
def _signer(credentials: Issued) -> KeySigner:
    return credentials.signer()


def submit_transport(
    party: LocalParty,
    *,
    register: Register,
    ca: Sequence[x509.Certificate],
    journal: Journal,
    timeouts: SubmitTimeouts | None = None,
) -> SubmitTransport:
    """The ``Submit`` client of ``party``: mutual TLS with its certificate, servers checked
    against ``ca``, answers' ``MessageGUID`` values checked against the journal (И.15)."""
    return SubmitTransport(
        TlsCredentials.from_issued(party.credentials),
        register=register,
        ca=list(ca),
        participant=party.guid,
        seen=journal.seen,
        timeouts=timeouts,
    )


def start_endpoint(
    node: Node,
    party: LocalParty,
    *,
    ca: Sequence[x509.Certificate],
    host: str = "127.0.0.1",
    port: int = 0,
    receiver: Receiver | None = None,
) -> SubmitServer:
    """Serve ``node``'s receiving side (П.1–П.15, then :meth:`Node.handle`) over mutual TLS
    on ``host:port`` (0: a free port) in a background thread; stop it with ``stop()``.

    :param receiver: what the endpoint hands messages to instead of ``node.receiver()``
        (e.g. a wrapper around it).
    """
    context = server_ssl_context(
        party.credentials, client_ca=list(ca), require_client_certificate=True
    )
    app = SubmitApp(receiver if receiver is not None else node.receiver())
    return SubmitServer(app, ssl_context=context, host=host, port=port).start()
