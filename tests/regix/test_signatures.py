"""Signed RegiX results: XAdES over #data, signed by sign_result and verified by verify_result."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib

import pytest
from lxml import etree

from eintegr.errors import MessageError, SigningError, VerificationError
from eintegr.messages.regix import (
    SIGNED_DATA_NS,
    DataContainer,
    RegixCall,
    ServiceResultData,
    response_body,
)
from eintegr.messages.regix_operations.grao_nbd import PersonDataRequest, PersonDataResponse
from eintegr.signing import (
    CertificateAuthorities,
    PinnedCertificates,
    SignatureAlgorithm,
    VerificationPolicy,
)
from eintegr.signing.pki import make_transport_certificate
from eintegr.transport.regix import read_result, sign_result, verify_result
from eintegr.transport.soap import build_envelope
from eintegr.xml import parse_xml
from tests.regix.conftest import PERSON_EGN, Pki

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
SD = SIGNED_DATA_NS


def _result() -> etree._Element:
    return ServiceResultData(
        is_ready=True,
        data=DataContainer(
            request=PersonDataRequest(egn=PERSON_EGN),
            response=PersonDataResponse(egn=PERSON_EGN, place_of_birth="гр. Пловдив"),
        ),
        has_error=False,
        service_call_id=1,
    ).to_element()


def _signed(pki: Pki) -> bytes:
    return etree.tostring(sign_result(_result(), pki.signer.signer()))


def test_a_signed_result_verifies_and_names_its_signer(pki: Pki) -> None:
    signed = _signed(pki)
    verified = verify_result(signed, pki.policy())
    assert verified.certificate == pki.signer.certificate
    assert verified.signer == "CN=regix.example,ST=B:000695235,C=BG"
    assert verified.signer_name == "regix.example"
    assert abs(verified.signing_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert verified.signature_algorithm is SignatureAlgorithm.RSA_SHA256
    assert verified.signed_data.startswith(b'<Data xmlns="http://egov.bg/RegiX/SignedData"')
    # the signature sits after Data, where the schema puts it
    tags = [etree.QName(c).localname for c in parse_xml(signed).getroot()]
    assert tags[:3] == ["IsReady", "Data", "Signature"]
    assert ServiceResultData.from_xml(signed).signature is not None
    by_ca = VerificationPolicy(trust=CertificateAuthorities([pki.ca.certificate]))
    verify_result(signed, by_ca)


def test_the_signature_survives_the_soap_envelope(pki: Pki) -> None:
    result = sign_result(_result(), pki.signer.signer())
    envelope = build_envelope([response_body(RegixCall.EXECUTE, result)])
    assert b"xmlns:s=" in envelope
    verify_result(envelope, pki.policy())
    reread = read_result(envelope, "PersonDataSearch", policy=pki.policy())
    assert reread.signature is not None
    assert isinstance(reread.response, PersonDataResponse)


def test_changed_data_is_detected(pki: Pki) -> None:
    root = parse_xml(_signed(pki)).getroot()
    root.find(f".//{{{SD}}}Response").append(etree.Element("{urn:x}Injected"))  # type: ignore[union-attr]
    with pytest.raises(VerificationError) as caught:
        verify_result(root, pki.policy())
    assert caught.value.code == "SIG-DIGEST"
    assert "променени" in caught.value.message_bg


def test_changed_signed_properties_are_detected(pki: Pki) -> None:
    root = parse_xml(_signed(pki)).getroot()
    time = root.find(f".//{{{XADES}}}SigningTime")
    assert time is not None
    time.text = "2000-01-01T00:00:00Z"
    with pytest.raises(VerificationError) as caught:
        verify_result(root, pki.policy())
    assert caught.value.code == "SIG-DIGEST"


def test_a_changed_value_is_detected(pki: Pki) -> None:
    root = parse_xml(_signed(pki)).getroot()
    value = root.find(f".//{{{DS}}}SignatureValue")
    assert value is not None
    raw = bytearray(base64.b64decode(value.text or ""))
    raw[10] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(VerificationError) as caught:
        verify_result(root, pki.policy())
    assert caught.value.code == "SIG-VALUE"


def test_trust_and_validity_come_from_the_policy(pki: Pki) -> None:
    signed = _signed(pki)
    with pytest.raises(VerificationError) as untrusted:
        verify_result(
            signed, VerificationPolicy(trust=PinnedCertificates([pki.client.certificate]))
        )
    assert untrusted.value.code == "П.8"
    later = VerificationPolicy(
        trust=PinnedCertificates([pki.signer.certificate]),
        at=dt.datetime.now(dt.UTC) + dt.timedelta(days=4000),
    )
    with pytest.raises(VerificationError) as expired:
        verify_result(signed, later)
    assert expired.value.code == "SIG-CERT-EXPIRED"
    earlier = VerificationPolicy(
        trust=PinnedCertificates([pki.signer.certificate]),
        at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        check_validity=False,
    )
    with pytest.raises(VerificationError) as future:
        verify_result(signed, earlier)
    assert future.value.code == "XADES-SIGNING-TIME"


def test_an_unsigned_result_is_not_taken_for_signed(pki: Pki) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_result(etree.tostring(_result()), pki.policy())
    assert caught.value.code == "П.7"
    # a signature moved inside Data is not at its place
    root = parse_xml(_signed(pki)).getroot()
    signature = root.find(f"{{{DS}}}Signature")
    assert signature is not None
    root.find(f"{{{SD}}}Data").append(signature)  # type: ignore[union-attr]
    with pytest.raises(VerificationError) as moved:
        verify_result(root, pki.policy())
    assert moved.value.code == "П.7"


def test_a_second_element_with_the_data_id_is_refused(pki: Pki) -> None:
    """Signature wrapping: the signed Data hidden elsewhere, a forged one in its place."""
    root = parse_xml(_signed(pki)).getroot()
    data = root.find(f"{{{SD}}}Data")
    assert data is not None
    holder = root.find(f".//{{{DS}}}Object")
    assert holder is not None
    decoy = etree.SubElement(holder, "{urn:x}Hidden")
    decoy.append(copy.deepcopy(data))
    with pytest.raises(VerificationError) as caught:
        verify_result(root, pki.policy())
    assert caught.value.code == "SIG-STRUCTURE"
    assert "not unique" in str(caught.value)


def test_a_second_data_element_is_refused(pki: Pki) -> None:
    root = parse_xml(_signed(pki)).getroot()
    data = root.find(f"{{{SD}}}Data")
    assert data is not None
    forged = copy.deepcopy(data)
    del forged.attrib["id"]
    data.addprevious(forged)
    with pytest.raises(VerificationError, match="exactly one Data") as caught:
        verify_result(root, pki.policy())
    assert caught.value.code == "SIG-STRUCTURE"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda sig: sig.find(f"{{{DS}}}SignedInfo").append(
                copy.deepcopy(sig.find(f".//{{{DS}}}Reference"))
            ),
            "repeated",
        ),
        (lambda sig: sig.find(f".//{{{DS}}}Reference").set("URI", "#other"), "not accepted"),
        (
            lambda sig: etree.SubElement(
                sig.find(f".//{{{DS}}}Transforms"),
                f"{{{DS}}}Transform",
                Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116",
            ),
            "unexpected transforms",
        ),
        (lambda sig: sig.remove(sig.find(f"{{{DS}}}KeyInfo")), "must hold"),
        (lambda sig: sig.set("Id", "changed"), "Target"),
    ],
)
def test_signatures_of_another_shape_are_refused(pki: Pki, mutate, message) -> None:  # type: ignore[no-untyped-def]
    root = parse_xml(_signed(pki)).getroot()
    signature = root.find(f"{{{DS}}}Signature")
    mutate(signature)
    with pytest.raises(VerificationError, match=message) as caught:
        verify_result(root, pki.policy())
    assert caught.value.code == "SIG-STRUCTURE"


def test_sha1_needs_the_policy_opt_in(pki: Pki) -> None:
    root = _result()
    signature = _sign_regix_style(root, pki, digest="sha1")
    assert signature is not None
    with pytest.raises(VerificationError) as caught:
        verify_result(root, pki.policy())
    assert caught.value.code == "SIG-ALGORITHM"
    verify_result(root, pki.policy(allow_sha1=True))


def _c14n_inclusive(node: etree._Element) -> bytes:
    return etree.tostring(
        parse_xml(etree.tostring(node, with_tail=False)), method="c14n", exclusive=False
    )


def _sign_regix_style(
    result: etree._Element, pki: Pki, *, digest: str = "sha256"
) -> etree._Element:
    """A signature as RegiX's signing library writes one: inclusive C14N 1.0 everywhere (no
    explicit transform after enveloped-signature), ``SigningCertificate`` (v1), ids of its own."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    uris = {
        "sha256": ("http://www.w3.org/2001/04/xmlenc#sha256", hashes.SHA256(), hashlib.sha256),
        "sha1": ("http://www.w3.org/2000/09/xmldsig#sha1", hashes.SHA1(), hashlib.sha1),
    }
    digest_uri, hash_algorithm, digest_function = uris[digest]
    method = (
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        if digest == "sha256"
        else "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    )
    data = result.find(f"{{{SD}}}Data")
    assert data is not None
    signature = etree.Element(f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="sig-1")
    data.addnext(signature)
    info = etree.SubElement(signature, f"{{{DS}}}SignedInfo")
    etree.SubElement(
        info,
        f"{{{DS}}}CanonicalizationMethod",
        Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    )
    etree.SubElement(info, f"{{{DS}}}SignatureMethod", Algorithm=method)
    ref = etree.SubElement(info, f"{{{DS}}}Reference", Id="r-id-1", URI="#data")
    etree.SubElement(
        etree.SubElement(ref, f"{{{DS}}}Transforms"),
        f"{{{DS}}}Transform",
        Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    )
    etree.SubElement(ref, f"{{{DS}}}DigestMethod", Algorithm=digest_uri)
    data_digest = etree.SubElement(ref, f"{{{DS}}}DigestValue")
    props_ref = etree.SubElement(
        info,
        f"{{{DS}}}Reference",
        Type="http://uri.etsi.org/01903#SignedProperties",
        URI="#sp-1",
    )
    etree.SubElement(props_ref, f"{{{DS}}}DigestMethod", Algorithm=digest_uri)
    props_digest = etree.SubElement(props_ref, f"{{{DS}}}DigestValue")
    value = etree.SubElement(signature, f"{{{DS}}}SignatureValue")
    certificate = pki.signer.certificate
    from cryptography.hazmat.primitives import serialization

    der = certificate.public_bytes(serialization.Encoding.DER)
    x509_data = etree.SubElement(
        etree.SubElement(signature, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data"
    )
    etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = base64.b64encode(der).decode()
    qp = etree.SubElement(
        etree.SubElement(signature, f"{{{DS}}}Object"),
        f"{{{XADES}}}QualifyingProperties",
        nsmap={"xades": XADES},
        Target="#sig-1",
    )
    props = etree.SubElement(qp, f"{{{XADES}}}SignedProperties", Id="sp-1")
    ssp = etree.SubElement(props, f"{{{XADES}}}SignedSignatureProperties")
    etree.SubElement(ssp, f"{{{XADES}}}SigningTime").text = (
        dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    )
    cert = etree.SubElement(
        etree.SubElement(ssp, f"{{{XADES}}}SigningCertificate"), f"{{{XADES}}}Cert"
    )
    cert_digest = etree.SubElement(cert, f"{{{XADES}}}CertDigest")
    etree.SubElement(cert_digest, f"{{{DS}}}DigestMethod", Algorithm=digest_uri)
    etree.SubElement(cert_digest, f"{{{DS}}}DigestValue").text = base64.b64encode(
        certificate.fingerprint(hash_algorithm)
    ).decode()
    issuer_serial = etree.SubElement(cert, f"{{{XADES}}}IssuerSerial")
    etree.SubElement(
        issuer_serial, f"{{{DS}}}X509IssuerName"
    ).text = certificate.issuer.rfc4514_string()
    etree.SubElement(issuer_serial, f"{{{DS}}}X509SerialNumber").text = str(
        certificate.serial_number
    )
    data_digest.text = base64.b64encode(digest_function(_c14n_inclusive(data)).digest()).decode()
    props_digest.text = base64.b64encode(digest_function(_c14n_inclusive(props)).digest()).decode()
    key = pki.signer.key
    assert isinstance(key, rsa.RSAPrivateKey)
    signed = key.sign(_c14n_inclusive(info), padding.PKCS1v15(), hash_algorithm)
    value.text = base64.b64encode(signed).decode()
    return signature


def test_a_signature_in_the_style_of_regix_verifies(pki: Pki) -> None:
    result = _result()
    _sign_regix_style(result, pki)
    verified = verify_result(result, pki.policy())
    assert verified.canonicalization == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    # inclusive C14N depends on the namespaces in scope: in another context it breaks
    holder = etree.Element("{urn:other}Holder", nsmap={"o": "urn:other"})
    holder.append(copy.deepcopy(result))
    with pytest.raises(VerificationError) as caught:
        verify_result(holder[0], pki.policy())
    assert caught.value.code == "SIG-VALUE"  # the canonical SignedInfo changed first


def test_sign_result_refuses_what_it_cannot_sign(pki: Pki) -> None:
    signer = pki.signer.signer()
    with pytest.raises(SigningError, match="only a ServiceResultData"):
        sign_result(etree.Element("x"), signer)
    empty = ServiceResultData(is_ready=True, has_error=True, error="e").to_element()
    with pytest.raises(SigningError, match="no Data"):
        sign_result(empty, signer)
    signed = sign_result(_result(), signer)
    with pytest.raises(SigningError, match="already signed"):
        sign_result(signed, signer)
    with pytest.raises(SigningError):
        sign_result(_result(), signer, algorithm=SignatureAlgorithm.RSA_SHA1)
    with pytest.raises(SigningError, match="timezone"):
        sign_result(_result(), signer, signing_time=dt.datetime(2024, 1, 1))


def test_ec_keys_sign_and_verify(pki: Pki) -> None:
    ec_signer = make_transport_certificate(
        pki.ca, eik="000695235", host="ec.example", key_type="ec"
    )
    root = sign_result(_result(), ec_signer.signer())
    verified = verify_result(
        root, VerificationPolicy(trust=PinnedCertificates([ec_signer.certificate]))
    )
    assert verified.signature_algorithm is SignatureAlgorithm.ECDSA_SHA256


def test_sources_without_a_single_result_are_refused(pki: Pki) -> None:
    with pytest.raises(MessageError, match="no single ServiceResultData"):
        verify_result(b"<x/>", pki.policy())
    with pytest.raises(MessageError, match="not acceptable XML"):
        verify_result(b"<x", pki.policy())
