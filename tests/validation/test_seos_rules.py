"""СЕОС validation: XSD issues and every rule the XSD cannot express."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from eintegr.errors import ValidationFailed
from eintegr.validation import CODES, Severity, ValidationReport, validate
from tests.validation import messages as msg
from tests.validation.messages import M, mutate, set_text

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def check(data: bytes, **kwargs: object) -> ValidationReport:
    return validate(data, now=NOW, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make",
    [msg.registration, msg.status_response, msg.status_request, msg.error],
    ids=["registration", "status-response", "status-request", "error"],
)
def test_valid_messages_have_no_issue(make: Callable[[], bytes]) -> None:
    report = check(make())
    assert report.ok
    assert list(report) == []
    assert report.document_type is not None
    assert report.document_type.startswith("seos:MSG_")


def test_document_type_names_the_message_type() -> None:
    assert check(msg.registration()).document_type == "seos:MSG_DocumentRegistrationRequest"
    assert check(msg.error()).document_type == "seos:MSG_Error"


def codes(report: ValidationReport) -> list[str]:
    return [issue.code for issue in report]


def test_xsd_violation_is_check_p3_with_path_line_and_both_languages() -> None:
    data = mutate(msg.registration(), set_text("m:Header/m:MessageGUID", "not-a-guid"))
    report = check(data)
    assert not report.ok
    assert codes(report) == ["П.3"]
    issue = report.issues[0]
    assert issue.path == "/Message/Header/MessageGUID"
    assert issue.line is not None
    assert "not-a-guid" in issue.message_en
    assert "не отговаря на шаблона" in issue.message_bg


def test_missing_required_element_is_reported_in_bulgarian_too() -> None:
    def drop_comment(root: etree._Element) -> None:
        request = root.find(f"{M}Body/{M}DocumentRegistrationRequest")
        assert request is not None
        comment = request.find(M + "Comment")
        assert comment is not None
        request.remove(comment)

    report = check(mutate(msg.registration(), drop_comment))
    assert codes(report) == ["П.3"]
    assert "липсват" in report.issues[0].message_bg
    assert report.issues[0].path == "/Message/Body/DocumentRegistrationRequest"


def test_rules_do_not_run_on_schema_invalid_messages() -> None:
    data = mutate(msg.registration(), set_text("m:Header/m:MessageType", "MSG_Nope"))
    assert codes(check(data)) == ["П.3"]


def test_message_type_must_match_body() -> None:
    data = mutate(msg.registration(), set_text("m:Header/m:MessageType", "MSG_Error"))
    report = check(data)
    assert codes(report) == ["SEOS-TYPE"]
    assert report.issues[0].path == "/Message/Header/MessageType"
    assert "DocumentRegistrationRequest" in report.issues[0].message_en


@pytest.mark.parametrize("version", ["1", "1.0"])
def test_versions_1_and_1_0_are_accepted(version: str) -> None:
    assert check(mutate(msg.registration(), set_text("m:Header/m:Version", version))).ok


def test_other_versions_are_refused() -> None:
    report = check(mutate(msg.registration(), set_text("m:Header/m:Version", "2")))
    assert codes(report) == ["SEOS-VERSION"]


@pytest.mark.parametrize("role", ["Sender", "Recipient"])
def test_participant_identifier_must_be_a_valid_eik(role: str) -> None:
    report = check(
        mutate(msg.registration(), set_text(f"m:Header/m:{role}/m:Identifier", "000695088"))
    )
    assert codes(report) == ["SEOS-EIK"]
    assert report.issues[0].severity is Severity.ERROR
    assert report.issues[0].path == f"/Message/Header/{role}/Identifier"


def test_thirteen_digit_bulstat_is_accepted() -> None:
    # 000695089 + 0001: digits 9-12 (0,0,0,1) weights 2,7,3,5 → 9*2 + 0 + 0 + 0 + 1*5 = 23;
    # 23 mod 11 = 1 → check digit 1
    report = check(
        mutate(msg.registration(), set_text("m:Header/m:Sender/m:Identifier", "0006950890011"))
    )
    assert report.ok, list(report)


def test_same_sender_and_recipient_is_a_warning() -> None:
    data = mutate(
        msg.registration(), set_text("m:Header/m:Recipient/m:GUID", msg.GUIDS["sender"].upper())
    )
    report = check(data)
    assert codes(report) == ["SEOS-SAME-PARTY"]
    assert report.ok  # a warning does not invalidate


def test_message_date_without_timezone_and_in_the_future() -> None:
    report = check(
        mutate(msg.registration(), set_text("m:Header/m:MessageDate", "2024-03-05T10:00:00"))
    )
    assert sorted(codes(report)) == ["SEOS-DATE-FUTURE", "SEOS-DATE-TZ"]
    assert report.ok


def test_implausibly_early_dates() -> None:
    data = mutate(
        msg.registration(),
        set_text(
            "m:Body/m:DocumentRegistrationRequest/m:Document/m:DocID/m:DocumentNumber/m:DocDate",
            "1899-12-31",
        ),
    )
    report = check(data)
    assert "SEOS-DATE-RANGE" in codes(report)


def test_document_date_in_the_future() -> None:
    data = mutate(
        msg.registration(),
        set_text(
            "m:Body/m:DocumentRegistrationRequest/m:Document/m:DocID/m:DocumentNumber/m:DocDate",
            "2024-03-04",
        ),
    )
    assert codes(check(data)) == ["SEOS-DATE-FUTURE"]


def test_deadline_before_document_date() -> None:
    data = mutate(
        msg.registration(),
        set_text("m:Body/m:DocumentRegistrationRequest/m:Document/m:DocReqDateClose", "2024-02-01"),
    )
    assert codes(check(data)) == ["SEOS-DATE-ORDER"]


def _document(root: etree._Element) -> etree._Element:
    found = root.find(f"{M}Body/{M}DocumentRegistrationRequest/{M}Document")
    assert found is not None
    return found


def test_parent_with_own_guid_must_have_same_number() -> None:
    def same_guid(root: etree._Element) -> None:
        parent_guid = _document(root).find(f"{M}DocParentID/{M}DocumentGUID")
        assert parent_guid is not None
        parent_guid.text = msg.GUIDS["document"].upper()  # compared case-insensitively

    report = check(mutate(msg.registration(), same_guid))
    assert codes(report) == ["SEOS-PARENT"]
    assert report.issues[0].path == "/Message/Body/DocumentRegistrationRequest/Document/DocParentID"


def test_initiating_document_with_identical_ids_is_fine() -> None:
    def initiating(root: etree._Element) -> None:
        document = _document(root)
        doc_id, parent = document.find(M + "DocID"), document.find(M + "DocParentID")
        assert doc_id is not None
        assert parent is not None
        document.replace(
            parent, etree.fromstring(etree.tostring(doc_id).replace(b"DocID", b"DocParentID"))
        )

    assert check(mutate(msg.registration(), initiating)).ok


def test_parent_dated_after_the_document() -> None:
    data = mutate(
        msg.registration(),
        set_text(
            "m:Body/m:DocumentRegistrationRequest/m:Document/m:DocParentID/m:DocumentNumber/m:DocDate",
            "2024-02-29",
        ),
    )
    assert codes(check(data)) == ["SEOS-PARENT-DATE"]


def test_correspondent_identifiers_are_warnings() -> None:
    def break_ids(root: etree._Element) -> None:
        first, second = _document(root).iterfind(f"{M}DocCorrespondentList/{M}Corespondent")
        egn, bulstat = first.find(M + "CorEGN"), second.find(M + "CorBULSTAT")
        assert egn is not None
        assert bulstat is not None
        egn.text, bulstat.text = "7508150012", "12345"

    report = check(mutate(msg.registration(), break_ids))
    assert codes(report) == ["SEOS-COR-EGN", "SEOS-COR-EIK"]
    assert report.ok
    assert report.issues[0].path.endswith("Corespondent[1]/CorEGN")  # type: ignore[union-attr]
    assert report.issues[1].path.endswith("Corespondent[2]/CorBULSTAT")  # type: ignore[union-attr]


def test_lnch_is_accepted_as_cor_egn() -> None:
    # ЛНЧ 100000000x: weights 21,19,...: 1*21 = 21; 21 mod 10 = 1 → "1000000001"
    data = mutate(
        msg.registration(),
        set_text(
            "m:Body/m:DocumentRegistrationRequest/m:Document/m:DocCorrespondentList/m:Corespondent/m:CorEGN",
            "1000000001",
        ),
    )
    assert check(data).ok


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (" ", "SEOS-ATT-NAME"),
        ("a\tb.pdf", "SEOS-ATT-NAME"),
        ("../etc/passwd", "SEOS-ATT-PATH"),
        ("C:\\temp\\x.pdf", "SEOS-ATT-PATH"),
        ("ANNEX.TXT", "SEOS-ATT-DUP"),
    ],
)
def test_attachment_names(name: str, code: str) -> None:
    def rename(root: etree._Element) -> None:
        first = _document(root).find(f"{M}DocAttachmentList/{M}Attachment/{M}AttFileName")
        assert first is not None
        first.text = name

    assert code in codes(check(mutate(msg.registration(), rename)))


def test_attachment_mime_type() -> None:
    data = msg.registration().replace(b"application/pdf", b"pdf")
    report = check(data)
    assert codes(report) == ["SEOS-ATT-MIME"]


def test_empty_required_texts_are_warnings() -> None:
    data = mutate(msg.registration(), set_text("m:Header/m:Sender/m:AdministrativeBodyName", " "))
    report = check(data)
    assert codes(report) == ["SEOS-EMPTY"]
    assert report.ok


def test_rejection_reason_only_with_ds_rejected() -> None:
    data = msg.status_response("DS_REGISTERED", "<RejectionReason>липсва подпис</RejectionReason>")
    report = check(data)
    assert codes(report) == ["SEOS-REJECTION"]
    assert not report.ok


def test_ds_rejected_needs_a_reason() -> None:
    assert codes(check(msg.status_response("DS_REJECTED"))) == ["SEOS-REJECTION-MISSING"]
    with_reason = msg.status_response(
        "DS_REJECTED", "<RejectionReason>липсва подпис</RejectionReason>"
    )
    assert check(with_reason).ok


@pytest.mark.parametrize(
    "status", ["DS_REGISTERED", "DS_STOPPED", "DS_CLOSED", "DS_ALREADY_RECEIVED"]
)
def test_numbered_statuses_need_a_number(status: str) -> None:
    def drop_number(root: etree._Element) -> None:
        doc_id = root.find(f"{M}Body/{M}DocumentStatusResponse/{M}DocID")
        assert doc_id is not None
        number = doc_id.find(M + "DocumentNumber")
        assert number is not None
        doc_id.remove(number)

    assert codes(check(mutate(msg.status_response(status), drop_number))) == ["SEOS-STATUS-NUMBER"]


@pytest.mark.parametrize("status", ["DS_WAIT_REGISTRATION", "DS_NOT_FOUND"])
def test_unnumbered_statuses_are_fine_without_number(status: str) -> None:
    data = msg.status_response(status).replace(
        b"<DocumentNumber><DocNumber>94-00-12</DocNumber><DocDate>2024-03-01</DocDate></DocumentNumber>",
        b"",
    )
    assert check(data).ok


def test_error_without_message_guid() -> None:
    report = check(msg.error(with_guid=False))
    assert codes(report) == ["SEOS-ERROR-GUID"]
    assert "ИГ.1" in report.issues[0].message_bg


def test_raise_for_errors() -> None:
    report = check(mutate(msg.registration(), set_text("m:Header/m:Version", "9")))
    with pytest.raises(ValidationFailed) as info:
        report.raise_for_errors()
    assert info.value.report is report
    assert "SEOS-VERSION" in str(info.value)
    check(msg.registration()).raise_for_errors()  # no error: nothing raised


def test_every_reported_code_is_in_the_catalogue() -> None:
    for data in (msg.registration(), msg.error(False), msg.status_response("DS_REJECTED")):
        for issue in check(data):
            assert issue.code in CODES
            assert issue.severity is CODES[issue.code].severity


def test_input_problems_are_issues_not_exceptions(tmp_path: Path) -> None:
    assert codes(check(b"")) == ["XML-EMPTY"]
    assert codes(check(b"<Message")) == ["XML-MALFORMED"]
    assert codes(check(b'<Message xmlns="http://schemas.egov.bg/messaging/v1">')) == ["П.2"]
    assert codes(check(b"<!DOCTYPE x><x/>")) == ["XML-DTD-FORBIDDEN"]
    assert codes(check(b"<other/>")) == ["DOC-UNKNOWN"]
    big = tmp_path / "big.xml"
    big.write_bytes(b"<m>" + b"x" * 2000 + b"</m>")
    from eintegr.xml import XmlLimits

    report = validate(big, limits=XmlLimits(max_bytes=1000))
    assert codes(report) == ["XML-TOO-LARGE"]
    assert report.source == str(big)


def test_validate_accepts_paths_and_models(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    path.write_bytes(msg.registration())
    assert validate(path, now=NOW).ok

    class Model:
        def to_xml(self) -> bytes:
            return msg.registration()

    assert validate(Model(), now=NOW).ok
    with pytest.raises(TypeError):
        validate(str(path))  # type: ignore[arg-type]
    with pytest.raises(OSError):
        validate(tmp_path / "missing.xml")


def test_official_schema_folder_gives_the_same_verdicts(seos_official_schemas: Path) -> None:
    good = msg.registration()
    bad = mutate(good, set_text("m:Header/m:MessageGUID", "{1234}"))
    for data in (good, bad, msg.status_response("DS_REJECTED"), msg.error(False)):
        ours, official = check(data), check(data, schemas=seos_official_schemas)
        assert codes(ours) == codes(official)


def test_real_signed_sample_is_valid(seos_signed_sample: bytes) -> None:
    report = validate(seos_signed_sample, now=NOW)
    assert report.ok, list(report)
    assert report.document_type == "seos:MSG_DocumentStatusResponse"
