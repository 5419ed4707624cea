"""Test support for integrators and vendors.

* :class:`TransportContract` — the contract suite any
  :class:`~eintegr.transport.base.Transport` can run (see ``docs/vendors.md``; needs pytest);
* :class:`ContractWorld` — a local CA, participants, register and signed messages;
* :class:`ScriptedReceiver` — a receiving side whose answers a test scripts;
* :class:`BlockingTransport` — an asynchronous transport driven from synchronous code;
* :mod:`eintegr.testing.edelivery_server`, :mod:`eintegr.testing.regix_server` — local
  servers for tests and demos.

The names are loaded on first use, so the local servers can be imported without pytest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eintegr.testing.transport_contract import (
        BlockingTransport,
        ContractParty,
        ContractWorld,
        Delivery,
        ScriptedReceiver,
        TransportContract,
    )

__all__ = [
    "BlockingTransport",
    "ContractParty",
    "ContractWorld",
    "Delivery",
    "ScriptedReceiver",
    "TransportContract",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'eintegr.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module("eintegr.testing.transport_contract"), name)
    globals()[name] = value
    return value
