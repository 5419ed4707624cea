"""Fixtures for the ССЕВ tests: a test PKI, a running local e-delivery server, clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.testing.edelivery_server import EDeliveryServer, NotificationInbox
from eintegr.transport.asgi_server import BackgroundServer
from eintegr.transport.edelivery import EDeliveryClient

INSTITUTION_EIK = "000695235"
AGENCY_EIK = "175074752"
COMPANY_EIK = "130277958"
CITIZEN_EGN = "7501020018"
OPERATOR_EGN = "8001010008"


@dataclass(frozen=True)
class Pki:
    """The test PKI: a CA, two institutions' certificates, the server's, and a stranger's."""

    ca: Issued
    dms: Issued
    agency: Issued
    stranger: Issued
    server: Issued
    ca_file: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca = make_ca("edelivery test CA")
    folder = tmp_path_factory.mktemp("edelivery-pki")
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.certificate_pem())
    return Pki(
        ca=ca,
        dms=make_transport_certificate(ca, eik=INSTITUTION_EIK, host="dms.example"),
        agency=make_transport_certificate(ca, eik=AGENCY_EIK, host="agency.example"),
        stranger=make_transport_certificate(ca, eik=COMPANY_EIK, host="stranger.example"),
        server=make_transport_certificate(ca, eik="831902088", host="127.0.0.1"),
        ca_file=ca_file,
    )


@dataclass
class Running:
    """A running local e-delivery service with its callback inbox."""

    server: EDeliveryServer
    url: str
    inbox: NotificationInbox
    pki: Pki

    def client(self, issued: Issued | None = None, **options: object) -> EDeliveryClient:
        return EDeliveryClient(
            self.url,
            (issued or self.pki.dms).signer(),
            verify=self.pki.ca_file,
            timeout=10.0,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def running(pki: Pki) -> Iterator[Running]:
    inbox = NotificationInbox()
    server = EDeliveryServer()
    with BackgroundServer(inbox) as callbacks:
        server.register_institution(
            "Община Пример",
            INSTITUTION_EIK,
            certificate=pki.dms.certificate,
            callback_url=callbacks.url + "/push",
            operators=[OPERATOR_EGN],
        )
        server.register_institution(
            "Агенция Пример",
            AGENCY_EIK,
            certificate=pki.agency.certificate,
            callback_url=callbacks.url + "/push",
        )
        server.register_person("7501020018", "Иван", "Петров", email="ivan@example.bg")
        server.register_person(OPERATOR_EGN, "Мария", "Иванова")
        server.register_legal_person(COMPANY_EIK, "Пример ООД", representatives=[CITIZEN_EGN])
        with server.run(tls=pki.server) as background:
            yield Running(server, background.url, inbox, pki)
