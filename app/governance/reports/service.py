"""Statutory returns and the timeliness report: run the counting queries, arrange their few rows into
the report, and audit every run.

The CIN census items are about named children, so their export is audited like any other read of case
data: who ran it, for which range, in which format and how many items it gave; the audit row holds no
personal data. The aggregate reports are audited the same way.

Who runs what: every auditor (``reports:read``) runs the aggregate reports (timeliness, SAC); the
child-level CIN items need an auditor of a lead agency or of the council (``check_child_level``).
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import IO, Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import (
    EnquiryResult,
    LackedCapacity,
    LocationOfRisk,
    MspAsked,
    MspOutcomesAchieved,
    PrimarySupportReason,
    RiskOutcome,
    SarCriteria,
    SourceOfRisk,
    TypeOfRisk,
)
from app.core import audit, clock
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import local_date
from app.core.codes import RagRating
from app.core.direct import on_driver
from app.core.errors import AgencyNotPermitted
from app.core.pagination import PageParams, decode_cursor, encode_cursor
from app.governance.reports import pathway, queries, validation
from app.governance.reports.bands import SacAgeBand, SacEthnicity, SacGender
from app.governance.reports.periods import Period, reporting_year
from app.governance.reports.schemas import (
    AcknowledgementTimeliness,
    AgencyRagDueCounts,
    CinAssessment,
    CinChildProtectionPlan,
    CinReferralItem,
    CinSection47,
    CinValidationFinding,
    ContactConversion,
    ContributionTimeliness,
    DeadlineTimeliness,
    DueCounts,
    OnTimeCounts,
    RagDueCounts,
    ReferralDecisionDeadlines,
    ReferralDecisionTimeliness,
    ReportPeriod,
    SacReport,
    TimelinessReport,
)
from app.models.base import utcnow

CIN_RECORD_TYPE = "cin_referrals_report"
CIN_VALIDATION_RECORD_TYPE = "cin_referrals_validation"
SAC_RECORD_TYPE = "sac_report"
TIMELINESS_RECORD_TYPE = "timeliness_report"
CSV_BATCH = 5_000
CSV_SPOOL_IN_MEMORY = 8 * 1024 * 1024
MEASURES = (queries.CONCERNS, queries.SECTION_42, queries.OTHER)
ENQUIRY_MEASURES = (queries.SECTION_42, queries.OTHER)


def _counts(codes: Iterable[StrEnum | str], found: Counter[str]) -> dict[str, int]:
    """Every category of a code list, with what was counted (0 when nothing)."""
    return {str(code): found.get(str(code), 0) for code in codes}


# ---------------------------------------------------------------------------------------------------
# Safeguarding Adults Collection


def _cross(
    rows: Iterable[StrEnum], columns: Iterable[StrEnum], found: Counter[tuple[str, str]]
) -> dict[str, Any]:
    """A cross-tabulation: every row of one code list by every column of another (0 when nothing)."""
    return {str(r): {str(c): found.get((str(r), str(c)), 0) for c in columns} for r in rows}


async def sac(session: AsyncSession, actor: Principal, year: int) -> SacReport:
    period = reporting_year(year)
    cases = {row.measure: row.n for row in await session.execute(queries.sg1_cases(period))}

    # Each adult once per kind of case, from the (few) combinations the database grouped.
    sg1: dict[str, dict[str, Counter[str]]] = {
        m: {d: Counter() for d in ("age_band", "gender", "ethnicity", "primary_support_reason")}
        for m in MEASURES
    }
    for row in await session.execute(queries.sg1_individuals(period)):
        for dimension, counter in sg1[row.measure].items():
            counter[getattr(row, dimension)] += row.n

    sg2: dict[str, dict[str, Counter[Any]]] = {
        m: {t: Counter() for t in queries.SG2_TABLES} for m in ENQUIRY_MEASURES
    }
    for row in await session.execute(queries.sg2_cells(period)):
        cell = row.category if row.subcategory is None else (row.category, row.subcategory)
        sg2[row.measure][row.table_ref][cell] += row.n

    concluded: Counter[str] = Counter()
    capacity: dict[str, Counter[str]] = {m: Counter() for m in ENQUIRY_MEASURES}
    advocate: dict[str, Counter[str]] = {m: Counter() for m in ENQUIRY_MEASURES}
    asked: dict[str, Counter[str]] = {m: Counter() for m in ENQUIRY_MEASURES}
    achieved: dict[str, Counter[str]] = {m: Counter() for m in ENQUIRY_MEASURES}
    for row in await session.execute(queries.concluded_enquiries(period)):
        concluded[row.measure] += row.n
        capacity[row.measure][row.lacked_capacity] += row.n
        if row.lacked_capacity == LackedCapacity.YES and row.advocate_support is not None:
            advocate[row.measure]["yes" if row.advocate_support else "no"] += row.n
        asked[row.measure][row.msp_asked] += row.n
        if row.msp_asked == MspAsked.YES_OUTCOMES_EXPRESSED and row.msp_outcomes_achieved is not None:
            achieved[row.measure][row.msp_outcomes_achieved] += row.n

    reviews: Counter[str] = Counter()
    individuals: Counter[str] = Counter()
    for row in await session.execute(queries.sg5_completed(period)):
        reviews["died" if row.adult_died else "survived"] += row.reviews
        individuals["died" if row.adult_died else "survived"] += row.individuals
    decisions: Counter[str] = Counter()
    for row in await session.execute(queries.sg5_decisions(period)):
        decisions[row.criteria] += row.n
        decisions["commissioned" if row.commissioned else "not_commissioned"] += row.n

    def by_case(make: Any) -> dict[str, Any]:
        return {m: make(m) for m in MEASURES}

    def by_kind(make: Any) -> dict[str, Any]:
        return {m: make(m) for m in ENQUIRY_MEASURES}

    report = SacReport.model_validate(
        {
            "year": year,
            "period_start": period.first_day,
            "period_end": period.last_day,
            "sg1": {
                "sg1a": by_case(lambda m: _counts(SacAgeBand, sg1[m]["age_band"])),
                "sg1b": by_case(lambda m: _counts(SacGender, sg1[m]["gender"])),
                "sg1c": by_case(lambda m: _counts(SacEthnicity, sg1[m]["ethnicity"])),
                "sg1d": by_case(lambda m: _counts(PrimarySupportReason, sg1[m]["primary_support_reason"])),
                "sg1f": by_case(
                    lambda m: {"cases": cases.get(m, 0), "individuals": sg1[m]["gender"].total()}
                ),
            },
            "sg2": {
                "sg2a": by_kind(lambda m: _cross(TypeOfRisk, SourceOfRisk, sg2[m]["sg2a"])),
                "sg2b": by_kind(lambda m: _cross(LocationOfRisk, SourceOfRisk, sg2[m]["sg2b"])),
                "sg2c": by_kind(lambda m: _counts(EnquiryResult, sg2[m]["sg2c"])),
                "sg2e": by_kind(lambda m: _counts(RiskOutcome, sg2[m]["sg2e"])),
            },
            "sg3": {
                "sg3a": by_kind(
                    lambda m: {
                        "concluded": concluded[m],
                        "lacked_capacity": _counts(LackedCapacity, capacity[m]),
                        "advocate_support": _counts(("yes", "no"), advocate[m]),
                    }
                )
            },
            "sg4": {
                "sg4a": by_kind(
                    lambda m: {
                        "concluded": concluded[m],
                        "msp_asked": _counts(MspAsked, asked[m]),
                        "outcomes_achieved": _counts(MspOutcomesAchieved, achieved[m]),
                    }
                )
            },
            "sg5": {
                "sg5a": {
                    "safeguarding_adults_reviews": {
                        "where_one_or_more_individuals_died": reviews["died"],
                        "where_no_individuals_died": reviews["survived"],
                    }
                },
                "sg5b": {
                    "individuals": {
                        "who_suffered_serious_harm_and_died": individuals["died"],
                        "who_suffered_serious_harm_and_survived": individuals["survived"],
                    }
                },
                "decisions": {
                    "safeguarding_adults_reviews": _counts(
                        (*SarCriteria, "commissioned", "not_commissioned"), decisions
                    )
                },
            },
        }
    )
    audit.record(session, actor, AuditAction.READ, SAC_RECORD_TYPE, details={"year": year})
    return report


# As the NHS England publication's CSV: TABLE_REFERENCE, ENQUIRY_TYPE, CATEGORY, SUBCATEGORY, VALUE.
SAC_CSV_HEADER = ("table", "measure", "category", "subcategory", "count")
SAC_SECTIONS = ("sg1", "sg2", "sg3", "sg4", "sg5")


def sac_rows(report: SacReport) -> Iterator[tuple[str, str, str, str, int]]:
    """The report's cells, one per row, in the order of the JSON body: the table's reference (`sg2a`), the
    kind of case, the row and (in a cross-tabulation, or a measure's breakdown) the column; a single
    figure leaves the rest empty."""
    for section in SAC_SECTIONS:
        for table, measures in getattr(report, section):
            assert isinstance(measures, BaseModel)
            for measure, cells in measures:
                assert isinstance(cells, BaseModel)
                for category, value in cells:
                    if isinstance(value, int):
                        yield table, measure, category, "", value
                    else:
                        for subcategory, count in value:
                            yield table, measure, category, subcategory, count


# ---------------------------------------------------------------------------------------------------
# Children in Need census: referral items


def _cin_item(row: Any, pathway: CinPathway) -> CinReferralItem:
    # The row's columns carry the item's names; the census date is derived; the lists are the child's.
    child = row.referral_child_id
    return CinReferralItem.model_validate(
        {
            **row._mapping,
            "referral_date": local_date(row.received_at),
            "assessments": pathway.assessments.get(child, []),
            "section_47_enquiries": pathway.enquiries.get(child, []),
            "child_protection_plans": pathway.plans.get(child, []),
        }
    )


@dataclass
class CinPathway:
    """What followed the decision for a page's children, by child: two keyed queries per page."""

    assessments: dict[uuid.UUID, list[CinAssessment]] = field(default_factory=dict)
    enquiries: dict[uuid.UUID, list[CinSection47]] = field(default_factory=dict)
    plans: dict[uuid.UUID, list[CinChildProtectionPlan]] = field(default_factory=dict)


async def _cin_pathway(session: AsyncSession, child_ids: list[uuid.UUID]) -> CinPathway:
    found = CinPathway()
    if not child_ids:
        return found
    for a in await session.execute(queries.cin_assessments(child_ids)):
        found.assessments.setdefault(a.child_id, []).append(
            CinAssessment(start_date=a.started_on, authorisation_date=a.completed_on, factors=a.factors)
        )
    for e in await session.execute(queries.cin_enquiries(child_ids)):
        found.enquiries.setdefault(e.child_id, []).append(
            CinSection47(
                start_date=e.started_on,
                icpc_target_date=e.icpc_due_on,
                date_of_initial_cpc=e.conference_held_on,
                icpc_not_required=e.icpc_not_required,
            )
        )
        if e.plan:
            found.plans.setdefault(e.child_id, []).append(
                CinChildProtectionPlan(
                    start_date=e.conference_held_on, initial_category_of_abuse=e.conference_category_of_abuse
                )
            )
    return found


def check_child_level(actor: Principal) -> None:
    """Child-level items are for the council's side only: a partner agency's auditor sees aggregates."""
    if not actor.is_council_wide:
        raise AgencyNotPermitted(
            "Child-level report items (the CIN census) need an auditor of childrens_social_care, "
            "adult_social_care or council; an auditor of a partner agency runs the aggregate reports "
            "(timeliness, SAC)."
        )


def _audit_cin(
    session: AsyncSession, actor: Principal, period: Period, media: str, items: int, **details: Any
) -> None:
    audit.record(
        session,
        actor,
        AuditAction.EXPORT,
        CIN_RECORD_TYPE,
        details={
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "format": media,
            "items": items,
            **details,
        },
    )


async def cin_page(
    session: AsyncSession, actor: Principal, period: Period, params: PageParams
) -> tuple[list[CinReferralItem], str | None]:
    after = None if params.cursor is None else decode_cursor(params.cursor, queries.CIN_KEYS)
    stmt = queries.cin_referral_items(period, after).limit(params.limit + 1)
    rows = list(await session.execute(stmt))
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = encode_cursor(queries.cin_key(rows[-1]))
    _audit_cin(session, actor, period, "json", len(rows), continued=params.cursor is not None)
    pathway = await _cin_pathway(session, [row.referral_child_id for row in rows])
    return [_cin_item(row, pathway) for row in rows], next_cursor


async def cin_validation_page(
    session: AsyncSession,
    actor: Principal,
    period: Period,
    params: PageParams,
    census_year: int | None = None,
) -> tuple[list[CinValidationFinding], str | None]:
    """A page of the validation findings over the range's census items (``validation``), against the
    census of ``census_year`` (by default the range's: ``validation.census_of``). Audited like the
    items: it names children's records."""
    after = None
    if params.cursor is not None:
        after = decode_cursor(params.cursor, validation.VALIDATION_KEYS)
    # Every item read breaks a rule, each but the cursor's own with a finding on this page: one more
    # than the page, and the cursor's item, tell whether there is a next page.
    census = validation.census_of(period, census_year)
    stmt = validation.findings_query(period, after, census).limit(params.limit + 2)
    found = validation.findings(list(await session.execute(stmt)), after)
    next_cursor = None
    if len(found) > params.limit:
        found = found[: params.limit]
        next_cursor = encode_cursor(found[-1].key)
    audit.record(
        session,
        actor,
        AuditAction.READ,
        CIN_VALIDATION_RECORD_TYPE,
        details={
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "findings": len(found),
            "continued": params.cursor is not None,
        },
    )
    items = [
        CinValidationFinding(rule=f.rule, message=f.message, referral_id=f.referral_id, child_id=f.child_id)
        for f in found
    ]
    return items, next_cursor


CIN_CSV_HEADER = (
    "referral_id",
    "referral_child_id",
    "person_id",
    "la_child_id",
    "date_of_birth",
    "expected_date_of_birth",
    "gender",
    "sex",
    "ethnicity",
    "referral_date",
    "received_at",
    "referral_source",
    "status",
    "outcome",
    "decided_at",
    "nfa",
    "primary_need",
    "closure_date",
    "reason_for_closure",
    "assessment_start_date",
    "assessment_authorisation_date",
    "assessment_factors",
    "s47_start_date",
    "icpc_target_date",
    "date_of_initial_cpc",
    "icpc_not_required",
    "cpp_start_date",
    "cpp_initial_category_of_abuse",
)


def _flag(value: bool | None) -> str:
    return "" if value is None else "true" if value else "false"


def _instant(value: datetime | None) -> str:
    # As the JSON body writes it (RFC 3339, UTC as Z), so both formats carry the same text.
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def _csv_cells(row: Any) -> list[Any]:
    # Straight from the row: building a response model per item would double the cost of a large export.
    return [
        row.referral_id,
        row.referral_child_id,
        row.person_id or "",
        row.la_child_id or "",
        row.date_of_birth or "",
        row.expected_date_of_birth or "",
        row.gender or "",
        row.sex or "",
        row.ethnicity or "",
        local_date(row.received_at),
        _instant(row.received_at),
        row.referral_source,
        row.status,
        row.outcome or "",
        _instant(row.decided_at),
        "true" if row.nfa else "false",
        row.primary_need or "",
        row.closure_date or "",
        row.reason_for_closure or "",
        row.assessment_start_date or "",
        row.assessment_authorisation_date or "",
        ";".join(row.assessment_factors or ()),
        row.s47_start_date or "",
        row.icpc_target_date or "",
        row.date_of_initial_cpc or "",
        _flag(row.icpc_not_required),
        row.cpp_start_date or "",
        row.cpp_initial_category_of_abuse or "",
    ]


@dataclass
class CsvExport:
    """A CSV document in a spooled temporary file (in memory while small, on disk beyond), so that a
    year's census, a hundred megabytes or more, is never held in memory whole."""

    file: IO[bytes]
    size: int
    rows: int


async def cin_csv(session: AsyncSession, actor: Principal, period: Period) -> CsvExport:
    """The whole range as CSV. PostgreSQL formats it itself (COPY: no row passes through Python, which
    for a year's census is the difference between seconds and a minute); elsewhere the rows are read
    and formatted a batch at a time."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=CSV_SPOOL_IN_MEMORY)  # noqa: SIM115 - the response closes it
    try:
        if (await session.connection()).dialect.name == "postgresql":
            rows = await _cin_csv_copy(session, period, spool)
        else:
            rows = await _cin_csv_rows(session, period, spool)
    except BaseException:
        spool.close()
        raise
    _audit_cin(session, actor, period, "csv", rows)
    size = spool.tell()
    spool.seek(0)
    return CsvExport(spool, size, rows)


async def _cin_csv_rows(session: AsyncSession, period: Period, spool: IO[bytes]) -> int:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CIN_CSV_HEADER)
    rows = 0
    result = await session.stream(queries.cin_csv_items(period).execution_options(yield_per=CSV_BATCH))
    async for partition in result.partitions():
        writer.writerows(_csv_cells(row) for row in partition)
        rows += len(partition)
        spool.write(out.getvalue().encode())
        out.seek(0)
        out.truncate()
    spool.write(out.getvalue().encode())
    return rows


# The COPY's settings, to the transaction's end. No JIT compilation: the year's items are estimated,
# rightly, at 200,000 rows, which puts the plan's cost over the JIT thresholds, and compiling and
# optimising its expressions took longer (7 s on the bench's database) than the plan runs without.
# DateStyle ISO: the dates are cast to text (``queries.cin_csv_postgresql``), YYYY-MM-DD under it. 16 MB
# of work memory (4 MB by default): the ranked pathway records' hash tables (17 MB for a year's latest
# assessments, hash_mem_multiplier 2) are then built in one batch, without writing the wide item rows
# that meet them to temporary files and reading them back (bench/README.md, "The CIN census CSV's
# COPY on its own").
CIN_COPY_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL datestyle = 'ISO'", "SET LOCAL work_mem = '16MB'")


async def _cin_csv_copy(session: AsyncSession, period: Period, spool: IO[bytes]) -> int:
    connection = await session.connection()
    # COPY takes no parameters: the statement is rendered with its values inline. They are ours (two
    # instants and fixed codes), never text from the request.
    sql = str(
        queries.cin_csv_postgresql(period, CIN_CSV_HEADER).compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    lines = 0

    async def write(chunk: bytes) -> None:
        nonlocal lines
        # COPY ends lines with LF; the export uses CRLF (RFC 4180). No cell holds a line break.
        lines += chunk.count(b"\n")
        spool.write(chunk.replace(b"\n", b"\r\n"))

    # In the request's transaction, so that its row-level security context applies to the COPY.
    for setting in CIN_COPY_SETTINGS:
        await session.execute(sa.text(setting))
    await on_driver(
        session, lambda driver: driver.copy_from_query(sql, output=write, format="csv", header=True)
    )
    return lines - 1  # the header


# ---------------------------------------------------------------------------------------------------
# Timeliness

RAG_ORDER = [*(str(r) for r in RagRating), "unrated"]


def _due(row: Any) -> DueCounts:
    return DueCounts(due=row.due, due_soon=row.due_soon, overdue=row.overdue)


def _total(parts: Iterable[DueCounts]) -> DueCounts:
    items = list(parts)
    return DueCounts(
        due=sum(p.due for p in items),
        due_soon=sum(p.due_soon for p in items),
        overdue=sum(p.overdue for p in items),
    )


def _on_time(row: Any, prefix: str) -> OnTimeCounts:
    return OnTimeCounts(on_time=getattr(row, f"{prefix}_on_time"), late=getattr(row, f"{prefix}_late"))


def _prefixed_due(row: Any, prefix: str) -> DueCounts:
    return DueCounts(
        due=getattr(row, f"{prefix}_due"),
        due_soon=getattr(row, f"{prefix}_due_soon"),
        overdue=getattr(row, f"{prefix}_overdue"),
    )


async def referral_decision_deadlines(
    session: AsyncSession, now: datetime, soon: datetime, period: Period
) -> ReferralDecisionDeadlines:
    opened = (await session.execute(queries.referral_deadlines_open(now, soon))).one()
    decided = (await session.execute(queries.referral_deadlines_decided(period))).one()
    return ReferralDecisionDeadlines(
        statutory=DeadlineTimeliness(
            open=_prefixed_due(opened, "statutory"), decided=_on_time(decided, "statutory")
        ),
        rag_target=DeadlineTimeliness(open=_prefixed_due(opened, "rag"), decided=_on_time(decided, "rag")),
    )


async def referrer_acknowledgements(
    session: AsyncSession, now: datetime, soon: datetime, period: Period
) -> AcknowledgementTimeliness:
    owed = _due((await session.execute(queries.acknowledgements_open(now, soon))).one())
    made = (await session.execute(queries.acknowledgements_made(period))).one()
    return AcknowledgementTimeliness(open=owed, acknowledged=_on_time(made, "acknowledged"))


async def contacts(session: AsyncSession, period: Period) -> ContactConversion:
    row = (await session.execute(queries.contact_conversion(period))).one()
    rate = None if row.received == 0 else round(row.accepted / row.received, 3)
    return ContactConversion(
        received=row.received,
        decided=row.decided,
        accepted_as_referrals=row.accepted,
        children_accepted=row.children,
        conversion_rate=rate,
    )


async def timeliness(
    session: AsyncSession, actor: Principal, due_soon_hours: int, period: Period
) -> TimelinessReport:
    now = utcnow()
    soon = now + timedelta(hours=due_soon_hours)

    found = await session.execute(queries.referral_decisions_due(now, soon))
    by_rag = {row.rag_rating or "unrated": _due(row) for row in found}
    empty = DueCounts(due=0, due_soon=0, overdue=0)
    referral_rows = [
        RagDueCounts.model_validate({"rag": rag, **by_rag.get(rag, empty).model_dump()}) for rag in RAG_ORDER
    ]

    concerns = _due((await session.execute(queries.adult_concern_decisions_due(now, soon))).one())

    requests = sorted(
        (
            AgencyRagDueCounts.model_validate(
                {"agency": row.agency, "rag": row.rag_rating or "unrated", **_due(row).model_dump()}
            )
            for row in await session.execute(queries.contribution_requests_due(now, soon))
        ),
        key=lambda r: (r.agency, RAG_ORDER.index(r.rag)),
    )

    # Plan reviews are due on a date: today, by the same calendar as the plans list's review_overdue.
    today = clock.today()
    soon_day = today + timedelta(days=math.ceil(due_soon_hours / 24))
    plans = _due((await session.execute(queries.plan_reviews_due(today, soon_day))).one())
    soon_days = math.ceil(due_soon_hours / 24)

    report = TimelinessReport(
        as_of=now,
        due_soon_hours=due_soon_hours,
        referral_decisions=ReferralDecisionTimeliness(total=_total(referral_rows), by_rag=referral_rows),
        adult_concern_decisions=concerns,
        contribution_requests=ContributionTimeliness(total=_total(requests), by_agency_and_rag=requests),
        plan_reviews=plans,
        period=ReportPeriod(from_=period.first_day, to=period.last_day),
        referral_decision_deadlines=await referral_decision_deadlines(session, now, soon, period),
        referrer_acknowledgements=await referrer_acknowledgements(session, now, soon, period),
        contacts=await contacts(session, period),
        assessments=await pathway.assessments(session, period, soon_days),
        initial_child_protection_conferences=await pathway.conferences(session, period, soon_days),
    )
    audit.record(
        session,
        actor,
        AuditAction.READ,
        TIMELINESS_RECORD_TYPE,
        details={
            "due_soon_hours": due_soon_hours,
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
        },
    )
    return report


TIMELINESS_CSV_HEADER = ("measure", "agency", "rag", "due", "due_soon", "overdue", "on_time", "late")


def timeliness_rows(report: TimelinessReport) -> Iterator[tuple[Any, ...]]:
    """One row per count line; empty agency and rag mean all of them (a total). ``on_time`` and ``late``
    (in the period) only on the lines that measure them, empty elsewhere."""

    def line(
        measure: str, counts: DueCounts, agency: str = "", rag: str = "", done: OnTimeCounts | None = None
    ) -> tuple[Any, ...]:
        in_period = ("", "") if done is None else (done.on_time, done.late)
        return measure, agency, rag, counts.due, counts.due_soon, counts.overdue, *in_period

    yield line("referral_decisions", report.referral_decisions.total)
    for r in report.referral_decisions.by_rag:
        yield line("referral_decisions", r, rag=str(r.rag))
    yield line("adult_concern_decisions", report.adult_concern_decisions)
    yield line("contribution_requests", report.contribution_requests.total)
    for c in report.contribution_requests.by_agency_and_rag:
        yield line("contribution_requests", c, agency=str(c.agency), rag=str(c.rag))
    yield line("plan_reviews", report.plan_reviews)
    deadlines = report.referral_decision_deadlines
    for measure, deadline in (("statutory", deadlines.statutory), ("rag_target", deadlines.rag_target)):
        yield line(f"referral_decisions_{measure}", deadline.open, done=deadline.decided)
    acknowledgements = report.referrer_acknowledgements
    yield line("referrer_acknowledgements", acknowledgements.open, done=acknowledgements.acknowledged)
    yield line("assessments", report.assessments.open, done=report.assessments.completed)
    conferences = report.initial_child_protection_conferences
    yield line("initial_child_protection_conferences", conferences.awaiting, done=conferences.held)
