"""rio_report(): XSD and the rules of РИО documents, with stable codes in two languages."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from eintegr.messages import rio
from eintegr.schemas.rio import RioSchemas
from eintegr.signing.pki import Issued
from eintegr.signing.rio import sign_application
from eintegr.validation.report import Issue, Severity
from eintegr.validation.rio import (
    RIO_CODES,
    document_type,
    is_rio_document,
    rio_report,
    rio_rule_issues,
)
from eintegr.xml import parse_xml
from tests.rio import helpers as h
from tests.rio.corpus import _signed, _signed_application

NOW = dt.datetime.now(dt.UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
S = h.SEG


def report(data: bytes, *, schemas: Path | None = None) -> tuple[list[Issue], str | None]:
    issues, kind = rio_report(parse_xml(data), schemas=schemas, now=NOW)
    for issue in issues:
        assert issue.code in RIO_CODES
        assert issue.severity is RIO_CODES[issue.code].severity
        assert issue.message_en
        assert issue.message_bg
        assert issue.message_en != issue.message_bg
    return issues, kind


def codes(data: bytes) -> list[str]:
    return [issue.code for issue in report(data)[0]]


def edited(data: bytes, xpath: str, edit: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(data)
    for node in root.xpath(xpath):
        assert isinstance(node, etree._Element)
        edit(node)
    return etree.tostring(root)


def text(value: str) -> Callable[[etree._Element], None]:
    def set_text(node: etree._Element) -> None:
        node.text = value

    return set_text


def local(name: str) -> str:
    return f"//*[local-name()='{name}']"


SIGNED = _signed_application(h.withdraw_application().to_xml())


def test_a_signed_application_is_clean(citizen: Issued) -> None:
    signed = sign_application(h.withdraw_application().to_xml(), citizen.signer())
    assert report(signed) == ([], "rio:ApplicationForWithdrawService")
    assert report(SIGNED) == ([], "rio:ApplicationForWithdrawService")


@pytest.mark.reference
def test_the_official_schemas_give_the_same_report(
    rio_folder: Path, rio_official: RioSchemas
) -> None:
    assert report(SIGNED, schemas=rio_folder) == ([], "rio:ApplicationForWithdrawService")
    broken = edited(SIGNED, local("First"), text("Ivan"))
    issues, _ = report(broken, schemas=rio_folder)
    assert [i.code for i in issues] == ["RIO-XSD"] * 4  # author and recipient, twice


def test_answers_are_clean_when_signed() -> None:
    for document, holder in (
        (h.receipt(), "ReceiptAcknowledgedMessage"),
        (h.not_acknowledged(), "ReceiptNotAcknowledgedMessage"),
    ):
        namespace = etree.QName(document.xml_name()).namespace
        data = _signed(document.to_xml(), "/d:*", create=f"{{{namespace}}}Signature")
        assert report(data) == ([], f"rio:{holder}")
    refusal = _signed(h.act_refusal().to_xml(), "/d:*/d:Official/d:XMLDigitalSignature")
    assert codes(refusal) == []


def test_unsigned_documents_are_reported() -> None:
    issues, _kind = report(h.withdraw_application().to_xml())
    assert [i.code for i in issues] == ["RIO-UNSIGNED"]
    assert issues[0].severity is Severity.WARNING
    assert issues[0].path == "/ApplicationForWithdrawService/ElectronicAdministrativeServiceFooter"
    assert "заявлението не е подписано" in issues[0].message_bg
    assert codes(h.receipt().to_xml()) == ["RIO-UNSIGNED"]


def test_schema_errors_come_first_and_alone() -> None:
    broken = edited(SIGNED, local("ApplicationType"), text("0006-999999"))
    broken = edited(broken, local("EGN"), text("7501020019"))  # a rule violation too
    issues, kind = report(broken)
    assert [i.code for i in issues] == ["RIO-XSD"]
    assert issues[0].path is not None
    assert issues[0].path.endswith("/ApplicationType")
    assert issues[0].line is not None
    assert kind == "rio:ApplicationForWithdrawService"


def test_a_document_without_a_schema_gets_the_rules() -> None:
    data = h.generic_application().to_xml()
    issues, kind = report(data)
    assert [i.code for i in issues] == ["RIO-SCHEMA-MISSING", "RIO-UNSIGNED"]
    assert kind == "rio:DeclarationUnderArticle17"
    assert "official РИО schemas" in issues[0].message_en


@pytest.mark.parametrize(
    ("xpath", "value", "code", "fragment"),
    [
        (local("EGN"), "7501020019", "RIO-EGN", "is not a valid ЕГН"),
        (local("EGN"), "7501020003", "RIO-EGN", "valid ЛНЧ"),  # matches the ЕГН pattern
        (local("Identifier") + "[not(*)]", "000695088", "RIO-EIK", "ЕИК/БУЛСТАТ"),
        (local("Identifier") + "[not(*)]", "1000000009", "RIO-EIK", "10 digits"),
        (local("RegisterIndex"), "10000", "RIO-URI", "RRRR-NNNNNN"),
        (local("BatchNumber"), "1000000", "RIO-URI", "RRRR-NNNNNN"),
        (local("SUNAUServiceURI"), "10 68", "RIO-URI", "white space"),
        (local("BatchNumber"), "3051", "RIO-DOC-TYPE", "0010-003059 expected"),
        (local("EmailAddress"), "a" * 65 + "@example.bg", "RIO-EMAIL", "65 characters"),
        (local("FileType"), "image/png", "RIO-ATT-TYPE", "is not image/png"),
        (local("AttachedDocumentFileName"), "scan.docx", "RIO-ATT-EXT", "suggests"),
        (local("AttachedDocumentFileName"), "../../etc/passwd", "RIO-ATT-NAME", "path"),
        (local("AttachedDocumentFileContent"), "", "RIO-ATT-EMPTY", "no content"),
    ],
)
def test_rules(xpath: str, value: str, code: str, fragment: str) -> None:
    issues, _ = report(edited(SIGNED, xpath, text(value)))
    found = [i for i in issues if i.code == code]
    assert found, [i.code for i in issues]
    assert fragment in found[0].message_en
    assert found[0].path is not None
    assert found[0].line is not None


def test_a_valid_egn_declared_as_lnch_gets_a_hint() -> None:
    data = edited(SIGNED, local("EGN"), lambda n: setattr(n, "tag", f"{{{S}0009-000006}}LNCh"))
    issues, _ = report(data)
    assert [i.code for i in issues] == ["RIO-LNCH"] * 4  # author and recipient, twice
    assert "declare it as EGN" in issues[0].message_en


def test_a_ten_digit_entity_identifier_may_be_a_personal_number() -> None:
    data = edited(SIGNED, local("Identifier") + "[not(*)]", text(h.EGN))
    assert codes(data) == []


def test_times() -> None:
    future = (NOW + dt.timedelta(hours=1)).isoformat()
    data = edited(SIGNED, local("ApplicationSigningTime"), text(future))
    assert codes(data) == ["RIO-SIGNING-TIME"]
    naive = edited(SIGNED, local("ApplicationSigningTime"), text("2024-05-06T10:00:00.1234567"))
    assert codes(naive) == ["RIO-DATE-TZ"]
    receipt = h.receipt().to_xml()
    late = edited(receipt, local("ReceiptTime"), text((NOW + dt.timedelta(days=2)).isoformat()))
    assert "RIO-DATE-FUTURE" in codes(late)
    tomorrow = (NOW + dt.timedelta(days=3)).date().isoformat()
    dated = edited(receipt, local("ReceiptOrSigningDate"), text(tomorrow))
    assert "RIO-DATE-FUTURE" in codes(dated)
    missing = edited(SIGNED, local("ApplicationSigningTime"), lambda n: n.getparent().remove(n))  # type: ignore[union-attr]
    assert codes(missing) == ["RIO-SIGNING-TIME-MISSING"]


def test_attachments_with_the_same_identifier() -> None:
    duplicate = edited(
        SIGNED, local("AttachedDocument"), lambda n: n.addnext(etree.fromstring(etree.tostring(n)))
    )
    assert codes(duplicate) == ["RIO-ATT-DUP"]


@pytest.mark.parametrize(
    ("mime", "content", "name", "ok"),
    [
        ("application/pdf", b"%PDF-1.4", "a.pdf", True),
        ("image/png", b"\x89PNG\r\n\x1a\nxx", "a.png", True),
        ("image/jpeg", b"\xff\xd8\xff\xe0", "a.jpg", True),
        (DOCX, b"PK\x03\x04", "a.docx", True),
        ("application/xml", b"\xef\xbb\xbf <?xml version='1.0'?><a/>", "a.xml", True),
        ("text/plain", b"\x00\x01", "a.txt", False),
        ("application/msword", b"%PDF", "a.doc", False),
        ("application/x-custom", b"anything", "a.custom", True),
    ],
)  # fmt: skip
def test_attachment_content_must_be_of_its_declared_type(
    mime: str, content: bytes, name: str, ok: bool
) -> None:
    data = edited(SIGNED, local("FileType"), text(mime))
    data = edited(data, local("AttachedDocumentFileName"), text(name))
    data = edited(
        data, local("AttachedDocumentFileContent"), text(base64.b64encode(content).decode())
    )
    assert ("RIO-ATT-TYPE" not in codes(data)) is ok


def test_an_application_must_identify_an_author() -> None:
    data = edited(SIGNED, local("Identifier") + "[*]", lambda n: n.getparent().remove(n))  # type: ignore[union-attr]
    assert codes(data) == ["RIO-NO-IDENTIFIER"]


def test_a_signature_outside_its_place_is_reported() -> None:
    data = _signed(SIGNED, "/d:*/d:ElectronicAdministrativeServiceHeader")
    issues, _ = rio_report(parse_xml(data), schemas=None, now=NOW)
    assert [i.code for i in issues] == ["RIO-XSD"]  # the schema forbids it there…
    rules = [i.code for i in rio_rule_issues(parse_xml(data).getroot(), now=NOW)]
    assert rules == ["RIO-SIGNATURE-PLACE"]  # …and so does the rule, for documents without one


def test_the_code_catalogue() -> None:
    for code, info in RIO_CODES.items():
        assert code.startswith("RIO-")
        assert info.en
        assert info.bg
        assert info.en != info.bg
    with pytest.raises(ValueError, match="timezone"):
        rio_rule_issues(parse_xml(SIGNED).getroot(), now=dt.datetime(2024, 1, 1))
    root = parse_xml(SIGNED).getroot()
    assert is_rio_document(root)
    assert document_type(root) == "rio:ApplicationForWithdrawService"
    assert not is_rio_document(etree.fromstring(b'<a xmlns="urn:x"/>'))


def test_models_still_read_what_the_rules_flag() -> None:
    data = edited(SIGNED, local("EGN"), text("7501020019"))
    app = rio.ApplicationDocument.from_xml(data)
    assert app.signed
