"""``eintegr regix``: operations, calls against the local RegiX, and serve."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from eintegr.cli.regix import register, regix_group
from eintegr.messages.regix_operations.grao_nbd import PersonDataRequest
from tests.regix.conftest import COMPANY_EIK, PERSON_EGN, Pki, Regix


def _run(*args: str) -> Result:
    return CliRunner().invoke(regix_group, list(args), catch_exceptions=False)


def _call(regix: Regix, operation: str, *args: str) -> Result:
    folder = regix.pki.folder
    return _run(
        operation,
        "--url",
        regix.url,
        "--cert",
        str(folder / "client.crt.pem"),
        "--key",
        str(folder / "client.key.pem"),
        "--ca",
        str(folder / "ca.pem"),
        "--trust",
        str(folder / "signer.crt.pem"),
        "--service-uri",
        "123-4567",
        "--service-type",
        "Проверка",
        "--law-reason",
        "чл. 5 АПК",
        *args,
    )


def test_register_adds_the_group() -> None:
    group = click.Group()
    register(group)
    assert "regix" in group.commands


def test_operations_are_listed() -> None:
    text = _run("operations")
    assert text.exit_code == 0
    assert "PersonDataSearch" in text.output
    assert "Справка за актуално състояние" in text.output
    listed = json.loads(_run("operations", "--format", "json").output)
    assert [row["name"] for row in listed][:2] == ["PersonDataSearch", "PermanentAddressSearch"]
    assert all(row["typed"] for row in listed[:5])
    assert "GetValidUICInfo" in _run("--help").output


def test_a_call_prints_the_response_as_json(regix: Regix) -> None:
    result = _call(regix, "PersonDataSearch", "--arg", f"EGN={PERSON_EGN}")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["response"]["person_names"]["first_name"] == "Мария"
    assert document["warnings"] == []
    assert document["signature"]["signer"].startswith("CN=regix.example")
    assert document["operation"].endswith(".PersonDataSearch")
    sent = regix.server.requests[-1]
    assert sent.call_context.law_reason == "чл. 5 АПК"


def test_text_output_shows_warnings_and_signer(regix: Regix) -> None:
    result = _call(
        regix, "GetActualState", "--arg", f"UIC={COMPANY_EIK}", "--format", "text", "--async"
    )
    assert result.exit_code == 0, result.output
    assert "signed by CN=regix.example" in result.stdout
    assert "warning: ID-EGN: /ActualStateResponse/Details/Detail[2]/Subject/Indent" in result.stdout
    bulgarian = _call(
        regix, "GetActualState", "--arg", f"UIC={COMPANY_EIK}", "--format", "text", "--lang", "bg"
    )
    assert "подписано от" in bulgarian.stdout
    assert "предупреждение: ID-EGN" in bulgarian.stdout


def test_xml_output_and_an_argument_file(regix: Regix, tmp_path: Path) -> None:
    argument = tmp_path / "argument.xml"
    argument.write_bytes(PersonDataRequest(egn=PERSON_EGN).to_xml())
    result = _call(regix, "PersonDataSearch", "--argument", str(argument), "--format", "xml")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<PersonDataResponse")
    both = _call(regix, "PersonDataSearch", "--argument", str(argument), "--arg", "EGN=1")
    assert both.exit_code == 2


def test_register_errors_exit_with_1(regix: Regix) -> None:
    result = _call(regix, "PersonDataSearch", "--arg", "EGN=8506258485", "--no-sign")
    assert result.exit_code == 1
    assert "REGIX-HAS-ERROR" in result.stderr
    assert json.loads(result.stdout)["error"] == "Няма намерени данни"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--arg", "EGN"], "NAME=VALUE"),
        (["--arg", "Foo=1"], "no argument element Foo"),
        (["--arg", "EGN=9001011239"], "ID-EGN"),
        (["--arg", "EGN=12"], "String should match pattern"),
    ],
)
def test_bad_arguments_exit_with_2(regix: Regix, args: list[str], needle: str) -> None:
    result = _call(regix, "PersonDataSearch", *args)
    assert result.exit_code == 2
    assert needle in result.output


def test_the_call_context_is_required() -> None:
    result = _run("PersonDataSearch", "--arg", f"EGN={PERSON_EGN}")
    assert result.exit_code == 2
    assert "--service-uri" in result.output


def test_an_unreachable_regix_exits_with_3(pki: Pki) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run(
        "PersonDataSearch",
        "--arg",
        f"EGN={PERSON_EGN}",
        "--url",
        f"https://127.0.0.1:{port}/",
        "--service-uri",
        "1",
        "--service-type",
        "2",
        "--law-reason",
        "3",
        "--timeout",
        "2",
    )
    assert result.exit_code == 3
    assert "REGIX-NETWORK" in result.stderr


def test_credentials_go_together(pki: Pki) -> None:
    common = ["--service-uri", "1", "--service-type", "2", "--law-reason", "3"]
    result = _run(
        "PersonDataSearch",
        "--arg",
        f"EGN={PERSON_EGN}",
        "--cert",
        str(pki.folder / "client.crt.pem"),
        *common,
    )
    assert result.exit_code == 2
    missing = _run(
        "PersonDataSearch",
        "--arg",
        f"EGN={PERSON_EGN}",
        "--cert",
        str(pki.folder / "ca.pem"),
        "--key",
        str(pki.folder / "client.key.pem"),
        *common,
    )
    assert missing.exit_code == 3
    assert "KEY-" in missing.output
    unset = _run(
        "PersonDataSearch",
        "--arg",
        f"EGN={PERSON_EGN}",
        "--pkcs12",
        str(pki.folder / "ca.pem"),
        "--password-env",
        "EINTEGR_TEST_UNSET_VARIABLE",
        *common,
    )
    assert unset.exit_code == 2


def test_unknown_commands_name_the_operations() -> None:
    result = _run("NoSuchSearch")
    assert result.exit_code == 2
    assert "PersonDataSearch" in result.output


def test_serve_checks_its_options_and_starts(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, Any] = {}

    def fake_serve(app: Any, **options: Any) -> None:
        started.update(options, app=app)

    import eintegr.transport.asgi_server as asgi

    monkeypatch.setattr(asgi, "serve_forever", fake_serve)
    folder = pki.folder
    tls = ["--cert", str(folder / "server.crt.pem"), "--key", str(folder / "server.key.pem")]
    assert _run("serve", *tls).exit_code == 2  # neither --data nor --demo
    assert (
        _run("serve", "--demo", "--sign-cert", str(folder / "signer.crt.pem"), *tls).exit_code == 2
    )
    result = _run(
        "serve",
        "--demo",
        *tls,
        "--client-ca",
        str(folder / "ca.pem"),
        "--sign-cert",
        str(folder / "signer.crt.pem"),
        "--sign-key",
        str(folder / "signer.key.pem"),
        "--port",
        "9443",
    )
    assert result.exit_code == 0, result.output
    assert started["port"] == 9443
    assert started["app"].signer is not None
    assert "RegiXEntryPointV2.svc/basic" in result.stderr
    broken = _run(
        "serve", "--demo", "--cert", str(folder / "ca.pem"), "--key", str(folder / "ca.pem")
    )
    assert broken.exit_code == 3
