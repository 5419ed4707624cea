"""``eintegr conformance`` against eintegr's own participant; the report formats."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click
from click.testing import CliRunner
from lxml import etree

from eintegr.cli.conformance import register
from eintegr.testing.conformance import ConformanceKit

from .conftest import MAX_BYTES, Endpoint


def _group() -> click.Group:
    group = click.Group("eintegr")
    register(group)
    return group


def _args(kit: ConformanceKit, endpoint: Endpoint, folder: Path) -> list[str]:
    paths = kit.with_sut_endpoint(endpoint.url).write(folder)
    # the register must point at the live endpoint
    from eintegr.registry.files import save_directory
    from eintegr.registry.soap import Directory

    live = kit.with_sut_endpoint(endpoint.url)
    save_directory(Directory(participants=tuple(live.register().participants())), paths["register"])
    return [
        "conformance",
        "--endpoint", endpoint.url,
        "--cert", str(paths["tester-cert"]),
        "--key", str(paths["tester-key"]),
        "--ca", str(paths["ca"]),
        "--register", str(paths["register"]),
        "--inactive-cert", str(paths["inactive-cert"]),
        "--inactive-key", str(paths["inactive-key"]),
        "--unregistered-cert", str(paths["unregistered-cert"]),
        "--unregistered-key", str(paths["unregistered-key"]),
        "--max-bytes", str(MAX_BYTES),
        "--timeout", "10",
    ]  # fmt: skip


def test_cli_json_and_junit(
    serve: Callable[..., Endpoint], kit: ConformanceKit, tmp_path: Path
) -> None:
    endpoint = serve()
    args = _args(kit, endpoint, tmp_path)
    result = CliRunner().invoke(
        _group(), [*args, "--only", "П.7", "--only", "П.OK", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [r["id"] for r in document["results"]] == ["П.7", "П.OK"]
    assert document["passed"] is True
    result = CliRunner().invoke(_group(), [*args, "--only", "П.2", "--format", "junit"])
    assert result.exit_code == 0, result.output
    suites = etree.fromstring(result.output.encode())
    assert suites.find("testsuite/testcase") is not None


def test_cli_failure_exit_code(
    serve: Callable[..., Endpoint], kit: ConformanceKit, tmp_path: Path
) -> None:
    endpoint = serve(broken=True)
    result = CliRunner().invoke(_group(), [*_args(kit, endpoint, tmp_path), "--only", "П.8"])
    assert result.exit_code == 1, result.output
    assert "FAIL  П.8" in result.output


def test_cli_client_command(
    serve: Callable[..., Endpoint], kit: ConformanceKit, tmp_path: Path
) -> None:
    endpoint = serve()
    script = tmp_path / "client.py"
    script.write_text("print('retry')\n", encoding="utf-8")
    args = [*_args(kit, endpoint, tmp_path), "--only", "И.8", "--only", "И.9"]
    result = CliRunner().invoke(_group(), [*args, "--client-command", f"{sys.executable} {script}"])
    # the command never sends: И.8 and И.9 both fail with "no request reached the tester"
    assert result.exit_code == 1, result.output
    assert "no request reached the tester" in result.output


def test_cli_usage_and_unreachable(kit: ConformanceKit, tmp_path: Path) -> None:
    paths = kit.write(tmp_path)
    base = [
        "conformance", "--endpoint", "https://127.0.0.1:9/", "--cert", str(paths["tester-cert"]),
        "--key", str(paths["tester-key"]), "--ca", str(paths["ca"]),
        "--register", str(paths["register"]), "--sut", str(kit.sut_participant.guid),
        "--timeout", "2",
    ]  # fmt: skip
    assert CliRunner().invoke(_group(), [*base, "--only", "X.99"]).exit_code == 2
    assert CliRunner().invoke(_group(), [*base, "--only", "П.2"]).exit_code == 3
