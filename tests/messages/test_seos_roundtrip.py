"""СЕОС models: model -> XML -> model, schema validity, losslessness, the real signed sample."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
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
    DocumentStatusResponse,
    DocumentURI,
    ErrorKind,
    ErrorMessage,
    Message,
    MessageType,
    ServiceItem,
    error_message,
    new_document,
    registration_request,
    status_request,
    status_response,
)
from eintegr.schemas import seos_schema
from eintegr.xml import parse_xml
from tests.messages.helpers import (
    DUMMY_SIGNATURE,
    NS,
    RECIPIENT,
    SENDER,
    SOFIA,
    c14n,
    make_key_and_cert,
    messages,
    sign_enveloped,
    verify_enveloped,
)

WHEN = datetime(2024, 3, 1, 10, 15, 0, 123456, tzinfo=SOFIA)
DOC_GUID = Guid.parse("{11111111-2222-4333-8444-555555555555}")
PARENT_GUID = Guid.parse("{99999999-8888-4777-8666-555555555555}")


@pytest.fixture(scope="session")
def official_schema(seos_official_schemas: Path) -> etree.XMLSchema:
    return seos_schema(seos_official_schemas)


@pytest.fixture(scope="session")
def own_schema() -> etree.XMLSchema:
    return seos_schema()


def assert_schema_valid(data: bytes, *schemas: etree.XMLSchema) -> None:
    tree = parse_xml(data)
    for schema in schemas:
        ok = schema.validate(tree)
        assert ok, f"{schema.error_log}\n{data.decode()}"


def full_document() -> Document:
    return new_document(
        kind="Писмо",
        number="РД-01-15",
        date=date(2024, 2, 28),
        document_guid=DOC_GUID,
        parent=DocumentIdentification(
            uri=DocumentURI(
                register_index=12, sequence_number=345, receipt_or_signing_date=date(2024, 1, 10)
            ),
            document_guid=PARENT_GUID,
        ),
        correspondents=[
            Correspondent(
                name="Иван Петров",
                city="Русе",
                address="ул. „Александровска“ 1",
                egn="7508150013",
                id_card="645123456",
                bulstat="000695089",
                email="ivan@example.bg",
                phone="082 123 456",
                mobile_phone="0888 123 456",
                mol="Мария Иванова",
                comment="",
                kind=CorrespondentKind.Corr_Applicant,
            ),
            Correspondent(name="Фирма ООД", city="София", kind=CorrespondentKind.Corr_Other),
        ],
        attachments=[
            Attachment(
                file_name="писмо.pdf",
                content=b"%PDF-1.7\x00\xff\xfe binary",
                comment="основен документ",
                mime_type="application/pdf",
            ),
            Attachment(file_name="empty.txt", content=b"", mime_type="text/plain"),
        ],
        about="Относно: искане",
        service=ServiceItem(name="Издаване на удостоверение", type="Бърза", code="2345"),
        comment="  с интервали  ",
        additional_data=AdditionalData.from_children(
            ["<x:meta xmlns:x='urn:example'><x:k v='1'>стойност</x:k></x:meta>".encode()],
            text="бележка",
        ),
        required_close_date=date(2024, 3, 31),
        attention_to="г-н Петров",
    )


BUILT: dict[str, Callable[[], Message]] = {
    "registration-minimal": lambda: registration_request(
        sender=SENDER,
        recipient=RECIPIENT,
        document=new_document(kind="Молба"),
        message_date=WHEN,
    ),
    "registration-full": lambda: registration_request(
        sender=SENDER,
        recipient=RECIPIENT,
        document=full_document().model_copy(update={"signature": DUMMY_SIGNATURE}),
        comment="Моля, регистрирайте",
        message_date=WHEN,
    ),
    "status-request-number": lambda: status_request(
        sender=SENDER,
        recipient=RECIPIENT,
        document_id=DocumentIdentification(
            number=DocumentNumber(number="97-0056", date=date(2021, 8, 19)),
            document_guid=DOC_GUID,
        ),
        message_date=WHEN,
    ),
    "status-request-guid-only": lambda: status_request(
        sender=SENDER,
        recipient=RECIPIENT,
        document_id=DocumentIdentification(document_guid=DOC_GUID),
        message_date=WHEN,
    ),
    "status-request-empty-uri": lambda: status_request(
        sender=SENDER,
        recipient=RECIPIENT,
        document_id=DocumentIdentification(uri=DocumentURI(), document_guid=DOC_GUID),
        message_date=WHEN,
    ),
    "status-response-minimal": lambda: status_response(
        sender=SENDER,
        recipient=RECIPIENT,
        document_id=DocumentIdentification(document_guid=DOC_GUID),
        status=DocumentStatus.DS_WAIT_REGISTRATION,
        message_date=WHEN,
    ),
    "status-response-full": lambda: status_response(
        sender=SENDER,
        recipient=RECIPIENT,
        document_id=DocumentIdentification(
            number=DocumentNumber(number="1", date=date(2024, 3, 1)), document_guid=DOC_GUID
        ),
        status=DocumentStatus.DS_REGISTERED,
        expect_close_date=date(2024, 4, 1),
        additional_data=AdditionalData.from_children(text="само текст"),
        message_date=WHEN,
    ),
    "status-response-rejected": lambda: status_response(
        sender=SENDER,
        recipient=RECIPIENT,
        document_id=DocumentIdentification(document_guid=DOC_GUID),
        status=DocumentStatus.DS_REJECTED,
        rejection_reason="Не е по компетентност",
        message_date=WHEN,
    ),
    "error-minimal": lambda: error_message(
        sender=SENDER,
        recipient=RECIPIENT,
        error_type=ErrorKind.ERR_INTERNAL,
        description="",
        message_date=WHEN,
    ),
    "error-full": lambda: error_message(
        sender=SENDER,
        recipient=RECIPIENT,
        error_type=ErrorKind.ERR_EXTERNAL,
        description="Невалиден формат",
        about_message_guid=Guid.new(),
        message_date=WHEN,
    ).model_copy(update={"signature": DUMMY_SIGNATURE}),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_round_trip_and_schema_validity(
    name: str, official_schema: etree.XMLSchema, own_schema: etree.XMLSchema
) -> None:
    message = BUILT[name]()
    data = message.to_xml()
    assert data.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Message xmlns="' + NS.encode()
    )
    assert_schema_valid(data, official_schema, own_schema)
    again = Message.from_xml(data)
    assert again == message
    assert again.header.message_type == again.body_type
    assert again.to_xml() == data  # serialisation is deterministic


@pytest.mark.parametrize("name", sorted(BUILT))
def test_pretty_output_is_valid_and_binds_back(name: str, own_schema: etree.XMLSchema) -> None:
    message = BUILT[name]()
    data = message.to_xml(pretty=True)
    assert data.count(b"\n") > 10
    assert_schema_valid(data, own_schema)
    again = Message.from_xml(data)
    # pretty-printing may indent inside DocAddData (anyType content); everything else is equal
    body = again.body
    if isinstance(body, DocumentRegistrationRequest) and body.document.additional_data:
        body.document.additional_data = message.body.document.additional_data  # type: ignore[union-attr]
    assert again == message


def test_full_message_has_every_element_in_schema_order() -> None:
    data = BUILT["registration-full"]().to_xml()
    document = parse_xml(data).getroot()[1][0][0]
    assert [etree.QName(child).localname for child in document] == [
        "DocID",
        "DocParentID",
        "DocKind",
        "DocCorrespondentList",
        "DocAttachmentList",
        "DocAbout",
        "DocService",
        "DocComment",
        "DocAddData",
        "DocReqDateClose",
        "DocAttentionTo",
        "Signature",
    ]
    uri = document[1][0]
    assert uri.tag == f"{{{NS}}}DocumentURI"
    assert [child.tag for child in uri] == [
        "{http://ereg.egov.bg/segment/0009-000001}RegisterIndex",
        "{http://ereg.egov.bg/segment/0009-000001}SequenceNumber",
        "{http://ereg.egov.bg/segment/0009-000001}ReceiptOrSigningDate",
    ]
    assert [etree.QName(c).localname for c in document[3]] == ["Corespondent", "Corespondent"]
    assert document.findtext(f"{{{NS}}}DocAttachmentList/{{{NS}}}Attachment/{{{NS}}}AttBody") == (
        "JVBERi0xLjcA//4gYmluYXJ5"
    )


def test_absent_lists_and_optionals_are_not_written() -> None:
    data = BUILT["registration-minimal"]().to_xml()
    for name in (b"DocCorrespondentList", b"DocAttachmentList", b"DocParentID", b"DocAbout"):
        assert name not in data
    assert b"<Comment></Comment>" in data  # required by the schema even when empty


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages())
def test_random_messages_round_trip_and_validate(
    message: Message, official_schema: etree.XMLSchema, own_schema: etree.XMLSchema
) -> None:
    data = message.to_xml()
    assert_schema_valid(data, official_schema, own_schema)
    again = Message.from_xml(data)
    assert again == message
    assert again.to_xml() == data
    assert Message.model_validate_json(message.model_dump_json()) == message


def test_models_pickle() -> None:
    message = BUILT["registration-full"]()
    assert pickle.loads(pickle.dumps(message)) == message


# ---------------------------------------------------------------------------------------------
# The real signed sample
# ---------------------------------------------------------------------------------------------


def test_signed_sample_values(seos_signed_sample: bytes) -> None:
    message = Message.from_xml(seos_signed_sample)
    header = message.header
    assert header.version == "1.0"
    assert header.message_type is MessageType.MSG_DocumentStatusResponse
    assert message.body_type is MessageType.MSG_DocumentStatusResponse
    # 2021-08-24T01:02:54.2432872+03:00: the seventh fractional digit is beyond microseconds
    assert header.message_date == datetime(2021, 8, 24, 1, 2, 54, 243287, tzinfo=SOFIA)
    assert header.message_date.utcoffset() == timedelta(hours=3)
    assert header.sender.identifier == "1770988091003"
    assert header.sender.administrative_body_name == "ССЕВ тест"
    assert header.sender.guid == "{DF8EF074-3313-4187-929E-276954BD7457}"
    assert header.recipient.identifier == "204141153"
    assert header.recipient.administrative_body_name == "АТ Софтуерни приложения ЕООД"
    assert header.recipient.guid == Guid.parse("{1d785fed-991a-4426-bdd9-7bd6629134e0}")
    assert header.message_guid == Guid.parse("{f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}")
    body = message.body
    assert isinstance(body, DocumentStatusResponse)
    assert body.status is DocumentStatus.DS_WAIT_REGISTRATION
    assert body.doc_id.number == DocumentNumber(number="97-0056", date=date(2021, 8, 19))
    assert body.doc_id.uri is None
    assert body.doc_id.document_guid == Guid.parse("{9f5f40b3-591e-46a8-9963-1e04e16d2ede}")
    assert body.rejection_reason is None
    assert body.expect_close_date is None
    assert body.additional_data is None
    assert message.signature is not None
    signature = message.signature.element()
    assert signature.tag == "{http://www.w3.org/2000/09/xmldsig#}Signature"
    assert signature.findtext("{*}SignatureValue", "").startswith("Mh9x4IFI9Iwbog1m")


def test_signed_sample_reserialises_to_the_same_canonical_xml(
    seos_signed_sample: bytes, official_schema: etree.XMLSchema, own_schema: etree.XMLSchema
) -> None:
    data = Message.from_xml(seos_signed_sample).to_xml()
    assert c14n(data) == c14n(seos_signed_sample)
    assert b"<MessageDate>2021-08-24T01:02:54.2432872+03:00</MessageDate>" in data
    assert_schema_valid(data, official_schema, own_schema)
    verify_enveloped(seos_signed_sample)  # the check itself works on the original …
    verify_enveloped(data)  # … and the re-serialised message still verifies (RSA-SHA1)


def test_signed_sample_changed_date_is_written_anew(seos_signed_sample: bytes) -> None:
    message = Message.from_xml(seos_signed_sample)
    later = message.header.message_date + timedelta(seconds=1)
    changed = message.model_copy(
        update={"header": message.header.model_copy(update={"message_date": later})}
    )
    data = changed.to_xml()
    assert b"<MessageDate>2021-08-24T01:02:55.243287+03:00</MessageDate>" in data
    with pytest.raises(AssertionError, match="digest"):
        verify_enveloped(data)


def test_freshly_signed_message_round_trips_verifiably(own_schema: etree.XMLSchema) -> None:
    key, cert = make_key_and_cert()
    unsigned = BUILT["registration-full"]().to_xml()
    signed = sign_enveloped(unsigned, key, cert)
    verify_enveloped(signed)
    message = Message.from_xml(signed)
    assert message.signature is not None
    assert message.body.document.signature is not None  # type: ignore[union-attr]
    again = message.to_xml()
    assert c14n(again) == c14n(signed)
    verify_enveloped(again)
    assert_schema_valid(again, own_schema)
    # the model never vouches for a signature: tampering still binds, and no longer verifies
    tampered = message.model_copy(update={"body": message.body.model_copy(update={"comment": "x"})})
    with pytest.raises(AssertionError, match="digest"):
        verify_enveloped(tampered.to_xml())


def test_prefixed_signed_message_round_trips_verifiably() -> None:
    key, cert = make_key_and_cert()
    plain = BUILT["status-request-number"]().to_xml()
    prefixed = re.sub(rb"<(/?)([A-Z])", rb"<\1m:\2", plain).replace(b"xmlns=", b"xmlns:m=")
    assert b"<m:Message xmlns:m=" in prefixed
    signed = sign_enveloped(prefixed, key, cert)
    message = Message.from_xml(signed)
    assert message == BUILT["status-request-number"]().model_copy(
        update={"header": message.header, "signature": message.signature}
    )
    again = message.to_xml()
    assert b"<m:Header>" in again
    assert c14n(again) == c14n(signed)
    verify_enveloped(again)


# ---------------------------------------------------------------------------------------------
# Faithful binding of unusual but schema-valid input
# ---------------------------------------------------------------------------------------------

HAND_WRITTEN = f"""<?xml version="1.0" encoding="utf-8"?>
<m:Message xmlns:m="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="{NS} EGovMessaging.xsd">
  <!-- a comment the model does not keep -->
  <m:Header>
    <m:Version>1</m:Version>
    <m:MessageType>MSG_Error</m:MessageType>
    <m:MessageDate>2024-03-01T10:15:00</m:MessageDate>
    <m:Sender><m:Identifier>000695089</m:Identifier><m:AdministrativeBodyName>А</m:AdministrativeBodyName><m:GUID>{{6F2D1C1E-3A44-4C61-9D0B-1A2B3C4D5E6F}}</m:GUID></m:Sender>
    <m:Recipient><m:Identifier>175057660</m:Identifier><m:AdministrativeBodyName/><m:GUID>{{0b4e8f9a-7c21-4d3e-8a5f-6b7c8d9e0f1a}}</m:GUID></m:Recipient>
    <m:MessageGUID>{{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}}</m:MessageGUID>
  </m:Header>
  <m:Body>
    <m:DocumentRegistrationRequest>
      <m:Document>
        <m:DocID>
          <m:DocumentURI xmlns:u="http://ereg.egov.bg/segment/0009-000001">
            <u:RegisterIndex> +07 </u:RegisterIndex>
            <u:ReceiptOrSigningDate>2024-02-28+02:00</u:ReceiptOrSigningDate>
          </m:DocumentURI>
          <m:DocumentGUID>{{11111111-2222-4333-8444-555555555555}}</m:DocumentGUID>
        </m:DocID>
        <m:DocKind>Мол<!-- split -->ба</m:DocKind>
        <m:DocAttachmentList>
          <m:Attachment>
            <m:AttFileName>a.bin</m:AttFileName>
            <m:AttBody>
              AAECAwQF
              BgcICQ==
            </m:AttBody>
            <m:AttMIMEType>application/octet-stream</m:AttMIMEType>
          </m:Attachment>
        </m:DocAttachmentList>
        <m:DocAddData a="1">смесено <b xmlns="urn:b">съдържание</b><!-- kept --></m:DocAddData>
      </m:Document>
      <m:Comment/>
    </m:DocumentRegistrationRequest>
  </m:Body>
</m:Message>
""".encode()


def test_hand_written_message_binds_faithfully(
    official_schema: etree.XMLSchema, own_schema: etree.XMLSchema
) -> None:
    assert_schema_valid(HAND_WRITTEN, official_schema, own_schema)
    message = Message.from_xml(HAND_WRITTEN)
    header = message.header
    assert header.version == "1"  # kept as written
    assert header.message_type is MessageType.MSG_Error
    assert message.body_type is MessageType.MSG_DocumentRegistrationRequest  # a mismatch, kept
    assert header.message_date == datetime(2024, 3, 1, 10, 15)
    assert header.message_date.tzinfo is None  # naive on the wire, naive in the model
    assert header.sender.guid == Guid.parse("{6f2d1c1e-3a44-4c61-9d0b-1a2b3c4d5e6f}")
    assert header.recipient.administrative_body_name == ""
    body = message.body
    assert isinstance(body, DocumentRegistrationRequest)
    assert body.comment == ""
    document = body.document
    assert document.doc_id.uri == DocumentURI(
        register_index=7, receipt_or_signing_date=date(2024, 2, 28)
    )
    assert document.kind == "Молба"
    assert document.attachments[0].content == bytes(range(10))
    assert document.additional_data is not None
    assert document.additional_data.text == "смесено "
    assert [etree.QName(c).localname for c in document.additional_data.children()] == ["b"]
    assert b"<!-- kept -->" in document.additional_data.xml
    assert b'a="1"' in document.additional_data.xml

    data = message.to_xml()
    assert_schema_valid(data, official_schema, own_schema)
    root = parse_xml(data).getroot()
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == (
        f"{NS} EGovMessaging.xsd"
    )
    assert root.findtext(f"{{{NS}}}Header/{{{NS}}}MessageDate") == "2024-03-01T10:15:00"
    again = Message.from_xml(data)
    assert again == message
    assert again.body_type is not again.header.message_type


def test_message_equality_ignores_how_it_was_written() -> None:
    message = BUILT["error-full"]()
    compact = message.to_xml()
    spaced = compact.replace(b"<Message ", b'<Message xmlns:extra="urn:extra" ')
    assert Message.from_xml(spaced) == Message.from_xml(compact) == message
    assert Message.from_xml(spaced).to_xml() != compact  # but the declaration is written back


def test_body_models_bind_on_their_own() -> None:
    message = BUILT["registration-full"]()
    body = message.body
    assert isinstance(body, DocumentRegistrationRequest)
    data = body.document.to_xml()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="')
    assert Document.from_xml(data) == body.document
    error = ErrorMessage(error_type=ErrorKind.ERR_INTERNAL, description="x")
    assert ErrorMessage.from_xml(error.to_xml()) == error
    assert b"<Error " in error.to_xml()
