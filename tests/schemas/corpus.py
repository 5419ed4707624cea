"""A generated corpus of СЕОС messages, valid and invalid, built with lxml only.

Every case carries the verdict the specification's schema gives it; the equivalence tests
check that eintegr's own XSDs and the official ones agree with it (and with each other).
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree
from lxml.builder import ElementMaker

SEOS = "http://schemas.egov.bg/messaging/v1"
DS = "http://www.w3.org/2000/09/xmldsig#"
URI = "http://ereg.egov.bg/segment/0009-000001"
NS = {"s": SEOS, "ds": DS, "u": URI}

S = ElementMaker(namespace=SEOS, nsmap={None: SEOS})
D = ElementMaker(namespace=DS, nsmap={"ds": DS})
U = ElementMaker(namespace=URI, nsmap={"u": URI})

GUID_SENDER = "{6f9a1c02-3b4d-4e5f-8a9b-0c1d2e3f4a5b}"
GUID_RECIPIENT = "{A1B2C3D4-E5F6-4789-ABCD-EF0123456789}"
GUID_MESSAGE = "{0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d}"
GUID_DOCUMENT = "{fedcba98-7654-3210-fedc-ba9876543210}"
GUID_PARENT = "{11111111-2222-3333-4444-555555555555}"

B64 = base64.b64encode(bytes(range(48))).decode()
DIGEST = base64.b64encode(bytes(32)).decode()

Element = etree._Element


@dataclass(frozen=True)
class Case:
    """One corpus document and the verdict expected from the specification's schema."""

    name: str
    xml: bytes
    valid: bool
    #: engines ("lxml", "xmlschema") known to reach the opposite verdict, for ours and the
    #: official schemas alike (a quirk of the engine, not of the schemas)
    quirks: tuple[str, ...] = ()


# --- builders -----------------------------------------------------------------------------------


def entity(tag: str, identifier: str, name: str, guid: str) -> Element:
    node: Element = getattr(S, tag)(
        S.Identifier(identifier), S.AdministrativeBodyName(name), S.GUID(guid)
    )
    return node


def header(
    message_type: str, *, version: str = "1", date: str = "2024-05-01T10:15:30+03:00"
) -> Element:
    return S.Header(
        S.Version(version),
        S.MessageType(message_type),
        S.MessageDate(date),
        entity("Sender", "000695089", "Община Пример", GUID_SENDER),
        entity("Recipient", "121513231", "Министерство на примерите", GUID_RECIPIENT),
        S.MessageGUID(GUID_MESSAGE),
    )


def document_uri(
    index: str | None = "12", seq: str | None = "345", date: str | None = "2024-04-30"
) -> Element:
    uri = S.DocumentURI()
    if index is not None:
        uri.append(U.RegisterIndex(index))
    if seq is not None:
        uri.append(U.SequenceNumber(seq))
    if date is not None:
        uri.append(U.ReceiptOrSigningDate(date))
    return uri


def doc_id(kind: str = "number", *, tag: str = "DocID", guid: str = GUID_DOCUMENT) -> Element:
    element: Element = getattr(S, tag)()
    if kind == "number":
        element.append(S.DocumentNumber(S.DocNumber("ОБ-12-34/2024"), S.DocDate("2024-04-30")))
    elif kind == "uri":
        element.append(document_uri())
    element.append(S.DocumentGUID(guid))
    return element


def signature(*, extras: bool = False, sig_id: str | None = "sig-1") -> Element:
    """A structurally complete enveloped signature; ``extras`` adds every optional construct."""
    reference = D.Reference(
        D.Transforms(
            D.Transform(Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"),
            D.Transform(Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"),
        ),
        D.DigestMethod(Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"),
        D.DigestValue(DIGEST),
        URI="",
    )
    key_info = D.KeyInfo(
        D.X509Data(
            D.X509IssuerSerial(
                D.X509IssuerName("CN=Примерен УЦ, O=Example, C=BG"),
                D.X509SerialNumber("1250792851384054531"),
            ),
            D.X509SubjectName("CN=participant.example.bg, C=BG"),
            D.X509SKI(base64.b64encode(bytes(20)).decode()),
            D.X509Certificate(B64),
        )
    )
    sig = D.Signature(
        D.SignedInfo(
            D.CanonicalizationMethod(Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"),
            D.SignatureMethod(Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
            reference,
        ),
        D.SignatureValue(B64),
        key_info,
    )
    if sig_id is not None:
        sig.set("Id", sig_id)
    if extras:
        reference.set("Id", "ref-1")
        reference.set("Type", "http://www.w3.org/2000/09/xmldsig#Object")
        reference[0].append(
            D.Transform(
                D.XPath("not(ancestor-or-self::ds:Signature)"),
                Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116",
            )
        )
        sig[0][1].append(D.HMACOutputLength("160"))
        key_info.insert(0, D.KeyName("transport-key"))
        key_info.append(D.KeyValue(D.RSAKeyValue(D.Modulus(B64), D.Exponent("AQAB"))))
        key_info.append(D.KeyValue(D.DSAKeyValue(D.P(B64), D.Q(B64), D.G(B64), D.Y(B64))))
        key_info.append(
            D.RetrievalMethod(D.Transforms(D.Transform(Algorithm="urn:x")), URI="#cert")
        )
        key_info.append(D.X509Data(D.X509CRL(B64)))
        key_info.append(D.PGPData(D.PGPKeyID(B64), D.PGPKeyPacket(B64)))
        key_info.append(D.SPKIData(D.SPKISexp(B64)))
        key_info.append(D.MgmtData("shared secret id"))
        sig.append(
            D.Object(
                D.Manifest(D.Reference(D.DigestMethod(Algorithm="urn:d"), D.DigestValue(DIGEST))),
                D.SignatureProperties(
                    D.SignatureProperty(
                        etree.Element(
                            "{urn:example:props}SigningTime", nsmap={"p": "urn:example:props"}
                        ),
                        Target="#sig-1",
                    )
                ),
                Id="obj-1",
                MimeType="text/xml",
            )
        )
    return sig


def correspondent(*, full: bool = False, kind: str = "Corr_Applicant") -> Element:
    cor = S.Corespondent(S.CorName("Иван Иванов"), S.CorCity("София"))
    if full:
        cor.extend(
            [
                S.CorAddress("ул. Примерна 1"),
                S.CorEGN("7501010010"),
                S.CorIDCard("123456789"),
                S.CorBULSTAT("000695089"),
                S.CorEMail("ivan@example.bg"),
                S.CorPhone("+35921234567"),
                S.CorMobilePhone("+359888123456"),
                S.CorMOL("Петър Петров"),
                S.CorComment("бележка"),
                S.CorKind(kind),
            ]
        )
    return cor


def attachment(*, comment: bool = True, body: str = B64) -> Element:
    att = S.Attachment(S.AttFileName("заявление.pdf"), S.AttBody(body))
    if comment:
        att.append(S.AttComment("сканирано"))
    att.append(S.AttMIMEType("application/pdf"))
    return att


def add_data() -> Element:
    """DocAddData with arbitrary content: mixed text, foreign elements, attributes, nesting."""
    foreign = etree.Element("{urn:example:extra}Case", nsmap={"x": "urn:example:extra"}, ref="42")
    etree.SubElement(foreign, "{urn:example:extra}Step").text = "1"
    etree.SubElement(foreign, "plain", attr="no namespace").text = "text"
    data = S.DocAddData("свободен текст ", foreign, S.Anything("local names are fine too"))
    data.set("note", "attributes are allowed")
    return data


OPTIONAL_DOCUMENT_PARTS: dict[str, Callable[[], Element]] = {
    "DocParentID": lambda: doc_id("number", tag="DocParentID", guid=GUID_PARENT),
    "DocCorrespondentList": lambda: S.DocCorrespondentList(correspondent()),
    "DocAttachmentList": lambda: S.DocAttachmentList(attachment()),
    "DocAbout": lambda: S.DocAbout("Относно: искане"),
    "DocService": lambda: S.DocService(
        S.ServiceName("Издаване на удостоверение"), S.ServiceType("Бърза"), S.ServiceCode("2001")
    ),
    "DocComment": lambda: S.DocComment("коментар"),
    "DocAddData": add_data,
    "DocReqDateClose": lambda: S.DocReqDateClose("2024-06-30"),
    "DocAttentionTo": lambda: S.DocAttentionTo("г-жа Петрова"),
    "Signature": lambda: signature(sig_id="doc-sig"),
}
_DOCUMENT_ORDER = ["DocID", "DocParentID", "DocKind", *list(OPTIONAL_DOCUMENT_PARTS)[1:]]


def document(parts: tuple[str, ...] = (), *, id_kind: str = "number") -> Element:
    doc = S.Document(doc_id(id_kind))
    for name in _DOCUMENT_ORDER[1:]:
        if name == "DocKind":
            doc.append(S.DocKind("Заявление"))
        elif name in parts:
            doc.append(OPTIONAL_DOCUMENT_PARTS[name]())
    return doc


def registration(
    parts: tuple[str, ...] = (), *, id_kind: str = "number", signed: bool = False
) -> Element:
    msg = S.Message(
        header("MSG_DocumentRegistrationRequest"),
        S.Body(
            S.DocumentRegistrationRequest(
                document(parts, id_kind=id_kind), S.Comment("Моля, регистрирайте.")
            )
        ),
    )
    if signed:
        msg.append(signature())
    return msg


def status_request(id_kind: str = "number") -> Element:
    return S.Message(
        header("MSG_DocumentStatusRequest"),
        S.Body(S.DocumentStatusRequest(doc_id(id_kind))),
    )


def status_response(
    status: str = "DS_REGISTERED", *, full: bool = False, id_kind: str = "number"
) -> Element:
    body = S.DocumentStatusResponse(doc_id(id_kind), S.DocRegStatus(status))
    if full:
        body.extend(
            [S.RejectionReason("непълни данни"), S.DocExpectCloseDate("2024-07-01"), add_data()]
        )
    return S.Message(header("MSG_DocumentStatusResponse"), S.Body(body))


def error_message(kind: str = "ERR_EXTERNAL", *, with_guid: bool = True) -> Element:
    body = S.Error()
    if with_guid:
        body.append(S.MessageGUID(GUID_MESSAGE))
    body.extend([S.ErrorType(kind), S.ErrorDescription("Невалиден формат")])
    return S.Message(header("MSG_Error"), S.Body(body))


FULL_PARTS = tuple(OPTIONAL_DOCUMENT_PARTS)


def full_registration() -> Element:
    msg = registration(FULL_PARTS, id_kind="uri", signed=True)
    cor_list = msg.find(".//s:DocCorrespondentList", NS)
    assert cor_list is not None
    cor_list.append(correspondent(full=True, kind="Corr_Applicant"))
    cor_list.append(correspondent(full=True, kind="Corr_Other"))
    att_list = msg.find(".//s:DocAttachmentList", NS)
    assert att_list is not None
    att_list.append(attachment(comment=False))
    return msg


# --- editing helpers ----------------------------------------------------------------------------


def edited(base: Element, path: str, change: Callable[[Element], None]) -> Element:
    """A deep copy of ``base`` with ``change`` applied to the element at ``path`` (XPath)."""
    root = copy.deepcopy(base)
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    assert found, f"{path} not found"
    target = found[0]
    assert isinstance(target, etree._Element)
    change(target)
    return root


def set_text(value: str) -> Callable[[Element], None]:
    def change(el: Element) -> None:
        el.text = value

    return change


def replace_with(factory: Callable[[], Element]) -> Callable[[Element], None]:
    def change(el: Element) -> None:
        parent = el.getparent()
        assert parent is not None
        parent.replace(el, factory())

    return change


def remove(el: Element) -> None:
    parent = el.getparent()
    assert parent is not None
    parent.remove(el)


def duplicate(el: Element) -> None:
    el.addnext(copy.deepcopy(el))


def swap_with_next(el: Element) -> None:
    nxt = el.getnext()
    assert nxt is not None
    nxt.addnext(el)


def append(child: Callable[[], Element]) -> Callable[[Element], None]:
    def change(el: Element) -> None:
        el.append(child())

    return change


def insert_first(child: Callable[[], Element]) -> Callable[[Element], None]:
    def change(el: Element) -> None:
        el.insert(0, child())

    return change


def set_tail_text(value: str) -> Callable[[Element], None]:
    def change(el: Element) -> None:
        el.tail = value

    return change


def rename(tag: str) -> Callable[[Element], None]:
    def change(el: Element) -> None:
        el.tag = tag

    return change


def remove_attr(name: str) -> Callable[[Element], None]:
    def change(el: Element) -> None:
        del el.attrib[name]

    return change


def set_attr(name: str, value: str) -> Callable[[Element], None]:
    def change(el: Element) -> None:
        el.set(name, value)

    return change


# --- the corpus ---------------------------------------------------------------------------------


def _b(el: Element) -> bytes:
    return etree.tostring(el, xml_declaration=True, encoding="utf-8")


def valid_cases() -> Iterator[Case]:
    def ok(name: str, el: Element) -> Case:
        return Case(name, _b(el), True)

    for kind in ("number", "uri", "none"):
        yield ok(f"status-request-{kind}", status_request(kind))
        yield ok(f"status-response-{kind}", status_response(id_kind=kind))
        yield ok(f"registration-minimal-{kind}", registration(id_kind=kind))
    for status in (
        "DS_WAIT_REGISTRATION", "DS_REGISTERED", "DS_STOPPED", "DS_CLOSED",
        "DS_NOT_FOUND", "DS_ALREADY_RECEIVED", "DS_REJECTED",
    ):  # fmt: skip
        yield ok(f"status-{status}", status_response(status))
    yield ok("status-response-full", status_response("DS_REJECTED", full=True, id_kind="uri"))
    for kind in ("ERR_INTERNAL", "ERR_EXTERNAL"):
        yield ok(f"error-{kind}", error_message(kind))
    yield ok("error-without-message-guid", error_message(with_guid=False))
    for part in OPTIONAL_DOCUMENT_PARTS:
        yield ok(f"registration-only-{part}", registration((part,)))
    for part in OPTIONAL_DOCUMENT_PARTS:
        yield ok(
            f"registration-all-but-{part}", registration(tuple(p for p in FULL_PARTS if p != part))
        )
    yield ok("registration-full-signed", full_registration())
    yield ok("registration-signed-message-only", registration(signed=True))
    base = status_request()
    yield ok("version-1.0", edited(base, "/s:Message/s:Header/s:Version", set_text("1.0")))
    yield ok(
        "message-type-mismatch-is-xsd-valid", edited(base, "//s:MessageType", set_text("MSG_Error"))
    )
    for date in (
        "2024-05-01T10:15:30Z",
        "2021-08-24T01:02:54.2432872+03:00",
        "2024-05-01T10:15:30",
    ):
        yield ok(f"message-date-{date}", edited(base, "//s:MessageDate", set_text(date)))
    yield ok("guid-upper-case", edited(base, "//s:MessageGUID", set_text(GUID_MESSAGE.upper())))
    yield ok("empty-strings", edited(registration(), "//s:Comment", set_text("")))
    uri_base = status_request("uri")
    yield ok("uri-empty", edited(uri_base, "//s:DocumentURI", lambda el: el.clear()))
    yield ok("uri-index-only", edited(uri_base, "//u:SequenceNumber", remove))
    yield ok("register-index-lexical", edited(uri_base, "//u:RegisterIndex", set_text(" +0042 ")))
    yield ok("register-index-huge", edited(uri_base, "//u:RegisterIndex", set_text("9" * 40)))
    att = registration(("DocAttachmentList",))
    yield ok("attachment-empty-body", edited(att, "//s:AttBody", set_text("")))
    yield ok("attachment-wrapped-base64", edited(att, "//s:AttBody", set_text("AAEC\nAwQF\n")))
    sig = registration(signed=True)
    yield ok(
        "signature-every-optional",
        edited(sig, "/s:Message/ds:Signature", replace_with(lambda: signature(extras=True))),
    )
    yield ok("signature-no-keyinfo", edited(sig, "//ds:KeyInfo", remove))
    yield ok(
        "signature-dsa-minimal",
        edited(sig, "//ds:X509Data", replace_with(lambda: D.KeyValue(D.DSAKeyValue(D.Y(B64))))),
    )
    yield ok(
        "signature-pgp-packet-only",
        edited(sig, "//ds:X509Data", replace_with(lambda: D.PGPData(D.PGPKeyPacket(B64)))),
    )
    yield ok("signature-whitespace-in-mixed", edited(sig, "//ds:KeyInfo", set_text("\n  ")))
    yield ok(
        "add-data-holding-valid-signature",
        edited(status_response(full=True), "//s:DocAddData", append(signature)),
    )
    yield ok(
        "real-sample-shape",
        edited(
            status_response("DS_WAIT_REGISTRATION"),
            "/s:Message",
            append(lambda: signature(sig_id=None)),
        ),
    )


def invalid_cases() -> Iterator[Case]:
    def bad(name: str, el: Element, quirks: tuple[str, ...] = ()) -> Case:
        return Case(name, _b(el), False, quirks)

    req = status_request()
    reg = registration(("DocCorrespondentList", "DocAttachmentList"))
    full = full_registration()
    uri = status_request("uri")
    resp = status_response(full=True)
    err = error_message()
    sig = registration(signed=True)

    # element order
    yield bad("order-header", edited(req, "//s:MessageType", swap_with_next))
    yield bad("order-sender-recipient", edited(req, "//s:Sender", swap_with_next))
    yield bad("order-document", edited(full, "//s:DocParentID", swap_with_next))
    yield bad("order-correspondent", edited(reg, "//s:CorName", swap_with_next))
    yield bad("order-attachment", edited(reg, "//s:AttComment", swap_with_next))
    yield bad("order-body-before-header", edited(req, "/s:Message/s:Header", swap_with_next))
    yield bad("order-signature-before-body", edited(sig, "/s:Message/s:Body", swap_with_next))
    yield bad("order-uri-parts", edited(uri, "//u:RegisterIndex", swap_with_next))
    yield bad("order-guid-before-number", edited(req, "//s:DocumentNumber", swap_with_next))
    # missing required elements
    for path in (
        "//s:Version", "//s:MessageType", "//s:MessageDate", "/s:Message/s:Header/s:MessageGUID",
        "//s:Sender/s:GUID", "//s:Recipient", "//s:DocumentGUID", "/s:Message/s:Body",
        "/s:Message/s:Header",
    ):  # fmt: skip
        yield bad(f"missing-{path.rsplit(':', 1)[-1]}-{path.count('/')}", edited(req, path, remove))
    for path in (
        "//s:Comment",
        "//s:DocKind",
        "//s:AttMIMEType",
        "//s:AttBody",
        "//s:CorCity",
        "//s:DocDate",
    ):
        yield bad(f"missing-{path.rsplit(':', 1)[-1]}", edited(reg, path, remove))
    yield bad("missing-DocRegStatus", edited(resp, "//s:DocRegStatus", remove))
    yield bad("missing-ErrorDescription", edited(err, "//s:ErrorDescription", remove))
    yield bad("empty-body", edited(req, "//s:DocumentStatusRequest", remove))
    yield bad("empty-correspondent-list", edited(reg, "//s:Corespondent", remove))
    # unknown elements and attributes
    yield bad(
        "unknown-in-header", edited(req, "/s:Message/s:Header", append(lambda: S.Priority("high")))
    )
    yield bad(
        "unknown-in-document", edited(reg, "//s:Document", insert_first(lambda: S.DocUnknown("x")))
    )
    yield bad(
        "unknown-body-kind",
        edited(req, "/s:Message/s:Body", lambda el: el.replace(el[0], S.DocumentDeleteRequest())),
    )
    yield bad("unknown-attribute", edited(req, "/s:Message", set_attr("priority", "high")))
    yield bad("unknown-after-signature", edited(sig, "/s:Message", append(lambda: S.Trailer())))
    # GUID patterns
    for label, value in {
        "no-braces": GUID_MESSAGE[1:-1],
        "one-brace": GUID_MESSAGE[:-1],
        "short": "{0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5}",
        "long": "{0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5dd}",
        "non-hex": "{0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4cXZ}",
        "no-dashes": "{0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d}",
        "padded": f" {GUID_MESSAGE} ",
        "empty": "",
    }.items():
        yield bad(
            f"guid-{label}", edited(req, "/s:Message/s:Header/s:MessageGUID", set_text(value))
        )
    yield bad("guid-bad-document", edited(req, "//s:DocumentGUID", set_text("not-a-guid")))
    yield bad("guid-bad-sender", edited(req, "//s:Sender/s:GUID", set_text("{}")))
    yield bad(
        "guid-bad-error", edited(err, "//s:Error/s:MessageGUID", set_text(GUID_MESSAGE[1:-1]))
    )
    # enumerations
    yield bad("enum-message-type", edited(req, "//s:MessageType", set_text("MSG_Unknown")))
    yield bad("enum-message-type-case", edited(req, "//s:MessageType", set_text("msg_error")))
    yield bad("enum-doc-reg-status", edited(resp, "//s:DocRegStatus", set_text("DS_LOST")))
    yield bad("enum-doc-reg-status-space", edited(resp, "//s:DocRegStatus", set_text(" DS_CLOSED")))
    yield bad("enum-error-type", edited(err, "//s:ErrorType", set_text("ERR_OTHER")))
    yield bad("enum-cor-kind", edited(full, "//s:CorKind", set_text("Corr_Lawyer")))
    # dates and times
    yield bad("datetime-month-13", edited(req, "//s:MessageDate", set_text("2024-13-01T10:00:00")))
    yield bad("datetime-date-only", edited(req, "//s:MessageDate", set_text("2024-05-01")))
    yield bad("datetime-local-format", edited(req, "//s:MessageDate", set_text("01.05.2024 10:00")))
    yield bad("date-local-format", edited(req, "//s:DocDate", set_text("30.04.2024")))
    yield bad("date-feb-30", edited(full, "//s:DocReqDateClose", set_text("2024-02-30")))
    yield bad("date-word", edited(resp, "//s:DocExpectCloseDate", set_text("tomorrow")))
    yield bad(
        "date-with-time", edited(uri, "//u:ReceiptOrSigningDate", set_text("2024-04-30T00:00:00"))
    )
    # base64
    yield bad("base64-punctuation", edited(reg, "//s:AttBody", set_text("not base64!")))
    yield bad("base64-length", edited(reg, "//s:AttBody", set_text("abc")))
    # libxml2 skips the lexical check of types derived from base64Binary without facets
    yield bad("base64-digest", edited(sig, "//ds:DigestValue", set_text("***")), ("lxml",))
    yield bad(
        "base64-signature-value",
        edited(sig, "//ds:SignatureValue", set_text("***")),
        ("lxml",),
    )
    yield bad("base64-certificate", edited(sig, "//ds:X509Certificate", set_text("MII=C")))
    # register index and sequence number
    for value in ("0", "-1", "abc", "1.5", ""):
        yield bad(
            f"register-index-{value or 'empty'}", edited(uri, "//u:RegisterIndex", set_text(value))
        )
    yield bad("sequence-number-0", edited(uri, "//u:SequenceNumber", set_text("0")))
    # namespaces
    # (lxml would not write xmlns="" for a renamed element: build the bytes directly)
    yield Case("ns-header-unqualified", _b(req).replace(b"<Header>", b'<Header xmlns="">'), False)
    yield bad(
        "ns-register-index-in-seos",
        edited(uri, "//u:RegisterIndex", rename(f"{{{SEOS}}}RegisterIndex")),
    )
    yield bad(
        "ns-signature-in-seos",
        edited(sig, "/s:Message/ds:Signature", rename(f"{{{SEOS}}}Signature")),
    )
    yield bad("ns-guid-in-dsig", edited(req, "//s:DocumentGUID", rename(f"{{{DS}}}DocumentGUID")))
    yield bad(
        "ns-root-in-other",
        edited(req, "/s:Message", rename("{http://schemas.egov.bg/messaging/v2}Message")),
    )
    # malformed signatures
    yield bad("sig-missing-signature-value", edited(sig, "//ds:SignatureValue", remove))
    yield bad("sig-missing-signed-info", edited(sig, "//ds:SignedInfo", remove))
    yield bad("sig-missing-reference", edited(sig, "//ds:Reference", remove))
    yield bad("sig-missing-digest-value", edited(sig, "//ds:DigestValue", remove))
    yield bad(
        "sig-missing-algorithm", edited(sig, "//ds:SignatureMethod", remove_attr("Algorithm"))
    )
    yield bad("sig-empty-key-info", edited(sig, "//ds:KeyInfo", lambda el: el.clear()))
    yield bad("sig-empty-x509data", edited(sig, "//ds:X509Data", lambda el: el.clear()))
    yield bad("sig-serial-not-integer", edited(sig, "//ds:X509SerialNumber", set_text("0x1F")))
    yield bad(
        "sig-hmac-not-integer",
        edited(sig, "//ds:SignatureMethod", append(lambda: D.HMACOutputLength("many"))),
    )
    yield bad("sig-unknown-child", edited(sig, "//ds:SignedInfo", append(lambda: D.Nonce("1"))))
    yield bad("sig-duplicate-id", edited(sig, "//ds:SignedInfo", set_attr("Id", "sig-1")))
    yield bad("sig-two-signatures", edited(sig, "/s:Message/ds:Signature", duplicate))
    yield bad(
        "sig-in-add-data-invalid",
        edited(resp, "//s:DocAddData", append(lambda: D.Signature(D.SignedInfo()))),
        ("xmlschema",),
    )
    yield bad(
        "doc-signature-malformed",
        edited(registration(("Signature",)), "//s:Document/ds:Signature/ds:SignatureValue", remove),
    )
    # structure
    yield bad(
        "two-body-children",
        edited(req, "/s:Message/s:Body", lambda el: el.append(copy.deepcopy(el[0]))),
    )
    yield bad(
        "two-bodies-different",
        edited(req, "/s:Message/s:Body", lambda el: el.append(error_message()[1][0])),
    )
    yield bad("two-bodies", edited(req, "/s:Message/s:Body", duplicate))
    yield bad("two-headers", edited(req, "/s:Message/s:Header", duplicate))
    yield bad("two-doc-ids", edited(req, "//s:DocID", duplicate))
    yield bad(
        "number-and-uri", edited(req, "//s:DocumentNumber", lambda el: el.addnext(document_uri()))
    )
    yield bad("two-document-numbers", edited(req, "//s:DocumentNumber", duplicate))
    yield bad("text-in-header", edited(req, "/s:Message/s:Header", set_text("stray")))
    yield bad("text-between-elements", edited(req, "//s:Version", set_tail_text("stray")))
    yield bad("text-in-body", edited(req, "/s:Message/s:Body", set_text("stray")))
    yield bad("text-in-message", edited(req, "/s:Message/s:Header", set_tail_text("stray")))
    yield bad("text-in-document", edited(reg, "//s:Document", set_text("x")))
    yield bad("text-in-uri", edited(uri, "//s:DocumentURI", set_text("12/345")))
    yield bad("child-in-simple", edited(req, "//s:Version", append(lambda: S.Major("1"))))
    yield bad("root-not-global", req[0])


def corpus() -> list[Case]:
    """Every case; names are unique."""
    cases = [*valid_cases(), *invalid_cases()]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return cases
