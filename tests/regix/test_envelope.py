"""The RegiX V2 envelope: ServiceRequestData, CallContext, ServiceResultData and SOAP bodies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from eintegr.errors import IdentifierError, MessageError, RegistryError
from eintegr.messages.regix import (
    REGIX_NS,
    SIGNED_DATA_NS,
    AccessMatrix,
    AccessMatrixProperty,
    CallContext,
    DataContainer,
    RegixCall,
    RequestProcessing,
    ResponseProcessing,
    ServiceCheckResultArgument,
    ServiceRequestData,
    ServiceResultData,
    XmlPayload,
    envelope_problems,
    read_request_body,
    read_response_body,
    request_body,
    response_body,
    service_request,
)
from eintegr.messages.regix_operations.grao_nbd import PersonDataRequest
from eintegr.xml import parse_xml
from tests.conftest import reference_path
from tests.regix.conftest import CONTEXT, PERSON_EGN

SD = SIGNED_DATA_NS


def _request(**options: object) -> ServiceRequestData:
    return service_request(
        "PersonDataSearch",
        PersonDataRequest(egn=PERSON_EGN),
        CONTEXT,
        **options,  # type: ignore[arg-type]
    )


def test_service_request_round_trips_and_is_schema_valid() -> None:
    request = _request(
        asynchronous=True,
        return_access_matrix=True,
        employee_egn="9001011238",
        citizen_egn="9001011238",
        eid_token="t",
        callback_url="https://example.bg/cb",
    )
    assert request.asynchronous
    element = request.to_element()
    assert envelope_problems(element) == []
    names = [etree.QName(c).localname for c in element]
    assert names == [
        "RequestProcessing",
        "Operation",
        "Argument",
        "EIDToken",
        "CallContext",
        "CallbackURL",
        "EmployeeEGN",
        "CitizenEGN",
        "SignResult",
        "ReturnAccessMatrix",
    ]
    assert ServiceRequestData.from_xml(request.to_xml()) == request
    assert ServiceRequestData.from_element(element) == request
    plain = _request()
    assert not plain.asynchronous
    assert plain.to_element().find(f"{{{SD}}}RequestProcessing") is None


def test_call_context_keeps_the_schema_spelling_and_order() -> None:
    context = CallContext(
        service_uri="1",
        service_type="2",
        law_reason="3",
        employee_aditional_identifier="card 42",
        administration_oid="2.16.100.1.1",
        remark="r",
    )
    element = context.to_element()
    assert [etree.QName(c).localname for c in element] == [
        "ServiceURI",
        "ServiceType",
        "EmployeeAditionalIdentifier",
        "AdministrationOId",
        "LawReason",
        "Remark",
    ]
    assert CallContext.from_element(element) == context
    with pytest.raises(ValueError, match="law_reason"):
        CallContext(service_uri="1", service_type="2", law_reason="")
    with pytest.raises(ValueError, match=r"XML 1\.0"):
        CallContext(service_uri="1", service_type="2", law_reason="a\x01")


def test_a_request_in_the_shape_clients_send_is_read() -> None:
    # prefixes, whitespace, nil and empty optional elements, as .NET and Java clients write them
    data = f"""<sd:ServiceRequestData xmlns:sd="{SD}"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <sd:RequestProcessing>Verify   Asynchronous</sd:RequestProcessing>
      <sd:ResponseProcessing></sd:ResponseProcessing>
      <sd:Operation>TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.PersonDataSearch</sd:Operation>
      <sd:Argument>
        <PersonDataRequest xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataRequest"><EGN>{PERSON_EGN}</EGN></PersonDataRequest>
      </sd:Argument>
      <sd:EIDToken xsi:nil="true"/>
      <sd:CallContext>
        <sd:ServiceURI>123</sd:ServiceURI><sd:ServiceType>Проверка</sd:ServiceType>
        <sd:EmployeeIdentifier/><sd:LawReason>чл. 5</sd:LawReason>
      </sd:CallContext>
      <sd:SignResult> 1 </sd:SignResult><sd:ReturnAccessMatrix>false</sd:ReturnAccessMatrix>
    </sd:ServiceRequestData>""".encode()
    request = ServiceRequestData.from_xml(data)
    assert request.request_processing == RequestProcessing.VERIFY | RequestProcessing.ASYNCHRONOUS
    assert request.response_processing == ResponseProcessing(0)
    assert request.eid_token is None
    assert request.call_context.employee_identifier == ""
    assert request.sign_result is True
    assert request.argument.tag.endswith("}PersonDataRequest")
    assert PersonDataRequest.from_element(request.argument.element()).egn == PERSON_EGN


@pytest.mark.reference
def test_the_reference_template_shape_is_understood() -> None:
    """The eForms template (empty Operation/Argument placeholders) is refused for exactly
    the missing argument; filled in, it reads."""
    template = parse_xml(
        reference_path("regix", "envelope", "regixRequestTemplate.xml").read_bytes()
    ).getroot()
    body = template.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    call, payload = read_request_body(body[0])
    assert call is RegixCall.EXECUTE
    with pytest.raises(MessageError, match="Argument must hold exactly one element"):
        ServiceRequestData.from_element(payload)
    payload.find(f"{{{SD}}}Operation").text = "A.B.C"  # type: ignore[union-attr]
    payload.find(f"{{{SD}}}Argument").append(PersonDataRequest(egn=PERSON_EGN).to_element())  # type: ignore[union-attr]
    request = ServiceRequestData.from_element(payload)
    assert request.call_context.law_reason == "?"
    assert request.sign_result
    assert not request.return_access_matrix


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda r: r.remove(r.find(f"{{{SD}}}CallContext")),
            "lacks the required element CallContext",
        ),
        (lambda r: r.append(etree.Element(f"{{{SD}}}Extra")), "unexpected element"),
        (lambda r: r.find(f"{{{SD}}}SignResult").__setattr__("text", "yes"), "true or false"),
        (lambda r: r.find(f"{{{SD}}}Operation").append(etree.Element("x")), "must hold text"),
        (lambda r: r.set("foo", "1"), "unexpected attribute foo"),
        (
            lambda r: r.insert(0, etree.Element(f"{{{SD}}}RequestProcessing")),
            None,
        ),
    ],
)
def test_requests_that_do_not_fit_are_refused_with_their_place(mutate, message) -> None:  # type: ignore[no-untyped-def]
    element = _request().to_element()
    mutate(element)
    if message is None:
        assert ServiceRequestData.from_element(element).request_processing == RequestProcessing(0)
        return
    with pytest.raises(MessageError, match=message) as caught:
        ServiceRequestData.from_element(element)
    assert caught.value.code == "REGIX-ENVELOPE"
    assert caught.value.path is not None
    assert caught.value.path.startswith("/ServiceRequestData")


def test_unknown_processing_flags_are_refused() -> None:
    element = _request().to_element()
    flag = etree.Element(f"{{{SD}}}RequestProcessing")
    flag.text = "Verify Teleport"
    element.insert(0, flag)
    with pytest.raises(MessageError, match="'Teleport'; allowed"):
        ServiceRequestData.from_element(element)


def test_service_request_checks_the_argument_first() -> None:
    with pytest.raises(IdentifierError):
        _request_with("9001011239")
    request = _request_with("9001011239", check_identifiers=False)
    assert request.argument.element()[0].text == "9001011239"
    with pytest.raises(MessageError) as caught:
        service_request(
            "PersonDataSearch",
            b'<PersonDataRequest xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataRequest">'
            b"<EGN>12</EGN></PersonDataRequest>",
            CONTEXT,
        )
    assert caught.value.code == "REGIX-ARGUMENT"
    assert "pattern" in str(caught.value)
    with pytest.raises(RegistryError):
        service_request("Nope", b"<x/>", CONTEXT)


def _request_with(egn: str, **options: object) -> ServiceRequestData:
    return service_request(
        "PersonDataSearch",
        f'<PersonDataRequest xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataRequest"><EGN>{egn}'
        "</EGN></PersonDataRequest>".encode(),
        CONTEXT,
        **options,  # type: ignore[arg-type]
    )


def test_service_result_round_trips() -> None:
    argument = PersonDataRequest(egn=PERSON_EGN)
    result = ServiceResultData(
        is_ready=True,
        data=DataContainer(
            request=argument,
            response=b'<R xmlns="urn:r"><A>1</A></R>',
            matrix=AccessMatrix(
                has_access=True,
                name="PersonDataSearch",
                properties=(AccessMatrixProperty(has_access=False, name="EGN"),),
                id="matrix",
            ),
        ),
        signature=b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>',
        has_error=False,
        service_call_id=Decimal("12345.0"),
        verification_code="abc",
    )
    element = result.to_element()
    assert envelope_problems(element) == []
    assert ServiceResultData.from_element(element) == result
    assert isinstance(result.data.request, XmlPayload)  # type: ignore[union-attr]
    assert result.model_dump(mode="json")["service_call_id"] == "12345.0"


def test_results_that_are_not_ready_or_failed() -> None:
    waiting = ServiceResultData.from_xml(
        f'<ServiceResultData xmlns="{SD}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<IsReady>false</IsReady><Data xsi:nil="true"/><HasError>false</HasError>'
        "<ServiceCallID>77</ServiceCallID><VerificationCode>v</VerificationCode>"
        "</ServiceResultData>".encode()
    )
    assert not waiting.is_ready
    assert waiting.data is None
    assert waiting.service_call_id == Decimal(77)
    failed = ServiceResultData.from_xml(
        f'<ServiceResultData xmlns="{SD}"><IsReady>true</IsReady><HasError>true</HasError>'
        "<Error>Няма достъп</Error></ServiceResultData>".encode()
    )
    assert failed.has_error
    assert failed.error == "Няма достъп"
    with pytest.raises(MessageError, match="decimal"):
        ServiceResultData.from_xml(
            f'<ServiceResultData xmlns="{SD}"><IsReady>false</IsReady><HasError>false'
            "</HasError><ServiceCallID>1e3</ServiceCallID></ServiceResultData>".encode()
        )
    with pytest.raises(MessageError, match="at least one Property"):
        ServiceResultData.from_xml(
            f'<ServiceResultData xmlns="{SD}"><IsReady>true</IsReady><Data><Request/>'
            "<Response/><Matrix><HasAccess>true</HasAccess><Name>n</Name><Properties/>"
            "</Matrix></Data><HasError>false</HasError></ServiceResultData>".encode()
        )
    with pytest.raises(MessageError, match="expected the element"):
        ServiceResultData.from_xml(b'<ServiceResultData xmlns="urn:other"/>')


def test_xml_payloads_compare_by_value() -> None:
    a = XmlPayload(b'<a:R xmlns:a="urn:r"><a:X>1</a:X></a:R>')
    b = XmlPayload(b'<R xmlns="urn:r"><X>1</X></R>')
    assert a == b
    assert hash(a) == hash(b)
    assert a != XmlPayload(b'<R xmlns="urn:r"><X>2</X></R>')
    assert a.tag == "{urn:r}R"
    import pickle

    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(AttributeError):
        a.foo = 1
    with pytest.raises(TypeError):
        XmlPayload("text")  # type: ignore[arg-type]
    assert "XmlPayload(" in repr(a)


def test_soap_bodies_of_the_v2_entry_point() -> None:
    request = _request()
    body = request_body(RegixCall.EXECUTE, request)
    assert body.tag == f"{{{REGIX_NS}}}Execute"
    assert body[0].tag == f"{{{REGIX_NS}}}request"
    call, payload = read_request_body(body)
    assert call is RegixCall.EXECUTE
    assert ServiceRequestData.from_element(payload) == request
    assert RegixCall.EXECUTE.soap_action == "http://egov.bg/RegiX/IRegiXEntryPointV2/Execute"
    argument = ServiceCheckResultArgument(service_call_id=Decimal(5), verification_code="c")
    for call in (RegixCall.CHECK_RESULT, RegixCall.ACKNOWLEDGE):
        body = request_body(call, argument)
        assert body[0].tag == f"{{{REGIX_NS}}}argument"
        assert read_request_body(body)[0] is call
    with pytest.raises(TypeError):
        request_body(RegixCall.CHECK_RESULT, request)
    result = ServiceResultData(is_ready=True, has_error=False)
    answer = response_body(RegixCall.EXECUTE, result)
    assert answer[0].tag == f"{{{REGIX_NS}}}ExecuteResult"
    assert ServiceResultData.from_element(read_response_body(RegixCall.EXECUTE, answer)) == result  # type: ignore[arg-type]
    ack = response_body(RegixCall.ACKNOWLEDGE, None)
    assert read_response_body(RegixCall.ACKNOWLEDGE, ack) is None
    with pytest.raises(ValueError, match="answers nothing"):
        response_body(RegixCall.ACKNOWLEDGE, result)
    with pytest.raises(ValueError, match="answers a ServiceResultData"):
        response_body(RegixCall.CHECK_RESULT, None)
    with pytest.raises(MessageError) as caught:
        read_response_body(RegixCall.CHECK_RESULT, answer)
    assert caught.value.code == "REGIX-SOAP-BODY"
    with pytest.raises(MessageError, match="not an operation"):
        read_request_body(etree.Element(f"{{{REGIX_NS}}}ExecuteSynchronous"))
    broken = etree.Element(f"{{{REGIX_NS}}}Execute")
    etree.SubElement(broken, f"{{{REGIX_NS}}}request")
    with pytest.raises(MessageError, match="exactly one"):
        read_request_body(broken)
