"""SOAP 1.1 envelopes and faults, built and read with the hardened parser.

The СЕОС endpoint and register, RegiX and ССЕВ all speak SOAP 1.1. This module owns the
envelope; each service module owns its body elements.

>>> data = build_envelope([etree.Element("{urn:x}Ping")])
>>> envelope = parse_envelope(data)
>>> etree.QName(envelope.body_element).localname
'Ping'
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass, field

from lxml import etree

from eintegr.errors import SoapError, XmlError
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, parse_xml

__all__ = [
    "SOAP11_CONTENT_TYPE",
    "SOAP11_NS",
    "SoapEnvelope",
    "SoapFault",
    "build_envelope",
    "build_fault",
    "parse_envelope",
]

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
"""The SOAP 1.1 envelope namespace."""
SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"
"""The HTTP Content-Type of a SOAP 1.1 message."""

_S = "{" + SOAP11_NS + "}"


@dataclass(frozen=True, slots=True)
class SoapFault:
    """A SOAP 1.1 fault.

    :param code: ``faultcode`` as a local name in the envelope namespace (``Client``,
        ``Server``) or a qualified ``prefix:name`` the caller declares.
    :param string: ``faultstring``, the human-readable reason.
    :param actor: ``faultactor``, when known.
    :param detail: the serialized children of ``detail`` (XML text), when any.
    """

    code: str
    string: str
    actor: str | None = None
    detail: str | None = None

    @property
    def is_client(self) -> bool:
        """True for a ``Client`` fault (the request was at fault)."""
        return self.code.rpartition(":")[2].startswith("Client")


@dataclass(frozen=True, slots=True)
class SoapEnvelope:
    """A parsed envelope: the header entries, the body's children and the fault, if any."""

    header: tuple[etree._Element, ...] = ()
    body: tuple[etree._Element, ...] = ()
    fault: SoapFault | None = field(default=None)

    @property
    def body_element(self) -> etree._Element:
        """The single body entry; :class:`SoapError` when the body holds none or several."""
        if len(self.body) != 1:
            raise SoapError(
                f"the SOAP body holds {len(self.body)} elements, not exactly one",
                code="SOAP-BODY",
                message_bg=f"Тялото на SOAP съобщението съдържа {len(self.body)} елемента, "
                "а не точно един",
            )
        return self.body[0]


def build_envelope(
    body: Sequence[etree._Element], *, header: Sequence[etree._Element] = ()
) -> bytes:
    """A SOAP 1.1 envelope around ``body`` (and ``header`` entries), as UTF-8 bytes."""
    envelope = etree.Element(_S + "Envelope", nsmap={"s": SOAP11_NS})
    if header:
        head = etree.SubElement(envelope, _S + "Header")
        head.extend(header)
    body_el = etree.SubElement(envelope, _S + "Body")
    body_el.extend(body)
    return etree.tostring(envelope, encoding="utf-8", xml_declaration=True)


def build_fault(fault: SoapFault) -> bytes:
    """A SOAP 1.1 envelope holding ``fault``."""
    element = etree.Element(_S + "Fault", nsmap={"s": SOAP11_NS})
    code = fault.code if ":" in fault.code else f"s:{fault.code}"
    etree.SubElement(element, "faultcode").text = code
    etree.SubElement(element, "faultstring").text = fault.string
    if fault.actor:
        etree.SubElement(element, "faultactor").text = fault.actor
    if fault.detail:
        detail = etree.SubElement(element, "detail")
        wrapper = parse_xml(b"<d>" + fault.detail.encode("utf-8") + b"</d>").getroot()
        detail.text = wrapper.text
        detail.extend(list(wrapper))
    return build_envelope([element])


def _detached(element: etree._Element) -> etree._Element:
    """A copy of ``element`` without the namespace declarations it inherits but does not use."""
    copy = deepcopy(element)
    copy.tail = None
    etree.cleanup_namespaces(copy)
    return copy


def _fault(element: etree._Element) -> SoapFault:
    def text(name: str) -> str | None:
        found = element.find(name)
        return found.text.strip() if found is not None and found.text else None

    detail = element.find("detail")
    detail_xml = None
    if detail is not None and (len(detail) or (detail.text or "").strip()):
        detail_xml = (detail.text or "") + "".join(
            etree.tostring(_detached(child), encoding="unicode") for child in detail
        )
    return SoapFault(
        code=text("faultcode") or "",
        string=text("faultstring") or "",
        actor=text("faultactor"),
        detail=detail_xml,
    )


def parse_envelope(data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> SoapEnvelope:
    """Read a SOAP 1.1 envelope with the hardened parser.

    :raises SoapError: the bytes are not XML (``SOAP-XML``, carrying the parser's reason) or
        not a SOAP 1.1 envelope (``SOAP-MALFORMED``).
    """
    try:
        root = parse_xml(data, limits=limits).getroot()
    except XmlError as error:
        raise SoapError(
            f"the SOAP message is not acceptable XML: {error}",
            code="SOAP-XML",
            message_bg=f"SOAP съобщението не е приемлив XML: {error.message_bg}",
            line=error.line,
        ) from error
    if root.tag != _S + "Envelope":
        raise SoapError(
            f"the root element is {root.tag!r}, not a SOAP 1.1 Envelope",
            message_bg=f"Коренният елемент е {root.tag!r}, а не SOAP 1.1 Envelope",
        )
    header: tuple[etree._Element, ...] = ()
    body: etree._Element | None = None
    for child in root:
        if child.tag == _S + "Header" and body is None and not header:
            header = tuple(c for c in child if isinstance(c.tag, str))
        elif child.tag == _S + "Body" and body is None:
            body = child
        elif isinstance(child.tag, str):
            raise SoapError(
                f"unexpected element {child.tag!r} in the SOAP envelope",
                message_bg=f"Неочакван елемент {child.tag!r} в SOAP плика",
            )
    if body is None:
        raise SoapError(
            "the SOAP envelope has no Body",
            message_bg="SOAP пликът няма Body",
        )
    entries = tuple(c for c in body if isinstance(c.tag, str))
    if len(entries) == 1 and entries[0].tag == _S + "Fault":
        return SoapEnvelope(header=header, body=entries, fault=_fault(entries[0]))
    return SoapEnvelope(header=header, body=entries)
