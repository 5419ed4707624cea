"""СЕОС rules that the XSD cannot express, applied to a schema-valid ``Message`` tree."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from lxml import etree

from eintegr.identifiers import is_valid_egn, is_valid_eik, is_valid_lnch
from eintegr.schemas import SEOS_NS
from eintegr.validation.codes import CODES
from eintegr.validation.report import Issue
from eintegr.xml import element_path

__all__ = ["BODY_MESSAGE_TYPES", "document_type", "seos_rule_issues"]

_URI_NS = "http://ereg.egov.bg/segment/0009-000001"
_M = "{" + SEOS_NS + "}"
_U = "{" + _URI_NS + "}"

#: The MessageType each Body element requires.
BODY_MESSAGE_TYPES: dict[str, str] = {
    "DocumentRegistrationRequest": "MSG_DocumentRegistrationRequest",
    "DocumentStatusRequest": "MSG_DocumentStatusRequest",
    "DocumentStatusResponse": "MSG_DocumentStatusResponse",
    "Error": "MSG_Error",
}
_VERSIONS = frozenset({"1", "1.0"})
# Statuses whose notice must carry the document's number or URI at the receiver
# (specification ЗР.1, ЗР.7–ЗР.9, ПС.2, ПС.5–ПС.7).
_NUMBERED_STATUSES = frozenset({"DS_REGISTERED", "DS_STOPPED", "DS_CLOSED", "DS_ALREADY_RECEIVED"})
_EARLIEST = date(1990, 1, 1)
_MEDIA_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
    r"(\s*;\s*[^;=\s]+=[^;]*)*$"
)
_DATETIME = re.compile(
    r"^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$"
)
_DATE = re.compile(r"^(-?\d{4,})-(\d\d)-(\d\d)(Z|[+-]\d\d:\d\d)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _issue(code: str, element: etree._Element | None, en: str, bg: str) -> Issue:
    info = CODES[code]
    return Issue(
        code=code,
        severity=info.severity,
        path=element_path(element) if element is not None else None,
        line=element.sourceline if element is not None else None,
        message_en=en,
        message_bg=bg,
    )


# The rules run on every validated message: children are looked up through one dict per
# parent (lxml's find() costs microseconds a call), and findings are appended to one list.
_Kids = dict[object, etree._Element]


def _kids(element: etree._Element | None) -> _Kids:
    """The children of ``element`` by qualified tag (a schema-valid message repeats a tag only
    in lists, which are iterated instead)."""
    return {} if element is None else {child.tag: child for child in element}


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


_HEADER, _BODY = _M + "Header", _M + "Body"


def _body_child(body: etree._Element | None) -> tuple[etree._Element | None, str]:
    """The element inside ``Body`` and its local name in the СЕОС namespace (or "")."""
    for child in body if body is not None else ():
        tag = child.tag
        if isinstance(tag, str):
            return child, tag[len(_M) :] if tag.startswith(_M) else ""
    return None, ""


def document_type(root: etree._Element) -> str | None:
    """``seos:<MessageType>`` implied by the Body of a СЕОС message, or ``None``."""
    if len(root) > 1 and root[1].tag == _BODY and len(root[1]) == 1:  # the usual layout
        tag = root[1][0].tag
        name = tag[len(_M) :] if isinstance(tag, str) and tag.startswith(_M) else ""
    else:
        name = _body_child(_kids(root).get(_BODY))[1]
    kind = BODY_MESSAGE_TYPES.get(name)
    return f"seos:{kind}" if kind else None


def _parse_datetime(text: str) -> tuple[datetime | None, bool]:
    """(value, has time zone); value is ``None`` when out of Python's range."""
    try:  # the common forms, at C speed (the text is already schema-valid)
        value = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return value, value.tzinfo is not None
    match = _DATETIME.match(text)
    if not match:
        return None, False
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        tz = None
        if zone == "Z":
            tz = UTC
        elif zone:
            sign = 1 if zone[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        hour_i = int(hour)
        value = datetime(
            int(year),
            int(month),
            int(day),
            0 if hour_i == 24 else hour_i,
            int(minute),
            int(second),
            micro,
            tzinfo=tz,
        )
    except ValueError:
        return None, zone is not None
    return value, zone is not None


def _parse_date(text: str) -> date | None:
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    match = _DATE.match(text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def seos_rule_issues(root: etree._Element, *, now: datetime) -> list[Issue]:
    """Every rule finding for a schema-valid СЕОС ``Message`` element."""
    issues: list[Issue] = []
    top = _kids(root)
    header = _kids(top.get(_HEADER))
    _header_issues(header, now, issues)
    child, name = _body_child(top.get(_BODY))
    if child is not None and name:
        _body_issues(header.get(_M + "MessageType"), child, name, now, issues)
    return issues


def _header_issues(header: _Kids, now: datetime, issues: list[Issue]) -> None:
    version = header.get(_M + "Version")
    if version is not None and _text(version) not in _VERSIONS:
        issues.append(
            _issue(
                "SEOS-VERSION",
                version,
                f'Version is "{_text(version)}"; the protocol version is "1" (also written "1.0")',
                f"Version е „{_text(version)}“; версията на протокола е „1“ (или „1.0“)",
            )
        )
    _message_date_issues(header.get(_M + "MessageDate"), now, issues)
    guids: list[etree._Element] = []
    for role, role_bg in (("Sender", "подателя"), ("Recipient", "получателя")):
        party = _kids(header.get(_M + role))
        ident = party.get(_M + "Identifier")
        value = _text(ident)
        if ident is not None and not is_valid_eik(value):
            issues.append(
                _issue(
                    "SEOS-EIK",
                    ident,
                    f"{role} Identifier {value!r} is not a valid ЕИК/БУЛСТАТ (9 or 13 digits "
                    "with valid check digits)",
                    f"Identifier на {role_bg} „{value}“ не е валиден ЕИК/БУЛСТАТ (9 или 13 "
                    "цифри с валидни контролни цифри)",
                )
            )
        _empty(party.get(_M + "AdministrativeBodyName"), issues)
        guid = party.get(_M + "GUID")
        if guid is not None:
            guids.append(guid)
    if len(guids) == 2 and _text(guids[0]) and _text(guids[0]).lower() == _text(guids[1]).lower():
        issues.append(
            _issue(
                "SEOS-SAME-PARTY",
                guids[1],
                "Sender and Recipient have the same GUID",
                "Подателят и получателят са с един и същ GUID",
            )
        )


def _message_date_issues(
    element: etree._Element | None, now: datetime, issues: list[Issue]
) -> None:
    if element is None:
        return
    value, has_zone = _parse_datetime(_text(element))
    if not has_zone:
        issues.append(
            _issue(
                "SEOS-DATE-TZ",
                element,
                "MessageDate has no time zone; the moment it names is ambiguous",
                "MessageDate е без часова зона; моментът, който посочва, е двусмислен",
            )
        )
    if value is None:
        return
    if value.date() < _EARLIEST:
        issues.append(_early(element, value.date()))
    aware = value if value.tzinfo else value.replace(tzinfo=now.tzinfo)
    if aware - now > timedelta(days=1):
        issues.append(
            _issue(
                "SEOS-DATE-FUTURE",
                element,
                f"MessageDate {_text(element)} lies more than a day in the future",
                f"MessageDate {_text(element)} е повече от ден в бъдещето",
            )
        )


def _early(element: etree._Element, value: date) -> Issue:
    return _issue(
        "SEOS-DATE-RANGE",
        element,
        f"{value.isoformat()} is before {_EARLIEST.isoformat()}",
        f"{value.isoformat()} е преди {_EARLIEST.isoformat()}",
    )


def _date_issues(
    element: etree._Element | None,
    now: datetime,
    issues: list[Issue],
    *,
    deadline: bool = False,
) -> date | None:
    """Check a date element; return its value (``None`` when absent or unreadable)."""
    if element is None:
        return None
    value = _parse_date(_text(element))
    if value is None:
        return None
    if value < _EARLIEST:
        issues.append(_early(element, value))
    elif not deadline and value > now.date() + timedelta(days=1):
        name = etree.QName(element).localname
        issues.append(
            _issue(
                "SEOS-DATE-FUTURE",
                element,
                f"{name} {value.isoformat()} lies in the future",
                f"{name} {value.isoformat()} е в бъдещето",
            )
        )
    return value


def _empty(element: etree._Element | None, issues: list[Issue]) -> None:
    if element is not None and not _text(element):
        name = etree.QName(element).localname
        issues.append(_issue("SEOS-EMPTY", element, f"{name} is empty", f"{name} е празно"))


def _identification_issues(
    doc_id: etree._Element | None, now: datetime, issues: list[Issue]
) -> tuple[_Kids, date | None]:
    """Check a DocumentIdentification; return its children and its date (number or URI)."""
    kids = _kids(doc_id)
    number = kids.get(_M + "DocumentNumber")
    if number is not None:
        parts = _kids(number)
        _empty(parts.get(_M + "DocNumber"), issues)
        return kids, _date_issues(parts.get(_M + "DocDate"), now, issues)
    uri = kids.get(_M + "DocumentURI")
    if uri is not None:
        return kids, _date_issues(_kids(uri).get(_U + "ReceiptOrSigningDate"), now, issues)
    return kids, None


def _identification_key(doc_id: etree._Element) -> tuple[tuple[str, str], ...]:
    """The number/URI part of a DocumentIdentification, comparable by value."""
    return tuple(
        (el.tag, _text(el))
        for el in doc_id.iterdescendants()
        if isinstance(el.tag, str) and el.tag != _M + "DocumentGUID"
    )


def _body_issues(
    message_type: etree._Element | None,
    body: etree._Element,
    name: str,
    now: datetime,
    issues: list[Issue],
) -> None:
    expected = BODY_MESSAGE_TYPES.get(name)
    if expected and message_type is not None and _text(message_type) != expected:
        issues.append(
            _issue(
                "SEOS-TYPE",
                message_type,
                f"MessageType is {_text(message_type)} but Body holds {name}, which requires "
                f"{expected}",
                f"MessageType е {_text(message_type)}, а Body съдържа {name}, което изисква "
                f"{expected}",
            )
        )
    kids = _kids(body)
    if name == "DocumentRegistrationRequest":
        document = kids.get(_M + "Document")
        if document is not None:
            _document_issues(document, now, issues)
    elif name == "DocumentStatusRequest":
        _identification_issues(kids.get(_M + "DocID"), now, issues)
    elif name == "DocumentStatusResponse":
        _status_issues(kids, now, issues)
    elif name == "Error":
        if _M + "MessageGUID" not in kids:
            issues.append(
                _issue(
                    "SEOS-ERROR-GUID",
                    body,
                    "the Error has no MessageGUID, so the receiver cannot tell which message "
                    "failed (check ИГ.1)",
                    "Известието за грешка е без MessageGUID и получателят не може да установи "
                    "кое съобщение е неуспешно (проверка ИГ.1)",
                )
            )
        _empty(kids.get(_M + "ErrorDescription"), issues)


def _status_issues(kids: _Kids, now: datetime, issues: list[Issue]) -> None:
    doc_id = kids.get(_M + "DocID")
    id_kids, _ = _identification_issues(doc_id, now, issues)
    status_el = kids.get(_M + "DocRegStatus")
    status = _text(status_el)
    reason = kids.get(_M + "RejectionReason")
    if status == "DS_REJECTED":
        if not _text(reason):
            issues.append(
                _issue(
                    "SEOS-REJECTION-MISSING",
                    reason if reason is not None else status_el,
                    "the document is DS_REJECTED but no RejectionReason is given",
                    "Документът е DS_REJECTED, но не е посочена причина (RejectionReason)",
                )
            )
    elif reason is not None:
        issues.append(
            _issue(
                "SEOS-REJECTION",
                reason,
                f"RejectionReason is only allowed with DS_REJECTED, not with {status}",
                f"RejectionReason се допуска само при DS_REJECTED, не при {status}",
            )
        )
    if (
        status in _NUMBERED_STATUSES
        and doc_id is not None
        and _M + "DocumentNumber" not in id_kids
        and not _text_content(id_kids.get(_M + "DocumentURI"))
    ):
        issues.append(
            _issue(
                "SEOS-STATUS-NUMBER",
                doc_id,
                f"a {status} notice should give the document's number (DocumentNumber) or "
                "URI (DocumentURI) at the receiver",
                f"Известие {status} следва да съдържа номера (DocumentNumber) или УРИ "
                "(DocumentURI) на документа при получателя",
            )
        )
    _date_issues(kids.get(_M + "DocExpectCloseDate"), now, issues, deadline=True)


def _text_content(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _document_issues(document: etree._Element, now: datetime, issues: list[Issue]) -> None:
    kids = _kids(document)
    doc_id, parent = kids.get(_M + "DocID"), kids.get(_M + "DocParentID")
    own, own_date = _identification_issues(doc_id, now, issues)
    parent_kids, parent_date = _identification_issues(parent, now, issues)
    if doc_id is not None and parent is not None:
        own_guid = _text(own.get(_M + "DocumentGUID")).lower()
        if own_guid and own_guid == _text(parent_kids.get(_M + "DocumentGUID")).lower():
            if _identification_key(doc_id) != _identification_key(parent):
                issues.append(
                    _issue(
                        "SEOS-PARENT",
                        parent,
                        "DocParentID names the document itself (same DocumentGUID) but with a "
                        "different number or URI; for an initiating document both must be equal",
                        "DocParentID сочи самия документ (същия DocumentGUID), но с различен "
                        "номер или УРИ; при иницииращ документ двата елемента трябва да са "
                        "еднакви",
                    )
                )
        elif own_date and parent_date and parent_date > own_date:
            issues.append(
                _issue(
                    "SEOS-PARENT-DATE",
                    parent,
                    f"the initiating document is dated {parent_date.isoformat()}, after the "
                    f"document itself ({own_date.isoformat()})",
                    f"Иницииращият документ е с дата {parent_date.isoformat()}, след самия "
                    f"документ ({own_date.isoformat()})",
                )
            )
    _empty(kids.get(_M + "DocKind"), issues)
    deadline = kids.get(_M + "DocReqDateClose")
    deadline_date = _date_issues(deadline, now, issues, deadline=True)
    if deadline is not None and own_date and deadline_date and deadline_date < own_date:
        issues.append(
            _issue(
                "SEOS-DATE-ORDER",
                deadline,
                f"DocReqDateClose {deadline_date.isoformat()} is before the document's date "
                f"{own_date.isoformat()}",
                f"DocReqDateClose {deadline_date.isoformat()} е преди датата на документа "
                f"{own_date.isoformat()}",
            )
        )
    correspondents = kids.get(_M + "DocCorrespondentList")
    if correspondents is not None:
        for correspondent in correspondents:
            if correspondent.tag == _M + "Corespondent":
                _correspondent_issues(_kids(correspondent), issues)
    attachments = kids.get(_M + "DocAttachmentList")
    if attachments is not None:
        _attachment_issues([_kids(a) for a in attachments if a.tag == _M + "Attachment"], issues)


def _correspondent_issues(kids: _Kids, issues: list[Issue]) -> None:
    _empty(kids.get(_M + "CorName"), issues)
    egn = kids.get(_M + "CorEGN")
    value = _text(egn)
    if egn is not None and value and not (is_valid_egn(value) or is_valid_lnch(value)):
        issues.append(
            _issue(
                "SEOS-COR-EGN",
                egn,
                f"CorEGN {value!r} is neither a valid ЕГН nor a valid ЛНЧ (a СлНЧ cannot be "
                "checked)",
                f"CorEGN „{value}“ не е нито валидно ЕГН, нито валиден ЛНЧ (СлНЧ не се проверява)",
            )
        )
    bulstat = kids.get(_M + "CorBULSTAT")
    value = _text(bulstat)
    # A БУЛСТАТ of a self-employed person is his ЕГН (10 digits).
    if bulstat is not None and value and not (is_valid_eik(value) or is_valid_egn(value)):
        issues.append(
            _issue(
                "SEOS-COR-EIK",
                bulstat,
                f"CorBULSTAT {value!r} is not a valid ЕИК/БУЛСТАТ",
                f"CorBULSTAT „{value}“ не е валиден ЕИК/БУЛСТАТ",
            )
        )


def _attachment_issues(attachments: list[_Kids], issues: list[Issue]) -> None:
    seen: set[str] = set()
    for kids in attachments:
        name_el = kids.get(_M + "AttFileName")
        raw = (name_el.text or "") if name_el is not None else ""
        name = raw.strip()
        if not name or _CONTROL.search(raw):
            issues.append(
                _issue(
                    "SEOS-ATT-NAME",
                    name_el,
                    f"attachment file name {raw!r} is empty or contains control characters",
                    f"Името на прикачения файл „{raw}“ е празно или съдържа управляващи символи",
                )
            )
        elif "/" in name or "\\" in name or name in {".", ".."}:
            issues.append(
                _issue(
                    "SEOS-ATT-PATH",
                    name_el,
                    f"attachment file name {name!r} contains a path; receivers must use the "
                    "base name only",
                    f"Името на прикачения файл „{name}“ съдържа път; получателите ползват само "
                    "името на файла",
                )
            )
        if name:
            key = name.casefold()
            if key in seen:
                issues.append(
                    _issue(
                        "SEOS-ATT-DUP",
                        name_el,
                        f"another attachment is also named {name!r}",
                        f"Друг прикачен файл също е с име „{name}“",
                    )
                )
            seen.add(key)
        mime = kids.get(_M + "AttMIMEType")
        if mime is not None and not _MEDIA_TYPE.match(_text(mime)):
            issues.append(
                _issue(
                    "SEOS-ATT-MIME",
                    mime,
                    f"AttMIMEType {_text(mime)!r} is not a media type such as application/pdf",
                    f"AttMIMEType „{_text(mime)}“ не е медиен тип като application/pdf",
                )
            )
