"""``eintegr regix``: RegiX look-ups from the command line, and a local RegiX for trials.

::

    eintegr regix operations
    eintegr regix PersonDataSearch --arg EGN=9001011238 \\
        --url https://127.0.0.1:8443/RegiXEntryPointV2.svc/basic \\
        --cert adm.crt.pem --key adm.key.pem --ca test-ca.pem --trust regix-signer.crt.pem \\
        --service-uri 123-4567 --service-type "Проверка" --law-reason "чл. 5, ал. 1 АПК"
    eintegr regix serve --demo --cert server.crt.pem --key server.key.pem --client-ca test-ca.pem

* ``regix OPERATION`` — call an operation (its short name or full key) on RegiX (default:
  production) or a local one; the argument from ``--arg NAME=VALUE`` (flat arguments) or
  ``--argument FILE.xml``; prints the response as JSON (default), XML or text, with the
  warnings about the register's data and who signed the result.
* ``regix operations`` — the registered operations.
* ``regix serve`` — :class:`~eintegr.testing.regix_server.RegixTestServer` over mutual TLS,
  answering from a folder (``--data``) or the built-in fictional data (``--demo``).

Passwords come from environment variables only. Exit status: 0 success, 1 RegiX answered an
error or the signature is not valid, 2 usage error (including an invalid argument), 3 RegiX
unreachable, an unreadable answer or input, or an internal error. Register the commands with
:func:`register`.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from lxml import etree

from eintegr.cli.validate import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE
from eintegr.errors import (
    EintegrError,
    IdentifierError,
    KeyLoadError,
    MessageError,
    ReceiverError,
    RegistryError,
    VerificationError,
)
from eintegr.messages.regix import CallContext, Operation, get_operation, operations
from eintegr.signing import (
    CertificateAuthorities,
    PinnedCertificates,
    Trust,
    VerificationPolicy,
    load_certificates,
    load_pem_signer,
)
from eintegr.transport.regix import PRODUCTION_URL, RegixClient, RegixResult
from eintegr.transport.submit_client import TlsCredentials
from eintegr.xml import parse_xml

__all__ = ["register", "regix_group"]

_F = TypeVar("_F", bound=Callable[..., Any])
_FILE = click.Path(dir_okay=False, path_type=Path)


def register(group: click.Group) -> None:
    """Add ``regix`` to the ``eintegr`` command group."""
    group.add_command(regix_group)


def _text(lang: str, en: str, bg: str) -> str:
    return bg if lang == "bg" else en


def _fail(code: int, message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _guarded(function: _F) -> _F:
    """Turn any unexpected exception into one line on stderr and exit status 3."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # never a bare traceback
            _fail(EXIT_UNREADABLE, f"eintegr regix: internal error: {exc!r}")

    return wrapper  # type: ignore[return-value]


def _password(variable: str | None) -> bytes | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise click.UsageError(f"the environment variable {variable} is not set")
    return value.encode("utf-8")


class _RegixGroup(click.Group):
    """``regix``: sub-commands, and every registered operation as a command of its own."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(op.name for op in operations())]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        try:
            operation = get_operation(cmd_name)
        except RegistryError:
            return None
        return _operation_command(operation)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else None
        if name is not None and self.get_command(ctx, name) is None:
            known = ", ".join(op.name for op in operations())
            raise click.UsageError(
                f"no command or RegiX operation {name!r} (operations: {known})", ctx
            )
        return super().resolve_command(ctx, args)


@click.group("regix", cls=_RegixGroup)
def regix_group() -> None:
    """RegiX: collect register data ex officio (call OPERATION, list operations, serve)."""


# --- operations ------------------------------------------------------------------------------


@regix_group.command("operations")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def operations_command(fmt: str) -> None:
    """List the registered RegiX operations."""
    rows = [
        {
            "name": op.name,
            "key": op.key,
            "adapter": op.adapter,
            "title_bg": op.title_bg,
            "title_en": op.title_en,
            "argument": etree.QName(op.request_root).localname,
            "typed": op.request_model is not None and op.response_model is not None,
        }
        for op in operations()
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']:<26} {row['adapter']:<16} {row['title_bg']}")


# --- calling an operation --------------------------------------------------------------------


def _operation_command(operation: Operation) -> click.Command:
    @click.command(
        operation.name,
        help=f"{operation.title_bg} / {operation.title_en} ({operation.key}).",
    )
    @click.option(
        "--arg",
        "args",
        multiple=True,
        metavar="NAME=VALUE",
        help="An argument element by its local name (repeatable), e.g. --arg EGN=…",
    )
    @click.option("--argument", type=_FILE, help="The whole argument as an XML file.")
    @click.option("--url", default=PRODUCTION_URL, show_default=True, help="The entry point.")
    @click.option("--cert", type=_FILE, help="The administration's certificate (PEM).")
    @click.option("--key", type=_FILE, help="Its private key (PEM).")
    @click.option("--pkcs12", type=_FILE, help="Certificate and key as PKCS#12 instead.")
    @click.option("--password-env", metavar="VAR", help="Variable holding the key's password.")
    @click.option("--ca", type=_FILE, help="CA certificates (PEM) for RegiX's server certificate.")
    @click.option(
        "--trust",
        type=_FILE,
        multiple=True,
        help="Verify the result's signature: pinned signer certificates (PEM, repeatable).",
    )
    @click.option(
        "--trust-ca",
        type=_FILE,
        multiple=True,
        help="Verify the result's signature against these CA certificates (PEM).",
    )
    @click.option("--service-uri", required=True, help="CallContext ServiceURI (the case).")
    @click.option("--service-type", required=True, help="CallContext ServiceType.")
    @click.option("--law-reason", required=True, help="CallContext LawReason (legal ground).")
    @click.option("--employee-id", help="CallContext EmployeeIdentifier.")
    @click.option("--employee-names", help="CallContext EmployeeNames.")
    @click.option("--employee-position", help="CallContext EmployeePosition.")
    @click.option("--administration-oid", help="CallContext AdministrationOId.")
    @click.option("--administration-name", help="CallContext AdministrationName.")
    @click.option("--remark", help="CallContext Remark.")
    @click.option("--async", "asynchronous", is_flag=True, help="Asynchronous call (polled).")
    @click.option("--no-sign", is_flag=True, help="Do not ask RegiX to sign the result.")
    @click.option(
        "--no-check-identifiers",
        is_flag=True,
        help="Send an ЕГН/ЕИК even if its check digits are wrong.",
    )
    @click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds.")
    @click.option("--format", "fmt", type=click.Choice(["json", "xml", "text"]), default="json")
    @click.option("--lang", type=click.Choice(["en", "bg"]), default="en", show_default=True)
    @_guarded
    def command(**options: Any) -> None:
        _call(operation, options)

    return command


def _argument(operation: Operation, args: Sequence[str], source: Path | None) -> Any:
    if source is not None and args:
        raise click.UsageError("give either --arg or --argument, not both")
    if source is not None:
        try:
            return parse_xml(source.read_bytes()).getroot()
        except OSError as exc:
            _fail(EXIT_UNREADABLE, f"cannot read {source}: {exc.strerror or exc}")
        except EintegrError as exc:
            raise click.UsageError(f"{source}: {exc}") from None
    values: dict[str, str] = {}
    for item in args:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--arg")
        values[name] = value
    try:
        return operation.build_argument(values)
    except MessageError as exc:
        raise click.UsageError(str(exc)) from None


def _credentials(options: dict[str, Any]) -> TlsCredentials | None:
    password = _password(options["password_env"])
    if options["pkcs12"] is not None:
        return TlsCredentials.from_pkcs12(Path(options["pkcs12"]), password)
    if options["cert"] is not None and options["key"] is not None:
        return TlsCredentials.from_pem_files(
            Path(options["cert"]), Path(options["key"]), password=password
        )
    if options["cert"] is not None or options["key"] is not None:
        raise click.UsageError("--cert and --key go together")
    return None


def _policy(options: dict[str, Any]) -> VerificationPolicy | None:
    trust: Trust | None = None
    if options["trust"]:
        pinned = [c for path in options["trust"] for c in load_certificates(Path(path))]
        trust = PinnedCertificates(pinned)
    elif options["trust_ca"]:
        roots = [c for path in options["trust_ca"] for c in load_certificates(Path(path))]
        trust = CertificateAuthorities(roots)
    return VerificationPolicy(trust=trust) if trust is not None else None


def _call(operation: Operation, options: dict[str, Any]) -> None:
    lang = options["lang"]
    argument = _argument(operation, options["args"], options["argument"])
    context = CallContext(
        service_uri=options["service_uri"],
        service_type=options["service_type"],
        law_reason=options["law_reason"],
        employee_identifier=options["employee_id"],
        employee_names=options["employee_names"],
        employee_position=options["employee_position"],
        administration_oid=options["administration_oid"],
        administration_name=options["administration_name"],
        remark=options["remark"],
    )
    try:
        credentials = _credentials(options)
        ca = load_certificates(Path(options["ca"])) if options["ca"] else None
        policy = _policy(options)
    except KeyLoadError as exc:
        _fail(EXIT_UNREADABLE, f"{exc.code}: {exc.localized(lang)}")
    try:
        with RegixClient(
            options["url"],
            credentials=credentials,
            ca=ca,
            signature_policy=policy,
            timeout=options["timeout"],
            allow_http=False,
        ) as client:
            result = client.execute(
                operation,
                argument,
                context,
                asynchronous=options["asynchronous"],
                sign_result=not options["no_sign"],
                check_identifiers=not options["no_check_identifiers"],
                raise_on_error=False,
            )
    except (IdentifierError, MessageError) as exc:
        _fail(EXIT_USAGE, f"{exc.code}: {exc.localized(lang)}")
    except VerificationError as exc:
        _fail(EXIT_INVALID, f"{exc.code}: {exc.localized(lang)}")
    except EintegrError as exc:
        _fail(EXIT_UNREADABLE, f"{exc.code}: {exc.localized(lang)}")
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    _print(result, options["fmt"], lang)
    if result.has_error:
        error = ReceiverError(result.error or "RegiX reported an error", code="REGIX-HAS-ERROR")
        _fail(EXIT_INVALID, f"{error.code}: {error}")
    sys.exit(EXIT_OK)


def _print(result: RegixResult, fmt: str, lang: str) -> None:
    if fmt == "xml":
        payload = result.response_xml
        if payload is not None:
            tree = parse_xml(payload.xml)
            click.echo(etree.tostring(tree, encoding="unicode", pretty_print=True).rstrip())
        for issue in result.warnings:
            click.echo(f"warning: {issue.code}: {issue.path}: {issue.message(lang)}", err=True)
        return
    signature = result.signature
    document: dict[str, Any] = {
        "operation": result.operation.key if result.operation else None,
        "service_call_id": (
            str(result.service_call_id) if result.service_call_id is not None else None
        ),
        "ready": result.is_ready,
        "error": result.error if result.has_error else None,
        "response": (
            result.response.model_dump(mode="json", exclude_none=True)
            if result.response is not None
            else None
        ),
        "warnings": [issue.to_dict(lang) for issue in result.warnings],
        "signature": (
            {
                "signer": signature.signer,
                "signing_time": signature.signing_time.isoformat(),
                "algorithm": str(signature.signature_algorithm),
            }
            if signature is not None
            else None
        ),
        "signed": result.signed,
    }
    if fmt == "json":
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    name = result.operation.name if result.operation else "?"
    state = _text(lang, "error", "грешка") if result.has_error else "OK"
    click.echo(f"{name}: {state} (ServiceCallID {document['service_call_id']})")
    if signature is not None:
        click.echo(
            _text(
                lang,
                f"signed by {signature.signer} at {signature.signing_time.isoformat()}",
                f"подписано от {signature.signer} на {signature.signing_time.isoformat()}",
            )
        )
    elif result.signed:
        click.echo(_text(lang, "signed (not verified: no --trust)", "подписано (непроверено)"))
    for issue in result.warnings:
        click.echo(
            f"{_text(lang, 'warning', 'предупреждение')}: {issue.code}: {issue.path}: "
            f"{issue.message(lang)}"
        )
    if document["response"] is not None:
        click.echo(json.dumps(document["response"], ensure_ascii=False, indent=2))


# --- the local RegiX -------------------------------------------------------------------------


@regix_group.command("serve")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), help="Store folder.")
@click.option("--demo", is_flag=True, help="Answer from the built-in fictional data.")
@click.option("--cert", type=_FILE, required=True, help="The server's certificate (PEM).")
@click.option("--key", type=_FILE, required=True, help="Its private key (PEM).")
@click.option(
    "--client-ca",
    type=_FILE,
    help="Require client certificates issued by these CAs (PEM): mutual TLS.",
)
@click.option("--sign-cert", type=_FILE, help="Sign results with this certificate (PEM).")
@click.option("--sign-key", type=_FILE, help="… and this key (PEM).")
@click.option("--password-env", metavar="VAR", help="Variable holding the keys' password.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8443, show_default=True)
@_guarded
def serve_command(
    data: Path | None,
    demo: bool,
    cert: Path,
    key: Path,
    client_ca: Path | None,
    sign_cert: Path | None,
    sign_key: Path | None,
    password_env: str | None,
    host: str,
    port: int,
) -> None:
    """Run a local RegiX (the V2 entry point) for trials, answering from files."""
    from eintegr.testing.regix_server import (  # only when serving
        ENTRY_POINT_PATH,
        RegixTestServer,
        ResponseStore,
        demo_store,
    )
    from eintegr.transport.asgi_server import serve_forever, server_ssl_context

    if (data is None) == (not demo):
        raise click.UsageError("give exactly one of --data FOLDER and --demo")
    if (sign_cert is None) != (sign_key is None):
        raise click.UsageError("--sign-cert and --sign-key go together")
    password = _password(password_env)
    try:
        store = demo_store() if demo else ResponseStore.from_folder(data)  # type: ignore[arg-type]
        signer = (
            load_pem_signer(sign_key, sign_cert, password=password)
            if sign_cert is not None and sign_key is not None
            else None
        )
        roots = load_certificates(client_ca) if client_ca is not None else None
        context = server_ssl_context(
            (cert, key), client_ca=roots, require_client_certificate=roots is not None
        )
    except (EintegrError, OSError) as exc:
        _fail(EXIT_UNREADABLE, f"eintegr regix serve: {exc}")
    click.echo(f"RegiX test server on https://{host}:{port}{ENTRY_POINT_PATH}", err=True)
    serve_forever(RegixTestServer(store, signer=signer), host=host, port=port, ssl_context=context)
