"""Transports: how signed messages travel (SOAP 1.1 envelopes in :mod:`.soap`)."""

from __future__ import annotations

__all__: list[str] = []
