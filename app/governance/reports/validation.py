"""The CIN census validation rules that concern the referral items, run live over the items of a range
(``GET /v1/reports/cin-referrals/validation``), so the data team fixes the records before the return.

The rules are the DfE's, as the census validator (``data-to-insight/csc-validator-be-cin``) codes them:
each keeps the validator's number and message. One list, ``RULES``; a rule is one function that says,
as a SQL condition over a census item (``Item``: the item's columns and the tables they come from),
when the item breaks it. All rules are checked in one pass over the range's items (one statement, the
items query with a condition per rule), so the report costs about what the items do.

Adding a rule is one function::

    @rule("1103", "The assessment start date cannot be before the referral date")
    def _assessment_before_referral(item: Item) -> sa.ColumnElement[bool]:
        return _assessment(item, Assessment.started_on < referral_date(item))

(a correlated ``EXISTS`` reaches another record of the child: their assessment, section 47 enquiry or
conference). The period rules (8520, 8530Q, 8569Q, 8600) compare with the census the items are checked
against (``item.census``: ``Census``, by default the reporting year the range ends in).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.children.codes import AssessmentFactor, AssessmentStatus, ReasonForClosure, Section47Status
from app.core import clock
from app.governance.reports import queries
from app.governance.reports.periods import REPORTING_TZ, Period
from app.models.protection import Assessment, Section47Enquiry
from app.models.referral import Referral, ReferralChild
from app.people.codes import Gender

# The cursor's keys: the item's (received_at, referral id, position), then the rule's place in RULES.
VALIDATION_KEYS = (Referral.received_at, Referral.id, ReferralChild.position, ReferralChild.position)


@dataclass(frozen=True)
class Census:
    """The census the items are checked against, as the validator derives it from the return's
    ``ReferenceDate`` (``make_census_period``): the collection runs from 1 April to the ReferenceDate,
    31 March. ``year``: the reporting year it covers (2025: 1 April 2025 to 31 March 2026)."""

    year: int

    @property
    def start(self) -> date:
        return date(self.year, 4, 1)

    @property
    def reference_date(self) -> date:
        return date(self.year + 1, 3, 31)

    @property
    def first_working_day(self) -> date:
        """The validator's "collection start minus 1 working day" (rule 8569Q): its working-day offset
        counts the day it starts from, so a referral before the collection's first working day (1 April,
        or the next working day in England when 1 April is not one)."""
        day, calendar = self.start, clock.WorkingClock()
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        return day


def census_of(period: Period, year: int | None = None) -> Census:
    """The census ``year`` if given, else the one the range's last day falls in (a range that starts
    in the year before holds referrals carried over from it)."""
    if year is not None:
        return Census(year)
    to = period.last_day
    return Census(to.year if to.month >= 4 else to.year - 1)


class Item:
    """A census item's columns as SQL expressions (``queries.cin_columns``), and the census they are
    checked against (``census``), for a rule to test."""

    def __init__(self, columns: dict[str, Any], census: Census) -> None:
        self.columns = columns
        self.census = census

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Rule:
    code: str
    message: str
    fails: Callable[[Item], sa.ColumnElement[bool]]


RULES: list[Rule] = []


def rule(code: str, message: str) -> Callable[[Callable[[Item], sa.ColumnElement[bool]]], Callable[..., Any]]:
    """Register a rule: ``fails(item)`` is true for an item that breaks it."""

    def register(fails: Callable[[Item], sa.ColumnElement[bool]]) -> Callable[..., Any]:
        assert all(r.code != code for r in RULES), f"rule {code} twice"
        RULES.append(Rule(code, message, fails))
        return fails

    return register


class referral_date_plus(FunctionElement[Any]):
    """The item's CIN referral date (the date received, in England) plus a number of days, as a date."""

    type = sa.Date()
    name = "referral_date_plus"
    inherit_cache = True


@compiles(referral_date_plus)
def _referral_date_plus_postgresql(element: referral_date_plus, compiler: SQLCompiler, **kw: Any) -> str:
    instant, days = list(element.clauses)
    local = f"CAST(timezone('{REPORTING_TZ.key}', {compiler.process(instant, **kw)}) AS DATE)"
    return f"({local} + {compiler.process(days, **kw)})"


@compiles(referral_date_plus, "sqlite")
def _referral_date_plus_sqlite(element: referral_date_plus, compiler: SQLCompiler, **kw: Any) -> str:
    # london_date(): the connection's function (app.core.db), SQLite knowing no time zones.
    instant, days = list(element.clauses)
    return (
        f"date(london_date({compiler.process(instant, **kw)}), "
        f"'+' || {compiler.process(days, **kw)} || ' days')"
    )


# A text has a character other than an ASCII letter or digit (the census's alphanumeric).
non_alphanumeric = queries.portable_function(
    "non_alphanumeric",
    sa.Boolean(),
    postgresql="({0} ~ '[^A-Za-z0-9]')",
    sqlite="({0} GLOB '*[^A-Za-z0-9]*')",
)
# An assessment's factors (a JSON list of codes) include the code.
has_factor = queries.portable_function(
    "has_factor",
    sa.Boolean(),
    postgresql="(CAST({0} AS JSONB) @> jsonb_build_array(CAST({1} AS TEXT)))",
    sqlite="EXISTS (SELECT 1 FROM json_each({0}) WHERE value = {1})",
)
# A date's day of the week, 0 Sunday to 6 Saturday.
weekday = queries.portable_function(
    "weekday",
    sa.Integer(),
    postgresql="CAST(EXTRACT(DOW FROM {0}) AS INTEGER)",
    sqlite="CAST(strftime('%w', {0}) AS INTEGER)",
)


def referral_date(item: Item) -> sa.ColumnElement[Any]:
    """The census ``CINreferralDate``: the London date the referral was received."""
    return referral_date_plus(item.received_at, sa.literal(0, sa.Integer))


def _assessment(item: Item, *conditions: Any) -> sa.ColumnElement[bool]:
    """The item's child has an assessment (on this referral) such that ``conditions``."""
    return sa.exists().where(Assessment.child_id == item.referral_child_id, *conditions)


def _enquiry(item: Item, *conditions: Any) -> sa.ColumnElement[bool]:
    """The item's child has a section 47 enquiry (on this referral) such that ``conditions``."""
    return sa.exists().where(Section47Enquiry.child_id == item.referral_child_id, *conditions)


def _plan() -> sa.ColumnElement[bool]:
    return queries.plan_started(Section47Enquiry)


def _completed() -> sa.ColumnElement[bool]:
    return Assessment.status == AssessmentStatus.COMPLETED


_NO_FACTORS = sa.literal(AssessmentFactor.NO_FACTORS.value, sa.String)
_AFTER_ASSESSMENT = [
    ReasonForClosure.CLOSED_AFTER_ASSESSMENT_NO_FURTHER_ACTION.value,
    ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP.value,
]


def _unborn(item: Item) -> sa.ColumnElement[bool]:
    return sa.and_(item.date_of_birth.is_(None), item.expected_date_of_birth.is_not(None))


# ---------------------------------------------------------------------------------------------------
# The rules, in the validator's words (its 2024-25 ruleset, in force for 2025-26 and after).


@rule("8500", "LA Child ID missing")
def _la_child_id_missing(item: Item) -> sa.ColumnElement[bool]:
    # No person record, no LA child id: missing while the child's match to a person is pending.
    return item.person_id.is_(None)  # type: ignore[no-any-return]


@rule("1570", "LA Child ID must not be longer than 20 characters")
def _la_child_id_too_long(item: Item) -> sa.ColumnElement[bool]:
    """The id made from the person id has 20; a council's own id (``people.la_child_id``) may be longer."""
    return sa.func.length(item.la_child_id) > queries.LA_CHILD_ID_LENGTH


@rule("1580", "LA Child ID must not contain any non-alphanumeric characters")
def _la_child_id_not_alphanumeric(item: Item) -> sa.ColumnElement[bool]:
    """Letters and digits only (ASCII: on both databases alike), and not empty; the id made from the
    person id is hexadecimal digits."""
    return sa.or_(item.la_child_id == "", non_alphanumeric(item.la_child_id))


@rule("4180", "Sex must be provided and equal M, F, or U")
def _sex_missing(item: Item) -> sa.ColumnElement[bool]:
    return item.sex.is_(None)  # type: ignore[no-any-return]


@rule("8750", "Sex must equal U for an unborn child")
def _unborn_sex(item: Item) -> sa.ColumnElement[bool]:
    # The return sends U for an unborn child; the hub's record says otherwise and should be corrected.
    return sa.and_(_unborn(item), item.gender.is_not(None), item.gender != Gender.NOT_KNOWN.value)


@rule("8525Q", "Either Date of Birth or Expected Date of Birth must be provided (but not both)")
def _birth_dates(item: Item) -> sa.ColumnElement[bool]:
    born, expected = item.date_of_birth, item.expected_date_of_birth
    return sa.or_(
        sa.and_(born.is_(None), expected.is_(None)), sa.and_(born.is_not(None), expected.is_not(None))
    )


@rule("8606", "Child referral date is more than 40 weeks before DOB or expected DOB")
def _referral_long_before_birth(item: Item) -> sa.ColumnElement[bool]:
    birth = sa.func.coalesce(item.date_of_birth, item.expected_date_of_birth)
    return referral_date_plus(item.received_at, sa.literal(280, sa.Integer)) < birth


@rule(
    "8520",
    "Date of Birth is after data collection period (must be on or before the end of the census period)",
)
def _born_after_the_census(item: Item) -> sa.ColumnElement[bool]:
    return item.date_of_birth > sa.literal(item.census.reference_date, sa.Date)  # type: ignore[no-any-return]


@rule(
    "8530Q",
    "Please check and either amend data or provide a reason: Expected Date of Birth is outside the expected "
    "range for this census (March to December of the Census Year end)",
)
def _expected_birth_outside_the_census(item: Item) -> sa.ColumnElement[bool]:
    """Expected on or before 30 days before the ReferenceDate, or on or after nine months after it (1 March
    and 31 December of the year the census ends): as the validator compares (both ends fail)."""
    reference = item.census.reference_date
    earliest, latest = reference - timedelta(days=30), date(reference.year, 12, 31)
    expected = item.expected_date_of_birth
    return sa.or_(expected >= sa.literal(latest, sa.Date), expected <= sa.literal(earliest, sa.Date))


@rule("8610", "Primary Need code is missing for a referral which led to further action.")
def _primary_need_missing(item: Item) -> sa.ColumnElement[bool]:
    return sa.and_(item.nfa.is_(False), item.primary_need.is_(None))


@rule(
    "8569Q",
    "A case with referral date before one working day prior to the collection start date must not be "
    "flagged as a no further action case",
)
def _carried_over_nfa(item: Item) -> sa.ColumnElement[bool]:
    """A referral from before the census year (a range starting in the year before) that led to no
    further action: closed that day, it belongs to the earlier return."""
    before = referral_date(item) < sa.literal(item.census.first_working_day, sa.Date)
    return sa.and_(before, item.nfa.is_(True))


@rule("8600", "Child referral date missing or after data collection period")
def _referral_after_the_census(item: Item) -> sa.ColumnElement[bool]:
    """A referral received after the census's ReferenceDate: with ``census_year`` earlier than the
    range's end (the date is never missing)."""
    return referral_date(item) > sa.literal(item.census.reference_date, sa.Date)


# What followed the decision: the child's assessments, section 47 enquiries, conferences and plans
# (the census ``Assessments``, ``Section47`` and ``ChildProtectionPlans``), and the closure of the
# case (``CINclosureDate``, ``ReasonForClosure``: from the assessment that closed it).


@rule("1103", "The assessment start date cannot be before the referral date")
def _assessment_before_referral(item: Item) -> sa.ColumnElement[bool]:
    """The API refuses such a start; a referral's receipt corrected later can still break it."""
    return _assessment(item, Assessment.started_on < referral_date(item))


@rule("8608", "Assessment Start Date cannot be later than its End Date")
def _assessment_ends_before_start(item: Item) -> sa.ColumnElement[bool]:
    """The API refuses such a completion: this rule runs and finds nothing unless data is corrected."""
    return _assessment(item, Assessment.completed_on < Assessment.started_on)


@rule("8897Q", "Parental or child factors at assessment information is missing from a completed assessment")
def _factors_missing(item: Item) -> sa.ColumnElement[bool]:
    """The API requires factors on completion: this rule runs and finds nothing."""
    return _assessment(item, _completed(), sa.func.json_array_length(Assessment.factors) == 0)


@rule(
    "8869",
    "The assessment factors code “21” cannot be used in conjunction with any other assessment factors.",
)
def _no_factors_with_others(item: Item) -> sa.ColumnElement[bool]:
    """The API refuses "21" with another factor: this rule runs and finds nothing."""
    return _assessment(
        item, has_factor(Assessment.factors, _NO_FACTORS), sa.func.json_array_length(Assessment.factors) > 1
    )


@rule(
    "8873Q",
    "Please check and either amend data or provide a reason: When there is only one assessment on the "
    "episode and the factors code “21 No factors identified” has been used for the completed assessment, "
    "the reason for closure ‘RC8’ or 'RC9' should be used.",  # noqa: RUF001 - the validator's quotes
)
def _no_factors_but_not_closed_after_assessment(item: Item) -> sa.ColumnElement[bool]:
    """A sole assessment that found no factors, and the case is open or closed for another reason."""
    others = sa.select(sa.func.count()).where(Assessment.child_id == item.referral_child_id).scalar_subquery()
    return sa.and_(
        others == 1,
        _assessment(item, _completed(), has_factor(Assessment.factors, _NO_FACTORS)),
        sa.or_(item.reason_for_closure.is_(None), item.reason_for_closure.not_in(_AFTER_ASSESSMENT)),
    )


@rule("8630", "CIN Closure Date is before CIN Referral Date for the same CIN episode")
def _closed_before_referral(item: Item) -> sa.ColumnElement[bool]:
    """The closing assessment starts on or after the referral (API): finds nothing unless corrected."""
    return item.closure_date < referral_date(item)  # type: ignore[no-any-return]


@rule("8867", "CIN episode is shown as closed, however Assessment is not shown as completed")
def _closed_with_open_assessment(item: Item) -> sa.ColumnElement[bool]:
    """An assessment started after the one that closed the case (the API allows it) and still open."""
    return sa.and_(
        item.closure_date.is_not(None), _assessment(item, Assessment.status == AssessmentStatus.OPEN)
    )


@rule(
    "8868",
    "CIN episode is shown as closed, however Section 47 enquiry is not shown as completed by ICPC date or "
    "ICPC not required flag",
)
def _closed_with_open_enquiry(item: Item) -> sa.ColumnElement[bool]:
    return sa.and_(
        item.closure_date.is_not(None),
        _enquiry(
            item, Section47Enquiry.status.in_([Section47Status.OPEN, Section47Status.AWAITING_CONFERENCE])
        ),
    )


@rule(
    "2990",
    "Activity is recorded against a case marked as ‘Case closed after assessment, no further action’ or "  # noqa: RUF001
    "'case closed after assessment, referred to early help'.",
)
def _activity_after_closed_after_assessment(item: Item) -> sa.ColumnElement[bool]:
    """Closed RC8 or RC9, yet the child has a section 47 enquiry (or a plan) on the referral."""
    return sa.and_(item.reason_for_closure.in_(_AFTER_ASSESSMENT), _enquiry(item))


@rule("8831", "Activity is recorded against a case marked as a referral with no further action")
def _activity_after_nfa(item: Item) -> sa.ColumnElement[bool]:
    """ReferralNFA, yet the child was assessed or enquired into (the API allows both once accepted)."""
    return sa.and_(item.nfa.is_(True), sa.or_(_assessment(item), _enquiry(item)))


@rule("8832", "Child Protection details provided for a referral with no further action.")
def _plan_after_nfa(item: Item) -> sa.ColumnElement[bool]:
    return sa.and_(item.nfa.is_(True), _enquiry(item, _plan()))


@rule("2889", "The S47 start date cannot be before the referral date.")
def _enquiry_before_referral(item: Item) -> sa.ColumnElement[bool]:
    """The API holds a strategy discussion only after the referral: finds nothing unless corrected."""
    return _enquiry(item, Section47Enquiry.started_on < referral_date(item))


@rule(
    "8615",
    "Section 47 Enquiry Start Date must be present and cannot be later than the date of the initial Child "
    "Protection Conference",
)
def _conference_before_enquiry(item: Item) -> sa.ColumnElement[bool]:
    """The API refuses a conference before the strategy discussion: this rule runs and finds nothing."""
    return _enquiry(item, Section47Enquiry.conference_held_on < Section47Enquiry.started_on)


@rule("1104", "The date of the initial child protection conference cannot be before the referral date")
def _conference_before_referral(item: Item) -> sa.ColumnElement[bool]:
    """Prevented by the API (conference after the discussion, after the referral): finds nothing."""
    return _enquiry(item, Section47Enquiry.conference_held_on < referral_date(item))


@rule("8875", "The Date of Initial Child Protection Conference cannot be a weekend")
def _conference_at_a_weekend(item: Item) -> sa.ColumnElement[bool]:
    return _enquiry(item, weekday(Section47Enquiry.conference_held_on).in_([0, 6]))


@rule("1105", "The child protection plan start date cannot be before the referral date")
def _plan_before_referral(item: Item) -> sa.ColumnElement[bool]:
    """A plan starts at its conference, after the referral (API): finds nothing."""
    return _enquiry(item, _plan(), Section47Enquiry.conference_held_on < referral_date(item))


@rule(
    "2885",
    "Child protection plan shown as starting a different day to the initial child protection conference.",
)
def _plan_not_at_conference(item: Item) -> sa.ColumnElement[bool]:
    """A plan starts the day its conference is held, by construction: this rule runs and finds nothing
    (a plan recorded without its conference's date would break it)."""
    return _enquiry(item, _plan(), Section47Enquiry.conference_held_on.is_(None))


@rule(
    "8905",
    "Initial Category of Abuse code missing or invalid (see Category of Abuse table in CIN Census code set)",
)
def _plan_without_category(item: Item) -> sa.ColumnElement[bool]:
    """The API requires a category with a plan: this rule runs and finds nothing."""
    return _enquiry(item, _plan(), Section47Enquiry.conference_category_of_abuse.is_(None))


# ---------------------------------------------------------------------------------------------------


def findings_query(
    period: Period, after: Sequence[Any] | None = None, census: Census | None = None
) -> queries.Query:
    """The items of the range that break any rule, in the items' order, one column per rule (true where
    the item breaks it); from the cursor's item on (itself included: it may break later rules).
    ``census``: the census checked against (``census_of``, by default the range's)."""
    columns = queries.cin_columns()
    item = Item(columns, census or census_of(period))
    checks = [r.fails(item) for r in RULES]
    stmt = (
        queries.cin_items_from(period)
        .add_columns(
            columns["received_at"].label("received_at"),
            columns["referral_id"].label("referral_id"),
            columns["position"].label("position"),
            columns["referral_child_id"].label("referral_child_id"),
            *(check.label(f"r{i}") for i, check in enumerate(checks)),
        )
        .where(sa.or_(*checks))
        .order_by(*queries.CIN_KEYS)
    )
    if after is not None:
        received_at, referral_id, position, _ = after
        stmt = stmt.where(queries.after_key((received_at, referral_id, position - 1)))
    return stmt


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    referral_id: uuid.UUID
    child_id: uuid.UUID
    key: tuple[Any, ...]


def findings(rows: Sequence[Any], after: Sequence[Any] | None = None) -> list[Finding]:
    """Each broken rule of each row, in order; those up to the cursor ``after`` left out."""
    found = []
    for row in rows:
        for index, r in enumerate(RULES):
            if not getattr(row, f"r{index}"):
                continue
            key = (row.received_at, row.referral_id, row.position, index)
            if after is not None and tuple(key[:3]) == tuple(after[:3]) and index <= after[3]:
                continue
            found.append(Finding(r.code, r.message, row.referral_id, row.referral_child_id, key))
    return found
