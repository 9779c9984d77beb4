"""The reports' SQL: SQLAlchemy Core statements that count in the database (GROUP BY), portable across
SQLite and PostgreSQL.

Every statement here reads a bounded slice through an index: referrals and concerns by when they were
received, enquiries by when they started or concluded, open work by status. Python only arranges the
few aggregated rows that come back (a handful per category) into the report.

Two portability rules shape the statements. Nothing is grouped by an expression with bound parameters
(PostgreSQL sees ``CASE ... $1`` in the select list and ``CASE ... $7`` in GROUP BY as different
expressions): banded values are computed in a subquery and grouped by its columns. And conditional
counts are ``count(CASE WHEN ... THEN 1 END)``, which both databases understand.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.adults.codes import PlanStatus, Section42Decision
from app.adults.concerns.repository import OPEN_STATUSES as OPEN_CONCERN_STATUSES
from app.children.codes import (
    FINAL_REFERRAL_STATUSES,
    AssessmentStatus,
    CensusSex,
    ConferenceOutcome,
    ContributionStatus,
    ReferralStatus,
    Section47Status,
)
from app.governance.reports.bands import age_band, ethnicity_band, gender_band, primary_support_reason_band
from app.governance.reports.periods import REPORTING_TZ, Period
from app.models.adult import AdultConcern, Allegation, Enquiry, SafeguardingAdultsReview, SafeguardingPlan
from app.models.person import Person
from app.models.protection import Assessment, Section47Enquiry
from app.models.referral import Contribution, Referral, ReferralChild, ThresholdDecisionChild
from app.people.codes import Gender

# Every statement's rows are read by column name; their precise tuple types add nothing here.
Query = sa.Select[*tuple[Any, ...]]

SECTION_42 = "section_42_enquiries"
OTHER = "other_enquiries"
CONCERNS = "concerns"
OPEN_REFERRAL_STATUSES = [s for s in ReferralStatus if s not in FINAL_REFERRAL_STATUSES]


def _in(column: Any, period: Period) -> sa.ColumnElement[bool]:
    return sa.and_(column >= period.start, column < period.end)


def _enquiry_measure() -> sa.Case[str]:
    return sa.case(
        (Enquiry.kind == Section42Decision.SECTION_42_ENQUIRY, sa.literal(SECTION_42)),
        else_=sa.literal(OTHER),
    )


# ---------------------------------------------------------------------------------------------------
# Safeguarding Adults Collection


def _sg1_cases(period: Period) -> sa.Subquery:
    """One row per SG1 case: each concern raised and each enquiry started in the period."""
    concerns = sa.select(
        sa.literal(CONCERNS).label("measure"),
        AdultConcern.id.label("concern_id"),
        AdultConcern.received_at.label("at"),
    ).where(_in(AdultConcern.received_at, period))
    enquiries = sa.select(
        _enquiry_measure().label("measure"),
        Enquiry.concern_id.label("concern_id"),
        Enquiry.opened_at.label("at"),
    ).where(_in(Enquiry.opened_at, period))
    return sa.union_all(concerns, enquiries).subquery("cases")


def sg1_cases(period: Period) -> Query:
    """(measure, cases): concerns raised, section 42 and other enquiries started."""
    cases = _sg1_cases(period)
    return sa.select(cases.c.measure, sa.func.count().label("n")).group_by(cases.c.measure)


def sg1_individuals(period: Period) -> Query:
    """(measure, age_band, gender, ethnicity, primary_support_reason, individuals).

    An individual is the person record the concern is linked to, or the concern itself while its
    match is pending. Each is counted once per measure, described as at their latest case in the
    period: the person record's details where it has them (the hub's curated record), else the
    concern's; the primary support reason is the concern's. Age is on the last day of the period.
    """
    cases = _sg1_cases(period)
    individual = sa.func.coalesce(AdultConcern.person_id, AdultConcern.id)
    latest = sa.func.row_number().over(
        partition_by=(cases.c.measure, individual), order_by=(cases.c.at.desc(), cases.c.concern_id.desc())
    )
    ranked = (
        sa.select(
            cases.c.measure,
            sa.func.coalesce(Person.date_of_birth, AdultConcern.date_of_birth).label("date_of_birth"),
            sa.func.coalesce(Person.gender, AdultConcern.gender).label("gender"),
            sa.func.coalesce(Person.ethnicity, AdultConcern.ethnicity).label("ethnicity"),
            AdultConcern.primary_support_reason.label("primary_support_reason"),
            latest.label("latest"),
        )
        .select_from(cases)
        .join(AdultConcern, AdultConcern.id == cases.c.concern_id)
        .outerjoin(Person, Person.id == AdultConcern.person_id)
        .subquery("ranked")
    )
    banded = (
        sa.select(
            ranked.c.measure,
            age_band(ranked.c.date_of_birth, period.last_day).label("age_band"),
            gender_band(ranked.c.gender).label("gender"),
            ethnicity_band(ranked.c.ethnicity).label("ethnicity"),
            primary_support_reason_band(ranked.c.primary_support_reason).label("primary_support_reason"),
        )
        .where(ranked.c.latest == 1)
        .subquery("banded")
    )
    dimensions = (
        banded.c.measure,
        banded.c.age_band,
        banded.c.gender,
        banded.c.ethnicity,
        banded.c.primary_support_reason,
    )
    return sa.select(*dimensions, sa.func.count().label("n")).group_by(*dimensions)


# The SG2 tables: each a cross-tabulation (row, column) or a list (row), of what the enquiry found.
SG2_TABLES: dict[str, tuple[str, str | None]] = {
    "sg2a": ("type_of_risk", "source_of_risk"),
    "sg2b": ("location_of_risk", "source_of_risk"),
    "sg2c": ("result", None),
    "sg2e": ("risk_outcome", None),
}


def sg2_cells(period: Period) -> Query:
    """(measure, table_ref, category, subcategory, enquiries): concluded enquiries counted once in each cell
    that any of their allegations falls in, the allegations being as the enquiry found them (corrected, and
    those it added: they belong to the concern like the rest). Two allegations of one type and source in
    one enquiry count once in that cell; an enquiry into several risks counts in several cells."""
    columns = {name for pair in SG2_TABLES.values() for name in pair if name is not None}
    concluded = (
        sa.select(
            _enquiry_measure().label("measure"),
            Enquiry.id.label("enquiry_id"),
            *(getattr(Allegation, name).label(name) for name in sorted(columns)),
        )
        .join(Allegation, Allegation.concern_id == Enquiry.concern_id)
        .where(_in(Enquiry.concluded_at, period))
        .cte("concluded_allegations")  # read once, counted four ways
    )
    parts = []
    for table, (row, column) in SG2_TABLES.items():
        grouped = [concluded.c.measure, concluded.c[row]] + ([] if column is None else [concluded.c[column]])
        subcategory = sa.cast(sa.null(), sa.String) if column is None else concluded.c[column]
        parts.append(
            sa.select(
                concluded.c.measure,
                sa.literal(table).label("table_ref"),
                concluded.c[row].label("category"),
                subcategory.label("subcategory"),
                sa.func.count(sa.distinct(concluded.c.enquiry_id)).label("n"),
            )
            .where(concluded.c[row].is_not(None))
            .group_by(*grouped)
        )
    return sa.select(sa.union_all(*parts).subquery())


def sg5_completed(period: Period) -> Query:
    """(adult_died, reviews, individuals): safeguarding adults reviews completed in the period (SG5a), and
    the distinct adults they were about (SG5b)."""
    review = SafeguardingAdultsReview
    return (
        sa.select(
            review.adult_died,
            sa.func.count().label("reviews"),
            sa.func.count(sa.distinct(review.person_id)).label("individuals"),
        )
        .where(review.completed_on >= period.first_day, review.completed_on <= period.last_day)
        .group_by(review.adult_died)
    )


def sg5_decisions(period: Period) -> Query:
    """(criteria, commissioned, reviews): the Board's decisions made in the period."""
    review = SafeguardingAdultsReview
    commissioned = sa.case((review.commissioned_on.is_not(None), sa.true()), else_=sa.false())
    decided = (
        sa.select(review.criteria.label("criteria"), commissioned.label("commissioned"))
        .where(review.decision_on >= period.first_day, review.decision_on <= period.last_day)
        .subquery()
    )
    return sa.select(decided.c.criteria, decided.c.commissioned, sa.func.count().label("n")).group_by(
        decided.c.criteria, decided.c.commissioned
    )


def concluded_enquiries(period: Period) -> Query:
    """(measure, lacked_capacity, advocate_support, msp_asked, msp_outcomes_achieved, enquiries): the
    SG3 and SG4 answers of the enquiries concluded in the period, counted per combination."""
    measured = (
        sa.select(
            _enquiry_measure().label("measure"),
            Enquiry.lacked_capacity,
            Enquiry.advocate_support,
            Enquiry.msp_asked,
            Enquiry.msp_outcomes_achieved,
        )
        .where(_in(Enquiry.concluded_at, period))
        .subquery()
    )
    dimensions = list(measured.c)
    return sa.select(*dimensions, sa.func.count().label("n")).group_by(*dimensions)


# ---------------------------------------------------------------------------------------------------
# Children in Need census: referral items


CIN_KEYS = (Referral.received_at, Referral.id, ReferralChild.position)


def census_sex(date_of_birth: Any, expected_date_of_birth: Any, gender: Any) -> sa.Case[str]:
    """The census ``Sex`` (M, F, U) of the hub's gender: ``other`` has no census code and is U (not
    known), as is ``not_known``; an unborn child is U whatever was recorded (rule 8750); no gender
    recorded stays null (rule 4180 reports it)."""
    return sa.case(
        (
            sa.and_(date_of_birth.is_(None), expected_date_of_birth.is_not(None)),
            sa.literal(CensusSex.NOT_KNOWN.value),
        ),
        (gender == Gender.MALE.value, sa.literal(CensusSex.MALE.value)),
        (gender == Gender.FEMALE.value, sa.literal(CensusSex.FEMALE.value)),
        (gender.in_([Gender.OTHER.value, Gender.NOT_KNOWN.value]), sa.literal(CensusSex.NOT_KNOWN.value)),
        else_=sa.null(),
    )


@dataclass(frozen=True)
class Followed:
    """Where an item's closing assessment (the census ``CINclosureDate`` and ``ReasonForClosure``: the
    child's latest completed assessment with a reason for closure), and its child's latest assessment and
    latest section 47 enquiry (the CSV's columns; the JSON lists them all), are read from: each a
    namespace of columns (``.completed_on``), and ``join`` adds them to the items' FROM.

    ``PROBED`` (a page, the validation findings): each looked up per item, by the ``child_id`` index.
    ``RANKED`` (the whole range, the CSV): each child's records ranked once (``row_number``) and
    hash-joined; a probe per item is three index lookups for each of 200,000 items a year. ``FIRST``
    (the CSV's COPY, PostgreSQL only): each child's latest records alone (``DISTINCT ON``), joined by
    ``cin_csv_postgresql`` itself; its ``join`` adds nothing."""

    closing: Any
    assessment: Any
    enquiry: Any
    join: Callable[[Query, bool], Query]


_ASSESSMENT_ORDER = ("started_on", "created_at")
_CLOSING_ORDER = ("completed_on", "started_on")


def _order(model: Any, names: Sequence[str]) -> list[Any]:
    return [*(getattr(model, name).desc() for name in names), model.id.desc()]


def _latest(model: Any, order: Sequence[str], where: Any = None) -> sa.ScalarSelect[Any]:
    """The id of the item's child's latest ``model`` record (its ``child_id`` index finds it)."""
    stmt = sa.select(model.id).where(model.child_id == ReferralChild.id)
    if where is not None:
        stmt = stmt.where(where)
    return stmt.order_by(*_order(model, order)).limit(1).correlate(ReferralChild).scalar_subquery()


# Aliases of the tables for PROBED.
_closing = aliased(Assessment, name="closing")
_latest_assessment = aliased(Assessment, name="latest_assessment")
_latest_enquiry = aliased(Section47Enquiry, name="latest_enquiry")


def _probed_joins(stmt: Query, csv: bool) -> Query:
    closing, assessment, enquiry = aliased(Assessment), aliased(Assessment), aliased(Section47Enquiry)
    stmt = stmt.outerjoin(
        _closing, _closing.id == _latest(closing, _CLOSING_ORDER, closing.closure_reason.is_not(None))
    )
    if not csv:
        return stmt
    return stmt.outerjoin(
        _latest_assessment, _latest_assessment.id == _latest(assessment, _ASSESSMENT_ORDER)
    ).outerjoin(_latest_enquiry, _latest_enquiry.id == _latest(enquiry, _ASSESSMENT_ORDER))


def _ranked(
    model: Any, name: str, order: Sequence[str], columns: Sequence[str], where: Any = None
) -> sa.Subquery:
    """Each child's ``model`` records with the ``columns``, ranked latest first (``rank`` 1)."""
    rank = sa.func.row_number().over(partition_by=model.child_id, order_by=_order(model, order))
    stmt = sa.select(model.child_id, *(getattr(model, c) for c in columns), rank.label("rank"))
    if where is not None:
        stmt = stmt.where(where)
    return stmt.subquery(name)


def _distinct_on(
    model: Any, name: str, order: Sequence[str], columns: Sequence[str], where: Any = None
) -> sa.Subquery:
    """PostgreSQL only: what ``_ranked`` ranks 1, each child's latest record alone (``DISTINCT ON``: one
    sort and no window function; the CSV's COPY)."""
    stmt = sa.select(model.child_id, *(getattr(model, c) for c in columns))
    if where is not None:
        stmt = stmt.where(where)
    stmt = stmt.ext(postgresql.distinct_on(model.child_id)).order_by(model.child_id, *_order(model, order))
    return stmt.subquery(name)


# Each child's closing assessment, latest assessment and latest section 47 enquiry: (model, name,
# order, columns, where) for ``_ranked`` and ``_distinct_on``.
_LATEST: list[tuple[Any, str, Sequence[str], Sequence[str], Any]] = [
    (
        Assessment,
        "closing",
        _CLOSING_ORDER,
        ["completed_on", "closure_reason"],
        Assessment.closure_reason.is_not(None),
    ),
    (Assessment, "latest_assessment", _ASSESSMENT_ORDER, ["started_on", "completed_on", "factors"], None),
    (
        Section47Enquiry,
        "latest_enquiry",
        _ASSESSMENT_ORDER,
        [
            "id",
            "status",
            "started_on",
            "icpc_due_on",
            "conference_held_on",
            "conference_outcome",
            "conference_category_of_abuse",
        ],
        None,
    ),
]
_ranked_closing, _ranked_assessment, _ranked_enquiry = (_ranked(*latest) for latest in _LATEST)
_first_closing, _first_assessment, _first_enquiry = (_distinct_on(*latest) for latest in _LATEST)


def _ranked_joins(stmt: Query, csv: bool) -> Query:
    ranked = [_ranked_closing, _ranked_assessment, _ranked_enquiry] if csv else [_ranked_closing]
    for latest in ranked:
        stmt = stmt.outerjoin(latest, sa.and_(latest.c.child_id == ReferralChild.id, latest.c.rank == 1))
    return stmt


def _first_joins(stmt: Query, child_id: Any) -> Query:
    for latest in (_first_closing, _first_assessment, _first_enquiry):
        stmt = stmt.outerjoin(latest, latest.c.child_id == child_id)
    return stmt


PROBED = Followed(_closing, _latest_assessment, _latest_enquiry, _probed_joins)
RANKED = Followed(_ranked_closing.c, _ranked_assessment.c, _ranked_enquiry.c, _ranked_joins)
# PostgreSQL only (``cin_csv_postgresql``, which joins them itself: ``_first_joins``): each child's latest
# records by ``DISTINCT ON``.
FIRST = Followed(_first_closing.c, _first_assessment.c, _first_enquiry.c, lambda stmt, csv: stmt)


LA_CHILD_ID_LENGTH = 20


def la_child_id(person: Any) -> sa.ColumnElement[str]:
    """The census ``LAchildID`` of a person record: the council's own id where it gave one
    (``la_child_id``), else the first 20 hexadecimal digits of the person id, upper case (a UUID's 36
    characters with hyphens break rules 1570 and 1580); null without a person record (rule 8500)."""
    hex_digits = sa.func.replace(sa.cast(person.id, sa.String), "-", "")
    derived = sa.func.upper(sa.func.substr(hex_digits, 1, LA_CHILD_ID_LENGTH))
    return sa.func.coalesce(person.la_child_id, derived)


def cin_columns(followed: Followed = PROBED) -> dict[str, Any]:
    """What an item is made of. A child's details are the linked person record's where it has them,
    else as the referral gave them; the decision items are the approved threshold decision's on that
    child (``ThresholdDecisionChild``); the closure, the closing assessment's (``followed``)."""
    date_of_birth = sa.func.coalesce(Person.date_of_birth, ReferralChild.date_of_birth)
    expected = sa.func.coalesce(Person.expected_date_of_birth, ReferralChild.expected_date_of_birth)
    gender = sa.func.coalesce(Person.gender, ReferralChild.gender)
    return {
        "referral_id": Referral.id,
        "position": ReferralChild.position,
        "referral_child_id": ReferralChild.id,
        "person_id": ReferralChild.person_id,
        "la_child_id": la_child_id(Person),
        "date_of_birth": date_of_birth,
        "expected_date_of_birth": expected,
        "gender": gender,
        "sex": census_sex(date_of_birth, expected, gender),
        "ethnicity": sa.func.coalesce(Person.ethnicity, ReferralChild.ethnicity),
        "received_at": Referral.received_at,
        "referral_source": Referral.referral_source,
        "status": Referral.status,
        "outcome": ThresholdDecisionChild.outcome,
        "decided_at": Referral.decided_at,
        "nfa": ThresholdDecisionChild.nfa,
        "primary_need": ThresholdDecisionChild.primary_need,
        "closure_date": followed.closing.completed_on,
        "reason_for_closure": followed.closing.closure_reason,
    }


def icpc_not_required(enquiry: Any) -> sa.ColumnElement[bool]:
    """The census ``ICPCnotRequired``: the enquiry concluded without calling a conference."""
    return enquiry.status == Section47Status.CONCLUDED  # type: ignore[no-any-return]


def plan_started(enquiry: Any) -> sa.ColumnElement[bool]:
    """The conference made a child protection plan (starting the day it was held: ``CPPstartDate``)."""
    return enquiry.conference_outcome == ConferenceOutcome.CHILD_PROTECTION_PLAN  # type: ignore[no-any-return]


def cin_csv_columns(followed: Followed = RANKED) -> dict[str, Any]:
    """The CSV's columns: the item's, then its child's latest assessment and section 47 enquiry (with
    the plan its conference made)."""
    assessment, enquiry = followed.assessment, followed.enquiry
    plan = plan_started(enquiry)
    return {
        **cin_columns(followed),
        "assessment_start_date": assessment.started_on,
        "assessment_authorisation_date": assessment.completed_on,
        "assessment_factors": assessment.factors,
        "s47_start_date": enquiry.started_on,
        "icpc_target_date": enquiry.icpc_due_on,
        "date_of_initial_cpc": enquiry.conference_held_on,
        "icpc_not_required": sa.case((enquiry.id.is_(None), sa.null()), else_=icpc_not_required(enquiry)),
        "cpp_start_date": sa.case((plan, enquiry.conference_held_on)),
        "cpp_initial_category_of_abuse": sa.case((plan, enquiry.conference_category_of_abuse)),
    }


def cin_items_from(period: Period, followed: Followed = PROBED, *, csv: bool = False) -> Query:
    """The census items' FROM and WHERE, without columns: one row per child accepted as a referral
    (the approved decision on that child accepted it) whose referral was received in the period.
    A contact that stays a contact (universal services, early help, NFA not accepted), an undecided
    or a withdrawn referral gives none. ``csv``: with the CSV's latest assessment and enquiry.

    The decision's entries are joined to the referral by the decision, and the child to its entry by
    its primary key: one equality per join. The child's own referral (``referral_children.referral_id``)
    is not compared again: a decision's entries are its referral's children (they are written with
    the proposal, from the referral's children). Stating it would be true and costly: PostgreSQL
    multiplies the selectivities of the three equalities of that cycle, estimates the items at one row,
    and plans a page by building and sorting every item of the range (2.8 s for a year) instead of
    walking ``ix_referrals_received_at_id`` in order and stopping after the page (under 0.1 s)."""
    stmt = (
        sa.select()
        .select_from(Referral)
        .join(ThresholdDecisionChild, ThresholdDecisionChild.decision_id == Referral.decision_id)
        .join(ReferralChild, ReferralChild.id == ThresholdDecisionChild.referral_child_id)
        .outerjoin(Person, Person.id == ReferralChild.person_id)
        .where(_in(Referral.received_at, period), ThresholdDecisionChild.accepted_as_referral.is_(True))
    )
    return followed.join(stmt, csv)


def cin_referral_items(period: Period, after: Sequence[Any] | None = None) -> Query:
    """The census items (``cin_items_from``), oldest first, after the keyset ``after`` = (received_at,
    referral id, position) if given."""
    stmt = (
        cin_items_from(period)
        .add_columns(*(column.label(name) for name, column in cin_columns().items()))
        .order_by(*CIN_KEYS)
    )
    if after is not None:
        stmt = stmt.where(after_key(after))
    return stmt


def cin_csv_items(period: Period) -> Query:
    """The census items with the CSV's columns (``cin_csv_columns``), oldest first: the whole range, so
    the pathway is ``RANKED``."""
    return (
        cin_items_from(period, RANKED, csv=True)
        .add_columns(*(column.label(name) for name, column in cin_csv_columns().items()))
        .order_by(*CIN_KEYS)
    )


def cin_assessments(child_ids: Sequence[uuid.UUID]) -> Query:
    """The assessments of a page's children (the ``child_id`` index), each child's in order."""
    return (
        sa.select(
            Assessment.child_id,
            Assessment.started_on,
            Assessment.completed_on,
            Assessment.factors,
        )
        .where(Assessment.child_id.in_(child_ids))
        .order_by(Assessment.child_id, Assessment.started_on, Assessment.created_at, Assessment.id)
    )


def cin_enquiries(child_ids: Sequence[uuid.UUID]) -> Query:
    """The section 47 enquiries of a page's children, each child's in order, with their conferences."""
    enquiry = Section47Enquiry
    return (
        sa.select(
            enquiry.child_id,
            enquiry.started_on,
            enquiry.icpc_due_on,
            enquiry.conference_held_on,
            icpc_not_required(enquiry).label("icpc_not_required"),
            plan_started(enquiry).label("plan"),
            enquiry.conference_category_of_abuse,
        )
        .where(enquiry.child_id.in_(child_ids))
        .order_by(enquiry.child_id, enquiry.started_on, enquiry.created_at, enquiry.id)
    )


def portable_function(
    name: str, returns: sa.types.TypeEngine[Any], *, postgresql: str, sqlite: str | None = None
) -> type[FunctionElement[Any]]:
    """A SQL function ``name(arguments)`` written out per dialect from a template (``{0}``, ``{1}``: the
    compiled arguments; our own expressions, never text from a request)."""
    element: type[FunctionElement[Any]] = type(
        name, (FunctionElement,), {"type": returns, "name": name, "inherit_cache": True}
    )
    for dialect, template in (("postgresql", postgresql), ("sqlite", sqlite)):
        if template is not None:
            compiles(element, dialect)(_rendered(template))
    return element


def _rendered(template: str) -> Any:
    def render(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        return template.format(*(compiler.process(clause, **kw) for clause in element.clauses))

    return render


# PostgreSQL's COPY: an assessment's factors (a JSON list of codes) as one cell, ``;``-joined. The codes
# are ``AssessmentFactor`` values (digits and capital letters), so the list's JSON text is the cell once
# its brackets, quotes and white space are dropped and its commas made semicolons: the same text as
# ``array_to_string(ARRAY(SELECT json_array_elements_text(...)), ';')``, without a subquery per row, and
# as that, an empty text (not null) without an assessment.
factor_codes = portable_function(
    "factor_codes",
    sa.Text(),
    postgresql="coalesce(translate(CAST({0} AS TEXT), E',[]\" \\t\\r\\n', ';'), '')",
)


def after_key(after: Sequence[Any]) -> sa.ColumnElement[bool]:
    """After the item (received_at, referral id, position) in the items' order."""
    received_at, referral_id, position = after
    # The row comparison on (received_at, id) is what the referrals index can seek to; the
    # children of the cursor's own referral up to its position are then filtered out.
    return sa.and_(
        sa.tuple_(Referral.received_at, Referral.id)
        >= sa.tuple_(sa.literal(received_at, Referral.received_at.type), sa.literal(referral_id, sa.Uuid())),
        sa.not_(
            sa.and_(
                Referral.received_at == received_at,
                Referral.id == referral_id,
                ReferralChild.position <= position,
            )
        ),
    )


def _pg_instant(column: Any) -> sa.Case[str]:
    # As Python's isoformat() and the JSON body write it: UTC as Z, microseconds only when there are some.
    utc = sa.func.timezone("UTC", column)
    return sa.case(
        (sa.func.date_trunc("second", column) == column, sa.func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
        else_=sa.func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    )


def _pg_day(column: Any) -> sa.Cast[str]:
    # A date as text is YYYY-MM-DD under DateStyle ISO, which the COPY's transaction sets
    # (``service.CIN_COPY_SETTINGS``): the same text as to_char(column, 'YYYY-MM-DD'), at a third of the cost.
    return sa.cast(column, sa.Text)


def cin_csv_postgresql(period: Period, columns: Sequence[str]) -> Query:
    """PostgreSQL only: the items of ``cin_referral_items`` as the CSV export's text cells, for COPY.

    Each cell is formatted as the portable path (``app.governance.reports.service``) formats it in Python, and
    the CSV tests hold both to the same expected text on both databases.
    """
    c = cin_csv_columns(FIRST)
    cells: dict[str, Any] = {
        "referral_id": sa.cast(c["referral_id"], sa.Text),
        "referral_child_id": sa.cast(c["referral_child_id"], sa.Text),
        "person_id": sa.cast(c["person_id"], sa.Text),
        "la_child_id": c["la_child_id"],
        "date_of_birth": _pg_day(c["date_of_birth"]),
        "expected_date_of_birth": _pg_day(c["expected_date_of_birth"]),
        "gender": c["gender"],
        "sex": c["sex"],
        "ethnicity": c["ethnicity"],
        "referral_date": _pg_day(sa.cast(sa.func.timezone(REPORTING_TZ.key, c["received_at"]), sa.Date)),
        "received_at": _pg_instant(c["received_at"]),
        "referral_source": c["referral_source"],
        "status": c["status"],
        "outcome": c["outcome"],
        "decided_at": _pg_instant(c["decided_at"]),
        "nfa": sa.case((c["nfa"].is_(True), "true"), (c["nfa"].is_(False), "false")),
        "primary_need": c["primary_need"],
        "closure_date": _pg_day(c["closure_date"]),
        "reason_for_closure": c["reason_for_closure"],
        "assessment_start_date": _pg_day(c["assessment_start_date"]),
        "assessment_authorisation_date": _pg_day(c["assessment_authorisation_date"]),
        "assessment_factors": factor_codes(c["assessment_factors"]),
        "s47_start_date": _pg_day(c["s47_start_date"]),
        "icpc_target_date": _pg_day(c["icpc_target_date"]),
        "date_of_initial_cpc": _pg_day(c["date_of_initial_cpc"]),
        "icpc_not_required": sa.case(
            (c["icpc_not_required"].is_(True), "true"), (c["icpc_not_required"].is_(False), "false")
        ),
        "cpp_start_date": _pg_day(c["cpp_start_date"]),
        "cpp_initial_category_of_abuse": c["cpp_initial_category_of_abuse"],
    }
    # The cells of the item's own tables are made in a subquery of those tables alone, kept apart from
    # the rest (OFFSET 0), so that the parallel workers that join them make them too; then the pathway
    # records are joined to it (their cells are made by the one process that joins them).
    pathway = {"closure_date", "reason_for_closure", *(cin_csv_columns().keys() - cin_columns().keys())}
    own = [name for name in columns if name not in pathway]
    items = (
        cin_items_from(period, FIRST)
        .add_columns(
            *(cells[name].label(name) for name in own),
            ReferralChild.id.label("child_id"),
            *(key.label(f"key_{i}") for i, key in enumerate(CIN_KEYS)),
        )
        .offset(0)
        .subquery("items")
    )
    stmt = sa.select(*(items.c[name] if name in own else cells[name].label(name) for name in columns))
    return _first_joins(stmt.select_from(items), items.c.child_id).order_by(
        *(items.c[f"key_{i}"] for i in range(len(CIN_KEYS)))
    )


def cin_key(row: sa.Row[Any]) -> tuple[datetime, uuid.UUID, int]:
    return row.received_at, row.referral_id, row.position


# ---------------------------------------------------------------------------------------------------
# Timeliness


def due_counts(deadline: Any, now: Any, soon: Any) -> list[sa.Label[int]]:
    """(due, due_soon, overdue): the one definition of each, for every deadline the report counts. A
    deadline at or after ``now`` is due, and due soon before ``soon``; before ``now`` it is overdue."""
    one = sa.literal(1)
    return [
        sa.func.count(sa.case((deadline >= now, one))).label("due"),
        sa.func.count(sa.case((sa.and_(deadline >= now, deadline < soon), one))).label("due_soon"),
        sa.func.count(sa.case((deadline < now, one))).label("overdue"),
    ]


def due_counts_on(deadline: Any, today: date, soon: date) -> list[sa.Label[int]]:
    """``due_counts`` for a due date: overdue the day after it, due soon when it falls before ``soon``."""
    return due_counts(deadline, sa.literal(today, sa.Date), sa.literal(soon, sa.Date))


def on_time_counts(late: Any, prefix: str | None = None) -> list[sa.Label[int]]:
    """(on_time, late), each name prefixed ``{prefix}_`` if given, of the rows done: ``late`` is the SQL
    condition true for work done late, false for work done on time and null for work without a deadline
    (counted in neither)."""
    one = sa.literal(1)
    on_time_name, late_name = (
        ("on_time", "late") if prefix is None else (f"{prefix}_on_time", f"{prefix}_late")
    )
    return [
        sa.func.count(sa.case((sa.not_(late), one))).label(on_time_name),
        sa.func.count(sa.case((late, one))).label(late_name),
    ]


def referral_decisions_due(now: datetime, soon: datetime) -> Query:
    """(rag_rating, due, due_soon, overdue) of referrals not yet decided or withdrawn."""
    return (
        sa.select(Referral.rag_rating, *due_counts(Referral.decision_due_at, now, soon))
        .where(Referral.status.in_(OPEN_REFERRAL_STATUSES))
        .group_by(Referral.rag_rating)
    )


def adult_concern_decisions_due(now: datetime, soon: datetime) -> Query:
    """(due, due_soon, overdue) of concerns awaiting their section 42 decision."""
    return sa.select(*due_counts(AdultConcern.decision_due_at, now, soon)).where(
        AdultConcern.status.in_(list(OPEN_CONCERN_STATUSES))
    )


def contribution_requests_due(now: datetime, soon: datetime) -> Query:
    """(agency, rag_rating, due, due_soon, overdue) of information requests not yet answered."""
    return (
        sa.select(Contribution.agency, Referral.rag_rating, *due_counts(Contribution.due_at, now, soon))
        .join(Referral, Referral.id == Contribution.referral_id)
        .where(Contribution.status == ContributionStatus.REQUESTED)
        .group_by(Contribution.agency, Referral.rag_rating)
    )


def plan_reviews_due(today: date, soon: date) -> Query:
    """(due, due_soon, overdue) of active plans: a review due on a date is overdue the day after."""
    return sa.select(
        *due_counts(SafeguardingPlan.review_due_on, sa.literal(today, sa.Date), sa.literal(soon, sa.Date))
    ).where(SafeguardingPlan.status == PlanStatus.ACTIVE)


# ---------------------------------------------------------------------------------------------------
# Timeliness: referral decisions against both deadlines, and the referrer's acknowledgement


def _prefixed_due_counts(prefix: str, deadline: Any, now: Any, soon: Any) -> list[sa.Label[int]]:
    return [count.element.label(f"{prefix}_{count.name}") for count in due_counts(deadline, now, soon)]


def referral_deadlines_open(now: datetime, soon: datetime) -> Query:
    """Open referrals (not decided or withdrawn) against the statutory deadline (``statutory_*``) and
    the RAG target (``rag_*``; referrals without one, unrated or blue, count in neither)."""
    return sa.select(
        *_prefixed_due_counts("statutory", Referral.statutory_decision_due_at, now, soon),
        *_prefixed_due_counts("rag", Referral.rag_due_at, now, soon),
    ).where(Referral.status.in_(OPEN_REFERRAL_STATUSES))


def referral_deadlines_decided(period: Period) -> Query:
    """Referrals decided in the period, on time or late against each deadline."""
    return sa.select(
        *on_time_counts(Referral.decided_at > Referral.statutory_decision_due_at, "statutory"),
        *on_time_counts(Referral.decided_at > Referral.rag_due_at, "rag"),
    ).where(
        Referral.status == ReferralStatus.DECIDED,
        Referral.decided_at >= period.start,
        Referral.decided_at < period.end,
    )


def acknowledgements_open(now: datetime, soon: datetime) -> Query:
    """Acknowledgements still owed (a deadline recorded, not acknowledged, the referral not withdrawn):
    the partial index ``ix_referrals_unacknowledged_due_at`` holds just these rows."""
    return sa.select(*due_counts(Referral.acknowledgement_due_at, now, soon)).where(
        Referral.acknowledged_at.is_(None),
        Referral.acknowledgement_due_at.is_not(None),
        Referral.status != ReferralStatus.WITHDRAWN,
    )


def acknowledgements_made(period: Period) -> Query:
    """Acknowledgements made in the period, on time or late (referrals with a deadline recorded)."""
    return sa.select(
        *on_time_counts(Referral.acknowledged_at > Referral.acknowledgement_due_at, "acknowledged")
    ).where(Referral.acknowledged_at >= period.start, Referral.acknowledged_at < period.end)


def contact_conversion(period: Period) -> Query:
    """(received, decided, accepted, children) of the contacts received in the period, withdrawn ones
    left out: how many were decided, accepted as a referral for at least one child, and the children
    accepted (the decision's per-child entries, through their primary key)."""
    return (
        sa.select(
            sa.func.count(sa.distinct(Referral.id)).label("received"),
            sa.func.count(
                sa.distinct(sa.case((Referral.status == ReferralStatus.DECIDED, Referral.id)))
            ).label("decided"),
            sa.func.count(sa.distinct(ThresholdDecisionChild.decision_id)).label("accepted"),
            sa.func.count(ThresholdDecisionChild.decision_id).label("children"),
        )
        .select_from(Referral)
        .outerjoin(
            ThresholdDecisionChild,
            sa.and_(
                ThresholdDecisionChild.decision_id == Referral.decision_id,
                ThresholdDecisionChild.accepted_as_referral.is_(True),
            ),
        )
        .where(_in(Referral.received_at, period), Referral.status != ReferralStatus.WITHDRAWN)
    )


# ---------------------------------------------------------------------------------------------------
# Timeliness: the work after a decision. Open work against the due date stored with it (a date); work
# done in the period by the lateness stored when it was done.

# Enquiries whose conference clock still runs: no outcome yet, or a conference called and not held.
AWAITING_CONFERENCE = (Section47Status.OPEN, Section47Status.AWAITING_CONFERENCE)


def _on_days(column: Any, period: Period) -> sa.ColumnElement[bool]:
    within: sa.ColumnElement[bool] = column.between(
        sa.literal(period.first_day, sa.Date), sa.literal(period.last_day, sa.Date)
    )
    return within


def assessments_open(today: date, soon: date) -> Query:
    """(due, due_soon, overdue) of open child and family assessments against their 45-working-day due date."""
    return sa.select(*due_counts_on(Assessment.due_on, today, soon)).where(
        Assessment.status == AssessmentStatus.OPEN
    )


def assessments_completed(period: Period) -> Query:
    """(on_time, late) of the assessments completed in the period."""
    return sa.select(*on_time_counts(Assessment.completed_late)).where(
        _on_days(Assessment.completed_on, period)
    )


def conferences_awaited(today: date, soon: date) -> Query:
    """(due, due_soon, overdue) of enquiries awaiting their initial conference against its due date."""
    return sa.select(*due_counts_on(Section47Enquiry.icpc_due_on, today, soon)).where(
        Section47Enquiry.status.in_(AWAITING_CONFERENCE)
    )


def conferences_held(period: Period) -> Query:
    """(on_time, late) of the initial conferences held in the period."""
    return sa.select(*on_time_counts(Section47Enquiry.conference_late)).where(
        _on_days(Section47Enquiry.conference_held_on, period)
    )
