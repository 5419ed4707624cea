"""Fixtures for the RegiX tests: a test PKI, a running local RegiX, clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eintegr.messages.regix import CallContext
from eintegr.signing import PinnedCertificates, VerificationPolicy
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.testing.regix_server import RegixTestServer, RunningRegix, demo_store
from eintegr.transport.regix import RegixClient
from eintegr.transport.submit_client import TlsCredentials

PERSON_EGN = "9001011238"
COMPANY_EIK = "175200005"
CONTEXT = CallContext(
    service_uri="123-4567-01.01.2024",
    service_type="Проверка по служебен път",
    law_reason="чл. 5, ал. 1 АПК",
    employee_identifier="ivan@example.bg",
    employee_names="Иван Петров",
)


@dataclass(frozen=True)
class Pki:
    """A CA; the server's, the administration's, RegiX's signing and a stranger's certificates."""

    ca: Issued
    other_ca: Issued
    server: Issued
    client: Issued
    signer: Issued
    stranger: Issued
    folder: Path

    def policy(self, **options: Any) -> VerificationPolicy:
        """Trust RegiX's signing certificate (pinned)."""
        return VerificationPolicy(trust=PinnedCertificates([self.signer.certificate]), **options)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca = make_ca("regix test CA")
    other = make_ca("another CA")
    folder = tmp_path_factory.mktemp("regix-pki")
    pki = Pki(
        ca=ca,
        other_ca=other,
        server=make_transport_certificate(ca, eik="000695235", host="127.0.0.1"),
        client=make_transport_certificate(ca, eik="175200005", host="adm.example"),
        signer=make_transport_certificate(ca, eik="000695235", host="regix.example"),
        stranger=make_transport_certificate(other, eik="831555552", host="stranger.example"),
        folder=folder,
    )
    (folder / "ca.pem").write_bytes(ca.certificate_pem())
    pki.client.write(folder, "client")
    pki.server.write(folder, "server")
    pki.signer.write(folder, "signer")
    return pki


@dataclass
class Regix:
    """A running local RegiX."""

    server: RegixTestServer
    running: RunningRegix
    pki: Pki

    @property
    def url(self) -> str:
        return self.running.url

    def client(self, *, issued: Issued | None = None, **options: Any) -> RegixClient:
        options.setdefault("signature_policy", self.pki.policy())
        options.setdefault("ca", [self.pki.ca.certificate])
        return RegixClient(
            self.url, credentials=TlsCredentials.from_issued(issued or self.pki.client), **options
        )


@pytest.fixture(scope="module")
def regix(pki: Pki) -> Iterator[Regix]:
    server = RegixTestServer(demo_store(), signer=pki.signer.signer())
    with server.run(tls=pki.server, client_ca=[pki.ca.certificate]) as running:
        yield Regix(server, running, pki)


@pytest.fixture
def fresh(regix: Regix) -> Iterator[Regix]:
    """The module's server, reset after the test (injected answers, delay, polls)."""
    yield regix
    regix.server.delay = 0.0
    regix.server.polls_until_ready = 1
    regix.server._injected.clear()
