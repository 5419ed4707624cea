"""VerificationPolicy, PinnedCertificates, CertificateAuthorities and the failure codes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from eintegr.errors import VerificationError
from eintegr.signing import (
    DEFAULT_ALGORITHMS,
    FAILURE_CODES,
    CertificateAuthorities,
    DigestAlgorithm,
    PinnedCertificates,
    SignatureAlgorithm,
    Trust,
    VerificationPolicy,
    check_message_signature,
    sign_message,
    verify_message,
)
from tests.signing.helpers import NOW, Identity, make_ca, make_transport, registration_request


def check(trust: Trust, identity: Identity, at: dt.datetime = NOW) -> None:
    trust.check(identity.certificate, identity.chain, at)


# --- VerificationPolicy ---------------------------------------------------------------------


def test_secure_defaults(transport: Identity) -> None:
    policy = VerificationPolicy(trust=PinnedCertificates([transport.certificate]))
    assert policy.allow_sha1 is False
    assert policy.min_rsa_bits == 2048
    assert policy.at is None
    assert policy.check_validity
    assert policy.require_digital_signature_key_usage
    assert policy.allowed_algorithms == DEFAULT_ALGORITHMS
    assert SignatureAlgorithm.RSA_SHA1 not in DEFAULT_ALGORITHMS
    assert len(DEFAULT_ALGORITHMS) == len(SignatureAlgorithm) - 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.allow_sha1 = True  # type: ignore[misc]


def test_sha1_is_only_enabled_by_the_opt_in(transport: Identity) -> None:
    trust = PinnedCertificates([transport.certificate])
    strict = VerificationPolicy(trust=trust, allowed_algorithms=frozenset(SignatureAlgorithm))
    assert not strict.allows(SignatureAlgorithm.RSA_SHA1)
    assert not strict.allows(DigestAlgorithm.SHA1)
    assert strict.allows(DigestAlgorithm.SHA512)
    legacy = VerificationPolicy(trust=trust, allow_sha1=True)
    assert legacy.allows(SignatureAlgorithm.RSA_SHA1)
    assert legacy.allows(DigestAlgorithm.SHA1)
    with pytest.raises(VerificationError) as caught:
        strict.check_algorithm(SignatureAlgorithm.RSA_SHA1)
    assert caught.value.code == "SIG-ALGORITHM"
    assert "allow_sha1" in str(caught.value)


def test_allowed_algorithms_restrict_and_accept_names(transport: Identity) -> None:
    policy = VerificationPolicy(
        trust=PinnedCertificates([transport.certificate]),
        allowed_algorithms=frozenset({"rsa-sha512"}),  # type: ignore[arg-type]
    )
    assert policy.allowed_algorithms == frozenset({SignatureAlgorithm.RSA_SHA512})
    signed = sign_message(registration_request(), transport.signer())
    assert check_message_signature(signed, policy).code == "SIG-ALGORITHM"
    signed = sign_message(
        registration_request(), transport.signer(), algorithm=SignatureAlgorithm.RSA_SHA512
    )
    assert verify_message(signed, policy)


def test_policy_refuses_bad_settings(transport: Identity) -> None:
    trust = PinnedCertificates([transport.certificate])
    with pytest.raises(ValueError, match="timezone"):
        VerificationPolicy(trust=trust, at=dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="min_rsa_bits"):
        VerificationPolicy(trust=trust, min_rsa_bits=0)
    with pytest.raises(TypeError):
        VerificationPolicy(trust=[transport.certificate])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not-an-algorithm"):
        VerificationPolicy(trust=trust, allowed_algorithms=frozenset({"not-an-algorithm"}))  # type: ignore[arg-type]


def test_verification_time(transport: Identity) -> None:
    trust = PinnedCertificates([transport.certificate])
    at = dt.datetime(2030, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert VerificationPolicy(trust=trust, at=at).verification_time() == at
    now = VerificationPolicy(trust=trust).verification_time()
    assert now.tzinfo is not None
    assert abs(now - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_check_certificate_order_and_codes(
    transport: Identity,
    other_transport: Identity,
    weak_transport: Identity,
    expired_transport: Identity,
    no_signing_transport: Identity,
    ec_transport: Identity,
) -> None:
    def failure(identity: Identity, **kwargs: object) -> str | None:
        policy = VerificationPolicy(
            trust=PinnedCertificates([transport.certificate]),
            **kwargs,  # type: ignore[arg-type]
        )
        error: VerificationError | None = None
        try:
            policy.check_certificate(identity.certificate, identity.chain)
        except VerificationError as exc:
            error = exc
        if error is None:
            return None
        assert error.message_bg
        assert error.message_bg != error.message
        return error.code

    assert failure(transport) is None
    assert failure(other_transport) == "П.8"
    assert failure(weak_transport) == "SIG-KEY"  # checked before trust
    assert failure(expired_transport) == "SIG-CERT-EXPIRED"
    assert failure(no_signing_transport) == "SIG-CERT-USAGE"
    assert failure(ec_transport) == "П.8"
    policy = VerificationPolicy(trust=PinnedCertificates([ec_transport.certificate]))
    policy.check_certificate(ec_transport.certificate, algorithm=SignatureAlgorithm.ECDSA_SHA256)
    with pytest.raises(VerificationError) as caught:
        policy.check_certificate(ec_transport.certificate, algorithm=SignatureAlgorithm.RSA_SHA256)
    assert caught.value.code == "SIG-KEY"


# --- PinnedCertificates ---------------------------------------------------------------------


def test_pinned_by_certificate(transport: Identity, other_transport: Identity) -> None:
    trust = PinnedCertificates([transport.certificate])
    check(trust, transport)
    with pytest.raises(VerificationError) as caught:
        check(trust, other_transport)
    assert caught.value.code == "П.8"
    assert f"{other_transport.certificate.serial_number:X}" in caught.value.message_bg


def _serial_forms(serial: int) -> list[int | str]:
    text = f"{serial:x}"
    return [
        serial,
        text,
        text.upper(),
        "0x" + text,
        " ".join(text[i : i + 2] for i in range(0, len(text), 2)),
        ":".join(text[i : i + 2] for i in range(0, len(text), 2)).upper(),
        "00" + text,
    ]


def test_pinned_by_issuer_and_serial(transport: Identity, other_transport: Identity) -> None:
    certificate = transport.certificate
    issuer_texts: list[x509.Name | str] = [
        certificate.issuer,
        certificate.issuer.rfc4514_string(),
        # .NET order and spelling: C first, ", " separators, OID.x for organizationIdentifier
        'C=BG, O="eintegr test PKI, Sofia", OID.2.5.4.97=NTRBG-123456786, CN=eintegr Test Root CA',
        "cn=EINTEGR   test root ca, organizationIdentifier=ntrbg-123456786, c=bg, "
        "o=eintegr test PKI\\, Sofia",
    ]
    for issuer in issuer_texts:
        for serial in _serial_forms(certificate.serial_number):
            trust = PinnedCertificates(issuer_serials=[(issuer, serial)])
            check(trust, transport)
            with pytest.raises(VerificationError):
                check(trust, other_transport)  # same issuer, other serial


def test_issuer_must_match_too(transport: Identity) -> None:
    serial = transport.certificate.serial_number
    for issuer in ("CN=eintegr Test Root CA", "CN=Other CA, O=eintegr test PKI\\, Sofia, C=BG"):
        trust = PinnedCertificates(issuer_serials=[(issuer, serial)])
        with pytest.raises(VerificationError):
            check(trust, transport)


@pytest.mark.parametrize(
    "pair",
    [
        ("CN=x", "not hex"),
        ("CN=x", ""),
        ("CN=x", -1),
        ("FOO=bar", 1),
        ("", 1),
    ],
)
def test_pinned_refuses_unreadable_pins(pair: tuple[str, int | str]) -> None:
    with pytest.raises(ValueError):
        PinnedCertificates(issuer_serials=[pair])


def test_pinned_needs_something() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PinnedCertificates()


def test_unicode_issuer_names_compare_case_insensitively(root_ca: Identity) -> None:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BG"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Информационно обслужване АД"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Тестов УО"),
        ]
    )
    trust = PinnedCertificates(
        issuer_serials=[("CN=тестов уо,O=ИНФОРМАЦИОННО ОБСЛУЖВАНЕ АД,C=BG", 5)]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(root_ca.key.public_key())  # type: ignore[arg-type]
        .serial_number(5)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(root_ca.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    trust.check(certificate, (), NOW)


# --- CertificateAuthorities -----------------------------------------------------------------


def test_ca_chain_with_known_or_offered_intermediates(
    root_ca: Identity, intermediate_ca: Identity, chained_transport: Identity, transport: Identity
) -> None:
    check(CertificateAuthorities([root_ca.certificate]), transport)
    # the intermediate offered with the signature
    check(CertificateAuthorities([root_ca.certificate]), chained_transport)
    # or known in advance
    bare = Identity(chained_transport.key, chained_transport.certificate)
    check(CertificateAuthorities([root_ca.certificate], [intermediate_ca.certificate]), bare)
    # missing
    with pytest.raises(VerificationError) as caught:
        check(CertificateAuthorities([root_ca.certificate]), bare)
    assert caught.value.code == "П.8"


def test_ca_refuses_other_roots(transport: Identity) -> None:
    stranger = make_ca("Stranger Root")
    with pytest.raises(VerificationError) as caught:
        check(CertificateAuthorities([stranger.certificate]), transport)
    assert caught.value.code == "П.8"


def test_ca_refuses_expired_or_non_ca_intermediates(root_ca: Identity) -> None:
    expired = make_ca(
        "Expired Intermediate",
        root_ca,
        not_before=NOW - dt.timedelta(days=400),
        not_after=NOW - dt.timedelta(days=1),
    )
    leaf = make_transport(expired, "under-expired.bg", not_before=NOW - dt.timedelta(days=300))
    with pytest.raises(VerificationError):
        check(CertificateAuthorities([root_ca.certificate]), leaf)
    check(CertificateAuthorities([root_ca.certificate]), leaf, NOW - dt.timedelta(days=10))

    not_ca = make_ca("Not a CA", root_ca, is_ca=False)
    leaf = make_transport(not_ca, "under-not-ca.bg")
    with pytest.raises(VerificationError):
        check(CertificateAuthorities([root_ca.certificate]), leaf)


def test_ca_trust_in_a_policy(root_ca: Identity, chained_transport: Identity) -> None:
    policy = VerificationPolicy(trust=CertificateAuthorities([root_ca.certificate]))
    signed = sign_message(registration_request(), chained_transport.signer(), include_chain=True)
    assert verify_message(signed, policy).chain == chained_transport.chain
    without_chain = sign_message(registration_request(), chained_transport.signer())
    assert check_message_signature(without_chain, policy).code == "П.8"


def test_ca_trust_with_validity_checks_off(root_ca: Identity, expired_transport: Identity) -> None:
    """An archived message: the chain is evaluated inside the signer's validity."""
    signed = sign_message(registration_request(), expired_transport.signer())
    trust = CertificateAuthorities([root_ca.certificate])
    assert check_message_signature(signed, VerificationPolicy(trust=trust)).code == (
        "SIG-CERT-EXPIRED"
    )
    assert verify_message(signed, VerificationPolicy(trust=trust, check_validity=False))


def test_ca_needs_a_root() -> None:
    with pytest.raises(ValueError, match="root"):
        CertificateAuthorities([])


def test_trust_reprs_do_not_dump_certificates(root_ca: Identity, transport: Identity) -> None:
    assert "1 certificate" in repr(PinnedCertificates([transport.certificate]))
    assert "1 root" in repr(CertificateAuthorities([root_ca.certificate]))


# --- failure codes --------------------------------------------------------------------------


def test_failure_code_table() -> None:
    assert set(FAILURE_CODES) == {
        "П.7",
        "П.8",
        "SIG-STRUCTURE",
        "SIG-DIGEST",
        "SIG-VALUE",
        "SIG-ALGORITHM",
        "SIG-KEY",
        "SIG-CERT-EXPIRED",
        "SIG-CERT-USAGE",
        "SIG-XML",
    }
    for code, entry in FAILURE_CODES.items():
        assert entry.code == code
        assert entry.meaning
        assert entry.meaning_bg
        assert entry.meaning != entry.meaning_bg
