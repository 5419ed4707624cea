"""XAdES-B-B: sign at an exact place, verify strictly, interoperate with signxml."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from signxml.xades.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from eintegr.errors import SigningError, VerificationError
from eintegr.signing.pki import (
    OID_QC_COMPLIANCE,
    OID_QC_SSCD,
    OID_QCP_NATURAL_QSCD,
    Issued,
    make_ca,
    make_signing_certificate,
    make_transport_certificate,
)
from eintegr.signing.policy import VerificationPolicy
from eintegr.signing.signer import SignatureAlgorithm, Signer
from eintegr.signing.trust import CertificateAuthorities, PinnedCertificates
from eintegr.signing.xades import (
    SIGNING_CERT,
    SIGNING_TIME,
    XADES_FAILURE_CODES,
    XADES_NS,
    sign_xades,
    verify_xades,
)
from eintegr.xml import parse_xml

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS, "xades": XADES_NS, "a": "urn:example:application", "d": "urn:example:data"}
FOOTER = "/a:Application/d:Footer/d:XMLDigitalSignature"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

DOCUMENT = """<?xml version="1.0" encoding="utf-8"?>
<!-- a comment before the root -->
<a:Application xmlns:a="urn:example:application" xmlns="urn:example:data">
  <Header><Service>Издаване на удостоверение</Service></Header>
  <Applicant egn="7501010010">Иван Петров &amp; сие</Applicant>
  <Footer>
    <XMLDigitalSignature/>
  </Footer>
</a:Application>
""".encode()

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca()


@pytest.fixture(scope="module")
def person(ca: Issued) -> Issued:
    return make_signing_certificate(
        ca, common_name="Иван Петров", serial_number="PNOBG-7501010010", qualified=True
    )


@pytest.fixture(scope="module")
def policy(ca: Issued) -> VerificationPolicy:
    return VerificationPolicy(trust=CertificateAuthorities([ca.certificate]))


@pytest.fixture(scope="module")
def signed(person: Issued) -> bytes:
    return sign_xades(DOCUMENT, person.signer(), signing_time=NOW)


def _tree(data: bytes) -> etree._Element:
    return parse_xml(data).getroot()


def _signature(root: etree._Element) -> etree._Element:
    found = root.xpath("//ds:Signature", namespaces=NS)
    assert isinstance(found, list)
    assert len(found) == 1
    element = found[0]
    assert isinstance(element, etree._Element)
    return element


def _one(node: etree._Element, path: str) -> etree._Element:
    found = node.find(path, NS)
    assert found is not None, path
    return found


def _code(data: bytes, policy: VerificationPolicy, **kwargs: object) -> str:
    with pytest.raises(VerificationError) as info:
        verify_xades(data, policy, **kwargs)  # type: ignore[arg-type]
    assert str(info.value)
    assert info.value.message_bg
    return info.value.code


def _c14n(node: etree._Element) -> bytes:
    return etree.tostring(node, method="c14n", exclusive=True, with_comments=False)


def _resign(data: bytes, issued: Issued, mutate: Callable[[etree._Element], None]) -> bytes:
    """Change the signature's SignedProperties, then make the signature valid again.

    This re-implements the digest and signature computation independently of the module, so
    tests can build validly signed documents with deliberately wrong XAdES properties.
    """
    root = _tree(data)
    signature = _signature(root)
    mutate(signature)
    props = _one(signature, "ds:Object/xades:QualifyingProperties/xades:SignedProperties")
    reference = _one(
        signature, "ds:SignedInfo/ds:Reference[@Type='http://uri.etsi.org/01903#SignedProperties']"
    )
    _one(reference, "ds:DigestValue").text = base64.b64encode(
        hashlib.sha256(_c14n(props)).digest()
    ).decode()
    key = issued.key
    assert isinstance(key, rsa.RSAPrivateKey)
    value = key.sign(_c14n(_one(signature, "ds:SignedInfo")), padding.PKCS1v15(), hashes.SHA256())
    _one(signature, "ds:SignatureValue").text = base64.b64encode(value).decode()
    return etree.tostring(root.getroottree())


# --- signing and verifying ---------------------------------------------------------------


def test_round_trip(signed: bytes, person: Issued, policy: VerificationPolicy) -> None:
    result = verify_xades(signed, policy)
    original = parse_xml(DOCUMENT)
    assert result.signed_xml == etree.tostring(
        original, method="c14n", exclusive=True, with_comments=False
    )
    assert etree.tostring(result.document, method="c14n") == result.signed_xml
    assert DS.encode() not in result.signed_xml
    assert result.certificate == person.certificate
    assert result.chain == ()
    assert result.signing_time == NOW
    assert result.signature_algorithm is SignatureAlgorithm.RSA_SHA256
    assert result.digest_algorithm == "http://www.w3.org/2001/04/xmlenc#sha256"
    assert result.canonicalization == EXC_C14N
    assert result.certificate_policies == (OID_QCP_NATURAL_QSCD,)
    assert result.qc_statements == (OID_QC_COMPLIANCE, OID_QC_SSCD)
    assert result.qualified


def test_signature_shape(signed: bytes, person: Issued) -> None:
    root = _tree(signed)
    signature = _signature(root)
    assert root[-1] is signature  # default place: last child of the root
    props = _one(signature, "ds:Object/xades:QualifyingProperties/xades:SignedProperties")
    digest = _one(
        props,
        "xades:SignedSignatureProperties/xades:SigningCertificateV2/xades:Cert/"
        "xades:CertDigest/ds:DigestValue",
    )
    assert base64.b64decode(digest.text or "") == person.certificate.fingerprint(hashes.SHA256())
    signing_time = _one(props, "xades:SignedSignatureProperties/xades:SigningTime")
    assert signing_time.text == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    references = signature.findall("ds:SignedInfo/ds:Reference", NS)
    assert [r.get("URI") for r in references] == ["", f"#{props.get('Id')}"]
    data_format = _one(props, "xades:SignedDataObjectProperties/xades:DataObjectFormat")
    assert data_format.get("ObjectReference") == f"#{references[0].get('Id')}"


def test_plain_certificate_is_not_qualified(ca: Issued, policy: VerificationPolicy) -> None:
    issued = make_signing_certificate(ca, common_name="Plain")
    result = verify_xades(sign_xades(DOCUMENT, issued.signer()), policy)
    assert result.certificate_policies == ()
    assert result.qc_statements == ()
    assert not result.qualified


def test_signature_inside_footer(person: Issued, policy: VerificationPolicy) -> None:
    data = sign_xades(DOCUMENT, person.signer(), place=FOOTER, namespaces=NS)
    root = _tree(data)
    holder = root.xpath(FOOTER, namespaces=NS)
    assert isinstance(holder, list)
    assert isinstance(holder[0], etree._Element)
    assert holder[0][-1] is _signature(root)
    result = verify_xades(data, policy, place=FOOTER, namespaces=NS)
    assert result.document.getroot().tag == "{urn:example:application}Application"
    # looked for anywhere else, the signature is not at its place
    assert _code(data, policy) == "SIG-STRUCTURE"


@pytest.mark.parametrize(
    ("key_type", "algorithm"),
    [
        ("rsa", SignatureAlgorithm.RSA_SHA512),
        ("rsa", SignatureAlgorithm.RSA_PSS_SHA256),
        ("ec", SignatureAlgorithm.ECDSA_SHA256),
        ("ec", SignatureAlgorithm.ECDSA_SHA384),
    ],
)
def test_algorithms(
    ca: Issued, policy: VerificationPolicy, key_type: str, algorithm: SignatureAlgorithm
) -> None:
    issued = make_signing_certificate(ca, common_name="Alg", key_type=key_type)  # type: ignore[arg-type]
    data = sign_xades(DOCUMENT, issued.signer(), algorithm=algorithm)
    assert verify_xades(data, policy).signature_algorithm is algorithm
    narrow = VerificationPolicy(
        trust=policy.trust, allowed_algorithms=frozenset({SignatureAlgorithm.RSA_SHA256})
    )
    assert _code(data, narrow) == "SIG-ALGORITHM"


def test_chain_in_key_info(ca: Issued) -> None:
    intermediate = make_ca("eintegr issuing CA", issuer=ca)
    issued = make_signing_certificate(intermediate, common_name="Chained")
    data = sign_xades(DOCUMENT, issued.signer())
    result = verify_xades(data, VerificationPolicy(trust=CertificateAuthorities([ca.certificate])))
    assert result.certificate == issued.certificate
    assert result.chain == (intermediate.certificate,)


def test_pinned_trust(person: Issued, signed: bytes, ca: Issued) -> None:
    pinned = VerificationPolicy(trust=PinnedCertificates([person.certificate]))
    assert verify_xades(signed, pinned).certificate == person.certificate
    other = make_signing_certificate(ca, common_name="Someone else", key_type="ec")
    assert _code(signed, VerificationPolicy(trust=PinnedCertificates([other.certificate]))) == (
        "П.8"
    )


def test_foreign_ca_is_not_trusted(signed: bytes) -> None:
    foreign = make_ca("another CA")
    policy = VerificationPolicy(trust=CertificateAuthorities([foreign.certificate]))
    assert _code(signed, policy) == "П.8"


def test_comments_outside_the_signed_content(signed: bytes, policy: VerificationPolicy) -> None:
    data = signed.replace(b"<Header>", b"<!-- injected --><Header>")
    result = verify_xades(data, policy)
    assert b"injected" not in result.signed_xml
    assert b"injected" not in etree.tostring(result.document)


# --- interoperability ----------------------------------------------------------------------


def test_signxml_verifies_ours(person: Issued) -> None:
    for place in (None, FOOTER):
        data = sign_xades(DOCUMENT, person.signer(), place=place, namespaces=NS)
        results = XAdESVerifier().verify(
            data,
            x509_cert=person.certificate,
            expect_config=XAdESSignatureConfiguration(expect_references=2),
        )
        assert len(results) == 2


def test_signxml_verifies_our_ecdsa(ca: Issued) -> None:
    issued = make_signing_certificate(ca, common_name="EC", key_type="ec")
    data = sign_xades(DOCUMENT, issued.signer())
    XAdESVerifier().verify(
        data,
        x509_cert=issued.certificate,
        expect_config=XAdESSignatureConfiguration(expect_references=2),
    )


@pytest.mark.parametrize(
    "c14n",
    ["http://www.w3.org/2006/12/xml-c14n11", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"],
)
def test_we_verify_signxml(person: Issued, policy: VerificationPolicy, c14n: str) -> None:
    # signxml adds a third reference, to its own KeyInfo, which is accepted
    signed = XAdESSigner(c14n_algorithm=c14n).sign(
        etree.fromstring(DOCUMENT), key=person.key, cert=[person.certificate]
    )
    result = verify_xades(etree.tostring(signed), policy)
    assert result.certificate == person.certificate
    assert result.canonicalization == c14n


# --- tampering -----------------------------------------------------------------------------


def test_changed_content(signed: bytes, policy: VerificationPolicy) -> None:
    tampered = signed.replace("Иван Петров".encode(), "Петър Иванов".encode())
    assert tampered != signed
    assert _code(tampered, policy) == "SIG-DIGEST"


@settings(max_examples=20, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))))
def test_any_content_change_is_detected(
    signed: bytes, policy: VerificationPolicy, text: str
) -> None:
    root = _tree(signed)
    applicant = _one(root, "d:Applicant")
    before = applicant.text
    applicant.text = text
    data = etree.tostring(root.getroottree())
    if text == before:
        verify_xades(data, policy)
    else:
        assert _code(data, policy) == "SIG-DIGEST"


def test_changed_signed_properties(signed: bytes, policy: VerificationPolicy) -> None:
    earlier = (NOW - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    tampered = signed.replace(NOW.strftime("%Y-%m-%dT%H:%M:%SZ").encode(), earlier.encode())
    assert tampered != signed
    assert _code(tampered, policy) == "SIG-DIGEST"


def test_changed_signature_value(signed: bytes, policy: VerificationPolicy) -> None:
    root = _tree(signed)
    value = _one(_signature(root), "ds:SignatureValue")
    raw = bytearray(base64.b64decode(value.text or ""))
    raw[10] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    assert _code(etree.tostring(root.getroottree()), policy) == "SIG-VALUE"


def test_changed_signed_info(signed: bytes, policy: VerificationPolicy) -> None:
    root = _tree(signed)
    reference = _one(_signature(root), "ds:SignedInfo/ds:Reference")
    reference.set("Id", "changed")
    assert _code(etree.tostring(root.getroottree()), policy) == "SIG-VALUE"


def test_replaced_certificate(signed: bytes, policy: VerificationPolicy, ca: Issued) -> None:
    other = make_signing_certificate(ca, common_name="Mallory")
    root = _tree(signed)
    node = _one(_signature(root), "ds:KeyInfo/ds:X509Data/ds:X509Certificate")
    node.text = base64.b64encode(
        other.certificate.public_bytes(serialization.Encoding.DER)
    ).decode()
    assert _code(etree.tostring(root.getroottree()), policy) == SIGNING_CERT


# --- structure -----------------------------------------------------------------------------


def test_unsigned(policy: VerificationPolicy) -> None:
    assert _code(DOCUMENT, policy) == "П.7"
    assert _code(DOCUMENT, policy, place=FOOTER, namespaces=NS) == "П.7"
    assert _code(DOCUMENT, policy, place="//d:Missing", namespaces=NS) == "П.7"


def _mutated(data: bytes, change: Callable[[etree._Element, etree._Element], None]) -> bytes:
    root = _tree(data)
    change(root, _signature(root))
    return etree.tostring(root.getroottree())


def _append_copy(root: etree._Element, signature: etree._Element) -> None:
    root.append(etree.fromstring(etree.tostring(signature)))


def _append_after(root: etree._Element, signature: etree._Element) -> None:
    root.append(etree.Element("{urn:example:data}After"))


def _move_into_header(root: etree._Element, signature: etree._Element) -> None:
    _one(root, "d:Header").append(signature)


def _extra_reference(root: etree._Element, signature: etree._Element) -> None:
    _one(root, "d:Applicant").set("Id", "applicant")
    signed_info = _one(signature, "ds:SignedInfo")
    copy = etree.fromstring(etree.tostring(_one(signed_info, "ds:Reference[2]")))
    copy.attrib.pop("Type")
    copy.set("URI", "#applicant")
    signed_info.append(copy)


def _by_id_document(root: etree._Element, signature: etree._Element) -> None:
    root.set("Id", "doc")
    _one(signature, "ds:SignedInfo/ds:Reference").set("URI", "#doc")


def _xpath_transform(root: etree._Element, signature: etree._Element) -> None:
    transforms = _one(signature, "ds:SignedInfo/ds:Reference/ds:Transforms")
    transform = etree.SubElement(transforms, f"{{{DS}}}Transform")
    transform.set("Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116")
    etree.SubElement(transform, f"{{{DS}}}XPath").text = "self::node()"


def _duplicate_id(root: etree._Element, signature: etree._Element) -> None:
    props = _one(signature, "ds:Object/xades:QualifyingProperties/xades:SignedProperties")
    decoy = etree.SubElement(_one(root, "d:Header"), "{urn:example:data}Decoy")
    decoy.set("Id", props.get("Id") or "")


def _second_object(root: etree._Element, signature: etree._Element) -> None:
    etree.SubElement(signature, f"{{{DS}}}Object")


def _no_key_info_certificate(root: etree._Element, signature: etree._Element) -> None:
    key_info = _one(signature, "ds:KeyInfo")
    for child in list(key_info):
        key_info.remove(child)
    etree.SubElement(key_info, f"{{{DS}}}KeyName").text = "someone"


def _wrong_target(root: etree._Element, signature: etree._Element) -> None:
    _one(signature, "ds:Object/xades:QualifyingProperties").set("Target", "#elsewhere")


@pytest.mark.parametrize(
    "change",
    [
        _append_copy,
        _append_after,
        _move_into_header,
        _extra_reference,
        _by_id_document,
        _xpath_transform,
        _duplicate_id,
        _second_object,
        _no_key_info_certificate,
        _wrong_target,
    ],
)
def test_structure_refused(
    signed: bytes,
    policy: VerificationPolicy,
    change: Callable[[etree._Element, etree._Element], None],
) -> None:
    assert _code(_mutated(signed, change), policy) == "SIG-STRUCTURE"


def test_hmac_and_unknown_algorithms(signed: bytes, policy: VerificationPolicy) -> None:
    def hmac(root: etree._Element, signature: etree._Element) -> None:
        method = _one(signature, "ds:SignedInfo/ds:SignatureMethod")
        method.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")

    def md5(root: etree._Element, signature: etree._Element) -> None:
        method = _one(signature, "ds:SignedInfo/ds:Reference/ds:DigestMethod")
        method.set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#md5")

    def c14n_with_comments(root: etree._Element, signature: etree._Element) -> None:
        method = _one(signature, "ds:SignedInfo/ds:CanonicalizationMethod")
        method.set("Algorithm", "http://www.w3.org/2001/10/xml-exc-c14n#WithComments")

    for change in (hmac, md5, c14n_with_comments):
        assert _code(_mutated(signed, change), policy) == "SIG-ALGORITHM"


def test_sha1_digest_needs_opt_in(
    signed: bytes, person: Issued, policy: VerificationPolicy
) -> None:
    content = verify_xades(signed, policy).signed_xml
    sha1_uri = "http://www.w3.org/2000/09/xmldsig#sha1"

    def sha1(signature: etree._Element) -> None:
        reference = _one(signature, "ds:SignedInfo/ds:Reference")
        _one(reference, "ds:DigestMethod").set("Algorithm", sha1_uri)
        _one(reference, "ds:DigestValue").text = base64.b64encode(
            hashlib.sha1(content).digest()
        ).decode()

    data = _resign(signed, person, sha1)
    assert _code(data, policy) == "SIG-ALGORITHM"
    opted_in = VerificationPolicy(trust=policy.trust, allow_sha1=True)
    assert verify_xades(data, opted_in).digest_algorithm == sha1_uri
    # switching the algorithm without re-signing breaks the signature value
    unsigned_switch = _mutated(signed, lambda root, sig: sha1(sig))
    assert _code(unsigned_switch, opted_in) == "SIG-VALUE"


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
        b"<a><b></a>",
        b"",
    ],
)
def test_refused_xml(policy: VerificationPolicy, data: bytes) -> None:
    assert _code(data, policy) == "SIG-XML"


# --- XAdES properties ----------------------------------------------------------------------


def _remove(path: str) -> Callable[[etree._Element], None]:
    def change(signature: etree._Element) -> None:
        element = _one(signature, path)
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return change


_SSP = "ds:Object/xades:QualifyingProperties/xades:SignedProperties/xades:SignedSignatureProperties"


def _set_text(path: str, text: str) -> Callable[[etree._Element], None]:
    def change(signature: etree._Element) -> None:
        _one(signature, path).text = text

    return change


def test_resign_helper_is_faithful(
    signed: bytes, person: Issued, policy: VerificationPolicy
) -> None:
    verify_xades(_resign(signed, person, lambda signature: None), policy)


@pytest.mark.parametrize(
    "change",
    [
        _remove(f"{_SSP}/xades:SigningTime"),
        _set_text(f"{_SSP}/xades:SigningTime", "2025-01-01T10:00:00"),  # no time zone
        _set_text(f"{_SSP}/xades:SigningTime", "yesterday"),
        _set_text(f"{_SSP}/xades:SigningTime", "2000-01-01T10:00:00Z"),  # before validity
    ],
)
def test_signing_time_refused(
    signed: bytes,
    person: Issued,
    policy: VerificationPolicy,
    change: Callable[[etree._Element], None],
) -> None:
    assert _code(_resign(signed, person, change), policy) == SIGNING_TIME


def test_signing_time_in_the_future(person: Issued, policy: VerificationPolicy) -> None:
    future = sign_xades(DOCUMENT, person.signer(), signing_time=NOW + dt.timedelta(hours=1))
    assert _code(future, policy) == SIGNING_TIME
    later = VerificationPolicy(trust=policy.trust, at=NOW + dt.timedelta(hours=2))
    assert verify_xades(future, later).signing_time == NOW + dt.timedelta(hours=1)
    within_skew = sign_xades(
        DOCUMENT, person.signer(), signing_time=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    )
    verify_xades(within_skew, policy)


def test_signing_time_with_offset(person: Issued, policy: VerificationPolicy) -> None:
    sofia = dt.timezone(dt.timedelta(hours=3))
    data = _resign(
        sign_xades(DOCUMENT, person.signer()),
        person,
        _set_text(f"{_SSP}/xades:SigningTime", NOW.astimezone(sofia).isoformat()),
    )
    assert verify_xades(data, policy).signing_time == NOW


def test_signing_certificate_refused(
    signed: bytes, person: Issued, policy: VerificationPolicy, ca: Issued
) -> None:
    assert (
        _code(_resign(signed, person, _remove(f"{_SSP}/xades:SigningCertificateV2")), policy)
        == SIGNING_CERT
    )
    other = make_signing_certificate(ca, common_name="Other", key_type="ec")
    wrong_digest = _set_text(
        f"{_SSP}/xades:SigningCertificateV2/xades:Cert/xades:CertDigest/ds:DigestValue",
        base64.b64encode(other.certificate.fingerprint(hashes.SHA256())).decode(),
    )
    assert _code(_resign(signed, person, wrong_digest), policy) == SIGNING_CERT

    def add_v1(signature: etree._Element) -> None:
        ssp = _one(signature, _SSP)
        ssp.append(etree.Element(f"{{{XADES_NS}}}SigningCertificate"))

    assert _code(_resign(signed, person, add_v1), policy) == SIGNING_CERT


def test_sha1_certificate_digest(signed: bytes, person: Issued, policy: VerificationPolicy) -> None:
    def sha1(signature: etree._Element) -> None:
        digest = _one(signature, f"{_SSP}/xades:SigningCertificateV2/xades:Cert/xades:CertDigest")
        _one(digest, "ds:DigestMethod").set("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
        _one(digest, "ds:DigestValue").text = base64.b64encode(
            person.certificate.fingerprint(hashes.SHA1())
        ).decode()

    data = _resign(signed, person, sha1)
    assert _code(data, policy) == "SIG-ALGORITHM"
    verify_xades(data, VerificationPolicy(trust=policy.trust, allow_sha1=True))


# --- certificates and keys -----------------------------------------------------------------


def test_expired_certificate() -> None:
    start = NOW - dt.timedelta(days=30)
    ca = make_ca(valid_from=start - dt.timedelta(days=1))
    policy = VerificationPolicy(trust=CertificateAuthorities([ca.certificate]))
    old = make_signing_certificate(ca, common_name="Old", valid_from=start, valid_days=10)
    data = sign_xades(DOCUMENT, old.signer(), signing_time=start + dt.timedelta(days=1))
    assert _code(data, policy) == "SIG-CERT-EXPIRED"
    then = VerificationPolicy(trust=policy.trust, at=start + dt.timedelta(days=2))
    assert verify_xades(data, then).certificate == old.certificate


class _RawSigner(Signer):
    """A minimal Signer over any RSA key (as an HSM adapter would be), no size checks."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self._certificate = certificate

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return SignatureAlgorithm.RSA_SHA256

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), algorithm.hash)


def _certificate(
    ca: Issued, key: rsa.RSAPrivateKey, usage: x509.KeyUsage | None = None
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "custom")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
    )
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    return builder.sign(ca.key, hashes.SHA256())


def test_weak_key(ca: Issued, policy: VerificationPolicy) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    data = sign_xades(DOCUMENT, _RawSigner(key, _certificate(ca, key)))
    assert _code(data, policy) == "SIG-KEY"
    lenient = VerificationPolicy(trust=policy.trust, min_rsa_bits=1024)
    verify_xades(data, lenient)


def test_key_usage_without_signing(ca: Issued, policy: VerificationPolicy) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    data = sign_xades(DOCUMENT, _RawSigner(key, _certificate(ca, key, usage)))
    assert _code(data, policy) == "SIG-CERT-USAGE"


def test_transport_certificate_signs_documents(ca: Issued, policy: VerificationPolicy) -> None:
    transport = make_transport_certificate(ca, eik="000695089", host="seos.example.bg")
    result = verify_xades(sign_xades(DOCUMENT, transport.signer()), policy)
    assert result.certificate == transport.certificate


# --- signing errors ------------------------------------------------------------------------


def test_signing_place_errors(person: Issued, signed: bytes) -> None:
    signer = person.signer()
    for place in ("//d:Nothing", "//d:*"):
        with pytest.raises(SigningError) as info:
            sign_xades(DOCUMENT, signer, place=place, namespaces=NS)
        assert info.value.code == "SIG-PLACE"
    with pytest.raises(SigningError) as info:
        sign_xades(signed, signer)
    assert info.value.code == "SIG-ALREADY-SIGNED"
    with pytest.raises(ValueError, match="XPath"):
        sign_xades(DOCUMENT, signer, place="//[")
    with pytest.raises(ValueError, match="select elements"):
        sign_xades(DOCUMENT, signer, place="//d:Applicant/@egn", namespaces=NS)


def test_signing_refuses_sha1_and_naive_time(person: Issued) -> None:
    with pytest.raises(SigningError) as info:
        sign_xades(DOCUMENT, person.signer(), algorithm=SignatureAlgorithm.RSA_SHA1)
    assert info.value.code == "SIG-ALGORITHM"
    with pytest.raises(SigningError) as info:
        sign_xades(DOCUMENT, person.signer(), algorithm=SignatureAlgorithm.ECDSA_SHA256)
    assert info.value.code == "SIG-ALGORITHM"
    with pytest.raises(SigningError):
        sign_xades(DOCUMENT, person.signer(), signing_time=dt.datetime(2025, 1, 1))


def test_misconfigured_signer_fails_early(ca: Issued, person: Issued) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SigningError) as info:
        sign_xades(DOCUMENT, _RawSigner(key, person.certificate))
    assert info.value.code == "SIG-SIGNER"


def test_failure_codes_documented() -> None:
    assert set(XADES_FAILURE_CODES) == {SIGNING_CERT, SIGNING_TIME}
    for entry in XADES_FAILURE_CODES.values():
        assert entry.meaning
        assert entry.meaning_bg


@settings(max_examples=100, deadline=None)
@given(der=st.binary(max_size=64))
def test_qc_statement_parser_never_raises(der: bytes) -> None:
    from eintegr.signing import xades

    result = xades._qc_statement_ids(der)
    assert isinstance(result, tuple)


def test_qc_statement_parser_reads_cryptography_encoding() -> None:
    from eintegr.signing import xades

    oids = ["0.4.0.1862.1.1", "1.2.840.113549.1.9.1", "2.999.1234567"]
    # a QCStatement holding only its id is DER-identical to a one-element SEQUENCE OF OID
    inner = b"".join(x509.ExtendedKeyUsage([x509.ObjectIdentifier(o)]).public_bytes() for o in oids)
    assert xades._qc_statement_ids(bytes([0x30, len(inner)]) + inner) == tuple(oids)


def test_every_failure_code_is_in_the_signing_guide() -> None:
    from pathlib import Path

    from eintegr.signing import FAILURE_CODES

    guide = Path(__file__).resolve().parents[2] / "docs" / "signing.md"
    table = guide.read_text(encoding="utf-8")
    for code in (*FAILURE_CODES, *XADES_FAILURE_CODES):
        assert f"| `{code}` |" in table, code


@pytest.mark.reference
def test_subtree_canonicalization_matches_a_real_signature(seos_signed_sample: bytes) -> None:
    """The real СЕОС sample: inclusive C14N of its SignedInfo (a default-namespace subtree,
    where lxml alone emits a spurious xmlns="") must give the bytes its RSA-SHA1 signed."""
    from eintegr.signing import xades

    root = _tree(seos_signed_sample)
    signature = _signature(root)
    signed_info = _one(signature, "ds:SignedInfo")
    canonical = xades._c14n(signed_info, "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    assert b'xmlns=""' not in canonical
    der = base64.b64decode(_one(signature, "ds:KeyInfo/ds:X509Data/ds:X509Certificate").text or "")
    public = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    value = base64.b64decode(_one(signature, "ds:SignatureValue").text or "")
    public.verify(value, canonical, padding.PKCS1v15(), hashes.SHA1())


def test_xml_attributes_above_an_inclusive_subtree_are_refused(
    person: Issued, policy: VerificationPolicy
) -> None:
    signed = XAdESSigner(c14n_algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315").sign(
        etree.fromstring(DOCUMENT.replace(b"<a:Application ", b'<a:Application xml:lang="bg" ')),
        key=person.key,
        cert=[person.certificate],
    )
    assert _code(etree.tostring(signed), policy) == "SIG-STRUCTURE"
