"""GRAO national population register (RegiX ``GraoNBDAdapter``): a person's data.

Operation ``PersonDataSearch``: the argument is :class:`PersonDataRequest` (an ЕГН), the
response :class:`PersonDataResponse` (names in Cyrillic and Latin, gender, ЕГН, dates of
birth and death, place of birth, citizenship).
"""

from __future__ import annotations

import enum
from typing import Final

from pydantic_xml import element

from eintegr.messages.regix_operations._base import (
    RequestPayload,
    ResponsePayload,
    XsdDate,
)

__all__ = [
    "NBD_NS",
    "PERSON_DATA_REQUEST_NS",
    "PERSON_DATA_RESPONSE_NS",
    "Gender",
    "GenderName",
    "Nationality",
    "PersonDataRequest",
    "PersonDataResponse",
    "PersonNames",
]

NBD_NS: Final = "http://egov.bg/RegiX/GRAO/NBD"
"""The adapter's common types."""
PERSON_DATA_REQUEST_NS: Final = "http://egov.bg/RegiX/GRAO/NBD/PersonDataRequest"
"""The namespace of :class:`PersonDataRequest`."""
PERSON_DATA_RESPONSE_NS: Final = "http://egov.bg/RegiX/GRAO/NBD/PersonDataResponse"
"""The namespace of :class:`PersonDataResponse`."""

_EGN_PATTERN: Final = r"^[0-9]{10}$"


class GenderName(enum.StrEnum):
    """``GenderNameType``: the gender as the register names it."""

    MALE = "Мъж"
    FEMALE = "Жена"


class PersonDataRequest(
    RequestPayload, tag="PersonDataRequest", ns="", nsmap={"": PERSON_DATA_REQUEST_NS}
):
    """The argument of ``PersonDataSearch``: the person's ЕГН."""

    egn: str = element(tag="EGN", pattern=_EGN_PATTERN)


class PersonNames(ResponsePayload, ns="nbd", nsmap={"nbd": NBD_NS}):
    """``PersonNames``: first, father's (``SurName``) and family name."""

    first_name: str | None = element(tag="FirstName", default=None)
    sur_name: str | None = element(tag="SurName", default=None)
    family_name: str | None = element(tag="FamilyName", default=None)

    @property
    def full(self) -> str:
        """The names joined by spaces (absent ones left out)."""
        return " ".join(n for n in (self.first_name, self.sur_name, self.family_name) if n)


class Gender(ResponsePayload, ns="nbd", nsmap={"nbd": NBD_NS}):
    """``Gender``: the code (1 male, 2 female) and its name."""

    code: int | None = element(tag="GenderCode", default=None)
    name: GenderName | str | None = element(
        tag="GenderName", default=None, union_mode="left_to_right"
    )


class Nationality(ResponsePayload, ns="nbd", nsmap={"nbd": NBD_NS}):
    """``Nationality``: citizenship code and name, and a second citizenship if any."""

    code: str | None = element(tag="NationalityCode", default=None)
    name: str | None = element(tag="NationalityName", default=None)
    code2: str | None = element(tag="NationalityCode2", default=None)
    name2: str | None = element(tag="NationalityName2", default=None)


class PersonDataResponse(
    ResponsePayload, tag="PersonDataResponse", ns="", nsmap={"": PERSON_DATA_RESPONSE_NS}
):
    """The response of ``PersonDataSearch``.

    ``egn`` is the register's text as given: a value with a bad check digit is kept and
    reported as a warning by the client, never refused.
    """

    person_names: PersonNames | None = element(tag="PersonNames", ns="", default=None)
    alias: str | None = element(tag="Alias", default=None)
    latin_names: PersonNames | None = element(tag="LatinNames", ns="", default=None)
    foreign_names: PersonNames | None = element(tag="ForeignNames", ns="", default=None)
    gender: Gender | None = element(tag="Gender", ns="", default=None)
    egn: str | None = element(tag="EGN", default=None)
    birth_date: XsdDate | None = element(tag="BirthDate", default=None)
    place_of_birth: str | None = element(tag="PlaceBirth", default=None)
    nationality: Nationality | None = element(tag="Nationality", ns="", default=None)
    death_date: XsdDate | None = element(tag="DeathDate", default=None)
