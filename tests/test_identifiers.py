"""Tests for eintegr.identifiers: ЕГН, ЛНЧ, ЕИК/БУЛСТАТ, СЕОС GUIDs, OIDs, РИО URIs.

The reference arithmetic below is written independently from the rules (DESIGN.md §3), so
the library (which uses python-stdnum for part of it) is checked against the rules, not
against itself.
"""

from __future__ import annotations

import dataclasses
import datetime
import pickle
import re
import string
import uuid

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic_xml import BaseXmlModel, element
from stdnum.bg import egn as stdnum_egn
from stdnum.bg import pnf as stdnum_pnf

from eintegr.errors import EintegrError, IdentifierError
from eintegr.identifiers import (
    Egn,
    Eik,
    Guid,
    IdentifierType,
    Lnch,
    egn_check_digit,
    eik13_check_digits,
    eik_check_digit,
    is_valid_egn,
    is_valid_eik,
    is_valid_guid,
    is_valid_lnch,
    is_valid_oid,
    is_valid_rio_uri,
    lnch_check_digit,
    personal_id_types,
)
from eintegr.xml import parse_xml

# ---------------------------------------------------------------------------------------------
# Reference arithmetic, straight from the rules
# ---------------------------------------------------------------------------------------------

EGN_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3, 6)
LNCH_WEIGHTS = (21, 19, 17, 13, 11, 9, 7, 3, 1)
CENTURY_SHIFT = {1800: 20, 1900: 0, 2000: 40}


def weighted(weights: tuple[int, ...], digits: str) -> int:
    assert len(weights) == len(digits)
    return sum(w * int(d) for w, d in zip(weights, digits, strict=True))


def ref_egn_residue(first9: str) -> int:
    """Σ wᵢ·dᵢ mod 11, before 10 is mapped to 0."""
    return weighted(EGN_WEIGHTS, first9) % 11


def ref_egn_check(first9: str) -> str:
    return str(ref_egn_residue(first9) % 10)


def ref_lnch_check(first9: str) -> str:
    return str(weighted(LNCH_WEIGHTS, first9) % 10)


def ref_eik_first_residue(first8: str) -> int:
    return weighted((1, 2, 3, 4, 5, 6, 7, 8), first8) % 11


def ref_eik_check(first8: str) -> str:
    r = ref_eik_first_residue(first8)
    if r == 10:
        r = weighted((3, 4, 5, 6, 7, 8, 9, 10), first8) % 11
        if r == 10:
            r = 0
    return str(r)


def ref_eik13_first_residue(d9_to_d12: str) -> int:
    return weighted((2, 7, 3, 5), d9_to_d12) % 11


def ref_eik13_check(first12: str) -> str:
    r = ref_eik13_first_residue(first12[8:12])
    if r == 10:
        r = weighted((4, 9, 5, 7), first12[8:12]) % 11
        if r == 10:
            r = 0
    return str(r)


def ref_egn_date(text: str) -> datetime.date | None:
    yy, code, day = int(text[0:2]), int(text[2:4]), int(text[4:6])
    for century, shift in CENTURY_SHIFT.items():
        if 1 <= code - shift <= 12:
            try:
                return datetime.date(century + yy, code - shift, day)
            except ValueError:
                return None
    return None


def egn_prefix(born: datetime.date, seq: int) -> str:
    """The first nine digits of an ЕГН: YY, month (+20 for 1800s, +40 for 2000s), DD, NNN."""
    century = born.year // 100 * 100
    month_code = born.month + CENTURY_SHIFT[century]
    return f"{born.year % 100:02d}{month_code:02d}{born.day:02d}{seq:03d}"


def replace_digit(text: str, index: int, digit: str) -> str:
    return text[:index] + digit + text[index + 1 :]


digits9 = st.text(alphabet="0123456789", min_size=9, max_size=9)
digits8 = st.text(alphabet="0123456789", min_size=8, max_size=8)
digits3 = st.text(alphabet="0123456789", min_size=3, max_size=3)
birth_dates = st.dates(datetime.date(1800, 1, 1), datetime.date(2099, 12, 31))
sequences = st.integers(0, 999)
digit_chars = st.sampled_from("0123456789")


@st.composite
def valid_egns(draw: st.DrawFn) -> str:
    first9 = egn_prefix(draw(birth_dates), draw(sequences))
    return first9 + ref_egn_check(first9)


@st.composite
def valid_lnchs(draw: st.DrawFn) -> str:
    first9 = draw(digits9)
    return first9 + ref_lnch_check(first9)


@st.composite
def valid_eik9s(draw: st.DrawFn) -> str:
    first8 = draw(digits8)
    return first8 + ref_eik_check(first8)


@st.composite
def valid_eik13s(draw: st.DrawFn) -> str:
    first12 = draw(valid_eik9s()) + draw(digits3)
    return first12 + ref_eik13_check(first12)


def assert_error(exc: IdentifierError, code: str, *fragments: str) -> None:
    """Stable code, English message with the given fragments, a distinct Bulgarian message."""
    assert exc.code == code
    assert isinstance(exc, ValueError)
    assert isinstance(exc, EintegrError)
    for fragment in fragments:
        assert fragment in str(exc), (fragment, str(exc))
    assert exc.message_bg != str(exc)
    assert re.search("[а-яА-Я]", exc.message_bg)
    assert exc.localized("bg") == exc.message_bg


# ---------------------------------------------------------------------------------------------
# ЕГН
# ---------------------------------------------------------------------------------------------


class TestEgnVectors:
    def test_1900s(self) -> None:
        # 90 01 01 123: 9·2 + 0·4 + 0·8 + 1·5 + 0·10 + 1·9 + 1·7 + 2·3 + 3·6 = 63; 63 mod 11 = 8
        assert 9 * 2 + 0 * 4 + 0 * 8 + 1 * 5 + 0 * 10 + 1 * 9 + 1 * 7 + 2 * 3 + 3 * 6 == 63
        assert egn_check_digit("900101123") == "8"
        egn = Egn.parse("9001011238")
        assert egn.value == "9001011238"
        assert egn.birth_date == datetime.date(1990, 1, 1)
        assert egn.is_female  # 9th digit 3 is odd
        assert str(egn) == "9001011238"

    def test_1800s_month_plus_20(self) -> None:
        # 85 27 15 042 → 1885-07-15; 8·2 + 5·4 + 2·8 + 7·5 + 1·10 + 5·9 + 0·7 + 4·3 + 2·6 = 166
        # 166 mod 11 = 1
        assert 16 + 20 + 16 + 35 + 10 + 45 + 0 + 12 + 12 == 166
        assert 166 % 11 == 1
        egn = Egn.parse("8527150421")
        assert egn.birth_date == datetime.date(1885, 7, 15)
        assert not egn.is_female  # 9th digit 2 is even

    def test_2000s_month_plus_40_and_leap_day(self) -> None:
        # 04 42 29 350 → 2004-02-29; 0·2 + 4·4 + 4·8 + 2·5 + 2·10 + 9·9 + 3·7 + 5·3 + 0·6 = 195
        # 195 mod 11 = 8
        assert 0 + 16 + 32 + 10 + 20 + 81 + 21 + 15 + 0 == 195
        assert 195 % 11 == 8
        egn = Egn.parse("0442293508")
        assert egn.birth_date == datetime.date(2004, 2, 29)
        assert not egn.is_female

    def test_remainder_10_becomes_0(self) -> None:
        # 90 01 01 127: 18 + 5 + 9 + 7 + 6 + 7·6 = 87; 87 mod 11 = 10 → 0
        assert 18 + 5 + 9 + 7 + 6 + 7 * 6 == 87
        assert 87 % 11 == 10
        assert egn_check_digit("900101127") == "0"
        assert is_valid_egn("9001011270")
        assert not is_valid_egn("9001011271")

    def test_century_decides_leap_years(self) -> None:
        # 1900 is not a leap year, 2000 is: 00 02 29 is impossible, 00 42 29 exists.
        for first9, valid in (("000229000", False), ("004229000", True)):
            assert is_valid_egn(first9 + ref_egn_check(first9)) is valid

    def test_constructor_validates_and_is_frozen(self) -> None:
        egn = Egn("9001011238")
        assert egn == Egn.parse("9001011238")
        with pytest.raises(dataclasses.FrozenInstanceError):
            egn.value = "8527150421"  # type: ignore[misc]
        with pytest.raises(IdentifierError):
            Egn("9001011239")


class TestEgnErrors:
    @pytest.mark.parametrize(
        ("text", "fragments"),
        [
            ("", ["exactly 10 digits", "got 0"]),
            ("900101123", ["exactly 10 digits", "got 9"]),
            ("90010112380", ["exactly 10 digits", "got 11"]),
            (" 9001011238", ["' '", "at position 1 is not"]),
            ("9001011238 ", ["' '", "at position 11 is not"]),
            ("9001011238\n", ["'\\n'", "at position 11 is not"]),
            ("900101-1238", ["'-'", "at position 7 is not"]),
            ("90010112З8", ["'З'", "at position 9 is not"]),  # Cyrillic Ze looks like 3
            ("９００１０１１２３８", ["'９' at position 1 is not"]),  # fullwidth digits
            ("٩٠٠١٠١١٢٣٨", ["'٩' at position 1 is not"]),  # Arabic-Indic digits
            ("90010112³8", ["'³' at position 9 is not"]),  # superscript three
            ("+900101123", ["'+'", "at position 1 is not"]),
        ],
    )
    def test_format(self, text: str, fragments: list[str]) -> None:
        with pytest.raises(IdentifierError) as info:
            Egn.parse(text)
        assert_error(info.value, "ID-EGN", *fragments)
        assert not is_valid_egn(text)

    @pytest.mark.parametrize("month_code", ["00", "13", "20", "33", "40", "53", "99"])
    def test_impossible_month_code(self, month_code: str) -> None:
        first9 = f"90{month_code}01123"
        with pytest.raises(IdentifierError) as info:
            Egn.parse(first9 + ref_egn_check(first9))
        assert_error(info.value, "ID-EGN", "impossible birth date", f"month code {month_code}")

    @pytest.mark.parametrize(
        ("first6", "shown"),
        [
            ("900100", "1990-01-00"),
            ("900132", "1990-01-32"),
            ("910229", "1991-02-29"),
            ("000229", "1900-02-29"),
            ("852431", "1885-04-31"),
            ("055231", "2005-12-31"),  # exists: the control case
        ],
    )
    def test_impossible_day(self, first6: str, shown: str) -> None:
        first9 = first6 + "123"
        text = first9 + ref_egn_check(first9)
        if ref_egn_date(text) is not None:
            assert Egn.parse(text).birth_date.isoformat() == shown
            return
        with pytest.raises(IdentifierError) as info:
            Egn.parse(text)
        assert_error(info.value, "ID-EGN", "impossible birth date", shown, "does not exist")

    def test_wrong_check_digit(self) -> None:
        with pytest.raises(IdentifierError) as info:
            Egn.parse("9001011235")
        assert_error(info.value, "ID-EGN", "check digit", "expected 8", "found 5")

    @pytest.mark.parametrize("value", [None, 9001011238, b"9001011238", ["9001011238"]])
    def test_not_a_string(self, value: object) -> None:
        with pytest.raises(TypeError):
            Egn.parse(value)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            is_valid_egn(value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("first9", ["", "90010112", "9001011230", "90010112a", " 90010112"])
    def test_check_digit_input(self, first9: str) -> None:
        with pytest.raises(IdentifierError) as info:
            egn_check_digit(first9)
        assert info.value.code == "ID-EGN"


class TestEgnProperties:
    @settings(max_examples=300)
    @given(born=birth_dates, seq=sequences)
    def test_birth_date_round_trips_in_every_century(self, born: datetime.date, seq: int) -> None:
        first9 = egn_prefix(born, seq)
        text = first9 + egn_check_digit(first9)
        egn = Egn.parse(text)
        assert egn.birth_date == born
        assert egn.is_female == (seq % 2 == 1)
        assert is_valid_egn(text)

    @given(first9=digits9)
    def test_check_digit_matches_rule(self, first9: str) -> None:
        assert egn_check_digit(first9) == ref_egn_check(first9)
        # valid exactly when the embedded date is real
        assert is_valid_egn(first9 + egn_check_digit(first9)) == (
            ref_egn_date(first9 + "0") is not None
        )

    @settings(max_examples=200)
    @given(text=valid_egns(), index=st.integers(0, 9), digit=digit_chars)
    def test_single_digit_change(self, text: str, index: int, digit: str) -> None:
        assume(text[index] != digit)
        changed = replace_digit(text, index, digit)
        if index == 9:
            assert not is_valid_egn(changed)  # the check digit is a function of the rest
            return
        before, after = ref_egn_residue(text[:9]), ref_egn_residue(changed[:9])
        # every weight is non-zero mod 11 (a prime) and |Δ| ≤ 9, so the residue always moves…
        assert before != after
        if {before, after} != {0, 10}:
            # …and only residues 0 and 10 share a check digit: detection is guaranteed here
            assert not is_valid_egn(changed)
        else:
            # the one blind spot: same check digit, so only the date can still reject it
            assert is_valid_egn(changed) == (ref_egn_date(changed) is not None)


# ---------------------------------------------------------------------------------------------
# ЛНЧ
# ---------------------------------------------------------------------------------------------


class TestLnch:
    def test_vectors(self) -> None:
        # 1 0 0 0 0 0 0 0 0: 1·21 = 21; 21 mod 10 = 1
        assert lnch_check_digit("100000000") == "1"
        assert Lnch.parse("1000000001").value == "1000000001"
        # 123456789: 21 + 38 + 51 + 52 + 55 + 54 + 49 + 24 + 9 = 353; 353 mod 10 = 3
        assert 1 * 21 + 2 * 19 + 3 * 17 + 4 * 13 + 5 * 11 + 6 * 9 + 7 * 7 + 8 * 3 + 9 * 1 == 353
        assert lnch_check_digit("123456789") == "3"
        assert str(Lnch("1234567893")) == "1234567893"

    def test_errors(self) -> None:
        with pytest.raises(IdentifierError) as info:
            Lnch.parse("1234567890")
        assert_error(info.value, "ID-LNCH", "check digit", "expected 3", "found 0")
        with pytest.raises(IdentifierError) as info:
            Lnch.parse("123456789")
        assert_error(info.value, "ID-LNCH", "exactly 10 digits", "got 9")
        with pytest.raises(IdentifierError) as info:
            Lnch.parse("12345 67893")
        assert_error(info.value, "ID-LNCH", "' '", "at position 6 is not")
        with pytest.raises(IdentifierError) as info:
            lnch_check_digit("12345678")
        assert info.value.code == "ID-LNCH"
        with pytest.raises(TypeError):
            Lnch.parse(1234567893)  # type: ignore[arg-type]
        with pytest.raises(dataclasses.FrozenInstanceError):
            Lnch("1000000001").value = "x"  # type: ignore[misc]

    @given(first9=digits9)
    def test_appending_check_digit_gives_valid(self, first9: str) -> None:
        assert lnch_check_digit(first9) == ref_lnch_check(first9)
        assert is_valid_lnch(first9 + lnch_check_digit(first9))

    @settings(max_examples=200)
    @given(text=valid_lnchs(), index=st.integers(0, 9), digit=digit_chars)
    def test_every_single_digit_change_is_detected(self, text: str, index: int, digit: str) -> None:
        # weights mod 10 are 1, 9, 7, 3, 1, 9, 7, 3, 1: all coprime to 10, so a change Δ of one
        # digit (0 < |Δ| ≤ 9) always moves the sum mod 10 — detection is guaranteed everywhere.
        assume(text[index] != digit)
        assert not is_valid_lnch(replace_digit(text, index, digit))


# ---------------------------------------------------------------------------------------------
# ЕГН / ЛНЧ ambiguity and the stdnum cross-check
# ---------------------------------------------------------------------------------------------


class TestPersonalIdTypes:
    def test_egn_only(self) -> None:
        assert personal_id_types("9001011238") == frozenset({IdentifierType.EGN})

    def test_lnch_only(self) -> None:
        # month code 00 is no date, so it cannot be an ЕГН
        assert personal_id_types("1000000001") == frozenset({IdentifierType.LNCH})

    def test_both(self) -> None:
        # 90 01 01 007 → 1990-01-01
        # ЕГН: 9·2 + 1·5 + 1·9 + 7·6 = 74; 74 mod 11 = 8
        # ЛНЧ: 9·21 + 1·13 + 1·9 + 7·1 = 218; 218 mod 10 = 8
        assert 9 * 2 + 1 * 5 + 1 * 9 + 7 * 6 == 74
        assert 74 % 11 == 8
        assert 9 * 21 + 1 * 13 + 1 * 9 + 7 * 1 == 218
        assert personal_id_types("9001010078") == frozenset(
            {IdentifierType.EGN, IdentifierType.LNCH}
        )

    @pytest.mark.parametrize("text", ["", "9001011239", "900101123", "abc", "123456786"])
    def test_none(self, text: str) -> None:
        assert personal_id_types(text) == frozenset()

    def test_type_values(self) -> None:
        assert [t.value for t in IdentifierType] == ["EGN", "LNCH", "EIK"]
        assert IdentifierType("EGN") == "EGN"


ten_digit_candidates = st.one_of(
    st.text(alphabet="0123456789", min_size=10, max_size=10),
    digits9.map(lambda f: f + ref_egn_check(f)),
    digits9.map(lambda f: f + ref_lnch_check(f)),
)


class TestStdnumCrossCheck:
    @settings(max_examples=300)
    @given(text=ten_digit_candidates)
    def test_same_verdict_on_ten_digits(self, text: str) -> None:
        assert is_valid_egn(text) == stdnum_egn.is_valid(text)
        assert is_valid_lnch(text) == stdnum_pnf.is_valid(text)

    @settings(max_examples=300)
    @given(
        text=st.text(
            alphabet=st.one_of(
                st.sampled_from("0123456789 -.\n٣９BG"), st.characters(codec="utf-8")
            ),
            max_size=13,
        )
    )
    def test_we_are_stricter(self, text: str) -> None:
        # stdnum strips separators and maps look-alike characters; we accept exact digits only
        if is_valid_egn(text):
            assert stdnum_egn.is_valid(text)
        if is_valid_lnch(text):
            assert stdnum_pnf.is_valid(text)
        if is_valid_egn(text) or is_valid_lnch(text):
            assert re.fullmatch("[0-9]{10}", text)


# ---------------------------------------------------------------------------------------------
# ЕИК / БУЛСТАТ
# ---------------------------------------------------------------------------------------------


class TestEikVectors:
    def test_nine_digits(self) -> None:
        # 1·1 + 2·2 + 3·3 + 4·4 + 5·5 + 6·6 + 7·7 + 8·8 = 204; 204 mod 11 = 6
        assert sum(i * i for i in range(1, 9)) == 204
        assert 204 % 11 == 6
        assert eik_check_digit("12345678") == "6"
        eik = Eik.parse("123456786")
        assert (eik.value, eik.is_branch, eik.base) == ("123456786", False, "123456786")
        assert str(eik) == "123456786"

    def test_nine_digits_second_weights(self) -> None:
        # 0 5 0 0 0 0 0 0: 2·5 = 10 → use 3..10: 4·5 = 20; 20 mod 11 = 9
        assert eik_check_digit("05000000") == "9"
        assert is_valid_eik("050000009")

    def test_nine_digits_ten_twice_becomes_0(self) -> None:
        # 0 0 0 0 0 2 8 1: 6·2 + 7·8 + 8·1 = 76 ≡ 10; 8·2 + 9·8 + 10·1 = 98 ≡ 10 → 0
        assert (6 * 2 + 7 * 8 + 8 * 1) % 11 == 10
        assert (8 * 2 + 9 * 8 + 10 * 1) % 11 == 10
        assert eik_check_digit("00000281") == "0"
        assert is_valid_eik("000002810")

    def test_thirteen_digits(self) -> None:
        # 123456786 + 123: 6·2 + 1·7 + 2·3 + 3·5 = 40; 40 mod 11 = 7
        assert eik13_check_digits("123456786123") == "7"
        eik = Eik.parse("1234567861237")
        assert (eik.is_branch, eik.base) == (True, "123456786")

    def test_thirteen_digits_second_weights(self) -> None:
        # 6 0 0 4: 12 + 20 = 32 ≡ 10 → 4·6 + 7·4 = 52; 52 mod 11 = 8
        assert eik13_check_digits("123456786004") == "8"
        assert is_valid_eik("1234567860048")

    def test_thirteen_digits_ten_twice_becomes_0(self) -> None:
        # 6 0 8 8: 12 + 24 + 40 = 76 ≡ 10; 24 + 40 + 56 = 120 ≡ 10 → 0
        assert (6 * 2 + 0 * 7 + 8 * 3 + 8 * 5) % 11 == 10
        assert (6 * 4 + 0 * 9 + 8 * 5 + 8 * 7) % 11 == 10
        assert eik13_check_digits("123456786088") == "0"
        assert is_valid_eik("1234567860880")

    def test_frozen(self) -> None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            Eik("123456786").value = "x"  # type: ignore[misc]


class TestEikErrors:
    @pytest.mark.parametrize(
        ("text", "fragments"),
        [
            ("", ["9 or 13 digits", "got 0"]),
            ("12345678", ["9 or 13 digits", "got 8"]),
            ("1234567860", ["9 or 13 digits", "got 10"]),
            ("123456786123", ["9 or 13 digits", "got 12"]),
            ("12345678612370", ["9 or 13 digits", "got 14"]),
            ("BG123456786", ["'B'", "at position 1 is not"]),
            ("123 456 786", ["' '", "at position 4 is not"]),
            ("123456786\t", ["'\\t'", "at position 10 is not"]),
            ("123456785", ["check digit at position 9", "expected 6", "found 5"]),
            ("1234567861238", ["check digit at position 13", "expected 7", "found 8"]),
            # a valid branch suffix does not rescue a bad base
            ("1234567851237", ["check digit at position 9", "expected 6"]),
        ],
    )
    def test_invalid(self, text: str, fragments: list[str]) -> None:
        with pytest.raises(IdentifierError) as info:
            Eik.parse(text)
        assert_error(info.value, "ID-EIK", *fragments)
        assert not is_valid_eik(text)

    def test_check_digit_inputs(self) -> None:
        for bad8 in ("", "1234567", "123456789", "1234567a"):
            with pytest.raises(IdentifierError) as info:
                eik_check_digit(bad8)
            assert info.value.code == "ID-EIK"
        for bad12 in ("12345678612", "1234567861234", "12345678612x"):
            with pytest.raises(IdentifierError) as info:
                eik13_check_digits(bad12)
            assert info.value.code == "ID-EIK"
        with pytest.raises(TypeError):
            eik_check_digit(12345678)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            is_valid_eik(None)  # type: ignore[arg-type]


class TestEikProperties:
    @given(first8=digits8)
    def test_nine_digit_check(self, first8: str) -> None:
        assert eik_check_digit(first8) == ref_eik_check(first8)
        eik = Eik.parse(first8 + eik_check_digit(first8))
        assert not eik.is_branch

    @given(base=valid_eik9s(), suffix=digits3)
    def test_thirteen_digit_check(self, base: str, suffix: str) -> None:
        first12 = base + suffix
        assert eik13_check_digits(first12) == ref_eik13_check(first12)
        eik = Eik.parse(first12 + eik13_check_digits(first12))
        assert eik.is_branch
        assert eik.base == base

    @settings(max_examples=300)
    @given(text=valid_eik9s(), index=st.integers(0, 8), digit=digit_chars)
    def test_nine_digit_single_change(self, text: str, index: int, digit: str) -> None:
        assume(text[index] != digit)
        changed = replace_digit(text, index, digit)
        if index == 8:
            assert not is_valid_eik(changed)
            return
        before = ref_eik_first_residue(text[:8])
        after = ref_eik_first_residue(changed[:8])
        # weights 1..8 are non-zero mod 11, so the first residue always moves
        assert before != after
        if before != 10 and after != 10:
            # both sides use the first weights: distinct residues are distinct check digits
            assert not is_valid_eik(changed)
        else:
            # a fallback to weights 3..10 (or to 0) may collide; no guarantee, just the rule
            assert is_valid_eik(changed) == (ref_eik_check(changed[:8]) == changed[8])

    @settings(max_examples=300)
    @given(text=valid_eik13s(), index=st.integers(0, 12), digit=digit_chars)
    def test_thirteen_digit_single_change(self, text: str, index: int, digit: str) -> None:
        assume(text[index] != digit)
        changed = replace_digit(text, index, digit)
        if index in (8, 12):
            assert not is_valid_eik(changed)  # a check digit itself changed
            return
        if index < 8:
            before = ref_eik_first_residue(text[:8])
            after = ref_eik_first_residue(changed[:8])
        else:
            before = ref_eik13_first_residue(text[8:12])
            after = ref_eik13_first_residue(changed[8:12])
        assert before != after  # weights 2, 7, 3, 5 are non-zero mod 11 as well
        if before != 10 and after != 10:
            assert not is_valid_eik(changed)
        else:
            expected = ref_eik_check(changed[:8]) == changed[8] and (
                ref_eik13_check(changed[:12]) == changed[12]
            )
            assert is_valid_eik(changed) == expected


# ---------------------------------------------------------------------------------------------
# GUIDs
# ---------------------------------------------------------------------------------------------

CANONICAL = "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}"


def mixed_case(text: str, flips: list[bool]) -> str:
    return "".join(
        c.upper() if flip else c.lower()
        for c, flip in zip(text, flips + [False] * len(text), strict=False)
    )


class TestGuid:
    def test_parse_and_str(self) -> None:
        guid = Guid.parse("{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}")
        assert str(guid) == CANONICAL
        assert guid.uuid == uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        assert repr(guid) == f"Guid('{CANONICAL}')"
        assert is_valid_guid(CANONICAL)

    def test_equality_with_strings(self) -> None:
        guid = Guid.parse(CANONICAL)
        assert guid == CANONICAL.upper()
        assert CANONICAL.upper() == guid  # reflected
        assert guid != "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f1}"
        assert guid != CANONICAL[1:-1]  # strict: not a valid СЕОС GUID, so unequal
        assert guid != "not a guid"
        assert guid != guid.uuid  # a UUID is not a Guid
        assert guid != 42
        assert guid != Guid.new()

    def test_new_and_from_uuid(self) -> None:
        first, second = Guid.new(), Guid.new()
        assert first != second
        assert first.uuid.version == 4
        value = uuid.uuid4()
        assert Guid.from_uuid(value).uuid is value
        assert Guid.from_uuid(value) == Guid(value)
        with pytest.raises(TypeError):
            Guid(str(value))  # type: ignore[arg-type]

    def test_immutable_hashable_picklable(self) -> None:
        guid = Guid.parse(CANONICAL)
        with pytest.raises(AttributeError):
            guid._uuid = uuid.uuid4()
        with pytest.raises(AttributeError):
            guid.uuid = uuid.uuid4()  # type: ignore[misc]
        with pytest.raises(AttributeError):
            del guid._uuid
        assert {guid, Guid.parse(CANONICAL.upper())} == {guid}
        assert pickle.loads(pickle.dumps(guid)) == guid

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "{}",
            CANONICAL[1:-1],  # no braces
            CANONICAL[:-1],  # one brace only
            CANONICAL[1:],
            f" {CANONICAL}",
            f"{CANONICAL}\n",
            "{0f1e2d3c4b5a69788796a5b4c3d2e1f0}",  # no hyphens
            "urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "(0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0)",
            "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f}",  # 11 in the last group
            "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f00}",  # 13 in the last group
            "{0f1e2d3-c4b5a-6978-8796-a5b4c3d2e1f0}",  # hyphen misplaced
            "{0f1e2d3g-4b5a-6978-8796-a5b4c3d2e1f0}",  # g is not hexadecimal
            "{０f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}",  # fullwidth zero
            "{{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}}",
            "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0} ",
        ],
    )
    def test_strict_parse_rejects(self, text: str) -> None:
        with pytest.raises(IdentifierError) as info:
            Guid.parse(text)
        assert_error(info.value, "ID-GUID", "braces")
        assert not is_valid_guid(text)

    def test_error_message_is_bounded(self) -> None:
        with pytest.raises(IdentifierError) as info:
            Guid.parse("x" * 10_000)
        assert len(str(info.value)) < 300

    def test_lenient(self) -> None:
        expected = Guid.parse(CANONICAL)
        for text in (
            CANONICAL,
            CANONICAL.upper(),
            CANONICAL[1:-1],
            f"  {CANONICAL}\n",
            f"\t{CANONICAL[1:-1].upper()} ",
        ):
            assert Guid.parse_lenient(text) == expected
        for bad in (
            "",
            "   ",
            CANONICAL[:-1],
            CANONICAL[1:],
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "{ 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 }",
        ):
            with pytest.raises(IdentifierError) as info:
                Guid.parse_lenient(bad)
            assert_error(info.value, "ID-GUID", "braces optional")

    def test_not_a_string(self) -> None:
        with pytest.raises(TypeError):
            Guid.parse(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Guid.parse_lenient(b"{}")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            is_valid_guid(uuid.uuid4())  # type: ignore[arg-type]

    @given(value=st.uuids(), flips=st.lists(st.booleans(), max_size=38))
    def test_round_trip_case_and_hash(self, value: uuid.UUID, flips: list[bool]) -> None:
        guid = Guid.from_uuid(value)
        text = str(guid)
        assert text == "{" + str(value) + "}"
        assert text == text.lower()
        assert Guid.parse(text) == guid
        cased = mixed_case(text, flips)
        parsed = Guid.parse(cased)
        assert parsed == guid
        assert hash(parsed) == hash(guid)
        assert str(parsed) == text
        assert guid == cased
        assert Guid.parse_lenient(f" {cased[1:-1]} ") == guid

    @settings(max_examples=300)
    @given(
        text=st.text(alphabet="{}-0123456789abcdefABCDEFgG \n", min_size=30, max_size=42),
    )
    def test_only_canonical_shapes_are_accepted(self, text: str) -> None:
        # whatever parse accepts must be the canonical form up to letter case
        try:
            guid = Guid.parse(text)
        except IdentifierError:
            assert guid_shape_is_wrong(text)
            return
        assert str(guid) == text.lower()

    @settings(max_examples=300)
    @given(
        value=st.uuids(),
        position=st.integers(0, 37),
        action=st.sampled_from(["delete", "insert", "replace"]),
        char=st.sampled_from([*"{}- \n0aFgz\u00a0٣", "０"]),
    )
    def test_every_mutation_of_the_shape_is_rejected(
        self, value: uuid.UUID, position: int, action: str, char: str
    ) -> None:
        text = str(Guid.from_uuid(value))
        if action == "delete":
            mutated = text[:position] + text[position + 1 :]
        elif action == "insert":
            mutated = text[:position] + char + text[position:]
        else:
            mutated = text[:position] + char + text[position + 1 :]
            # swapping one hex digit for another hex digit keeps the shape
            assume(not (text[position] in string.hexdigits and char in string.hexdigits))
            assume(mutated != text)
        with pytest.raises(IdentifierError):
            Guid.parse(mutated)


def guid_shape_is_wrong(text: str) -> bool:
    """Independent shape check: braces, then groups of 8-4-4-4-12 ASCII hex digits."""
    if len(text) != 38 or text[0] != "{" or text[-1] != "}":
        return True
    groups = text[1:-1].split("-")
    return [len(g) for g in groups] != [8, 4, 4, 4, 12] or not all(
        c in string.hexdigits for g in groups for c in g
    )


class GuidModel(BaseModel):
    guid: Guid
    optional: Guid | None = None


class GuidXml(BaseXmlModel, tag="Doc"):
    guid: Guid = element(tag="DocumentGUID")


class TestGuidPydantic:
    def test_validates_strings_and_guids(self) -> None:
        model = GuidModel(guid=CANONICAL.upper())
        assert isinstance(model.guid, Guid)
        assert model.guid == Guid.parse(CANONICAL)
        guid = Guid.new()
        assert GuidModel(guid=guid).guid is guid

    def test_serializes_to_canonical_string(self) -> None:
        model = GuidModel(guid=CANONICAL.upper(), optional=CANONICAL)
        assert model.model_dump() == {"guid": CANONICAL, "optional": CANONICAL}
        assert model.model_dump(mode="json") == {"guid": CANONICAL, "optional": CANONICAL}
        assert model.model_dump_json() == f'{{"guid":"{CANONICAL}","optional":"{CANONICAL}"}}'
        assert GuidModel.model_validate_json(model.model_dump_json()) == model

    @pytest.mark.parametrize("bad", [CANONICAL[1:-1], "", "nonsense", f" {CANONICAL}"])
    def test_rejects_bad_strings_with_our_error(self, bad: str) -> None:
        with pytest.raises(ValidationError) as info:
            GuidModel(guid=bad)
        error = info.value.errors()[0]
        assert error["loc"] == ("guid",)
        cause = error["ctx"]["error"]
        assert isinstance(cause, IdentifierError)
        assert cause.code == "ID-GUID"
        with pytest.raises(ValidationError):
            GuidModel.model_validate_json(f'{{"guid": "{bad}"}}')

    @pytest.mark.parametrize("bad", [None, 42, CANONICAL.encode(), uuid.uuid4()])
    def test_rejects_other_types(self, bad: object) -> None:
        with pytest.raises(ValidationError):
            GuidModel(guid=bad)

    def test_json_schema_pattern(self) -> None:
        schema = GuidModel.model_json_schema()["properties"]["guid"]
        assert schema["type"] == "string"
        pattern = re.compile(schema["pattern"])
        assert pattern.search(CANONICAL.upper())
        assert not pattern.search(CANONICAL[1:-1])

    def test_pydantic_xml_round_trip(self) -> None:
        doc = GuidXml(guid=Guid.parse(CANONICAL.upper()))
        xml = doc.to_xml()
        assert isinstance(xml, bytes)
        assert parse_xml(xml).getroot().findtext("DocumentGUID") == CANONICAL
        assert GuidXml.from_xml(xml) == doc
        upper = f"<Doc><DocumentGUID>{CANONICAL.upper()}</DocumentGUID></Doc>".encode()
        assert GuidXml.from_xml(upper).guid == doc.guid

    def test_pydantic_xml_rejects_bad_text(self) -> None:
        bad = f"<Doc><DocumentGUID>{CANONICAL[1:-1]}</DocumentGUID></Doc>".encode()
        with pytest.raises(ValidationError):
            GuidXml.from_xml(bad)


# ---------------------------------------------------------------------------------------------
# OIDs and РИО URIs
# ---------------------------------------------------------------------------------------------


class TestOid:
    @pytest.mark.parametrize(
        "text",
        ["0.0", "1.2.840.113549.1.1.11", "2.16.100.1.1.1.1.13", "1.39", "2.999.1", "2.0", "0.9.0"],
    )
    def test_valid(self, text: str) -> None:
        assert is_valid_oid(text)

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "1",  # one arc
            "3.1",  # first arc only 0-2
            "1.40",  # second arc under 0/1 only 0-39
            "0.40.1",
            "1.02",  # leading zero
            "2.16.0100",
            "01.2",
            "1..2",
            ".1.2",
            "1.2.",
            "1.2 ",
            " 1.2",
            "1.2.a",
            "1.-2",
            "1.٢",  # Arabic-Indic digit
            "1.2\n",
        ],
    )
    def test_invalid(self, text: str) -> None:
        assert not is_valid_oid(text)

    @given(
        first=st.integers(0, 2),
        second=st.integers(0, 39),
        rest=st.lists(st.integers(0, 10**12), max_size=8),
    )
    def test_built_oids_are_valid(self, first: int, second: int, rest: list[int]) -> None:
        text = ".".join(str(arc) for arc in [first, second, *rest])
        assert is_valid_oid(text)
        if rest:  # a leading zero on any later arc spoils it
            assert not is_valid_oid(text + ".0" + str(rest[-1] + 1))
            assert is_valid_oid(text + ".0")

    def test_not_a_string(self) -> None:
        with pytest.raises(TypeError):
            is_valid_oid(1.2)  # type: ignore[arg-type]


class TestRioUri:
    @pytest.mark.parametrize("text", ["0009-000001", "1234-567890", "0000-000000"])
    def test_valid(self, text: str) -> None:
        assert is_valid_rio_uri(text)

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "0009000001",
            "009-000001",
            "00009-000001",
            "0009-00001",
            "0009-0000001",
            "0009_000001",
            "0009-00000a",
            " 0009-000001",
            "0009-000001\n",
            "٠٠٠٩-٠٠٠٠٠١",
            "0009–000001",  # en dash
        ],
    )
    def test_invalid(self, text: str) -> None:
        assert not is_valid_rio_uri(text)

    def test_not_a_string(self) -> None:
        with pytest.raises(TypeError):
            is_valid_rio_uri(None)  # type: ignore[arg-type]
