"""СЕОС XMLDSig: enveloped signatures of messages and of documents, made and checked strictly.

The profile is deliberately narrow, so that what is verified is exactly what is used:

* **message signature** — ``ds:Signature`` is the last child of ``Message`` (after ``Header``
  and ``Body``); one ``Reference`` with ``URI=""`` (the whole document) and the
  enveloped-signature transform, optionally followed by one canonicalization transform;
* **document signature** — ``ds:Signature`` is the last child of ``Document``; one
  ``Reference`` with ``URI=""``, an XPath transform ``ancestor-or-self::p:Document`` (``p``
  bound to the СЕОС namespace; the schema allows no ``Id`` on ``Document``) and the
  enveloped-signature transform. Sign the document before the message.

Signing uses inclusive C14N 1.0, RSA-SHA256 / SHA-256 (ECDSA and RSA-PSS on request) and puts
the certificate (and on request its chain) in ``KeyInfo/X509Data`` — the form .NET
``SignedXml``, xmlsec1 and signxml verify. Verification also accepts exclusive C14N and
C14N 1.1; it takes the signature from its exact place (never "the first ``ds:Signature``"),
refuses any other ``ds:Signature`` in the document, checks the policy before any expensive
work (algorithms, key, validity, key usage, trust), then the signature value, then the digest.
The model of the result is built (on first use) from the canonical bytes that were digested,
so content the signature does not cover (comments) cannot reach the caller.

Failures raise :class:`~eintegr.errors.VerificationError` with a code from
:mod:`eintegr.signing.codes`; :func:`check_message_signature` and
:func:`check_document_signature` return a :class:`SignatureReport` instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Generic, NoReturn, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from eintegr.errors import EintegrError, SigningError, VerificationError
from eintegr.messages.seos import Document, Message
from eintegr.signing import _dsig, codes
from eintegr.signing._dsig import ds as _ds
from eintegr.signing._dsig import elements as _elements
from eintegr.signing._dsig import fail as _fail
from eintegr.signing._dsig import refuse_xml_attributes as _refuse_xml_attributes
from eintegr.signing._dsig import structure as _structure
from eintegr.signing.policy import VerificationPolicy
from eintegr.signing.signer import (
    Canonicalization,
    DigestAlgorithm,
    SignatureAlgorithm,
    Signer,
)
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, element_path, parse_xml

__all__ = [
    "DS_NS",
    "SignatureReport",
    "VerifiedDocument",
    "VerifiedMessage",
    "check_document_signature",
    "check_message_signature",
    "sign_document",
    "sign_message",
    "verify_document",
    "verify_message",
]

DS_NS = _dsig.DS_NS
"""The XMLDSig namespace."""
_SEOS_NS = "http://schemas.egov.bg/messaging/v1"
_EXC_C14N_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"
_ENVELOPED = _dsig.ENVELOPED
_XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
_XPATH_PREFIX = "m"
_XPATH_EXPRESSION = re.compile(r"ancestor-or-self::([A-Za-z_][A-Za-z0-9_.-]*):Document")

T = TypeVar("T")


def _seos(local: str) -> str:
    return f"{{{_SEOS_NS}}}{local}"


_SIGNATURE = _ds("Signature")
_DOCUMENT_PATH = f"{_seos('Body')}/{_seos('DocumentRegistrationRequest')}/{_seos('Document')}"


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedMessage:
    """A message whose signature verified under the policy.

    :ivar signed_xml: the canonical bytes that were digested (the message without its
        signature, comments removed): exactly what the signature covers.
    :ivar certificate: the signer's certificate.
    :ivar chain: the other certificates offered in ``KeyInfo``.
    """

    signed_xml: bytes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    signature_algorithm: SignatureAlgorithm
    digest_algorithm: DigestAlgorithm
    canonicalization: Canonicalization
    limits: XmlLimits = field(default=DEFAULT_LIMITS, repr=False, compare=False)

    @cached_property
    def message(self) -> Message:
        """The model, built from :attr:`signed_xml` on first use (then kept).

        :raises MessageError: the signed XML does not fit the model.
        """
        return Message.from_xml(self.signed_xml, limits=self.limits)


@dataclass(frozen=True)
class VerifiedDocument:
    """A document whose own signature verified under the policy (see :class:`VerifiedMessage`).

    :ivar signed_xml: the canonical bytes of the ``Document`` subtree without its signature.
    """

    signed_xml: bytes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    signature_algorithm: SignatureAlgorithm
    digest_algorithm: DigestAlgorithm
    canonicalization: Canonicalization
    limits: XmlLimits = field(default=DEFAULT_LIMITS, repr=False, compare=False)

    @cached_property
    def document(self) -> Document:
        """The ``Document`` model, built from :attr:`signed_xml` on first use (then kept).

        :raises MessageError: the signed XML does not fit the model.
        """
        return Document.from_xml(self.signed_xml, limits=self.limits)


@dataclass(frozen=True)
class SignatureReport(Generic[T]):
    """The outcome of a signature check, as a value.

    :ivar ok: whether the signature verified.
    :ivar code: ``None`` when ok; otherwise a code of :mod:`eintegr.signing.codes`.
    :ivar message: what happened, in English; :attr:`message_bg` in Bulgarian.
    :ivar path: where in the XML, when known; :attr:`line` the source line.
    :ivar certificate: the certificate the signature names, when one could be read.
    :ivar verified: the verified result when ok.
    """

    ok: bool
    code: str | None
    message: str
    message_bg: str
    path: str | None = None
    line: int | None = None
    certificate: x509.Certificate | None = None
    verified: T | None = None

    def raise_for_errors(self) -> T:
        """The verified result; raises the failure as :class:`VerificationError`."""
        if self.verified is not None:
            return self.verified
        raise VerificationError(
            self.message,
            code=self.code,
            message_bg=self.message_bg,
            path=self.path,
            line=self.line,
        )


# --- helpers ------------------------------------------------------------------------------


def _c14n(
    node: etree._Element | etree._ElementTree,
    method: Canonicalization,
    prefixes: tuple[str, ...] = (),
    limits: XmlLimits = DEFAULT_LIMITS,
) -> bytes:
    """Canonical form of a whole document, or of a subtree as a document subset.

    Subtrees with ``xml:*`` attributes above them are refused before (see
    :func:`~eintegr.signing._dsig.refuse_xml_attributes`), so C14N 1.0 output is right for 1.1.
    """
    return _dsig.canonicalize(
        node, exclusive=method is Canonicalization.EXCLUSIVE, prefixes=prefixes, limits=limits
    )


_c14n_subtree = _c14n  # the subtree form under its former name


def _detach(node: etree._Element) -> None:
    """Remove ``node`` as the enveloped-signature transform does: its tail text stays."""
    parent = node.getparent()
    assert parent is not None
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


@lru_cache(maxsize=256)
def _certificate(der: bytes) -> x509.Certificate:
    """A certificate from ``KeyInfo`` (cached by DER); raises ``ValueError`` when malformed."""
    certificate = x509.load_der_x509_certificate(der)
    # cryptography reads names and extensions lazily: read them now, so that a malformed
    # certificate is a structure error here and not an unexpected exception later.
    _ = certificate.subject, certificate.issuer, certificate.extensions
    return certificate


def _base64(node: etree._Element, what: str) -> bytes:
    if len(node):
        _structure(
            f"{what} must hold only base64 text", f"{what} трябва да съдържа само base64", node
        )
    text = "".join((node.text or "").split())
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        _structure(f"{what} is not valid base64", f"{what} не е валиден base64", node)
    if not value:
        _structure(f"{what} is empty", f"{what} е празен", node)
    return value


# --- reading a signature ------------------------------------------------------------------


@dataclass(frozen=True)
class _Signature:
    signed_info: etree._Element
    canonicalization: Canonicalization
    c14n_prefixes: tuple[str, ...]
    signature_algorithm: SignatureAlgorithm
    digest_algorithm: DigestAlgorithm
    digest_value: bytes
    reference_c14n: Canonicalization
    reference_prefixes: tuple[str, ...]
    signature_value: bytes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    reference_path: str
    reference_line: int | None


def _read_c14n(node: etree._Element) -> tuple[Canonicalization, tuple[str, ...]]:
    uri = node.get("Algorithm", "")
    method = Canonicalization.from_uri(uri)
    if method is None:
        _fail(
            codes.ALGORITHM,
            f"canonicalization {uri!r} is not accepted (C14N 1.0, 1.1 or exclusive, no comments)",
            f"Каноникализацията {uri!r} не се приема",
            node,
        )
    children = _elements(node)
    if (
        method is Canonicalization.EXCLUSIVE
        and len(children) == 1
        and children[0].tag == f"{{{_EXC_C14N_NS}}}InclusiveNamespaces"
    ):
        return method, tuple(children[0].get("PrefixList", "").split())
    if children:
        _structure(
            "unexpected content in a canonicalization element",
            "Неочаквано съдържание в елемент за каноникализация",
            node,
        )
    return method, ()


def _check_xpath(transform: etree._Element) -> None:
    children = _elements(transform)
    if len(children) != 1 or children[0].tag != _ds("XPath") or len(children[0]):
        _structure(
            "the XPath transform must hold one XPath expression",
            "XPath трансформацията трябва да съдържа един XPath израз",
            transform,
        )
    match = _XPATH_EXPRESSION.fullmatch((children[0].text or "").strip())
    if match is None or children[0].nsmap.get(match.group(1)) != _SEOS_NS:
        _structure(
            "the XPath transform must select the Document (ancestor-or-self::p:Document, "
            "p bound to the СЕОС namespace)",
            "XPath трансформацията трябва да избира Document (ancestor-or-self::p:Document)",
            transform,
        )


def _read_signature(
    signature: etree._Element, policy: VerificationPolicy, *, document: bool
) -> _Signature:
    """Read ``signature`` strictly against the profile; algorithm policy checked on the way."""
    parts = _elements(signature)
    tags = [p.tag for p in parts]
    if tags[:2] != [_ds("SignedInfo"), _ds("SignatureValue")] or tags[2:] not in (
        [],
        [_ds("KeyInfo")],
    ):
        _structure(
            "ds:Signature must hold SignedInfo, SignatureValue and KeyInfo, nothing else",
            "ds:Signature трябва да съдържа SignedInfo, SignatureValue и KeyInfo и нищо друго",
            signature,
        )
    signed_info = parts[0]
    info = _elements(signed_info)
    if [i.tag for i in info[:2]] != [_ds("CanonicalizationMethod"), _ds("SignatureMethod")]:
        _structure(
            "SignedInfo must start with CanonicalizationMethod and SignatureMethod",
            "SignedInfo трябва да започва с CanonicalizationMethod и SignatureMethod",
            signed_info,
        )
    references = info[2:]
    if len(references) != 1 or references[0].tag != _ds("Reference"):
        _structure(
            f"SignedInfo must hold exactly one Reference, not {len(references)} element(s)",
            f"SignedInfo трябва да съдържа точно една препратка, а не {len(references)}",
            signed_info,
        )
    canonicalization, c14n_prefixes = _read_c14n(info[0])

    method = info[1]
    uri = method.get("Algorithm", "")
    algorithm = SignatureAlgorithm.from_uri(uri)
    if algorithm is None:
        hmac_uri = "hmac" in uri.lower()
        _fail(
            codes.ALGORITHM,
            "HMAC signatures are not accepted (a shared secret proves no signer)"
            if hmac_uri
            else f"signature algorithm {uri!r} is not supported",
            "HMAC подписи не се приемат"
            if hmac_uri
            else f"Алгоритъмът за подпис {uri!r} не се поддържа",
            method,
        )
    _dsig.check_algorithm(policy, algorithm, method)
    if _elements(method):
        _structure("SignatureMethod must be empty", "SignatureMethod трябва да е празен", method)

    reference = references[0]
    ref_uri = reference.get("URI")
    if ref_uri != "":
        _structure(
            'the Reference must have URI="" (the whole document); '
            + ("it has none" if ref_uri is None else f"references by Id ({ref_uri!r}) are refused"),
            'Препратката трябва да е с URI="" (целия документ); препратки по Id не се приемат',
            reference,
        )
    ref_parts = _elements(reference)
    if [p.tag for p in ref_parts] != [_ds("Transforms"), _ds("DigestMethod"), _ds("DigestValue")]:
        _structure(
            "the Reference must hold Transforms, DigestMethod and DigestValue",
            "Препратката трябва да съдържа Transforms, DigestMethod и DigestValue",
            reference,
        )
    transforms = _elements(ref_parts[0])
    enveloped = xpath = 0
    reference_c14n = Canonicalization.C14N_1_0
    reference_prefixes: tuple[str, ...] = ()
    for index, transform in enumerate(transforms):
        algorithm_uri = transform.get("Algorithm", "") if transform.tag == _ds("Transform") else ""
        if algorithm_uri == _ENVELOPED and not _elements(transform):
            enveloped += 1
        elif algorithm_uri == _XPATH and document:
            _check_xpath(transform)
            xpath += 1
        elif (
            Canonicalization.from_uri(algorithm_uri) is not None
            and index == len(transforms) - 1
            and index > 0
        ):
            reference_c14n, reference_prefixes = _read_c14n(transform)
        else:
            _structure(
                f"unexpected transform {algorithm_uri or transform.tag!r}",
                f"Неочаквана трансформация {algorithm_uri or transform.tag!r}",
                transform,
            )
    if enveloped != 1 or xpath != int(document):
        wanted = "the XPath and enveloped-signature" if document else "the enveloped-signature"
        _structure(
            f"the Reference must use {wanted} transform exactly once",
            "Препратката трябва да използва enveloped-signature трансформацията точно веднъж"
            + (" и XPath трансформацията точно веднъж" if document else ""),
            ref_parts[0],
        )
    digest_method = ref_parts[1]
    digest_uri = digest_method.get("Algorithm", "")
    digest_algorithm = DigestAlgorithm.from_uri(digest_uri)
    if digest_algorithm is None:
        _fail(
            codes.ALGORITHM,
            f"digest algorithm {digest_uri!r} is not supported",
            f"Алгоритъмът за хеширане {digest_uri!r} не се поддържа",
            digest_method,
        )
    _dsig.check_algorithm(policy, digest_algorithm, digest_method)
    digest_value = _base64(ref_parts[2], "DigestValue")
    signature_value = _base64(parts[1], "SignatureValue")

    if len(parts) < 3:
        _structure(
            "KeyInfo with the signer's X509Certificate is missing",
            "Липсва KeyInfo със сертификата (X509Certificate) на подписалия",
            signature,
        )
    certificate, chain = _read_key_info(parts[2])
    return _Signature(
        signed_info=signed_info,
        canonicalization=canonicalization,
        c14n_prefixes=c14n_prefixes,
        signature_algorithm=algorithm,
        digest_algorithm=digest_algorithm,
        digest_value=digest_value,
        reference_c14n=reference_c14n,
        reference_prefixes=reference_prefixes,
        signature_value=signature_value,
        certificate=certificate,
        chain=chain,
        reference_path=element_path(reference),
        reference_line=reference.sourceline,
    )


def _read_key_info(
    key_info: etree._Element,
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """The signer certificate and the other certificates of ``KeyInfo/X509Data``.

    Only ``X509Certificate`` is used; unsigned hints (``X509IssuerSerial``, ``KeyName``,
    ``KeyValue``...) are ignored. The signer is the certificate that issued none of the others.
    """
    ders: list[bytes] = []
    for data in key_info.iterchildren(_ds("X509Data")):
        for node in data.iterchildren(_ds("X509Certificate")):
            ders.append(_base64(node, "X509Certificate"))
    if not ders:
        _structure(
            "KeyInfo must carry the signer's X509Certificate",
            "KeyInfo трябва да съдържа сертификата (X509Certificate) на подписалия",
            key_info,
        )
    if len(ders) > _dsig.MAX_CERTIFICATES:
        _structure(
            f"KeyInfo carries more than {_dsig.MAX_CERTIFICATES} certificates",
            f"KeyInfo съдържа повече от {_dsig.MAX_CERTIFICATES} сертификата",
            key_info,
        )
    certificates: list[x509.Certificate] = []
    for der in dict.fromkeys(ders):  # the official implementation repeats the certificate
        try:
            certificates.append(_certificate(der))
        except ValueError:
            _structure(
                "an X509Certificate in KeyInfo cannot be read",
                "Сертификат (X509Certificate) в KeyInfo не може да бъде прочетен",
                key_info,
            )
    signer = certificates[0]
    for candidate in certificates:
        if not any(o is not candidate and o.issuer == candidate.subject for o in certificates):
            signer = candidate
            break
    return signer, tuple(c for c in certificates if c is not signer)


# --- checking -----------------------------------------------------------------------------


class _Progress:
    """What a check learned before it failed (for :class:`SignatureReport`)."""

    certificate: x509.Certificate | None = None


def _check_signature(
    signature: etree._Element,
    policy: VerificationPolicy,
    progress: _Progress,
    *,
    document: bool,
) -> _Signature:
    """Everything up to and including the signature value (the digest is the caller's)."""
    parsed = _read_signature(signature, policy, document=document)
    progress.certificate = parsed.certificate
    policy.check_certificate(parsed.certificate, parsed.chain, algorithm=parsed.signature_algorithm)
    signed_info = _c14n(parsed.signed_info, parsed.canonicalization, parsed.c14n_prefixes)
    if not _dsig.signature_valid(
        parsed.certificate, parsed.signature_value, signed_info, parsed.signature_algorithm
    ):
        _fail(
            codes.VALUE,
            "the signature value does not verify with the certificate's key",
            "Стойността на подписа не се потвърждава с ключа на сертификата",
            signature,
        )
    return parsed


def _check_digest(parsed: _Signature, canonical: bytes) -> None:
    digest = hashlib.new(parsed.digest_algorithm.value, canonical).digest()
    if not hmac.compare_digest(digest, parsed.digest_value):
        raise VerificationError(
            "the signed content was changed after signing (digest mismatch)",
            code=codes.DIGEST,
            message_bg="Подписаното съдържание е променено след подписването (разлика в хеша)",
            path=parsed.reference_path,
            line=parsed.reference_line,
        )


def _refuse_other_signatures(root: etree._Element, allowed: set[etree._Element]) -> None:
    for node in root.iter(_SIGNATURE):
        if node not in allowed:
            _structure(
                "a ds:Signature outside the places the profile allows",
                "ds:Signature извън местата, които профилът допуска",
                node,
            )


def _document_signature(document: etree._Element | None) -> etree._Element | None:
    """The document-level signature at its exact place (last child of Document), if any."""
    if document is None:
        return None
    children = _elements(document)
    if children and children[-1].tag == _SIGNATURE:
        return children[-1]
    return None


def _message_signature_or_fail(root: etree._Element) -> etree._Element:
    if root.tag != _seos("Message"):
        _structure(
            f"the root element must be Message in {_SEOS_NS}",
            f"Кореновият елемент трябва да е Message в {_SEOS_NS}",
            root,
        )
    children = _elements(root)
    signatures = [c for c in children if c.tag == _SIGNATURE]
    if not signatures:
        _fail(
            codes.UNSIGNED,
            "the message is not signed (no ds:Signature as the last child of Message)",
            "Съобщението не е подписано (липсва ds:Signature като последен елемент на Message)",
            root,
        )
    if [c.tag for c in children] != [_seos("Header"), _seos("Body"), _SIGNATURE]:
        _structure(
            "Message must hold Header, Body and ds:Signature, in this order and once each",
            "Message трябва да съдържа Header, Body и ds:Signature, в този ред и по веднъж",
            signatures[-1] if len(signatures) > 1 else root,
        )
    return signatures[0]


def _verify_message(
    data: bytes, policy: VerificationPolicy, limits: XmlLimits, progress: _Progress
) -> VerifiedMessage:
    tree = _dsig.parse(data, limits)
    root = tree.getroot()
    signature = _message_signature_or_fail(root)
    allowed = {signature}
    document_signature = _document_signature(root.find(_DOCUMENT_PATH))
    if document_signature is not None:
        allowed.add(document_signature)
    _refuse_other_signatures(root, allowed)
    _refuse_xml_attributes([root, signature])
    parsed = _check_signature(signature, policy, progress, document=False)
    _detach(signature)
    signed_xml = _c14n(tree, parsed.reference_c14n, parsed.reference_prefixes)
    _check_digest(parsed, signed_xml)
    return VerifiedMessage(
        signed_xml=signed_xml,
        certificate=parsed.certificate,
        chain=parsed.chain,
        signature_algorithm=parsed.signature_algorithm,
        digest_algorithm=parsed.digest_algorithm,
        canonicalization=parsed.canonicalization,
        limits=limits,
    )


def _verify_document(
    data: bytes, policy: VerificationPolicy, limits: XmlLimits, progress: _Progress
) -> VerifiedDocument:
    tree = _dsig.parse(data, limits)
    root = tree.getroot()
    if root.tag == _seos("Message"):
        document = root.find(_DOCUMENT_PATH)
        if document is None:
            _structure(
                "the message carries no Document (only DocumentRegistrationRequest does)",
                "Съобщението не съдържа Document (има го само DocumentRegistrationRequest)",
                root,
            )
    elif root.tag == _seos("Document"):
        document = root
    else:
        _structure(
            f"the root element must be Message or Document in {_SEOS_NS}",
            f"Кореновият елемент трябва да е Message или Document в {_SEOS_NS}",
            root,
        )
    signatures = [c for c in _elements(document) if c.tag == _SIGNATURE]
    if not signatures:
        _fail(
            codes.UNSIGNED,
            "the document is not signed (no ds:Signature as the last child of Document)",
            "Документът не е подписан (липсва ds:Signature като последен елемент на Document)",
            document,
        )
    signature = _document_signature(document)
    if len(signatures) > 1 or signature is None:
        _structure(
            "Document must hold one ds:Signature, as its last child",
            "Document трябва да съдържа един ds:Signature, като последен елемент",
            signatures[-1],
        )
    allowed = {signature}
    message_children = _elements(root) if root is not document else []
    if message_children and message_children[-1].tag == _SIGNATURE:
        allowed.add(message_children[-1])
    _refuse_other_signatures(root, allowed)
    _refuse_xml_attributes([signature, *document.iterancestors(), document])
    parsed = _check_signature(signature, policy, progress, document=True)
    _detach(signature)
    signed_xml = _c14n(document, parsed.reference_c14n, parsed.reference_prefixes, limits)
    _check_digest(parsed, signed_xml)
    return VerifiedDocument(
        signed_xml=signed_xml,
        certificate=parsed.certificate,
        chain=parsed.chain,
        signature_algorithm=parsed.signature_algorithm,
        digest_algorithm=parsed.digest_algorithm,
        canonicalization=parsed.canonicalization,
        limits=limits,
    )


def verify_message(
    data: bytes, policy: VerificationPolicy, *, limits: XmlLimits = DEFAULT_LIMITS
) -> VerifiedMessage:
    """Verify the signature of a СЕОС message and return what it signs.

    :raises VerificationError: with a code of :mod:`eintegr.signing.codes`.
    """
    return _verify_message(data, policy, limits, _Progress())


def verify_document(
    data: bytes, policy: VerificationPolicy, *, limits: XmlLimits = DEFAULT_LIMITS
) -> VerifiedDocument:
    """Verify the document-level signature (``Document/ds:Signature``) of a message.

    ``data`` is a whole message or a bare ``Document``. The message signature is not checked.

    :raises VerificationError: with a code of :mod:`eintegr.signing.codes`.
    """
    return _verify_document(data, policy, limits, _Progress())


def _report(
    run: Callable[[bytes, VerificationPolicy, XmlLimits, _Progress], T],
    data: bytes,
    policy: VerificationPolicy,
    limits: XmlLimits,
) -> SignatureReport[T]:
    progress = _Progress()
    try:
        verified: T = run(data, policy, limits, progress)
    except EintegrError as exc:
        return SignatureReport(
            ok=False,
            code=exc.code,
            message=exc.message,
            message_bg=exc.message_bg,
            path=exc.path,
            line=exc.line,
            certificate=progress.certificate,
        )
    return SignatureReport(
        ok=True,
        code=None,
        message="the signature is valid",
        message_bg="Подписът е валиден",
        certificate=progress.certificate,
        verified=verified,
    )


def check_message_signature(
    data: bytes, policy: VerificationPolicy, *, limits: XmlLimits = DEFAULT_LIMITS
) -> SignatureReport[VerifiedMessage]:
    """Like :func:`verify_message`, but every failure is returned in the report."""
    return _report(_verify_message, data, policy, limits)


def check_document_signature(
    data: bytes, policy: VerificationPolicy, *, limits: XmlLimits = DEFAULT_LIMITS
) -> SignatureReport[VerifiedDocument]:
    """Like :func:`verify_document`, but every failure is returned in the report."""
    return _report(_verify_document, data, policy, limits)


# --- signing ------------------------------------------------------------------------------


def _signing_error(code: str, message: str, message_bg: str) -> NoReturn:
    raise SigningError(message, code=code, message_bg=message_bg)


def _load(message: Message | bytes, limits: XmlLimits) -> etree._ElementTree:
    if isinstance(message, Message):
        return parse_xml(message.to_xml(), limits=limits)
    if isinstance(message, bytes | bytearray | memoryview):
        return parse_xml(bytes(message), limits=limits)
    raise TypeError(f"expected a Message or bytes, not {type(message).__name__}")


def _choose(signer: Signer, algorithm: SignatureAlgorithm | None) -> SignatureAlgorithm:
    chosen = SignatureAlgorithm(algorithm if algorithm is not None else signer.algorithm)
    if chosen is SignatureAlgorithm.RSA_SHA1:
        _signing_error(
            codes.ALGORITHM,
            "RSA-SHA1 is accepted for verification only",
            "RSA-SHA1 се приема само при проверка",
        )
    return chosen


def _sub(
    parent: etree._Element, local: str, text: str | None = None, **attrib: str
) -> etree._Element:
    node = etree.SubElement(parent, _ds(local), attrib)
    if text is not None:
        node.text = text
    return node


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _append_signature(
    parent: etree._Element,
    digest_input: bytes,
    signer: Signer,
    algorithm: SignatureAlgorithm,
    *,
    document: bool,
    include_chain: bool,
) -> None:
    """Build ``ds:Signature`` as the last child of ``parent`` and sign it."""
    digest = hashlib.new(algorithm.digest.value, digest_input).digest()
    signature = etree.SubElement(parent, _SIGNATURE, nsmap={None: DS_NS})
    signed_info = _sub(signature, "SignedInfo")
    _sub(signed_info, "CanonicalizationMethod", Algorithm=Canonicalization.C14N_1_0.uri)
    _sub(signed_info, "SignatureMethod", Algorithm=algorithm.uri)
    reference = _sub(signed_info, "Reference", URI="")
    transforms = _sub(reference, "Transforms")
    if document:
        xpath = _sub(transforms, "Transform", Algorithm=_XPATH)
        expression = etree.SubElement(xpath, _ds("XPath"), nsmap={_XPATH_PREFIX: _SEOS_NS})
        expression.text = f"ancestor-or-self::{_XPATH_PREFIX}:Document"
    _sub(transforms, "Transform", Algorithm=_ENVELOPED)
    _sub(reference, "DigestMethod", Algorithm=algorithm.digest.uri)
    _sub(reference, "DigestValue", _b64(digest))
    value = _sub(signature, "SignatureValue")
    key_info = _sub(signature, "KeyInfo")
    x509_data = _sub(key_info, "X509Data")
    # Like the state's .NET implementation: issuer + serial first (a lookup hint only, never
    # trusted on verification), then the certificate(s).
    issuer_serial = _sub(x509_data, "X509IssuerSerial")
    _sub(issuer_serial, "X509IssuerName", signer.certificate.issuer.rfc4514_string())
    _sub(issuer_serial, "X509SerialNumber", str(signer.certificate.serial_number))
    certificates = [signer.certificate, *(signer.chain if include_chain else ())]
    for certificate in certificates:
        der = certificate.public_bytes(serialization.Encoding.DER)
        _sub(x509_data, "X509Certificate", _b64(der))

    canonical = _c14n(signed_info, Canonicalization.C14N_1_0)
    raw = signer.sign(canonical, algorithm)
    _self_check(signer.certificate, algorithm, canonical, raw)
    value.text = _b64(raw)


def _self_check(
    certificate: x509.Certificate, algorithm: SignatureAlgorithm, data: bytes, raw: bytes
) -> None:
    """Verify a fresh signature with the signer's certificate (catches a misconfigured HSM)."""
    if _dsig.signature_valid(certificate, raw, data, algorithm):
        return
    _signing_error(
        "SIG-SIGNER",
        "the signer's signature does not verify with its certificate "
        "(wrong key, wrong algorithm, or DER instead of raw ECDSA)",
        "Подписът на подписващия не се потвърждава с неговия сертификат",
    )


def sign_message(
    message: Message | bytes,
    signer: Signer,
    *,
    algorithm: SignatureAlgorithm | None = None,
    include_chain: bool = False,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> bytes:
    """Sign a СЕОС message: an enveloped ``ds:Signature`` as the last child of ``Message``.

    The message bytes are kept as they are (sign exactly what will be sent); the result is
    UTF-8 with an XML declaration.

    :param algorithm: defaults to the signer's (RSA-SHA256 for RSA keys).
    :param include_chain: also put :attr:`Signer.chain` in ``KeyInfo``.
    :raises SigningError: ``SIG-NOT-MESSAGE`` (root is not a СЕОС Message),
        ``SIG-ALREADY-SIGNED``, ``SIG-ALGORITHM``, ``SIG-SIGNER``, ``SIG-XML-ATTRIBUTE``.
    :raises XmlError: the bytes are not acceptable XML.
    """
    tree = _load(message, limits)
    root = tree.getroot()
    if root.tag != _seos("Message"):
        _signing_error(
            "SIG-NOT-MESSAGE",
            f"the root element must be Message in {_SEOS_NS}",
            f"Кореновият елемент трябва да е Message в {_SEOS_NS}",
        )
    if any(child.tag == _SIGNATURE for child in _elements(root)):
        _signing_error(
            "SIG-ALREADY-SIGNED",
            "the message is already signed",
            "Съобщението вече е подписано",
        )
    _refuse_xml_attributes_for_signing([root])
    chosen = _choose(signer, algorithm)
    digest_input = _c14n(tree, Canonicalization.C14N_1_0)
    _append_signature(
        root, digest_input, signer, chosen, document=False, include_chain=include_chain
    )
    return etree.tostring(tree, encoding="utf-8", xml_declaration=True)


def sign_document(
    message: Message | bytes,
    signer: Signer,
    *,
    algorithm: SignatureAlgorithm | None = None,
    include_chain: bool = False,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> bytes:
    """Sign the ``Document`` of a registration request: ``ds:Signature`` as its last child.

    Sign the document first, then the message (:func:`sign_message`). ``message`` may also be
    a bare ``Document``.

    :raises SigningError: ``SIG-NO-DOCUMENT``, ``SIG-ORDER`` (the message is already signed:
        signing the document now would break that signature), ``SIG-ALREADY-SIGNED``,
        ``SIG-ALGORITHM``, ``SIG-SIGNER``, ``SIG-XML-ATTRIBUTE``.
    :raises XmlError: the bytes are not acceptable XML.
    """
    tree = _load(message, limits)
    root = tree.getroot()
    if root.tag == _seos("Message"):
        if any(child.tag == _SIGNATURE for child in _elements(root)):
            _signing_error(
                "SIG-ORDER",
                "the message is already signed: sign the document first, then the message",
                "Съобщението вече е подписано: подпишете първо документа, после съобщението",
            )
        document = root.find(_DOCUMENT_PATH)
    else:
        document = root if root.tag == _seos("Document") else None
    if document is None:
        _signing_error(
            "SIG-NO-DOCUMENT",
            "no Document to sign (only DocumentRegistrationRequest carries one)",
            "Няма Document за подписване (има го само DocumentRegistrationRequest)",
        )
    if any(child.tag == _SIGNATURE for child in _elements(document)):
        _signing_error(
            "SIG-ALREADY-SIGNED",
            "the document is already signed",
            "Документът вече е подписан",
        )
    _refuse_xml_attributes_for_signing([*document.iterancestors(), document])
    chosen = _choose(signer, algorithm)
    digest_input = _c14n(document, Canonicalization.C14N_1_0, limits=limits)
    _append_signature(
        document, digest_input, signer, chosen, document=True, include_chain=include_chain
    )
    return etree.tostring(tree, encoding="utf-8", xml_declaration=True)


def _refuse_xml_attributes_for_signing(nodes: list[etree._Element]) -> None:
    try:
        _refuse_xml_attributes(nodes)
    except VerificationError as exc:
        raise SigningError(
            exc.message, code="SIG-XML-ATTRIBUTE", message_bg=exc.message_bg, path=exc.path
        ) from None
