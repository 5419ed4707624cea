"""The tester as a client: submits exactly what a scenario asks, with any client certificate.

Unlike :class:`~eintegr.transport.SubmitTransport` it runs no sender checks — a scenario must
be able to send what no well-behaved sender would. The server's certificate is still
verified (TLS 1.2+, chain to the configured CAs, host name): the tester talks only to the
system it means to test.
"""

from __future__ import annotations

import datetime as _dt
import http.client
import ssl
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from eintegr.errors import ReceiverError, TransportError, TransportFault
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.transport.soap import SOAP11_CONTENT_TYPE
from eintegr.transport.submit_client import (
    SUBMIT_ACTION,
    TlsCredentials,
    build_submit_request,
    read_submit_response,
)

__all__ = ["Answer", "Exchange", "expired_certificate", "submit"]

_MAX_ANSWER: Final = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    """How the system under test answered, interpreted.

    :ivar kind: ``refused`` (TLS or connection refused/closed), ``fault`` (SOAP fault or an
        HTTP error status), ``empty`` (accepted, no response message), ``response``
        (accepted with a response message) or ``garbled`` (not a ``Submit`` answer).
    """

    kind: str
    detail: str
    response: bytes | None = None

    @property
    def refused(self) -> bool:
        """True for ``refused`` and ``fault``."""
        return self.kind in {"refused", "fault"}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its raw answer."""

    status: int | None
    body: bytes
    error: str | None
    server_certificate: x509.Certificate | None

    def answer(self) -> Answer:
        """The interpreted answer."""
        if self.error is not None:
            return Answer("refused", self.error)
        assert self.status is not None
        try:
            response = read_submit_response(self.body, status=self.status)
        except TransportFault as fault:
            return Answer("fault", f"HTTP {self.status}: {fault}")
        except (ReceiverError, TransportError) as error:
            return Answer("garbled", f"HTTP {self.status}: {error}")
        if response is None:
            return Answer("empty", f"HTTP {self.status}: empty SubmitResult")
        return Answer("response", f"HTTP {self.status}: a response message", response)


def client_context(
    client: Issued | None, server_ca: tuple[x509.Certificate, ...]
) -> ssl.SSLContext:
    """A TLS 1.2+ client context verifying the server against ``server_ca`` and presenting
    ``client`` (none when ``None``)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(
        cadata="".join(
            c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in server_ca
        )
    )
    if client is not None:
        TlsCredentials.from_issued(client).load_into(context)
    return context


def submit(
    url: str,
    message: bytes,
    *,
    client: Issued | None,
    server_ca: tuple[x509.Certificate, ...],
    timeout: float,
    raw_body: bytes | None = None,
) -> Exchange:
    """POST ``message`` in a ``Submit`` envelope (or ``raw_body`` as it is) to ``url``.

    Connection and TLS failures are returned in :attr:`Exchange.error`, not raised.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"the endpoint must be an https:// URL, not {url!r}")
    body = raw_body if raw_body is not None else build_submit_request(message)
    connection = http.client.HTTPSConnection(
        parts.hostname,
        parts.port or 443,
        timeout=timeout,
        context=client_context(client, server_ca),
    )
    server_certificate: x509.Certificate | None = None
    try:
        connection.connect()
        der = connection.sock.getpeercert(binary_form=True) if connection.sock else None
        server_certificate = x509.load_der_x509_certificate(der) if der else None
        connection.request(
            "POST",
            parts.path or "/",
            body=body,
            headers={"Content-Type": SOAP11_CONTENT_TYPE, "SOAPAction": f'"{SUBMIT_ACTION}"'},
        )
        response = connection.getresponse()
        data = response.read(_MAX_ANSWER + 1)
        return Exchange(response.status, data[:_MAX_ANSWER], None, server_certificate)
    except (OSError, http.client.HTTPException) as error:
        return Exchange(None, b"", f"{type(error).__name__}: {error}", server_certificate)
    finally:
        connection.close()


def expired_certificate(*, eik: str) -> Issued:
    """A client certificate that is invalid twice over (RFC 5280): expired, and issued by a
    CA nobody trusts."""
    past = _dt.datetime.now(_dt.UTC) - _dt.timedelta(days=400)
    ca = make_ca("eintegr conformance untrusted CA", valid_from=past, valid_days=800)
    return make_transport_certificate(ca, eik=eik, host="localhost", valid_from=past, valid_days=30)
