"""Sample РИО documents for the tests, built with eintegr's builders (and lxml for the
shapes the builders never make)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lxml import etree

from eintegr.messages import rio

EGN = "7501020018"
LNCH = "1000000001"
EIK = "000695089"
EIK13 = "0006950890007"
OTHER_EIK = "121513231"
NOW = dt.datetime(2024, 5, 6, 10, 15, 30, tzinfo=dt.UTC)
SEG = "http://ereg.egov.bg/segment/"
R3059 = SEG + "R-3059"
DS = "http://www.w3.org/2000/09/xmldsig#"
PDF = b"%PDF-1.7\n% sample\n"
RIO_REFERENCE = ("rio", "peu-segments")

ROOT_NAMESPACES = [
    SEG + "R-3059",
    SEG + "0009-000019",
    SEG + "0009-000017",
    SEG + "0009-000150",
    SEG + "0009-000154",
]


def ivan() -> rio.PersonBasicData:
    return rio.person(first="Иван", middle="Петров", last="Иванов", egn=EGN)


def provider() -> rio.ElectronicServiceProviderBasicData:
    return rio.provider(eik=EIK, name="Община Пример")


def header(**changes: object) -> rio.ElectronicAdministrativeServiceHeader:
    values: dict[str, object] = {
        "service_uri": "1068",
        "service_name": "Издаване на удостоверение за наследници",
        "document_type_uri": "0010-003059",
        "document_type_name": "Заявление за отказ от заявена услуга",
        "provider": provider(),
    }
    values.update(changes)
    return rio.application_header(**values)  # type: ignore[arg-type]


def withdraw_application(**changes: object) -> rio.ApplicationForWithdrawService:
    applicant = rio.applicant(ivan(), email="ivan.ivanov@example.bg")
    values: dict[str, object] = {
        "header": header(),
        "applicant": applicant,
        "data": rio.ApplicationForWithdrawServiceData(
            case_file_uri="УРИ-2024-15",
            issuing_police_department=rio.PoliceDepartment(code="225", name="СДВР РУ 01"),
            issuing_document="Удостоверение за наследници",
            refusal_reasons="Удостоверението вече не е необходимо",
        ),
        "declarations": [rio.declaration("Запознат съм с политиката за поверителност")],
        "attached_documents": [
            rio.attached_document(PDF, file_name="pylnomoshtno.pdf", description="Пълномощно")
        ],
    }
    values.update(changes)
    return rio.withdraw_service_application(**values)  # type: ignore[arg-type]


def receipt(app: rio.ApplicationForWithdrawService | None = None) -> rio.ReceiptAcknowledgedMessage:
    return rio.receipt_acknowledged(
        (app or withdraw_application()).to_document(),
        provider=provider(),
        document_uri=rio.DocumentURI(
            register_index=10, sequence_number=15, receipt_or_signing_date=NOW.date()
        ),
        registered_by=rio.officer(rio.PersonNames(first="Мария", last="Петрова"), user_id="u7"),
        receipt_time=NOW,
        case_access_identifier="ACCESS-123",
    )


def not_acknowledged() -> rio.ReceiptNotAcknowledgedMessage:
    return rio.receipt_not_acknowledged(
        withdraw_application().to_document(),
        provider=provider(),
        discrepancies=[rio.DiscrepancyType.NOT_IN_FORMAT, rio.DiscrepancyType.NO_EMAIL],
        creation_time=NOW,
    )


def act_refusal() -> rio.IndividualAdministrativeActRefusal:
    return rio.individual_act_refusal(
        withdraw_application().to_document(),
        provider=provider(),
        official_names=rio.PersonNames(first="Мария", last="Петрова"),
        official_quality="Кмет",
        refusal_header="Отказ за издаване на удостоверение",
        legal_ground="чл. 17 от Закона за …",
        factual_ground="Липсват изискуемите документи",
        appeal_term=dt.timedelta(days=14),
        appeal_authority="Административен съд – София-град",
        administrative_body_name="Кмет на Община Пример",
        document_date=NOW.date(),
    )


def consideration_refusal() -> rio.CorrespondenceConsiderationRefusal:
    return rio.correspondence_refusal(
        withdraw_application().to_document(),
        provider=provider(),
        official_names=rio.ForeignCitizenNames(first_latin="John", last_latin="Smith"),
        official_quality="Секретар",
        refusal_header="Отказ за разглеждане",
        legal_ground="чл. 27 АПК",
        factual_ground="Искането е извън компетентността",
        appeal_term="P7D",
        appeal_authority="Административен съд",
        administrative_body_name="Община Пример",
    )


VECTORS = Path(__file__).with_name("vectors")


def portal_style_application() -> bytes:
    """An application written the way the state portal writes them (``vectors/``): default
    namespaces on every element, upper-case names, the service data between the applicant
    and the footer, an ``ApplicationSigningTime`` with seven fraction digits and an empty
    ``XMLDigitalSignature`` waiting for the signature."""
    return (VECTORS / "portal-application.xml").read_bytes()


def generic_application(
    tag: str = "{" + SEG + "R-3051}DeclarationUnderArticle17",
) -> rio.ApplicationDocument:
    """An application of a type eintegr has no model for, with its own service data."""
    data = etree.Element(f"{{{etree.QName(tag).namespace}}}DeclarationData")
    etree.SubElement(data, "{" + SEG + "R-3052}Reason").text = "Изгубена лична карта"
    return rio.application(
        tag=tag,
        header=header(document_type_uri="0010-003051", document_type_name="Декларация"),
        applicant=rio.applicant(ivan()),
        service_data=[etree.tostring(data)],
        declarations=[rio.declaration("Декларирам", code="Policy_GDPR")],
    )


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
