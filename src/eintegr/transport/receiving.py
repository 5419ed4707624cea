"""The receiving pipeline: every check of "Получаване на съобщение" (П.1–П.15), in order.

A :class:`ReceivingPipeline` is the :class:`~eintegr.transport.base.Receiver` behind a
participant's ``Submit`` endpoint (the ASGI application of :mod:`eintegr.transport.server`,
or any transport that delivers bytes). For each incoming signed message it runs, in the
specification's order:

===========  ==================================================================================
``П.1``      a client certificate is present and valid now (RFC 5280 validity; the chain is
             checked by TLS, or — behind a reverse proxy — against ``client_roots``)
size         the message is not larger than ``max_bytes`` (``RECV-TOO-LARGE``)
``П.2``      the message is well-formed XML (the hardened parser)
``П.3``      it is a СЕОС ``Message`` valid against the XSD
``П.4``      its recipient (GUID **and** ЕИК/БУЛСТАТ) is a participant this endpoint serves
``П.5``      its sender (GUID and ЕИК/БУЛСТАТ) is an active participant of the register
``П.6``      the client certificate is the sender's registered transport certificate
``П.7``      the message is signed (``ds:Signature`` at its exact place)
``П.8``      it is signed with the sender's registered transport certificate (and with the very
             certificate the client presented in TLS)
``П.9``      its ``MessageGUID`` was not received before
===========  ==================================================================================

then hands a :class:`ReceivedMessage` to the host system's :class:`MessageHandler`, and checks
the handler's response (П.10 well-formed, П.11 XSD-valid, П.12 its sender is the incoming
recipient, П.13 its recipient is the incoming sender, П.14 signed, П.15 signed with our
registered certificate) before returning it.

Failures raise :class:`~eintegr.errors.SenderError` (П.1–П.9, the sender's fault),
:class:`~eintegr.errors.ReceiverError` (the handler failed, П.10–П.15) or
:class:`~eintegr.errors.TransportFault` (a temporary failure, e.g. the register cannot be
read): ``code`` is the check ID, the messages are in English and Bulgarian.

**Duplicates and retries (П.9).** A ``MessageGUID`` is reserved in-process while its message
is being handled (a concurrent copy is refused as a duplicate) and recorded in ``seen`` only
after the handler returned. A handler that fails leaves nothing recorded, so the sender's
retry is accepted; a crash between the handler's commit and the recording can at worst
deliver a message twice — never lose it. Handlers should therefore be idempotent by
``MessageGUID`` (a journal's unique key does it). When several processes share one ``seen``
store, the same holds across processes.

**The handler must persist before it returns**: the endpoint answers the sender only after
the handler returned, and the sender takes an answer as "delivered".
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, NoReturn, Protocol, runtime_checkable
from uuid import UUID

from cryptography import x509
from lxml import etree

from eintegr.errors import (
    ReceiverError,
    RegistryError,
    SenderError,
    SigningError,
    TransportError,
    TransportFault,
    VerificationError,
    XmlError,
)
from eintegr.identifiers import Guid
from eintegr.messages.seos import Message
from eintegr.registry.model import Participant, Register, normalize_serial
from eintegr.schemas import SEOS_NS, seos_schema
from eintegr.signing import (
    CertificateAuthorities,
    PinnedCertificates,
    Signer,
    Trust,
    VerificationPolicy,
    VerifiedMessage,
    sign_message,
    verify_message,
)
from eintegr.signing import codes as signing_codes
from eintegr.transport.base import InMemorySeenMessages, SeenMessages
from eintegr.validation.xsd import xsd_issues
from eintegr.xml import XmlLimits, parse_xml

__all__ = [
    "CHECKS",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "Check",
    "FolderHandler",
    "MessageHandler",
    "ReceivedMessage",
    "ReceivingPipeline",
    "RegisteredCertificate",
]

_log = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES: Final = 32 * 1024 * 1024
"""The default largest accepted message (32 MiB; attachments travel inline, base64-encoded)."""


@dataclass(frozen=True, slots=True)
class Check:
    """One receiving check: its stable code and what it verifies, in English and Bulgarian."""

    code: str
    meaning: str
    meaning_bg: str


CHECKS: Final[dict[str, Check]] = {
    c.code: c
    for c in (
        Check(
            "П.1", "a valid client certificate is present", "наличен е валиден клиентски сертификат"
        ),
        Check(
            "RECV-TOO-LARGE",
            "the message is not larger than the limit",
            "съобщението не надхвърля допустимия размер",
        ),
        Check("П.2", "the message is well-formed XML", "съобщението е валиден XML документ"),
        Check(
            "П.3",
            "the message is valid against the СЕОС XSD",
            "съобщението съответства на XSD схемите на СЕОС",
        ),
        Check(
            "П.4",
            "the recipient is a participant served by this endpoint",
            "получателят е участник, обслужван от тази крайна точка",
        ),
        Check(
            "П.5",
            "the sender is an active participant of the register",
            "подателят е активен участник от Регистъра",
        ),
        Check(
            "П.6",
            "the client certificate is the sender's registered transport certificate",
            "клиентският сертификат е регистрираният транспортен сертификат на подателя",
        ),
        Check("П.7", "the message is signed", "съобщението е електронно подписано"),
        Check(
            "П.8",
            "the message is signed with the sender's registered transport certificate",
            "съобщението е подписано с регистрирания транспортен сертификат на подателя",
        ),
        Check(
            "П.9",
            "the MessageGUID was not received before",
            "уникалният идентификатор (MessageGUID) не е получаван досега",
        ),
        Check(
            "RECV-HANDLER",
            "the host system processed the message",
            "системата на получателя обработи съобщението",
        ),
        Check("П.10", "the response is well-formed XML", "отговорът е валиден XML документ"),
        Check(
            "П.11",
            "the response is valid against the СЕОС XSD",
            "отговорът съответства на XSD схемите на СЕОС",
        ),
        Check(
            "П.12",
            "the response's sender is the incoming message's recipient",
            "подателят на отговора е получателят на входящото съобщение",
        ),
        Check(
            "П.13",
            "the response's recipient is the incoming message's sender",
            "получателят на отговора е подателят на входящото съобщение",
        ),
        Check("П.14", "the response is signed", "отговорът е електронно подписан"),
        Check(
            "П.15",
            "the response is signed with our registered transport certificate",
            "отговорът е подписан с нашия регистриран транспортен сертификат",
        ),
    )
}
"""Every code the pipeline reports, in the order the checks run."""

_MESSAGE_TAG = f"{{{SEOS_NS}}}Message"
_POLICY_CACHE = 256
_NS = {"m": SEOS_NS}


def _xpath(path: str) -> etree.XPath:
    # string() gives the XPath string value: text nodes only, so a comment inside an element
    # cannot make what is checked here differ from what the signature covers.
    return etree.XPath(f"string(m:Header/{path})", namespaces=_NS)


_SENDER_GUID = _xpath("m:Sender/m:GUID")
_SENDER_ID = _xpath("m:Sender/m:Identifier")
_RECIPIENT_GUID = _xpath("m:Recipient/m:GUID")
_RECIPIENT_ID = _xpath("m:Recipient/m:Identifier")
_MESSAGE_GUID = _xpath("m:MessageGUID")


# --- results and the handler ---------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMessage:
    """A message that passed П.1–П.9, as the handler receives it.

    :ivar raw: the signed bytes exactly as received (store these: they carry the signature).
    :ivar verified: the signature check's result (signer certificate, the signed XML).
    :ivar sender: the sender as the register describes it.
    :ivar recipient: the served participant the message is addressed to.
    :ivar client_certificate: the TLS client certificate, when the transport has one.
    :ivar message_guid: the message's ``MessageGUID``.
    :ivar received_at: when the pipeline started on it (UTC).
    """

    raw: bytes = field(repr=False)
    verified: VerifiedMessage = field(repr=False)
    sender: Participant
    recipient: Participant
    client_certificate: x509.Certificate | None = field(repr=False)
    message_guid: Guid
    received_at: datetime

    @property
    def message(self) -> Message:
        """The verified message model (built on first use from exactly what was signed)."""
        return self.verified.message


@runtime_checkable
class MessageHandler(Protocol):
    """The host system's processing of an accepted message.

    It **must persist the message before returning**: the sender is answered only after the
    handler returned, and takes the answer as "delivered". Return ``None`` for an empty
    answer, a :class:`~eintegr.messages.seos.Message` (the pipeline signs it with its
    ``signer``) or already signed response bytes. Raise :class:`~eintegr.errors.SenderError`,
    :class:`~eintegr.errors.ReceiverError` or :class:`~eintegr.errors.TransportFault` to
    choose the outcome; any other exception becomes a ``ReceiverError`` (``RECV-HANDLER``).
    Handlers may be called from several threads at once.
    """

    def __call__(self, received: ReceivedMessage) -> Message | bytes | None:
        """Process (and persist) ``received``; return the response, or ``None``."""
        ...


class FolderHandler:
    """A :class:`MessageHandler` that stores each message in a folder and answers empty.

    The signed bytes go to ``<folder>/<MessageGUID without braces>.xml`` (mode 0600), written
    atomically (a temporary file in the same folder, written and ``fsync``-ed, renamed over the
    final name, then the folder itself ``fsync``-ed), so a reader never sees a partial file and
    nothing acknowledged is lost in a crash. A message that is already there is left as it is.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._prefix = os.path.join(os.fspath(self.folder), "")

    def path_for(self, guid: Guid) -> Path:
        """Where the message with ``guid`` is (or will be) stored."""
        return self.folder / f"{guid.uuid}.xml"

    def stored(self) -> Iterator[Guid]:
        """The ``MessageGUID`` of every message in the folder (e.g. to seed the duplicate
        detection of a restarted endpoint)."""
        for path in self.folder.glob("*.xml"):
            try:
                yield Guid.from_uuid(UUID(path.stem))
            except ValueError:
                continue  # not one of ours

    def __call__(self, received: ReceivedMessage) -> None:
        """Store ``received.raw`` atomically; answer empty."""
        name = str(received.message_guid.uuid)
        target = f"{self._prefix}{name}.xml"
        if os.path.exists(target):
            return
        # Unique per message, process and thread: no other writer can share the name.
        temporary = f"{self._prefix}.{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        descriptor = os.open(temporary, _CREATE, 0o600)
        try:
            try:
                view = memoryview(received.raw)
                while view:
                    view = view[os.write(descriptor, view) :]
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _fsync_folder(self.folder)


_CREATE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_TRUNC
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0)
)


def _fsync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(handle)
    except OSError:  # pragma: no cover - file systems that refuse fsync on directories
        pass
    finally:
        os.close(handle)


# --- trust ---------------------------------------------------------------------------------


class RegisteredCertificate(Trust):
    """Trust a participant's registered transport certificate (П.8, П.15).

    The register publishes the certificate's serial number only, so a signer certificate is
    trusted when its serial is ``serial`` **and** it is ``certificate`` (the TLS client
    certificate, already validated by TLS) when one is given, **and** it chains to one of
    ``roots`` when given. At least one of ``certificate`` and ``roots`` is required: a serial
    number alone can be put in any self-made certificate.

    :raises ValueError: neither ``certificate`` nor ``roots`` is given.
    """

    def __init__(
        self,
        serial: int | str,
        *,
        certificate: x509.Certificate | None = None,
        roots: Sequence[x509.Certificate] | CertificateAuthorities = (),
    ) -> None:
        self._serial = normalize_serial(serial)
        self._pinned = PinnedCertificates([certificate]) if certificate is not None else None
        if isinstance(roots, CertificateAuthorities):
            self._authorities: CertificateAuthorities | None = roots
        else:
            self._authorities = CertificateAuthorities(roots) if roots else None
        if self._pinned is None and self._authorities is None:
            raise ValueError(
                "RegisteredCertificate needs the TLS client certificate or CA roots: "
                "a serial number alone is not proof of identity"
            )

    def check(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], at: datetime
    ) -> None:
        """Return when ``certificate`` is the registered one; raise ``П.8`` otherwise."""
        serial = normalize_serial(certificate.serial_number)
        if serial != self._serial:
            raise VerificationError(
                f"the signing certificate (serial {serial}) is not the registered transport "
                f"certificate (serial {self._serial})",
                code=signing_codes.UNTRUSTED,
                message_bg=f"Сертификатът на подписа (сериен номер {serial}) не е "
                f"регистрираният транспортен сертификат (сериен номер {self._serial})",
            )
        if self._pinned is not None:
            try:
                self._pinned.check(certificate, chain, at)
            except VerificationError:
                raise VerificationError(
                    "the message is signed with a certificate other than the TLS client "
                    "certificate",
                    code=signing_codes.UNTRUSTED,
                    message_bg="Съобщението е подписано със сертификат, различен от "
                    "клиентския сертификат на връзката",
                ) from None
        if self._authorities is not None:
            self._authorities.check(certificate, chain, at)

    def __repr__(self) -> str:
        return f"RegisteredCertificate(serial={self._serial!r})"


# --- the pipeline ----------------------------------------------------------------------------


def _sender_error(code: str, en: str, bg: str) -> NoReturn:
    raise SenderError(en, code=code, message_bg=bg)


def _receiver_error(code: str, en: str, bg: str) -> NoReturn:
    raise ReceiverError(en, code=code, message_bg=bg)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Parties:
    sender_guid: Guid
    sender_id: str
    recipient_guid: Guid
    recipient_id: str
    message_guid: Guid


def _parties(root: etree._Element) -> _Parties:
    """The header's parties; the message is XSD-valid, so each GUID has the GUID shape."""
    return _Parties(
        sender_guid=Guid.parse_lenient(str(_SENDER_GUID(root))),
        sender_id=str(_SENDER_ID(root)).strip(),
        recipient_guid=Guid.parse_lenient(str(_RECIPIENT_GUID(root))),
        recipient_id=str(_RECIPIENT_ID(root)).strip(),
        message_guid=Guid.parse_lenient(str(_MESSAGE_GUID(root))),
    )


def _is(participant: Participant, guid: Guid, identifier: str) -> bool:
    """Footnote 8 of the specification: both the GUID and the ЕИК/БУЛСТАТ must match."""
    return participant.guid == guid and participant.eik == identifier


class ReceivingPipeline:
    """Runs П.1–П.9 on an incoming message, the handler, then П.10–П.15 on the response.

    A :class:`~eintegr.transport.base.Receiver`: call it with the signed bytes and the TLS
    client certificate; it returns the signed response bytes or ``None`` (empty answer), or
    raises :class:`~eintegr.errors.SenderError` / :class:`~eintegr.errors.ReceiverError` /
    :class:`~eintegr.errors.TransportFault` whose ``code`` is the check ID. Thread-safe.

    :param own: the participant(s) this endpoint serves (as the register describes them).
    :param register: where senders are looked up (П.5, П.6, П.8).
    :param handler: the host system's :class:`MessageHandler`.
    :param seen: the ``MessageGUID`` values already received (П.9); default: in memory.
    :param signer: signs the :class:`~eintegr.messages.seos.Message` responses the handler
        returns (our transport certificate).
    :param policy_for: the signature policy for a sender (П.8). Default: the sender's
        registered certificate — the TLS client certificate with the registered serial,
        chaining to ``client_roots`` when given (:class:`RegisteredCertificate`), SHA-1 only
        with ``allow_sha1``. The signer's serial is compared with the register in any case.
    :param client_roots: CA certificates a client certificate must chain to. TLS already
        checks the chain when the server terminates TLS; set this behind a reverse proxy
        (defence in depth) or for transports without TLS.
    :param require_client_certificate: П.1; turn off only for in-process transports without
        TLS (then ``client_roots`` or ``policy_for`` is required for П.8).
    :param max_bytes: the largest accepted message.
    :param allow_sha1: accept RSA-SHA1 / SHA-1 signatures (old deployments) in the default
        policy.
    :param schemas: a folder of official СЕОС schemas for П.3/П.11 instead of eintegr's own.
    :param clock: the current time (for certificate validity); default: UTC now.
    :raises ValueError: no served participant, or no way to trust a signature.
    """

    def __init__(
        self,
        own: Participant | Sequence[Participant],
        register: Register,
        *,
        handler: MessageHandler,
        seen: SeenMessages | None = None,
        signer: Signer | None = None,
        policy_for: Callable[[Participant], VerificationPolicy] | None = None,
        client_roots: Sequence[x509.Certificate] = (),
        require_client_certificate: bool = True,
        max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        allow_sha1: bool = False,
        schemas: Path | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._own: tuple[Participant, ...] = (own,) if isinstance(own, Participant) else tuple(own)
        if not self._own:
            raise ValueError("ReceivingPipeline needs at least one served participant")
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        if policy_for is None and not require_client_certificate and not client_roots:
            raise ValueError(
                "without client certificates, pass client_roots or policy_for: the register's "
                "serial number alone cannot authenticate a signature"
            )
        self._register = register
        self._handler = handler
        self._seen: SeenMessages = seen if seen is not None else InMemorySeenMessages()
        self._signer = signer
        self._policy_for = policy_for
        self._authorities = CertificateAuthorities(client_roots) if client_roots else None
        self._require_client_certificate = require_client_certificate
        self._max_bytes = max_bytes
        self._limits = XmlLimits(max_bytes=max_bytes)
        self._allow_sha1 = allow_sha1
        self._schema = seos_schema(schemas)
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight: set[Guid] = set()
        self._policies: dict[tuple[str, x509.Certificate | None], VerificationPolicy] = {}

    @property
    def own(self) -> tuple[Participant, ...]:
        """The participants this endpoint serves."""
        return self._own

    @property
    def max_bytes(self) -> int:
        """The largest accepted message, in bytes."""
        return self._max_bytes

    @property
    def requires_client_certificate(self) -> bool:
        """Whether П.1 refuses a message that comes without a client certificate."""
        return self._require_client_certificate

    # -- the procedure -----------------------------------------------------------------------

    def __call__(
        self, message: bytes, *, client_certificate: x509.Certificate | None
    ) -> bytes | None:
        """Check ``message``, hand it to the handler, check and return the response.

        The same as :meth:`deliver` of :meth:`check`.

        :raises SenderError: П.1–П.9, ``RECV-TOO-LARGE``.
        :raises ReceiverError: ``RECV-HANDLER`` and П.10–П.15.
        :raises TransportFault: a temporary failure (the register cannot be read, or the
            handler asks the sender to retry).
        """
        return self.deliver(self.check(message, client_certificate=client_certificate))

    def check(
        self, message: bytes, *, client_certificate: x509.Certificate | None
    ) -> ReceivedMessage:
        """Run П.1–П.9 on ``message`` and return it, its ``MessageGUID`` reserved.

        The first stage of :meth:`__call__`, CPU-bound and without I/O besides the look-ups
        in the register and in ``seen``, for callers that run the stages on different
        threads. Pass the
        result to :meth:`deliver` — or to :meth:`release` if it will not be delivered.

        :raises SenderError: П.1–П.9, ``RECV-TOO-LARGE``.
        :raises TransportFault: the register cannot be read.
        """
        try:
            return self._check(bytes(message), client_certificate, self._clock())
        except TransportError as error:
            _log.info("Submit refused: %s %s", error.code, error)
            raise

    def deliver(self, received: ReceivedMessage) -> bytes | None:
        """Hand a :meth:`check`-ed message to the handler; check and return its response.

        The second stage of :meth:`__call__` (it may block in the handler). The
        ``MessageGUID`` is recorded as seen once the handler returned, and its reservation
        released in any case.

        :raises ReceiverError: ``RECV-HANDLER`` and П.10–П.15.
        :raises SenderError, TransportFault: as the handler raised them.
        """
        try:
            try:
                response = self._handle(received)
                if not self._seen.add_if_new(received.message_guid):
                    _log.warning(
                        "MessageGUID %s was recorded by another process while it was handled "
                        "here: the handler saw it twice",
                        received.message_guid,
                    )
            finally:
                self.release(received)
            if response is None:
                return None
            return self._check_response(response, received.recipient, received.sender)
        except TransportError as error:
            _log.info("Submit failed: %s %s", error.code, error)
            raise

    def release(self, received: ReceivedMessage) -> None:
        """Drop the reservation of ``received``'s ``MessageGUID`` (idempotent): a message
        that was checked but will not be delivered can then be sent again."""
        self._unreserve(received.message_guid)

    def _unreserve(self, guid: Guid) -> None:
        with self._lock:
            self._in_flight.discard(guid)

    def _check(
        self, data: bytes, client_certificate: x509.Certificate | None, received_at: datetime
    ) -> ReceivedMessage:
        self._check_client_certificate(client_certificate, received_at)  # П.1
        if len(data) > self._max_bytes:
            _sender_error(
                "RECV-TOO-LARGE",
                f"the message has {len(data)} bytes, more than the limit of {self._max_bytes}",
                f"Съобщението е {len(data)} байта, повече от допустимите {self._max_bytes}",
            )
        root = self._parse(data, "П.2", incoming=True)
        self._check_schema(root, "П.3", incoming=True)
        parties = _parties(root)
        recipient = self._recipient(parties)  # П.4
        sender = self._sender(parties)  # П.5
        if client_certificate is not None and not sender.holds_certificate(client_certificate):
            _sender_error(  # П.6
                "П.6",
                f"the client certificate (serial {client_certificate.serial_number:x}) is not "
                f"the transport certificate registered for the sender {sender.guid} "
                f"(serial {sender.certificate_serial})",
                f"Клиентският сертификат (сериен номер {client_certificate.serial_number:x}) "
                f"не е транспортният сертификат на подателя {sender.guid} в Регистъра "
                f"(сериен номер {sender.certificate_serial})",
            )
        verified = self._verify(data, sender, client_certificate)  # П.7, П.8
        self._reserve(parties.message_guid)  # П.9
        return ReceivedMessage(
            raw=data,
            verified=verified,
            sender=sender,
            recipient=recipient,
            client_certificate=client_certificate,
            message_guid=parties.message_guid,
            received_at=received_at,
        )

    def _check_client_certificate(self, certificate: x509.Certificate | None, at: datetime) -> None:
        if certificate is None:
            if self._require_client_certificate:
                _sender_error(
                    "П.1",
                    "no client certificate: the connection must use mutual TLS with the "
                    "sender's transport certificate",
                    "Липсва клиентски сертификат: връзката трябва да е с взаимна TLS "
                    "автентикация с транспортния сертификат на подателя",
                )
            return
        before, after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        if not before <= at <= after:
            _sender_error(
                "П.1",
                f"the client certificate is valid from {before:%Y-%m-%d %H:%M:%S} to "
                f"{after:%Y-%m-%d %H:%M:%S} UTC, not now",
                f"Клиентският сертификат е валиден от {before:%Y-%m-%d %H:%M:%S} до "
                f"{after:%Y-%m-%d %H:%M:%S} UTC, не и в момента",
            )
        if self._authorities is not None:
            try:
                self._authorities.check(certificate, (), at)
            except VerificationError:
                _sender_error(
                    "П.1",
                    "the client certificate does not chain to a trusted certification "
                    f"authority (serial {certificate.serial_number:x})",
                    "Клиентският сертификат не води до доверен удостоверяващ орган "
                    f"(сериен номер {certificate.serial_number:x})",
                )

    def _parse(self, data: bytes, code: str, *, incoming: bool) -> etree._Element:
        try:
            return parse_xml(data, limits=self._limits).getroot()
        except XmlError as error:
            what, what_bg = _what(incoming)
            fail = _sender_error if incoming else _receiver_error
            fail(
                code,
                f"the {what} is not acceptable XML: {error} ({error.code})",
                f"{what_bg} не е приемлив XML документ: {error.message_bg} ({error.code})",
            )

    def _check_schema(self, root: etree._Element, code: str, *, incoming: bool) -> None:
        what, what_bg = _what(incoming)
        fail = _sender_error if incoming else _receiver_error
        if root.tag != _MESSAGE_TAG:
            fail(
                code,
                f"the {what}'s root element is {root.tag!r}, not the СЕОС Message",
                f"{what_bg} има коренов елемент {root.tag!r}, а не Message на СЕОС",
            )
        issues = xsd_issues(self._schema, root.getroottree(), code=code)
        if issues:
            first = issues[0]
            where = f" at {first.path}" if first.path else ""
            more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
            more_bg = f" (и още {len(issues) - 1})" if len(issues) > 1 else ""
            fail(
                code,
                f"the {what} does not match the СЕОС XSD{where}: {first.message_en}{more}",
                f"{what_bg} не съответства на XSD схемите на СЕОС: {first.message_bg}{more_bg}",
            )

    def _recipient(self, parties: _Parties) -> Participant:
        for participant in self._own:
            if _is(participant, parties.recipient_guid, parties.recipient_id):
                return participant
        _sender_error(
            "П.4",
            f"the recipient {parties.recipient_guid} (ЕИК/БУЛСТАТ {parties.recipient_id}) is "
            "not a participant served by this endpoint",
            f"Получателят {parties.recipient_guid} (ЕИК/БУЛСТАТ {parties.recipient_id}) не е "
            "участник, обслужван от тази крайна точка",
        )

    def _sender(self, parties: _Parties) -> Participant:
        try:
            sender = self._register.by_guid(parties.sender_guid)
        except RegistryError:
            _sender_error(
                "П.5",
                f"the sender {parties.sender_guid} is not a participant of the register",
                f"Подателят {parties.sender_guid} не е участник в Регистъра",
            )
        except Exception as error:
            _log.exception("the register cannot be read")
            raise TransportFault(
                f"the participants' register cannot be read now ({type(error).__name__}); "
                "retry later",
                code="П.5",
                message_bg="Регистърът на участниците не може да бъде прочетен в момента; "
                "опитайте отново по-късно",
            ) from error
        if sender.eik != parties.sender_id:
            _sender_error(
                "П.5",
                f"the sender's ЕИК/БУЛСТАТ {parties.sender_id} is not the one registered for "
                f"{sender.guid} ({sender.eik})",
                f"ЕИК/БУЛСТАТ на подателя {parties.sender_id} не е регистрираният за "
                f"{sender.guid} ({sender.eik})",
            )
        if not sender.is_active:
            _sender_error(
                "П.5",
                f"the sender {sender.guid} ({sender.name}) is not active in the register "
                f"(status {sender.status})",
                f"Подателят {sender.guid} ({sender.name}) не е активен в Регистъра "
                f"(статус {sender.status})",
            )
        return sender

    def _policy(
        self, sender: Participant, client_certificate: x509.Certificate | None
    ) -> VerificationPolicy:
        if self._policy_for is not None:
            return self._policy_for(sender)
        live = self._clock is _now  # then the policy checks "now" itself and can be reused
        key = (sender.certificate_serial, client_certificate)
        policy = self._policies.get(key) if live else None
        if policy is None:
            trust = RegisteredCertificate(
                sender.certificate_serial,
                certificate=client_certificate,
                roots=self._authorities if self._authorities is not None else (),
            )
            at = None if live else self._clock()
            policy = VerificationPolicy(trust=trust, allow_sha1=self._allow_sha1, at=at)
            if live:
                if len(self._policies) >= _POLICY_CACHE:
                    self._policies.clear()
                self._policies[key] = policy
        return policy

    def _verify(
        self, data: bytes, sender: Participant, client_certificate: x509.Certificate | None
    ) -> VerifiedMessage:
        try:
            verified = verify_message(
                data, self._policy(sender, client_certificate), limits=self._limits
            )
        except VerificationError as error:
            if error.code == signing_codes.UNSIGNED:
                _sender_error(
                    "П.7",
                    f"the message is not signed: {error}",
                    f"Съобщението не е електронно подписано: {error.message_bg}",
                )
            _sender_error(
                "П.8",
                f"the message is not validly signed with the sender's registered transport "
                f"certificate: {error} ({error.code})",
                f"Съобщението не е валидно подписано с регистрирания транспортен сертификат "
                f"на подателя: {error.message_bg} ({error.code})",
            )
        except XmlError as error:  # pragma: no cover - the bytes were parsed at П.2
            _sender_error("П.2", str(error), error.message_bg)
        if not sender.holds_certificate(verified.certificate):
            _sender_error(
                "П.8",
                f"the message is signed with the certificate with serial "
                f"{verified.certificate.serial_number:x}, not the sender's registered one "
                f"({sender.certificate_serial})",
                f"Съобщението е подписано със сертификат със сериен номер "
                f"{verified.certificate.serial_number:x}, а не с регистрирания на подателя "
                f"({sender.certificate_serial})",
            )
        return verified

    def _reserve(self, guid: Guid) -> None:
        # In-process copies meet in _in_flight; earlier ones are in `seen`, which deliver()
        # records before it releases the reservation, so the store is read outside the lock.
        with self._lock:
            duplicate = guid in self._in_flight
            if not duplicate:
                self._in_flight.add(guid)
        if not duplicate:
            try:
                duplicate = guid in self._seen
            except BaseException:
                self._unreserve(guid)
                raise
            if duplicate:
                self._unreserve(guid)
        if duplicate:
            _sender_error(
                "П.9",
                f"a message with MessageGUID {guid} has already been received",
                f"Съобщение с MessageGUID {guid} вече е получено",
            )

    def _handle(self, received: ReceivedMessage) -> bytes | None:
        try:
            response = self._handler(received)
        except TransportError:
            raise
        except Exception as error:
            _log.exception("the handler failed on MessageGUID %s", received.message_guid)
            raise ReceiverError(
                f"the receiving system could not process the message ({type(error).__name__})",
                code="RECV-HANDLER",
                message_bg="Системата на получателя не успя да обработи съобщението",
            ) from error
        if response is None or isinstance(response, bytes):
            return response
        if isinstance(response, Message):
            if self._signer is None:
                _receiver_error(
                    "П.14",
                    "the handler returned a response, but the endpoint has no signer for it",
                    "Обработката върна отговор, но крайната точка няма с какво да го подпише",
                )
            try:
                return sign_message(response, self._signer, limits=self._limits)
            except (SigningError, XmlError) as error:
                _receiver_error(
                    "П.14",
                    f"the response cannot be signed: {error}",
                    f"Отговорът не може да бъде подписан: {error.message_bg}",
                )
        _receiver_error(
            "RECV-HANDLER",
            f"the handler returned {type(response).__name__}, not a Message, bytes or None",
            "Обработката върна неочакван резултат",
        )

    def _check_response(
        self, response: bytes, recipient: Participant, sender: Participant
    ) -> bytes:
        root = self._parse(response, "П.10", incoming=False)
        self._check_schema(root, "П.11", incoming=False)
        parties = _parties(root)
        if not _is(recipient, parties.sender_guid, parties.sender_id):
            _receiver_error(
                "П.12",
                f"the response's sender {parties.sender_guid} ({parties.sender_id}) is not the "
                f"incoming message's recipient {recipient.guid} ({recipient.eik})",
                f"Подателят на отговора {parties.sender_guid} ({parties.sender_id}) не е "
                f"получателят на входящото съобщение {recipient.guid} ({recipient.eik})",
            )
        if not _is(sender, parties.recipient_guid, parties.recipient_id):
            _receiver_error(
                "П.13",
                f"the response's recipient {parties.recipient_guid} ({parties.recipient_id}) is "
                f"not the incoming message's sender {sender.guid} ({sender.eik})",
                f"Получателят на отговора {parties.recipient_guid} ({parties.recipient_id}) не е "
                f"подателят на входящото съобщение {sender.guid} ({sender.eik})",
            )
        own_certificate = self._signer.certificate if self._signer is not None else None
        try:
            if own_certificate is not None:
                trust: Trust = RegisteredCertificate(
                    recipient.certificate_serial, certificate=own_certificate
                )
            else:
                trust = _SerialOnly(recipient.certificate_serial)
            verify_message(response, VerificationPolicy(trust=trust), limits=self._limits)
        except VerificationError as error:
            code = "П.14" if error.code == signing_codes.UNSIGNED else "П.15"
            _receiver_error(
                code,
                f"the response is not validly signed with our registered transport "
                f"certificate: {error} ({error.code})",
                f"Отговорът не е валидно подписан с нашия регистриран транспортен сертификат: "
                f"{error.message_bg} ({error.code})",
            )
        return response


class _SerialOnly(Trust):
    """П.15 on bytes the handler signed itself: our own output, so the serial suffices."""

    def __init__(self, serial: str) -> None:
        self._serial = serial

    def check(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], at: datetime
    ) -> None:
        if normalize_serial(certificate.serial_number) != self._serial:
            raise VerificationError(
                f"signed with serial {certificate.serial_number:x}, not the registered "
                f"{self._serial}",
                code=signing_codes.UNTRUSTED,
                message_bg=f"Подписано със сериен номер {certificate.serial_number:x}, а не с "
                f"регистрирания {self._serial}",
            )


def _what(incoming: bool) -> tuple[str, str]:
    return ("message", "Съобщението") if incoming else ("response", "Отговорът")
