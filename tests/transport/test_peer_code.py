"""A SOAP fault keeps the peer's check code, so a participant can tell "already received" (П.9)."""

from __future__ import annotations

import pytest

from eintegr.errors import TransportFault
from eintegr.transport.soap import SoapFault, build_fault
from eintegr.transport.submit_client import read_submit_response


@pytest.mark.parametrize(
    ("faultstring", "peer_code"),
    [
        ("П.9: the message has already been received", "П.9"),
        ("П.3: not valid against the XSD", "П.3"),
        ("Object reference not set to an instance of an object.", None),
        ("see П.9 somewhere in the middle", None),
    ],
)
def test_fault_carries_the_peers_check_code(faultstring: str, peer_code: str | None) -> None:
    data = build_fault(SoapFault("Client", faultstring))
    with pytest.raises(TransportFault) as info:
        read_submit_response(data, status=500)
    assert info.value.code == "И.8"  # still "retry later", as the specification says
    assert info.value.peer_code == peer_code
