"""Validation of РИО documents: XSD, then the rules an XSD cannot express.

:func:`rio_report` checks a document whose root is in a РИО namespace
(``http://ereg.egov.bg/…``) against eintegr's own РИО schemas or an official folder
(:mod:`eintegr.schemas.rio`, non-standard patterns rewritten), then — on a schema-valid
document, or when no schema is available — applies the rules below. Every code is in
:data:`RIO_CODES` with its severity and a description in English and Bulgarian.

=========================  ==========================================================
``RIO-XSD``                not valid against the РИО XSD schemas
``RIO-SCHEMA-MISSING``     no schema for the document's namespace (pass the official folder)
``RIO-EGN``, ``RIO-LNCH``  an ``EGN``/``LNCh`` element that is not a valid number of the
                           type it declares (check digit, birth date)
``RIO-EIK``                an entity identifier that is not a valid ЕИК/БУЛСТАТ
``RIO-URI``                a register URI that cannot be written ``RRRR-NNNNNN``, or a
                           blank service URI
``RIO-DOC-TYPE``           an R-NNNN application whose document type URI is not
                           ``0010-00NNNN``
``RIO-SIGNING-TIME``       ``ApplicationSigningTime`` in the future
``RIO-DATE-TZ``            a date and time without a time zone
``RIO-DATE-FUTURE``        another date in the future
``RIO-EMAIL``              an e-mail address over the register's length limits
``RIO-ATT-TYPE``           an attachment whose content is not of its declared ``FileType``
``RIO-ATT-EXT``            an attachment whose file name suggests another type
``RIO-ATT-EMPTY``          an attachment without content
``RIO-ATT-NAME``           an attachment file name with a path or control characters
``RIO-ATT-DUP``            two attachments with the same unique identifier
``RIO-NO-IDENTIFIER``      an application whose applicant identifies no author
``RIO-UNSIGNED``           an application, receipt or refusal without a signature
``RIO-SIGNATURE-PLACE``    a ``ds:Signature`` outside the document's signature place
``RIO-SIGNING-TIME-MISSING`` a signed application without ``ApplicationSigningTime``
=========================  ==========================================================
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final

from lxml import etree

from eintegr.errors import SchemaError
from eintegr.identifiers import is_valid_egn, is_valid_eik, is_valid_lnch
from eintegr.schemas.rio import RIO_BASE, is_rio_namespace, rio_schemas
from eintegr.validation.codes import CodeInfo
from eintegr.validation.report import Issue, Severity
from eintegr.validation.xsd import xsd_issues
from eintegr.xml import element_path

__all__ = [
    "RIO_CODES",
    "document_type",
    "is_rio_document",
    "rio_report",
    "rio_rule_issues",
]

_E, _W = Severity.ERROR, Severity.WARNING

RIO_CODES: Final[Mapping[str, CodeInfo]] = MappingProxyType(
    {
        "RIO-XSD": CodeInfo(
            _E,
            "the document is not valid against the РИО XSD schemas",
            "документът не съответства на XSD схемите на РИО",
        ),
        "RIO-SCHEMA-MISSING": CodeInfo(
            _E,
            "no schema for the document's namespace: pass the folder of official РИО schemas",
            "няма схема за пространството от имена на документа: посочете папката с"
            " официалните схеми на РИО",
        ),
        "RIO-EGN": CodeInfo(
            _E,
            "an element declared as ЕГН does not hold a valid ЕГН",
            "елемент, деклариран като ЕГН, не съдържа валидно ЕГН",
        ),
        "RIO-LNCH": CodeInfo(
            _E,
            "an element declared as ЛНЧ does not hold a valid ЛНЧ",
            "елемент, деклариран като ЛНЧ, не съдържа валиден ЛНЧ",
        ),
        "RIO-EIK": CodeInfo(
            _E,
            "an entity identifier is not a valid ЕИК/БУЛСТАТ",
            "идентификаторът на юридическо лице не е валиден ЕИК/БУЛСТАТ",
        ),
        "RIO-URI": CodeInfo(
            _E,
            "a register URI is malformed",
            "УРИ от регистър е в неправилен вид",
        ),
        "RIO-DOC-TYPE": CodeInfo(
            _W,
            "the document type URI does not match the document's own segment",
            "УРИ на вида документ не съответства на сегмента на документа",
        ),
        "RIO-SIGNING-TIME": CodeInfo(
            _E,
            "ApplicationSigningTime lies in the future",
            "ApplicationSigningTime е в бъдещето",
        ),
        "RIO-DATE-TZ": CodeInfo(
            _W, "a date and time has no time zone", "дата и час без часова зона"
        ),
        "RIO-DATE-FUTURE": CodeInfo(_W, "a date lies in the future", "дата в бъдещето"),
        "RIO-EMAIL": CodeInfo(
            _E,
            "an e-mail address exceeds the register's limits (local part 64, domain 255"
            " characters)",
            "адрес на електронна поща надвишава ограниченията на регистъра (локална част 64,"
            " домейн 255 знака)",
        ),
        "RIO-ATT-TYPE": CodeInfo(
            _E,
            "an attachment's content is not of its declared FileType",
            "съдържанието на приложен документ не е от декларирания FileType",
        ),
        "RIO-ATT-EXT": CodeInfo(
            _W,
            "an attachment's file name suggests another type than its FileType",
            "името на приложен документ предполага тип, различен от FileType",
        ),
        "RIO-ATT-EMPTY": CodeInfo(
            _W, "an attachment has no content", "приложен документ без съдържание"
        ),
        "RIO-ATT-NAME": CodeInfo(
            _E,
            "an attachment's file name contains a path or control characters",
            "името на приложен документ съдържа път или управляващи знаци",
        ),
        "RIO-ATT-DUP": CodeInfo(
            _E,
            "two attachments have the same unique identifier",
            "два приложени документа са с един и същ уникален идентификатор",
        ),
        "RIO-NO-IDENTIFIER": CodeInfo(
            _W,
            "the application identifies no author of the applicant (ЕГН, ЛНЧ or foreign citizen)",
            "заявлението не идентифицира автор на заявителя (ЕГН, ЛНЧ или чужденец)",
        ),
        "RIO-UNSIGNED": CodeInfo(
            _W,
            "the document is not signed (no ds:Signature at its place)",
            "документът не е подписан (няма ds:Signature на определеното място)",
        ),
        "RIO-SIGNATURE-PLACE": CodeInfo(
            _E,
            "a ds:Signature lies outside the document's signature place",
            "ds:Signature извън определеното за подписа място",
        ),
        "RIO-SIGNING-TIME-MISSING": CodeInfo(
            _W,
            "a signed application has no ApplicationSigningTime",
            "подписано заявление без ApplicationSigningTime",
        ),
    }
)
"""Every code :func:`rio_report` can return, with severity and descriptions."""

_CLOCK_SKEW: Final = timedelta(minutes=5)
_DS: Final = "{http://www.w3.org/2000/09/xmldsig#}Signature"


def _seg(code: str) -> str:
    return f"{RIO_BASE}segment/{code}"


_S1, _S6, _S13, _S16, _S19, _S17 = (
    _seg(c)
    for c in (
        "0009-000001",
        "0009-000006",
        "0009-000013",
        "0009-000016",
        "0009-000019",
        "0009-000017",
    )
)
_S22, _S139, _S152, _S153 = (
    _seg(c) for c in ("0009-000022", "0009-000139", "0009-000152", "0009-000153")
)
_S150, _S154, _S99, _S11 = (
    _seg(c) for c in ("0009-000150", "0009-000154", "0009-000099", "0009-000011")
)
_S12 = _seg("0009-000012")
_FOOTER: Final = "ElectronicAdministrativeServiceFooter"


def is_rio_document(root: etree._Element) -> bool:
    """Whether ``root`` is in a РИО namespace (what :func:`rio_report` validates)."""
    return isinstance(root.tag, str) and is_rio_namespace(etree.QName(root).namespace)


def document_type(root: etree._Element) -> str:
    """``rio:<root local name>``."""
    return f"rio:{etree.QName(root).localname}"


def _issue(code: str, element: etree._Element | None, en: str, bg: str) -> Issue:
    return Issue(
        code=code,
        severity=RIO_CODES[code].severity,
        path=element_path(element) if element is not None else None,
        line=element.sourceline if element is not None else None,
        message_en=en,
        message_bg=bg,
    )


def rio_report(
    tree: etree._ElementTree, *, schemas: Path | None, now: datetime
) -> tuple[list[Issue], str | None]:
    """Validate a РИО document: XSD (eintegr's own schemas, or the official folder
    ``schemas``), then :func:`rio_rule_issues` when the XSD passes (or no schema is known).

    :returns: the issues and the document type ``rio:<root local name>``.
    :raises SchemaError: the folder ``schemas`` cannot be read, or a schema does not compile.
    """
    root = tree.getroot()
    namespace = etree.QName(root).namespace or ""
    catalogue = rio_schemas(schemas)
    issues: list[Issue] = []
    if namespace in catalogue:
        try:
            schema = catalogue.schema(namespace)
        except SchemaError as exc:
            if exc.code != "SCHEMA-MISSING-NAMESPACE":
                raise
            issues.append(_missing_schema(root, namespace, str(exc), exc.message_bg))
        else:
            issues = xsd_issues(schema, tree, code="RIO-XSD")
            if issues:
                return issues, document_type(root)
    else:
        issues.append(
            _missing_schema(
                root,
                namespace,
                f"no schema for {namespace} in "
                + (str(schemas) if schemas else "eintegr's own РИО schemas"),
                f"няма схема за {namespace} в "
                + (str(schemas) if schemas else "собствените схеми на eintegr за РИО"),
            )
        )
    issues.extend(rio_rule_issues(root, now=now))
    return issues, document_type(root)


def _missing_schema(root: etree._Element, namespace: str, en: str, bg: str) -> Issue:
    return _issue(
        "RIO-SCHEMA-MISSING",
        root,
        f"{en}; XSD validation was not done (pass the folder of official РИО schemas)",
        f"{bg}; проверка по XSD не е направена (посочете папката с официалните схеми на РИО)",
    )


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------


def rio_rule_issues(root: etree._Element, *, now: datetime) -> list[Issue]:
    """The rules an XSD cannot express, on a РИО document (see the module docstring)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    issues: list[Issue] = []
    for rule in _RULES:
        rule(root, now, issues)
    return issues


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


def _identifiers(root: etree._Element, now: datetime, issues: list[Issue]) -> None:
    for node in root.iter(f"{{{_S6}}}EGN"):
        value = _text(node)
        if not is_valid_egn(value):
            hint_en = hint_bg = ""
            if is_valid_lnch(value):
                hint_en, hint_bg = (
                    " (it is a valid ЛНЧ: declare it as LNCh)",
                    (" (валиден ЛНЧ е: декларирайте го като LNCh)"),
                )
            issues.append(
                _issue(
                    "RIO-EGN",
                    node,
                    f"{value!r} is not a valid ЕГН{hint_en}",
                    f"{value!r} не е валидно ЕГН{hint_bg}",
                )
            )
    for node in root.iter(f"{{{_S6}}}LNCh"):
        value = _text(node)
        if not is_valid_lnch(value):
            hint_en = hint_bg = ""
            if is_valid_egn(value):
                hint_en, hint_bg = (
                    " (it is a valid ЕГН: declare it as EGN)",
                    (" (валидно ЕГН е: декларирайте го като EGN)"),
                )
            issues.append(
                _issue(
                    "RIO-LNCH",
                    node,
                    f"{value!r} is not a valid ЛНЧ{hint_en}",
                    f"{value!r} не е валиден ЛНЧ{hint_bg}",
                )
            )
    for node in root.iter(f"{{{_S13}}}Identifier"):
        value = _text(node)
        if len(value) == 10:  # a sole trader's personal number
            if not (is_valid_egn(value) or is_valid_lnch(value)):
                issues.append(
                    _issue(
                        "RIO-EIK",
                        node,
                        f"{value!r} has 10 digits but is neither a valid ЕГН nor a valid ЛНЧ",
                        f"{value!r} е с 10 цифри, но не е нито валидно ЕГН, нито валиден ЛНЧ",
                    )
                )
        elif not is_valid_eik(value):
            issues.append(
                _issue(
                    "RIO-EIK",
                    node,
                    f"{value!r} is not a valid ЕИК/БУЛСТАТ (9 or 13 digits with check digits)",
                    f"{value!r} не е валиден ЕИК/БУЛСТАТ (9 или 13 цифри с контролни цифри)",
                )
            )


def _uris(root: etree._Element, now: datetime, issues: list[Issue]) -> None:
    limits = {"RegisterIndex": 9999, "BatchNumber": 999999}
    for name, limit in limits.items():
        for node in root.iter(f"{{{_S22}}}{name}"):
            value = _text(node)
            if value.isdigit() and int(value) > limit:
                issues.append(
                    _issue(
                        "RIO-URI",
                        node,
                        f"{name} {value} does not fit the URI form RRRR-NNNNNN",
                        f"{name} {value} не се побира във вида на УРИ RRRR-NNNNNN",
                    )
                )
    for node in root.iter(f"{{{_S1}}}RegisterIndex"):
        value = _text(node)
        if value.isdigit() and int(value) > 9999:
            issues.append(
                _issue(
                    "RIO-URI",
                    node,
                    f"RegisterIndex {value} has more than four digits",
                    f"RegisterIndex {value} има повече от четири цифри",
                )
            )
    for node in root.iter(f"{{{_S152}}}SUNAUServiceURI"):
        value = node.text or ""
        if not value.strip() or value != value.strip() or any(c.isspace() for c in value):
            issues.append(
                _issue(
                    "RIO-URI",
                    node,
                    f"the service URI {value!r} is blank or contains white space",
                    f"УРИ на услугата {value!r} е празно или съдържа интервали",
                )
            )
    _document_type(root, issues)


_R_CODE: Final = re.compile(r"R-([0-9]{1,6})")


def _document_type(root: etree._Element, issues: list[Issue]) -> None:
    namespace = etree.QName(root).namespace or ""
    match = _R_CODE.fullmatch(namespace.rsplit("/", 1)[-1])
    header = root.find(f"{{{namespace}}}ElectronicAdministrativeServiceHeader")
    if match is None or header is None:
        return
    uri = header.find(f"{{{_S152}}}DocumentTypeURI")
    if uri is None:
        return
    index, batch = uri.find(f"{{{_S22}}}RegisterIndex"), uri.find(f"{{{_S22}}}BatchNumber")
    if index is None or batch is None:
        return
    got = f"{_text(index).zfill(4)}-{_text(batch).zfill(6)}"
    expected = f"0010-{int(match[1]):06d}"
    if got != expected:
        issues.append(
            _issue(
                "RIO-DOC-TYPE",
                uri,
                f"the document type URI is {got}, but the document is of segment R-{match[1]}"
                f" ({expected} expected)",
                f"УРИ на вида документ е {got}, а документът е от сегмент R-{match[1]}"
                f" (очаква се {expected})",
            )
        )


def _parse_datetime(text: str) -> tuple[datetime | None, bool]:
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    match = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:\d\d)?", value)
    if match is None:
        return None, False
    fraction = (match[2] or "")[:7]
    try:
        moment = datetime.fromisoformat(match[1] + fraction + (match[3] or ""))
    except ValueError:
        return None, match[3] is not None
    return moment, match[3] is not None


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


_DATETIMES: Final = (
    (f"{{{_S153}}}ApplicationSigningTime", "RIO-SIGNING-TIME"),
    (f"{{{_S19}}}ReceiptTime", "RIO-DATE-FUTURE"),
    (f"{{{_S17}}}MessageCreationTime", "RIO-DATE-FUTURE"),
)
_DATES: Final = (
    f"{{{_S1}}}ReceiptOrSigningDate",
    f"{{{_S150}}}DocumentReceiptOrSigningDate",
    f"{{{_S154}}}DocumentReceiptOrSigningDate",
    f"{{{_S99}}}IdentitityIssueDate",
    f"{{{_S11}}}BirthDate",
)


def _times(root: etree._Element, now: datetime, issues: list[Issue]) -> None:
    for tag, code in _DATETIMES:
        for node in root.iter(tag):
            name = etree.QName(node).localname
            moment, zoned = _parse_datetime(_text(node))
            if moment is None:
                continue
            if not zoned:
                issues.append(
                    _issue(
                        "RIO-DATE-TZ",
                        node,
                        f"{name} {_text(node)} has no time zone",
                        f"{name} {_text(node)} е без часова зона",
                    )
                )
                moment = moment.replace(tzinfo=UTC)  # judged as UTC, the least surprising
            if moment > now + _CLOCK_SKEW:
                issues.append(
                    _issue(
                        code,
                        node,
                        f"{name} {_text(node)} lies in the future",
                        f"{name} {_text(node)} е в бъдещето",
                    )
                )
    today = now.astimezone(UTC).date() + timedelta(days=1)  # any time zone's today
    for tag in _DATES:
        for node in root.iter(tag):
            day = _parse_date(_text(node))
            if day is not None and day > today:
                name = etree.QName(node).localname
                issues.append(
                    _issue(
                        "RIO-DATE-FUTURE",
                        node,
                        f"{name} {day.isoformat()} lies in the future",
                        f"{name} {day.isoformat()} е в бъдещето",
                    )
                )


def _emails(root: etree._Element, now: datetime, issues: list[Issue]) -> None:
    for node in root.iter(f"{{{_S16}}}EmailAddress"):
        for address in _text(node).split(";"):
            local, _, domain = address.rpartition("@")
            if len(local) > 64 or len(domain) > 255:
                issues.append(
                    _issue(
                        "RIO-EMAIL",
                        node,
                        f"{address[:80]!r}: the local part has {len(local)} characters (at most"
                        f" 64) and the domain {len(domain)} (at most 255)",
                        f"{address[:80]!r}: локалната част е {len(local)} знака (до 64), а"
                        f" домейнът {len(domain)} (до 255)",
                    )
                )


# Content sniffing: a declared MIME type -> does the content start like one?
def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda content: content.startswith(prefixes)


def _xml_like(content: bytes) -> bool:
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def _text_like(content: bytes) -> bool:
    return b"\0" not in content[:4096]


_ZIP = _starts(b"PK\x03\x04", b"PK\x05\x06")
_OLE = _starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_SNIFFERS: Final[dict[str, Callable[[bytes], bool]]] = {
    "application/pdf": _starts(b"%PDF-"),
    "image/png": _starts(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": _starts(b"\xff\xd8\xff"),
    "image/gif": _starts(b"GIF87a", b"GIF89a"),
    "image/tiff": _starts(b"II*\x00", b"MM\x00*"),
    "application/zip": _ZIP,
    "application/msword": _OLE,
    "application/vnd.ms-excel": _OLE,
    "application/xml": _xml_like,
    "text/xml": _xml_like,
    "text/plain": _text_like,
    "application/pkcs7-signature": _starts(b"\x30", b"-----BEGIN"),
    "application/pkcs7-mime": _starts(b"\x30", b"-----BEGIN"),
}
_XML_TYPES: Final = frozenset({"application/xml", "text/xml"})


def _sniffer(mime: str) -> Callable[[bytes], bool] | None:
    if mime in _SNIFFERS:
        return _SNIFFERS[mime]
    if mime.startswith(("application/vnd.openxmlformats-", "application/vnd.oasis.")):
        return _ZIP
    if mime.endswith("+xml"):
        return _xml_like
    return None


def _same_type(a: str, b: str) -> bool:
    return a == b or (a in _XML_TYPES and b in _XML_TYPES)


def _attachments(root: etree._Element, now: datetime, issues: list[Issue]) -> None:
    seen: dict[str, etree._Element] = {}
    for document in _attached_documents(root):
        parts = {etree.QName(c).localname: c for c in document if isinstance(c.tag, str)}
        name_node = parts.get("AttachedDocumentFileName")
        name = _text(name_node) if name_node is not None else ""
        if name_node is not None and (
            re.search(r"[\x00-\x1f\x7f/\\]", name) or ".." in name or not name
        ):
            issues.append(
                _issue(
                    "RIO-ATT-NAME",
                    name_node,
                    f"the file name {name!r} contains a path or control characters",
                    f"името на файла {name!r} съдържа път или управляващи знаци",
                )
            )
        identifier = parts.get("AttachedDocumentUniqueIdentifier")
        if identifier is not None and _text(identifier):
            key = _text(identifier)
            if key in seen:
                issues.append(
                    _issue(
                        "RIO-ATT-DUP",
                        identifier,
                        f"the unique identifier {key!r} is also used at {element_path(seen[key])}",
                        f"уникалният идентификатор {key!r} е използван и в "
                        f"{element_path(seen[key])}",
                    )
                )
            else:
                seen[key] = identifier
        content_node = parts.get("AttachedDocumentFileContent")
        content = b""
        if content_node is not None:
            try:
                content = base64.b64decode("".join(_text(content_node).split()), validate=True)
            except (binascii.Error, ValueError):
                continue  # the XSD's business (xsd:base64Binary)
        if not content:
            issues.append(
                _issue(
                    "RIO-ATT-EMPTY",
                    content_node if content_node is not None else document,
                    f"the attached document {name or '(unnamed)'} has no content",
                    f"приложеният документ {name or '(без име)'} няма съдържание",
                )
            )
        type_node = parts.get("FileType")
        if type_node is None:
            continue
        mime = _text(type_node).lower()
        sniff = _sniffer(mime)
        if content and sniff is not None and not sniff(content):
            issues.append(
                _issue(
                    "RIO-ATT-TYPE",
                    type_node,
                    f"the content of {name or 'the attached document'} is not {mime}",
                    f"съдържанието на {name or 'приложения документ'} не е {mime}",
                )
            )
        guessed = mimetypes.guess_type(name, strict=False)[0] if name else None
        if guessed is not None and not _same_type(guessed.lower(), mime):
            issues.append(
                _issue(
                    "RIO-ATT-EXT",
                    type_node,
                    f"the file name {name!r} suggests {guessed}, but FileType is {mime}",
                    f"името на файла {name!r} предполага {guessed}, а FileType е {mime}",
                )
            )


def _attached_documents(root: etree._Element) -> list[etree._Element]:
    """Elements of type AttachedDocument: those holding a 0009-000139 child."""
    found: dict[int, etree._Element] = {}
    for node in root.iter(f"{{{_S139}}}*"):
        parent = node.getparent()
        if parent is not None:
            found.setdefault(id(parent), parent)
    return list(found.values())


def _signature_place(root: etree._Element) -> tuple[str, list[etree._Element]]:
    """The document kind and the elements that may hold its ds:Signature."""
    qname = etree.QName(root)
    namespace = qname.namespace or ""
    if namespace in (_S19, _S17):
        return "receipt", root.findall(f"{{{namespace}}}Signature")
    if namespace in (_S150, _S154):
        return "refusal", root.findall(
            f"{{{namespace}}}Official/{{{namespace}}}XMLDigitalSignature"
        )
    footer = root.find(f"{{{namespace}}}{_FOOTER}")
    if footer is not None:
        return "application", footer.findall(f"{{{_S153}}}XMLDigitalSignature")
    return "", []


def _signatures(root: etree._Element, now: datetime, issues: list[Issue]) -> None:
    kind, holders = _signature_place(root)
    allowed = {id(h) for h in holders}
    for signature in root.iter(_DS):
        parent = signature.getparent()
        if parent is None or id(parent) not in allowed:
            issues.append(
                _issue(
                    "RIO-SIGNATURE-PLACE",
                    signature,
                    "a ds:Signature outside the document's signature place",
                    "ds:Signature извън определеното за подписа място",
                )
            )
    if not kind:
        return
    signed = any(child.tag == _DS for holder in holders for child in holder)
    if not signed:
        namespace = etree.QName(root).namespace or ""
        where = holders[0] if holders else root.find(f"{{{namespace}}}{_FOOTER}")
        subject_bg = {
            "application": "заявлението не е подписано",
            "receipt": "потвърждението не е подписано",
            "refusal": "отказът не е подписан",
        }[kind]
        issues.append(
            _issue(
                "RIO-UNSIGNED",
                where if where is not None else root,
                f"the {kind} is not signed (no ds:Signature at its place)",
                f"{subject_bg} (няма ds:Signature на определеното място)",
            )
        )
    if kind == "application" and signed:
        namespace = etree.QName(root).namespace or ""
        footer = root.find(f"{{{namespace}}}{_FOOTER}")
        if footer is not None and footer.find(f"{{{_S153}}}ApplicationSigningTime") is None:
            issues.append(
                _issue(
                    "RIO-SIGNING-TIME-MISSING",
                    footer,
                    "the application is signed but has no ApplicationSigningTime",
                    "заявлението е подписано, но няма ApplicationSigningTime",
                )
            )


def _applicant(root: etree._Element, now: datetime, issues: list[Issue]) -> None:
    kind, _ = _signature_place(root)
    if kind != "application":
        return
    authors = list(root.iter(f"{{{_S16}}}Author"))
    identified = any(
        author.find(f".//{{{_S6}}}EGN") is not None
        or author.find(f".//{{{_S6}}}LNCh") is not None
        or author.find(f"{{{_S12}}}ForeignCitizen") is not None
        for author in authors
    )
    if not identified:
        issues.append(
            _issue(
                "RIO-NO-IDENTIFIER",
                root,
                "no author of the applicant is identified by an ЕГН, an ЛНЧ or as a foreign"
                " citizen",
                "нито един автор на заявителя не е идентифициран с ЕГН, ЛНЧ или като чужденец",
            )
        )


_RULES: Final[tuple[Callable[[etree._Element, datetime, list[Issue]], None], ...]] = (
    _identifiers,
    _uris,
    _times,
    _emails,
    _attachments,
    _applicant,
    _signatures,
)
