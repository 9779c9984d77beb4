"""The Safeguarding Adults Collection's demographic bands, and how the hub's own codes fall into them.

The hub records ethnicity with the DfE codes of the Children in Need census (``app.people.codes.Ethnicity``)
for children and adults alike, because a person is often known to both front doors. SAC reports
ethnicity in its own coarser bands. ``SAC_ETHNICITY`` below is the one place where the two meet; the
SQL ``CASE`` expressions used by the reports are generated from it, so the mapping cannot drift
between code and documentation.

- White (WBRI, WIRI, WIRT, WOTH, WROM) → ``white``
- Mixed (MWBC, MWBA, MWAS, MOTH) → ``mixed_or_multiple``
- Asian (AIND, APKN, ABAN, AOTH) and Chinese (CHNE) → ``asian_or_asian_british``: SAC follows the ONS
  census groups, in which Chinese is an Asian group (the DfE list keeps it apart)
- Black (BCRB, BAFR, BOTH) → ``black_african_caribbean_or_black_british``
- Any other ethnic group (OOTH) → ``other``
- Refused (REFU) → ``refused``
- Information not obtained (NOBT), or nothing recorded → ``undeclared_or_not_known``

Gender: SAC counts male, female and not known. The hub's ``other`` has no SAC category and is counted,
with nothing recorded, as ``not_known``.

Age: SAC asks for the age on the last day of the reporting period (31 March). A band is a range of
birth dates, worked out once per report, so the database compares dates and does no date arithmetic.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from app.adults.codes import PrimarySupportReason
from app.people.codes import Ethnicity, Gender


class SacAgeBand(StrEnum):
    AGED_18_TO_64 = "aged_18_to_64"
    AGED_65_TO_74 = "aged_65_to_74"
    AGED_75_TO_84 = "aged_75_to_84"
    AGED_85_TO_94 = "aged_85_to_94"
    AGED_95_AND_OVER = "aged_95_and_over"
    NOT_KNOWN = "not_known"


class SacGender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    NOT_KNOWN = "not_known"


class SacEthnicity(StrEnum):
    WHITE = "white"
    MIXED_OR_MULTIPLE = "mixed_or_multiple"
    ASIAN_OR_ASIAN_BRITISH = "asian_or_asian_british"
    BLACK_AFRICAN_CARIBBEAN_OR_BLACK_BRITISH = "black_african_caribbean_or_black_british"
    OTHER = "other"
    REFUSED = "refused"
    UNDECLARED_OR_NOT_KNOWN = "undeclared_or_not_known"


SAC_ETHNICITY: dict[Ethnicity, SacEthnicity] = {
    Ethnicity.WHITE_BRITISH: SacEthnicity.WHITE,
    Ethnicity.WHITE_IRISH: SacEthnicity.WHITE,
    Ethnicity.TRAVELLER_OF_IRISH_HERITAGE: SacEthnicity.WHITE,
    Ethnicity.ANY_OTHER_WHITE: SacEthnicity.WHITE,
    Ethnicity.GYPSY_ROMA: SacEthnicity.WHITE,
    Ethnicity.WHITE_AND_BLACK_CARIBBEAN: SacEthnicity.MIXED_OR_MULTIPLE,
    Ethnicity.WHITE_AND_BLACK_AFRICAN: SacEthnicity.MIXED_OR_MULTIPLE,
    Ethnicity.WHITE_AND_ASIAN: SacEthnicity.MIXED_OR_MULTIPLE,
    Ethnicity.ANY_OTHER_MIXED: SacEthnicity.MIXED_OR_MULTIPLE,
    Ethnicity.INDIAN: SacEthnicity.ASIAN_OR_ASIAN_BRITISH,
    Ethnicity.PAKISTANI: SacEthnicity.ASIAN_OR_ASIAN_BRITISH,
    Ethnicity.BANGLADESHI: SacEthnicity.ASIAN_OR_ASIAN_BRITISH,
    Ethnicity.ANY_OTHER_ASIAN: SacEthnicity.ASIAN_OR_ASIAN_BRITISH,
    Ethnicity.CHINESE: SacEthnicity.ASIAN_OR_ASIAN_BRITISH,
    Ethnicity.CARIBBEAN: SacEthnicity.BLACK_AFRICAN_CARIBBEAN_OR_BLACK_BRITISH,
    Ethnicity.AFRICAN: SacEthnicity.BLACK_AFRICAN_CARIBBEAN_OR_BLACK_BRITISH,
    Ethnicity.ANY_OTHER_BLACK: SacEthnicity.BLACK_AFRICAN_CARIBBEAN_OR_BLACK_BRITISH,
    Ethnicity.ANY_OTHER_ETHNIC_GROUP: SacEthnicity.OTHER,
    Ethnicity.REFUSED: SacEthnicity.REFUSED,
    Ethnicity.NOT_OBTAINED: SacEthnicity.UNDECLARED_OR_NOT_KNOWN,
}

SAC_GENDER: dict[Gender, SacGender] = {
    Gender.MALE: SacGender.MALE,
    Gender.FEMALE: SacGender.FEMALE,
    Gender.OTHER: SacGender.NOT_KNOWN,
    Gender.NOT_KNOWN: SacGender.NOT_KNOWN,
}

# Lower age bounds of the banded ages, oldest first.
_AGE_FLOORS: tuple[tuple[int, SacAgeBand], ...] = (
    (95, SacAgeBand.AGED_95_AND_OVER),
    (85, SacAgeBand.AGED_85_TO_94),
    (75, SacAgeBand.AGED_75_TO_84),
    (65, SacAgeBand.AGED_65_TO_74),
)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _by_value(column: sa.ColumnElement[Any], mapping: dict[Any, Any], otherwise: StrEnum) -> sa.Case[str]:
    """``CASE`` on ``column``: each target value for the source codes that map to it, else ``otherwise``."""
    targets: dict[str, list[str]] = {}
    for source, target in mapping.items():
        if target != otherwise:
            targets.setdefault(str(target), []).append(str(source))
    whens = [(column.in_(sources), sa.literal(target)) for target, sources in targets.items()]
    return sa.case(*whens, else_=sa.literal(str(otherwise)))


def age_band(date_of_birth: sa.ColumnElement[Any], on: date) -> sa.Case[str]:
    """The SAC age band of someone born on ``date_of_birth``, as old as they are on ``on``.

    Someone is at least N years old on ``on`` exactly when born on or before ``on`` minus N years.
    Adults only reach the reports, so everyone younger than 65 is in the 18-64 band.
    """
    whens: list[tuple[sa.ColumnElement[bool], sa.ColumnElement[str]]] = [
        (date_of_birth.is_(None), sa.literal(str(SacAgeBand.NOT_KNOWN)))
    ]
    for years, band in _AGE_FLOORS:
        whens.append((date_of_birth <= sa.literal(_years_before(on, years), sa.Date), sa.literal(str(band))))
    return sa.case(*whens, else_=sa.literal(str(SacAgeBand.AGED_18_TO_64)))


def gender_band(gender: sa.ColumnElement[Any]) -> sa.Case[str]:
    return _by_value(gender, SAC_GENDER, SacGender.NOT_KNOWN)


def ethnicity_band(ethnicity: sa.ColumnElement[Any]) -> sa.Case[str]:
    return _by_value(ethnicity, SAC_ETHNICITY, SacEthnicity.UNDECLARED_OR_NOT_KNOWN)


def primary_support_reason_band(reason: sa.ColumnElement[Any]) -> sa.Case[str]:
    known = {r: r for r in PrimarySupportReason}
    return _by_value(reason, known, PrimarySupportReason.NOT_KNOWN)
