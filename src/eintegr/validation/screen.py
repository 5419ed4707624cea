"""A fast screen in front of the СЕОС rules: clean messages skip the full rule pass.

Why
---
:func:`eintegr.validation.seos.seos_rule_issues` builds a dictionary of children for every
parent it visits, calls a helper per field and re-checks every identifier from scratch; on a
small message that costs more than parsing and XSD validation together, although nearly
every message that reaches it is clean. :func:`seos_screen` answers the one question the
fast path needs — "might any rule fire?" — and :func:`eintegr.validation.validate` runs the
rules only when the answer is yes.

The contract
------------
On a schema-valid message the screen is a conservative **superset** of the rules::

    seos_screen(root, now=now) is False  ⇒  seos_rule_issues(root, now=now) == []

It may answer ``True`` for a clean message (that costs only the time of the rules), never
``False`` for a message with a finding. ``tests/validation/test_screen.py`` checks the
implication on randomly mutated schema-valid messages and checks that the screen fires on
every rule's own example.

How
---
The screen takes the same decisions as the rules, reading the same values the same way
(``element.text``, stripped) with the rules' own parsers and constants, but cheaply:

* where the schema fixes the children of an element (Message, Header, Sender, Recipient,
  Body, DocumentNumber) it reads them by position, after checking their number — a comment
  or processing instruction among them changes that number and makes the screen fire;
* it stops at the first possible finding and builds no issue objects;
* identifier and media-type checks are pure functions of short strings: their results are
  kept in bounded LRU caches (strings of any other length are decided without the cache),
  since the same participants and correspondents recur from message to message;
* ``now`` (the ``now`` of :func:`~eintegr.validation.validate`) is passed in, never read.

It fires conservatively on what the rules would handle specially: a naive ``now``, date
arithmetic that overflows, an unexpected child structure.

Keep it in step with :mod:`eintegr.validation.seos`: a new or changed rule needs the same
decision here (the tests run both on every rule's example and on mutated messages).

A single compiled lxml XPath expression evaluating the same checks in libxml2 was tried
first: at 50–180 ns per XPath operation (a location step, a ``substring()`` call) the
check digits alone cost 2–3 µs per identifier, and the whole expression was slower than the
rules it was meant to skip.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final

from lxml import etree

from eintegr.identifiers import is_valid_egn, is_valid_eik, is_valid_lnch
from eintegr.schemas import SEOS_NS
from eintegr.validation.seos import (
    _CONTROL,
    _EARLIEST,
    _MEDIA_TYPE,
    _NUMBERED_STATUSES,
    _URI_NS,
    _VERSIONS,
    BODY_MESSAGE_TYPES,
    _identification_key,
    _parse_date,
    _parse_datetime,
)

__all__ = ["seos_screen"]

_M: Final = "{" + SEOS_NS + "}"
_MESSAGE: Final = _M + "Message"
_HEADER: Final = _M + "Header"
_BODY: Final = _M + "Body"
_DOCUMENT: Final = _M + "Document"
_DOC_ID: Final = _M + "DocID"
_DOC_PARENT_ID: Final = _M + "DocParentID"
_DOCUMENT_NUMBER: Final = _M + "DocumentNumber"
_DOCUMENT_URI: Final = _M + "DocumentURI"
_DOCUMENT_GUID: Final = _M + "DocumentGUID"
_DOC_NUMBER: Final = _M + "DocNumber"
_DOC_DATE: Final = _M + "DocDate"
_URI_DATE: Final = "{" + _URI_NS + "}ReceiptOrSigningDate"
_DOC_KIND: Final = _M + "DocKind"
_DOC_REQ_DATE_CLOSE: Final = _M + "DocReqDateClose"
_CORRESPONDENTS: Final = _M + "DocCorrespondentList"
_CORRESPONDENT: Final = _M + "Corespondent"
_COR_NAME: Final = _M + "CorName"
_COR_EGN: Final = _M + "CorEGN"
_COR_BULSTAT: Final = _M + "CorBULSTAT"
_ATTACHMENTS: Final = _M + "DocAttachmentList"
_ATTACHMENT: Final = _M + "Attachment"
_ATT_FILE_NAME: Final = _M + "AttFileName"
_ATT_MIME_TYPE: Final = _M + "AttMIMEType"
_DOC_REG_STATUS: Final = _M + "DocRegStatus"
_REJECTION_REASON: Final = _M + "RejectionReason"
_DOC_EXPECT_CLOSE_DATE: Final = _M + "DocExpectCloseDate"
_MESSAGE_GUID: Final = _M + "MessageGUID"
_ERROR_DESCRIPTION: Final = _M + "ErrorDescription"

#: Body element tag → (its local name, the MessageType it requires).
_BODY_KINDS: Final = {_M + name: (name, kind) for name, kind in BODY_MESSAGE_TYPES.items()}
_ONE_DAY: Final = timedelta(days=1)
_REJECTED: Final = "DS_REJECTED"
_MEDIA_CACHE_MAX_LENGTH: Final = 255


# ---------------------------------------------------------------------------------------------
# Cached checks of short strings (pure functions; longer strings never enter a cache)
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _cached_eik(value: str) -> bool:
    return is_valid_eik(value)


@lru_cache(maxsize=4096)
def _cached_personal(value: str) -> bool:
    return is_valid_egn(value) or is_valid_lnch(value)


@lru_cache(maxsize=4096)
def _cached_bulstat(value: str) -> bool:
    return is_valid_eik(value) or is_valid_egn(value)


@lru_cache(maxsize=1024)
def _cached_media_type(value: str) -> bool:
    return _MEDIA_TYPE.match(value) is not None


def _eik_ok(value: str) -> bool:
    """``is_valid_eik(value)``: a valid ЕИК has 9 or 13 characters."""
    return len(value) in (9, 13) and _cached_eik(value)


def _personal_ok(value: str) -> bool:
    """``is_valid_egn(value) or is_valid_lnch(value)``: both have 10 characters."""
    return len(value) == 10 and _cached_personal(value)


def _bulstat_ok(value: str) -> bool:
    """``is_valid_eik(value) or is_valid_egn(value)``: 9, 13 or 10 characters."""
    return len(value) in (9, 10, 13) and _cached_bulstat(value)


def _media_type_ok(value: str) -> bool:
    """Whether ``value`` matches the rules' media-type pattern."""
    if len(value) > _MEDIA_CACHE_MAX_LENGTH:
        return _MEDIA_TYPE.match(value) is not None
    return _cached_media_type(value)


# ---------------------------------------------------------------------------------------------
# The screen
# ---------------------------------------------------------------------------------------------


def seos_screen(root: etree._Element, *, now: datetime) -> bool:
    """Whether any СЕОС rule *might* fire on the schema-valid message ``root``.

    ``False`` guarantees that :func:`eintegr.validation.seos.seos_rule_issues` finds nothing
    for the same ``root`` and ``now``; ``True`` means "run the rules" (they may still find
    nothing). A naive ``now`` (which the rules cannot compare with a zoned MessageDate)
    always answers ``True``.
    """
    if now.utcoffset() is None:
        return True
    try:
        return _might_fire(root, now, now.date() + _ONE_DAY)
    except OverflowError:  # date arithmetic at the edge of datetime's range: let the rules say
        return True


def _text(element: etree._Element) -> str:
    """What the rules read: the element's text, stripped."""
    return (element.text or "").strip()


def _might_fire(root: etree._Element, now: datetime, tomorrow: date) -> bool:
    if root.tag != _MESSAGE or len(root) not in (2, 3):
        return True
    header, body = root[0], root[1]
    # The schema fixes these children; any other count means a comment or an instruction.
    if header.tag != _HEADER or body.tag != _BODY or len(header) != 6 or len(body) != 1:
        return True
    version, message_type, message_date, sender, recipient, _ = header
    if _text(version) not in _VERSIONS:
        return True
    child = body[0]
    kind = _BODY_KINDS.get(child.tag)  # type: ignore[arg-type]  # a comment's tag is a function
    if kind is None or _text(message_type) != kind[1]:
        return True
    # MessageDate: a time zone, not before 1990, at most a day ahead of now (compared as the
    # rules compare it: with a time zone both are aware).
    value, zoned = _parse_datetime(_text(message_date))
    if not zoned or (value is not None and (value.date() < _EARLIEST or value - now > _ONE_DAY)):
        return True
    if len(sender) != 3 or len(recipient) != 3:
        return True
    sender_id, sender_name, sender_guid = sender
    recipient_id, recipient_name, recipient_guid = recipient
    if not (_eik_ok(_text(sender_id)) and _eik_ok(_text(recipient_id))):
        return True
    if not (_text(sender_name) and _text(recipient_name)):
        return True
    guid = _text(sender_guid)
    if guid and guid.lower() == _text(recipient_guid).lower():
        return True
    name = kind[0]
    if name == "DocumentRegistrationRequest":
        for part in child:
            if part.tag == _DOCUMENT:
                return _document_fires(part, tomorrow)
        return False
    if name == "DocumentStatusRequest":
        for part in child:
            if part.tag == _DOC_ID:
                return _identification(part, tomorrow)[0]
        return False
    if name == "DocumentStatusResponse":
        return _status_response_fires(child, tomorrow)
    parts = {part.tag: part for part in child}  # Error
    if _MESSAGE_GUID not in parts:
        return True
    description = parts.get(_ERROR_DESCRIPTION)
    return description is not None and not _text(description)


def _date(element: etree._Element, tomorrow: date, *, deadline: bool) -> tuple[bool, date | None]:
    """(might fire, value) for a date element: not before 1990; unless a deadline, not
    after tomorrow. The value is ``None`` when the rules cannot read it."""
    value = _parse_date(_text(element))
    if value is None:
        return False, None
    return value < _EARLIEST or (not deadline and value > tomorrow), value


def _identification(doc_id: etree._Element, tomorrow: date) -> tuple[bool, date | None]:
    """(might fire, date) for a DocumentIdentification: its number or URI, and its date."""
    if len(doc_id) == 1:  # the DocumentGUID alone
        return False, None
    part = doc_id[0]
    tag = part.tag
    if tag == _DOCUMENT_NUMBER:
        if len(part) != 2:
            return True, None
        number, doc_date = part
        if number.tag != _DOC_NUMBER or doc_date.tag != _DOC_DATE or not _text(number):
            return True, None
        return _date(doc_date, tomorrow, deadline=False)
    if tag == _DOCUMENT_URI:
        for leaf in part:
            if leaf.tag == _URI_DATE:
                return _date(leaf, tomorrow, deadline=False)
        return False, None
    return True, None  # a comment or an instruction first: let the rules decide


def _guid_of(doc_id: etree._Element) -> str:
    for part in doc_id:
        if part.tag == _DOCUMENT_GUID:
            return _text(part).lower()
    return ""


def _document_fires(document: etree._Element, tomorrow: date) -> bool:
    parts = {part.tag: part for part in document}
    doc_id, parent = parts.get(_DOC_ID), parts.get(_DOC_PARENT_ID)
    own_date = None
    if doc_id is not None:
        fires, own_date = _identification(doc_id, tomorrow)
        if fires:
            return True
    if parent is not None:
        fires, parent_date = _identification(parent, tomorrow)
        if fires:
            return True
        if doc_id is not None:
            own_guid = _guid_of(doc_id)
            if own_guid and own_guid == _guid_of(parent):
                # An initiating document names itself: both identifications must be equal.
                if _identification_key(doc_id) != _identification_key(parent):
                    return True
            elif own_date and parent_date and parent_date > own_date:
                return True
    kind = parts.get(_DOC_KIND)
    if kind is not None and not _text(kind):
        return True
    deadline = parts.get(_DOC_REQ_DATE_CLOSE)
    if deadline is not None:
        fires, deadline_date = _date(deadline, tomorrow, deadline=True)
        if fires or (own_date and deadline_date and deadline_date < own_date):
            return True
    correspondents = parts.get(_CORRESPONDENTS)
    if correspondents is not None:
        for correspondent in correspondents:
            if correspondent.tag == _CORRESPONDENT and _correspondent_fires(correspondent):
                return True
    attachments = parts.get(_ATTACHMENTS)
    return attachments is not None and _attachments_fire(attachments)


def _correspondent_fires(correspondent: etree._Element) -> bool:
    for part in correspondent:
        tag = part.tag
        if tag == _COR_NAME:
            if not _text(part):
                return True
        elif tag == _COR_EGN:
            value = _text(part)
            if value and not _personal_ok(value):
                return True
        elif tag == _COR_BULSTAT:
            value = _text(part)
            if value and not _bulstat_ok(value):
                return True
    return False


def _attachments_fire(attachments: etree._Element) -> bool:
    seen: set[str] = set()
    for attachment in attachments:
        if attachment.tag != _ATTACHMENT:
            continue
        # AttFileName comes first and AttMIMEType last (the schema's order).
        file_name, media_type = attachment[0], attachment[-1]
        if file_name.tag != _ATT_FILE_NAME or media_type.tag != _ATT_MIME_TYPE:
            return True
        raw = file_name.text or ""
        name = raw.strip()
        # Empty, control characters, a path, or the same name as another attachment.
        if not name or _CONTROL.search(raw) or "/" in name or "\\" in name or name in {".", ".."}:
            return True
        key = name.casefold()
        if key in seen:
            return True
        seen.add(key)
        if not _media_type_ok(_text(media_type)):
            return True
    return False


def _status_response_fires(response: etree._Element, tomorrow: date) -> bool:
    parts = {part.tag: part for part in response}
    doc_id = parts.get(_DOC_ID)
    if doc_id is not None and _identification(doc_id, tomorrow)[0]:
        return True
    status_element = parts.get(_DOC_REG_STATUS)
    status = _text(status_element) if status_element is not None else ""
    reason = parts.get(_REJECTION_REASON)
    if status == _REJECTED:
        if reason is None or not _text(reason):
            return True
    elif reason is not None:
        return True
    if status in _NUMBERED_STATUSES and doc_id is not None:
        # The notice must carry the number or the URI (with some text) at the receiver.
        id_parts = {part.tag: part for part in doc_id}
        uri = id_parts.get(_DOCUMENT_URI)
        if _DOCUMENT_NUMBER not in id_parts and (
            uri is None or not "".join(uri.itertext()).strip()
        ):
            return True
    expected_close = parts.get(_DOC_EXPECT_CLOSE_DATE)
    return expected_close is not None and _date(expected_close, tomorrow, deadline=True)[0]
