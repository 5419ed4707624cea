"""The uvicorn runner shared by the local register and the ``Submit`` server."""

from __future__ import annotations

import socket
import ssl
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

from eintegr.transport.asgi_server import (
    BackgroundServer,
    load_certificate_chain,
    server_ssl_context,
)
from tests.registry.conftest import Pki


async def hello(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = f"{scope['scheme']} {scope['method']} {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_background_server_lifecycle() -> None:
    server = BackgroundServer(hello)
    assert server.port == 0
    assert not server.running
    with server:
        assert server.running
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(server.url + "/x", timeout=5).text == "http GET /x"
        with pytest.raises(RuntimeError, match="already"):
            server.start()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, timeout=2)


def test_a_taken_port_is_an_os_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        server = BackgroundServer(hello, port=taken.getsockname()[1])
        with pytest.raises(OSError):
            server.start()


def test_tls_and_mutual_tls(pki: Pki) -> None:
    context = server_ssl_context(
        pki.server, client_ca=[pki.ca.certificate], require_client_certificate=True
    )
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED
    trust = ssl.create_default_context(cadata=pki.ca.certificate_pem().decode())
    with BackgroundServer(hello, ssl_context=context) as server:
        assert server.url.startswith("https://")
        with pytest.raises(httpx.HTTPError):  # no client certificate
            httpx.get(server.url, verify=trust, timeout=5)
        with_client = ssl.create_default_context(cadata=pki.ca.certificate_pem().decode())
        load_certificate_chain(with_client, pki.alpha)  # an in-memory key and certificate
        assert httpx.get(server.url + "/m", verify=with_client, timeout=5).text == "https GET /m"
    optional = server_ssl_context(pki.server, client_ca=[pki.ca.certificate])
    assert optional.verify_mode == ssl.CERT_OPTIONAL
    with pytest.raises(ValueError, match="client_ca"):
        server_ssl_context(pki.server, require_client_certificate=True)
