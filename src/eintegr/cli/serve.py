"""``eintegr serve``: run a participant's СЕОС ``Submit`` endpoint over mutual TLS.

::

    eintegr serve --cert transport.crt.pem --key transport.key.pem --ca participants-ca.pem \\
        --register register.json --participant "{…GUID…}" --port 8443 --inbox inbox/

Every message goes through the full receiving pipeline (П.1–П.9, see
:mod:`eintegr.transport.receiving`); accepted messages are stored atomically as
``<inbox>/<MessageGUID>.xml`` **before** the sender gets its (empty) answer. The server is
uvicorn with TLS 1.2+; a client certificate is asked for and verified against ``--ca`` (a
request without one is answered with the П.1 fault). Behind a TLS-terminating reverse proxy
use ``--plain-http --trusted-proxy ADDRESS`` (the proxy forwards the verified client
certificate in ``--client-cert-header``). Stop with Ctrl+C or SIGTERM (graceful).

Register the command with :func:`register`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click
from cryptography.hazmat.primitives import serialization

from eintegr.cli.validate import EXIT_UNREADABLE
from eintegr.errors import EintegrError
from eintegr.identifiers import Guid
from eintegr.registry.model import Participant, Register, StaticRegister
from eintegr.signing import load_certificates, load_pem_signer
from eintegr.transport.asgi_server import CertificateSource, server_ssl_context
from eintegr.transport.base import InMemorySeenMessages
from eintegr.transport.receiving import DEFAULT_MAX_MESSAGE_BYTES, FolderHandler, ReceivingPipeline
from eintegr.transport.server import ForwardedCertificate, SubmitApp, run_submit_server

__all__ = ["load_register", "register", "serve_command"]


_SEEN_ENTRIES = 1_000_000


def register(group: click.Group) -> None:
    """Add ``serve`` to the ``eintegr`` command group."""
    group.add_command(serve_command)


def _fail(message: str) -> NoReturn:
    click.echo(f"eintegr serve: {message}", err=True)
    sys.exit(EXIT_UNREADABLE)


def load_register(path: Path) -> Register:
    """A register from a register file (JSON ``eintegr-register/1`` or ``EGovMessageDir`` XML).

    :raises RegistryError: the file cannot be read (``REGISTRY-FILE``).
    """
    from eintegr.registry.files import load_directory  # the register engineer's reader

    return StaticRegister(load_directory(path).participants)


def _served(register: Register, guids: Sequence[str]) -> list[Participant]:
    served: list[Participant] = []
    for text in guids:
        try:
            served.append(register.by_guid(Guid.parse_lenient(text)))
        except (EintegrError, ValueError) as error:
            raise click.BadParameter(str(error), param_hint="--participant") from None
    return served


@click.command("serve")
@click.option(
    "--cert",
    "cert_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Our transport certificate (PEM; intermediates may follow it).",
)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Its private key (PEM).",
)
@click.option(
    "--key-password-env",
    metavar="VARIABLE",
    help="The environment variable holding the key's password (never on the command line).",
)
@click.option(
    "--ca",
    "ca_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA certificates (PEM) that participants' transport certificates chain to.",
)
@click.option(
    "--register",
    "register_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The participants' register file (JSON eintegr-register/1 or EGovMessageDir XML).",
)
@click.option(
    "--participant",
    "participants",
    required=True,
    multiple=True,
    metavar="GUID",
    help="A participant served by this endpoint (repeatable).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8443, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--inbox",
    default=Path("inbox"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder where accepted messages are stored (atomically) before answering.",
)
@click.option(
    "--max-bytes",
    default=DEFAULT_MAX_MESSAGE_BYTES,
    show_default=True,
    type=click.IntRange(1),
    help="Largest accepted message; the request body may be twice as large plus 1 MiB.",
)
@click.option("--body-timeout", default=60.0, show_default=True, type=click.FloatRange(0.1))
@click.option("--head-timeout", default=20.0, show_default=True, type=click.FloatRange(0.1))
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1))
@click.option(
    "--inline-bytes",
    default=256 * 1024,
    show_default=True,
    type=click.IntRange(0),
    help="Messages up to this size are checked and stored on the event loop, larger ones in "
    "worker threads (0: all in threads, e.g. for an inbox on a slow or network disk).",
)
@click.option(
    "--limit-concurrency",
    type=click.IntRange(1),
    help="Answer 503 beyond this many concurrent connections and requests.",
)
@click.option(
    "--schemas",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of official СЕОС schemas to validate against instead of eintegr's own.",
)
@click.option("--allow-sha1", is_flag=True, help="Accept RSA-SHA1 signatures (old deployments).")
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="A reverse proxy (IP or network) whose client-certificate header is read (repeatable).",
)
@click.option(
    "--client-cert-header",
    default="X-SSL-Client-Cert",
    show_default=True,
    help="The proxy's header with the URL-encoded PEM client certificate.",
)
@click.option(
    "--plain-http",
    is_flag=True,
    help="Serve HTTP without TLS (only behind a TLS-terminating proxy; needs --trusted-proxy).",
)
@click.option("--public-url", help="The endpoint's public address, for the WSDL.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option("--no-access-log", is_flag=True, help="Do not log every request.")
def serve_command(
    cert_file: Path,
    key_file: Path,
    key_password_env: str | None,
    ca_file: Path,
    register_file: Path,
    participants: tuple[str, ...],
    host: str,
    port: int,
    inbox: Path,
    max_bytes: int,
    body_timeout: float,
    head_timeout: float,
    threads: int,
    inline_bytes: int,
    limit_concurrency: int | None,
    schemas: Path | None,
    allow_sha1: bool,
    trusted_proxies: tuple[str, ...],
    client_cert_header: str,
    plain_http: bool,
    public_url: str | None,
    log_level: str,
    no_access_log: bool,
) -> None:
    """Run the СЕОС Submit endpoint (mutual TLS) for the given participant(s)."""
    if plain_http and not trusted_proxies:
        raise click.UsageError("--plain-http needs --trusted-proxy (the TLS-terminating proxy)")
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    password = None
    if key_password_env is not None:
        value = os.environ.get(key_password_env)
        if value is None:
            raise click.UsageError(f"the environment variable {key_password_env} is not set")
        password = value.encode("utf-8")
    try:
        signer = load_pem_signer(key_file, cert_file, password=password)
        roots = load_certificates(ca_file)
        participants_register = load_register(register_file)
        forwarded = (
            ForwardedCertificate(trusted_proxies, header=client_cert_header)
            if trusted_proxies
            else None
        )
    except (EintegrError, OSError) as error:
        _fail(str(error))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--trusted-proxy") from None
    served = _served(participants_register, participants)
    for participant in served:
        if not participant.holds_certificate(signer.certificate):
            _fail(
                f"--cert (serial {signer.certificate.serial_number:x}) is not the transport "
                f"certificate registered for {participant.guid} "
                f"(serial {participant.certificate_serial})"
            )
    try:
        handler = FolderHandler(inbox)
        # Duplicate detection (П.9) survives a restart for the messages still in the inbox.
        seen = InMemorySeenMessages(max_entries=_SEEN_ENTRIES)
        for guid in handler.stored():
            seen.add_if_new(guid)
        pipeline = ReceivingPipeline(
            served,
            participants_register,
            handler=handler,
            seen=seen,
            signer=signer,
            # Behind a proxy the chain is checked here again; with TLS the handshake does it.
            client_roots=roots if plain_http else (),
            max_bytes=max_bytes,
            allow_sha1=allow_sha1,
            schemas=schemas,
        )
        app = SubmitApp(
            pipeline,
            max_body_bytes=2 * max_bytes + 1024 * 1024,
            body_timeout=body_timeout,
            forwarded_certificate=forwarded,
            public_url=public_url,
            max_threads=threads,
            # The register and `seen` are in memory, the inbox is a local folder: small
            # messages are handled on the event loop, without a hand-off to a thread.
            inline_check_bytes=inline_bytes,
            inline_handler=True,
        )
        source: CertificateSource = (
            (cert_file, key_file) if password is None else _KeyFile(cert_file, key_file, password)
        )
        context = None if plain_http else server_ssl_context(source, client_ca=ca_file)
    except (EintegrError, OSError) as error:
        _fail(str(error))
    scheme = "http" if context is None else "https"
    click.echo(
        f"eintegr serve: {scheme}://{host}:{port}/ for "
        + ", ".join(f"{p.guid} ({p.name})" for p in served)
        + f"; inbox {inbox}",
        err=True,
    )
    run_submit_server(
        app,
        ssl_context=context,
        host=host,
        port=port,
        head_timeout=head_timeout,
        limit_concurrency=limit_concurrency,
        log_level=log_level,
        access_log=not no_access_log,
    )


class _KeyFile:
    """A :class:`~eintegr.transport.asgi_server.PemMaterial` over a password-protected key."""

    def __init__(self, cert_file: Path, key_file: Path, password: bytes) -> None:
        self._cert = cert_file.read_bytes()
        self._key = key_file.read_bytes()
        self._password = password

    def key_pem(self, password: bytes | None = None) -> bytes:
        key = serialization.load_pem_private_key(self._key, self._password)
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def certificate_pem(self) -> bytes:
        return self._cert

    def chain_pem(self) -> bytes:
        return b""
