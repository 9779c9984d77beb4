"""Finding a child the hub already knows: normalisation, blocking keys and match scoring.

Pure functions and frozen dataclasses, no I/O. The repository stores ``blocking_keys(person)`` in
an indexed ``(person_id, key)`` table; a match query loads every person sharing at least one key
with the query identity and ranks them with ``rank_matches`` (``score`` for a single pair).

Scoring model
-------------
A Fellegi-Sunter style log-odds model. Each field is compared and put into one agreement level
(NHS number, date of birth, given name, family name, postcode, gender); each level has a weight in
bits, ``log2(m / u)``, where ``m`` is how often a true match shows that level and ``u`` how often two
different children do. The weights were set from those estimates (for instance, exact date of birth:
m ~ 0.93, u ~ 1/6,600 across eighteen birth years, about +12 bits) and then tuned on the synthetic
benchmark in ``bench/matching_quality.py``. The levels are the reasons returned to the caller, so
every point of a score can be explained ("dob_exact", "given_name_nickname", ...). The total weight
``W`` is summed over the fields present on both sides (a missing field weighs nothing) and mapped to
``score = 1 / (1 + 2 ** (SCORE_MIDPOINT_WEIGHT - W))`` in [0, 1]. Treat the score as a ranking
signal that is roughly calibrated on the benchmark, not as an exact probability: the field
independence the model assumes fails for twins (same surname, birth date and address), so one
interaction term, ``possible_twin``, penalises a given-name disagreement when surname and date of
birth agree exactly. Thresholds: ``CANDIDATE_MIN_WEIGHT`` (below it a person is not shown) and
``CERTAIN_MIN_WEIGHT``; all weights are in ``REASON_WEIGHTS``.

Certainty
---------
A wrong automatic link merges two children's records, so ``certain`` is not a score threshold alone
(``CERTAIN_MIN_WEIGHT``); it also needs one of two explicit evidence patterns, and no conflict (a
different valid NHS number, a different gender, a birth date that disagrees):

* NHS route: the same valid NHS number; a birth date that agrees exactly or by one recognised slip
  (transposed, one digit, a day or a year out), or is missing while the family name agrees; and a
  given name that agrees exactly, as a spelling variant, or as root and nickname, or differs by one
  slip after the same first letter with the same gender recorded, or the two names are swapped, or
  the given name is absent while the family name agrees. A different given name is not enough even
  with the NHS number: a referrer picking the twin's or sibling's number looks exactly like that
  (Jack / Zack twins differ in the first letter, so they are never linked).
* Demographic route: exact birth date and the same full postcode, plus either a given name that
  agrees exactly or as a spelling variant with a family name that agrees exactly, by one part of a
  double-barrelled name, or by one slip; or a root and a nickname that has only that root (Alfred /
  Alfie, not Oliver / Ollie: Ollie is also Olivia, and boy and girl twins are called Oliver and
  Olivia) with an exact or part family name and both genders recorded and equal.

Everything else is never certain and produces candidates for a practitioner to confirm: two
nicknames of one root (Alfie / Freddie, which twins are given), phonetic or mistyped given names
without the NHS number, a transposed or mistyped birth date without it, a move (postcode differs or
is missing) without it, and unborn children (expected dates, usually no given name, twins alike).
``possible_twin`` marks a different, phonetically alike or shared-nickname given name next to the
same family name and exact birth date.

Decisions
---------
* Names: NFKD with accents dropped, case-folded, apostrophes removed (O'Brien = OBrien), any other
  punctuation or space separates parts (Smith-Jones = Smith Jones). "Mac" before three or more
  letters is folded to "Mc" on both sides, so MacDonald = McDonald; the fold is applied to every
  name alike, so it can only merge Mac/Mc spellings. Name particles (al, de, van, ...) are kept in
  the full name but are not used as separate surname parts.
* Phonetics: a simplified Metaphone tuned for UK names (C/K/Q, PH/F, V/F, Z/S, TH/T, silent GH,
  KN, WR, vowels dropped after the first letter). Chosen over Soundex because Soundex keeps the
  first letter (Catherine / Katherine, Philippa / Filipa would never meet) and codes too coarsely;
  full Double Metaphone is long and buys little for names already normalised this way.
* Similarity: optimal string alignment (Damerau-Levenshtein with adjacent transpositions) decides a
  "typo"; Jaro-Winkler adds long names whose edits are more spread out.
* Ethnicity is deliberately not compared: it is recorded inconsistently across agencies and a
  weight on it would make matching quality differ by ethnicity.
* Placeholder given names ("Baby", "Unborn", "Unknown", ...) count as no given name.
* Repeated-digit NHS numbers (0000000000, 4444444444, ...) pass the mod-11 check but are typing
  placeholders, so they are never used for matching.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final, Generic, TypeVar

from app.people.nicknames import DIMINUTIVES, SPELLING_VARIANTS

__all__ = [
    "AUTO_LINK_MARGIN_WEIGHT",
    "CANDIDATE_MIN_SCORE",
    "CANDIDATE_MIN_WEIGHT",
    "CERTAIN_MIN_WEIGHT",
    "MAX_BLOCKING_KEYS",
    "REASON_WEIGHTS",
    "SCORE_MIDPOINT_WEIGHT",
    "DobAgreement",
    "Identity",
    "Match",
    "PreparedIdentity",
    "RankedMatch",
    "Reason",
    "automatic_link",
    "blocking_keys",
    "canonical_given_name",
    "compare_dates",
    "damerau_levenshtein",
    "given_name_roots",
    "is_valid_nhs_number",
    "jaro_winkler",
    "nhs_check_digit",
    "normalise_gender",
    "normalise_name",
    "normalise_nhs_number",
    "normalise_postcode",
    "phonetic_code",
    "postcode_outward",
    "postcode_sector",
    "prepare",
    "rank_matches",
    "score",
    "weight_to_score",
]


class Reason(StrEnum):
    """Why a candidate scored as it did. The values are stable machine strings (API contract)."""

    NHS_NUMBER_EXACT = "nhs_number_exact"
    NHS_NUMBER_TYPO = "nhs_number_typo"
    NHS_NUMBER_CONFLICT = "nhs_number_conflict"
    DOB_EXACT = "dob_exact"
    DOB_DAY_MONTH_TRANSPOSED = "dob_day_month_transposed"
    DOB_OFF_BY_ONE_DAY = "dob_off_by_one_day"
    DOB_YEAR_OFF_BY_ONE = "dob_year_off_by_one"
    DOB_DIGIT_TYPO = "dob_digit_typo"
    DOB_EXPECTED_EXACT = "dob_expected_exact"
    DOB_EXPECTED_NEAR = "dob_expected_near"
    DOB_EXPECTED_PLAUSIBLE = "dob_expected_plausible"
    DOB_MISMATCH = "dob_mismatch"
    GIVEN_NAME_EXACT = "given_name_exact"
    GIVEN_NAME_VARIANT = "given_name_variant"
    GIVEN_NAME_NICKNAME = "given_name_nickname"
    GIVEN_NAME_TYPO = "given_name_typo"
    GIVEN_NAME_SHARED_NICKNAME = "given_name_shared_nickname"
    GIVEN_NAME_PHONETIC = "given_name_phonetic"
    GIVEN_NAME_OTHER_NAME = "given_name_other_name"
    GIVEN_NAME_INITIAL = "given_name_initial"
    GIVEN_NAME_MISMATCH = "given_name_mismatch"
    FAMILY_NAME_EXACT = "family_name_exact"
    FAMILY_NAME_HYPHENATED_PART = "family_name_hyphenated_part"
    FAMILY_NAME_TYPO = "family_name_typo"
    FAMILY_NAME_PHONETIC = "family_name_phonetic"
    FAMILY_NAME_MISMATCH = "family_name_mismatch"
    NAMES_SWAPPED = "names_swapped"
    POSTCODE_EXACT = "postcode_exact"
    POSTCODE_SECTOR = "postcode_sector"
    POSTCODE_TYPO = "postcode_typo"
    POSTCODE_DISTRICT = "postcode_district"
    POSTCODE_MISMATCH = "postcode_mismatch"
    GENDER_MATCH = "gender_match"
    GENDER_MISMATCH = "gender_mismatch"
    POSSIBLE_TWIN = "possible_twin"


# Weight in bits (log2 m/u) of each agreement level; see the module docstring.
REASON_WEIGHTS: Final[Mapping[Reason, float]] = {
    Reason.NHS_NUMBER_EXACT: 16.0,
    Reason.NHS_NUMBER_TYPO: 5.0,
    Reason.NHS_NUMBER_CONFLICT: -14.0,
    Reason.DOB_EXACT: 12.0,
    Reason.DOB_DAY_MONTH_TRANSPOSED: 7.0,
    Reason.DOB_OFF_BY_ONE_DAY: 5.0,
    Reason.DOB_YEAR_OFF_BY_ONE: 5.0,
    Reason.DOB_DIGIT_TYPO: 4.0,
    Reason.DOB_EXPECTED_EXACT: 9.0,
    Reason.DOB_EXPECTED_NEAR: 6.0,
    Reason.DOB_EXPECTED_PLAUSIBLE: 3.0,
    Reason.DOB_MISMATCH: -11.0,
    Reason.GIVEN_NAME_EXACT: 7.0,
    Reason.GIVEN_NAME_VARIANT: 6.5,
    Reason.GIVEN_NAME_NICKNAME: 5.5,
    Reason.GIVEN_NAME_TYPO: 4.0,
    Reason.GIVEN_NAME_SHARED_NICKNAME: 3.0,
    Reason.GIVEN_NAME_PHONETIC: 3.0,
    Reason.GIVEN_NAME_OTHER_NAME: 3.5,
    Reason.GIVEN_NAME_INITIAL: 1.0,
    Reason.GIVEN_NAME_MISMATCH: -5.0,
    Reason.FAMILY_NAME_EXACT: 8.0,
    Reason.FAMILY_NAME_HYPHENATED_PART: 5.5,
    Reason.FAMILY_NAME_TYPO: 4.5,
    Reason.FAMILY_NAME_PHONETIC: 3.0,
    Reason.FAMILY_NAME_MISMATCH: -4.0,
    Reason.NAMES_SWAPPED: 12.0,
    Reason.POSTCODE_EXACT: 6.0,
    Reason.POSTCODE_SECTOR: 4.0,
    Reason.POSTCODE_TYPO: 3.0,
    Reason.POSTCODE_DISTRICT: 2.0,
    Reason.POSTCODE_MISMATCH: -1.5,
    Reason.GENDER_MATCH: 0.5,
    Reason.GENDER_MISMATCH: -6.0,
    Reason.POSSIBLE_TWIN: -4.0,
}

# The total weight at which the score is 0.5.
SCORE_MIDPOINT_WEIGHT: Final = 20.0
# Below this total weight a person is not worth showing to a practitioner.
CANDIDATE_MIN_WEIGHT: Final = 12.0
# A certain link also needs one of the evidence patterns in the module docstring.
CERTAIN_MIN_WEIGHT: Final = 28.0
# An automatic link also needs the certain candidate to lead every other candidate by this many
# bits: a twin with a look-alike name (Millie / Mollie, Daisy / Maisie) scores close behind.
AUTO_LINK_MARGIN_WEIGHT: Final = 8.0
# blocking_keys never returns more keys than this (it cuts them in priority order).
MAX_BLOCKING_KEYS: Final = 12

# Length of the phonetic codes in blocking keys; the same for both names, so that a given name and
# a family name entered in each other's field still produce the same key.
NAME_CODE_LENGTH: Final = 4

# Unborn children: an actual birth date can fall this far before / after the expected date.
EXPECTED_DATE_EARLIEST_DAYS: Final = 112
EXPECTED_DATE_LATEST_DAYS: Final = 21
EXPECTED_DATE_NEAR_DAYS: Final = 14
# Two expected dates for one pregnancy differ by at most this much (dating scans move them).
EXPECTED_DATES_AGREE_DAYS: Final = 28


def weight_to_score(weight: float) -> float:
    """Map a total log-odds weight (bits) to a score in [0, 1]."""
    exponent = SCORE_MIDPOINT_WEIGHT - weight
    if exponent > 60:
        return 0.0
    if exponent < -60:
        return 1.0
    return 1.0 / (1.0 + math.exp2(exponent))


CANDIDATE_MIN_SCORE: Final = weight_to_score(CANDIDATE_MIN_WEIGHT)


# --------------------------------------------------------------------------------------------------
# NHS numbers


_NHS_SEPARATORS = re.compile(r"[\s\-]")


def normalise_nhs_number(value: str | None) -> str | None:
    """The ten digits of ``value`` with spaces and hyphens removed, or None if it is not ten digits.

    Says nothing about the check digit: use ``is_valid_nhs_number`` for that.
    """
    if value is None:
        return None
    digits = _NHS_SEPARATORS.sub("", value)
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus 11 check digit for nine digits (weights 10..2), or None when it would be 10."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("expected nine digits")
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None  # no valid number exists with these nine digits
    return check


def is_valid_nhs_number(value: str | None) -> bool:
    """True for ten digits (spaces and hyphens allowed) whose last digit is the mod-11 check digit."""
    digits = normalise_nhs_number(value)
    if digits is None:
        return False
    return nhs_check_digit(digits[:9]) == int(digits[9])


def _usable_nhs_number(digits: str | None) -> str | None:
    # Repeated digits pass the checksum but are what people type when the number is unknown.
    if digits is None or len(set(digits)) == 1 or not is_valid_nhs_number(digits):
        return None
    return digits


# --------------------------------------------------------------------------------------------------
# Names

_LETTER_FOLDS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l"}
    | {"þ": "th", "Þ": "th", "œ": "oe", "Œ": "oe", "\u0131": "i", "ð": "d", "Ð": "d"}
)
_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc`\u00b4]")
_NON_LETTERS = re.compile(r"[^a-z]+")
_PARTICLES: Final = frozenset(
    {"al", "el", "de", "da", "di", "du", "le", "la", "van", "von", "der", "den", "bin", "ibn", "ben", "st"}
)
# What people type in the given name field when the child has no name yet, or it is not known.
_PLACEHOLDER_GIVEN_NAMES: Final = frozenset(
    {
        "baby",
        "unborn",
        "unknown",
        "unnamed",
        "notknown",
        "not known",
        "tbc",
        "tba",
        "infant",
        "newborn",
        "child",
        "boy",
        "girl",
        "male",
        "female",
        "babyboy",
        "babygirl",
        "baby boy",
        "baby girl",
        "nk",
        "na",
        "none",
        "x",
        "xx",
        "xxx",
    }
)


def _fold_part(part: str) -> str:
    if part.startswith("mac") and len(part) >= 6:
        return "mc" + part[3:]
    if part == "saint":
        return "st"
    return part


def normalise_name(value: str | None) -> str:
    """Lower-case ASCII name parts separated by single spaces ("" when nothing is left).

    >>> normalise_name("  Zoë  O'Brien-MacDonald ")
    'zoe obrien mcdonald'
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFKD", value.translate(_LETTER_FOLDS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _APOSTROPHES.sub("", text)
    return " ".join(_fold_part(part) for part in _NON_LETTERS.sub(" ", text).split())


def _build_name_tables() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    canonical: dict[str, str] = {}
    for group in SPELLING_VARIANTS:
        for name in group:
            canonical.setdefault(name, group[0])
    roots: dict[str, set[str]] = {}
    for root, short_forms in DIMINUTIVES.items():
        canonical_root = canonical.get(root, root)
        for short in short_forms:
            roots.setdefault(canonical.get(short, short), set()).add(canonical_root)
    return canonical, {name: frozenset(found) for name, found in roots.items()}


_CANONICAL, _ROOTS_OF_DIMINUTIVE = _build_name_tables()


def canonical_given_name(name: str) -> str:
    """The canonical spelling of a normalised single given name (Mohammed -> muhammad)."""
    return _CANONICAL.get(name, name)


def given_name_roots(name: str) -> frozenset[str]:
    """The formal names a normalised given name can be short for, plus its own canonical form.

    >>> sorted(given_name_roots("freddie"))
    ['alfred', 'frederick', 'freddie']
    """
    own = canonical_given_name(name)
    return _ROOTS_OF_DIMINUTIVE.get(own, frozenset()) | {own}


class _Nickname(StrEnum):
    NONE = "none"
    ROOT = "root"  # one name is the formal root of the other (William / Bill)
    SHARED = "shared"  # two short forms of one root (Alfie / Freddie)


def _nickname_relation(a: str, b: str) -> _Nickname:
    ca, cb = canonical_given_name(a), canonical_given_name(b)
    roots_a = _ROOTS_OF_DIMINUTIVE.get(ca, frozenset())
    roots_b = _ROOTS_OF_DIMINUTIVE.get(cb, frozenset())
    if cb in roots_a or ca in roots_b:
        return _Nickname.ROOT
    if roots_a & roots_b:
        return _Nickname.SHARED
    return _Nickname.NONE


_VOWELS: Final = frozenset("aeiouy")
_FRONT_VOWELS: Final = frozenset("eiy")
_INITIAL_FOLDS: Final = (("kn", "n"), ("gn", "n"), ("pn", "n"), ("wr", "r"), ("ps", "s"), ("wh", "w"))
_SIMPLE_CODES: Final = {
    "b": "B",
    "f": "F",
    "j": "J",
    "l": "L",
    "m": "M",
    "n": "N",
    "r": "R",
    "q": "K",
    "v": "F",
    "z": "S",
}


def _phonetic_char(s: str, i: int) -> str:
    ch = s[i]
    prev = s[i - 1] if i > 0 else ""
    nxt = s[i + 1] if i + 1 < len(s) else ""
    after = s[i + 2] if i + 2 < len(s) else ""
    if ch in _VOWELS:
        if ch == "y" and nxt in _VOWELS and nxt != "y":
            return "Y"
        return "A" if i == 0 else ""
    if ch in _SIMPLE_CODES:
        return "" if ch == "b" and prev == "m" and not nxt else _SIMPLE_CODES[ch]
    if ch == "c":
        if nxt == "h":
            return "K" if prev == "s" or after == "r" else "X"
        if nxt in _FRONT_VOWELS:
            return "S"
        return "" if nxt in ("k", "q") else "K"
    if ch == "d":
        return "J" if nxt == "g" and after in _FRONT_VOWELS else "T"
    if ch == "g":
        if nxt == "h":
            return "K" if i == 0 else ""  # Ghazala / Hugh, Leigh
        if prev == "d" and nxt in _FRONT_VOWELS:
            return ""  # the J of "dge" is already written
        return "J" if nxt in _FRONT_VOWELS else "K"
    if ch == "h":
        return "H" if (not prev or prev not in "cgpstw") and nxt in _VOWELS else ""
    if ch == "k":
        return "" if prev == "c" else "K"
    if ch == "p":
        return "F" if nxt == "h" else "P"
    if ch == "s":
        if nxt == "h" or (nxt == "i" and after in ("a", "o")):
            return "X"
        return "S"
    if ch == "t":
        if nxt == "i" and after in ("a", "o"):
            return "X"
        return "" if nxt == "c" and after == "h" else "T"
    if ch == "w":
        return "W" if nxt in _VOWELS else ""
    if ch == "x":
        return "S" if i == 0 else "KS"
    return ""


def phonetic_code(name: str, length: int | None = None) -> str:
    """Simplified Metaphone code of a normalised name (spaces ignored), optionally truncated.

    >>> phonetic_code("catherine") == phonetic_code("katherine")
    True
    """
    s = "".join(ch for ch in name if "a" <= ch <= "z")
    for prefix, replacement in _INITIAL_FOLDS:
        if s.startswith(prefix):
            s = replacement + s[len(prefix) :]
            break
    out: list[str] = []
    for i, ch in enumerate(s):
        if i > 0 and ch == s[i - 1] and ch != "c":
            continue  # doubled letters sound once
        for code in _phonetic_char(s, i):
            if not out or out[-1] != code:
                out.append(code)
        if length is not None and len(out) >= length:
            break
    return "".join(out[:length] if length is not None else out)


def damerau_levenshtein(a: str, b: str, max_distance: int | None = None) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap two adjacent letters).

    With ``max_distance`` the computation stops early and returns ``max_distance + 1`` once the
    distance is known to exceed it.
    """
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if max_distance is not None and abs(la - lb) > max_distance:
        return max_distance + 1
    if not la or not lb:
        return max(la, lb)
    before: list[int] = []
    previous = list(range(lb + 1))
    for i in range(1, la + 1):
        current = [i] + [0] * lb
        row_min = i
        for j in range(1, lb + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
            row_min = min(row_min, value)
        if max_distance is not None and row_min > max_distance:
            return max_distance + 1
        before, previous = previous, current
    return previous[lb]


def jaro_winkler(a: str, b: str, prefix_scale: float = 0.1) -> float:
    """Jaro-Winkler similarity in [0, 1] (1 = identical)."""
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    if not la or not lb:
        return 0.0
    window = max(max(la, lb) // 2 - 1, 0)
    matched_b = [False] * lb
    a_matches: list[str] = []
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(lb, i + window + 1)):
            if not matched_b[j] and b[j] == ch:
                matched_b[j] = True
                a_matches.append(ch)
                break
    m = len(a_matches)
    if not m:
        return 0.0
    b_matches = [b[j] for j in range(lb) if matched_b[j]]
    transpositions = sum(x != y for x, y in zip(a_matches, b_matches, strict=True)) / 2
    jaro = (m / la + m / lb + (m - transpositions) / m) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * prefix_scale * (1 - jaro)


def _is_typo(a: str, b: str) -> bool:
    """One slip of the keyboard (or two in a long name); short names are too close to call."""
    shortest = min(len(a), len(b))
    if shortest < 4:
        # Ila / Isla yes, Ali / Eli no: a dropped letter from a short name, first letter kept
        return (
            shortest == 3 and max(len(a), len(b)) == 4 and a[0] == b[0] and damerau_levenshtein(a, b, 1) == 1
        )
    allowed = 2 if shortest >= 8 else 1
    if damerau_levenshtein(a, b, allowed) <= allowed:
        return True
    return shortest >= 6 and jaro_winkler(a, b) >= 0.94


# --------------------------------------------------------------------------------------------------
# Postcodes

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_INWARD_DIGIT_FIXES = str.maketrans({"O": "0", "I": "1"})
_INWARD_LETTER_FIXES = str.maketrans({"0": "O", "1": "I", "5": "S"})


def normalise_postcode(value: str | None) -> str | None:
    """A UK postcode in upper case without spaces ("SW1A1AA"), an outward code alone ("SW1A"),
    or None when it is neither. Fixes O/0 and I/1 slips in the inward code, whose shape is fixed.
    """
    if not value:
        return None
    compact = re.sub(r"[^A-Z0-9]", "", value.upper())
    if len(compact) >= 5:
        inward = compact[-3:]
        inward = inward[0].translate(_INWARD_DIGIT_FIXES) + inward[1:].translate(_INWARD_LETTER_FIXES)
        compact = compact[:-3] + inward
        if _POSTCODE.match(compact):
            return compact
    if _OUTWARD.match(compact):
        return compact
    return None


def postcode_outward(value: str | None) -> str | None:
    """The outward code (postcode district), e.g. "SW1A" for "SW1A 1AA"."""
    postcode = normalise_postcode(value)
    if postcode is None:
        return None
    match = _POSTCODE.match(postcode)
    return match.group(1) if match else postcode


def postcode_sector(value: str | None) -> str | None:
    """The postcode sector, outward code plus the inward digit ("SW1A1"); None without an inward code."""
    postcode = normalise_postcode(value)
    match = _POSTCODE.match(postcode) if postcode else None
    return match.group(1) + match.group(2)[0] if match else None


# --------------------------------------------------------------------------------------------------
# Gender and dates


def normalise_gender(value: str | None) -> str | None:
    """ "m", "f", or None when unknown / not stated / anything else (which is never compared)."""
    text = normalise_name(value).replace(" ", "")
    if text in {"m", "male", "boy", "man"}:
        return "m"
    if text in {"f", "female", "girl", "woman"}:
        return "f"
    return None


class DobAgreement(StrEnum):
    """How two birth dates compare; the non-missing values are also ``Reason`` values."""

    MISSING = "missing"
    EXACT = Reason.DOB_EXACT.value
    DAY_MONTH_TRANSPOSED = Reason.DOB_DAY_MONTH_TRANSPOSED.value
    OFF_BY_ONE_DAY = Reason.DOB_OFF_BY_ONE_DAY.value
    YEAR_OFF_BY_ONE = Reason.DOB_YEAR_OFF_BY_ONE.value
    DIGIT_TYPO = Reason.DOB_DIGIT_TYPO.value
    EXPECTED_EXACT = Reason.DOB_EXPECTED_EXACT.value
    EXPECTED_NEAR = Reason.DOB_EXPECTED_NEAR.value
    EXPECTED_PLAUSIBLE = Reason.DOB_EXPECTED_PLAUSIBLE.value
    MISMATCH = Reason.DOB_MISMATCH.value


def _one_digit_slip(a: date, b: date) -> bool:
    sa, sb = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    differing = [i for i in range(8) if sa[i] != sb[i]]
    if len(differing) == 1:
        return True
    # two adjacent digits swapped within one field (14 -> 41, 2016 -> 2061)
    return (
        len(differing) == 2
        and differing[1] == differing[0] + 1
        and sa[differing[0]] == sb[differing[1]]
        and sa[differing[1]] == sb[differing[0]]
        and differing[0] not in (3, 5)  # not across the year/month or month/day boundary
    )


def compare_dates(
    a: date | None, b: date | None, *, a_expected: bool = False, b_expected: bool = False
) -> DobAgreement:
    """Compare two birth dates; an ``expected`` date is an unborn child's expected date of birth."""
    if a is None or b is None:
        return DobAgreement.MISSING
    if a_expected or b_expected:
        if a == b:
            return DobAgreement.EXPECTED_EXACT
        if a_expected and b_expected:
            gap = abs((a - b).days)
            if gap <= EXPECTED_DATE_NEAR_DAYS:
                return DobAgreement.EXPECTED_NEAR
            return (
                DobAgreement.EXPECTED_PLAUSIBLE if gap <= EXPECTED_DATES_AGREE_DAYS else DobAgreement.MISMATCH
            )
        actual, expected = (b, a) if a_expected else (a, b)
        early = (expected - actual).days  # positive when born before the expected date
        if abs(early) <= EXPECTED_DATE_NEAR_DAYS:
            return DobAgreement.EXPECTED_NEAR
        if -EXPECTED_DATE_LATEST_DAYS <= early <= EXPECTED_DATE_EARLIEST_DAYS:
            return DobAgreement.EXPECTED_PLAUSIBLE
        return DobAgreement.MISMATCH
    if a == b:
        return DobAgreement.EXACT
    if a.year == b.year and a.day == b.month and a.month == b.day:
        return DobAgreement.DAY_MONTH_TRANSPOSED
    if abs((a - b).days) == 1:
        return DobAgreement.OFF_BY_ONE_DAY
    if a.month == b.month and a.day == b.day and abs(a.year - b.year) == 1:
        return DobAgreement.YEAR_OFF_BY_ONE
    if _one_digit_slip(a, b):
        return DobAgreement.DIGIT_TYPO
    return DobAgreement.MISMATCH


# --------------------------------------------------------------------------------------------------
# Identities


@dataclass(frozen=True, slots=True)
class Identity:
    """The identifying fields of a person record or of a match query; any field may be missing."""

    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    expected_date_of_birth: date | None = None
    nhs_number: str | None = None
    postcode: str | None = None
    gender: str | None = None


def identity_in(fields: Mapping[str, Any]) -> Identity:
    """The identifying fields among a record's ``fields`` (by name); a field it lacks is missing."""
    return Identity(**{name: fields.get(name) for name in Identity.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class PreparedIdentity:
    """An identity normalised once for repeated comparison (see ``prepare``)."""

    nhs_number: str | None  # valid and usable for matching
    nhs_digits: str | None  # any ten digits given, valid or not (to spot a mistyped number)
    given_names: tuple[str, ...]  # normalised parts, placeholders removed; [0] is the first name
    given_codes: tuple[str, ...]  # phonetic codes of the first name and its roots, for blocking
    family_name: str  # normalised parts joined without spaces ("" when missing)
    family_parts: tuple[str, ...]  # significant parts of a double-barrelled name, else ()
    family_codes: tuple[str, ...]  # phonetic codes: the whole name first, then each part
    birth_date: date | None
    birth_date_expected: bool
    postcode: str | None
    outward: str | None
    sector: str | None
    gender: str | None

    @property
    def first_name(self) -> str:
        return self.given_names[0] if self.given_names else ""


def _given_names(value: str | None) -> tuple[str, ...]:
    normalised = normalise_name(value)
    if not normalised or normalised in _PLACEHOLDER_GIVEN_NAMES:
        return ()
    parts = normalised.split()
    if parts[0] in ("baby", "unborn"):  # "Baby of Smith", "Unborn Smith"
        return ()
    return tuple(parts[:4])


def prepare(identity: Identity | PreparedIdentity) -> PreparedIdentity:
    """Normalise an identity once; ``score`` and ``blocking_keys`` accept either form."""
    if isinstance(identity, PreparedIdentity):
        return identity
    return _prepared(identity)


# A referral's child is prepared for its search and again for the keys of the record made for it;
# people found as candidates come up again. Small: only the identities of the last few requests.
@lru_cache(maxsize=256)
def _prepared(identity: Identity) -> PreparedIdentity:
    digits = normalise_nhs_number(identity.nhs_number)
    given = _given_names(identity.given_name)
    given_codes: tuple[str, ...] = ()
    if given and len(given[0]) > 1:
        first = given[0]
        codes = [phonetic_code(canonical_given_name(first), NAME_CODE_LENGTH)]
        for root in sorted(given_name_roots(first)):
            code = phonetic_code(root, NAME_CODE_LENGTH)
            if code and code not in codes:
                codes.append(code)
        given_codes = tuple(codes[:3])  # own spelling first, then up to two formal roots
    parts = tuple(normalise_name(identity.family_name).split())
    family = "".join(parts)
    significant = tuple(part for part in parts if len(part) > 1 and part not in _PARTICLES)
    family_parts = significant if len(significant) > 1 or (significant and significant[0] != family) else ()
    if len(family_parts) > 2:
        family_parts = (family_parts[0], family_parts[-1])
    family_codes: list[str] = []
    for name in (family, *family_parts):
        code = phonetic_code(name, NAME_CODE_LENGTH)
        if code and code not in family_codes:
            family_codes.append(code)
    expected = identity.date_of_birth is None and identity.expected_date_of_birth is not None
    postcode = normalise_postcode(identity.postcode)
    return PreparedIdentity(
        nhs_number=_usable_nhs_number(digits),
        nhs_digits=digits,
        given_names=given,
        given_codes=given_codes,
        family_name=family,
        family_parts=family_parts,
        family_codes=tuple(family_codes),
        birth_date=identity.date_of_birth or identity.expected_date_of_birth,
        birth_date_expected=expected,
        postcode=postcode,
        outward=postcode_outward(postcode),
        sector=postcode_sector(postcode),
        gender=normalise_gender(identity.gender),
    )


# --------------------------------------------------------------------------------------------------
# Blocking keys


def _date_key(value: date) -> str:
    # Day and month sorted, so a transposed day/month produces the same key.
    low, high = sorted((value.month, value.day))
    return f"{value.year:04d}{low:02d}{high:02d}"


def blocking_keys(identity: Identity | PreparedIdentity) -> frozenset[str]:
    """The short keys under which a person is indexed and a query looks candidates up.

    Each key pairs two pieces of evidence, so that any single tolerated error (and most pairs of
    them) leaves at least one key intact. ``name`` is the phonetic code of the family name, of each
    part of a double-barrelled one, or of the first given name or one of its formal roots (one
    namespace, so swapped names still meet); ``date`` is the birth year with day and month sorted,
    so a transposed day and month give the same key:

    * ``n:<nhs>``                          a valid NHS number
    * ``d:<name>:<date>``                  family x date survives given-name errors and moves;
                                           given x date survives family-name changes
    * ``p:<district>:<date>``              survives errors in both names
    * ``h:<name>:<postcode>``              the same family name, or given name, at the same full
                                           postcode: survives any birth-date error together with
                                           an error in the other name
    * ``y:<name>:<name>:<year>``           family and given name: survives day / month errors
    * ``m:<name>:<name>:<day+month>``      family and given name: survives year errors
    * ``e:<family>:<district>:<month>``    unborn children (the months around an expected date)

    At most ``MAX_BLOCKING_KEYS`` keys, cut in the priority order above (only a double-barrelled
    name with a nickname of two roots reaches the cut); eight or nine is typical.
    """
    return _keys_of(prepare(identity))


@lru_cache(maxsize=256)  # a search's keys, and the same keys written for the record made from it
def _keys_of(p: PreparedIdentity) -> frozenset[str]:
    ordered: list[str] = []
    if p.nhs_number:
        ordered.append(f"n:{p.nhs_number}")
    when = p.birth_date
    family = p.family_codes[0] if p.family_codes else None
    pair_codes = p.family_codes[1:] or p.family_codes[:1]  # the parts of a double-barrelled name
    given = p.given_codes[0] if p.given_codes else None
    if when is not None:
        date_key = _date_key(when)
        ordered.extend(f"d:{code}:{date_key}" for code in (*p.family_codes, *p.given_codes[:1]))
        if p.outward:
            ordered.append(f"p:{p.outward}:{date_key}")
    if p.sector:
        ordered.extend(f"h:{code}:{p.postcode}" for code in (family, given) if code)
    if when is not None and given:
        for code in pair_codes:
            low, high = sorted((code, given))
            ordered.append(f"y:{low}:{high}:{when.year:04d}")
            if not p.birth_date_expected:
                ordered.append(f"m:{low}:{high}:{_date_key(when)[4:]}")
    if when is not None and family and p.outward:
        # every month from five weeks before an expected date to three weeks after it (at most 3)
        around = (
            [when + timedelta(days=offset) for offset in range(-35, EXPECTED_DATE_LATEST_DAYS + 1, 7)]
            if p.birth_date_expected
            else [when]
        )
        months = sorted({f"{moment.year:04d}{moment.month:02d}" for moment in around})
        ordered.extend(f"e:{family}:{p.outward}:{month}" for month in months)
    if when is not None:
        # further formal roots of a nickname (Sam: Samuel and Samantha)
        ordered.extend(f"d:{code}:{_date_key(when)}" for code in p.given_codes[1:])
    return frozenset(list(dict.fromkeys(ordered))[:MAX_BLOCKING_KEYS])


# --------------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True, slots=True)
class Match:
    """The result of comparing a query with one candidate."""

    score: float  # in [0, 1]; see weight_to_score
    certain: bool  # safe to link automatically
    reasons: tuple[str, ...]  # Reason values, in field order
    weight: float  # total log-odds weight in bits, for diagnostics


def _compare_nhs(q: PreparedIdentity, c: PreparedIdentity) -> Reason | None:
    if q.nhs_number and c.nhs_number:
        return Reason.NHS_NUMBER_EXACT if q.nhs_number == c.nhs_number else Reason.NHS_NUMBER_CONFLICT
    # one side mistyped: the checksum failed, but it is one slip away from the other's number
    if (
        q.nhs_digits
        and c.nhs_digits
        and (q.nhs_number is None) != (c.nhs_number is None)
        and damerau_levenshtein(q.nhs_digits, c.nhs_digits, 1) <= 1
    ):
        return Reason.NHS_NUMBER_TYPO
    return None


def _compare_given(q: PreparedIdentity, c: PreparedIdentity) -> Reason | None:
    if not q.given_names or not c.given_names:
        return None
    a, b = q.first_name, c.first_name
    if a == b or "".join(q.given_names) == "".join(c.given_names):
        return Reason.GIVEN_NAME_EXACT
    if len(a) == 1 or len(b) == 1:
        return Reason.GIVEN_NAME_INITIAL if a[0] == b[0] else Reason.GIVEN_NAME_MISMATCH
    if canonical_given_name(a) == canonical_given_name(b):
        return Reason.GIVEN_NAME_VARIANT
    relation = _nickname_relation(a, b)
    if relation is _Nickname.ROOT:
        return Reason.GIVEN_NAME_NICKNAME
    if _is_typo(a, b):
        return Reason.GIVEN_NAME_TYPO
    if relation is _Nickname.SHARED:
        return Reason.GIVEN_NAME_SHARED_NICKNAME
    if phonetic_code(a) == phonetic_code(b):
        return Reason.GIVEN_NAME_PHONETIC
    # known by a middle name: one side's first name is among the other's other names
    others_q = {canonical_given_name(name) for name in q.given_names[1:]}
    others_c = {canonical_given_name(name) for name in c.given_names[1:]}
    if canonical_given_name(a) in others_c or canonical_given_name(b) in others_q:
        return Reason.GIVEN_NAME_OTHER_NAME
    return Reason.GIVEN_NAME_MISMATCH


def _compare_family(q: PreparedIdentity, c: PreparedIdentity) -> Reason | None:
    if not q.family_name or not c.family_name:
        return None
    if q.family_name == c.family_name:
        return Reason.FAMILY_NAME_EXACT
    parts_q = set(q.family_parts) or {q.family_name}
    parts_c = set(c.family_parts) or {c.family_name}
    if parts_q & parts_c:
        return Reason.FAMILY_NAME_HYPHENATED_PART
    if _is_typo(q.family_name, c.family_name):
        return Reason.FAMILY_NAME_TYPO
    if set(q.family_codes) & set(c.family_codes):
        return Reason.FAMILY_NAME_PHONETIC
    return Reason.FAMILY_NAME_MISMATCH


def _names_swapped(q: PreparedIdentity, c: PreparedIdentity) -> bool:
    if not (q.given_names and c.given_names and q.family_name and c.family_name):
        return False
    return q.first_name == c.family_name and c.first_name == q.family_name


def _compare_postcode(q: PreparedIdentity, c: PreparedIdentity) -> Reason | None:
    if not q.outward or not c.outward:
        return None
    if q.sector and c.sector:
        if q.postcode == c.postcode:
            return Reason.POSTCODE_EXACT
        if q.sector == c.sector:
            return Reason.POSTCODE_SECTOR
        assert q.postcode is not None and c.postcode is not None
        if damerau_levenshtein(q.postcode, c.postcode, 1) <= 1:
            return Reason.POSTCODE_TYPO
    if q.outward == c.outward:
        return Reason.POSTCODE_DISTRICT
    return Reason.POSTCODE_MISMATCH


def _compare_gender(q: PreparedIdentity, c: PreparedIdentity) -> Reason | None:
    if q.gender is None or c.gender is None:
        return None
    return Reason.GENDER_MATCH if q.gender == c.gender else Reason.GENDER_MISMATCH


_STRONG_GIVEN: Final = frozenset(
    {Reason.GIVEN_NAME_EXACT, Reason.GIVEN_NAME_VARIANT, Reason.GIVEN_NAME_NICKNAME}
)
_STRONG_FAMILY: Final = frozenset({Reason.FAMILY_NAME_EXACT, Reason.FAMILY_NAME_HYPHENATED_PART})
_NHS_ROUTE_DATES: Final = frozenset(
    {
        DobAgreement.EXACT,
        DobAgreement.DAY_MONTH_TRANSPOSED,
        DobAgreement.OFF_BY_ONE_DAY,
        DobAgreement.YEAR_OFF_BY_ONE,
        DobAgreement.DIGIT_TYPO,
    }
)
# Given names that twins are given (Alfie / Freddie, Ella / Ellie, two different names).
_TWIN_GIVEN: Final = frozenset(
    {Reason.GIVEN_NAME_MISMATCH, Reason.GIVEN_NAME_SHARED_NICKNAME, Reason.GIVEN_NAME_PHONETIC}
)
_CONFLICTS: Final = frozenset({Reason.NHS_NUMBER_CONFLICT, Reason.GENDER_MISMATCH, Reason.DOB_MISMATCH})


def _unambiguous_nickname(a: str, b: str) -> bool:
    """True when the short one of a root / nickname pair can only be short for that root."""
    ca, cb = canonical_given_name(a), canonical_given_name(b)
    short = ca if cb in _ROOTS_OF_DIMINUTIVE.get(ca, frozenset()) else cb
    return len(_ROOTS_OF_DIMINUTIVE.get(short, frozenset())) == 1


def _is_certain(
    weight: float,
    reasons: list[Reason],
    q: PreparedIdentity,
    c: PreparedIdentity,
    nhs: Reason | None,
    dob: DobAgreement,
    given: Reason | None,
    family: Reason | None,
    postcode: Reason | None,
) -> bool:
    if weight < CERTAIN_MIN_WEIGHT or _CONFLICTS.intersection(reasons):
        return False
    if nhs is Reason.NHS_NUMBER_EXACT and (dob in _NHS_ROUTE_DATES or dob is DobAgreement.MISSING):
        # The number could be a twin's or sibling's picked by mistake: the given name must agree.
        # A slip after the first letter is allowed with the same gender (Jack / Zack twins are
        # not; Millie / Mollie twins would also need the wrong twin's number picked); without a
        # birth date the family name must agree too.
        given_agrees = (
            given in _STRONG_GIVEN
            or Reason.NAMES_SWAPPED in reasons
            or (
                given is Reason.GIVEN_NAME_TYPO
                and q.first_name[:1] == c.first_name[:1]
                and Reason.GENDER_MATCH in reasons
            )
            or (given is None and family in _STRONG_FAMILY)
        )
        if given_agrees and (dob is not DobAgreement.MISSING or family in _STRONG_FAMILY):
            return True
    if dob is not DobAgreement.EXACT or postcode is not Reason.POSTCODE_EXACT or given not in _STRONG_GIVEN:
        return False
    if given is Reason.GIVEN_NAME_NICKNAME:
        # Only a nickname of one root (Ollie is Oliver or Olivia, Charlie is Charles or Charlotte,
        # and twin brother and sister are given those), and the genders must agree as well.
        return (
            family in _STRONG_FAMILY
            and Reason.GENDER_MATCH in reasons
            and _unambiguous_nickname(q.first_name, c.first_name)
        )
    # a mistyped family name is tolerated only next to a given name that agrees exactly
    return family in _STRONG_FAMILY or family is Reason.FAMILY_NAME_TYPO


def score(query: Identity | PreparedIdentity, candidate: Identity | PreparedIdentity) -> Match:
    """Compare a query identity with a candidate person; symmetric in its two arguments."""
    q, c = prepare(query), prepare(candidate)
    reasons: list[Reason] = []
    nhs = _compare_nhs(q, c)
    if nhs:
        reasons.append(nhs)
    dob = compare_dates(
        q.birth_date, c.birth_date, a_expected=q.birth_date_expected, b_expected=c.birth_date_expected
    )
    if dob is not DobAgreement.MISSING:
        reasons.append(Reason(dob.value))
    given: Reason | None
    family: Reason | None
    if _names_swapped(q, c):
        given = family = None
        reasons.append(Reason.NAMES_SWAPPED)
    else:
        given = _compare_given(q, c)
        family = _compare_family(q, c)
        reasons.extend(reason for reason in (given, family) if reason)
    postcode = _compare_postcode(q, c)
    if postcode:
        reasons.append(postcode)
    gender = _compare_gender(q, c)
    if gender:
        reasons.append(gender)
    if (
        given in _TWIN_GIVEN
        and family in _STRONG_FAMILY
        and dob in (DobAgreement.EXACT, DobAgreement.EXPECTED_EXACT)
    ):
        reasons.append(Reason.POSSIBLE_TWIN)
    weight = sum(REASON_WEIGHTS[reason] for reason in reasons)
    certain = _is_certain(weight, reasons, q, c, nhs, dob, given, family, postcode)
    return Match(
        score=weight_to_score(weight),
        certain=certain,
        reasons=tuple(reason.value for reason in reasons),
        weight=weight,
    )


K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class RankedMatch(Generic[K]):
    """One candidate for a query: the caller's key for the person (e.g. its id) and the match."""

    key: K
    match: Match


def rank_matches(
    query: Identity | PreparedIdentity,
    candidates: Iterable[tuple[K, Identity | PreparedIdentity]],
    *,
    min_score: float = CANDIDATE_MIN_SCORE,
    limit: int | None = 20,
) -> list[RankedMatch[K]]:
    """Score every candidate and return those scoring at least ``min_score``, best first."""
    prepared = prepare(query)
    ranked = [RankedMatch(key, score(prepared, candidate)) for key, candidate in candidates]
    kept = [item for item in ranked if item.match.score >= min_score]
    kept.sort(key=lambda item: (-item.match.weight, not item.match.certain))
    return kept if limit is None else kept[:limit]


def automatic_link(ranked: Iterable[RankedMatch[K]]) -> K | None:
    """The person to link automatically, or None when a practitioner must decide.

    Pass every candidate scored for the query (``rank_matches`` output). A link needs exactly one
    certain candidate that also leads every other candidate by ``AUTO_LINK_MARGIN_WEIGHT``. Two
    certain candidates mean the index holds a duplicate; a close runner-up is usually a twin or
    sibling whose name looks like this one.
    """
    items = list(ranked)
    certain = [item for item in items if item.match.certain]
    if len(certain) != 1:
        return None
    best = certain[0]
    if any(
        item is not best and item.match.weight > best.match.weight - AUTO_LINK_MARGIN_WEIGHT for item in items
    ):
        return None
    return best.key
