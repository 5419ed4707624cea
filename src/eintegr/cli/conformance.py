"""``eintegr conformance``: the compatibility procedure against a live system.

Exit codes: 0 every scenario passed (or was not applicable), 1 a scenario failed, 2 usage
error, 3 the endpoint is unreachable or an input file unreadable.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from eintegr.errors import EintegrError, RegistryError
from eintegr.registry.files import load_directory
from eintegr.registry.model import StaticRegister
from eintegr.signing.keys import load_certificates
from eintegr.signing.pki import Issued
from eintegr.testing.conformance import ConformanceReport, TesterSetup, run_receiving, select
from eintegr.testing.conformance.sending import command_hook, run_sending
from eintegr.transport.receiving import DEFAULT_MAX_MESSAGE_BYTES

__all__ = ["conformance_command", "register"]

_EXIT_FAIL, _EXIT_USAGE, _EXIT_UNREADABLE = 1, 2, 3


def _issued(cert: Path, key: Path) -> Issued:
    certificates = load_certificates(cert)
    private = load_pem_private_key(key.read_bytes(), password=None)
    return Issued(key=private, certificate=certificates[0], chain=tuple(certificates[1:]))  # type: ignore[arg-type]


def _optional(cert: Path | None, key: Path | None, what: str) -> Issued | None:
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise click.UsageError(f"--{what}-cert and --{what}-key go together")
    return _issued(cert, key)


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("conformance")
@click.option("--endpoint", required=True, help="The Submit URL of the system under test.")
@click.option("--cert", type=_FILE, required=True, help="The tester's transport certificate (PEM).")
@click.option("--key", type=_FILE, required=True, help="The tester's private key (PEM).")
@click.option("--ca", type=_FILE, required=True, help="CA certificates of the system (PEM).")
@click.option(
    "--register",
    "register_file",
    type=_FILE,
    required=True,
    help="Register file listing the system under test and the tester.",
)
@click.option("--sut", help="GUID of the system under test (default: found by --endpoint).")
@click.option("--inactive-cert", type=_FILE, help="Certificate of an inactive participant.")
@click.option("--inactive-key", type=_FILE)
@click.option("--unregistered-cert", type=_FILE, help="A trusted certificate no participant holds.")
@click.option("--unregistered-key", type=_FILE)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_MESSAGE_BYTES,
    show_default=True,
    help="The system's declared largest message.",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@click.option("--only", multiple=True, help="Run only this scenario ID (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text")
@click.option("--client-command", help="Command that makes the system send (sending scenarios).")
@click.option("--peer-host", default="127.0.0.1", show_default=True)
@click.option("--peer-port", type=click.IntRange(0, 65535), default=0, show_default=True)
def conformance_command(
    endpoint: str,
    cert: Path,
    key: Path,
    ca: Path,
    register_file: Path,
    sut: str | None,
    inactive_cert: Path | None,
    inactive_key: Path | None,
    unregistered_cert: Path | None,
    unregistered_key: Path | None,
    max_bytes: int,
    timeout: float,
    only: tuple[str, ...],
    fmt: str,
    client_command: str | None,
    peer_host: str,
    peer_port: int,
) -> None:
    """Run the СЕОС compatibility scenarios against a live system and report each one."""
    try:
        select(list(only))
    except KeyError as error:
        raise click.UsageError(f"unknown scenario ID {error.args[0]!r}") from None
    try:
        register = StaticRegister(load_directory(register_file).participants)
        if sut is not None:
            target = register.by_guid(sut)
        else:
            matches = [
                p
                for p in register.participants()
                if p.exchange_service is not None and p.exchange_service.uri == endpoint
            ]
            if len(matches) != 1:
                raise click.UsageError(
                    "--sut is needed: the register has no single participant with --endpoint"
                )
            target = matches[0]
        setup = TesterSetup(
            sut=target,
            register=register,
            tester=_issued(cert, key),
            server_ca=tuple(load_certificates(ca)),
            inactive=_optional(inactive_cert, inactive_key, "inactive"),
            unregistered=_optional(unregistered_cert, unregistered_key, "unregistered"),
            max_bytes=max_bytes,
            timeout=timeout,
        )
        setup.tester_participant  # noqa: B018 - fail early when the tester is not registered
        report = run_receiving(setup, endpoint, only=only)
        if client_command:
            report = report.merged(
                run_sending(
                    setup,
                    command_hook(client_command, timeout=timeout * 4),
                    only=only,
                    host=peer_host,
                    port=peer_port,
                )
            )
    except click.UsageError:
        raise
    except (EintegrError, OSError, ValueError) as error:
        code = error.code if isinstance(error, EintegrError) else type(error).__name__
        click.echo(f"eintegr conformance: {code}: {error}", err=True)
        if isinstance(error, RegistryError):
            click.echo("the register must list the tester's certificate", err=True)
        sys.exit(_EXIT_UNREADABLE)
    _emit(report, fmt)
    sys.exit(0 if report.passed else _EXIT_FAIL)


def _emit(report: ConformanceReport, fmt: str) -> None:
    click.echo(report.render(fmt), nl=False)


def register(group: click.Group) -> None:
    """Add ``conformance`` to the ``eintegr`` command group."""
    group.add_command(conformance_command)
