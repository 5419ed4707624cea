"""eintegr's own RegiX XSDs accept and reject exactly what the reference XSDs do.

The reference schemas are loaded from ../shared/reference at test time (skipped when absent).
Each comparison runs a corpus: the reference samples and eintegr's demo data, and mutations
of each (an element dropped, duplicated, moved, renamed into another namespace, given a
child it cannot have, or a value it cannot hold, nil where not nillable). Both schemas must
give the same verdict on every document.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lxml import etree

from eintegr.messages.regix import REGIX_SCHEMA_FOLDER, SIGNED_DATA_NS, regix_catalogue
from eintegr.schemas import SchemaCatalogue, load_schema
from eintegr.testing.regix_server import demo_store
from eintegr.xml import parse_xml
from tests.conftest import REFERENCE, reference_path

XSI = "http://www.w3.org/2001/XMLSchema-instance"
DS = "http://www.w3.org/2000/09/xmldsig#"
TEMPURI = "http://tempuri.org/"
BAD_VALUES = ("x", "", "12345678901", "2015-02-30", "-1.5e3", "true")


def mutations(
    root: etree._Element, opaque: Callable[[etree._Element], bool] = lambda e: False
) -> Iterator[tuple[str, etree._Element]]:
    """The document, and mutations of every element outside ``opaque`` subtrees (an opaque
    element itself is only dropped, duplicated or moved)."""
    yield "original", root
    nodes = list(root.iter())
    for index, node in enumerate(nodes):
        if node is root or not isinstance(node.tag, str):
            continue
        if any(opaque(a) for a in node.iterancestors()):
            continue
        name = etree.QName(node).localname
        kinds = ["drop", "duplicate", "move-up"]
        if not opaque(node):  # an opaque payload's name and content are checked elsewhere
            kinds.extend(["rename", "nil", "child"])
            if not len(node):
                kinds.extend(f"value:{v}" for v in BAD_VALUES)
        for kind in kinds:
            doc = copy.deepcopy(root)
            target = list(doc.iter())[index]
            parent = target.getparent()
            assert parent is not None
            if kind == "drop":
                parent.remove(target)
            elif kind == "duplicate":
                parent.insert(parent.index(target), copy.deepcopy(target))
            elif kind == "move-up":
                previous = target.getprevious()
                if previous is None:
                    continue
                parent.remove(target)
                parent.insert(parent.index(previous), target)
            elif kind == "rename":
                target.tag = f"{{urn:other}}{name}"
            elif kind == "nil":
                target.set(f"{{{XSI}}}nil", "true")
                for child in list(target):
                    target.remove(child)
                target.text = None
            elif kind == "child":
                etree.SubElement(target, f"{{{etree.QName(target).namespace}}}Unexpected")
            else:
                target.text = kind.partition(":")[2]
            yield f"{kind} {name}[{index}]", doc


# --- the adapters -----------------------------------------------------------------------------

SAMPLES = [
    ("GraoNBDAdapter", "PersonDataSearchRequest.xml"),
    ("GraoNBDAdapter", "PersonDataSearchResponse.xml"),
    ("GraoPNAAdapter", "PermanentAddressSearchRequest.xml"),
    ("GraoPNAAdapter", "PermanentAddressSearchResponse.xml"),
    ("GraoPNAAdapter", "TemporaryAddressSearchRequest.xml"),
    ("GraoPNAAdapter", "TemporaryAddressSearchResponse.xml"),
    ("AVTRAdapter", "GetActualStateRequest.xml"),
    ("AVTRAdapter", "GetActualStateResponse.xml"),
    ("AVTRAdapter", "GetValidUICInfoRequest.xml"),
    ("AVTRAdapter", "GetValidUICInfoResponse.xml"),
]
ADAPTER_OF = {
    "http://egov.bg/RegiX/GRAO/NBD": "GraoNBDAdapter",
    "http://egov.bg/RegiX/GRAO/PNA": "GraoPNAAdapter",
    "http://egov.bg/RegiX/AV/TR": "AVTRAdapter",
}


def _adapter(namespace: str) -> str:
    return next(a for prefix, a in ADAPTER_OF.items() if namespace.startswith(prefix))


def _compare(root: etree._Element, reference: etree.XMLSchema, ours: etree.XMLSchema) -> int:
    compared = 0
    for name, doc in mutations(root):
        expected, found = reference.validate(doc), ours.validate(doc)
        assert expected == found, f"{name}: reference says {expected}, eintegr says {found}"
        compared += 1
    return compared


@pytest.mark.reference
@pytest.mark.parametrize(("adapter", "sample"), SAMPLES, ids=[s for _, s in SAMPLES])
def test_adapter_schemas_are_equivalent_on_the_reference_samples(adapter: str, sample: str) -> None:
    folder = reference_path("regix", adapter)
    reference_catalogue = SchemaCatalogue.from_folder(folder / "XMLSchemas")
    root = parse_xml((folder / "XMLSamples" / sample).read_bytes()).getroot()
    namespace = etree.QName(root).namespace or ""
    reference = load_schema(namespace, reference_catalogue)
    ours = load_schema(namespace, regix_catalogue())
    assert ours.validate(root) == reference.validate(root)
    assert _compare(root, reference, ours) >= 10


@pytest.mark.reference
def test_adapter_schemas_are_equivalent_on_the_demo_data() -> None:
    store = demo_store()
    for key in store.operations():
        from eintegr.messages.regix import get_operation

        operation = get_operation(key)
        answer = store._answers[key]
        for entry in answer.values():
            assert entry.response is not None
            root = entry.response.element()
            namespace = etree.QName(root).namespace or ""
            folder = reference_path("regix", _adapter(namespace), "XMLSchemas")
            reference = load_schema(namespace, SchemaCatalogue.from_folder(folder))
            ours = load_schema(namespace, regix_catalogue())
            assert reference.validate(root), operation.name
            _compare(root, reference, ours)


def test_every_bundled_regix_schema_compiles_from_its_folder() -> None:
    catalogue = SchemaCatalogue.from_folder(REGIX_SCHEMA_FOLDER)
    assert len(catalogue.namespaces) == 15
    for namespace in catalogue.namespaces:
        assert isinstance(load_schema(namespace, catalogue), etree.XMLSchema)


def test_bundled_files_are_not_copies_of_the_reference() -> None:
    if not REFERENCE.exists():
        pytest.skip("reference artefacts not available")
    theirs = {
        b"".join(p.read_bytes().split())
        for p in (REFERENCE / "regix").rglob("*")
        if p.suffix in (".xsd", ".xml", ".wsdl")
    }
    for path in REGIX_SCHEMA_FOLDER.glob("*.xsd"):
        assert b"".join(path.read_bytes().split()) not in theirs, path.name


# --- the envelope -----------------------------------------------------------------------------


def _legacy_catalogue(tmp: Path) -> SchemaCatalogue:
    """The schemas embedded in the documented legacy entry point WSDL, as files."""
    wsdl = parse_xml(reference_path("regix", "envelope", "wsdl.xml").read_bytes()).getroot()
    schemas = wsdl.findall(
        "{http://schemas.xmlsoap.org/wsdl/}types/{http://www.w3.org/2001/XMLSchema}schema"
    )
    assert len(schemas) == 2
    for index, schema in enumerate(schemas):
        (tmp / f"legacy-{index}.xsd").write_bytes(etree.tostring(schema))
    return SchemaCatalogue.from_folder(tmp)


def _payload() -> etree._Element:
    """An element both schemas accept at a wildcard (declared in the legacy set)."""
    holder = etree.Element(f"{{{TEMPURI}}}CheckResult", nsmap={"t": TEMPURI})
    argument = etree.SubElement(holder, f"{{{TEMPURI}}}argument")
    etree.SubElement(argument, f"{{{TEMPURI}}}ServiceCallID").text = "7"
    return holder


def _sd(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, f"{{{SIGNED_DATA_NS}}}{local}")
    node.text = text
    return node


def _request_content() -> etree._Element:
    root = etree.Element(f"{{{SIGNED_DATA_NS}}}ServiceRequestData", nsmap={None: SIGNED_DATA_NS})
    _sd(root, "Operation", "TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.PersonDataSearch")
    _sd(root, "Argument").append(_payload())
    _sd(root, "EIDToken", "token")
    context = _sd(root, "CallContext")
    for local, text in (
        ("ServiceURI", "123"),
        ("ServiceType", "Проверка"),
        ("EmployeeIdentifier", "ivan@example.bg"),
        ("EmployeeNames", "Иван Петров"),
        ("EmployeeAditionalIdentifier", "42"),
        ("EmployeePosition", "експерт"),
        ("AdministrationOId", "2.16.100.1.1.1.1.1"),
        ("AdministrationName", "Община"),
        ("ResponsiblePersonIdentifier", "kmet@example.bg"),
        ("LawReason", "чл. 5 АПК"),
        ("Remark", "бележка"),
    ):
        _sd(context, local, text)
    _sd(root, "CallbackURL", "https://example.bg/cb")
    _sd(root, "EmployeeEGN", "9001011238")
    _sd(root, "CitizenEGN", "9001011238")
    _sd(root, "SignResult", "true")
    _sd(root, "ReturnAccessMatrix", "false")
    return root


def _result_content() -> etree._Element:
    root = etree.Element(f"{{{SIGNED_DATA_NS}}}ServiceResultData", nsmap={None: SIGNED_DATA_NS})
    _sd(root, "IsReady", "true")
    data = _sd(root, "Data")
    data.set("id", "data")
    request = _sd(data, "Request")
    request.set("id", "request")
    request.append(_payload())
    response = _sd(data, "Response")
    response.set("id", "response")
    response.append(_payload())
    matrix = _sd(data, "Matrix")
    _sd(matrix, "HasAccess", "true")
    _sd(matrix, "Name", "PersonDataSearch")
    properties = _sd(matrix, "Properties")
    for name in ("EGN", "PersonNames"):
        prop = _sd(properties, "Property")
        _sd(prop, "HasAccess", "true")
        _sd(prop, "Name", name)
    signature = etree.SubElement(root, f"{{{DS}}}Signature", nsmap={"ds": DS})
    signature.append(_payload())
    _sd(root, "HasError", "false")
    _sd(root, "Error", "")
    return root


def _check_content() -> etree._Element:
    root = etree.Element(
        f"{{{SIGNED_DATA_NS}}}ServiceCheckResultArgument", nsmap={None: SIGNED_DATA_NS}
    )
    _sd(root, "ServiceCallID", "12345")
    return root


def _as_legacy(content: etree._Element, wrapper: str, parameter: str) -> etree._Element:
    """The same content as the legacy operation element (namespace http://tempuri.org/)."""
    legacy = etree.Element(f"{{{TEMPURI}}}{wrapper}", nsmap={"t": TEMPURI})
    holder = etree.SubElement(legacy, f"{{{TEMPURI}}}{parameter}")
    copied = copy.deepcopy(content)
    for node in copied.iter():
        if isinstance(node.tag, str) and etree.QName(node).namespace == SIGNED_DATA_NS:
            node.tag = f"{{{TEMPURI}}}{etree.QName(node).localname}"
    holder.text = copied.text
    for child in copied:
        holder.append(child)
    for name, value in copied.attrib.items():
        holder.set(name, value)
    return legacy


def _opaque(node: etree._Element) -> bool:
    """Payloads and the signature: their content is not the envelope's business."""
    return node.tag in (f"{{{TEMPURI}}}CheckResult", f"{{{DS}}}Signature")


def _with_signature(legacy: etree._Element) -> etree._Element:
    """``legacy`` with a signature put back at its place, if the mutation removed it."""
    restored = copy.deepcopy(legacy)
    result = restored[0]
    if result.find(f"{{{DS}}}Signature") is not None:
        return restored
    has_error = result.find(f"{{{TEMPURI}}}HasError")
    if has_error is None:
        return restored
    signature = etree.Element(f"{{{DS}}}Signature", nsmap={"ds": DS})
    signature.append(_payload())
    has_error.addprevious(signature)
    return restored


@pytest.mark.reference
@pytest.mark.parametrize(
    ("content", "wrapper", "parameter"),
    [
        (_request_content, "Execute", "request"),
        (_result_content, "ExecuteSynchronousResponse", "ExecuteSynchronousResult"),
        (_check_content, "CheckResult", "argument"),
    ],
    ids=["ServiceRequestData", "ServiceResultData", "ServiceCheckResultArgument"],
)
def test_envelope_schema_is_equivalent_to_the_documented_contract(
    tmp_path: Path,
    content: Callable[[], etree._Element],
    wrapper: str,
    parameter: str,
) -> None:
    legacy_schema = load_schema(TEMPURI, _legacy_catalogue(tmp_path))
    ours = load_schema(SIGNED_DATA_NS, regix_catalogue())
    compared = deviations = 0
    for name, doc in mutations(content(), _opaque):
        legacy_doc = _as_legacy(doc, wrapper, parameter)
        expected, found = legacy_schema.validate(legacy_doc), ours.validate(doc)
        compared += 1
        if expected == found:
            continue
        # the one documented difference: an unsigned result (no ds:Signature) is valid
        assert found, f"{name}: legacy {expected}, eintegr {found}"
        assert not expected, name
        assert legacy_schema.validate(_with_signature(legacy_doc)), name
        deviations += 1
    assert compared >= 12
    if wrapper == "ExecuteSynchronousResponse":
        assert deviations == 1  # the signature dropped
    else:
        assert deviations == 0


def test_envelope_schema_takes_the_v2_additions() -> None:
    ours = load_schema(SIGNED_DATA_NS, regix_catalogue())
    request = _request_content()
    first = request[0]
    first.addprevious(etree.Element(f"{{{SIGNED_DATA_NS}}}RequestProcessing"))
    first.addprevious(etree.Element(f"{{{SIGNED_DATA_NS}}}ResponseProcessing"))
    request[0].text = "Verify Asynchronous"
    request[1].text = "TransformToPDF"
    assert ours.validate(request), ours.error_log
    request[0].text = "Sometimes"
    assert not ours.validate(request)
    result = _result_content()
    _sd(result, "ServiceCallID", "1001")
    _sd(result, "VerificationCode", "abc")
    assert ours.validate(result), ours.error_log
    result[-2].text = "12a"
    assert not ours.validate(result)
    check = _check_content()
    _sd(check, "VerificationCode", "abc")
    assert ours.validate(check), ours.error_log
