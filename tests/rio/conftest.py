"""Fixtures for the РИО tests: a throw-away PKI and the official segment schemas."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from eintegr.schemas.rio import NonStandardPatternWarning, RioSchemas, read_rio_folder, rio_schemas
from eintegr.signing import CertificateAuthorities, VerificationPolicy
from eintegr.signing.pki import Issued, make_ca, make_signing_certificate
from tests.conftest import reference_path
from tests.rio.helpers import EGN, RIO_REFERENCE


@pytest.fixture(scope="session")
def rio_ca() -> Issued:
    return make_ca("eintegr РИО test CA")


@pytest.fixture(scope="session")
def citizen(rio_ca: Issued) -> Issued:
    """A qualified signing certificate of the applicant (serialNumber PNOBG-<ЕГН>)."""
    return make_signing_certificate(
        rio_ca, common_name="Иван Петров Иванов", serial_number=f"PNOBG-{EGN}", qualified=True
    )


@pytest.fixture(scope="session")
def clerk(rio_ca: Issued) -> Issued:
    """A plain (not qualified) signing certificate of an official."""
    return make_signing_certificate(rio_ca, common_name="Мария Петрова")


@pytest.fixture(scope="session")
def stranger() -> Issued:
    """A certificate from a CA nobody trusts."""
    return make_signing_certificate(make_ca("untrusted"), common_name="Някой")


@pytest.fixture(scope="session")
def policy(rio_ca: Issued) -> VerificationPolicy:
    return VerificationPolicy(trust=CertificateAuthorities([rio_ca.certificate]))


@pytest.fixture(scope="session")
def rio_folder() -> Path:
    """The official segment schemas (skips when ../shared/reference is absent)."""
    return reference_path(*RIO_REFERENCE)


@pytest.fixture(scope="session")
def rio_official(rio_folder: Path) -> RioSchemas:
    """The official schemas, read once with the warnings expected; the cache of
    rio_schemas() is filled too, so later reads are silent."""
    with pytest.warns(NonStandardPatternWarning) as record:
        schemas = read_rio_folder(rio_folder)
    assert len(record) == len(schemas.rewrites) == 9
    assert any("0008-000036_EmailAddress" in str(w.message) for w in record)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonStandardPatternWarning)
        rio_schemas(rio_folder)
    return schemas
