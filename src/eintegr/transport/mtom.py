"""MTOM/XOP (SOAP Message Transmission Optimization): encode and decode ``multipart/related``.

A WCF service bound with ``messageEncoding="Mtom"`` — ССЕВ's integration service among them
— sends and expects SOAP envelopes packaged as ``multipart/related;
type="application/xop+xml"``: the envelope is the root part, and the content of
``base64Binary`` elements travels as raw binary parts referenced from the envelope by
``<xop:Include href="cid:…"/>``.

* :func:`encode_mtom` packages an envelope element, moving the content of the elements you
  name (and at least ``min_size`` bytes long) into binary parts;
* :func:`decode_mtom` reads a package with the standard library's :mod:`email` parser and
  returns the envelope with every ``xop:Include`` replaced by the base64 text of its part
  (the XOP infoset), ready for :func:`~eintegr.transport.soap.parse_envelope`;
* :func:`decode_soap_body` accepts either form, choosing by the HTTP ``Content-Type``.

Reading is bounded by :class:`MtomLimits` (total size, number of parts, the root part's XML
limits) and strict: a package with MIME defects, a missing or duplicated ``Content-ID``, an
``xop:Include`` that is not the only content of its element, a reference to a missing part,
or a part referenced twice is refused with :class:`~eintegr.errors.SoapError` (``MTOM-*``).
"""

from __future__ import annotations

import base64
import email.message
import email.parser
import email.policy
import secrets
import urllib.parse
from collections.abc import Collection
from dataclasses import dataclass

from lxml import etree

from eintegr.errors import SoapError, XmlError
from eintegr.xml import XmlLimits, parse_xml

__all__ = [
    "DEFAULT_MTOM_LIMITS",
    "MTOM_CONTENT_TYPE",
    "XOP_NS",
    "MtomLimits",
    "decode_mtom",
    "decode_soap_body",
    "encode_mtom",
    "is_mtom",
]

XOP_NS = "http://www.w3.org/2004/08/xop/include"
"""The XOP namespace of ``xop:Include``."""
MTOM_CONTENT_TYPE = "application/xop+xml"
"""The media type of an MTOM package's root part (and the ``type`` parameter of the package)."""

_INCLUDE = f"{{{XOP_NS}}}Include"
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MtomLimits:
    """Limits applied when reading an MTOM package.

    :param max_bytes: the largest accepted package (default 80 MiB: ССЕВ's 50 MiB message
        limit plus room for the envelope).
    :param max_parts: the most MIME parts (root included).
    :param max_depth: the deepest element nesting of the root part.
    """

    max_bytes: int = 80 * _MIB
    max_parts: int = 1000
    max_depth: int = 256

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.max_parts < 1 or self.max_depth < 1:
            raise ValueError("MTOM limits must be positive")

    def xml(self) -> XmlLimits:
        """The limits for the reconstituted envelope (base64 takes 4/3 of the binary size)."""
        return XmlLimits(max_bytes=self.max_bytes * 4 // 3 + 4096, max_depth=self.max_depth)


DEFAULT_MTOM_LIMITS = MtomLimits()


def _error(code: str, en: str, bg: str) -> SoapError:
    return SoapError(en, code=code, message_bg=bg)


def is_mtom(content_type: str | None) -> bool:
    """Whether an HTTP ``Content-Type`` announces a ``multipart/related`` (MTOM) package."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "multipart/related"


def _cid() -> str:
    return f"{secrets.token_hex(16)}@eintegr"


def encode_mtom(
    envelope: etree._Element,
    *,
    binary: Collection[str] = (),
    min_size: int = 1024,
    soap_content_type: str = "text/xml",
) -> tuple[bytes, str]:
    """Package ``envelope`` as MTOM; returns ``(body, content_type)`` for the HTTP request.

    The text of every element whose Clark name (``{namespace}local``) is in ``binary`` is
    base64-decoded and moved into a binary part when it is at least ``min_size`` bytes long;
    the element gets an ``xop:Include`` instead. ``envelope`` is changed in place.

    :raises SoapError: ``MTOM-BASE64`` when such an element's text is not base64.
    """
    wanted = frozenset(binary)
    parts: list[tuple[str, bytes]] = []
    for element in list(envelope.iter()):
        if element.tag not in wanted or len(element) or not element.text:
            continue
        try:
            data = base64.b64decode("".join(element.text.split()), validate=True)
        except ValueError:
            raise _error(
                "MTOM-BASE64",
                f"{element.tag} does not hold base64 text",
                f"{element.tag} не съдържа текст в base64",
            ) from None
        if len(data) < min_size:
            continue
        cid = _cid()
        element.text = None
        etree.SubElement(element, _INCLUDE, nsmap={"xop": XOP_NS}).set(
            "href", "cid:" + urllib.parse.quote(cid, safe="@")
        )
        parts.append((cid, data))
    root_cid = _cid()
    boundary = "uuid:" + secrets.token_hex(16)
    xml = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
    crlf = b"\r\n"
    chunks = [
        b"--" + boundary.encode("ascii"),
        b"Content-ID: <" + root_cid.encode("ascii") + b">",
        b"Content-Transfer-Encoding: 8bit",
        f'Content-Type: {MTOM_CONTENT_TYPE};charset=utf-8;type="{soap_content_type}"'.encode(
            "ascii"
        ),
        b"",
        xml,
    ]
    for cid, data in parts:
        chunks += [
            b"--" + boundary.encode("ascii"),
            b"Content-ID: <" + cid.encode("ascii") + b">",
            b"Content-Transfer-Encoding: binary",
            b"Content-Type: application/octet-stream",
            b"",
            data,
        ]
    chunks.append(b"--" + boundary.encode("ascii") + b"--")
    body = crlf.join(chunks) + crlf
    content_type = (
        f'multipart/related; type="{MTOM_CONTENT_TYPE}"; boundary="{boundary}"; '
        f'start="<{root_cid}>"; start-info="{soap_content_type}"'
    )
    return body, content_type


def _content_id(part: email.message.Message) -> str | None:
    value = part.get("Content-ID")
    if value is None:
        return None
    value = str(value).strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return value


def decode_mtom(
    body: bytes, content_type: str, *, limits: MtomLimits = DEFAULT_MTOM_LIMITS
) -> bytes:
    """The envelope of an MTOM package, every ``xop:Include`` replaced by base64 text.

    :param body: the HTTP body.
    :param content_type: the HTTP ``Content-Type`` (``multipart/related`` with a boundary).
    :raises SoapError: ``MTOM-LIMIT`` (too large, too many parts), ``MTOM-MALFORMED`` (not a
        well-formed ``multipart/related`` package, duplicated Content-IDs, no root part),
        ``MTOM-XOP`` (a broken ``xop:Include``: not the only content of its element, not a
        ``cid:`` reference, to a missing part, or to a part already used), ``MTOM-XML`` (the
        root part is not acceptable XML).
    """
    if len(body) > limits.max_bytes:
        raise _error(
            "MTOM-LIMIT",
            f"the MTOM package has {len(body)} bytes, more than the limit of {limits.max_bytes}",
            f"MTOM пакетът е {len(body)} байта, над ограничението от {limits.max_bytes}",
        )
    if not is_mtom(content_type) or "\r" in content_type or "\n" in content_type:
        raise _error(
            "MTOM-MALFORMED",
            f"{content_type[:100]!r} is not a multipart/related content type",
            "Типът на съдържанието не е multipart/related",
        )
    probe = email.message.Message()
    probe["Content-Type"] = content_type
    boundary = probe.get_boundary()
    if not boundary:
        raise _error(
            "MTOM-MALFORMED",
            "the multipart/related content type has no boundary",
            "Типът multipart/related няма граница (boundary)",
        )
    if body.count(b"--" + boundary.encode("latin-1", "replace")) > limits.max_parts + 1:
        raise _error(
            "MTOM-LIMIT",
            f"the package has more than {limits.max_parts} parts",
            f"Пакетът има повече от {limits.max_parts} части",
        )
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(head + body)
    if message.defects or not message.is_multipart():
        raise _error(
            "MTOM-MALFORMED",
            "the body is not a well-formed multipart/related package"
            + (
                f" ({', '.join(type(d).__name__ for d in message.defects)})"
                if message.defects
                else ""
            ),
            "Тялото не е правилно оформен пакет multipart/related",
        )
    payload = message.get_payload()
    parts = (
        [p for p in payload if isinstance(p, email.message.Message)]
        if isinstance(payload, list)
        else []
    )
    if not parts or len(parts) > limits.max_parts:
        raise _error(
            "MTOM-LIMIT" if parts else "MTOM-MALFORMED",
            f"the package has {len(parts)} parts",
            f"Пакетът има {len(parts)} части",
        )
    by_id: dict[str, email.message.Message] = {}
    for part in parts:
        if part.defects or part.is_multipart():
            raise _error(
                "MTOM-MALFORMED",
                "a part of the package is malformed or nested",
                "Част от пакета е неправилна или вложена",
            )
        cid = _content_id(part)
        if cid is None:
            continue
        if cid in by_id:
            raise _error(
                "MTOM-MALFORMED",
                f"the Content-ID <{cid}> is used by two parts",
                f"Content-ID <{cid}> се използва от две части",
            )
        by_id[cid] = part
    start = message.get_param("start")
    root_part = parts[0]
    if isinstance(start, str):
        start_id = start.strip()
        start_id = (
            start_id[1:-1] if start_id.startswith("<") and start_id.endswith(">") else start_id
        )
        if start_id not in by_id:
            raise _error(
                "MTOM-MALFORMED",
                f"the start part <{start_id}> is not in the package",
                "Началната част липсва в пакета",
            )
        root_part = by_id[start_id]
    root_type = root_part.get_content_type()
    if root_type not in (MTOM_CONTENT_TYPE, "text/xml", "application/soap+xml"):
        raise _error(
            "MTOM-MALFORMED",
            f"the root part is {root_type}, not {MTOM_CONTENT_TYPE}",
            f"Основната част е {root_type}, а не {MTOM_CONTENT_TYPE}",
        )
    root_bytes = root_part.get_payload(decode=True)
    assert isinstance(root_bytes, bytes)
    try:
        tree = parse_xml(root_bytes, limits=XmlLimits(limits.max_bytes, limits.max_depth))
    except XmlError as exc:
        raise SoapError(
            f"the root part is not acceptable XML: {exc}",
            code="MTOM-XML",
            message_bg=f"Основната част не е приемлив XML: {exc.message_bg}",
            line=exc.line,
        ) from exc
    used: set[str] = set()
    for include in list(tree.iter(_INCLUDE)):
        parent = include.getparent()
        href = include.get("href") or ""
        if (
            parent is None
            or len(parent) != 1
            or (parent.text or "").strip()
            or (include.tail or "").strip()
        ):
            raise _error(
                "MTOM-XOP",
                "an xop:Include must be the only content of its element",
                "xop:Include трябва да е единственото съдържание на елемента си",
            )
        if not href.startswith("cid:"):
            raise _error(
                "MTOM-XOP",
                f"xop:Include href {href[:80]!r} is not a cid: reference",
                "xop:Include не сочи cid:",
            )
        cid = urllib.parse.unquote(href[4:])
        referenced = by_id.get(cid)
        if referenced is None or referenced is root_part:
            raise _error(
                "MTOM-XOP",
                f"xop:Include refers to a missing part <{cid}>",
                f"xop:Include сочи липсваща част <{cid}>",
            )
        if cid in used:
            raise _error(
                "MTOM-XOP",
                f"the part <{cid}> is referenced twice",
                f"Частта <{cid}> е посочена два пъти",
            )
        used.add(cid)
        data = referenced.get_payload(decode=True)
        assert isinstance(data, bytes)
        parent.remove(include)
        parent.text = base64.b64encode(data).decode("ascii")
    return etree.tostring(tree, encoding="utf-8", xml_declaration=True)


def decode_soap_body(
    body: bytes, content_type: str | None, *, limits: MtomLimits = DEFAULT_MTOM_LIMITS
) -> bytes:
    """The SOAP envelope bytes of an HTTP body: MTOM packages are decoded, plain XML passed on.

    :raises SoapError: see :func:`decode_mtom`; ``MTOM-LIMIT`` also for a plain body over
        ``limits.max_bytes``.
    """
    if is_mtom(content_type):
        return decode_mtom(body, content_type or "", limits=limits)
    if len(body) > limits.max_bytes:
        raise _error(
            "MTOM-LIMIT",
            f"the body has {len(body)} bytes, more than the limit of {limits.max_bytes}",
            f"Тялото е {len(body)} байта, над ограничението от {limits.max_bytes}",
        )
    return body
