"""``eintegr demo`` and ``eintegr inspect`` (the commands the lead registers)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from eintegr.cli import demo, inspect
from eintegr.cli.demo import demo_command
from eintegr.cli.inspect import inspect_group


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(demo_command, ["--keep", str(folder)])
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_register_adds_the_commands() -> None:
    group = click.Group("eintegr")
    demo.register(group)
    inspect.register(group)
    assert set(group.commands) == {"demo", "inspect"}


def test_demo_prints_the_wire_timeline(kept: tuple[Path, str]) -> None:
    folder, output = kept
    for name in (
        "Областна администрация – Русе",
        "Община Русе",
        "MSG_DocumentRegistrationRequest",
        "MSG_DocumentStatusRequest",
        "MSG_DocumentStatusResponse  DS_WAIT_REGISTRATION",
        "MSG_DocumentStatusResponse  DS_REGISTERED",
        "MSG_DocumentStatusResponse  DS_CLOSED",
        "synchronous answer",
        "delivered after 2 attempts",
        "retry (И.8: a SOAP fault)",
    ):
        assert name in output
    assert "DS_WAIT_REGISTRATION → DS_REGISTERED → DS_CLOSED" in output
    assert {p.name for p in folder.glob("*.sqlite")} == {"oblast.sqlite", "obshtina.sqlite"}
    assert (folder / "register.json").is_file()


def test_demo_without_keep_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    result = CliRunner().invoke(demo_command, [])
    assert result.exit_code == 0, result.output
    assert "DS_CLOSED" in result.output
    assert list(tmp_path.iterdir()) == []


def test_inspect_summary_and_lists(kept: tuple[Path, str]) -> None:
    folder, _ = kept
    runner = CliRunner()
    journal = str(folder / "obshtina.sqlite")
    summary = runner.invoke(inspect_group, [journal])
    assert summary.exit_code == 0, summary.output
    assert "received/DS_CLOSED" in summary.output
    assert "out/response" in summary.output
    data = json.loads(runner.invoke(inspect_group, ["--json", journal]).output)
    assert data["documents"] == {"received/DS_CLOSED": 1}
    listed = runner.invoke(inspect_group, [journal, "messages", "--direction", "in"])
    assert "MSG_DocumentRegistrationRequest" in listed.output
    documents = json.loads(runner.invoke(inspect_group, [journal, "documents", "--json"]).output)
    guid = documents[0]["document_guid"]
    assert documents[0]["number"].startswith("94-00-")
    history = runner.invoke(inspect_group, [journal, "history", guid])
    assert "DS_REGISTERED → DS_CLOSED" in history.output
    due = runner.invoke(inspect_group, [journal, "due"])
    assert "(nothing due)" in due.output
    watched = runner.invoke(inspect_group, [journal, "watch", "--interval", "0.05"])
    assert watched.exit_code == 0
    assert "final" in watched.output


def test_inspect_one_message(kept: tuple[Path, str]) -> None:
    folder, _ = kept
    runner = CliRunner()
    journal = str(folder / "oblast.sqlite")
    out = json.loads(runner.invoke(inspect_group, [journal, "messages", "--json"]).output)
    guid = out[0]["message_guid"]
    shown = runner.invoke(inspect_group, [journal, "message", guid])
    assert "MSG_DocumentRegistrationRequest" in shown.output
    assert "delivered (доставено)" in shown.output
    raw = runner.invoke(inspect_group, [journal, "message", guid, "--raw"])
    assert "<ds:Signature" in raw.output or "Signature" in raw.output
    assert "pokana.pdf" in raw.output


def test_inspect_refusals(tmp_path: Path, kept: tuple[Path, str]) -> None:
    folder, _ = kept
    runner = CliRunner()
    missing = runner.invoke(inspect_group, [str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 3
    assert "no journal" in missing.output
    assert not (tmp_path / "none.sqlite").exists()
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"x" * 4096)
    assert runner.invoke(inspect_group, [str(bad)]).exit_code == 3
    journal = str(folder / "oblast.sqlite")
    unknown = runner.invoke(
        inspect_group, [journal, "message", "{00000000-0000-0000-0000-000000000000}"]
    )
    assert unknown.exit_code == 1
    assert runner.invoke(inspect_group, [journal, "history", "not-a-guid"]).exit_code == 2
