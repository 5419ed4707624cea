"""``eintegr inspect JOURNAL``: what a participant's journal holds.

* ``eintegr inspect JOURNAL`` — a summary: messages by direction and state, documents by
  status, the next due attempt;
* ``messages`` — the messages (``--direction``, ``--state``, ``--document``, ``--limit``);
* ``message GUID`` — one message: its header facts, attempts, outcome, last error, and with
  ``--raw`` the signed XML exactly as sent or received;
* ``documents`` — the documents sent and received with their current status and number;
* ``history DOCUMENT_GUID`` — a document's status history (ours or reported);
* ``due`` — the outgoing messages still to be sent: attempts made, attempts left, when the
  next one is due;
* ``watch`` — progress until every outgoing message is final (for long runs and scripts).

``--json`` prints machine-readable output. The journal is opened as it is (never created):
a missing or foreign file exits with 3. Exit status: 0 success, 1 nothing found (an unknown
GUID; for ``watch``, a message ended failed or expired), 2 usage error, 3 unreadable journal.
Register the command with :func:`register`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from eintegr.cli.validate import EXIT_INVALID, EXIT_UNREADABLE
from eintegr.errors import EintegrError
from eintegr.exchange import DeliveryState, Direction, Role, SqliteJournal
from eintegr.exchange.journal import MessageRecord
from eintegr.identifiers import Guid

__all__ = ["inspect_group", "register"]

_PENDING = (DeliveryState.QUEUED, DeliveryState.RETRY)
_FAILED = (DeliveryState.FAILED_SENDER, DeliveryState.FAILED_RECEIVER, DeliveryState.EXPIRED)


def register(group: click.Group) -> None:
    """Add ``inspect`` to the ``eintegr`` command group."""
    group.add_command(inspect_group)


def _fail(code: int, message: str) -> NoReturn:
    click.echo(f"eintegr inspect: {message}", err=True)
    sys.exit(code)


@contextmanager
def _journal(ctx: click.Context) -> Iterator[SqliteJournal]:
    path: Path = ctx.obj["journal"]
    if not path.is_file():
        _fail(EXIT_UNREADABLE, f"no journal at {path}")
    try:
        journal = SqliteJournal(path)
    except EintegrError as error:
        _fail(EXIT_UNREADABLE, f"{error.code}: {error}")
    try:
        yield journal
    finally:
        journal.close()


def _plain(value: object) -> object:
    if isinstance(value, Guid | Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _emit_json(value: object) -> None:
    click.echo(json.dumps(_plain(value), ensure_ascii=False, indent=2))


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _guid(text: str) -> Guid:
    try:
        return Guid.parse_lenient(text)
    except ValueError:
        _fail(2, f"{text!r} is not a GUID")


_F = TypeVar("_F", bound=Callable[..., Any])


def _json_option(function: _F) -> _F:
    """``--json`` on a sub-command too (``eintegr inspect J messages --json``)."""

    def remember(ctx: click.Context, _: click.Parameter, value: bool) -> bool:
        if value:
            ctx.ensure_object(dict)["json"] = True
        return value

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=remember,
        help="Machine-readable output.",
    )(function)


def _row(record: MessageRecord) -> str:
    status = f" {record.status.value}" if record.status is not None else ""
    arrow = "→" if record.direction is Direction.OUT else "←"
    error = f"  [{record.error_code}]" if record.error_code else ""
    tries = f" ×{record.attempts}" if record.direction is Direction.OUT and record.attempts else ""
    return (
        f"{record.id:>5}  {_when(record.created_at)}  {arrow} {record.peer_name:<32.32}  "
        f"{record.message_type.value}{status}  {record.state.value}{tries}{error}  "
        f"{record.message_guid}"
    )


@click.group("inspect", invoke_without_command=True)
@click.argument("journal", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def inspect_group(ctx: click.Context, journal: Path, as_json: bool) -> None:
    """Show what a participant's journal (SQLite) holds."""
    ctx.ensure_object(dict).update({"journal": journal, "json": as_json})
    if ctx.invoked_subcommand is not None:
        return
    with _journal(ctx) as opened:
        counts = opened.counts()
        documents = opened.documents()
        by_status = Counter(
            f"{d.role.value}/{d.status.value if d.status else 'undecided'}" for d in documents
        )
        due = opened.next_due()
        if as_json:
            _emit_json(
                {
                    "journal": journal,
                    "messages": counts,
                    "documents": dict(by_status),
                    "next_due": due,
                }
            )
            return
        click.echo(f"journal {journal}")
        click.echo(f"  messages   {sum(counts.values())}")
        for key in sorted(counts):
            click.echo(f"    {key:<24} {counts[key]}")
        click.echo(f"  documents  {len(documents)}")
        for key in sorted(by_status):
            click.echo(f"    {key:<32} {by_status[key]}")
        click.echo(f"  next due   {_when(due)}")


@inspect_group.command("messages")
@_json_option
@click.option("--direction", type=click.Choice(["in", "out"]), default=None)
@click.option(
    "--state", "states", multiple=True, type=click.Choice([s.value for s in DeliveryState])
)
@click.option("--document", default=None, help="Only messages about this DocumentGUID.")
@click.option("--limit", type=click.IntRange(min=1), default=None)
@click.pass_context
def messages_command(
    ctx: click.Context,
    direction: str | None,
    states: tuple[str, ...],
    document: str | None,
    limit: int | None,
) -> None:
    """List the messages, oldest first."""
    with _journal(ctx) as journal:
        records = journal.messages(
            direction=None if direction is None else Direction(direction),
            states=[DeliveryState(s) for s in states],
            document_guid=None if document is None else _guid(document),
            limit=limit,
        )
    if ctx.obj["json"]:
        _emit_json(records)
        return
    for record in records:
        click.echo(_row(record))
    if not records:
        click.echo("(no messages)")


@inspect_group.command("message")
@_json_option
@click.argument("guid")
@click.option("--direction", type=click.Choice(["in", "out"]), default=None)
@click.option("--raw", is_flag=True, help="Print the signed XML exactly as sent or received.")
@click.pass_context
def message_command(ctx: click.Context, guid: str, direction: str | None, raw: bool) -> None:
    """Show one message by its MessageGUID."""
    wanted = _guid(guid)
    with _journal(ctx) as journal:
        directions = [Direction(direction)] if direction else [Direction.OUT, Direction.IN]
        found = [r for d in directions if (r := journal.message(wanted, d)) is not None]
    if not found:
        _fail(EXIT_INVALID, f"no message {wanted} in the journal")
    for record in found:
        if raw:
            assert record.raw is not None
            click.echo(record.raw.decode("utf-8", "replace"))
            continue
        if ctx.obj["json"]:
            _emit_json(dataclasses.replace(record, raw=None))
            continue
        fields = [
            ("MessageGUID", str(record.message_guid)),
            ("direction", "outgoing" if record.direction is Direction.OUT else "incoming"),
            ("MessageType", record.message_type.value),
            ("peer", f"{record.peer_name} (ЕИК {record.peer_eik}, {record.peer_guid})"),
            ("DocumentGUID", str(record.document_guid or "—")),
            ("DocRegStatus", record.status.value if record.status else "—"),
            ("in reply to", str(record.in_reply_to or "—")),
            ("state", f"{record.state.value} ({record.state.label_bg})"),
            ("attempts", str(record.attempts)),
            ("created", _when(record.created_at)),
            ("last attempt", _when(record.last_attempt_at)),
            ("next attempt", _when(record.next_attempt_at)),
            ("outcome", record.outcome.value if record.outcome else "—"),
            ("error", f"{record.error_code}: {record.error_message}" if record.error_code else "—"),
            ("size", f"{len(record.raw or b'')} bytes"),
        ]
        for name, value in fields:
            click.echo(f"{name:<14} {value}")


@inspect_group.command("documents")
@_json_option
@click.option("--role", type=click.Choice(["sent", "received"]), default=None)
@click.pass_context
def documents_command(ctx: click.Context, role: str | None) -> None:
    """List the documents sent and received, with their status."""
    with _journal(ctx) as journal:
        records = journal.documents(role=None if role is None else Role(role))
    if ctx.obj["json"]:
        _emit_json(records)
        return
    for record in records:
        status = record.status.value if record.status else "(undecided)"
        number = f" № {record.number}" if record.number else ""
        arrow = "→" if record.role is Role.SENT else "←"
        click.echo(
            f"{record.document_guid}  {arrow} {record.peer_name:<32.32}  {status}{number}  "
            f"{record.kind or ''}: {record.about or ''}"
        )
    if not records:
        click.echo("(no documents)")


@inspect_group.command("history")
@_json_option
@click.argument("guid")
@click.option("--role", type=click.Choice(["sent", "received"]), default=None)
@click.pass_context
def history_command(ctx: click.Context, guid: str, role: str | None) -> None:
    """A document's status history (every change, ours or reported)."""
    wanted = _guid(guid)
    with _journal(ctx) as journal:
        roles = [Role(role)] if role else [Role.RECEIVED, Role.SENT]
        documents = [d for r in roles if (d := journal.document(r, wanted)) is not None]
        histories = [(d, journal.history(d.id)) for d in documents]
    if not documents:
        _fail(EXIT_INVALID, f"no document {wanted} in the journal")
    if ctx.obj["json"]:
        _emit_json([{"document": d, "history": h} for d, h in histories])
        return
    for document, history in histories:
        click.echo(
            f"{document.role.value} document {document.document_guid} ({document.peer_name})"
        )
        for entry in history:
            before = entry.previous.value if entry.previous else "—"
            mark = "" if entry.accepted else "  (recorded only: did not fit)"
            extra = "".join(
                f"  {label} {value}"
                for label, value in (("№", entry.number), ("reason:", entry.reason))
                if value
            )
            click.echo(
                f"  {_when(entry.at)}  {entry.source:<6}  {before} → {entry.status.value}"
                f"{extra}{mark}"
            )


@inspect_group.command("due")
@_json_option
@click.pass_context
def due_command(ctx: click.Context) -> None:
    """Outgoing messages still to be sent, and when their next attempt is due."""
    with _journal(ctx) as journal:
        records = journal.messages(direction=Direction.OUT, states=_PENDING)
    records.sort(key=lambda r: r.next_attempt_at or datetime.min.replace(tzinfo=UTC))
    if ctx.obj["json"]:
        _emit_json(records)
        return
    for record in records:
        lease = f"  leased until {_when(record.lease_until)}" if record.lease_owner else ""
        click.echo(
            f"{_when(record.next_attempt_at)}  {record.message_type.value}  → {record.peer_name}  "
            f"attempts {record.attempts}  last {record.error_code or '—'}{lease}  "
            f"{record.message_guid}"
        )
    if not records:
        click.echo("(nothing due)")


@inspect_group.command("watch")
@_json_option
@click.option("--interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0), default=None, help="Give up after this.")
@click.pass_context
def watch_command(ctx: click.Context, interval: float, timeout: float | None) -> None:
    """Print progress until every outgoing message is final (exit 1 if any failed)."""
    started = time.monotonic()
    with _journal(ctx) as journal:
        while True:
            counts = Counter(m.state for m in journal.messages(direction=Direction.OUT))
            pending = sum(counts[s] for s in _PENDING)
            failed = sum(counts[s] for s in _FAILED)
            total = sum(counts.values())
            line = (
                f"{time.monotonic() - started:7.1f}s  {total - pending}/{total} final  "
                f"delivered {counts[DeliveryState.DELIVERED]}  retry {counts[DeliveryState.RETRY]}"
                f"  queued {counts[DeliveryState.QUEUED]}  failed {failed}  "
                f"next due {_when(journal.next_due())}"
            )
            click.echo(line)
            if not pending:
                break
            if timeout is not None and time.monotonic() - started >= timeout:
                _fail(EXIT_UNREADABLE, f"{pending} messages still pending after {timeout:g} s")
            time.sleep(interval)
    if failed:
        sys.exit(EXIT_INVALID)
