"""``eintegr validate``: formats, languages, exit codes, and bad input that never crashes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from eintegr.cli import cli
from tests.validation import messages as msg
from tests.validation.messages import mutate, set_text


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["validate", *map(str, args)])


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder with valid messages in nested folders (and a non-XML file that is ignored)."""
    (tmp_path / "in" / "deep").mkdir(parents=True)
    (tmp_path / "in" / "registration.xml").write_bytes(msg.registration())
    (tmp_path / "in" / "deep" / "status.xml").write_bytes(msg.status_response())
    (tmp_path / "in" / "notes.txt").write_text("not checked")
    return tmp_path / "in"


def test_valid_folder_exits_0(corpus: Path) -> None:
    result = run(corpus)
    assert result.exit_code == 0, result.output
    assert "2 files: 2 valid, 0 not valid" in result.output
    assert "seos:MSG_DocumentRegistrationRequest" in result.output


def test_invalid_file_exits_1_and_names_code_path_and_line(tmp_path: Path, corpus: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(mutate(msg.registration(), set_text("m:Header/m:MessageType", "MSG_Error")))
    result = run(corpus, bad)
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert "SEOS-TYPE /Message/Header/MessageType (line 5)" in result.output


def test_bulgarian_messages(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(mutate(msg.registration(), set_text("m:Header/m:Version", "7")))
    result = run("--lang", "bg", bad)
    assert result.exit_code == 1
    assert "версията на протокола" in result.output
    assert "1 файла: 0 валидни, 1 с грешки" in result.output


def test_json_report_shape(tmp_path: Path, corpus: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(mutate(msg.registration(), set_text("m:Header/m:MessageGUID", "x")))
    result = run("--format", "json", corpus, bad)
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert [f["valid"] for f in data["files"]] == [True, True, False]
    issue = data["files"][2]["issues"][0]
    assert set(issue) == {"code", "severity", "path", "line", "message"}
    assert issue["code"] == "П.3"
    assert issue["path"] == "/Message/Header/MessageGUID"
    assert isinstance(issue["line"], int)


def test_junit_report_is_well_formed_and_counts(tmp_path: Path, corpus: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<Message")
    missing = tmp_path / "missing.xml"
    out = tmp_path / "report.xml"
    result = run("--format", "junit", "-o", out, corpus, bad, missing)
    assert result.exit_code == 3  # an unreadable input outranks an invalid one
    suites = etree.fromstring(out.read_bytes())
    suite = suites[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases][-2:] == [str(bad), str(missing)]
    assert cases[-2].find("failure") is not None
    assert cases[-2].find("failure").get("type") == "XML-MALFORMED"  # type: ignore[union-attr]
    assert cases[-1].find("error").get("type") == "IO-UNREADABLE"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "XML-EMPTY"),
        (bytes(range(256)), "XML-MALFORMED"),
        (b"<Message><Header>", "XML-MALFORMED"),
        (b'<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><m>&x;</m>', "XML-DTD-FORBIDDEN"),
    ],
    ids=["empty", "binary", "truncated", "xxe"],
)
def test_bad_files_are_report_entries(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "x.xml"
    path.write_bytes(content)
    result = run("--format", "json", path)
    assert result.exit_code == 1
    assert json.loads(result.output)["files"][0]["issues"][0]["code"] == code


def test_huge_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    path.write_bytes(msg.registration())
    result = run("--max-bytes", "100", "--format", "json", path)
    assert result.exit_code == 1
    assert json.loads(result.output)["files"][0]["issues"][0]["code"] == "XML-TOO-LARGE"


def test_missing_and_empty_folder_exit_3(tmp_path: Path) -> None:
    assert run(tmp_path / "nope.xml").exit_code == 3
    (tmp_path / "empty").mkdir()
    result = run(tmp_path / "empty")
    assert result.exit_code == 3
    assert "no *.xml files" in result.output


def test_unreadable_file_exits_3(tmp_path: Path) -> None:
    # A path through a regular file cannot be read by anyone, root included (ENOTDIR).
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    result = run("--format", "json", blocker / "message.xml")
    assert result.exit_code == 3
    issue = json.loads(result.output)["files"][0]["issues"][0]
    assert issue["code"] == "IO-UNREADABLE"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run().exit_code == 2
    assert run("--format", "yaml", tmp_path).exit_code == 2
    assert run("--schemas", tmp_path / "absent", tmp_path).exit_code == 2


def test_strict_turns_warnings_into_failures(tmp_path: Path) -> None:
    path = tmp_path / "w.xml"
    path.write_bytes(msg.error(with_guid=False))
    assert run(path).exit_code == 0
    assert run("--strict", path).exit_code == 1


def test_official_schema_folder(seos_official_schemas: Path, corpus: Path) -> None:
    assert run("--schemas", seos_official_schemas, corpus).exit_code == 0


def test_unloadable_schema_folder_exits_3(tmp_path: Path, corpus: Path) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "broken.xsd").write_text("<not a schema")
    result = run("--schemas", schemas, corpus)
    assert result.exit_code == 3
    assert "Traceback" not in result.output


def test_console_script_runs_in_a_subprocess(corpus: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "eintegr", "validate", "--format", "json", str(corpus)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["files"]) == 2
