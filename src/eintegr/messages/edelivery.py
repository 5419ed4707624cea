"""ССЕВ (secure e-delivery) integration contract: data contracts, operations and bindings.

The state's secure e-delivery system (ССЕВ) offers document-management systems a SOAP 1.1
service, ``EDeliveryIntegrationService`` (namespace
``https://edelivery.egov.bg/services/integration``). Its data contracts are WCF
``DataContract`` classes, serialized in three namespaces:

* :data:`DC_NS` — messages, documents, time stamps, signature validation results;
* :data:`ESUBJECT_NS` — electronic subjects (persons, legal persons, institutions);
* :data:`ARRAYS_NS` — the generic arrays (``string``, ``anyType``).

The models here follow the published schemas element by element and in their order (WCF
writes members alphabetically), under their contract names (:class:`DcMessage`,
:class:`DcMessageDetails`, :class:`DcDocument`, …) with snake_case fields. Binding is
tolerant where WCF is: elements marked ``xsi:nil`` are absent, unknown elements are skipped
(the service adds members over time), .NET's seven-digit fractions of a second are cut to
microseconds. Anything that does not fit its type is a :class:`~eintegr.errors.MessageError`
(code ``EDELIVERY-BIND``) with the element's path and messages in English and Bulgarian.

:data:`OPERATIONS` describes every operation of the contract a document-management system
needs — its parameters in order and its result — so that the client and the local test
server share one description: :func:`build_request` / :func:`parse_request` for the request
wrapper element, :func:`build_response` / :func:`parse_response` for the answer.

>>> msg = DcMessageDetails(title="Решение", message_text="Вижте приложения документ.")
>>> request = build_request("SendMessage", message=msg, receiverType=ProfileType.Person,
...                         receiverUniqueIdentifier="7501020018")
>>> etree.QName(request).localname
'SendMessage'
>>> parse_request(request)[1]["message"].title
'Решение'
"""

from __future__ import annotations

import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, TypeVar, cast

import pydantic
from lxml import etree
from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic_xml import BaseXmlModel, element, wrapped
from pydantic_xml.errors import ParsingError

from eintegr.errors import MessageError
from eintegr.xml import element_path

__all__ = [
    "ARRAYS_NS",
    "DC_NS",
    "ENUMS_NS",
    "ESUBJECT_NS",
    "OPERATIONS",
    "RECEIVER_TYPES",
    "SERVICE_NS",
    "DcAddress",
    "DcChainCertificate",
    "DcDocument",
    "DcInstitutionInfo",
    "DcLegalPersonInfo",
    "DcLegalPersonRegistrationInfo",
    "DcLogin",
    "DcMessage",
    "DcMessageDetails",
    "DcPartialListOfDcMessage",
    "DcPersonInfo",
    "DcPersonRegistrationInfo",
    "DcProfile",
    "DcRegisteredSubjectInfo",
    "DcSignatureValidationResult",
    "DcSubjectInfo",
    "DcSubjectPublicInfo",
    "DcSubjectRegistrationInfo",
    "DcSubjectShortInfo",
    "DcTimeStamp",
    "DcTimeStampMessageContent",
    "DcVerificationInfo",
    "EventType",
    "Operation",
    "ParamKind",
    "ProfileType",
    "PushNotification",
    "ResultKind",
    "RevocationResult",
    "SortColumn",
    "SortOrder",
    "VerificationInfoType",
    "VerificationResult",
    "build_request",
    "build_response",
    "parse_request",
    "parse_response",
    "strip_nil",
]

SERVICE_NS: Final = "https://edelivery.egov.bg/services/integration"
"""The namespace of the service's operations (request and response wrapper elements)."""
DC_NS: Final = "http://schemas.datacontract.org/2004/07/EDelivery.Common.DataContracts"
"""The namespace of message, document and registration data contracts."""
ESUBJECT_NS: Final = (
    "http://schemas.datacontract.org/2004/07/EDelivery.Common.DataContracts.ESubject"
)
"""The namespace of electronic-subject data contracts."""
ENUMS_NS: Final = "http://schemas.datacontract.org/2004/07/EDelivery.Common.Enums"
"""The namespace of the enumeration types (a type namespace: no element lives in it)."""
ARRAYS_NS: Final = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
"""The namespace of WCF's generic arrays (``ArrayOfstring``, ``ArrayOfanyType``)."""
_XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
_NIL: Final = f"{{{_XSI}}}nil"
_TYPE: Final = f"{{{_XSI}}}type"
_NSMAP: Final[dict[str, str]] = {"a": DC_NS, "b": ESUBJECT_NS, "c": ARRAYS_NS}
_TOP_NSMAP: Final[dict[str | None, str]] = {None: SERVICE_NS, "i": _XSI}
_TOP_NSMAP.update(_NSMAP)


# ---------------------------------------------------------------------------------------------
# Enumerations (member names are the contract's values)
# ---------------------------------------------------------------------------------------------


class ProfileType(StrEnum):
    """``eProfileType``: the kind of an e-delivery profile; also the receiver/sender type."""

    Person = "Person"  # a natural person: identified by ЕГН or ЛНЧ
    LegalPerson = "LegalPerson"  # a company or organisation: identified by ЕИК/БУЛСТАТ
    Institution = "Institution"  # an administration: identified by ЕИК/БУЛСТАТ
    Administrator = "Administrator"  # the system's own administrators (never a receiver)


RECEIVER_TYPES: Final[frozenset[ProfileType]] = frozenset(
    {ProfileType.Person, ProfileType.LegalPerson, ProfileType.Institution}
)
"""The profile types a message can be sent to (the ``receiverType`` values)."""


class VerificationInfoType(StrEnum):
    """``eVerificationInfoType``: how a subject's identity was verified at registration."""

    Certificate = "Certificate"
    EID = "EID"
    AdministrativeAct = "AdministrativeAct"
    NOIToken = "NOIToken"


class RevocationResult(StrEnum):
    """``eRevokationResult`` (sic): the revocation status of a signer's certificate."""

    OK = "OK"
    Revoked = "Revoked"
    CanNotDetermine = "CanNotDetermine"


class VerificationResult(StrEnum):
    """``eVerificationResult``: the outcome of checking a document's signature."""

    Success = "Success"
    InvalidFile = "InvalidFile"
    NoSignatureFound = "NoSignatureFound"
    DetachedSignature = "DetachedSignature"


class SortColumn(StrEnum):
    """``eSortColumn``: the column a paged list is sorted by."""

    # "None" is the contract's value; the member is spelled so because None is reserved.
    None_ = "None"
    Status = "Status"
    ReceiverName = "ReceiverName"
    Title = "Title"
    SenderName = "SenderName"
    DateSent = "DateSent"
    DateReceived = "DateReceived"
    RegIndex = "RegIndex"
    DocKind = "DocKind"


class SortOrder(StrEnum):
    """``eSortOrder``: the direction of a paged list's sort."""

    None_ = "None"
    Asc = "Asc"
    Desc = "Desc"


class EventType(StrEnum):
    """The event a push notification reports to an institution's callback URL."""

    Received = "Received"  # a message to the institution has arrived
    Delivered = "Delivered"  # a message the institution sent was opened by its receiver


# ---------------------------------------------------------------------------------------------
# Scalar types
# ---------------------------------------------------------------------------------------------


def _b64decode(value: object) -> object:
    if isinstance(value, str):
        try:
            return binascii.a2b_base64("".join(value.split()), strict_mode=True)
        except (binascii.Error, ValueError):
            raise ValueError("the content is not valid base64") from None
    return value


def _b64encode(value: bytes) -> str:
    return binascii.b2a_base64(value, newline=False).decode("ascii")


def _format_datetime(value: datetime) -> str:
    """``xsd:dateTime`` text; UTC as ``Z``, naive values (.NET "Unspecified") as they are."""
    if value.tzinfo is not None and value.utcoffset() is not None and not value.utcoffset():
        return value.replace(tzinfo=None).isoformat() + "Z"
    return value.isoformat()


_Base64 = Annotated[bytes, BeforeValidator(_b64decode), PlainSerializer(_b64encode)]
_DateTime = Annotated[datetime, PlainSerializer(_format_datetime)]


def _a(tag: str) -> Any:
    return element(tag=tag, ns="a", default=None)


def _b(tag: str) -> Any:
    return element(tag=tag, ns="b", default=None)


class _Contract(BaseXmlModel, nsmap=_NSMAP, search_mode="ordered"):
    """A WCF data contract: every member optional, unknown members skipped."""

    model_config = ConfigDict(extra="ignore", validate_assignment=False)


# ---------------------------------------------------------------------------------------------
# Documents, time stamps and signature validation results (DataContracts namespace)
# ---------------------------------------------------------------------------------------------


class DcTimeStamp(_Contract, tag="DcTimeStamp", ns="a"):
    """``DcTimeStamp``: an RFC 3161 time stamp token (``TimeStampData``) and its file name."""

    file_name: str | None = _a("FileName")
    data: _Base64 | None = _a("TimeStampData")


class DcChainCertificate(_Contract, tag="DcChainCertificate", ns="a"):
    """``DcChainCertificate``: one certificate of a signer's chain."""

    is_root: bool | None = _a("IsRoot")
    subject: str | None = _a("Subject")


def _backing(name: str) -> Any:
    # The contract serializes this class's auto-property backing fields under their
    # compiler-generated names ("<Name>k__BackingField", XML-escaped).
    return element(tag=f"_x003C_{name}_x003E_k__BackingField", ns="a", default=None)


class DcSignatureValidationResult(_Contract, tag="DcSignatureValidationResult", ns="a"):
    """``DcSignatureValidationResult``: what ССЕВ found checking one signature of a document."""

    certificate_algorithm: str | None = _backing("CertificateAlgorithm")
    chain_certificates: list[DcChainCertificate] | None = wrapped(
        "_x003C_ChainCertificates_x003E_k__BackingField",
        element(tag="DcChainCertificate", ns="a"),
        ns="a",
        default=None,
    )
    chain_errors: list[str] | None = wrapped(
        "_x003C_ChainErrors_x003E_k__BackingField",
        element(tag="string", ns="c"),
        ns="a",
        default=None,
    )
    contains_timestamp: bool | None = _backing("ContainsTimeStamp")
    format: str | None = _backing("Format")
    is_expired: bool | None = _backing("IsExpired")
    is_integrity_valid: bool | None = _backing("IsIntegrityValid")
    is_signature_valid: bool | None = _backing("IsSignatureValid")
    is_trusted_signer: bool | None = _backing("IsTrustedSigner")
    issuer: str | None = _backing("Issuer")
    revocation_status: RevocationResult | None = _backing("RevocationStatus")
    status: VerificationResult | None = _backing("Status")
    subject_egn: str | None = _backing("SubjectEGN")
    subject: str | None = _backing("Subject")
    timestamp_authority: str | None = _backing("TimeStampAuthority")
    timestamp_date: _DateTime | None = _backing("TimeStampDate")
    valid_from: _DateTime | None = _backing("ValidFrom")
    valid_to: _DateTime | None = _backing("ValidTo")


class DcDocument(_Contract, tag="DcDocument", ns="a"):
    """``DcDocument``: a delivered document — content, name, registration number, checks.

    For sending, give :attr:`document_name` (with an extension) and :attr:`content`, and the
    document's outgoing registration number when it has one.
    """

    content: _Base64 | None = _a("Content")
    content_encoding_code_page: int | None = _a("ContentEncodingCodePage")
    content_type: str | None = _a("ContentType")
    document_name: str | None = _a("DocumentName")
    document_registration_number: str | None = _a("DocumentRegistrationNumber")
    id: int | None = _a("Id")
    signatures_info: list[DcSignatureValidationResult] | None = wrapped(
        "SignaturesInfo", element(tag="DcSignatureValidationResult", ns="a"), ns="a", default=None
    )
    timestamp: DcTimeStamp | None = element(tag="TimeStamp", ns="a", default=None)


# ---------------------------------------------------------------------------------------------
# Profiles, logins and messages (DataContracts namespace)
# ---------------------------------------------------------------------------------------------


class DcProfile(_Contract, tag="DcProfile", ns="a"):
    """``DcProfile``: an e-delivery profile (a person, a legal person or an institution)."""

    date_created: _DateTime | None = _a("DateCreated")
    electronic_subject_id: uuid.UUID | None = _a("ElectronicSubjectId")
    electronic_subject_name: str | None = _a("ElectronicSubjectName")
    email: str | None = _a("Email")
    id: int | None = _a("Id")
    is_default: bool | None = _a("IsDefault")
    phone: str | None = _a("Phone")
    profile_type: ProfileType | None = _a("ProfileType")


class DcLogin(_Contract, tag="DcLogin", ns="a"):
    """``DcLogin``: a login (a person, or an integration's certificate) and its profiles."""

    certificate_thumbprint: str | None = _a("CertificateThumbprint")
    electronic_subject_id: uuid.UUID | None = _a("ElectronicSubjectId")
    electronic_subject_name: str | None = _a("ElectronicSubjectName")
    email: str | None = _a("Email")
    id: int | None = _a("Id")
    is_active: bool | None = _a("IsActive")
    phone_number: str | None = _a("PhoneNumber")
    profiles: list[DcProfile] | None = wrapped(
        "Profiles", element(tag="DcProfile", ns="a"), ns="a", default=None
    )


class DcMessage(_Contract, tag="DcMessage", ns="a"):
    """``DcMessage``: a message as listed — dates, parties and title, no content.

    :attr:`date_received` is set when the receiver opened the message: the legal moment of
    delivery.
    """

    date_created: _DateTime | None = _a("DateCreated")
    date_received: _DateTime | None = _a("DateReceived")
    date_sent: _DateTime | None = _a("DateSent")
    id: int | None = _a("Id")
    is_draft: bool | None = _a("IsDraft")
    receiver_login: DcLogin | None = element(tag="ReceiverLogin", ns="a", default=None)
    receiver_profile: DcProfile | None = element(tag="ReceiverProfile", ns="a", default=None)
    sender_login: DcLogin | None = element(tag="SenderLogin", ns="a", default=None)
    sender_profile: DcProfile | None = element(tag="SenderProfile", ns="a", default=None)
    title: str | None = _a("Title")


class DcTimeStampMessageContent(_Contract, tag="DcTimeStampMessageContent", ns="a"):
    """``DcTimeStampMessageContent``: the message content the time stamps were taken over."""

    content: _Base64 | None = _a("Content")
    content_type: str | None = _a("ContentType")
    file_name: str | None = _a("FileName")


class DcMessageDetails(DcMessage, tag="DcMessageDetails", ns="a"):
    """``DcMessageDetails``: a message with its text, documents and delivery time stamps.

    For sending, give :attr:`title` and :attr:`message_text` and/or
    :attr:`attached_documents`. Received back, :attr:`timestamp_nro` (non-repudiation of
    origin: when it was sent) and :attr:`timestamp_nrd` (non-repudiation of delivery: when it
    was opened) are the legal proofs, taken over :attr:`timestamp_content`.
    """

    attached_documents: list[DcDocument] | None = wrapped(
        "AttachedDocuments", element(tag="DcDocument", ns="a"), ns="a", default=None
    )
    message_text: str | None = _a("MessageText")
    timestamp_content: DcTimeStampMessageContent | None = element(
        tag="TimeStampContent", ns="a", default=None
    )
    timestamp_nrd: DcTimeStamp | None = element(tag="TimeStampNRD", ns="a", default=None)
    timestamp_nro: DcTimeStamp | None = element(tag="TimeStampNRO", ns="a", default=None)


class DcPartialListOfDcMessage(_Contract, tag="DcPartialListOfDcMessageHR29gRRX", ns="a"):
    """``DcPartialList<DcMessage>``: one page of messages and the total count."""

    all_items_count: int | None = _a("AllItemsCount")
    items: list[DcMessage] | None = wrapped(
        "Items", element(tag="DcMessage", ns="a"), ns="a", default=None
    )
    sort_column: SortColumn | None = _a("SortColumn")
    sort_order: SortOrder | None = _a("SortOrder")


class DcSubjectShortInfo(_Contract, tag="DcSubjectShortInfo", ns="a"):
    """``DcSubjectShortInfo``: a profile a person may act for (name, ЕИК, type)."""

    eik: str | None = _a("EIK")
    name: str | None = _a("Name")
    profile_type: ProfileType | None = _a("ProfileType")


class DcPersonRegistrationInfo(_Contract, tag="DcPersonRegistrationInfo", ns="a"):
    """``DcPersonRegistrationInfo``: whether a person (ЕГН/ЛНЧ) is registered in ССЕВ."""

    accessible_profiles: list[DcSubjectShortInfo] | None = wrapped(
        "AccessibleProfiles", element(tag="DcSubjectShortInfo", ns="a"), ns="a", default=None
    )
    has_registration: bool | None = _a("HasRegistration")
    person_identificator: str | None = _a("PersonIdentificator")


class DcLegalPersonRegistrationInfo(_Contract, tag="DcLegalPersonRegistrationInfo", ns="a"):
    """``DcLegalPersonRegistrationInfo``: whether a legal person (ЕИК) is registered."""

    eik: str | None = _a("EIK")
    email: str | None = _a("Email")
    has_registration: bool | None = _a("HasRegistration")
    name: str | None = _a("Name")
    phone: str | None = _a("Phone")
    profiles_with_access: list[DcSubjectShortInfo] | None = wrapped(
        "ProfilesWithAccess", element(tag="DcSubjectShortInfo", ns="a"), ns="a", default=None
    )


# ---------------------------------------------------------------------------------------------
# Electronic subjects (ESubject namespace)
# ---------------------------------------------------------------------------------------------


class DcAddress(_Contract, tag="DcAddress", ns="b"):
    """``DcAddress``: a subject's address."""

    address: str | None = _b("Address")
    city: str | None = _b("City")
    country_iso2: str | None = _b("CountryIso2")
    id: int | None = _b("Id")
    state: str | None = _b("State")
    zip_code: str | None = _b("ZipCode")


class DcSubjectPublicInfo(_Contract, tag="DcSubjectPublicInfo", ns="b"):
    """``DcSubjectPublicInfo``: what anyone may know of an electronic subject."""

    electronic_subject_id: uuid.UUID | None = _b("ElectronicSubjectId")
    electronic_subject_name: str | None = _b("ElectronicSubjectName")
    email: str | None = _b("Email")
    is_activated: bool | None = _b("IsActivated")
    phone_number: str | None = _b("PhoneNumber")
    profile_type: ProfileType | None = _b("ProfileType")


class DcVerificationInfo(_Contract, tag="anyType", ns="c", search_mode="unordered"):
    """One entry of ``DcSubjectInfo.VerificationInfo``: how the subject was verified.

    The contract sends ``DcCertificateInfo``, ``DcAdministrativeActInfo``,
    ``DcTokenVerificationInfo`` or ``DcElectronicIdentityInfo`` (by ``xsi:type``); their
    members are gathered here, :attr:`verification_info_type` tells which one it is.
    """

    is_valid: bool | None = _b("IsValid")
    verification_info_type: VerificationInfoType | None = _b("VerificationInfoType")
    # DcCertificateInfo
    issuer: str | None = _b("Issuer")
    subject: str | None = _b("Subject")
    valid_from: _DateTime | None = _b("ValidFrom")
    valid_to: _DateTime | None = _b("ValidTo")
    # DcAdministrativeActInfo
    act_number: str | None = _b("ActNumber")
    created_by_institution: str | None = _b("CreatedByInstitution")
    created_on_date: _DateTime | None = _b("CreatedOnDate")
    # DcTokenVerificationInfo
    token: str | None = _b("Token")
    # DcElectronicIdentityInfo
    egn: str | None = _b("EGN")
    pid: str | None = _b("PID")
    given_name: str | None = _b("GivenName")
    middle_name: str | None = _b("MiddleName")
    family_name: str | None = _b("FamilyName")
    date_of_birth: _DateTime | None = _b("DateOfBirth")


class DcSubjectInfo(DcSubjectPublicInfo, tag="DcSubjectInfo", ns="b"):
    """``DcSubjectInfo``: an electronic subject with its identifier and address."""

    address: DcAddress | None = element(tag="Address", ns="b", default=None)
    unique_subject_identifier: str | None = _b("UniqueSubjectIdentifier")
    verification_info: list[DcVerificationInfo] | None = wrapped(
        "VerificationInfo", element(tag="anyType", ns="c"), ns="b", default=None
    )


class DcPersonInfo(DcSubjectInfo, tag="DcPersonInfo", ns="b"):
    """``DcPersonInfo``: a natural person."""

    birth_date: _DateTime | None = _b("BirthDate")
    date_of_death: _DateTime | None = _b("DateOfDeath")
    first_name: str | None = _b("FirstName")
    last_name: str | None = _b("LastName")
    middle_name: str | None = _b("MiddleName")


class DcLegalPersonInfo(DcSubjectInfo, tag="DcLegalPersonInfo", ns="b"):
    """``DcLegalPersonInfo``: a legal person (company, organisation)."""

    company_name: str | None = _b("CompanyName")
    date_out_of_force: _DateTime | None = _b("DateOutOfForce")
    in_force_date: _DateTime | None = _b("InForceDate")
    registered_by: DcPersonInfo | None = element(tag="RegisteredBy", ns="b", default=None)


class DcInstitutionInfo(DcSubjectInfo, tag="DcInstitutionInfo", ns="b"):
    """``DcInstitutionInfo``: a registered institution, its head and its sub-institutions."""

    head_institution: DcSubjectPublicInfo | None = element(
        tag="HeadInstitution", ns="b", default=None
    )
    name: str | None = _b("Name")
    sub_institutions: list[DcSubjectPublicInfo] | None = wrapped(
        "SubInstitutions", element(tag="DcSubjectPublicInfo", ns="b"), ns="b", default=None
    )


class DcRegisteredSubjectInfo(DcSubjectPublicInfo, tag="DcRegisteredSubjectInfo", ns="a"):
    """``DcRegisteredSubjectInfo``: public subject data plus the institution type, if any.

    The inherited members are in the ESubject namespace, :attr:`institution_type` in the
    DataContracts one (WCF writes each member in the namespace of the class declaring it).
    """

    institution_type: str | None = _a("InstitutionType")


class DcSubjectRegistrationInfo(_Contract, tag="DcSubjectRegistrationInfo", ns="a"):
    """``DcSubjectRegistrationInfo``: whether any subject (ЕГН, ЛНЧ or ЕИК) is registered."""

    has_registration: bool | None = _a("HasRegistration")
    identificator: str | None = _a("Identificator")
    subject_info: DcRegisteredSubjectInfo | None = element(tag="SubjectInfo", ns="a", default=None)


# A subject's run-time class, by its xsi:type (the *Internal types bind as their bases).
_SUBJECT_TYPES: Final[dict[str, type[DcSubjectInfo]]] = {
    "DcSubjectInfo": DcSubjectInfo,
    "DcPersonInfo": DcPersonInfo,
    "DcLegalPersonInfo": DcLegalPersonInfo,
    "DcLegalPersonInfoInternal": DcLegalPersonInfo,
    "DcInstitutionInfo": DcInstitutionInfo,
    "DcInstitutionInfoInternal": DcInstitutionInfo,
}


# ---------------------------------------------------------------------------------------------
# Push notifications
# ---------------------------------------------------------------------------------------------


class PushNotification(pydantic.BaseModel):
    """A push notification POSTed (as JSON) to an institution's callback URL.

    It carries no content, only the event and the message id: the receiver fetches the
    message through the authenticated service, so a forged notification achieves nothing.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    event_type: EventType = Field(alias="EventType")
    message_id: int = Field(alias="MessageId", ge=1)
    event_date: datetime = Field(alias="EventDate")
    electronic_subject_id: uuid.UUID | None = Field(default=None, alias="ElectronicSubjectId")

    def to_json(self) -> bytes:
        """The JSON body (UTF-8), with the contract's PascalCase names."""
        return self.model_dump_json(by_alias=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> PushNotification:
        """Read a notification body.

        :raises MessageError: ``EDELIVERY-NOTIFICATION`` when it is not one.
        """
        try:
            return cls.model_validate_json(data)
        except pydantic.ValidationError as exc:
            raise MessageError(
                f"not an e-delivery push notification: {exc.error_count()} problem(s): "
                + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()),
                code="EDELIVERY-NOTIFICATION",
                message_bg="Това не е известие от ССЕВ",
            ) from None

    @classmethod
    def now(
        cls,
        event_type: EventType,
        message_id: int,
        electronic_subject_id: uuid.UUID | None = None,
    ) -> PushNotification:
        """A notification of ``event_type`` for ``message_id``, dated now (UTC)."""
        return cls(
            event_type=event_type,
            message_id=message_id,
            event_date=datetime.now(UTC),
            electronic_subject_id=electronic_subject_id,
        )


# ---------------------------------------------------------------------------------------------
# Binding helpers
# ---------------------------------------------------------------------------------------------

_M = TypeVar("_M", bound=BaseXmlModel)


def strip_nil(root: etree._Element) -> None:
    """Remove every element marked ``xsi:nil="true"`` under ``root`` (WCF's null values)."""
    nil = [el for el in root.iter() if el.get(_NIL) in ("true", "1")]
    for el in nil:
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)


def _bind_error(element_: etree._Element, what: str, detail: str) -> MessageError:
    return MessageError(
        f"{what} at {element_path(element_)} cannot be read: {detail}",
        code="EDELIVERY-BIND",
        message_bg=f"{what} в {element_path(element_)} не може да бъде прочетен: {detail}",
        path=element_path(element_),
        line=element_.sourceline,
    )


def _bind(model: type[_M], element_: etree._Element) -> _M:
    """Bind ``element_`` (any tag) to ``model``; the element is renamed in place."""
    tag = model.__xml_serializer__.element_name if model.__xml_serializer__ else None
    if tag:
        element_.tag = tag
    try:
        return model.from_xml_tree(cast(Any, element_))
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise _bind_error(element_, model.__name__, problems) from None
    except ParsingError as exc:
        raise _bind_error(element_, model.__name__, str(exc)) from None


def _bind_subject(element_: etree._Element) -> DcSubjectInfo:
    declared = element_.get(_TYPE) or ""
    model = _SUBJECT_TYPES.get(declared.rpartition(":")[2], DcSubjectInfo)
    return _bind(model, element_)


def _serialize(model: BaseXmlModel, tag: str) -> etree._Element:
    try:
        tree = cast(etree._Element, model.to_xml_tree(skip_empty=True))
    except ValueError as exc:  # lxml refuses text XML cannot carry
        raise MessageError(
            f"{type(model).__name__} cannot be written as XML: {exc}",
            code="EDELIVERY-ARGUMENT",
            message_bg=f"{type(model).__name__} не може да бъде записан като XML: {exc}",
        ) from None
    tree.tag = tag
    if isinstance(model, DcSubjectInfo) and type(model) is not DcSubjectInfo:
        tree.set(_TYPE, f"b:{type(model).__name__}")
    return tree


# ---------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------


class ParamKind(StrEnum):
    """The XML type of an operation parameter."""

    STRING = "string"
    INT = "int"
    BOOL = "boolean"
    BYTES = "base64Binary"
    GUID = "guid"
    PROFILE_TYPE = "eProfileType"
    MESSAGE = "DcMessageDetails"


class ResultKind(StrEnum):
    """The shape of an operation's result."""

    INT = "int"  # a message id
    MODEL = "model"  # one data contract
    LIST = "list"  # an ArrayOf… of data contracts
    SUBJECT = "subject"  # a DcSubjectInfo of the run-time type named by xsi:type


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the integration contract.

    :param name: the operation (and request wrapper element) name.
    :param params: the parameters in the contract's order, as (element name, kind).
    :param result: the shape of ``<name>Result``.
    :param model: the data contract of a ``MODEL`` or ``LIST`` result.
    :param item: for ``LIST``, the (namespace, local name) of each item element.
    :param in_wsdl: whether the published WSDL has it (the rest are in the current
        service contract only, see the reference folder's SOURCES.md).
    """

    name: str
    params: tuple[tuple[str, ParamKind], ...]
    result: ResultKind
    model: type[BaseXmlModel] | None = None
    item: tuple[str, str] | None = None
    in_wsdl: bool = True

    @property
    def action(self) -> str:
        """The SOAPAction of the operation."""
        return f"{SERVICE_NS}/IEDeliveryIntegrationService/{self.name}"

    @property
    def response_name(self) -> str:
        """The response wrapper element's local name."""
        return f"{self.name}Response"

    @property
    def result_name(self) -> str:
        """The result element's local name."""
        return f"{self.name}Result"


_S, _I, _B, _BY, _G, _PT, _MS = (
    ParamKind.STRING,
    ParamKind.INT,
    ParamKind.BOOL,
    ParamKind.BYTES,
    ParamKind.GUID,
    ParamKind.PROFILE_TYPE,
    ParamKind.MESSAGE,
)
_OP: Final = ("operatorEGN", _S)
_SVC: Final = ("serviceOID", _S)
_DOC: Final = (
    ("subject", _S),
    ("docBytes", _BY),
    ("docNameWithExtension", _S),
    ("docRegNumber", _S),
)
_SENDER: Final = (
    ("senderType", _PT),
    ("senderUniqueIdentifier", _S),
    ("senderPhone", _S),
    ("senderEmail", _S),
    ("senderFirstName", _S),
    ("senderLastName", _S),
)
_RECEIVER: Final = (
    ("receiverType", _PT),
    ("receiverUniqueIdentifier", _S),
    ("receiverPhone", _S),
    ("receiverEmail", _S),
)
_MESSAGES: Final = (DC_NS, "DcMessage")
_DOCUMENTS: Final = (DC_NS, "DcDocument")


def _ops(*operations: Operation) -> dict[str, Operation]:
    return {op.name: op for op in operations}


OPERATIONS: Final[Mapping[str, Operation]] = _ops(
    Operation(
        "GetRegisteredInstitutions",
        (),
        ResultKind.LIST,
        DcInstitutionInfo,
        (ESUBJECT_NS, "DcInstitutionInfo"),
    ),
    Operation("SendElectronicDocument", (*_DOC, *_RECEIVER, _SVC, _OP), ResultKind.INT),
    Operation(
        "SendElectronicDocumentOnBehalfOf",
        (
            *_DOC,
            *_SENDER,
            ("receiverType", _PT),
            ("receiverUniqueIdentifier", _S),
            _SVC,
            _OP,
        ),
        ResultKind.INT,
    ),
    Operation("SendMessage", (("message", _MS), *_RECEIVER, _SVC, _OP), ResultKind.INT),
    Operation(
        "SendMessageInReplyTo",
        (("message", _MS), ("replyToMessageId", _I), _SVC, _OP),
        ResultKind.INT,
    ),
    Operation(
        "SendMessageOnBehalfOf",
        (
            ("message", _MS),
            *_SENDER,
            ("receiverType", _PT),
            ("receiverUniqueIdentifier", _S),
            _SVC,
            _OP,
        ),
        ResultKind.INT,
    ),
    Operation(
        "SendMessageOnBehalfToPerson",
        (
            ("message", _MS),
            ("senderUniqueIdentifier", _S),
            ("receiverUniqueIdentifier", _S),
            ("receiverPhone", _S),
            ("receiverEmail", _S),
            ("receiverFirstName", _S),
            ("receiverLastName", _S),
            _SVC,
            _OP,
        ),
        ResultKind.INT,
        in_wsdl=False,
    ),
    Operation(
        "SendMessageOnBehalfToLegalEntity",
        (
            ("message", _MS),
            ("senderUniqueIdentifier", _S),
            ("receiverUniqueIdentifier", _S),
            _SVC,
            _OP,
        ),
        ResultKind.INT,
        in_wsdl=False,
    ),
    Operation(
        "GetSentDocumentStatusByRegNum",
        (("documentRegistrationNumber", _S), _OP),
        ResultKind.MODEL,
        DcMessageDetails,
    ),
    Operation(
        "GetSentDocumentContentByRegNum",
        (("documentRegistrationNumber", _S), _OP),
        ResultKind.MODEL,
        DcDocument,
    ),
    Operation(
        "GetSentDocumentsContent",
        (("messageId", _I), _OP),
        ResultKind.LIST,
        DcDocument,
        _DOCUMENTS,
    ),
    Operation("GetSentDocumentContent", (("documentId", _I), _OP), ResultKind.MODEL, DcDocument),
    Operation("GetSentMessageStatus", (("messageId", _I), _OP), ResultKind.MODEL, DcMessageDetails),
    Operation(
        "GetSentMessageContent",
        (("messageId", _I), _OP),
        ResultKind.MODEL,
        DcMessageDetails,
        in_wsdl=False,
    ),
    Operation("GetSentMessagesList", (_OP,), ResultKind.LIST, DcMessage, _MESSAGES),
    Operation(
        "GetSentMessagesListPaged",
        (("pageNumber", _I), ("pageSize", _I), _OP),
        ResultKind.MODEL,
        DcPartialListOfDcMessage,
    ),
    Operation(
        "GetReceivedMessagesList",
        (("onlyNew", _B), _OP),
        ResultKind.LIST,
        DcMessage,
        _MESSAGES,
    ),
    Operation(
        "GetReceivedMessagesListPaged",
        (("onlyNew", _B), ("pageNumber", _I), ("pageSize", _I), _OP),
        ResultKind.MODEL,
        DcPartialListOfDcMessage,
    ),
    Operation(
        "GetReceivedMessageContent",
        (("messageId", _I), _OP),
        ResultKind.MODEL,
        DcMessageDetails,
    ),
    Operation(
        "CheckPersonHasRegistration",
        (("personId", _S),),
        ResultKind.MODEL,
        DcPersonRegistrationInfo,
    ),
    Operation(
        "CheckLegalPersonHasRegistration",
        (("eik", _S),),
        ResultKind.MODEL,
        DcLegalPersonRegistrationInfo,
        in_wsdl=False,
    ),
    Operation(
        "CheckSubjectHasRegistration",
        (("identificator", _S),),
        ResultKind.MODEL,
        DcSubjectRegistrationInfo,
        in_wsdl=False,
    ),
    Operation("GetSubjectInfo", (("electronicSubjectId", _G), _OP), ResultKind.SUBJECT),
)
"""Every supported operation by name. Not supported: the access-code variants and the
general statistics (they are not for document-management systems)."""


def _q(local: str, ns: str = SERVICE_NS) -> str:
    return f"{{{ns}}}{local}"


def _operation(name: str) -> Operation:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise MessageError(
            f"{name!r} is not an operation of the e-delivery integration service",
            code="EDELIVERY-OPERATION",
            message_bg=f"{name!r} не е операция на интеграционната услуга на ССЕВ",
        ) from None


def _argument_error(operation: str, name: str, detail: str, detail_bg: str) -> MessageError:
    return MessageError(
        f"{operation}: parameter {name}: {detail}",
        code="EDELIVERY-ARGUMENT",
        message_bg=f"{operation}: параметър {name}: {detail_bg}",
    )


def _text(operation: str, name: str, kind: ParamKind, value: object) -> str:
    """The XML text of a scalar parameter value; refuses values of the wrong type."""
    if kind is ParamKind.STRING and isinstance(value, str):
        return value
    if kind is ParamKind.INT and isinstance(value, int) and not isinstance(value, bool):
        if not -(2**31) <= value < 2**31:
            raise _argument_error(
                operation, name, "out of the 32-bit range", "извън 32-битовия обхват"
            )
        return str(value)
    if kind is ParamKind.BOOL and isinstance(value, bool):
        return "true" if value else "false"
    if kind is ParamKind.BYTES and isinstance(value, bytes | bytearray | memoryview):
        return _b64encode(bytes(value))
    if kind is ParamKind.GUID and isinstance(value, uuid.UUID):
        return str(value)
    if kind is ParamKind.PROFILE_TYPE and isinstance(value, str):
        try:
            return ProfileType(value).value
        except ValueError:
            pass
    raise _argument_error(
        operation,
        name,
        f"{type(value).__name__} {value!r:.60} is not a valid {kind.value}",
        f"{type(value).__name__} не е валидна стойност от тип {kind.value}",
    )


def build_request(operation: str, /, **params: object) -> etree._Element:
    """The request wrapper element of ``operation`` with ``params`` in the contract's order.

    Parameters left out or ``None`` are not written (the service reads them as null).

    :raises MessageError: ``EDELIVERY-OPERATION`` (unknown operation), ``EDELIVERY-ARGUMENT``
        (an unknown parameter, or a value of the wrong type).
    """
    op = _operation(operation)
    known = dict(op.params)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise _argument_error(
            operation, ", ".join(unknown), "not a parameter of the operation", "не е параметър"
        )
    root = etree.Element(_q(op.name), nsmap={None: SERVICE_NS})
    for name, kind in op.params:
        value = params.get(name)
        if value is None:
            continue
        if kind is ParamKind.MESSAGE:
            if not isinstance(value, DcMessageDetails):
                raise _argument_error(
                    operation, name, "must be a DcMessageDetails", "трябва да е DcMessageDetails"
                )
            root.append(_serialize(value, _q(name)))
            continue
        child = etree.SubElement(root, _q(name))
        try:
            child.text = _text(operation, name, kind, value)
        except ValueError as exc:
            if isinstance(exc, MessageError):
                raise
            raise _argument_error(
                operation, name, f"cannot be written as XML ({exc})", "не може да се запише в XML"
            ) from None
    etree.cleanup_namespaces(root, top_nsmap=_TOP_NSMAP)
    return root


def _scalar(op: Operation, child: etree._Element, kind: ParamKind) -> object:
    text = (child.text or "").strip()
    try:
        if kind is ParamKind.STRING:
            return child.text or ""
        if kind is ParamKind.INT:
            number = int(text)
            if not -(2**31) <= number < 2**31:
                raise ValueError(text)
            return number
        if kind is ParamKind.BOOL:
            if text not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text in ("true", "1")
        if kind is ParamKind.BYTES:
            return _b64decode(child.text or "")
        if kind is ParamKind.GUID:
            return uuid.UUID(text)
        return ProfileType(text)
    except ValueError:
        raise _bind_error(child, op.name, f"{text[:60]!r} is not a valid {kind.value}") from None


def parse_request(root: etree._Element) -> tuple[Operation, dict[str, object]]:
    """The operation and the parameters (by contract name) of a request wrapper element.

    Absent parameters are absent from the mapping; elements marked ``xsi:nil`` count as
    absent. The element is changed in place (nil elements removed).

    :raises MessageError: ``EDELIVERY-OPERATION`` (not an operation of the service),
        ``EDELIVERY-BIND`` (a parameter that does not fit its type, an unknown element, a
        parameter given twice).
    """
    name = etree.QName(root)
    if name.namespace != SERVICE_NS:
        raise MessageError(
            f"{root.tag!r} is not in the service namespace {SERVICE_NS}",
            code="EDELIVERY-OPERATION",
            message_bg=f"{root.tag!r} не е в пространството на имената на услугата",
        )
    op = _operation(name.localname)
    strip_nil(root)
    kinds = dict(op.params)
    values: dict[str, object] = {}
    for child in root:
        if not isinstance(child.tag, str):
            continue
        child_name = etree.QName(child)
        if child_name.namespace != SERVICE_NS or child_name.localname not in kinds:
            raise _bind_error(child, op.name, "not a parameter of the operation")
        if child_name.localname in values:
            raise _bind_error(child, op.name, "the parameter is given twice")
        kind = kinds[child_name.localname]
        if kind is ParamKind.MESSAGE:
            values[child_name.localname] = _bind(DcMessageDetails, child)
        else:
            values[child_name.localname] = _scalar(op, child, kind)
    return op, values


def build_response(operation: str, result: object) -> etree._Element:
    """The response wrapper element of ``operation`` holding ``result``.

    :raises MessageError: ``EDELIVERY-OPERATION`` or ``EDELIVERY-ARGUMENT`` (a result of the
        wrong type).
    """
    op = _operation(operation)
    root = etree.Element(_q(op.response_name), nsmap={None: SERVICE_NS})
    tag = _q(op.result_name)
    if result is None:
        return root
    if op.result is ResultKind.INT:
        child = etree.SubElement(root, tag)
        child.text = _text(op.name, op.result_name, ParamKind.INT, result)
    elif op.result is ResultKind.LIST:
        assert op.model is not None
        assert op.item is not None
        if not isinstance(result, list | tuple) or not all(
            isinstance(item, op.model) for item in result
        ):
            raise _argument_error(
                op.name, op.result_name, f"must be a list of {op.model.__name__}", "грешен тип"
            )
        wrapper = etree.SubElement(root, tag)
        for item in result:
            wrapper.append(_serialize(item, _q(op.item[1], op.item[0])))
    else:
        model = DcSubjectInfo if op.result is ResultKind.SUBJECT else op.model
        assert model is not None
        if not isinstance(result, model):
            raise _argument_error(
                op.name, op.result_name, f"must be a {model.__name__}", "грешен тип"
            )
        root.append(_serialize(result, tag))
    # "b" may be used only inside an xsi:type value, which cleanup cannot see.
    etree.cleanup_namespaces(root, top_nsmap=_TOP_NSMAP, keep_ns_prefixes=["b"])
    return root


def parse_response(operation: str, root: etree._Element) -> Any:
    """The result held by the response wrapper element of ``operation``.

    ``INT`` results are ``int``; ``MODEL`` results the operation's data contract (``None``
    when the service returned null); ``LIST`` results a list; ``SUBJECT`` results a
    :class:`DcSubjectInfo` of the run-time class named by ``xsi:type``
    (:class:`DcPersonInfo`, :class:`DcLegalPersonInfo`, :class:`DcInstitutionInfo`).

    :raises MessageError: ``EDELIVERY-OPERATION`` (unknown operation, or not its response
        element) or ``EDELIVERY-BIND`` (the result does not fit the contract).
    """
    op = _operation(operation)
    if root.tag != _q(op.response_name):
        raise MessageError(
            f"expected the element {op.response_name}, not {root.tag!r}",
            code="EDELIVERY-OPERATION",
            message_bg=f"очакван е елементът {op.response_name}, а не {root.tag!r}",
            path=element_path(root),
        )
    strip_nil(root)
    result = root.find(_q(op.result_name))
    if op.result is ResultKind.INT:
        if result is None:
            raise _bind_error(root, op.name, f"{op.result_name} is missing")
        return _scalar(op, result, ParamKind.INT)
    if op.result is ResultKind.LIST:
        assert op.model is not None
        assert op.item is not None
        if result is None:
            return []
        item_tag = _q(op.item[1], op.item[0])
        items: list[object] = []
        for child in result:
            if not isinstance(child.tag, str):
                continue
            if child.tag != item_tag:
                raise _bind_error(child, op.name, f"expected {op.item[1]} items")
            items.append(_bind(op.model, child))
        return items
    if result is None:
        return None
    if op.result is ResultKind.SUBJECT:
        return _bind_subject(result)
    assert op.model is not None
    return _bind(op.model, result)
