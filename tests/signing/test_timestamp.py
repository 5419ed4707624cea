"""RFC 3161 time-stamps and XAdES-B-T, against a local TSA served on a loopback port."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import cms, tsp  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from lxml import etree

from eintegr.errors import SigningError, TransportFault, VerificationError
from eintegr.signing.pki import Issued, make_ca, make_signing_certificate
from eintegr.signing.policy import VerificationPolicy
from eintegr.signing.timestamp import (
    TEST_TSA_POLICY,
    TIMESTAMP_FAILURE_CODES,
    TS_CERT,
    TS_IMPRINT,
    TS_RESPONSE,
    TS_SIGNATURE,
    TS_TIME,
    TS_TOKEN,
    TS_UNAVAILABLE,
    TS_UNTRUSTED,
    TimestampAuthority,
    TimestampClient,
    build_timestamp_request,
    make_tsa_certificate,
    parse_timestamp_token,
    verify_timestamp_token,
)
from eintegr.signing.trust import CertificateAuthorities, PinnedCertificates
from eintegr.signing.xades import TIMESTAMP, XADES_NS, sign_xades, verify_xades
from eintegr.transport.asgi_server import ASGIApp, BackgroundServer

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS, "xades": XADES_NS}
DOCUMENT = '<?xml version="1.0"?><Application xmlns="urn:example"><Name>Иван</Name></Application>'
DATA = b"data to time-stamp"
DIGEST = hashlib.sha256(DATA).digest()


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca("eintegr test TSA root")


@pytest.fixture(scope="module")
def tsa(ca: Issued) -> TimestampAuthority:
    key, certificate = make_tsa_certificate(ca.key, ca.certificate)
    return TimestampAuthority(key, certificate)


@pytest.fixture(scope="module")
def tsa_trust(ca: Issued) -> CertificateAuthorities:
    return CertificateAuthorities([ca.certificate])


@pytest.fixture(scope="module")
def server(tsa: TimestampAuthority) -> Iterator[BackgroundServer]:
    with BackgroundServer(tsa.app, name="tsa") as running:
        yield running


@pytest.fixture(scope="module")
def person(ca: Issued) -> Issued:
    return make_signing_certificate(ca, common_name="Иван Петров")


@pytest.fixture(scope="module")
def policy(ca: Issued) -> VerificationPolicy:
    return VerificationPolicy(trust=CertificateAuthorities([ca.certificate]))


@pytest.fixture(scope="module")
def b_t(person: Issued, server: BackgroundServer) -> bytes:
    return sign_xades(
        DOCUMENT.encode(), person.signer(), timestamp=TimestampClient(server.url, timeout=5)
    )


# --- tokens ----------------------------------------------------------------------------------


def test_client_gets_a_token_that_verifies(
    server: BackgroundServer, tsa: TimestampAuthority, tsa_trust: CertificateAuthorities
) -> None:
    token_der = TimestampClient(server.url, timeout=5)(DATA)
    token = verify_timestamp_token(token_der, DIGEST, trust=tsa_trust)
    assert token.policy == TEST_TSA_POLICY
    assert token.hash_algorithm == "sha256"
    assert token.message_imprint == DIGEST
    assert token.certificate == tsa.certificate
    assert token.nonce is not None
    assert abs(token.gen_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_pinned_tsa_certificate_is_trusted(tsa: TimestampAuthority) -> None:
    token = verify_timestamp_token(
        tsa.token(DATA), DIGEST, trust=PinnedCertificates([tsa.certificate])
    )
    assert token.serial_number > 0


def test_other_data_is_refused(tsa: TimestampAuthority, tsa_trust: CertificateAuthorities) -> None:
    other = hashlib.sha256(b"other").digest()
    with pytest.raises(VerificationError) as caught:
        verify_timestamp_token(tsa.token(DATA), other, trust=tsa_trust)
    assert caught.value.code == TS_IMPRINT
    assert caught.value.message_bg != str(caught.value)


def _tampered_imprint(token_der: bytes) -> bytes:
    info = cms.ContentInfo.load(token_der)
    tst = info["content"]["encap_content_info"]["content"].parsed
    tst["message_imprint"]["hashed_message"] = hashlib.sha256(b"forged").digest()
    info["content"]["encap_content_info"]["content"] = cms.ParsableOctetString(tst.dump(True))
    return bytes(info.dump(True))


def test_tampered_tst_info_is_refused(
    tsa: TimestampAuthority, tsa_trust: CertificateAuthorities
) -> None:
    forged = _tampered_imprint(tsa.token(DATA))
    with pytest.raises(VerificationError) as caught:
        verify_timestamp_token(forged, hashlib.sha256(b"forged").digest(), trust=tsa_trust)
    assert caught.value.code == TS_SIGNATURE


def test_tampered_signature_is_refused(
    tsa: TimestampAuthority, tsa_trust: CertificateAuthorities
) -> None:
    info = cms.ContentInfo.load(tsa.token(DATA))
    signer_info = info["content"]["signer_infos"][0]
    value = bytearray(signer_info["signature"].native)
    value[10] ^= 0x01
    signer_info["signature"] = bytes(value)
    with pytest.raises(VerificationError) as caught:
        verify_timestamp_token(bytes(info.dump(True)), DIGEST, trust=tsa_trust)
    assert caught.value.code == TS_SIGNATURE


@pytest.mark.parametrize("garbage", [b"", b"\x30\x03\x02\x01\x01", b"not DER at all" * 10])
def test_garbage_is_refused(garbage: bytes, tsa_trust: CertificateAuthorities) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_timestamp_token(garbage, DIGEST, trust=tsa_trust)
    assert caught.value.code == TS_TOKEN


def test_untrusted_tsa_is_refused(tsa: TimestampAuthority) -> None:
    stranger = make_ca("another root")
    with pytest.raises(VerificationError) as caught:
        verify_timestamp_token(
            tsa.token(DATA), DIGEST, trust=CertificateAuthorities([stranger.certificate])
        )
    assert caught.value.code == TS_UNTRUSTED


def test_tsa_without_time_stamping_eku_is_refused(
    ca: Issued, tsa_trust: CertificateAuthorities
) -> None:
    key, certificate = make_tsa_certificate(ca.key, ca.certificate, time_stamping=False)
    token = TimestampAuthority(key, certificate).token(DATA)
    with pytest.raises(VerificationError) as caught:
        verify_timestamp_token(token, DIGEST, trust=tsa_trust)
    assert caught.value.code == TS_CERT


def test_gen_time_in_the_future_is_refused(
    tsa: TimestampAuthority, tsa_trust: CertificateAuthorities
) -> None:
    key, certificate = make_tsa_certificate()
    ahead = TimestampAuthority(
        key, certificate, clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    )
    with pytest.raises(VerificationError) as caught:
        verify_timestamp_token(ahead.token(DATA), DIGEST, trust=PinnedCertificates([certificate]))
    assert caught.value.code == TS_TIME


def test_tsa_refuses_a_bad_request(tsa: TimestampAuthority) -> None:
    for request in (b"\x30\x00", build_timestamp_request(DIGEST, policy="1.2.3.4")):
        response = tsa.respond(request)
        status = tsp.PKIStatusInfo.load(response[2:])  # a SEQUENCE holding only the status
        assert status["status"].native == "rejection"


def test_client_reports_a_rejection(server: BackgroundServer) -> None:
    client = TimestampClient(server.url, timeout=5, policy="1.2.3.4")
    with pytest.raises(SigningError) as caught:
        client(DATA)
    assert caught.value.code == TS_RESPONSE


def _fixed_answer(status: int, content_type: bytes) -> ASGIApp:
    async def app(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type)],
            }
        )
        await send({"type": "http.response.body", "body": b"no"})

    return app


def test_client_reports_http_errors(server: BackgroundServer) -> None:
    assert httpx.get(server.url, timeout=5).status_code == 405
    with (
        BackgroundServer(_fixed_answer(503, b"text/plain")) as failing,
        pytest.raises(TransportFault) as fault,
    ):
        TimestampClient(failing.url, timeout=5)(DATA)
    assert fault.value.code == TS_UNAVAILABLE
    with (
        BackgroundServer(_fixed_answer(200, b"text/html")) as wrong,
        pytest.raises(SigningError) as refused,
    ):
        TimestampClient(wrong.url, timeout=5)(DATA)
    assert refused.value.code == TS_RESPONSE


def test_client_limits_the_answer_size(server: BackgroundServer) -> None:
    with pytest.raises(SigningError) as caught:
        TimestampClient(server.url, timeout=5, max_bytes=100)(DATA)
    assert caught.value.code == TS_RESPONSE


def test_client_reports_an_unreachable_tsa() -> None:
    with BackgroundServer(TimestampAuthority(*make_tsa_certificate()).app) as stopped:
        url = stopped.url
    with pytest.raises(TransportFault) as caught:
        TimestampClient(url, timeout=2)(DATA)
    assert caught.value.code == TS_UNAVAILABLE


def test_parse_reads_without_judging(tsa: TimestampAuthority) -> None:
    token = parse_timestamp_token(tsa.token(DATA))
    assert token.message_imprint == DIGEST
    assert token.chain == ()


def test_failure_codes_are_documented() -> None:
    assert set(TIMESTAMP_FAILURE_CODES) == {
        TS_TOKEN,
        TS_IMPRINT,
        TS_SIGNATURE,
        TS_CERT,
        TS_UNTRUSTED,
        TS_TIME,
        TS_RESPONSE,
        TS_UNAVAILABLE,
    }
    assert all(c.meaning and c.meaning_bg for c in TIMESTAMP_FAILURE_CODES.values())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_openssl_verifies_our_token(tsa: TimestampAuthority, ca: Issued, tmp_path: Path) -> None:
    token = tmp_path / "token.der"
    token.write_bytes(tsa.token(DATA))
    data = tmp_path / "data.bin"
    data.write_bytes(DATA)
    root = tmp_path / "root.pem"
    root.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    result = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-token_in",
            "-in",
            str(token),
            "-data",
            str(data),
            "-CAfile",
            str(root),
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Verification: OK" in result.stdout


# --- XAdES-B-T -------------------------------------------------------------------------------


def test_b_t_verifies_end_to_end(
    b_t: bytes, policy: VerificationPolicy, tsa_trust: CertificateAuthorities
) -> None:
    verified = verify_xades(b_t, policy, timestamp_trust=tsa_trust, require_timestamp=True)
    assert verified.timestamp is not None
    assert verified.timestamp.gen_time >= verified.signing_time - dt.timedelta(minutes=5)
    root = etree.fromstring(b_t)
    stamp = root.find(".//xades:SignatureTimeStamp/xades:EncapsulatedTimeStamp", NS)
    assert stamp is not None
    assert stamp.text
    assert base64.b64decode(stamp.text) == verified.timestamp.der


def test_b_t_without_timestamp_trust_is_not_silently_accepted(
    b_t: bytes, policy: VerificationPolicy
) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_xades(b_t, policy)
    assert caught.value.code == TIMESTAMP


def test_b_t_with_untrusted_tsa_fails(b_t: bytes, policy: VerificationPolicy) -> None:
    stranger = CertificateAuthorities([make_ca("stranger").certificate])
    with pytest.raises(VerificationError) as caught:
        verify_xades(b_t, policy, timestamp_trust=stranger)
    assert caught.value.code == TS_UNTRUSTED
    assert caught.value.path is not None


def test_b_t_with_a_token_over_other_data_fails(
    b_t: bytes,
    policy: VerificationPolicy,
    tsa: TimestampAuthority,
    tsa_trust: CertificateAuthorities,
) -> None:
    root = etree.fromstring(b_t)
    stamp = root.find(".//xades:EncapsulatedTimeStamp", NS)
    assert stamp is not None
    stamp.text = base64.b64encode(tsa.token(b"something else")).decode()
    with pytest.raises(VerificationError) as caught:
        verify_xades(etree.tostring(root), policy, timestamp_trust=tsa_trust)
    assert caught.value.code == TS_IMPRINT


def test_b_t_with_a_tampered_token_fails(
    b_t: bytes, policy: VerificationPolicy, tsa_trust: CertificateAuthorities
) -> None:
    root = etree.fromstring(b_t)
    stamp = root.find(".//xades:EncapsulatedTimeStamp", NS)
    assert stamp is not None
    assert stamp.text
    stamp.text = base64.b64encode(_tampered_imprint(base64.b64decode(stamp.text))).decode()
    with pytest.raises(VerificationError) as caught:
        verify_xades(etree.tostring(root), policy, timestamp_trust=tsa_trust)
    assert caught.value.code in {TS_IMPRINT, TS_SIGNATURE}


def test_time_stamp_before_signing_time_fails(
    person: Issued, ca: Issued, policy: VerificationPolicy, tsa_trust: CertificateAuthorities
) -> None:
    key, certificate = make_tsa_certificate(
        ca.key, ca.certificate, valid_from=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    )
    early = TimestampAuthority(
        key, certificate, clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    )
    signed = sign_xades(DOCUMENT.encode(), person.signer(), timestamp=early.token)
    with pytest.raises(VerificationError) as caught:
        verify_xades(signed, policy, timestamp_trust=tsa_trust)
    assert caught.value.code == TS_TIME


def test_b_b_still_verifies_and_can_be_required_to_have_a_time_stamp(
    person: Issued, policy: VerificationPolicy, tsa_trust: CertificateAuthorities
) -> None:
    b_b = sign_xades(DOCUMENT.encode(), person.signer())
    assert verify_xades(b_b, policy).timestamp is None
    assert verify_xades(b_b, policy, timestamp_trust=tsa_trust).timestamp is None
    with pytest.raises(VerificationError) as caught:
        verify_xades(b_b, policy, timestamp_trust=tsa_trust, require_timestamp=True)
    assert caught.value.code == TIMESTAMP


def test_signing_refuses_a_token_over_other_data(person: Issued, tsa: TimestampAuthority) -> None:
    with pytest.raises(SigningError) as caught:
        sign_xades(DOCUMENT.encode(), person.signer(), timestamp=lambda _: tsa.token(b"x"))
    assert caught.value.code == TS_RESPONSE
    with pytest.raises(SigningError) as caught:
        sign_xades(DOCUMENT.encode(), person.signer(), timestamp=lambda _: b"junk")
    assert caught.value.code == TS_RESPONSE
