"""The uvicorn configuration shared by this package's servers (private).

Both :mod:`eintegr.transport.asgi_server` and :mod:`eintegr.transport.server` run
applications on uvicorn with the same settings: no log configuration of its own, no
``Server`` header, an optional fixed TLS context, and optionally a custom HTTP protocol class.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # uvicorn is imported when a server starts: clients do not need it
    import uvicorn

    from eintegr.transport.asgi_server import ASGIApp

__all__ = ["uvicorn_config"]


def uvicorn_config(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    log_level: str,
    timeout_keep_alive: int,
    limit_concurrency: int | None,
    access_log: bool,
    proxy_headers: bool = False,
    http_protocol: type[asyncio.Protocol] | None = None,
) -> uvicorn.Config:
    """A :class:`uvicorn.Config` for ``app``; ``http_protocol`` replaces uvicorn's choice."""
    import uvicorn

    factory = None
    if ssl_context is not None:
        context = ssl_context

        def factory(
            config: uvicorn.Config, default: Callable[[], ssl.SSLContext]
        ) -> ssl.SSLContext:
            return context

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http_protocol if http_protocol is not None else "auto",
        lifespan="auto",
        log_config=None,
        log_level=log_level,
        access_log=access_log,
        timeout_keep_alive=timeout_keep_alive,
        limit_concurrency=limit_concurrency,
        ssl_context_factory=factory,
        proxy_headers=proxy_headers,
        server_header=False,
        date_header=True,
    )
