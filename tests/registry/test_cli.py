"""``eintegr registry fetch / show / lookup / serve`` against a register on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.serialization import pkcs12

from eintegr.cli.registry import register
from eintegr.registry.client import RegistryClient
from eintegr.registry.files import save_directory
from eintegr.registry.soap import Directory
from tests.registry.conftest import ALPHA_GUID, BETA_GUID, Pki, RunningRegister

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app() -> click.Group:
    group = click.Group("eintegr")
    register(group)
    return group


@pytest.fixture(scope="module")
def files(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("credentials")
    written = pki.alpha.write(folder, "alpha")
    encrypted = pki.beta.write(folder, "beta", password=b"s3cret")
    (folder / "ca.pem").write_bytes(pki.ca.certificate_pem())
    (folder / "foreign-ca.pem").write_bytes(pki.foreign_ca.certificate_pem())
    bundle = folder / "alpha.p12"
    bundle.write_bytes(pki.alpha.pkcs12(b"p12-password"))
    return {
        "cert": written["certificate"],
        "key": written["key"],
        "beta_cert": encrypted["certificate"],
        "beta_key": encrypted["key"],
        "ca": folder / "ca.pem",
        "foreign_ca": folder / "foreign-ca.pem",
        "p12": bundle,
    }


def invoke(app: click.Group, *args: object, **env: str) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=env or None)


def test_fetch_show_and_lookup(
    app: click.Group, register: RunningRegister, files: dict[str, Path], tmp_path: Path, pki: Pki
) -> None:
    cache = tmp_path / "cache.json"
    tls = ["--cert", files["cert"], "--key", files["key"], "--ca", files["ca"]]
    first = invoke(app, "registry", "fetch", register.url, "--cache", cache, *tls)
    assert first.exit_code == 0, first.output + first.stderr
    assert "full load" in first.output
    assert "3 participants" in first.output

    again = invoke(
        app, "registry", "fetch", register.url, "--cache", cache, *tls, "--format", "json",
        "--lang", "bg",
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    report = json.loads(again.output)
    assert report["full"] is False
    assert report["since"] is not None
    assert report["total"] == 3

    shown = invoke(app, "registry", "show", "--cache", cache)
    assert shown.exit_code == 0, shown.stderr
    assert str(ALPHA_GUID) in shown.output
    assert "https://alpha.example.bg:8443/Submit" in shown.output
    shown_json = json.loads(
        invoke(app, "registry", "show", "--cache", cache, "--format", "json").output
    )
    assert shown_json["stale"] is False
    assert len(shown_json["participants"]) == 3

    found = invoke(app, "registry", "lookup", "--cache", cache, "--guid", str(BETA_GUID))
    assert found.exit_code == 0, found.stderr
    assert "Агенция Бета" in found.output
    by_certificate = invoke(
        app,
        "registry",
        "lookup",
        "--cache",
        cache,
        "--certificate",
        files["cert"],
        "--format",
        "json",
    )
    assert by_certificate.exit_code == 0, by_certificate.stderr
    assert json.loads(by_certificate.output)["guid"] == str(ALPHA_GUID)
    missing = invoke(
        app, "registry", "lookup", "--cache", cache, "--eik", "000695089", "--lang", "bg"
    )
    assert missing.exit_code == 1
    assert "REGISTRY-UNKNOWN" in missing.stderr


def test_online_lookup_with_an_encrypted_key_and_pkcs12(
    app: click.Group, register: RunningRegister, files: dict[str, Path], tmp_path: Path
) -> None:
    online = invoke(
        app, "registry", "lookup", "--url", register.url, "--eik", "130277958",
        "--cert", files["beta_cert"], "--key", files["beta_key"], "--password-env", "KEY_PASSWORD",
        "--ca", files["ca"], KEY_PASSWORD="s3cret",
    )  # fmt: skip
    assert online.exit_code == 0, online.stderr
    assert str(BETA_GUID) in online.output
    bundle = invoke(
        app, "registry", "fetch", register.url, "--cache", tmp_path / "c.json",
        "--pkcs12", files["p12"], "--password-env", "P12", "--ca", files["ca"], P12="p12-password",
    )  # fmt: skip
    assert bundle.exit_code == 0, bundle.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["fetch", "{url}", "--cache", "{tmp}/c.json", "--cert", "{cert}"], 2),
        (["fetch", "{url}", "--cache", "{tmp}/c.json", "--password-env", "NOPE_UNSET"], 2),
        (["fetch", "http://127.0.0.1:1/", "--cache", "{tmp}/c.json"], 2),
        (["fetch", "{url}", "--cache", "{tmp}/c.json", "--cert", "{cert}", "--key", "{key}",
          "--ca", "{foreign_ca}"], 3),
        (["fetch", "{url}", "--cache", "{tmp}/c.json", "--pkcs12", "{cert}"], 3),
        (["show", "--cache", "{tmp}/missing.json"], 3),
        (["lookup", "--cache", "{tmp}/c.json", "--url", "{url}", "--guid", "x"], 2),
        (["lookup", "--cache", "{tmp}/c.json"], 2),
        (["serve", "{cert}", "--require-client-cert"], 2),
    ],
    ids=[
        "cert-without-key", "password-env-unset", "plain-http", "untrusted-register",
        "not-pkcs12", "no-cache", "cache-and-url", "no-key", "mtls-without-tls",
    ],
)  # fmt: skip
def test_failures_have_stable_exit_codes(
    app: click.Group,
    register: RunningRegister,
    files: dict[str, Path],
    tmp_path: Path,
    args: list[str],
    code: int,
) -> None:
    values = {**{k: str(v) for k, v in files.items()}, "url": register.url, "tmp": str(tmp_path)}
    result = invoke(app, "registry", *(a.format(**values) for a in args))
    assert result.exit_code == code, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_a_register_with_mutual_tls(
    directory: Directory, pki: Pki, files: dict[str, Path], tmp_path: Path
) -> None:
    source = tmp_path / "register.json"
    save_directory(directory, source)
    server_files = pki.server.write(tmp_path, "server")
    port = _free_port()
    command = [
        sys.executable, "-c",
        "import sys; from eintegr.cli.registry import registry_group; "
        "registry_group(sys.argv[1:], prog_name='eintegr registry')",
        "serve", str(source), "--port", str(port),
        "--cert", str(server_files["certificate"]), "--key", str(server_files["key"]),
        "--client-ca", str(files["ca"]), "--require-client-cert",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.communicate(timeout=5)) from None
                time.sleep(0.05)
        with RegistryClient(
            f"https://127.0.0.1:{port}/",
            client_certificate=pki.alpha,
            verify=[pki.ca.certificate],
            timeout=5,
        ) as registry:
            assert len(registry.all_records().participants) == 3
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate(timeout=5)
    # uvicorn shuts down gracefully, then re-raises SIGTERM to end like a signalled process
    assert process.returncode in {0, -signal.SIGTERM}, stderr.decode()
    assert b"serving the register" in stderr


def test_pkcs12_bundle_is_well_formed(files: dict[str, Path]) -> None:
    key, certificate, _ = pkcs12.load_key_and_certificates(
        files["p12"].read_bytes(), b"p12-password"
    )
    assert key is not None
    assert certificate is not None
