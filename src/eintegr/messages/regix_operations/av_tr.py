"""The Registry Agency's commercial register (RegiX ``AVTRAdapter``).

* ``GetActualState`` — the actual state of a trader: :class:`ActualStateRequest` (an ЕИК) →
  :class:`ActualStateResponse` (status of the file, name, legal form, seat, subject of
  activity, capital, management bodies, the persons named in each field, …);
* ``GetValidUICInfo`` — whether an ЕИК is registered: :class:`ValidUICRequest` →
  :class:`ValidUICResponse` (status, name, legal form).

Identifiers in the responses (``UIC``, each ``Subject/Indent``) are the register's text as
given; the client reports bad check digits as warnings.
"""

from __future__ import annotations

import enum
from typing import Final

from pydantic_xml import element, wrapped

from eintegr.messages.regix_operations._base import (
    RequestPayload,
    ResponsePayload,
    XsdDateTime,
)

__all__ = [
    "ACTUAL_STATE_REQUEST_NS",
    "ACTUAL_STATE_RESPONSE_NS",
    "TR_NS",
    "VALID_UIC_REQUEST_NS",
    "VALID_UIC_RESPONSE_NS",
    "ActualStateRequest",
    "ActualStateResponse",
    "AddemptionOfTrader",
    "Address",
    "CapitalAmount",
    "Contacts",
    "Detail",
    "IndentType",
    "LegalForm",
    "LiquidationOrInsolvency",
    "Mandate",
    "Nkid",
    "NonMonetaryDeposit",
    "Seat",
    "Share",
    "Status",
    "Subject",
    "SubjectOfActivity",
    "ValidUICRequest",
    "ValidUICResponse",
]

TR_NS: Final = "http://egov.bg/RegiX/AV/TR"
"""The adapter's common types."""
ACTUAL_STATE_REQUEST_NS: Final = "http://egov.bg/RegiX/AV/TR/ActualStateRequest"
"""The namespace of :class:`ActualStateRequest`."""
ACTUAL_STATE_RESPONSE_NS: Final = "http://egov.bg/RegiX/AV/TR/ActualStateResponse"
"""The namespace of :class:`ActualStateResponse`."""
VALID_UIC_REQUEST_NS: Final = "http://egov.bg/RegiX/AV/TR/ValidUICRequest"
"""The namespace of :class:`ValidUICRequest`."""
VALID_UIC_RESPONSE_NS: Final = "http://egov.bg/RegiX/AV/TR/ValidUICResponse"
"""The namespace of :class:`ValidUICResponse`."""

_TR: Final = {"tr": TR_NS}


class Status(enum.StrEnum):
    """``StatusType``: the state of the trader's file (партида)."""

    NEW = "Нова партида"
    REREGISTERED = "Пререгистрирана партида"
    NEW_CLOSED = "Нова закрита партида"
    REREGISTERED_CLOSED = "Пререгистрирана закрита партида"

    @property
    def closed(self) -> bool:
        """Whether the file is closed (the trader is deleted)."""
        return self in (Status.NEW_CLOSED, Status.REREGISTERED_CLOSED)


class IndentType(enum.StrEnum):
    """``IndentTypeType`` (sic): what kind of identifier ``Subject/Indent`` is."""

    EGN = "EGN"
    UIC = "UIC"


class LiquidationOrInsolvency(enum.StrEnum):
    """Whether the trader is in liquidation or insolvency."""

    LIQUIDATION = "В ликвидация"
    INSOLVENCY = "В несъстоятелност"
    INSOLVENCY_SECOND_INSTANCE = "В несъстоятелност (на II инстанция)"
    INSOLVENCY_THIRD_INSTANCE = "В несъстоятелност (на III инстанция)"


# --- the argument --------------------------------------------------------------------------


class ActualStateRequest(
    RequestPayload, tag="ActualStateRequest", ns="", nsmap={"": ACTUAL_STATE_REQUEST_NS}
):
    """The argument of ``GetActualState``: the trader's ЕИК (``UIC``)."""

    uic: str | None = element(tag="UIC", default=None)


class ValidUICRequest(
    RequestPayload, tag="ValidUICRequest", ns="", nsmap={"": VALID_UIC_REQUEST_NS}
):
    """The argument of ``GetValidUICInfo``: the ЕИК (``UIC``) to check."""

    uic: str | None = element(tag="UIC", default=None)


# --- the common types --------------------------------------------------------------------------


class LegalForm(ResponsePayload, ns="tr", nsmap=_TR):
    """``LegalFormType``: abbreviation (``ЕООД``) and full name of the legal form."""

    abbreviation: str | None = element(tag="LegalFormAbbr", default=None)
    name: str | None = element(tag="LegalFormName", default=None)


class Address(ResponsePayload, ns="tr", nsmap=_TR):
    """``AddressType``: an address with its ЕКАТТЕ codes."""

    country_code: str | None = element(tag="CountryCode", default=None)
    country: str | None = element(tag="Country", default=None)
    is_foreign: str | None = element(tag="IsForeign", default=None)
    district_ekatte: str | None = element(tag="DistrictEkatte", default=None)
    district: str | None = element(tag="District", default=None)
    municipality_ekatte: str | None = element(tag="MunicipalityEkatte", default=None)
    municipality: str | None = element(tag="Municipality", default=None)
    settlement_ekatte: str | None = element(tag="SettlementEKATTE", default=None)
    settlement: str | None = element(tag="Settlement", default=None)
    area: str | None = element(tag="Area", default=None)
    area_ekatte: str | None = element(tag="AreaEkatte", default=None)
    post_code: str | None = element(tag="PostCode", default=None)
    foreign_place: str | None = element(tag="ForeignPlace", default=None)
    housing_estate: str | None = element(tag="HousingEstate", default=None)
    street: str | None = element(tag="Street", default=None)
    street_number: str | None = element(tag="StreetNumber", default=None)
    block: str | None = element(tag="Block", default=None)
    entrance: str | None = element(tag="Entrance", default=None)
    floor: str | None = element(tag="Floor", default=None)
    apartment: str | None = element(tag="Apartment", default=None)


class Contacts(ResponsePayload, ns="tr", nsmap=_TR):
    """``ContactsType``: phone, fax, e-mail, web site."""

    phone: str | None = element(tag="Phone", default=None)
    fax: str | None = element(tag="Fax", default=None)
    email: str | None = element(tag="EMail", default=None)
    url: str | None = element(tag="URL", default=None)


class Seat(ResponsePayload, ns="tr", nsmap=_TR):
    """``SeatType``: the seat and address of management, with contacts."""

    address: Address | None = element(tag="Address", default=None)
    contacts: Contacts | None = element(tag="Contacts", default=None)


class SubjectOfActivity(ResponsePayload, ns="tr", nsmap=_TR):
    """``SubjectOfActivityType``: the subject of activity; whether a bank or an insurer."""

    subject: str | None = element(tag="Subject", default=None)
    is_bank: bool | None = element(tag="IsBank", default=None)
    is_insurer: bool | None = element(tag="IsInsurer", default=None)


class Nkid(ResponsePayload, ns="tr", nsmap=_TR):
    """``NKIDType``: the main activity by the НКИД classification."""

    code: str | None = element(tag="NKIDcode", default=None)
    name: str | None = element(tag="NKIDname", default=None)


class Subject(ResponsePayload, ns="tr", nsmap=_TR):
    """``SubjectType``: a person or company named in a field of the register."""

    indent: str | None = element(tag="Indent", default=None)
    name: str | None = element(tag="Name", default=None)
    indent_type: IndentType | str | None = element(
        tag="IndentType", default=None, union_mode="left_to_right"
    )


class Mandate(ResponsePayload, ns="tr", nsmap=_TR):
    """``MandateType``: the mandate of a management body."""

    type: str | None = element(tag="Type", default=None)
    value: str | None = element(tag="MandateValue", default=None)


class Share(ResponsePayload, ns="tr", nsmap=_TR):
    """``ShareType``: a class of shares: kind, count, nominal value (as text)."""

    type: str | None = element(tag="Type", default=None)
    count: str | None = element(tag="Count", default=None)
    nominal_value: str | None = element(tag="NominalValue", default=None)


class CapitalAmount(ResponsePayload, ns="tr", nsmap=_TR):
    """``CapitalAmountType``: an amount in leva and (optionally) euro, as text."""

    value: str | None = element(tag="Value", default=None)
    euro: str | None = element(tag="Euro", default=None)


class NonMonetaryDeposit(ResponsePayload, ns="tr", nsmap=_TR):
    """``NonMonetaryDepositType``: a contribution in kind."""

    description: str | None = element(tag="Description", default=None)
    value: str | None = element(tag="Value", default=None)


class Detail(ResponsePayload, ns="tr", nsmap=_TR):
    """``DetailType``: one person or company in a field (representatives, owners, …)."""

    field_name: str | None = element(tag="FieldName", default=None)
    field_code: str | None = element(tag="FieldCode", default=None)
    field_order: str | None = element(tag="FieldOrder", default=None)
    subject: Subject | None = element(tag="Subject", default=None)


class AddemptionOfTrader(ResponsePayload, ns="tr", nsmap=_TR):
    """``AddemptionOfTraderType`` (sic): deletion after moving the seat to another EU state."""

    address: Address | None = element(tag="Address", default=None)
    contacts: Contacts | None = element(tag="Contacts", default=None)
    competent_authority: str | None = element(tag="CompetentAuthorityForRegistration", default=None)
    registration_number: str | None = element(tag="RegistrationNumber", default=None)


# --- the responses -----------------------------------------------------------------------------


class ValidUICResponse(
    ResponsePayload, tag="ValidUICResponse", ns="", nsmap={"": VALID_UIC_RESPONSE_NS}
):
    """The response of ``GetValidUICInfo``."""

    status: Status | str | None = element(tag="Status", default=None, union_mode="left_to_right")
    uic: str | None = element(tag="UIC", default=None)
    company: str | None = element(tag="Company", default=None)
    legal_form: LegalForm | None = element(tag="LegalForm", ns="", default=None)
    data_valid_for: XsdDateTime | None = element(tag="DataValidForDate", default=None)


class ActualStateResponse(
    ResponsePayload, tag="ActualStateResponse", ns="", nsmap={"": ACTUAL_STATE_RESPONSE_NS}
):
    """The response of ``GetActualState``: the trader's actual state.

    The register's field codes: ``uic`` 00010, ``company`` 00020, ``legal_form`` 00030,
    ``transliteration`` 00040, ``seat`` 00050, ``seat_for_correspondence`` 00051,
    ``subject_of_activity`` 00060/00061, ``way_of_management`` 00080,
    ``way_of_representation`` 00110, the mandates 00120–00150, the capital 00310–00340.
    ``details`` lists the persons and companies named in the fields.
    """

    status: Status | str | None = element(tag="Status", default=None, union_mode="left_to_right")
    uic: str | None = element(tag="UIC", default=None)
    company: str | None = element(tag="Company", default=None)
    legal_form: LegalForm | None = element(tag="LegalForm", ns="", default=None)
    transliteration: str | None = element(tag="Transliteration", default=None)
    seat: Seat | None = element(tag="Seat", ns="", default=None)
    seat_for_correspondence: Address | None = element(
        tag="SeatForCorrespondence", ns="", default=None
    )
    subject_of_activity: SubjectOfActivity | None = element(
        tag="SubjectOfActivity", ns="", default=None
    )
    subject_of_activity_nkid: Nkid | None = element(
        tag="SubjectOfActivityNKID", ns="", default=None
    )
    way_of_management: str | None = element(tag="WayOfManagement", default=None)
    way_of_representation: str | None = element(tag="WayOfRepresentation", default=None)
    terms_of_partnership: str | None = element(tag="TermsOfPartnership", default=None)
    term_of_existing: str | None = element(tag="TermOfExisting", default=None)
    special_conditions: str | None = element(tag="SpecialConditions", default=None)
    hidden_non_monetary_deposit: str | None = element(tag="HiddenNonMonetaryDeposit", default=None)
    share_payment_responsibility: str | None = element(
        tag="SharePaymentResponsibility", default=None
    )
    conceded_estate_value: str | None = element(tag="ConcededEstateValue", default=None)
    cessation_of_trade: str | None = element(tag="CessationOfTrade", default=None)
    addemption_of_trader: str | None = element(tag="AddemptionOfTrader", default=None)
    addemption_of_trader_seat_change: AddemptionOfTrader | None = element(
        tag="AddemptionOfTraderSeatChange", ns="", default=None
    )
    funds: CapitalAmount | None = element(tag="Funds", ns="", default=None)
    shares: list[Share] = wrapped("Shares", element(tag="Share", ns="tr", default_factory=list))
    minimum_amount: CapitalAmount | None = element(tag="MinimumAmount", ns="", default=None)
    deposited_funds: CapitalAmount | None = element(tag="DepositedFunds", ns="", default=None)
    non_monetary_deposits: list[NonMonetaryDeposit] = wrapped(
        "NonMonetaryDeposits", element(tag="NonMonetaryDeposit", ns="tr", default_factory=list)
    )
    buy_back_decision: str | None = element(tag="BuyBackDecision", default=None)
    board_of_directors_mandate: Mandate | None = element(
        tag="BoardOfDirectorsMandate", ns="", default=None
    )
    administrative_board_mandate: Mandate | None = element(
        tag="AdministrativeBoardMandate", ns="", default=None
    )
    board_of_managers_mandate: Mandate | None = element(
        tag="BoardOfManagersMandate", ns="", default=None
    )
    board_of_managers2_mandate: Mandate | None = element(
        tag="BoardOfManagers2Mandate", ns="", default=None
    )
    leading_board_mandate: Mandate | None = element(tag="LeadingBoardMandate", ns="", default=None)
    supervising_board_mandate: Mandate | None = element(
        tag="SupervisingBoardMandate", ns="", default=None
    )
    supervising_board2_mandate: Mandate | None = element(
        tag="SupervisingBoard2Mandate", ns="", default=None
    )
    controlling_board_mandate: Mandate | None = element(
        tag="ControllingBoardMandate", ns="", default=None
    )
    details: list[Detail] = wrapped("Details", element(tag="Detail", ns="tr", default_factory=list))
    data_valid_for: XsdDateTime | None = element(tag="DataValidForDate", default=None)
    liquidation_or_insolvency: LiquidationOrInsolvency | str | None = element(
        tag="LiquidationOrInsolvency", default=None, union_mode="left_to_right"
    )

    def persons(self, field_name: str | None = None) -> list[Subject]:
        """The subjects named in ``details`` (in the field ``field_name`` only, if given)."""
        return [
            d.subject
            for d in self.details
            if d.subject is not None and (field_name is None or d.field_name == field_name)
        ]
