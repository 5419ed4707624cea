"""``eintegr edelivery send|list|get``: the ССЕВ (secure e-delivery) client on the command line.

Every command signs its requests with the institution's registered certificate: ``--pkcs12``
(password in the environment variable named by ``--password-env``) or ``--key`` and
``--cert``. The service is ``--url`` (default: the test environment); its TLS certificate is
checked against ``--ca`` or the system's trust store. Each option may also come from an
environment variable (``EINTEGR_EDELIVERY_URL``, ``EINTEGR_EDELIVERY_PKCS12``,
``EINTEGR_EDELIVERY_KEY``, ``EINTEGR_EDELIVERY_CERT``, ``EINTEGR_EDELIVERY_CA``,
``EINTEGR_EDELIVERY_OPERATOR``)::

    eintegr edelivery send reshenie.pdf --to 7501020018 --to-type person \\
        --subject "Решение № 12" --reg-number 12-34
    eintegr edelivery list --sent
    eintegr edelivery get 12 --sent --out received/

Exit status: 0 done, 1 the request is invalid or the service refused it, 2 usage error,
3 unreadable input or key, the service unreachable (retry later), or an internal error.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from eintegr.cli.validate import EXIT_INVALID, EXIT_UNREADABLE
from eintegr.errors import EintegrError, KeyLoadError, TransportFault
from eintegr.messages.edelivery import DcMessage, DcMessageDetails, ProfileType
from eintegr.signing import KeySigner, load_pem_signer, load_pkcs12_signer
from eintegr.transport.edelivery import TEST_ENDPOINT, EDeliveryClient

__all__ = ["edelivery_group", "register"]

_F = TypeVar("_F", bound=Callable[..., Any])
_MAX_INPUT = 50 * 1024 * 1024 + 1  # read at most this much of a document (the service's limit)
_RECEIVER_TYPES = {
    "person": ProfileType.Person,
    "legal-person": ProfileType.LegalPerson,
    "institution": ProfileType.Institution,
}


def register(group: click.Group) -> None:
    """Add ``edelivery`` (``send``, ``list``, ``get``) to the ``eintegr`` command group."""
    group.add_command(edelivery_group)


def _text(lang: str, en: str, bg: str) -> str:
    return bg if lang == "bg" else en


def _fail(code: int, message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


@dataclass(frozen=True, slots=True)
class _Connection:
    url: str
    key: Path | None
    cert: Path | None
    pkcs12: Path | None
    password_env: str | None
    ca: Path | None
    operator_egn: str | None
    timeout: float
    allow_http: bool
    lang: str
    as_json: bool

    def signer(self) -> KeySigner:
        if self.pkcs12 is not None and (self.key is not None or self.cert is not None):
            raise click.UsageError("give either --key/--cert or --pkcs12, not both")
        password: bytes | None = None
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if value is None:
                raise click.UsageError(
                    _text(
                        self.lang,
                        f"the environment variable {self.password_env} is not set",
                        f"променливата на средата {self.password_env} не е зададена",
                    )
                )
            password = value.encode("utf-8")
        try:
            if self.pkcs12 is not None:
                return load_pkcs12_signer(self.pkcs12, password)
            if self.key is not None and self.cert is not None:
                return load_pem_signer(self.key, self.cert, password=password)
        except KeyLoadError as exc:
            _fail(EXIT_UNREADABLE, f"eintegr edelivery: {exc.code}: {exc.localized(self.lang)}")
        raise click.UsageError("give --pkcs12, or --key and --cert (the registered certificate)")

    def client(self) -> EDeliveryClient:
        signer = self.signer()
        try:
            return EDeliveryClient(
                self.url,
                signer,
                verify=self.ca if self.ca is not None else True,
                timeout=self.timeout,
                operator_egn=self.operator_egn,
                allow_http=self.allow_http,
            )
        except (ValueError, OSError) as exc:
            raise click.UsageError(str(exc)) from None


_PATH = click.Path(dir_okay=False, path_type=Path)


def _connection_options(function: _F) -> _F:
    options = [
        click.option(
            "--url",
            envvar="EINTEGR_EDELIVERY_URL",
            default=TEST_ENDPOINT,
            show_default=True,
            help="The e-delivery integration service.",
        ),
        click.option("--key", type=_PATH, envvar="EINTEGR_EDELIVERY_KEY", help="PEM private key."),
        click.option(
            "--cert", type=_PATH, envvar="EINTEGR_EDELIVERY_CERT", help="PEM certificate of --key."
        ),
        click.option(
            "--pkcs12",
            type=_PATH,
            envvar="EINTEGR_EDELIVERY_PKCS12",
            help="PKCS#12 bundle (.p12/.pfx) instead of --key/--cert.",
        ),
        click.option(
            "--password-env",
            metavar="VAR",
            help="Environment variable holding the key's or bundle's password.",
        ),
        click.option(
            "--ca",
            type=_PATH,
            envvar="EINTEGR_EDELIVERY_CA",
            help="CA bundle (PEM) the service's TLS certificate must chain to "
            "(default: the system's trust store).",
        ),
        click.option(
            "--operator-egn",
            envvar="EINTEGR_EDELIVERY_OPERATOR",
            help="ЕГН of the employee acting (operatorEGN).",
        ),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True),
        click.option(
            "--allow-http", is_flag=True, hidden=True, help="Allow http:// (local tests)."
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        click.option("--lang", type=click.Choice(["en", "bg"]), default="en", show_default=True),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _connection(kwargs: dict[str, Any]) -> _Connection:
    return _Connection(
        url=kwargs.pop("url"),
        key=kwargs.pop("key"),
        cert=kwargs.pop("cert"),
        pkcs12=kwargs.pop("pkcs12"),
        password_env=kwargs.pop("password_env"),
        ca=kwargs.pop("ca"),
        operator_egn=kwargs.pop("operator_egn"),
        timeout=kwargs.pop("timeout"),
        allow_http=kwargs.pop("allow_http"),
        lang=kwargs.pop("lang"),
        as_json=kwargs.pop("as_json"),
    )


def _guarded(command: str) -> Callable[[_F], _F]:
    """Map library errors to exit statuses; never a bare traceback."""

    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            lang = kwargs.get("lang", "en")
            try:
                return function(*args, **kwargs)
            except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
                raise
            except TransportFault as exc:
                _fail(
                    EXIT_UNREADABLE,
                    f"eintegr edelivery {command}: {exc.code}: {exc.localized(lang)}",
                )
            except EintegrError as exc:
                _fail(
                    EXIT_INVALID, f"eintegr edelivery {command}: {exc.code}: {exc.localized(lang)}"
                )
            except Exception as exc:  # never a bare traceback
                _fail(EXIT_UNREADABLE, f"eintegr edelivery {command}: internal error: {exc!r}")

        return wrapper  # type: ignore[return-value]

    return decorate


def _read_document(path: Path, lang: str) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_MAX_INPUT)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        _fail(
            EXIT_UNREADABLE,
            _text(
                lang, f"cannot read {path}: {reason}", f"{path} не може да бъде прочетен: {reason}"
            ),
        )


def _summary(message: DcMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "title": message.title,
        "date_sent": message.date_sent.isoformat() if message.date_sent else None,
        "date_received": message.date_received.isoformat() if message.date_received else None,
        "sender": message.sender_profile.electronic_subject_name
        if message.sender_profile
        else None,
        "receiver": (
            message.receiver_profile.electronic_subject_name if message.receiver_profile else None
        ),
    }


@click.group("edelivery")
def edelivery_group() -> None:
    """Deliver documents through ССЕВ (secure e-delivery) and read what was delivered."""


@edelivery_group.command("send")
@click.argument("document", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "receiver", required=True, help="ЕГН/ЛНЧ of a person, ЕИК of a company.")
@click.option(
    "--to-type",
    "receiver_type",
    type=click.Choice(sorted(_RECEIVER_TYPES)),
    default="person",
    show_default=True,
)
@click.option("--subject", required=True, help="The title the receiver sees.")
@click.option("--name", help="The document's file name (default: DOCUMENT's name).")
@click.option("--reg-number", help="The document's outgoing registration number.")
@click.option("--phone", help="The receiver's phone, for the notification.")
@click.option("--email", help="The receiver's e-mail, for the notification.")
@click.option("--service-oid", help="OID of the administrative service concerned.")
@_connection_options
@_guarded("send")
def send_command(
    document: Path,
    receiver: str,
    receiver_type: str,
    subject: str,
    name: str | None,
    reg_number: str | None,
    phone: str | None,
    email: str | None,
    service_oid: str | None,
    **kwargs: Any,
) -> None:
    """Deliver DOCUMENT (a file) to a citizen, company or institution; print the message id."""
    connection = _connection(kwargs)
    content = _read_document(document, connection.lang)
    with connection.client() as client:
        message_id = client.send_electronic_document(
            subject=subject,
            content=content,
            file_name=name or document.name,
            receiver_type=_RECEIVER_TYPES[receiver_type],
            receiver_id=receiver,
            registration_number=reg_number,
            receiver_phone=phone,
            receiver_email=email,
            service_oid=service_oid,
        )
    if connection.as_json:
        click.echo(json.dumps({"message_id": message_id}))
    else:
        click.echo(
            _text(
                connection.lang, f"sent: message {message_id}", f"изпратено: съобщение {message_id}"
            )
        )


@edelivery_group.command("list")
@click.option("--sent/--received", default=False, help="Sent messages, or received (default).")
@click.option("--only-new", is_flag=True, help="Received messages not opened yet.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(min=1, max=1000), default=50, show_default=True)
@_connection_options
@_guarded("list")
def list_command(sent: bool, only_new: bool, page: int, page_size: int, **kwargs: Any) -> None:
    """List one page of received (or --sent) messages."""
    connection = _connection(kwargs)
    if sent and only_new:
        raise click.UsageError("--only-new goes with received messages")
    with connection.client() as client:
        listing = (
            client.get_sent_messages(page, page_size)
            if sent
            else client.get_received_messages(page, page_size, only_new=only_new)
        )
    items = [_summary(m) for m in listing.items or []]
    if connection.as_json:
        click.echo(
            json.dumps(
                {"total": listing.all_items_count, "page": page, "messages": items},
                ensure_ascii=False,
            )
        )
        return
    for item in items:
        delivered = item["date_received"] or _text(connection.lang, "not opened", "неотворено")
        party = item["receiver"] if sent else item["sender"]
        click.echo(f"{item['id']}\t{item['date_sent']}\t{delivered}\t{party}\t{item['title']}")
    click.echo(
        _text(
            connection.lang,
            f"{len(items)} of {listing.all_items_count} message(s), page {page}",
            f"{len(items)} от {listing.all_items_count} съобщения, страница {page}",
        ),
        err=True,
    )


def _safe_name(document_id: int | None, name: str | None) -> str:
    base = Path((name or "").replace("\\", "/")).name
    if base in ("", ".", ".."):
        base = "document"
    return f"{document_id or 0}-{base}"


@edelivery_group.command("get")
@click.argument("message_id", type=click.IntRange(min=1))
@click.option("--sent", is_flag=True, help="A message we sent (default: one we received).")
@click.option("--status", "status_only", is_flag=True, help="With --sent: status only.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the attached documents into this folder.",
)
@click.option("--force", is_flag=True, help="Replace existing files in --out.")
@_connection_options
@_guarded("get")
def get_command(
    message_id: int,
    sent: bool,
    status_only: bool,
    out: Path | None,
    force: bool,
    **kwargs: Any,
) -> None:
    """Show a message (opening a received one makes it delivered) and save its documents."""
    connection = _connection(kwargs)
    if status_only and not sent:
        raise click.UsageError("--status goes with --sent")
    with connection.client() as client:
        message: DcMessageDetails | None
        if sent:
            message = (
                client.get_sent_message_status(message_id)
                if status_only
                else client.get_sent_message(message_id)
            )
        else:
            message = client.get_received_message(message_id)
    if message is None:
        _fail(EXIT_INVALID, _text(connection.lang, "no such message", "няма такова съобщение"))
    written: list[str] = []
    documents = message.attached_documents or []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for document in documents:
            target = out / _safe_name(document.id, document.document_name)
            if target.exists() and not force:
                _fail(
                    EXIT_UNREADABLE,
                    _text(
                        connection.lang,
                        f"{target} exists (use --force to replace it)",
                        f"{target} съществува (--force за замяна)",
                    ),
                )
            target.write_bytes(document.content or b"")
            written.append(str(target))
    summary = _summary(message)
    summary["text"] = message.message_text
    summary["documents"] = [
        {
            "id": d.id,
            "name": d.document_name,
            "registration_number": d.document_registration_number,
            "size": len(d.content) if d.content is not None else None,
        }
        for d in documents
    ]
    summary["written"] = written
    if connection.as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    for key in ("id", "title", "sender", "receiver", "date_sent", "date_received", "text"):
        if summary[key] is not None:
            click.echo(f"{key}: {summary[key]}")
    for document in summary["documents"]:
        click.echo(f"document {document['id']}: {document['name']} ({document['size']} bytes)")
    for path in written:
        click.echo(_text(connection.lang, f"written: {path}", f"записан: {path}"))
