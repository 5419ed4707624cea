"""The operation registry and the typed arguments and responses of the bundled adapters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from eintegr.errors import IdentifierError, MessageError, RegistryError
from eintegr.identifiers import egn_check_digit
from eintegr.messages.regix import (
    GET_ACTUAL_STATE,
    PERSON_DATA_SEARCH,
    IdentifierCheck,
    IdentifierKind,
    Operation,
    get_operation,
    operation_for_response,
    operations,
    register_operation,
)
from eintegr.messages.regix_operations import normalized_copy
from eintegr.messages.regix_operations.av_tr import (
    ActualStateRequest,
    ActualStateResponse,
    Status,
    ValidUICResponse,
)
from eintegr.messages.regix_operations.grao_nbd import (
    GenderName,
    PersonDataRequest,
    PersonDataResponse,
)
from eintegr.messages.regix_operations.grao_pna import (
    PermanentAddressRequest,
    PermanentAddressResponse,
    TemporaryAddressResponse,
)
from eintegr.schemas import SchemaCatalogue
from eintegr.testing.regix_server import demo_store
from eintegr.xml import parse_xml
from tests.conftest import reference_path

SAMPLES = {
    "PersonDataSearch": ("GraoNBDAdapter", "PersonDataSearch"),
    "PermanentAddressSearch": ("GraoPNAAdapter", "PermanentAddressSearch"),
    "TemporaryAddressSearch": ("GraoPNAAdapter", "TemporaryAddressSearch"),
    "GetActualState": ("AVTRAdapter", "GetActualState"),
    "GetValidUICInfo": ("AVTRAdapter", "GetValidUICInfo"),
}


def _leaves(root: etree._Element) -> dict[tuple[str, ...], list[str]]:
    """Every non-empty text leaf by its path of local names."""
    found: dict[tuple[str, ...], list[str]] = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or len(node) or not (node.text or "").strip():
            continue
        path = tuple(
            etree.QName(n).localname for n in [*reversed(list(node.iterancestors())), node]
        )
        found.setdefault(path, []).append((node.text or "").strip())
    return found


# --- the registry -----------------------------------------------------------------------------


def test_the_bundled_operations_are_registered() -> None:
    names = [op.name for op in operations()]
    assert names[:5] == list(SAMPLES)
    assert get_operation("PersonDataSearch") is PERSON_DATA_SEARCH
    assert get_operation(PERSON_DATA_SEARCH.key) is PERSON_DATA_SEARCH
    assert PERSON_DATA_SEARCH.adapter == "GraoNBDAdapter"
    assert PERSON_DATA_SEARCH.contract.endswith(".INBDAPI")
    assert operation_for_response(GET_ACTUAL_STATE.response_root) is GET_ACTUAL_STATE
    assert operation_for_response("{urn:x}Nothing") is None


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SAMPLES))
def test_operation_keys_and_namespaces_match_the_adapter_metadata(name: str) -> None:
    adapter, code = SAMPLES[name]
    meta = parse_xml(
        reference_path("regix", adapter, "XMLMetaData", f"{code}.xml").read_bytes()
    ).getroot()
    ns = {"m": "http://egov.bg/RegiX/RegiXClientMetadata"}
    op = get_operation(name)
    assert meta.findtext("m:OperationName", namespaces=ns) == op.key
    request = etree.QName(op.request_root)
    assert meta.findtext("m:Namespace", namespaces=ns) == request.namespace
    assert meta.findtext("m:RequestObjectName", namespaces=ns) == request.localname


def test_unknown_operations_are_refused() -> None:
    with pytest.raises(RegistryError) as caught:
        get_operation("NoSuchSearch")
    assert caught.value.code == "REGIX-UNKNOWN-OPERATION"
    assert "PersonDataSearch" in str(caught.value)
    assert isinstance(caught.value, LookupError)


def test_operation_definitions_are_checked() -> None:
    with pytest.raises(ValueError, match="operation key"):
        Operation(key="Nope", request_model=PersonDataRequest, response_model=PersonDataResponse)
    with pytest.raises(ValueError, match="namespaced"):
        Operation(key="A.B.C", request_root="Plain", response_root="{urn:x}R")
    with pytest.raises(ValueError, match="differs"):
        Operation(key="A.B.C", request_root="{urn:x}Q", request_model=PersonDataRequest)


def test_register_operation_with_its_own_schemas(tmp_path: Path) -> None:
    ns = "urn:example:ping"
    (tmp_path / "ping.xsd").write_text(
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{ns}" '
        'elementFormDefault="qualified"><xs:element name="Ping"><xs:complexType><xs:sequence>'
        '<xs:element name="N" type="xs:int"/></xs:sequence></xs:complexType></xs:element>'
        '<xs:element name="Pong" type="xs:string"/></xs:schema>',
        encoding="utf-8",
    )
    op = Operation(
        key="Example.RegiX.PingAdapter.APIService.IPingAPI.Ping",
        request_root=f"{{{ns}}}Ping",
        response_root=f"{{{ns}}}Pong",
        schemas=SchemaCatalogue.from_folder(tmp_path),
    )
    assert register_operation(op) is op
    try:
        assert get_operation("Ping") is op
        with pytest.raises(ValueError, match="already registered"):
            register_operation(op)
        register_operation(op, replace=True)
        good = parse_xml(f'<Ping xmlns="{ns}"><N>1</N></Ping>'.encode()).getroot()
        assert op.request_problems(good) == []
        bad = parse_xml(f'<Ping xmlns="{ns}"><N>x</N></Ping>'.encode()).getroot()
        assert op.request_problems(bad)
        assert (
            op.parse_response(parse_xml(f'<Pong xmlns="{ns}">1</Pong>'.encode()).getroot()) is None
        )
        with pytest.raises(MessageError, match="no argument model"):
            op.build_argument({"N": "1"})
    finally:
        from eintegr.messages.regix_operations import _REGISTRY, _REGISTRY_LOCK

        with _REGISTRY_LOCK:
            _REGISTRY.pop(op.key, None)


def test_an_ambiguous_short_name_needs_the_full_key() -> None:
    twin = Operation(
        key="Other.RegiX.GraoNBDAdapter.APIService.INBDAPI.PersonDataSearch",
        request_model=PersonDataRequest,
        response_model=PersonDataResponse,
    )
    register_operation(twin)
    try:
        with pytest.raises(RegistryError, match="ambiguous"):
            get_operation("PersonDataSearch")
        assert get_operation(twin.key) is twin
    finally:
        from eintegr.messages.regix_operations import _REGISTRY, _REGISTRY_LOCK

        with _REGISTRY_LOCK:
            _REGISTRY.pop(twin.key, None)


# --- arguments --------------------------------------------------------------------------------


def test_build_argument_from_values() -> None:
    op = get_operation("PermanentAddressSearch")
    element = op.build_argument({"EGN": "9001011238", "SearchDate": "2024-01-31"})
    assert op.request_problems(element) == []
    model = PermanentAddressRequest.from_element(element)
    assert model.search_date == dt.date(2024, 1, 31)
    with pytest.raises(MessageError, match="no argument element Foo"):
        op.build_argument({"Foo": "1"})
    with pytest.raises(MessageError) as caught:
        op.build_argument({"EGN": "9001011238"})  # SearchDate is required
    assert caught.value.code == "MODEL-BIND"
    with pytest.raises(MessageError):
        op.build_argument({"EGN": "123", "SearchDate": "2024-01-31"})


def test_argument_element_accepts_models_elements_and_bytes() -> None:
    op = PERSON_DATA_SEARCH
    from_model = op.argument_element(PersonDataRequest(egn="9001011238"))
    from_bytes = op.argument_element(etree.tostring(from_model))
    from_element = op.argument_element(from_model)
    assert etree.tostring(from_bytes) == etree.tostring(from_element) == etree.tostring(from_model)
    with pytest.raises(MessageError) as caught:
        op.argument_element(ActualStateRequest(uic="175200005"))
    assert caught.value.code == "REGIX-ARGUMENT"
    with pytest.raises(MessageError, match="takes the element"):
        op.argument_element(
            b'<PersonDataRequest xmlns="urn:wrong"><EGN>1</EGN></PersonDataRequest>'
        )
    with pytest.raises(TypeError):
        op.argument_element("text")  # type: ignore[arg-type]


def test_request_identifiers_are_checked() -> None:
    op = PERSON_DATA_SEARCH
    op.check_request_identifiers(op.build_argument({"EGN": "9001011238"}))
    with pytest.raises(IdentifierError) as caught:
        op.check_request_identifiers(op.build_argument({"EGN": "9001011239"}))
    assert caught.value.code == "ID-EGN"
    assert caught.value.path == "/PersonDataRequest/EGN"
    assert "контролна цифра" in caught.value.message_bg
    with pytest.raises(IdentifierError) as eik:
        GET_ACTUAL_STATE.check_request_identifiers(
            GET_ACTUAL_STATE.build_argument({"UIC": "175200006"})
        )
    assert eik.value.code == "ID-EIK"


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=99),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 999),
)
def test_any_valid_egn_makes_a_valid_argument(yy: int, mm: int, dd: int, serial: int) -> None:
    first9 = f"{yy:02d}{mm:02d}{dd:02d}{serial:03d}"
    egn = first9 + egn_check_digit(first9)
    element = PERSON_DATA_SEARCH.argument_element(PersonDataRequest(egn=egn))
    assert PERSON_DATA_SEARCH.request_problems(element) == []
    PERSON_DATA_SEARCH.check_request_identifiers(element)
    assert PersonDataRequest.from_element(element).egn == egn


# --- responses --------------------------------------------------------------------------------


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SAMPLES))
def test_reference_samples_bind_completely_and_round_trip(name: str) -> None:
    adapter, code = SAMPLES[name]
    op = get_operation(name)
    samples = reference_path("regix", adapter, "XMLSamples")
    for file_name, model in (
        (f"{code}Request.xml", op.request_model),
        (f"{code}Response.xml", op.response_model),
    ):
        assert model is not None
        source = parse_xml((samples / file_name).read_bytes()).getroot()
        bound = model.from_element(source)
        written = bound.to_element()
        # nothing the register sent is lost: every text value comes back at its place
        assert _leaves(written) == _leaves(normalized_copy(source)), file_name
        assert model.from_element(written) == bound
        assert model.from_xml(bound.to_xml()) == bound


def test_demo_data_binds_completely() -> None:
    store = demo_store()
    for key in store.operations():
        op = get_operation(key)
        for answer in store._answers[key].values():
            assert answer.response is not None
            source = answer.response.element()
            assert op.response_problems(source) == []
            bound = op.parse_response(source)
            assert bound is not None
            assert _leaves(bound.to_element()) == _leaves(source)


def test_typed_response_values() -> None:
    store = demo_store()
    person = PERSON_DATA_SEARCH.parse_response(
        store._answers[PERSON_DATA_SEARCH.key]["9001011238"].response.element()  # type: ignore[union-attr]
    )
    assert isinstance(person, PersonDataResponse)
    assert person.person_names is not None
    assert person.person_names.full == "Мария Иванова Петрова"
    assert person.gender is not None
    assert person.gender.name is GenderName.FEMALE
    assert person.birth_date == dt.date(1990, 1, 1)
    company = GET_ACTUAL_STATE.parse_response(
        store._answers[GET_ACTUAL_STATE.key]["175200005"].response.element()  # type: ignore[union-attr]
    )
    assert isinstance(company, ActualStateResponse)
    assert company.status is Status.NEW
    assert not company.status.closed
    assert company.legal_form is not None
    assert company.legal_form.abbreviation == "ЕООД"
    assert [s.name for s in company.persons("Управители")] == ["Мария Иванова Петрова"]
    assert company.data_valid_for == dt.datetime(2024, 5, 6, 10, 15)


def test_unknown_enumeration_values_are_kept_as_text() -> None:
    response = ValidUICResponse.from_xml(
        b'<ValidUICResponse xmlns="http://egov.bg/RegiX/AV/TR/ValidUICResponse">'
        b"<Status>\xd0\x9d\xd0\xbe\xd0\xb2 \xd1\x81\xd1\x82\xd0\xb0\xd1\x82\xd1\x83\xd1\x81"
        b"</Status><DataValidForDate>2024-05-06T10:15:00.1234567+03:00</DataValidForDate>"
        b"</ValidUICResponse>"
    )
    assert response.status == "Нов статус"
    assert response.data_valid_for is not None
    assert response.data_valid_for.utcoffset() == dt.timedelta(hours=3)
    assert response.data_valid_for.microsecond == 123456


def test_response_warnings_for_register_data() -> None:
    source = parse_xml(
        b'<PersonDataResponse xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataResponse">'
        b"<EGN>7204021667</EGN><Unknown/></PersonDataResponse>"
    ).getroot()
    problems = PERSON_DATA_SEARCH.response_identifier_problems(source)
    assert [(p.code, p.path, p.value) for p in problems] == [
        ("ID-EGN", "/PersonDataResponse/EGN", "7204021667")
    ]
    assert PERSON_DATA_SEARCH.response_problems(source)  # the unknown element
    bound = PersonDataResponse.from_element(source)  # … binding skips it
    assert bound.egn == "7204021667"


def test_tr_subject_identifiers_follow_their_indent_type() -> None:
    source = parse_xml(
        b'<ActualStateResponse xmlns="http://egov.bg/RegiX/AV/TR/ActualStateResponse" '
        b'xmlns:tr="http://egov.bg/RegiX/AV/TR"><UIC>175200005</UIC><Details>'
        b"<tr:Detail><tr:Subject><tr:Indent>175200005</tr:Indent><tr:IndentType>UIC"
        b"</tr:IndentType></tr:Subject></tr:Detail>"
        b"<tr:Detail><tr:Subject><tr:Indent>175200006</tr:Indent><tr:IndentType>UIC"
        b"</tr:IndentType></tr:Subject></tr:Detail>"
        b"<tr:Detail><tr:Subject><tr:Indent>1234567893</tr:Indent><tr:IndentType>EGN"
        b"</tr:IndentType></tr:Subject></tr:Detail>"
        b"<tr:Detail><tr:Subject><tr:Indent>whatever</tr:Indent></tr:Subject></tr:Detail>"
        b"</Details></ActualStateResponse>"
    ).getroot()
    problems = GET_ACTUAL_STATE.response_identifier_problems(source)
    assert [(p.code, p.kind) for p in problems] == [("ID-EIK", IdentifierKind.EIK)]
    assert problems[0].path == "/ActualStateResponse/Details/Detail[2]/Subject/Indent"


def test_personal_identifiers_accept_an_lnch() -> None:
    assert IdentifierKind.PERSONAL.problem("1234567893") is None  # a valid ЛНЧ
    assert IdentifierKind.EGN.problem("1234567893") is not None
    assert IdentifierKind.EIK.problem("175200005") is None


def test_identifier_check_paths_are_plain_names() -> None:
    with pytest.raises(ValueError, match="invalid identifier path"):
        IdentifierCheck("EGN[1]", IdentifierKind.EGN).elements(etree.Element("x"))


def test_xsi_annotations_are_consumed_when_binding() -> None:
    source = parse_xml(
        b'<PersonDataResponse xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataResponse" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:c="http://egov.bg/RegiX/GRAO/NBD" '
        b'xsi:schemaLocation="urn:x x.xsd"><PersonNames><c:FirstName xsi:type="xsd:string">'
        b"A</c:FirstName></PersonNames><Alias xsi:nil='true'/><!-- note --><PlaceBirth>B"
        b"</PlaceBirth></PersonDataResponse>"
    ).getroot()
    bound = PersonDataResponse.from_element(source)
    assert bound.person_names is not None
    assert bound.person_names.first_name == "A"
    assert bound.alias is None
    assert bound.place_of_birth == "B"
    other_type = parse_xml(
        b'<PersonDataResponse xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataResponse" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><EGN xsi:type="xsd:int">1</EGN>'
        b"</PersonDataResponse>"
    ).getroot()
    assert PersonDataResponse.from_element(other_type).egn == "1"  # responses skip the rest
    with pytest.raises(MessageError) as caught:
        PersonDataRequest.from_xml(
            b'<PersonDataRequest xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataRequest" '
            b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            b'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><EGN xsi:type="xsd:int">'
            b"9001011238</EGN></PersonDataRequest>"
        )
    assert caught.value.code == "MODEL-BIND"


def test_binding_errors_are_typed_with_place() -> None:
    with pytest.raises(MessageError) as caught:
        PermanentAddressResponse.from_xml(
            b'<PermanentAddressResponse xmlns="http://egov.bg/RegiX/GRAO/PNA/'
            b'PermanentAddressResponse">\n<FromDate>2015-02-30</FromDate>'
            b"</PermanentAddressResponse>"
        )
    assert caught.value.code == "MODEL-BIND"
    assert caught.value.line == 2
    assert caught.value.path == "/PermanentAddressResponse/from_date"
    with pytest.raises(MessageError) as wrong_root:
        TemporaryAddressResponse.from_xml(b'<PermanentAddressResponse xmlns="urn:x"/>')
    assert wrong_root.value.code == "REGIX-PAYLOAD-ROOT"
    with pytest.raises(MessageError) as extra:
        ActualStateRequest.from_xml(
            b'<ActualStateRequest xmlns="http://egov.bg/RegiX/AV/TR/ActualStateRequest">'
            b"<UIC>175200005</UIC><Extra>1</Extra></ActualStateRequest>"
        )
    assert extra.value.code == "MODEL-BIND"


def test_payload_serialization_leaves_absent_values_out() -> None:
    xml = PermanentAddressResponse(settlement_name="гр. Пловдив", floor="3").to_xml()
    assert (
        xml
        == (
            '<PermanentAddressResponse xmlns="http://egov.bg/RegiX/GRAO/PNA/PermanentAddressResponse">'
            "<SettlementName>гр. Пловдив</SettlementName><Floor>3</Floor>"
            "</PermanentAddressResponse>"
        ).encode()
    )
    response = PermanentAddressResponse(
        settlement_name="гр. Пловдив", city_area="Тракия", building_number="5", apartment="2"
    )
    assert response.one_line == "гр. Пловдив, р-н Тракия, № 5, ап. 2"


def test_models_defined_where_pydantic_cannot_see_their_module_complete_on_first_use() -> None:
    source = (
        "from __future__ import annotations\n"
        "from pydantic_xml import element\n"
        "from eintegr.messages.regix_operations import ResponsePayload, XsdDate\n"
        "class Late(ResponsePayload, tag='Late', ns='', nsmap={'': 'urn:late'}):\n"
        "    day: XsdDate | None = element(tag='Day', default=None)\n"
        "value = Late(day='2024-02-29')\n"
    )
    namespace: dict[str, object] = {"__name__": "not_a_module"}
    exec(compile(source, "<late>", "exec"), namespace)
    assert namespace["value"].day == dt.date(2024, 2, 29)  # type: ignore[attr-defined]
