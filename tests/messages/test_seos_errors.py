"""СЕОС models: input that cannot be bound fails with a typed error, a path and two languages."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from eintegr.errors import (
    EintegrError,
    MessageError,
    XmlError,
    XmlLimitError,
    XmlSecurityError,
    XmlSyntaxError,
)
from eintegr.messages import DocumentStatusResponse, Message
from eintegr.xml import XmlLimits, parse_xml

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<Message xmlns="http://schemas.egov.bg/messaging/v1">
  <Header>
    <Version>1.0</Version>
    <MessageType>MSG_DocumentStatusResponse</MessageType>
    <MessageDate>2024-03-01T10:15:00+02:00</MessageDate>
    <Sender>
      <Identifier>000695089</Identifier>
      <AdministrativeBodyName>Подател</AdministrativeBodyName>
      <GUID>{6f2d1c1e-3a44-4c61-9d0b-1a2b3c4d5e6f}</GUID>
    </Sender>
    <Recipient>
      <Identifier>175057660</Identifier>
      <AdministrativeBodyName>Получател</AdministrativeBodyName>
      <GUID>{0b4e8f9a-7c21-4d3e-8a5f-6b7c8d9e0f1a}</GUID>
    </Recipient>
    <MessageGUID>{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}</MessageGUID>
  </Header>
  <Body>
    <DocumentStatusResponse>
      <DocID>
        <DocumentNumber>
          <DocNumber>97-0056</DocNumber>
          <DocDate>2024-02-28</DocDate>
        </DocumentNumber>
        <DocumentGUID>{11111111-2222-4333-8444-555555555555}</DocumentGUID>
      </DocID>
      <DocRegStatus>DS_REGISTERED</DocRegStatus>
    </DocumentStatusResponse>
  </Body>
</Message>
"""

H = "/Message/Header"
R = "/Message/Body/DocumentStatusResponse"


def mutated(old: str, new: str) -> bytes:
    assert old in GOOD
    return GOOD.replace(old, new, 1).encode()


def line_of(data: bytes, needle: bytes) -> int:
    return data[: data.index(needle)].count(b"\n") + 1


def test_the_base_document_binds() -> None:
    message = Message.from_xml(GOOD.encode())
    assert isinstance(message.body, DocumentStatusResponse)


CASES = {
    "bad-date": (
        ("<DocDate>2024-02-28", "<DocDate>2024-02-30"),
        f"{R}/DocID/DocumentNumber/DocDate",
        "not a real date",
        "не е съществуваща дата",
    ),
    "date-not-xsd": (
        ("<DocDate>2024-02-28", "<DocDate>28.02.2024"),
        f"{R}/DocID/DocumentNumber/DocDate",
        "is not an xsd:date",
        "не е дата xsd:date",
    ),
    "timestamp-is-not-a-datetime": (
        ("2024-03-01T10:15:00+02:00", "1709280900"),
        f"{H}/MessageDate",
        "is not an xsd:dateTime",
        "не е дата и час",
    ),
    "impossible-zone": (
        ("2024-03-01T10:15:00+02:00", "2024-03-01T10:15:00+15:00"),
        f"{H}/MessageDate",
        "impossible time-zone offset",
        "невъзможно отместване",
    ),
    "bad-guid": (
        ("{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"),
        f"{H}/MessageGUID",
        "is not of the form",
        "не е във вида",
    ),
    "missing-element": (
        ("<MessageGUID>{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}</MessageGUID>", ""),
        f"{H}/MessageGUID",
        "required element <MessageGUID> is missing",
        "липсва задължителният елемент <MessageGUID>",
    ),
    "missing-nested-element": (
        ("<AdministrativeBodyName>Получател</AdministrativeBodyName>", ""),
        f"{H}/Recipient/AdministrativeBodyName",
        "<AdministrativeBodyName> is missing",
        "<AdministrativeBodyName>",
    ),
    "unknown-status": (
        ("DS_REGISTERED", "DS_DONE"),
        f"{R}/DocRegStatus",
        "'DS_DONE' is not an allowed value",
        "не е от допустимите стойности",
    ),
    "status-with-spaces": (
        ("DS_REGISTERED", " DS_REGISTERED"),
        f"{R}/DocRegStatus",
        "is not an allowed value",
        "не е от допустимите стойности",
    ),
    "unexpected-element": (
        ("<DocRegStatus>", "<Extra/><DocRegStatus>"),
        f"{R}/Extra",
        "unexpected element <Extra>",
        "неочакван елемент <Extra>",
    ),
    "unexpected-empty-element-at-the-end": (
        ("</DocumentStatusResponse>", "<RejectionReason/><Note/></DocumentStatusResponse>"),
        f"{R}/Note",
        "unexpected element <Note>",
        "неочакван елемент <Note>",
    ),
    "element-out-of-order": (
        (
            "<Version>1.0</Version>\n    <MessageType>MSG_DocumentStatusResponse</MessageType>",
            "<MessageType>MSG_DocumentStatusResponse</MessageType>\n    <Version>1.0</Version>",
        ),
        f"{H}/",
        "",
        "",
    ),
    "unexpected-attribute": (
        ("<DocRegStatus>", '<DocRegStatus code="7">'),
        f"{R}/DocRegStatus/@code",
        "unexpected attribute code",
        "неочакван атрибут code",
    ),
    "unexpected-text": (
        ("<Sender>", "<Sender>free text"),
        f"{H}/Sender",
        "unexpected text 'free text'",
        "неочакван текст 'free text'",
    ),
    "number-and-uri": (
        ("</DocumentNumber>", "</DocumentNumber><DocumentURI/>"),
        f"{R}/DocID",
        "not both",
        "не с двете",
    ),
    "unknown-body": (
        ("<DocumentStatusResponse>", "<DocumentDeleteRequest/><DocumentStatusResponse>"),
        "/Message/Body/DocumentDeleteRequest",
        "unexpected element <DocumentDeleteRequest>",
        "неочакван елемент",
    ),
    "second-signature": (
        (
            "</Message>",
            '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/>'
            '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/></Message>',
        ),
        "/Message/Signature[2]",
        "unexpected element <Signature>",
        "неочакван елемент <Signature>",
    ),
    "signature-in-the-header": (
        ("</Header>", '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/></Header>'),
        f"{H}/Signature",
        "unexpected element <Signature>",
        "неочакван елемент",
    ),
    "foreign-root-attribute": (
        ("<Message ", '<Message id="m1" '),
        "/Message/@id",
        "unexpected attribute id",
        "неочакван атрибут id",
    ),
    "element-in-another-namespace": (
        (
            "<DocRegStatus>DS_REGISTERED</DocRegStatus>",
            '<DocRegStatus xmlns="urn:x">DS_REGISTERED</DocRegStatus>',
        ),
        f"{R}/DocRegStatus",
        "unexpected element <DocRegStatus>",
        "неочакван елемент",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_binding_errors_name_the_place(name: str) -> None:
    (old, new), path, english, bulgarian = CASES[name]
    data = mutated(old, new)
    with pytest.raises(MessageError) as caught:
        Message.from_xml(data)
    error = caught.value
    assert error.code == "MODEL-BIND"
    assert error.path is not None
    assert error.path.startswith(path), error.path
    assert english in str(error)
    assert bulgarian in error.message_bg
    assert error.path in str(error)
    assert error.path in error.message_bg
    assert re.search("[а-я]", error.message_bg)
    assert error.message_bg != str(error)
    assert error.line is not None
    assert 1 <= error.line <= data.count(b"\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "line_of_text"),
    [
        ("<DocDate>2024-02-28", "<DocDate>2024-02-30", b"<DocDate>"),
        ("<DocRegStatus>", "<Extra/><DocRegStatus>", b"<Extra/>"),
        ("<DocRegStatus>", '<DocRegStatus code="7">', b"<DocRegStatus"),
        ("<MessageGUID>{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}</MessageGUID>", "", b"<Header>"),
    ],
    ids=["value", "unexpected-element", "attribute", "missing-element-at-its-parent"],
)
def test_errors_give_the_source_line(old: str, new: str, line_of_text: bytes) -> None:
    data = mutated(old, new)
    with pytest.raises(MessageError) as caught:
        Message.from_xml(data)
    assert caught.value.line == line_of(data, line_of_text)


def test_an_error_counts_the_other_problems() -> None:
    data = mutated("<DocDate>2024-02-28", "<DocDate>x").replace(b"+02:00", b"+2")
    with pytest.raises(MessageError, match=r"and 1 more problem\b") as caught:
        Message.from_xml(data)
    assert "и още 1 проблем" in caught.value.message_bg


def test_invalid_base64_content() -> None:
    data = (
        GOOD.replace("MSG_DocumentStatusResponse", "MSG_DocumentRegistrationRequest")
        .replace(
            GOOD[GOOD.index("<DocumentStatusResponse>") : GOOD.index("</Body>")],
            """<DocumentRegistrationRequest><Document>
        <DocID><DocumentGUID>{11111111-2222-4333-8444-555555555555}</DocumentGUID></DocID>
        <DocKind>Писмо</DocKind>
        <DocAttachmentList><Attachment>
          <AttFileName>a.txt</AttFileName><AttBody>not base64!</AttBody>
          <AttMIMEType>text/plain</AttMIMEType>
        </Attachment></DocAttachmentList>
      </Document><Comment/></DocumentRegistrationRequest>""",
        )
        .encode()
    )
    with pytest.raises(MessageError, match="not valid base64") as caught:
        Message.from_xml(data)
    error = caught.value
    assert error.path == (
        "/Message/Body/DocumentRegistrationRequest/Document/DocAttachmentList/Attachment/AttBody"
    )
    assert error.line == line_of(data, b"<AttBody>")
    assert "base64" in error.message_bg


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<Foo/>", "the root element is <Foo> without a namespace"),
        (
            GOOD.replace(
                'xmlns="http://schemas.egov.bg/messaging/v1"', 'xmlns="urn:other"'
            ).encode(),
            "<Message> in namespace urn:other",
        ),
        (
            GOOD.replace('xmlns="http://schemas.egov.bg/messaging/v1"', "").encode(),
            "<Message> without a namespace",
        ),
        (
            b'<Header xmlns="http://schemas.egov.bg/messaging/v1"/>',
            "the root element is <Header>",
        ),
    ],
    ids=["foreign-root", "wrong-namespace", "no-namespace", "header-as-root"],
)
def test_wrong_root(data: bytes, message: str) -> None:
    with pytest.raises(MessageError, match=re.escape(message)) as caught:
        Message.from_xml(data)
    assert caught.value.code == "MODEL-BIND"
    assert caught.value.path == "/" + etree.QName(parse_xml(data).getroot()).localname
    assert "кореновият елемент" in caught.value.message_bg


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", XmlSyntaxError),
        (GOOD.encode()[:300], XmlSyntaxError),
        (b'<!DOCTYPE m [<!ENTITY x "y">]><Message/>', XmlSecurityError),
        (GOOD.encode().replace(b"</Message>", b"</Mesage>"), XmlSyntaxError),
    ],
    ids=["empty", "truncated", "doctype", "mismatched-tag"],
)
def test_unacceptable_xml_is_an_xml_error(data: bytes, kind: type[XmlError]) -> None:
    with pytest.raises(kind) as caught:
        Message.from_xml(data)
    assert isinstance(caught.value, EintegrError)
    assert caught.value.message_bg


def test_limits_are_applied() -> None:
    with pytest.raises(XmlLimitError):
        Message.from_xml(GOOD.encode(), limits=XmlLimits(max_bytes=100))
    with pytest.raises(XmlLimitError):
        Message.from_xml(GOOD.encode(), limits=XmlLimits(max_depth=4))


def test_from_tree_accepts_elements_and_trees_but_nothing_else() -> None:
    tree = parse_xml(GOOD.encode())
    assert Message.from_tree(tree) == Message.from_tree(tree.getroot())
    with pytest.raises(TypeError):
        Message.from_tree(GOOD)  # type: ignore[arg-type]


def test_errors_are_value_errors_for_callers_who_do_not_know_eintegr() -> None:
    with pytest.raises(ValueError, match="MessageGUID"):
        Message.from_xml(
            mutated("<MessageGUID>{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}</MessageGUID>", "")
        )
