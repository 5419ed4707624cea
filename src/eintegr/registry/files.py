"""Register files: a JSON format of our own, and the ``EGovMessageDir`` XML document.

Both describe a :class:`~eintegr.registry.soap.Directory` (participants and the
``LastChange`` of the whole register). They feed the local register server
(:mod:`eintegr.registry.server`), and the JSON form is the body of the offline cache.

The JSON format (``"format": "eintegr-register/1"``; every key but the four marked
*required* may be left out)::

    {
      "format": "eintegr-register/1",
      "last_change": "2024-05-01T10:00:00+03:00",
      "participants": [
        {
          "eik": "000695089",                                   required
          "guid": "{c5a0e1f2-0c2b-4d6e-9a51-3f1f5e1d2c3b}",     required
          "name": "Агенция за ...",                              required
          "certificate_serial": "5f3a9c01",                     required (hex) …
          "certificate_file": "agency.crt.pem",                 … or a PEM file to read it from
          "status": "Active",
          "last_change": "2024-04-30T09:00:00+03:00",
          "parent_guid": null,
          "contact": {"phone": "+359 2 000 0000", "fax": null, "email": "it@agency.bg"},
          "endpoint": "https://agency.example:8443/Submit",     a document-exchange service
          "services": [
            {"guid": "{7060efa8-f1fa-4938-8b2b-12a78c86988f}", "name": "Документооборот",
             "uri": "https://agency.example:8443/Submit", "status": "Active",
             "type": "service", "version": 1}
          ]
        }
      ]
    }

A relative ``certificate_file`` is read from the JSON file's folder. The XML form is the
``EGovMessageDir`` element of ``EGovRegistry.xsd`` (namespace
``http://schemas.egov.bg/messaging/v1``). Files are written atomically (a temporary file in
the same folder, flushed to disk, then renamed over the target).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from lxml import etree

from eintegr.errors import EintegrError, RegistryError, XmlError
from eintegr.identifiers import Guid
from eintegr.registry.model import (
    DOCUMENT_EXCHANGE_SERVICE,
    Contact,
    Participant,
    ParticipantStatus,
    Service,
    ServiceStatus,
)
from eintegr.registry.soap import (
    MESSAGING_NS,
    Directory,
    format_datetime,
    parse_datetime,
    read_directory,
    write_entity,
)
from eintegr.xml import XmlLimits, parse_xml, to_bytes

__all__ = [
    "JSON_FORMAT",
    "FileFormat",
    "atomic_write",
    "directory_from_json",
    "directory_from_xml",
    "directory_to_json",
    "directory_to_xml",
    "load_directory",
    "participant_from_json",
    "participant_to_json",
    "save_directory",
]

JSON_FORMAT = "eintegr-register/1"
"""The ``format`` value of the JSON register file."""

FileFormat = Literal["json", "xml"]
"""The two register file formats."""

_DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def _file_error(where: str, en: str, bg: str) -> RegistryError:
    return RegistryError(
        f"{where}: {en}", code="REGISTRY-FILE", message_bg=f"{where}: {bg}", path=where
    )


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically: nothing half-written survives a crash.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the file
    is renamed over ``path``; the folder is then flushed too.
    """
    target = Path(path)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:
        directory = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def _optional_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _file_error(f"{where}.{key}", "must be a string", "трябва да е текст")
    return value.strip() or None


def _required_str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _optional_str(obj, key, where)
    if value is None:
        raise _file_error(f"{where}.{key}", "is required", "е задължително")
    return value


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _file_error(where, "must be an object", "трябва да е обект")
    return value


def _enum_value(kind: type[Any], value: str | None, default: Any, where: str) -> Any:
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise _file_error(
            where, f"{value!r} is not one of {allowed}", f"{value!r} не е от {allowed}"
        ) from None


def _time(obj: Mapping[str, Any], key: str, where: str) -> datetime | None:
    text = _optional_str(obj, key, where)
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except ValueError:
        raise _file_error(
            f"{where}.{key}", f"{text!r} is not a date and time", f"{text!r} не е дата и час"
        ) from None


def _guid(text: str, where: str) -> Guid:
    try:
        return Guid.parse_lenient(text)
    except EintegrError as error:
        raise _file_error(where, error.message, error.message_bg) from None


def _serial_from_file(path: Path, where: str) -> str:
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as error:
        raise _file_error(
            where,
            f"cannot read the certificate {path}: {error}",
            f"сертификатът {path} не може да бъде прочетен: {error}",
        ) from None
    return format(certificate.serial_number, "x")


def _service_from_json(value: object, where: str) -> Service:
    obj = _object(value, where)
    version = obj.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise _file_error(f"{where}.version", "must be an integer", "трябва да е цяло число")
    return Service(
        guid=_guid(_required_str(obj, "guid", where), f"{where}.guid"),
        name=_optional_str(obj, "name", where) or "",
        uri=_required_str(obj, "uri", where),
        status=_enum_value(
            ServiceStatus,
            _optional_str(obj, "status", where),
            ServiceStatus.ACTIVE,
            f"{where}.status",
        ),
        type=_optional_str(obj, "type", where) or "service",
        version=version,
    )


def participant_from_json(
    value: object, *, where: str = "participant", base: Path | None = None
) -> Participant:
    """A participant from its JSON object (see the module docstring).

    :param where: the object's location, for error messages (``participants[3]``).
    :param base: the folder a relative ``certificate_file`` is read from.
    :raises RegistryError: ``REGISTRY-FILE`` with the location of the first problem.
    """
    obj = _object(value, where)
    serial = _optional_str(obj, "certificate_serial", where)
    certificate_file = _optional_str(obj, "certificate_file", where)
    if serial is None and certificate_file is not None:
        path = Path(certificate_file)
        serial = _serial_from_file(
            path if path.is_absolute() or base is None else base / path,
            f"{where}.certificate_file",
        )
    if serial is None:
        raise _file_error(
            f"{where}.certificate_serial",
            "is required (or certificate_file)",
            "е задължително (или certificate_file)",
        )
    services_value = obj.get("services")
    if services_value is None:
        services_value = []
    if not isinstance(services_value, list):
        raise _file_error(f"{where}.services", "must be a list", "трябва да е списък")
    services = [
        _service_from_json(item, f"{where}.services[{index}]")
        for index, item in enumerate(services_value)
    ]
    endpoint = _optional_str(obj, "endpoint", where)
    if endpoint is not None:
        if any(s.guid == DOCUMENT_EXCHANGE_SERVICE for s in services):
            raise _file_error(
                f"{where}.endpoint",
                "given together with a document-exchange service",
                "е зададен заедно с услуга за обмен на документи",
            )
        services.append(Service(DOCUMENT_EXCHANGE_SERVICE, "Документооборот", endpoint))
    contact_value = obj.get("contact")
    if contact_value is None:
        contact_value = {}
    contact = _object(contact_value, f"{where}.contact")
    eik = _required_str(obj, "eik", where)
    if not (eik.isascii() and eik.isdigit() and len(eik) in {9, 10, 13}):
        raise _file_error(
            f"{where}.eik",
            f"{eik!r} is not 9, 10 or 13 digits",
            f"{eik!r} не е от 9, 10 или 13 цифри",
        )
    parent = _optional_str(obj, "parent_guid", where)
    try:
        return Participant(
            eik=eik,
            guid=_guid(_required_str(obj, "guid", where), f"{where}.guid"),
            name=_required_str(obj, "name", where),
            certificate_serial=serial,
            services=tuple(services),
            status=_enum_value(
                ParticipantStatus,
                _optional_str(obj, "status", where),
                ParticipantStatus.ACTIVE,
                f"{where}.status",
            ),
            last_change=_time(obj, "last_change", where),
            parent_guid=None if parent is None else _guid(parent, f"{where}.parent_guid"),
            contact=Contact(
                phone=_optional_str(contact, "phone", f"{where}.contact"),
                fax=_optional_str(contact, "fax", f"{where}.contact"),
                email=_optional_str(contact, "email", f"{where}.contact"),
            ),
        )
    except RegistryError as error:
        if error.code == "REGISTRY-FILE":
            raise
        raise _file_error(f"{where}.certificate_serial", error.message, error.message_bg) from None


def participant_to_json(participant: Participant) -> dict[str, Any]:
    """The JSON object of ``participant`` (the inverse of :func:`participant_from_json`)."""
    last = participant.last_change
    return {
        "eik": participant.eik,
        "guid": str(participant.guid),
        "name": participant.name,
        "certificate_serial": participant.certificate_serial,
        "status": participant.status.value,
        "last_change": None if last is None else format_datetime(last),
        "parent_guid": None if participant.parent_guid is None else str(participant.parent_guid),
        "contact": {
            "phone": participant.contact.phone,
            "fax": participant.contact.fax,
            "email": participant.contact.email,
        },
        "services": [
            {
                "guid": str(s.guid),
                "name": s.name,
                "uri": s.uri,
                "status": s.status.value,
                "type": s.type,
                "version": s.version,
            }
            for s in participant.services
        ],
    }


def _load_json(data: bytes, source: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise _file_error(
            source, f"not valid JSON: {error}", f"не е валиден JSON: {error}"
        ) from None


def directory_from_json(
    data: bytes, *, base: Path | None = None, source: str = "register"
) -> Directory:
    """Read the JSON register format.

    :raises RegistryError: ``REGISTRY-FILE`` (not JSON, wrong shape, bad value, a GUID used
        twice), with the location of the problem.
    """
    document = _object(_load_json(data, source), source)
    declared = document.get("format", JSON_FORMAT)
    if declared != JSON_FORMAT:
        raise _file_error(
            f"{source}.format",
            f"{declared!r} is not {JSON_FORMAT!r}",
            f"{declared!r} не е {JSON_FORMAT!r}",
        )
    items = document.get("participants", [])
    if not isinstance(items, list):
        raise _file_error(f"{source}.participants", "must be a list", "трябва да е списък")
    participants: dict[Guid, Participant] = {}
    for index, item in enumerate(items):
        where = f"participants[{index}]"
        participant = participant_from_json(item, where=where, base=base)
        if participant.guid in participants:
            raise _file_error(
                f"{where}.guid",
                f"{participant.guid} is used by an earlier participant",
                f"{participant.guid} вече е използван от друг участник",
            )
        participants[participant.guid] = participant
    return Directory(tuple(participants.values()), _time(document, "last_change", source))


def directory_to_json(directory: Directory, **extra: Any) -> bytes:
    """The JSON register format of ``directory`` (UTF-8, indented); ``extra`` keys are added."""
    last = directory.last_change
    document: dict[str, Any] = {
        "format": JSON_FORMAT,
        **extra,
        "last_change": None if last is None else format_datetime(last),
        "participants": [participant_to_json(p) for p in directory.participants],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


# ---------------------------------------------------------------------------------------------
# XML (EGovMessageDir)
# ---------------------------------------------------------------------------------------------


def _qualified(name: str) -> str:
    return f"{{{MESSAGING_NS}}}{name}"


def directory_to_xml(directory: Directory) -> bytes:
    """The ``EGovMessageDir`` document of ``directory`` (elements in the order of the XSD)."""
    root = etree.Element(_qualified("EGovMessageDir"), nsmap={None: MESSAGING_NS})
    for participant in directory.participants:
        write_entity(root, participant, _qualified)
    last = directory.latest_change
    if last is not None:
        etree.SubElement(root, _qualified("LastChange")).text = format_datetime(last)
    return to_bytes(root, pretty=True)


def directory_from_xml(
    data: bytes, *, limits: XmlLimits | None = None, strict: bool = True
) -> Directory:
    """Read an ``EGovMessageDir`` document (hardened parser; names compared by local name).

    :param strict: raise on the first record that cannot be read; otherwise such records
        are listed in :attr:`Directory.rejected`.
    :raises RegistryError: ``REGISTRY-FILE`` (not XML, not an ``EGovMessageDir``, a bad
        record when ``strict``).
    """
    try:
        root = parse_xml(data, limits=limits or XmlLimits()).getroot()
    except XmlError as error:
        raise _file_error("EGovMessageDir", error.message, error.message_bg) from None
    if etree.QName(root).localname != "EGovMessageDir":
        raise _file_error(
            "EGovMessageDir",
            f"the root element is {root.tag!r}, not EGovMessageDir",
            f"коренният елемент е {root.tag!r}, а не EGovMessageDir",
        )
    try:
        directory = read_directory(root)
    except EintegrError as error:
        raise _file_error("EGovMessageDir", error.message, error.message_bg) from None
    if strict and directory.rejected:
        issue = directory.rejected[0]
        raise _file_error(
            f"EGovMessageDir/Entity[{issue.index + 1}]", issue.message, issue.message_bg
        )
    return directory


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def _detect(data: bytes) -> FileFormat:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in {b"{", b"["} else "xml"


def load_directory(
    path: str | os.PathLike[str], *, max_bytes: int = _DEFAULT_MAX_BYTES
) -> Directory:
    """Read a register file, JSON or ``EGovMessageDir`` XML (told apart by the first byte).

    :raises RegistryError: ``REGISTRY-FILE`` (unreadable, larger than ``max_bytes``, or
        not a valid register file).
    """
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        reason = error.strerror or str(error)
        raise _file_error(
            str(file), f"cannot be read: {reason}", f"не може да бъде прочетен: {reason}"
        ) from None
    if len(data) > max_bytes:
        raise _file_error(
            str(file),
            f"is larger than {max_bytes} bytes",
            f"е по-голям от {max_bytes} байта",
        )
    if _detect(data) == "json":
        return directory_from_json(data, base=file.parent, source=file.name)
    return directory_from_xml(data, limits=XmlLimits(max_bytes=max_bytes))


def save_directory(
    directory: Directory, path: str | os.PathLike[str], *, format: FileFormat | None = None
) -> None:
    """Write ``directory`` atomically as JSON or XML (by ``format``, else the suffix ``.xml``)."""
    chosen = format or ("xml" if str(path).lower().endswith(".xml") else "json")
    data = directory_to_xml(directory) if chosen == "xml" else directory_to_json(directory)
    atomic_write(path, data)
