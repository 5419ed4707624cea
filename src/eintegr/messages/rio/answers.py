"""The administration's answers to an electronic application.

* :class:`ReceiptAcknowledgedMessage` (segment 0009-000019): the application was received and
  registered;
* :class:`ReceiptNotAcknowledgedMessage` (0009-000017): it was not, and why
  (:class:`~eintegr.messages.rio.codes.DiscrepancyType`);
* :class:`IndividualAdministrativeActRefusal` (0009-000150): refusal to issue the act;
* :class:`CorrespondenceConsiderationRefusal` (0009-000154): refusal to consider the request.

Each is a document of its own (a global element); receipts are signed in their ``Signature``
element, refusals in the ``XMLDigitalSignature`` of each ``Official``
(:mod:`eintegr.signing.rio`).
"""

from __future__ import annotations

from typing import ClassVar, Final, Self

from pydantic import model_validator
from pydantic_xml import attr, element, wrapped

from eintegr.messages.rio._base import Date, DateTime, RioModel, Text, choice, segment_ns
from eintegr.messages.rio.codes import DiscrepancyType, TransportType
from eintegr.messages.rio.segments import (
    AISCaseURI,
    AISUserNames,
    DocumentTypeURI,
    DocumentURI,
    ElectronicServiceApplicant,
    ElectronicServiceProviderBasicData,
    ForeignCitizenNames,
    PersonNames,
    XMLDigitalSignature,
)

__all__ = [
    "ActRefusalOfficial",
    "ConsiderationRefusalOfficial",
    "CorrespondenceConsiderationRefusal",
    "IndividualAdministrativeActRefusal",
    "Officer",
    "ReceiptAcknowledgedMessage",
    "ReceiptNotAcknowledgedMessage",
    "RegisteredBy",
]

S17: Final = segment_ns("0009-000017")
S19: Final = segment_ns("0009-000019")
S150: Final = segment_ns("0009-000150")
S154: Final = segment_ns("0009-000154")


class Officer(RioModel, tag="Officer", ns="s19", nsmap={"s19": S19}):
    """The officer who registered a document: names and user identifier in the system."""

    person_names: AISUserNames | None = element(tag="PersonNames", ns="s19", default=None)
    ais_user_identifier: Text | None = element(tag="AISUserIdentifier", default=None)


class RegisteredBy(RioModel, tag="RegisteredBy", ns="s19", nsmap={"s19": S19}):
    """Who registered a document: an officer, or an information system (its URI)."""

    officer: Officer | None = element(tag="Officer", ns="s19", default=None)
    ais_uri: Text | None = element(tag="AISURI", default=None)

    @model_validator(mode="after")
    def _one(self) -> Self:
        choice(self, ("officer", "ais_uri"), required=True)
        return self


class ReceiptAcknowledgedMessage(
    RioModel, tag="ReceiptAcknowledgedMessage", ns="s19", nsmap={"s19": S19}
):
    """Segment 0009-000019: acknowledgement that an electronic document was received and
    registered. ``document_type_uri``/``document_type_name`` name the received document's
    type; ``document_uri`` is its registration."""

    _DOCUMENT: ClassVar[bool] = True

    provider: ElectronicServiceProviderBasicData | None = element(
        tag="ElectronicServiceProvider", ns="s19", default=None
    )
    transport_type: TransportType | None = element(tag="TransportType", default=None)
    document_uri: DocumentURI | None = element(tag="DocumentURI", ns="s19", default=None)
    receipt_time: DateTime | None = element(tag="ReceiptTime", default=None)
    registered_by: RegisteredBy | None = element(tag="RegisteredBy", ns="s19", default=None)
    case_access_identifier: Text | None = element(tag="CaseAccessIdentifier", default=None)
    applicant: ElectronicServiceApplicant | None = element(tag="Applicant", ns="s19", default=None)
    document_type_uri: DocumentTypeURI | None = element(
        tag="DocumentTypeURI", ns="s19", default=None
    )
    document_type_name: Text | None = element(tag="DocumentTypeName", default=None)
    signature: XMLDigitalSignature | None = element(tag="Signature", ns="s19", default=None)


class ReceiptNotAcknowledgedMessage(
    RioModel, tag="ReceiptNotAcknowledgedMessage", ns="s17", nsmap={"s17": S17}
):
    """Segment 0009-000017: notice that the receipt of an electronic document is *not*
    acknowledged, with the failed checks (``discrepancies``)."""

    _DOCUMENT: ClassVar[bool] = True

    message_uri: DocumentURI | None = element(tag="MessageURI", ns="s17", default=None)
    provider: ElectronicServiceProviderBasicData | None = element(
        tag="ElectronicServiceProvider", ns="s17", default=None
    )
    transport_type: TransportType | None = element(tag="TransportType", default=None)
    discrepancies: list[DiscrepancyType] = wrapped(
        "Discrepancies", element(tag="Discrepancy", default_factory=list)
    )
    applicant: ElectronicServiceApplicant | None = element(tag="Applicant", ns="s17", default=None)
    document_type_uri: DocumentTypeURI | None = element(
        tag="DocumentTypeURI", ns="s17", default=None
    )
    document_type_name: Text | None = element(tag="DocumentTypeName", default=None)
    creation_time: DateTime | None = element(tag="MessageCreationTime", default=None)
    signature: XMLDigitalSignature | None = element(tag="Signature", ns="s17", default=None)


class ActRefusalOfficial(RioModel, tag="Official", ns="s150", nsmap={"s150": S150}):
    """An official signing a :class:`IndividualAdministrativeActRefusal`."""

    signature_unique_id: Text = attr(name="SignatureUniqueID")
    author_quality: Text = element(tag="ElectronicDocumentAuthorQuality")
    person_names: PersonNames | None = element(tag="PersonNames", ns="s150", default=None)
    foreign_citizen_names: ForeignCitizenNames | None = element(
        tag="ForeignCitizenNames", ns="s150", default=None
    )
    signature: XMLDigitalSignature = element(tag="XMLDigitalSignature", ns="s150")

    @model_validator(mode="after")
    def _one(self) -> Self:
        choice(self, ("person_names", "foreign_citizen_names"), required=True)
        return self


class ConsiderationRefusalOfficial(RioModel, tag="Official", ns="s154", nsmap={"s154": S154}):
    """An official signing a :class:`CorrespondenceConsiderationRefusal`."""

    signature_unique_id: Text = attr(name="SignatureUniqueID")
    author_quality: Text = element(tag="ElectronicDocumentAuthorQuality")
    person_names: PersonNames | None = element(tag="PersonNames", ns="s154", default=None)
    foreign_citizen_names: ForeignCitizenNames | None = element(
        tag="ForeignCitizenNames", ns="s154", default=None
    )
    signature: XMLDigitalSignature = element(tag="XMLDigitalSignature", ns="s154")

    @model_validator(mode="after")
    def _one(self) -> Self:
        choice(self, ("person_names", "foreign_citizen_names"), required=True)
        return self


class IndividualAdministrativeActRefusal(
    RioModel, tag="IndividualAdministrativeActRefusal", ns="s150", nsmap={"s150": S150}
):
    """Segment 0009-000150: refusal to issue an individual administrative act.

    ``appeal_term`` is the ``xsd:duration`` text (``P14D``)."""

    _DOCUMENT: ClassVar[bool] = True

    document_type_uri: DocumentTypeURI | None = element(
        tag="DocumentTypeURI", ns="s150", default=None
    )
    document_type_name: Text | None = element(tag="DocumentTypeName", default=None)
    document_uri: DocumentURI | None = element(tag="DocumentURI", ns="s150", default=None)
    document_date: Date | None = element(tag="DocumentReceiptOrSigningDate", default=None)
    provider: ElectronicServiceProviderBasicData | None = element(
        tag="ElectronicServiceProviderBasicData", ns="s150", default=None
    )
    applicant: ElectronicServiceApplicant | None = element(
        tag="ElectronicServiceApplicant", ns="s150", default=None
    )
    refusal_header: Text | None = element(
        tag="IndividualAdministrativeActRefusalHeader", default=None
    )
    ais_case_uri: AISCaseURI | None = element(tag="AISCaseURI", ns="s150", default=None)
    legal_ground: Text | None = element(
        tag="IndividualAdministrativeActRefusalLegalGround", default=None
    )
    factual_ground: Text | None = element(
        tag="IndividualAdministrativeActRefusalFactualGround", default=None
    )
    appeal_term: Text | None = element(
        tag="IndividualAdministrativeActRefusalAppealTerm", default=None
    )
    appeal_authority: Text | None = element(
        tag="IndividualAdministrativeActRefusalAppealAuthority", default=None
    )
    administrative_body_name: Text | None = element(tag="AdministrativeBodyName", default=None)
    officials: list[ActRefusalOfficial] = element(tag="Official", ns="s150", default_factory=list)


class CorrespondenceConsiderationRefusal(
    RioModel, tag="CorrespondenceConsiderationRefusal", ns="s154", nsmap={"s154": S154}
):
    """Segment 0009-000154: refusal to consider a request on its merits.

    ``appeal_term`` is the ``xsd:duration`` text (``P14D``)."""

    _DOCUMENT: ClassVar[bool] = True

    document_type_uri: DocumentTypeURI | None = element(
        tag="DocumentTypeURI", ns="s154", default=None
    )
    document_type_name: Text | None = element(tag="DocumentTypeName", default=None)
    document_uri: DocumentURI | None = element(tag="DocumentURI", ns="s154", default=None)
    document_date: Date | None = element(tag="DocumentReceiptOrSigningDate", default=None)
    applicant: ElectronicServiceApplicant | None = element(
        tag="ElectronicServiceApplicant", ns="s154", default=None
    )
    provider: ElectronicServiceProviderBasicData | None = element(
        tag="ElectronicServiceProviderBasicData", ns="s154", default=None
    )
    refusal_header: Text | None = element(
        tag="IndividualAdministrativeActRefusalHeader", default=None
    )
    ais_case_uri: AISCaseURI | None = element(tag="AISCaseURI", ns="s154", default=None)
    factual_ground: Text | None = element(
        tag="IndividualAdministrativeActRefusalFactualGround", default=None
    )
    legal_ground: Text | None = element(
        tag="IndividualAdministrativeActRefusalLegalGround", default=None
    )
    administrative_body_name: Text | None = element(tag="AdministrativeBodyName", default=None)
    appeal_term: Text | None = element(
        tag="IndividualAdministrativeActRefusalAppealTerm", default=None
    )
    appeal_authority: Text | None = element(
        tag="IndividualAdministrativeActRefusalAppealAuthority", default=None
    )
    officials: list[ConsiderationRefusalOfficial] = element(
        tag="Official", ns="s154", default_factory=list
    )
