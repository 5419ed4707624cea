"""A local RegiX for tests, demos and trials: the V2 entry point, answering from files.

:class:`RegixTestServer` is an ASGI application speaking the RegiX entry point V2 over SOAP
1.1 the way the state's service does — ``Execute`` (synchronous, or asynchronous with
``ServiceCallID`` and ``VerificationCode``), ``CheckResult``, ``AcknowledgeResultReceived``,
SOAP faults for malformed or unknown calls — and answering each operation from a
:class:`ResponseStore`: a folder of XML files, or responses added in code. Results are signed
(XAdES over ``#data``, :func:`eintegr.transport.regix.sign_result`) with a test certificate
when the caller asks for ``SignResult``::

    ca = make_ca()
    server_tls = make_transport_certificate(ca, eik="000695235", host="localhost")
    client_tls = make_transport_certificate(ca, eik="175200005", host="adm.example")
    regix = RegixTestServer(demo_store(), signer=make_transport_certificate(
        ca, eik="000695235", host="regix.example").signer())
    with regix.run(tls=server_tls, client_ca=[ca.certificate]) as running:
        client = RegixClient(running.url, credentials=TlsCredentials.from_issued(client_tls),
                             ca=[ca.certificate])
        client.execute("PersonDataSearch", PersonDataRequest(egn="9001011238"), context)

Mutual TLS: with ``client_ca`` the server refuses a client without a certificate issued by
those CAs. The arguments are checked against eintegr's XSDs; an argument the store has no
answer for gets ``HasError`` with "no data found", as a register would say.

A store folder holds one sub-folder per operation (its short name, e.g.
``PersonDataSearch``) with ``<key>.xml`` files — the response element — where ``<key>`` is
the first value in the argument (the ЕГН, the ЕИК); ``default.xml`` answers any other key,
and ``<key>.error.txt`` makes the answer an error with that text.

This is a test double: memory only, one process, no access matrix filtering, no callbacks.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from lxml import etree

from eintegr.errors import EintegrError, MessageError, RegistryError, SoapError
from eintegr.messages.regix import (
    GET_ACTUAL_STATE,
    GET_VALID_UIC_INFO,
    PERMANENT_ADDRESS_SEARCH,
    PERSON_DATA_SEARCH,
    TEMPORARY_ADDRESS_SEARCH,
    DataContainer,
    Operation,
    RegixCall,
    ResponsePayload,
    ServiceCheckResultArgument,
    ServiceRequestData,
    ServiceResultData,
    XmlPayload,
    envelope_problems,
    get_operation,
    read_request_body,
    response_body,
)
from eintegr.signing.signer import Signer
from eintegr.transport.asgi_server import (
    BackgroundServer,
    CertificateSource,
    acknowledge_lifespan,
    server_ssl_context,
)
from eintegr.transport.regix import sign_result
from eintegr.transport.soap import (
    SOAP11_CONTENT_TYPE,
    SoapFault,
    build_envelope,
    build_fault,
    parse_envelope,
)
from eintegr.xml import XmlLimits, parse_xml

__all__ = [
    "ENTRY_POINT_PATH",
    "NO_DATA",
    "RegixTestServer",
    "ResponseStore",
    "RunningRegix",
    "demo_store",
]

ENTRY_POINT_PATH: Final = "/RegiXEntryPointV2.svc/basic"
"""The path the server is usually addressed by (any path is answered)."""
NO_DATA: Final = "Няма намерени данни"
"""The error text of a call the store has no answer for ("no data found")."""
_MAX_REQUEST: Final = 2 * 1024 * 1024
_WS: Final = " \t\r\n"

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


# ---------------------------------------------------------------------------------------------
# The answers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    response: XmlPayload | None = None
    error: str | None = None


class ResponseStore:
    """What the test RegiX answers: per operation, per key (the argument's first value).

    Thread-safe. Keys ``"default"`` answer any other key of their operation.
    """

    def __init__(self) -> None:
        self._answers: dict[str, dict[str, _Answer]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key_of(argument: etree._Element) -> str:
        """The key of an argument: its first non-empty text value (the ЕГН, the ЕИК)."""
        for node in argument.iter():
            if isinstance(node.tag, str) and not len(node) and (node.text or "").strip(_WS):
                return (node.text or "").strip(_WS)
        return "default"

    def add(
        self,
        operation: Operation | str,
        key: str,
        response: ResponsePayload | etree._Element | bytes,
    ) -> None:
        """Answer ``operation`` for ``key`` with ``response`` (a model, an element or bytes).

        :raises MessageError: the response is not the operation's response element.
        """
        op = operation if isinstance(operation, Operation) else get_operation(operation)
        payload = XmlPayload(response)
        if payload.tag != op.response_root:
            raise MessageError(
                f"{op.name} answers {op.response_root}, not {payload.tag}",
                code="REGIX-RESPONSE",
                message_bg=f"{op.name} отговаря с {op.response_root}, а не с {payload.tag}",
            )
        with self._lock:
            self._answers.setdefault(op.key, {})[key] = _Answer(response=payload)

    def add_error(self, operation: Operation | str, key: str, message: str) -> None:
        """Answer ``operation`` for ``key`` with ``HasError`` and ``message``."""
        op = operation if isinstance(operation, Operation) else get_operation(operation)
        with self._lock:
            self._answers.setdefault(op.key, {})[key] = _Answer(error=message)

    def find(self, operation: Operation, argument: etree._Element) -> _Answer | None:
        """The answer to ``operation`` with ``argument`` (``None`` when there is none)."""
        key = self.key_of(argument)
        with self._lock:
            answers = self._answers.get(operation.key, {})
            return answers.get(key) or answers.get("default")

    def operations(self) -> list[str]:
        """The keys of the operations the store answers."""
        with self._lock:
            return sorted(self._answers)

    @classmethod
    def from_folder(cls, folder: Path) -> ResponseStore:
        """Read ``<folder>/<OperationName>/<key>.xml`` and ``<key>.error.txt`` files.

        :raises eintegr.errors.RegistryError: a sub-folder names no registered operation.
        :raises eintegr.errors.XmlError: a file is not acceptable XML.
        :raises MessageError: a file is not its operation's response.
        """
        store = cls()
        root = Path(folder)
        if not root.is_dir():
            raise FileNotFoundError(f"{root} is not a folder")
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            operation = get_operation(sub.name)
            for path in sorted(sub.iterdir()):
                if path.name.endswith(".error.txt"):
                    text = path.read_text(encoding="utf-8").strip()
                    store.add_error(operation, path.name[: -len(".error.txt")], text)
                elif path.suffix == ".xml":
                    store.add(operation, path.stem, path.read_bytes())
        return store


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    result: bytes
    verification_code: str
    polls_left: int


@dataclass(frozen=True)
class RunningRegix:
    """A :class:`RegixTestServer` serving in the background: :attr:`url` is its entry point."""

    background: BackgroundServer

    @property
    def url(self) -> str:
        """The entry point's URL (``https://127.0.0.1:<port>/RegiXEntryPointV2.svc/basic``)."""
        return self.background.url + ENTRY_POINT_PATH

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self.background.port


class RegixTestServer:
    """The RegiX entry point V2 for tests: an ASGI application (see the module).

    :param store: the answers (default: an empty store — every call gets "no data found").
    :param signer: signs results asked to be signed; without one results stay unsigned.
    :param polls_until_ready: how many ``CheckResult`` calls an asynchronous call answers
        "not ready" before its result.
    :param max_request_bytes: larger requests get HTTP 413.

    Attributes for tests: :attr:`requests` (every ``ServiceRequestData`` received),
    :attr:`acknowledged` (the ``ServiceCallID`` values acknowledged), :attr:`delay` (seconds
    to wait before answering), and :meth:`inject` to answer the next call with given bytes.
    """

    def __init__(
        self,
        store: ResponseStore | None = None,
        *,
        signer: Signer | None = None,
        polls_until_ready: int = 1,
        max_request_bytes: int = _MAX_REQUEST,
    ) -> None:
        self.store = store or ResponseStore()
        self.signer = signer
        self.polls_until_ready = polls_until_ready
        self.delay = 0.0
        self.requests: list[ServiceRequestData] = []
        self.acknowledged: list[Decimal] = []
        self._max_request = max_request_bytes
        self._pending: dict[Decimal, _Pending] = {}
        self._injected: list[tuple[int, str, bytes]] = []
        self._next_id = 1000
        self._lock = threading.Lock()

    def inject(self, status: int, body: bytes, content_type: str = SOAP11_CONTENT_TYPE) -> None:
        """Answer the next call with exactly ``status`` and ``body`` (for error tests)."""
        with self._lock:
            self._injected.append((status, content_type, body))

    @contextmanager
    def run(
        self,
        *,
        tls: CertificateSource,
        client_ca: Sequence[x509.Certificate] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> Iterator[RunningRegix]:
        """Serve over HTTPS with ``tls`` (e.g. an :class:`~eintegr.signing.pki.Issued`) on
        ``host`` (a free port by default) in a background thread; with ``client_ca``, only
        clients presenting a certificate issued by those CAs are let in (mutual TLS)."""
        context = server_ssl_context(
            tls,
            client_ca=list(client_ca) if client_ca else None,
            require_client_certificate=bool(client_ca),
        )
        background = BackgroundServer(self, host=host, port=port, ssl_context=context)
        background.start()
        try:
            yield RunningRegix(background)
        finally:
            background.stop()

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """The ASGI 3 entry point."""
        if scope["type"] == "lifespan":
            await acknowledge_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            await _respond(send, 405, "text/plain", b"POST a SOAP 1.1 request")
            return
        chunks: list[bytes] = []
        total = 0
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                return
            chunk = event.get("body", b"")
            total += len(chunk)
            if total > self._max_request:
                await _respond(send, 413, "text/plain", b"Request Entity Too Large")
                return
            chunks.append(chunk)
            if not event.get("more_body", False):
                break
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status, content_type, body = await asyncio.to_thread(
            self.handle, b"".join(chunks), headers.get("soapaction")
        )
        await _respond(send, status, content_type, body)

    def handle(self, body: bytes, soap_action: str | None = None) -> tuple[int, str, bytes]:
        """Answer one request: ``(HTTP status, Content-Type, body)``."""
        with self._lock:
            if self._injected:
                return self._injected.pop(0)
        try:
            envelope = parse_envelope(body, limits=XmlLimits(max_bytes=self._max_request))
            call, payload = read_request_body(envelope.body_element)
            if soap_action is not None and soap_action.strip('"') != call.soap_action:
                raise _ClientFault(f"SOAPAction {soap_action!r} does not match {call.local}")
            if call is RegixCall.EXECUTE:
                result = self._execute(payload)
            elif call is RegixCall.CHECK_RESULT:
                result = self._check(payload)
            else:
                self._acknowledge(payload)
                result = None
            return 200, SOAP11_CONTENT_TYPE, build_envelope([response_body(call, result)])
        except _ClientFault as exc:
            return _fault("Client", str(exc))
        except (SoapError, MessageError, RegistryError) as exc:
            return _fault("Client", str(exc))
        except EintegrError as exc:  # pragma: no cover - defensive
            return _fault("Server", str(exc))

    # --- the operations ---

    def _execute(self, payload: etree._Element) -> etree._Element:
        problems = envelope_problems(payload)
        if problems:
            raise _ClientFault("; ".join(p.message for p in problems))
        request = ServiceRequestData.from_element(payload)
        with self._lock:
            self.requests.append(request)
            call_id = Decimal(self._next_id)
            self._next_id += 1
        try:
            operation = get_operation(request.operation)
        except RegistryError:
            raise _ClientFault(f"the operation {request.operation!r} is not known") from None
        if operation.key != request.operation:
            raise _ClientFault(f"the operation must be given by its full key: {operation.key}")
        argument = request.argument.element()
        problems = operation.request_problems(argument)
        if problems:
            raise _ClientFault("; ".join(p.message for p in problems))
        answer = self.store.find(operation, argument)
        if answer is None:
            answer = _Answer(error=NO_DATA)
        code = secrets.token_hex(16)
        if answer.error is not None:
            model = ServiceResultData(
                is_ready=True,
                has_error=True,
                error=answer.error,
                service_call_id=call_id,
                verification_code=code,
            )
            element = model.to_element()
        else:
            model = ServiceResultData(
                is_ready=True,
                data=DataContainer(request=request.argument, response=answer.response),
                service_call_id=call_id,
                verification_code=code,
            )
            element = model.to_element()
            if request.sign_result and self.signer is not None:
                sign_result(element, self.signer)
        if not request.asynchronous:
            return element
        with self._lock:
            self._pending[call_id] = _Pending(
                result=etree.tostring(element, encoding="utf-8"),
                verification_code=code,
                polls_left=self.polls_until_ready,
            )
        return ServiceResultData(
            is_ready=False, service_call_id=call_id, verification_code=code
        ).to_element()

    def _find(self, payload: etree._Element) -> tuple[ServiceCheckResultArgument, _Pending]:
        argument = ServiceCheckResultArgument.from_element(payload)
        with self._lock:
            pending = self._pending.get(argument.service_call_id)
        if pending is None:
            raise _ClientFault(f"no call with ServiceCallID {argument.service_call_id}")
        if argument.verification_code != pending.verification_code:
            raise _ClientFault("the VerificationCode does not match the call")
        return argument, pending

    def _check(self, payload: etree._Element) -> etree._Element:
        argument, pending = self._find(payload)
        with self._lock:
            if pending.polls_left > 0:
                pending.polls_left -= 1
                ready = False
            else:
                ready = True
        if not ready:
            return ServiceResultData(
                is_ready=False,
                service_call_id=argument.service_call_id,
                verification_code=pending.verification_code,
            ).to_element()
        return parse_xml(pending.result).getroot()

    def _acknowledge(self, payload: etree._Element) -> None:
        argument, _ = self._find(payload)
        with self._lock:
            self._pending.pop(argument.service_call_id, None)
            self.acknowledged.append(argument.service_call_id)


class _ClientFault(Exception):
    """A request the server refuses (a SOAP ``Client`` fault)."""


def _fault(code: str, message: str) -> tuple[int, str, bytes]:
    return 500, SOAP11_CONTENT_TYPE, build_fault(SoapFault(code=code, string=message))


async def _respond(send: _Send, status: int, content_type: str, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------------------------------
# Demo data (fictional people and companies)
# ---------------------------------------------------------------------------------------------

_NBD = "http://egov.bg/RegiX/GRAO/NBD"


def _demo_answers() -> Mapping[Operation, Mapping[str, str]]:
    person = f"""<PersonDataResponse xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataResponse"
      xmlns:nbd="{_NBD}"><PersonNames><nbd:FirstName>Мария</nbd:FirstName>
      <nbd:SurName>Иванова</nbd:SurName><nbd:FamilyName>Петрова</nbd:FamilyName></PersonNames>
      <LatinNames><nbd:FirstName>Maria</nbd:FirstName><nbd:SurName>Ivanova</nbd:SurName>
      <nbd:FamilyName>Petrova</nbd:FamilyName></LatinNames><Gender><nbd:GenderCode>2</nbd:GenderCode>
      <nbd:GenderName>Жена</nbd:GenderName></Gender><EGN>9001011238</EGN>
      <BirthDate>1990-01-01</BirthDate><PlaceBirth>гр. Пловдив</PlaceBirth>
      <Nationality><nbd:NationalityCode>BG</nbd:NationalityCode>
      <nbd:NationalityName>България</nbd:NationalityName></Nationality></PersonDataResponse>"""
    address = """<{root} xmlns="http://egov.bg/RegiX/GRAO/PNA/{root}">{country}
      <DistrictCode>PDV</DistrictCode><DistrictName>Пловдив</DistrictName>
      <MunicipalityCode>PDV22</MunicipalityCode><MunicipalityName>Пловдив</MunicipalityName>
      <SettlementCode>56784</SettlementCode><SettlementName>гр. Пловдив</SettlementName>
      <LocationName>ул. Примерна</LocationName><BuildingNumber>{number}</BuildingNumber>
      <Entrance>А</Entrance><Floor>3</Floor><Apartment>7</Apartment>
      <FromDate>2015-06-01</FromDate></{root}>"""
    country = "<CountryCode>BG</CountryCode><CountryName>България</CountryName>"
    company = """<ActualStateResponse xmlns="http://egov.bg/RegiX/AV/TR/ActualStateResponse"
      xmlns:tr="http://egov.bg/RegiX/AV/TR"><Status>Нова партида</Status><UIC>175200005</UIC>
      <Company>Пример</Company><LegalForm><tr:LegalFormAbbr>ЕООД</tr:LegalFormAbbr>
      <tr:LegalFormName>Еднолично дружество с ограничена отговорност</tr:LegalFormName>
      </LegalForm><Seat><tr:Address><tr:Country>БЪЛГАРИЯ</tr:Country>
      <tr:Settlement>гр. Пловдив</tr:Settlement><tr:PostCode>4000</tr:PostCode>
      <tr:Street>ул. Примерна</tr:Street><tr:StreetNumber>12</tr:StreetNumber></tr:Address>
      </Seat><SubjectOfActivity><tr:Subject>Разработка на софтуер.</tr:Subject>
      <tr:IsBank>false</tr:IsBank><tr:IsInsurer>false</tr:IsInsurer></SubjectOfActivity>
      <WayOfRepresentation>Управителят самостоятелно.</WayOfRepresentation>
      <Funds><tr:Value>2</tr:Value></Funds><Details>
      <tr:Detail><tr:FieldName>Управители</tr:FieldName><tr:FieldCode>7</tr:FieldCode>
      <tr:FieldOrder>00070</tr:FieldOrder><tr:Subject><tr:Indent>9001011238</tr:Indent>
      <tr:Name>Мария Иванова Петрова</tr:Name><tr:IndentType>EGN</tr:IndentType></tr:Subject>
      </tr:Detail><tr:Detail><tr:FieldName>Едноличен собственик на капитала</tr:FieldName>
      <tr:FieldCode>23</tr:FieldCode><tr:FieldOrder>00230</tr:FieldOrder><tr:Subject>
      <tr:Indent>7501020019</tr:Indent><tr:Name>Елена Стоянова Колева</tr:Name>
      <tr:IndentType>EGN</tr:IndentType></tr:Subject></tr:Detail></Details>
      <DataValidForDate>2024-05-06T10:15:00</DataValidForDate></ActualStateResponse>"""
    valid = """<ValidUICResponse xmlns="http://egov.bg/RegiX/AV/TR/ValidUICResponse"
      xmlns:tr="http://egov.bg/RegiX/AV/TR"><Status>Нова партида</Status><UIC>175200005</UIC>
      <Company>Пример</Company><LegalForm><tr:LegalFormAbbr>ЕООД</tr:LegalFormAbbr></LegalForm>
      </ValidUICResponse>"""
    return {
        PERSON_DATA_SEARCH: {"9001011238": person},
        PERMANENT_ADDRESS_SEARCH: {
            "9001011238": address.format(root="PermanentAddressResponse", country="", number=12)
        },
        TEMPORARY_ADDRESS_SEARCH: {
            "9001011238": address.format(
                root="TemporaryAddressResponse", country=country, number=40
            )
        },
        GET_ACTUAL_STATE: {"175200005": company},
        GET_VALID_UIC_INFO: {"175200005": valid},
    }


def demo_store() -> ResponseStore:
    """A store with fictional register data for the bundled operations.

    * ЕГН ``9001011238`` (Мария Иванова Петрова): ``PersonDataSearch``,
      ``PermanentAddressSearch``, ``TemporaryAddressSearch``;
    * ЕИК ``175200005`` („Пример“ ЕООД): ``GetActualState`` — whose sole owner's ЕГН
      ``7501020019`` has a wrong check digit, as real register data sometimes does — and
      ``GetValidUICInfo``.
    """
    store = ResponseStore()
    for operation, answers in _demo_answers().items():
        for key, text in answers.items():
            store.add(operation, key, text.encode("utf-8"))
    return store
