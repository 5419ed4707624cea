"""A small scripted HTTPS server on 127.0.0.1 that can misbehave, for the Submit client tests.

Plain ``ssl`` + sockets + a minimal HTTP/1.1 responder (keep-alive, Content-Length or
chunked), one thread per connection. A *script* maps each request to a :class:`Reply`, which
may delay, drip, reset the connection or lie about its size.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from eintegr.errors import TransportError
from eintegr.signing.pki import Issued
from eintegr.testing import ScriptedReceiver
from eintegr.transport import SUBMIT_NS, TlsCredentials
from eintegr.transport.soap import SoapFault, build_envelope, build_fault, parse_envelope

MAX_REQUEST = 64 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_certificate: x509.Certificate | None

    @property
    def message(self) -> bytes:
        """The message carried in Submit/request."""
        envelope = parse_envelope(self.body)
        request = envelope.body_element.find(f"{{{SUBMIT_NS}}}request")
        assert request is not None
        return (request.text or "").encode("utf-8")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/xml; charset=utf-8"
    delay: float = 0.0
    reset: bool = False
    chunked: bool = False
    chunk_size: int = 16 * 1024
    drip: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


Script = Callable[[Request], Reply]

_REASONS = {200: "OK", 500: "Internal Server Error", 503: "Service Unavailable", 302: "Found"}


def submit_response(result: bytes | str | None, *, nil: bool = False) -> bytes:
    """A SubmitResponse envelope; ``result`` None leaves SubmitResult out."""
    response = etree.Element(f"{{{SUBMIT_NS}}}SubmitResponse", nsmap={None: SUBMIT_NS})
    if nil:
        element = etree.SubElement(response, f"{{{SUBMIT_NS}}}SubmitResult")
        element.set("{http://www.w3.org/2001/XMLSchema-instance}nil", "true")
    elif result is not None:
        text = result.decode("utf-8") if isinstance(result, bytes) else result
        etree.SubElement(response, f"{{{SUBMIT_NS}}}SubmitResult").text = text
    return build_envelope([response])


def fault(string: str = "Internal error", code: str = "Server") -> Reply:
    return Reply(status=500, body=build_fault(SoapFault(code, string)))


def deliver_to(receiver: ScriptedReceiver) -> Script:
    """A script that plays a Submit endpoint in front of ``receiver`` (faults on refusals)."""

    def script(request: Request) -> Reply:
        try:
            answer = receiver(request.message, client_certificate=request.client_certificate)
        except TransportError as error:
            return fault(f"{error.code}: {error}", "Client")
        except Exception as error:
            return fault(f"internal error: {type(error).__name__}")
        return Reply(body=submit_response(answer))

    return script


class ScriptedServer:
    """HTTPS on 127.0.0.1 with ``identity``'s certificate, client certificates checked
    against ``ca`` (required by default)."""

    def __init__(
        self,
        identity: Issued,
        ca: Issued,
        script: Script,
        *,
        require_client_certificate: bool = True,
    ) -> None:
        self.script = script
        self.requests: list[Request] = []
        self.handshakes = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        TlsCredentials.from_issued(identity).load_into(context)
        context.load_verify_locations(
            cadata=ca.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        )
        context.verify_mode = ssl.CERT_REQUIRED if require_client_certificate else ssl.CERT_OPTIONAL
        self._context = context
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/EGovService.svc"

    def __enter__(self) -> Self:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._acceptor.join(5)
        self._listener.close()
        with self._lock:
            for connection in list(self._connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    connection.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(raw,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        with self._lock:
            self._connections.add(raw)
        try:
            try:
                connection = self._context.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                return
            with self._lock:
                self.handshakes += 1
                self._connections.add(connection)
            der = connection.getpeercert(binary_form=True)
            certificate = x509.load_der_x509_certificate(der) if der else None
            reader = connection.makefile("rb")
            while not self._stop.is_set():
                request = self._read(reader, certificate)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                reply = self.script(request)
                if not self._write(connection, reply):
                    return
        except (OSError, ssl.SSLError, ValueError):
            return
        finally:
            with contextlib.suppress(OSError):
                raw.close()

    @staticmethod
    def _read(reader: object, certificate: x509.Certificate | None) -> Request | None:
        readline = reader.readline  # type: ignore[attr-defined]
        line = readline(65536)
        if not line:
            return None
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            header = readline(65536)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length > MAX_REQUEST:
            raise ValueError("request too large")
        body = reader.read(length) if length else b""  # type: ignore[attr-defined]
        return Request(method, path, headers, body, certificate)

    def _write(self, connection: ssl.SSLSocket, reply: Reply) -> bool:
        if reply.delay and self._stop.wait(reply.delay):
            return False
        if reply.reset:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()
            return False
        head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
        if reply.content_type is not None:
            head.append(f"Content-Type: {reply.content_type}")
        if reply.chunked:
            head.append("Transfer-Encoding: chunked")
        elif "Content-Length" not in reply.headers:
            head.append(f"Content-Length: {len(reply.body)}")
        head.extend(f"{k}: {v}" for k, v in reply.headers.items())
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if not reply.chunked:
            if reply.drip:
                for start in range(0, len(reply.body), reply.chunk_size):
                    if self._stop.wait(reply.drip):
                        return False
                    connection.sendall(reply.body[start : start + reply.chunk_size])
            else:
                connection.sendall(reply.body)
            return True
        for start in range(0, len(reply.body), reply.chunk_size):
            if reply.drip and self._stop.wait(reply.drip):
                return False
            chunk = reply.body[start : start + reply.chunk_size]
            connection.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        connection.sendall(b"0\r\n\r\n")
        return True
