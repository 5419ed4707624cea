"""Benchmark: ``eintegr.validate`` against raw lxml XMLSchema and the xmlschema library.

All three check the same messages against the same schema (eintegr's own XSDs), measured
in the same run. eintegr does more than the baselines (hardened parsing with limits, the
DOCTYPE refusal, the СЕОС rules, a structured report), so the ratios price that work.

    python benchmarks/validate.py            # full run
    python benchmarks/validate.py --quick    # a few iterations, to prove it works (CI)

Targets (issue #2): eintegr ≥ 0.5× raw lxml on small messages, ≥ 0.8× with a 1 MiB
attachment, and ≥ 10× xmlschema.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
from collections.abc import Callable

import xmlschema
from lxml import etree

from eintegr.schemas import SEOS_NS, SchemaCatalogue, seos_schema
from eintegr.validation import validate

NS = "http://schemas.egov.bg/messaging/v1"


def message(attachment_bytes: int) -> bytes:
    """A СЕОС registration request with one attachment of the given size."""
    body = base64.b64encode(os.urandom(attachment_bytes)).decode() if attachment_bytes else "AA=="
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Message xmlns="{NS}"><Header><Version>1.0</Version>
<MessageType>MSG_DocumentRegistrationRequest</MessageType>
<MessageDate>2024-03-01T10:15:00+02:00</MessageDate>
<Sender><Identifier>000695089</Identifier><AdministrativeBodyName>Областна администрация – Русе</AdministrativeBodyName><GUID>{{6f2d1c1e-3a44-4c61-9d0b-1a2b3c4d5e6f}}</GUID></Sender>
<Recipient><Identifier>175057660</Identifier><AdministrativeBodyName>Община Русе</AdministrativeBodyName><GUID>{{0b4e8f9a-7c21-4d3e-8a5f-6b7c8d9e0f1a}}</GUID></Recipient>
<MessageGUID>{{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}}</MessageGUID></Header>
<Body><DocumentRegistrationRequest><Document>
<DocID><DocumentNumber><DocNumber>РД-01-15</DocNumber><DocDate>2024-02-28</DocDate></DocumentNumber><DocumentGUID>{{11111111-2222-4333-8444-555555555555}}</DocumentGUID></DocID>
<DocKind>Писмо</DocKind>
<DocCorrespondentList><Corespondent><CorName>Иван Петров</CorName><CorCity>Русе</CorCity><CorEGN>7508150013</CorEGN></Corespondent></DocCorrespondentList>
<DocAttachmentList><Attachment><AttFileName>letter.pdf</AttFileName><AttBody>{body}</AttBody><AttMIMEType>application/pdf</AttMIMEType></Attachment></DocAttachmentList>
<DocAbout>Относно проверка</DocAbout></Document><Comment>Моля за регистриране</Comment></DocumentRegistrationRequest></Body></Message>""".encode()


def rate(func: Callable[[], object], seconds: float) -> float:
    """Calls per second: the median of five timed batches sized to fill ``seconds``."""
    func()
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < seconds / 10 or calls < 1:
        func()
        calls += 1
    batch = max(1, calls)
    rates = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(batch):
            func()
        rates.append(batch / (time.perf_counter() - t0))
    return statistics.median(rates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few iterations (CI smoke run)")
    args = parser.parse_args(argv)
    seconds = 0.05 if args.quick else 1.5

    schema = seos_schema()
    lxml_parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    # xmlschema reads the very same files (ours import their siblings with schemaLocation).
    xs = xmlschema.XMLSchema(str(SchemaCatalogue.builtin().location(SEOS_NS)))

    failures = 0
    print(
        f"{'case':<14}{'eintegr/s':>12}{'lxml/s':>12}{'xmlschema/s':>13}"
        f"{'vs lxml':>10}{'vs xmlschema':>14}"
    )
    for label, size, lxml_target in (("small", 0, 0.5), ("1 MiB attach", 1024 * 1024, 0.8)):
        data = message(size)
        assert validate(data).ok, "benchmark message must be valid"

        def raw_lxml(data: bytes = data) -> bool:
            return schema.validate(etree.fromstring(data, lxml_parser))

        ours = rate(lambda data=data: validate(data), seconds)  # type: ignore[misc]
        base = rate(raw_lxml, seconds)
        other = rate(lambda data=data: xs.is_valid(data), seconds)  # type: ignore[misc]
        vs_lxml, vs_xs = ours / base, ours / other
        ok = vs_lxml >= lxml_target and vs_xs >= 10
        failures += not ok
        print(
            f"{label:<14}{ours:>12.0f}{base:>12.0f}{other:>13.1f}"
            f"{vs_lxml:>9.2f}×{vs_xs:>13.1f}×  target ≥{lxml_target}× lxml, ≥10× xmlschema:"
            f" {'met' if ok else 'MISSED'}"
        )
    if args.quick:
        return 0  # smoke run: timings on a busy CI machine prove nothing
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
