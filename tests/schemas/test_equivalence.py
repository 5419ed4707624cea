"""eintegr's own СЕОС XSDs accept and reject exactly what the official schema set does.

Every document is judged four times: our XSDs and the official ones, each with lxml (libxml2)
and with the ``xmlschema`` library. The official schemas are loaded independently of
eintegr's catalogue for ``xmlschema`` (an explicit namespace → file map).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from eintegr.schemas import SEOS_NS, SchemaCatalogue, seos_schema
from eintegr.xml import parse_xml

from .corpus import SEOS, Case, corpus, valid_cases

pytestmark = pytest.mark.reference

# The official folder's files, named independently of eintegr's catalogue.
OFFICIAL_FILES = {
    "http://www.w3.org/2000/09/xmldsig#": "xmldsig-core-schema.xsd",
    "http://ereg.egov.bg/segment/0009-000001": "0009-000001_DocumentURI.xsd",
    "http://ereg.egov.bg/value/0008-000001": "0008-000001_BatchNumber.xsd",
    "http://ereg.egov.bg/value/0008-000002": "0008-000002_RegisterIndex.xsd",
    "http://ereg.egov.bg/value/0008-000003": "0008-000003_DocumentSequenceNumber.xsd",
    "http://ereg.egov.bg/value/0008-000004": "0008-000004_DocumentReceiptOrSigningDate.xsd",
}

CORPUS = corpus()


@dataclass(frozen=True)
class Judges:
    ours_lxml: etree.XMLSchema
    official_lxml: etree.XMLSchema
    ours_xs: Any
    official_xs: Any

    def verdicts(self, data: bytes) -> dict[str, bool]:
        tree = parse_xml(data)
        return {
            "ours/lxml": self.ours_lxml.validate(tree),
            "official/lxml": self.official_lxml.validate(tree),
            "ours/xmlschema": bool(self.ours_xs.is_valid(tree)),
            "official/xmlschema": bool(self.official_xs.is_valid(tree)),
        }

    def explain(self, data: bytes) -> str:
        tree = parse_xml(data)
        lines = []
        for name, schema in (("ours", self.ours_lxml), ("official", self.official_lxml)):
            schema.validate(tree)
            lines.append(f"{name}/lxml: {[e.message for e in schema.error_log][:3]}")
        for name, xs in (("ours", self.ours_xs), ("official", self.official_xs)):
            error = next(iter(xs.iter_errors(tree)), None)
            lines.append(f"{name}/xmlschema: {getattr(error, 'reason', None)}")
        return "\n".join(lines)


@pytest.fixture(scope="module")
def judges(seos_official_schemas: Path) -> Judges:
    official_main = seos_official_schemas / "EGovMessaging.xsd"
    locations = [(ns, str(seos_official_schemas / name)) for ns, name in OFFICIAL_FILES.items()]
    ours_main = SchemaCatalogue.builtin().location(SEOS_NS)
    return Judges(
        ours_lxml=seos_schema(),
        official_lxml=seos_schema(seos_official_schemas),
        # our files import their siblings by schemaLocation: no map needed
        ours_xs=xmlschema.XMLSchema(str(ours_main), allow="local"),
        official_xs=xmlschema.XMLSchema(str(official_main), locations=locations, allow="local"),
    )


def test_corpus_is_large_and_balanced() -> None:
    valid = [c for c in CORPUS if c.valid]
    invalid = [c for c in CORPUS if not c.valid]
    assert len(CORPUS) >= 60
    assert len(valid) >= 30
    assert len(invalid) >= 30
    bodies = {
        etree.QName(parse_xml(c.xml).getroot()[1][0]).localname
        for c in valid
        if etree.QName(parse_xml(c.xml).getroot()).localname == "Message"
    }
    assert bodies == {
        "DocumentRegistrationRequest",
        "DocumentStatusRequest",
        "DocumentStatusResponse",
        "Error",
    }


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_corpus_verdicts_agree(judges: Judges, case: Case) -> None:
    verdicts = judges.verdicts(case.xml)
    expected = {key: case.valid != (key.split("/")[1] in case.quirks) for key in verdicts}
    assert verdicts == expected, judges.explain(case.xml)


def test_real_signed_sample_is_valid_everywhere(judges: Judges, seos_signed_sample: bytes) -> None:
    verdicts = judges.verdicts(seos_signed_sample)
    assert all(verdicts.values()), judges.explain(seos_signed_sample)


# --- mutations ----------------------------------------------------------------------------------

VALID = list(valid_cases())
SEOS_NAMES = [
    "Header", "Body", "Version", "MessageType", "DocID", "DocumentGUID", "DocKind", "Comment",
    "Corespondent", "CorName", "Attachment", "AttBody", "DocRegStatus", "ErrorType", "GUID",
]  # fmt: skip
TEXTS = [
    "", " ", "0", "-1", "1", "1.0", "x y", "AAAA", "AAA", "{00000000-0000-0000-0000-000000000000}",
    "DS_CLOSED", "ERR_INTERNAL", "Corr_Other", "MSG_Error", "2024-02-29", "2024-02-30",
    "2024-05-01T10:00:00Z", "99999999999999999999",
]  # fmt: skip
OPERATIONS = ["delete", "duplicate", "swap", "to-parent-end", "rename", "text", "tail", "attr"]


def _mutate(root: etree._Element, index: int, operation: str, pick: int) -> None:
    elements = [el for el in root.iter() if isinstance(el.tag, str)][1:]
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
    elif operation == "to-parent-end":
        grandparent = parent.getparent()
        (grandparent if grandparent is not None else parent).append(target)
    elif operation == "rename":
        target.tag = f"{{{SEOS}}}{SEOS_NAMES[pick % len(SEOS_NAMES)]}"
    elif operation == "text":
        target.text = TEXTS[pick % len(TEXTS)]
    elif operation == "tail":
        target.tail = TEXTS[pick % len(TEXTS)] or "t"
    else:
        target.set("Id" if pick % 2 else "extra", f"id{pick % 3}")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    case_index=st.integers(min_value=0, max_value=len(VALID) - 1),
    element_index=st.integers(min_value=0, max_value=500),
    operations=st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(min_value=0, max_value=100)),
        min_size=1,
        max_size=3,
    ),
)
def test_mutated_messages_get_the_same_verdict(
    judges: Judges, case_index: int, element_index: int, operations: list[tuple[str, int]]
) -> None:
    root = parse_xml(VALID[case_index].xml).getroot()
    for step, (operation, pick) in enumerate(operations):
        _mutate(root, element_index + 7 * step, operation, pick)
    data = etree.tostring(root)
    verdicts = judges.verdicts(data)
    assert verdicts["ours/lxml"] == verdicts["official/lxml"], judges.explain(data)
    assert verdicts["ours/xmlschema"] == verdicts["official/xmlschema"], judges.explain(data)
