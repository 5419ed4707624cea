"""``eintegr edelivery send|list|get`` against the local server."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from eintegr.cli.edelivery import edelivery_group, register

from .conftest import AGENCY_EIK, CITIZEN_EGN, Pki, Running


@pytest.fixture
def keys(pki: Pki, tmp_path: Path) -> dict[str, Path]:
    dms = pki.dms.write(tmp_path / "dms", "dms")
    agency = pki.agency.write(tmp_path / "agency", "agency")
    return {
        "dms-key": dms["key"],
        "dms-cert": dms["certificate"],
        "agency-key": agency["key"],
        "agency-cert": agency["certificate"],
    }


def _run(running: Running, keys: dict[str, Path], who: str, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    common = [
        "--url",
        running.url,
        "--key",
        str(keys[f"{who}-key"]),
        "--cert",
        str(keys[f"{who}-cert"]),
        "--ca",
        str(running.pki.ca_file),
    ]
    result = runner.invoke(edelivery_group, [*args, *common], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_send_list_get(running: Running, keys: dict[str, Path], tmp_path: Path) -> None:
    document = tmp_path / "reshenie.pdf"
    document.write_bytes(b"%PDF-1.7 decision")
    code, out, err = _run(
        running,
        keys,
        "dms",
        "send",
        str(document),
        "--to",
        AGENCY_EIK,
        "--to-type",
        "institution",
        "--subject",
        "Решение",
        "--reg-number",
        "12-34",
        "--json",
    )
    assert code == 0, err
    message_id = json.loads(out)["message_id"]

    code, out, err = _run(running, keys, "dms", "list", "--sent", "--json")
    assert code == 0, err
    listing = json.loads(out)
    assert listing["total"] == 1
    assert listing["messages"][0]["title"] == "Решение"

    code, out, err = _run(running, keys, "agency", "list", "--only-new")
    assert code == 0, err
    assert "Решение" in out
    assert "1 of 1" in err

    folder = tmp_path / "out"
    code, out, err = _run(running, keys, "agency", "get", str(message_id), "--out", str(folder))
    assert code == 0, err
    saved = list(folder.iterdir())
    assert [p.read_bytes() for p in saved] == [b"%PDF-1.7 decision"]
    assert saved[0].name.endswith("-reshenie.pdf")
    assert "written:" in out

    code, out, err = _run(running, keys, "agency", "get", str(message_id), "--out", str(folder))
    assert code == 3  # refuses to overwrite
    assert "--force" in err

    code, out, err = _run(
        running, keys, "dms", "get", str(message_id), "--sent", "--status", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["date_received"] is not None  # the agency opened it


def test_exit_statuses(running: Running, keys: dict[str, Path], tmp_path: Path) -> None:
    document = tmp_path / "a.txt"
    document.write_bytes(b"text")
    send = ["send", str(document), "--subject", "x", "--to"]
    code, _, err = _run(running, keys, "dms", *send, "7501020019")  # bad check digit
    assert code == 1
    assert "ID-EGN" in err
    code, _, err = _run(running, keys, "dms", *send, "8505051235")  # not registered
    assert code == 1
    assert "EDELIVERY-FAULT" in err
    code, _, err = _run(
        running,
        keys,
        "dms",
        "send",
        str(tmp_path / "missing.pdf"),
        "--to",
        CITIZEN_EGN,
        "--subject",
        "x",
    )
    assert code == 3
    code, _, err = _run(running, keys, "dms", "list", "--sent", "--only-new")
    assert code == 2
    runner = CliRunner()
    result = runner.invoke(edelivery_group, ["list", "--url", running.url])
    assert result.exit_code == 2  # no key
    result = runner.invoke(
        edelivery_group,
        [
            "list",
            "--url",
            running.url,
            "--key",
            str(keys["dms-key"]),
            "--cert",
            str(keys["dms-cert"]),
        ],
    )
    assert result.exit_code == 3  # the test CA is not in the system store: TLS fails
    assert "EDELIVERY-NETWORK" in result.stderr


def test_register_adds_the_group() -> None:
    group = click.Group("eintegr")
    register(group)
    assert set(group.commands["edelivery"].commands) == {"send", "list", "get"}  # type: ignore[attr-defined]
