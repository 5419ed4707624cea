"""Shared fixtures: the reference artefacts in ../shared/reference (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("EINTEGR_REFERENCE", REPO.parent / "shared" / "reference"))


def reference_path(*parts: str) -> Path:
    """A path inside ../shared/reference; skips the calling test when it is absent."""
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference artefact not available: {path} (needs ../shared/reference)")
    return path


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The ../shared/reference folder (tests using it skip with a reason when it is absent)."""
    return reference_path()


@pytest.fixture(scope="session")
def seos_official_schemas() -> Path:
    """The official СЕОС schema folder (EGovMessaging.xsd and the segments it imports)."""
    return reference_path("seos", "seme-docs", "schemas")


@pytest.fixture(scope="session")
def seos_signed_sample() -> bytes:
    """The real signed MSG_DocumentStatusResponse from the state's e-delivery system."""
    return reference_path(
        "seos", "samples", "MSG_DocumentStatusResponse_signed_log.txt-L77.xml"
    ).read_bytes()
