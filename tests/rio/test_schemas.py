"""eintegr's own РИО schemas, the official folder with its patterns rewritten, and proof that
both give the same verdicts (lxml and xmlschema) and define the same components."""

from __future__ import annotations

import copy
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from eintegr.errors import SchemaError
from eintegr.schemas import SchemaCatalogue, load_schema
from eintegr.schemas.rio import (
    RIO_BASE,
    NonStandardPatternWarning,
    RioSchemas,
    is_rio_namespace,
    read_rio_folder,
    rewrite_pattern,
    rio_schema,
    rio_schemas,
)
from eintegr.xml import parse_xml
from tests.rio.corpus import Case, corpus, valid_documents
from tests.rio.helpers import ROOT_NAMESPACES

XS = "http://www.w3.org/2001/XMLSchema"
DS = "http://www.w3.org/2000/09/xmldsig#"
CORPUS = corpus()
RIO_FILES = sorted((Path(__file__).parents[2] / "src/eintegr/schemas/xsd/rio").glob("*.xsd"))


def rio_namespaces(catalogue: SchemaCatalogue) -> list[str]:
    return sorted(ns for ns in catalogue.namespaces if is_rio_namespace(ns))


# --- eintegr's own schemas --------------------------------------------------------------------


def test_the_builtin_catalogue_holds_every_rio_segment_we_model() -> None:
    namespaces = rio_namespaces(SchemaCatalogue.builtin())
    assert len(namespaces) == 145  # 140 bundled in xsd/rio/ + the five of the СЕОС DocumentURI
    for namespace in ROOT_NAMESPACES:
        assert isinstance(load_schema(namespace), etree.XMLSchema)
    assert rio_schema(ROOT_NAMESPACES[0]) is load_schema(ROOT_NAMESPACES[0])
    assert rio_schemas() is rio_schemas()


@pytest.mark.parametrize("path", RIO_FILES, ids=lambda p: p.name)
def test_bundled_rio_files_are_standalone(path: Path) -> None:
    data = path.read_bytes()
    assert b"<!DOCTYPE" not in data
    root = parse_xml(data).getroot()
    assert root.get("elementFormDefault") == "qualified"
    assert is_rio_namespace(root.get("targetNamespace"))
    for imp in root.iterchildren(f"{{{XS}}}import"):
        sibling = (path.parent / imp.get("schemaLocation", "")).resolve()
        assert sibling.is_file(), (path.name, imp.get("namespace"))
        assert parse_xml(sibling.read_bytes()).getroot().get("targetNamespace") == imp.get(
            "namespace"
        )
    for pattern in root.iter(f"{{{XS}}}pattern"):
        assert rewrite_pattern(pattern.get("value", ""))[1] == (), "our patterns are standard"


def test_rio_schema_refuses_other_namespaces() -> None:
    with pytest.raises(SchemaError) as info:
        rio_schema("http://schemas.egov.bg/messaging/v1")
    assert info.value.code == "SCHEMA-NOT-RIO"
    assert not is_rio_namespace("http://ereg.egov.bg/other/0009-000001")
    assert is_rio_namespace("http://ereg.egov.bg/segment//R-3136")


# --- rewriting patterns -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "rewritten", "constructs", "unsupported"),
    [
        ("[A-Z]{2}", "[A-Z]{2}", (), ()),
        ("^[А-Яа-я]+$", "[А-Яа-я]+", ("anchors ^ $",), ()),
        ("[^a-z$]+", "[^a-z$]+", (), ()),
        ("\\^a\\$", "\\^a\\$", (), ()),
        ("(?:ab)+", "(ab)+", ("non-capturing group",), ()),
        ("(?=^.{1,64}@)a@b", "a@b", ("look-ahead",), ()),
        ("a(?!b)c(?<=c)(?<!d)", "ac", ("look-ahead", "look-behind"), ()),
        ("(?<year>[0-9]{4})", "([0-9]{4})", ("named group",), ()),
        ("(?'y'x)(?P<z>y)", "(x)(y)", ("named group",), ()),
        ("a+?b*?c??d{1,2}?", "a+b*c?d{1,2}", ("lazy quantifier",), ()),
        ("[a-z-[aeiou]]+", "[a-z-[aeiou]]+", (), ()),
        ("(?i)abc", "(?i)abc", ("group (?i…",), ("group (?i…",)),
        ("\\bword\\b", "\\bword\\b", ("escape \\b",), ("escape \\b",)),
    ],
)
def test_rewrite_pattern(
    pattern: str, rewritten: str, constructs: tuple[str, ...], unsupported: tuple[str, ...]
) -> None:
    assert rewrite_pattern(pattern) == (rewritten, constructs, unsupported)


def test_a_folder_with_an_unrewritable_pattern_warns_then_fails_to_compile(
    tmp_path: Path,
) -> None:
    (tmp_path / "x.xsd").write_text(
        f'<xs:schema xmlns:xs="{XS}" targetNamespace="{RIO_BASE}value/9999-000001">'
        '<xs:simpleType name="X"><xs:restriction base="xs:string">'
        '<xs:pattern value="(?i)abc"/></xs:restriction></xs:simpleType>'
        '<xs:element name="x" type="xs:string"/></xs:schema>',
        encoding="utf-8",
    )
    with pytest.warns(NonStandardPatternWarning, match="cannot be rewritten"):
        schemas = read_rio_folder(tmp_path)
    assert schemas.rewrites[0].unsupported == ("group (?i…",)
    assert "не могат да се пренапишат" in schemas.rewrites[0].message("bg")
    with pytest.raises(SchemaError) as info:
        schemas.schema(f"{RIO_BASE}value/9999-000001")
    assert info.value.code == "SCHEMA-COMPILE"


# --- the official folder ----------------------------------------------------------------------


@pytest.mark.reference
def test_the_official_folder_loads_with_warnings_not_a_crash(
    rio_folder: Path, rio_official: RioSchemas
) -> None:
    # strictly, the official e-mail pattern does not even compile
    email = next(rio_folder.glob("0008-000036_*.xsd"))
    with pytest.raises(etree.XMLSchemaParseError):
        etree.XMLSchema(etree.parse(str(email)))
    rewritten = {r.type_name: r for r in rio_official.rewrites}
    assert set(rewritten) == {
        "EmailAddress", "PersonFirstName", "PersonMiddleName", "PersonLastName",
        "PersonPseudonim", "ForeignCitizenFirstNameCyrillic", "ForeignCitizenLastNameCyrillic",
        "ForeignCitizenOtherNameCyrillic", "ForeignCitizenPseudonimCyrillic",
    }  # fmt: skip
    mail = rewritten["EmailAddress"]
    assert mail.constructs == ("look-ahead", "anchors ^ $", "non-capturing group")
    assert mail.line == 8
    assert "0008-000036_EmailAddress.xsd:8" in mail.message()
    assert "шаблонът" in mail.message("bg")
    for namespace in ROOT_NAMESPACES:
        assert isinstance(rio_official.schema(namespace), etree.XMLSchema)
    assert rio_schemas(rio_folder).catalogue == rio_official.catalogue  # cached, silent
    assert rio_official.catalogue != SchemaCatalogue.builtin()


@pytest.mark.reference
def test_our_patterns_are_the_official_ones_rewritten(rio_official: RioSchemas) -> None:
    builtin = SchemaCatalogue.builtin()
    for rewrite in rio_official.rewrites:
        namespace = parse_xml(rewrite.file.read_bytes()).getroot().get("targetNamespace", "")
        ours = parse_xml(builtin.location(namespace).read_bytes()).getroot()
        patterns = [p.get("value") for p in ours.iter(f"{{{XS}}}pattern")]
        assert patterns == [rewrite.rewritten], namespace


@pytest.mark.reference
def test_our_files_are_not_copies_of_the_official_ones(rio_folder: Path) -> None:
    def squeeze(data: bytes) -> bytes:
        return re.sub(rb"\s+", b"", data.removeprefix(b"\xef\xbb\xbf"))

    ours = {squeeze(p.read_bytes()) for p in RIO_FILES}
    for path in rio_folder.glob("*.xsd"):
        assert squeeze(path.read_bytes()) not in ours, path.name


@pytest.mark.reference
def test_the_official_folder_covers_our_namespaces(rio_official: RioSchemas) -> None:
    ours = set(rio_namespaces(SchemaCatalogue.builtin()))
    assert ours <= set(rio_official.catalogue.namespaces)


# --- structural equivalence (xmlschema's component model) -------------------------------------


def _local(name: str | None) -> str:
    return name.split("}")[-1] if name else ""


def _describe_type(kind: Any) -> Any:
    if kind.is_simple():
        facets = []
        for key, facet in sorted(kind.facets.items(), key=lambda item: str(item[0])):
            name = _local(key)
            if name == "pattern":
                value: Any = tuple(facet.regexps)
            elif name == "enumeration":
                value = tuple(facet.enumeration)
            else:
                value = getattr(facet, "value", None)
            facets.append((name, value))
        base = kind.base_type.name if getattr(kind, "base_type", None) is not None else None
        return ("simple", kind.name, base, tuple(facets))
    attributes = tuple(
        sorted(
            (name, attribute.type.name, attribute.use)
            for name, attribute in kind.attributes.items()
            if name is not None
        )
    )
    base = kind.base_type.name if kind.base_type is not None else None
    return ("complex", kind.name, kind.derivation, base, _describe_group(kind.content), attributes)


def _describe_group(group: Any) -> Any:
    items = []
    for item in group:
        if isinstance(item, xmlschema.validators.XsdGroup):
            items.append(_describe_group(item))
        else:
            kind = item.type.name if item.type.name else _describe_type(item.type)
            items.append((item.name, item.min_occurs, item.max_occurs, item.ref is not None, kind))
    return (group.model, group.min_occurs, group.max_occurs, tuple(items))


def _components(schema: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, kind in schema.maps.types.items():
        if isinstance(name, str) and name.startswith("{" + RIO_BASE):
            found[name] = _describe_type(kind)
    for name, element in schema.maps.elements.items():
        if isinstance(name, str) and name.startswith("{" + RIO_BASE):
            found[f"element {name}"] = element.type.name
    return found


def _xmlschema_of(catalogue: SchemaCatalogue, folder: Path, namespaces: list[str]) -> Any:
    """An xmlschema schema importing ``namespaces`` from files served as the catalogue
    serves them (the official ones with their patterns rewritten)."""
    folder.mkdir(parents=True, exist_ok=True)
    locations = []
    for index, entry in enumerate(catalogue._entries()):
        if not entry.namespace:
            continue
        path = folder / f"{index:03d}.xsd"
        path.write_bytes(entry.data)
        locations.append((entry.namespace, str(path)))
    imports = "".join(f'<xs:import namespace="{ns}"/>' for ns in namespaces)
    wrapper = folder / "wrapper.xsd"
    wrapper.write_text(
        f'<xs:schema xmlns:xs="{XS}" targetNamespace="urn:x-test:wrapper">{imports}</xs:schema>',
        encoding="utf-8",
    )
    return xmlschema.XMLSchema(str(wrapper), locations=locations, allow="local")


@dataclass(frozen=True)
class Judges:
    ours_xs: Any
    official_xs: Any
    ours: RioSchemas
    official: RioSchemas

    def verdicts(self, data: bytes) -> dict[str, bool]:
        tree = parse_xml(data)
        namespace = etree.QName(tree.getroot()).namespace or ""
        return {
            "ours/lxml": self.ours.schema(namespace).validate(tree),
            "official/lxml": self.official.schema(namespace).validate(tree),
            "ours/xmlschema": bool(self.ours_xs.is_valid(tree)),
            "official/xmlschema": bool(self.official_xs.is_valid(tree)),
        }

    def explain(self, data: bytes) -> str:
        tree = parse_xml(data)
        namespace = etree.QName(tree.getroot()).namespace or ""
        lines = []
        for name, schemas in (("ours", self.ours), ("official", self.official)):
            schema = schemas.schema(namespace)
            schema.validate(tree)
            lines.append(f"{name}/lxml: {[e.message for e in schema.error_log][:2]}")
        for name, xs in (("ours", self.ours_xs), ("official", self.official_xs)):
            error = next(iter(xs.iter_errors(tree)), None)
            lines.append(f"{name}/xmlschema: {getattr(error, 'reason', None)}")
        return "\n".join(lines)


@pytest.fixture(scope="module")
def judges(rio_official: RioSchemas, tmp_path_factory: pytest.TempPathFactory) -> Judges:
    ours = rio_schemas()
    namespaces = rio_namespaces(ours.catalogue)
    base = tmp_path_factory.mktemp("xmlschema")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return Judges(
            ours_xs=_xmlschema_of(ours.catalogue, base / "ours", namespaces),
            official_xs=_xmlschema_of(rio_official.catalogue, base / "official", namespaces),
            ours=ours,
            official=rio_official,
        )


@pytest.mark.reference
def test_every_type_and_element_is_defined_alike(judges: Judges) -> None:
    ours = _components(judges.ours_xs)
    official = _components(judges.official_xs)
    assert len(ours) == 150  # 145 types and the 5 documents
    assert sorted(ours) == sorted(official)
    differing = [name for name in ours if ours[name] != official[name]]
    assert differing == [], [(n, ours[n], official[n]) for n in differing[:3]]


# --- verdicts on a corpus ---------------------------------------------------------------------


def test_the_corpus_is_large_and_balanced() -> None:
    assert len(CORPUS) >= 80
    assert sum(c.valid for c in CORPUS) >= 25
    assert sum(not c.valid for c in CORPUS) >= 50


@pytest.mark.reference
@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_corpus_verdicts_agree(judges: Judges, case: Case) -> None:
    verdicts = judges.verdicts(case.xml)
    assert verdicts == dict.fromkeys(verdicts, case.valid), judges.explain(case.xml)


VALID = [xml for _, xml in valid_documents()]
TEXTS = [
    "", " ", "0", "1", "-1", "Иван", "Ivan", "^Иван$", "true", "yes", "0006-000031", "R-1001",
    "2024-02-29", "2024-02-30", "2024-05-01T10:00:00Z", "P14D", "a@b.bg", "SOF46", "QUJD",
    "99999999999999999999", "7501020018", "И" * 61,
]  # fmt: skip
OPERATIONS = ["delete", "duplicate", "swap", "text", "attr", "empty"]


def _mutate(root: etree._Element, index: int, operation: str, pick: int) -> None:
    elements = [e for e in root.iter() if isinstance(e.tag, str)][1:]
    elements = [e for e in elements if not str(e.tag).startswith(f"{{{DS}}}")]
    if not elements:
        root.text = TEXTS[pick % len(TEXTS)]
        return
    target = elements[index % len(elements)]
    parent = target.getparent()
    assert parent is not None
    if operation == "delete":
        parent.remove(target)
    elif operation == "duplicate":
        target.addnext(copy.deepcopy(target))
    elif operation == "swap":
        sibling = target.getnext()
        if sibling is not None:
            sibling.addnext(target)
        else:
            parent.insert(0, target)
    elif operation == "text":
        target.text = TEXTS[pick % len(TEXTS)]
    elif operation == "attr":
        target.set("SignatureUniqueID" if pick % 2 else "x", "1")
    else:
        for child in list(target):
            target.remove(child)


@pytest.mark.reference
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    case_index=st.integers(min_value=0, max_value=len(VALID) - 1),
    element_index=st.integers(min_value=0, max_value=400),
    operations=st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(min_value=0, max_value=100)),
        min_size=1,
        max_size=3,
    ),
)
def test_mutated_documents_get_the_same_verdict(
    judges: Judges, case_index: int, element_index: int, operations: list[tuple[str, int]]
) -> None:
    root = parse_xml(VALID[case_index]).getroot()
    for step, (operation, pick) in enumerate(operations):
        _mutate(root, element_index + 11 * step, operation, pick)
    data = etree.tostring(root)
    verdicts = judges.verdicts(data)
    assert verdicts["ours/lxml"] == verdicts["official/lxml"], judges.explain(data)
    assert verdicts["ours/xmlschema"] == verdicts["official/xmlschema"], judges.explain(data)
