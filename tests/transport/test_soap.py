"""SOAP 1.1 envelopes: round trips, faults, and bad input as typed errors."""

from __future__ import annotations

import pytest
from lxml import etree

from eintegr.errors import SoapError
from eintegr.transport.soap import (
    SOAP11_NS,
    SoapFault,
    build_envelope,
    build_fault,
    parse_envelope,
)


def test_envelope_round_trip_with_header() -> None:
    body = etree.Element("{urn:x}Submit")
    etree.SubElement(body, "{urn:x}request").text = "<Message/>"
    token = etree.Element("{urn:sec}Token")
    envelope = parse_envelope(build_envelope([body], header=[token]))
    assert envelope.fault is None
    assert [e.tag for e in envelope.header] == ["{urn:sec}Token"]
    assert envelope.body_element.tag == "{urn:x}Submit"
    assert envelope.body_element[0].text == "<Message/>"  # escaped on the wire, text again


def test_fault_round_trip() -> None:
    fault = SoapFault("Client", "П.7: the message is not signed", detail="<code>П.7</code>")
    parsed = parse_envelope(build_fault(fault)).fault
    assert parsed is not None
    assert parsed.code == "s:Client"
    assert parsed.is_client
    assert parsed.string == fault.string
    assert parsed.detail == "<code>П.7</code>"
    assert not SoapFault("s:Server", "boom").is_client


def test_empty_body_is_allowed_but_body_element_is_not() -> None:
    envelope = parse_envelope(build_envelope([]))
    assert envelope.body == ()
    with pytest.raises(SoapError) as info:
        _ = envelope.body_element
    assert info.value.code == "SOAP-BODY"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "SOAP-XML"),
        (b"<html>oops</html>", "SOAP-MALFORMED"),
        (b"<x", "SOAP-XML"),
        (b'<!DOCTYPE s [<!ENTITY x "y">]><s/>', "SOAP-XML"),
        (f'<s:Envelope xmlns:s="{SOAP11_NS}"/>'.encode(), "SOAP-MALFORMED"),
        (
            f'<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body/><s:Body/></s:Envelope>'.encode(),
            "SOAP-MALFORMED",
        ),
        (
            b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>',
            "SOAP-MALFORMED",
        ),
    ],
    ids=["empty", "html", "truncated", "doctype", "no-body", "two-bodies", "soap12"],
)
def test_bad_envelopes_are_typed_errors(data: bytes, code: str) -> None:
    with pytest.raises(SoapError) as info:
        parse_envelope(data)
    assert info.value.code == code
    assert info.value.message_bg
