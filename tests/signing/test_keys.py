"""Loading keys and certificates, and the KeySigner / Signer contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from eintegr.errors import KeyLoadError, SigningError
from eintegr.signing import (
    KeySigner,
    SignatureAlgorithm,
    Signer,
    load_certificates,
    load_pem_signer,
    load_pkcs12_signer,
)
from eintegr.signing.signer import ecdsa_raw_to_der
from tests.signing.helpers import Identity, RawSigner

PASSWORD = b"correct horse"


def pkcs12_bytes(
    identity: Identity, password: bytes | None = PASSWORD, *, with_key: bool = True
) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(
        b"transport",
        identity.key if with_key else None,  # type: ignore[arg-type]
        identity.certificate,
        list(identity.chain) or None,
        encryption,
    )


# --- PEM -----------------------------------------------------------------------------------


def test_pem_from_bytes_and_paths(tmp_path: Path, transport: Identity) -> None:
    signer = load_pem_signer(transport.key_pem(), transport.cert_pem())
    assert signer.certificate == transport.certificate
    assert signer.algorithm is SignatureAlgorithm.RSA_SHA256
    key_path, cert_path = tmp_path / "key.pem", tmp_path / "cert.pem"
    key_path.write_bytes(transport.key_pem(PASSWORD))
    cert_path.write_bytes(transport.cert_pem())
    signer = load_pem_signer(key_path, cert_path, password=PASSWORD)
    assert signer.certificate == transport.certificate


def test_der_key_and_certificate(transport: Identity) -> None:
    key_der = transport.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = load_pem_signer(key_der, transport.cert_der())
    assert signer.certificate == transport.certificate


def test_certificate_file_with_the_chain_in_any_order(chained_transport: Identity) -> None:
    bundle = b"".join(
        c.public_bytes(serialization.Encoding.PEM)
        for c in (*chained_transport.chain, chained_transport.certificate)
    )
    signer = load_pem_signer(chained_transport.key_pem(), bundle)
    assert signer.certificate == chained_transport.certificate
    assert signer.chain == chained_transport.chain
    separate = load_pem_signer(
        chained_transport.key_pem(),
        chained_transport.cert_pem(),
        chain=[c.public_bytes(serialization.Encoding.PEM) for c in chained_transport.chain],
    )
    assert separate.chain == chained_transport.chain


@pytest.mark.parametrize(
    ("password_written", "password_given"),
    [(PASSWORD, None), (PASSWORD, b"wrong"), (None, PASSWORD)],
)
def test_password_problems(
    transport: Identity, password_written: bytes | None, password_given: bytes | None
) -> None:
    with pytest.raises(KeyLoadError) as caught:
        load_pem_signer(
            transport.key_pem(password_written), transport.cert_pem(), password=password_given
        )
    assert caught.value.code == "KEY-PASSWORD"
    assert caught.value.message_bg != caught.value.message


def test_key_and_certificate_mismatch(transport: Identity, other_transport: Identity) -> None:
    with pytest.raises(KeyLoadError) as caught:
        load_pem_signer(transport.key_pem(), other_transport.cert_pem())
    assert caught.value.code == "KEY-MISMATCH"


def test_unreadable_inputs(tmp_path: Path, transport: Identity) -> None:
    for key, cert in (
        (b"garbage", transport.cert_pem()),
        (transport.key_pem(), b"garbage"),
        (transport.key_pem(), b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        (tmp_path / "missing.pem", transport.cert_pem()),
    ):
        with pytest.raises(KeyLoadError) as caught:
            load_pem_signer(key, cert)
        assert caught.value.code == "KEY-LOAD"


def test_unsupported_key_type(transport: Identity) -> None:
    dsa_key = dsa.generate_private_key(1024)
    pem = dsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyLoadError) as caught:
        load_pem_signer(pem, transport.cert_pem())
    assert caught.value.code in {"KEY-UNSUPPORTED", "KEY-MISMATCH"}
    with pytest.raises(KeyLoadError) as caught:
        KeySigner(dsa_key, transport.certificate)
    assert caught.value.code == "KEY-UNSUPPORTED"


# --- PKCS#12 --------------------------------------------------------------------------------


def test_pkcs12(tmp_path: Path, chained_transport: Identity) -> None:
    path = tmp_path / "transport.p12"
    path.write_bytes(pkcs12_bytes(chained_transport))
    signer = load_pkcs12_signer(path, PASSWORD)
    assert signer.certificate == chained_transport.certificate
    assert signer.chain == chained_transport.chain
    unencrypted = load_pkcs12_signer(pkcs12_bytes(chained_transport, None), None)
    assert unencrypted.certificate == chained_transport.certificate


def test_pkcs12_problems(transport: Identity) -> None:
    with pytest.raises(KeyLoadError) as caught:
        load_pkcs12_signer(pkcs12_bytes(transport), b"wrong")
    assert caught.value.code == "KEY-PASSWORD"
    with pytest.raises(KeyLoadError) as caught:
        load_pkcs12_signer(transport.cert_pem(), PASSWORD)
    assert caught.value.code == "KEY-LOAD"
    with pytest.raises(KeyLoadError) as caught:
        load_pkcs12_signer(pkcs12_bytes(transport, with_key=False), PASSWORD)
    assert caught.value.code == "KEY-LOAD"


def test_pkcs12_with_a_choice_of_algorithm(ec_transport: Identity) -> None:
    signer = load_pkcs12_signer(
        pkcs12_bytes(ec_transport), PASSWORD, algorithm=SignatureAlgorithm.ECDSA_SHA384
    )
    assert signer.algorithm is SignatureAlgorithm.ECDSA_SHA384
    with pytest.raises(KeyLoadError) as caught:
        load_pkcs12_signer(
            pkcs12_bytes(ec_transport), PASSWORD, algorithm=SignatureAlgorithm.RSA_SHA256
        )
    assert caught.value.code == "KEY-ALGORITHM"


# --- certificates ---------------------------------------------------------------------------


def test_load_certificates_in_every_form(tmp_path: Path, chained_transport: Identity) -> None:
    everything = [chained_transport.certificate, *chained_transport.chain]
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in everything)
    assert load_certificates(pem) == everything
    assert load_certificates(chained_transport.cert_der()) == [chained_transport.certificate]
    p7_pem = pkcs7.serialize_certificates(everything, serialization.Encoding.PEM)
    p7_der = pkcs7.serialize_certificates(everything, serialization.Encoding.DER)
    assert set(load_certificates(p7_pem)) == set(everything)
    assert set(load_certificates(p7_der)) == set(everything)
    path = tmp_path / "bundle.pem"
    path.write_bytes(pem)
    assert load_certificates(path) == everything


@pytest.mark.parametrize(
    "data", [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"]
)
def test_load_certificates_refuses_garbage(data: bytes) -> None:
    with pytest.raises(KeyLoadError) as caught:
        load_certificates(data)
    assert caught.value.code == "KEY-LOAD"


# --- KeySigner ------------------------------------------------------------------------------


def test_key_signer_refuses_weak_or_mismatched_keys(
    transport: Identity, weak_transport: Identity
) -> None:
    with pytest.raises(KeyLoadError) as caught:
        KeySigner(weak_transport.key, weak_transport.certificate)
    assert caught.value.code == "KEY-UNSUPPORTED"
    with pytest.raises(KeyLoadError) as caught:
        KeySigner(transport.key, weak_transport.certificate)
    assert caught.value.code == "KEY-MISMATCH"
    with pytest.raises(KeyLoadError) as caught:
        KeySigner(ec.generate_private_key(ec.SECP256K1()), transport.certificate)
    assert caught.value.code == "KEY-UNSUPPORTED"


@pytest.mark.parametrize(
    "algorithm", [SignatureAlgorithm.RSA_SHA1, SignatureAlgorithm.ECDSA_SHA256]
)
def test_key_signer_refuses_unfit_default_algorithms(
    transport: Identity, algorithm: SignatureAlgorithm
) -> None:
    with pytest.raises(KeyLoadError) as caught:
        KeySigner(transport.key, transport.certificate, algorithm=algorithm)
    assert caught.value.code == "KEY-ALGORITHM"
    with pytest.raises(SigningError) as signing:
        transport.signer().sign(b"data", algorithm)
    assert signing.value.code == "SIG-ALGORITHM"


def test_key_signer_signatures_verify(transport: Identity, ec_transport: Identity) -> None:
    rsa_public = transport.certificate.public_key()
    assert isinstance(rsa_public, rsa.RSAPublicKey)
    data = b"<SignedInfo/>"
    rsa_public.verify(
        transport.signer().sign(data, SignatureAlgorithm.RSA_SHA256),
        data,
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    pss = transport.signer().sign(data, SignatureAlgorithm.RSA_PSS_SHA256)
    rsa_public.verify(pss, data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        rsa_public.verify(pss, data, padding.PKCS1v15(), hashes.SHA256())

    ec_public = ec_transport.certificate.public_key()
    assert isinstance(ec_public, ec.EllipticCurvePublicKey)
    raw = ec_transport.signer().sign(data, SignatureAlgorithm.ECDSA_SHA256)
    assert len(raw) == 64
    der = ecdsa_raw_to_der(raw, ec_public.curve)
    assert der is not None
    ec_public.verify(der, data, ec.ECDSA(hashes.SHA256()))
    assert ecdsa_raw_to_der(raw[:-1], ec_public.curve) is None


def test_signer_contract_defaults(transport: Identity) -> None:
    signer: Signer = RawSigner(transport.key, transport.certificate)
    assert signer.chain == ()
    with pytest.raises(TypeError):
        Signer()  # type: ignore[abstract]
    assert "seos.obshtina-test.bg" in repr(transport.signer())
    assert "PRIVATE" not in repr(transport.signer())


def test_algorithm_metadata() -> None:
    for algorithm in SignatureAlgorithm:
        assert SignatureAlgorithm.from_uri(algorithm.uri) is algorithm
        assert algorithm.hash.name == algorithm.digest.value
        assert algorithm.key_type in {"rsa", "ec"}
    assert SignatureAlgorithm("rsa-sha256") is SignatureAlgorithm.RSA_SHA256
    assert SignatureAlgorithm.from_uri("urn:x") is None
