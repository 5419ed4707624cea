"""Validation results: :class:`Issue` and :class:`ValidationReport`."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from eintegr.errors import ValidationFailed

__all__ = ["Issue", "Severity", "ValidationReport"]


class Severity(enum.StrEnum):
    """How serious an issue is: an ``error`` makes the document invalid, a ``warning`` does not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about a document.

    :param code: stable machine-readable code: the specification's check ID where one exists
        (``П.2`` not well-formed, ``П.3`` not valid against the XSD), otherwise an ASCII code
        such as ``SEOS-TYPE`` (see ``docs/validation.md`` for the table).
    :param severity: :class:`Severity`.
    :param path: readable XPath-like location (local names, 1-based positions), or ``None``.
    :param line: source line, or ``None`` when not known.
    :param message_en: the message in English.
    :param message_bg: the message in Bulgarian.
    """

    code: str
    severity: Severity
    path: str | None
    line: int | None
    message_en: str
    message_bg: str

    def message(self, lang: str = "en") -> str:
        """The message in ``"en"`` or ``"bg"``."""
        return self.message_bg if lang == "bg" else self.message_en

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready mapping: ``code``, ``severity``, ``path``, ``line``, ``message``."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "path": self.path,
            "line": self.line,
            "message": self.message(lang),
        }

    def __str__(self) -> str:
        where = self.path or ""
        if self.line is not None:
            where = f"{where} (line {self.line})" if where else f"line {self.line}"
        return f"{self.severity}: {self.code}: {where}: {self.message_en}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything found in one document; iterate over it to get the :class:`Issue` objects.

    ``report.ok`` is true when there is no error (warnings do not make a document invalid).
    """

    issues: tuple[Issue, ...] = ()
    source: str | None = None
    document_type: str | None = field(default=None)

    @property
    def ok(self) -> bool:
        """True when no issue has severity ``error``."""
        return not any(issue.severity is Severity.ERROR for issue in self.issues)

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The issues with severity ``error``."""
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """The issues with severity ``warning``."""
        return tuple(i for i in self.issues if i.severity is Severity.WARNING)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of every issue, in order."""
        return tuple(i.code for i in self.issues)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def raise_for_errors(self) -> None:
        """Raise :class:`~eintegr.errors.ValidationFailed` if the report has any error."""
        errors = self.errors
        if not errors:
            return
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ValidationFailed(
            f"{self.source or 'document'} is not valid: {first.code}: {first.message_en}{more}",
            message_bg=(
                f"{self.source or 'документът'} не е валиден: {first.code}: {first.message_bg}"
                + (f" (и още {len(errors) - 1})" if len(errors) > 1 else "")
            ),
            report=self,
        )

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready mapping: ``path``, ``valid``, ``document_type``, ``issues``."""
        return {
            "path": self.source,
            "valid": self.ok,
            "document_type": self.document_type,
            "issues": [issue.to_dict(lang) for issue in self.issues],
        }
