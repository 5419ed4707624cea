"""The register's wire format: SOAP 1.1 RPC/encoded, both ways (``EGovRegistry.wsdl``).

The register answers five operations in the namespace ``uri:egovmsg``, each with the
SOAPAction ``uri:egovmsg/<Operation>`` and one ``xsd:string``/``xsd:dateTime`` part (none for
``GetAllRecords``); each returns an ``EGovMessageDir``: an array of ``Entity`` records and
the ``LastChange`` of the whole register.

Reading is tolerant of what .NET, Java (Axis) and PHP RPC servers emit:

* multi-reference encoding (``href="#id"`` pointing at ``id="..."`` elements that stand as
  siblings of the response in the SOAP body), and inline values;
* ``xsi:type`` attributes (ignored), ``xsi:nil="true"`` (absent), any element names for
  array members, qualified or unqualified field names (compared by local name), fields in
  any order, fields this version does not know (ignored: the specification announces more);
* GUIDs with or without braces in any letter case; ``.NET`` seven-digit fractions of a
  second; times with or without an offset.

Every record that cannot be read is reported as a :class:`RecordIssue` in
:attr:`Directory.rejected` (never silently dropped); a response that cannot be read at all
is a :class:`~eintegr.errors.SoapError`. Reference resolution is budgeted, so a small
document cannot expand into a huge one.

>>> request = build_request(Operation.GET_BY_GUID, "{7060efa8-f1fa-4938-8b2b-12a78c86988f}")
>>> parsed = parse_request(request)
>>> parsed.operation.soap_action, parsed.argument
('uri:egovmsg/GetByGuid', '{7060efa8-f1fa-4938-8b2b-12a78c86988f}')
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeVar

from lxml import etree

from eintegr.errors import EintegrError, IdentifierError, RegistryError, SoapError
from eintegr.identifiers import Guid
from eintegr.registry.model import (
    Contact,
    Participant,
    ParticipantStatus,
    Service,
    ServiceStatus,
)
from eintegr.transport.soap import SOAP11_NS, SoapEnvelope, build_envelope, parse_envelope
from eintegr.xml import DEFAULT_LIMITS, XmlLimits

__all__ = [
    "MESSAGING_NS",
    "REGISTRY_NS",
    "SOAP_ENCODING_NS",
    "Directory",
    "EncodingStyle",
    "Operation",
    "RecordIssue",
    "RegistryRequest",
    "build_request",
    "build_response",
    "format_datetime",
    "parse_datetime",
    "parse_request",
    "parse_response",
    "read_response",
]

REGISTRY_NS = "uri:egovmsg"
"""The namespace of the register's RPC operations (and the SOAPAction prefix)."""
MESSAGING_NS = "http://schemas.egov.bg/messaging/v1"
"""The namespace of the ``EGovMessageDir`` document (``EGovRegistry.xsd``)."""
SOAP_ENCODING_NS = "http://schemas.xmlsoap.org/soap/encoding/"
"""SOAP 1.1 section 5 encoding (``encodingStyle``, ``Array``, ``arrayType``, ``root``)."""
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"

_XSI_TYPE = f"{{{XSI_NS}}}type"
_XSI_NIL = f"{{{XSI_NS}}}nil"
_ENC_STYLE = f"{{{SOAP11_NS}}}encodingStyle"
_ENC_ARRAY_TYPE = f"{{{SOAP_ENCODING_NS}}}arrayType"
_ENC_ROOT = f"{{{SOAP_ENCODING_NS}}}root"
_MAX_HREF_CHAIN = 8
_EIK_RE = re.compile(r"\d{9}|\d{10}|\d{13}")

EncodingStyle = Literal["multiref", "inline"]
"""How :func:`build_response` lays out the answer: ``"multiref"`` (as .NET and Axis do:
``href``/``id`` with the values beside the response) or ``"inline"`` (as PHP servers do)."""


class Operation(enum.StrEnum):
    """The five operations of the register's web service."""

    GET_ALL_RECORDS = "GetAllRecords"
    GET_NEW_RECORDS = "GetNewRecords"
    GET_BY_ENTITY_IDENTIFIER = "GetByEntityIdentifier"
    GET_BY_GUID = "GetByGuid"
    GET_BY_CERTIFICATE_SN = "GetByCertificateSN"

    @property
    def soap_action(self) -> str:
        """The HTTP ``SOAPAction`` of the operation (``uri:egovmsg/<Operation>``)."""
        return f"{REGISTRY_NS}/{self.value}"

    @property
    def part(self) -> str | None:
        """The name of the request's single part, or ``None`` (``GetAllRecords``)."""
        return _PARTS[self]

    @property
    def part_type(self) -> str:
        """The XML Schema type of the part (``xsd:string`` or ``xsd:dateTime``)."""
        return "xsd:dateTime" if self is Operation.GET_NEW_RECORDS else "xsd:string"


_PARTS: dict[Operation, str | None] = {
    Operation.GET_ALL_RECORDS: None,
    Operation.GET_NEW_RECORDS: "date",
    Operation.GET_BY_ENTITY_IDENTIFIER: "EntityIdentifier",
    Operation.GET_BY_GUID: "guid",
    Operation.GET_BY_CERTIFICATE_SN: "CertificateSN",
}


@dataclass(frozen=True, slots=True)
class RecordIssue:
    """A register record that could not be read, and why (it is left out of the result).

    :ivar index: the record's 0-based position in the answer.
    :ivar code: stable code (``REGISTRY-RECORD``, ``ID-GUID``, ``REGISTRY-SERIAL``,
        ``REGISTRY-DUPLICATE`` …).
    :ivar guid: the record's ``Guid`` text when it could be read, for the log.
    """

    index: int
    code: str
    message: str
    message_bg: str
    guid: str | None = None

    def localized(self, lang: str = "en") -> str:
        """The message in ``"en"`` or ``"bg"``."""
        return self.message_bg if lang == "bg" else self.message


@dataclass(frozen=True, slots=True)
class Directory:
    """An ``EGovMessageDir``: participants and the ``LastChange`` of the whole register.

    :ivar rejected: the records that could not be read (see :class:`RecordIssue`).
    """

    participants: tuple[Participant, ...] = ()
    last_change: datetime | None = None
    rejected: tuple[RecordIssue, ...] = ()

    @property
    def latest_change(self) -> datetime | None:
        """The register's ``LastChange``, or else the latest participant's, or ``None``."""
        if self.last_change is not None:
            return self.last_change
        changes = [p.last_change for p in self.participants if p.last_change is not None]
        return max(changes, key=_comparable) if changes else None

    def changed_since(self, moment: datetime) -> Directory:
        """The participants whose ``LastChange`` is at or after ``moment``.

        A time without an offset is taken as UTC on either side of the comparison.
        """
        threshold = _comparable(moment)
        return Directory(
            tuple(
                p
                for p in self.participants
                if p.last_change is not None and _comparable(p.last_change) >= threshold
            ),
            self.last_change,
        )


@dataclass(frozen=True, slots=True)
class RegistryRequest:
    """A request as the register receives it: the operation and its part's text, if any."""

    operation: Operation
    argument: str | None = None


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


def _comparable(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_datetime(moment: datetime) -> str:
    """An ``xsd:dateTime`` (ISO 8601; the offset kept, none added to a naive time)."""
    return moment.isoformat()


def parse_datetime(text: str) -> datetime:
    """Read an ``xsd:dateTime``: ``Z`` or an offset or none, up to 7 fraction digits (.NET).

    :raises ValueError: the text is not a date and time.
    """
    value = text.strip()
    match = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)", value)
    if match:  # Python reads at most 6 fraction digits: cut (not round) the rest
        value = f"{match[1]}.{match[2][:6].ljust(6, '0')}{match[3]}"
    if "T" not in value:
        raise ValueError(f"{text!r} is not an xsd:dateTime")
    return datetime.fromisoformat(value)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

_Namer = Callable[[str], str]


def _unqualified(name: str) -> str:
    return name


class _Writer:
    """Writes entity records; ``typed`` adds SOAP-encoding ``xsi:type`` attributes."""

    def __init__(self, name: _Namer, *, typed: bool) -> None:
        self.name = name
        self.typed = typed

    def field(
        self, parent: etree._Element, name: str, value: str | None, xsd_type: str = "xsd:string"
    ) -> etree._Element:
        element = etree.SubElement(parent, self.name(name))
        if value is None:
            element.set(_XSI_NIL, "true")
        else:
            element.text = value
            if self.typed:
                element.set(_XSI_TYPE, xsd_type)
        return element

    def struct(self, parent: etree._Element, name: str, type_name: str) -> etree._Element:
        element = etree.SubElement(parent, self.name(name))
        if self.typed:
            element.set(_XSI_TYPE, f"tns:{type_name}")
        return element

    def entity(self, element: etree._Element, participant: Participant) -> None:
        self.field(element, "EntityIdentifier", participant.eik)
        self.field(element, "Guid", str(participant.guid))
        parent = participant.parent_guid
        self.field(element, "ParentGuid", None if parent is None else str(parent))
        self.field(element, "AdministrativeBodyName", participant.name)
        contact = self.struct(element, "Contact", "Contact")
        self.contact(contact, participant.contact)
        self.field(element, "CertificateSN", participant.certificate_serial)

    def contact(self, element: etree._Element, contact: Contact) -> None:
        for name, value in (
            ("Phone", contact.phone),
            ("Fax", contact.fax),
            ("EmailAddress", contact.email),
        ):
            if value is not None:
                self.field(element, name, value)

    def service(self, element: etree._Element, service: Service) -> None:
        self.field(element, "Guid", str(service.guid))
        self.field(element, "Name", service.name)
        self.field(element, "URI", service.uri, "xsd:anyURI")
        self.field(element, "Status", service.status.value)
        self.field(element, "Type", service.type)
        self.field(element, "Version", str(service.version), "xsd:integer")

    def tail(self, element: etree._Element, participant: Participant) -> None:
        last = participant.last_change
        self.field(
            element, "LastChange", None if last is None else format_datetime(last), "xsd:dateTime"
        )
        self.field(element, "Status", participant.status.value)


def write_entity(
    parent: etree._Element, participant: Participant, name: _Namer, *, tag: str = "Entity"
) -> etree._Element:
    """Append ``participant`` as a plain (not SOAP-encoded) ``Entity`` element to ``parent``.

    Element names go through ``name`` (to qualify them). Used for the ``EGovMessageDir``
    document; not part of the public API.
    """
    writer = _Writer(name, typed=False)
    element = etree.SubElement(parent, name(tag))
    writer.entity(element, participant)
    services = etree.SubElement(element, name("Services"))
    for service in participant.services:
        writer.service(etree.SubElement(services, name("Service")), service)
    writer.tail(element, participant)
    return element


def _array_type(items: str, count: int) -> str:
    return f"tns:{items}[{count}]"


def _encoded_root(operation: str) -> etree._Element:
    nsmap = {
        "tns": REGISTRY_NS,
        "xsi": XSI_NS,
        "xsd": XSD_NS,
        "soapenc": SOAP_ENCODING_NS,
        "s": SOAP11_NS,
    }
    element = etree.Element(f"{{{REGISTRY_NS}}}{operation}", nsmap=nsmap)
    element.set(_ENC_STYLE, SOAP_ENCODING_NS)
    return element


def build_request(operation: Operation | str, argument: str | datetime | None = None) -> bytes:
    """A SOAP 1.1 RPC/encoded request envelope for ``operation``.

    ``argument`` is the part's value: a :class:`~datetime.datetime` (or its text) for
    ``GetNewRecords``, a string for the look-ups, nothing for ``GetAllRecords``.

    :raises ValueError: the operation is unknown, or the argument is missing or superfluous.
    """
    op = Operation(operation)
    element = _encoded_root(op.value)
    if op.part is None:
        if argument is not None:
            raise ValueError(f"{op.value} takes no argument")
    else:
        if argument is None:
            raise ValueError(f"{op.value} needs its {op.part!r} argument")
        text = format_datetime(argument) if isinstance(argument, datetime) else argument
        part = etree.SubElement(element, op.part)
        part.set(_XSI_TYPE, op.part_type)
        part.text = text
    return build_envelope([element])


def build_response(
    operation: Operation | str,
    directory: Directory,
    *,
    style: EncodingStyle = "multiref",
) -> bytes:
    """A SOAP 1.1 RPC/encoded response envelope returning ``directory`` for ``operation``."""
    op = Operation(operation)
    response = _encoded_root(f"{op.value}Response")
    writer = _Writer(_unqualified, typed=True)
    participants = directory.participants
    last = directory.latest_change
    last_text = None if last is None else format_datetime(last)
    if style == "inline":
        result = writer.struct(response, "return", "EGovMessageDir")
        entities = etree.SubElement(result, "Entities")
        entities.set(_XSI_TYPE, "soapenc:Array")
        entities.set(_ENC_ARRAY_TYPE, _array_type("Entity", len(participants)))
        for participant in participants:
            entity = writer.struct(entities, "item", "Entity")
            writer.entity(entity, participant)
            services = etree.SubElement(entity, "Services")
            services.set(_XSI_TYPE, "soapenc:Array")
            services.set(_ENC_ARRAY_TYPE, _array_type("Service", len(participant.services)))
            for service in participant.services:
                writer.service(writer.struct(services, "item", "Service"), service)
            writer.tail(entity, participant)
        writer.field(result, "LastChange", last_text, "xsd:dateTime")
        return build_envelope([response])
    if style != "multiref":
        raise ValueError(f"unknown encoding style {style!r}")
    counter = iter(range(1, 1 << 62))
    siblings: list[etree._Element] = []

    def independent(tag: str, type_name: str) -> tuple[etree._Element, str]:
        ident = f"id{next(counter)}"
        element = etree.Element(
            f"{{{REGISTRY_NS if type_name != 'Array' else SOAP_ENCODING_NS}}}{tag}",
            nsmap={"tns": REGISTRY_NS, "soapenc": SOAP_ENCODING_NS, "xsi": XSI_NS, "xsd": XSD_NS},
        )
        element.set("id", ident)
        element.set(_ENC_ROOT, "0")
        element.set(
            _XSI_TYPE, f"soapenc:{type_name}" if type_name == "Array" else f"tns:{type_name}"
        )
        siblings.append(element)
        return element, f"#{ident}"

    result, ref = independent("EGovMessageDir", "EGovMessageDir")
    etree.SubElement(response, "return").set("href", ref)
    array, ref = independent("Array", "Array")
    array.set(_ENC_ARRAY_TYPE, _array_type("Entity", len(participants)))
    etree.SubElement(result, "Entities").set("href", ref)
    writer.field(result, "LastChange", last_text, "xsd:dateTime")
    for participant in participants:
        entity, ref = independent("Entity", "Entity")
        etree.SubElement(array, "Item").set("href", ref)
        writer.entity(entity, participant)
        services, ref = independent("Array", "Array")
        services.set(_ENC_ARRAY_TYPE, _array_type("Service", len(participant.services)))
        etree.SubElement(entity, "Services").set("href", ref)
        for service in participant.services:
            item, ref = independent("Service", "Service")
            etree.SubElement(services, "Item").set("href", ref)
            writer.service(item, service)
        writer.tail(entity, participant)
    return build_envelope([response, *siblings])


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _shape(message: str, message_bg: str) -> SoapError:
    return SoapError(message, code="REGISTRY-RESPONSE", message_bg=message_bg)


class _Decoder:
    """Follows ``href`` references within one envelope, under a budget of visited nodes."""

    def __init__(self, element: etree._Element, budget: int) -> None:
        self._root = element.getroottree().getroot()  # multi-refs stand beside the response
        self._ids: dict[str, etree._Element] | None = None
        self._budget = budget

    def _index(self) -> dict[str, etree._Element]:
        if self._ids is None:
            ids: dict[str, etree._Element] = {}
            for element in self._root.iter():
                ident = element.get("id") if isinstance(element.tag, str) else None
                if ident is not None:
                    if ident in ids:
                        raise _shape(
                            f"the id {ident!r} is used twice",
                            f"Идентификаторът {ident!r} е използван два пъти",
                        )
                    ids[ident] = element
            self._ids = ids
        return self._ids

    def resolve(self, element: etree._Element) -> etree._Element:
        for _ in range(_MAX_HREF_CHAIN):
            self._spend()
            href = element.get("href")
            if href is None:
                return element
            if not href.startswith("#"):
                raise _shape(
                    f"the reference {href!r} points outside the message",
                    f"Препратката {href!r} сочи извън съобщението",
                )
            target = self._index().get(href[1:])
            if target is None:
                raise _shape(
                    f"the reference {href!r} points at no element",
                    f"Препратката {href!r} не сочи към елемент",
                )
            element = target
        raise _shape("references are chained too deeply", "Препратките са вложени твърде дълбоко")

    def _spend(self) -> None:
        self._budget -= 1
        if self._budget < 0:
            raise SoapError(
                "the response expands through references far beyond its size",
                code="REGISTRY-RESPONSE-REFS",
                message_bg="Отговорът се разгръща чрез препратки далеч отвъд размера си",
            )

    def children(self, element: etree._Element) -> Iterator[etree._Element]:
        for child in element:
            if isinstance(child.tag, str):
                self._spend()
                yield self.resolve(child)

    def fields(self, element: etree._Element) -> dict[str, etree._Element]:
        """The element's children by local name (the first of each name; resolved)."""
        found: dict[str, etree._Element] = {}
        for child in element:
            if isinstance(child.tag, str):
                self._spend()
                found.setdefault(_local(child), child)
        return {name: self.resolve(child) for name, child in found.items()}


def _is_nil(element: etree._Element) -> bool:
    return (element.get(_XSI_NIL) or "").strip() in {"true", "1"}


def _text(fields: dict[str, etree._Element], name: str) -> str | None:
    element = fields.get(name)
    if element is None or _is_nil(element):
        return None
    value = (element.text or "").strip()
    return value or None


_E = TypeVar("_E", bound=enum.StrEnum)


class _RecordError(Exception):
    def __init__(self, code: str, message: str, message_bg: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_bg = message_bg


def _required(fields: dict[str, etree._Element], name: str, what: str) -> str:
    value = _text(fields, name)
    if value is None:
        raise _RecordError(
            "REGISTRY-RECORD",
            f"the {what} has no {name}",
            f"Липсва {name} ({what})",
        )
    return value


def _status(kind: type[_E], value: str | None, default: _E, what: str) -> _E:
    if value is None:
        return default
    for member in kind:
        if member.value.lower() == value.lower():
            return member
    raise _RecordError(
        "REGISTRY-RECORD",
        f"the {what} has an unknown Status {value!r}",
        f"Непознат статус {value!r} ({what})",
    )


def _date(fields: dict[str, etree._Element], name: str, what: str) -> datetime | None:
    value = _text(fields, name)
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise _RecordError(
            "REGISTRY-RECORD",
            f"the {what}'s {name} {value!r} is not a date and time",
            f"{name} {value!r} не е дата и час ({what})",
        ) from None


def _guid(value: str) -> Guid:
    return Guid.parse_lenient(value)


def _service(decoder: _Decoder, element: etree._Element) -> Service:
    fields = decoder.fields(element)
    version_text = _text(fields, "Version")
    try:
        version = 1 if version_text is None else int(version_text)
    except ValueError:
        raise _RecordError(
            "REGISTRY-RECORD",
            f"the service Version {version_text!r} is not an integer",
            f"Версията на услугата {version_text!r} не е цяло число",
        ) from None
    return Service(
        guid=_guid(_required(fields, "Guid", "service")),
        name=_text(fields, "Name") or "",
        uri=_text(fields, "URI") or "",
        status=_status(ServiceStatus, _text(fields, "Status"), ServiceStatus.ACTIVE, "service"),
        type=_text(fields, "Type") or "service",
        version=version,
    )


def _participant(decoder: _Decoder, element: etree._Element) -> Participant:
    fields = decoder.fields(element)
    eik = _required(fields, "EntityIdentifier", "participant")
    if not _EIK_RE.fullmatch(eik):
        raise _RecordError(
            "REGISTRY-RECORD",
            f"the EntityIdentifier {eik!r} is not 9, 10 or 13 digits",
            f"Идентификаторът {eik!r} не е от 9, 10 или 13 цифри",
        )
    guid = _guid(_required(fields, "Guid", "participant"))
    parent_text = _text(fields, "ParentGuid")
    contact = Contact()
    contact_element = fields.get("Contact")
    if contact_element is not None and not _is_nil(contact_element):
        values = decoder.fields(contact_element)
        contact = Contact(
            phone=_text(values, "Phone"),
            fax=_text(values, "Fax"),
            email=_text(values, "EmailAddress"),
        )
    services: list[Service] = []
    services_element = fields.get("Services")
    if services_element is not None and not _is_nil(services_element):
        services = [_service(decoder, item) for item in decoder.children(services_element)]
    return Participant(
        eik=eik,
        guid=guid,
        name=_text(fields, "AdministrativeBodyName") or "",
        certificate_serial=_required(fields, "CertificateSN", "participant"),
        services=tuple(services),
        status=_status(
            ParticipantStatus, _text(fields, "Status"), ParticipantStatus.ACTIVE, "participant"
        ),
        last_change=_date(fields, "LastChange", "participant"),
        parent_guid=None if parent_text is None else _guid(parent_text),
        contact=contact,
    )


def read_directory(
    element: etree._Element,
    *,
    decoder: _Decoder | None = None,
    max_records: int = 100_000,
) -> Directory:
    """Read an ``EGovMessageDir`` value (SOAP-encoded or the plain XSD document).

    Not part of the public API: use :func:`parse_response` or
    :func:`eintegr.registry.files.load_directory`.
    """
    dec = decoder or _Decoder(element, budget=4 * _count(element) + 64)
    fields = dec.fields(element)
    items: Iterable[etree._Element] = ()
    entities = fields.get("Entities")
    if entities is not None and not _is_nil(entities):
        items = dec.children(entities)
    elif "Entity" in fields:  # the XSD document: Entity elements directly inside
        items = (dec.resolve(c) for c in element if _local(c) == "Entity")
    participants: dict[Guid, Participant] = {}
    rejected: list[RecordIssue] = []
    for index, item in enumerate(items):
        if index >= max_records:
            raise SoapError(
                f"the answer holds more than {max_records} records",
                code="REGISTRY-TOO-MANY",
                message_bg=f"Отговорът съдържа повече от {max_records} записа",
            )
        try:
            participant = _participant(dec, item)
        except (_RecordError, IdentifierError, RegistryError) as error:
            rejected.append(_issue(index, error, item))
            continue
        previous = participants.get(participant.guid)
        if previous is not None:
            newer, older = _newer(previous, participant)
            participants[participant.guid] = newer
            rejected.append(
                RecordIssue(
                    index,
                    "REGISTRY-DUPLICATE",
                    f"the participant {participant.guid} is listed twice; the entry changed "
                    f"at {older.last_change} is ignored",
                    f"Участникът {participant.guid} е вписан два пъти; записът с промяна "
                    f"от {older.last_change} е пренебрегнат",
                    str(participant.guid),
                )
            )
            continue
        participants[participant.guid] = participant
    try:
        last_change = _date(fields, "LastChange", "register")
    except _RecordError as error:
        raise _shape(error.message, error.message_bg) from None
    return Directory(tuple(participants.values()), last_change, tuple(rejected))


def _newer(a: Participant, b: Participant) -> tuple[Participant, Participant]:
    if a.last_change is None:
        return b, a
    if b.last_change is None:
        return a, b
    return (b, a) if _comparable(b.last_change) >= _comparable(a.last_change) else (a, b)


def _issue(index: int, error: Exception, item: etree._Element) -> RecordIssue:
    guid = None
    for child in item:
        if isinstance(child.tag, str) and _local(child) == "Guid":
            guid = (child.text or "").strip() or None
            break
    if isinstance(error, _RecordError):
        return RecordIssue(index, error.code, error.message, error.message_bg, guid)
    assert isinstance(error, EintegrError)
    return RecordIssue(index, error.code, error.message, error.message_bg, guid)


def _count(element: etree._Element) -> int:
    root = element.getroottree().getroot()
    return sum(1 for _ in root.iter())


def read_response(
    envelope: SoapEnvelope, operation: Operation | str, *, max_records: int = 100_000
) -> Directory:
    """The :class:`Directory` an RPC/encoded response envelope returns for ``operation``.

    The envelope must not be a fault (check :attr:`SoapEnvelope.fault` first).

    :raises SoapError: ``REGISTRY-RESPONSE`` (not the expected shape),
        ``REGISTRY-RESPONSE-REFS`` (references expand too much), ``REGISTRY-TOO-MANY``.
    """
    op = Operation(operation)
    if envelope.fault is not None:
        raise _shape("the response is a SOAP fault", "Отговорът е SOAP грешка (fault)")
    wanted = f"{op.value}Response"
    response = next(
        (e for e in envelope.body if _local(e) == wanted and e.get(_ENC_ROOT) != "0"), None
    )
    if response is None:
        found = ", ".join(_local(e) for e in envelope.body) or "nothing"
        raise _shape(
            f"the SOAP body holds {found}, not {wanted}",
            f"Тялото на SOAP отговора съдържа {found}, а не {wanted}",
        )
    decoder = _Decoder(response, budget=4 * _count(response) + 64)
    result = next(decoder.children(response), None)
    if result is None or _is_nil(result):
        raise _shape(
            f"{wanted} returns no EGovMessageDir",
            f"{wanted} не връща EGovMessageDir",
        )
    return read_directory(result, decoder=decoder, max_records=max_records)


def parse_response(
    data: bytes,
    operation: Operation | str,
    *,
    limits: XmlLimits = DEFAULT_LIMITS,
    max_records: int = 100_000,
) -> Directory:
    """Parse a response envelope (hardened parser) and read its :class:`Directory`.

    :raises SoapError: not XML or not SOAP (``SOAP-XML``, ``SOAP-MALFORMED``), a fault
        (``REGISTRY-FAULT``, with the fault's code and string), or see :func:`read_response`.
    """
    envelope = parse_envelope(data, limits=limits)
    if envelope.fault is not None:
        fault = envelope.fault
        raise SoapError(
            f"the register answered a SOAP fault {fault.code}: {fault.string}",
            code="REGISTRY-FAULT",
            message_bg=f"Регистърът отговори с SOAP грешка {fault.code}: {fault.string}",
        )
    return read_response(envelope, operation, max_records=max_records)


def parse_request(data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS) -> RegistryRequest:
    """Read a register request (the server side): the operation and its part's text.

    The operation is the body entry's local name; the part is found by its name, or else
    taken as the operation element's first child (as RPC servers tolerate).

    :raises SoapError: not XML or not SOAP, ``REGISTRY-OPERATION`` (not one of the five),
        ``REGISTRY-ARGUMENT`` (the part is missing).
    """
    envelope = parse_envelope(data, limits=limits)
    entries = [e for e in envelope.body if e.get(_ENC_ROOT) != "0"]
    if not entries:
        raise SoapError(
            "the request names no operation",
            code="REGISTRY-OPERATION",
            message_bg="Заявката не посочва операция",
        )
    element = entries[0]
    name = _local(element)
    try:
        operation = Operation(name)
    except ValueError:
        raise SoapError(
            f"{name!r} is not an operation of the register",
            code="REGISTRY-OPERATION",
            message_bg=f"{name!r} не е операция на регистъра",
        ) from None
    if operation.part is None:
        return RegistryRequest(operation)
    decoder = _Decoder(element, budget=4 * _count(element) + 64)
    fields = decoder.fields(element)
    part = fields.get(operation.part)
    if part is None:
        part = next(decoder.children(element), None)
    if part is None or _is_nil(part) or not (part.text or "").strip():
        raise SoapError(
            f"{operation.value} needs its {operation.part!r} argument",
            code="REGISTRY-ARGUMENT",
            message_bg=f"{operation.value} изисква аргумент {operation.part!r}",
        )
    return RegistryRequest(operation, (part.text or "").strip())
