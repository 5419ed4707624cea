"""``eintegr demo``: two participants exchange a document over real СЕОС on 127.0.0.1.

With no arguments and no network beyond loopback, the demo

1. creates a local CA and transport certificates, and starts a local participants' register
   (HTTPS, mutual TLS) listing Областна администрация – Русе and Община Русе;
2. starts both participants — each a :class:`~eintegr.exchange.Node` with its own SQLite
   journal, its ``Submit`` endpoint (mutual TLS, every П.* check) and its ``Submit`` client
   (every И.* check) — which read the register over its web service;
3. sends a letter with an attachment, registers it on the other side, pushes the status
   changes, asks for the status, and lets one status notice meet an endpoint that answers
   with a SOAP fault (down for maintenance), so it is retried — the same signed bytes and
   ``MessageGUID`` — once the endpoint is back;
4. prints the timeline: every message by its ``MSG_…`` type and every status by its
   ``DS_…`` value, as they travel on the wire.

``--keep DIR`` writes everything (journals, certificates, register) to DIR and leaves it
there: look at it with ``eintegr inspect DIR/oblast.sqlite``. Register the command with
:func:`register`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from cryptography import x509

from eintegr.cli.validate import EXIT_UNREADABLE
from eintegr.errors import EintegrError, TransportFault
from eintegr.exchange import (
    DeliveryState,
    Direction,
    MessageRecord,
    Node,
    RetrySchedule,
    Role,
    SqliteJournal,
    Worker,
)
from eintegr.exchange.local import LocalParty, start_endpoint, submit_transport
from eintegr.messages.seos import Attachment, DocumentStatus, new_document
from eintegr.registry.cache import CachedRegister
from eintegr.registry.client import RegistryClient
from eintegr.registry.files import save_directory
from eintegr.registry.server import start_register_server
from eintegr.registry.soap import Directory
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.transport import SubmitTimeouts, SubmitTransport
from eintegr.transport.base import Receiver
from eintegr.transport.server import SubmitServer

__all__ = ["demo_command", "register", "run_demo"]

OBLAST = ("Областна администрация – Русе", "176000071")
OBSHTINA = ("Община Русе", "000530632")
REGISTER_EIK = "177000003"  # the register operator of the demo (a valid ЕИК)

_RETRY = RetrySchedule.scaled(0.3)
_TIMEOUTS = SubmitTimeouts(connect=3, write=10, read=10, pool=5, total=20)


def register(group: click.Group) -> None:
    """Add ``demo`` to the ``eintegr`` command group."""
    group.add_command(demo_command)


@dataclass
class _Side:
    label: str
    party: LocalParty
    journal: SqliteJournal
    node: Node
    server: SubmitServer
    worker: Worker


@dataclass
class _Timeline:
    """Prints the messages of both journals as they appear, once each."""

    sides: list[_Side]
    started: float
    shown: set[str] = field(default_factory=set)

    def flush(self) -> None:
        records: list[tuple[datetime, _Side, MessageRecord]] = []
        for side in self.sides:
            for record in side.journal.messages(direction=Direction.OUT):
                key = str(record.message_guid)
                if key in self.shown:
                    continue
                if record.state in (DeliveryState.QUEUED, DeliveryState.RETRY):
                    continue  # shown once it is final
                records.append((record.created_at, side, record))
        for _, side, record in sorted(records, key=lambda item: (item[0], item[2].id)):
            self.shown.add(str(record.message_guid))
            click.echo(_line(side, record, self.started))


def _line(side: _Side, record: MessageRecord, started: float) -> str:
    moment = f"+{time.monotonic() - started:5.2f}s"
    arrow = f"{side.label} → {record.peer_name}"
    what = record.message_type.value
    if record.status is not None:
        what += f"  {record.status.value}"
    if record.state is DeliveryState.RESPONSE:
        how = "synchronous answer"
    else:
        tries = "attempt" if record.attempts == 1 else "attempts"
        how = f"{record.state.value} after {record.attempts} {tries}"
        if record.outcome is not None and record.state is not DeliveryState.DELIVERED:
            how += f" ({record.outcome.value}: {record.error_code})"
    return f"   {moment}  {arrow:<48} {what:<54} {how}"


class _Gate:
    """An endpoint's receiving side that can be "down for maintenance" (a SOAP fault)."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.open = True

    def __call__(
        self, message: bytes, *, client_certificate: x509.Certificate | None
    ) -> bytes | None:
        if not self.open:
            raise TransportFault(
                "the document-management system is down for maintenance",
                code="DEMO-MAINTENANCE",
                message_bg="Деловодната система е спряна за поддръжка",
            )
        return self.receiver(message, client_certificate=client_certificate)


def _stop_server(side: _Side) -> None:
    side.server.stop(timeout=1)


def _wait(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo exchange did not finish in time")
        time.sleep(0.02)


def _document_line(record_status: DocumentStatus | None, number: str | None) -> str:
    status = record_status.value if record_status is not None else "—"
    return f"{status}" + (f", № {number}" if number else "")


@contextlib.contextmanager
def _quiet_logs(verbose: bool) -> Iterator[None]:
    logger = logging.getLogger("eintegr")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("      log %(levelname)s %(name)s: %(message)s"))
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO if verbose else logging.CRITICAL)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def run_demo(folder: Path, *, verbose: bool = False) -> None:
    """Run the whole demo with its files in ``folder`` (printing the timeline)."""
    started = time.monotonic()
    with _quiet_logs(verbose), contextlib.ExitStack() as stack:
        click.echo("eintegr demo — СЕОС document exchange between two participants (127.0.0.1)")
        ca = make_ca("eintegr demo CA")
        (folder / "ca.crt.pem").write_bytes(ca.certificate_pem())
        register_tls: Issued = make_transport_certificate(
            ca, eik=REGISTER_EIK, host="localhost", organization="Регистър на участниците (демо)"
        )
        parties = {
            "oblast": LocalParty.create(ca, name=OBLAST[0], eik=OBLAST[1]),
            "obshtina": LocalParty.create(ca, name=OBSHTINA[0], eik=OBSHTINA[1]),
        }
        sides: dict[str, _Side] = {}
        transports: list[SubmitTransport] = []
        gates: dict[str, _Gate] = {}
        for key, party in parties.items():
            party.credentials.write(folder, key, overwrite=True)
            journal = SqliteJournal(folder / f"{key}.sqlite")
            stack.callback(journal.close)
            cache = CachedRegister(folder / f"{key}-register-cache.json")
            transport = submit_transport(
                party, register=cache, ca=[ca.certificate], journal=journal, timeouts=_TIMEOUTS
            )
            node = Node(
                identity=party.participant(),
                signer=party.signer(),
                register=cache,
                transport=transport,
                journal=journal,
                schedule=_RETRY,
                number_prefix="94-00",
            )
            gates[key] = _Gate(node.receiver())
            server = start_endpoint(node, party, ca=[ca.certificate], receiver=gates[key])
            worker = Worker(node, poll_interval=0.05)
            side = sides[key] = _Side(party.name, party, journal, node, server, worker)
            stack.callback(_stop_server, side)
            transports.append(transport)
        for transport in transports:  # closed before the servers stop: no idle connections
            stack.callback(transport.close)
        # the register lists both endpoints; each participant reads it over mutual TLS
        directory = Directory(
            tuple(
                sides[key].party.participant(sides[key].server.url)
                for key in ("oblast", "obshtina")
            ),
            last_change=datetime.now(UTC),
        )
        save_directory(directory, folder / "register.json")
        registry = start_register_server(
            folder / "register.json",
            certificate=register_tls,
            client_ca=[ca.certificate],
            require_client_certificate=True,
        )
        stack.callback(lambda: registry.stop(timeout=1))
        for key, side in sides.items():
            with RegistryClient(
                registry.url, client_certificate=side.party.credentials, verify=[ca.certificate]
            ) as client:
                register = side.node.register
                assert isinstance(register, CachedRegister)
                register.refresh(client)
            side.worker.start()
            stack.callback(side.worker.stop, 5.0)
            del key
        click.echo(f"   register   {registry.url}  (participants' register, mutual TLS)")
        for side in sides.values():
            click.echo(
                f"   {side.label:<32} ЕИК {side.party.eik}  {side.server.url}  "
                f"GUID {side.party.guid}"
            )
        oblast, obshtina = sides["oblast"], sides["obshtina"]
        timeline = _Timeline([oblast, obshtina], started)

        click.echo(f"\n1. {oblast.label} sends a letter with an attachment")
        letter = new_document(
            kind="Писмо",
            number="ОА-04-123",
            date=date.today(),
            about="Покана за участие в областната комисия по безопасност на движението",
            attachments=[
                Attachment(
                    file_name="pokana.pdf",
                    content=b"%PDF-1.4\n% eintegr demo\n" + b"0" * 4096,
                    mime_type="application/pdf",
                    comment="Покана",
                )
            ],
        )
        guid = letter.doc_id.document_guid
        oblast.node.send_document(
            obshtina.node.register.by_guid(obshtina.party.guid), letter, "За сведение и участие"
        )
        timeline.flush()

        click.echo(f"\n2. {obshtina.label} registers it; the sender is notified")
        obshtina.node.set_status(
            guid, DocumentStatus.DS_REGISTERED, expect_close_date=date.today() + timedelta(days=14)
        )
        timeline.flush()

        click.echo(f"\n3. {oblast.label} asks for the status")
        oblast.node.request_status(guid)
        timeline.flush()

        click.echo(f"\n4. {oblast.label} is down for maintenance while {obshtina.label} closes it")
        gates["oblast"].open = False
        item = obshtina.node.set_status(guid, DocumentStatus.DS_CLOSED)
        click.echo(
            f"   attempt 1 of MSG_DocumentStatusResponse DS_CLOSED: {item.state.value} "
            f"({item.message.error_code}: a SOAP fault); the same signed message is retried"
        )
        gates["oblast"].open = True  # back before the first retry, 0.3 s later
        obshtina.worker.wake()
        _wait(lambda: obshtina.node.item(item.message_guid).is_final)
        timeline.flush()

        click.echo("\nThe document on both sides:")
        sent = oblast.journal.document(Role.SENT, guid)
        received = obshtina.journal.document(Role.RECEIVED, guid)
        assert sent is not None
        assert received is not None
        for side, record in ((oblast, sent), (obshtina, received)):
            # The journal keeps every report; the timeline shows the changes of status.
            changes = " → ".join(
                h.status.value
                for h in side.journal.history(record.id)
                if h.accepted and h.resulting != h.previous
            )
            role = "sent" if record.role is Role.SENT else "received"
            click.echo(
                f"   {side.label:<32} {role:<9} {_document_line(record.status, record.number)}"
            )
            click.echo(f"   {'':<32} history   {changes}")
        counts = {side.label: sum(side.journal.counts().values()) for side in (oblast, obshtina)}
        click.echo(
            "\n   journals: "
            + ", ".join(f"{name}: {n} messages" for name, n in counts.items())
            + f"; done in {time.monotonic() - started:.1f} s"
        )
        if sent.status is not DocumentStatus.DS_CLOSED:  # pragma: no cover - a bug
            raise RuntimeError(f"the sender sees {sent.status}, not DS_CLOSED")


@click.command("demo")
@click.option(
    "--keep",
    "keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the journals, certificates and register to this folder and keep them.",
)
@click.option("-v", "--verbose", is_flag=True, help="Also print the library's log records.")
def demo_command(keep: Path | None, verbose: bool) -> None:
    """Run a complete СЕОС exchange between two local participants (loopback only)."""
    try:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            run_demo(keep, verbose=verbose)
            click.echo(f"\n   kept in {keep}: eintegr inspect {keep / 'oblast.sqlite'}")
        else:
            with tempfile.TemporaryDirectory(prefix="eintegr-demo-") as folder:
                run_demo(Path(folder), verbose=verbose)
    except (EintegrError, OSError, TimeoutError) as error:
        code = getattr(error, "code", type(error).__name__)
        click.echo(f"eintegr demo: {code}: {error}", err=True)
        sys.exit(EXIT_UNREADABLE)
