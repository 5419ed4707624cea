"""Validate regulated documents: XSD plus the rules an XSD cannot express.

>>> report = validate(Path("message.xml"))            # doctest: +SKIP
>>> report.ok, [issue.code for issue in report]       # doctest: +SKIP

:func:`validate` recognises the document by the namespace of its root element (a СЕОС
``Message`` or a РИО document), checks it against our own XSDs (or an official schema folder
the caller supplies), then applies the family's rules. Expected problems — malformed XML, an
empty or oversized file, a DOCTYPE, schema violations, rule violations — are returned as
issues in the :class:`ValidationReport`, never raised. Call
:meth:`ValidationReport.raise_for_errors` to turn errors into an exception.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from lxml import etree

from eintegr.errors import XmlError
from eintegr.schemas import SEOS_NS, seos_schema
from eintegr.validation import codes as _codes
from eintegr.validation.codes import CodeInfo
from eintegr.validation.report import Issue, Severity, ValidationReport
from eintegr.validation.rio import RIO_CODES, is_rio_document, rio_report
from eintegr.validation.screen import seos_screen
from eintegr.validation.seos import document_type, seos_rule_issues
from eintegr.validation.xsd import xsd_issues
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, parse_xml

__all__ = [
    "CODES",
    "CodeInfo",
    "Issue",
    "Severity",
    "ValidationReport",
    "validate",
]


CODES: MappingProxyType[str, CodeInfo] = MappingProxyType({**_codes.CODES, **RIO_CODES})
"""Every issue code ``validate`` can report (СЕОС, РИО and input problems): severity and meaning."""


class _SupportsToXml(Protocol):
    def to_xml(self) -> bytes: ...


_SEOS_MARKER = SEOS_NS.encode()
_SEOS_MESSAGE = "{" + SEOS_NS + "}Message"
_SNIFF_BYTES = 64 * 1024


def _input_issue(code: str, error: XmlError | None = None) -> Issue:
    info = CODES[code]
    return Issue(
        code=code,
        severity=info.severity,
        path=None,
        line=error.line if error is not None else None,
        message_en=error.message if error is not None else info.en,
        message_bg=error.message_bg if error is not None else info.bg,
    )


def validate(
    source: bytes | bytearray | memoryview | os.PathLike[str] | _SupportsToXml,
    *,
    schemas: Path | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
    now: datetime | None = None,
    name: str | None = None,
) -> ValidationReport:
    """Validate one document and return a :class:`ValidationReport`.

    :param source: the document as bytes, a path to a file, or a message model (anything
        with ``to_xml() -> bytes``). A ``str`` is refused: pass ``Path(...)`` or bytes.
    :param schemas: a folder of official schemas to validate against instead of eintegr's own
        (imports without ``schemaLocation`` are resolved by namespace).
    :param limits: the size and depth limits for parsing.
    :param now: the moment "future" dates are judged against (default: the current time).
    :param name: how the report names the source (default: the path, or ``None``).
    :raises OSError: a path that cannot be read (a missing file is not a validation result).
    :raises eintegr.errors.SchemaError: ``schemas`` cannot be loaded.
    """
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str):
        raise TypeError("validate() takes bytes or a Path; wrap a file name in pathlib.Path")
    elif isinstance(source, os.PathLike):
        path = Path(source)
        name = name if name is not None else str(path)
        if path.stat().st_size > limits.max_bytes:
            return ValidationReport(
                (
                    Issue(
                        "XML-TOO-LARGE",
                        Severity.ERROR,
                        None,
                        None,
                        f"the file has {path.stat().st_size} bytes, more than the limit of "
                        f"{limits.max_bytes}",
                        f"Файлът е {path.stat().st_size} байта, повече от допустимите "
                        f"{limits.max_bytes}",
                    ),
                ),
                source=name,
            )
        data = path.read_bytes()
    elif isinstance(source, bytearray | memoryview):
        data = bytes(source)
    else:
        data = source.to_xml()
    return _validate_bytes(
        data, schemas=schemas, limits=limits, now=now or datetime.now(UTC), name=name
    )


def _validate_bytes(
    data: bytes, *, schemas: Path | None, limits: XmlLimits, now: datetime, name: str | None
) -> ValidationReport:
    try:
        tree = parse_xml(data, limits=limits)
    except XmlError as error:
        code = error.code if error.code in CODES else "XML-MALFORMED"
        if code == "XML-MALFORMED" and data.find(_SEOS_MARKER, 0, _SNIFF_BYTES) >= 0:
            code = "П.2"  # it claims to be a СЕОС message: report the specification's check
        return ValidationReport((_input_issue(code, error),), source=name)
    root = tree.getroot()
    if root.tag != _SEOS_MESSAGE and is_rio_document(root):
        rio_issues, rio_type = rio_report(tree, schemas=schemas, now=now)
        return ValidationReport(tuple(rio_issues), source=name, document_type=rio_type)
    if root.tag != _SEOS_MESSAGE:
        qname = etree.QName(root)
        return ValidationReport(
            (
                Issue(
                    "DOC-UNKNOWN",
                    Severity.ERROR,
                    "/" + qname.localname,
                    root.sourceline,
                    f"the root element {{{qname.namespace or ''}}}{qname.localname} is not a "
                    "document type eintegr validates (a СЕОС Message or a РИО document)",
                    f"коренният елемент {{{qname.namespace or ''}}}{qname.localname} не е вид "
                    "документ, който eintegr проверява (съобщение на СЕОС или документ от РИО)",
                ),
            ),
            source=name,
        )
    issues = xsd_issues(seos_schema(schemas), tree, code="П.3")
    if not issues and seos_screen(root, now=now):
        # The rules presuppose the schema's structure: they run on schema-valid messages,
        # and only when the cheap screen says one of them might fire (see screen.py).
        issues = seos_rule_issues(root, now=now)
    return ValidationReport(tuple(issues), source=name, document_type=document_type(root))
