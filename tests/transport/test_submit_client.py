"""The Submit client over real sockets: every И.* case of the procedure, and misbehaving servers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from eintegr.errors import KeyLoadError, ReceiverError, SenderError, TransportFault
from eintegr.identifiers import Guid
from eintegr.messages import registration_request
from eintegr.messages.seos import new_document
from eintegr.registry.model import Participant, StaticRegister
from eintegr.signing.pki import make_ca, make_transport_certificate
from eintegr.signing.signer import KeySigner
from eintegr.signing.trust import CertificateAuthorities
from eintegr.signing.xmldsig import sign_message
from eintegr.testing import ContractParty, ContractWorld, ScriptedReceiver, TransportContract
from eintegr.transport import (
    SUBMIT_ACTION,
    SUBMIT_NS,
    SubmitTimeouts,
    SubmitTransport,
    TlsCredentials,
    Transport,
    build_submit_request,
    read_submit_response,
)
from eintegr.transport.soap import SOAP11_NS, parse_envelope
from eintegr.xml import parse_xml
from tests.transport.scripted_server import (
    Reply,
    Request,
    Script,
    ScriptedServer,
    deliver_to,
    fault,
    submit_response,
)

E = TypeVar("E", bound=Exception)
FAST = SubmitTimeouts(connect=5, write=5, read=5, pool=5, total=10)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def canonical(data: bytes) -> bytes:
    return etree.tostring(parse_xml(data), method="c14n")


@pytest.fixture(scope="module")
def world() -> ContractWorld:
    return ContractWorld.default()


@contextmanager
def serving(
    world: ContractWorld,
    script: Script,
    *,
    identity: ContractParty | None = None,
    **options: Any,
) -> Iterator[tuple[ScriptedServer, SubmitTransport, Participant, ContractWorld]]:
    """A scripted server as the recipient's endpoint, and a Submit client as the sender."""
    party = identity or world.recipient
    with ScriptedServer(party.credentials, world.ca, script) as server:
        here = world.with_endpoints(recipient=server.url)
        options.setdefault("timeouts", FAST)
        with SubmitTransport(
            TlsCredentials.from_issued(here.sender.credentials),
            register=here.register,
            ca=[here.ca.certificate],
            participant=here.sender.guid,
            **options,
        ) as transport:
            yield server, transport, here.recipient.participant, here


def failure(
    error: type[E], message: bytes, world: ContractWorld, script: Script, **options: Any
) -> tuple[pytest.ExceptionInfo[E], ScriptedServer]:
    """Send ``message`` through a scripted server; the ``error`` it raised, and the server."""
    with serving(world, script, **options) as (server, transport, recipient, _):
        try:
            transport.send(recipient, message)
        except error as caught:
            found = pytest.ExceptionInfo.from_exception(caught)
        else:
            pytest.fail(f"{error.__name__} was not raised")
    return found, server


def answer(body: bytes | str | None = None, **reply: Any) -> Script:
    return lambda request: Reply(body=submit_response(body), **reply)


def answer_bytes(body: bytes, **reply: Any) -> Script:
    return lambda request: Reply(body=body, **reply)


# --- the request on the wire --------------------------------------------------------------


def test_request_is_the_wsdl_operation(world: ContractWorld) -> None:
    message = world.message()
    with serving(world, answer(None)) as (server, transport, recipient, _):
        assert transport.send(recipient, message).is_empty
    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == "/EGovService.svc"
    assert request.headers["soapaction"] == f'"{SUBMIT_ACTION}"'
    assert request.headers["content-type"] == "text/xml; charset=utf-8"
    envelope = parse_envelope(request.body)
    submit = envelope.body_element
    assert submit.tag == f"{{{SUBMIT_NS}}}Submit"
    assert [child.tag for child in submit] == [f"{{{SUBMIT_NS}}}request"]
    assert submit[0].text == message.decode("utf-8")  # the message as an escaped string
    assert b"&lt;" in request.body
    assert parse_xml(request.body).getroot().tag == f"{{{SOAP11_NS}}}Envelope"
    assert request.client_certificate == world.sender.certificate


def test_build_submit_request_refuses_bytes_that_are_not_text() -> None:
    with pytest.raises(SenderError) as caught:
        build_submit_request("<m>е</m>".encode("cp1251"))
    assert caught.value.code == "И.1"


def test_message_in_another_encoding_travels_as_utf8_text(world: ContractWorld) -> None:
    from eintegr.signing import PinnedCertificates, VerificationPolicy, verify_message

    signed = registration_request(
        sender=world.sender.node,
        recipient=world.recipient.node,
        document=new_document(kind="Писмо"),
        comment="кирилица",
    ).to_xml()
    signed = sign_message(signed, world.sender.signer())
    text = signed.decode("utf-8").replace("UTF-8", "windows-1251", 1)
    text = text.replace("utf-8", "windows-1251", 1)
    assert "windows-1251" in text[:60]
    message = text.encode("cp1251")
    with serving(world, answer(None)) as (server, transport, recipient, _):
        assert transport.send(recipient, message).is_empty
    received = server.requests[0].message
    assert b'encoding="UTF-8"' in received[:60]
    assert "кирилица" in received.decode("utf-8")
    policy = VerificationPolicy(trust=PinnedCertificates([world.sender.certificate]))
    verify_message(received, policy)  # the signature still holds


# --- the empty result and the response message ---------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        submit_response(None),
        submit_response(None, nil=True),
        submit_response(""),
        submit_response("  \n "),
    ],
    ids=["absent", "nil", "empty", "blank"],
)
def test_empty_results(world: ContractWorld, body: bytes) -> None:
    with serving(world, lambda request: Reply(body=body)) as (_, transport, recipient, _):
        assert transport.send(recipient, world.message()).is_empty


def test_response_message(world: ContractWorld) -> None:
    message = world.message()
    response = world.response_to(message)
    with serving(world, answer(response)) as (_, transport, recipient, _):
        outcome = transport.send(recipient, message)
    assert outcome.response is not None
    assert canonical(outcome.response) == canonical(response)


def test_response_declared_as_utf16_string_is_read(world: ContractWorld) -> None:
    message = world.message()
    response = world.response_to(message).decode("utf-8")
    declared = '<?xml version="1.0" encoding="utf-16"?>' + response.split("?>", 1)[1]
    with serving(world, answer(declared)) as (_, transport, recipient, _):
        outcome = transport.send(recipient, message)
    assert outcome.response is not None
    assert outcome.response.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_connections_are_reused_per_recipient(world: ContractWorld) -> None:
    with serving(world, answer(None)) as (server, transport, recipient, _):
        for _ in range(3):
            assert transport.send(recipient, world.message()).is_empty
    assert server.handshakes == 1
    assert len(server.requests) == 3


# --- И.7: the server certificate ----------------------------------------------------------


def test_i7_server_certificate_of_another_participant(world: ContractWorld) -> None:
    caught, server = failure(
        TransportFault, world.message(), world, answer(None), identity=world.stranger
    )
    assert caught.value.code == "И.7"
    assert server.handshakes == 1  # the TLS session was made ...
    assert server.requests == []  # ... and closed before the message was written


def test_i7_server_certificate_from_an_untrusted_ca(world: ContractWorld) -> None:
    rogue_ca = make_ca("rogue CA")
    rogue = make_transport_certificate(rogue_ca, eik="202020204", host="localhost")
    impostor = replace(world.recipient, credentials=rogue)
    caught, server = failure(
        TransportFault, world.message(), world, answer(None), identity=impostor
    )
    assert caught.value.code == "И.7"
    assert server.requests == []


def _registered_as(world: ContractWorld, host: str) -> ContractWorld:
    """The world whose recipient's registered certificate names ``host``."""
    issued = make_transport_certificate(world.ca, eik="202020204", host=host)
    participant = replace(
        world.recipient.participant,
        certificate_serial=format(issued.certificate.serial_number, "x"),
    )
    party = ContractParty(participant, issued)
    return ContractWorld(ca=world.ca, sender=world.sender, recipient=party, stranger=world.stranger)


def test_i7_host_name_is_checked_by_default(world: ContractWorld) -> None:
    other = _registered_as(world, "seos.other-host.bg")
    message = other.message()
    caught, server = failure(TransportFault, message, other, answer(None))
    assert caught.value.code == "И.7"
    assert server.requests == []
    with serving(other, answer(None), check_hostname=False) as (server, transport, recipient, _):
        assert transport.send(recipient, message).is_empty
    assert len(server.requests) == 1


# --- И.8: faults and failures -------------------------------------------------------------


def test_i8_soap_fault(world: ContractWorld) -> None:
    caught, _ = failure(
        TransportFault, world.message(), world, lambda request: fault("database down")
    )
    assert caught.value.code == "И.8"
    assert "database down" in str(caught.value)


def test_i8_soap_fault_with_status_200(world: ContractWorld) -> None:
    def script(request: Request) -> Reply:
        return replace(fault("odd"), status=200)

    caught, _ = failure(TransportFault, world.message(), world, script)
    assert caught.value.code == "И.8"


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (503, "text/html", b"<html>maintenance</html>"),
        (500, "text/xml", b"<not-soap/>"),
        (404, None, b""),
        (302, "text/plain", b"moved"),
    ],
)
def test_i8_http_error_status(
    world: ContractWorld, status: int, content_type: str | None, body: bytes
) -> None:
    def script(request: Request) -> Reply:
        return Reply(status=status, content_type=content_type, body=body)

    caught, _ = failure(TransportFault, world.message(), world, script)
    assert caught.value.code == "И.8"
    assert f"HTTP {status}" in str(caught.value)


def test_i8_timeout_of_a_slow_server(world: ContractWorld) -> None:
    timeouts = SubmitTimeouts(connect=2, write=2, read=0.3, pool=2, total=10)
    started = time.monotonic()
    caught, _ = failure(
        TransportFault, world.message(), world, answer(None, delay=3), timeouts=timeouts
    )
    elapsed = time.monotonic() - started
    assert caught.value.code == "И.8"
    assert "timed out" in str(caught.value)
    assert elapsed < 2.5


def test_i8_total_deadline_of_a_dripping_server(world: ContractWorld) -> None:
    timeouts = SubmitTimeouts(connect=2, write=2, read=2, pool=2, total=0.5)
    body = submit_response(None) + b" " * 4096

    def script(request: Request) -> Reply:
        return Reply(body=body, chunked=True, chunk_size=256, drip=0.1)

    started = time.monotonic()
    caught, _ = failure(TransportFault, world.message(), world, script, timeouts=timeouts)
    elapsed = time.monotonic() - started
    assert caught.value.code == "И.8"
    assert elapsed < 2


def test_i8_connection_reset(world: ContractWorld) -> None:
    caught, server = failure(TransportFault, world.message(), world, answer(None, reset=True))
    assert caught.value.code == "И.8"
    assert len(server.requests) == 1


def test_i8_connection_refused(world: ContractWorld) -> None:
    here = world.with_endpoints(recipient=f"https://127.0.0.1:{closed_port()}/")
    with (
        SubmitTransport(
            TlsCredentials.from_issued(here.sender.credentials),
            register=here.register,
            ca=[here.ca.certificate],
            timeouts=FAST,
        ) as transport,
        pytest.raises(TransportFault) as caught,
    ):
        transport.send(here.recipient.participant, here.message())
    assert caught.value.code == "И.8"


def test_endpoint_must_be_https(world: ContractWorld) -> None:
    here = world.with_endpoints(recipient="http://127.0.0.1:1/")
    transport = SubmitTransport(
        TlsCredentials.from_issued(here.sender.credentials),
        register=here.register,
        ca=[here.ca.certificate],
    )
    with pytest.raises(TransportFault) as caught:
        transport.send(here.recipient.participant, here.message())
    assert caught.value.code == "SUBMIT-ENDPOINT"
    silent = replace(here.recipient.participant, services=())
    with pytest.raises(TransportFault) as caught:
        transport.send(silent, here.message())
    assert caught.value.code == "SUBMIT-NO-ENDPOINT"


# --- what the answer may not be ---------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(content_type="text/html", body=submit_response(None)), "SUBMIT-CONTENT-TYPE"),
        (Reply(content_type=None, body=submit_response(None)), "SUBMIT-CONTENT-TYPE"),
        (Reply(body=b"<s:Envelope"), "И.9"),
        (Reply(body=b"<Envelope/>"), "SUBMIT-SOAP"),
        (
            Reply(
                body=submit_response(None).replace(b"SubmitResponse", b"OtherResponse"),
            ),
            "SUBMIT-SOAP",
        ),
        (
            Reply(
                body=submit_response("x").replace(
                    b"<SubmitResult>x</SubmitResult>",
                    b"<SubmitResult><Message/></SubmitResult>",
                )
            ),
            "SUBMIT-SOAP",
        ),
    ],
    ids=["html", "no-type", "not-xml", "not-soap", "other-body", "result-not-string"],
)
def test_answers_that_are_not_a_submit_response(
    world: ContractWorld, reply: Reply, code: str
) -> None:
    caught, _ = failure(ReceiverError, world.message(), world, lambda request: reply)
    assert caught.value.code == code


def test_oversized_answer_declared_in_content_length(world: ContractWorld) -> None:
    big = submit_response(None) + b" " * 200_000
    caught, _ = failure(
        ReceiverError, world.message(), world, answer_bytes(big), max_response_bytes=100_000
    )
    assert caught.value.code == "SUBMIT-TOO-LARGE"


def test_oversized_answer_streamed_without_length(world: ContractWorld) -> None:
    big = submit_response(None) + b" " * 2_000_000

    def script(request: Request) -> Reply:
        return Reply(body=big, chunked=True)

    caught, _ = failure(ReceiverError, world.message(), world, script, max_response_bytes=100_000)
    assert caught.value.code == "SUBMIT-TOO-LARGE"


# --- И.9–И.15: the response message ---------------------------------------------------------


def _bad_responses(world: ContractWorld, message: bytes) -> dict[str, bytes]:
    response = world.response_to(message)
    return {
        "И.9": b"<Message>not XML",
        "И.10": world.response_to(message, signed=False).replace(b"Version>", b"Versio>"),
        "И.11": world.response_to(message, sender=world.stranger, signer=world.recipient),
        "И.12": world.response_to(message, to=world.stranger),
        "И.13": world.response_to(message, signed=False),
        "И.14": world.response_to(message, signer=world.stranger),
        "И.14-tampered": response.replace(b"DS_WAIT_REGISTRATION", b"DS_REGISTERED"),
    }


@pytest.mark.parametrize("case", ["И.9", "И.10", "И.11", "И.12", "И.13", "И.14", "И.14-tampered"])
def test_response_checks(world: ContractWorld, case: str) -> None:
    message = world.message()
    body = _bad_responses(world, message)[case]
    caught, _ = failure(ReceiverError, message, world, answer(body))
    assert caught.value.code == case.split("-")[0]


def _same_serial_elsewhere(world: ContractWorld) -> KeySigner:
    """A certificate from another CA with the recipient's registered serial number."""
    rogue_ca = make_ca("look-alike CA")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    original = world.recipient.certificate
    certificate = (
        x509.CertificateBuilder()
        .subject_name(original.subject)
        .issuer_name(rogue_ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(original.serial_number)
        .not_valid_before(original.not_valid_before_utc)
        .not_valid_after(original.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(rogue_ca.key, hashes.SHA256())
    )
    return KeySigner(key, certificate)


def test_i14_response_must_be_signed_with_the_tls_certificate(world: ContractWorld) -> None:
    """Same serial number, another certificate: the signer must be the very certificate the
    server presented in TLS, not just one with the registered serial."""
    message = world.message()
    look_alike = _same_serial_elsewhere(world)
    response = sign_message(world.response_to(message, signed=False), look_alike)
    caught, _ = failure(ReceiverError, message, world, answer(response))
    assert caught.value.code == "И.14"
    assert "П.8" in str(caught.value)


def test_i15_duplicate_response_guid(world: ContractWorld) -> None:
    first = world.message()
    response = world.response_to(first)
    with serving(world, answer(response)) as (_, transport, rcp, _):
        assert transport.send(rcp, first).response is not None
        with pytest.raises(ReceiverError) as caught:
            transport.send(rcp, world.message())
    assert caught.value.code == "И.15"


def test_i15_response_with_the_guid_of_our_own_message(world: ContractWorld) -> None:
    message = world.message()
    own_guid = (
        parse_xml(message)
        .getroot()
        .findtext(
            "{http://schemas.egov.bg/messaging/v1}Header/{http://schemas.egov.bg/messaging/v1}MessageGUID"
        )
    )
    assert own_guid is not None
    from eintegr.messages import DocumentStatus, Message, status_response

    incoming = Message.from_xml(message)
    body = incoming.body
    response = status_response(
        sender=incoming.header.recipient,
        recipient=incoming.header.sender,
        document_id=body.document.doc_id,  # type: ignore[union-attr]
        status=DocumentStatus.DS_REGISTERED,
        message_guid=Guid.parse(own_guid),
    ).to_xml()
    signed = sign_message(response, world.recipient.signer())
    caught, _ = failure(ReceiverError, message, world, answer(signed))
    assert caught.value.code == "И.15"


def test_a_request_is_not_a_response(world: ContractWorld) -> None:
    reverse = registration_request(
        sender=world.recipient.node,
        recipient=world.sender.node,
        document=new_document(kind="Писмо"),
        comment="back",
    ).to_xml()
    signed = sign_message(reverse, world.recipient.signer())
    caught, _ = failure(ReceiverError, world.message(), world, answer(signed))
    assert caught.value.code == "SEOS-RESPONSE-KIND"


def test_sha1_responses_are_refused_by_default(world: ContractWorld) -> None:
    from eintegr.signing import SignatureAlgorithm

    message = world.message()
    unsigned = world.response_to(message, signed=False)
    legacy = KeySigner(
        world.recipient.credentials.key,
        world.recipient.certificate,
        algorithm=SignatureAlgorithm.RSA_SHA256,
    )
    signed = sign_message(unsigned, legacy)
    sha1 = signed.replace(b"xmldsig-more#rsa-sha256", b"xmldsig#rsa-sha1")
    caught, _ = failure(ReceiverError, message, world, answer(sha1))
    assert caught.value.code == "И.14"
    assert "SIG-ALGORITHM" in str(caught.value)


def test_response_policy_can_be_supplied(world: ContractWorld) -> None:
    from eintegr.signing import PinnedCertificates, VerificationPolicy

    seen: list[object] = []

    def by_ca(recipient: Participant, peer: object) -> VerificationPolicy:
        seen.append(peer)
        return VerificationPolicy(trust=CertificateAuthorities([world.ca.certificate]))

    def nobody(recipient: Participant, peer: object) -> VerificationPolicy:
        return VerificationPolicy(trust=PinnedCertificates([world.stranger.certificate]))

    message = world.message()
    response = world.response_to(message)
    with serving(world, answer(response), response_policy=by_ca) as (_, transport, rcp, _):
        assert transport.send(rcp, message).response is not None
    assert seen == [world.recipient.certificate]
    caught, _ = failure(
        ReceiverError, world.message(), world, answer(response), response_policy=nobody
    )
    assert caught.value.code == "И.14"


def test_an_uninspected_handshake_is_refused(
    world: ContractWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the HTTP library stopped reporting the TLS handshake, И.7 could not run before
    sending: the client notices on the first answer and refuses it."""
    import httpcore._trace

    monkeypatch.setattr(httpcore._trace.Trace, "trace", lambda self, name, info: None)
    caught, _ = failure(TransportFault, world.message(), world, answer(None))
    assert caught.value.code == "И.7"
    assert "inspected" in str(caught.value)


# --- И.1–И.6: before sending ----------------------------------------------------------------


def _outgoing_cases(world: ContractWorld) -> dict[str, bytes]:
    unsigned = world.message(signed=False)
    stranger_node = world.stranger.node
    foreign = registration_request(
        sender=stranger_node,
        recipient=world.recipient.node,
        document=new_document(kind="Писмо"),
        comment="x",
    ).to_xml()
    unknown = world.sender.node.model_copy(update={"guid": Guid.new()})
    wrong_eik = world.recipient.node.model_copy(update={"identifier": "831821437"})
    return {
        "И.1": b"<Message",
        "И.2": b"<Message xmlns='http://schemas.egov.bg/messaging/v1'/>",
        "И.3": sign_message(
            registration_request(
                sender=unknown,
                recipient=world.recipient.node,
                document=new_document(kind="Писмо"),
                comment="x",
            ).to_xml(),
            world.sender.signer(),
        ),
        "И.4": sign_message(
            registration_request(
                sender=world.sender.node,
                recipient=wrong_eik,
                document=new_document(kind="Писмо"),
                comment="x",
            ).to_xml(),
            world.sender.signer(),
        ),
        "И.5": unsigned,
        "И.6": sign_message(unsigned, world.stranger.signer()),
        "И.6-foreign-sender": sign_message(foreign, world.sender.signer()),
    }


@pytest.mark.parametrize("case", ["И.1", "И.2", "И.3", "И.4", "И.5", "И.6", "И.6-foreign-sender"])
def test_outgoing_checks(world: ContractWorld, case: str) -> None:
    message = _outgoing_cases(world)[case]
    with serving(world, answer(None)) as (server, transport, rcp, _):
        with pytest.raises(SenderError) as caught:
            transport.check_outgoing(message, rcp)
        assert caught.value.code == case.split("-")[0]
        with pytest.raises(SenderError):
            transport.send(rcp, message)
    assert server.requests == []
    assert server.handshakes == 0


def test_outgoing_checks_can_be_turned_off(world: ContractWorld) -> None:
    unsigned = world.message(signed=False)
    with serving(world, answer(None), check_outgoing=False) as (server, transport, rcp, _):
        assert transport.send(rcp, unsigned).is_empty
    assert len(server.requests) == 1


def test_participant_guid_must_be_the_sender(world: ContractWorld) -> None:
    with serving(world, answer(None)) as (_, _, rcp, here):
        other = SubmitTransport(
            TlsCredentials.from_issued(here.sender.credentials),
            register=here.register,
            ca=[here.ca.certificate],
            participant=str(here.stranger.guid),
        )
        with pytest.raises(SenderError) as caught:
            other.send(rcp, here.message())
        other.close()
    assert caught.value.code == "И.3"


# --- credentials and helpers ----------------------------------------------------------------


def test_credentials_from_files(world: ContractWorld, tmp_path: Path) -> None:
    issued = world.sender.credentials
    paths = issued.write(tmp_path, "sender", password=b"secret")
    credentials = TlsCredentials.from_pem_files(
        paths["certificate"], paths["key"], password=b"secret"
    )
    assert credentials.certificate == issued.certificate
    bundle = tmp_path / "sender.p12"
    bundle.write_bytes(issued.pkcs12(b"pw"))
    from_bundle = TlsCredentials.from_pkcs12(bundle, b"pw")
    assert from_bundle.certificate == issued.certificate
    with pytest.raises(KeyLoadError):
        TlsCredentials.from_pkcs12(bundle, b"wrong")
    der_key = tmp_path / "sender.key.der"
    der_key.write_bytes(
        issued.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assert TlsCredentials.from_pem_files(paths["certificate"], der_key).certificate == (
        issued.certificate
    )


def test_ca_from_a_file(world: ContractWorld, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(world.ca.certificate_pem())
    with ScriptedServer(world.recipient.credentials, world.ca, answer(None)) as server:
        here = world.with_endpoints(recipient=server.url)
        with SubmitTransport(
            TlsCredentials.from_issued(here.sender.credentials),
            register=here.register,
            ca=bundle,
            timeouts=FAST,
        ) as transport:
            assert transport.send(here.recipient.participant, here.message()).is_empty


def test_settings_are_validated(world: ContractWorld) -> None:
    with pytest.raises(ValueError, match="timeouts"):
        SubmitTimeouts(read=0)
    with pytest.raises(ValueError, match="max_response_bytes"):
        SubmitTransport(
            TlsCredentials.from_issued(world.sender.credentials),
            register=world.register,
            ca=[world.ca.certificate],
            max_response_bytes=0,
        )
    with pytest.raises(ValueError, match="CA"):
        TlsCredentials.from_issued(world.sender.credentials).client_context([])


def test_read_submit_response_directly() -> None:
    assert read_submit_response(submit_response(None)) is None
    assert read_submit_response(submit_response("<a/>")) == b"<a/>"
    with pytest.raises(TransportFault):
        read_submit_response(b"<html/>", status=502)


def test_unknown_sender_in_the_register_is_refused(world: ContractWorld) -> None:
    register = StaticRegister([world.recipient.participant])
    transport = SubmitTransport(
        TlsCredentials.from_issued(world.sender.credentials),
        register=register,
        ca=[world.ca.certificate],
    )
    with pytest.raises(SenderError) as caught:
        transport.send(world.recipient.participant, world.message())
    assert caught.value.code == "И.3"
    transport.close()
    with pytest.raises(TransportFault) as closed:
        transport.send(world.recipient.participant, world.message())
    assert closed.value.code == "TRANSPORT-CLOSED"


# --- the contract suite over HTTPS ------------------------------------------------------------


class TestSubmitContract(TransportContract):
    preserves_refusal_class = False  # over SOAP every refusal is a fault

    @pytest.fixture(scope="class")
    @classmethod
    def submit_server(cls, contract_receiver: ScriptedReceiver) -> Iterator[ScriptedServer]:
        base = ContractWorld.default()
        with ScriptedServer(
            base.recipient.credentials, base.ca, deliver_to(contract_receiver)
        ) as server:
            yield server

    @pytest.fixture(scope="class")
    @classmethod
    def contract_world(cls, submit_server: ScriptedServer) -> ContractWorld:
        return ContractWorld.default().with_endpoints(
            recipient=submit_server.url, stranger=f"https://127.0.0.1:{closed_port()}/"
        )

    @pytest.fixture
    def transport(self, contract_world: ContractWorld) -> Iterator[Transport]:
        with SubmitTransport(
            TlsCredentials.from_issued(contract_world.sender.credentials),
            register=contract_world.register,
            ca=[contract_world.ca.certificate],
            participant=contract_world.sender.guid,
            seen=None,
            timeouts=FAST,
        ) as transport:
            yield transport
