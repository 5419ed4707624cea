"""The receiving scenarios against eintegr's own participant, sound and broken."""

from __future__ import annotations

from collections.abc import Callable

from eintegr.testing.conformance import Direction, Verdict, run_receiving, select

from .conftest import Endpoint


def test_eintegr_participant_passes_every_receiving_scenario(
    serve: Callable[..., Endpoint],
) -> None:
    endpoint = serve()
    report = run_receiving(endpoint.setup, endpoint.url)
    print(report.to_text())
    assert [r.scenario.id for r in report.results] == [
        s.id for s in select(direction=Direction.RECEIVING)
    ]
    assert report.passed, report.to_text()
    assert all(r.verdict is Verdict.PASS for r in report.results), report.to_text()


def test_participant_that_trusts_any_signer_fails_exactly_p8(
    serve: Callable[..., Endpoint],
) -> None:
    endpoint = serve(broken=True)
    report = run_receiving(endpoint.setup, endpoint.url)
    failed = [r.scenario.id for r in report.failures]
    assert failed == ["П.8"], report.to_text()
