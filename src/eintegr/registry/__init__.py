"""The СЕОС participants' register: participants, services, look-ups (client and cache follow)."""

from __future__ import annotations

from eintegr.registry.model import (
    DOCUMENT_EXCHANGE_SERVICE,
    Contact,
    Participant,
    ParticipantStatus,
    Register,
    Service,
    ServiceStatus,
    StaticRegister,
    normalize_serial,
)

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
