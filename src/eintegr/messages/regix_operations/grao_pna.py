"""GRAO permanent and present addresses (RegiX ``GraoPNAAdapter``).

Operations ``PermanentAddressSearch`` (постоянен адрес) and ``TemporaryAddressSearch``
(настоящ адрес): the argument is an ЕГН and the date at which the address is asked for; the
response is the address with its codes (district, municipality, settlement by ЕКАТТЕ, city
area, street or quarter) and the date it was declared. The present address also names the
country.
"""

from __future__ import annotations

from typing import Final

from pydantic_xml import element

from eintegr.messages.regix_operations._base import (
    RequestPayload,
    ResponsePayload,
    XsdDate,
)

__all__ = [
    "PERMANENT_ADDRESS_REQUEST_NS",
    "PERMANENT_ADDRESS_RESPONSE_NS",
    "TEMPORARY_ADDRESS_REQUEST_NS",
    "TEMPORARY_ADDRESS_RESPONSE_NS",
    "PermanentAddressRequest",
    "PermanentAddressResponse",
    "TemporaryAddressRequest",
    "TemporaryAddressResponse",
]

PERMANENT_ADDRESS_REQUEST_NS: Final = "http://egov.bg/RegiX/GRAO/PNA/PermanentAddressRequest"
"""The namespace of :class:`PermanentAddressRequest`."""
PERMANENT_ADDRESS_RESPONSE_NS: Final = "http://egov.bg/RegiX/GRAO/PNA/PermanentAddressResponse"
"""The namespace of :class:`PermanentAddressResponse`."""
TEMPORARY_ADDRESS_REQUEST_NS: Final = "http://egov.bg/RegiX/GRAO/PNA/TemporaryAddressRequest"
"""The namespace of :class:`TemporaryAddressRequest`."""
TEMPORARY_ADDRESS_RESPONSE_NS: Final = "http://egov.bg/RegiX/GRAO/PNA/TemporaryAddressResponse"
"""The namespace of :class:`TemporaryAddressResponse`."""

_EGN_PATTERN: Final = r"^[0-9]{10}$"


class PermanentAddressRequest(
    RequestPayload,
    tag="PermanentAddressRequest",
    ns="",
    nsmap={"": PERMANENT_ADDRESS_REQUEST_NS},
):
    """The argument of ``PermanentAddressSearch``: the person's ЕГН and the search date."""

    egn: str = element(tag="EGN", pattern=_EGN_PATTERN)
    search_date: XsdDate = element(tag="SearchDate")


class TemporaryAddressRequest(
    RequestPayload,
    tag="TemporaryAddressRequest",
    ns="",
    nsmap={"": TEMPORARY_ADDRESS_REQUEST_NS},
):
    """The argument of ``TemporaryAddressSearch``: the person's ЕГН and the search date."""

    egn: str = element(tag="EGN", pattern=_EGN_PATTERN)
    search_date: XsdDate = element(tag="SearchDate")


class _AddressFields(ResponsePayload):
    """The fields both address responses share, in schema order (after the country)."""

    district_code: str | None = element(tag="DistrictCode", default=None)
    district_name: str | None = element(tag="DistrictName", default=None)
    municipality_code: str | None = element(tag="MunicipalityCode", default=None)
    municipality_name: str | None = element(tag="MunicipalityName", default=None)
    settlement_code: str | None = element(tag="SettlementCode", default=None)
    settlement_name: str | None = element(tag="SettlementName", default=None)
    city_area_code: str | None = element(tag="CityAreaCode", default=None)
    city_area: str | None = element(tag="CityArea", default=None)
    location_code: str | None = element(tag="LocationCode", default=None)
    location_name: str | None = element(tag="LocationName", default=None)
    building_number: str | None = element(tag="BuildingNumber", default=None)
    entrance: str | None = element(tag="Entrance", default=None)
    floor: str | None = element(tag="Floor", default=None)
    apartment: str | None = element(tag="Apartment", default=None)
    from_date: XsdDate | None = element(tag="FromDate", default=None)

    @property
    def one_line(self) -> str:
        """The address on one line, Bulgarian style (absent parts left out)."""
        return _one_line(self)


class PermanentAddressResponse(
    _AddressFields,
    tag="PermanentAddressResponse",
    ns="",
    nsmap={"": PERMANENT_ADDRESS_RESPONSE_NS},
):
    """The response of ``PermanentAddressSearch``: the permanent address."""


class TemporaryAddressResponse(
    ResponsePayload,
    tag="TemporaryAddressResponse",
    ns="",
    nsmap={"": TEMPORARY_ADDRESS_RESPONSE_NS},
):
    """The response of ``TemporaryAddressSearch``: the present address, with its country."""

    country_code: str | None = element(tag="CountryCode", default=None)
    country_name: str | None = element(tag="CountryName", default=None)
    district_code: str | None = element(tag="DistrictCode", default=None)
    district_name: str | None = element(tag="DistrictName", default=None)
    municipality_code: str | None = element(tag="MunicipalityCode", default=None)
    municipality_name: str | None = element(tag="MunicipalityName", default=None)
    settlement_code: str | None = element(tag="SettlementCode", default=None)
    settlement_name: str | None = element(tag="SettlementName", default=None)
    city_area_code: str | None = element(tag="CityAreaCode", default=None)
    city_area: str | None = element(tag="CityArea", default=None)
    location_code: str | None = element(tag="LocationCode", default=None)
    location_name: str | None = element(tag="LocationName", default=None)
    building_number: str | None = element(tag="BuildingNumber", default=None)
    entrance: str | None = element(tag="Entrance", default=None)
    floor: str | None = element(tag="Floor", default=None)
    apartment: str | None = element(tag="Apartment", default=None)
    from_date: XsdDate | None = element(tag="FromDate", default=None)

    @property
    def one_line(self) -> str:
        """The address on one line, Bulgarian style (absent parts left out)."""
        return _one_line(self)


def _one_line(address: _AddressFields | TemporaryAddressResponse) -> str:
    parts = [
        address.settlement_name,
        f"р-н {address.city_area}" if address.city_area else None,
        address.location_name,
        f"№ {address.building_number}" if address.building_number else None,
        f"вх. {address.entrance}" if address.entrance else None,
        f"ет. {address.floor}" if address.floor else None,
        f"ап. {address.apartment}" if address.apartment else None,
    ]
    return ", ".join(p for p in parts if p)
