"""Interoperability: the real СЕОС sample, signxml and xmlsec1, in both directions."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from signxml.algorithms import CanonicalizationMethod as SxC14n
from signxml.algorithms import DigestAlgorithm as SxDigest
from signxml.algorithms import SignatureConstructionMethod
from signxml.algorithms import SignatureMethod as SxMethod
from signxml.exceptions import InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier

from eintegr.messages.seos import Message
from eintegr.signing import (
    Canonicalization,
    PinnedCertificates,
    SignatureAlgorithm,
    VerificationPolicy,
    check_message_signature,
    sign_document,
    sign_message,
    verify_document,
    verify_message,
)
from eintegr.signing.xmldsig import _c14n_subtree
from tests.signing.helpers import DS, Identity, q, registration_request, run_xmlsec1

SAMPLE_TIME = dt.datetime(2021, 8, 24, 1, 3, tzinfo=dt.timezone(dt.timedelta(hours=3)))


def sample_certificate(sample: bytes) -> x509.Certificate:
    match = re.search(rb"<X509Certificate>([^<]+)</X509Certificate>", sample)
    assert match is not None
    return x509.load_der_x509_certificate(base64.b64decode(match.group(1)))


def sample_policy(sample: bytes, **kwargs: object) -> VerificationPolicy:
    options: dict[str, object] = {"allow_sha1": True, "at": SAMPLE_TIME, **kwargs}
    return VerificationPolicy(
        trust=PinnedCertificates([sample_certificate(sample)]),
        **options,  # type: ignore[arg-type]
    )


def pinned(identity: Identity) -> VerificationPolicy:
    return VerificationPolicy(trust=PinnedCertificates([identity.certificate]))


# --- the real signed message ----------------------------------------------------------------


@pytest.mark.reference
def test_the_real_sample_verifies(seos_signed_sample: bytes) -> None:
    verified = verify_message(seos_signed_sample, sample_policy(seos_signed_sample))
    assert verified.signature_algorithm is SignatureAlgorithm.RSA_SHA1
    assert verified.digest_algorithm == "sha1"
    assert verified.canonicalization is Canonicalization.C14N_1_0
    assert verified.certificate == sample_certificate(seos_signed_sample)
    assert verified.chain == ()  # the official implementation repeats the certificate
    header = verified.message.header
    assert str(header.message_guid).lower() == "{f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}"
    assert verified.message == Message.from_xml(verified.signed_xml)


@pytest.mark.reference
def test_the_real_sample_by_issuer_and_serial(seos_signed_sample: bytes) -> None:
    certificate = sample_certificate(seos_signed_sample)
    dotnet_issuer = (  # as .NET prints it in X509IssuerName
        "C=BG, L=Sofia, O=Information Services JSC, OID.2.5.4.97=NTRBG-831641791, "
        "CN=StampIT eDoc Exchange CA"
    )
    policy = VerificationPolicy(
        trust=PinnedCertificates(
            issuer_serials=[(dotnet_issuer, f"{certificate.serial_number:x}")]
        ),
        allow_sha1=True,
        at=SAMPLE_TIME,
    )
    assert verify_message(seos_signed_sample, policy).certificate == certificate


@pytest.mark.reference
@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"allow_sha1": False}, "SIG-ALGORITHM"),
        ({"at": None}, "SIG-CERT-EXPIRED"),  # the certificate expired in 2024
        ({"at": dt.datetime(2021, 8, 1, tzinfo=dt.UTC)}, "SIG-CERT-EXPIRED"),
    ],
)
def test_the_real_sample_under_stricter_policies(
    seos_signed_sample: bytes, options: dict[str, object], code: str
) -> None:
    report = check_message_signature(
        seos_signed_sample, sample_policy(seos_signed_sample, **options)
    )
    assert report.code == code


@pytest.mark.reference
def test_the_real_sample_with_validity_checks_off(seos_signed_sample: bytes) -> None:
    policy = sample_policy(seos_signed_sample, at=None, check_validity=False)
    assert verify_message(seos_signed_sample, policy)


@pytest.mark.reference
def test_lxml_subtree_c14n_quirk_is_avoided(seos_signed_sample: bytes) -> None:
    """lxml emits a spurious xmlns="" canonicalizing SignedInfo in place; we must not."""
    root = etree.fromstring(seos_signed_sample)
    signed_info = root[-1][0]
    assert b' xmlns=""' in etree.tostring(signed_info, method="c14n")  # the quirk exists
    ours = _c14n_subtree(signed_info, Canonicalization.C14N_1_0)
    assert b' xmlns=""' not in ours
    # inclusive C14N renders every in-scope namespace on the apex
    assert ours.startswith(
        b'<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#" '
        b'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    )


def _shape(node: etree._Element) -> list[tuple[str, str | None, tuple[str, ...]]]:
    return [
        (etree.QName(n).localname, n.prefix, tuple(sorted(str(k) for k in n.attrib)))
        for n in node.iter()
        if isinstance(n.tag, str)
    ]


@pytest.mark.reference
def test_our_signature_has_the_shape_the_state_implementation_writes(
    seos_signed_sample: bytes, transport: Identity
) -> None:
    """The deployed .NET implementation wrote the sample; ours differs only in algorithms."""
    theirs = etree.fromstring(seos_signed_sample)[-1]
    ours = etree.fromstring(sign_message(registration_request(), transport.signer()))[-1]
    for signature in (ours, theirs):  # <Signature xmlns="…xmldsig#">, no prefix
        assert signature.prefix is None
        assert signature.nsmap[None] == DS
    assert [etree.QName(c).localname for c in ours] == [etree.QName(c).localname for c in theirs]
    assert _shape(ours[0]) == _shape(theirs[0])  # SignedInfo
    assert {n[0] for n in _shape(ours[2])} == {n[0] for n in _shape(theirs[2])}  # KeyInfo
    for path in (
        f"{q('SignedInfo', DS)}/{q('CanonicalizationMethod', DS)}",
        f"{q('SignedInfo', DS)}/{q('Reference', DS)}/{q('Transforms', DS)}/{q('Transform', DS)}",
    ):
        assert [n.get("Algorithm") for n in ours.findall(path)] == [
            n.get("Algorithm") for n in theirs.findall(path)
        ]


def _signed_region(data: bytes) -> tuple[int, int]:
    return data.index(b"<Message"), data.index(b"<Signature")


@pytest.mark.reference
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    position=st.floats(min_value=0, max_value=1, exclude_max=True), replacement=st.integers(0, 61)
)
def test_any_changed_byte_of_the_real_sample_fails(
    seos_signed_sample: bytes, position: float, replacement: int
) -> None:
    start, end = _signed_region(seos_signed_sample)
    candidates = [
        i
        for i in range(start, end)
        if chr(seos_signed_sample[i]).isalnum() and seos_signed_sample[i] < 128
    ]
    index = candidates[int(position * len(candidates))]
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    new = alphabet[replacement]
    if new == seos_signed_sample[index]:
        new = alphabet[(replacement + 1) % len(alphabet)]
    changed = seos_signed_sample[:index] + bytes([new]) + seos_signed_sample[index + 1 :]
    report = check_message_signature(changed, sample_policy(seos_signed_sample))
    assert not report.ok, (index, chr(new))


# --- signxml --------------------------------------------------------------------------------


def signxml_verify(data: bytes, identity: Identity) -> None:
    verifier = XMLVerifier()
    # Our signatures have the .NET form (<Signature xmlns="…xmldsig#"> inside the СЕОС
    # default namespace); signxml canonicalizes SignedInfo with lxml's subtree C14N, which adds
    # a spurious xmlns="" there. Its documented switch removes it (needed for the real
    # СЕОС sample too).
    verifier.excise_empty_xmlns_declarations = True
    result = verifier.verify(
        data,
        x509_cert=identity.cert_pem().decode(),
        expect_config=SignatureConfiguration(location="./"),
    )
    assert isinstance(result, VerifyResult)


@pytest.mark.parametrize(
    "algorithm",
    [
        SignatureAlgorithm.RSA_SHA256,
        SignatureAlgorithm.RSA_SHA512,
        SignatureAlgorithm.RSA_PSS_SHA256,
    ],
)
def test_signxml_verifies_ours(transport: Identity, algorithm: SignatureAlgorithm) -> None:
    signed = sign_message(
        registration_request(pretty=True), transport.signer(), algorithm=algorithm
    )
    signxml_verify(signed, transport)


def test_signxml_verifies_our_ecdsa(ec_transport: Identity) -> None:
    signxml_verify(sign_message(registration_request(), ec_transport.signer()), ec_transport)


def test_signxml_refuses_our_signature_once_changed(transport: Identity) -> None:
    signed = sign_message(registration_request(), transport.signer())
    with pytest.raises(InvalidSignature):
        signxml_verify(signed.replace(b"97-0056", b"97-0057"), transport)


@pytest.mark.parametrize(
    "c14n",
    [
        SxC14n.CANONICAL_XML_1_0,
        SxC14n.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        SxC14n.CANONICAL_XML_1_1,
    ],
)
@pytest.mark.parametrize(
    ("method", "digest"),
    [
        (SxMethod.RSA_SHA256, SxDigest.SHA256),
        (SxMethod.RSA_SHA384, SxDigest.SHA384),
        (SxMethod.SHA256_RSA_MGF1, SxDigest.SHA512),
    ],
)
def test_ours_verifies_signxml(
    transport: Identity, c14n: SxC14n, method: SxMethod, digest: SxDigest
) -> None:
    root = etree.fromstring(registration_request(pretty=True))
    signed = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=digest,
        c14n_algorithm=c14n,
    ).sign(root, key=transport.key_pem(), cert=transport.cert_pem().decode())
    verified = verify_message(etree.tostring(signed), pinned(transport))
    assert verified.signature_algorithm.uri == method.value
    assert verified.digest_algorithm.uri == digest.value
    assert verified.canonicalization.uri == c14n.value


def test_ours_verifies_signxml_ecdsa(ec_transport: Identity) -> None:
    root = etree.fromstring(registration_request())
    signed = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SxMethod.ECDSA_SHA256,
        digest_algorithm=SxDigest.SHA256,
        c14n_algorithm=SxC14n.CANONICAL_XML_1_0,
    ).sign(root, key=ec_transport.key_pem(), cert=ec_transport.cert_pem().decode())
    verified = verify_message(etree.tostring(signed), pinned(ec_transport))
    assert verified.signature_algorithm is SignatureAlgorithm.ECDSA_SHA256


class LegacySigner(XMLSigner):
    """signxml refuses SHA-1 by default; old СЕОС deployments still send it."""

    def check_deprecated_methods(self) -> None:
        pass


def test_signxml_sha1_needs_the_opt_in(transport: Identity) -> None:
    root = etree.fromstring(registration_request())
    signed = etree.tostring(
        LegacySigner(
            method=SignatureConstructionMethod.enveloped,
            signature_algorithm=SxMethod.RSA_SHA1,
            digest_algorithm=SxDigest.SHA1,
            c14n_algorithm=SxC14n.CANONICAL_XML_1_0,
        ).sign(root, key=transport.key_pem(), cert=transport.cert_pem().decode())
    )
    assert check_message_signature(signed, pinned(transport)).code == "SIG-ALGORITHM"
    opted_in = VerificationPolicy(
        trust=PinnedCertificates([transport.certificate]), allow_sha1=True
    )
    assert verify_message(signed, opted_in).signature_algorithm is SignatureAlgorithm.RSA_SHA1


# --- xmlsec1 --------------------------------------------------------------------------------


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def xmlsec1_verify(
    tmp_path: Path, data: bytes, root_ca: Identity, *, node_xpath: str | None = None
) -> tuple[bool, str]:
    ca = _write(tmp_path, "ca.pem", root_ca.cert_pem())
    signed = _write(tmp_path, "signed.xml", data)
    extra = ["--node-xpath", node_xpath] if node_xpath else []
    result = run_xmlsec1("--verify", "--trusted-pem", ca, *extra, signed)
    return result.returncode == 0, result.stderr + result.stdout


MESSAGE_SIGNATURE = "/*/*[local-name()='Signature']"


@pytest.mark.parametrize(
    "algorithm",
    [SignatureAlgorithm.RSA_SHA256, SignatureAlgorithm.RSA_SHA384, SignatureAlgorithm.RSA_SHA512],
)
def test_xmlsec1_verifies_ours(
    tmp_path: Path, root_ca: Identity, transport: Identity, algorithm: SignatureAlgorithm
) -> None:
    signed = sign_message(
        registration_request(pretty=True), transport.signer(), algorithm=algorithm
    )
    ok, output = xmlsec1_verify(tmp_path, signed, root_ca)
    assert ok, output
    changed = signed.replace(b"97-0056", b"97-0057")
    ok, _ = xmlsec1_verify(tmp_path, changed, root_ca)
    assert not ok


def test_xmlsec1_verifies_our_ecdsa(
    tmp_path: Path, root_ca: Identity, ec_transport: Identity
) -> None:
    ok, output = xmlsec1_verify(
        tmp_path, sign_message(registration_request(), ec_transport.signer()), root_ca
    )
    assert ok, output


def test_xmlsec1_verifies_our_chain(
    tmp_path: Path, root_ca: Identity, chained_transport: Identity
) -> None:
    signed = sign_message(registration_request(), chained_transport.signer(), include_chain=True)
    ok, output = xmlsec1_verify(tmp_path, signed, root_ca)
    assert ok, output


def test_xmlsec1_verifies_our_document_and_message_signatures(
    tmp_path: Path, root_ca: Identity, transport: Identity, other_transport: Identity
) -> None:
    signed = sign_message(
        sign_document(registration_request(pretty=True), other_transport.signer()),
        transport.signer(),
    )
    ok, output = xmlsec1_verify(  # the first signature in document order: the document's
        tmp_path,
        signed,
        root_ca,
        node_xpath="//*[local-name()='Document']/*[local-name()='Signature']",
    )
    assert ok, output
    ok, output = xmlsec1_verify(tmp_path, signed, root_ca, node_xpath=MESSAGE_SIGNATURE)
    assert ok, output
    # a changed header breaks the message signature only
    changed = signed.replace(b"<Version>1.0</Version>", b"<Version>1</Version>")
    assert not xmlsec1_verify(tmp_path, changed, root_ca, node_xpath=MESSAGE_SIGNATURE)[0]
    assert xmlsec1_verify(tmp_path, changed, root_ca)[0]


_XPATH_TRANSFORM = (
    '<Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116">'
    '<XPath xmlns:e="http://schemas.egov.bg/messaging/v1">ancestor-or-self::e:Document</XPath>'
    "</Transform>\n        "
)


def _template(
    c14n: str, method: str, digest: str, *, xpath: bool = False, reference_c14n: str = ""
) -> str:
    """An xmlsec1 signature template (pretty-printed, so whitespace surrounds it)."""
    return f"""
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
  <SignedInfo>
    <CanonicalizationMethod Algorithm="{c14n}"/>
    <SignatureMethod Algorithm="{method}"/>
    <Reference URI="">
      <Transforms>
        {_XPATH_TRANSFORM if xpath else ""}<Transform Algorithm="{DS}enveloped-signature"/>
        {f'<Transform Algorithm="{reference_c14n}"/>' if reference_c14n else ""}
      </Transforms>
      <DigestMethod Algorithm="{digest}"/>
      <DigestValue/>
    </Reference>
  </SignedInfo>
  <SignatureValue/>
  <KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo>
</Signature>
"""


def xmlsec1_sign(tmp_path: Path, template: bytes, identity: Identity) -> bytes:
    key = _write(tmp_path, "key.pem", identity.key_pem())
    cert = _write(tmp_path, "cert.pem", identity.cert_pem())
    source = _write(tmp_path, "template.xml", template)
    output = tmp_path / "out.xml"
    result = run_xmlsec1("--sign", "--privkey-pem", f"{key},{cert}", "--output", output, source)
    assert result.returncode == 0, result.stderr
    return output.read_bytes()


@pytest.mark.parametrize(
    "c14n", [Canonicalization.C14N_1_0, Canonicalization.EXCLUSIVE, Canonicalization.C14N_1_1]
)
@pytest.mark.parametrize(
    "algorithm",
    [SignatureAlgorithm.RSA_SHA256, SignatureAlgorithm.RSA_SHA512, SignatureAlgorithm.ECDSA_SHA256],
)
def test_ours_verifies_xmlsec1(
    tmp_path: Path,
    transport: Identity,
    ec_transport: Identity,
    c14n: Canonicalization,
    algorithm: SignatureAlgorithm,
) -> None:
    identity = ec_transport if algorithm.key_type == "ec" else transport
    message = registration_request(pretty=True).decode()
    signature = _template(c14n.uri, algorithm.uri, algorithm.digest.uri)
    template = message.replace("</Message>", signature + "</Message>").encode()
    signed = xmlsec1_sign(tmp_path, template, identity)
    verified = verify_message(signed, pinned(identity))
    assert verified.canonicalization is c14n
    assert verified.signature_algorithm is algorithm
    assert check_message_signature(
        signed.replace(b"97-0056", b"97-0057"), pinned(identity)
    ).code == ("SIG-DIGEST")


@pytest.mark.parametrize("c14n", [Canonicalization.C14N_1_0, Canonicalization.EXCLUSIVE])
def test_ours_verifies_an_xmlsec1_document_signature(
    tmp_path: Path, transport: Identity, c14n: Canonicalization
) -> None:
    message = registration_request(pretty=True).decode()
    signature = _template(
        c14n.uri,
        SignatureAlgorithm.RSA_SHA256.uri,
        SignatureAlgorithm.RSA_SHA256.digest.uri,
        xpath=True,
        reference_c14n=c14n.uri if c14n is Canonicalization.EXCLUSIVE else "",
    )
    template = message.replace("</Document>", signature + "</Document>").encode()
    signed = xmlsec1_sign(tmp_path, template, transport)
    verified = verify_document(signed, pinned(transport))
    assert verified.document.kind == "Писмо"
    assert verified.canonicalization is c14n
    if c14n is Canonicalization.EXCLUSIVE:  # only the namespaces Document uses
        assert b"xmlns:xsi" not in verified.signed_xml
    # ...and the message signed on top of it by us still lets both verify
    both = sign_message(signed, transport.signer())
    verify_document(both, pinned(transport))
    verify_message(both, pinned(transport))


def test_xmlsec1_p384(tmp_path: Path, root_ca: Identity) -> None:
    from tests.signing.helpers import make_transport

    identity = make_transport(root_ca, "p384.bg", key=ec.generate_private_key(ec.SECP384R1()))
    signed = sign_message(registration_request(), identity.signer())
    ok, output = xmlsec1_verify(tmp_path, signed, root_ca)
    assert ok, output
    assert verify_message(signed, pinned(identity)).signature_algorithm is (
        SignatureAlgorithm.ECDSA_SHA384
    )


def test_keyinfo_hint_elements_are_ignored(transport: Identity) -> None:
    """X509IssuerSerial / KeyName are unsigned hints: never used, never harmful."""
    signed = sign_message(registration_request(), transport.signer())
    root = etree.fromstring(signed)
    x509_data = root.find(f".//{q('X509Data', DS)}")
    assert x509_data is not None
    hint = etree.SubElement(x509_data, q("X509IssuerSerial", DS))
    etree.SubElement(hint, q("X509IssuerName", DS)).text = "CN=Someone Else"
    etree.SubElement(hint, q("X509SerialNumber", DS)).text = "1"
    x509_data.insert(0, hint)
    assert verify_message(etree.tostring(root), pinned(transport))
