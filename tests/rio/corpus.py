"""A corpus of РИО documents, valid and invalid, for judging eintegr's schemas against the
official ones. Valid documents come from the builders; invalid ones are lxml edits of them,
each aimed at one facet or one content-model rule."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

from eintegr.messages import rio
from tests.rio import helpers as h

SEG = h.SEG


@dataclass(frozen=True)
class Case:
    name: str
    xml: bytes
    valid: bool


def _signature() -> etree._Element:
    """A structurally valid ds:Signature (content is not judged by the schema)."""
    ds = h.DS
    sig = etree.Element(f"{{{ds}}}Signature", nsmap={"ds": ds})
    info = etree.SubElement(sig, f"{{{ds}}}SignedInfo")
    etree.SubElement(
        info, f"{{{ds}}}CanonicalizationMethod", Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"
    )
    etree.SubElement(
        info,
        f"{{{ds}}}SignatureMethod",
        Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    )
    ref = etree.SubElement(info, f"{{{ds}}}Reference", URI="")
    etree.SubElement(
        ref, f"{{{ds}}}DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"
    )
    etree.SubElement(ref, f"{{{ds}}}DigestValue").text = "AAAA"
    etree.SubElement(sig, f"{{{ds}}}SignatureValue").text = "AAAA"
    return sig


def _signed(xml: bytes, holder_xpath: str, *, create: str | None = None) -> bytes:
    """``xml`` with a ds:Signature in the element ``holder_xpath`` selects; with ``create``
    (a Clark name), that element is first appended to what ``holder_xpath`` selects."""
    root = etree.fromstring(xml)
    namespace = etree.QName(root).namespace
    found = root.xpath(holder_xpath, namespaces={"d": namespace or ""})
    assert isinstance(found, list)
    assert found
    holder = found[0]
    assert isinstance(holder, etree._Element)
    if create is not None:
        holder = etree.SubElement(holder, create)
    holder.append(_signature())
    return etree.tostring(root)


def _signed_application(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    footer = root.find(f"{{{etree.QName(root).namespace}}}ElectronicAdministrativeServiceFooter")
    assert footer is not None
    etree.SubElement(
        footer, f"{{{SEG}0009-000153}}ApplicationSigningTime"
    ).text = "2024-05-06T13:15:00+03:00"
    etree.SubElement(footer, f"{{{SEG}0009-000153}}XMLDigitalSignature").append(_signature())
    return etree.tostring(root)


def valid_documents() -> Iterator[tuple[str, bytes]]:
    app = h.withdraw_application()
    yield "withdraw", app.to_xml()
    yield "withdraw-signed", _signed_application(app.to_xml())
    yield (
        "withdraw-minimal",
        rio.ApplicationForWithdrawService(applicant=rio.ElectronicServiceApplicant()).to_xml(),
    )
    foreign = rio.foreign_person(
        first_latin="John",
        last_latin="Smith",
        first_cyrillic="Джон",
        last_cyrillic="Смит",
        birth_date=h.NOW.date(),
        country_code="GB",
        identity_document_number="X1",
        identity_document_type="passport",
    )
    recipients: list[object] = [
        rio.entity(eik=h.EIK13, name="Клон ЕООД"),
        rio.foreign_entity(
            name="ACME Ltd", country_code="GB", register="Companies House", identifier="123"
        ),
        rio.foreign_entity(name="ACME GmbH", country_code="DE", other_data="HRB 1"),
        rio.person(first="Анна", last="Смит-Иванова", lnch=h.LNCH),
        foreign,
    ]
    applicant = rio.applicant(
        foreign,
        recipients=recipients,  # type: ignore[arg-type]
        quality_type=rio.AuthorQualityType.LEGAL_REPRESENTATIVE,
        email="a.b@example.bg;c@mail.example.com",
    )
    contact = rio.ElectronicServiceApplicantContactData(
        district_code="SOF",
        district_name="София",
        municipality_code="SOF46",
        municipality_name="Столична",
        settlement_code="68134",
        settlement_name="София",
        post_code="1000",
        address_description="ул. Витоша 1",
        post_office_box="ПК 12",
        phone_numbers=["+359 2 123", "0888 123 456"],
        fax_numbers=["02 987"],
    )
    for name, receipt_data in (
        (
            "address",
            rio.ServiceApplicantReceiptData(
                method=rio.ReceiptMethod.POST_TO_OTHER_ADDRESS,
                applicant_address=rio.ApplicantAddress(
                    district_code="SOF", area_code="68134-01", street="Витоша", block="5"
                ),
            ),
        ),
        (
            "municipality",
            rio.ServiceApplicantReceiptData(
                method=rio.ReceiptMethod.MUNICIPAL_COUNTER,
                municipality_administration=rio.MunicipalityAdministrationAddress(
                    mayoralty_code="SOF46-01", mayoralty="Кметство", area_name="Район"
                ),
            ),
        ),
        (
            "box",
            rio.ServiceApplicantReceiptData(
                method=rio.ReceiptMethod.POST_OFFICE_BOX, post_office_box="12"
            ),
        ),
        (
            "unit",
            rio.ServiceApplicantReceiptData(
                unit_in_administration=rio.UnitInAdministration(
                    entity=rio.entity(eik=h.EIK, name="МВР"), department_code="225"
                )
            ),
        ),
    ):
        yield (
            f"withdraw-receipt-{name}",
            h.withdraw_application(
                header=h.header(
                    contact_data=contact,
                    send_with_receipt=True,
                    document_uri=rio.DocumentURI(register_index=1),
                ),
                applicant=applicant,
                receipt_data=receipt_data,
                service_term_type=rio.ServiceTermType.EXPRESS,
            ).to_xml(),
        )
    yield "receipt", h.receipt().to_xml()
    yield (
        "receipt-ais",
        rio.receipt_acknowledged(
            h.withdraw_application().to_document(),
            provider=h.provider(),
            document_uri=rio.DocumentURI(),
            registered_by="ais://registry",
            receipt_time=h.NOW,
        ).to_xml(),
    )
    yield (
        "receipt-signed",
        _signed(h.receipt().to_xml(), "/d:*", create=f"{{{SEG}0009-000019}}Signature"),
    )
    yield "not-acknowledged", h.not_acknowledged().to_xml()
    yield "not-acknowledged-bare", rio.ReceiptNotAcknowledgedMessage().to_xml()
    yield (
        "act-refusal-signed",
        _signed(h.act_refusal().to_xml(), "/d:*/d:Official/d:XMLDigitalSignature"),
    )
    yield (
        "consideration-refusal-signed",
        _signed(h.consideration_refusal().to_xml(), "/d:*/d:Official/d:XMLDigitalSignature"),
    )


def _edit(xml: bytes, xpath: str, action: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(xml)
    found = root.xpath(xpath)
    assert isinstance(found, list), xpath
    assert found, xpath
    node = found[0]
    assert isinstance(node, etree._Element)
    action(node)
    return etree.tostring(root)


def _text(value: str) -> Callable[[etree._Element], None]:
    def set_text(node: etree._Element) -> None:
        node.text = value

    return set_text


def _remove(node: etree._Element) -> None:
    parent = node.getparent()
    assert parent is not None
    parent.remove(node)


def _duplicate(node: etree._Element) -> None:
    node.addnext(copy.deepcopy(node))


def _swap_with_next(node: etree._Element) -> None:
    following = node.getnext()
    assert following is not None
    following.addnext(node)


def _clear(node: etree._Element) -> None:
    for child in list(node):
        node.remove(child)


def _drop_id(node: etree._Element) -> None:
    del node.attrib["SignatureUniqueID"]


def _add_unknown(node: etree._Element) -> None:
    etree.SubElement(node, f"{{{etree.QName(node).namespace}}}Unknown").text = "x"


def _local(name: str) -> str:
    return f"//*[local-name()='{name}']"


# (name, base document, xpath, edit, valid?)
_EDITS: list[tuple[str, str, str, Callable[[etree._Element], None], bool]] = [
    ("first-name-latin", "withdraw", _local("First"), _text("Ivan"), False),
    ("first-name-digits", "withdraw", _local("First"), _text("Иван2"), False),
    ("first-name-anchored", "withdraw", _local("First"), _text("^Иван$"), False),
    ("first-name-hyphen", "withdraw", _local("First"), _text("Анна-Мария"), True),
    ("first-name-apostrophe", "withdraw", _local("First"), _text("Д'Арк"), True),
    ("first-name-61", "withdraw", _local("First"), _text("И" * 61), False),
    ("first-name-60", "withdraw", _local("First"), _text("И" * 60), True),
    ("last-name-space-end", "withdraw", _local("Last"), _text("Иванов "), False),
    ("egn-month-13", "withdraw", _local("EGN"), _text("7513020018"), False),
    ("egn-month-41", "withdraw", _local("EGN"), _text("0541020018"), True),
    ("egn-bad-check-digit", "withdraw", _local("EGN"), _text("7501020019"), True),
    ("egn-short", "withdraw", _local("EGN"), _text("750102001"), False),
    ("eik-8", "withdraw", _local("Identifier") + "[not(*)]", _text("12345678"), False),
    ("eik-10", "withdraw", _local("Identifier") + "[not(*)]", _text("1234567890"), True),
    ("email-two", "withdraw", _local("EmailAddress"), _text("a@b.bg;c@d.bg"), True),
    ("email-no-at", "withdraw", _local("EmailAddress"), _text("ivan.example.bg"), False),
    ("email-one-letter-tld", "withdraw", _local("EmailAddress"), _text("a@b.c"), False),
    ("email-trailing-semicolon", "withdraw", _local("EmailAddress"), _text("a@b.bg;"), False),
    ("email-long-local", "withdraw", _local("EmailAddress"), _text("a" * 70 + "@b.bg"), True),
    ("file-type-upper", "withdraw", _local("FileType"), _text("Application/PDF"), False),
    ("file-type-no-slash", "withdraw", _local("FileType"), _text("pdf"), False),
    ("content-not-base64", "withdraw", _local("AttachedDocumentFileContent"), _text("QUJ"), False),
    (
        "provider-type-unknown",
        "withdraw",
        _local("ElectronicServiceProviderType"),
        _text("0006-000034"),
        False,
    ),
    (
        "application-type-unknown",
        "withdraw",
        _local("ApplicationType"),
        _text("0006-000125"),
        False,
    ),
    ("term-unknown", "withdraw", _local("ServiceTermType"), _text("0006-000086"), False),
    ("quality-type-unknown", "withdraw", _local("AuthorQualityType"), _text("R-1005"), False),
    (
        "boolean-yes",
        "withdraw",
        _local("SendApplicationWithReceiptAcknowledgedMessage"),
        _text("yes"),
        False,
    ),
    (
        "boolean-one",
        "withdraw",
        _local("SendApplicationWithReceiptAcknowledgedMessage"),
        _text("1"),
        True,
    ),
    ("register-index-zero", "withdraw", _local("RegisterIndex"), _text("0"), False),
    ("batch-not-number", "withdraw", _local("BatchNumber"), _text("30a9"), False),
    ("declaration-empty-name", "withdraw", _local("DeclarationName"), _text(""), False),
    ("document-type-name-empty", "withdraw", _local("DocumentTypeName"), _text(""), False),
    ("service-uri-empty", "withdraw", _local("SUNAUServiceURI"), _text(""), False),
    (
        "applicant-missing",
        "withdraw",
        "/*/*[local-name()='ElectronicServiceApplicant']",
        _remove,
        False,
    ),
    (
        "header-missing",
        "withdraw",
        "/*/*[local-name()='ElectronicAdministrativeServiceHeader']",
        _remove,
        True,
    ),
    (
        "header-twice",
        "withdraw",
        "/*/*[local-name()='ElectronicAdministrativeServiceHeader']",
        _duplicate,
        False,
    ),
    (
        "header-after-term",
        "withdraw",
        "/*/*[local-name()='ElectronicAdministrativeServiceHeader']",
        _swap_with_next,
        False,
    ),
    ("declaration-twice", "withdraw", _local("Declaration"), _duplicate, True),
    ("declarations-empty", "withdraw", _local("Declaration"), _remove, False),
    (
        "unknown-in-header",
        "withdraw",
        "/*/*[local-name()='ElectronicAdministrativeServiceHeader']",
        _add_unknown,
        False,
    ),
    ("unknown-in-names", "withdraw", _local("Names"), _add_unknown, False),
    (
        "both-egn-and-lnch",
        "withdraw",
        _local("EGN"),
        lambda n: n.addnext(etree.Element(f"{{{SEG}0009-000006}}LNCh")),
        False,
    ),
    ("identifier-empty", "withdraw", _local("EGN"), _remove, False),
    ("police-name-missing", "withdraw", _local("PoliceDepartmentName"), _remove, False),
    ("police-code-letters", "withdraw", _local("PoliceDepartmentCode"), _text("22a"), False),
    ("receipt-time-bad", "receipt", _local("ReceiptTime"), _text("2024-13-01T00:00:00Z"), False),
    ("receipt-registered-by-empty", "receipt", _local("Officer"), _remove, False),
    ("receipt-date-bad", "receipt", _local("ReceiptOrSigningDate"), _text("2024-02-30"), False),
    ("receipt-transport-unknown", "receipt", _local("TransportType"), _text("0006-000005"), False),
    (
        "not-ack-discrepancy-unknown",
        "not-acknowledged",
        _local("Discrepancy"),
        _text("0006-000012"),
        False,
    ),
    (
        "not-ack-discrepancy-11",
        "not-acknowledged",
        _local("Discrepancy"),
        _text("0006-000011"),
        True,
    ),
    (
        "not-ack-discrepancies-empty",
        "not-acknowledged",
        _local("Discrepancies"),
        _clear,
        False,
    ),
    (
        "refusal-appeal-term-bad",
        "act-refusal-signed",
        _local("IndividualAdministrativeActRefusalAppealTerm"),
        _text("14 days"),
        False,
    ),
    ("refusal-official-missing", "act-refusal-signed", _local("Official"), _remove, False),
    (
        "refusal-official-no-id",
        "act-refusal-signed",
        _local("Official"),
        _drop_id,
        False,
    ),
    (
        "refusal-official-extra-attr",
        "act-refusal-signed",
        _local("Official"),
        lambda n: n.set("Other", "x"),
        False,
    ),
    ("refusal-official-unsigned", "act-refusal-signed", _local("Signature"), _remove, False),
    ("refusal-official-two", "act-refusal-signed", _local("Official"), _duplicate, True),
    (
        "refusal-quality-missing",
        "consideration-refusal-signed",
        _local("ElectronicDocumentAuthorQuality"),
        _remove,
        False,
    ),
    (
        "refusal-latin-name-cyrillic",
        "consideration-refusal-signed",
        _local("FirstLatin"),
        _text("Джон"),
        False,
    ),
    (
        "refusal-order",
        "consideration-refusal-signed",
        _local("IndividualAdministrativeActRefusalFactualGround"),
        _swap_with_next,
        False,
    ),
    ("area-code-bad", "withdraw-receipt-address", _local("AreaCode"), _text("68134"), False),
    (
        "district-code-lower",
        "withdraw-receipt-address",
        _local("DistrictCode"),
        _text("sof"),
        False,
    ),
    (
        "mayoralty-code-bad",
        "withdraw-receipt-municipality",
        _local("MayoraltyCode"),
        _text("SOF4601"),
        False,
    ),
    ("two-receipt-choices", "withdraw-receipt-box", _local("PostOfficeBox"), _duplicate, False),
    ("country-lower", "withdraw-receipt-box", _local("CountryCode"), _text("gb"), False),
    (
        "foreign-entity-both",
        "withdraw-receipt-box",
        _local("ForeignEntityOtherData"),
        lambda n: n.addprevious(etree.Element(f"{{{SEG}0009-000014}}ForeignEntityRegister")),
        False,
    ),
    (
        "municipality-name-26",
        "withdraw-receipt-box",
        _local("MunicipalityName"),
        _text("Щ" * 26),
        False,
    ),
    ("phone-empty", "withdraw-receipt-box", _local("PhoneNumber"), _text(""), False),
    (
        "phones-empty",
        "withdraw-receipt-box",
        _local("PhoneNumbers"),
        _clear,
        False,
    ),
    ("settlement-code-4", "withdraw-receipt-box", _local("SettlementCode"), _text("6813"), False),
    ("birth-date-bad", "withdraw-receipt-box", _local("BirthDate"), _text("1990-02-29"), False),
]


def corpus() -> list[Case]:
    documents = dict(valid_documents())
    cases = [Case(name, xml, True) for name, xml in documents.items()]
    for name, base, xpath, action, valid in _EDITS:
        cases.append(Case(name, _edit(documents[base], xpath, action), valid))
    return cases
