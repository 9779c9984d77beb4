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
        return sa.exists().where(Assessment.referral_child_id == item.referral_child_id, ...)

(a correlated ``EXISTS`` reaches another record of the child: their assessment, section 47 enquiry or
conference).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.governance.reports import queries
from app.governance.reports.periods import REPORTING_TZ, Period
from app.models.referral import Referral, ReferralChild
from app.people.codes import Gender

# The cursor's keys: the item's (received_at, referral id, position), then the rule's place in RULES.
VALIDATION_KEYS = (Referral.received_at, Referral.id, ReferralChild.position, ReferralChild.position)


class Item:
    """A census item's columns as SQL expressions (``queries._cin_columns``), for a rule to test."""

    def __init__(self, columns: dict[str, Any]) -> None:
        self.columns = columns

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


def _unborn(item: Item) -> sa.ColumnElement[bool]:
    return sa.and_(item.date_of_birth.is_(None), item.expected_date_of_birth.is_not(None))


# ---------------------------------------------------------------------------------------------------
# The rules, in the validator's words (its 2024-25 ruleset, in force for 2025-26 and after).


@rule("8500", "LA Child ID missing")
def _la_child_id_missing(item: Item) -> sa.ColumnElement[bool]:
    # The person id is the LA child id: missing while the child's match to a person is pending.
    return item.person_id.is_(None)  # type: ignore[no-any-return]


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


@rule("8610", "Primary Need code is missing for a referral which led to further action.")
def _primary_need_missing(item: Item) -> sa.ColumnElement[bool]:
    return sa.and_(item.nfa.is_(False), item.primary_need.is_(None))


# ---------------------------------------------------------------------------------------------------


def findings_query(period: Period, after: Sequence[Any] | None = None) -> queries.Query:
    """The items of the range that break any rule, in the items' order, one column per rule (true where
    the item breaks it); from the cursor's item on (itself included: it may break later rules)."""
    columns = queries.cin_columns()
    item = Item(columns)
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
