"""The local test PKI: certificates shaped like the state's, serialization, files, signers."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from hypothesis import given, settings
from hypothesis import strategies as st

from eintegr.errors import IdentifierError, KeyLoadError
from eintegr.identifiers import eik13_check_digits, eik_check_digit, is_valid_eik
from eintegr.signing import pki
from eintegr.signing.pki import (
    OID_QC_COMPLIANCE,
    OID_QC_SSCD,
    OID_QCP_NATURAL_QSCD,
    Issued,
    make_ca,
    make_signing_certificate,
    make_transport_certificate,
)

EIK = "000695089"


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca()


@pytest.fixture(scope="module")
def intermediate(ca: Issued) -> Issued:
    return make_ca("eintegr test issuing CA", issuer=ca)


@pytest.fixture(scope="module")
def transport(ca: Issued) -> Issued:
    return make_transport_certificate(
        ca, eik=EIK, host="seos.example.bg", organization="Test Administration"
    )


def _key_der(key: object) -> bytes:
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _attr(name: x509.Name, oid: ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def test_ca_is_a_self_signed_ca(ca: Issued) -> None:
    cert = ca.certificate
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    assert _attr(cert.subject, NameOID.COMMON_NAME) == ["eintegr test CA"]
    assert isinstance(ca.key, rsa.RSAPrivateKey)
    assert ca.key.key_size == 2048
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == 3650
    assert ca.chain == ()


def test_intermediate_ca_chain(ca: Issued, intermediate: Issued) -> None:
    intermediate.certificate.verify_directly_issued_by(ca.certificate)
    assert intermediate.chain == ()  # the root is never part of the chain
    leaf = make_transport_certificate(intermediate, eik=EIK, host="a.example.bg", key_type="ec")
    leaf.certificate.verify_directly_issued_by(intermediate.certificate)
    assert leaf.chain == (intermediate.certificate,)
    aki = leaf.certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = intermediate.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert aki.key_identifier == ski.value.digest


def test_transport_certificate_shape(ca: Issued, transport: Issued) -> None:
    cert = transport.certificate
    cert.verify_directly_issued_by(ca.certificate)
    assert cert.issuer == ca.certificate.subject
    assert _attr(cert.subject, NameOID.COUNTRY_NAME) == ["BG"]
    assert _attr(cert.subject, NameOID.STATE_OR_PROVINCE_NAME) == [f"B:{EIK}"]
    assert _attr(cert.subject, NameOID.ORGANIZATION_NAME) == ["Test Administration"]
    assert _attr(cert.subject, NameOID.COMMON_NAME) == ["seos.example.bg"]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["seos.example.bg"]
    assert san.get_values_for_type(x509.IPAddress) == []
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.key_encipherment
    assert not usage.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    now = dt.datetime.now(dt.UTC)
    assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 730
    assert transport.chain == ()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_localhost_gets_an_ip_address(ca: Issued, host: str) -> None:
    issued = make_transport_certificate(ca, eik=EIK, host=host, key_type="ec")
    san = issued.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.DNSName) == [host]
    assert san.value.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


def test_ec_transport_certificate(ca: Issued) -> None:
    issued = make_transport_certificate(ca, eik=EIK, host="ec.example.bg", key_type="ec")
    assert isinstance(issued.key, ec.EllipticCurvePrivateKey)
    assert isinstance(issued.key.curve, ec.SECP256R1)
    usage = issued.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not usage.key_encipherment


def test_validity_window_and_key_size(ca: Issued) -> None:
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    issued = make_transport_certificate(
        ca, eik=EIK, host="old.example.bg", valid_from=start, valid_days=10, key_size=3072
    )
    assert issued.certificate.not_valid_before_utc == start
    assert issued.certificate.not_valid_after_utc == start + dt.timedelta(days=10)
    assert isinstance(issued.key, rsa.RSAPrivateKey)
    assert issued.key.key_size == 3072


def test_thirteen_digit_eik(ca: Issued) -> None:
    first12 = EIK + "000"
    eik13 = first12 + eik13_check_digits(first12)
    issued = make_transport_certificate(ca, eik=eik13, host="branch.example.bg", key_type="ec")
    assert _attr(issued.certificate.subject, NameOID.STATE_OR_PROVINCE_NAME) == [f"B:{eik13}"]


@pytest.mark.parametrize("eik", ["000695088", "12345", "", "0006950890", "B:000695089"])
def test_invalid_eik_is_refused(ca: Issued, eik: str) -> None:
    with pytest.raises(IdentifierError) as info:
        make_transport_certificate(ca, eik=eik, host="x.example.bg", key_type="ec")
    assert info.value.code == "ID-EIK"
    assert "ЕИК" in info.value.message_bg


@settings(max_examples=25, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_eik_accepted_exactly_when_valid(ca: Issued, digits: str) -> None:
    fixed = digits[:8] + eik_check_digit(digits[:8])
    issued = make_transport_certificate(ca, eik=fixed, host="h.example.bg", key_type="ec")
    assert _attr(issued.certificate.subject, NameOID.STATE_OR_PROVINCE_NAME) == [f"B:{fixed}"]
    if not is_valid_eik(digits):
        with pytest.raises(IdentifierError):
            make_transport_certificate(ca, eik=digits, host="h.example.bg", key_type="ec")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": ""}, "host"),
        ({"host": " a.bg"}, "host"),
        ({"key_type": "dsa"}, "key type"),
        ({"valid_days": 0}, "valid_days"),
        ({"valid_from": dt.datetime(2020, 1, 1)}, "timezone"),
    ],
)
def test_bad_arguments(ca: Issued, kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"eik": EIK, "host": "x.example.bg"} | kwargs
    with pytest.raises(ValueError, match=message):
        make_transport_certificate(ca, **arguments)  # type: ignore[arg-type]


def test_key_pem_plain_and_encrypted(transport: Issued) -> None:
    plain = serialization.load_pem_private_key(transport.key_pem(), None)
    assert _key_der(plain) == _key_der(transport.key)
    encrypted = transport.key_pem(b"s3cret")
    assert b"ENCRYPTED" in encrypted
    loaded = serialization.load_pem_private_key(encrypted, b"s3cret")
    assert _key_der(loaded) == _key_der(transport.key)
    with pytest.raises(ValueError, match="password"):
        serialization.load_pem_private_key(encrypted, b"wrong")


def test_certificate_pem_round_trip(transport: Issued) -> None:
    assert x509.load_pem_x509_certificate(transport.certificate_pem()) == transport.certificate


@pytest.mark.parametrize("password", [None, b"p12-pass"])
def test_pkcs12_round_trip(intermediate: Issued, password: bytes | None) -> None:
    leaf = make_transport_certificate(intermediate, eik=EIK, host="p12.example.bg")
    key, cert, extra = pkcs12.load_key_and_certificates(leaf.pkcs12(password), password)
    assert cert == leaf.certificate
    assert key is not None
    assert _key_der(key) == _key_der(leaf.key)
    assert extra == [intermediate.certificate]
    if password:
        with pytest.raises(ValueError):
            pkcs12.load_key_and_certificates(leaf.pkcs12(password), b"other")


def test_write_and_read(tmp_path: Path, intermediate: Issued) -> None:
    leaf = make_transport_certificate(intermediate, eik=EIK, host="w.example.bg")
    paths = leaf.write(tmp_path / "new", "node")
    assert paths == {
        "key": tmp_path / "new" / "node.key.pem",
        "certificate": tmp_path / "new" / "node.crt.pem",
        "chain": tmp_path / "new" / "node.chain.pem",
    }
    assert stat.S_IMODE(paths["key"].stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in paths["key"].read_bytes()
    back = Issued.read(tmp_path / "new", "node")
    assert back.certificate == leaf.certificate
    assert back.chain == leaf.chain
    assert _key_der(back.key) == _key_der(leaf.key)
    with pytest.raises(FileExistsError):
        leaf.write(tmp_path / "new", "node")
    leaf.write(tmp_path / "new", "node", overwrite=True, password=b"pw")
    assert stat.S_IMODE(paths["key"].stat().st_mode) == 0o600
    assert Issued.read(tmp_path / "new", "node", password=b"pw").certificate == leaf.certificate


def test_write_without_chain(tmp_path: Path, transport: Issued) -> None:
    paths = transport.write(tmp_path, "t")
    assert set(paths) == {"key", "certificate"}
    assert not (tmp_path / "t.chain.pem").exists()


@pytest.mark.parametrize("stem", ["", "../x", "a/b", ".."])
def test_write_refuses_paths_as_stem(tmp_path: Path, transport: Issued, stem: str) -> None:
    with pytest.raises(ValueError, match="stem"):
        transport.write(tmp_path, stem)


def test_read_errors(tmp_path: Path, ca: Issued, transport: Issued) -> None:
    with pytest.raises(KeyLoadError) as info:
        Issued.read(tmp_path, "missing")
    assert info.value.code == "KEY-LOAD"

    transport.write(tmp_path, "enc", password=b"right")
    with pytest.raises(KeyLoadError) as info:
        Issued.read(tmp_path, "enc")
    assert info.value.code == "KEY-PASSWORD"
    with pytest.raises(KeyLoadError) as info:
        Issued.read(tmp_path, "enc", password=b"wrong")
    assert info.value.code == "KEY-PASSWORD"

    transport.write(tmp_path, "plain")
    with pytest.raises(KeyLoadError) as info:
        Issued.read(tmp_path, "plain", password=b"unneeded")
    assert info.value.code == "KEY-PASSWORD"

    # the CA's key next to the transport certificate: refused
    (tmp_path / "mixed.key.pem").write_bytes(ca.key_pem())
    (tmp_path / "mixed.crt.pem").write_bytes(transport.certificate_pem())
    with pytest.raises(KeyLoadError) as info:
        Issued.read(tmp_path, "mixed")
    assert info.value.code == "KEY-MISMATCH"
    assert info.value.message_bg != str(info.value)

    (tmp_path / "junk.key.pem").write_bytes(transport.key_pem())
    (tmp_path / "junk.crt.pem").write_bytes(b"not a certificate")
    with pytest.raises(KeyLoadError) as info:
        Issued.read(tmp_path, "junk")
    assert info.value.code == "KEY-LOAD"


def test_signing_certificate_plain(ca: Issued) -> None:
    issued = make_signing_certificate(ca, common_name="Иван Иванов", serial_number="PNOBG-1")
    cert = issued.certificate
    cert.verify_directly_issued_by(ca.certificate)
    assert _attr(cert.subject, NameOID.COMMON_NAME) == ["Иван Иванов"]
    assert _attr(cert.subject, NameOID.SERIAL_NUMBER) == ["PNOBG-1"]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.CertificatePolicies)


def test_signing_certificate_qualified(ca: Issued) -> None:
    issued = make_signing_certificate(ca, common_name="Мария", qualified=True, key_type="ec")
    cert = issued.certificate
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == [OID_QCP_NATURAL_QSCD]
    qc = cert.extensions.get_extension_for_oid(ObjectIdentifier("1.3.6.1.5.5.7.1.3")).value
    assert isinstance(qc, x509.UnrecognizedExtension)
    # A QCStatement holding only its identifier is DER-identical to a one-element
    # ExtendedKeyUsage (SEQUENCE OF OBJECT IDENTIFIER): cryptography encodes that one for us.
    expected = b"".join(
        x509.ExtendedKeyUsage([ObjectIdentifier(oid)]).public_bytes()
        for oid in (OID_QC_COMPLIANCE, OID_QC_SSCD)
    )
    assert qc.value == pki._der(0x30, expected)


@settings(max_examples=50, deadline=None)
@given(
    arcs=st.tuples(
        st.integers(0, 2),
        st.integers(0, 39),
        st.lists(st.integers(0, 2**40), min_size=0, max_size=6),
    )
)
def test_der_oid_matches_cryptography(arcs: tuple[int, int, list[int]]) -> None:
    dotted = ".".join(str(a) for a in (arcs[0], arcs[1], *arcs[2]))
    # cryptography's own encoding of a SEQUENCE OF OBJECT IDENTIFIER, as reference
    expected = x509.ExtendedKeyUsage([ObjectIdentifier(dotted)] * 3).public_bytes()
    assert pki._der(0x30, pki._der_oid(dotted) * 3) == expected


def test_der_long_length() -> None:
    body = b"\x00" * 300
    encoded = pki._der(0x04, body)
    assert encoded[:4] == b"\x04\x82\x01\x2c"
    assert encoded[4:] == body


def test_signer_signs_with_the_key(transport: Issued, intermediate: Issued) -> None:
    from eintegr.signing.signer import KeySigner, SignatureAlgorithm

    signer = transport.signer()
    assert isinstance(signer, KeySigner)
    assert signer.certificate == transport.certificate
    assert signer.chain == ()
    data = b"<Message>signed bytes</Message>"
    signature = signer.sign(data, SignatureAlgorithm.RSA_SHA256)
    public = transport.certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())

    leaf = make_transport_certificate(intermediate, eik=EIK, host="c.example.bg")
    assert leaf.signer().chain == (intermediate.certificate,)


def test_ca_validity_window() -> None:
    start = dt.datetime(2021, 6, 1, tzinfo=dt.UTC)
    old = make_ca("old CA", valid_from=start, valid_days=100)
    assert old.certificate.not_valid_before_utc == start
    assert old.certificate.not_valid_after_utc == start + dt.timedelta(days=100)
