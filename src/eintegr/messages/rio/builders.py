"""Builders for РИО documents: they check identifiers, fill URIs, codes and times, and
refuse contradictions early with :class:`~eintegr.errors.MessageError` (identifiers with
:class:`~eintegr.errors.IdentifierError`).
"""

from __future__ import annotations

import mimetypes
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Final

from eintegr.errors import IdentifierError
from eintegr.identifiers import Egn, Eik, Lnch
from eintegr.messages._binding import _aware
from eintegr.messages.rio._base import RIO_BASE, build_error, checked_build
from eintegr.messages.rio.answers import (
    ActRefusalOfficial,
    ConsiderationRefusalOfficial,
    CorrespondenceConsiderationRefusal,
    IndividualAdministrativeActRefusal,
    Officer,
    ReceiptAcknowledgedMessage,
    ReceiptNotAcknowledgedMessage,
    RegisteredBy,
)
from eintegr.messages.rio.application import (
    ApplicationDocument,
    ApplicationForWithdrawService,
    ApplicationForWithdrawServiceData,
    ServiceData,
)
from eintegr.messages.rio.codes import (
    ApplicationType,
    AuthorQualityType,
    DiscrepancyType,
    ProviderType,
    ServiceTermType,
    TransportType,
)
from eintegr.messages.rio.segments import (
    AISCaseURI,
    AISUserNames,
    AttachedDocument,
    Declaration,
    DocumentTypeURI,
    DocumentURI,
    ElectronicAdministrativeServiceFooter,
    ElectronicAdministrativeServiceHeader,
    ElectronicServiceApplicant,
    ElectronicServiceApplicantContactData,
    ElectronicServiceProviderBasicData,
    ElectronicServiceRecipient,
    ElectronicStatementAuthor,
    EntityBasicData,
    ForeignCitizenBasicData,
    ForeignCitizenIdentityDocument,
    ForeignCitizenNames,
    ForeignCitizenPlaceOfBirth,
    ForeignEntityBasicData,
    IdentityDocumentBasicData,
    PersonBasicData,
    PersonIdentifier,
    PersonNames,
    RecipientGroup,
    ServiceApplicantReceiptData,
    XMLDigitalSignature,
)

__all__ = [
    "applicant",
    "application",
    "application_header",
    "attached_document",
    "author",
    "correspondence_refusal",
    "declaration",
    "email_problem",
    "entity",
    "foreign_entity",
    "foreign_person",
    "individual_act_refusal",
    "officer",
    "person",
    "provider",
    "receipt_acknowledged",
    "receipt_not_acknowledged",
    "recipient",
    "withdraw_service_application",
]

# The e-mail shape of value 0008-000036 (one address), with its length limits.
_ATOM: Final = r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL_RE: Final = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])"
)


def email_problem(text: str) -> tuple[str, str] | None:
    """Why ``text`` is not acceptable as ``EmailAddress`` (one or more addresses separated by
    ``;``, local part at most 64 characters, domain at most 255), or ``None``."""
    for address in text.split(";"):
        if not _EMAIL_RE.fullmatch(address):
            return (
                f"{address!r} is not an e-mail address of the register's form",
                f"{address!r} не е адрес на електронна поща във формата на регистъра",
            )
        local, _, domain = address.rpartition("@")
        if len(local) > 64 or len(domain) > 255:
            return (
                f"{address!r}: the local part may have at most 64 characters and the domain"
                " at most 255",
                f"{address!r}: локалната част може да е до 64 знака, а домейнът до 255",
            )
    return None


# --- people and entities ----------------------------------------------------------------------


def person(
    *,
    first: str,
    last: str,
    middle: str | None = None,
    egn: str | None = None,
    lnch: str | None = None,
    identity_document: IdentityDocumentBasicData | None = None,
) -> PersonBasicData:
    """A natural person with an ЕГН *or* an ЛНЧ (checked: check digit, birth date).

    :raises IdentifierError: the number is not valid (``ID-EGN``, ``ID-LNCH``).
    :raises MessageError: ``RIO-PERSON-ID``: both or neither of ``egn`` and ``lnch``.
    """
    if (egn is None) == (lnch is None):
        raise build_error(
            "RIO-PERSON-ID",
            "a person is identified by an ЕГН or by an ЛНЧ: give exactly one",
            "лицето се идентифицира с ЕГН или с ЛНЧ: посочете точно едно от двете",
        )
    identifier = (
        PersonIdentifier(egn=Egn.parse(egn).value)
        if egn is not None
        else PersonIdentifier(lnch=Lnch.parse(lnch or "").value)
    )
    return checked_build(
        lambda: PersonBasicData(
            names=PersonNames(first=first, middle=middle, last=last),
            identifier=identifier,
            identity_document=identity_document,
        )
    )


def foreign_person(
    *,
    first_latin: str | None = None,
    last_latin: str | None = None,
    first_cyrillic: str | None = None,
    last_cyrillic: str | None = None,
    birth_date: date | None = None,
    country_code: str | None = None,
    identity_document_number: str | None = None,
    identity_document_type: str | None = None,
) -> ForeignCitizenBasicData:
    """A person not registered under Bulgarian law (names in Latin and/or Cyrillic).

    :raises MessageError: ``RIO-FOREIGN-NAME``: no name at all.
    """
    if not any((first_latin, last_latin, first_cyrillic, last_cyrillic)):
        raise build_error(
            "RIO-FOREIGN-NAME",
            "a foreign person needs a name in Latin or in Cyrillic letters",
            "чуждестранното лице трябва да има име на латиница или на кирилица",
        )
    document = None
    if identity_document_number or identity_document_type:
        document = ForeignCitizenIdentityDocument(
            number=identity_document_number, type=identity_document_type
        )
    return checked_build(
        lambda: ForeignCitizenBasicData(
            names=ForeignCitizenNames(
                first_cyrillic=first_cyrillic,
                last_cyrillic=last_cyrillic,
                first_latin=first_latin,
                last_latin=last_latin,
            ),
            birth_date=birth_date,
            place_of_birth=(
                ForeignCitizenPlaceOfBirth(country_code=country_code) if country_code else None
            ),
            identity_document=document,
        )
    )


def entity(*, eik: str, name: str) -> EntityBasicData:
    """A legal entity with its ЕИК/БУЛСТАТ (checked: 9 or 13 digits, check digits).

    :raises IdentifierError: ``ID-EIK``.
    """
    return checked_build(lambda: EntityBasicData(name=name, identifier=Eik.parse(eik).value))


def foreign_entity(
    *,
    name: str,
    country_code: str,
    register: str | None = None,
    identifier: str | None = None,
    other_data: str | None = None,
) -> ForeignEntityBasicData:
    """A foreign legal entity: its register and number there, *or* other identifying data.

    :raises MessageError: ``RIO-FOREIGN-ENTITY``: both kinds of identification given.
    """
    if other_data is not None and (register is not None or identifier is not None):
        raise build_error(
            "RIO-FOREIGN-ENTITY",
            "a foreign entity is identified by its register and number, or by other data, not both",
            "чуждестранното юридическо лице се идентифицира с регистър и номер или с други"
            " данни, не с двете",
        )
    return checked_build(
        lambda: ForeignEntityBasicData(
            name=name,
            country_code=country_code,
            foreign_register=register,
            identifier=identifier,
            other_data=other_data,
        )
    )


def provider(
    *, eik: str, name: str, provider_type: ProviderType = ProviderType.ADMINISTRATIVE_BODY
) -> ElectronicServiceProviderBasicData:
    """The provider of the service (an administrative body by default; ЕИК checked)."""
    return checked_build(
        lambda: ElectronicServiceProviderBasicData(
            entity=entity(eik=eik, name=name), provider_type=ProviderType(provider_type)
        )
    )


# --- the applicant ----------------------------------------------------------------------------


def author(
    who: PersonBasicData | ForeignCitizenBasicData,
    *,
    quality_type: AuthorQualityType | None = None,
    quality: str | None = None,
) -> ElectronicStatementAuthor:
    """The author of a statement, acting in the capacity ``quality_type`` (a code) or
    ``quality`` (free text); in person (:attr:`AuthorQualityType.PERSONAL`) when neither is
    given.

    :raises MessageError: ``RIO-AUTHOR-QUALITY``: both are given.
    """
    if quality is not None and quality_type is not None:
        raise build_error(
            "RIO-AUTHOR-QUALITY",
            "give the author's capacity as a code or as text, not both",
            "посочете качеството на автора с код или с текст, не с двете",
        )
    if quality is None and quality_type is None:
        quality_type = AuthorQualityType.PERSONAL
    return checked_build(
        lambda: ElectronicStatementAuthor(
            quality=quality,
            quality_type=quality_type,
            person=who if isinstance(who, PersonBasicData) else None,
            foreign_citizen=who if isinstance(who, ForeignCitizenBasicData) else None,
        )
    )


def recipient(
    who: PersonBasicData | EntityBasicData | ForeignCitizenBasicData | ForeignEntityBasicData,
) -> ElectronicServiceRecipient:
    """Who receives the service."""
    if isinstance(who, PersonBasicData):
        return ElectronicServiceRecipient(person=who)
    if isinstance(who, EntityBasicData):
        return ElectronicServiceRecipient(entity=who)
    if isinstance(who, ForeignCitizenBasicData):
        return ElectronicServiceRecipient(foreign_person=who)
    if isinstance(who, ForeignEntityBasicData):
        return ElectronicServiceRecipient(foreign_entity=who)
    raise TypeError(f"a recipient is a person or an entity, not {type(who).__name__}")


def applicant(
    who: PersonBasicData | ForeignCitizenBasicData,
    *,
    recipients: Sequence[
        PersonBasicData | EntityBasicData | ForeignCitizenBasicData | ForeignEntityBasicData
    ]
    | None = None,
    quality_type: AuthorQualityType | None = None,
    quality: str | None = None,
    email: str | None = None,
) -> ElectronicServiceApplicant:
    """The applicant: ``who`` signs and applies for ``recipients`` (default: for
    themselves, in person). Applying for someone else needs the capacity: ``quality_type``
    (e.g. :attr:`AuthorQualityType.LEGAL_REPRESENTATIVE`) or ``quality`` (text).

    :raises MessageError: ``RIO-EMAIL``: ``email`` is not of the register's form;
        ``RIO-AUTHOR-QUALITY``: applying for others without saying in which capacity.
    """
    if email is not None and (problem := email_problem(email)) is not None:
        raise build_error("RIO-EMAIL", *problem)
    targets = list(recipients) if recipients is not None else [who]
    for_others = any(target is not who for target in targets)
    if for_others and quality is None and quality_type in (None, AuthorQualityType.PERSONAL):
        raise build_error(
            "RIO-AUTHOR-QUALITY",
            "the author applies for someone else: say in which capacity (quality_type or quality)",
            "авторът подава заявлението за друго лице: посочете в какво качество"
            " (quality_type или quality)",
        )
    group = RecipientGroup(
        authors=[author(who, quality_type=quality_type, quality=quality)],
        recipients=[recipient(target) for target in targets],
    )
    return checked_build(
        lambda: ElectronicServiceApplicant(recipient_groups=[group], email_address=email)
    )


# --- the application --------------------------------------------------------------------------


def _type_uri(value: str | DocumentTypeURI) -> DocumentTypeURI:
    if isinstance(value, DocumentTypeURI):
        return value
    try:
        return DocumentTypeURI.parse(value)
    except ValueError:
        raise IdentifierError(
            f"{value!r} is not a document type URI of the form RRRR-NNNNNN (e.g. 0010-003059)",
            code="ID-URI",
            message_bg=f"{value!r} не е УРИ на вид документ във вида RRRR-NNNNNN "
            "(напр. 0010-003059)",
        ) from None


def application_header(
    *,
    service_uri: str,
    service_name: str,
    document_type_uri: str | DocumentTypeURI,
    document_type_name: str,
    provider: ElectronicServiceProviderBasicData,
    applicant: ElectronicServiceApplicant | None = None,
    contact_data: ElectronicServiceApplicantContactData | None = None,
    application_type: ApplicationType | None = None,
    document_uri: DocumentURI | None = None,
    send_with_receipt: bool = False,
) -> ElectronicAdministrativeServiceHeader:
    """The header of an application (``document_type_uri`` as ``RRRR-NNNNNN`` is parsed into
    register index and batch number). Without ``application_type`` the document builders
    fill it: :func:`application` with :attr:`ApplicationType.INITIAL`,
    :func:`withdraw_service_application` with :attr:`ApplicationType.WITHDRAWAL`.

    :raises IdentifierError: ``ID-URI``: ``document_type_uri`` is malformed.
    :raises MessageError: ``RIO-SERVICE``: an empty service URI or name.
    """
    if not service_uri.strip() or not service_name.strip():
        raise build_error(
            "RIO-SERVICE",
            "the service URI and name must not be empty",
            "УРИ и наименованието на услугата не може да са празни",
        )
    type_uri = _type_uri(document_type_uri)
    return checked_build(
        lambda: ElectronicAdministrativeServiceHeader(
            service_uri=service_uri,
            document_type_uri=type_uri,
            document_type_name=document_type_name,
            provider=provider,
            applicant=applicant,
            contact_data=contact_data,
            application_type=(
                None if application_type is None else ApplicationType(application_type)
            ),
            service_name=service_name,
            document_uri=document_uri,
            send_with_receipt=send_with_receipt,
        )
    )


def attached_document(
    content: bytes,
    *,
    file_name: str,
    mime_type: str | None = None,
    description: str | None = None,
    unique_identifier: str | None = None,
    type_code: str | None = None,
) -> AttachedDocument:
    """An attached document; the MIME type is guessed from ``file_name`` when not given
    (``application/octet-stream`` if unknown), the identifier is a new UUID.

    :raises MessageError: ``RIO-ATTACHMENT``: an empty or path-like file name, or a MIME
        type that is not ``type/subtype``.
    """
    if not isinstance(content, bytes | bytearray):
        raise TypeError(f"content must be bytes, not {type(content).__name__}")
    if not file_name.strip() or any(c in file_name for c in "/\\\0") or ".." in file_name:
        raise build_error(
            "RIO-ATTACHMENT",
            f"{file_name!r} is not a plain file name",
            f"{file_name!r} не е обикновено име на файл",
        )
    guessed = mime_type or mimetypes.guess_type(file_name, strict=False)[0]
    chosen = (guessed or "application/octet-stream").lower()
    if not re.fullmatch(r"[a-z]+/[-+.a-zA-Z0-9]+", chosen):
        raise build_error(
            "RIO-ATTACHMENT",
            f"{chosen!r} is not a MIME type of the form type/subtype",
            f"{chosen!r} не е MIME тип във вида тип/подтип",
        )
    return checked_build(
        lambda: AttachedDocument(
            content=bytes(content),
            description=description,
            unique_identifier=unique_identifier or str(uuid.uuid4()),
            mime_type=chosen,
            file_name=file_name,
            type_code=type_code,
        )
    )


def declaration(
    name: str, *, filled: bool = True, code: str | None = None, description: str | None = None
) -> Declaration:
    """A declaration (made, by default)."""
    return checked_build(
        lambda: Declaration(filled=filled, name=name, code=code, description=description)
    )


def application(
    *,
    tag: str,
    header: ElectronicAdministrativeServiceHeader,
    service_data: Iterable[ServiceData | bytes] = (),
    applicant: ElectronicServiceApplicant | None = None,
    service_term_type: ServiceTermType | None = None,
    receipt_data: ServiceApplicantReceiptData | None = None,
    declarations: Iterable[Declaration] = (),
    attached_documents: Iterable[AttachedDocument] = (),
    layout: Sequence[str] | None = None,
) -> ApplicationDocument:
    """An application of any type: ``tag`` is its root element in Clark notation (the
    document's own segment namespace), ``service_data`` its specific elements (models'
    ``to_xml()`` bytes, or :class:`ServiceData`). An empty footer is added, ready for
    :func:`eintegr.signing.rio.sign_application`.

    :raises MessageError: ``RIO-DOCUMENT``: ``tag`` is not in a РИО segment namespace, or the
        header names no document type.
    """
    if not tag.startswith(f"{{{RIO_BASE}segment/"):
        raise build_error(
            "RIO-DOCUMENT",
            f"{tag!r} is not an element of a РИО segment namespace ({{{RIO_BASE}segment/…}}Name)",
            f"{tag!r} не е елемент от пространство от имена на сегмент от РИО",
        )
    if header.document_type_uri is None:
        raise build_error(
            "RIO-DOCUMENT",
            "the header must name the document type (document_type_uri)",
            "заглавната част трябва да посочва вида документ (document_type_uri)",
        )
    data = [d if isinstance(d, ServiceData) else ServiceData(d) for d in service_data]
    if header.application_type is None:
        header = header.model_copy(update={"application_type": ApplicationType.INITIAL})
    return checked_build(
        lambda: ApplicationDocument(
            tag=tag,
            header=header,
            service_term_type=service_term_type,
            receipt_data=receipt_data,
            applicant=applicant,
            service_data=data,
            declarations=list(declarations),
            attached_documents=list(attached_documents),
            footer=ElectronicAdministrativeServiceFooter(),
            layout=tuple(layout) if layout is not None else None,
        )
    )


def withdraw_service_application(
    *,
    header: ElectronicAdministrativeServiceHeader,
    applicant: ElectronicServiceApplicant,
    data: ApplicationForWithdrawServiceData,
    service_term_type: ServiceTermType | None = ServiceTermType.ORDINARY,
    receipt_data: ServiceApplicantReceiptData | None = None,
    declarations: Iterable[Declaration] = (),
    attached_documents: Iterable[AttachedDocument] = (),
) -> ApplicationForWithdrawService:
    """An application to withdraw a requested service (R-3059). The header gets the
    document type ``0010-003059`` and its name, the application type
    :attr:`ApplicationType.WITHDRAWAL` and the applicant, unless it already has them; an
    empty footer is added.

    :raises MessageError: ``RIO-DOCUMENT``: the header names another document type.
    """
    expected = DocumentTypeURI.parse(ApplicationForWithdrawService.DOCUMENT_TYPE_URI)
    if header.document_type_uri is not None and header.document_type_uri != expected:
        raise build_error(
            "RIO-DOCUMENT",
            f"the header names the document type {header.document_type_uri}, not "
            f"{expected} (application to withdraw a service)",
            f"заглавната част посочва вид документ {header.document_type_uri}, а не "
            f"{expected} (заявление за отказ от заявена услуга)",
        )
    filled = header.model_copy(
        deep=True,
        update={
            "document_type_uri": expected,
            "document_type_name": header.document_type_name
            or ApplicationForWithdrawService.DOCUMENT_TYPE_NAME,
            "application_type": header.application_type or ApplicationType.WITHDRAWAL,
            "applicant": header.applicant or applicant,
        },
    )
    return checked_build(
        lambda: ApplicationForWithdrawService(
            header=filled,
            service_term_type=service_term_type,
            receipt_data=receipt_data,
            applicant=applicant,
            data=data,
            footer=ElectronicAdministrativeServiceFooter(),
            declarations=list(declarations),
            attached_documents=list(attached_documents),
        )
    )


# --- answers ----------------------------------------------------------------------------------


_Application = ApplicationDocument | ApplicationForWithdrawService


def _header_of(app: _Application) -> ElectronicAdministrativeServiceHeader | None:
    return app.header


def _applicant_of(app: _Application) -> ElectronicServiceApplicant | None:
    if isinstance(app, ApplicationDocument):
        return app.applicants()
    return app.applicant or (app.header.applicant if app.header is not None else None)


def receipt_acknowledged(
    received: _Application,
    *,
    provider: ElectronicServiceProviderBasicData,
    document_uri: DocumentURI,
    registered_by: RegisteredBy | str,
    receipt_time: datetime | None = None,
    case_access_identifier: str | None = None,
    transport_type: TransportType = TransportType.WEB,
) -> ReceiptAcknowledgedMessage:
    """Acknowledge the receipt of ``received``: its applicant and document type are copied
    from it; ``document_uri`` is its registration; ``registered_by`` is an officer
    (:class:`RegisteredBy`) or the URI of the registering information system; the receipt
    time is now unless given (time-zone-aware)."""
    header = _header_of(received)
    by = (
        registered_by
        if isinstance(registered_by, RegisteredBy)
        else RegisteredBy(ais_uri=registered_by)
    )
    when = _aware(receipt_time, "receipt_time")
    return checked_build(
        lambda: ReceiptAcknowledgedMessage(
            provider=provider,
            transport_type=TransportType(transport_type),
            document_uri=document_uri,
            receipt_time=when,
            registered_by=by,
            case_access_identifier=case_access_identifier,
            applicant=_applicant_of(received),
            document_type_uri=header.document_type_uri if header is not None else None,
            document_type_name=header.document_type_name if header is not None else None,
        )
    )


def officer(
    names: PersonNames | ForeignCitizenNames, *, user_id: str | None = None
) -> RegisteredBy:
    """An officer who registered a document (for :func:`receipt_acknowledged`)."""
    user_names = (
        AISUserNames(person_names=names)
        if isinstance(names, PersonNames)
        else AISUserNames(foreign_citizen_names=names)
    )
    return RegisteredBy(officer=Officer(person_names=user_names, ais_user_identifier=user_id))


def receipt_not_acknowledged(
    received: _Application | None,
    *,
    provider: ElectronicServiceProviderBasicData,
    discrepancies: Iterable[DiscrepancyType],
    message_uri: DocumentURI | None = None,
    creation_time: datetime | None = None,
    transport_type: TransportType = TransportType.WEB,
) -> ReceiptNotAcknowledgedMessage:
    """Refuse to acknowledge the receipt of ``received`` (``None`` when it could not even be
    read) for the failed checks ``discrepancies`` (at least one).

    :raises MessageError: ``RIO-DISCREPANCY``: no discrepancy given.
    """
    found = [DiscrepancyType(d) for d in discrepancies]
    if not found:
        raise build_error(
            "RIO-DISCREPANCY",
            "name at least one failed check (DiscrepancyType)",
            "посочете поне една неуспешна проверка (DiscrepancyType)",
        )
    header = _header_of(received) if received is not None else None
    when = _aware(creation_time, "creation_time")
    return checked_build(
        lambda: ReceiptNotAcknowledgedMessage(
            message_uri=message_uri,
            provider=provider,
            transport_type=TransportType(transport_type),
            discrepancies=found,
            applicant=_applicant_of(received) if received is not None else None,
            document_type_uri=header.document_type_uri if header is not None else None,
            document_type_name=header.document_type_name if header is not None else None,
            creation_time=when,
        )
    )


def _appeal_term(value: timedelta | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value <= timedelta(0) or value % timedelta(days=1):
        raise build_error(
            "RIO-APPEAL-TERM",
            "the appeal term must be a positive number of whole days",
            "срокът за обжалване трябва да е положителен брой цели дни",
        )
    return f"P{value.days}D"


def individual_act_refusal(
    received: _Application,
    *,
    provider: ElectronicServiceProviderBasicData,
    official_names: PersonNames | ForeignCitizenNames,
    official_quality: str,
    refusal_header: str,
    legal_ground: str,
    factual_ground: str,
    appeal_term: timedelta | str,
    appeal_authority: str,
    administrative_body_name: str,
    document_uri: DocumentURI | None = None,
    document_date: date | None = None,
    ais_case_uri: AISCaseURI | None = None,
    document_type_uri: str | DocumentTypeURI | None = None,
    document_type_name: str | None = None,
) -> IndividualAdministrativeActRefusal:
    """A refusal to issue the individual administrative act applied for with ``received``,
    signed by one official (``official_names``, ``official_quality``); the appeal term as a
    :class:`~datetime.timedelta` of whole days or ``xsd:duration`` text."""
    names = _official_names(official_names)
    return checked_build(
        lambda: IndividualAdministrativeActRefusal(
            document_type_uri=_type_uri(document_type_uri) if document_type_uri else None,
            document_type_name=document_type_name,
            document_uri=document_uri,
            document_date=document_date,
            provider=provider,
            applicant=_applicant_of(received),
            refusal_header=refusal_header,
            ais_case_uri=ais_case_uri,
            legal_ground=legal_ground,
            factual_ground=factual_ground,
            appeal_term=_appeal_term(appeal_term),
            appeal_authority=appeal_authority,
            administrative_body_name=administrative_body_name,
            officials=[
                ActRefusalOfficial(
                    signature_unique_id=f"signature-{uuid.uuid4()}",
                    author_quality=official_quality,
                    signature=XMLDigitalSignature(),
                    **names,
                )
            ],
        )
    )


def correspondence_refusal(
    received: _Application,
    *,
    provider: ElectronicServiceProviderBasicData,
    official_names: PersonNames | ForeignCitizenNames,
    official_quality: str,
    refusal_header: str,
    legal_ground: str,
    factual_ground: str,
    appeal_term: timedelta | str,
    appeal_authority: str,
    administrative_body_name: str,
    document_uri: DocumentURI | None = None,
    document_date: date | None = None,
    ais_case_uri: AISCaseURI | None = None,
    document_type_uri: str | DocumentTypeURI | None = None,
    document_type_name: str | None = None,
) -> CorrespondenceConsiderationRefusal:
    """A refusal to consider the request ``received`` on its merits, signed by one
    official (see :func:`individual_act_refusal`)."""
    names = _official_names(official_names)
    return checked_build(
        lambda: CorrespondenceConsiderationRefusal(
            document_type_uri=_type_uri(document_type_uri) if document_type_uri else None,
            document_type_name=document_type_name,
            document_uri=document_uri,
            document_date=document_date,
            applicant=_applicant_of(received),
            provider=provider,
            refusal_header=refusal_header,
            ais_case_uri=ais_case_uri,
            factual_ground=factual_ground,
            legal_ground=legal_ground,
            administrative_body_name=administrative_body_name,
            appeal_term=_appeal_term(appeal_term),
            appeal_authority=appeal_authority,
            officials=[
                ConsiderationRefusalOfficial(
                    signature_unique_id=f"signature-{uuid.uuid4()}",
                    author_quality=official_quality,
                    signature=XMLDigitalSignature(),
                    **names,
                )
            ],
        )
    )


def _official_names(
    names: PersonNames | ForeignCitizenNames,
) -> dict[str, PersonNames | ForeignCitizenNames]:
    if isinstance(names, PersonNames):
        return {"person_names": names}
    if isinstance(names, ForeignCitizenNames):
        return {"foreign_citizen_names": names}
    raise TypeError(f"official_names must be PersonNames or ForeignCitizenNames, not {names!r}")
