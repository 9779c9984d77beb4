"""Person matching: NHS numbers, normalisation, date and name comparison, scoring, blocking keys.

Pure functions, no database. The scoring cases are the messy ones referrals really bring: typos,
swapped day and month, nicknames, double-barrelled surnames, missing NHS numbers, and the children a
wrong automatic link would merge: twins, siblings, a parent with the child's name, unborn children.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from app.people.matching import (
    CANDIDATE_MIN_SCORE,
    MAX_BLOCKING_KEYS,
    DobAgreement,
    Identity,
    Match,
    RankedMatch,
    Reason,
    automatic_link,
    blocking_keys,
    canonical_given_name,
    compare_dates,
    damerau_levenshtein,
    given_name_roots,
    is_valid_nhs_number,
    jaro_winkler,
    nhs_check_digit,
    normalise_gender,
    normalise_name,
    normalise_nhs_number,
    normalise_postcode,
    phonetic_code,
    postcode_outward,
    postcode_sector,
    prepare,
    rank_matches,
    score,
)
from app.people.nicknames import DIMINUTIVES, SPELLING_VARIANTS

# ---- NHS numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "9434765919",  # the NHS's own worked example
        "943 476 5919",
        "943-476-5919",
        " 9434765919 ",
        "4010232137",
        "4505577104",
        "9876543210",  # remainder 0: check digit 0
    ],
)
def test_valid_nhs_numbers(value: str) -> None:
    assert is_valid_nhs_number(value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("9434765918", "wrong check digit"),
        ("9434765911", "wrong check digit"),
        ("4934765919", "first two digits swapped"),
        ("9434765191", "last two digits swapped"),
        ("1234567890", "check digit would be 10"),
        ("1234567891", "check digit would be 10"),
        ("943476591", "nine digits"),
        ("94347659190", "eleven digits"),
        ("943476591A", "a letter"),
        ("\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19", "full-width digits"),
        ("943.476.5919", "dots are not tolerated"),
        ("", "empty"),
        (None, "missing"),
    ],
)
def test_invalid_nhs_numbers(value: str | None, why: str) -> None:
    assert not is_valid_nhs_number(value), why


def test_every_single_digit_change_is_detected() -> None:
    number = "9434765919"
    for position in range(10):
        for digit in "0123456789":
            if digit != number[position]:
                changed = number[:position] + digit + number[position + 1 :]
                assert not is_valid_nhs_number(changed), changed


@pytest.mark.parametrize(
    ("value", "expected"),
    [("943 476 5919", "9434765919"), ("943-476-5919", "9434765919"), ("94347659", None), (None, None)],
)
def test_normalise_nhs_number(value: str | None, expected: str | None) -> None:
    assert normalise_nhs_number(value) == expected


def test_check_digit() -> None:
    assert nhs_check_digit("943476591") == 9
    assert nhs_check_digit("987654321") == 0
    assert nhs_check_digit("123456789") is None
    with pytest.raises(ValueError, match="nine digits"):
        nhs_check_digit("12345")


# ---- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith", "smith"),
        ("  SMITH  ", "smith"),
        ("Smith-Jones", "smith jones"),
        ("Smith - Jones", "smith jones"),
        ("O'Brien", "obrien"),
        ("O\u2019Brien", "obrien"),
        ("D'Souza", "dsouza"),
        ("MacDonald", "mcdonald"),
        ("McDonald", "mcdonald"),
        ("Mackenzie", "mckenzie"),
        ("Mack", "mack"),
        ("Macey", "macey"),
        ("Zoë", "zoe"),
        ("Chloé", "chloe"),
        ("Łukasz Wiśniewski", "lukasz wisniewski"),
        ("Strauß", "strauss"),
        ("Saint John", "st john"),
        ("", ""),
        (None, ""),
        ("--", ""),
    ],
)
def test_normalise_name(raw: str | None, expected: str) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SW1A 1AA", "SW1A1AA"),
        ("sw1a1aa", "SW1A1AA"),
        (" LS6 2AB ", "LS62AB"),
        ("LS6 2A8", None),
        ("LS6 O AB", "LS60AB"),  # O typed for zero in the inward code
        ("LS6 2A0", "LS62AO"),  # zero typed for O in the unit letters
        ("M1 1AE", "M11AE"),
        ("LS6", "LS6"),  # an outward code alone is still evidence
        ("not a postcode", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_postcode(raw: str | None, expected: str | None) -> None:
    assert normalise_postcode(raw) == expected


def test_postcode_parts() -> None:
    assert postcode_outward("SW1A 1AA") == "SW1A"
    assert postcode_sector("SW1A 1AA") == "SW1A1"
    assert postcode_outward("LS6") == "LS6"
    assert postcode_sector("LS6") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("M", "m"), ("male", "m"), ("Boy", "m"), ("F", "f"), ("Female", "f"), ("unknown", None), (None, None)],
)
def test_normalise_gender(raw: str | None, expected: str | None) -> None:
    assert normalise_gender(raw) == expected


# ---- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("smith", "smyth"),
        ("catherine", "katherine"),
        ("philippa", "filipa"),
        ("thomas", "tomas"),
        ("stephen", "steven"),
        ("jayden", "jaden"),
        ("knight", "night"),
        ("mcdonald", "mcdonnald"),
        ("muhammad", "mohammed"),
        ("thompson", "tompson"),
    ],
)
def test_phonetic_code_agrees(a: str, b: str) -> None:
    assert phonetic_code(a) == phonetic_code(b)


@pytest.mark.parametrize(
    ("a", "b"), [("smith", "jones"), ("jack", "zack"), ("harry", "henry"), ("oliver", "olivia")]
)
def test_phonetic_code_disagrees(a: str, b: str) -> None:
    assert phonetic_code(a) != phonetic_code(b)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("smith", "smith", 0),
        ("smith", "smiht", 1),
        ("smith", "smth", 1),
        ("kitten", "sitting", 3),
        ("", "abc", 3),
    ],
)
def test_damerau_levenshtein(a: str, b: str, distance: int) -> None:
    assert damerau_levenshtein(a, b) == distance
    assert damerau_levenshtein(b, a) == distance


def test_damerau_levenshtein_stops_early() -> None:
    assert damerau_levenshtein("abcdefgh", "zyxwvuts", max_distance=1) == 2


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("martha", "marhta", 0.961),
        ("dwayne", "duane", 0.84),
        ("dixon", "dicksonx", 0.813),
        ("abc", "xyz", 0.0),
    ],
)
def test_jaro_winkler(a: str, b: str, expected: float) -> None:
    assert jaro_winkler(a, b) == pytest.approx(expected, abs=0.001)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("mohammed", "muhammad"), ("isobel", "isabel"), ("kaitlyn", "caitlin"), ("oliver", "oliver")],
)
def test_canonical_given_name(name: str, canonical: str) -> None:
    assert canonical_given_name(name) == canonical


@pytest.mark.parametrize(
    ("short", "root"),
    [
        ("bill", "william"),
        ("liam", "william"),
        ("liz", "elizabeth"),
        ("beth", "elizabeth"),
        ("betty", "elizabeth"),
        ("alfie", "alfred"),
        ("freddie", "frederick"),
        ("freddie", "alfred"),
        ("ollie", "oliver"),
        ("katie", "catherine"),
        ("kate", "catherine"),  # through the Katherine / Catherine spelling group
        ("teddy", "edward"),
        ("harry", "henry"),
        ("sam", "samantha"),
        ("sam", "samuel"),
    ],
)
def test_given_name_roots(short: str, root: str) -> None:
    assert root in given_name_roots(short)


def test_nickname_tables_are_clean() -> None:
    names = [name for group in SPELLING_VARIANTS for name in group]
    names += [name for root, short in DIMINUTIVES.items() for name in (root, *short)]
    assert all(re.fullmatch("[a-z]+", name) for name in names)
    spellings = [name for group in SPELLING_VARIANTS for name in group]
    assert len(spellings) == len(set(spellings)), "a spelling belongs to two groups"
    assert len(DIMINUTIVES) >= 150


# ---- dates ------------------------------------------------------------------------------------

D = date


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (D(2015, 3, 4), D(2015, 3, 4), DobAgreement.EXACT),
        (D(2015, 3, 4), D(2015, 4, 3), DobAgreement.DAY_MONTH_TRANSPOSED),
        (D(2015, 3, 4), D(2015, 3, 5), DobAgreement.OFF_BY_ONE_DAY),
        (D(2015, 3, 31), D(2015, 4, 1), DobAgreement.OFF_BY_ONE_DAY),
        (D(2015, 12, 31), D(2016, 1, 1), DobAgreement.OFF_BY_ONE_DAY),
        (D(2015, 3, 4), D(2016, 3, 4), DobAgreement.YEAR_OFF_BY_ONE),
        (D(2015, 3, 4), D(2018, 3, 4), DobAgreement.DIGIT_TYPO),  # 2015 -> 2018
        (D(2015, 3, 14), D(2015, 3, 24), DobAgreement.DIGIT_TYPO),  # 14 -> 24
        (D(2015, 3, 14), D(2015, 3, 31), DobAgreement.MISMATCH),  # two digits changed
        (D(2015, 3, 12), D(2015, 3, 21), DobAgreement.DIGIT_TYPO),  # day digits swapped
        (D(2012, 3, 4), D(2021, 3, 4), DobAgreement.DIGIT_TYPO),  # year digits swapped
        (D(2015, 3, 4), D(2015, 7, 19), DobAgreement.MISMATCH),
        (D(2015, 3, 4), D(1990, 3, 4), DobAgreement.MISMATCH),
        (D(2015, 3, 4), None, DobAgreement.MISSING),
    ],
)
def test_compare_dates(a: date, b: date | None, expected: DobAgreement) -> None:
    assert compare_dates(a, b) == expected
    assert compare_dates(b, a) == expected


@pytest.mark.parametrize(
    ("expected_date", "other", "other_expected", "agreement"),
    [
        (D(2025, 9, 1), D(2025, 9, 1), True, DobAgreement.EXPECTED_EXACT),
        (D(2025, 9, 1), D(2025, 9, 10), True, DobAgreement.EXPECTED_NEAR),
        (D(2025, 9, 1), D(2025, 9, 25), True, DobAgreement.EXPECTED_PLAUSIBLE),
        (D(2025, 9, 1), D(2025, 8, 25), False, DobAgreement.EXPECTED_NEAR),  # born a week early
        (D(2025, 9, 1), D(2025, 7, 1), False, DobAgreement.EXPECTED_PLAUSIBLE),  # premature
        (D(2025, 9, 1), D(2025, 9, 18), False, DobAgreement.EXPECTED_PLAUSIBLE),  # late
        (D(2025, 9, 1), D(2025, 10, 15), False, DobAgreement.MISMATCH),
        (D(2025, 9, 1), D(2024, 9, 1), False, DobAgreement.MISMATCH),  # the older sibling
    ],
)
def test_compare_expected_dates(
    expected_date: date, other: date, other_expected: bool, agreement: DobAgreement
) -> None:
    assert compare_dates(expected_date, other, a_expected=True, b_expected=other_expected) == agreement
    assert compare_dates(other, expected_date, a_expected=other_expected, b_expected=True) == agreement


# ---- scoring ----------------------------------------------------------------------------------

OLIVER = Identity(
    given_name="Oliver",
    family_name="Smith",
    date_of_birth=D(2015, 3, 4),
    nhs_number="9434765919",
    postcode="LS6 2AB",
    gender="male",
)
# The same child as recorded in the index without an NHS number (most referrers do not have it).
OLIVER_NO_NHS = replace(OLIVER, nhs_number=None)


def case(**changes: object) -> Identity:
    return replace(OLIVER_NO_NHS, **changes)  # type: ignore[arg-type]


# (query, candidate, certain, reasons that must be present)
SAME_CHILD = [
    pytest.param(OLIVER, OLIVER, True, {"nhs_number_exact", "dob_exact"}, id="identical"),
    pytest.param(
        case(), OLIVER, True, {"given_name_exact", "family_name_exact", "postcode_exact"}, id="no-nhs"
    ),
    pytest.param(
        case(given_name="OLIVER", family_name="smith "), OLIVER, True, {"given_name_exact"}, id="case"
    ),
    pytest.param(case(given_name="Ollie"), OLIVER, False, {"given_name_nickname"}, id="nickname-two-roots"),
    pytest.param(
        case(given_name="Alfie"),
        case(given_name="Alfred"),
        True,
        {"given_name_nickname"},
        id="nickname-one-root",
    ),
    pytest.param(
        case(given_name="Alfie", gender=None),
        case(given_name="Alfred"),
        False,
        {"given_name_nickname"},
        id="nickname-no-gender",
    ),
    pytest.param(
        replace(OLIVER, given_name="Ollie"),
        OLIVER,
        True,
        {"nhs_number_exact", "given_name_nickname"},
        id="ollie+nhs",
    ),
    pytest.param(
        case(given_name="Mohammed"), case(given_name="Muhammad"), True, {"given_name_variant"}, id="variant"
    ),
    pytest.param(case(given_name="Olivre"), OLIVER, False, {"given_name_typo"}, id="given-typo"),
    pytest.param(
        replace(OLIVER, given_name="Olivre"),
        OLIVER,
        True,
        {"nhs_number_exact", "given_name_typo"},
        id="typo+nhs",
    ),
    pytest.param(case(family_name="Smiht"), OLIVER, True, {"family_name_typo"}, id="family-typo"),
    pytest.param(case(family_name="Smyth"), OLIVER, True, {"family_name_typo"}, id="family-one-letter"),
    pytest.param(case(family_name="Smythe"), OLIVER, False, {"family_name_phonetic"}, id="family-phonetic"),
    pytest.param(
        case(family_name="Smith-Jones"), OLIVER, True, {"family_name_hyphenated_part"}, id="hyphen-added"
    ),
    pytest.param(case(family_name="Jones Smith"), OLIVER, True, {"family_name_hyphenated_part"}, id="double"),
    pytest.param(
        case(date_of_birth=D(2015, 4, 3)), OLIVER, False, {"dob_day_month_transposed"}, id="dob-transposed"
    ),
    pytest.param(
        replace(OLIVER, date_of_birth=D(2015, 4, 3)), OLIVER, True, {"nhs_number_exact"}, id="transposed+nhs"
    ),
    pytest.param(
        case(date_of_birth=D(2015, 3, 5)), OLIVER, False, {"dob_off_by_one_day"}, id="dob-off-by-one"
    ),
    pytest.param(case(date_of_birth=D(2016, 3, 4)), OLIVER, False, {"dob_year_off_by_one"}, id="dob-year"),
    pytest.param(case(date_of_birth=D(2013, 3, 4)), OLIVER, False, {"dob_digit_typo"}, id="dob-digit"),
    pytest.param(case(postcode="LS6 2AD"), OLIVER, False, {"postcode_sector"}, id="moved-next-door"),
    pytest.param(case(postcode="BD5 9XY"), OLIVER, False, {"postcode_mismatch"}, id="moved-away"),
    pytest.param(
        replace(OLIVER, postcode="BD5 9XY"),
        OLIVER,
        True,
        {"nhs_number_exact", "postcode_mismatch"},
        id="moved+nhs",
    ),
    pytest.param(case(postcode=None, gender=None), OLIVER, False, {"dob_exact"}, id="sparse"),
    pytest.param(
        case(given_name="Smith", family_name="Oliver"), OLIVER, False, {"names_swapped"}, id="names-swapped"
    ),
    pytest.param(
        replace(OLIVER, nhs_number="943 476 5910"), OLIVER, True, {"nhs_number_typo"}, id="nhs-mistyped"
    ),
    pytest.param(case(given_name="Oliver James"), OLIVER, True, {"given_name_exact"}, id="middle-name"),
    pytest.param(
        case(given_name="James Oliver"), OLIVER, False, {"given_name_other_name"}, id="known-by-middle"
    ),
]


@pytest.mark.parametrize(("query", "candidate", "certain", "reasons"), SAME_CHILD)
def test_same_child_is_a_candidate(
    query: Identity, candidate: Identity, certain: bool, reasons: set[str]
) -> None:
    match = score(query, candidate)
    assert reasons <= set(match.reasons), match.reasons
    assert match.certain is certain, match
    assert match.score >= CANDIDATE_MIN_SCORE
    assert match.score >= 0.5, "the same child should look more alike than not"


ALFIE = Identity(
    given_name="Alfie",
    family_name="Hussain-Begum",
    date_of_birth=D(2019, 11, 2),
    postcode="BD8 7QP",
    gender="male",
    nhs_number="4010232137",
)

# (query, candidate, may it be shown as a candidate, reasons that must be present)
DIFFERENT_CHILD = [
    pytest.param(
        case(given_name="Harry", nhs_number=None),
        OLIVER,
        True,
        {"given_name_mismatch", "possible_twin"},
        id="twin",
    ),
    pytest.param(
        replace(ALFIE, given_name="Freddie", nhs_number=None),
        ALFIE,
        True,
        {"given_name_shared_nickname", "possible_twin"},
        id="twins-alfie-freddie",
    ),
    pytest.param(
        replace(OLIVER, given_name="Olivia", gender="female"), case(gender=None), True, set(), id="twin-girl"
    ),
    pytest.param(
        case(given_name="Charlie", gender=None),
        case(given_name="Charlotte", gender="female"),
        True,
        {"given_name_nickname"},
        id="charlie",
    ),
    pytest.param(
        # boy and girl twins, one of them recorded with the wrong gender
        case(given_name="Charlie", gender="female"),
        case(given_name="Charlotte", gender="female"),
        True,
        {"given_name_nickname", "gender_match"},
        id="charlie-wrong-gender",
    ),
    pytest.param(
        # a referrer picks the twin's record: Jack's name with his twin Zack's NHS number
        replace(OLIVER, given_name="Jack"),
        replace(OLIVER, given_name="Zack"),
        True,
        {"nhs_number_exact", "given_name_typo"},
        id="twin-nhs-mix-up",
    ),
    pytest.param(
        case(given_name="Amelia", gender="female", date_of_birth=D(2017, 6, 30)),
        OLIVER,
        False,
        {"dob_mismatch"},
        id="sibling",
    ),
    pytest.param(
        case(date_of_birth=D(1988, 3, 4)),
        OLIVER,
        False,
        {"dob_mismatch", "given_name_exact"},
        id="father-same-name",
    ),
    pytest.param(
        case(date_of_birth=D(2015, 3, 4), postcode="WF1 2AA"),
        OLIVER,
        True,
        {"given_name_exact", "postcode_mismatch"},
        id="namesake-same-day-elsewhere",
    ),
    pytest.param(
        replace(OLIVER, nhs_number="4010232137"),
        OLIVER,
        True,
        {"nhs_number_conflict"},
        id="conflicting-nhs-numbers",
    ),
    pytest.param(case(gender="female", given_name="Olivia"), OLIVER, True, {"gender_mismatch"}, id="gender"),
    pytest.param(
        Identity(given_name="Sophie", family_name="Wright", date_of_birth=D(2012, 1, 9), postcode="HX1 1AA"),
        OLIVER,
        False,
        set(),
        id="stranger",
    ),
]


@pytest.mark.parametrize(("query", "candidate", "shown", "reasons"), DIFFERENT_CHILD)
def test_different_child_is_never_certain(
    query: Identity, candidate: Identity, shown: bool, reasons: set[str]
) -> None:
    match = score(query, candidate)
    assert not match.certain, match
    assert reasons <= set(match.reasons), match.reasons
    if not shown:
        assert match.score < CANDIDATE_MIN_SCORE, match


def test_twins_score_well_below_the_child_themself() -> None:
    twin = case(given_name="Harry")
    assert score(twin, OLIVER).score < 0.5 < score(case(), OLIVER).score


def test_conflicting_nhs_number_usually_is_not_a_candidate() -> None:
    other = replace(OLIVER, nhs_number="4010232137", postcode="BD5 9XY", given_name="Olly")
    assert score(other, OLIVER).score < CANDIDATE_MIN_SCORE


def test_placeholder_nhs_number_is_ignored() -> None:
    placeholder = "4444444444"
    assert is_valid_nhs_number(placeholder)  # it passes the checksum ...
    a = replace(OLIVER, nhs_number=placeholder)
    b = Identity(given_name="Ava", family_name="Khan", date_of_birth=D(2020, 1, 1), nhs_number=placeholder)
    assert "nhs_number_exact" not in score(a, b).reasons  # ... but matches nobody
    assert not any(key.startswith("n:") for key in blocking_keys(a))


# -- unborn children

UNBORN = Identity(
    given_name="Unborn", family_name="Taylor", expected_date_of_birth=D(2025, 9, 1), postcode="WF2 8AA"
)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        pytest.param(UNBORN, "dob_expected_exact", id="same-pregnancy"),
        pytest.param(
            replace(UNBORN, given_name=None, expected_date_of_birth=D(2025, 9, 8)), "dob_expected_near"
        ),
        pytest.param(
            Identity(
                given_name="Ruby", family_name="Taylor", date_of_birth=D(2025, 8, 27), postcode="WF2 8AA"
            ),
            "dob_expected_near",
            id="now-born",
        ),
        pytest.param(
            Identity(
                given_name="Ruby", family_name="Taylor", date_of_birth=D(2025, 7, 2), postcode="WF2 8AA"
            ),
            "dob_expected_plausible",
            id="born-premature",
        ),
    ],
)
def test_unborn_child_is_a_candidate_never_certain(query: Identity, reason: str) -> None:
    match = score(query, UNBORN)
    assert reason in match.reasons
    assert match.score >= CANDIDATE_MIN_SCORE
    assert not match.certain  # unborn twins look exactly alike: a practitioner decides


def test_next_pregnancy_is_not_a_candidate() -> None:
    next_one = replace(UNBORN, expected_date_of_birth=D(2026, 11, 20))
    assert score(next_one, UNBORN).score < CANDIDATE_MIN_SCORE


def test_placeholder_given_names_count_as_missing() -> None:
    for placeholder in ("Baby", "UNBORN", "Baby of Taylor", "unknown", "TBC"):
        assert prepare(replace(UNBORN, given_name=placeholder)).given_names == ()


# -- properties


@pytest.mark.parametrize("pair", [p.values[:2] for p in SAME_CHILD + DIFFERENT_CHILD])
def test_score_is_symmetric(pair: tuple[Identity, Identity]) -> None:
    a, b = pair
    assert score(a, b).weight == score(b, a).weight
    assert score(a, b).certain == score(b, a).certain


def test_empty_identities_do_not_match() -> None:
    match = score(Identity(), Identity())
    assert match == Match(score=match.score, certain=False, reasons=(), weight=0.0)
    assert match.score < CANDIDATE_MIN_SCORE


def test_reasons_are_stable_strings() -> None:
    values = {reason.value for reason in Reason}
    assert all(re.fullmatch("[a-z_]+", value) for value in values)
    for param in SAME_CHILD + DIFFERENT_CHILD:
        query, candidate = param.values[:2]
        assert isinstance(query, Identity)
        assert isinstance(candidate, Identity)
        assert set(score(query, candidate).reasons) <= values


def test_prepared_identities_score_the_same() -> None:
    query = case(given_name="Ollie")
    assert score(prepare(query), prepare(OLIVER)) == score(query, OLIVER)


# ---- ranking and automatic links --------------------------------------------------------------


def test_rank_matches_orders_and_filters() -> None:
    people = [
        ("twin", case(given_name="Harry")),
        ("stranger", Identity(given_name="Ava", family_name="Khan", date_of_birth=D(2020, 1, 1))),
        ("oliver", OLIVER),
    ]
    ranked = rank_matches(case(given_name="Ollie"), people)
    assert [item.key for item in ranked] == ["oliver", "twin"]
    assert automatic_link(ranked) is None  # Ollie may be Olivia: a practitioner confirms
    ranked = rank_matches(case(given_name="Oliver"), people)
    assert [item.key for item in ranked] == ["oliver", "twin"]
    assert automatic_link(ranked) == "oliver"
    assert rank_matches(case(), people, limit=1)[0].key == "oliver"


def test_no_automatic_link_when_two_candidates_are_certain() -> None:
    duplicate_records = [("a", OLIVER_NO_NHS), ("b", OLIVER_NO_NHS)]
    ranked = rank_matches(case(), duplicate_records)
    assert len(ranked) == 2
    assert automatic_link(ranked) is None


def test_no_automatic_link_next_to_a_look_alike_twin() -> None:
    # Daisy can only be short for Margaret, so "Margaret" is certain for Daisy on its own; but
    # Daisy's twin Maisie (also short for Margaret) scores as high, so nobody is linked.
    daisy = replace(OLIVER_NO_NHS, given_name="Daisy", gender="female")
    maisie = replace(daisy, given_name="Maisie")
    query = replace(daisy, given_name="Margaret")
    assert score(query, daisy).certain
    ranked = rank_matches(query, [("daisy", daisy), ("maisie", maisie)])
    assert automatic_link(ranked) is None
    assert automatic_link(rank_matches(query, [("daisy", daisy)])) == "daisy"
    # Millie / Mollie twins: the exact name is certain, the twin scores only 3 bits lower
    millie = replace(daisy, given_name="Millie")
    mollie = replace(daisy, given_name="Mollie")
    assert automatic_link(rank_matches(millie, [("millie", millie), ("mollie", mollie)])) is None


def test_no_automatic_link_without_a_certain_candidate() -> None:
    ranked = [RankedMatch("x", score(case(given_name="Olivre"), OLIVER))]
    assert automatic_link(ranked) is None


# ---- blocking keys ----------------------------------------------------------------------------

ERRORS = [
    pytest.param(case(), id="no-nhs"),
    pytest.param(case(given_name="Ollie"), id="nickname"),
    pytest.param(case(given_name="Olivre"), id="given-typo"),
    pytest.param(case(given_name=None), id="given-missing"),
    pytest.param(case(family_name="Smiht"), id="family-typo"),
    pytest.param(case(family_name="Smith-Jones"), id="hyphen-added"),
    pytest.param(case(family_name="Jones-Smith"), id="hyphen-added-first"),
    pytest.param(case(family_name="Brown"), id="family-changed"),
    pytest.param(case(date_of_birth=D(2015, 4, 3)), id="dob-transposed"),
    pytest.param(case(date_of_birth=D(2015, 3, 5)), id="dob-off-by-one"),
    pytest.param(case(date_of_birth=D(2016, 3, 4)), id="dob-year-off-by-one"),
    pytest.param(case(date_of_birth=D(2015, 8, 4)), id="dob-month-typo"),
    pytest.param(case(date_of_birth=D(2015, 3, 4), postcode="BD5 9XY"), id="moved"),
    pytest.param(case(postcode=None), id="postcode-missing"),
    pytest.param(case(given_name="Smith", family_name="Oliver"), id="names-swapped"),
    pytest.param(case(given_name="Ollie", postcode="BD5 9XY"), id="nickname+moved"),
    pytest.param(case(family_name="Smyth", postcode="BD5 9XY"), id="family-phonetic+moved"),
    pytest.param(case(date_of_birth=D(2016, 3, 4), postcode="BD5 9XY"), id="dob-year+moved"),
    pytest.param(case(date_of_birth=D(2015, 4, 3), given_name="Ollie"), id="transposed+nickname"),
    pytest.param(case(family_name="Brown", date_of_birth=D(2015, 4, 3)), id="family-changed+transposed"),
    pytest.param(case(given_name="Harry", date_of_birth=D(2015, 3, 5)), id="given-wrong+dob-off-by-one"),
    pytest.param(case(date_of_birth=None), id="dob-missing-same-address"),
    pytest.param(
        replace(OLIVER, given_name="X", family_name="Y", date_of_birth=D(2001, 1, 1), postcode=None),
        id="nhs-only",
    ),
]


@pytest.mark.parametrize("messy", ERRORS)
def test_each_tolerated_error_shares_a_key(messy: Identity) -> None:
    assert blocking_keys(messy) & blocking_keys(OLIVER)


@pytest.mark.parametrize(
    ("messy", "original"),
    [
        pytest.param(case(family_name="Smith"), case(family_name="Smith-Jones"), id="hyphen-dropped"),
        pytest.param(case(family_name="Al-Hassan"), case(family_name="Hassan"), id="particle"),
        pytest.param(case(family_name="McDonald"), case(family_name="MacDonald"), id="mac"),
        pytest.param(case(given_name="Bill"), case(given_name="William"), id="bill"),
        pytest.param(case(given_name="Liz"), case(given_name="Elizabeth"), id="liz"),
        pytest.param(case(given_name="Sam"), case(given_name="Samuel"), id="sam"),
        pytest.param(case(given_name="Katie"), case(given_name="Catherine"), id="katie"),
        pytest.param(case(given_name="Mohammed"), case(given_name="Muhammad"), id="muhammad"),
        pytest.param(
            Identity(family_name="Taylor", expected_date_of_birth=D(2025, 9, 1), postcode="WF2 8AA"),
            Identity(
                given_name="Ruby", family_name="Taylor", date_of_birth=D(2025, 8, 20), postcode="WF2 8AB"
            ),
            id="unborn-now-born",
        ),
        pytest.param(
            Identity(family_name="Taylor", expected_date_of_birth=D(2025, 9, 1), postcode="WF2 8AA"),
            Identity(family_name="Taylor", expected_date_of_birth=D(2025, 9, 20), postcode="WF2 9ZZ"),
            id="unborn-revised-date",
        ),
    ],
)
def test_variants_share_a_key(messy: Identity, original: Identity) -> None:
    assert blocking_keys(messy) & blocking_keys(original)


def test_unrelated_children_share_no_key() -> None:
    stranger = Identity(
        given_name="Sophie", family_name="Wright", date_of_birth=D(2012, 1, 9), postcode="HX1 1AA"
    )
    assert not blocking_keys(stranger) & blocking_keys(OLIVER)


def test_keys_are_few_even_in_the_worst_case() -> None:
    typical = blocking_keys(OLIVER)
    assert 7 <= len(typical) <= 9
    worst = Identity(
        given_name="Freddie",
        family_name="Smith-Jones",
        date_of_birth=D(2015, 3, 4),
        nhs_number="9434765919",
        postcode="LS6 2AB",
    )
    unborn = Identity(family_name="Smith-Jones", expected_date_of_birth=D(2025, 9, 1), postcode="LS6 2AB")
    for identity in (worst, unborn, replace(worst, given_name="Alex")):
        assert len(blocking_keys(identity)) <= MAX_BLOCKING_KEYS


def test_keys_need_two_pieces_of_evidence() -> None:
    # a name alone, or a date alone, would make huge buckets at a million people
    assert blocking_keys(Identity(family_name="Smith")) == frozenset()
    assert blocking_keys(Identity(date_of_birth=D(2015, 3, 4))) == frozenset()
    assert blocking_keys(Identity(given_name="Oliver", family_name="Smith")) == frozenset()
