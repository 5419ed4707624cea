"""The conformance report: a verdict with evidence per scenario; text, JSON and JUnit XML."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from eintegr.testing.conformance.scenarios import Scenario

__all__ = ["ConformanceReport", "Evidence", "ScenarioResult", "Verdict"]

_EXCERPT = 600


class Verdict(enum.StrEnum):
    """The result of one scenario."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    NOT_APPLICABLE = "not applicable"


def excerpt(data: bytes | str | None, limit: int = _EXCERPT) -> str:
    """At most ``limit`` characters of ``data`` as text (for evidence)."""
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the tester sent and what came back (excerpts; never whole attachments).

    :ivar sent: what the tester did or sent.
    :ivar received: what came back (HTTP status, fault, answer, TLS error, the client's
        reported outcome).
    :ivar notes: further observations.
    """

    sent: str = ""
    received: str = ""
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"sent": self.sent, "received": self.received, "notes": list(self.notes)}


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """The verdict on one scenario, why, and the evidence."""

    scenario: Scenario
    verdict: Verdict
    reason: str
    evidence: Evidence = field(default_factory=Evidence)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        s = self.scenario
        return {
            "id": s.id,
            "direction": s.direction.value,
            "number": s.number,
            "title": s.title,
            "title_bg": s.title_bg,
            "expected": s.expected,
            "expected_bg": s.expected_bg,
            "derived": s.derived,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
            "evidence": self.evidence.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ConformanceReport:
    """All results of a run, in the order they ran."""

    results: tuple[ScenarioResult, ...]
    endpoint: str = ""

    @property
    def passed(self) -> bool:
        """True when no scenario failed (not applicable ones do not count)."""
        return not self.failures

    @property
    def failures(self) -> tuple[ScenarioResult, ...]:
        """The failed scenarios."""
        return tuple(r for r in self.results if r.verdict is Verdict.FAIL)

    def verdicts(self) -> dict[str, Verdict]:
        """Scenario ID → verdict."""
        return {r.scenario.id: r.verdict for r in self.results}

    def counts(self) -> dict[str, int]:
        """How many scenarios passed, failed, were not applicable."""
        return {v.value: sum(r.verdict is v for r in self.results) for v in Verdict}

    def merged(self, other: ConformanceReport) -> ConformanceReport:
        """This report followed by ``other``'s results."""
        return ConformanceReport(self.results + other.results, self.endpoint or other.endpoint)

    # --- rendering ---------------------------------------------------------------------------

    def to_text(self) -> str:
        """A human-readable report (one block per scenario)."""
        lines = [
            f"eintegr conformance — {self.endpoint}" if self.endpoint else "eintegr conformance"
        ]
        for r in self.results:
            s = r.scenario
            mark = {Verdict.PASS: "PASS", Verdict.FAIL: "FAIL", Verdict.NOT_APPLICABLE: "N/A "}
            derived = " (derived)" if s.derived else ""
            lines.append(f"{mark[r.verdict]}  {s.id:<17} {s.title}{derived}")
            lines.append(f"      {s.title_bg}")
            lines.append(f"      expected: {s.expected}")
            lines.append(f"      result:   {r.reason}")
            if r.evidence.sent:
                lines.append(f"      sent:     {_one_line(r.evidence.sent)}")
            if r.evidence.received:
                lines.append(f"      received: {_one_line(r.evidence.received)}")
            lines.extend(f"      note:     {_one_line(n)}" for n in r.evidence.notes)
        c = self.counts()
        lines.append(
            f"{c['pass']} passed, {c['fail']} failed, {c['not applicable']} not applicable"
        )
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """The report as a JSON document (UTF-8 text, Cyrillic unescaped)."""
        document = {
            "endpoint": self.endpoint,
            "passed": self.passed,
            "counts": self.counts(),
            "results": [r.to_json() for r in self.results],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

    def to_junit(self) -> bytes:
        """A JUnit XML document (one ``testcase`` per scenario; not applicable → ``skipped``)."""
        suites = etree.Element("testsuites", name="eintegr conformance")
        for direction in ("receiving", "sending"):
            chosen: Sequence[ScenarioResult] = [
                r for r in self.results if r.scenario.direction.value == direction
            ]
            if not chosen:
                continue
            suite = etree.SubElement(
                suites,
                "testsuite",
                name=f"СЕОС {direction}",
                tests=str(len(chosen)),
                failures=str(sum(r.verdict is Verdict.FAIL for r in chosen)),
                skipped=str(sum(r.verdict is Verdict.NOT_APPLICABLE for r in chosen)),
                errors="0",
                time=f"{sum(r.seconds for r in chosen):.3f}",
            )
            for r in chosen:
                case = etree.SubElement(
                    suite,
                    "testcase",
                    classname=f"conformance.{direction}",
                    name=f"{r.scenario.id} {r.scenario.title}",
                    time=f"{r.seconds:.3f}",
                )
                if r.verdict is Verdict.FAIL:
                    etree.SubElement(case, "failure", message=_xml_safe(r.reason)).text = _xml_safe(
                        _evidence_text(r)
                    )
                elif r.verdict is Verdict.NOT_APPLICABLE:
                    etree.SubElement(case, "skipped", message=_xml_safe(r.reason))
                etree.SubElement(case, "system-out").text = _xml_safe(_evidence_text(r))
        return etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def render(self, format: str) -> str:
        """The report as ``text``, ``json`` or ``junit``.

        :raises ValueError: an unknown format.
        """
        if format == "text":
            return self.to_text()
        if format == "json":
            return self.to_json()
        if format == "junit":
            return self.to_junit().decode("utf-8")
        raise ValueError(f"unknown report format {format!r}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _evidence_text(r: ScenarioResult) -> str:
    parts = [f"expected: {r.scenario.expected}", f"result: {r.reason}"]
    if r.evidence.sent:
        parts.append(f"sent: {r.evidence.sent}")
    if r.evidence.received:
        parts.append(f"received: {r.evidence.received}")
    parts.extend(f"note: {n}" for n in r.evidence.notes)
    return "\n".join(parts)


def _xml_safe(text: str) -> str:
    return "".join(
        c
        if c in "\t\n\r" or ("\x20" <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd") or c > "\uffff"
        else "\ufffd"
        for c in text
    )
