"""``eintegr validate``: validate files for CI with text, JSON or JUnit reports."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import click
from lxml import etree

from eintegr.errors import EintegrError
from eintegr.validation import Issue, Severity, ValidationReport, validate
from eintegr.xml import XmlLimits

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_UNREADABLE", "EXIT_USAGE", "validate_command"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = 3


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One file's result; ``unreadable`` marks input that could not be checked at all."""

    report: ValidationReport
    unreadable: bool = False


def _single(path: str, code: str, en: str, bg: str) -> ValidationReport:
    return ValidationReport((Issue(code, Severity.ERROR, None, None, en, bg),), source=path)


def _expand(paths: tuple[Path, ...]) -> list[tuple[Path, _Outcome | None]]:
    """Files to check, in a stable order; directories recurse into ``*.xml``."""
    found: list[tuple[Path, _Outcome | None]] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.xml") if p.is_file())
            if not files:
                report = _single(
                    str(path),
                    "IO-UNREADABLE",
                    f"no *.xml files under the folder {path}",
                    f"в папката {path} няма файлове *.xml",
                )
                found.append((path, _Outcome(report, unreadable=True)))
            found.extend((file, None) for file in files)
        else:
            found.append((path, None))
    return found


def _check(path: Path, *, schemas: Path | None, limits: XmlLimits) -> _Outcome:
    name = str(path)
    try:
        return _Outcome(validate(path, schemas=schemas, limits=limits, name=name))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _Outcome(
            _single(
                name,
                "IO-UNREADABLE",
                f"cannot read the file: {reason}",
                f"файлът не може да бъде прочетен: {reason}",
            ),
            unreadable=True,
        )


def _text_report(outcomes: list[_Outcome], lang: str, strict: bool) -> str:
    lines: list[str] = []
    valid = 0
    for outcome in outcomes:
        report = outcome.report
        ok = _passes(outcome, strict)
        valid += ok
        status = "OK  " if ok else ("ERR " if outcome.unreadable else "FAIL")
        kind = f" ({report.document_type})" if report.document_type else ""
        lines.append(f"{status} {report.source}{kind}")
        for issue in report:
            where = issue.path or ""
            if issue.line is not None:
                where += f" (line {issue.line})" if where else f"line {issue.line}"
            lines.append(f"  {issue.severity} {issue.code} {where}: {issue.message(lang)}")
    total = len(outcomes)
    if lang == "bg":
        lines.append(f"{total} файла: {valid} валидни, {total - valid} с грешки")
    else:
        lines.append(f"{total} files: {valid} valid, {total - valid} not valid")
    return "\n".join(lines)


def _json_report(outcomes: list[_Outcome], lang: str, strict: bool) -> str:
    files = []
    for outcome in outcomes:
        entry = outcome.report.to_dict(lang)
        entry["valid"] = _passes(outcome, strict)
        files.append(entry)
    return json.dumps({"files": files}, ensure_ascii=False, indent=2)


def _junit_report(outcomes: list[_Outcome], lang: str, strict: bool) -> str:
    suites = etree.Element("testsuites", name="eintegr validate")
    failures = sum(1 for o in outcomes if not o.unreadable and not _passes(o, strict))
    errors = sum(1 for o in outcomes if o.unreadable)
    suite = etree.SubElement(
        suites,
        "testsuite",
        name="eintegr validate",
        tests=str(len(outcomes)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
    )
    suites.set("tests", str(len(outcomes)))
    suites.set("failures", str(failures))
    suites.set("errors", str(errors))
    for outcome in outcomes:
        report = outcome.report
        case = etree.SubElement(
            suite,
            "testcase",
            classname=f"eintegr.validate.{report.document_type or 'document'}",
            name=str(report.source),
            file=str(report.source),
        )
        detail = "\n".join(
            f"{i.severity} {i.code} {i.path or ''}"
            f"{f' (line {i.line})' if i.line is not None else ''}: {i.message(lang)}"
            for i in report
        )
        if outcome.unreadable:
            first = report.issues[0]
            etree.SubElement(
                case, "error", message=first.message(lang), type=first.code
            ).text = detail
        elif not _passes(outcome, strict):
            first = (report.errors or report.issues)[0]
            etree.SubElement(
                case, "failure", message=first.message(lang), type=first.code
            ).text = detail
        elif detail:
            etree.SubElement(case, "system-out").text = detail
    return etree.tostring(suites, encoding="unicode", pretty_print=True)


def _passes(outcome: _Outcome, strict: bool) -> bool:
    if outcome.unreadable or not outcome.report.ok:
        return False
    return not (strict and outcome.report.warnings)


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "bg"]),
    default="en",
    show_default=True,
    help="Language of the messages.",
)
@click.option(
    "--schemas",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Validate against this folder of official XSDs instead of eintegr's own.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=XmlLimits().max_bytes,
    show_default=True,
    help="Largest accepted file.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as failures.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
def validate_command(
    paths: tuple[Path, ...],
    output_format: str,
    lang: str,
    schemas: Path | None,
    max_bytes: int,
    strict: bool,
    output: Path | None,
) -> None:
    """Validate СЕОС messages and РИО documents (PATHS are files or folders searched for *.xml).

    Exit status: 0 all valid, 1 any not valid, 2 usage error, 3 unreadable input or
    internal error.
    """
    limits = XmlLimits(max_bytes=max_bytes)
    outcomes: list[_Outcome] = []
    try:
        for path, ready in _expand(paths):
            outcomes.append(ready or _check(path, schemas=schemas, limits=limits))
    except EintegrError as exc:  # a schema folder that cannot be loaded, for instance
        click.echo(f"eintegr validate: {exc.code}: {exc.localized(lang)}", err=True)
        sys.exit(EXIT_UNREADABLE)
    render = {"text": _text_report, "json": _json_report, "junit": _junit_report}[output_format]
    text = render(outcomes, lang, strict)
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)
    if any(o.unreadable for o in outcomes):
        sys.exit(EXIT_UNREADABLE)
    sys.exit(EXIT_OK if all(_passes(o, strict) for o in outcomes) else EXIT_INVALID)
