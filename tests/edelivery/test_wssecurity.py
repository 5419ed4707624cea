"""WS-Security X.509 timestamp signatures: our verifier, xmlsec1 as an independent one, attacks."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from eintegr.errors import SigningError, VerificationError
from eintegr.signing import SignatureAlgorithm, Signer, VerificationPolicy
from eintegr.signing.pki import make_transport_certificate
from eintegr.transport.soap import SOAP11_NS, build_envelope
from eintegr.transport.wssecurity import (
    WSSE_NS,
    WSU_NS,
    CertificateThumbprints,
    add_security_header,
    certificate_thumbprint,
    sign_envelope,
    verify_envelope,
)

from .conftest import Pki

XMLSEC1 = shutil.which("xmlsec1")
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"s": SOAP11_NS, "wsse": WSSE_NS, "wsu": WSU_NS, "ds": DS}


def _envelope() -> bytes:
    body = etree.Element("{urn:example}Ping")
    body.text = "здравей"
    return build_envelope([body])


def _policy(*issued: x509.Certificate, at: datetime | None = None) -> VerificationPolicy:
    return VerificationPolicy(
        trust=CertificateThumbprints(certificate_thumbprint(c) for c in issued), at=at
    )


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def _code(data: bytes, policy: VerificationPolicy, **options: object) -> str:
    with pytest.raises(VerificationError) as caught:
        verify_envelope(data, policy, **options)  # type: ignore[arg-type]
    return caught.value.code


def test_sign_and_verify_round_trip(pki: Pki) -> None:
    signed = sign_envelope(_envelope(), pki.dms.signer())
    verified = verify_envelope(signed, _policy(pki.dms.certificate))
    der = pki.dms.certificate.public_bytes(serialization.Encoding.DER)
    assert verified.thumbprint == hashlib.sha1(der).hexdigest()
    assert verified.certificate == pki.dms.certificate
    assert verified.expires - verified.created == timedelta(minutes=5)
    assert verified.algorithm is SignatureAlgorithm.RSA_SHA256
    root = _tree(signed)
    security = root.find("s:Header/wsse:Security", NS)
    assert security is not None
    assert security.get(f"{{{SOAP11_NS}}}mustUnderstand") == "1"
    assert [etree.QName(c).localname for c in security] == [
        "Timestamp",
        "BinarySecurityToken",
        "Signature",
    ]
    assert root.find("s:Body", NS) is not None


def test_the_header_follows_the_policy_shape(pki: Pki) -> None:
    root = _tree(sign_envelope(_envelope(), pki.dms.signer()))
    info = root.find(".//ds:SignedInfo", NS)
    assert info is not None
    exc = "http://www.w3.org/2001/10/xml-exc-c14n#"
    assert info.find("ds:CanonicalizationMethod", NS).get("Algorithm") == exc  # type: ignore[union-attr]
    references = info.findall("ds:Reference", NS)
    assert len(references) == 1
    stamp = root.find(".//wsu:Timestamp", NS)
    assert stamp is not None
    assert references[0].get("URI") == "#" + stamp.get(f"{{{WSU_NS}}}Id", "")
    token_ref = root.find(".//ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference", NS)
    token = root.find(".//wsse:BinarySecurityToken", NS)
    assert token_ref is not None
    assert token is not None
    assert token_ref.get("URI") == "#" + token.get(f"{{{WSU_NS}}}Id", "")
    assert token.get("ValueType", "").endswith("#X509v3")


@pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed")
@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_xmlsec1_verifies_our_signature(pki: Pki, tmp_path: Path, key_type: str) -> None:
    issued = (
        pki.dms
        if key_type == "rsa"
        else make_transport_certificate(pki.ca, eik="000695235", host="ec.example", key_type="ec")
    )
    signed = sign_envelope(_envelope(), issued.signer())
    (tmp_path / "signed.xml").write_bytes(signed)
    (tmp_path / "cert.pem").write_bytes(issued.certificate_pem())
    command = [
        str(XMLSEC1),
        "--verify",
        "--pubkey-cert-pem",
        str(tmp_path / "cert.pem"),
        "--id-attr:Id",
        f"{WSU_NS}:Timestamp",
        str(tmp_path / "signed.xml"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout + result.stderr
    # and the independent verifier notices a change of the signed timestamp
    root = _tree(signed)
    created = root.find(".//wsu:Created", NS)
    assert created is not None
    created.text = "2000-01-01T00:00:00.000Z"
    (tmp_path / "signed.xml").write_bytes(_bytes(root))
    tampered = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert tampered.returncode != 0
    verify_envelope(signed, _policy(issued.certificate))


def test_a_changed_timestamp_fails_the_digest(pki: Pki) -> None:
    root = _tree(sign_envelope(_envelope(), pki.dms.signer()))
    expires = root.find(".//wsu:Expires", NS)
    assert expires is not None
    expires.text = "2999-01-01T00:00:00.000Z"
    assert _code(_bytes(root), _policy(pki.dms.certificate)) == "WSS-DIGEST"


def test_a_changed_signature_value_fails(pki: Pki) -> None:
    root = _tree(sign_envelope(_envelope(), pki.dms.signer()))
    value = root.find(".//ds:SignatureValue", NS)
    assert value is not None
    value.text = (
        "A" + (value.text or "")[1:]
        if (value.text or "")[0] != "A"
        else "B" + (value.text or "")[1:]
    )
    assert _code(_bytes(root), _policy(pki.dms.certificate)) == "WSS-SIGNATURE"


def test_a_swapped_token_fails(pki: Pki) -> None:
    """The token replaced by another registered certificate: the signature does not verify."""
    root = _tree(sign_envelope(_envelope(), pki.dms.signer()))
    token = root.find(".//wsse:BinarySecurityToken", NS)
    assert token is not None
    other = _tree(sign_envelope(_envelope(), pki.agency.signer())).find(
        ".//wsse:BinarySecurityToken", NS
    )
    assert other is not None
    token.text = other.text
    policy = _policy(pki.dms.certificate, pki.agency.certificate)
    assert _code(_bytes(root), policy) == "WSS-SIGNATURE"


def test_an_unregistered_certificate_is_refused(pki: Pki) -> None:
    signed = sign_envelope(_envelope(), pki.stranger.signer())
    assert _code(signed, _policy(pki.dms.certificate)) == "WSS-UNREGISTERED"


def test_freshness(pki: Pki) -> None:
    now = datetime.now(UTC)
    policy = _policy(pki.dms.certificate)
    old = sign_envelope(_envelope(), pki.dms.signer(), now=now - timedelta(hours=1))
    assert _code(old, policy) == "WSS-EXPIRED"
    future = sign_envelope(_envelope(), pki.dms.signer(), now=now + timedelta(hours=1))
    assert _code(future, policy) == "WSS-NOT-YET-VALID"
    long = sign_envelope(_envelope(), pki.dms.signer(), lifetime=timedelta(days=2))
    assert _code(long, policy) == "WSS-LIFETIME"
    # within the clock skew: accepted
    skewed = sign_envelope(_envelope(), pki.dms.signer(), now=now + timedelta(minutes=3))
    verify_envelope(skewed, policy)
    assert _code(skewed, policy, max_clock_skew=timedelta(seconds=10)) == "WSS-NOT-YET-VALID"


def test_a_missing_header_is_reported(pki: Pki) -> None:
    assert _code(_envelope(), _policy(pki.dms.certificate)) == "WSS-MISSING"


def test_signature_wrapping_with_a_duplicate_id_is_refused(pki: Pki) -> None:
    root = _tree(sign_envelope(_envelope(), pki.dms.signer()))
    stamp = root.find(".//wsu:Timestamp", NS)
    body = root.find("s:Body", NS)
    assert stamp is not None
    assert body is not None
    decoy = etree.SubElement(body, f"{{{WSU_NS}}}Timestamp")
    decoy.set(f"{{{WSU_NS}}}Id", stamp.get(f"{{{WSU_NS}}}Id", ""))
    assert _code(_bytes(root), _policy(pki.dms.certificate)) == "WSS-STRUCTURE"


def test_a_signature_that_does_not_cover_the_timestamp_is_refused(pki: Pki) -> None:
    """A valid signature over the body instead of the timestamp is not accepted."""
    root = _tree(sign_envelope(_envelope(), pki.dms.signer()))
    body = root.find("s:Body", NS)
    reference = root.find(".//ds:Reference", NS)
    signed_info = root.find(".//ds:SignedInfo", NS)
    value = root.find(".//ds:SignatureValue", NS)
    assert body is not None
    assert reference is not None
    assert signed_info is not None
    assert value is not None
    body.set(f"{{{WSU_NS}}}Id", "body")
    reference.set("URI", "#body")
    digest = hashlib.sha256(etree.tostring(body, method="c14n", exclusive=True)).digest()
    reference.find("ds:DigestValue", NS).text = base64.b64encode(digest).decode()  # type: ignore[union-attr]
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True)
    signature = pki.dms.signer().sign(canonical, SignatureAlgorithm.RSA_SHA256)
    value.text = base64.b64encode(signature).decode()
    with pytest.raises(VerificationError) as caught:
        verify_envelope(_bytes(root), _policy(pki.dms.certificate))
    assert caught.value.code == "WSS-STRUCTURE"
    assert "does not cover" in str(caught.value)


def test_sha1_and_inclusive_c14n_are_refused(pki: Pki) -> None:
    root = _tree(sign_envelope(_envelope(), pki.dms.signer()))
    method = root.find(".//ds:SignatureMethod", NS)
    assert method is not None
    method.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    assert _code(_bytes(root), _policy(pki.dms.certificate)) == "SIG-ALGORITHM"
    root = _tree(sign_envelope(_envelope(), pki.dms.signer()))
    c14n = root.find(".//ds:CanonicalizationMethod", NS)
    assert c14n is not None
    c14n.set("Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    assert _code(_bytes(root), _policy(pki.dms.certificate)) == "SIG-ALGORITHM"


def test_two_security_headers_are_refused(pki: Pki) -> None:
    root = _tree(sign_envelope(_envelope(), pki.dms.signer()))
    header = root.find("s:Header", NS)
    security = root.find(".//wsse:Security", NS)
    assert header is not None
    assert security is not None
    header.append(etree.fromstring(etree.tostring(security)))
    assert _code(_bytes(root), _policy(pki.dms.certificate)) == "WSS-STRUCTURE"


def test_an_expired_certificate_is_refused(pki: Pki) -> None:
    expired = make_transport_certificate(
        pki.ca,
        eik="000695235",
        host="old.example",
        valid_from=datetime.now(UTC) - timedelta(days=30),
        valid_days=10,
    )
    signed = sign_envelope(_envelope(), expired.signer())
    assert _code(signed, _policy(expired.certificate)) == "SIG-CERT-EXPIRED"


def test_not_xml_is_reported(pki: Pki) -> None:
    assert _code(b"<s:Envelope", _policy(pki.dms.certificate)) == "WSS-XML"


def test_signing_misuse(pki: Pki) -> None:
    signed = sign_envelope(_envelope(), pki.dms.signer())
    with pytest.raises(SigningError) as caught:
        sign_envelope(signed, pki.dms.signer())
    assert caught.value.code == "WSS-PRESENT"
    with pytest.raises(SigningError) as caught:
        sign_envelope(b"<notsoap/>", pki.dms.signer())
    assert caught.value.code == "WSS-ENVELOPE"
    with pytest.raises(ValueError, match="lifetime"):
        sign_envelope(_envelope(), pki.dms.signer(), lifetime=timedelta(0))
    with pytest.raises(ValueError, match="timezone"):
        sign_envelope(_envelope(), pki.dms.signer(), now=datetime(2024, 1, 1))
    with pytest.raises(SigningError) as caught:
        sign_envelope(_envelope(), pki.dms.signer(), algorithm=SignatureAlgorithm.RSA_SHA1)
    assert caught.value.code == "SIG-ALGORITHM"


class _BrokenSigner(Signer):
    """Signs with one key but claims another certificate."""

    def __init__(self, claimed: x509.Certificate, actual: Signer) -> None:
        self._claimed = claimed
        self._actual = actual

    @property
    def certificate(self) -> x509.Certificate:
        return self._claimed

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return SignatureAlgorithm.RSA_SHA256

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        return self._actual.sign(data, algorithm)


def test_a_misconfigured_signer_fails_early(pki: Pki) -> None:
    signer = _BrokenSigner(pki.dms.certificate, pki.agency.signer())
    root = _tree(_envelope())
    with pytest.raises(SigningError) as caught:
        add_security_header(root, signer)
    assert caught.value.code == "SIG-SIGNER"
    assert root.find(".//wsse:Security", NS) is None


def test_certificate_thumbprints_accept_common_spellings(pki: Pki) -> None:
    thumbprint = certificate_thumbprint(pki.dms.certificate)
    spelled = ":".join(thumbprint[i : i + 2] for i in range(0, 40, 2)).upper()
    trust = CertificateThumbprints([spelled])
    assert trust.thumbprints == {thumbprint}
    with pytest.raises(ValueError, match="thumbprint"):
        CertificateThumbprints(["xyz"])
