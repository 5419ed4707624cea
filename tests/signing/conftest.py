"""Fixtures for the signing tests: a throw-away PKI generated with ``cryptography``.

* ``root_ca`` → ``intermediate_ca`` → ``chained_transport`` (a chain of three);
* ``root_ca`` → ``transport`` (RSA-2048, subject ``ST=B:<ЕИК>``, CN = host name), and
  ``other_transport`` (a second participant), ``weak_transport`` (RSA-1024),
  ``expired_transport``, ``ec_transport`` (P-256), ``no_signing_transport`` (key usage
  without digitalSignature).
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eintegr.signing import PinnedCertificates, VerificationPolicy
from tests.signing.helpers import NOW, Identity, make_ca, make_transport, rsa_key


@pytest.fixture(scope="session")
def root_ca() -> Identity:
    return make_ca("eintegr Test Root CA")


@pytest.fixture(scope="session")
def intermediate_ca(root_ca: Identity) -> Identity:
    return make_ca("eintegr Test Exchange CA", root_ca)


@pytest.fixture(scope="session")
def transport(root_ca: Identity) -> Identity:
    return make_transport(root_ca, "seos.obshtina-test.bg")


@pytest.fixture(scope="session")
def other_transport(root_ca: Identity) -> Identity:
    return make_transport(root_ca, "seos.drug-uchastnik.bg", eik="000695089")


@pytest.fixture(scope="session")
def chained_transport(intermediate_ca: Identity) -> Identity:
    return make_transport(intermediate_ca, "seos.chained.bg")


@pytest.fixture(scope="session")
def weak_transport(root_ca: Identity) -> Identity:
    return make_transport(root_ca, "seos.weak.bg", key=rsa_key(1024))


@pytest.fixture(scope="session")
def expired_transport(root_ca: Identity) -> Identity:
    return make_transport(
        root_ca,
        "seos.expired.bg",
        not_before=NOW - dt.timedelta(days=400),
        not_after=NOW - dt.timedelta(days=35),
    )


@pytest.fixture(scope="session")
def ec_transport(root_ca: Identity) -> Identity:
    return make_transport(root_ca, "seos.ec.bg", key=ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="session")
def no_signing_transport(root_ca: Identity) -> Identity:
    return make_transport(root_ca, "seos.encrypt-only.bg", digital_signature=False)


@pytest.fixture(scope="session")
def pinned(transport: Identity) -> VerificationPolicy:
    """The СЕОС receiver's policy: only the sender's registered transport certificate."""
    return VerificationPolicy(trust=PinnedCertificates([transport.certificate]))
