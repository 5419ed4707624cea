"""Attacks on XML signatures that eintegr must refuse (or neutralise), each with its code."""

from __future__ import annotations

import base64
import copy
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from signxml.verifier import SignatureConfiguration, XMLVerifier

from eintegr.signing import (
    PinnedCertificates,
    SignatureAlgorithm,
    VerificationPolicy,
    check_document_signature,
    check_message_signature,
    sign_document,
    sign_message,
    verify_message,
)
from tests.signing.helpers import (
    DS,
    NOW,
    SEOS,
    Identity,
    RawSigner,
    make_transport,
    parse,
    q,
    registration_request,
    serialize,
    signxml_sign,
    status_response,
)


def pinned(identity: Identity, **kwargs: object) -> VerificationPolicy:
    return VerificationPolicy(trust=PinnedCertificates([identity.certificate]), **kwargs)  # type: ignore[arg-type]


def code(data: bytes, identity: Identity, **kwargs: object) -> str | None:
    return check_message_signature(data, pinned(identity, **kwargs)).code


@pytest.fixture(scope="module")
def signed(transport: Identity) -> bytes:
    return sign_message(registration_request(), transport.signer())


def ds(local: str) -> str:
    return q(local, DS)


# --- signature wrapping ---------------------------------------------------------------------


def test_signed_message_wrapped_in_another_root(signed: bytes, transport: Identity) -> None:
    inner = signed.split(b"?>", 1)[1]
    wrapped = b'<Envelope xmlns="urn:evil">' + inner + b"</Envelope>"
    assert code(wrapped, transport) == "SIG-STRUCTURE"


def test_moved_message_new_content_under_the_old_signature(
    signed: bytes, transport: Identity
) -> None:
    evil = parse(registration_request(doc_number="EVIL-1"))
    evil.append(copy.deepcopy(parse(signed)[-1]))  # the genuine signature of another message
    assert code(serialize(evil), transport) == "SIG-DIGEST"
    # with other namespace declarations even the canonical SignedInfo differs
    evil = parse(status_response())
    evil.append(copy.deepcopy(parse(signed)[-1]))
    assert code(serialize(evil), transport) == "SIG-VALUE"


def test_duplicated_message_hidden_inside_the_evil_one(signed: bytes, transport: Identity) -> None:
    original = parse(signed)
    evil = parse(registration_request(doc_number="EVIL-1"))
    document = evil.find(f".//{q('Document')}")
    assert document is not None
    holder = etree.SubElement(document, q("DocAddData"))
    holder.append(copy.deepcopy(original))  # the signed original, for a naive verifier to find
    evil.append(copy.deepcopy(original[-1]))
    assert code(serialize(evil), transport) == "SIG-STRUCTURE"


@pytest.mark.parametrize("where", [1, 2])
def test_extra_body(signed: bytes, transport: Identity, where: int) -> None:
    root = parse(signed)
    evil_body = copy.deepcopy(root[1])
    evil_body.find(f".//{q('DocNumber')}").text = "EVIL-1"  # type: ignore[union-attr]
    root.insert(where, evil_body)
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


def test_valid_signature_over_one_element_by_id(transport: Identity) -> None:
    data = registration_request().replace(b"<Header>", b'<Header Id="hdr">')
    by_id = signxml_sign(data, transport, reference_uri="#hdr")
    # a genuine, cryptographically valid signature (signxml accepts it) ...
    XMLVerifier().verify(
        by_id,
        x509_cert=transport.cert_pem().decode(),
        id_attribute="Id",
        expect_config=SignatureConfiguration(location="./"),
    )
    # ... that does not cover the Body: refused
    assert code(by_id, transport) == "SIG-STRUCTURE"


def test_extra_reference(signed: bytes, transport: Identity) -> None:
    root = parse(signed)
    info = root[-1][0]
    info.append(copy.deepcopy(info[2]))
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


@pytest.mark.parametrize("uri", ["#hdr", "#xpointer(/)", "http://evil.example/x", None])
def test_reference_uri_other_than_empty(
    signed: bytes, transport: Identity, uri: str | None
) -> None:
    root = parse(signed)
    reference = root[-1][0][2]
    if uri is None:
        del reference.attrib["URI"]
    else:
        reference.set("URI", uri)
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


def test_second_signature_first_in_document_order(
    signed: bytes, transport: Identity, other_transport: Identity
) -> None:
    root = parse(signed)
    root.find(f".//{q('DocNumber')}").text = "EVIL-1"  # type: ignore[union-attr]
    attacker = parse(
        sign_message(registration_request(doc_number="EVIL-1"), other_transport.signer())
    )
    root[0].insert(0, copy.deepcopy(attacker[-1]))  # first ds:Signature in document order
    assert code(serialize(root), transport) == "SIG-STRUCTURE"
    # even an exact copy of the genuine signature elsewhere is refused
    root = parse(signed)
    root[0].insert(0, copy.deepcopy(root[-1]))
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


@pytest.mark.parametrize("position", ["first", "twice"])
def test_signature_not_at_its_place(signed: bytes, transport: Identity, position: str) -> None:
    root = parse(signed)
    if position == "first":
        root.insert(0, root[-1])
    else:
        root.append(copy.deepcopy(root[-1]))
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


def test_object_inside_the_signature(signed: bytes, transport: Identity) -> None:
    root = parse(signed)
    etree.SubElement(root[-1], ds("Object")).append(copy.deepcopy(root[1]))
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


@pytest.mark.parametrize(
    "change",
    ["xslt", "xpath", "no-enveloped", "enveloped-twice", "c14n-first", "no-transforms"],
)
def test_unexpected_transforms(signed: bytes, transport: Identity, change: str) -> None:
    root = parse(signed)
    reference = root[-1][0][2]
    transforms = reference[0]
    if change == "xslt":
        etree.SubElement(
            transforms, ds("Transform"), Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"
        )
    elif change == "xpath":
        t = etree.SubElement(
            transforms, ds("Transform"), Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"
        )
        etree.SubElement(t, ds("XPath")).text = "not(ancestor-or-self::*[local-name()='Body'])"
    elif change == "no-enveloped":
        transforms.remove(transforms[0])
    elif change == "enveloped-twice":
        transforms.append(copy.deepcopy(transforms[0]))
    elif change == "c14n-first":
        transforms.insert(
            0,
            etree.Element(
                ds("Transform"), Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
            ),
        )
    else:
        reference.remove(transforms)
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


def test_document_signature_attacks(transport: Identity) -> None:
    signed = sign_document(registration_request(), transport.signer())
    policy = pinned(transport)

    def mutate(edit: str) -> bytes:
        root = parse(signed)
        document = root.find(f".//{q('Document')}")
        assert document is not None
        signature = document[-1]
        xpath = signature.find(f".//{ds('XPath')}")
        assert xpath is not None
        if edit == "other-element":
            xpath.text = "ancestor-or-self::m:Body"
        elif edit == "other-namespace":
            new = etree.Element(ds("XPath"), nsmap={"m": "urn:evil"})
            new.text = xpath.text
            xpath.getparent().replace(xpath, new)  # type: ignore[union-attr]
        elif edit == "not-last":
            document.insert(0, signature)
        elif edit == "twice":
            document.append(copy.deepcopy(signature))
        return serialize(root)

    for edit in ("other-element", "other-namespace", "not-last", "twice"):
        assert check_document_signature(mutate(edit), policy).code == "SIG-STRUCTURE", edit


# --- content the signature does not cover ---------------------------------------------------


def test_comment_injected_in_signed_text_cannot_reach_the_model(
    signed: bytes, transport: Identity
) -> None:
    tampered = signed.replace(b"<DocNumber>97-0056", b"<DocNumber>97<!--x-->-0056")
    assert tampered != signed
    assert etree.fromstring(tampered).find(f".//{q('DocNumber')}").text == "97"  # type: ignore[union-attr]
    verified = verify_message(tampered, pinned(transport))  # comments are not signed (URI="")
    document = verified.message.body.document  # type: ignore[union-attr]
    assert document.doc_id.number.number == "97-0056"  # type: ignore[union-attr]
    assert b"<!--" not in verified.signed_xml


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<DocNumber>97-0056", b"<DocNumber> 97-0056"),
        (b"</DocKind>", b"</DocKind>\n"),
        (b"<DocKind>", b"<DocKind>\t"),
    ],
)
def test_whitespace_injected_in_signed_content(
    signed: bytes, transport: Identity, old: bytes, new: bytes
) -> None:
    report = check_message_signature(signed.replace(old, new, 1), pinned(transport))
    assert report.code == "SIG-DIGEST"
    assert report.path == "/Message/Signature/SignedInfo/Reference"


# --- keys, certificates, algorithms ---------------------------------------------------------


def test_keyinfo_certificate_not_trusted(transport: Identity, other_transport: Identity) -> None:
    signed = sign_message(registration_request(), other_transport.signer())
    assert code(signed, transport) == "П.8"


def test_trusted_certificate_swapped_into_keyinfo(
    signed: bytes, transport: Identity, other_transport: Identity
) -> None:
    attacker = sign_message(registration_request(doc_number="EVIL-1"), other_transport.signer())
    root = parse(attacker)
    certificate = root.find(f".//{ds('X509Certificate')}")
    assert certificate is not None
    certificate.text = base64.b64encode(transport.cert_der()).decode()
    assert code(serialize(root), transport) == "SIG-VALUE"
    # offering both certificates does not help either
    root = parse(attacker)
    data = root.find(f".//{ds('X509Data')}")
    assert data is not None
    for position in (0, 1):
        both = copy.deepcopy(root)
        x509_data = both.find(f".//{ds('X509Data')}")
        assert x509_data is not None
        extra = etree.Element(ds("X509Certificate"))
        extra.text = base64.b64encode(transport.cert_der()).decode()
        x509_data.insert(position, extra)
        assert code(serialize(both), transport) in {"SIG-VALUE", "П.8"}


def test_expired_and_not_yet_valid_certificates(
    root_ca: Identity, expired_transport: Identity
) -> None:
    signed = sign_message(registration_request(), expired_transport.signer())
    assert code(signed, expired_transport) == "SIG-CERT-EXPIRED"
    future = make_transport(root_ca, "future.bg", not_before=NOW + dt.timedelta(days=3))
    assert code(sign_message(status_response(), future.signer()), future) == "SIG-CERT-EXPIRED"


def test_sha1_without_opt_in(transport: Identity) -> None:
    rsa_sha1 = signxml_sign(
        registration_request(),
        transport,
        method="http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        digest="http://www.w3.org/2000/09/xmldsig#sha1",
    )
    sha1_digest_only = signxml_sign(
        registration_request(), transport, digest="http://www.w3.org/2000/09/xmldsig#sha1"
    )
    for data in (rsa_sha1, sha1_digest_only):
        assert code(data, transport) == "SIG-ALGORITHM"
        assert code(data, transport, allow_sha1=True) is None
    # listing RSA-SHA1 among the allowed algorithms is not an opt-in
    policy = VerificationPolicy(
        trust=PinnedCertificates([transport.certificate]),
        allowed_algorithms=frozenset(SignatureAlgorithm),
    )
    assert check_message_signature(rsa_sha1, policy).code == "SIG-ALGORITHM"


@pytest.mark.parametrize(
    "method",
    [
        "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
    ],
)
def test_hmac(transport: Identity, method: str) -> None:
    hmac_signed = signxml_sign(registration_request(), None, method=method, hmac_key=b"secret")
    assert code(hmac_signed, transport) == "SIG-ALGORITHM"


def test_unknown_algorithms(signed: bytes, transport: Identity) -> None:
    for path, uri in (
        (f"{ds('SignedInfo')}/{ds('SignatureMethod')}", "urn:unknown"),
        (f"{ds('SignedInfo')}/{ds('CanonicalizationMethod')}", "urn:unknown"),
        (
            f"{ds('SignedInfo')}/{ds('CanonicalizationMethod')}",
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
        ),
        (
            f"{ds('SignedInfo')}/{ds('Reference')}/{ds('DigestMethod')}",
            "http://www.w3.org/2001/04/xmldsig-more#md5",
        ),
    ):
        root = parse(signed)
        node = root[-1].find(path)
        assert node is not None
        node.set("Algorithm", uri)
        assert code(serialize(root), transport) == "SIG-ALGORITHM", uri


def test_rsa_1024(weak_transport: Identity) -> None:
    weak = RawSigner(weak_transport.key, weak_transport.certificate)  # KeySigner refuses 1024
    signed = sign_message(registration_request(), weak)
    assert code(signed, weak_transport) == "SIG-KEY"
    assert code(signed, weak_transport, min_rsa_bits=1024) is None


def test_algorithm_that_does_not_fit_the_key(signed: bytes, transport: Identity) -> None:
    root = parse(signed)
    method = root[-1].find(f"{ds('SignedInfo')}/{ds('SignatureMethod')}")
    assert method is not None
    method.set("Algorithm", SignatureAlgorithm.ECDSA_SHA256.uri)
    assert code(serialize(root), transport) == "SIG-KEY"


def test_key_usage_forbids_signing(no_signing_transport: Identity) -> None:
    signed = sign_message(registration_request(), no_signing_transport.signer())
    assert code(signed, no_signing_transport) == "SIG-CERT-USAGE"
    assert code(signed, no_signing_transport, require_digital_signature_key_usage=False) is None


def test_tampered_signature_value_and_signed_info(signed: bytes, transport: Identity) -> None:
    root = parse(signed)
    value = root[-1][1]
    raw = bytearray(base64.b64decode(value.text or ""))
    raw[10] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    assert code(serialize(root), transport) == "SIG-VALUE"

    root = parse(signed)
    digest = root[-1].find(f".//{ds('DigestValue')}")
    assert digest is not None
    digest.text = base64.b64encode(b"\0" * 32).decode()  # matching content, forged SignedInfo
    assert code(serialize(root), transport) == "SIG-VALUE"


@pytest.mark.parametrize("value", ["***", "", "QUJD=x"])
def test_malformed_base64(signed: bytes, transport: Identity, value: str) -> None:
    root = parse(signed)
    root[-1][1].text = value
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


def test_unreadable_or_too_many_certificates(signed: bytes, transport: Identity) -> None:
    root = parse(signed)
    certificate = root.find(f".//{ds('X509Certificate')}")
    assert certificate is not None
    certificate.text = base64.b64encode(b"not a certificate").decode()
    assert code(serialize(root), transport) == "SIG-STRUCTURE"
    root = parse(signed)
    x509_data = root.find(f".//{ds('X509Data')}")
    assert x509_data is not None
    for index in range(17):
        extra = etree.SubElement(x509_data, ds("X509Certificate"))
        extra.text = base64.b64encode(bytes([index]) * 40).decode()
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


def test_missing_key_info(signed: bytes, transport: Identity) -> None:
    root = parse(signed)
    root[-1].remove(root[-1][2])
    assert code(serialize(root), transport) == "SIG-STRUCTURE"


def test_xml_attributes_above_the_signature(signed: bytes, transport: Identity) -> None:
    tampered = signed.replace(b"<Message ", b'<Message xml:lang="bg" ', 1)
    assert code(tampered, transport) == "SIG-STRUCTURE"


# --- hostile XML ----------------------------------------------------------------------------

_DTD_ATTACKS = {
    "internal-entity": (
        b'<!DOCTYPE Message [<!ENTITY n "97-0056">]>',
        (b"<DocNumber>97-0056", b"<DocNumber>&n;"),
    ),
    "external-entity": (
        b'<!DOCTYPE Message [<!ENTITY n SYSTEM "file:///etc/passwd">]>',
        (b"<DocNumber>97-0056", b"<DocNumber>&n;"),
    ),
    "billion-laughs": (
        b'<!DOCTYPE Message [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        (b"<DocKind>", b"<DocKind>&b;"),
    ),
    "empty-dtd": (b"<!DOCTYPE Message>", (b"", b"")),
}


@pytest.mark.parametrize("attack", sorted(_DTD_ATTACKS))
def test_dtd_and_entities_in_the_signed_document(
    signed: bytes, transport: Identity, attack: str
) -> None:
    doctype, (old, new) = _DTD_ATTACKS[attack]
    declaration, rest = signed.split(b"?>", 1)
    tampered = declaration + b"?>" + doctype + (rest.replace(old, new, 1) if old else rest)
    assert code(tampered, transport) == "SIG-XML"
    assert check_document_signature(tampered, pinned(transport)).code == "SIG-XML"


def test_unsigned_message(transport: Identity) -> None:
    assert code(registration_request(), transport) == "П.7"


# --- any change of signed content -----------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_character_of_our_signed_message_fails(
    signed: bytes, transport: Identity, data: st.DataObject
) -> None:
    start, end = signed.index(b"<Message"), signed.index(b"<Signature")
    text = signed.decode("utf-8")
    first, last = len(signed[:start].decode()), len(signed[:end].decode())
    positions = [i for i in range(first, last) if text[i].isalnum()]
    index = data.draw(st.sampled_from(positions))
    new = data.draw(st.sampled_from("AbZ09яЖ").filter(lambda c: c != text[index]))
    changed = (text[:index] + new + text[index + 1 :]).encode("utf-8")
    assert not check_message_signature(changed, pinned(transport)).ok


def test_namespace_of_the_root_matters(signed: bytes, transport: Identity) -> None:
    tampered = signed.replace(SEOS.encode(), b"http://schemas.egov.bg/messaging/v2", 1)
    assert code(tampered, transport) == "SIG-STRUCTURE"
