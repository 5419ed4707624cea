"""``eintegr registry``: the participants' register from the command line.

* ``fetch URL --cache FILE`` — create or refresh the offline copy from the register's web
  service (mutual TLS: ``--cert``/``--key`` or ``--pkcs12``; the register's CA ``--ca``);
  incremental after the first time, ``--full`` for a full load;
* ``show --cache FILE`` — the participants in the copy and how fresh it is;
* ``lookup`` — one participant by ``--guid``, ``--eik``, ``--serial`` or the serial of a
  ``--certificate``, from the copy (``--cache``) or asking the register (``--url``);
* ``serve FILE`` — a local register for tests and demos, fed from a JSON or XML register
  file (re-read when it changes), over HTTPS with an optional client-certificate check.

Passwords come from environment variables only (``--password-env``). Exit status: 0 success,
1 no such participant, 2 usage error, 3 unreadable input, network failure or internal error.
Register the commands with :func:`register`.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from eintegr.cli.validate import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE
from eintegr.errors import EintegrError, RegistryError
from eintegr.registry.cache import CachedRegister
from eintegr.registry.client import OnlineRegister, RegistryClient
from eintegr.registry.files import participant_to_json
from eintegr.registry.model import Participant, Register
from eintegr.registry.server import RegisterApp
from eintegr.signing.pki import Issued
from eintegr.transport.asgi_server import CertificateSource, serve_forever, server_ssl_context

__all__ = ["register", "registry_group"]

_F = TypeVar("_F", bound=Callable[..., Any])
_FILE = click.Path(dir_okay=False, path_type=Path)


def register(group: click.Group) -> None:
    """Add ``registry`` (``fetch``, ``show``, ``lookup``, ``serve``) to the command group."""
    group.add_command(registry_group)


def _text(lang: str, en: str, bg: str) -> str:
    return bg if lang == "bg" else en


def _fail(code: int, message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _guarded(command: str) -> Callable[[_F], _F]:
    """Typed errors become one line and exit 3; anything else too, as an internal error."""

    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            lang = kwargs.get("lang", "en")
            try:
                return function(*args, **kwargs)
            except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
                raise
            except EintegrError as exc:
                _fail(
                    EXIT_UNREADABLE,
                    f"eintegr registry {command}: {exc.code}: {exc.localized(lang)}",
                )
            except OSError as exc:
                _fail(EXIT_UNREADABLE, f"eintegr registry {command}: {exc.strerror or exc}")
            except Exception as exc:  # never a bare traceback
                _fail(EXIT_UNREADABLE, f"eintegr registry {command}: internal error: {exc!r}")

        return wrapper  # type: ignore[return-value]

    return decorate


_LANG = click.option(
    "--lang", type=click.Choice(["en", "bg"]), default="en", show_default=True,
    help="Language of the messages.",
)  # fmt: skip
_FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text",
    show_default=True, help="Output format.",
)  # fmt: skip


def _credentials(function: _F) -> _F:
    options = [
        click.option("--cert", type=_FILE, help="PEM transport certificate (chain may follow)."),
        click.option("--key", type=_FILE, help="PEM private key of --cert."),
        click.option("--pkcs12", type=_FILE, help="PKCS#12 bundle instead of --cert/--key."),
        click.option(
            "--password-env", metavar="VAR", help="Environment variable with the key's password."
        ),
        click.option("--ca", type=_FILE, help="PEM CA certificates the register's must chain to."),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.1),
            default=30.0,
            show_default=True,
            help="Seconds for connecting, each read, and the whole call.",
        ),
        click.option("--allow-http", is_flag=True, help="Accept a plain http:// URL (demos)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _password(variable: str | None, lang: str) -> bytes | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise click.UsageError(
            _text(
                lang,
                f"the environment variable {variable} is not set",
                f"променливата на средата {variable} не е зададена",
            )
        )
    return value.encode("utf-8")


def _issued(key: Any, certificate: x509.Certificate, chain: list[x509.Certificate]) -> Issued:
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise click.UsageError("the private key must be RSA or EC")
    return Issued(key, certificate, tuple(chain))


def _load_credentials(
    cert: Path | None,
    key: Path | None,
    bundle: Path | None,
    password_env: str | None,
    lang: str,
) -> CertificateSource | None:
    if bundle is not None and (cert is not None or key is not None):
        raise click.UsageError("give either --cert/--key or --pkcs12, not both")
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")
    password = _password(password_env, lang)
    if bundle is not None:
        private, leaf, extra = pkcs12.load_key_and_certificates(bundle.read_bytes(), password)
        if private is None or leaf is None:
            raise click.UsageError(f"{bundle} holds no key and certificate")
        return _issued(private, leaf, list(extra))
    if cert is None or key is None:
        return None
    if password is None:
        return (cert, key)
    private = serialization.load_pem_private_key(key.read_bytes(), password)
    certificates = x509.load_pem_x509_certificates(cert.read_bytes())
    return _issued(private, certificates[0], certificates[1:])


def _client(
    url: str,
    cert: Path | None,
    key: Path | None,
    pkcs12_file: Path | None,
    password_env: str | None,
    ca: Path | None,
    timeout: float,
    allow_http: bool,
    lang: str,
) -> RegistryClient:
    credentials = _load_credentials(cert, key, pkcs12_file, password_env, lang)
    try:
        return RegistryClient(
            url,
            client_certificate=credentials,
            verify=ca if ca is not None else True,
            timeout=timeout,
            allow_http=allow_http,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@click.group("registry")
def registry_group() -> None:
    """The participants' register: offline copy, look-ups, a local register."""


# --- fetch ----------------------------------------------------------------------------------


@registry_group.command("fetch")
@click.argument("url")
@click.option("--cache", "cache_path", type=_FILE, required=True, help="The offline copy.")
@click.option("--full", is_flag=True, help="Load the whole register (GetAllRecords).")
@_credentials
@_FORMAT
@_LANG
@_guarded("fetch")
def fetch_command(
    url: str,
    cache_path: Path,
    full: bool,
    cert: Path | None,
    key: Path | None,
    pkcs12: Path | None,
    password_env: str | None,
    ca: Path | None,
    timeout: float,
    allow_http: bool,
    output_format: str,
    lang: str,
) -> None:
    """Create or refresh the offline copy --cache from the register at URL."""
    cache = CachedRegister(cache_path)
    with _client(url, cert, key, pkcs12, password_env, ca, timeout, allow_http, lang) as client:
        result = cache.refresh(client, full=full)
    if output_format == "json":
        document = {
            "cache": str(cache_path),
            "source": url,
            "full": result.full,
            "since": _when(result.since),
            "received": result.received,
            "changed": result.changed,
            "total": result.total,
            "last_change": _when(result.last_change),
            "rejected": [
                {"index": i.index, "code": i.code, "guid": i.guid, "message": i.localized(lang)}
                for i in result.rejected
            ],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        kind = (
            _text(lang, "full load", "пълно зареждане")
            if result.full
            else _text(lang, f"changes since {result.since}", f"промени след {result.since}")
        )
        click.echo(
            _text(
                lang,
                f"{cache_path}: {kind}; {result.received} received, {result.changed} changed, "
                f"{result.total} participants; LastChange {result.last_change}",
                f"{cache_path}: {kind}; получени {result.received}, променени {result.changed}, "
                f"общо {result.total} участници; последна промяна {result.last_change}",
            )
        )
        for issue in result.rejected:
            click.echo(f"  {issue.code} #{issue.index} {issue.guid or ''}: {issue.localized(lang)}")
    sys.exit(EXIT_OK)


# --- show -----------------------------------------------------------------------------------


def _open_cache(path: Path, lang: str) -> CachedRegister:
    if not path.exists():
        _fail(
            EXIT_UNREADABLE,
            _text(lang, f"no register copy at {path}", f"няма копие на регистъра в {path}"),
        )
    return CachedRegister(path)


def _endpoint(participant: Participant) -> str | None:
    try:
        return participant.endpoint
    except RegistryError:
        return None


@registry_group.command("show")
@click.option("--cache", "cache_path", type=_FILE, required=True, help="The offline copy.")
@_FORMAT
@_LANG
@_guarded("show")
def show_command(cache_path: Path, output_format: str, lang: str) -> None:
    """List the participants in the offline copy --cache, and how fresh it is."""
    cache = _open_cache(cache_path, lang)
    if output_format == "json":
        document = {
            "cache": str(cache_path),
            "source": cache.source,
            "refreshed_at": _when(cache.refreshed_at),
            "stale": cache.is_stale,
            "last_change": _when(cache.last_change),
            "participants": [
                {**participant_to_json(p), "endpoint": _endpoint(p)} for p in cache.participants()
            ],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        sys.exit(EXIT_OK)
    stale = _text(lang, "stale", "остаряло") if cache.is_stale else _text(lang, "fresh", "актуално")
    click.echo(
        _text(
            lang,
            f"{cache_path}: {len(cache)} participants from {cache.source}, refreshed "
            f"{cache.refreshed_at} ({stale}), LastChange {cache.last_change}",
            f"{cache_path}: {len(cache)} участници от {cache.source}, обновено "
            f"{cache.refreshed_at} ({stale}), последна промяна {cache.last_change}",
        )
    )
    for p in cache.participants():
        click.echo(
            f"{p.guid}  {p.eik:<13}  {p.status.value:<8}  {p.certificate_serial}  "
            f"{_endpoint(p) or '-'}  {p.name}"
        )
    sys.exit(EXIT_OK)


# --- lookup ---------------------------------------------------------------------------------


def _describe(participant: Participant, lang: str) -> str:
    lines = [
        f"{participant.name}",
        f"  GUID: {participant.guid}",
        f"  {_text(lang, 'EIK', 'ЕИК')}: {participant.eik}",
        f"  {_text(lang, 'status', 'статус')}: {participant.status.value}",
        f"  {_text(lang, 'certificate serial', 'сериен номер на сертификата')}: "
        f"{participant.certificate_serial}",
        f"  {_text(lang, 'endpoint', 'крайна точка')}: {_endpoint(participant) or '-'}",
        f"  {_text(lang, 'last change', 'последна промяна')}: {participant.last_change}",
    ]
    if participant.parent_guid is not None:
        lines.append(f"  {_text(lang, 'parent', 'родител')}: {participant.parent_guid}")
    for service in participant.services:
        lines.append(f"  service {service.guid} {service.status.value} {service.uri}")
    return "\n".join(lines)


@registry_group.command("lookup")
@click.option("--cache", "cache_path", type=_FILE, help="Look up in this offline copy …")
@click.option("--url", help="… or ask the register at this URL.")
@click.option("--guid", help="The participant's GUID.")
@click.option("--eik", help="The participant's ЕИК/БУЛСТАТ.")
@click.option("--serial", help="The serial number (hex) of its transport certificate.")
@click.option("--certificate", type=_FILE, help="A PEM transport certificate: look up its serial.")
@_credentials
@_FORMAT
@_LANG
@_guarded("lookup")
def lookup_command(
    cache_path: Path | None,
    url: str | None,
    guid: str | None,
    eik: str | None,
    serial: str | None,
    certificate: Path | None,
    cert: Path | None,
    key: Path | None,
    pkcs12: Path | None,
    password_env: str | None,
    ca: Path | None,
    timeout: float,
    allow_http: bool,
    output_format: str,
    lang: str,
) -> None:
    """Find one participant by --guid, --eik, --serial or --certificate (exit 1: none)."""
    if (cache_path is None) == (url is None):
        raise click.UsageError("give exactly one of --cache and --url")
    keys = [k for k in (guid, eik, serial, certificate) if k is not None]
    if len(keys) != 1:
        raise click.UsageError("give exactly one of --guid, --eik, --serial and --certificate")
    if certificate is not None:
        serial = format(x509.load_pem_x509_certificate(certificate.read_bytes()).serial_number, "x")
    client: RegistryClient | None = None
    source: Register
    if url is not None:
        client = _client(url, cert, key, pkcs12, password_env, ca, timeout, allow_http, lang)
        source = OnlineRegister(client)
    else:
        assert cache_path is not None
        source = _open_cache(cache_path, lang)
    try:
        if guid is not None:
            found = source.by_guid(guid)
        elif eik is not None:
            found = source.by_eik(eik)
        else:
            assert serial is not None
            found = source.by_certificate_serial(serial)
    except RegistryError as exc:
        if exc.code not in {"REGISTRY-UNKNOWN"}:
            raise
        _fail(EXIT_INVALID, f"eintegr registry lookup: {exc.code}: {exc.localized(lang)}")
    finally:
        if client is not None:
            client.close()
    if output_format == "json":
        document = {**participant_to_json(found), "endpoint": _endpoint(found)}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        click.echo(_describe(found, lang))
    sys.exit(EXIT_OK)


# --- serve ----------------------------------------------------------------------------------


@registry_group.command("serve")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8443, show_default=True)
@click.option("--cert", type=_FILE, help="PEM server certificate (chain may follow).")
@click.option("--key", type=_FILE, help="PEM private key of --cert.")
@click.option("--client-ca", type=_FILE, help="Ask for client certificates issued by these CAs.")
@click.option("--require-client-cert", is_flag=True, help="Refuse clients without one.")
@click.option(
    "--style", type=click.Choice(["multiref", "inline"]), default="multiref", show_default=True,
    help="SOAP encoding of the answers (.NET/Axis multi-ref, or inline as PHP servers).",
)  # fmt: skip
@_LANG
@_guarded("serve")
def serve_command(
    source: Path,
    host: str,
    port: int,
    cert: Path | None,
    key: Path | None,
    client_ca: Path | None,
    require_client_cert: bool,
    style: str,
    lang: str,
) -> None:
    """Serve a local register from SOURCE (JSON or EGovMessageDir XML) until interrupted."""
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")
    if cert is None and (client_ca is not None or require_client_cert):
        raise click.UsageError("client certificates need TLS: give --cert and --key")
    if require_client_cert and client_ca is None:
        raise click.UsageError("--require-client-cert needs --client-ca")
    app = RegisterApp.from_file(source, style="inline" if style == "inline" else "multiref")
    context = None
    if cert is not None and key is not None:
        context = server_ssl_context(
            (cert, key), client_ca=client_ca, require_client_certificate=require_client_cert
        )
    scheme = "https" if context is not None else "http"
    click.echo(
        _text(
            lang,
            f"serving the register {source} on {scheme}://{host}:{port}/ (Ctrl+C stops)",
            f"регистърът {source} е достъпен на {scheme}://{host}:{port}/ (Ctrl+C спира)",
        ),
        err=True,
    )
    serve_forever(app, host=host, port=port, ssl_context=context, log_level="warning")
    sys.exit(EXIT_OK)
