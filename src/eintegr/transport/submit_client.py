"""The СЕОС ``Submit`` client: SOAP 1.1 over HTTPS with mutual TLS, on httpx.

``EGovEndpoint.wsdl`` (namespace ``http://services.egov.bg/messaging/``, document/literal)
gives each participant one operation, ``Submit``: the signed message travels as an *escaped
string* in ``Submit/request`` with ``SOAPAction:
"http://services.egov.bg/messaging/IEGovService/Submit"``; the answer
``SubmitResponse/SubmitResult`` is absent, nil or empty (accepted, processed later) or a
response message as a string. The sender's procedure of the specification ("Изпращане на
съобщение") runs in full::

    transport = SubmitTransport(
        TlsCredentials.from_pem_files(Path("transport.crt"), Path("transport.key")),
        register=register, ca=load_certificates(Path("ca.pem")),
    )
    outcome = transport.send(register.by_guid(recipient_guid), signed_message)

* И.1–И.6 before anything is sent (:meth:`SubmitTransport.check_outgoing`): well-formed,
  XSD-valid, sender and recipient in the register, signed with our registered certificate
  (:class:`~eintegr.errors.SenderError`);
* И.7 right after the TLS handshake and **before the request is written**: the server
  certificate must chain to ``ca`` (and match the host name) *and* have the serial number the
  register gives the recipient; otherwise the connection is closed unused
  (:class:`~eintegr.errors.TransportFault` ``И.7``). Connections are pooled per recipient, so
  a pooled connection was always checked against the recipient it serves;
* И.8 a SOAP fault, a connection failure, a timeout, an HTTP error status →
  :class:`~eintegr.errors.TransportFault` (retry later);
* И.9–И.15 on a response message (:class:`~eintegr.errors.ReceiverError`): well-formed,
  XSD-valid, the parties swapped correctly (GUID and ЕИК), signed, signed with exactly the
  certificate the server presented in TLS, a ``MessageGUID`` not seen before.

Limits are explicit: connect / write / read / pool timeouts and a total deadline, a cap on
the response size (streamed: a larger answer is never held in memory), TLS 1.2 or later.
:class:`AsyncSubmitTransport` is the ``asyncio``/``trio`` twin over the same checks.
"""

from __future__ import annotations

import collections
import re
import secrets
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Generic, NoReturn, Self, TypeVar

import anyio.to_thread
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from lxml import etree

from eintegr.errors import (
    KeyLoadError,
    ReceiverError,
    RegistryError,
    SenderError,
    SoapError,
    TransportFault,
)
from eintegr.identifiers import Guid
from eintegr.registry.model import Participant, Register, normalize_serial
from eintegr.signing.keys import load_certificates, load_pem_signer, load_pkcs12_signer
from eintegr.signing.pki import Issued
from eintegr.signing.trust import CertificateAuthorities
from eintegr.transport.base import AsyncTransport, Outcome, SeenMessages, Transport
from eintegr.transport.checks import (
    ExchangeChecks,
    OutgoingMessage,
    ResponsePolicy,
    read_outgoing,
)
from eintegr.transport.memory import closed_fault
from eintegr.transport.soap import SOAP11_CONTENT_TYPE, build_envelope, parse_envelope
from eintegr.xml import DEFAULT_LIMITS, XmlLimits

__all__ = [
    "SUBMIT_ACTION",
    "SUBMIT_NS",
    "AsyncSubmitTransport",
    "SubmitTimeouts",
    "SubmitTransport",
    "TlsCredentials",
    "build_submit_request",
    "read_submit_response",
]

SUBMIT_NS: Final = "http://services.egov.bg/messaging/"
"""The target namespace of ``EGovEndpoint.wsdl``."""
SUBMIT_ACTION: Final = "http://services.egov.bg/messaging/IEGovService/Submit"
"""The ``soapAction`` of the ``Submit`` operation in the WSDL binding."""

_MIB: Final = 1024 * 1024
_XSI_NIL: Final = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_SUBMIT: Final = "{" + SUBMIT_NS + "}Submit"
_REQUEST: Final = "{" + SUBMIT_NS + "}request"
_RESPONSE: Final = "{" + SUBMIT_NS + "}SubmitResponse"
_RESULT: Final = "{" + SUBMIT_NS + "}SubmitResult"
_XML_TYPES: Final = ("text/xml", "application/xml")
_DECLARATION: Final = re.compile(r"\A\s*<\?xml\s[^>]*?\?>")
_ENCODING: Final = re.compile(r"""\sencoding\s*=\s*(["'])[^"']*\1""")
_DECLARED_ENCODING: Final = re.compile(
    rb"""\A\s*<\?xml\s[^>]*?encoding\s*=\s*(["'])([A-Za-z0-9._-]+)\1"""
)
_CLIENTS_PER_TRANSPORT: Final = 64


# --- the SOAP messages --------------------------------------------------------------------


def _message_text(message: bytes) -> str:
    """The message as text: UTF-8 as it is; another declared encoding is decoded, and the
    declaration then says UTF-8 (the string travels inside a UTF-8 envelope)."""
    try:
        return message.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED_ENCODING.search(message[:200])
    try:
        if declared is None:
            raise LookupError("no encoding declared")
        text = message.decode(declared.group(2).decode("ascii"))
    except (LookupError, UnicodeDecodeError) as error:
        raise SenderError(
            f"the outgoing message cannot be read as text (И.1): {error}",
            code="И.1",
            message_bg="Изходящото съобщение не може да бъде прочетено като текст (И.1)",
        ) from None
    return _utf8_declaration(text)


def build_submit_request(message: bytes) -> bytes:
    """The SOAP 1.1 envelope of ``Submit`` carrying ``message`` as an escaped string.

    A message in an encoding other than UTF-8 (as its XML declaration says) is decoded, and
    its declaration rewritten to UTF-8; the signature covers the canonical form, which does
    not change.

    :raises SenderError: ``И.1`` when ``message`` cannot be read as text.
    """
    text = _message_text(bytes(message))
    submit = etree.Element(_SUBMIT, nsmap={None: SUBMIT_NS})
    try:
        etree.SubElement(submit, _REQUEST).text = text
    except ValueError as error:  # characters XML cannot carry
        raise SenderError(
            f"the outgoing message holds characters XML cannot carry (И.1): {error}",
            code="И.1",
            message_bg="Изходящото съобщение съдържа символи, недопустими в XML (И.1)",
        ) from None
    return build_envelope([submit])


def _utf8_declaration(text: str) -> str:
    text = text.removeprefix("\ufeff")
    declaration = _DECLARATION.match(text)
    if declaration is not None:
        fixed = _ENCODING.sub(' encoding="UTF-8"', declaration.group(0))
        text = fixed + text[declaration.end() :]
    return text


def _text_to_bytes(text: str) -> bytes:
    """A message received as a string, as UTF-8 bytes whose declaration says so."""
    return _utf8_declaration(text).encode("utf-8")


def _receiver_error(code: str, en: str, bg: str) -> NoReturn:
    raise ReceiverError(en, code=code, message_bg=bg)


def read_submit_response(
    data: bytes, *, status: int = 200, limits: XmlLimits = DEFAULT_LIMITS
) -> bytes | None:
    """The response message in a ``SubmitResponse`` envelope; ``None`` for an empty result.

    :param status: the HTTP status the envelope came with.
    :raises TransportFault: ``И.8`` — a SOAP fault, or an HTTP error status.
    :raises ReceiverError: ``И.9`` (the envelope is not XML), ``SUBMIT-SOAP`` (not a
        ``SubmitResponse``).
    """
    try:
        envelope = parse_envelope(data, limits=limits)
    except SoapError as error:
        if status != 200:
            raise _status_fault(status, data) from None
        code = "И.9" if error.code == "SOAP-XML" else "SUBMIT-SOAP"
        raise ReceiverError(
            f"the answer is not a SOAP 1.1 envelope ({code}): {error}",
            code=code,
            message_bg=f"Отговорът не е SOAP 1.1 плик ({code}): {error.message_bg}",
        ) from None
    if envelope.fault is not None:
        fault = envelope.fault
        raise TransportFault(
            f"the recipient answered with a SOAP fault (И.8): {fault.code}: {fault.string}",
            code="И.8",
            message_bg=f"Получателят върна изключение/грешка (И.8): {fault.code}: {fault.string}",
            peer_code=_peer_check(fault.string),
        )
    if status != 200:
        raise _status_fault(status, data)
    try:
        element = envelope.body_element
    except SoapError as error:
        _receiver_error("SUBMIT-SOAP", str(error), error.message_bg)
    if element.tag != _RESPONSE:
        _receiver_error(
            "SUBMIT-SOAP",
            f"the SOAP body holds {element.tag!r}, not SubmitResponse",
            f"Тялото на SOAP отговора съдържа {element.tag!r}, а не SubmitResponse",
        )
    results = [child for child in element if isinstance(child.tag, str)]
    if not results:
        return None
    result = results[0]
    if len(results) > 1 or result.tag != _RESULT or len(result):
        _receiver_error(
            "SUBMIT-SOAP",
            "SubmitResponse must hold at most one SubmitResult, a string",
            "SubmitResponse трябва да съдържа най-много един SubmitResult, низ",
        )
    if result.get(_XSI_NIL) in ("true", "1"):
        return None
    text = str(result.xpath("string()"))
    if not text.strip():
        return None
    return _text_to_bytes(text)


_PEER_CHECK = re.compile(r"^\s*([ИП]\.\d{1,2})\b")


def _peer_check(fault_string: str) -> str | None:
    """The check ID a peer's fault starts with (``"П.9: …"``), as eintegr's server writes it."""
    match = _PEER_CHECK.match(fault_string)
    return match.group(1) if match else None


def _status_fault(status: int, data: bytes) -> TransportFault:
    snippet = data[:200].decode("utf-8", "replace").strip()
    return TransportFault(
        f"the recipient answered HTTP {status} (И.8)" + (f": {snippet}" if snippet else ""),
        code="И.8",
        message_bg=f"Получателят върна HTTP {status} (И.8)",
    )


# --- credentials and settings -------------------------------------------------------------


@dataclass(frozen=True)
class TlsCredentials:
    """Our transport certificate and its private key, for mutual TLS (the client side).

    :param certificate: the transport certificate registered for us.
    :param key: its private key.
    :param chain: intermediate CA certificates to present with it.
    """

    certificate: x509.Certificate
    key: PrivateKeyTypes
    chain: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_issued(cls, issued: Issued) -> Self:
        """From the test PKI's :class:`~eintegr.signing.pki.Issued`."""
        return cls(issued.certificate, issued.key, tuple(issued.chain))

    @classmethod
    def from_pem_files(cls, certificate: Path, key: Path, *, password: bytes | None = None) -> Self:
        """From a PEM (or DER) certificate file (optionally followed by its chain) and key.

        :raises KeyLoadError: unreadable files, a wrong password, a key of another certificate.
        """
        signer = load_pem_signer(key, certificate, password=password)  # checks the pair
        raw = Path(key).read_bytes()
        private = (
            serialization.load_pem_private_key(raw, password)
            if b"-----BEGIN" in raw
            else serialization.load_der_private_key(raw, password)
        )
        return cls(signer.certificate, private, tuple(signer.chain))

    @classmethod
    def from_pkcs12(cls, bundle: bytes | Path, password: bytes | None) -> Self:
        """From a PKCS#12 (``.p12`` / ``.pfx``) bundle.

        :raises KeyLoadError: not PKCS#12, a wrong password, no key or certificate inside.
        """
        from cryptography.hazmat.primitives.serialization import pkcs12

        raw = bundle if isinstance(bundle, bytes) else Path(bundle).read_bytes()
        signer = load_pkcs12_signer(raw, password)  # validates and orders the bundle
        key, _, _ = pkcs12.load_key_and_certificates(raw, password)
        if key is None:  # pragma: no cover - load_pkcs12_signer refuses this first
            raise KeyLoadError("the bundle holds no private key")
        return cls(signer.certificate, key, tuple(signer.chain))

    def client_context(
        self, ca: Sequence[x509.Certificate], *, check_hostname: bool = True
    ) -> ssl.SSLContext:
        """A client :class:`ssl.SSLContext`: TLS 1.2+, this certificate, servers checked
        against ``ca`` only (not the system store) and, by default, their host name."""
        if not ca:
            raise ValueError("at least one CA certificate is needed to check servers")
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH,
            cadata="".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in ca),
        )
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = check_hostname
        context.verify_mode = ssl.CERT_REQUIRED
        self.load_into(context)
        return context

    def load_into(self, context: ssl.SSLContext) -> None:
        """Load the certificate, chain and key into ``context`` (through a private temporary
        folder; the key file is encrypted with a one-time password and deleted at once)."""
        password = secrets.token_bytes(32).hex().encode("ascii")
        with tempfile.TemporaryDirectory(prefix="eintegr-tls-") as folder:
            certificate_file = Path(folder) / "certificate.pem"
            key_file = Path(folder) / "key.pem"
            certificate_file.write_bytes(
                b"".join(
                    c.public_bytes(serialization.Encoding.PEM)
                    for c in (self.certificate, *self.chain)
                )
            )
            key_file.touch(mode=0o600)
            key_file.write_bytes(
                self.key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.BestAvailableEncryption(password),
                )
            )
            context.load_cert_chain(certificate_file, key_file, password=password)


@dataclass(frozen=True, slots=True)
class SubmitTimeouts:
    """Time limits of one ``Submit`` call, in seconds.

    :param connect: TCP connection and TLS handshake.
    :param write: sending each chunk of the request.
    :param read: waiting for each chunk of the answer (the recipient processes the message
        before it answers, so this is generous).
    :param pool: waiting for a free connection of the pool.
    :param total: the whole call, answer included.
    """

    connect: float = 10.0
    write: float = 60.0
    read: float = 120.0
    pool: float = 30.0
    total: float = 300.0

    def __post_init__(self) -> None:
        if min(self.connect, self.write, self.read, self.pool, self.total) <= 0:
            raise ValueError("timeouts must be positive")

    def httpx(self) -> httpx.Timeout:
        """As an :class:`httpx.Timeout`."""
        return httpx.Timeout(connect=self.connect, write=self.write, read=self.read, pool=self.pool)


# --- the shared core ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Prepared:
    outgoing: OutgoingMessage
    url: str
    origin: tuple[str, str, int]
    body: bytes


def _peer_certificate(stream: Any) -> x509.Certificate | None:
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(True)  # positional: also the low-level _ssl object
    return x509.load_der_x509_certificate(der) if der else None


def _wrong_server(recipient: Participant, certificate: x509.Certificate | None) -> TransportFault:
    serial = normalize_serial(certificate.serial_number) if certificate is not None else "none"
    return TransportFault(
        f"the server certificate (serial {serial}) is not the transport certificate registered "
        f"for {recipient.guid} ({recipient.name}, serial {recipient.certificate_serial}) (И.7)",
        code="И.7",
        message_bg=f"Сървърният сертификат (сериен номер {serial}) не съответства на "
        f"транспортния сертификат на получателя {recipient.guid} (сериен номер "
        f"{recipient.certificate_serial}) (И.7)",
    )


def _network_fault(error: httpx.HTTPError) -> TransportFault:
    cause: BaseException | None = error
    for _ in range(16):  # the chain of causes, bounded
        if cause is None:
            break
        if isinstance(cause, ssl.SSLCertVerificationError):
            return TransportFault(
                f"the server certificate is not valid or not trusted (И.7): "
                f"{cause.verify_message or cause}",
                code="И.7",
                message_bg="Сървърният сертификат не е валиден или не е доверен (И.7)",
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, httpx.TimeoutException):
        return TransportFault(
            f"the call timed out (И.8): {type(error).__name__}",
            code="И.8",
            message_bg="Изтече времето за изчакване на отговор (И.8)",
        )
    return TransportFault(
        f"the message could not be delivered (И.8): {type(error).__name__}: {error}",
        code="И.8",
        message_bg=f"Съобщението не може да бъде доставено (И.8): {type(error).__name__}",
    )


def _content_type_ok(value: str | None) -> bool:
    media = (value or "").split(";", 1)[0].strip().lower()
    return media in _XML_TYPES


class _SubmitCore:
    """Configuration and the steps shared by the sync and async clients."""

    def __init__(
        self,
        credentials: TlsCredentials,
        *,
        register: Register,
        ca: Sequence[x509.Certificate] | Path,
        participant: Guid | str | None,
        seen: SeenMessages | None,
        timeouts: SubmitTimeouts,
        max_response_bytes: int,
        check_hostname: bool,
        check_outgoing: bool,
        allow_sha1: bool,
        schemas: Path | None,
        limits: XmlLimits,
        max_connections: int,
        response_policy: ResponsePolicy | None,
    ) -> None:
        if max_response_bytes < 1:
            raise ValueError("max_response_bytes must be positive")
        roots = load_certificates(ca) if isinstance(ca, Path) else list(ca)
        self.credentials = credentials
        self.register = register
        self.participant = (
            None
            if participant is None
            else participant
            if isinstance(participant, Guid)
            else Guid.parse_lenient(participant)
        )
        self.timeouts = timeouts
        self.max_response_bytes = max_response_bytes
        self.check_outgoing_enabled = check_outgoing
        self.limits = limits
        self.limits_httpx = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
        )
        self.ssl_context = credentials.client_context(roots, check_hostname=check_hostname)
        self.checks = ExchangeChecks(
            register=register,
            certificate=credentials.certificate,
            trust=CertificateAuthorities(roots),
            seen=seen,
            schemas=schemas,
            allow_sha1=allow_sha1,
            limits=limits,
            response_policy=response_policy,
        )

    def check_outgoing(self, message: bytes, recipient: Participant | None) -> OutgoingMessage:
        outgoing = self.checks.check_outgoing(message, recipient)
        if self.participant is not None and outgoing.sender.guid != self.participant:
            raise SenderError(
                f"the message's sender {outgoing.sender} is not this participant "
                f"{self.participant} (И.3)",
                code="И.3",
                message_bg=f"Подателят на съобщението {outgoing.sender} не е този участник "
                f"{self.participant} (И.3)",
            )
        return outgoing

    def prepare(self, recipient: Participant, message: bytes) -> _Prepared:
        message = bytes(message)
        outgoing = (
            self.check_outgoing(message, recipient)
            if self.check_outgoing_enabled
            else read_outgoing(message, limits=self.limits)
        )
        try:
            url = recipient.endpoint
        except RegistryError as error:
            raise TransportFault(
                str(error), code="SUBMIT-NO-ENDPOINT", message_bg=error.message_bg
            ) from None
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme != "https" or not parsed.host:
            raise TransportFault(
                f"the registered endpoint of {recipient.guid} is not an https:// URL: {url!r}",
                code="SUBMIT-ENDPOINT",
                message_bg=f"Регистрираната крайна точка на {recipient.guid} не е https:// "
                f"адрес: {url!r}",
            )
        origin = (parsed.scheme, parsed.host, parsed.port or 443)
        return _Prepared(outgoing, url, origin, build_submit_request(message))

    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": SOAP11_CONTENT_TYPE,
            "SOAPAction": f'"{SUBMIT_ACTION}"',
            "Accept": "text/xml",
        }

    def check_peer(self, recipient: Participant, certificate: x509.Certificate | None) -> None:
        if certificate is None or not recipient.holds_certificate(certificate):
            raise _wrong_server(recipient, certificate)

    def too_large(self, size: int | None = None) -> ReceiverError:
        what = f"{size} bytes" if size is not None else "more"
        return ReceiverError(
            f"the answer has {what}, more than the limit of {self.max_response_bytes} bytes",
            code="SUBMIT-TOO-LARGE",
            message_bg=f"Отговорът надвишава допустимите {self.max_response_bytes} байта",
        )

    def declared_length(self, response: httpx.Response) -> None:
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.max_response_bytes:
            raise self.too_large(int(length))

    def deadline_fault(self) -> TransportFault:
        return TransportFault(
            f"no complete answer within {self.timeouts.total} s (И.8)",
            code="И.8",
            message_bg=f"Няма пълен отговор в рамките на {self.timeouts.total} s (И.8)",
        )

    def interpret(self, status: int, content_type: str | None, body: bytes) -> bytes | None:
        if status == 200 and not _content_type_ok(content_type):
            _receiver_error(
                "SUBMIT-CONTENT-TYPE",
                f"the answer's content type is {content_type!r}, not text/xml",
                f"Видът на съдържанието на отговора е {content_type!r}, а не text/xml",
            )
        if status != 200 and not _content_type_ok(content_type):
            raise _status_fault(status, body)
        return read_submit_response(body, status=status, limits=self.limits)


_ClientT = TypeVar("_ClientT")


class _Pooled(Generic[_ClientT]):
    """A client serving one recipient, and how many TLS handshakes И.7 has checked on it."""

    __slots__ = ("client", "handshakes")

    def __init__(self, client: _ClientT) -> None:
        self.client = client
        self.handshakes = 0

    def require_checked_handshake(self) -> None:
        """Refuse an answer that came over a connection whose handshake was not inspected
        (the HTTP library did not report it: the И.7 check cannot be guaranteed)."""
        if self.handshakes == 0:
            raise TransportFault(
                "the TLS handshake could not be inspected before sending (И.7); the installed "
                "httpx/httpcore does not report it",
                code="И.7",
                message_bg="Сървърният сертификат не можа да бъде проверен преди изпращането (И.7)",
            )


class _ClientCache(Generic[_ClientT]):
    """Clients by (recipient, expected certificate, origin); the least recently used is
    closed beyond a bound."""

    def __init__(self) -> None:
        self._clients: collections.OrderedDict[tuple[object, ...], _Pooled[_ClientT]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def get(
        self, key: tuple[object, ...], make: Callable[[], _ClientT]
    ) -> tuple[_Pooled[_ClientT], list[_ClientT]]:
        evicted: list[_ClientT] = []
        with self._lock:
            pooled = self._clients.get(key)
            if pooled is None:
                pooled = _Pooled(make())
                self._clients[key] = pooled
                while len(self._clients) > _CLIENTS_PER_TRANSPORT:
                    evicted.append(self._clients.popitem(last=False)[1].client)
            else:
                self._clients.move_to_end(key)
        return pooled, evicted

    def drain(self) -> list[_ClientT]:
        with self._lock:
            clients = [pooled.client for pooled in self._clients.values()]
            self._clients.clear()
        return clients


class SubmitTransport(Transport):
    """The СЕОС ``Submit`` client (synchronous, thread-safe): see the module documentation.

    :param credentials: our transport certificate and key (mutual TLS; И.6 also requires the
        outgoing messages to be signed with this certificate).
    :param register: the participants' register (the recipient's certificate serial, И.3,
        И.4, И.6, И.14).
    :param ca: the CAs that issue transport certificates (a list, or a PEM / DER / PKCS#7
        file): servers are checked against them only, never the system store.
    :param participant: our own participant GUID: outgoing messages must name it as sender.
    :param seen: the ``MessageGUID`` values already received or sent (И.15; e.g. the
        journal); an in-memory set by default.
    :param timeouts: see :class:`SubmitTimeouts`.
    :param max_response_bytes: the largest accepted answer (default 16 MiB).
    :param check_hostname: also match the server certificate with the URL's host name
        (recommended by the specification; on by default).
    :param check_outgoing: run И.1–И.6 before sending (on by default; when off, only the
        header is read).
    :param allow_sha1: accept RSA-SHA1 signatures on responses (old deployments).
    :param schemas: an official schema folder for the XSD checks (default: eintegr's own).
    :param limits: parsing limits of messages, answers and envelopes.
    :param max_connections: connections kept per recipient.
    :param response_policy: the signature policy of responses (see
        :class:`~eintegr.transport.checks.ExchangeChecks`); by default pinned to the
        certificate the server presented in TLS.
    """

    def __init__(
        self,
        credentials: TlsCredentials,
        *,
        register: Register,
        ca: Sequence[x509.Certificate] | Path,
        participant: Guid | str | None = None,
        seen: SeenMessages | None = None,
        timeouts: SubmitTimeouts | None = None,
        max_response_bytes: int = 16 * _MIB,
        check_hostname: bool = True,
        check_outgoing: bool = True,
        allow_sha1: bool = False,
        schemas: Path | None = None,
        limits: XmlLimits = DEFAULT_LIMITS,
        max_connections: int = 10,
        response_policy: ResponsePolicy | None = None,
    ) -> None:
        self._core = _SubmitCore(
            credentials,
            register=register,
            ca=ca,
            participant=participant,
            seen=seen,
            timeouts=timeouts or SubmitTimeouts(),
            max_response_bytes=max_response_bytes,
            check_hostname=check_hostname,
            check_outgoing=check_outgoing,
            allow_sha1=allow_sha1,
            schemas=schemas,
            limits=limits,
            max_connections=max_connections,
            response_policy=response_policy,
        )
        self._clients: _ClientCache[httpx.Client] = _ClientCache()
        self._closed = False

    @property
    def checks(self) -> ExchangeChecks:
        """The sender's checks this transport runs."""
        return self._core.checks

    def check_outgoing(
        self, message: bytes, recipient: Participant | None = None
    ) -> OutgoingMessage:
        """Run the checks before sending (И.1–И.6) without sending.

        :raises SenderError: code ``И.1`` … ``И.6``.
        """
        return self._core.check_outgoing(bytes(message), recipient)

    def send(self, recipient: Participant, message: bytes) -> Outcome:
        """Submit ``message`` to ``recipient``'s registered endpoint; see the module docs.

        :raises SenderError: И.1–И.6 (nothing was sent).
        :raises TransportFault: И.7 (nothing was sent), И.8, ``SUBMIT-NO-ENDPOINT``,
            ``SUBMIT-ENDPOINT``, ``TRANSPORT-CLOSED``.
        :raises ReceiverError: И.9–И.15, ``SUBMIT-SOAP``, ``SUBMIT-CONTENT-TYPE``,
            ``SUBMIT-TOO-LARGE``, ``SEOS-RESPONSE-KIND``.
        """
        if self._closed:
            raise closed_fault("Submit transport")
        core = self._core
        prepared = core.prepare(recipient, message)
        pooled = self._client(recipient, prepared)
        client = pooled.client

        def trace(event: str, info: dict[str, Any]) -> None:
            if event == "connection.start_tls.complete":
                stream = info.get("return_value")
                try:
                    core.check_peer(recipient, _peer_certificate(stream))
                except TransportFault:
                    if stream is not None:
                        stream.close()
                    raise
                pooled.handshakes += 1

        started = time.monotonic()
        try:
            with client.stream(
                "POST",
                prepared.url,
                content=prepared.body,
                headers=core.headers(),
                extensions={"trace": trace},
            ) as response:
                pooled.require_checked_handshake()
                peer = _peer_certificate(response.extensions.get("network_stream"))
                core.check_peer(recipient, peer)
                core.declared_length(response)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > core.max_response_bytes:
                        raise core.too_large()
                    if time.monotonic() - started > core.timeouts.total:
                        raise core.deadline_fault()
                    chunks.append(chunk)
                status, content_type = response.status_code, response.headers.get("Content-Type")
        except httpx.HTTPError as error:
            raise _network_fault(error) from error
        answer = core.interpret(status, content_type, b"".join(chunks))
        if answer is None:
            return Outcome(None)
        core.checks.check_response(answer, prepared.outgoing, recipient, peer_certificate=peer)
        return Outcome(answer)

    def _client(self, recipient: Participant, prepared: _Prepared) -> _Pooled[httpx.Client]:
        core = self._core
        key = (recipient.guid, recipient.certificate_serial, prepared.origin)
        pooled, evicted = self._clients.get(
            key,
            lambda: httpx.Client(
                verify=core.ssl_context,
                timeout=core.timeouts.httpx(),
                limits=core.limits_httpx,
                trust_env=False,
                follow_redirects=False,
                http1=True,
                http2=False,
            ),
        )
        for old in evicted:
            old.close()
        return pooled

    def close(self) -> None:
        """Close every pooled connection; further sends raise ``TRANSPORT-CLOSED``."""
        self._closed = True
        for client in self._clients.drain():
            client.close()


class AsyncSubmitTransport(AsyncTransport):
    """The asynchronous twin of :class:`SubmitTransport` (same parameters and checks).

    The CPU-bound checks (XSD, signatures) run in worker threads, so the event loop stays
    responsive with large messages.
    """

    def __init__(
        self,
        credentials: TlsCredentials,
        *,
        register: Register,
        ca: Sequence[x509.Certificate] | Path,
        participant: Guid | str | None = None,
        seen: SeenMessages | None = None,
        timeouts: SubmitTimeouts | None = None,
        max_response_bytes: int = 16 * _MIB,
        check_hostname: bool = True,
        check_outgoing: bool = True,
        allow_sha1: bool = False,
        schemas: Path | None = None,
        limits: XmlLimits = DEFAULT_LIMITS,
        max_connections: int = 10,
        response_policy: ResponsePolicy | None = None,
    ) -> None:
        self._core = _SubmitCore(
            credentials,
            register=register,
            ca=ca,
            participant=participant,
            seen=seen,
            timeouts=timeouts or SubmitTimeouts(),
            max_response_bytes=max_response_bytes,
            check_hostname=check_hostname,
            check_outgoing=check_outgoing,
            allow_sha1=allow_sha1,
            schemas=schemas,
            limits=limits,
            max_connections=max_connections,
            response_policy=response_policy,
        )
        self._clients: _ClientCache[httpx.AsyncClient] = _ClientCache()
        self._closed = False

    @property
    def checks(self) -> ExchangeChecks:
        """The sender's checks this transport runs."""
        return self._core.checks

    async def check_outgoing(
        self, message: bytes, recipient: Participant | None = None
    ) -> OutgoingMessage:
        """Run the checks before sending (И.1–И.6) without sending (in a worker thread)."""
        return await anyio.to_thread.run_sync(self._core.check_outgoing, bytes(message), recipient)

    async def send(self, recipient: Participant, message: bytes) -> Outcome:
        """Submit ``message`` to ``recipient``; see :meth:`SubmitTransport.send`."""
        if self._closed:
            raise closed_fault("Submit transport")
        core = self._core
        prepared = await anyio.to_thread.run_sync(core.prepare, recipient, message)
        pooled = await self._client(recipient, prepared)
        client = pooled.client

        async def trace(event: str, info: dict[str, Any]) -> None:
            if event == "connection.start_tls.complete":
                stream = info.get("return_value")
                try:
                    core.check_peer(recipient, _peer_certificate(stream))
                except TransportFault:
                    if stream is not None:
                        await stream.aclose()
                    raise
                pooled.handshakes += 1

        try:
            with anyio.fail_after(core.timeouts.total):
                async with client.stream(
                    "POST",
                    prepared.url,
                    content=prepared.body,
                    headers=core.headers(),
                    extensions={"trace": trace},
                ) as response:
                    pooled.require_checked_handshake()
                    peer = _peer_certificate(response.extensions.get("network_stream"))
                    core.check_peer(recipient, peer)
                    core.declared_length(response)
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > core.max_response_bytes:
                            raise core.too_large()
                        chunks.append(chunk)
                    status = response.status_code
                    content_type = response.headers.get("Content-Type")
        except TimeoutError:
            raise core.deadline_fault() from None
        except httpx.HTTPError as error:
            raise _network_fault(error) from error
        body = b"".join(chunks)
        answer = await anyio.to_thread.run_sync(core.interpret, status, content_type, body)
        if answer is None:
            return Outcome(None)
        await anyio.to_thread.run_sync(
            lambda: core.checks.check_response(
                answer, prepared.outgoing, recipient, peer_certificate=peer
            )
        )
        return Outcome(answer)

    async def _client(
        self, recipient: Participant, prepared: _Prepared
    ) -> _Pooled[httpx.AsyncClient]:
        core = self._core
        key = (recipient.guid, recipient.certificate_serial, prepared.origin)
        pooled, evicted = self._clients.get(
            key,
            lambda: httpx.AsyncClient(
                verify=core.ssl_context,
                timeout=core.timeouts.httpx(),
                limits=core.limits_httpx,
                trust_env=False,
                follow_redirects=False,
                http1=True,
                http2=False,
            ),
        )
        for old in evicted:
            await old.aclose()
        return pooled

    async def aclose(self) -> None:
        """Close every pooled connection; further sends raise ``TRANSPORT-CLOSED``."""
        self._closed = True
        for client in self._clients.drain():
            await client.aclose()
