"""Signing and verifying СЕОС messages and documents: the profile, round trips, reports."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from eintegr.errors import MessageError, SigningError, VerificationError, XmlError
from eintegr.messages.seos import Message
from eintegr.signing import (
    FAILURE_CODES,
    Canonicalization,
    DigestAlgorithm,
    PinnedCertificates,
    SignatureAlgorithm,
    VerificationPolicy,
    check_document_signature,
    check_message_signature,
    sign_document,
    sign_message,
    verify_document,
    verify_message,
)
from tests.signing.helpers import (
    DS,
    Identity,
    RawSigner,
    parse,
    q,
    registration_request,
    serialize,
    status_response,
)

C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


def policy_for(identity: Identity, **kwargs: object) -> VerificationPolicy:
    return VerificationPolicy(trust=PinnedCertificates([identity.certificate]), **kwargs)  # type: ignore[arg-type]


# --- the signature's form -------------------------------------------------------------------


def test_signature_is_the_enveloped_last_child_in_the_net_form(transport: Identity) -> None:
    signed = sign_message(registration_request(), transport.signer())
    root = parse(signed)
    signature = root[-1]
    assert [etree.QName(c).localname for c in root] == ["Header", "Body", "Signature"]
    assert signature.tag == q("Signature", DS)
    assert signature.prefix is None  # <Signature xmlns="…xmldsig#">, as .NET SignedXml writes it
    info = signature.find(q("SignedInfo", DS))
    assert info is not None
    assert info.find(q("CanonicalizationMethod", DS)).get("Algorithm") == C14N_10  # type: ignore[union-attr]
    assert info.find(q("SignatureMethod", DS)).get("Algorithm") == SignatureAlgorithm.RSA_SHA256.uri  # type: ignore[union-attr]
    references = info.findall(q("Reference", DS))
    assert len(references) == 1
    assert references[0].get("URI") == ""
    transforms = [t.get("Algorithm") for t in references[0].iter(q("Transform", DS))]
    assert transforms == [DS + "enveloped-signature"]
    digest = references[0].find(q("DigestMethod", DS))
    assert digest is not None
    assert digest.get("Algorithm") == DigestAlgorithm.SHA256.uri
    certificates = signature.findall(
        f"{q('KeyInfo', DS)}/{q('X509Data', DS)}/{q('X509Certificate', DS)}"
    )
    assert [base64.b64decode(c.text or "") for c in certificates] == [transport.cert_der()]
    serial = signature.find(f".//{q('X509IssuerSerial', DS)}/{q('X509SerialNumber', DS)}")
    assert serial is not None
    assert serial.text == str(transport.certificate.serial_number)


def test_signing_keeps_the_message_bytes(transport: Identity) -> None:
    original = registration_request(pretty=True)
    signed = sign_message(original, transport.signer())
    content = original[original.index(b"<Message") : original.index(b"</Body>") + 7]
    assert signed.startswith(b"<?xml")
    assert content in signed  # pretty-printing untouched
    assert verify_message(signed, policy_for(transport)).message == Message.from_xml(original)


def test_include_chain_puts_the_intermediates_in_key_info(chained_transport: Identity) -> None:
    signed = sign_message(registration_request(), chained_transport.signer(), include_chain=True)
    ders = [
        base64.b64decode(node.text or "") for node in parse(signed).iter(q("X509Certificate", DS))
    ]
    chain = [c.public_bytes(serialization.Encoding.DER) for c in chained_transport.chain]
    assert chain
    assert ders == [chained_transport.cert_der(), *chain]
    verified = verify_message(signed, policy_for(chained_transport))
    assert verified.certificate == chained_transport.certificate
    assert verified.chain == chained_transport.chain


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "algorithm",
    [
        SignatureAlgorithm.RSA_SHA256,
        SignatureAlgorithm.RSA_SHA384,
        SignatureAlgorithm.RSA_SHA512,
        SignatureAlgorithm.RSA_PSS_SHA256,
    ],
)
def test_rsa_round_trip(transport: Identity, algorithm: SignatureAlgorithm) -> None:
    signed = sign_message(registration_request(), transport.signer(), algorithm=algorithm)
    verified = verify_message(signed, policy_for(transport))
    assert verified.signature_algorithm is algorithm
    assert verified.digest_algorithm is algorithm.digest
    assert verified.canonicalization is Canonicalization.C14N_1_0
    assert verified.certificate == transport.certificate
    assert verified.chain == ()


@pytest.mark.parametrize(
    "algorithm", [SignatureAlgorithm.ECDSA_SHA256, SignatureAlgorithm.ECDSA_SHA384]
)
def test_ecdsa_round_trip_uses_raw_r_s(
    ec_transport: Identity, algorithm: SignatureAlgorithm
) -> None:
    signed = sign_message(registration_request(), ec_transport.signer(), algorithm=algorithm)
    value = parse(signed).find(f"{q('Signature', DS)}/{q('SignatureValue', DS)}")
    assert value is not None
    assert len(base64.b64decode(value.text or "")) == 64  # P-256: 32-byte r || 32-byte s
    verified = verify_message(signed, policy_for(ec_transport))
    assert verified.signature_algorithm is algorithm


def test_verified_model_and_signed_xml_come_from_the_canonical_bytes(
    transport: Identity,
) -> None:
    signed = sign_message(registration_request(doc_number="ТЕСТ-42/2024"), transport.signer())
    verified = verify_message(signed, policy_for(transport))
    assert b"Signature" not in verified.signed_xml
    assert not verified.signed_xml.startswith(b"<?xml")  # canonical form: no declaration
    assert verified.message == Message.from_xml(verified.signed_xml)
    number = verified.message.body.document.doc_id.number  # type: ignore[union-attr]
    assert number is not None
    assert number.number == "ТЕСТ-42/2024"


def test_sign_a_message_model(transport: Identity) -> None:
    model = Message.from_xml(status_response())
    signed = sign_message(model, transport.signer())
    assert verify_message(signed, policy_for(transport)).message == model


def test_one_mib_attachment(transport: Identity) -> None:
    attachment = bytes(range(256)) * 4096
    signed = sign_message(registration_request(attachment=attachment), transport.signer())
    verified = verify_message(signed, policy_for(transport))
    document = verified.message.body.document  # type: ignore[union-attr]
    assert document.attachments[0].content == attachment


def test_non_utf8_input_is_signed_as_utf8(transport: Identity) -> None:
    text = (
        registration_request()
        .decode("utf-8")
        .replace('encoding="utf-8"', 'encoding="windows-1251"')
    )
    signed = sign_message(text.encode("cp1251"), transport.signer())
    assert signed.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert verify_message(signed, policy_for(transport)).message == Message.from_xml(
        registration_request()
    )


def test_a_custom_signer_is_all_an_hsm_needs(transport: Identity) -> None:
    hsm = RawSigner(transport.key, transport.certificate)
    signed = sign_message(registration_request(), hsm)
    assert hsm.calls == 1
    verify_message(signed, policy_for(transport))


# --- refusing to sign -----------------------------------------------------------------------


def test_refuses_to_sign_twice(transport: Identity) -> None:
    signed = sign_message(registration_request(), transport.signer())
    with pytest.raises(SigningError) as caught:
        sign_message(signed, transport.signer())
    assert caught.value.code == "SIG-ALREADY-SIGNED"


def test_refuses_a_root_other_than_message(transport: Identity) -> None:
    with pytest.raises(SigningError) as caught:
        sign_message(b"<Message xmlns='urn:other'/>", transport.signer())
    assert caught.value.code == "SIG-NOT-MESSAGE"
    assert caught.value.message_bg


def test_refuses_rsa_sha1_and_unfit_algorithms(transport: Identity) -> None:
    for algorithm in (SignatureAlgorithm.RSA_SHA1, SignatureAlgorithm.ECDSA_SHA256):
        with pytest.raises(SigningError) as caught:
            sign_message(registration_request(), transport.signer(), algorithm=algorithm)
        assert caught.value.code == "SIG-ALGORITHM"


def test_refuses_unsafe_xml_when_signing(transport: Identity) -> None:
    evil = b'<!DOCTYPE m [<!ENTITY x "y">]><Message xmlns="http://schemas.egov.bg/messaging/v1"/>'
    with pytest.raises(XmlError):
        sign_message(evil, transport.signer())


def test_refuses_xml_lang_above_the_signature(transport: Identity) -> None:
    data = registration_request().replace(b"<Message ", b'<Message xml:lang="bg" ', 1)
    with pytest.raises(SigningError) as caught:
        sign_message(data, transport.signer())
    assert caught.value.code == "SIG-XML-ATTRIBUTE"


@pytest.mark.parametrize("der_ecdsa", [False, True])
def test_a_misconfigured_signer_fails_early(
    transport: Identity, ec_transport: Identity, der_ecdsa: bool
) -> None:
    if der_ecdsa:  # ECDSA in DER instead of XMLDSig's raw r||s
        signer = RawSigner(
            ec_transport.key,
            ec_transport.certificate,
            SignatureAlgorithm.ECDSA_SHA256,
            der_ecdsa=True,
        )
    else:  # a key that does not belong to the certificate
        signer = RawSigner(ec_transport.key, transport.certificate, SignatureAlgorithm.ECDSA_SHA256)
    with pytest.raises(SigningError) as caught:
        sign_message(registration_request(), signer)
    assert caught.value.code == "SIG-SIGNER"


# --- document-level signature ---------------------------------------------------------------


def test_document_then_message_signatures_verify_apart(
    transport: Identity, other_transport: Identity
) -> None:
    signed_document = sign_document(registration_request(), other_transport.signer())
    signed = sign_message(signed_document, transport.signer())
    root = parse(signed)
    document = root.find(f"{q('Body')}/{q('DocumentRegistrationRequest')}/{q('Document')}")
    assert document is not None
    assert document[-1].tag == q("Signature", DS)
    transforms = [t.get("Algorithm") for t in document[-1].iter(q("Transform", DS))]
    assert transforms == [
        "http://www.w3.org/TR/1999/REC-xpath-19991116",
        DS + "enveloped-signature",
    ]

    by_document = verify_document(signed, policy_for(other_transport))
    assert by_document.certificate == other_transport.certificate
    assert by_document.document.doc_id.number.number == "97-0056"  # type: ignore[union-attr]
    assert by_document.signed_xml.startswith(b"<Document xmlns=")
    by_message = verify_message(signed, policy_for(transport))
    assert by_message.message.body.document.signature is not None  # type: ignore[union-attr]

    # The message signature does not vouch for the document signer, nor the reverse.
    assert check_document_signature(signed, policy_for(transport)).code == "П.8"
    assert check_message_signature(signed, policy_for(other_transport)).code == "П.8"


def test_a_document_signature_survives_a_new_header(transport: Identity) -> None:
    signed = sign_document(registration_request(), transport.signer())
    rewritten = signed.replace(
        b"{f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}", b"{00000000-0000-0000-0000-000000000001}"
    )
    assert rewritten != signed
    verify_document(rewritten, policy_for(transport))
    changed = signed.replace(b"97-0056", b"97-0057")
    assert check_document_signature(changed, policy_for(transport)).code == "SIG-DIGEST"


def test_a_bare_document_can_be_signed_and_verified(transport: Identity) -> None:
    root = parse(registration_request())
    document = root.find(f"{q('Body')}/{q('DocumentRegistrationRequest')}/{q('Document')}")
    assert document is not None
    bare = etree.tostring(document)
    signed = sign_document(bare, transport.signer())
    assert verify_document(signed, policy_for(transport)).document.kind == "Писмо"


def test_document_signing_refusals(transport: Identity) -> None:
    with pytest.raises(SigningError) as caught:
        sign_document(status_response(), transport.signer())
    assert caught.value.code == "SIG-NO-DOCUMENT"
    message_signed = sign_message(registration_request(), transport.signer())
    with pytest.raises(SigningError) as caught:
        sign_document(message_signed, transport.signer())
    assert caught.value.code == "SIG-ORDER"
    document_signed = sign_document(registration_request(), transport.signer())
    with pytest.raises(SigningError) as caught:
        sign_document(document_signed, transport.signer())
    assert caught.value.code == "SIG-ALREADY-SIGNED"


def test_unsigned_document_and_message(transport: Identity) -> None:
    policy = policy_for(transport)
    assert check_document_signature(registration_request(), policy).code == "П.7"
    assert check_message_signature(registration_request(), policy).code == "П.7"
    only_document = sign_document(registration_request(), transport.signer())
    assert check_message_signature(only_document, policy).code == "П.7"
    assert check_document_signature(status_response(), policy).code == "SIG-STRUCTURE"


# --- reports --------------------------------------------------------------------------------


def test_reports(transport: Identity, other_transport: Identity) -> None:
    signed = sign_message(registration_request(), other_transport.signer())
    bad = check_message_signature(signed, policy_for(transport))
    assert not bad.ok
    assert bad.code == "П.8"
    assert bad.message
    assert bad.message_bg
    assert bad.message != bad.message_bg
    assert bad.certificate == other_transport.certificate
    assert bad.verified is None
    with pytest.raises(VerificationError) as caught:
        bad.raise_for_errors()
    assert caught.value.code == "П.8"

    good = check_message_signature(signed, policy_for(other_transport))
    assert good.ok
    assert good.code is None
    assert good.raise_for_errors() is good.verified
    assert good.certificate == other_transport.certificate


def test_reports_never_raise_for_bad_input(transport: Identity) -> None:
    policy = policy_for(transport)
    for data in (b"", b"not xml", b"<a/>", b"\xff\xfe<", b"<Message xmlns='x'>"):
        report = check_message_signature(data, policy)
        assert not report.ok
        assert report.code in {"SIG-XML", "SIG-STRUCTURE"}
        assert not check_document_signature(data, policy).ok


def test_a_signed_message_that_does_not_fit_the_model(transport: Identity) -> None:
    """The signature verifies; the model is built on first use and says what is wrong."""
    data = status_response().replace(b"DS_REGISTERED", b"NOT_A_STATUS")
    signed = sign_message(data, transport.signer())
    verified = verify_message(signed, policy_for(transport))
    assert check_message_signature(signed, policy_for(transport)).ok
    with pytest.raises(MessageError) as caught:
        _ = verified.message
    assert caught.value.code == "MODEL-BIND"


def test_the_model_is_built_once(transport: Identity) -> None:
    verified = verify_message(
        sign_message(status_response(), transport.signer()), policy_for(transport)
    )
    assert verified.message is verified.message
    assert "message" not in repr(verified)


def test_verification_time_in_the_policy(expired_transport: Identity) -> None:
    signed = sign_message(registration_request(), expired_transport.signer())
    then = expired_transport.certificate.not_valid_before_utc + dt.timedelta(days=1)
    assert verify_message(signed, policy_for(expired_transport, at=then))
    assert check_message_signature(signed, policy_for(expired_transport)).code == "SIG-CERT-EXPIRED"


def test_p384_key_defaults_to_ecdsa_sha384(root_ca: Identity) -> None:
    from tests.signing.helpers import make_transport

    identity = make_transport(root_ca, "p384.bg", key=ec.generate_private_key(ec.SECP384R1()))
    signed = sign_message(status_response(), identity.signer())
    verified = verify_message(signed, policy_for(identity))
    assert verified.signature_algorithm is SignatureAlgorithm.ECDSA_SHA384


def test_signature_with_whitespace_around_it_verifies(transport: Identity) -> None:
    """A pretty-printed signed message (text before and after ds:Signature) still verifies."""
    signed = sign_message(registration_request(pretty=True), transport.signer())
    root = parse(signed)
    signature = root[-1]
    body = root[1]
    # Move the whitespace that preceded the signature (Body's tail) after it: the canonical
    # content is unchanged because the enveloped transform keeps the signature's tail text.
    signature.tail, body.tail = body.tail, None
    assert verify_message(serialize(root), policy_for(transport))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_reports_never_raise_for_mangled_signed_messages(
    transport: Identity, data: st.DataObject
) -> None:
    """Random byte edits anywhere (signature, certificate, content) give a report, not a crash."""
    signed = bytearray(_signed_once(transport))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(signed) - 1))
        signed[index] = data.draw(st.integers(0, 255))
    report = check_message_signature(bytes(signed), policy_for(transport))
    assert report.ok or report.code in FAILURE_CODES
    assert check_document_signature(bytes(signed), policy_for(transport)).code in FAILURE_CODES


_SIGNED: dict[bytes, bytes] = {}


def _signed_once(identity: Identity) -> bytes:
    key = identity.cert_der()
    if key not in _SIGNED:
        _SIGNED[key] = sign_message(registration_request(), identity.signer())
    return _SIGNED[key]


def test_uncanonicalizable_signed_info_is_a_report_not_a_crash(transport: Identity) -> None:
    """A relative namespace URI in scope of SignedInfo cannot be canonicalized: SIG-XML."""
    signed = _signed_once(transport)
    broken = signed.replace(
        b'<ds:Signature xmlns:ds="', b'<ds:Signature xmlns:rel="relative/uri" xmlns:ds="', 1
    )
    if broken == signed:  # default-namespace form of the signature element
        broken = signed.replace(b"<Signature ", b'<Signature xmlns:rel="relative/uri" ', 1)
    assert broken != signed
    report = check_message_signature(broken, policy_for(transport))
    assert not report.ok
    assert report.code == "SIG-XML"
