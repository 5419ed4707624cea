"""СЕОС builders: defaults, contradictions refused early, replies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from eintegr.errors import MessageError
from eintegr.identifiers import Guid
from eintegr.messages import (
    AdditionalData,
    Attachment,
    DocumentIdentification,
    DocumentNumber,
    DocumentRegistrationRequest,
    DocumentStatus,
    DocumentStatusRequest,
    DocumentStatusResponse,
    DocumentURI,
    ErrorKind,
    ErrorMessage,
    Message,
    MessageType,
    error_message,
    new_document,
    registration_request,
    reply_to,
    status_request,
    status_response,
)
from tests.messages.helpers import RECIPIENT, SENDER, SOFIA

DOC_ID = DocumentIdentification(document_guid=Guid.parse("{11111111-2222-4333-8444-555555555555}"))


def test_registration_request_defaults() -> None:
    before = datetime.now(UTC)
    document = new_document(kind="Молба")
    message = registration_request(sender=SENDER, recipient=RECIPIENT, document=document)
    after = datetime.now(UTC)
    header = message.header
    assert header.version == "1.0"
    assert header.message_type is MessageType.MSG_DocumentRegistrationRequest
    assert message.body_type is header.message_type
    assert header.message_date.tzinfo is not None
    assert before <= header.message_date <= after
    assert isinstance(header.message_guid, Guid)
    assert header.sender == SENDER
    assert header.recipient == RECIPIENT
    assert message.signature is None
    body = message.body
    assert isinstance(body, DocumentRegistrationRequest)
    assert body.comment == ""
    assert body.document == document


def test_each_message_gets_a_new_guid() -> None:
    document = new_document(kind="Молба")
    guids = {
        registration_request(
            sender=SENDER, recipient=RECIPIENT, document=document
        ).header.message_guid
        for _ in range(20)
    }
    assert len(guids) == 20


def test_explicit_guid_and_date_are_kept() -> None:
    guid = Guid.new()
    when = datetime(2024, 3, 1, 10, 0, tzinfo=SOFIA)
    message = status_request(
        sender=SENDER, recipient=RECIPIENT, document_id=DOC_ID, message_guid=guid, message_date=when
    )
    assert message.header.message_guid == guid
    assert message.header.message_date == when
    assert message.header.message_date.utcoffset() == timedelta(hours=3)
    assert message.header.message_type is MessageType.MSG_DocumentStatusRequest
    assert message.body == DocumentStatusRequest(doc_id=DOC_ID)


@pytest.mark.parametrize(
    "build",
    [
        lambda when: registration_request(
            sender=SENDER, recipient=RECIPIENT, document=new_document(kind="x"), message_date=when
        ),
        lambda when: status_request(
            sender=SENDER, recipient=RECIPIENT, document_id=DOC_ID, message_date=when
        ),
        lambda when: status_response(
            sender=SENDER,
            recipient=RECIPIENT,
            document_id=DOC_ID,
            status=DocumentStatus.DS_CLOSED,
            message_date=when,
        ),
        lambda when: error_message(
            sender=SENDER,
            recipient=RECIPIENT,
            error_type=ErrorKind.ERR_INTERNAL,
            description="x",
            message_date=when,
        ),
    ],
    ids=["registration", "status-request", "status-response", "error"],
)
def test_builders_refuse_naive_datetimes(build: object) -> None:
    with pytest.raises(MessageError) as caught:
        build(datetime(2024, 3, 1, 10, 0))  # type: ignore[operator]
    assert caught.value.code == "MODEL-NAIVE-DATETIME"
    assert "часова зона" in caught.value.message_bg


def test_status_response_rejected_needs_a_reason() -> None:
    for reason in (None, "", "   "):
        with pytest.raises(MessageError) as caught:
            status_response(
                sender=SENDER,
                recipient=RECIPIENT,
                document_id=DOC_ID,
                status=DocumentStatus.DS_REJECTED,
                rejection_reason=reason,
            )
        assert caught.value.code == "MODEL-REASON-REQUIRED"
    message = status_response(
        sender=SENDER,
        recipient=RECIPIENT,
        document_id=DOC_ID,
        status=DocumentStatus.DS_REJECTED,
        rejection_reason="Не е по компетентност",
    )
    assert isinstance(message.body, DocumentStatusResponse)
    assert message.body.rejection_reason == "Не е по компетентност"


@pytest.mark.parametrize(
    "status", [s for s in DocumentStatus if s is not DocumentStatus.DS_REJECTED]
)
def test_status_response_reason_only_with_rejected(status: DocumentStatus) -> None:
    with pytest.raises(MessageError) as caught:
        status_response(
            sender=SENDER,
            recipient=RECIPIENT,
            document_id=DOC_ID,
            status=status,
            rejection_reason="защо",
        )
    assert caught.value.code == "MODEL-REASON-UNEXPECTED"
    assert status.value in str(caught.value)


def test_status_response_optional_parts() -> None:
    data = AdditionalData.from_children(text="x")
    message = status_response(
        sender=SENDER,
        recipient=RECIPIENT,
        document_id=DOC_ID,
        status=DocumentStatus.DS_REGISTERED,
        expect_close_date=date(2024, 4, 1),
        additional_data=data,
    )
    assert message.header.message_type is MessageType.MSG_DocumentStatusResponse
    assert message.body == DocumentStatusResponse(
        doc_id=DOC_ID,
        status=DocumentStatus.DS_REGISTERED,
        expect_close_date=date(2024, 4, 1),
        additional_data=data,
    )


def test_error_message() -> None:
    about = Guid.new()
    message = error_message(
        sender=SENDER,
        recipient=RECIPIENT,
        error_type=ErrorKind.ERR_EXTERNAL,
        description="Невалиден формат",
        about_message_guid=about,
    )
    assert message.header.message_type is MessageType.MSG_Error
    assert message.body == ErrorMessage(
        message_guid=about, error_type=ErrorKind.ERR_EXTERNAL, description="Невалиден формат"
    )


def test_reply_to_swaps_parties_and_renews_guid_and_date() -> None:
    incoming = registration_request(
        sender=SENDER,
        recipient=RECIPIENT,
        document=new_document(kind="Молба", number="1", date=date(2024, 3, 1)),
        message_date=datetime(2024, 3, 1, tzinfo=UTC),
    )
    document = incoming.body.document  # type: ignore[union-attr]
    reply = reply_to(
        incoming,
        DocumentStatusResponse(doc_id=document.doc_id, status=DocumentStatus.DS_REGISTERED),
    )
    assert reply.header.sender == incoming.header.recipient
    assert reply.header.recipient == incoming.header.sender
    assert reply.header.message_guid != incoming.header.message_guid
    assert reply.header.message_date > incoming.header.message_date
    assert reply.header.message_type is MessageType.MSG_DocumentStatusResponse
    assert reply.header.version == "1.0"
    # the reply does not share mutable parts with the incoming message
    reply.header.sender.administrative_body_name = "changed"
    assert incoming.header.recipient.administrative_body_name == RECIPIENT.administrative_body_name

    error = reply_to(
        incoming,
        ErrorMessage(
            message_guid=incoming.header.message_guid,
            error_type=ErrorKind.ERR_INTERNAL,
            description="x",
        ),
    )
    assert error.header.message_type is MessageType.MSG_Error


def test_reply_to_checks_the_status_rules() -> None:
    incoming = status_request(sender=SENDER, recipient=RECIPIENT, document_id=DOC_ID)
    with pytest.raises(MessageError, match="rejection reason"):
        reply_to(incoming, DocumentStatusResponse(doc_id=DOC_ID, status=DocumentStatus.DS_REJECTED))
    with pytest.raises(TypeError):
        reply_to(incoming, DOC_ID)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        reply_to(incoming.to_xml(), DOC_ID)  # type: ignore[arg-type]


def test_new_document_fills_its_guid() -> None:
    first, second = new_document(kind="Молба"), new_document(kind="Молба")
    assert isinstance(first.doc_id.document_guid, Guid)
    assert first.doc_id.document_guid != second.doc_id.document_guid
    assert first.doc_id.number is None
    assert first.doc_id.uri is None
    assert first.correspondents == []
    assert first.attachments == []
    guid = Guid.new()
    numbered = new_document(
        kind="Писмо",
        number="РД-01-15",
        date=date(2024, 2, 28),
        document_guid=guid,
        attachments=(Attachment(file_name="a", content=b"1", mime_type="text/plain"),),
    )
    assert numbered.doc_id == DocumentIdentification(
        number=DocumentNumber(number="РД-01-15", date=date(2024, 2, 28)), document_guid=guid
    )
    assert len(numbered.attachments) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"number": "1"},
        {"date": date(2024, 1, 1)},
        {"number": "1", "date": date(2024, 1, 1), "uri": DocumentURI(register_index=1)},
    ],
    ids=["number-without-date", "date-without-number", "number-and-uri"],
)
def test_new_document_refuses_contradictions(kwargs: dict[str, object]) -> None:
    with pytest.raises(MessageError) as caught:
        new_document(kind="Молба", **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "MODEL-DOC-NUMBER"


def test_builders_turn_invalid_content_into_message_errors() -> None:
    with pytest.raises(MessageError) as caught:
        new_document(kind="bad \x00 character")
    assert caught.value.code == "MODEL-INVALID"
    assert "kind" in str(caught.value)
    with pytest.raises(MessageError, match="message_guid"):
        registration_request(
            sender=SENDER,
            recipient=RECIPIENT,
            document=new_document(kind="x"),
            message_guid="not a guid",  # type: ignore[arg-type]
        )


def test_models_validate_assignments() -> None:
    message = status_request(sender=SENDER, recipient=RECIPIENT, document_id=DOC_ID)
    with pytest.raises(ValueError, match="xsd:dateTime"):
        message.header.message_date = "yesterday"  # type: ignore[assignment]
    with pytest.raises(ValueError, match="Extra inputs"):
        Message(header=message.header, body=message.body, unknown=1)  # type: ignore[call-arg]


def test_document_identification_is_number_or_uri() -> None:
    with pytest.raises(ValueError, match="not both"):
        DocumentIdentification(
            number=DocumentNumber(number="1", date=date(2024, 1, 1)),
            uri=DocumentURI(),
            document_guid=Guid.new(),
        )
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        DocumentURI(register_index=0)
