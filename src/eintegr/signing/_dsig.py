"""XML-signature primitives shared by the СЕОС, XAdES and RegiX verifiers (private).

Each verifier keeps its own profile (which elements, which references, which messages); what
is the same everywhere lives here: failures as :class:`~eintegr.errors.VerificationError`
with the element's path and line, reading with the hardened parser, canonicalization of
documents and subtrees, digests, algorithm elements, transforms, ``Id`` counting, the
certificates of ``KeyInfo`` and checking a signature value with a certificate's key.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Iterable, Sequence
from typing import Final, NoReturn

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from eintegr.errors import VerificationError, XmlError
from eintegr.signing import codes
from eintegr.signing.policy import VerificationPolicy
from eintegr.signing.signer import (
    DigestAlgorithm,
    SignatureAlgorithm,
    ecdsa_raw_to_der,
    rsa_padding,
)
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, element_path, parse_xml

DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
ENVELOPED: Final = DS_NS + "enveloped-signature"
SIGNED_PROPERTIES_TYPE: Final = "http://uri.etsi.org/01903#SignedProperties"
MAX_CERTIFICATES: Final = 16

_SUBTREE_EN: Final = "xml:* attributes above a signed subtree are not supported"
_SUBTREE_BG: Final = "Атрибути xml:* над подписана част от документа не се поддържат"


def ds(local: str) -> str:
    """The Clark name of ``local`` in the XMLDSig namespace."""
    return f"{{{DS_NS}}}{local}"


def fail(code: str, en: str, bg: str, node: etree._Element | None = None) -> NoReturn:
    """Raise :class:`VerificationError` ``code``, located at ``node`` when given."""
    raise VerificationError(
        en,
        code=code,
        message_bg=bg,
        path=element_path(node) if node is not None else None,
        line=node.sourceline if node is not None else None,
    )


def structure(en: str, bg: str, node: etree._Element | None = None) -> NoReturn:
    """Raise a ``SIG-STRUCTURE`` failure located at ``node``."""
    fail(codes.STRUCTURE, en, bg, node)


def elements(node: etree._Element) -> list[etree._Element]:
    """The element children of ``node`` (comments and processing instructions skipped)."""
    return [child for child in node if isinstance(child.tag, str)]


def parse(
    data: bytes, limits: XmlLimits = DEFAULT_LIMITS, *, name_code: bool = True
) -> etree._ElementTree:
    """Parse with the hardened parser; a refusal is a ``SIG-XML`` verification failure.

    :param name_code: put the parser's code in the message (the СЕОС wording).
    """
    try:
        return parse_xml(data, limits=limits)
    except XmlError as exc:
        if name_code:
            en = f"the XML was refused ({exc.code}): {exc}"
            bg = f"XML документът е отхвърлен ({exc.code}): {exc.message_bg}"
        else:
            en = f"the XML is refused: {exc}"
            bg = f"XML документът е отхвърлен: {exc.message_bg}"
        raise VerificationError(en, code=codes.XML, message_bg=bg, line=exc.line) from None


def refuse_xml_attributes(
    nodes: Iterable[etree._Element], en: str = _SUBTREE_EN, bg: str = _SUBTREE_BG
) -> None:
    """Refuse ``xml:*`` attributes on ``nodes`` (the ancestors of a canonicalized subtree).

    Inclusive C14N 1.0 and 1.1 carry inherited ``xml:*`` attributes down differently; none of
    the profiles uses them, so refusing them keeps every accepted signature unambiguous.
    """
    for node in nodes:
        if any(str(name).startswith(f"{{{XML_NS}}}") for name in node.attrib):
            structure(en, bg, node)


def canonicalize(
    node: etree._Element | etree._ElementTree,
    *,
    exclusive: bool,
    prefixes: Sequence[str] = (),
    limits: XmlLimits | None = DEFAULT_LIMITS,
) -> bytes:
    """Canonical form of a whole document, or of a subtree as a document subset (no comments).

    lxml canonicalizes a subtree through a temporary document whose nodes still point at the
    original namespace declarations, and may then emit a spurious ``xmlns=""`` (the real signed
    СЕОС sample triggers it). So a subtree is serialized first — which declares every in-scope
    namespace on its apex, what inclusive C14N renders there — and the re-parsed copy is
    canonicalized whole. Inclusive C14N 1.0 and 1.1 differ only in inherited ``xml:*``
    attributes, which callers refuse (:func:`refuse_xml_attributes`), so 1.0 serves for both.

    :param prefixes: the ``InclusiveNamespaces`` prefix list (exclusive C14N only).
    :param limits: for re-parsing a subtree; ``None``: the defaults, grown to fit the subtree.
    """
    try:
        if isinstance(node, etree._Element):
            text = etree.tostring(node, encoding="utf-8", with_tail=False)
            if limits is None:
                limits = XmlLimits(max_bytes=max(len(text), DEFAULT_LIMITS.max_bytes))
            node = parse_xml(text, limits=limits)
        if exclusive:
            return etree.tostring(
                node,
                method="c14n",
                exclusive=True,
                with_comments=False,
                inclusive_ns_prefixes=list(prefixes) or None,
            )
        return etree.tostring(node, method="c14n", with_comments=False)
    except (etree.C14NError, XmlError) as error:
        # e.g. a relative namespace URI, which canonical XML cannot express
        raise VerificationError(
            f"the signed XML cannot be canonicalized: {error}",
            code=codes.XML,
            message_bg=f"Подписаният XML не може да бъде канонизиран: {error}",
        ) from None


def digest(data: bytes, algorithm: DigestAlgorithm) -> bytes:
    """The ``algorithm`` digest of ``data``."""
    h = hashes.Hash(algorithm.hash)
    h.update(data)
    return h.finalize()


def b64decode(text: str | None, node: etree._Element) -> bytes:
    """The base64 ``text`` of ``node`` (white space ignored); malformed is a structure error."""
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        name = etree.QName(node).localname
        structure(f"{name} is not valid base64", f"{name} не е валиден base64", node)


def algorithm_of(node: etree._Element) -> str:
    """The ``Algorithm`` of a parameterless algorithm element (parameters are refused)."""
    if elements(node):
        name = etree.QName(node).localname
        fail(
            codes.ALGORITHM,
            f"{name} must not have parameters",
            f"{name} не трябва да има параметри",
            node,
        )
    return node.get("Algorithm", "")


def check_algorithm(
    policy: VerificationPolicy,
    algorithm: SignatureAlgorithm | DigestAlgorithm,
    node: etree._Element,
) -> None:
    """Check ``algorithm`` against the policy, locating a failure at ``node``."""
    try:
        policy.check_algorithm(algorithm)
    except VerificationError as exc:
        exc.path, exc.line = element_path(node), node.sourceline
        raise


def signed_info_methods(
    c14n_node: etree._Element, method_node: etree._Element, accepted: frozenset[str]
) -> tuple[str, SignatureAlgorithm]:
    """The canonicalization URI (one of ``accepted``) and signature algorithm of SignedInfo."""
    c14n = algorithm_of(c14n_node)
    if c14n not in accepted:
        fail(
            codes.ALGORITHM,
            f"canonicalization {c14n!r} is not accepted",
            f"Каноникализацията {c14n!r} не се приема",
            c14n_node,
        )
    uri = algorithm_of(method_node)
    algorithm = SignatureAlgorithm.from_uri(uri)
    if algorithm is None:
        fail(
            codes.ALGORITHM,
            f"signature algorithm {uri!r} is not accepted",
            f"Алгоритъмът за подпис {uri!r} не се приема",
            method_node,
        )
    return c14n, algorithm


def digest_algorithm(node: etree._Element) -> DigestAlgorithm:
    """The algorithm of a ``DigestMethod`` (one of ours, else ``SIG-ALGORITHM``)."""
    uri = algorithm_of(node)
    algorithm = DigestAlgorithm.from_uri(uri)
    if algorithm is None:
        fail(
            codes.ALGORITHM,
            f"digest algorithm {uri!r} is not accepted",
            f"Алгоритъмът за хеш {uri!r} не се приема",
            node,
        )
    return algorithm


def transforms(node: etree._Element) -> list[str]:
    """The algorithm URIs of a ``Transforms`` element (transforms with parameters refused)."""
    children = elements(node)
    if not children or any(c.tag != ds("Transform") for c in children):
        structure("malformed Transforms", "Неправилен елемент Transforms", node)
    result: list[str] = []
    for child in children:
        if elements(child):  # XPath, XSLT, InclusiveNamespaces: not accepted
            structure(
                "transforms with parameters are not accepted",
                "Трансформации с параметри не се приемат",
                child,
            )
        result.append(child.get("Algorithm", ""))
    return result


def id_counts(root: etree._Element) -> dict[str, int]:
    """How often each ``Id``/``ID``/``id`` value occurs in the tree under ``root``."""
    counts: dict[str, int] = {}
    for node in root.iter():
        if isinstance(node.tag, str):
            for name in ("Id", "ID", "id"):
                value = node.get(name)
                if value is not None:
                    counts[value] = counts.get(value, 0) + 1
    return counts


def load_certificates(nodes: Iterable[etree._Element]) -> tuple[x509.Certificate, ...]:
    """The certificates of ``X509Certificate`` nodes; an unreadable one is a structure error."""
    found: list[x509.Certificate] = []
    for node in nodes:
        try:
            found.append(x509.load_der_x509_certificate(b64decode(node.text, node)))
        except ValueError:
            structure(
                "X509Certificate is not a valid certificate",
                "X509Certificate не е валиден сертификат",
                node,
            )
    return tuple(found)


def signature_valid(
    certificate: x509.Certificate, value: bytes, data: bytes, algorithm: SignatureAlgorithm
) -> bool:
    """Whether ``value`` (raw r‖s for ECDSA) signs ``data`` with the certificate's key."""
    public = certificate.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey) and algorithm.key_type == "rsa":
            public.verify(value, data, rsa_padding(algorithm), algorithm.hash)
            return True
        if isinstance(public, ec.EllipticCurvePublicKey) and algorithm.key_type == "ec":
            der = ecdsa_raw_to_der(value, public.curve)
            if der is not None:
                public.verify(der, data, ec.ECDSA(algorithm.hash))
                return True
    except InvalidSignature:
        pass
    return False


def b64encode(data: bytes) -> str:
    """``data`` as base64 text."""
    return base64.b64encode(data).decode("ascii")


def check_signing_time(
    code: str,
    text: str,
    moment: datetime.datetime,
    node: etree._Element,
    certificate: x509.Certificate,
    *,
    latest: datetime.datetime,
) -> None:
    """Refuse (as ``code``) a ``SigningTime`` after ``latest`` or outside the validity."""
    if moment > latest:
        fail(
            code, f"SigningTime {text} lies in the future", f"SigningTime {text} е в бъдещето", node
        )
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        fail(
            code,
            f"SigningTime {text} is outside the certificate's validity",
            f"SigningTime {text} е извън срока на валидност на сертификата",
            node,
        )
