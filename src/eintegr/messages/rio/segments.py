"""The common РИО segments: people, entities, the applicant, the header and the footer, …

Each class models one segment type of the register (its code is in the docstring); its
child elements are in the segment's namespace ``http://ereg.egov.bg/segment/<code>``, and
the element that holds it is named by the document using it. Field names are the schema's
element names in snake case; values are kept as written (identifiers are checked by the
builders and by :mod:`eintegr.validation.rio`, not by binding).
"""

from __future__ import annotations

import re
from typing import Any, Final, Self

from pydantic import model_validator
from pydantic_core import PydanticCustomError
from pydantic_xml import element, wrapped, xml_field_serializer, xml_field_validator
from pydantic_xml.element.element import XmlElementReader, XmlElementWriter

from eintegr.messages._binding import _append_fragment, _fragment_from
from eintegr.messages.rio._base import (
    RIO_ERRORS,
    Base64Bytes,
    Bool,
    Date,
    DateTime,
    PositiveInteger,
    RioModel,
    Text,
    base64_from_xml,
    choice,
    segment_ns,
)
from eintegr.messages.rio.codes import (
    ApplicationType,
    AuthorQualityType,
    ProviderType,
    ReceiptMethod,
)
from eintegr.messages.seos import SignatureXml

__all__ = [
    "AISCaseURI",
    "AISUserNames",
    "ApplicantAddress",
    "AttachedDocument",
    "CorrespondenceAddress",
    "Declaration",
    "DocumentTypeURI",
    "DocumentURI",
    "ElectronicAdministrativeServiceFooter",
    "ElectronicAdministrativeServiceHeader",
    "ElectronicServiceApplicant",
    "ElectronicServiceApplicantContactData",
    "ElectronicServiceProviderBasicData",
    "ElectronicServiceRecipient",
    "ElectronicStatementAuthor",
    "EntityBasicData",
    "ForeignCitizenBasicData",
    "ForeignCitizenIdentityDocument",
    "ForeignCitizenNames",
    "ForeignCitizenPlaceOfBirth",
    "ForeignEntityBasicData",
    "IdentityDocumentBasicData",
    "MunicipalityAdministrationAddress",
    "PersonAddress",
    "PersonBasicData",
    "PersonIdentifier",
    "PersonNames",
    "RecipientGroup",
    "RegisterObjectURI",
    "RegisteredDocumentURI",
    "ServiceApplicantReceiptData",
    "UnitInAdministration",
    "XMLDigitalSignature",
]

_DS_SIGNATURE: Final = "{http://www.w3.org/2000/09/xmldsig#}Signature"
_URI_RE: Final = re.compile(r"([0-9]{4})-([0-9]{6})")

S1: Final = segment_ns("0009-000001")
S2: Final = segment_ns("0009-000002")
S4: Final = segment_ns("0009-000004")
S5: Final = segment_ns("0009-000005")
S6: Final = segment_ns("0009-000006")
S7: Final = segment_ns("0009-000007")
S8: Final = segment_ns("0009-000008")
S9: Final = segment_ns("0009-000009")
S10: Final = segment_ns("0009-000010")
S11: Final = segment_ns("0009-000011")
S12: Final = segment_ns("0009-000012")
S13: Final = segment_ns("0009-000013")
S14: Final = segment_ns("0009-000014")
S15: Final = segment_ns("0009-000015")
S16: Final = segment_ns("0009-000016")
S18: Final = segment_ns("0009-000018")
S22: Final = segment_ns("0009-000022")
S44: Final = segment_ns("0009-000044")
S94: Final = segment_ns("0009-000094")
S99: Final = segment_ns("0009-000099")
S137: Final = segment_ns("0009-000137")
S139: Final = segment_ns("0009-000139")
S141: Final = segment_ns("0009-000141")
S152: Final = segment_ns("0009-000152")
S153: Final = segment_ns("0009-000153")
S241: Final = segment_ns("0009-000241")
R3136: Final = segment_ns("R-3136")


# --- URIs -------------------------------------------------------------------------------------


class DocumentURI(RioModel, tag="DocumentURI", ns="s1", nsmap={"s1": S1}):
    """Segment 0009-000001: the URI of a registered document (register index, sequence
    number, date of receipt or signing), each part optional."""

    register_index: PositiveInteger | None = element(tag="RegisterIndex", default=None)
    sequence_number: PositiveInteger | None = element(tag="SequenceNumber", default=None)
    receipt_or_signing_date: Date | None = element(tag="ReceiptOrSigningDate", default=None)


class RegisterObjectURI(RioModel, tag="RegisterObjectURI", ns="s22", nsmap={"s22": S22}):
    """Segment 0009-000022: the URI of a register object, written ``RRRR-NNNNNN``
    (register index, batch number)."""

    register_index: PositiveInteger = element(tag="RegisterIndex")
    batch_number: PositiveInteger = element(tag="BatchNumber")

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read ``RRRR-NNNNNN`` (e.g. ``0010-003059``).

        :raises ValueError: ``text`` is not four digits, a hyphen and six digits, or a part
            is zero.
        """
        match = _URI_RE.fullmatch(text) if isinstance(text, str) else None
        if match is None or int(match[1]) == 0 or int(match[2]) == 0:
            raise ValueError(f"{text!r} is not a РИО URI of the form RRRR-NNNNNN")
        return cls(register_index=int(match[1]), batch_number=int(match[2]))

    def __str__(self) -> str:
        return f"{self.register_index:04d}-{self.batch_number:06d}"


class DocumentTypeURI(RegisterObjectURI, tag="DocumentTypeURI"):
    """Segment 0009-000003: the URI of a document type in the register (``0010-003059``);
    an extension of :class:`RegisterObjectURI` that adds nothing."""


class RegisteredDocumentURI(RioModel, tag="RegisteredDocumentURI", ns="s44", nsmap={"s44": S44}):
    """Segment 0009-000044: a registered document's URI, in an official register
    (``document_uri``) or in an internal one (``internal_register_uri``)."""

    document_uri: DocumentURI | None = element(tag="DocumentURI", ns="s44", default=None)
    internal_register_uri: Text | None = element(tag="DocumentInInternalRegisterURI", default=None)

    @model_validator(mode="after")
    def _one(self) -> Self:
        choice(self, ("document_uri", "internal_register_uri"), required=True)
        return self


class AISCaseURI(RegisteredDocumentURI, tag="AISCaseURI"):
    """Segment 0009-000073: the URI of a case file (a :class:`RegisteredDocumentURI`)."""


# --- people -----------------------------------------------------------------------------------


class PersonNames(RioModel, tag="PersonNames", ns="s5", nsmap={"s5": S5}):
    """Segment 0009-000005: the names of a natural person (in Cyrillic)."""

    first: Text | None = element(tag="First", default=None)
    middle: Text | None = element(tag="Middle", default=None)
    last: Text | None = element(tag="Last", default=None)
    pseudonym: Text | None = element(tag="Pseudonim", default=None)

    def full(self) -> str:
        """The names joined with spaces."""
        return " ".join(n for n in (self.first, self.middle, self.last) if n)


class PersonIdentifier(RioModel, tag="Identifier", ns="s6", nsmap={"s6": S6}):
    """Segment 0009-000006: an ЕГН *or* an ЛНЧ — the element declares which."""

    egn: Text | None = element(tag="EGN", default=None)
    lnch: Text | None = element(tag="LNCh", default=None)

    @model_validator(mode="after")
    def _one(self) -> Self:
        choice(self, ("egn", "lnch"), required=True)
        return self

    @property
    def value(self) -> str:
        """The number, whichever kind it is."""
        return self.egn if self.egn is not None else self.lnch or ""


class IdentityDocumentBasicData(RioModel, tag="IdentityDocument", ns="s99", nsmap={"s99": S99}):
    """Segment 0009-000099: a Bulgarian identity document (number, issue date, issuer, and
    the kind as a code of nomenclature 0007-000016)."""

    identity_number: Text | None = element(tag="IdentityNumber", default=None)
    issue_date: Date | None = element(tag="IdentitityIssueDate", default=None)
    issuer: Text | None = element(tag="IdentityIssuer", default=None)
    document_type: Text | None = element(tag="IdentityDocumentType", default=None)


class PersonBasicData(RioModel, tag="Person", ns="s8", nsmap={"s8": S8}):
    """Segment 0009-000008: a natural person — names, identifier, identity document."""

    names: PersonNames | None = element(tag="Names", ns="s8", default=None)
    identifier: PersonIdentifier | None = element(tag="Identifier", ns="s8", default=None)
    identity_document: IdentityDocumentBasicData | None = element(
        tag="IdentityDocument", ns="s8", default=None
    )


class ForeignCitizenNames(RioModel, tag="ForeignCitizenNames", ns="s7", nsmap={"s7": S7}):
    """Segment 0009-000007: names of a person not registered under Bulgarian law."""

    first_cyrillic: Text | None = element(tag="FirstCyrillic", default=None)
    last_cyrillic: Text | None = element(tag="LastCyrillic", default=None)
    other_cyrillic: Text | None = element(tag="OtherCyrillic", default=None)
    pseudonym_cyrillic: Text | None = element(tag="PseudonimCyrillic", default=None)
    first_latin: Text | None = element(tag="FirstLatin", default=None)
    last_latin: Text | None = element(tag="LastLatin", default=None)
    other_latin: Text | None = element(tag="OtherLatin", default=None)
    pseudonym_latin: Text | None = element(tag="PseudonimLatin", default=None)

    def full(self) -> str:
        """The Cyrillic names joined with spaces, else the Latin ones."""
        cyrillic = [self.first_cyrillic, self.other_cyrillic, self.last_cyrillic]
        latin = [self.first_latin, self.other_latin, self.last_latin]
        names = [n for n in cyrillic if n] or [n for n in latin if n]
        return " ".join(names)


class ForeignCitizenPlaceOfBirth(RioModel, tag="PlaceOfBirth", ns="s9", nsmap={"s9": S9}):
    """Segment 0009-000009: where a foreign citizen was born."""

    country_code: Text | None = element(tag="CountryCode", default=None)
    country_name: Text | None = element(tag="CountryName", default=None)
    settlement_name: Text | None = element(tag="SettlementName", default=None)


class ForeignCitizenIdentityDocument(
    RioModel, tag="IdentityDocument", ns="s10", nsmap={"s10": S10}
):
    """Segment 0009-000010: a foreign citizen's identity document."""

    number: Text | None = element(tag="DocumentNumber", default=None)
    type: Text | None = element(tag="DocumentType", default=None)


class ForeignCitizenBasicData(RioModel, tag="ForeignPerson", ns="s11", nsmap={"s11": S11}):
    """Segment 0009-000011: a person not registered under Bulgarian law."""

    names: ForeignCitizenNames | None = element(tag="Names", ns="s11", default=None)
    birth_date: Date | None = element(tag="BirthDate", default=None)
    place_of_birth: ForeignCitizenPlaceOfBirth | None = element(
        tag="PlaceOfBirth", ns="s11", default=None
    )
    identity_document: ForeignCitizenIdentityDocument | None = element(
        tag="IdentityDocument", ns="s11", default=None
    )


# --- entities ---------------------------------------------------------------------------------


class EntityBasicData(RioModel, tag="EntityBasicData", ns="s13", nsmap={"s13": S13}):
    """Segment 0009-000013: a legal entity, a branch of a foreign entity or a sole trader
    (name and ЕИК/БУЛСТАТ)."""

    name: Text | None = element(tag="Name", default=None)
    identifier: Text | None = element(tag="Identifier", default=None)


class ForeignEntityBasicData(RioModel, tag="ForeignEntity", ns="s14", nsmap={"s14": S14}):
    """Segment 0009-000014: a foreign legal entity — name, country, and either its register
    and number there or other identifying data."""

    name: Text | None = element(tag="ForeignEntityName", default=None)
    country_code: Text | None = element(tag="CountryISO3166TwoLetterCode", default=None)
    country_name: Text | None = element(tag="CountryNameCyrillic", default=None)
    foreign_register: Text | None = element(tag="ForeignEntityRegister", default=None)
    identifier: Text | None = element(tag="ForeignEntityIdentifier", default=None)
    other_data: Text | None = element(tag="ForeignEntityOtherData", default=None)

    @model_validator(mode="after")
    def _register_or_other(self) -> Self:
        if self.other_data is not None and (
            self.foreign_register is not None or self.identifier is not None
        ):
            raise PydanticCustomError("rio_choice_many", RIO_ERRORS["rio_choice_many"][0])
        return self


class ElectronicServiceProviderBasicData(
    RioModel, tag="ElectronicServiceProviderBasicData", ns="s2", nsmap={"s2": S2}
):
    """Segment 0009-000002: the provider of the service — the entity and its kind."""

    entity: EntityBasicData = element(tag="EntityBasicData", ns="s2")
    provider_type: ProviderType = element(tag="ElectronicServiceProviderType")


# --- the applicant ----------------------------------------------------------------------------


class ElectronicStatementAuthor(RioModel, tag="Author", ns="s12", nsmap={"s12": S12}):
    """Segment 0009-000012: the author of a statement — optionally the capacity (as text or
    as a code), then a person *or* a foreign citizen."""

    quality: Text | None = element(tag="AuthorQuality", default=None)
    quality_type: AuthorQualityType | None = element(tag="AuthorQualityType", default=None)
    person: PersonBasicData | None = element(tag="Person", ns="s12", default=None)
    foreign_citizen: ForeignCitizenBasicData | None = element(
        tag="ForeignCitizen", ns="s12", default=None
    )

    @model_validator(mode="after")
    def _choices(self) -> Self:
        choice(self, ("quality", "quality_type"), required=False)
        choice(self, ("person", "foreign_citizen"), required=True)
        return self


class ElectronicServiceRecipient(RioModel, tag="Recipient", ns="s15", nsmap={"s15": S15}):
    """Segment 0009-000015: who receives the service — a person, an entity, a foreign person
    or a foreign entity (exactly one)."""

    person: PersonBasicData | None = element(tag="Person", ns="s15", default=None)
    entity: EntityBasicData | None = element(tag="Entity", ns="s15", default=None)
    foreign_person: ForeignCitizenBasicData | None = element(
        tag="ForeignPerson", ns="s15", default=None
    )
    foreign_entity: ForeignEntityBasicData | None = element(
        tag="ForeignEntity", ns="s15", default=None
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        choice(self, ("person", "entity", "foreign_person", "foreign_entity"), required=True)
        return self


class RecipientGroup(RioModel, tag="RecipientGroup", ns="s16", nsmap={"s16": S16}):
    """One group of an applicant: the authors, their capacity, the recipients they act for."""

    authors: list[ElectronicStatementAuthor] = element(tag="Author", ns="s16", default_factory=list)
    author_quality: Text | None = element(tag="AuthorQuality", default=None)
    recipients: list[ElectronicServiceRecipient] = element(
        tag="Recipient", ns="s16", default_factory=list
    )


class ElectronicServiceApplicant(
    RioModel, tag="ElectronicServiceApplicant", ns="s16", nsmap={"s16": S16}
):
    """Segment 0009-000016: the applicant — recipient groups and an e-mail address."""

    recipient_groups: list[RecipientGroup] = element(
        tag="RecipientGroup", ns="s16", default_factory=list
    )
    email_address: Text | None = element(tag="EmailAddress", default=None)


class ElectronicServiceApplicantContactData(
    RioModel, tag="ElectronicServiceApplicantContactData", ns="s137", nsmap={"s137": S137}
):
    """Segment 0009-000137: the applicant's contact data (ЕКАТТЕ codes and names, address,
    telephone and fax numbers)."""

    district_code: Text | None = element(tag="DistrictCode", default=None)
    district_name: Text | None = element(tag="DistrictName", default=None)
    municipality_code: Text | None = element(tag="MunicipalityCode", default=None)
    municipality_name: Text | None = element(tag="MunicipalityName", default=None)
    settlement_code: Text | None = element(tag="SettlementCode", default=None)
    settlement_name: Text | None = element(tag="SettlementName", default=None)
    post_code: Text | None = element(tag="PostCode", default=None)
    address_description: Text | None = element(tag="AddressDescription", default=None)
    post_office_box: Text | None = element(tag="PostOfficeBox", default=None)
    phone_numbers: list[Text] = wrapped(
        "PhoneNumbers", element(tag="PhoneNumber", default_factory=list)
    )
    fax_numbers: list[Text] = wrapped(
        "FaxNumbers", element(tag="ElectronicServiceApplicantFaxNumber", default_factory=list)
    )


# --- addresses --------------------------------------------------------------------------------


class PersonAddress(RioModel, tag="PersonAddress", ns="s94", nsmap={"s94": S94}):
    """Segment 0009-000094: a person's address with ЕСГРАОН codes."""

    district_grao_code: Text | None = element(tag="DistrictGRAOCode", default=None)
    district_grao_name: Text | None = element(tag="DistrictGRAOName", default=None)
    municipality_grao_code: Text | None = element(tag="MunicipalityGRAOCode", default=None)
    municipality_grao_name: Text | None = element(tag="MunicipalityGRAOName", default=None)
    settlement_grao_code: Text | None = element(tag="SettlementGRAOCode", default=None)
    settlement_grao_name: Text | None = element(tag="SettlementGRAOName", default=None)
    street_grao_code: Text | None = element(tag="StreetGRAOCode", default=None)
    street_text: Text | None = element(tag="StreetText", default=None)
    building_number: Text | None = element(tag="BuildingNumber", default=None)
    entrance: Text | None = element(tag="Entrance", default=None)
    floor: Text | None = element(tag="Floor", default=None)
    apartment: Text | None = element(tag="Apartment", default=None)


class CorrespondenceAddress(RioModel, tag="CorrespondenceAddress", ns="s241", nsmap={"s241": S241}):
    """Segment 0009-000241: an address for correspondence."""

    district_grao_code: Text | None = element(tag="DistrictGRAOCode", default=None)
    district_grao_name: Text | None = element(tag="DistrictGRAOName", default=None)
    municipality_grao_code: Text | None = element(tag="MunicipalityGRAOCode", default=None)
    municipality_grao_name: Text | None = element(tag="MunicipalityGRAOName", default=None)
    settlement_grao_code: Text | None = element(tag="SettlementGRAOCode", default=None)
    settlement_grao_name: Text | None = element(tag="SettlementGRAOName", default=None)
    post_code: Text | None = element(tag="PostCode", default=None)
    address_description: Text | None = element(tag="AddressDescription", default=None)
    post_office_box: Text | None = element(tag="PostOfficeBox", default=None)


class ApplicantAddress(RioModel, tag="ApplicantAdress", ns="s141", nsmap={"s141": S141}):
    """The applicant's address for receiving the result (element ``ApplicantAdress``)."""

    district_code: Text | None = element(tag="DistrictCode", default=None)
    district_name: Text | None = element(tag="DistrictName", default=None)
    municipality_code: Text | None = element(tag="MunicipalityCode", default=None)
    municipality_name: Text | None = element(tag="MunicipalityName", default=None)
    settlement_code: Text | None = element(tag="SettlementCode", default=None)
    settlement_name: Text | None = element(tag="SettlementName", default=None)
    area_code: Text | None = element(tag="AreaCode", default=None)
    area_name: Text | None = element(tag="AreaName", default=None)
    post_code: Text | None = element(tag="PostCode", default=None)
    address_description: Text | None = element(tag="AddressDescription", default=None)
    housing_estate: Text | None = element(tag="HousingEstate", default=None)
    street: Text | None = element(tag="Street", default=None)
    street_number: Text | None = element(tag="StreetNumber", default=None)
    block: Text | None = element(tag="Block", default=None)
    entrance: Text | None = element(tag="Entrance", default=None)
    floor: Text | None = element(tag="Floor", default=None)
    apartment: Text | None = element(tag="Apartment", default=None)


class MunicipalityAdministrationAddress(
    RioModel, tag="MunicipalityAdministrationAdress", ns="s141", nsmap={"s141": S141}
):
    """A municipal administration where the result is received (element
    ``MunicipalityAdministrationAdress``)."""

    district_code: Text | None = element(tag="DistrictCode", default=None)
    district_name: Text | None = element(tag="DistrictName", default=None)
    municipality_code: Text | None = element(tag="MunicipalityCode", default=None)
    municipality_name: Text | None = element(tag="MunicipalityName", default=None)
    mayoralty_code: Text | None = element(tag="MayoraltyCode", default=None)
    mayoralty: Text | None = element(tag="Mayoralty", default=None)
    area_code: Text | None = element(tag="AreaCode", default=None)
    area_name: Text | None = element(tag="AreaName", default=None)


class UnitInAdministration(RioModel, tag="UnitInAdministration", ns="s141", nsmap={"s141": S141}):
    """A unit of an administration where the result is received."""

    entity: EntityBasicData | None = element(tag="EntityBasicData", ns="s141", default=None)
    department_name: Text | None = element(tag="AdministrativeDepartmentName", default=None)
    department_code: Text | None = element(tag="AdministrativeDepartmentCode", default=None)


class ServiceApplicantReceiptData(
    RioModel, tag="ServiceApplicantReceiptData", ns="s141", nsmap={"s141": S141}
):
    """Segment 0009-000141: how the applicant receives the result, and where (at most one
    of an address, a municipal administration, a post office box, a unit)."""

    method: ReceiptMethod | None = element(tag="ServiceResultReceiptMethod", default=None)
    applicant_address: ApplicantAddress | None = element(
        tag="ApplicantAdress", ns="s141", default=None
    )
    municipality_administration: MunicipalityAdministrationAddress | None = element(
        tag="MunicipalityAdministrationAdress", ns="s141", default=None
    )
    post_office_box: Text | None = element(tag="PostOfficeBox", default=None)
    unit_in_administration: UnitInAdministration | None = element(
        tag="UnitInAdministration", ns="s141", default=None
    )

    @model_validator(mode="after")
    def _at_most_one(self) -> Self:
        choice(
            self,
            (
                "applicant_address",
                "municipality_administration",
                "post_office_box",
                "unit_in_administration",
            ),
            required=False,
        )
        return self


# --- attachments, declarations, signatures ----------------------------------------------------


class AttachedDocument(RioModel, tag="AttachedDocument", ns="s139", nsmap={"s139": S139}):
    """Segment 0009-000139: a document attached to an application; ``content`` is raw bytes
    (base64 on the wire)."""

    content: Base64Bytes | None = element(tag="AttachedDocumentFileContent", default=None)
    description: Text | None = element(tag="AttachedDocumentDescription", default=None)
    unique_identifier: Text | None = element(tag="AttachedDocumentUniqueIdentifier", default=None)
    mime_type: Text | None = element(tag="FileType", default=None)
    file_name: Text | None = element(tag="AttachedDocumentFileName", default=None)
    type_code: Text | None = element(tag="AttachedDocumentTypeCode", default=None)

    def __repr__(self) -> str:  # never dump megabytes of content
        size = "None" if self.content is None else f"<{len(self.content)} bytes>"
        return (
            f"AttachedDocument(file_name={self.file_name!r}, mime_type={self.mime_type!r}, "
            f"content={size}, unique_identifier={self.unique_identifier!r})"
        )

    @xml_field_validator("content")
    @classmethod
    def _content_from_xml(cls, parent: XmlElementReader, field: str) -> bytes | None:
        return base64_from_xml(parent, f"{{{S139}}}AttachedDocumentFileContent")


class Declaration(RioModel, tag="Declaration", ns="r3136", nsmap={"r3136": R3136}):
    """Segment R-3136: a declaration in an application — whether it is made, its text, an
    optional code and the declarer's further description."""

    filled: Bool = element(tag="IsDeclarationFilled")
    name: Text = element(tag="DeclarationName")
    code: Text | None = element(tag="DeclarationCode", default=None)
    description: Text | None = element(tag="FurtherDescriptionFromDeclarer", default=None)


class XMLDigitalSignature(RioModel, tag="XMLDigitalSignature", ns="s4", nsmap={"s4": S4}):
    """Segment 0009-000004: holds one ``ds:Signature`` (opaque, never judged by the model);
    ``None`` while the document is not signed yet."""

    signature: SignatureXml | None = element(tag="Signature", default=None)

    @xml_field_validator("signature")
    @classmethod
    def _signature_from_xml(cls, parent: XmlElementReader, field: str) -> Any:
        return _fragment_from(parent, _DS_SIGNATURE, SignatureXml)

    @xml_field_serializer("signature")
    def _signature_to_xml(self, parent: XmlElementWriter, value: Any, field: str) -> None:
        _append_fragment(parent, value)


# --- header and footer ------------------------------------------------------------------------


class ElectronicAdministrativeServiceHeader(
    RioModel, tag="ElectronicAdministrativeServiceHeader", ns="s152", nsmap={"s152": S152}
):
    """Segment 0009-000152: the leading part of an application — which service, which
    document type, which provider, who applies, how to contact them, what kind of
    application."""

    service_uri: Text | None = element(tag="SUNAUServiceURI", default=None)
    """URI of the service in the list of unified service names (СУНАУ)."""
    document_type_uri: DocumentTypeURI | None = element(
        tag="DocumentTypeURI", ns="s152", default=None
    )
    document_type_name: Text | None = element(tag="DocumentTypeName", default=None)
    provider: ElectronicServiceProviderBasicData | None = element(
        tag="ElectronicServiceProviderBasicData", ns="s152", default=None
    )
    applicant: ElectronicServiceApplicant | None = element(
        tag="ElectronicServiceApplicant", ns="s152", default=None
    )
    contact_data: ElectronicServiceApplicantContactData | None = element(
        tag="ElectronicServiceApplicantContactData", ns="s152", default=None
    )
    application_type: ApplicationType | None = element(tag="ApplicationType", default=None)
    service_name: Text | None = element(tag="SUNAUServiceName", default=None)
    document_uri: DocumentURI | None = element(tag="DocumentURI", ns="s152", default=None)
    send_with_receipt: Bool | None = element(
        tag="SendApplicationWithReceiptAcknowledgedMessage", default=None
    )
    """Whether the application is sent back with the receipt acknowledgement."""


class ElectronicAdministrativeServiceFooter(
    RioModel, tag="ElectronicAdministrativeServiceFooter", ns="s153", nsmap={"s153": S153}
):
    """Segment 0009-000153: when the application was signed, and the signature."""

    signing_time: DateTime | None = element(tag="ApplicationSigningTime", default=None)
    signature: XMLDigitalSignature | None = element(
        tag="XMLDigitalSignature", ns="s153", default=None
    )

    @property
    def signed(self) -> bool:
        """Whether a ``ds:Signature`` is present (not whether it is valid)."""
        return self.signature is not None and self.signature.signature is not None


class AISUserNames(RioModel, tag="PersonNames", ns="s18", nsmap={"s18": S18}):
    """Segment 0009-000018: the names of a user of an administration's system — Bulgarian
    or foreign (exactly one)."""

    person_names: PersonNames | None = element(tag="PersonNames", ns="s18", default=None)
    foreign_citizen_names: ForeignCitizenNames | None = element(
        tag="ForeignCitizenNames", ns="s18", default=None
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        choice(self, ("person_names", "foreign_citizen_names"), required=True)
        return self
