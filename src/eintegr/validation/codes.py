"""The catalogue of validation issue codes.

A code never changes meaning once released. Codes that correspond to a check of the СЕОС
specification use its check ID (``П.2``, ``П.3``); the others are ASCII codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from eintegr.validation.report import Severity

__all__ = ["CODES", "CodeInfo"]


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What a code means: its severity and a one-line description in English and Bulgarian."""

    severity: Severity
    en: str
    bg: str


_E, _W = Severity.ERROR, Severity.WARNING

CODES: MappingProxyType[str, CodeInfo] = MappingProxyType(
    {
        # Input and XML level.
        "IO-UNREADABLE": CodeInfo(_E, "the file cannot be read", "файлът не може да бъде прочетен"),
        "XML-EMPTY": CodeInfo(_E, "the document is empty", "документът е празен"),
        "XML-TOO-LARGE": CodeInfo(
            _E, "the document exceeds the size limit", "документът надвишава допустимия размер"
        ),
        "XML-TOO-DEEP": CodeInfo(
            _E,
            "elements are nested deeper than the limit",
            "елементите са вложени по-дълбоко от допустимото",
        ),
        "XML-DTD-FORBIDDEN": CodeInfo(
            _E,
            "the document declares a DOCTYPE (DTDs and entities are refused)",
            "документът съдържа DOCTYPE (DTD и ентитита не се приемат)",
        ),
        "XML-MALFORMED": CodeInfo(
            _E, "the document is not well-formed XML", "документът не е добре формиран XML"
        ),
        "DOC-UNKNOWN": CodeInfo(
            _E,
            "the root element is not a document type eintegr knows",
            "коренният елемент не е на познат вид документ",
        ),
        # СЕОС checks of the specification.
        "П.2": CodeInfo(
            _E,
            "the message is not a well-formed XML document (check П.2)",
            "съобщението не е валиден XML документ (проверка П.2)",
        ),
        "П.3": CodeInfo(
            _E,
            "the message is not valid against the СЕОС XSD schemas (check П.3)",
            "съобщението не съответства на XSD схемите на СЕОС (проверка П.3)",
        ),
        # СЕОС rules the XSD cannot express.
        "SEOS-TYPE": CodeInfo(
            _E,
            "MessageType does not match the element in Body",
            "MessageType не съответства на елемента в Body",
        ),
        "SEOS-VERSION": CodeInfo(_E, 'Version is not "1" or "1.0"', 'Version не е "1" или "1.0"'),
        "SEOS-SAME-PARTY": CodeInfo(
            _W,
            "Sender and Recipient are the same participant",
            "подателят и получателят са един и същ участник",
        ),
        "SEOS-EIK": CodeInfo(
            _E,
            "a participant Identifier is not a valid ЕИК/БУЛСТАТ",
            "идентификаторът на участник не е валиден ЕИК/БУЛСТАТ",
        ),
        "SEOS-COR-EIK": CodeInfo(
            _W,
            "a correspondent's CorBULSTAT is not a valid ЕИК/БУЛСТАТ",
            "CorBULSTAT на кореспондент не е валиден ЕИК/БУЛСТАТ",
        ),
        "SEOS-COR-EGN": CodeInfo(
            _W,
            "a correspondent's CorEGN is neither a valid ЕГН nor a valid ЛНЧ",
            "CorEGN на кореспондент не е нито валидно ЕГН, нито валиден ЛНЧ",
        ),
        "SEOS-PARENT": CodeInfo(
            _E,
            "DocParentID has the document's own GUID but a different number or URI",
            "DocParentID е със същия GUID като документа, но с различен номер или УРИ",
        ),
        "SEOS-PARENT-DATE": CodeInfo(
            _W,
            "the initiating document (DocParentID) is dated after the document itself",
            "иницииращият документ (DocParentID) е с дата след самия документ",
        ),
        "SEOS-REJECTION": CodeInfo(
            _E,
            "RejectionReason is given with a status other than DS_REJECTED",
            "RejectionReason е попълнено при статус, различен от DS_REJECTED",
        ),
        "SEOS-REJECTION-MISSING": CodeInfo(
            _W,
            "DS_REJECTED without a RejectionReason",
            "DS_REJECTED без причина за отказ (RejectionReason)",
        ),
        "SEOS-STATUS-NUMBER": CodeInfo(
            _W,
            "the status requires the document's number or URI at the receiver",
            "статусът изисква номер или УРИ на документа при получателя",
        ),
        "SEOS-DATE-TZ": CodeInfo(
            _W,
            "MessageDate has no time zone",
            "MessageDate е без часова зона",
        ),
        "SEOS-DATE-FUTURE": CodeInfo(_W, "a date lies in the future", "дата в бъдещето"),
        "SEOS-DATE-RANGE": CodeInfo(
            _W, "a date is implausibly early", "неправдоподобно ранна дата"
        ),
        "SEOS-DATE-ORDER": CodeInfo(
            _W,
            "a deadline lies before the document's date",
            "краен срок, предхождащ датата на документа",
        ),
        "SEOS-ERROR-GUID": CodeInfo(
            _W,
            "an Error message without the MessageGUID of the message it is about",
            "известие за грешка без MessageGUID на съобщението, за което се отнася",
        ),
        "SEOS-ATT-NAME": CodeInfo(
            _E,
            "an attachment file name is empty or contains control characters",
            "името на прикачен файл е празно или съдържа управляващи символи",
        ),
        "SEOS-ATT-PATH": CodeInfo(
            _W,
            "an attachment file name contains a path (separators or '..'); use the base name only",
            "името на прикачен файл съдържа път (разделители или '..'); ползвайте само името",
        ),
        "SEOS-ATT-DUP": CodeInfo(
            _W,
            "two attachments have the same file name",
            "два прикачени файла са с едно и също име",
        ),
        "SEOS-ATT-MIME": CodeInfo(
            _W,
            "an attachment's AttMIMEType is not a media type (type/subtype)",
            "AttMIMEType на прикачен файл не е медиен тип (тип/подтип)",
        ),
        "SEOS-EMPTY": CodeInfo(
            _W, "a required text element is empty", "задължителен текстов елемент е празен"
        ),
    }
)
