"""Hand-written СЕОС test messages (independent of eintegr's models), mutated per test."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

NS = "http://schemas.egov.bg/messaging/v1"
M = "{" + NS + "}"
URI_NS = "http://ereg.egov.bg/segment/0009-000001"

SENDER_EIK = "000695089"  # 0*1+0*2+0*3+6*4+9*5+5*6+0*7+8*8 = 163; 163 mod 11 = 9
RECIPIENT_EIK = "175057660"  # 1+14+15+0+25+42+42+48 = 187; 187 mod 11 = 0
EGN = "7508150013"  # 14+20+0+40+10+45+0+0+6 = 135; 135 mod 11 = 3; born 1975-08-15
GUIDS = {
    "sender": "{6f2d1c1e-3a44-4c61-9d0b-1a2b3c4d5e6f}",
    "recipient": "{0b4e8f9a-7c21-4d3e-8a5f-6b7c8d9e0f1a}",
    "message": "{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}",
    "document": "{11111111-2222-4333-8444-555555555555}",
    "parent": "{99999999-8888-4777-8666-555555555555}",
}


def _header(message_type: str) -> str:
    return f"""<Header>
    <Version>1.0</Version>
    <MessageType>{message_type}</MessageType>
    <MessageDate>2024-03-01T10:15:00.1234567+02:00</MessageDate>
    <Sender><Identifier>{SENDER_EIK}</Identifier><AdministrativeBodyName>Областна администрация – Русе</AdministrativeBodyName><GUID>{GUIDS["sender"]}</GUID></Sender>
    <Recipient><Identifier>{RECIPIENT_EIK}</Identifier><AdministrativeBodyName>Община Русе</AdministrativeBodyName><GUID>{GUIDS["recipient"]}</GUID></Recipient>
    <MessageGUID>{GUIDS["message"]}</MessageGUID>
  </Header>"""


def registration() -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Message xmlns="{NS}">
  {_header("MSG_DocumentRegistrationRequest")}
  <Body>
    <DocumentRegistrationRequest>
      <Document>
        <DocID>
          <DocumentNumber><DocNumber>РД-01-15</DocNumber><DocDate>2024-02-28</DocDate></DocumentNumber>
          <DocumentGUID>{GUIDS["document"]}</DocumentGUID>
        </DocID>
        <DocParentID>
          <DocumentNumber><DocNumber>РД-01-02</DocNumber><DocDate>2024-01-10</DocDate></DocumentNumber>
          <DocumentGUID>{GUIDS["parent"]}</DocumentGUID>
        </DocParentID>
        <DocKind>Писмо</DocKind>
        <DocCorrespondentList>
          <Corespondent><CorName>Иван Петров</CorName><CorCity>Русе</CorCity><CorEGN>{EGN}</CorEGN><CorKind>Corr_Applicant</CorKind></Corespondent>
          <Corespondent><CorName>Фирма ООД</CorName><CorCity>Русе</CorCity><CorBULSTAT>{SENDER_EIK}</CorBULSTAT></Corespondent>
        </DocCorrespondentList>
        <DocAttachmentList>
          <Attachment><AttFileName>letter.pdf</AttFileName><AttBody>JVBERi0xLjQK</AttBody><AttMIMEType>application/pdf</AttMIMEType></Attachment>
          <Attachment><AttFileName>annex.txt</AttFileName><AttBody>0YLQtdC60YHRgg==</AttBody><AttMIMEType>text/plain; charset=utf-8</AttMIMEType></Attachment>
        </DocAttachmentList>
        <DocAbout>Относно проверка</DocAbout>
        <DocReqDateClose>2024-03-30</DocReqDateClose>
      </Document>
      <Comment>Моля за регистриране</Comment>
    </DocumentRegistrationRequest>
  </Body>
</Message>""".encode()


def status_response(status: str = "DS_REGISTERED", extra: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Message xmlns="{NS}">
  {_header("MSG_DocumentStatusResponse")}
  <Body>
    <DocumentStatusResponse>
      <DocID>
        <DocumentNumber><DocNumber>94-00-12</DocNumber><DocDate>2024-03-01</DocDate></DocumentNumber>
        <DocumentGUID>{GUIDS["document"]}</DocumentGUID>
      </DocID>
      <DocRegStatus>{status}</DocRegStatus>{extra}
    </DocumentStatusResponse>
  </Body>
</Message>""".encode()


def status_request() -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Message xmlns="{NS}">
  {_header("MSG_DocumentStatusRequest")}
  <Body><DocumentStatusRequest><DocID><DocumentGUID>{GUIDS["document"]}</DocumentGUID></DocID></DocumentStatusRequest></Body>
</Message>""".encode()


def error(with_guid: bool = True) -> bytes:
    guid = f"<MessageGUID>{GUIDS['parent']}</MessageGUID>" if with_guid else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Message xmlns="{NS}">
  {_header("MSG_Error")}
  <Body><Error>{guid}<ErrorType>ERR_EXTERNAL</ErrorType><ErrorDescription>Непознат документ</ErrorDescription></Error></Body>
</Message>""".encode()


def mutate(data: bytes, change: Callable[[etree._Element], object]) -> bytes:
    """Apply ``change`` to the parsed root and serialize again."""
    root = etree.fromstring(data)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def set_text(path: str, value: str) -> Callable[[etree._Element], None]:
    """A mutation that sets the text of the element at ``path`` (ElementPath, СЕОС namespace)."""

    def change(root: etree._Element) -> None:
        found = root.find(path.replace("m:", M))
        assert found is not None, path
        found.text = value

    return change
