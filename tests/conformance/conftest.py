"""eintegr's own participant (a Node behind the real Submit server) as the system under test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from eintegr.errors import VerificationError
from eintegr.exchange import Node, SqliteJournal
from eintegr.registry.model import Participant
from eintegr.signing import VerificationPolicy, VerifiedMessage, verify_message
from eintegr.signing.trust import CertificateAuthorities, Trust
from eintegr.testing.conformance import ConformanceKit, TesterSetup, make_kit
from eintegr.transport import ExchangeChecks, MemoryTransport
from eintegr.transport.asgi_server import server_ssl_context
from eintegr.transport.base import Receiver
from eintegr.transport.receiving import MessageHandler, ReceivingPipeline
from eintegr.transport.server import SubmitApp, SubmitServer

MAX_BYTES = 64 * 1024


@pytest.fixture(scope="session")
def kit() -> ConformanceKit:
    return make_kit(sut_name="Община Русе", sut_eik="000530632")


class AnyCertificate(Trust):
    """Broken on purpose: trusts every signer certificate."""

    def check(self, certificate: x509.Certificate, chain: Any, at: datetime) -> None:
        return None


class SkipsSignerCheck(ReceivingPipeline):
    """Broken on purpose: checks that a signature is present and intact, not who made it."""

    def _verify(
        self, data: bytes, sender: Participant, client_certificate: x509.Certificate | None
    ) -> VerifiedMessage:
        try:
            return verify_message(data, VerificationPolicy(trust=AnyCertificate()))
        except VerificationError:
            return super()._verify(data, sender, client_certificate)


@dataclass
class Endpoint:
    url: str
    setup: TesterSetup


def _node(kit: ConformanceKit, journal: SqliteJournal) -> Node:
    register = kit.register()
    checks = ExchangeChecks(
        register=register,
        certificate=kit.sut.certificate,
        trust=CertificateAuthorities([kit.ca.certificate]),
        seen=journal.seen,
    )
    return Node(
        identity=kit.sut_participant,
        signer=kit.sut.signer(),
        register=register,
        transport=MemoryTransport(checks=checks),
        journal=journal,
    )


@pytest.fixture
def serve(kit: ConformanceKit, tmp_path: Path) -> Iterator[Callable[..., Endpoint]]:
    """Start eintegr's participant on a free loopback port; ``broken=True`` trusts any signer;
    ``wrap(node)`` gives the handler to use instead of ``node.handle``; ``tester_endpoint`` and
    ``options`` go to :meth:`ConformanceKit.setup`."""
    servers: list[SubmitServer] = []
    journals: list[SqliteJournal] = []

    def start(
        *,
        broken: bool = False,
        wrap: Callable[[Node], MessageHandler] | None = None,
        tester_endpoint: str | None = None,
        **options: object,
    ) -> Endpoint:
        journal = SqliteJournal(tmp_path / f"sut-{len(journals)}.sqlite")
        journals.append(journal)
        node = _node(kit, journal)
        receiver: Receiver
        if broken:
            receiver = SkipsSignerCheck(
                kit.sut_participant,
                node.register,
                handler=node.handle,
                seen=journal.seen,
                signer=node.signer,
                max_bytes=MAX_BYTES,
            )
        elif wrap is not None:
            receiver = ReceivingPipeline(
                kit.sut_participant,
                node.register,
                handler=wrap(node),
                seen=journal.seen,
                signer=node.signer,
                max_bytes=MAX_BYTES,
            )
        else:
            receiver = node.receiver(max_bytes=MAX_BYTES)
        context = server_ssl_context(
            kit.sut, client_ca=[kit.ca.certificate], require_client_certificate=True
        )
        server = SubmitServer(SubmitApp(receiver), ssl_context=context).start()
        servers.append(server)
        settings: dict[str, object] = {"max_bytes": MAX_BYTES, "timeout": 10.0, **options}
        return Endpoint(server.url, kit.setup(tester_endpoint=tester_endpoint, **settings))

    yield start
    for server in servers:
        server.stop()
    for journal in journals:
        journal.close()
