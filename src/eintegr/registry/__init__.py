"""The СЕОС participants' register: model, SOAP client, offline cache and a local register server.

* :mod:`.model` — :class:`Participant`, :class:`Service`, the :class:`Register` look-up interface;
* :mod:`.soap` — the register's SOAP 1.1 RPC/encoded wire format;
* :mod:`.client` — :class:`RegistryClient` (mutual TLS) and :class:`OnlineRegister`;
* :mod:`.cache` — :class:`CachedRegister`, an offline copy refreshed incrementally;
* :mod:`.files` — the register file formats (JSON, ``EGovMessageDir`` XML);
* :mod:`.server` — a local register for tests and demos, fed from a file.
"""

from __future__ import annotations

from eintegr.registry.cache import CachedRegister, RefreshResult
from eintegr.registry.client import AsyncRegistryClient, OnlineRegister, RegistryClient
from eintegr.registry.files import load_directory, save_directory
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
from eintegr.registry.server import RegisterApp, start_register_server
from eintegr.registry.soap import Directory, Operation, RecordIssue

__all__ = [
    "DOCUMENT_EXCHANGE_SERVICE",
    "AsyncRegistryClient",
    "CachedRegister",
    "Contact",
    "Directory",
    "OnlineRegister",
    "Operation",
    "Participant",
    "ParticipantStatus",
    "RecordIssue",
    "RefreshResult",
    "Register",
    "RegisterApp",
    "RegistryClient",
    "Service",
    "ServiceStatus",
    "StaticRegister",
    "load_directory",
    "normalize_serial",
    "save_directory",
    "start_register_server",
]
