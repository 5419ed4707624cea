"""A local participants' register for tests and demos: a plain ASGI application.

:class:`RegisterApp` answers the five operations of ``EGovRegistry.wsdl`` (SOAP 1.1
RPC/encoded) from a :class:`~eintegr.registry.soap.Directory` — held in memory, returned by
a callable, or read from a register file (:mod:`eintegr.registry.files`, JSON or XML) that
is read again whenever it changes on disk. :func:`start_register_server` runs it with
uvicorn on ``127.0.0.1`` in a background thread, over HTTPS, optionally requiring a client
certificate (mutual TLS) as the real register does.

Behaviour:

* ``POST`` only (``405`` otherwise); a request larger than ``max_request_bytes`` gets ``413``;
* a ``SOAPAction`` that does not name the operation in the body, a request that is not a
  SOAP envelope, an unknown operation or an unusable argument get a ``Client`` SOAP fault
  (HTTP 500, the code in ``detail``); an internal failure gets a ``Server`` fault;
* ``GetNewRecords(date)`` returns the participants whose ``LastChange`` is **at or after**
  ``date`` (so a client that sends back the register's ``LastChange`` misses nothing changed
  in the same instant); every answer carries the register's ``LastChange`` (given in the
  file, else the latest participant's);
* look-ups that match nothing return an empty ``EGovMessageDir``.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from eintegr.errors import EintegrError, IdentifierError, RegistryError, SoapError
from eintegr.identifiers import Guid
from eintegr.registry.files import load_directory
from eintegr.registry.model import normalize_serial
from eintegr.registry.soap import (
    Directory,
    EncodingStyle,
    Operation,
    build_response,
    parse_datetime,
    parse_request,
)
from eintegr.transport.asgi_server import (
    BackgroundServer,
    CertificateSource,
    acknowledge_lifespan,
    server_ssl_context,
)
from eintegr.transport.soap import SOAP11_CONTENT_TYPE, SoapFault, build_fault
from eintegr.xml import XmlLimits

__all__ = ["DirectoryFile", "RegisterApp", "start_register_server"]

_log = logging.getLogger("eintegr.registry.server")

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class DirectoryFile:
    """A register file, read again when its modification time or size changes.

    Calling the object returns the current :class:`~eintegr.registry.soap.Directory`. If a
    changed file cannot be read (say, half-saved by an editor), the previous contents keep
    being served and the error is logged.

    :raises RegistryError: the file cannot be read the first time (``REGISTRY-FILE``).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._directory = load_directory(self.path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def __call__(self) -> Directory:
        """The file's current directory."""
        stamp = self._stat()
        if stamp == self._stamp or stamp is None:
            return self._directory
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._directory = load_directory(self.path)
                except RegistryError as error:
                    _log.error("keeping the previous register: %s", error)
                self._stamp = stamp
        return self._directory


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes


def _fault(code: str, message: str, *, client: bool = True) -> _Answer:
    fault = SoapFault(
        "Client" if client else "Server",
        message,
        detail=f"<code>{code}</code>",
    )
    return _Answer(500, build_fault(fault))


class RegisterApp:
    """The register's web service as an ASGI 3 application.

    :param source: a :class:`~eintegr.registry.soap.Directory`, or a callable returning the
        current one (see :class:`DirectoryFile` and :meth:`from_file`).
    :param style: the response encoding, ``"multiref"`` (.NET/Axis style) or ``"inline"``.
    :param max_request_bytes: the largest request body accepted.
    """

    def __init__(
        self,
        source: Directory | Callable[[], Directory],
        *,
        style: EncodingStyle = "multiref",
        max_request_bytes: int = 64 * 1024,
    ) -> None:
        if max_request_bytes < 1:
            raise ValueError("max_request_bytes must be positive")
        if style not in ("multiref", "inline"):
            raise ValueError(f"unknown encoding style {style!r}")
        self._source: Callable[[], Directory] = (
            (lambda: source) if isinstance(source, Directory) else source
        )
        self.style: EncodingStyle = style
        self.max_request_bytes = max_request_bytes

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **options: Any) -> RegisterApp:
        """A register served from a JSON or XML register file, re-read when it changes."""
        return cls(DirectoryFile(path), **options)

    def answer(self, body: bytes, soap_action: str | None = None) -> tuple[int, bytes]:
        """Answer one request body: ``(HTTP status, SOAP envelope)``; no I/O (for embedding)."""
        result = self._answer(body, soap_action)
        return result.status, result.body

    def _answer(self, body: bytes, soap_action: str | None) -> _Answer:
        try:
            request = parse_request(body, limits=XmlLimits(max_bytes=self.max_request_bytes))
        except SoapError as error:
            return _fault(error.code, str(error))
        action = (soap_action or "").strip().strip('"')
        operation = request.operation
        if action and action != operation.soap_action:
            return _fault(
                "REGISTRY-ACTION",
                f"the SOAPAction {action!r} does not name the operation {operation.value}",
            )
        try:
            selected = self._select(operation, request.argument)
        except (IdentifierError, RegistryError, ValueError) as error:
            code = error.code if isinstance(error, EintegrError) else "REGISTRY-ARGUMENT"
            return _fault(code, f"the argument of {operation.value} is not acceptable: {error}")
        except Exception:
            _log.exception("the register cannot answer %s", operation.value)
            return _fault("REGISTRY-INTERNAL", "the register cannot answer now", client=False)
        return _Answer(200, build_response(operation, selected, style=self.style))

    def _select(self, operation: Operation, argument: str | None) -> Directory:
        directory = self._source()
        participants = directory.participants
        last_change = directory.latest_change
        if operation is Operation.GET_ALL_RECORDS:
            return Directory(participants, last_change)
        assert argument is not None  # parse_request guarantees it
        if operation is Operation.GET_NEW_RECORDS:
            return Directory(
                directory.changed_since(parse_datetime(argument)).participants, last_change
            )
        if operation is Operation.GET_BY_ENTITY_IDENTIFIER:
            chosen = tuple(p for p in participants if p.eik == argument)
        elif operation is Operation.GET_BY_GUID:
            guid = Guid.parse_lenient(argument)
            chosen = tuple(p for p in participants if p.guid == guid)
        else:
            serial = normalize_serial(argument)
            chosen = tuple(p for p in participants if p.certificate_serial == serial)
        return Directory(chosen, last_change)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """The ASGI entry point (``http`` and ``lifespan`` scopes)."""
        if scope["type"] == "lifespan":
            await acknowledge_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope.get("method") != "POST":
            await _respond(send, 405, b"only POST\n", "text/plain; charset=utf-8", allow="POST")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_request_bytes:
            await _respond(send, 413, _too_large(self.max_request_bytes), SOAP11_CONTENT_TYPE)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > self.max_request_bytes:
                await _respond(send, 413, _too_large(self.max_request_bytes), SOAP11_CONTENT_TYPE)
                return
        result = self._answer(bytes(body), headers.get("soapaction"))
        await _respond(send, result.status, result.body, SOAP11_CONTENT_TYPE)


def _too_large(limit: int) -> bytes:
    return build_fault(
        SoapFault(
            "Client",
            f"the request is larger than {limit} bytes",
            detail="<code>REGISTRY-TOO-LARGE</code>",
        )
    )


async def _respond(
    send: _Send, status: int, body: bytes, content_type: str, *, allow: str | None = None
) -> None:
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    if allow:
        headers.append((b"allow", allow.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def start_register_server(
    source: Directory | Callable[[], Directory] | str | os.PathLike[str],
    *,
    certificate: CertificateSource | None = None,
    client_ca: str | os.PathLike[str] | bytes | list[x509.Certificate] | None = None,
    require_client_certificate: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    style: EncodingStyle = "multiref",
    ssl_context: ssl.SSLContext | None = None,
) -> BackgroundServer:
    """Start a local register in a background thread and return the running server.

    ``source`` is a directory, a callable, or the path of a register file. With
    ``certificate`` (or a ready ``ssl_context``) the register speaks HTTPS; with
    ``client_ca`` it asks for a client certificate issued by those CAs, and with
    ``require_client_certificate`` it refuses clients without one. Stop it with
    :meth:`~eintegr.transport.asgi_server.BackgroundServer.stop` (or use it as a context
    manager). The register answers on every path of :attr:`BackgroundServer.url`.
    """
    if isinstance(source, str | os.PathLike):
        app = RegisterApp.from_file(source, style=style)
    else:
        app = RegisterApp(source, style=style)
    if ssl_context is None and certificate is not None:
        ssl_context = server_ssl_context(
            certificate,
            client_ca=client_ca,
            require_client_certificate=require_client_certificate,
        )
    elif ssl_context is None and (client_ca is not None or require_client_certificate):
        raise ValueError("client certificates need TLS: give certificate= or ssl_context=")
    return BackgroundServer(app, host=host, port=port, ssl_context=ssl_context).start()
