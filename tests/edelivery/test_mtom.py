"""MTOM/XOP packages: round trips, a WCF-shaped package, and every refusal."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from eintegr.errors import SoapError
from eintegr.transport.mtom import (
    XOP_NS,
    MtomLimits,
    decode_mtom,
    decode_soap_body,
    encode_mtom,
    is_mtom,
)
from eintegr.transport.soap import build_envelope, parse_envelope

BYTES = "{urn:example}Bytes"


def _envelope(*payloads: bytes) -> etree._Element:
    document = etree.Element("{urn:example}Doc")
    for payload in payloads:
        etree.SubElement(document, BYTES).text = base64.b64encode(payload).decode()
    return etree.fromstring(build_envelope([document]))


def _payloads(envelope: bytes) -> list[bytes]:
    body = parse_envelope(envelope).body_element
    return [base64.b64decode(e.text or "") for e in body.iter(BYTES)]


def _code(body: bytes, content_type: str, **limits: int) -> str:
    with pytest.raises(SoapError) as caught:
        decode_mtom(body, content_type, limits=MtomLimits(**limits))
    return caught.value.code


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=4))
def test_round_trip(payloads: list[bytes]) -> None:
    body, content_type = encode_mtom(_envelope(*payloads), binary={BYTES}, min_size=16)
    assert is_mtom(content_type)
    assert _payloads(decode_mtom(body, content_type)) == payloads


def test_binary_parts_carry_raw_bytes_and_small_values_stay_inline() -> None:
    big = os.urandom(5000) + b"\r\n--uuid:x\r\n" + b"\n\r" * 10
    small = b"tiny"
    body, content_type = encode_mtom(_envelope(big, small), binary={BYTES}, min_size=1024)
    assert big in body  # unencoded: MTOM saves the base64 overhead
    assert body.count(b"Content-ID:") == 2  # the root and the big value only
    assert 'type="application/xop+xml"' in content_type
    assert _payloads(decode_mtom(body, content_type)) == [big, small]


WCF_BOUNDARY = "uuid:5d2b0f3e-1111-4a2f-9d55-0123456789ab+id=3"
WCF_ROOT = (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    '<R xmlns="urn:example"><Bytes><xop:Include href="cid:http%3A%2F%2Ftempuri.org%2F1%2F6380"'
    ' xmlns:xop="http://www.w3.org/2004/08/xop/include"/></Bytes></R></s:Body></s:Envelope>'
)


def _wcf_package(payload: bytes) -> tuple[bytes, str]:
    parts = [
        f"--{WCF_BOUNDARY}",
        "Content-ID: <http://tempuri.org/0>",
        "Content-Transfer-Encoding: 8bit",
        'Content-Type: application/xop+xml;charset=utf-8;type="text/xml"',
        "",
        WCF_ROOT,
        f"--{WCF_BOUNDARY}",
        "Content-ID: <http://tempuri.org/1/6380>",
        "Content-Transfer-Encoding: binary",
        "Content-Type: application/octet-stream",
        "",
    ]
    body = "\r\n".join(parts).encode() + b"\r\n" + payload + f"\r\n--{WCF_BOUNDARY}--\r\n".encode()
    content_type = (
        'multipart/related; type="application/xop+xml";start="<http://tempuri.org/0>";'
        f'boundary="{WCF_BOUNDARY}";start-info="text/xml"'
    )
    return body, content_type


def test_a_wcf_shaped_package_with_an_encoded_content_id() -> None:
    payload = b"%PDF-1.7\r\n" + os.urandom(2000)
    body, content_type = _wcf_package(payload)
    assert _payloads(decode_mtom(body, content_type)) == [payload]


def test_plain_xml_passes_through_and_is_limited() -> None:
    envelope = build_envelope([etree.Element("{urn:example}Ping")])
    assert decode_soap_body(envelope, "text/xml; charset=utf-8") == envelope
    with pytest.raises(SoapError) as caught:
        decode_soap_body(envelope, "text/xml", limits=MtomLimits(max_bytes=10))
    assert caught.value.code == "MTOM-LIMIT"


def test_limits() -> None:
    body, content_type = encode_mtom(_envelope(os.urandom(4000)), binary={BYTES}, min_size=1)
    assert _code(body, content_type, max_bytes=1000) == "MTOM-LIMIT"
    many = _envelope(*(os.urandom(40) for _ in range(5)))
    body, content_type = encode_mtom(many, binary={BYTES}, min_size=1)
    assert _code(body, content_type, max_parts=3) == "MTOM-LIMIT"


def test_malformed_packages() -> None:
    body, content_type = encode_mtom(_envelope(os.urandom(2000)), binary={BYTES}, min_size=1)
    assert _code(body, "text/xml") == "MTOM-MALFORMED"
    assert _code(body, "multipart/related; type=application/xop+xml") == "MTOM-MALFORMED"
    truncated = body[: body.rindex(b"--uuid:")]
    assert _code(truncated, content_type) == "MTOM-MALFORMED"
    assert _code(body, content_type.replace('start="<', 'start="<nowhere')) == "MTOM-MALFORMED"
    assert _code(body, content_type + "\r\nX-Injected: 1") == "MTOM-MALFORMED"


def _package(root: str, parts: dict[str, bytes]) -> tuple[bytes, str]:
    chunks = [
        b"--b1",
        b"Content-ID: <root>",
        b'Content-Type: application/xop+xml;charset=utf-8;type="text/xml"',
        b"",
        root.encode(),
    ]
    for cid, data in parts.items():
        chunks += [
            b"--b1",
            f"Content-ID: <{cid}>".encode(),
            b"Content-Type: application/octet-stream",
            b"",
            data,
        ]
    chunks.append(b"--b1--")
    return b"\r\n".join(
        chunks
    ) + b"\r\n", 'multipart/related; boundary="b1"; start="<root>"; type="application/xop+xml"'


def _root(inner: str) -> str:
    return (
        f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xop="{XOP_NS}">'
        f"<s:Body><R>{inner}</R></s:Body></s:Envelope>"
    )


def test_broken_xop_references() -> None:
    one = '<B><xop:Include href="cid:p1"/></B>'
    assert (
        _code(*_package(_root('<B><xop:Include href="cid:p2"/></B>'), {"p1": b"x"})) == "MTOM-XOP"
    )
    assert (
        _code(*_package(_root('<B>text<xop:Include href="cid:p1"/></B>'), {"p1": b"x"}))
        == "MTOM-XOP"
    )
    assert (
        _code(*_package(_root('<B><xop:Include href="http://x/p1"/></B>'), {"p1": b"x"}))
        == "MTOM-XOP"
    )
    assert _code(*_package(_root(one + one), {"p1": b"x"})) == "MTOM-XOP"  # referenced twice
    assert _code(*_package(_root('<B><xop:Include href="cid:root"/></B>'), {})) == "MTOM-XOP"
    body, content_type = _package(_root(one), {"p1": b"x"})
    duplicated = body.replace(b"--b1--", b"--b1\r\nContent-ID: <p1>\r\n\r\ny\r\n--b1--")
    assert _code(duplicated, content_type) == "MTOM-MALFORMED"


def test_the_root_part_goes_through_the_hardened_parser() -> None:
    doctype = '<!DOCTYPE x [<!ENTITY e "boom">]>' + _root("<B>&e;</B>")
    assert _code(*_package(doctype, {})) == "MTOM-XML"
    assert _code(*_package("<not-closed>", {})) == "MTOM-XML"


def test_non_base64_binary_elements_are_refused_when_encoding() -> None:
    envelope = _envelope(b"x" * 2000)
    element = envelope.find(f".//{BYTES}")
    assert element is not None
    element.text = "not base64!"
    with pytest.raises(SoapError) as caught:
        encode_mtom(envelope, binary={BYTES})
    assert caught.value.code == "MTOM-BASE64"


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="positive"):
        MtomLimits(max_bytes=0)
