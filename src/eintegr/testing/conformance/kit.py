"""What the tester needs to play the counter-party: identities, certificates, a register.

:class:`TesterSetup` is what a run needs: the system under test as the register describes it,
the register the system under test uses (it must list the tester), the tester's transport
certificate, the CA certificates that the system's server certificate chains to and,
optionally, the certificate of an *inactive* participant and a trusted certificate that *no*
participant holds (without them the scenarios that need them are "not applicable").

:func:`make_kit` creates all of it for a trial: a local CA, the system's own transport
certificate, the tester's, an inactive participant's, an unregistered one, and the register
listing them; :meth:`ConformanceKit.write` puts it in a folder for a system run elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from eintegr.identifiers import Guid
from eintegr.registry.files import save_directory
from eintegr.registry.model import (
    DOCUMENT_EXCHANGE_SERVICE,
    Participant,
    ParticipantStatus,
    Register,
    Service,
    StaticRegister,
)
from eintegr.registry.soap import Directory
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.transport.receiving import DEFAULT_MAX_MESSAGE_BYTES

__all__ = ["TESTER_EIK", "ConformanceKit", "TesterSetup", "make_kit", "participant_for"]

TESTER_EIK = "121000008"
"""The ЕИК of the tester participant in a kit."""
INACTIVE_EIK = "121000015"
"""The ЕИК of the inactive participant in a kit."""


def participant_for(
    issued: Issued,
    *,
    eik: str,
    name: str,
    endpoint: str | None,
    guid: Guid | None = None,
    status: ParticipantStatus = ParticipantStatus.ACTIVE,
) -> Participant:
    """The register entry of the holder of ``issued`` (its document-exchange service at
    ``endpoint``, when given)."""
    services = (
        ()
        if endpoint is None
        else (Service(guid=DOCUMENT_EXCHANGE_SERVICE, name="Документооборот", uri=endpoint),)
    )
    return Participant(
        eik=eik,
        guid=guid or Guid.new(),
        name=name,
        certificate_serial=format(issued.certificate.serial_number, "x"),
        services=services,
        status=status,
    )


@dataclass(frozen=True)
class TesterSetup:
    """Everything a conformance run needs.

    :ivar sut: the system under test as the register describes it.
    :ivar register: the register the system under test uses (lists it and the tester).
    :ivar tester: the tester's transport certificate and key (registered, active).
    :ivar server_ca: the CA certificates the system's TLS certificate must chain to; they are
        also the CAs whose certificates the tester's scripted server accepts from the system.
    :ivar inactive: the certificate of a participant registered with status ``Inactive``.
    :ivar unregistered: a certificate the system trusts that no participant holds.
    :ivar max_bytes: the largest message the system accepts (its declared limit).
    :ivar timeout: seconds allowed for each connection and answer.
    :ivar answer_wait: seconds to wait for an answer the system pushes to the tester's own
        endpoint after an empty ``SubmitResult`` (application-level scenarios).
    """

    sut: Participant
    register: Register
    tester: Issued
    server_ca: tuple[x509.Certificate, ...]
    inactive: Issued | None = None
    unregistered: Issued | None = None
    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    timeout: float = 15.0
    answer_wait: float = 10.0

    @property
    def tester_participant(self) -> Participant:
        """The tester's register entry (found by its certificate's serial number).

        :raises RegistryError: the register does not list the tester's certificate.
        """
        return self.register.by_certificate_serial(self.tester.certificate.serial_number)

    @property
    def inactive_participant(self) -> Participant | None:
        """The register entry of :attr:`inactive`, if any."""
        if self.inactive is None:
            return None
        return self.register.by_certificate_serial(self.inactive.certificate.serial_number)

    def with_register(self, register: Register) -> TesterSetup:
        """This setup with another register."""
        return replace(self, register=register)


@dataclass(frozen=True)
class ConformanceKit:
    """A local CA and the identities of a trial (see :func:`make_kit`)."""

    ca: Issued
    sut: Issued
    sut_participant: Participant
    tester: Issued
    tester_participant: Participant
    inactive: Issued
    inactive_participant: Participant
    unregistered: Issued

    def register(self, *, tester_endpoint: str | None = None) -> StaticRegister:
        """The register: the system, the tester (its service at ``tester_endpoint``, when
        given) and the inactive participant."""
        tester = self.tester_participant
        if tester_endpoint is not None:
            tester = replace(
                tester,
                services=(
                    Service(
                        guid=DOCUMENT_EXCHANGE_SERVICE, name="Документооборот", uri=tester_endpoint
                    ),
                ),
            )
        return StaticRegister([self.sut_participant, tester, self.inactive_participant])

    def with_sut_endpoint(self, endpoint: str) -> ConformanceKit:
        """This kit with the system's endpoint URI set to ``endpoint``."""
        service = Service(guid=DOCUMENT_EXCHANGE_SERVICE, name="Документооборот", uri=endpoint)
        return replace(self, sut_participant=replace(self.sut_participant, services=(service,)))

    def setup(self, *, tester_endpoint: str | None = None, **options: object) -> TesterSetup:
        """The :class:`TesterSetup` of this kit (``options``: ``max_bytes``, ``timeout``,
        ``answer_wait``); ``tester_endpoint``: the tester's URI in the register, where the
        system may push its answers."""
        return TesterSetup(
            sut=self.sut_participant,
            register=self.register(tester_endpoint=tester_endpoint),
            tester=self.tester,
            server_ca=(self.ca.certificate,),
            inactive=self.inactive,
            unregistered=self.unregistered,
            **options,  # type: ignore[arg-type]
        )

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write the CA certificate, every key and certificate (PEM) and ``register.json``
        into ``folder``; return the paths by name."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        ca_path = out / "ca.crt.pem"
        ca_path.write_bytes(self.ca.certificate.public_bytes(serialization.Encoding.PEM))
        paths["ca"] = ca_path
        for name, issued in (
            ("sut", self.sut),
            ("tester", self.tester),
            ("inactive", self.inactive),
            ("unregistered", self.unregistered),
        ):
            key, cert = out / f"{name}.key.pem", out / f"{name}.crt.pem"
            key.write_bytes(issued.key_pem())
            key.chmod(0o600)
            cert.write_bytes(issued.certificate_pem())
            paths[f"{name}-key"], paths[f"{name}-cert"] = key, cert
        register = out / "register.json"
        save_directory(Directory(participants=tuple(self.register().participants())), register)
        paths["register"] = register
        return paths


def make_kit(
    *,
    sut_name: str,
    sut_eik: str,
    sut_endpoint: str | None = None,
    host: str = "localhost",
    ca: Issued | None = None,
) -> ConformanceKit:
    """A trial kit: a CA (new unless given), the system's transport certificate for ``host``,
    the tester's, an inactive participant's, one no participant holds, and their entries.

    :raises IdentifierError: ``sut_eik`` is not a valid ЕИК/БУЛСТАТ.
    """
    authority = ca or make_ca("eintegr conformance CA")
    sut = make_transport_certificate(authority, eik=sut_eik, host=host, organization=sut_name)
    tester = make_transport_certificate(
        authority, eik=TESTER_EIK, host=host, organization="eintegr conformance tester"
    )
    inactive = make_transport_certificate(
        authority, eik=INACTIVE_EIK, host=host, organization="eintegr inactive participant"
    )
    unregistered = make_transport_certificate(
        authority, eik=TESTER_EIK, host=host, organization="eintegr unregistered"
    )
    return ConformanceKit(
        ca=authority,
        sut=sut,
        sut_participant=participant_for(sut, eik=sut_eik, name=sut_name, endpoint=sut_endpoint),
        tester=tester,
        tester_participant=participant_for(
            tester, eik=TESTER_EIK, name="eintegr conformance tester", endpoint=None
        ),
        inactive=inactive,
        inactive_participant=participant_for(
            inactive,
            eik=INACTIVE_EIK,
            name="eintegr inactive participant",
            endpoint=None,
            status=ParticipantStatus.INACTIVE,
        ),
        unregistered=unregistered,
    )


def certificates(items: Sequence[Issued]) -> tuple[x509.Certificate, ...]:
    """The certificates of ``items``."""
    return tuple(i.certificate for i in items)
