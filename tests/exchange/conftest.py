"""Two participants (Областна администрация – Русе, Община Русе) wired in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from eintegr.exchange import Node, RetrySchedule, SqliteJournal
from eintegr.identifiers import Guid
from eintegr.registry.model import (
    DOCUMENT_EXCHANGE_SERVICE,
    Participant,
    Service,
    StaticRegister,
)
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.signing.signer import KeySigner
from eintegr.signing.trust import CertificateAuthorities
from eintegr.transport import ExchangeChecks, MemoryTransport

OBLAST_EIK = "176000071"  # valid check digit
OBSHTINA_EIK = "000530632"
FAST = RetrySchedule.scaled(0.02, max_retries=3)


@dataclass(frozen=True)
class Party:
    participant: Participant
    credentials: Issued
    signer: KeySigner


@dataclass(frozen=True)
class World:
    ca: Issued
    oblast: Party
    obshtina: Party
    stranger: Party
    register: StaticRegister


def _party(ca: Issued, eik: str, name: str) -> Party:
    issued = make_transport_certificate(ca, eik=eik, host="localhost", organization=name)
    participant = Participant(
        eik=eik,
        guid=Guid.new(),
        name=name,
        certificate_serial=format(issued.certificate.serial_number, "x"),
        services=(
            Service(
                guid=DOCUMENT_EXCHANGE_SERVICE,
                name="Документооборот",
                uri=f"https://{eik}.invalid/Submit",
            ),
        ),
    )
    return Party(participant, issued, issued.signer())


@pytest.fixture(scope="session")
def world() -> World:
    ca = make_ca("eintegr exchange test CA")
    oblast = _party(ca, OBLAST_EIK, "Областна администрация – Русе")
    obshtina = _party(ca, OBSHTINA_EIK, "Община Русе")
    stranger = _party(ca, "831821437", "Външна администрация")
    register = StaticRegister([oblast.participant, obshtina.participant, stranger.participant])
    return World(ca, oblast, obshtina, stranger, register)


@dataclass
class Pair:
    """Two nodes delivering to each other in memory."""

    world: World
    sender: Node
    recipient: Node
    transports: dict[str, MemoryTransport] = field(default_factory=dict)

    def unroute(self) -> None:
        for name, transport in self.transports.items():
            other = self.recipient if name == "sender" else self.sender
            transport.route(other.identity.guid, None)

    def reroute(self) -> None:
        self.transports["sender"].route(self.recipient.identity.guid, self.recipient.receiver())
        self.transports["recipient"].route(self.sender.identity.guid, self.sender.receiver())


def build_node(
    world: World, party: Party, journal: SqliteJournal, **options: Any
) -> tuple[Node, MemoryTransport]:
    checks = ExchangeChecks(
        register=world.register,
        certificate=party.credentials.certificate,
        trust=CertificateAuthorities([world.ca.certificate]),
        seen=journal.seen,
    )
    transport = MemoryTransport(checks=checks)
    options.setdefault("schedule", FAST)
    node = Node(
        identity=party.participant,
        signer=party.signer,
        register=world.register,
        transport=transport,
        journal=journal,
        **options,
    )
    return node, transport


@pytest.fixture
def make_pair(world: World, tmp_path: Path) -> Iterator[Callable[..., Pair]]:
    journals: list[SqliteJournal] = []

    def make(sender: dict[str, Any] | None = None, recipient: dict[str, Any] | None = None) -> Pair:
        first = SqliteJournal(tmp_path / f"oblast-{len(journals)}.sqlite")
        second = SqliteJournal(tmp_path / f"obshtina-{len(journals)}.sqlite")
        journals.extend([first, second])
        a, ta = build_node(world, world.oblast, first, **(sender or {}))
        b, tb = build_node(world, world.obshtina, second, **(recipient or {}))
        pair = Pair(world, a, b, {"sender": ta, "recipient": tb})
        pair.reroute()
        return pair

    yield make
    for journal in journals:
        journal.close()
