"""A signed application travels to another administration inside a СЕОС registration request."""

from __future__ import annotations

import pytest

from eintegr.errors import MessageError
from eintegr.identifiers import Guid
from eintegr.messages import (
    Attachment,
    Document,
    DocumentRegistrationRequest,
    EntityNode,
    Message,
    ServiceItem,
    new_document,
    registration_request,
    rio,
    status_request,
)
from eintegr.messages.rio_bridge import (
    APPLICATION_MIME_TYPE,
    application_from_seos,
    application_to_seos,
)
from eintegr.schemas import seos_schema
from eintegr.signing import PinnedCertificates, VerificationPolicy, sign_message, verify_message
from eintegr.signing.pki import Issued, make_transport_certificate
from eintegr.signing.rio import sign_application, verify_application
from eintegr.xml import parse_xml
from tests.rio import helpers as h

SENDER = EntityNode(
    identifier=h.EIK,
    administrative_body_name="Община Пример",
    guid=Guid.parse("{6f9a1c02-3b4d-4e5f-8a9b-0c1d2e3f4a5b}"),
)
RECIPIENT = EntityNode(
    identifier=h.OTHER_EIK,
    administrative_body_name="Министерство на примерите",
    guid=Guid.parse("{a1b2c3d4-e5f6-4789-abcd-ef0123456789}"),
)


@pytest.fixture(scope="module")
def signed(citizen: Issued) -> bytes:
    contact = rio.ElectronicServiceApplicantContactData(
        settlement_name="София", address_description="ул. Витоша 1", phone_numbers=["0888123456"]
    )
    company = rio.entity(eik=h.OTHER_EIK, name="Фирма ООД")
    applicant = rio.applicant(
        h.ivan(),
        recipients=[h.ivan(), company],
        quality_type=rio.AuthorQualityType.LEGAL_REPRESENTATIVE,
        email="ivan@example.bg",
    )
    app = h.withdraw_application(
        header=h.header(contact_data=contact),
        applicant=applicant,
        service_term_type=rio.ServiceTermType.FAST,
    )
    return sign_application(app.to_xml(), citizen.signer())


def test_one_call_makes_a_valid_registration_request(signed: bytes) -> None:
    message = application_to_seos(
        signed, sender=SENDER, recipient=RECIPIENT, comment="по компетентност"
    )
    assert seos_schema().validate(parse_xml(message.to_xml()))
    assert message.header.sender == SENDER
    assert message.header.recipient == RECIPIENT
    body = message.body
    assert isinstance(body, DocumentRegistrationRequest)
    assert body.comment == "по компетентност"
    document = body.document
    assert document.service == ServiceItem(name=h.header().service_name, type="Бърза", code="1068")
    assert document.kind == "Заявление за отказ от заявена услуга"
    assert document.about == h.header().service_name
    (attachment,) = document.attachments
    assert attachment.content == signed  # byte for byte
    assert attachment.file_name == "ApplicationForWithdrawService.xml"
    assert attachment.mime_type == APPLICATION_MIME_TYPE
    names = [(c.name, c.egn, c.bulstat, c.city) for c in document.correspondents]
    assert names == [
        ("Иван Петров Иванов", h.EGN, None, "София"),
        ("Фирма ООД", None, h.OTHER_EIK, "София"),
    ]
    assert all(
        c.email == "ivan@example.bg" and c.phone == "0888123456" for c in document.correspondents
    )


def test_the_application_survives_the_trip(
    signed: bytes, policy: VerificationPolicy, rio_ca: Issued
) -> None:
    transport = make_transport_certificate(rio_ca, eik=h.EIK, host="seos.obshtina.example")
    message = application_to_seos(signed, sender=SENDER, recipient=RECIPIENT)
    wire = sign_message(message.to_xml(), transport.signer())
    received = verify_message(
        wire, VerificationPolicy(trust=PinnedCertificates([transport.certificate]))
    )
    application = application_from_seos(received.message)
    assert application == signed
    verified = verify_application(application, policy)
    assert verified.qualified.egn == h.EGN


def document_of(message: Message) -> Document:
    assert isinstance(message.body, DocumentRegistrationRequest)
    return message.body.document


def test_options(signed: bytes) -> None:
    service = ServiceItem(name="Друга услуга", type="Обикновена", code="2000")
    message = application_to_seos(
        signed,
        sender=SENDER,
        recipient=RECIPIENT,
        service=service,
        kind="Заявление",
        file_name="zayavlenie.xml",
        include_attached_documents=True,
    )
    document = document_of(message)
    assert document.service == service
    assert document.kind == "Заявление"
    assert [a.file_name for a in document.attachments] == ["zayavlenie.xml", "pylnomoshtno.pdf"]
    assert document.attachments[1].content == h.PDF
    assert document.attachments[1].mime_type == "application/pdf"


def test_refusals(signed: bytes) -> None:
    with pytest.raises(MessageError) as info:
        application_to_seos(h.withdraw_application().to_xml(), sender=SENDER, recipient=RECIPIENT)
    assert info.value.code == "RIO-BRIDGE-UNSIGNED"
    unsigned = application_to_seos(
        h.withdraw_application().to_xml(), sender=SENDER, recipient=RECIPIENT, allow_unsigned=True
    )
    assert document_of(unsigned).attachments
    headless = h.withdraw_application().model_copy(update={"header": None})
    with pytest.raises(MessageError) as info:
        application_to_seos(
            headless.to_xml(), sender=SENDER, recipient=RECIPIENT, allow_unsigned=True
        )
    assert info.value.code == "RIO-BRIDGE-SERVICE"
    with pytest.raises(MessageError) as info:
        application_to_seos(h.receipt().to_xml(), sender=SENDER, recipient=RECIPIENT)
    assert info.value.code == "RIO-BRIDGE-NOT-APPLICATION"
    with pytest.raises(MessageError) as info:
        application_to_seos(b'<a xmlns="urn:x"/>', sender=SENDER, recipient=RECIPIENT)
    assert info.value.code == "MODEL-BIND"


def test_finding_no_application(signed: bytes) -> None:
    request = status_request(
        sender=SENDER,
        recipient=RECIPIENT,
        document_id=new_document(kind="x").doc_id,
    )
    with pytest.raises(MessageError) as info:
        application_from_seos(request)
    assert info.value.code == "RIO-BRIDGE-NONE"
    other = registration_request(
        sender=SENDER,
        recipient=RECIPIENT,
        document=new_document(
            kind="писмо",
            attachments=[
                attachment(b"<x/>", "a.xml"),
                attachment(b"not xml " + b"http://ereg.egov.bg/", "b.txt"),
                attachment(h.receipt().to_xml(), "receipt.xml"),
            ],
        ),
    )
    with pytest.raises(MessageError):
        application_from_seos(Message.from_xml(other.to_xml()))


def attachment(content: bytes, name: str) -> Attachment:
    return Attachment(file_name=name, content=content, mime_type="application/xml")
