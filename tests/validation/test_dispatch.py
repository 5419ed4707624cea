"""``validate`` and ``eintegr validate`` recognise the document family by the root namespace."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from eintegr.cli import cli
from eintegr.validation import CODES, validate

RIO_VECTOR = Path(__file__).parent.parent / "rio" / "vectors" / "portal-application.xml"


def test_rio_documents_are_validated_as_rio() -> None:
    report = validate(RIO_VECTOR)
    assert report.document_type is not None
    assert report.document_type.startswith("rio:")
    assert all(issue.code in CODES for issue in report)
    assert not any(issue.code == "DOC-UNKNOWN" for issue in report)


def test_a_broken_rio_document_gets_rio_codes(tmp_path: Path) -> None:
    data = RIO_VECTOR.read_bytes()
    root_end = data.index(b">", data.index(b"<", data.index(b"?>") + 2)) + 1
    broken = data[:root_end] + b"<Unexpected/>" + data[root_end:]
    path = tmp_path / "broken.xml"
    path.write_bytes(broken)
    report = validate(path)
    assert not report.ok
    assert {issue.code for issue in report.errors} == {"RIO-XSD"}


def test_cli_reports_the_family(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--format", "json", str(RIO_VECTOR)])
    entry = json.loads(result.output)["files"][0]
    assert entry["document_type"].startswith("rio:")
    assert result.exit_code == (0 if entry["valid"] else 1)
