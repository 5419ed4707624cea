"""The participants' register: participants, their services, and the look-up interface.

Facts (СЕОС specification, "Регистър на участниците"): each participant has a GUID, an
optional parent GUID, its ЕИК/БУЛСТАТ, a name, a technical contact, a status, the time of its
last change, the serial number (hex) of its transport certificate, and services. The
document-exchange service kind is GUID ``7060efa8-f1fa-4938-8b2b-12a78c86988f``; its URI is
the participant's ``Submit`` endpoint.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from cryptography import x509

from eintegr.errors import RegistryError
from eintegr.identifiers import Guid

__all__ = [
    "DOCUMENT_EXCHANGE_SERVICE",
    "Contact",
    "Participant",
    "ParticipantStatus",
    "Register",
    "Service",
    "ServiceStatus",
    "StaticRegister",
    "normalize_serial",
]

DOCUMENT_EXCHANGE_SERVICE = Guid.from_uuid(UUID("7060efa8-f1fa-4938-8b2b-12a78c86988f"))
"""The kind of service ("Документооборот") whose URI is a participant's ``Submit`` endpoint."""


class ParticipantStatus(enum.StrEnum):
    """A participant's status in the register."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"


class ServiceStatus(enum.StrEnum):
    """A service's status in the register."""

    ACTIVE = "Active"
    TEMPORARILY_INACTIVE = "TemporarilyInactive"
    PERMANENTLY_INACTIVE = "PermanentlyInactive"


def normalize_serial(serial: int | str) -> str:
    """A certificate serial number as the register compares it: lower-case hex, no leading zeros.

    Accepts an ``int`` or a hex string (any case, optional ``0x``, spaces or colons).

    :raises RegistryError: ``REGISTRY-SERIAL`` when the text is not hexadecimal.
    """
    if isinstance(serial, int):
        return format(serial, "x")
    text = serial.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "")
    try:
        return format(int(text, 16), "x")
    except ValueError:
        raise RegistryError(
            f"{serial!r} is not a hexadecimal certificate serial number",
            code="REGISTRY-SERIAL",
            message_bg=f"{serial!r} не е сериен номер на сертификат в шестнадесетичен запис",
        ) from None


@dataclass(frozen=True, slots=True)
class Contact:
    """A participant's technical contact."""

    phone: str | None = None
    fax: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A service (endpoint) a participant offers."""

    guid: Guid
    name: str
    uri: str
    status: ServiceStatus = ServiceStatus.ACTIVE
    type: str = "service"
    version: int = 1

    @property
    def is_active(self) -> bool:
        """True when the service's status is ``Active``."""
        return self.status is ServiceStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Participant:
    """One participant of the exchange as the register describes it."""

    eik: str
    guid: Guid
    name: str
    certificate_serial: str
    services: tuple[Service, ...] = ()
    status: ParticipantStatus = ParticipantStatus.ACTIVE
    last_change: datetime | None = None
    parent_guid: Guid | None = None
    contact: Contact = field(default_factory=Contact)

    def __post_init__(self) -> None:
        object.__setattr__(self, "certificate_serial", normalize_serial(self.certificate_serial))

    @property
    def is_active(self) -> bool:
        """True when the participant's status is ``Active``."""
        return self.status is ParticipantStatus.ACTIVE

    @property
    def exchange_service(self) -> Service | None:
        """The document-exchange service (kind ``DOCUMENT_EXCHANGE_SERVICE``), if any."""
        return next((s for s in self.services if s.guid == DOCUMENT_EXCHANGE_SERVICE), None)

    @property
    def endpoint(self) -> str:
        """The URI of the participant's active document-exchange service.

        :raises RegistryError: ``REGISTRY-NO-ENDPOINT`` when there is none, or it is inactive.
        """
        service = self.exchange_service
        if service is None or not service.is_active:
            state = "no" if service is None else f"an inactive ({service.status})"
            raise RegistryError(
                f"participant {self.guid} ({self.name}) has {state} document-exchange service",
                code="REGISTRY-NO-ENDPOINT",
                message_bg=f"Участникът {self.guid} ({self.name}) няма активна услуга за "
                "обмен на документи",
            )
        return service.uri

    def holds_certificate(self, certificate: x509.Certificate) -> bool:
        """True when ``certificate``'s serial number is the registered transport certificate's."""
        return normalize_serial(certificate.serial_number) == self.certificate_serial


class Register(abc.ABC):
    """Look-ups in the participants' register; implementations may be online or cached.

    Every ``by_*`` method raises :class:`~eintegr.errors.RegistryError`
    (``REGISTRY-UNKNOWN``) when nothing matches.
    """

    @abc.abstractmethod
    def participants(self) -> Sequence[Participant]:
        """Every participant known to this register."""

    def by_guid(self, guid: Guid | str) -> Participant:
        """The participant with ``guid`` (compared case-insensitively)."""
        wanted = guid if isinstance(guid, Guid) else Guid.parse_lenient(guid)
        return self._one((p for p in self.participants() if p.guid == wanted), f"GUID {wanted}")

    def by_eik(self, eik: str) -> Participant:
        """The participant with ЕИК/БУЛСТАТ ``eik``."""
        return self._one((p for p in self.participants() if p.eik == eik), f"ЕИК {eik}")

    def by_certificate_serial(self, serial: int | str) -> Participant:
        """The participant whose transport certificate has serial number ``serial``."""
        wanted = normalize_serial(serial)
        return self._one(
            (p for p in self.participants() if p.certificate_serial == wanted),
            f"certificate serial {wanted}",
        )

    @staticmethod
    def _one(found: Iterator[Participant], what: str) -> Participant:
        match = next(found, None)
        if match is None:
            raise RegistryError(
                f"the register has no participant with {what}",
                message_bg=f"В регистъра няма участник с {what}",
            )
        return match


class StaticRegister(Register):
    """A register held in memory (tests, demos, or a snapshot loaded by the caller)."""

    def __init__(self, participants: Iterable[Participant]) -> None:
        self._participants = tuple(participants)
        self._by_guid = {p.guid: p for p in self._participants}
        if len(self._by_guid) != len(self._participants):
            raise RegistryError(
                "two participants share a GUID",
                code="REGISTRY-DUPLICATE",
                message_bg="Двама участници са с еднакъв GUID",
            )

    def participants(self) -> Sequence[Participant]:
        """Every participant given to the constructor."""
        return self._participants

    def by_guid(self, guid: Guid | str) -> Participant:
        """The participant with ``guid`` (a dictionary look-up)."""
        wanted = guid if isinstance(guid, Guid) else Guid.parse_lenient(guid)
        found = self._by_guid.get(wanted)
        if found is None:
            return self._one(iter(()), f"GUID {wanted}")
        return found
