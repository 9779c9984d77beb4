"""/v1/reports: statutory returns (CIN census referral items, the Safeguarding Adults Collection) and
the timeliness report. Scope `reports:read` (auditors and information governance); the child-level CIN
items only for the lead agencies and the council (``service.check_child_level``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Response

from app.core import clock
from app.core.auth import Principal
from app.core.db import DbSession
from app.core.errors import ValidationFailed
from app.core.openapi import problem_responses
from app.core.pagination import Paging
from app.core.principals import ReportsRead
from app.core.routing import Router
from app.core.schemas import Date
from app.governance.reports import export, service
from app.governance.reports.export import Format, Negotiated
from app.governance.reports.periods import Period, reporting_year_to_date
from app.governance.reports.schemas import (
    MAX_DUE_SOON_HOURS,
    CinReferralPage,
    CinValidationPage,
    SacReport,
    TimelinessReport,
)
from app.governance.reports.validation import RULES

router = Router(prefix="/v1/reports", tags=["Reports"])


async def child_level_reader(principal: ReportsRead) -> Principal:
    service.check_child_level(principal)
    return principal


ChildLevelReader = Annotated[Principal, Depends(child_level_reader)]
ERRORS = problem_responses(406)
CHILD_LEVEL_ERRORS = problem_responses(403, 406, codes={403: ["agency_not_permitted"]})
# Said on each aggregate report.
AGGREGATE = (
    "\n\nAn aggregate: every auditor runs it (`reports:read`), whatever its agency, and information "
    "governance."
)
# A census covers a year; a longer range is almost certainly a mistake, and an expensive one.
MAX_RANGE_DAYS = 366
FIRST_SAC_YEAR = 2015  # the collection began in 2015-16, with the Care Act
FIRST_CIN_CENSUS_YEAR = 2008  # the child-level CIN census began in 2008-09


def checked_period(from_: date, to: date) -> Period:
    """The range ``from``-``to``: a 422 when it runs backwards or is longer than a census year."""
    if from_ > to:
        raise ValidationFailed(["query", "to"], "`to` must not be before `from`.")
    period = Period(from_, to)
    if period.days > MAX_RANGE_DAYS:
        raise ValidationFailed(["query", "to"], f"The range must be at most {MAX_RANGE_DAYS} days.")
    return period


def answers(model: type, errors: dict[int | str, Any], csv: str, csv_example: str) -> dict[str, Any]:
    """What a report route answers: its model as JSON, or its CSV (``Accept: text/csv``), and its errors."""
    return {"response_model": model, "responses": {**errors, **export.both_media_types(csv, csv_example)}}


# What each CSV holds, for the OpenAPI document.
CIN_CSV_DESCRIPTION = (
    "One header row, then one row per item, columns in this order: "
    + ", ".join(service.CIN_CSV_HEADER)
    + ". The item's columns come first, as in JSON (`closure_date` and `reason_for_closure` included); then, "
    "one row per item still, the child's **latest** assessment (`assessment_*`: start, authorisation = "
    "completion date, factors `;`-joined, e.g. `3A;16A`) and **latest** section 47 enquiry (`s47_start_date` = "
    "the strategy discussion's date, `icpc_target_date`, `date_of_initial_cpc`, `icpc_not_required`) with the "
    "plan its conference made (`cpp_start_date`, `cpp_initial_category_of_abuse`); the JSON lists every one. "
    "Empty cell: null. Booleans `true`/`false`; dates YYYY-MM-DD; instants RFC 3339 in UTC. UTF-8, CRLF line "
    "ends (RFC 4180)."
)
CIN_CSV_EXAMPLE = (
    ",".join(service.CIN_CSV_HEADER) + "\r\n"
    "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b,7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f,"
    "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f,5B0D7C1E2F3A4B5C8D9E,2018-03-14,,female,F,WBRI,2026-05-04,2026-05-04T09:12:00Z,6,"
    "decided,child_and_family_assessment,2026-05-05T10:40:00Z,false,N1,,,2026-05-05,2026-06-12,3A;16A,"
    "2026-06-15,2026-07-06,2026-07-03,false,2026-07-03,neglect\r\n"
)
SAC_CSV_DESCRIPTION = (
    "One header row (`table,measure,category,subcategory,count`, as the NHS England publication's "
    "TABLE_REFERENCE, ENQUIRY_TYPE, CATEGORY, SUBCATEGORY and VALUE), then one row per cell of the JSON body in "
    "its order: e.g. `sg2a,section_42_enquiries,physical,service_provider,3` (type of risk by source of "
    "risk). A list's cell has an empty subcategory; a measure's breakdown (`sg3a`, `sg4a`) puts the breakdown "
    "in `category` and its value in `subcategory`. UTF-8, CRLF line ends (RFC 4180)."
)
SAC_CSV_EXAMPLE = (
    "table,measure,category,subcategory,count\r\n"
    "sg1a,concerns,aged_18_to_64,,0\r\n"
    "sg1a,concerns,aged_65_to_74,,1\r\n"
    "sg2a,section_42_enquiries,physical,service_provider,3\r\n"
    "sg3a,section_42_enquiries,concluded,,4\r\n"
    "sg3a,section_42_enquiries,lacked_capacity,yes,1\r\n"
)
TIMELINESS_CSV_DESCRIPTION = (
    "One header row (`measure,agency,rag,due,due_soon,overdue,on_time,late`), then one row per line of "
    "counts in the order of the JSON body; empty agency and rag mark a total. `on_time` and `late` (in the "
    "period) only on the lines that count them (`referral_decisions_statutory`, "
    "`referral_decisions_rag_target`, `referrer_acknowledgements`), empty elsewhere. UTF-8, CRLF line ends "
    "(RFC 4180)."
)
TIMELINESS_CSV_EXAMPLE = (
    "measure,agency,rag,due,due_soon,overdue,on_time,late\r\n"
    "referral_decisions,,,14,9,3,,\r\n"
    "referral_decisions,,red,1,1,0,,\r\n"
    "contribution_requests,health,amber,5,2,1,,\r\n"
    "referral_decisions_statutory,,,11,7,3,812,37\r\n"
)


@router.get(
    "/cin-referrals",
    summary="Children in Need census: referral items for a date range",
    description=(
        "One item per child **accepted as a referral** (the CIN census meaning) on a contact received from "
        f"`from` to `to` (dates in England, both included; at most {MAX_RANGE_DAYS} days), oldest first. A "
        "contact that stays a contact (universal services, early help, no further action not accepted) gives "
        "none, nor does an undecided or withdrawn one; siblings count each as the approved decision on them "
        "says. Each item carries the census referral items (referral date, source, and from the decision on "
        "that child: outcome, `nfa` = ReferralNFA, primary need) and the child's census identifiers: the "
        "hub's person id as the LA child id (null while a match is pending), date of birth or expected date "
        "of birth, gender and the census `sex` (M, F, U: `other` and `not_known` are U, as is an unborn "
        "child) and DfE ethnicity code, taken from the linked person record where it has them. No names: "
        "the census does not collect them.\n\n"
        "What followed the decision, per item as the census nests it under the child's CIN details: "
        "`closure_date` and `reason_for_closure` (from the child's latest completed assessment with a reason "
        "for closure: RC8 after assessment with no further action, RC9 to early help, RC1-RC7), "
        "`assessments` (start, authorisation date, factors), `section_47_enquiries` (start = the strategy "
        "discussion's date, ICPC target date, date of the initial conference, ICPC not required when the "
        "enquiry concluded without one) and `child_protection_plans` (start = the conference's date when it "
        "made a plan, initial category of abuse). The lists are read for a page at a time (two queries per "
        "page, never one per item).\n\n"
        "**JSON** is a list and pages like every list (`limit`, `cursor`, `Link`). **CSV** "
        "(`Accept: text/csv`) is the whole range in one document, for the census return; `limit` and "
        "`cursor` do not apply. Any other `Accept` gets 406. Every call is audited with the range, format "
        "and number of items (no personal data in the audit entry).\n\n"
        "**Child-level items** (one per child): for auditors of childrens_social_care, adult_social_care or "
        "council (information governance too). An auditor of a partner agency gets 403 "
        "`agency_not_permitted` (JSON and CSV alike) and runs the aggregate reports instead (timeliness, "
        "SAC)."
    ),
    **answers(CinReferralPage, CHILD_LEVEL_ERRORS, CIN_CSV_DESCRIPTION, CIN_CSV_EXAMPLE),
)
async def get_cin_referrals_report(
    reply: Negotiated,
    principal: ChildLevelReader,
    session: DbSession,
    paging: Paging,
    from_: Annotated[Date, Query(alias="from", description="First day of the range (received on or after).")],
    to: Annotated[Date, Query(description="Last day of the range, included.")],
) -> CinReferralPage | Response:
    period = checked_period(from_, to)
    if reply.format() is Format.CSV:
        document = await service.cin_csv(session, principal, period)
        filename = f"cin-referrals-{from_.isoformat()}-{to.isoformat()}.csv"
        return export.file_response(document.file, document.size, filename)
    items, next_cursor = await service.cin_page(session, principal, period, paging.params)
    paging.link(next_cursor)
    return reply.json(CinReferralPage(items=items, next_cursor=next_cursor))


RULES_TABLE = "\n".join(f"- **{r.code}**: {r.message}" for r in RULES)


@router.get(
    "/cin-referrals/validation",
    summary="Children in Need census: the referral items that break a census validation rule",
    description=(
        "The census items of `GET /v1/reports/cin-referrals` for the same range (one per child accepted as "
        "a referral) checked against the DfE's CIN census validation rules that concern them, numbered "
        "and worded as the census validator (`data-to-insight/csc-validator-be-cin`) has them, so the data "
        "team can put the records right before the return. One finding per rule an item breaks, in the "
        "items' order (oldest referral first), then the rules'. The period rules take the census year "
        "(`census_year`, by default the one `to` falls in): its collection runs from 1 April to the "
        "ReferenceDate, 31 March. The LA child id is the item's `la_child_id`. The rules run:\n\n"
        + RULES_TABLE
        + "\n\nA list like every list (`limit`, `cursor`, `Link`). Child-level, like the items: for "
        "auditors of childrens_social_care, adult_social_care or council (information governance too); an "
        "auditor of a partner agency gets 403 `agency_not_permitted`. Every call is audited with the range "
        "and the number of findings."
    ),
    responses=problem_responses(403, codes={403: ["agency_not_permitted"]}),
)
async def get_cin_referrals_validation(
    principal: ChildLevelReader,
    session: DbSession,
    paging: Paging,
    from_: Annotated[Date, Query(alias="from", description="First day of the range (received on or after).")],
    to: Annotated[Date, Query(description="Last day of the range, included.")],
    census_year: Annotated[
        int | None,
        Query(
            ge=FIRST_CIN_CENSUS_YEAR,
            le=2100,
            description=(
                "The census checked against, by the reporting year it covers (`2025`: 1 April 2025 to its "
                "ReferenceDate, 31 March 2026), for the period rules (8520, 8530Q, 8569Q, 8600). By default "
                "the reporting year `to` falls in."
            ),
        ),
    ] = None,
) -> CinValidationPage:
    period = checked_period(from_, to)
    items, next_cursor = await service.cin_validation_page(
        session, principal, period, paging.params, census_year
    )
    paging.link(next_cursor)
    return CinValidationPage(items=items, next_cursor=next_cursor)


@router.get(
    "/sac",
    summary="Safeguarding Adults Collection: tables SG1-SG5 for a reporting year",
    description=(
        "The reporting year starting 1 April of `year` (`year=2026`: 1 April 2026 to 31 March 2027, dates in "
        "England). Counted as the SAC guidance says:\n\n"
        "Each table is keyed by its reference in NHS England's SAC publication (`sg1a` ... `sg5b`), then by "
        "the kind of case, then its rows (and, in a cross-tabulation, its columns).\n\n"
        "- **SG1** (SG1a age, SG1b gender, SG1c ethnicity, SG1d primary support reason, SG1f totals): concerns "
        "raised and enquiries (section 42 and other) started in the year. `cases` counts "
        "each; the breakdowns count each adult once (the linked person record, or the concern while its "
        "match is pending), described as at their latest case in the year: age on 31 March at the end of "
        "the year, gender, ethnicity (person record first, else as the concern gave them), primary support "
        "reason (the concern's).\n"
        "- **SG2**: enquiries concluded in the year, by what the enquiry found (allegations as it corrected "
        "them, and those it added): SG2a type of risk by source of risk, SG2b location of risk by source of "
        "risk (cross-tabulations), SG2c the result, SG2e the risk outcome (where risk was identified). A cell "
        "counts the enquiries with an allegation in it: two allegations of one type and source in one enquiry "
        "count once; one enquiry may count in several cells.\n"
        "- **SG3** (SG3a): concluded enquiries by whether the adult lacked capacity, and of those who did, whether "
        "an advocate, family member or friend supported them.\n"
        "- **SG4** (SG4a): concluded enquiries by whether the adult was asked about their desired outcomes, and "
        "of those who expressed some, whether they were achieved.\n"
        "- **SG5**: safeguarding adults reviews (Care Act s44) completed in the year: SG5a the reviews, where "
        "the adult died or not; SG5b the individuals, who died or suffered serious harm and survived. "
        "`decisions` (the hub's own) counts the Board's decisions in the year by the criteria found and "
        "whether a review was commissioned: one considered and not commissioned counts there.\n\n"
        "Ethnicity is recorded with DfE codes and reported in SAC bands: W* white; M* mixed or multiple; "
        "A* and CHNE Asian or Asian British; B* Black, African, Caribbean or Black British; OOTH other; REFU "
        "refused; NOBT or none undeclared or not known. Gender `other` and none are counted as not known.\n\n"
        "JSON by default; CSV with `Accept: text/csv`. Every call is audited." + AGGREGATE
    ),
    **answers(SacReport, ERRORS, SAC_CSV_DESCRIPTION, SAC_CSV_EXAMPLE),
)
async def get_sac_report(
    reply: Negotiated,
    principal: ReportsRead,
    session: DbSession,
    year: Annotated[
        int,
        Query(ge=FIRST_SAC_YEAR, le=2100, description="The reporting year starting 1 April of this year."),
    ],
) -> SacReport | Response:
    reply.format()  # negotiated first: a 406 runs no report
    report = await service.sac(session, principal, year)
    filename = f"sac-{year}-{(year + 1) % 100:02d}.csv"
    return reply.table(report, service.SAC_CSV_HEADER, service.sac_rows, filename)


@router.get(
    "/timeliness",
    summary="Timeliness: decisions, information requests and plan reviews due and overdue",
    description=(
        "Open work against the deadline stored with it, now. **Overdue**: still open past its deadline. "
        "**Due**: open, deadline not yet passed; **due soon**: of those, the deadline falls within the next "
        "`due_soon_hours`. Counted:\n\n"
        "- threshold decisions on referrals not yet decided or withdrawn (`decision_due_at`), by RAG rating;\n"
        "- section 42 decisions on adult concerns still awaiting one (`decision_due_at`);\n"
        "- information requests not yet answered or cancelled (`due_at`), by the agency asked and the "
        "referral's RAG rating;\n"
        "- reviews of active safeguarding plans (`review_due_on`, a date: overdue from the day after; due "
        "soon when it falls before today plus the window in whole days, today included);\n"
        "- child and family assessments not yet completed (`due_on`, a date, likewise) and section 47 "
        "enquiries whose initial child protection conference may still be due (`icpc_due_on`, likewise).\n\n"
        "The same definitions as the `overdue` filters of the lists.\n\n"
        "Threshold decisions are also measured against **both** deadlines stored with each referral "
        "(`referral_decision_deadlines`): the statutory one working day from receipt "
        "(`statutory_decision_due_at`) and the RAG target (`rag_due_at`, which never extends the statutory "
        "deadline: `decision_due_at` is the earlier of the two), open now and decided in the period (on "
        "time: decided at or before the deadline). The referrer's acknowledgement "
        "(`referrer_acknowledgements`, due one working day from receipt): still owed now, and made in the "
        "period on time or late. Contacts (`contacts`): received in the period (withdrawn ones left out), "
        "decided, accepted as a referral to children's social care for at least one child (the CIN census "
        "meaning), the children accepted, and the contact-to-referral conversion rate (accepted / "
        "received). Assessments completed in the period within 45 working days of the referral and late, "
        "and initial child protection conferences held in the period within 15 working days of the strategy "
        "discussion and late, by the lateness kept when each was done.\n\n"
        "The period: `from` and `to`, dates in England, both included (at most "
        f"{MAX_RANGE_DAYS} days); by default the reporting year to date (1 April to today). JSON by default; "
        "CSV with `Accept: text/csv` (the contacts are in the JSON only). Every call is audited." + AGGREGATE
    ),
    **answers(TimelinessReport, ERRORS, TIMELINESS_CSV_DESCRIPTION, TIMELINESS_CSV_EXAMPLE),
)
async def get_timeliness_report(
    reply: Negotiated,
    principal: ReportsRead,
    session: DbSession,
    due_soon_hours: Annotated[
        int,
        Query(
            ge=1, le=MAX_DUE_SOON_HOURS, description="The window for `due_soon`, in hours (at most 30 days)."
        ),
    ] = 24,
    from_: Annotated[
        Date | None,
        Query(alias="from", description="First day of the period; default 1 April of the reporting year."),
    ] = None,
    to: Annotated[Date | None, Query(description="Last day of the period, included; default today.")] = None,
) -> TimelinessReport | Response:
    reply.format()  # negotiated first: a 406 runs no report
    last = to or clock.today()
    period = checked_period(from_ or reporting_year_to_date(last).first_day, last)
    report = await service.timeliness(session, principal, due_soon_hours, period)
    return reply.table(report, service.TIMELINESS_CSV_HEADER, service.timeliness_rows, "timeliness.csv")
