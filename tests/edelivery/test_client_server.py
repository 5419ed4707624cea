"""The ССЕВ client against the local server over TLS on 127.0.0.1: flows, refusals, limits."""

from __future__ import annotations

import os
import socket
import ssl
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree

from eintegr.errors import (
    IdentifierError,
    MessageError,
    ReceiverError,
    SenderError,
    TransportFault,
)
from eintegr.messages.edelivery import (
    DcDocument,
    DcInstitutionInfo,
    DcMessageDetails,
    DcPersonInfo,
    EventType,
    ProfileType,
    build_request,
)
from eintegr.testing.edelivery_server import EDeliveryServer
from eintegr.transport.edelivery import (
    BINARY_ELEMENTS,
    EDeliveryClient,
    EDeliveryLimits,
    OnBehalfSender,
    PersonReceiver,
)
from eintegr.transport.mtom import encode_mtom, is_mtom
from eintegr.transport.soap import SOAP11_NS, parse_envelope
from eintegr.transport.wssecurity import add_security_header

from .conftest import (
    AGENCY_EIK,
    CITIZEN_EGN,
    COMPANY_EIK,
    INSTITUTION_EIK,
    OPERATOR_EGN,
    Pki,
    Running,
)

UNKNOWN_EGN = "8505051235"  # valid, not registered
PDF = b"%PDF-1.7\r\n" + os.urandom(3000) + b"\r\n%%EOF"


def _message(title: str = "Уведомление", *documents: DcDocument) -> DcMessageDetails:
    return DcMessageDetails(
        title=title, message_text="Текст на съобщението", attached_documents=list(documents) or None
    )


def test_deliver_a_document_to_a_citizen(running: Running) -> None:
    with running.client() as client:
        assert client.check_person_has_registration(CITIZEN_EGN).has_registration is True
        message_id = client.send_electronic_document(
            subject="Решение № 12",
            content=PDF,
            file_name="reshenie.pdf",
            receiver_type=ProfileType.Person,
            receiver_id=CITIZEN_EGN,
            registration_number="12-34/2024",
        )
        status = client.get_sent_message_status(message_id)
        assert status is not None
        assert status.title == "Решение № 12"
        assert status.date_received is None
        running.server.open_message(message_id)  # the citizen opens it on the portal
        status = client.get_sent_message_status(message_id)
        assert status is not None
        assert status.date_received is not None
        by_number = client.get_sent_document_status("12-34/2024")
        assert by_number is not None
        assert by_number.id == message_id
        document = client.get_sent_document_by_registration_number("12-34/2024")
        assert document is not None
        assert document.content == PDF
        assert document.document_name == "reshenie.pdf"
        assert document.id is not None
        again = client.get_sent_document(document.id)
        assert again is not None
        assert again.content == PDF
        assert [d.content for d in client.get_sent_documents(message_id)] == [PDF]
        sent = client.get_sent_message(message_id)
        assert sent is not None
        assert sent.attached_documents is not None
        assert sent.attached_documents[0].content == PDF
    (notification,) = running.inbox.wait(1)
    assert notification.event_type is EventType.Delivered
    assert notification.message_id == message_id


def test_institution_to_institution_with_notifications(running: Running) -> None:
    with running.client() as dms, running.client(running.pki.agency) as agency:
        message_id = dms.send_message(
            _message("Писмо", DcDocument(document_name="pismo.pdf", content=PDF)),
            receiver_type="Institution",
            receiver_id=AGENCY_EIK,
        )
        new = agency.get_received_messages(only_new=True)
        assert new.all_items_count == 1
        assert [m.id for m in new.items or []] == [message_id]
        received = agency.get_received_message(message_id)
        assert received is not None
        assert received.attached_documents is not None
        assert received.attached_documents[0].content == PDF
        assert received.sender_profile is not None
        assert received.sender_profile.electronic_subject_name == "Община Пример"
        assert agency.get_received_messages(only_new=True).all_items_count == 0
        reply_id = agency.send_message_in_reply_to(_message("Отговор"), message_id)
        assert [m.id for m in dms.get_received_messages().items or []] == [reply_id]
    events = {(n.event_type, n.message_id) for n in running.inbox.wait(3)}
    assert events == {
        (EventType.Received, message_id),
        (EventType.Delivered, message_id),
        (EventType.Received, reply_id),
    }
    records = running.server.wait_for_notifications()
    assert all(r.status == 204 and r.error is None for r in records)


def test_registration_checks_and_subjects(running: Running) -> None:
    with running.client() as client:
        person = client.check_person_has_registration(CITIZEN_EGN)
        assert person.accessible_profiles is not None
        assert [p.eik for p in person.accessible_profiles] == [COMPANY_EIK]
        assert client.check_person_has_registration("8001010008").has_registration is True
        assert client.check_legal_person_has_registration(COMPANY_EIK).name == "Пример ООД"
        assert client.check_legal_person_has_registration("831902088").has_registration is False
        assert client.check_institution_has_registration(AGENCY_EIK).has_registration is True
        assert client.check_institution_has_registration(COMPANY_EIK).has_registration is False
        institutions = client.get_registered_institutions()
        assert {i.unique_subject_identifier for i in institutions} == {INSTITUTION_EIK, AGENCY_EIK}
        agency = next(i for i in institutions if i.unique_subject_identifier == AGENCY_EIK)
        assert agency.electronic_subject_id is not None
        info = client.get_subject_info(agency.electronic_subject_id)
        assert isinstance(info, DcInstitutionInfo)
        citizen = next(s for s in running.server.subjects if s.identifier == CITIZEN_EGN)
        person_info = client.get_subject_info(citizen.electronic_subject_id)
        assert isinstance(person_info, DcPersonInfo)
        assert person_info.first_name == "Иван"


def test_on_behalf_variants(running: Running) -> None:
    with running.client() as client:
        first = client.send_electronic_document_on_behalf_of(
            subject="Заявление",
            content=b"text",
            file_name="z.txt",
            sender=OnBehalfSender(ProfileType.Person, CITIZEN_EGN),
            receiver_type=ProfileType.Institution,
            receiver_id=AGENCY_EIK,
        )
        second = client.send_message_on_behalf_of(
            _message(),
            sender=OnBehalfSender(ProfileType.LegalPerson, COMPANY_EIK),
            receiver_type=ProfileType.Institution,
            receiver_id=AGENCY_EIK,
        )
        third = client.send_message_on_behalf_to_person(
            _message(),
            sender_id=INSTITUTION_EIK,
            receiver=PersonReceiver(UNKNOWN_EGN, first_name="Петър", last_name="Георгиев"),
            operator_egn=OPERATOR_EGN,
        )
        fourth = client.send_message_on_behalf_to_legal_entity(
            _message(),
            sender_id=INSTITUTION_EIK,
            receiver_id=COMPANY_EIK,
            operator_egn=OPERATOR_EGN,
        )
        with pytest.raises(SenderError, match="Unauthorized operator"):
            client.send_message_on_behalf_to_legal_entity(
                _message(),
                sender_id=INSTITUTION_EIK,
                receiver_id=COMPANY_EIK,
                operator_egn=CITIZEN_EGN,
            )
    stored = {m.id: m for m in running.server.messages}
    assert stored[first].sender.identifier == CITIZEN_EGN
    assert stored[second].sender.identifier == COMPANY_EIK
    assert stored[third].receiver.identifier == UNKNOWN_EGN
    assert stored[third].receiver.activated is False  # a profile the person activates later
    assert stored[fourth].operator == OPERATOR_EGN
    assert all(
        stored[i].sent_by.identifier == INSTITUTION_EIK for i in (first, second, third, fourth)
    )


def test_paging(running: Running) -> None:
    with running.client() as dms, running.client(running.pki.agency) as agency:
        ids = [
            dms.send_message(
                _message(f"№ {n}"), receiver_type="Institution", receiver_id=AGENCY_EIK
            )
            for n in range(5)
        ]
        page = dms.get_sent_messages(page=2, page_size=2)
        assert page.all_items_count == 5
        assert [m.id for m in page.items or []] == [ids[2], ids[1]]  # newest first
        assert [m.id for m in dms.iter_sent_messages(page_size=2)] == ids[::-1]
        assert [m.id for m in agency.iter_received_messages(page_size=3)] == ids[::-1]
        assert dms.get_received_messages(page=9).items is None


def test_an_unregistered_certificate_gets_a_security_fault(running: Running) -> None:
    with running.client(running.pki.stranger) as client, pytest.raises(SenderError) as caught:
        client.get_registered_institutions()
    assert caught.value.code == "EDELIVERY-FAULT"
    assert "WSS-UNREGISTERED" in str(caught.value)


def test_service_refusals_are_sender_errors(running: Running) -> None:
    with running.client() as client:
        with pytest.raises(SenderError, match="No Person profile"):
            client.send_message(_message(), receiver_type="Person", receiver_id=UNKNOWN_EGN)
        with pytest.raises(SenderError, match="not found"):
            client.get_sent_message_status(999)
        with pytest.raises(SenderError, match="Unauthorized operator"):
            client.get_sent_messages(operator_egn=CITIZEN_EGN)


def test_invalid_input_is_refused_before_sending(running: Running) -> None:
    with running.client() as client:
        before = running.server.requests
        with pytest.raises(IdentifierError):
            client.send_electronic_document(
                subject="x",
                content=b"x",
                file_name="a.txt",
                receiver_type="Person",
                receiver_id="7501020019",
            )
        with pytest.raises(IdentifierError):
            client.check_legal_person_has_registration("123")
        for kwargs in (
            {"content": b""},
            {"file_name": "no-extension"},
            {"file_name": "../evil.pdf"},
            {"subject": " "},
            {"receiver_type": "Administrator"},
            {"receiver_type": "Robot"},
        ):
            arguments = {
                "subject": "x",
                "content": b"x",
                "file_name": "a.txt",
                "receiver_type": "Person",
                "receiver_id": CITIZEN_EGN,
                **kwargs,
            }
            with pytest.raises(MessageError) as caught:
                client.send_electronic_document(**arguments)  # type: ignore[arg-type]
            assert caught.value.code == "EDELIVERY-ARGUMENT"
        with pytest.raises(MessageError):
            client.send_message(
                DcMessageDetails(title="only a title"),
                receiver_type="Person",
                receiver_id=CITIZEN_EGN,
            )
        with pytest.raises(MessageError):
            client.get_sent_messages(page=0)
        assert running.server.requests == before


def test_the_size_limit_is_enforced_before_sending(running: Running) -> None:
    limits = EDeliveryLimits(max_request_bytes=20_000)
    with running.client(limits=limits) as client:
        before = running.server.requests
        for size in (20_001, 19_000):  # the raw document, then the encoded request
            with pytest.raises(MessageError) as caught:
                client.send_electronic_document(
                    subject="x" * 2000,
                    content=os.urandom(size),
                    file_name="big.bin",
                    receiver_type="Person",
                    receiver_id=CITIZEN_EGN,
                )
            assert caught.value.code == "EDELIVERY-SIZE"
        with pytest.raises(MessageError) as caught:
            client.send_message(
                _message("x", DcDocument(document_name="a.bin", content=os.urandom(30_000))),
                receiver_type="Person",
                receiver_id=CITIZEN_EGN,
            )
        assert caught.value.code == "EDELIVERY-SIZE"
        assert running.server.requests == before


def test_the_response_size_limit(running: Running) -> None:
    with running.client() as client:
        message_id = client.send_electronic_document(
            subject="x",
            content=PDF,
            file_name="a.pdf",
            receiver_type="Person",
            receiver_id=CITIZEN_EGN,
        )
    with running.client(limits=EDeliveryLimits(max_response_bytes=1000)) as small:
        with pytest.raises(ReceiverError) as caught:
            small.get_sent_documents(message_id)
        assert caught.value.code == "EDELIVERY-RESPONSE-SIZE"


def test_tls_is_verified(running: Running, pki: Pki) -> None:
    untrusted = ssl.create_default_context()  # the system store does not know the test CA
    with EDeliveryClient(running.url, pki.dms.signer(), verify=untrusted) as client:
        with pytest.raises(TransportFault) as caught:
            client.get_registered_institutions()
        assert caught.value.code == "EDELIVERY-NETWORK"
    with pytest.raises(ValueError, match="verification"):
        EDeliveryClient(running.url, pki.dms.signer(), verify=False)
    with pytest.raises(ValueError, match="https"):
        EDeliveryClient(running.url.replace("https", "http"), pki.dms.signer())
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError, match="verify"):
        EDeliveryClient(running.url, pki.dms.signer(), verify=lax)


def test_an_unreachable_service_is_a_transport_fault(pki: Pki) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = EDeliveryClient(
        f"https://127.0.0.1:{port}/", pki.dms.signer(), verify=pki.ca_file, timeout=2.0
    )
    with client, pytest.raises(TransportFault) as caught:
        client.get_registered_institutions()
    assert caught.value.code == "EDELIVERY-NETWORK"


def _signed_request(
    pki: Pki, operation: str, now: datetime | None = None, **params: object
) -> tuple[bytes, str]:
    envelope = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"s": SOAP11_NS})
    etree.SubElement(envelope, f"{{{SOAP11_NS}}}Body").append(build_request(operation, **params))
    add_security_header(envelope, pki.dms.signer(), now=now)
    return encode_mtom(envelope, binary=BINARY_ELEMENTS)


def _fault(response: httpx.Response) -> str:
    envelope = parse_envelope(response.content)
    assert envelope.fault is not None
    return envelope.fault.string


def test_replayed_and_stale_requests_are_refused(running: Running, pki: Pki) -> None:
    body, content_type = _signed_request(pki, "GetRegisteredInstitutions")
    headers = {"Content-Type": content_type}
    with httpx.Client(
        verify=ssl.create_default_context(cafile=str(pki.ca_file)), timeout=10
    ) as http:
        first = http.post(running.url, content=body, headers=headers)
        assert first.status_code == 200
        assert is_mtom(first.headers["content-type"])
        replay = http.post(running.url, content=body, headers=headers)
        assert replay.status_code == 500
        assert "WSS-REPLAY" in _fault(replay)
        stale, stale_type = _signed_request(
            pki, "GetRegisteredInstitutions", now=datetime.now(UTC) - timedelta(hours=1)
        )
        expired = http.post(running.url, content=stale, headers={"Content-Type": stale_type})
        assert "WSS-EXPIRED" in _fault(expired)
        body, content_type = _signed_request(pki, "GetRegisteredInstitutions")
        wrong_action = http.post(
            running.url, content=body, headers={"Content-Type": content_type, "SOAPAction": '"x"'}
        )
        assert "does not match" in _fault(wrong_action)
        assert http.get(running.url).status_code == 405
        unsigned = http.post(
            running.url,
            content=b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body><x/></s:Body></s:Envelope>",
            headers={"Content-Type": "text/xml"},
        )
        assert "WSS-MISSING" in _fault(unsigned)


def test_the_server_refuses_oversized_requests(pki: Pki) -> None:
    server = EDeliveryServer(max_request_bytes=5000)
    server.register_institution("Община", INSTITUTION_EIK, certificate=pki.dms.certificate)
    server.register_person(CITIZEN_EGN, "Иван", "Петров")
    with server.run(tls=pki.server) as background:
        client = EDeliveryClient(background.url, pki.dms.signer(), verify=pki.ca_file)
        with client, pytest.raises(SenderError) as caught:
            client.send_electronic_document(
                subject="x",
                content=os.urandom(8000),
                file_name="a.bin",
                receiver_type="Person",
                receiver_id=CITIZEN_EGN,
            )
        assert caught.value.code == "EDELIVERY-HTTP"


def test_plain_http_for_a_loopback_server(pki: Pki) -> None:
    server = EDeliveryServer()
    server.register_institution("Община", INSTITUTION_EIK, certificate=pki.dms.certificate)
    with server.run() as background:
        assert background.url.startswith("http://127.0.0.1:")
        with EDeliveryClient(background.url, pki.dms.signer(), allow_http=True) as client:
            assert len(client.get_registered_institutions()) == 1
