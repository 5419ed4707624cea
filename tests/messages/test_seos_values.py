"""СЕОС value types: dates and times, base64 attachments, opaque XML, enums, exports."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import eintegr.messages
import eintegr.messages.seos
from eintegr.errors import MessageError, XmlError
from eintegr.identifiers import Guid
from eintegr.messages import (
    AdditionalData,
    Attachment,
    DocumentNumber,
    DocumentStatus,
    DocumentURI,
    EntityNode,
    ErrorKind,
    Header,
    Message,
    MessageType,
    SignatureXml,
    new_document,
    registration_request,
)
from tests.messages.helpers import DS, NS, RECIPIENT, SENDER, aware_datetimes


def header_with(date_text: str) -> Header:
    return Header.from_xml(
        f"""<Header xmlns="{NS}"><Version>1</Version><MessageType>MSG_Error</MessageType>
<MessageDate>{date_text}</MessageDate>
<Sender><Identifier>1</Identifier><AdministrativeBodyName/><GUID>{Guid.new()}</GUID></Sender>
<Recipient><Identifier>2</Identifier><AdministrativeBodyName/><GUID>{Guid.new()}</GUID></Recipient>
<MessageGUID>{Guid.new()}</MessageGUID></Header>""".encode()
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2021-08-24T01:02:54.2432872+03:00",
            datetime(2021, 8, 24, 1, 2, 54, 243287, tzinfo=timezone(timedelta(hours=3))),
        ),
        ("2024-03-01T10:15:00Z", datetime(2024, 3, 1, 10, 15, tzinfo=UTC)),
        (
            "2024-03-01T10:15:00.5-02:30",
            datetime(
                2024, 3, 1, 10, 15, 0, 500000, tzinfo=timezone(-timedelta(hours=2, minutes=30))
            ),
        ),
        ("2024-03-01T10:15:00", datetime(2024, 3, 1, 10, 15)),
        ("  2024-03-01T10:15:00\n", datetime(2024, 3, 1, 10, 15)),
        ("2024-12-31T24:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
    ],
)
def test_message_date_lexical_forms(text: str, expected: datetime) -> None:
    value = header_with(text).message_date
    assert value == expected
    assert value.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "1709280900",
        "2024-03-01",
        "2024-03-01 10:15:00",
        "2024-02-30T10:15:00",
        "2024-03-01T25:00:00",
        "2024-03-01T24:00:01",
        "2024-03-01T10:15:00+14:30",
        "0000-03-01T10:15:00",
        "2024-03-01T10:15:00.Z",
        "２０２４-03-01T10:15:00",
    ],
)
def test_message_date_rejects_non_xsd_text(text: str) -> None:
    with pytest.raises(MessageError) as caught:
        header_with(text)
    assert caught.value.path == "/Header/MessageDate"


def test_message_date_is_written_with_its_zone() -> None:
    def written(value: datetime) -> str:
        message = registration_request(
            sender=SENDER, recipient=RECIPIENT, document=new_document(kind="x"), message_date=value
        )
        text = etree.fromstring(message.to_xml()).findtext(f"{{{NS}}}Header/{{{NS}}}MessageDate")
        assert text is not None
        return text

    assert written(datetime(2024, 3, 1, 10, 15, tzinfo=UTC)) == "2024-03-01T10:15:00Z"
    sofia = timezone(timedelta(hours=2))
    assert written(datetime(2024, 3, 1, 10, 15, 0, 1, tzinfo=sofia)) == (
        "2024-03-01T10:15:00.000001+02:00"
    )
    # an offset with seconds (historic local mean time) is not expressible: written in UTC
    odd = timezone(timedelta(hours=1, minutes=33, seconds=16))
    assert written(datetime(1890, 1, 1, 12, 0, tzinfo=odd)) == "1890-01-01T10:26:44Z"


@settings(max_examples=50, deadline=None)
@given(value=aware_datetimes)
def test_message_dates_survive_the_wire(value: datetime) -> None:
    message = registration_request(
        sender=SENDER, recipient=RECIPIENT, document=new_document(kind="x"), message_date=value
    )
    again = Message.from_xml(message.to_xml()).header.message_date
    assert again == value
    assert again.utcoffset() == value.utcoffset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", date(2024, 2, 29)),
        ("2024-02-29Z", date(2024, 2, 29)),
        ("2024-02-29+02:00", date(2024, 2, 29)),
        (" 0001-01-01 ", date(1, 1, 1)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    number = DocumentNumber.from_xml(
        f"<DocumentNumber xmlns='{NS}'><DocNumber>1</DocNumber><DocDate>{text}</DocDate>"
        "</DocumentNumber>".encode()
    )
    assert number.date == expected


@pytest.mark.parametrize("text", ["2023-02-29", "24-02-29", "2024-2-29", "29.02.2024", ""])
def test_bad_dates(text: str) -> None:
    with pytest.raises(MessageError, match="DocDate"):
        DocumentNumber.from_xml(
            f"<DocumentNumber xmlns='{NS}'><DocNumber>1</DocNumber><DocDate>{text}</DocDate>"
            "</DocumentNumber>".encode()
        )


def test_document_uri_children_are_in_the_segment_namespace() -> None:
    uri = DocumentURI(register_index=1, sequence_number=2, receipt_or_signing_date=date(2024, 1, 1))
    root = etree.fromstring(uri.to_xml())
    assert root.tag == f"{{{NS}}}DocumentURI"
    assert {etree.QName(c).namespace for c in root} == {"http://ereg.egov.bg/segment/0009-000001"}
    assert DocumentURI.from_xml(uri.to_xml()) == uri
    unqualified = f"<DocumentURI xmlns='{NS}'><RegisterIndex>1</RegisterIndex></DocumentURI>"
    with pytest.raises(MessageError, match="unexpected element <RegisterIndex>"):
        DocumentURI.from_xml(unqualified.encode())
    for bad in ("0", "-1", "1.5", "x"):
        with pytest.raises(MessageError):
            DocumentURI.from_xml(
                f"<DocumentURI xmlns='{NS}' xmlns:u='http://ereg.egov.bg/segment/0009-000001'>"
                f"<u:RegisterIndex>{bad}</u:RegisterIndex></DocumentURI>".encode()
            )


# ---------------------------------------------------------------------------------------------
# Attachments
# ---------------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(content=st.binary(max_size=300))
def test_attachment_bytes_are_base64_on_the_wire(content: bytes) -> None:
    attachment = Attachment(file_name="f", content=content, mime_type="application/octet-stream")
    data = attachment.to_xml()
    body = etree.fromstring(data).findtext(f"{{{NS}}}AttBody")
    assert body is not None
    assert "\n" not in body
    again = Attachment.from_xml(data)
    assert again.content == content
    assert type(again.content) is bytes


def test_attachment_content_must_be_bytes() -> None:
    with pytest.raises(ValueError, match="bytes"):
        Attachment(file_name="f", content="text", mime_type="text/plain")


def test_large_attachment_round_trip() -> None:
    content = os.urandom(1024 * 1024)
    document = new_document(
        kind="x", attachments=[Attachment(file_name="big", content=content, mime_type="x/y")]
    )
    message = registration_request(sender=SENDER, recipient=RECIPIENT, document=document)
    data = message.to_xml()
    assert len(data) < len(content) * 4 // 3 + 4096  # base64 once, no line breaks
    again = Message.from_xml(data)
    assert again.body.document.attachments[0].content == content  # type: ignore[union-attr]
    assert "1048576 bytes" in repr(again.body.document.attachments[0])  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# Opaque XML: AdditionalData and SignatureXml
# ---------------------------------------------------------------------------------------------


def test_additional_data_is_compared_by_value() -> None:
    a = AdditionalData(
        f"<DocAddData xmlns='{NS}'><x:v xmlns:x='urn:x'>1</x:v></DocAddData>".encode()
    )
    b = AdditionalData(
        f'<?xml version="1.0"?><m:DocAddData xmlns:m="{NS}" xmlns:unused="urn:u">'
        '<y:v xmlns:y="urn:x" >1</y:v></m:DocAddData>'.encode()
    )
    c = AdditionalData(
        f"<DocAddData xmlns='{NS}'><x:v xmlns:x='urn:x'>2</x:v></DocAddData>".encode()
    )
    assert a == b
    assert hash(a) == hash(b)
    assert a != c
    assert a != SignatureXml(f"<Signature xmlns='{DS}'/>".encode())
    assert pickle.loads(pickle.dumps(a)) == a
    assert "DocAddData" in repr(a)


def test_additional_data_from_children_and_back() -> None:
    child = etree.fromstring(b"<k xmlns='urn:k' a='1'>v<i/></k>")
    data = AdditionalData.from_children([child, b"<j/>"], text="t")
    assert data.text == "t"
    children = data.children()
    assert [etree.QName(c).localname for c in children] == ["k", "j"]
    assert etree.tostring(children[0]) == b'<k xmlns="urn:k" a="1">v<i/></k>'
    children[0].set("a", "2")  # copies: the value does not change
    assert data.children()[0].get("a") == "1"
    assert child.getparent() is None  # the caller's element is not moved
    assert AdditionalData.from_children() == AdditionalData(f"<DocAddData xmlns='{NS}'/>".encode())
    with pytest.raises(TypeError):
        AdditionalData.from_children(["<x/>"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="U\\+0001"):
        AdditionalData.from_children(text="\x01")


def test_opaque_values_check_their_root() -> None:
    with pytest.raises(MessageError) as caught:
        AdditionalData(b"<Other/>")
    assert caught.value.code == "MODEL-FRAGMENT"
    with pytest.raises(MessageError, match="ds:Signature"):
        SignatureXml(f"<Signature xmlns='{NS}'/>".encode())
    with pytest.raises(XmlError):
        SignatureXml(b"<!DOCTYPE x><Signature/>")
    with pytest.raises(XmlError):
        SignatureXml(b"<Signature")


def test_signature_is_kept_verbatim_in_document_and_message() -> None:
    signature = SignatureXml(
        f"<ds:Signature xmlns:ds='{DS}' Id='s1'><!-- c --><ds:SignedInfo/></ds:Signature>".encode()
    )
    document = new_document(kind="x").model_copy(update={"signature": signature})
    message = registration_request(
        sender=SENDER, recipient=RECIPIENT, document=document
    ).model_copy(update={"signature": signature})
    data = message.to_xml()
    assert data.count(b"<ds:Signature xmlns:ds=") == 2
    assert data.count(b"<!-- c -->") == 2
    again = Message.from_xml(data)
    assert again.signature == signature
    assert again.signature is not None
    # kept with the namespace declarations in scope where it stood (C14N of SignedInfo needs them)
    assert again.signature.xml.startswith(
        b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns="' + NS.encode()
    )
    assert again.signature.element().get("Id") == "s1"
    assert again.body.document.signature == signature  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# Enums, body type, exports
# ---------------------------------------------------------------------------------------------


def test_enum_values_are_the_wire_values() -> None:
    assert [m.value for m in MessageType] == [
        "MSG_DocumentRegistrationRequest",
        "MSG_DocumentStatusRequest",
        "MSG_DocumentStatusResponse",
        "MSG_Error",
    ]
    assert {s.value for s in DocumentStatus} == {
        "DS_WAIT_REGISTRATION",
        "DS_REGISTERED",
        "DS_STOPPED",
        "DS_CLOSED",
        "DS_NOT_FOUND",
        "DS_ALREADY_RECEIVED",
        "DS_REJECTED",
    }
    assert {k.value for k in ErrorKind} == {"ERR_INTERNAL", "ERR_EXTERNAL"}


def test_a_mismatched_message_type_is_kept_and_visible() -> None:
    message = registration_request(
        sender=SENDER, recipient=RECIPIENT, document=new_document(kind="x")
    )
    message.header.message_type = MessageType.MSG_Error
    again = Message.from_xml(message.to_xml())
    assert again.header.message_type is MessageType.MSG_Error
    assert again.body_type is MessageType.MSG_DocumentRegistrationRequest


def test_exports() -> None:
    assert eintegr.messages.__all__ == eintegr.messages.seos.__all__
    for name in eintegr.messages.__all__:
        assert getattr(eintegr.messages, name) is getattr(eintegr.messages.seos, name)
        assert getattr(eintegr.messages, name).__doc__ or name == "MessageBody"  # a Union
    public = {
        name
        for name, value in vars(eintegr.messages.seos).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == "eintegr.messages.seos"
    }
    assert public <= set(eintegr.messages.__all__)


def test_opaque_values_are_immutable() -> None:
    signature = SignatureXml(f"<Signature xmlns='{DS}'/>".encode())
    with pytest.raises(AttributeError, match="immutable"):
        signature._xml = b"<x/>"
    element = signature.element()
    element.set("Id", "changed")
    assert signature.element().get("Id") is None


def test_entity_node_binds_as_sender_or_recipient() -> None:
    node = SENDER.model_copy()
    data = node.to_xml()
    assert b"<Sender " in data
    recipient = data.replace(b"Sender", b"Recipient")
    assert EntityNode.from_xml(recipient) == node
    with pytest.raises(MessageError, match=r"expected <Recipient> or <Sender>"):
        EntityNode.from_xml(data.replace(b"Sender", b"Participant"))
