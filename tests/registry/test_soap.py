"""The register's RPC/encoded wire format: requests, responses, tolerance, hostile input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from eintegr.errors import SoapError
from eintegr.identifiers import Guid
from eintegr.registry.model import DOCUMENT_EXCHANGE_SERVICE, Participant, ParticipantStatus
from eintegr.registry.soap import (
    REGISTRY_NS,
    Directory,
    EncodingStyle,
    Operation,
    build_request,
    build_response,
    parse_datetime,
    parse_request,
    parse_response,
)
from eintegr.transport.soap import SOAP11_NS, SoapFault, build_fault, parse_envelope
from tests.registry.conftest import ALPHA_GUID, BRANCH_GUID, T2

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ENC = "http://schemas.xmlsoap.org/soap/encoding/"


@pytest.mark.parametrize("style", ["multiref", "inline"])
@pytest.mark.parametrize("operation", list(Operation))
def test_responses_round_trip(
    style: EncodingStyle, operation: Operation, directory: Directory
) -> None:
    data = build_response(operation, directory, style=style)
    parsed = parse_response(data, operation)
    assert parsed.participants == directory.participants
    assert parsed.last_change == T2
    assert parsed.rejected == ()


def test_empty_directory_round_trips() -> None:
    for style in ("multiref", "inline"):
        data = build_response("GetByGuid", Directory(), style=style)
        parsed = parse_response(data, "GetByGuid")
        assert parsed == Directory()


@pytest.mark.parametrize(
    ("operation", "argument", "part", "xsd_type"),
    [
        (Operation.GET_ALL_RECORDS, None, None, None),
        (
            Operation.GET_NEW_RECORDS,
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "date",
            "xsd:dateTime",
        ),
        (Operation.GET_BY_ENTITY_IDENTIFIER, "831641791", "EntityIdentifier", "xsd:string"),
        (Operation.GET_BY_GUID, str(ALPHA_GUID), "guid", "xsd:string"),
        (Operation.GET_BY_CERTIFICATE_SN, "1a2b3c", "CertificateSN", "xsd:string"),
    ],
)
def test_requests_are_rpc_encoded_as_the_wsdl_says(
    operation: Operation, argument: object, part: str | None, xsd_type: str | None
) -> None:
    data = build_request(operation, argument)  # type: ignore[arg-type]
    envelope = parse_envelope(data)
    element = envelope.body_element
    assert element.tag == f"{{{REGISTRY_NS}}}{operation.value}"
    assert element.get(f"{{{SOAP11_NS}}}encodingStyle") == ENC
    assert operation.soap_action == f"uri:egovmsg/{operation.value}"
    if part is None:
        assert len(element) == 0
        assert parse_request(data).argument is None
    else:
        (child,) = element
        assert child.tag == part  # RPC parts are unqualified
        assert child.get("{http://www.w3.org/2001/XMLSchema-instance}type") == xsd_type
        request = parse_request(data)
        assert request.operation is operation
        expected = argument.isoformat() if isinstance(argument, datetime) else argument
        assert request.argument == expected


def test_request_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="takes no argument"):
        build_request(Operation.GET_ALL_RECORDS, "x")
    with pytest.raises(ValueError, match="needs"):
        build_request(Operation.GET_BY_GUID)
    with pytest.raises(ValueError):
        build_request("Delete", "x")
    with pytest.raises(ValueError, match="encoding style"):
        build_response("GetAllRecords", Directory(), style="rpc")  # type: ignore[arg-type]


# --- what other servers emit ----------------------------------------------------------------

AXIS_STYLE = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{ENV}" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <ns1:GetByGuidResponse soapenv:encodingStyle="{ENC}" xmlns:ns1="uri:egovmsg">
   <GetByGuidReturn href="#id0"/>
  </ns1:GetByGuidResponse>
  <multiRef id="id0" soapenc:root="0" xsi:type="ns2:EGovMessageDir"
      xmlns:soapenc="{ENC}" xmlns:ns2="uri:egovmsg">
   <Entities soapenc:arrayType="ns2:Entity[2]" xsi:type="soapenc:Array">
    <Entities href="#id1"/>
    <Entities href="#id4"/>
   </Entities>
   <LastChange xsi:type="xsd:dateTime">2024-03-02T07:00:00.000Z</LastChange>
  </multiRef>
  <multiRef id="id1" soapenc:root="0" xsi:type="ns3:Entity" xmlns:soapenc="{ENC}"
      xmlns:ns3="uri:egovmsg">
   <FutureField xsi:type="xsd:string">ignored</FutureField>
   <Status xsi:type="xsd:string">active</Status>
   <LastChange xsi:type="xsd:dateTime">2024-03-02T09:00:00.1234567+02:00</LastChange>
   <Services soapenc:arrayType="ns3:Service[1]" xsi:type="soapenc:Array">
    <Services href="#id3"/>
   </Services>
   <CertificateSN xsi:type="xsd:string">00:0A:1B:2C:3D</CertificateSN>
   <Contact href="#id2"/>
   <AdministrativeBodyName xsi:type="xsd:string"> Община Алфа </AdministrativeBodyName>
   <ParentGuid xsi:type="xsd:string" xsi:nil="true"/>
   <Guid xsi:type="xsd:string">11111111-2222-4333-8444-555555555555</Guid>
   <EntityIdentifier xsi:type="xsd:string">831641791</EntityIdentifier>
  </multiRef>
  <multiRef id="id2" soapenc:root="0" xsi:type="ns4:Contact" xmlns:soapenc="{ENC}"
      xmlns:ns4="uri:egovmsg">
   <Phone xsi:type="xsd:string">+359 2 111</Phone>
   <Fax xsi:type="xsd:string" xsi:nil="true"/>
   <EmailAddress xsi:type="xsd:string"></EmailAddress>
  </multiRef>
  <multiRef id="id3" soapenc:root="0" xsi:type="ns5:Service" xmlns:soapenc="{ENC}"
      xmlns:ns5="uri:egovmsg">
   <Guid xsi:type="xsd:string">7060EFA8-F1FA-4938-8B2B-12A78C86988F</Guid>
   <Name xsi:type="xsd:string">Документооборот</Name>
   <URI xsi:type="xsd:anyURI">https://alpha.example.bg:8443/Submit</URI>
   <Status xsi:type="xsd:string">Active</Status>
   <Type xsi:type="xsd:string">service</Type>
   <Version xsi:type="xsd:integer">1</Version>
  </multiRef>
  <multiRef id="id4" soapenc:root="0" xsi:type="ns6:Entity" xmlns:soapenc="{ENC}"
      xmlns:ns6="uri:egovmsg">
   <EntityIdentifier xsi:type="xsd:string">130277958</EntityIdentifier>
   <Guid xsi:type="xsd:string">not-a-guid</Guid>
   <CertificateSN xsi:type="xsd:string">abcdef</CertificateSN>
  </multiRef>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


def test_axis_style_multiref_with_oddities_is_read() -> None:
    parsed = parse_response(AXIS_STYLE, Operation.GET_BY_GUID)
    (alpha,) = parsed.participants
    assert alpha.guid == ALPHA_GUID
    assert alpha.name == "Община Алфа"
    assert alpha.certificate_serial == "a1b2c3d"
    assert alpha.status is ParticipantStatus.ACTIVE
    assert alpha.parent_guid is None
    assert alpha.contact.phone == "+359 2 111"
    assert alpha.contact.fax is None
    assert alpha.contact.email is None
    assert alpha.last_change == datetime(
        2024, 3, 2, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))
    )
    assert alpha.endpoint == "https://alpha.example.bg:8443/Submit"
    assert alpha.exchange_service is not None
    assert alpha.exchange_service.guid == DOCUMENT_EXCHANGE_SERVICE
    assert parsed.last_change == datetime(2024, 3, 2, 7, 0, tzinfo=UTC)
    (issue,) = parsed.rejected
    assert issue.index == 1
    assert issue.code == "ID-GUID"
    assert issue.guid == "not-a-guid"
    assert issue.message
    assert issue.message_bg


def test_qualified_field_names_and_a_fault_free_200_are_read() -> None:
    data = f"""<s:Envelope xmlns:s="{ENV}" xmlns:t="uri:egovmsg">
      <s:Body><t:GetAllRecordsResponse><t:return>
        <t:Entities>
          <t:Entity><t:EntityIdentifier>831641791</t:EntityIdentifier>
            <t:Guid>{{{ALPHA_GUID.uuid}}}</t:Guid><t:CertificateSN>ABCDEF</t:CertificateSN>
            <t:Services/></t:Entity>
        </t:Entities>
      </t:return></t:GetAllRecordsResponse></s:Body></s:Envelope>""".encode()
    parsed = parse_response(data, "GetAllRecords")
    (alpha,) = parsed.participants
    assert alpha.certificate_serial == "abcdef"
    assert alpha.services == ()
    assert parsed.last_change is None
    assert parsed.latest_change is None


def _entity(**fields: str) -> str:
    defaults = {
        "EntityIdentifier": "831641791",
        "Guid": str(ALPHA_GUID),
        "CertificateSN": "abcdef",
    }
    defaults.update(fields)
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in defaults.items() if v != "-")
    return f"<item>{inner}</item>"


def _inline(*entities: str) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{ENV}"><s:Body><m:GetAllRecordsResponse xmlns:m="uri:egovmsg">'
        f"<return><Entities>{''.join(entities)}</Entities>"
        f"<LastChange>2024-03-02T09:00:00</LastChange></return>"
        f"</m:GetAllRecordsResponse></s:Body></s:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"EntityIdentifier": "-"}, "REGISTRY-RECORD"),
        ({"EntityIdentifier": "12345"}, "REGISTRY-RECORD"),
        ({"Guid": "-"}, "REGISTRY-RECORD"),
        ({"Guid": "{zzz}"}, "ID-GUID"),
        ({"CertificateSN": "-"}, "REGISTRY-RECORD"),
        ({"CertificateSN": "not hex"}, "REGISTRY-SERIAL"),
        ({"Status": "Deleted"}, "REGISTRY-RECORD"),
        ({"LastChange": "yesterday"}, "REGISTRY-RECORD"),
        ({"ParentGuid": "x"}, "ID-GUID"),
        ({"Services": "<item><Name>no guid</Name></item>"}, "REGISTRY-RECORD"),
        (
            {"Services": f"<item><Guid>{ALPHA_GUID}</Guid><Status>Gone</Status></item>"},
            "REGISTRY-RECORD",
        ),
        (
            {"Services": f"<item><Guid>{ALPHA_GUID}</Guid><Version>v2</Version></item>"},
            "REGISTRY-RECORD",
        ),
    ],
)
def test_unreadable_records_are_reported_not_dropped(fields: dict[str, str], code: str) -> None:
    good = _entity(Guid=str(BRANCH_GUID))
    parsed = parse_response(_inline(good, _entity(**fields)), "GetAllRecords")
    assert [p.guid for p in parsed.participants] == [BRANCH_GUID]
    (issue,) = parsed.rejected
    assert (issue.index, issue.code) == (1, code)
    assert issue.localized("bg") == issue.message_bg
    assert parsed.last_change == datetime(2024, 3, 2, 9, 0)  # no offset: kept naive


def test_a_participant_listed_twice_keeps_the_newer_record() -> None:
    older = _entity(AdministrativeBodyName="old", LastChange="2024-01-01T00:00:00Z")
    newer = _entity(AdministrativeBodyName="new", LastChange="2024-02-01T00:00:00Z")
    parsed = parse_response(_inline(newer, older), "GetAllRecords")
    (kept,) = parsed.participants
    assert kept.name == "new"
    assert [i.code for i in parsed.rejected] == ["REGISTRY-DUPLICATE"]


def _first(data: bytes) -> Participant:
    return parse_response(data, "GetAllRecords").participants[0]


def test_unknown_service_fields_and_inactive_services() -> None:
    services = (
        f"<item><Guid>{DOCUMENT_EXCHANGE_SERVICE.uuid}</Guid><URI>https://x/Submit</URI>"
        "<Status>PermanentlyInactive</Status><Extra>1</Extra></item>"
    )
    participant = _first(_inline(_entity(Services=services)))
    assert participant.exchange_service is not None
    assert not participant.exchange_service.is_active
    with pytest.raises(LookupError):
        _ = participant.endpoint


# --- hostile or broken responses ------------------------------------------------------------


def _request(body: str) -> bytes:
    return f'<s:Envelope xmlns:s="{ENV}"><s:Body>{body}</s:Body></s:Envelope>'.encode()


def _multiref(body: str) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{ENV}" xmlns:enc="{ENC}"><s:Body>'
        '<m:GetAllRecordsResponse xmlns:m="uri:egovmsg"><return href="#d"/>'
        "</m:GetAllRecordsResponse>"
        f"{body}</s:Body></s:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "SOAP-XML"),
        (b"<html><body>502 Bad Gateway</body></html>", "SOAP-MALFORMED"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "SOAP-XML"),
        (_request("<Other/>"), "REGISTRY-RESPONSE"),
        (_request("<GetAllRecordsResponse/>"), "REGISTRY-RESPONSE"),
        (_multiref(""), "REGISTRY-RESPONSE"),
        (_multiref('<x id="d" href="http://evil.example/x"/>'), "REGISTRY-RESPONSE"),
        (_multiref('<x id="d"><Entities/></x><y id="e"/><y id="e"/>'), "REGISTRY-RESPONSE"),
        (_multiref('<x id="d" href="#e"/><y id="e" href="#d"/>'), "REGISTRY-RESPONSE"),
        (_multiref('<x id="d"><LastChange>soon</LastChange></x>'), "REGISTRY-RESPONSE"),
        (build_fault(SoapFault("Server", "down")), "REGISTRY-FAULT"),
    ],
    ids=[
        "empty", "html", "doctype", "other-element", "no-return", "dangling-href",
        "external-href", "duplicate-id", "href-loop", "bad-register-lastchange", "fault",
    ],
)  # fmt: skip
def test_broken_responses_are_typed_errors(data: bytes, code: str) -> None:
    with pytest.raises(SoapError) as info:
        parse_response(data, "GetAllRecords")
    assert info.value.code == code
    assert info.value.message_bg


def test_reference_amplification_is_refused() -> None:
    """A few thousand elements that would expand to millions through shared references."""
    services = "".join('<i href="#s"/>' for _ in range(400))
    items = "".join('<i href="#e"/>' for _ in range(3000))
    body = (
        f'<x id="d"><Entities>{items}</Entities></x>'
        f'<e id="e"><EntityIdentifier>831641791</EntityIdentifier><Guid>{ALPHA_GUID}</Guid>'
        f"<CertificateSN>abcdef</CertificateSN><Services>{services}</Services></e>"
        f'<s id="s"><Guid>{ALPHA_GUID}</Guid></s>'
    )
    with pytest.raises(SoapError) as info:
        parse_response(_multiref(body), "GetAllRecords")
    assert info.value.code == "REGISTRY-RESPONSE-REFS"


def test_too_many_records_are_refused() -> None:
    data = _inline(*(_entity(Guid=str(Guid.new())) for _ in range(5)))
    with pytest.raises(SoapError) as info:
        parse_response(data, "GetAllRecords", max_records=4)
    assert info.value.code == "REGISTRY-TOO-MANY"


# --- requests (the server side) -------------------------------------------------------------


def test_requests_by_position_and_by_reference_are_read() -> None:
    by_position = _request('<m:GetByGuid xmlns:m="uri:egovmsg"><arg0>{x}</arg0></m:GetByGuid>')
    assert parse_request(by_position).argument == "{x}"
    by_reference = _request(
        '<m:GetByEntityIdentifier xmlns:m="uri:egovmsg"><EntityIdentifier href="#a"/>'
        '</m:GetByEntityIdentifier><v id="a" xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/"'
        ' enc:root="0"> 831641791 </v>'
    )
    assert parse_request(by_reference).argument == "831641791"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "REGISTRY-OPERATION"),
        ('<m:DeleteAll xmlns:m="uri:egovmsg"/>', "REGISTRY-OPERATION"),
        ('<m:GetByGuid xmlns:m="uri:egovmsg"/>', "REGISTRY-ARGUMENT"),
        ('<m:GetByGuid xmlns:m="uri:egovmsg"><guid>  </guid></m:GetByGuid>', "REGISTRY-ARGUMENT"),
        (
            '<m:GetNewRecords xmlns:m="uri:egovmsg" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
            '<date i:nil="true"/></m:GetNewRecords>',
            "REGISTRY-ARGUMENT",
        ),
    ],
)
def test_bad_requests_are_typed_errors(body: str, code: str) -> None:
    with pytest.raises(SoapError) as info:
        parse_request(_request(body))
    assert info.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-02T09:00:00Z", datetime(2024, 3, 2, 9, tzinfo=UTC)),
        ("2024-03-02T09:00:00.1234567Z", datetime(2024, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)),
        (
            "2024-03-02T09:00:00.5+02:00",
            datetime(2024, 3, 2, 9, 0, 0, 500000, tzinfo=timezone(timedelta(hours=2))),
        ),
        (" 2024-03-02T09:00:00 ", datetime(2024, 3, 2, 9)),
    ],
)
def test_xsd_datetimes(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["2024-03-02", "yesterday", "", "2024-13-02T09:00:00"])
def test_bad_datetimes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_changed_since_includes_the_boundary(directory: Directory) -> None:
    assert {p.guid for p in directory.changed_since(T2).participants} == {
        p.guid for p in directory.participants if p.last_change == T2
    }
    naive = directory.changed_since(datetime(2024, 3, 2, 9, 0))  # naive: read as UTC
    assert len(naive.participants) == 2
    assert directory.changed_since(T2 + timedelta(seconds=1)).participants == ()


def test_multiref_answer_is_what_dotnet_emits(directory: Directory) -> None:
    envelope = parse_envelope(build_response("GetAllRecords", directory))
    names = [etree.QName(e).localname for e in envelope.body]
    assert names[0] == "GetAllRecordsResponse"
    assert names.count("Entity") == len(directory.participants)
    assert all(e.get(f"{{{ENC}}}root") == "0" for e in envelope.body[1:])
