"""The Submit server over real sockets on 127.0.0.1: mutual TLS, every П.* scenario of the
compatibility procedure, the HTTP envelope, slow and vanishing clients, concurrency, a reverse
proxy, and the Submit client of :mod:`eintegr.transport.submit_client` end to end."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import quote

import httpx
import pytest
from lxml import etree

from eintegr.errors import TransportFault
from eintegr.messages import DocumentStatus, Message, reply_to
from eintegr.messages.seos import DocumentStatusResponse
from eintegr.registry.model import DOCUMENT_EXCHANGE_SERVICE, Service, StaticRegister
from eintegr.signing import PinnedCertificates, VerificationPolicy, sign_message, verify_message
from eintegr.signing.pki import Issued
from eintegr.transport import (
    SUBMIT_ACTION,
    SubmitTransport,
    TlsCredentials,
    build_submit_request,
)
from eintegr.transport.asgi_server import load_certificate_chain, server_ssl_context
from eintegr.transport.receiving import ReceivedMessage, ReceivingPipeline
from eintegr.transport.server import (
    FAULT_NS,
    ForwardedCertificate,
    SubmitApp,
    SubmitServer,
    submit_wsdl,
)
from eintegr.transport.soap import SoapFault, parse_envelope
from tests.transport.test_receiving import Recorder, World, make_world

HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SUBMIT_ACTION}"'}
MAX_BODY = 64 * 1024
TIMEOUT = 0.5


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


def answer_status_requests(received: ReceivedMessage) -> Message | None:
    """Status requests get a signed status response; everything else an empty answer."""
    body = received.message.body
    if type(body).__name__ != "DocumentStatusRequest":
        return None
    response = DocumentStatusResponse(doc_id=body.doc_id, status=DocumentStatus.DS_REGISTERED)  # type: ignore[union-attr]
    return reply_to(received.message, response)


@dataclass
class Endpoint:
    url: str
    port: int
    recorder: Recorder


@pytest.fixture(scope="module")
def endpoint(world: World) -> Iterator[Endpoint]:
    recorder = Recorder(answer_status_requests)
    pipeline = ReceivingPipeline(
        world.bob.participant, world.register, handler=recorder, signer=world.bob.key.signer()
    )
    app = SubmitApp(pipeline, max_body_bytes=MAX_BODY, body_timeout=TIMEOUT)
    context = server_ssl_context(world.bob.key, client_ca=[world.ca.certificate])
    with SubmitServer(app, ssl_context=context, head_timeout=TIMEOUT) as server:
        yield Endpoint(server.url, server.port, recorder)


def client_context(world: World, key: Issued | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=world.ca.certificate_pem().decode("ascii"))
    if key is not None:
        load_certificate_chain(context, key)
    return context


def post(
    url: str,
    world: World,
    key: Issued | None,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    with httpx.Client(verify=client_context(world, key), timeout=10) as client:
        return client.post(url, content=body, headers=HEADERS if headers is None else headers)


def fault(response: httpx.Response) -> tuple[SoapFault, str]:
    """The fault and the check ID in its detail."""
    envelope = parse_envelope(response.content)
    assert envelope.fault is not None, response.text
    detail = etree.fromstring(f"<d>{envelope.fault.detail}</d>".encode())
    code = detail.findtext(f"{{{FAULT_NS}}}SubmitFault/{{{FAULT_NS}}}Code") or ""
    assert envelope.fault.string.startswith(f"{code}: ")
    messages = detail.findall(f".//{{{FAULT_NS}}}Message")
    assert [m.get("{http://www.w3.org/XML/1998/namespace}lang") for m in messages] == ["en", "bg"]
    return envelope.fault, code


def submit_result(response: httpx.Response) -> bytes | None:
    assert response.status_code == 200, response.text
    element = parse_envelope(response.content).body_element
    assert element.tag == "{http://services.egov.bg/messaging/}SubmitResponse"
    return None if len(element) == 0 else (element[0].text or "").encode()


# --- accepted ------------------------------------------------------------------------------------


def test_a_valid_message_gets_an_empty_answer(world: World, endpoint: Endpoint) -> None:
    data = world.signed()
    before = len(endpoint.recorder.received)
    assert (
        submit_result(post(endpoint.url, world, world.alice.key, build_submit_request(data)))
        is None
    )
    received = endpoint.recorder.received[before]
    assert received.raw == data
    assert received.client_certificate == world.alice.key.certificate


def test_a_status_request_gets_a_signed_response(world: World, endpoint: Endpoint) -> None:
    request = build_submit_request(world.signed(status=True))
    answer = submit_result(post(endpoint.url, world, world.alice.key, request))
    assert answer is not None
    policy = VerificationPolicy(trust=PinnedCertificates([world.bob.key.certificate]))
    header = verify_message(answer, policy).message.header
    assert header.sender.guid == world.bob.participant.guid
    assert header.recipient.guid == world.alice.participant.guid


def test_a_message_declared_as_utf16_in_its_string(world: World, endpoint: Endpoint) -> None:
    text = world.signed().decode("utf-8")
    text = text.replace(
        "<?xml version='1.0' encoding='utf-8'?>", '<?xml version="1.0" encoding="utf-16"?>'
    )
    assert 'encoding="utf-16"' in text
    envelope = build_submit_request(text.encode("utf-8"))
    assert b'encoding="utf-16"' in envelope
    assert submit_result(post(endpoint.url, world, world.alice.key, envelope)) is None


# --- the compatibility procedure's receiving scenarios ------------------------------------------


Scenario = Callable[[World], tuple[Issued | None, bytes]]

SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "П.1 no client certificate": (lambda w: (None, w.signed()), "П.1"),
    "П.5 unknown participant": (lambda w: (w.eve.key, w.signed(sender=w.eve)), "П.5"),
    "П.5 inactive participant": (lambda w: (w.dave.key, w.signed(sender=w.dave)), "П.5"),
    "П.2 not XML": (lambda w: (w.alice.key, b"this is not XML"), "П.2"),
    "П.3 XSD-invalid": (
        lambda w: (w.alice.key, w.signed().replace(b"<DocKind>", b"<Extra/><DocKind>")),
        "П.3",
    ),
    "П.4 another recipient": (lambda w: (w.alice.key, w.signed(recipient=w.carol)), "П.4"),
    "П.6 client certificate is not the sender's": (lambda w: (w.carol.key, w.signed()), "П.6"),
    "П.7 unsigned": (lambda w: (w.alice.key, w.message().to_xml()), "П.7"),
    "П.8 signed with another certificate": (
        lambda w: (w.alice.key, w.signed(key=w.alice_second)),
        "П.8",
    ),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_compatibility_scenario_is_a_client_fault(
    world: World, endpoint: Endpoint, name: str
) -> None:
    scenario, expected = SCENARIOS[name]
    key, message = scenario(world)
    before = len(endpoint.recorder.received)
    response = post(endpoint.url, world, key, build_submit_request(message))
    assert response.status_code == 500
    soap_fault, code = fault(response)
    assert code == expected
    assert soap_fault.code == "s:Client"
    assert len(endpoint.recorder.received) == before


def test_p9_duplicate_message_guid(world: World, endpoint: Endpoint) -> None:
    request = build_submit_request(world.signed())
    assert submit_result(post(endpoint.url, world, world.alice.key, request)) is None
    response = post(endpoint.url, world, world.alice.key, request)
    assert fault(response)[1] == "П.9"


@pytest.mark.parametrize("which", ["expired", "outsider"])
def test_an_invalid_client_certificate_is_refused_in_the_handshake(
    world: World, endpoint: Endpoint, which: str
) -> None:
    key = world.expired if which == "expired" else world.outsider
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        post(endpoint.url, world, key, build_submit_request(world.signed()))


def test_oversized_declared_length_is_refused_before_reading(
    world: World, endpoint: Endpoint
) -> None:
    body = b"x" * (MAX_BODY + 1)
    response = post(endpoint.url, world, world.alice.key, body)
    assert response.status_code == 413
    assert fault(response)[1] == "RECV-TOO-LARGE"
    assert response.headers["connection"] == "close"


def test_oversized_streamed_body_is_refused_while_reading(world: World, endpoint: Endpoint) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"y" * 4096  # chunked, no Content-Length: 160 KiB > 64 KiB

    with httpx.Client(verify=client_context(world, world.alice.key), timeout=10) as client:
        try:
            response = client.post(endpoint.url, content=chunks(), headers=HEADERS)
        except httpx.WriteError:  # the server answered and closed before the upload ended
            return
    assert response.status_code == 413
    assert fault(response)[1] == "RECV-TOO-LARGE"


# --- the HTTP envelope -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "headers", "body", "status", "code"),
    [
        ("POST", {**HEADERS, "SOAPAction": '"urn:other"'}, None, 500, "SOAP-ACTION"),
        ("POST", {k: v for k, v in HEADERS.items() if k != "SOAPAction"}, None, 500, "SOAP-ACTION"),
        (
            "POST",
            {**HEADERS, "Content-Type": "application/soap+xml"},
            None,
            415,
            "SOAP-CONTENT-TYPE",
        ),
        ("PUT", HEADERS, None, 405, "SOAP-METHOD"),
        ("GET", {}, b"", 405, "SOAP-METHOD"),
        ("POST", HEADERS, b"<not-soap/>", 500, "SOAP-MALFORMED"),
        ("POST", HEADERS, b"<broken", 500, "SOAP-XML"),
        (
            "POST",
            HEADERS,
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b'<Submit xmlns="http://services.egov.bg/messaging/"/></s:Body></s:Envelope>',
            500,
            "П.2",
        ),
        (
            "POST",
            HEADERS,
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b'<Other xmlns="urn:x"/></s:Body></s:Envelope>',
            500,
            "SOAP-OPERATION",
        ),
    ],
    ids=[
        "wrong-action",
        "no-action",
        "soap12",
        "put",
        "get",
        "not-an-envelope",
        "not-xml",
        "empty-request",
        "other-operation",
    ],
)
def test_envelope_errors(
    world: World,
    endpoint: Endpoint,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    code: str,
) -> None:
    content = build_submit_request(world.signed()) if body is None else body
    with httpx.Client(verify=client_context(world, world.alice.key), timeout=10) as client:
        response = client.request(method, endpoint.url, content=content, headers=headers)
    assert response.status_code == status
    soap_fault, found = fault(response)
    assert found == code
    assert soap_fault.code == "s:Client"


def test_the_wsdl(world: World, endpoint: Endpoint) -> None:
    with httpx.Client(verify=client_context(world, world.alice.key), timeout=10) as client:
        response = client.get(endpoint.url + "?wsdl")
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    wsdl = "http://schemas.xmlsoap.org/wsdl/"
    soap = "http://schemas.xmlsoap.org/wsdl/soap/"
    assert root.get("targetNamespace") == "http://services.egov.bg/messaging/"
    operation = root.find(f"{{{wsdl}}}binding/{{{wsdl}}}operation/{{{soap}}}operation")
    assert operation is not None
    assert operation.get("soapAction") == SUBMIT_ACTION
    address = root.find(f"{{{wsdl}}}service/{{{wsdl}}}port/{{{soap}}}address")
    assert address is not None
    assert address.get("location") == endpoint.url
    assert submit_wsdl("https://x.example/Submit") != submit_wsdl("https://y.example/Submit")


# --- slow and vanishing clients ---------------------------------------------------------------


def _tls_socket(world: World, port: int) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return client_context(world, world.alice.key).wrap_socket(raw, server_hostname="127.0.0.1")


def _read_until_closed(sock: ssl.SSLSocket, limit: float = 5.0) -> bytes:
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ssl.SSLError, ConnectionError):
            break
        if not chunk:
            break
        data += chunk
    return data


def test_a_slow_request_head_is_cut_off(world: World, endpoint: Endpoint) -> None:
    with _tls_socket(world, endpoint.port) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        assert _read_until_closed(sock) == b""
        assert time.monotonic() - started < 3


def test_a_slow_body_times_out(world: World, endpoint: Endpoint) -> None:
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
        f"SOAPAction: {SUBMIT_ACTION}\r\nContent-Length: 5000\r\n\r\n"
    )
    with _tls_socket(world, endpoint.port) as sock:
        sock.sendall(head.encode() + b"<s:Envelope")
        started = time.monotonic()
        answer = _read_until_closed(sock)
        assert time.monotonic() - started < 3
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"RECV-TIMEOUT" in answer


def test_a_connection_reset_mid_body(world: World, endpoint: Endpoint) -> None:
    body = build_submit_request(world.signed())
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
        f'SOAPAction: "{SUBMIT_ACTION}"\r\nContent-Length: {len(body)}\r\n\r\n'
    )
    before = len(endpoint.recorder.received)
    sock = _tls_socket(world, endpoint.port)
    sock.sendall(head.encode() + body[: len(body) // 2])
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST, no close_notify
    time.sleep(0.2)
    assert len(endpoint.recorder.received) == before
    assert submit_result(post(endpoint.url, world, world.alice.key, body)) is None  # still serving
    assert len(endpoint.recorder.received) == before + 1


def test_concurrent_clients(world: World, endpoint: Endpoint) -> None:
    per_client, clients = 4, 6
    requests = [
        [build_submit_request(world.signed()) for _ in range(per_client)] for _ in range(clients)
    ]
    statuses: list[int] = []
    lock = threading.Lock()

    def run(bodies: list[bytes]) -> None:
        with httpx.Client(verify=client_context(world, world.alice.key), timeout=10) as client:
            for body in bodies:
                response = client.post(endpoint.url, content=body, headers=HEADERS)
                with lock:
                    statuses.append(response.status_code)

    before = len(endpoint.recorder.received)
    threads = [threading.Thread(target=run, args=(bodies,)) for bodies in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [200] * (per_client * clients)
    guids = {r.message_guid for r in endpoint.recorder.received[before:]}
    assert len(guids) == per_client * clients


# --- the Submit client against the Submit server -------------------------------------------------


def test_the_submit_client_end_to_end(world: World, endpoint: Endpoint) -> None:
    service = Service(DOCUMENT_EXCHANGE_SERVICE, "Документооборот", endpoint.url)
    bob = replace(world.bob.participant, services=(service,))
    register = StaticRegister(
        [p if p.guid != bob.guid else bob for p in world.register.participants()]
    )
    transport = SubmitTransport(
        TlsCredentials.from_issued(world.alice.key),
        register=register,
        ca=[world.ca.certificate],
        participant=world.alice.participant.guid,
    )
    with transport:
        data = world.signed()
        assert transport.send(bob, data).response is None
        answer = transport.send(bob, world.signed(status=True)).response
        assert answer is not None
        with pytest.raises(TransportFault) as caught:
            transport.send(bob, data)  # П.9 on the server: a fault for the client (И.8)
        assert "П.9" in str(caught.value)


# --- behind a TLS-terminating reverse proxy ----------------------------------------------------


@pytest.fixture(scope="module")
def proxied(world: World) -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    pipeline = ReceivingPipeline(
        world.bob.participant,
        world.register,
        handler=recorder,
        client_roots=[world.ca.certificate],
    )
    app = SubmitApp(pipeline, forwarded_certificate=ForwardedCertificate(["127.0.0.0/8"]))
    with SubmitServer(app, ssl_context=None) as server:
        yield server.url, recorder


def _forwarded(url: str, body: bytes, certificate: Issued | None) -> httpx.Response:
    headers = dict(HEADERS)
    if certificate is not None:
        headers["X-SSL-Client-Cert"] = quote(certificate.certificate_pem().decode("ascii"))
    return httpx.post(url, content=body, headers=headers, timeout=10)


def test_a_forwarded_client_certificate_is_used(
    world: World, proxied: tuple[str, Recorder]
) -> None:
    url, recorder = proxied
    response = _forwarded(url, build_submit_request(world.signed()), world.alice.key)
    assert submit_result(response) is None
    assert recorder.received[-1].client_certificate == world.alice.key.certificate


@pytest.mark.parametrize("which", ["none", "expired", "outsider"])
def test_a_forwarded_certificate_is_checked(
    world: World, proxied: tuple[str, Recorder], which: str
) -> None:
    url, _ = proxied
    key = {"none": None, "expired": world.expired, "outsider": world.outsider}[which]
    response = _forwarded(url, build_submit_request(world.signed()), key)
    assert response.status_code == 500
    assert fault(response)[1] == "П.1"


def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(world: World) -> None:
    pipeline = ReceivingPipeline(
        world.bob.participant,
        world.register,
        handler=Recorder(),
        client_roots=[world.ca.certificate],
    )
    for forwarded in (None, ForwardedCertificate(["10.0.0.0/8"])):
        app = SubmitApp(pipeline, forwarded_certificate=forwarded)
        with SubmitServer(app, ssl_context=None) as server:
            response = _forwarded(server.url, build_submit_request(world.signed()), world.alice.key)
        assert fault(response)[1] == "П.1"


def test_forwarded_certificate_configuration() -> None:
    with pytest.raises(ValueError, match="trusted proxy"):
        ForwardedCertificate([])
    with pytest.raises(ValueError, match="does not appear to be"):
        ForwardedCertificate(["proxy.example"])
    with pytest.raises(TypeError):
        ForwardedCertificate("10.0.0.1")
    forwarded = ForwardedCertificate(["10.0.0.1", "fd00::/8"], header="X-Client-Cert")
    assert forwarded.trusts("10.0.0.1")
    assert forwarded.trusts("fd00::5")
    assert not forwarded.trusts("10.0.0.2")
    assert not forwarded.trusts("not an address")
    assert forwarded.header_bytes == b"x-client-cert"


def test_a_response_in_another_encoding_travels_as_a_string(world: World) -> None:
    def utf16(received: ReceivedMessage) -> bytes:
        answer = answer_status_requests(received)
        assert answer is not None
        signed = sign_message(answer, world.bob.key.signer()).decode("utf-8")
        signed = signed.replace("encoding='utf-8'", "encoding='utf-16'")
        return signed.encode("utf-16")

    pipeline = ReceivingPipeline(world.bob.participant, world.register, handler=utf16)
    context = server_ssl_context(world.bob.key, client_ca=[world.ca.certificate])
    with SubmitServer(SubmitApp(pipeline), ssl_context=context) as server:
        response = post(
            server.url, world, world.alice.key, build_submit_request(world.signed(status=True))
        )
    answer = submit_result(response)
    assert answer is not None
    assert answer.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    policy = VerificationPolicy(trust=PinnedCertificates([world.bob.key.certificate]))
    assert verify_message(answer, policy).certificate == world.bob.key.certificate


@pytest.mark.parametrize(
    ("options", "where"),
    [
        ({}, "AnyIO worker thread"),
        ({"inline_check_bytes": 1 << 20}, "AnyIO worker thread"),
        ({"inline_check_bytes": 1 << 20, "inline_handler": True}, "eintegr-submit-"),
    ],
    ids=["threads", "inline-checks", "inline-all"],
)
def test_where_the_handler_runs(world: World, options: dict[str, object], where: str) -> None:
    threads: list[str] = []

    def handler(received: ReceivedMessage) -> None:
        threads.append(threading.current_thread().name)

    pipeline = ReceivingPipeline(world.bob.participant, world.register, handler=handler)
    context = server_ssl_context(world.bob.key, client_ca=[world.ca.certificate])
    app = SubmitApp(pipeline, **options)  # type: ignore[arg-type]
    with SubmitServer(app, ssl_context=context) as server:
        for _ in range(2):
            body = build_submit_request(world.signed())
            assert submit_result(post(server.url, world, world.alice.key, body)) is None
        refused = post(server.url, world, None, build_submit_request(world.signed()))
    assert fault(refused)[1] == "П.1"
    assert len(threads) == 2
    assert all(name.startswith(where) for name in threads), threads
