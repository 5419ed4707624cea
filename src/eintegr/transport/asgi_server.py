"""Run an ASGI application with uvicorn, over TLS or mutual TLS.

* :func:`server_ssl_context` — a server :class:`ssl.SSLContext` (TLS 1.2 or later) from a
  certificate and key (files, or an in-memory object such as
  :class:`~eintegr.signing.pki.Issued`), optionally requiring a client certificate issued by
  the given CAs (mutual TLS);
* :class:`BackgroundServer` — the application on ``127.0.0.1`` (a free port by default) in a
  background thread: for tests, demos and embedding; a context manager that starts and stops
  the server and waits for both;
* :func:`serve_forever` — the application in the foreground until SIGINT/SIGTERM (the
  command line).

The listening socket is bound before uvicorn starts, so the port is known (and taken) as
soon as :meth:`BackgroundServer.start` returns.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from eintegr.transport._uvicorn import uvicorn_config

if TYPE_CHECKING:  # uvicorn is imported when a server starts: clients do not need it
    import uvicorn

__all__ = [
    "ASGIApp",
    "BackgroundServer",
    "CertificateSource",
    "PemMaterial",
    "acknowledge_lifespan",
    "load_certificate_chain",
    "serve_forever",
    "server_ssl_context",
]

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]
"""An ASGI 3 application: ``await app(scope, receive, send)``."""


async def acknowledge_lifespan(
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    """Answer an ASGI ``lifespan`` scope: acknowledge start-up and shutdown, nothing else."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


@runtime_checkable
class PemMaterial(Protocol):
    """A key and certificate held in memory (e.g. :class:`~eintegr.signing.pki.Issued`)."""

    def key_pem(self, password: bytes | None = None) -> bytes:
        """The private key as PEM, encrypted with ``password`` when one is given."""
        ...

    def certificate_pem(self) -> bytes:
        """The certificate as PEM."""
        ...

    def chain_pem(self) -> bytes:
        """The intermediate CA certificates as PEM (empty when there are none)."""
        ...


CertificateSource = tuple[str | os.PathLike[str], str | os.PathLike[str]] | PemMaterial
"""A certificate and its key: ``(certificate_file, key_file)`` (PEM) or a :class:`PemMaterial`."""


def load_certificate_chain(context: ssl.SSLContext, source: CertificateSource) -> None:
    """Load ``source``'s certificate (and intermediates) and private key into ``context``.

    :mod:`ssl` reads keys from files only: an in-memory key is written, encrypted with a
    random one-time password, to a private temporary folder that is removed at once.

    :raises ssl.SSLError: the key does not match the certificate, or cannot be read.
    :raises OSError: a file cannot be read.
    """
    if not isinstance(source, PemMaterial):
        certificate_file, key_file = source
        context.load_cert_chain(os.fspath(certificate_file), os.fspath(key_file))
        return
    password = secrets.token_urlsafe(32).encode("ascii")
    with tempfile.TemporaryDirectory(prefix="eintegr-tls-") as folder:
        os.chmod(folder, 0o700)
        key_path = Path(folder, "key.pem")
        certificate_path = Path(folder, "certificate.pem")
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(source.key_pem(password))
        certificate_path.write_bytes(source.certificate_pem() + source.chain_pem())
        context.load_cert_chain(str(certificate_path), str(key_path), password=password)


def _ca_data(authorities: str | os.PathLike[str] | bytes | Sequence[x509.Certificate]) -> str:
    if isinstance(authorities, bytes):
        return authorities.decode("ascii")
    if isinstance(authorities, str | os.PathLike):
        return Path(authorities).read_text(encoding="ascii")
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in authorities)


def server_ssl_context(
    certificate: CertificateSource,
    *,
    client_ca: str | os.PathLike[str] | bytes | Sequence[x509.Certificate] | None = None,
    require_client_certificate: bool = False,
) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2 or later) presenting ``certificate``.

    :param client_ca: the CA certificates (PEM file, PEM bytes or certificates) that client
        certificates must chain to; without it no client certificate is asked for.
    :param require_client_certificate: refuse the handshake of a client without a valid
        certificate (mutual TLS); otherwise a certificate is asked for but optional.
    :raises ValueError: a client certificate is required but no ``client_ca`` given.
    """
    if require_client_certificate and client_ca is None:
        raise ValueError("require_client_certificate needs client_ca")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    load_certificate_chain(context, certificate)
    if client_ca is not None:
        context.load_verify_locations(cadata=_ca_data(client_ca))
        context.verify_mode = ssl.CERT_REQUIRED if require_client_certificate else ssl.CERT_OPTIONAL
    return context


def _bind(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET
    try:
        if ipaddress.ip_address(host).version == 6:
            family = socket.AF_INET6
    except ValueError:
        pass  # a host name: IPv4
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


class BackgroundServer:
    """An ASGI application served by uvicorn in a background thread.

    >>> async def app(scope, receive, send): ...
    >>> with BackgroundServer(app) as server:  # doctest: +SKIP
    ...     print(server.url)
    http://127.0.0.1:54321

    :param host: the address to bind (default ``127.0.0.1``).
    :param port: the port; 0 (default) picks a free one, readable as :attr:`port`.
    :param ssl_context: serve HTTPS with this context (see :func:`server_ssl_context`).
    :param timeout_keep_alive: seconds an idle keep-alive connection stays open.
    :param limit_concurrency: answer 503 beyond this many concurrent connections and tasks.
    :param http_protocol: a uvicorn HTTP protocol class to use instead of uvicorn's choice
        (e.g. :class:`~eintegr.transport.server.ClientCertificateProtocol`).
    :param name: names the server thread (``eintegr-<name>-<port>``) and the start error.
    :param backlog: the listening socket's queue of connections not yet accepted.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        log_level: str = "warning",
        timeout_keep_alive: int = 5,
        limit_concurrency: int | None = None,
        http_protocol: type[asyncio.Protocol] | None = None,
        name: str = "ASGI",
        backlog: int = 128,
    ) -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._ssl_context = ssl_context
        self._log_level = log_level
        self._timeout_keep_alive = timeout_keep_alive
        self._limit_concurrency = limit_concurrency
        self._http_protocol = http_protocol
        self._name = name
        self._backlog = backlog
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port = 0

    @property
    def port(self) -> int:
        """The port the server listens on (0 before :meth:`start`)."""
        return self._port

    @property
    def url(self) -> str:
        """``http(s)://<host>:<port>`` (IPv6 hosts in brackets)."""
        scheme = "https" if self._ssl_context is not None else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}:{self._port}"

    @property
    def running(self) -> bool:
        """True while the server thread is alive and serving."""
        return (
            self._thread is not None
            and self._thread.is_alive()
            and self._server is not None
            and self._server.started
        )

    def start(self, timeout: float = 10.0) -> Self:
        """Bind, start serving, and wait (at most ``timeout`` seconds) until the server is up.

        :raises RuntimeError: already started, or the server did not come up in time.
        :raises OSError: the address cannot be bound.
        """
        if self._thread is not None:
            raise RuntimeError("the server was already started")
        sock = _bind(self._host, self._requested_port, self._backlog)
        self._socket = sock
        self._port = int(sock.getsockname()[1])
        config = uvicorn_config(
            self._app,
            host=self._host,
            port=self._port,
            ssl_context=self._ssl_context,
            log_level=self._log_level,
            timeout_keep_alive=self._timeout_keep_alive,
            limit_concurrency=self._limit_concurrency,
            access_log=False,
            http_protocol=self._http_protocol,
        )
        import uvicorn

        server = uvicorn.Server(config)
        self._server = server
        thread = threading.Thread(
            target=self._run,
            args=(server, sock),
            name=f"eintegr-{self._name.lower()}-{self._port}",
            daemon=True,
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop(timeout=1.0)
                raise RuntimeError(f"the {self._name} server on {self.url} did not start")
            time.sleep(0.005)
        return self

    @staticmethod
    def _run(server: uvicorn.Server, sock: socket.socket) -> None:
        # A private event loop per thread; uvicorn installs no signal handlers off the main thread.
        asyncio.run(server.serve(sockets=[sock]))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait (at most ``timeout`` seconds) for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Self:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 8443,
    ssl_context: ssl.SSLContext | None = None,
    log_level: str = "info",
    timeout_keep_alive: int = 5,
    limit_concurrency: int | None = None,
    access_log: bool = True,
    proxy_headers: bool = False,
) -> None:
    """Serve ``app`` in the foreground until SIGINT or SIGTERM (graceful shutdown).

    ``proxy_headers`` trusts ``X-Forwarded-For``/``X-Forwarded-Proto`` from uvicorn's
    ``forwarded_allow_ips`` (``127.0.0.1`` unless ``FORWARDED_ALLOW_IPS`` says otherwise);
    off by default.
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
        proxy_headers=proxy_headers,
    )
    import uvicorn

    uvicorn.Server(config).run()
