"""From РИО to СЕОС: send a signed electronic application to another administration.

:func:`application_to_seos` wraps a signed application, byte for byte, as the attachment of a
СЕОС ``MSG_DocumentRegistrationRequest``; the document's ``DocService`` comes from the
application's header (service name and URI, and the service term), its kind from the
document type, its correspondents from the applicant. :func:`application_from_seos` finds
the application again on the receiving side::

    message = application_to_seos(signed, sender=us, recipient=them)
    wire = sign_message(message.to_xml(), transport_signer)
    …
    signed = application_from_seos(Message.from_xml(received))
    verify_application(signed, policy)

The bytes are never re-serialised, so the application's XAdES signature stays verifiable.
The bridge checks that the application *is* signed (a ``ds:Signature`` in its footer), not
that the signature is valid: verify it with :func:`eintegr.signing.rio.verify_application`
first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from lxml import etree

from eintegr.errors import EintegrError, MessageError
from eintegr.identifiers import Guid
from eintegr.messages.rio import (
    ApplicationDocument,
    ElectronicServiceApplicant,
    ElectronicServiceApplicantContactData,
    ElectronicServiceRecipient,
    ElectronicStatementAuthor,
    ServiceTermType,
)
from eintegr.messages.rio._base import RIO_BASE
from eintegr.messages.seos import (
    Attachment,
    Correspondent,
    CorrespondentKind,
    DocumentRegistrationRequest,
    DocumentURI,
    EntityNode,
    Message,
    ServiceItem,
    new_document,
    registration_request,
)
from eintegr.xml import DEFAULT_LIMITS, XmlLimits, parse_xml

__all__ = ["APPLICATION_MIME_TYPE", "application_from_seos", "application_to_seos"]

APPLICATION_MIME_TYPE: Final = "application/xml"
"""The ``AttMIMEType`` of the attached application."""


def _error(code: str, en: str, bg: str) -> MessageError:
    return MessageError(en, code=code, message_bg=bg)


def _service(app: ApplicationDocument) -> ServiceItem:
    header = app.header
    name = header.service_name if header is not None else None
    code = header.service_uri if header is not None else None
    if not name or not code:
        raise _error(
            "RIO-BRIDGE-SERVICE",
            "the application's header names no service (SUNAUServiceName and SUNAUServiceURI):"
            " pass service= explicitly",
            "заглавната част на заявлението не посочва услуга (SUNAUServiceName и"
            " SUNAUServiceURI): подайте service= изрично",
        )
    term = app.service_term_type or ServiceTermType.ORDINARY
    return ServiceItem(name=name, type=term.label("bg"), code=code)


def _correspondents(
    applicant: ElectronicServiceApplicant | None,
    contact: ElectronicServiceApplicantContactData | None,
) -> list[Correspondent]:
    if applicant is None:
        return []
    city = (contact.settlement_name if contact is not None else None) or ""
    phone = contact.phone_numbers[0] if contact is not None and contact.phone_numbers else None
    address = contact.address_description if contact is not None else None
    found: list[Correspondent] = []
    seen: set[tuple[str, str | None, str | None]] = set()

    def add(name: str, egn: str | None = None, bulstat: str | None = None) -> None:
        key = (name, egn, bulstat)
        if not name or key in seen:
            return
        seen.add(key)
        found.append(
            Correspondent(
                name=name,
                city=city,
                address=address,
                egn=egn,
                bulstat=bulstat,
                email=applicant.email_address,
                phone=phone,
                kind=CorrespondentKind.Corr_Applicant,
            )
        )

    parties: list[ElectronicStatementAuthor | ElectronicServiceRecipient] = []
    for group in applicant.recipient_groups:
        parties.extend(group.authors)
        parties.extend(group.recipients)
    for party in parties:
        person = party.person
        foreign = (
            party.foreign_citizen
            if isinstance(party, ElectronicStatementAuthor)
            else party.foreign_person
        )
        if person is not None:
            names = person.names.full() if person.names is not None else ""
            number = person.identifier.value if person.identifier is not None else None
            add(names, egn=number or None)
        elif foreign is not None and foreign.names is not None:
            add(foreign.names.full())
        elif isinstance(party, ElectronicServiceRecipient):
            if party.entity is not None:
                add(party.entity.name or "", bulstat=party.entity.identifier)
            elif party.foreign_entity is not None:
                add(party.foreign_entity.name or "")
    return found


def application_to_seos(
    signed_application: bytes,
    *,
    sender: EntityNode,
    recipient: EntityNode,
    comment: str = "",
    file_name: str | None = None,
    kind: str | None = None,
    service: ServiceItem | None = None,
    uri: DocumentURI | None = None,
    include_attached_documents: bool = False,
    allow_unsigned: bool = False,
    document_guid: Guid | None = None,
    message_guid: Guid | None = None,
    message_date: datetime | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> Message:
    """A СЕОС registration request from ``sender`` to ``recipient`` carrying the signed
    application ``signed_application`` as its attachment, unchanged.

    ``DocService`` is taken from the header (``SUNAUServiceName``, ``SUNAUServiceURI``, and
    the label of ``ServiceTermType``, "Обикновена" when absent) unless ``service`` is given;
    ``DocKind`` is the header's document type name unless ``kind`` is given; ``DocAbout`` is
    the service name; the correspondents are the applicant's authors and recipients
    (``Corr_Applicant``). The attachment is named ``file_name`` (default: the root element's
    name with ``.xml``). With ``include_attached_documents`` the application's attached
    documents travel as further attachments too (they stay inside the application as well).

    :raises eintegr.errors.XmlError: the application is not acceptable XML.
    :raises MessageError: ``MODEL-BIND`` (not a РИО document), ``RIO-BRIDGE-NOT-APPLICATION``
        (no footer: a receipt, a refusal, …), ``RIO-BRIDGE-UNSIGNED`` (no
        ``ds:Signature`` in its footer, unless ``allow_unsigned``), ``RIO-BRIDGE-SERVICE`` (no
        service in the header and none given), and the СЕОС builders' errors.
    """
    app = ApplicationDocument.from_xml(signed_application, limits=limits)
    if app.footer is None:
        raise _error(
            "RIO-BRIDGE-NOT-APPLICATION",
            f"<{app.name}> is not an application (it has no ElectronicAdministrativeServiceFooter)",
            f"<{app.name}> не е заявление (няма ElectronicAdministrativeServiceFooter)",
        )
    if not app.signed and not allow_unsigned:
        raise _error(
            "RIO-BRIDGE-UNSIGNED",
            "the application is not signed (no ds:Signature in its footer); sign it first or"
            " pass allow_unsigned=True",
            "заявлението не е подписано (няма ds:Signature в долната му част); подпишете го"
            " или подайте allow_unsigned=True",
        )
    header = app.header
    chosen_service = service if service is not None else _service(app)
    document_kind = kind or (header.document_type_name if header is not None else None)
    attachments = [
        Attachment(
            file_name=file_name or f"{app.name}.xml",
            content=signed_application,
            mime_type=APPLICATION_MIME_TYPE,
            comment=header.document_type_name if header is not None else None,
        )
    ]
    if include_attached_documents:
        attachments.extend(_extra_attachments(app))
    document = new_document(
        kind=document_kind or app.name,
        uri=uri,
        document_guid=document_guid,
        correspondents=_correspondents(
            app.applicants(), header.contact_data if header is not None else None
        ),
        attachments=attachments,
        about=chosen_service.name,
        service=chosen_service,
    )
    return registration_request(
        sender=sender,
        recipient=recipient,
        document=document,
        comment=comment,
        message_guid=message_guid,
        message_date=message_date,
    )


def _extra_attachments(app: ApplicationDocument) -> Iterable[Attachment]:
    for index, attached in enumerate(app.attached_documents, 1):
        if not attached.content:
            continue
        yield Attachment(
            file_name=attached.file_name or f"attachment-{index}",
            content=attached.content,
            mime_type=attached.mime_type or "application/octet-stream",
            comment=attached.description,
        )


def application_from_seos(message: Message, *, limits: XmlLimits = DEFAULT_LIMITS) -> bytes:
    """The bytes of the РИО application a СЕОС registration request carries: the first
    attachment whose content is an XML document of a РИО segment with an
    ``ElectronicAdministrativeServiceFooter``.

    :raises MessageError: ``RIO-BRIDGE-NONE``: the message is not a registration request, or
        no attachment is a РИО application.
    """
    body = message.body
    attachments = body.document.attachments if isinstance(body, DocumentRegistrationRequest) else []
    for attachment in attachments:
        content: bytes = attachment.content
        if RIO_BASE.encode() not in content:
            continue
        try:
            root = parse_xml(content, limits=limits).getroot()
        except EintegrError:
            continue
        namespace = etree.QName(root).namespace or ""
        footer = f"{{{namespace}}}ElectronicAdministrativeServiceFooter"
        if namespace.startswith(f"{RIO_BASE}segment/") and root.find(footer) is not None:
            return content
    raise _error(
        "RIO-BRIDGE-NONE",
        "the message carries no РИО application",
        "съобщението не съдържа заявление от РИО",
    )
