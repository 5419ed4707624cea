"""The СЕОС ``Submit`` web service: an ASGI application, and uvicorn runners with mutual TLS.

:class:`SubmitApp` is a plain ASGI 3 application a host system can mount (uvicorn,
hypercorn, or any ASGI server); it speaks SOAP 1.1 exactly as ``EGovEndpoint.wsdl`` describes
the operation (document/literal, namespace ``http://services.egov.bg/messaging/``, SOAPAction
``http://services.egov.bg/messaging/IEGovService/Submit``, the signed message as an escaped
string in ``Submit/request``) and hands each message to a
:class:`~eintegr.transport.base.Receiver` — normally a
:class:`~eintegr.transport.receiving.ReceivingPipeline`:

* ``POST`` only (``GET ?wsdl`` serves a WSDL generated here); ``Content-Type: text/xml``;
  the SOAPAction of ``Submit``;
* the client certificate comes from the ASGI TLS extension
  (``scope["extensions"]["tls"]["client_cert_chain"]``) or, behind a TLS-terminating reverse
  proxy and only from the configured proxy addresses, from a forwarded header
  (:class:`ForwardedCertificate`; off by default); a request without one is refused (П.1)
  before its body is read;
* the body is limited *while it is read* (``413`` and a fault as soon as it grows past
  ``max_body_bytes``) and must arrive within ``body_timeout`` seconds (``408``);
* the answer is an empty ``SubmitResponse``, one whose ``SubmitResult`` holds the signed
  response, or a SOAP 1.1 fault (HTTP 500): ``faultcode`` ``Client`` for the sender's
  errors, ``Server`` for the receiver's and for temporary ones; ``faultstring`` starts with
  the check ID (``"П.3: …"``) and ``detail`` holds a ``SubmitFault`` element (namespace
  :data:`FAULT_NS`) with ``Code``, ``Outcome`` (``sender`` / ``receiver`` / ``retry``) and
  the message in English and Bulgarian (``Message xml:lang="en|bg"``).

:class:`SubmitServer` (background thread: tests, demos, embedding) and :func:`run_submit_server`
(foreground: ``eintegr serve``) run an application on uvicorn with the
:class:`ClientCertificateProtocol`, which adds the ASGI TLS extension uvicorn does not
provide, and closes connections whose request head does not arrive within
``head_timeout`` seconds (slow clients).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import re
import ssl
import threading
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Self, TypeVar
from urllib.parse import parse_qs, unquote

import anyio
import anyio.to_thread
import uvicorn
from cryptography import x509
from lxml import etree
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from eintegr.errors import (
    EintegrError,
    ReceiverError,
    SenderError,
    SoapError,
    TransportError,
    TransportFault,
)
from eintegr.transport._uvicorn import uvicorn_config
from eintegr.transport.asgi_server import ASGIApp, BackgroundServer, acknowledge_lifespan
from eintegr.transport.base import Receiver
from eintegr.transport.receiving import DEFAULT_MAX_MESSAGE_BYTES, ReceivingPipeline
from eintegr.transport.soap import (
    SOAP11_CONTENT_TYPE,
    SoapFault,
    build_envelope,
    build_fault,
    parse_envelope,
)
from eintegr.transport.submit_client import SUBMIT_ACTION, SUBMIT_NS
from eintegr.xml import XmlLimits, parse_xml

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "FAULT_NS",
    "ClientCertificateProtocol",
    "ForwardedCertificate",
    "SubmitApp",
    "SubmitServer",
    "run_submit_server",
    "submit_wsdl",
]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

FAULT_NS: Final = "urn:eintegr:seos:submit-fault"
"""The namespace of the ``SubmitFault`` element in a fault's ``detail``."""
DEFAULT_MAX_BODY_BYTES: Final = 2 * DEFAULT_MAX_MESSAGE_BYTES + 1024 * 1024
"""The default largest request body: the escaped message grows (``<`` becomes ``&lt;``), the
base64 of attachments does not."""

_XSD_NS = "http://www.w3.org/2001/XMLSchema"
_WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_WSOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_SUBMIT = f"{{{SUBMIT_NS}}}Submit"
_REQUEST = f"{{{SUBMIT_NS}}}request"
_DECLARATION = re.compile(r"\A\s*<\?xml\s[^?]*\?>")
_ENCODING = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


# --- faults ----------------------------------------------------------------------------------


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (they become U+FFFD)."""
    return _NOT_XML.sub("\ufffd", text)


def _outcome(error: TransportError) -> str:
    if isinstance(error, SenderError):
        return "sender"
    if isinstance(error, ReceiverError):
        return "receiver"
    return "retry"


def _fault_body(error: EintegrError) -> bytes:
    outcome = _outcome(error) if isinstance(error, TransportError) else "sender"
    detail = etree.Element(f"{{{FAULT_NS}}}SubmitFault", nsmap={"f": FAULT_NS})
    etree.SubElement(detail, f"{{{FAULT_NS}}}Code").text = _xml_text(error.code)
    etree.SubElement(detail, f"{{{FAULT_NS}}}Outcome").text = outcome
    english = etree.SubElement(detail, f"{{{FAULT_NS}}}Message")
    english.set(_XML_LANG, "en")
    english.text = _xml_text(error.message)
    bulgarian = etree.SubElement(detail, f"{{{FAULT_NS}}}Message")
    bulgarian.set(_XML_LANG, "bg")
    bulgarian.text = _xml_text(error.message_bg)
    return build_fault(
        SoapFault(
            code="Client" if outcome == "sender" else "Server",
            string=_xml_text(f"{error.code}: {error.message}"),
            detail=etree.tostring(detail, encoding="unicode"),
        )
    )


def _sender(code: str, en: str, bg: str) -> SenderError:
    return SenderError(en, code=code, message_bg=bg)


_INTERNAL = TransportFault(
    "internal error of the receiving endpoint; retry later",
    code="RECV-INTERNAL",
    message_bg="Вътрешна грешка на крайната точка на получателя; опитайте отново по-късно",
)


# --- the WSDL --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def submit_wsdl(location: str) -> bytes:
    """A WSDL 1.1 document of the ``Submit`` service at ``location`` (generated, not copied).

    It describes the same operation as the specification's ``EGovEndpoint.wsdl`` —
    document/literal SOAP 1.1, the same element names, namespace and SOAPAction — plus a
    ``service`` element with the endpoint's address.
    """
    w = f"{{{_WSDL_NS}}}"
    xs = f"{{{_XSD_NS}}}"
    ws = f"{{{_WSOAP_NS}}}"
    root = etree.Element(
        w + "definitions",
        nsmap={"wsdl": _WSDL_NS, "soap": _WSOAP_NS, "xsd": _XSD_NS, "tns": SUBMIT_NS},
        targetNamespace=SUBMIT_NS,
        name="EGovService",
    )
    schema = etree.SubElement(
        etree.SubElement(root, w + "types"),
        xs + "schema",
        targetNamespace=SUBMIT_NS,
        elementFormDefault="qualified",
    )
    for element_name, child_name in (("Submit", "request"), ("SubmitResponse", "SubmitResult")):
        declared = etree.SubElement(schema, xs + "element", name=element_name)
        sequence = etree.SubElement(etree.SubElement(declared, xs + "complexType"), xs + "sequence")
        etree.SubElement(
            sequence,
            xs + "element",
            name=child_name,
            type="xsd:string",
            minOccurs="0",
            nillable="true",
        )
    for message, element_name in (
        ("IEGovService_Submit_InputMessage", "Submit"),
        ("IEGovService_Submit_OutputMessage", "SubmitResponse"),
    ):
        part = etree.SubElement(etree.SubElement(root, w + "message", name=message), w + "part")
        part.set("name", "parameters")
        part.set("element", f"tns:{element_name}")
    port_type = etree.SubElement(root, w + "portType", name="IEGovService")
    operation = etree.SubElement(port_type, w + "operation", name="Submit")
    etree.SubElement(operation, w + "documentation").text = "Submits a signed СЕОС message"
    etree.SubElement(operation, w + "input", message="tns:IEGovService_Submit_InputMessage")
    etree.SubElement(operation, w + "output", message="tns:IEGovService_Submit_OutputMessage")
    binding = etree.SubElement(root, w + "binding", name="EGovService", type="tns:IEGovService")
    etree.SubElement(binding, ws + "binding", transport="http://schemas.xmlsoap.org/soap/http")
    bound = etree.SubElement(binding, w + "operation", name="Submit")
    etree.SubElement(bound, ws + "operation", soapAction=SUBMIT_ACTION, style="document")
    for direction in ("input", "output"):
        etree.SubElement(etree.SubElement(bound, w + direction), ws + "body", use="literal")
    service = etree.SubElement(root, w + "service", name="EGovService")
    port = etree.SubElement(service, w + "port", name="EGovService", binding="tns:EGovService")
    etree.SubElement(port, ws + "address", location=location)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


# --- reverse proxies -------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardedCertificate:
    """Read the client certificate from a header set by a TLS-terminating reverse proxy.

    Only requests whose TCP peer is one of ``trusted_proxies`` are read this way (the header
    of any other peer is ignored): the proxy must verify the client certificate against the
    participants' CAs and **overwrite** the header on every request (nginx:
    ``proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;``).

    :param trusted_proxies: IP addresses or networks (``"10.0.0.5"``, ``"10.0.0.0/24"``).
    :param header: the header's name (case-insensitive); its value is a URL-encoded PEM
        certificate, or empty when the client presented none.
    :raises ValueError: no proxy, or one that is not an address or network.
    """

    trusted_proxies: Sequence[str]
    header: str = "x-ssl-client-cert"
    _networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if isinstance(self.trusted_proxies, str):
            raise TypeError("trusted_proxies is a sequence of addresses, not one string")
        networks = tuple(
            ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies
        )
        if not networks:
            raise ValueError("ForwardedCertificate needs at least one trusted proxy address")
        object.__setattr__(self, "_networks", networks)

    def trusts(self, peer: str) -> bool:
        """True when ``peer`` (an IP address) is one of the trusted proxies."""
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    @property
    def header_bytes(self) -> bytes:
        """The header's name, lower-case, as ASGI presents it."""
        return self.header.strip().lower().encode("latin-1")


# --- the application -------------------------------------------------------------------------

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class SubmitApp:
    """The ASGI 3 application of the ``Submit`` web service (see the module documentation).

    :param receiver: what checks and processes each message (a
        :class:`~eintegr.transport.receiving.ReceivingPipeline`).
    :param max_body_bytes: the largest request body; refused while reading (HTTP 413).
    :param body_timeout: seconds within which the whole body must arrive (HTTP 408).
    :param forwarded_certificate: read the client certificate from a reverse proxy's header
        (off by default).
    :param require_client_certificate: refuse (П.1) before reading the body when there is no
        client certificate; default: the receiver's ``requires_client_certificate``, else on.
    :param public_url: the endpoint's address in the WSDL (default: from the request).
    :param max_threads: how many messages are processed at once in worker threads.
    :param inline_check_bytes: for a :class:`~eintegr.transport.receiving.ReceivingPipeline`
        receiver, messages up to this size are checked (П.1–П.9, CPU only) on the event loop
        instead of a worker thread, which saves the hand-off (a small message takes about a
        millisecond); the handler still runs in a worker thread. Only when the register's and
        the ``seen`` store's look-ups do not block (in memory). Default 0: everything in
        worker threads.
    :param inline_handler: deliver those small messages on the event loop too (the handler,
        the response's checks): no thread hand-off at all, but every connection waits while
        the handler runs — only for a handler that never blocks long, such as
        :class:`~eintegr.transport.receiving.FolderHandler` on a local disk.
    """

    def __init__(
        self,
        receiver: Receiver,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        body_timeout: float = 60.0,
        forwarded_certificate: ForwardedCertificate | None = None,
        require_client_certificate: bool | None = None,
        public_url: str | None = None,
        max_threads: int = 16,
        inline_check_bytes: int = 0,
        inline_handler: bool = False,
    ) -> None:
        if max_body_bytes < 1 or body_timeout <= 0 or max_threads < 1 or inline_check_bytes < 0:
            raise ValueError(
                "max_body_bytes, body_timeout and max_threads must be positive, "
                "inline_check_bytes not negative"
            )
        self._inline_check_bytes = inline_check_bytes
        self._inline_handler = inline_handler
        self._receiver = receiver
        self._max_body = max_body_bytes
        self._limits = XmlLimits(max_bytes=max_body_bytes)
        self._body_timeout = body_timeout
        self._forwarded = forwarded_certificate
        if require_client_certificate is None:
            require_client_certificate = bool(
                getattr(receiver, "requires_client_certificate", True)
            )
        self._require_certificate = require_client_certificate
        self._public_url = public_url
        self._max_threads = max_threads
        self._limiter: anyio.CapacityLimiter | None = None
        self._certificates: dict[str, x509.Certificate] = {}
        self._certificates_lock = threading.Lock()

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """Serve one ASGI connection scope (``http``; ``lifespan`` is acknowledged)."""
        kind = scope["type"]
        if kind == "lifespan":
            await acknowledge_lifespan(receive, send)
            return
        if kind != "http":  # pragma: no cover - websockets are not part of the service
            return
        try:
            await self._http(scope, receive, send)
        except _Disconnected:
            _log.info("Submit: the client disconnected before the whole request arrived")

    async def _http(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        method = scope["method"]
        if method in ("GET", "HEAD") and _wants_wsdl(scope):
            await self._send(
                send,
                200,
                submit_wsdl(self._location(scope)),
                head_only=method == "HEAD",
            )
            return
        headers = _headers(scope)
        if method != "POST":
            refusal = _sender(
                "SOAP-METHOD",
                f"the Submit service takes POST requests, not {method}",
                f"Услугата Submit приема заявки POST, а не {method}",
            )
            await self._fault(send, refusal, 405, extra=[(b"allow", b"POST, GET")], close=True)
            return
        content_type = (
            headers.get(b"content-type", b"").split(b";")[0].strip().lower().decode("latin-1")
        )
        if content_type != "text/xml":
            refusal = _sender(
                "SOAP-CONTENT-TYPE",
                f"the Content-Type must be text/xml (SOAP 1.1), not {content_type!r}",
                f"Типът на съдържанието трябва да е text/xml (SOAP 1.1), а не {content_type!r}",
            )
            await self._fault(send, refusal, 415, close=True)
            return
        action = headers.get(b"soapaction", b"").strip().strip(b'"').decode("latin-1")
        if action != SUBMIT_ACTION:
            refusal = _sender(
                "SOAP-ACTION",
                f"the SOAPAction must be {SUBMIT_ACTION!r}, not {action!r}",
                f"SOAPAction трябва да е {SUBMIT_ACTION!r}, а не {action!r}",
            )
            await self._fault(send, refusal, 500, close=True)
            return
        try:
            certificate = self._client_certificate(scope, headers)
        except SenderError as error:
            await self._fault(send, error, 500, close=True)
            return
        if certificate is None and self._require_certificate:
            refusal = _sender(
                "П.1",
                "no client certificate: the connection must use mutual TLS with the sender's "
                "transport certificate",
                "Липсва клиентски сертификат: връзката трябва да е с взаимна TLS автентикация "
                "с транспортния сертификат на подателя",
            )
            await self._fault(send, refusal, 500, close=True)
            return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max_body):
            await self._too_large(send)
            return
        try:
            with anyio.fail_after(self._body_timeout):
                body = await self._read_body(receive)
        except _TooLarge:
            await self._too_large(send)
            return
        except TimeoutError:
            refusal = _sender(
                "RECV-TIMEOUT",
                f"the request body did not arrive within {self._body_timeout:g} seconds",
                f"Тялото на заявката не пристигна в рамките на {self._body_timeout:g} секунди",
            )
            await self._fault(send, refusal, 408, close=True)
            return
        try:
            message = self._message(body)
        except SenderError as error:
            await self._fault(send, error, 500)
            return
        try:
            response = await self._process(message, certificate)
        except TransportError as error:
            await self._fault(send, error, 500)
            return
        except Exception:
            _log.exception("Submit: the receiver failed unexpectedly")
            await self._fault(send, _INTERNAL, 500)
            return
        await self._send(send, 200, _EMPTY_ANSWER if response is None else _answer(response))

    async def _process(self, message: bytes, certificate: x509.Certificate | None) -> bytes | None:
        receiver = self._receiver
        if not isinstance(receiver, ReceivingPipeline):
            return await self._in_thread(
                functools.partial(receiver, message, client_certificate=certificate)
            )
        inline = len(message) <= self._inline_check_bytes
        check = functools.partial(receiver.check, message, client_certificate=certificate)
        received = check() if inline else await self._in_thread(check)
        try:
            if inline and self._inline_handler:
                return receiver.deliver(received)
            return await self._in_thread(functools.partial(receiver.deliver, received))
        finally:
            receiver.release(received)  # also when the request was cancelled before delivery

    async def _in_thread(self, call: Callable[[], _T]) -> _T:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._max_threads)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    async def _read_body(self, receive: _Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                raise _Disconnected
            chunk = event.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not event.get("more_body", False):
                return b"".join(chunks)

    def _message(self, body: bytes) -> bytes:
        """The signed message carried in ``Submit/request``, as UTF-8 bytes."""
        try:
            envelope = parse_envelope(body, limits=self._limits)
            submit = envelope.body_element
        except SoapError as error:
            raise _sender(
                error.code,
                f"the request is not a SOAP 1.1 envelope: {error}",
                f"Заявката не е SOAP 1.1 плик: {error.message_bg}",
            ) from None
        if submit.tag != _SUBMIT:
            raise _sender(
                "SOAP-OPERATION",
                f"the SOAP body holds {submit.tag!r}, not {_SUBMIT!r}",
                f"Тялото на SOAP съобщението съдържа {submit.tag!r}, а не {_SUBMIT!r}",
            )
        requests = [child for child in submit if isinstance(child.tag, str)]
        request = requests[0] if len(requests) == 1 and requests[0].tag == _REQUEST else None
        if request is None or request.get(_XSI_NIL) in ("true", "1") or not request.text:
            raise _sender(
                "П.2",
                "Submit carries no message (request is missing, nil or empty)",
                "Submit не съдържа съобщение (request липсва, е nil или е празен)",
            )
        return _utf8(request.text)

    def _client_certificate(
        self, scope: _Scope, headers: dict[bytes, bytes]
    ) -> x509.Certificate | None:
        forwarded = self._forwarded
        client = scope.get("client")
        if forwarded is not None and client and forwarded.trusts(str(client[0])):
            value = headers.get(forwarded.header_bytes, b"").strip()
            if not value or value == b"(null)":
                return None
            return self._certificate(unquote(value.decode("latin-1")))
        tls = (scope.get("extensions") or {}).get("tls")
        chain = tls.get("client_cert_chain") if isinstance(tls, dict) else None
        if not chain:
            return None
        return self._certificate(str(chain[0]))

    def _certificate(self, pem: str) -> x509.Certificate:
        with self._certificates_lock:
            cached = self._certificates.get(pem)
        if cached is not None:
            return cached
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise _sender(
                "П.1",
                "the client certificate cannot be read",
                "Клиентският сертификат не може да бъде прочетен",
            ) from None
        with self._certificates_lock:
            if len(self._certificates) >= 1024:
                self._certificates.clear()
            self._certificates[pem] = certificate
        return certificate

    def _location(self, scope: _Scope) -> str:
        if self._public_url:
            return self._public_url
        headers = _headers(scope)
        host = headers.get(b"host", b"").decode("latin-1")
        if not host:
            server = scope.get("server") or ("localhost", None)
            host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
        path = scope.get("root_path", "") + scope.get("path", "/")
        return f"{scope.get('scheme', 'https')}://{host}{path}"

    async def _too_large(self, send: _Send) -> None:
        error = _sender(
            "RECV-TOO-LARGE",
            f"the request is larger than the limit of {self._max_body} bytes",
            f"Заявката е по-голяма от допустимите {self._max_body} байта",
        )
        await self._fault(send, error, 413, close=True)

    async def _fault(
        self,
        send: _Send,
        error: EintegrError,
        status: int,
        *,
        extra: Sequence[tuple[bytes, bytes]] = (),
        close: bool = False,
    ) -> None:
        await self._send(send, status, _fault_body(error), extra=extra, close=close)

    @staticmethod
    async def _send(
        send: _Send,
        status: int,
        body: bytes,
        *,
        extra: Sequence[tuple[bytes, bytes]] = (),
        close: bool = False,
        head_only: bool = False,
    ) -> None:
        headers = [
            (b"content-type", SOAP11_CONTENT_TYPE.encode("ascii")),
            (b"content-length", str(len(body)).encode("ascii")),
            *extra,
        ]
        if close:  # the rest of the request was not read: do not reuse the connection
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head_only else body})


def _answer(response: bytes | None) -> bytes:
    """The ``SubmitResponse`` envelope: empty, or the response message as a string."""
    result = etree.Element(f"{{{SUBMIT_NS}}}SubmitResponse", nsmap={None: SUBMIT_NS})
    if response is not None:
        try:
            text = response.decode("utf-8")
        except UnicodeDecodeError:  # another encoding, as its declaration says (checked П.10)
            encoding = parse_xml(response).docinfo.encoding or "utf-8"
            text = response.decode(encoding)
        etree.SubElement(result, f"{{{SUBMIT_NS}}}SubmitResult").text = _utf8_text(text)
    return build_envelope([result])


_EMPTY_ANSWER: Final = _answer(None)


def _headers(scope: _Scope) -> dict[bytes, bytes]:
    return {bytes(name).lower(): bytes(value) for name, value in scope.get("headers", ())}


def _wants_wsdl(scope: _Scope) -> bool:
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    keys = {key.lower() for key in parse_qs(query, keep_blank_values=True)}
    return "wsdl" in keys or query.lower() == "wsdl"


def _utf8_text(text: str) -> str:
    """The message text, its XML declaration (if any) saying UTF-8.

    A string travels without its encoding: .NET peers serialize the message with
    ``encoding="utf-16"`` in the declaration. The declaration is not signed (C14N drops it).
    """
    text = text.lstrip("\ufeff")
    declaration = _DECLARATION.match(text)
    if declaration is not None:
        encoding = _ENCODING.search(declaration.group(0))
        if encoding is not None and encoding.group(1).lower().replace("_", "-") not in (
            "utf-8",
            "utf8",
        ):
            text = '<?xml version="1.0" encoding="utf-8"?>' + text[declaration.end() :]
    return text


def _utf8(text: str) -> bytes:
    """The message text as UTF-8 bytes, its XML declaration (if any) saying so."""
    return _utf8_text(text).encode("utf-8")


# --- uvicorn: the TLS extension and the request-head timeout ---------------------------------

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


class _WithTls:
    """Puts a connection's ASGI TLS extension into each of its HTTP scopes."""

    __slots__ = ("_app", "_tls")

    def __init__(self, app: ASGIApp, tls: dict[str, Any]) -> None:
        self._app = app
        self._tls = tls

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope.get("type") == "http":
            extensions = scope.get("extensions")
            if extensions is None:
                extensions = scope["extensions"] = {}
            extensions["tls"] = self._tls
        await self._app(scope, receive, send)


def _tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
        "cipher_name": cipher[0] if cipher else None,
    }


class ClientCertificateProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus the ASGI TLS extension and a request-head timeout.

    uvicorn does not (yet) pass the TLS peer certificate to the application. This protocol
    reads it once per connection (``ssl_object.getpeercert``) and sets
    ``scope["extensions"]["tls"]`` as the ASGI TLS extension specifies (``client_cert_chain``
    holds the client's certificate as PEM; the chain was verified by the TLS handshake). It
    also closes a connection whose request line and headers do not arrive within
    :attr:`head_timeout` seconds of the connection or of the previous response (slow clients);
    use :meth:`with_head_timeout` for another value.
    """

    head_timeout: float = 20.0
    """Seconds a client may take to send a request's line and headers."""

    _head_timer: asyncio.TimerHandle | None = None

    @classmethod
    def with_head_timeout(cls, seconds: float) -> type[ClientCertificateProtocol]:
        """A subclass with :attr:`head_timeout` set to ``seconds``."""
        if seconds <= 0:
            raise ValueError("head_timeout must be positive")
        return type(cls.__name__, (cls,), {"head_timeout": float(seconds)})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set up the connection; remember its TLS details for every request on it."""
        super().connection_made(transport)
        tls = _tls_extension(transport)
        if tls is not None:
            self.app = _WithTls(self.app, tls)
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        """The request head arrived: stop the head timer, start the request."""
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        """A response was sent: the next request's head must come in time."""
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the timer; then uvicorn's clean-up."""
        self._disarm_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            _log.info("closing a connection whose request head did not arrive in time")
            self.transport.close()


class SubmitServer:
    """An ASGI application (a :class:`SubmitApp`) on uvicorn in a background thread.

    For tests, demos and embedding: binds ``host`` (default ``127.0.0.1``) on ``port`` (0: a
    free one, see :attr:`port`) before starting, serves HTTPS with ``ssl_context`` (see
    :func:`eintegr.transport.asgi_server.server_ssl_context`; without it, plain HTTP — e.g.
    behind a reverse proxy on the same host) with :class:`ClientCertificateProtocol`. A
    context manager: ``with SubmitServer(app, ssl_context=ctx) as server: server.url``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        ssl_context: ssl.SSLContext | None,
        host: str = "127.0.0.1",
        port: int = 0,
        head_timeout: float = 20.0,
        timeout_keep_alive: int = 5,
        limit_concurrency: int | None = None,
        log_level: str = "warning",
    ) -> None:
        self._background = BackgroundServer(
            app,
            host=host,
            port=port,
            ssl_context=ssl_context,
            log_level=log_level,
            timeout_keep_alive=timeout_keep_alive,
            limit_concurrency=limit_concurrency,
            http_protocol=ClientCertificateProtocol.with_head_timeout(head_timeout),
            name="Submit",
            backlog=512,
        )

    @property
    def port(self) -> int:
        """The bound port (0 before :meth:`start`)."""
        return self._background.port

    @property
    def url(self) -> str:
        """``https://host:port/`` (``http`` without TLS)."""
        return self._background.url + "/"

    def start(self, timeout: float = 10.0) -> Self:
        """Bind and serve; return once the server accepts connections.

        :raises OSError: the address cannot be bound.
        :raises RuntimeError: already started, or not up within ``timeout`` seconds.
        """
        self._background.start(timeout)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (open requests are finished first) and wait for the thread."""
        self._background.stop(timeout)

    def __enter__(self) -> Self:
        self._background.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_submit_server(
    app: ASGIApp,
    *,
    ssl_context: ssl.SSLContext | None,
    host: str = "127.0.0.1",
    port: int = 8443,
    head_timeout: float = 20.0,
    timeout_keep_alive: int = 5,
    limit_concurrency: int | None = None,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve ``app`` on uvicorn in the foreground until SIGINT or SIGTERM (graceful stop).

    ``limit_concurrency`` answers 503 beyond that many concurrent connections and requests.
    """
    config = uvicorn_config(
        app,
        host=host,
        port=port,
        ssl_context=ssl_context,
        log_level=log_level,
        timeout_keep_alive=timeout_keep_alive,
        limit_concurrency=limit_concurrency,
        access_log=access_log,
        proxy_headers=False,  # scope["client"] stays the TCP peer: ForwardedCertificate needs it
        http_protocol=ClientCertificateProtocol.with_head_timeout(head_timeout),
    )
    uvicorn.Server(config).run()
