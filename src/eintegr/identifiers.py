"""Bulgarian identifiers (ЕГН, ЛНЧ, ЕИК/БУЛСТАТ), СЕОС GUIDs, OIDs and РИО URIs.

Every ``parse`` is strict: the text must be exactly the identifier — no spaces, no
separators, no ``BG`` prefix, ASCII digits only — and a bad one raises
:class:`~eintegr.errors.IdentifierError` with a stable ``code`` and a message in English and
Bulgarian that says why (length, a character that is not a digit, the check digit, an
impossible date). Input that is not a ``str`` raises :class:`TypeError`.

Check digits (``d1 … dn`` are the digits, left to right):

* **ЕГН** (personal number of a citizen, 10 digits ``YYMMDDNNNC``): ``C = (2·d1 + 4·d2 +
  8·d3 + 5·d4 + 10·d5 + 9·d6 + 7·d7 + 3·d8 + 6·d9) mod 11``, a remainder of 10 becomes 0. The
  first six digits are a real birth date; the month carries the century: ``01–12`` → 1900s,
  ``21–32`` (month + 20) → 1800s, ``41–52`` (month + 40) → 2000s. An even ninth digit means
  male, odd means female. A birth date in the future is *not* rejected (validation does not
  depend on today's date).
* **ЛНЧ** (personal number of a foreigner, 10 digits): ``C = (21·d1 + 19·d2 + 17·d3 + 13·d4 +
  11·d5 + 9·d6 + 7·d7 + 3·d8 + 1·d9) mod 10``.
* **ЕИК/БУЛСТАТ**, 9 digits (a legal entity): ``C = (1·d1 + 2·d2 + … + 8·d8) mod 11``; if that
  is 10, ``C = (3·d1 + 4·d2 + … + 10·d8) mod 11``; if that is 10 again, ``C = 0``.
* **ЕИК/БУЛСТАТ**, 13 digits (a branch): the first nine digits are a valid 9-digit ЕИК, and
  ``d13 = (2·d9 + 7·d10 + 3·d11 + 5·d12) mod 11``; if that is 10, ``(4·d9 + 9·d10 + 5·d11 +
  7·d12) mod 11``; if 10 again, 0.

**ЕГН/ЛНЧ ambiguity**: the two schemes share the 10-digit shape, and some numbers pass both
(a valid date and both check digits). The digits alone cannot tell which one a person
holds, so store the type next to the number (:class:`IdentifierType`); use
:func:`personal_id_types` to learn which readings are possible.

The check-digit arithmetic and the cross-checks come from python-stdnum (``stdnum.bg.egn``,
``stdnum.bg.pnf``, ``stdnum.bg.vat``), whose rules match the ones above; stdnum's own
``validate`` is lenient (it strips separators and maps Unicode digits), so the strict format
checks, the date decoding with its reasons, and the 13-digit ЕИК are ours.

**СЕОС GUIDs** are written ``{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`` (hexadecimal, braces
required by the schema) and are compared case-insensitively; :class:`Guid` is the value type,
printed in lowercase.
"""

from __future__ import annotations

import calendar
import datetime
import enum
import re
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn
from uuid import UUID, uuid4

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema
from stdnum.bg import egn as _stdnum_egn
from stdnum.bg import pnf as _stdnum_pnf
from stdnum.bg import vat as _stdnum_vat

from eintegr.errors import IdentifierError

__all__ = [
    "Egn",
    "Eik",
    "Guid",
    "IdentifierType",
    "Lnch",
    "egn_check_digit",
    "eik13_check_digits",
    "eik_check_digit",
    "is_valid_egn",
    "is_valid_eik",
    "is_valid_guid",
    "is_valid_lnch",
    "is_valid_oid",
    "is_valid_rio_uri",
    "lnch_check_digit",
    "personal_id_types",
]

# ---------------------------------------------------------------------------------------------
# Shared digit checks
# ---------------------------------------------------------------------------------------------

_DIGITS_RE: Final = re.compile(r"[0-9]*")


@dataclass(frozen=True, slots=True)
class _Kind:
    """How one kind of digit string is named in errors."""

    code: str
    en: str
    bg: str


_EGN = _Kind("ID-EGN", "EGN", "ЕГН")
_EGN9 = _Kind("ID-EGN", "EGN without its check digit", "ЕГН без контролната цифра")
_LNCH = _Kind("ID-LNCH", "LNCh", "ЛНЧ")
_LNCH9 = _Kind("ID-LNCH", "LNCh without its check digit", "ЛНЧ без контролната цифра")
_EIK = _Kind("ID-EIK", "EIK/BULSTAT", "ЕИК/БУЛСТАТ")
_EIK8 = _Kind("ID-EIK", "EIK without its check digit", "ЕИК без контролната цифра")
_EIK12 = _Kind(
    "ID-EIK", "13-digit EIK without its last check digit", "13-цифрен ЕИК без последната цифра"
)


def _fail(kind: _Kind, en: str, bg: str) -> NoReturn:
    raise IdentifierError(f"{kind.en} {en}", code=kind.code, message_bg=f"{kind.bg} {bg}")


def _require_str(text: object, kind: _Kind) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{kind.en} must be given as str, not {type(text).__name__}")
    return text


def _digits(text: object, kind: _Kind, *lengths: int) -> str:
    """``text`` if it is made of ASCII digits only and has one of ``lengths``; else raise."""
    value = _require_str(text, kind)
    if not _DIGITS_RE.fullmatch(value):
        index, char = next((i, c) for i, c in enumerate(value) if c not in "0123456789")
        _fail(
            kind,
            f"must contain only the digits 0-9; the character {char!r} at position "
            f"{index + 1} is not one",
            f"трябва да съдържа само цифрите 0-9; знакът {char!r} на позиция {index + 1} "
            "не е цифра",
        )
    if len(value) not in lengths:
        wanted_en = " or ".join(str(n) for n in lengths)
        wanted_bg = " или ".join(str(n) for n in lengths)
        _fail(
            kind,
            f"must have exactly {wanted_en} digits; got {len(value)}",
            f"трябва да има точно {wanted_bg} цифри; подадени са {len(value)}",
        )
    return value


def _check(kind: _Kind, value: str, expected: str, position: int) -> None:
    found = value[position - 1]
    if found != expected:
        _fail(
            kind,
            f"has a wrong check digit at position {position}: expected {expected}, found {found}",
            f"има грешна контролна цифра на позиция {position}: очаква се {expected}, а е {found}",
        )


# ---------------------------------------------------------------------------------------------
# Check digits
# ---------------------------------------------------------------------------------------------


def egn_check_digit(first9: str) -> str:
    """The 10th (check) digit of an ЕГН whose first nine digits are ``first9``.

    The birth date in ``first9`` is not checked. Raises :class:`IdentifierError`
    (``ID-EGN``) unless ``first9`` is exactly nine ASCII digits.
    """
    digits = _digits(first9, _EGN9, 9)
    return str(_stdnum_egn.calc_check_digit(digits))


def lnch_check_digit(first9: str) -> str:
    """The 10th (check) digit of an ЛНЧ whose first nine digits are ``first9``.

    Raises :class:`IdentifierError` (``ID-LNCH``) unless ``first9`` is nine ASCII digits.
    """
    digits = _digits(first9, _LNCH9, 9)
    return str(_stdnum_pnf.calc_check_digit(digits))


def eik_check_digit(first8: str) -> str:
    """The 9th (check) digit of a 9-digit ЕИК/БУЛСТАТ whose first eight digits are ``first8``.

    Raises :class:`IdentifierError` (``ID-EIK``) unless ``first8`` is eight ASCII digits.
    """
    digits = _digits(first8, _EIK8, 8)
    return str(_stdnum_vat.calc_check_digit_legal(digits))


_EIK13_WEIGHTS: Final = ((2, 7, 3, 5), (4, 9, 5, 7))


def eik13_check_digits(first12: str) -> str:
    """The 13th (check) digit of a 13-digit (branch) ЕИК whose first twelve digits are ``first12``.

    The digit depends on digits 9–12 only; whether the first nine form a valid ЕИК is not
    checked here (:meth:`Eik.parse` does). Raises :class:`IdentifierError` (``ID-EIK``)
    unless ``first12`` is twelve ASCII digits.
    """
    digits = [int(c) for c in _digits(first12, _EIK12, 12)[8:12]]
    for weights in _EIK13_WEIGHTS:
        remainder = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        if remainder != 10:
            return str(remainder)
    return "0"


# ---------------------------------------------------------------------------------------------
# ЕГН, ЛНЧ, ЕИК
# ---------------------------------------------------------------------------------------------


class IdentifierType(enum.StrEnum):
    """The kind of a Bulgarian identifier; store it next to a 10-digit personal number."""

    EGN = "EGN"
    """ЕГН — единен граждански номер (a citizen or a permanent resident)."""
    LNCH = "LNCH"
    """ЛНЧ — личен номер на чужденец (a foreigner)."""
    EIK = "EIK"
    """ЕИК/БУЛСТАТ — a legal entity or one of its branches."""


# (lowest month code, highest month code, century, subtracted from the code to get the month)
_EGN_CENTURIES: Final = ((1, 12, 1900, 0), (21, 32, 1800, 20), (41, 52, 2000, 40))


def _egn_birth_date(value: str) -> datetime.date:
    yy, code, day = int(value[0:2]), int(value[2:4]), int(value[4:6])
    for low, high, century, shift in _EGN_CENTURIES:
        if low <= code <= high:
            year, month = century + yy, code - shift
            break
    else:
        _fail(
            _EGN,
            f"encodes an impossible birth date: the month code {value[2:4]} is not in "
            "01-12, 21-32 or 41-52",
            f"съдържа невъзможна дата на раждане: кодът на месеца {value[2:4]} не е в "
            "01-12, 21-32 или 41-52",
        )
    try:
        return datetime.date(year, month, day)
    except ValueError:
        _fail(
            _EGN,
            f"encodes an impossible birth date: {year:04d}-{month:02d}-{day:02d} does not exist",
            f"съдържа невъзможна дата на раждане: {day:02d}.{month:02d}.{year:04d} не съществува",
        )


@dataclass(frozen=True, slots=True)
class Egn:
    """A valid ЕГН with the facts it encodes.

    ``value`` is the ten digits, ``birth_date`` the date of birth decoded with its century,
    ``is_female`` whether the ninth digit is odd. ``Egn(value)`` validates like :meth:`parse`;
    the other two fields are derived.
    """

    value: str
    birth_date: datetime.date = field(init=False)
    is_female: bool = field(init=False)

    def __post_init__(self) -> None:
        value = _digits(self.value, _EGN, 10)
        birth_date = _egn_birth_date(value)
        _check(_EGN, value, egn_check_digit(value[:9]), 10)
        object.__setattr__(self, "birth_date", birth_date)
        object.__setattr__(self, "is_female", int(value[8]) % 2 == 1)

    @classmethod
    def parse(cls, text: str) -> Egn:
        """Parse an ЕГН; raises :class:`IdentifierError` (``ID-EGN``) saying why it is invalid."""
        return cls(text)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Lnch:
    """A valid ЛНЧ. ``Lnch(value)`` validates like :meth:`parse`."""

    value: str

    def __post_init__(self) -> None:
        value = _digits(self.value, _LNCH, 10)
        _check(_LNCH, value, lnch_check_digit(value[:9]), 10)

    @classmethod
    def parse(cls, text: str) -> Lnch:
        """Parse an ЛНЧ; raises :class:`IdentifierError` (``ID-LNCH``) saying why it is invalid."""
        return cls(text)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Eik:
    """A valid ЕИК/БУЛСТАТ of 9 digits, or of 13 digits for a branch (``is_branch``).

    ``base`` is the first nine digits (the entity itself). ``Eik(value)`` validates like
    :meth:`parse`.
    """

    value: str
    is_branch: bool = field(init=False)
    base: str = field(init=False)

    def __post_init__(self) -> None:
        value = _digits(self.value, _EIK, 9, 13)
        _check(_EIK, value, eik_check_digit(value[:8]), 9)
        if len(value) == 13:
            _check(_EIK, value, eik13_check_digits(value[:12]), 13)
        object.__setattr__(self, "is_branch", len(value) == 13)
        object.__setattr__(self, "base", value[:9])

    @classmethod
    def parse(cls, text: str) -> Eik:
        """Parse a 9- or 13-digit ЕИК; raises :class:`IdentifierError` (``ID-EIK``) saying why."""
        return cls(text)

    def __str__(self) -> str:
        return self.value


def _type_name(text: object) -> str:
    return type(text).__name__


# The predicates below run on validation's hot path: plain arithmetic, no exceptions.
_EGN_WEIGHTS: Final = (2, 4, 8, 5, 10, 9, 7, 3, 6)
_LNCH_WEIGHTS: Final = (21, 19, 17, 13, 11, 9, 7, 3, 1)
_EIK_WEIGHTS: Final = ((1, 2, 3, 4, 5, 6, 7, 8), (3, 4, 5, 6, 7, 8, 9, 10))


def _is_digits(text: str, *lengths: int) -> bool:
    return len(text) in lengths and text.isascii() and text.isdigit()


def _weighted(text: str, weights: tuple[int, ...]) -> int:
    return sum((ord(c) - 48) * w for c, w in zip(text, weights, strict=False))


def _egn_date_ok(value: str) -> bool:
    yy, code, day = int(value[0:2]), int(value[2:4]), int(value[4:6])
    for low, high, century, shift in _EGN_CENTURIES:
        if low <= code <= high:
            year, month = century + yy, code - shift
            return 1 <= day <= calendar.monthrange(year, month)[1]
    return False


def is_valid_egn(text: str) -> bool:
    """Whether ``text`` is exactly a valid ЕГН (digits, birth date, check digit)."""
    _require_str(text, _EGN)
    if not _is_digits(text, 10) or not _egn_date_ok(text):
        return False
    return _weighted(text, _EGN_WEIGHTS) % 11 % 10 == ord(text[9]) - 48


def is_valid_lnch(text: str) -> bool:
    """Whether ``text`` is exactly a valid ЛНЧ (ten digits, check digit)."""
    _require_str(text, _LNCH)
    return _is_digits(text, 10) and _weighted(text, _LNCH_WEIGHTS) % 10 == ord(text[9]) - 48


def _eik9_digit(digits: str) -> int:
    remainder = _weighted(digits, _EIK_WEIGHTS[0]) % 11
    if remainder == 10:
        remainder = _weighted(digits, _EIK_WEIGHTS[1]) % 11 % 10
    return remainder


def is_valid_eik(text: str) -> bool:
    """Whether ``text`` is exactly a valid 9- or 13-digit ЕИК/БУЛСТАТ."""
    _require_str(text, _EIK)
    if not _is_digits(text, 9, 13) or _eik9_digit(text) != ord(text[8]) - 48:
        return False
    return len(text) == 9 or eik13_check_digits(text[:12]) == text[12]


def personal_id_types(text: str) -> frozenset[IdentifierType]:
    """The personal-number readings ``text`` passes: ``{EGN}``, ``{LNCH}``, both, or none.

    Both means the digits alone cannot tell an ЕГН from an ЛНЧ; keep the type with the number.
    """
    found: set[IdentifierType] = set()
    if is_valid_egn(text):
        found.add(IdentifierType.EGN)
    if is_valid_lnch(text):
        found.add(IdentifierType.LNCH)
    return frozenset(found)


# ---------------------------------------------------------------------------------------------
# СЕОС GUIDs
# ---------------------------------------------------------------------------------------------

_HEX = "[0-9a-fA-F]"
_BARE_GUID = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_GUID_PATTERN: Final = rf"\{{{_BARE_GUID}\}}"
_GUID_RE: Final = re.compile(_GUID_PATTERN)
_BARE_GUID_RE: Final = re.compile(_BARE_GUID)
_GUID = _Kind("ID-GUID", "GUID", "GUID")


def _guid_error(text: str, *, lenient: bool) -> NoReturn:
    shown = repr(text) if len(text) <= 60 else repr(text[:60]) + "…"
    if lenient:
        _fail(
            _GUID,
            f"{shown} is not of the form {{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}} "
            "(hexadecimal; braces optional)",
            f"{shown} не е във вида {{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}} "
            "(шестнайсетични цифри; скобите не са задължителни)",
        )
    _fail(
        _GUID,
        f"{shown} is not of the form {{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}} "
        "(hexadecimal, in braces)",
        f"{shown} не е във вида {{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}} "
        "(шестнайсетични цифри, във фигурни скоби)",
    )


class Guid:
    """A СЕОС GUID: an immutable, hashable value compared by its UUID.

    ``str(guid)`` is the canonical ``{lowercase-8-4-4-4-12}`` form. A :class:`Guid` also equals
    a string that :meth:`parse` accepts with the same value, whatever its letter case (an
    invalid string is simply unequal). ``hash`` is the UUID's hash, so keep mixed ``Guid`` and
    ``str`` keys out of one dict or set.

    In pydantic models (and pydantic-xml) a ``Guid`` field accepts a :class:`Guid` or a string
    (strictly parsed) and serializes to the canonical string in both python and json mode.
    """

    __slots__ = ("_uuid",)
    _uuid: UUID

    def __init__(self, value: UUID) -> None:
        """Wrap a :class:`uuid.UUID` (see also :meth:`from_uuid`, :meth:`parse`, :meth:`new`)."""
        if not isinstance(value, UUID):
            raise TypeError(f"Guid needs a uuid.UUID, not {_type_name(value)}")
        object.__setattr__(self, "_uuid", value)

    @classmethod
    def parse(cls, text: str) -> Guid:
        """Parse ``{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`` in any letter case.

        Strict: braces required, exactly 8-4-4-4-12 hexadecimal digits, nothing around.
        Raises :class:`IdentifierError` (``ID-GUID``) otherwise.
        """
        value = _require_str(text, _GUID)
        if not _GUID_RE.fullmatch(value):
            _guid_error(value, lenient=False)
        return cls(UUID(value[1:-1]))

    @classmethod
    def parse_lenient(cls, text: str) -> Guid:
        """Like :meth:`parse`, but the braces are optional and surrounding whitespace is ignored.

        Other shapes (no hyphens, ``urn:uuid:``, one brace only) are still refused.
        """
        value = _require_str(text, _GUID).strip()
        if _GUID_RE.fullmatch(value):
            return cls(UUID(value[1:-1]))
        if _BARE_GUID_RE.fullmatch(value):
            return cls(UUID(value))
        _guid_error(text, lenient=True)

    @classmethod
    def new(cls) -> Guid:
        """A new random GUID (UUID version 4)."""
        return cls(uuid4())

    @classmethod
    def from_uuid(cls, value: UUID) -> Guid:
        """The GUID of a :class:`uuid.UUID`."""
        return cls(value)

    @property
    def uuid(self) -> UUID:
        """The value as a :class:`uuid.UUID`."""
        return self._uuid

    def __str__(self) -> str:
        return f"{{{self._uuid}}}"

    def __repr__(self) -> str:
        return f"Guid('{self}')"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Guid):
            return self._uuid == other._uuid
        if isinstance(other, str):
            return _GUID_RE.fullmatch(other) is not None and UUID(other[1:-1]) == self._uuid
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._uuid)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Guid is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Guid is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[Guid], tuple[UUID]]:
        return (type(self), (self._uuid,))

    @classmethod
    def _from_model_input(
        cls, value: object, handler: core_schema.ValidatorFunctionWrapHandler
    ) -> Guid:
        if isinstance(value, Guid):
            return value
        return cls.parse(handler(value))  # the handler insists on a str

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """pydantic v2: validate a ``Guid`` or a strict ``{…}`` string; serialize to ``str``."""
        # A wrap validator around a strict str schema: pydantic-xml sees a plain string field.
        return core_schema.no_info_wrap_validator_function(
            cls._from_model_input,
            core_schema.str_schema(strict=True),
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, info_arg=False, return_schema=core_schema.str_schema()
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """JSON Schema: a string with the СЕОС GUID pattern."""
        return {"type": "string", "pattern": f"^{_GUID_PATTERN}$"}


def is_valid_guid(text: str) -> bool:
    """Whether :meth:`Guid.parse` accepts ``text`` (``{8-4-4-4-12}`` hexadecimal, in braces)."""
    return _GUID_RE.fullmatch(_require_str(text, _GUID)) is not None


# ---------------------------------------------------------------------------------------------
# OIDs and РИО URIs
# ---------------------------------------------------------------------------------------------

_ARC = r"(?:0|[1-9][0-9]*)"
# first arc 0, 1 or 2; under 0 and 1 the second arc is 0-39 (X.660); at least two arcs.
_OID_RE: Final = re.compile(rf"(?:[01]\.(?:[0-9]|[1-3][0-9])|2\.{_ARC})(?:\.{_ARC})*")
_RIO_URI_RE: Final = re.compile(r"[0-9]{4}-[0-9]{6}")
_OID = _Kind("ID-OID", "OID", "OID")
_RIO = _Kind("ID-URI", "RIO URI", "РИО URI")


def is_valid_oid(text: str) -> bool:
    """Whether ``text`` is a dotted OID such as ``2.16.100.1.1``.

    At least two arcs; the first is 0, 1 or 2 (and then, under 0 or 1, the second is 0-39);
    every arc is ASCII decimal without leading zeros.
    """
    return _OID_RE.fullmatch(_require_str(text, _OID)) is not None


def is_valid_rio_uri(text: str) -> bool:
    """Whether ``text`` is a РИО register object URI ``NNNN-NNNNNN`` (e.g. ``0009-000001``)."""
    return _RIO_URI_RE.fullmatch(_require_str(text, _RIO)) is not None
