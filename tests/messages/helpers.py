"""Shared helpers for the message tests: parties, strategies, XSD and signature checks."""

from __future__ import annotations

import base64
import copy
import hashlib
from datetime import UTC, date, datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import strategies as st
from lxml import etree

from eintegr.identifiers import Guid
from eintegr.messages import (
    AdditionalData,
    Attachment,
    Correspondent,
    CorrespondentKind,
    Document,
    DocumentIdentification,
    DocumentNumber,
    DocumentRegistrationRequest,
    DocumentStatus,
    DocumentStatusRequest,
    DocumentStatusResponse,
    DocumentURI,
    EntityNode,
    ErrorKind,
    ErrorMessage,
    Header,
    Message,
    MessageBody,
    MessageType,
    ServiceItem,
    SignatureXml,
)
from eintegr.xml import parse_xml

NS = "http://schemas.egov.bg/messaging/v1"
DS = "http://www.w3.org/2000/09/xmldsig#"
DURI = "http://ereg.egov.bg/segment/0009-000001"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

SENDER = EntityNode(
    identifier="000695089",
    administrative_body_name="Областна администрация – Русе",
    guid=Guid.parse("{6f2d1c1e-3a44-4c61-9d0b-1a2b3c4d5e6f}"),
)
RECIPIENT = EntityNode(
    identifier="175057660",
    administrative_body_name="Община Русе",
    guid=Guid.parse("{0b4e8f9a-7c21-4d3e-8a5f-6b7c8d9e0f1a}"),
)
SOFIA = timezone(timedelta(hours=3))

# A structurally valid (not cryptographically meaningful) ds:Signature for XSD-valid messages.
DUMMY_SIGNATURE = SignatureXml(
    f"""<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="{C14N}"/>
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<ds:Reference URI=""><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>
<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>""".encode()
)


def c14n(data: bytes) -> bytes:
    """Inclusive C14N 1.0 of a whole document."""
    return etree.tostring(parse_xml(data), method="c14n")


# ---------------------------------------------------------------------------------------------
# Enveloped XML-DSig with RSA, checked with `cryptography` directly (independent of eintegr)
# ---------------------------------------------------------------------------------------------

_ALGORITHMS = {
    "sha1": (hashes.SHA1(), f"{DS}rsa-sha1", f"{DS}sha1"),
    "sha256": (
        hashes.SHA256(),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmlenc#sha256",
    ),
}


def _digest(kind: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(kind, data).digest()).decode()


def _signed_info_c14n(signed_info: etree._Element) -> bytes:
    # Canonicalize a standalone copy carrying the in-scope namespaces: lxml's subtree C14N
    # emits a spurious xmlns="" under a default-namespace declaration.
    return etree.tostring(parse_xml(etree.tostring(signed_info)), method="c14n")


def sign_enveloped(data: bytes, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bytes:
    """Append an enveloped RSA-SHA256 ``ds:Signature`` (C14N 1.0, ``URI=""``, certificate in
    ``KeyInfo``) as the last child of the root, the way СЕОС signs a message."""
    tree = parse_xml(data)
    digest = _digest("sha256", etree.tostring(tree, method="c14n"))
    hash_, sig_method, digest_method = _ALGORITHMS["sha256"]
    signature = etree.SubElement(tree.getroot(), f"{{{DS}}}Signature", nsmap={None: DS})
    info = etree.SubElement(signature, f"{{{DS}}}SignedInfo")
    etree.SubElement(info, f"{{{DS}}}CanonicalizationMethod", Algorithm=C14N)
    etree.SubElement(info, f"{{{DS}}}SignatureMethod", Algorithm=sig_method)
    ref = etree.SubElement(info, f"{{{DS}}}Reference", URI="")
    transforms = etree.SubElement(ref, f"{{{DS}}}Transforms")
    etree.SubElement(transforms, f"{{{DS}}}Transform", Algorithm=f"{DS}enveloped-signature")
    etree.SubElement(ref, f"{{{DS}}}DigestMethod", Algorithm=digest_method)
    etree.SubElement(ref, f"{{{DS}}}DigestValue").text = digest
    value = key.sign(_signed_info_c14n(info), padding.PKCS1v15(), hash_)
    etree.SubElement(signature, f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode()
    key_info = etree.SubElement(signature, f"{{{DS}}}KeyInfo")
    x509_data = etree.SubElement(key_info, f"{{{DS}}}X509Data")
    der = cert.public_bytes(Encoding.DER)
    etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = base64.b64encode(der).decode()
    return etree.tostring(tree, encoding="UTF-8", xml_declaration=True)


def verify_enveloped(data: bytes) -> None:
    """Verify the enveloped RSA signature that is the root's last child; raise if invalid."""
    tree = parse_xml(data)
    signature = tree.getroot()[-1]
    assert signature.tag == f"{{{DS}}}Signature"
    info = signature.find(f"{{{DS}}}SignedInfo")
    assert info is not None
    method = info.find(f"{{{DS}}}SignatureMethod")
    assert method is not None
    kind = next(k for k, v in _ALGORITHMS.items() if v[1] == method.get("Algorithm"))
    stripped = copy.deepcopy(tree)
    stripped.getroot().remove(stripped.getroot()[-1])
    digest_value = info.findtext(f"{{{DS}}}Reference/{{{DS}}}DigestValue")
    assert _digest(kind, etree.tostring(stripped, method="c14n")) == digest_value, "digest"
    cert_text = signature.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    assert cert_text is not None
    public_key = x509.load_der_x509_certificate(base64.b64decode(cert_text)).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    value = base64.b64decode(signature.findtext(f"{{{DS}}}SignatureValue") or "")
    public_key.verify(value, _signed_info_c14n(info), padding.PKCS1v15(), _ALGORITHMS[kind][0])


def make_key_and_cert() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A fresh RSA-2048 key and a self-signed certificate for it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "eintegr test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert


# ---------------------------------------------------------------------------------------------
# Hypothesis strategies: random valid models
# ---------------------------------------------------------------------------------------------

_xml_chars = st.one_of(
    st.sampled_from("\t\n\r "),
    st.characters(min_codepoint=0x21, max_codepoint=0x7E),
    st.characters(min_codepoint=0x400, max_codepoint=0x4FF),  # Cyrillic
    st.characters(min_codepoint=0xA0, max_codepoint=0xD7FF),
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFD),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
texts = st.text(alphabet=_xml_chars, max_size=12)
optional_texts = st.none() | texts
guids = st.uuids().map(Guid.from_uuid)
dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
_zones = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.datetimes(
    min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30), timezones=_zones
)
any_datetimes = aware_datetimes | st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)
)

parties = st.builds(EntityNode, identifier=texts, administrative_body_name=texts, guid=guids)
numbers = st.builds(DocumentNumber, number=texts, date=dates)
positive = st.none() | st.integers(min_value=1, max_value=10**30)
uris = st.builds(
    DocumentURI,
    register_index=positive,
    sequence_number=positive,
    receipt_or_signing_date=st.none() | dates,
)
identifications = st.one_of(
    st.builds(DocumentIdentification, number=numbers, uri=st.none(), document_guid=guids),
    st.builds(DocumentIdentification, number=st.none(), uri=uris, document_guid=guids),
    st.builds(DocumentIdentification, number=st.none(), uri=st.none(), document_guid=guids),
)
correspondents = st.builds(
    Correspondent,
    name=texts,
    city=texts,
    address=optional_texts,
    egn=optional_texts,
    id_card=optional_texts,
    bulstat=optional_texts,
    email=optional_texts,
    phone=optional_texts,
    mobile_phone=optional_texts,
    mol=optional_texts,
    comment=optional_texts,
    kind=st.none() | st.sampled_from(CorrespondentKind),
)
attachments = st.builds(
    Attachment,
    file_name=texts,
    content=st.binary(max_size=64),
    comment=optional_texts,
    mime_type=texts,
)
services = st.builds(ServiceItem, name=texts, type=texts, code=texts)
_foreign = ["<x:a xmlns:x='urn:x'>1</x:a>", "<b xmlns='urn:y' k='v'/>", "<!--c-->"]
additional_data = st.builds(
    lambda parts, text: AdditionalData(
        f"<DocAddData xmlns='{NS}'>{text}{''.join(parts)}</DocAddData>".encode()
    ),
    st.lists(st.sampled_from(_foreign), max_size=3),
    st.sampled_from(["", "text ", "текст"]),
)
documents = st.builds(
    Document,
    doc_id=identifications,
    parent_id=st.none() | identifications,
    kind=texts,
    correspondents=st.lists(correspondents, max_size=2),
    attachments=st.lists(attachments, max_size=2),
    about=optional_texts,
    service=st.none() | services,
    comment=optional_texts,
    additional_data=st.none() | additional_data,
    required_close_date=st.none() | dates,
    attention_to=optional_texts,
    signature=st.none() | st.just(DUMMY_SIGNATURE),
)
bodies: st.SearchStrategy[MessageBody] = st.one_of(
    st.builds(DocumentRegistrationRequest, document=documents, comment=texts),
    st.builds(DocumentStatusRequest, doc_id=identifications),
    st.builds(
        DocumentStatusResponse,
        doc_id=identifications,
        status=st.sampled_from(DocumentStatus),
        rejection_reason=optional_texts,
        expect_close_date=st.none() | dates,
        additional_data=st.none() | additional_data,
    ),
    st.builds(
        ErrorMessage,
        message_guid=st.none() | guids,
        error_type=st.sampled_from(ErrorKind),
        description=texts,
    ),
)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    """A random valid message; its MessageType matches its body."""
    body = draw(bodies)
    message_type = {
        DocumentRegistrationRequest: MessageType.MSG_DocumentRegistrationRequest,
        DocumentStatusRequest: MessageType.MSG_DocumentStatusRequest,
        DocumentStatusResponse: MessageType.MSG_DocumentStatusResponse,
        ErrorMessage: MessageType.MSG_Error,
    }[type(body)]
    header = Header(
        version=draw(st.sampled_from(["1", "1.0"])),
        message_type=message_type,
        message_date=draw(any_datetimes),
        sender=draw(parties),
        recipient=draw(parties),
        message_guid=draw(guids),
    )
    signature = draw(st.none() | st.just(DUMMY_SIGNATURE))
    return Message(header=header, body=body, signature=signature)
