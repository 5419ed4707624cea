"""``eintegr serve``: a real process over mutual TLS on 127.0.0.1, and its usage errors."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from eintegr.cli.serve import serve_command
from eintegr.identifiers import Guid
from eintegr.registry.files import save_directory
from eintegr.registry.soap import Directory
from eintegr.transport import SUBMIT_ACTION, build_submit_request
from eintegr.transport.asgi_server import load_certificate_chain
from eintegr.transport.soap import parse_envelope
from tests.transport.test_receiving import World, make_world

HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": SUBMIT_ACTION}


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def files(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("serve")
    paths = world.bob.key.write(folder, "bob")
    (folder / "ca.pem").write_bytes(world.ca.certificate_pem())
    save_directory(Directory(tuple(world.register.participants())), folder / "register.json")
    return {
        "cert": paths["certificate"],
        "key": paths["key"],
        "ca": folder / "ca.pem",
        "register": folder / "register.json",
        "inbox": folder / "inbox",
    }


def _arguments(files: dict[str, Path], participant: Guid | str, *extra: str) -> list[str]:
    return [
        "--cert", str(files["cert"]),
        "--key", str(files["key"]),
        "--ca", str(files["ca"]),
        "--register", str(files["register"]),
        "--participant", str(participant),
        "--inbox", str(files["inbox"]),
        *extra,
    ]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(world: World, files: dict[str, Path]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``eintegr serve`` in a child process on a free port, until the block ends."""
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "import sys; from eintegr.cli.serve import serve_command; serve_command(sys.argv[1:])",
        *_arguments(
            files, world.bob.participant.guid, "--port", str(port), "--log-level", "warning"
        ),
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    url = f"https://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                with httpx.Client(verify=_context(world), timeout=2) as client:
                    if client.get(url + "?wsdl").status_code == 200:
                        break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "eintegr serve did not start"
            time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def _context(world: World) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=world.ca.certificate_pem().decode("ascii"))
    load_certificate_chain(context, world.alice.key)
    return context


def test_serve_accepts_stores_refuses_stops_and_remembers(
    world: World, files: dict[str, Path]
) -> None:
    data = world.signed()
    with serving(world, files) as (url, process):
        with httpx.Client(verify=_context(world), timeout=10) as client:
            accepted = client.post(url, content=build_submit_request(data), headers=HEADERS)
            unsigned = client.post(
                url, content=build_submit_request(world.message().to_xml()), headers=HEADERS
            )
        process.send_signal(signal.SIGTERM)
        # uvicorn stops gracefully, then re-raises the signal (the conventional exit status)
        assert process.wait(10) in (0, -signal.SIGTERM)
    assert accepted.status_code == 200
    assert len(parse_envelope(accepted.content).body_element) == 0  # the empty answer
    stored = list(files["inbox"].glob("*.xml"))
    assert [p.read_bytes() for p in stored] == [data]
    assert unsigned.status_code == 500
    fault = parse_envelope(unsigned.content).fault
    assert fault is not None
    assert fault.string.startswith("П.7: ")
    with serving(world, files) as (url, _), httpx.Client(verify=_context(world)) as client:
        again = client.post(url, content=build_submit_request(data), headers=HEADERS)
    duplicate = parse_envelope(again.content).fault
    assert duplicate is not None
    assert duplicate.string.startswith("П.9: ")  # the inbox seeds the duplicate detection


def test_plain_http_needs_a_trusted_proxy(world: World, files: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        serve_command, _arguments(files, world.bob.participant.guid, "--plain-http")
    )
    assert result.exit_code == 2
    assert "--trusted-proxy" in result.output


def test_the_certificate_must_be_the_participants(world: World, files: dict[str, Path]) -> None:
    result = CliRunner().invoke(serve_command, _arguments(files, world.alice.participant.guid))
    assert result.exit_code == 3
    assert "is not the transport certificate registered" in result.output


def test_an_unknown_participant(world: World, files: dict[str, Path]) -> None:
    result = CliRunner().invoke(serve_command, _arguments(files, world.eve.participant.guid))
    assert result.exit_code == 2
    assert "--participant" in result.output


def test_an_encrypted_key(world: World, tmp_path: Path) -> None:
    from eintegr.cli.serve import _KeyFile  # the password-protected key of --key-password-env
    from eintegr.transport.asgi_server import server_ssl_context

    paths = world.bob.key.write(tmp_path, "bob", password=b"secret")
    material = _KeyFile(paths["certificate"], paths["key"], b"secret")
    context = server_ssl_context(material, client_ca=[world.ca.certificate])
    assert context.verify_mode.name == "CERT_OPTIONAL"
    assert material.chain_pem() == b""


def test_a_missing_password_variable(world: World, files: dict[str, Path]) -> None:
    arguments = _arguments(files, world.bob.participant.guid, "--key-password-env", "NO_SUCH_VAR")
    result = CliRunner().invoke(serve_command, arguments, env={"NO_SUCH_VAR": None})
    assert result.exit_code == 2
    assert "NO_SUCH_VAR" in result.output
