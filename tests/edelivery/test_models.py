"""The ССЕВ data contracts and operations: binding WCF output, round trips, the official XSD."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from eintegr.errors import MessageError
from eintegr.messages.edelivery import (
    DC_NS,
    ESUBJECT_NS,
    OPERATIONS,
    SERVICE_NS,
    DcDocument,
    DcInstitutionInfo,
    DcLegalPersonInfo,
    DcLegalPersonRegistrationInfo,
    DcMessage,
    DcMessageDetails,
    DcPartialListOfDcMessage,
    DcPersonInfo,
    DcPersonRegistrationInfo,
    DcRegisteredSubjectInfo,
    DcSubjectInfo,
    DcSubjectPublicInfo,
    DcSubjectRegistrationInfo,
    DcSubjectShortInfo,
    EventType,
    ParamKind,
    ProfileType,
    PushNotification,
    ResultKind,
    VerificationResult,
    build_request,
    build_response,
    parse_request,
    parse_response,
)
from tests.conftest import reference_path

# What WCF writes for GetReceivedMessageContent: prefixes of its own, xsi:nil, seven-digit
# fractions, unknown members, the backing-field names of DcSignatureValidationResult.
WCF_RESPONSE = f"""<GetReceivedMessageContentResponse xmlns="{SERVICE_NS}">
<GetReceivedMessageContentResult xmlns:a="{DC_NS}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
 <a:DateCreated>2024-03-01T10:15:30.1234567+02:00</a:DateCreated>
 <a:DateReceived i:nil="true"/>
 <a:DateSent>2024-03-01T10:15:31.5</a:DateSent>
 <a:Id>4711</a:Id>
 <a:IsDraft>false</a:IsDraft>
 <a:ReceiverLogin i:nil="true"/>
 <a:ReceiverProfile><a:ElectronicSubjectId>6f1c0a52-3c1d-4d7e-9a43-1d2e3f4a5b6c</a:ElectronicSubjectId>
  <a:ElectronicSubjectName>Община Пример</a:ElectronicSubjectName><a:Id>12</a:Id>
  <a:ProfileType>Institution</a:ProfileType></a:ReceiverProfile>
 <a:SenderLogin i:nil="true"/>
 <a:SenderProfile><a:ElectronicSubjectName>Иван Петров</a:ElectronicSubjectName>
  <a:ProfileType>Person</a:ProfileType></a:SenderProfile>
 <a:Title>Заявление</a:Title>
 <a:AttachedDocuments><a:DcDocument>
  <a:Content>JVBERi0xLjcK</a:Content><a:ContentEncodingCodePage i:nil="true"/>
  <a:ContentType>application/pdf</a:ContentType><a:DocumentName>zayavlenie.pdf</a:DocumentName>
  <a:DocumentRegistrationNumber i:nil="true"/><a:Id>99</a:Id>
  <a:NewMemberFrom2030>x</a:NewMemberFrom2030>
  <a:SignaturesInfo><a:DcSignatureValidationResult>
   <a:_x003C_CertificateAlgorithm_x003E_k__BackingField>sha256RSA</a:_x003C_CertificateAlgorithm_x003E_k__BackingField>
   <a:_x003C_ChainCertificates_x003E_k__BackingField><a:DcChainCertificate><a:IsRoot>true</a:IsRoot>
    <a:Subject>CN=Root</a:Subject></a:DcChainCertificate></a:_x003C_ChainCertificates_x003E_k__BackingField>
   <a:_x003C_ChainErrors_x003E_k__BackingField xmlns:b="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><b:string>none</b:string></a:_x003C_ChainErrors_x003E_k__BackingField>
   <a:_x003C_ContainsTimeStamp_x003E_k__BackingField>false</a:_x003C_ContainsTimeStamp_x003E_k__BackingField>
   <a:_x003C_IsSignatureValid_x003E_k__BackingField>true</a:_x003C_IsSignatureValid_x003E_k__BackingField>
   <a:_x003C_Status_x003E_k__BackingField>Success</a:_x003C_Status_x003E_k__BackingField>
   <a:_x003C_ValidTo_x003E_k__BackingField>2026-01-01T00:00:00Z</a:_x003C_ValidTo_x003E_k__BackingField>
  </a:DcSignatureValidationResult></a:SignaturesInfo>
 </a:DcDocument></a:AttachedDocuments>
 <a:MessageText>Моля, разгледайте.</a:MessageText>
 <a:TimeStampNRO><a:FileName>nro.tsr</a:FileName><a:TimeStampData>MIIB</a:TimeStampData></a:TimeStampNRO>
</GetReceivedMessageContentResult></GetReceivedMessageContentResponse>"""


def test_binding_wcf_output() -> None:
    message = parse_response("GetReceivedMessageContent", etree.fromstring(WCF_RESPONSE))
    assert isinstance(message, DcMessageDetails)
    assert message.id == 4711
    assert message.title == "Заявление"
    assert message.date_created is not None
    assert message.date_created.microsecond == 123456
    assert message.date_received is None
    assert message.sender_login is None
    assert message.receiver_profile is not None
    assert message.receiver_profile.profile_type is ProfileType.Institution
    assert message.receiver_profile.electronic_subject_id == uuid.UUID(
        "6f1c0a52-3c1d-4d7e-9a43-1d2e3f4a5b6c"
    )
    (document,) = message.attached_documents or []
    assert document.content == b"%PDF-1.7\n"
    assert document.content_encoding_code_page is None
    (check,) = document.signatures_info or []
    assert check.is_signature_valid is True
    assert check.status is VerificationResult.Success
    assert check.chain_errors == ["none"]
    assert check.chain_certificates is not None
    assert check.chain_certificates[0].is_root is True
    assert check.valid_to == datetime(2026, 1, 1, tzinfo=UTC)
    assert message.timestamp_nro is not None
    assert message.timestamp_nro.file_name == "nro.tsr"
    assert message.message_text == "Моля, разгледайте."


def test_bad_values_are_reported_with_their_place() -> None:
    broken = WCF_RESPONSE.replace("JVBERi0xLjcK", "not*base64")
    with pytest.raises(MessageError) as caught:
        parse_response("GetReceivedMessageContent", etree.fromstring(broken))
    assert caught.value.code == "EDELIVERY-BIND"
    assert "base64" in str(caught.value)
    assert caught.value.path
    assert caught.value.message_bg != str(caught.value)
    with pytest.raises(MessageError) as caught:
        parse_response(
            "SendMessage",
            etree.fromstring(
                f'<SendMessageResponse xmlns="{SERVICE_NS}">'
                "<SendMessageResult>x</SendMessageResult>"
                "</SendMessageResponse>"
            ),
        )
    assert caught.value.code == "EDELIVERY-BIND"
    with pytest.raises(MessageError) as caught:
        parse_response("SendMessage", etree.fromstring(f'<Other xmlns="{SERVICE_NS}"/>'))
    assert caught.value.code == "EDELIVERY-OPERATION"


SUBJECT_ID = uuid.UUID("11111111-2222-3333-4444-555555555555")
MESSAGE = DcMessageDetails(
    title="Решение",
    message_text="Текст",
    attached_documents=[
        DcDocument(document_name="r.pdf", content=b"%PDF", document_registration_number="1-2")
    ],
)
LISTED = DcMessage(
    id=7,
    title="T",
    date_sent=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    sender_profile=None,
)

SAMPLE_RESULTS: dict[str, Any] = {
    "GetRegisteredInstitutions": [
        DcInstitutionInfo(
            name="Агенция",
            electronic_subject_id=SUBJECT_ID,
            profile_type=ProfileType.Institution,
            sub_institutions=[DcSubjectPublicInfo(electronic_subject_name="Отдел")],
        )
    ],
    "GetSentDocumentsContent": [DcDocument(id=1, document_name="a.txt", content=b"abc")],
    "GetSentMessagesList": [LISTED],
    "GetReceivedMessagesList": [LISTED],
    "GetSentMessagesListPaged": DcPartialListOfDcMessage(all_items_count=3, items=[LISTED]),
    "GetReceivedMessagesListPaged": DcPartialListOfDcMessage(all_items_count=1, items=[LISTED]),
    "GetSentDocumentContent": DcDocument(id=1, document_name="a.txt", content=b"abc"),
    "GetSentDocumentContentByRegNum": DcDocument(id=1, document_name="a.txt"),
    "GetSentMessageStatus": MESSAGE,
    "GetSentMessageContent": MESSAGE,
    "GetSentDocumentStatusByRegNum": MESSAGE,
    "GetReceivedMessageContent": MESSAGE,
    "CheckPersonHasRegistration": DcPersonRegistrationInfo(
        has_registration=True,
        person_identificator="7501020018",
        accessible_profiles=[DcSubjectShortInfo(eik="130277958", name="Пример ООД")],
    ),
    "CheckLegalPersonHasRegistration": DcLegalPersonRegistrationInfo(
        eik="130277958", has_registration=True, name="Пример ООД"
    ),
    "CheckSubjectHasRegistration": DcSubjectRegistrationInfo(
        has_registration=True,
        identificator="130277958",
        subject_info=DcRegisteredSubjectInfo(
            electronic_subject_name="Пример ООД", institution_type="Municipality"
        ),
    ),
    "GetSubjectInfo": DcLegalPersonInfo(
        company_name="Пример ООД",
        unique_subject_identifier="130277958",
        registered_by=DcPersonInfo(first_name="Иван", last_name="Петров"),
    ),
}

SAMPLE_PARAMS: dict[ParamKind, Any] = {
    ParamKind.STRING: "7501020018",
    ParamKind.INT: 42,
    ParamKind.BOOL: True,
    ParamKind.BYTES: b"%PDF-1.7",
    ParamKind.GUID: SUBJECT_ID,
    ParamKind.PROFILE_TYPE: ProfileType.Person,
    ParamKind.MESSAGE: MESSAGE,
}


def _request(name: str) -> etree._Element:
    params = {p: SAMPLE_PARAMS[kind] for p, kind in OPERATIONS[name].params}
    return build_request(name, **params)


def _response(name: str) -> etree._Element:
    op = OPERATIONS[name]
    return build_response(name, 12 if op.result is ResultKind.INT else SAMPLE_RESULTS[name])


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_operation_round_trips(name: str) -> None:
    op = OPERATIONS[name]
    request = etree.fromstring(etree.tostring(_request(name)))
    parsed_op, values = parse_request(request)
    assert parsed_op is op
    assert values == {p: SAMPLE_PARAMS[kind] for p, kind in op.params}
    response = etree.fromstring(etree.tostring(_response(name)))
    result = parse_response(name, response)
    if op.result is ResultKind.INT:
        assert result == 12
    else:
        assert result == SAMPLE_RESULTS[name]
        assert type(result) is type(SAMPLE_RESULTS[name])


def test_subject_info_binds_by_its_xsi_type() -> None:
    for subject in (DcPersonInfo(first_name="Иван"), DcInstitutionInfo(name="А"), DcSubjectInfo()):
        element = etree.fromstring(etree.tostring(build_response("GetSubjectInfo", subject)))
        assert type(parse_response("GetSubjectInfo", element)) is type(subject)


def test_null_results() -> None:
    assert (
        parse_response("GetSentMessageStatus", build_response("GetSentMessageStatus", None)) is None
    )
    assert parse_response("GetSentMessagesList", build_response("GetSentMessagesList", None)) == []


def test_request_misuse_is_refused() -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("NoSuchOperation", {}),
        ("SendMessage", {"nope": 1}),
        ("SendMessage", {"receiverType": "Robot"}),
        ("SendMessage", {"message": "text"}),
        ("GetSentMessageStatus", {"messageId": "1"}),
        ("GetSentMessageStatus", {"messageId": 2**40}),
        ("GetReceivedMessagesList", {"onlyNew": 1}),
        ("CheckPersonHasRegistration", {"personId": "bad\x00char"}),
    ]
    for name, params in cases:
        with pytest.raises(MessageError):
            build_request(name, **params)


def test_parse_request_refusals() -> None:
    def code(xml: str) -> str:
        with pytest.raises(MessageError) as caught:
            parse_request(etree.fromstring(xml))
        return caught.value.code

    assert code('<SendMessage xmlns="urn:other"/>') == "EDELIVERY-OPERATION"
    assert code(f'<Nope xmlns="{SERVICE_NS}"/>') == "EDELIVERY-OPERATION"
    assert code(f'<GetSentMessageStatus xmlns="{SERVICE_NS}"><x/></GetSentMessageStatus>') == (
        "EDELIVERY-BIND"
    )
    twice = "<messageId>1</messageId><messageId>2</messageId>"
    assert code(f'<GetSentMessageStatus xmlns="{SERVICE_NS}">{twice}</GetSentMessageStatus>') == (
        "EDELIVERY-BIND"
    )
    bad = "<onlyNew>yes</onlyNew>"
    assert code(
        f'<GetReceivedMessagesList xmlns="{SERVICE_NS}">{bad}</GetReceivedMessagesList>'
    ) == ("EDELIVERY-BIND")
    nil = (
        f'<GetSentMessageStatus xmlns="{SERVICE_NS}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        '<messageId>3</messageId><operatorEGN i:nil="true"/></GetSentMessageStatus>'
    )
    assert parse_request(etree.fromstring(nil))[1] == {"messageId": 3}


def test_push_notifications() -> None:
    notification = PushNotification.now(EventType.Delivered, 5, SUBJECT_ID)
    data = notification.to_json()
    assert b'"EventType":"Delivered"' in data
    assert b'"MessageId":5' in data
    assert PushNotification.from_json(data) == notification
    with pytest.raises(MessageError) as caught:
        PushNotification.from_json(b'{"EventType": "Opened", "MessageId": 0}')
    assert caught.value.code == "EDELIVERY-NOTIFICATION"


@pytest.fixture(scope="module")
def official_schema() -> Any:
    xmlschema = pytest.importorskip("xmlschema")
    path: Path = reference_path("edelivery", "esb-wsdl-v1", "EDeliveryIntegrationService.xsd")
    return xmlschema.XMLSchema(str(path), allow="local")


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(n for n, op in OPERATIONS.items() if op.in_wsdl))
def test_requests_and_responses_are_valid_by_the_official_schema(
    official_schema: Any, name: str
) -> None:
    for element in (_request(name), _response(name)):
        official_schema.validate(etree.fromstring(etree.tostring(element)))


def test_the_namespaces_are_the_contracts() -> None:
    assert SERVICE_NS == "https://edelivery.egov.bg/services/integration"
    assert ESUBJECT_NS.endswith("DataContracts.ESubject")
