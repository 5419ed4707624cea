"""Fixtures for the register tests: a test PKI, sample participants, servers on 127.0.0.1.

* ``pki`` — a CA, the register's server certificate (``localhost``/127.0.0.1) and the
  transport certificates of two participants (``alpha``, ``beta``), and a foreign CA with a
  client certificate of its own;
* ``participants`` / ``directory`` — three participants (one inactive branch);
* ``register`` — a local register over mutual TLS fed from a JSON file (module scope);
* ``scripted`` — a misbehaving server: answers what the test says (status, headers, body,
  delays), over TLS, to test the client against bad registers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eintegr.identifiers import Guid
from eintegr.registry.files import save_directory
from eintegr.registry.model import (
    DOCUMENT_EXCHANGE_SERVICE,
    Contact,
    Participant,
    ParticipantStatus,
    Service,
    ServiceStatus,
)
from eintegr.registry.server import start_register_server
from eintegr.registry.soap import Directory
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.transport.asgi_server import BackgroundServer, server_ssl_context

ALPHA_GUID = Guid.parse("{11111111-2222-4333-8444-555555555555}")
BETA_GUID = Guid.parse("{aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee}")
BRANCH_GUID = Guid.parse("{01234567-89ab-4cde-8f01-23456789abcd}")
T1 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2024, 3, 2, 9, 0, tzinfo=UTC)
T3 = datetime(2024, 3, 3, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Pki:
    ca: Issued
    server: Issued
    alpha: Issued
    beta: Issued
    foreign_ca: Issued
    foreign: Issued


@pytest.fixture(scope="session")
def pki() -> Pki:
    ca = make_ca("eintegr register test CA")
    foreign_ca = make_ca("someone else's CA")
    return Pki(
        ca=ca,
        server=make_transport_certificate(ca, eik="000695089", host="localhost"),
        alpha=make_transport_certificate(ca, eik="831641791", host="alpha.example.bg"),
        beta=make_transport_certificate(ca, eik="130277958", host="beta.example.bg"),
        foreign_ca=foreign_ca,
        foreign=make_transport_certificate(foreign_ca, eik="831641791", host="alpha.example.bg"),
    )


def exchange(uri: str, status: ServiceStatus = ServiceStatus.ACTIVE) -> Service:
    return Service(DOCUMENT_EXCHANGE_SERVICE, "Документооборот", uri, status)


@pytest.fixture(scope="session")
def participants(pki: Pki) -> tuple[Participant, ...]:
    alpha = Participant(
        eik="831641791",
        guid=ALPHA_GUID,
        name="Община Алфа",
        certificate_serial=format(pki.alpha.certificate.serial_number, "x"),
        services=(exchange("https://alpha.example.bg:8443/Submit"),),
        last_change=T1,
        contact=Contact(phone="+359 2 111 1111", email="it@alpha.example.bg"),
    )
    beta = Participant(
        eik="130277958",
        guid=BETA_GUID,
        name="Агенция Бета",
        certificate_serial=format(pki.beta.certificate.serial_number, "x"),
        services=(
            exchange("https://beta.example.bg/Submit"),
            Service(Guid.new(), "Поща", "mailto:it@beta.example.bg", type="email"),
        ),
        last_change=T2,
    )
    branch = Participant(
        eik="831641791",
        guid=BRANCH_GUID,
        name="Община Алфа — клон",
        certificate_serial="0abc123",
        services=(
            exchange("https://branch.example.bg/Submit", ServiceStatus.TEMPORARILY_INACTIVE),
        ),
        status=ParticipantStatus.INACTIVE,
        last_change=T2,
        parent_guid=ALPHA_GUID,
    )
    return (alpha, beta, branch)


@pytest.fixture(scope="session")
def directory(participants: tuple[Participant, ...]) -> Directory:
    return Directory(participants, T2)


@dataclass
class RunningRegister:
    server: BackgroundServer
    file: Path

    @property
    def url(self) -> str:
        return self.server.url + "/service/"


@pytest.fixture(scope="module")
def register(
    pki: Pki, directory: Directory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningRegister]:
    """A register over mutual TLS (client certificates of the test CA required)."""
    file = tmp_path_factory.mktemp("register") / "register.json"
    save_directory(directory, file)
    server = start_register_server(
        file,
        certificate=pki.server,
        client_ca=[pki.ca.certificate],
        require_client_certificate=True,
    )
    try:
        yield RunningRegister(server, file)
    finally:
        server.stop()


# --- a scripted (misbehaving) server --------------------------------------------------------


@dataclass
class Script:
    """What the scripted server answers next: every request gets the same answer."""

    status: int = 200
    headers: list[tuple[bytes, bytes]] = field(
        default_factory=lambda: [(b"content-type", b"text/xml; charset=utf-8")]
    )
    chunks: list[bytes] = field(default_factory=list)
    delay_before: float = 0.0
    delay_between: float = 0.0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


class ScriptedApp:
    def __init__(self) -> None:
        self.script = Script()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        script = self.script
        script.requests.append(
            ({k.decode().lower(): v.decode() for k, v in scope["headers"]}, body)
        )
        await asyncio.sleep(script.delay_before)
        await send(
            {"type": "http.response.start", "status": script.status, "headers": script.headers}
        )
        for chunk in script.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await asyncio.sleep(script.delay_between)
        await send({"type": "http.response.body", "body": b""})


@dataclass
class ScriptedServer:
    app: ScriptedApp
    server: BackgroundServer

    @property
    def url(self) -> str:
        return self.server.url + "/"

    def answer(self, **kwargs: Any) -> Script:
        self.app.script = Script(**kwargs)
        return self.app.script


@pytest.fixture(scope="module")
def scripted(pki: Pki) -> Iterator[ScriptedServer]:
    app = ScriptedApp()
    context = server_ssl_context(pki.server)
    with BackgroundServer(app, ssl_context=context) as server:
        yield ScriptedServer(app, server)
