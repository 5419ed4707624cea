"""Benchmark: eintegr's СЕОС XMLDSig sign / verify against raw signxml on the same messages.

Both sides sign the same message bytes with the same RSA-2048 key (RSA-SHA256, SHA-256,
inclusive C14N 1.0, enveloped, certificate in KeyInfo) and verify the same signed bytes
against the same certificate. eintegr does more: hardened parsing, the exact-place and
structure checks, and every policy check (algorithms, key size, validity, key usage, pinned
trust). The model of a verified message is built on first use; the "verify + model" row
prices it against signxml followed by the same model binding.

    python benchmarks/signing.py            # full run
    python benchmarks/signing.py --quick    # a few iterations, to prove it works (CI)

Target (issue: signing, item 7): eintegr ≥ 1.0× signxml for sign and for verify, on a small
message and with a 1 MiB attachment.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from eintegr.messages.seos import Message
from eintegr.signing import (
    KeySigner,
    PinnedCertificates,
    VerificationPolicy,
    sign_message,
    verify_message,
)

NS = "http://schemas.egov.bg/messaging/v1"


def message(attachment_bytes: int) -> bytes:
    """A СЕОС registration request with one attachment of the given size."""
    body = base64.b64encode(os.urandom(attachment_bytes)).decode() if attachment_bytes else "AA=="
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Message xmlns="{NS}"><Header><Version>1.0</Version>
<MessageType>MSG_DocumentRegistrationRequest</MessageType>
<MessageDate>2024-03-01T10:15:00+02:00</MessageDate>
<Sender><Identifier>000695089</Identifier><AdministrativeBodyName>Областна администрация</AdministrativeBodyName><GUID>{{6f2d1c1e-3a44-4c61-9d0b-1a2b3c4d5e6f}}</GUID></Sender>
<Recipient><Identifier>175057660</Identifier><AdministrativeBodyName>Община</AdministrativeBodyName><GUID>{{0b4e8f9a-7c21-4d3e-8a5f-6b7c8d9e0f1a}}</GUID></Recipient>
<MessageGUID>{{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}}</MessageGUID></Header>
<Body><DocumentRegistrationRequest><Document>
<DocID><DocumentNumber><DocNumber>РД-01-15</DocNumber><DocDate>2024-02-28</DocDate></DocumentNumber><DocumentGUID>{{11111111-2222-4333-8444-555555555555}}</DocumentGUID></DocID>
<DocKind>Писмо</DocKind>
<DocAttachmentList><Attachment><AttFileName>letter.pdf</AttFileName><AttBody>{body}</AttBody><AttMIMEType>application/pdf</AttMIMEType></Attachment></DocAttachmentList>
<DocAbout>Относно проверка</DocAbout></Document><Comment>Моля за регистриране</Comment></DocumentRegistrationRequest></Body></Message>""".encode()


def transport_certificate() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """An RSA-2048 self-signed transport certificate (subject ``ST=B:<ЕИК>``, CN = host)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BG"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "B:000695089"),
            x509.NameAttribute(NameOID.COMMON_NAME, "seos.benchmark.bg"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def rate(func: Callable[[], object], seconds: float) -> float:
    """Calls per second: the median of five timed batches sized to fill ``seconds``."""
    func()
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < seconds / 10 or calls < 1:
        func()
        calls += 1
    rates = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(calls):
            func()
        rates.append(calls / (time.perf_counter() - t0))
    return statistics.median(rates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few iterations (CI smoke run)")
    args = parser.parse_args(argv)
    seconds = 0.05 if args.quick else 1.5

    key, certificate = transport_certificate()
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    signer = KeySigner(key, certificate)
    policy = VerificationPolicy(trust=PinnedCertificates([certificate]))  # every check on
    sx_signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    sx_verifier = XMLVerifier()
    # our output has the .NET form; signxml's lxml subtree C14N needs this switch for it
    sx_verifier.excise_empty_xmlns_declarations = True
    sx_config = SignatureConfiguration(location="./")

    failures = 0
    print(f"{'case':<32}{'eintegr/s':>12}{'signxml/s':>12}{'ratio':>9}")
    for label, size in (("small", 0), ("1 MiB attachment", 1024 * 1024)):
        data = message(size)
        signed = sign_message(data, signer)

        def ours_sign(data: bytes = data) -> bytes:
            return sign_message(data, signer)

        def signxml_sign(data: bytes = data) -> bytes:
            root = sx_signer.sign(etree.fromstring(data), key=key, cert=cert_pem)
            return etree.tostring(root, xml_declaration=True, encoding="utf-8")

        def ours_verify(signed: bytes = signed) -> object:
            return verify_message(signed, policy)

        def signxml_verify(signed: bytes = signed) -> object:
            return sx_verifier.verify(signed, x509_cert=cert_pem, expect_config=sx_config)

        def ours_model(signed: bytes = signed) -> Message:
            return verify_message(signed, policy).message

        def signxml_model(signed: bytes = signed) -> Message:
            result = sx_verifier.verify(signed, x509_cert=cert_pem, expect_config=sx_config)
            assert not isinstance(result, list)
            assert result.signed_xml is not None
            return Message.from_tree(result.signed_xml)

        # both sides accept what the other produced, and agree on what was signed
        signxml_verify()
        verify_message(signxml_sign(), policy)
        assert ours_model() == signxml_model()

        for operation, ours, theirs, target in (
            ("sign", ours_sign, signxml_sign, 1.0),
            ("verify", ours_verify, signxml_verify, 1.0),
            ("verify + model", ours_model, signxml_model, None),
        ):
            mine, base = rate(ours, seconds), rate(theirs, seconds)
            ratio = mine / base
            verdict = ""
            if target is not None:
                met = ratio >= target
                failures += not met
                verdict = f"  target ≥{target}×: {'met' if met else 'MISSED'}"
            print(f"{label + ' ' + operation:<32}{mine:>12.1f}{base:>12.1f}{ratio:>8.2f}×{verdict}")
    if args.quick:
        return 0  # smoke run: timings on a busy CI machine prove nothing
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
