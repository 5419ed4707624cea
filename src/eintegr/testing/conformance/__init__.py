"""The СЕОС compatibility procedure ("Процедура по проверка за съвместимост") as a suite.

* :mod:`.scenarios` — every scenario with its ID, English and Bulgarian description,
  expected outcome and whether it was derived from the specification's checks;
* :mod:`.kit` — the tester's identities and the register (:class:`TesterSetup`,
  :func:`make_kit`);
* :mod:`.receiving` — the tester as a misbehaving client against a live ``Submit`` endpoint;
* :mod:`.application` — the application-level receiving scenarios (ЗР, ПС, ИС, ИГ), with the
  tester's own endpoint for answers the system pushes;
* :mod:`.sending` — the tester as a misbehaving ``Submit`` server for a system that sends;
* :mod:`.report` — verdicts with evidence, rendered as text, JSON or JUnit XML.

    report = run_receiving(setup, "https://sut.example:8443/")
    print(report.to_text())
"""

from __future__ import annotations

from eintegr.testing.conformance.kit import ConformanceKit, TesterSetup, make_kit
from eintegr.testing.conformance.receiving import run_receiving
from eintegr.testing.conformance.report import (
    ConformanceReport,
    Evidence,
    ScenarioResult,
    Verdict,
)
from eintegr.testing.conformance.scenarios import SCENARIOS, Direction, Scenario, scenario, select

__all__ = [
    "SCENARIOS",
    "ConformanceKit",
    "ConformanceReport",
    "Direction",
    "Evidence",
    "Scenario",
    "ScenarioResult",
    "TesterSetup",
    "Verdict",
    "make_kit",
    "run_receiving",
    "scenario",
    "select",
]
