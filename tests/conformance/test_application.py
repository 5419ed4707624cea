"""The application-level receiving scenarios (ЗР, ПС, ИС, ИГ) against eintegr's participant:
answering at once, answering empty and pushing later, broken on purpose, silent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from eintegr.exchange import Node
from eintegr.messages.seos import DocumentStatus, DocumentStatusResponse, Message, status_response
from eintegr.testing.conformance import ConformanceKit, Verdict, run_receiving
from eintegr.testing.conformance.application import APPLICATION_CASES
from eintegr.testing.conformance.client import submit
from eintegr.testing.conformance.messages import entity, foreign_signer, signed
from eintegr.transport.receiving import MessageHandler, ReceivedMessage

from .conftest import Endpoint

APPLICATION = list(APPLICATION_CASES)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def pushers() -> Iterator[list[threading.Thread]]:
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join(timeout=10)


def test_answers_in_submit_result_pass(serve: Callable[..., Endpoint]) -> None:
    endpoint = serve()
    report = run_receiving(endpoint.setup, endpoint.url, only=APPLICATION)
    assert [r.scenario.id for r in report.results] == APPLICATION
    assert all(r.verdict is Verdict.PASS for r in report.results), report.to_text()
    assert all(r.scenario.derived for r in report.results)
    assert all("synchronous" in r.reason for r in report.results), report.to_text()


def test_answers_pushed_to_the_tester_endpoint_pass(
    serve: Callable[..., Endpoint], kit: ConformanceKit, pushers: list[threading.Thread]
) -> None:
    tester_url = f"https://localhost:{_free_port()}/"

    def push(answer: bytes) -> None:
        submit(tester_url, answer, client=kit.sut, server_ca=(kit.ca.certificate,), timeout=5.0)

    def later(node: Node) -> MessageHandler:
        def handle(received: ReceivedMessage) -> bytes | None:
            answer = node.handle(received)
            if answer is not None:
                thread = threading.Thread(target=push, args=(answer,))
                pushers.append(thread)
                thread.start()
            return None

        return handle

    endpoint = serve(wrap=later, tester_endpoint=tester_url, answer_wait=5.0)
    report = run_receiving(endpoint.setup, endpoint.url, only=APPLICATION)
    assert all(r.verdict is Verdict.PASS for r in report.results), report.to_text()
    assert all("pushed" in r.reason for r in report.results), report.to_text()


def test_answering_registered_for_unknown_documents_fails_exactly_ps1(
    serve: Callable[..., Endpoint],
) -> None:
    def registered_for_anything(node: Node) -> MessageHandler:
        def handle(received: ReceivedMessage) -> Message | bytes | None:
            answer = node.handle(received)
            if answer is None:
                return None
            message = Message.from_xml(answer)
            body = message.body
            if (
                isinstance(body, DocumentStatusResponse)
                and body.status is DocumentStatus.DS_NOT_FOUND
            ):
                return status_response(
                    sender=message.header.sender,
                    recipient=message.header.recipient,
                    document_id=body.doc_id,
                    status=DocumentStatus.DS_REGISTERED,
                )
            return answer

        return handle

    endpoint = serve(wrap=registered_for_anything)
    report = run_receiving(endpoint.setup, endpoint.url)
    assert [r.scenario.id for r in report.failures] == ["ПС.1"], report.to_text()
    failure = report.failures[0]
    assert "DS_REGISTERED, expected DS_NOT_FOUND" in failure.reason
    assert failure.evidence is not None
    assert "DS_REGISTERED" in " ".join(failure.evidence.notes)


def _silent(node: Node) -> MessageHandler:
    def handle(received: ReceivedMessage) -> None:
        node.handle(received)

    return handle


def test_empty_answers_without_a_tester_endpoint_fail_with_evidence(
    serve: Callable[..., Endpoint],
) -> None:
    endpoint = serve(wrap=_silent)
    report = run_receiving(endpoint.setup, endpoint.url, only=["ЗР.NEW", "ИГ.1-EXTERNAL"])
    assert [r.verdict for r in report.results] == [Verdict.FAIL, Verdict.FAIL], report.to_text()
    for result in report.results:
        assert "no tester endpoint" in result.reason
        assert result.evidence is not None
        assert "empty SubmitResult" in result.evidence.received


def test_empty_answers_and_nothing_pushed_fail_after_the_wait(
    serve: Callable[..., Endpoint],
) -> None:
    tester_url = f"https://localhost:{_free_port()}/"
    endpoint = serve(wrap=_silent, tester_endpoint=tester_url, answer_wait=0.3)
    report = run_receiving(endpoint.setup, endpoint.url, only=["ЗР.NEW", "ЗР.1", "ИС.1"])
    assert [r.verdict for r in report.results] == [Verdict.FAIL] * 3, report.to_text()
    assert "pushed no valid answer within 0.3 s" in report.results[0].reason
    assert "the first registration request was not answered" in report.results[1].reason
    evidence = report.results[2].evidence
    assert evidence is not None
    assert f"nothing pushed to {tester_url}" in evidence.received


def test_pushed_answers_signed_by_another_certificate_are_refused(
    serve: Callable[..., Endpoint], kit: ConformanceKit, pushers: list[threading.Thread]
) -> None:
    tester_url = f"https://localhost:{_free_port()}/"
    forger = foreign_signer(eik=kit.sut_participant.eik).signer()

    def push(answer: bytes) -> None:
        unsigned = Message.from_xml(answer).model_copy(update={"signature": None})
        forged = signed(unsigned, forger)
        submit(tester_url, forged, client=kit.sut, server_ca=(kit.ca.certificate,), timeout=5.0)

    def later(node: Node) -> MessageHandler:
        def handle(received: ReceivedMessage) -> None:
            answer = node.handle(received)
            if answer is not None:
                thread = threading.Thread(target=push, args=(answer,))
                pushers.append(thread)
                thread.start()

        return handle

    endpoint = serve(wrap=later, tester_endpoint=tester_url, answer_wait=1.0)
    report = run_receiving(endpoint.setup, endpoint.url, only=["ПС.1"])
    result = report.results[0]
    assert result.verdict is Verdict.FAIL, report.to_text()
    assert result.evidence is not None
    assert any("pushed message refused: П.8" in note for note in result.evidence.notes), (
        report.to_text()
    )


def test_pushed_answers_from_another_participant_are_refused(
    serve: Callable[..., Endpoint], kit: ConformanceKit, pushers: list[threading.Thread]
) -> None:
    tester_url = f"https://localhost:{_free_port()}/"

    def push(answer: bytes) -> None:
        message = Message.from_xml(answer)
        header = message.header.model_copy(update={"sender": entity(kit.tester_participant)})
        other = message.model_copy(update={"header": header, "signature": None})
        data = signed(other, kit.tester.signer())
        submit(tester_url, data, client=kit.tester, server_ca=(kit.ca.certificate,), timeout=5.0)

    def later(node: Node) -> MessageHandler:
        def handle(received: ReceivedMessage) -> None:
            answer = node.handle(received)
            if answer is not None:
                thread = threading.Thread(target=push, args=(answer,))
                pushers.append(thread)
                thread.start()

        return handle

    endpoint = serve(wrap=later, tester_endpoint=tester_url, answer_wait=1.0)
    report = run_receiving(endpoint.setup, endpoint.url, only=["ИС.1"])
    result = report.results[0]
    assert result.verdict is Verdict.FAIL, report.to_text()
    assert result.evidence is not None
    assert any("CONFORMANCE-PUSH-SENDER" in note for note in result.evidence.notes), (
        report.to_text()
    )
