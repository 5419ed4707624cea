"""A client for the participants' register web service (SOAP 1.1 RPC/encoded over mutual TLS).

:class:`RegistryClient` (and its asynchronous twin :class:`AsyncRegistryClient`) calls the
five operations of ``EGovRegistry.wsdl`` and returns a
:class:`~eintegr.registry.soap.Directory` for each. :class:`OnlineRegister` puts a client
behind the :class:`~eintegr.registry.model.Register` interface (the specification's
"online mode": the register is asked at every look-up); see
:class:`~eintegr.registry.cache.CachedRegister` for the offline mode.

Secure by default: HTTPS only (plain HTTP needs ``allow_http=True``), TLS 1.2 or later, the
register's certificate verified (against the system trust store or the given CAs), a client
certificate presented when given, explicit timeouts (also a total deadline per call, so a
register that trickles bytes cannot hold a call open) and a response size limit.

Failures are typed:

* :class:`~eintegr.errors.TransportFault` (retry later): timeout (``REGISTRY-TIMEOUT``),
  connection or TLS failure (``REGISTRY-CONNECTION``, ``REGISTRY-TLS``), a ``Server`` SOAP
  fault (``REGISTRY-FAULT``), HTTP 5xx/408/429 (``REGISTRY-HTTP``);
* :class:`~eintegr.errors.SenderError` (our request or credentials are refused): a ``Client``
  SOAP fault (``REGISTRY-FAULT-CLIENT``), HTTP 4xx (``REGISTRY-HTTP``);
* :class:`~eintegr.errors.ReceiverError` (the register's answer is unusable): too large
  (``REGISTRY-TOO-LARGE``), not XML/SOAP or not the expected shape (``SOAP-XML``,
  ``SOAP-MALFORMED``, ``REGISTRY-RESPONSE``, ``REGISTRY-RESPONSE-REFS``,
  ``REGISTRY-TOO-MANY``), another HTTP status (``REGISTRY-HTTP``).
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from eintegr.errors import (
    ReceiverError,
    RegistryError,
    SenderError,
    SoapError,
    TransportError,
    TransportFault,
)
from eintegr.identifiers import Guid
from eintegr.registry.model import Participant, Register, normalize_serial
from eintegr.registry.soap import Directory, Operation, build_request, read_response
from eintegr.transport.asgi_server import CertificateSource, load_certificate_chain
from eintegr.transport.soap import SOAP11_CONTENT_TYPE, SoapFault, parse_envelope
from eintegr.xml import XmlLimits

__all__ = [
    "AsyncRegistryClient",
    "OnlineRegister",
    "RegistryClient",
    "TrustSource",
    "client_ssl_context",
]

_log = logging.getLogger("eintegr.registry")

TrustSource = str | os.PathLike[str] | bytes | Sequence[x509.Certificate] | ssl.SSLContext | bool
"""What the register's certificate is checked against: ``True`` (the trust store of
``certifi``, or ``SSL_CERT_FILE``), a PEM CA file, PEM bytes, CA certificates, or a ready
:class:`ssl.SSLContext` (its trust settings kept; TLS 1.2 is made the minimum and the client
certificate, if any, is loaded into it). ``False`` is refused: verification cannot be off."""

_DEFAULT_MAX_BYTES = 32 * 1024 * 1024
_HEADERS = {"User-Agent": "eintegr-registry"}


@dataclass(frozen=True, slots=True)
class _HttpOptions:
    timeout: httpx.Timeout
    verify: ssl.SSLContext | bool


def client_ssl_context(
    client_certificate: CertificateSource | None = None, *, verify: TrustSource = True
) -> ssl.SSLContext:
    """A client TLS context: TLS 1.2+, server certificate and host name verified.

    :param client_certificate: ``(certificate_file, key_file)`` or an object with
        ``key_pem()``/``certificate_pem()``/``chain_pem()`` such as
        :class:`~eintegr.signing.pki.Issued`; presented for mutual TLS.
    :param verify: see :data:`TrustSource`.
    :raises ValueError: ``verify=False``.
    """
    if verify is False:
        raise ValueError("TLS verification cannot be turned off; give the register's CA instead")
    if isinstance(verify, ssl.SSLContext):
        context = verify
    elif verify is True:
        context = httpx.create_ssl_context(verify=True)
    else:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        context.load_verify_locations(cadata=_pem_text(verify))
    context.minimum_version = max(context.minimum_version, ssl.TLSVersion.TLSv1_2)
    if client_certificate is not None:
        load_certificate_chain(context, client_certificate)
    return context


def _pem_text(source: str | os.PathLike[str] | bytes | Sequence[x509.Certificate]) -> str:
    if isinstance(source, bytes):
        return source.decode("ascii")
    if isinstance(source, str | os.PathLike):
        with open(source, encoding="ascii") as handle:
            return handle.read()
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in source)


def _fault_error(fault: SoapFault, status: int) -> TransportError:
    text = f"{fault.code}: {fault.string}"
    if fault.is_client:
        return SenderError(
            f"the register refused the request (HTTP {status}, SOAP fault {text})",
            code="REGISTRY-FAULT-CLIENT",
            message_bg=f"Регистърът отказа заявката (HTTP {status}, SOAP грешка {text})",
        )
    return TransportFault(
        f"the register answered a SOAP fault (HTTP {status}, {text})",
        code="REGISTRY-FAULT",
        message_bg=f"Регистърът отговори с SOAP грешка (HTTP {status}, {text})",
    )


def _http_error(status: int, reason: str) -> TransportError:
    text = f"HTTP {status} {reason}".strip()
    if status >= 500 or status in {408, 429}:
        return TransportFault(
            f"the register answered {text}",
            code="REGISTRY-HTTP",
            message_bg=f"Регистърът отговори с {text}",
        )
    if 400 <= status < 500:
        return SenderError(
            f"the register refused the request: {text}",
            code="REGISTRY-HTTP",
            message_bg=f"Регистърът отказа заявката: {text}",
        )
    return ReceiverError(
        f"the register answered an unexpected {text}",
        code="REGISTRY-HTTP",
        message_bg=f"Регистърът отговори с неочакван {text}",
    )


def _network_error(error: httpx.HTTPError, url: str) -> TransportFault:
    if isinstance(error, httpx.TimeoutException):
        return TransportFault(
            f"the register at {url} did not answer in time ({type(error).__name__})",
            code="REGISTRY-TIMEOUT",
            message_bg=f"Регистърът на {url} не отговори навреме",
        )
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return TransportFault(
            f"the TLS connection to the register at {url} failed: {cause}",
            code="REGISTRY-TLS",
            message_bg=f"TLS връзката с регистъра на {url} е неуспешна: {cause}",
        )
    return TransportFault(
        f"cannot reach the register at {url}: {error or type(error).__name__}",
        code="REGISTRY-CONNECTION",
        message_bg=f"Няма връзка с регистъра на {url}: {error or type(error).__name__}",
    )


def _too_large(limit: int) -> ReceiverError:
    return ReceiverError(
        f"the register's answer is larger than {limit} bytes",
        code="REGISTRY-TOO-LARGE",
        message_bg=f"Отговорът на регистъра е по-голям от {limit} байта",
    )


def _too_slow(url: str, timeout: float) -> TransportFault:
    return TransportFault(
        f"the register at {url} did not complete its answer within {timeout} s",
        code="REGISTRY-TIMEOUT",
        message_bg=f"Регистърът на {url} не завърши отговора си в рамките на {timeout} s",
    )


class _Base:
    """What the synchronous and asynchronous clients share: requests and answers."""

    def __init__(
        self,
        url: str,
        *,
        client_certificate: CertificateSource | None,
        verify: TrustSource,
        timeout: float,
        max_bytes: int,
        max_records: int,
        allow_http: bool,
    ) -> None:
        scheme = httpx.URL(url).scheme
        if scheme not in {"https", "http"} or (scheme == "http" and not allow_http):
            raise ValueError(
                f"the register URL must be https:// (got {url!r}; plain http needs allow_http)"
            )
        if timeout <= 0 or max_bytes < 1 or max_records < 1:
            raise ValueError("timeout, max_bytes and max_records must be positive")
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_records = max_records
        self._tls: ssl.SSLContext | None = (
            client_ssl_context(client_certificate, verify=verify) if scheme == "https" else None
        )

    def _http_options(self) -> _HttpOptions:
        return _HttpOptions(
            timeout=httpx.Timeout(self.timeout),
            verify=self._tls if self._tls is not None else True,
        )

    @staticmethod
    def _request(
        operation: Operation, argument: str | datetime | None
    ) -> tuple[bytes, dict[str, str]]:
        headers = {
            "Content-Type": SOAP11_CONTENT_TYPE,
            "SOAPAction": f'"{operation.soap_action}"',
            "Accept": "text/xml",
        }
        return build_request(operation, argument), headers

    def _check_length(self, response: httpx.Response) -> None:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise _too_large(self.max_bytes)

    def _interpret(self, operation: Operation, status: int, reason: str, body: bytes) -> Directory:
        limits = XmlLimits(max_bytes=self.max_bytes)
        envelope = None
        if body.strip():
            try:
                envelope = parse_envelope(body, limits=limits)
            except SoapError as error:
                if status == 200:
                    raise ReceiverError(
                        f"the register's answer is not a SOAP envelope: {error}",
                        code=error.code,
                        message_bg=f"Отговорът на регистъра не е SOAP плик: {error.message_bg}",
                    ) from None
        if envelope is not None and envelope.fault is not None:
            raise _fault_error(envelope.fault, status)
        if status != 200 or envelope is None:
            if status == 200:
                raise ReceiverError(
                    "the register answered an empty body",
                    code="REGISTRY-RESPONSE",
                    message_bg="Регистърът върна празен отговор",
                )
            raise _http_error(status, reason)
        try:
            directory = read_response(envelope, operation, max_records=self.max_records)
        except SoapError as error:
            raise ReceiverError(
                f"the register's answer to {operation.value} cannot be read: {error}",
                code=error.code,
                message_bg=f"Отговорът на регистъра на {operation.value} не може да бъде "
                f"прочетен: {error.message_bg}",
            ) from None
        for issue in directory.rejected:
            _log.warning(
                "register record %d (%s) left out: %s %s",
                issue.index,
                issue.guid or "no GUID",
                issue.code,
                issue.message,
            )
        return directory


def _argument(operation: Operation, value: object) -> str | datetime | None:
    if operation is Operation.GET_BY_GUID:
        assert isinstance(value, Guid | str)
        return str(value if isinstance(value, Guid) else Guid.parse_lenient(value))
    if operation is Operation.GET_BY_CERTIFICATE_SN:
        assert isinstance(value, int | str)
        return normalize_serial(value)
    if operation is Operation.GET_BY_ENTITY_IDENTIFIER:
        assert isinstance(value, str)
        return value.strip()
    assert value is None or isinstance(value, datetime)
    return value


class RegistryClient(_Base):
    """The register's web service, synchronously (thread-safe; reuses connections).

    :param url: the register's endpoint (``https://…``).
    :param client_certificate: the participant's transport certificate and key for mutual
        TLS: ``(certificate_file, key_file)`` or an object such as
        :class:`~eintegr.signing.pki.Issued`.
    :param verify: what the register's certificate is checked against (:data:`TrustSource`).
    :param timeout: seconds for connecting, for each read and write, and for a whole call.
    :param max_bytes: the largest answer accepted (decoded bytes).
    :param max_records: the most records accepted in one answer.
    :param allow_http: accept a plain ``http://`` URL (local demos only).
    """

    def __init__(
        self,
        url: str,
        *,
        client_certificate: CertificateSource | None = None,
        verify: TrustSource = True,
        timeout: float = 30.0,
        max_bytes: int = _DEFAULT_MAX_BYTES,
        max_records: int = 100_000,
        allow_http: bool = False,
    ) -> None:
        super().__init__(
            url,
            client_certificate=client_certificate,
            verify=verify,
            timeout=timeout,
            max_bytes=max_bytes,
            max_records=max_records,
            allow_http=allow_http,
        )
        options = self._http_options()
        self._http = httpx.Client(
            timeout=options.timeout,
            verify=options.verify,
            follow_redirects=False,
            trust_env=False,
            headers=_HEADERS,
        )

    def all_records(self) -> Directory:
        """``GetAllRecords``: every participant, and the register's ``LastChange``."""
        return self.call(Operation.GET_ALL_RECORDS)

    def new_records(self, since: datetime) -> Directory:
        """``GetNewRecords``: the participants changed since ``since``."""
        return self.call(Operation.GET_NEW_RECORDS, since)

    def by_entity_identifier(self, eik: str) -> Directory:
        """``GetByEntityIdentifier``: the participants with ЕИК/БУЛСТАТ ``eik``."""
        return self.call(Operation.GET_BY_ENTITY_IDENTIFIER, eik)

    def by_guid(self, guid: Guid | str) -> Directory:
        """``GetByGuid``: the participant with ``guid`` (sent as ``{lower-case}``)."""
        return self.call(Operation.GET_BY_GUID, guid)

    def by_certificate_serial(self, serial: int | str) -> Directory:
        """``GetByCertificateSN``: the participant whose transport certificate has ``serial``
        (sent as lower-case hex without leading zeros)."""
        return self.call(Operation.GET_BY_CERTIFICATE_SN, serial)

    def call(self, operation: Operation | str, argument: object = None) -> Directory:
        """Call ``operation`` with its argument; see the module docstring for the failures."""
        op = Operation(operation)
        body, headers = self._request(op, _argument(op, argument))
        deadline = time.monotonic() + self.timeout
        try:
            with self._http.stream("POST", self.url, content=body, headers=headers) as response:
                self._check_length(response)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _too_large(self.max_bytes)
                    if time.monotonic() > deadline:
                        raise _too_slow(self.url, self.timeout)
                    chunks.append(chunk)
                status, reason = response.status_code, response.reason_phrase
        except httpx.HTTPError as error:
            raise _network_error(error, self.url) from error
        return self._interpret(op, status, reason, b"".join(chunks))

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncRegistryClient(_Base):
    """The asynchronous twin of :class:`RegistryClient` (same parameters and failures)."""

    def __init__(
        self,
        url: str,
        *,
        client_certificate: CertificateSource | None = None,
        verify: TrustSource = True,
        timeout: float = 30.0,
        max_bytes: int = _DEFAULT_MAX_BYTES,
        max_records: int = 100_000,
        allow_http: bool = False,
    ) -> None:
        super().__init__(
            url,
            client_certificate=client_certificate,
            verify=verify,
            timeout=timeout,
            max_bytes=max_bytes,
            max_records=max_records,
            allow_http=allow_http,
        )
        options = self._http_options()
        self._http = httpx.AsyncClient(
            timeout=options.timeout,
            verify=options.verify,
            follow_redirects=False,
            trust_env=False,
            headers=_HEADERS,
        )

    async def all_records(self) -> Directory:
        """``GetAllRecords``; see :meth:`RegistryClient.all_records`."""
        return await self.call(Operation.GET_ALL_RECORDS)

    async def new_records(self, since: datetime) -> Directory:
        """``GetNewRecords``; see :meth:`RegistryClient.new_records`."""
        return await self.call(Operation.GET_NEW_RECORDS, since)

    async def by_entity_identifier(self, eik: str) -> Directory:
        """``GetByEntityIdentifier``; see :meth:`RegistryClient.by_entity_identifier`."""
        return await self.call(Operation.GET_BY_ENTITY_IDENTIFIER, eik)

    async def by_guid(self, guid: Guid | str) -> Directory:
        """``GetByGuid``; see :meth:`RegistryClient.by_guid`."""
        return await self.call(Operation.GET_BY_GUID, guid)

    async def by_certificate_serial(self, serial: int | str) -> Directory:
        """``GetByCertificateSN``; see :meth:`RegistryClient.by_certificate_serial`."""
        return await self.call(Operation.GET_BY_CERTIFICATE_SN, serial)

    async def call(self, operation: Operation | str, argument: object = None) -> Directory:
        """Call ``operation``; see :meth:`RegistryClient.call`."""
        op = Operation(operation)
        body, headers = self._request(op, _argument(op, argument))
        deadline = time.monotonic() + self.timeout
        try:
            async with self._http.stream(
                "POST", self.url, content=body, headers=headers
            ) as response:
                self._check_length(response)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _too_large(self.max_bytes)
                    if time.monotonic() > deadline:
                        raise _too_slow(self.url, self.timeout)
                    chunks.append(chunk)
                status, reason = response.status_code, response.reason_phrase
        except httpx.HTTPError as error:
            raise _network_error(error, self.url) from error
        return self._interpret(op, status, reason, b"".join(chunks))

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class OnlineRegister(Register):
    """The register asked at every look-up (the specification's online mode).

    ``by_guid``, ``by_eik`` and ``by_certificate_serial`` call the matching operation;
    ``participants()`` calls ``GetAllRecords``. Network failures propagate as
    :class:`~eintegr.errors.TransportError`; a participant the register does not return is a
    :class:`~eintegr.errors.RegistryError` (``REGISTRY-UNKNOWN``, or the code of the record
    the register returned but that could not be read).
    """

    def __init__(self, client: RegistryClient) -> None:
        self.client = client

    def participants(self) -> Sequence[Participant]:
        """Every participant (``GetAllRecords``)."""
        return self.client.all_records().participants

    def by_guid(self, guid: Guid | str) -> Participant:
        """The participant with ``guid`` (``GetByGuid``)."""
        wanted = guid if isinstance(guid, Guid) else Guid.parse_lenient(guid)
        found = self.client.by_guid(wanted)
        return self._pick(
            found, (p for p in found.participants if p.guid == wanted), f"GUID {wanted}"
        )

    def by_eik(self, eik: str) -> Participant:
        """The participant with ЕИК/БУЛСТАТ ``eik`` (``GetByEntityIdentifier``)."""
        found = self.client.by_entity_identifier(eik)
        return self._pick(found, (p for p in found.participants if p.eik == eik), f"ЕИК {eik}")

    def by_certificate_serial(self, serial: int | str) -> Participant:
        """The participant whose transport certificate has ``serial`` (``GetByCertificateSN``)."""
        wanted = normalize_serial(serial)
        found = self.client.by_certificate_serial(wanted)
        return self._pick(
            found,
            (p for p in found.participants if p.certificate_serial == wanted),
            f"certificate serial {wanted}",
        )

    def _pick(self, found: Directory, matches: Iterator[Participant], what: str) -> Participant:
        match = next(matches, None)
        if match is None and found.rejected:
            issue = found.rejected[0]
            raise RegistryError(
                f"the register's record for {what} cannot be read: {issue.message}",
                code=issue.code,
                message_bg=f"Записът в регистъра за {what} не може да бъде прочетен: "
                f"{issue.message_bg}",
            )
        return self._one(iter(() if match is None else (match,)), what)
