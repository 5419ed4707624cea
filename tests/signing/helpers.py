"""Test helpers for eintegr.signing: a throw-away PKI built with ``cryptography``, СЕОС
message bytes, and an ``xmlsec1`` runner."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree

from eintegr.signing import KeySigner, SignatureAlgorithm, Signer
from eintegr.signing.signer import rsa_padding

SEOS = "http://schemas.egov.bg/messaging/v1"
DS = "http://www.w3.org/2000/09/xmldsig#"
NOW = dt.datetime.now(dt.UTC)
EIK = "123456786"  # a valid 9-digit ЕИК (check digit 6)


def q(local: str, ns: str = SEOS) -> str:
    return f"{{{ns}}}{local}"


# --- PKI -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A key and its certificate (and the intermediates above it, leaf first)."""

    key: PrivateKeyTypes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def signer(self, algorithm: SignatureAlgorithm | None = None) -> KeySigner:
        return KeySigner(self.key, self.certificate, self.chain, algorithm)

    def key_pem(self, password: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def cert_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


def transport_name(host: str, eik: str = EIK) -> x509.Name:
    """The subject of a СЕОС transport certificate: ``C=BG, ST=B:<ЕИК>, O=..., CN=<host>``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BG"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, f"B:{eik}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Тестова администрация"),
            x509.NameAttribute(NameOID.COMMON_NAME, host),
        ]
    )


def ca_name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BG"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eintegr test PKI, Sofia"),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRBG-123456786"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _chain_below(issuer: Identity | None) -> tuple[x509.Certificate, ...]:
    """The intermediates a certificate issued by ``issuer`` carries (the root is left out)."""
    if issuer is None or issuer.certificate.issuer == issuer.certificate.subject:
        return ()
    return (issuer.certificate, *issuer.chain)


def make_ca(
    cn: str,
    issuer: Identity | None = None,
    *,
    is_ca: bool = True,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Identity:
    key = rsa_key()
    subject = ca_name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=1000))
        .not_valid_after(not_after or NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer.certificate.public_key()  # type: ignore[arg-type]
            ),
            False,
        )
    signing_key = issuer.key if issuer else key
    certificate = builder.sign(signing_key, hashes.SHA256())  # type: ignore[arg-type]
    return Identity(key, certificate, _chain_below(issuer))


def make_transport(
    issuer: Identity,
    host: str = "seos.example.bg",
    *,
    key: PrivateKeyTypes | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    digital_signature: bool = True,
    eik: str = EIK,
) -> Identity:
    """A transport certificate like the state issues: serverAuth + clientAuth, SAN = host."""
    key = key or rsa_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(transport_name(host, eik))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=1))
        .not_valid_after(not_after or NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer.certificate.public_key()  # type: ignore[arg-type]
            ),
            False,
        )
    )
    certificate = builder.sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    return Identity(key, certificate, _chain_below(issuer))


class RawSigner(Signer):
    """A minimal HSM-like signer: any key, no checks (lets tests make weak signatures)."""

    def __init__(
        self,
        key: PrivateKeyTypes,
        certificate: x509.Certificate,
        algorithm: SignatureAlgorithm = SignatureAlgorithm.RSA_SHA256,
        *,
        der_ecdsa: bool = False,
    ) -> None:
        self._key = key
        self._certificate = certificate
        self._algorithm = algorithm
        self._der_ecdsa = der_ecdsa
        self.calls = 0

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return self._algorithm

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        self.calls += 1
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, rsa_padding(algorithm), algorithm.hash)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        der = key.sign(data, ec.ECDSA(algorithm.hash))
        if self._der_ecdsa:
            return der  # the classic mistake: DER instead of raw r||s
        r, s = decode_dss_signature(der)
        width = (key.curve.key_size + 7) // 8
        return r.to_bytes(width, "big") + s.to_bytes(width, "big")


# --- messages --------------------------------------------------------------------------------

_HEADER = (
    "<Header><Version>1.0</Version><MessageType>{type}</MessageType>"
    "<MessageDate>2024-05-06T10:11:12.1234567+03:00</MessageDate>"
    "<Sender><Identifier>{eik}</Identifier>"
    "<AdministrativeBodyName>Община Тест</AdministrativeBodyName>"
    "<GUID>{{11111111-2222-3333-4444-555555555555}}</GUID></Sender>"
    "<Recipient><Identifier>000695089</Identifier>"
    "<AdministrativeBodyName>Министерство на теста</AdministrativeBodyName>"
    "<GUID>{{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}}</GUID></Recipient>"
    "<MessageGUID>{{f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}}</MessageGUID></Header>"
)


def registration_request(
    *,
    doc_number: str = "97-0056",
    attachment: bytes = b"%PDF-1.4 test attachment",
    comment: str = "За регистрация",
    pretty: bool = False,
    declaration: str = '<?xml version="1.0" encoding="utf-8"?>',
) -> bytes:
    """A ``MSG_DocumentRegistrationRequest`` as bytes (our own text, not the reference's)."""
    body = (
        "<Body><DocumentRegistrationRequest><Document>"
        f"<DocID><DocumentNumber><DocNumber>{doc_number}</DocNumber><DocDate>2024-05-06</DocDate>"
        "</DocumentNumber><DocumentGUID>{9f5f40b3-591e-46a8-9963-1e04e16d2ede}</DocumentGUID>"
        "</DocID><DocKind>Писмо</DocKind>"
        "<DocAttachmentList><Attachment><AttFileName>писмо.pdf</AttFileName>"
        f"<AttBody>{base64.b64encode(attachment).decode()}</AttBody><AttMIMEType>application/pdf</AttMIMEType></Attachment>"
        "</DocAttachmentList><DocAbout>Относно проверка на подписи</DocAbout>"
        f"</Document><Comment>{comment}</Comment></DocumentRegistrationRequest></Body>"
    )
    text = (
        declaration
        + '<Message xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        + 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://schemas.egov.bg/messaging/v1">'
        + _HEADER.format(type="MSG_DocumentRegistrationRequest", eik=EIK)
        + body
        + "</Message>"
    )
    data = text.encode("utf-8")
    if pretty:
        root = etree.fromstring(data)
        etree.indent(root)
        data = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return data


def status_response(*, status: str = "DS_REGISTERED") -> bytes:
    """A ``MSG_DocumentStatusResponse`` as bytes."""
    text = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Message xmlns="http://schemas.egov.bg/messaging/v1">'
        + _HEADER.format(type="MSG_DocumentStatusResponse", eik=EIK)
        + "<Body><DocumentStatusResponse><DocID><DocumentNumber><DocNumber>97-0056</DocNumber>"
        "<DocDate>2024-05-06</DocDate></DocumentNumber>"
        "<DocumentGUID>{9f5f40b3-591e-46a8-9963-1e04e16d2ede}</DocumentGUID></DocID>"
        f"<DocRegStatus>{status}</DocRegStatus></DocumentStatusResponse></Body></Message>"
    )
    return text.encode("utf-8")


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


# --- xmlsec1 ---------------------------------------------------------------------------------


def xmlsec1() -> str:
    """The path of ``xmlsec1``; skips the calling test when it is not installed."""
    path = shutil.which("xmlsec1")
    if path is None:
        pytest.skip("xmlsec1 is not installed (Debian: apt-get install xmlsec1)")
    return path


def run_xmlsec1(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [xmlsec1(), *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


# --- signatures made by signxml ----------------------------------------------------------------


def signxml_sign(
    data: bytes,
    identity: Identity | None,
    *,
    method: str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    digest: str = "http://www.w3.org/2001/04/xmlenc#sha256",
    reference_uri: str | list[str] | None = None,
    hmac_key: bytes | None = None,
) -> bytes:
    """An enveloped signature made by signxml (SHA-1 and HMAC allowed, for attack tests)."""
    from signxml.algorithms import (
        CanonicalizationMethod,
        DigestAlgorithm,
        SignatureConstructionMethod,
        SignatureMethod,
    )
    from signxml.signer import XMLSigner

    class _Signer(XMLSigner):
        def check_deprecated_methods(self) -> None:  # old СЕОС deployments still use SHA-1
            pass

    signer = _Signer(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod(method),
        digest_algorithm=DigestAlgorithm(digest),
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    root = etree.fromstring(data)
    if hmac_key is not None:
        signed = signer.sign(root, key=hmac_key, reference_uri=reference_uri)
    else:
        assert identity is not None
        signed = signer.sign(
            root,
            key=identity.key_pem(),
            cert=identity.cert_pem().decode(),
            reference_uri=reference_uri,
            id_attribute="Id",
        )
    return etree.tostring(signed, xml_declaration=True, encoding="utf-8")
