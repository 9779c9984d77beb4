"""Seed a migrated PostgreSQL database with adult safeguarding work, as mash-api would have written it.

    .venv/bin/python -m bench.seed_adults --dsn postgresql://postgres@127.0.0.1:5432/mash_bench --concerns 200000

The companion of bench/seed.py (referrals about children), for what the Safeguarding Adults Collection
and the timeliness report read: concerns about adults with their allegations, section 42 decisions,
enquiries with their conclusions, advocacy assessments, and safeguarding plans with actions. Rows go in
with binary COPY, never through the API, but they are the rows the services write: the same columns
(taken from the models), codes from app.adults.codes, decision deadlines from app.core.clock, person
records with their ``person_match_keys``. No case events or audit events are written (the reports read
neither).

The shape follows the national Safeguarding Adults Collection for England (2023-24, rounded): about a
quarter of concerns lead to a section 42 enquiry and one in fourteen to another enquiry; neglect,
physical and financial abuse are the commonest risks, most often in the adult's own home and by someone
they know; in most concluded enquiries a risk was identified and action taken, and the risk reduced.
Adults are mostly over 65, mostly women; a fifth of concerns are about someone with an earlier one.
Concerns are received over the last ``--days`` days, busier on weekdays; each is lived up to now, so
recent ones are undecided or in enquiry, and a few stall past their decision deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/seed_adults.py), not only as a module
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app.adults.codes import RISK_IDENTIFIED_RESULTS, EnquiryObjective  # noqa: E402
from app.core.clock import WorkingClock  # noqa: E402
from app.models.adult import (  # noqa: E402
    AdultConcern,
    Advocacy,
    Advocate,
    Allegation,
    Enquiry,
    PlanAction,
    SafeguardingAdultsReview,
    SafeguardingPlan,
    Section42DecisionRecord,
)
from app.models.person import Person, PersonMatchKey  # noqa: E402
from app.people.matching import Identity, blocking_keys  # noqa: E402

LOCAL = ZoneInfo("Europe/London")
DEFAULT_SEED = 20261124
Weighted = tuple[tuple[Any, float], ...]

RAISERS: Weighted = (
    ("health", 0.36), ("police", 0.18), ("adult_social_care", 0.2), ("housing", 0.08), ("probation", 0.03),
    ("victim_support", 0.05), ("childrens_social_care", 0.04), ("early_help", 0.03), ("education", 0.02),
    ("youth_offending", 0.01),
)  # fmt: skip
DECISIONS: Weighted = (("section_42_enquiry", 0.28), ("other_enquiry", 0.07), ("no_further_action", 0.65))
REPEAT_ADULT = 0.2  # a concern about someone with an earlier concern
STALLED = 0.003  # concerns nobody decided on: the overdue backlog
ALLEGATIONS = ((1, 0.65), (2, 0.25), (3, 0.1))
TYPES: Weighted = (
    ("neglect_and_acts_of_omission", 0.32), ("physical", 0.19), ("financial_or_material", 0.15),
    ("psychological", 0.14), ("self_neglect", 0.08), ("organisational", 0.06), ("domestic_abuse", 0.05),
    ("sexual", 0.04), ("discriminatory", 0.005), ("sexual_exploitation", 0.005), ("modern_slavery", 0.003),
)  # fmt: skip
LOCATIONS: Weighted = (
    ("own_home", 0.47), ("care_home_residential", 0.15), ("care_home_nursing", 0.1), ("in_the_community", 0.06),
    ("hospital_acute", 0.04), ("in_a_community_service", 0.03), ("hospital_mental_health", 0.03),
    ("hospital_community", 0.01), ("other", 0.06),
)  # fmt: skip
SOURCES: Weighted = (
    ("other_known_to_individual", 0.52), ("service_provider", 0.4), ("other_unknown_to_individual", 0.08),
)  # fmt: skip
RESULTS: Weighted = (
    ("risk_identified_and_action_taken", 0.6), ("risk_identified_and_no_action_taken", 0.05),
    ("risk_assessment_inconclusive_and_action_taken", 0.08),
    ("risk_assessment_inconclusive_and_no_action_taken", 0.02), ("no_risk_identified_and_action_taken", 0.08),
    ("no_risk_identified_and_no_action_taken", 0.12),
    ("enquiry_ceased_at_individuals_request_and_no_action_taken", 0.05),
)  # fmt: skip
RISK_OUTCOMES: Weighted = (("risk_reduced", 0.7), ("risk_removed", 0.22), ("risk_remained", 0.08))
MSP_ASKED: Weighted = (
    ("yes_outcomes_expressed", 0.7), ("yes_no_outcomes_expressed", 0.1), ("no", 0.08), ("dont_know", 0.04),
    ("not_recorded", 0.08),
)  # fmt: skip
ACHIEVED: Weighted = (("fully", 0.65), ("partially", 0.3), ("not_achieved", 0.05))
LACKED_CAPACITY: Weighted = (("yes", 0.3), ("no", 0.55), ("dont_know", 0.08), ("not_recorded", 0.07))
AGES: tuple[tuple[tuple[int, int], float], ...] = (
    ((18, 64), 0.4),
    ((65, 74), 0.12),
    ((75, 84), 0.22),
    ((85, 94), 0.22),
    ((95, 103), 0.04),
)
GENDERS: Weighted = (("female", 0.58), ("male", 0.405), ("not_known", 0.01), (None, 0.005))
ETHNICITIES: Weighted = (
    ("WBRI", 0.74), ("WIRI", 0.01), ("WOTH", 0.04), ("MWBC", 0.01), ("MOTH", 0.01), ("AIND", 0.03),
    ("APKN", 0.02), ("ABAN", 0.01), ("AOTH", 0.01), ("CHNE", 0.005), ("BCRB", 0.02), ("BAFR", 0.02),
    ("BOTH", 0.005), ("OOTH", 0.01), ("REFU", 0.01), ("NOBT", 0.02), (None, 0.03),
)  # fmt: skip
SUPPORT_REASONS: Weighted = (
    ("physical", 0.45), ("mental_health", 0.15), ("memory_and_cognition", 0.12), ("learning_disability", 0.1),
    ("social", 0.05), ("sensory", 0.02), ("no_support_reason", 0.06), ("not_known", 0.02), (None, 0.03),
)  # fmt: skip
ALTERNATIVES = ("signposting", "needs_assessment", "complaint", "referral_elsewhere", "none")
GIVEN = {
    "female": (
        "Margaret",
        "Joan",
        "Patricia",
        "Susan",
        "Linda",
        "Irene",
        "Dorothy",
        "Aisha",
        "Grace",
        "Mary",
    ),
    "male": ("John", "David", "Peter", "Michael", "Ronald", "Kenneth", "Imran", "Tomasz", "Kwame", "George"),
}
FAMILY = ("Hughes", "Smith", "Patel", "Jones", "Taylor", "Brown", "Khan", "Williams", "Okafor", "Nowak",
          "Evans", "Wilson", "Ahmed", "Clarke", "Walker", "Wright", "Roberts", "Green", "Hall", "Wood")  # fmt: skip
DESCRIPTIONS = {
    "neglect_and_acts_of_omission": "Missed medication and no food in the house at the last two visits.",
    "physical": "Unexplained bruising to both arms noticed by the district nurse.",
    "financial_or_material": "Large withdrawals from her account by a relative.",
    "psychological": "Shouted at and threatened by a family member, now afraid to go home.",
    "self_neglect": "The house is cluttered and cold; he refuses help with washing.",
    "organisational": "Residents left in bed until midday for several days running.",
    "domestic_abuse": "Her partner controls her money and who she sees.",
    "sexual": "Disclosed unwanted touching by a visitor.",
    "discriminatory": "Repeated racist abuse from a neighbour.",
    "sexual_exploitation": "Pressured into sex in exchange for somewhere to stay.",
    "modern_slavery": "Working unpaid for the people he lives with; no access to his documents.",
}
OBJECTIVES = [str(o) for o in EnquiryObjective]
ASC_STAFF = [f"asc-{n}" for n in range(16)]
ASC_MANAGERS = [f"asc-manager-{n}" for n in range(4)]

MODELS: dict[str, Any] = {
    "people": Person,
    "person_match_keys": PersonMatchKey,
    "advocates": Advocate,
    "adult_concerns": AdultConcern,
    "allegations": Allegation,
    "section_42_decisions": Section42DecisionRecord,
    "enquiries": Enquiry,
    "advocacy": Advocacy,
    "safeguarding_plans": SafeguardingPlan,
    "plan_actions": PlanAction,
    "safeguarding_adults_reviews": SafeguardingAdultsReview,
}
# Foreign keys are checked row by row during COPY: parents first.
LOAD_STAGES = (
    ("people", "advocates"),
    ("person_match_keys", "adult_concerns"),
    (
        "allegations",
        "section_42_decisions",
        "enquiries",
        "advocacy",
        "safeguarding_plans",
        "safeguarding_adults_reviews",
    ),
    ("plan_actions",),
)


@dataclass
class _Case:
    concern_id: uuid.UUID
    person_id: uuid.UUID
    allegations: list[uuid.UUID]
    results: dict[uuid.UUID, tuple[str, str | None]] = field(default_factory=dict)


# What happened after the decision: the concern's status, since when, and when it closed.
Later = tuple[str, datetime, datetime | None] | None


@cache
def columns(table: str) -> list[str]:
    model_table: sa.Table = MODELS[table].__table__
    return [column.name for column in model_table.columns]


@functools.cache
def scalar_defaults(table: str) -> dict[str, Any]:
    model_table: sa.Table = MODELS[table].__table__
    return {
        column.name: column.default.arg
        for column in model_table.columns
        if isinstance(column.default, sa.ColumnDefault) and column.default.is_scalar
    }


def _dumps(value: Any) -> str:
    return json.dumps(value)


class _Builder:
    def __init__(self, concerns: int, now: datetime, days: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.days = days
        self.count = concerns
        self.clock = WorkingClock()
        self.rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in MODELS}
        self.stats: Counter[str] = Counter()
        self.adults: list[dict[str, Any]] = []  # the people concerns were raised about
        self.advocates = [self.new_id() for _ in range(40)]

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def pick(self, weighted: Sequence[tuple[Any, float]]) -> Any:
        roll = self.rng.random() * sum(weight for _, weight in weighted)
        for value, weight in weighted:
            roll -= weight
            if roll < 0:
                return value
        return weighted[-1][0]

    def later(self, at: datetime, low_hours: float, high_hours: float) -> datetime:
        return at + timedelta(hours=self.rng.uniform(low_hours, high_hours))

    def add(self, table: str, **values: Any) -> None:
        names = columns(table)
        if not values.keys() <= set(names):  # a misspelt column would otherwise load as NULL
            raise KeyError(f"{table} has no column(s) {sorted(values.keys() - set(names))}")
        # A column not given takes the model's own default, as the application's insert would (COPY
        # names every column, so the database's default never applies): e.g. ``from_public``.
        defaults = scalar_defaults(table)
        self.rows[table].append(tuple(values.get(name, defaults.get(name)) for name in names))

    def received_times(self) -> list[datetime]:
        out: list[datetime] = []
        start = self.now - timedelta(days=self.days)
        while len(out) < self.count:
            at = start + timedelta(days=self.rng.random() * self.days)
            if at.astimezone(LOCAL).isoweekday() >= 6 and self.rng.random() > 0.4:
                continue
            out.append(at)
        out.sort()
        return out

    # -- the adult

    def adult(self, received: datetime) -> dict[str, Any]:
        if self.adults and self.rng.random() < REPEAT_ADULT:
            return self.rng.choice(self.adults)
        gender = self.pick(GENDERS)
        low, high = self.pick(AGES)
        born = received.date() - timedelta(days=self.rng.randint(low * 365 + 1, high * 365 + 300))
        known_dob = self.rng.random() < 0.97
        names = GIVEN.get(gender or "", GIVEN["female"] + GIVEN["male"])
        adult = {
            "person_id": self.new_id(),
            "given_name": self.rng.choice(names),
            "family_name": self.rng.choice(FAMILY),
            "date_of_birth": born if known_dob else None,
            "postcode": f"E17 {self.rng.randint(1, 9)}{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
            "address_lines": _dumps([f"{self.rng.randint(1, 200)} {self.rng.choice(FAMILY)} Road"]),
            "gender": gender,
            "ethnicity": self.pick(ETHNICITIES),
            "primary_support_reason": self.pick(SUPPORT_REASONS),
        }
        self.adults.append(adult)
        person_fields = {
            k: adult[k] for k in ("given_name", "family_name", "date_of_birth", "postcode", "gender")
        }
        self.add(
            "people", id=adult["person_id"], expected_date_of_birth=None, nhs_number=None,
            address_lines=adult["address_lines"], ethnicity=adult["ethnicity"], created_at=received,
            created_by=self.rng.choice(ASC_STAFF), version=1, **person_fields,
        )  # fmt: skip
        for key in blocking_keys(Identity(**person_fields)):
            self.add("person_match_keys", key=key, person_id=adult["person_id"])
        self.stats["people"] += 1
        adult["new"] = True
        return adult

    # -- one concern, lived up to now

    def concern(self, received: datetime) -> None:
        rng = self.rng
        adult = self.adult(received)
        new = adult.pop("new", False)
        case = _Case(
            self.new_id(), adult["person_id"], [self.new_id() for _ in range(self.pick(ALLEGATIONS))]
        )
        status, updated_at, closed_at = "received", None, None
        decided_at = self.later(received, 2, 96)
        if decided_at <= self.now and rng.random() > STALLED:
            status, updated_at = "decided", decided_at
            later = self.decision(case, decided_at)
            if later is not None:
                status, updated_at, closed_at = later
        self.stats[f"status:{status}"] += 1
        fields = {k: adult[k] for k in ("given_name", "family_name", "date_of_birth", "postcode", "gender")}
        self.add(
            "adult_concerns", id=case.concern_id, status=status, raising_agency=self.pick(RAISERS),
            raised_by_sub=str(self.new_id()),
            raised_by=_dumps({"name": "Dr Patel", "role": "GP", "phone": "020 7946 0101"}), received_at=received,
            decision_due_at=self.clock.adult_concern_decision_due(received), person_id=case.person_id,
            nhs_number=None, address_lines=adult["address_lines"], ethnicity=adult["ethnicity"],
            primary_support_reason=adult["primary_support_reason"], match_status="new_person" if new else "matched",
            match_candidates="[]", adult_views="She wants to stay at home.",
            desired_outcomes="To feel safe and keep control of her money.", consent_to_share=rng.random() < 0.8,
            concerns_about_capacity=rng.random() < 0.35, closed_at=closed_at,
            closed_by=rng.choice(ASC_STAFF) if closed_at else None,
            closure_reason="Enquiry concluded; nothing further to do." if closed_at else None,
            created_at=received, updated_at=updated_at, version=1 if status == "received" else 2, **fields,
        )  # fmt: skip
        for position, allegation_id in enumerate(case.allegations):
            kind = self.pick(TYPES)
            result, outcome = case.results.get(allegation_id, (None, None))
            alleged = (
                rng.choice(("son", "daughter", "paid carer", "neighbour")) if rng.random() < 0.6 else None
            )
            self.add(
                "allegations", id=allegation_id, concern_id=case.concern_id, position=position, type_of_risk=kind,
                location_of_risk=self.pick(LOCATIONS), source_of_risk=self.pick(SOURCES),
                description=DESCRIPTIONS[kind], alleged_person=_dumps({"relationship": alleged}) if alleged else None,
                result=result, risk_outcome=outcome, version=1,
            )  # fmt: skip

    def decision(self, case: _Case, decided_at: datetime) -> Later:
        """The section 42 decision and what follows: the concern's later status, since when, and when it
        closed (None if it stays decided)."""
        rng = self.rng
        decision = self.pick(DECISIONS)
        met = {"section_42_enquiry": (True, True, True), "other_enquiry": (True, True, False)}.get(
            decision, (True, False, False)
        )
        names = ("care_and_support_needs", "experiencing_or_at_risk", "unable_to_protect_self")
        criteria = {
            name: _dumps({"met": value, "reason": "Recorded by the duty manager."})
            for name, value in zip(names, met, strict=True)
        }
        nfa = decision == "no_further_action"
        self.add(
            "section_42_decisions", id=self.new_id(), concern_id=case.concern_id, decision=decision,
            rationale="Recorded against each criterion.", alternative_route=rng.choice(ALTERNATIVES) if nfa else None,
            referrer_feedback="Phone the referrer with the outcome.", decided_by=rng.choice(ASC_MANAGERS),
            decided_at=decided_at, **criteria,
        )  # fmt: skip
        self.stats[f"decision:{decision}"] += 1
        if nfa:
            closed_at = self.later(decided_at, 24, 240)
            if closed_at <= self.now and rng.random() < 0.8:
                return "closed", closed_at, closed_at
            return None
        opened_at = self.later(decided_at, 1, 72)
        if opened_at > self.now:
            return None
        return self.enquiry(case, decision, opened_at)

    def enquiry(self, case: _Case, kind: str, opened_at: datetime) -> Later:
        rng = self.rng
        if kind == "section_42_enquiry":
            difficulty = rng.random() < 0.25
            required = difficulty and rng.random() < 0.6
            offer = rng.choice(("accepted", "accepted", "declined")) if required else "not_required"
            self.add(
                "advocacy", id=self.new_id(), concern_id=case.concern_id, substantial_difficulty=difficulty,
                appropriate_person_available=difficulty and not required, required=required, offer=offer,
                appropriate_person_consent="given" if difficulty and not required else None,
                advocate_id=rng.choice(self.advocates) if offer == "accepted" else None,
                recorded_by=rng.choice(ASC_STAFF), recorded_at=self.later(opened_at, 1, 48),
            )  # fmt: skip
        concluded_at = self.later(opened_at, 24 * 5, 24 * 120)
        concluded = concluded_at <= self.now
        answers: dict[str, Any] = {}
        if concluded:
            for allegation_id in case.allegations:
                result = self.pick(RESULTS)
                outcome = self.pick(RISK_OUTCOMES) if result in RISK_IDENTIFIED_RESULTS else None
                case.results[allegation_id] = (result, outcome)
            asked = self.pick(MSP_ASKED)
            lacked = self.pick(LACKED_CAPACITY)
            answers = {
                "msp_asked": asked,
                "msp_outcomes_achieved": self.pick(ACHIEVED) if asked == "yes_outcomes_expressed" else None,
                "lacked_capacity": lacked,
                "advocate_support": rng.random() < 0.85 if lacked == "yes" else None,
                "conclusion_summary": "Actions agreed with the adult; risk reduced.",
                "concluded_by": rng.choice(ASC_MANAGERS),
                "concluded_at": concluded_at,
            }
        caused = rng.choice(("police", "health")) if rng.random() < 0.1 else None
        self.add(
            "enquiries", id=self.new_id(), concern_id=case.concern_id, kind=kind, lead_agency="adult_social_care",
            caused_to_agency=caused, objectives=_dumps(rng.sample(OBJECTIVES, rng.randint(2, 4))),
            status="concluded" if concluded else "open", opened_by=rng.choice(ASC_STAFF), opened_at=opened_at,
            **answers,
        )  # fmt: skip
        self.stats[f"enquiry:{'concluded' if concluded else 'open'}"] += 1
        if not concluded:
            return "enquiry_open", opened_at, None
        if kind == "section_42_enquiry" and rng.random() < 0.12:
            self.plan(case, concluded_at)
        if kind == "section_42_enquiry" and rng.random() < 0.01:
            self.review(case, concluded_at)
        closed_at = self.later(concluded_at, 24, 24 * 20)
        if closed_at <= self.now and rng.random() < 0.7:
            return "closed", closed_at, closed_at
        return "enquiry_concluded", concluded_at, None

    def review(self, case: _Case, at: datetime) -> None:
        """A safeguarding adults review (SAC SG5) referred after the enquiry: decided a fortnight or so later,
        commissioned or not, and most commissioned ones completed months after."""
        rng = self.rng
        referred = (at + timedelta(days=rng.randint(1, 30))).date()
        decided = referred + timedelta(days=rng.randint(7, 28))
        criteria = rng.choice(("mandatory", "discretionary", "discretionary", "not_met"))
        commissioned = criteria == "mandatory" or (criteria == "discretionary" and rng.random() < 0.5)
        commissioned_on = decided + timedelta(days=rng.randint(1, 14)) if commissioned else None
        completed_on = (
            commissioned_on + timedelta(days=rng.randint(90, 300))
            if commissioned_on is not None and rng.random() < 0.7
            else None
        )
        if completed_on is not None and completed_on > self.now.date():
            completed_on = None
        status = "completed" if completed_on else "commissioned" if commissioned else "not_commissioned"
        self.add(
            "safeguarding_adults_reviews", id=self.new_id(), person_id=case.person_id,
            concern_ids=_dumps([str(case.concern_id)]), status=status, referred_on=referred,
            adult_died=rng.random() < 0.4, criteria=criteria, decision_on=decided,
            rationale="Considered by the Safeguarding Adults Board.", commissioned_on=commissioned_on,
            completed_on=completed_on, findings="Agencies did not share what they knew." if completed_on else None,
            actions=_dumps([]), advocacy=None, advocacy_required=False, created_by=rng.choice(ASC_MANAGERS),
            created_at=at, version=1,
        )  # fmt: skip
        self.stats[f"review:{status}"] += 1

    def plan(self, case: _Case, at: datetime) -> None:
        rng = self.rng
        plan_id = self.new_id()
        review_due = (at + timedelta(days=rng.randint(28, 90))).date()
        closed_at = self.later(at, 24 * 30, 24 * 200)
        closed = closed_at <= self.now and rng.random() < 0.7
        self.add(
            "safeguarding_plans", id=plan_id, person_id=case.person_id, concern_id=case.concern_id,
            status="closed" if closed else "active",
            lead=_dumps({"name": "A. Khan", "role": "Social worker", "agency": "adult_social_care"}),
            adult_wishes="To stay at home and keep her money safe.", protective_people="Her daughter.",
            contingency="If the risk returns, her daughter calls the duty team.", review_due_on=review_due,
            created_by=rng.choice(ASC_STAFF), created_at=at, closed_at=closed_at if closed else None,
            closed_by=rng.choice(ASC_STAFF) if closed else None,
            closure_reason="Risk removed and her outcomes achieved." if closed else None,
            closure_adult_view="Happy for the plan to end." if closed else None,
            feedback_given=True if closed else None, sar_considered=True if closed else None, version=1,
        )  # fmt: skip
        for position in range(rng.randint(1, 3)):
            self.add(
                "plan_actions", id=self.new_id(), plan_id=plan_id, position=position,
                agency=rng.choice(("police", "housing", "health", "adult_social_care")),
                description="Visit weekly and check the key safe.", due_date=review_due,
                status="completed" if closed else rng.choice(("not_started", "in_progress")), version=1,
            )  # fmt: skip
        self.stats[f"plans:{'closed' if closed else 'active'}"] += 1

    def build(self) -> dict[str, list[tuple[Any, ...]]]:
        for advocate_id in self.advocates:
            self.add(
                "advocates", id=advocate_id, name="Sam Okoye", organisation="Waltham Forest Advocacy Service",
                kind=self.rng.choice(("care_act", "imca")), contact=_dumps({"phone": "020 7946 0202"}),
                created_at=self.now - timedelta(days=self.days + 30), created_by=ASC_STAFF[0],
            )  # fmt: skip
        for received in self.received_times():
            self.concern(received)
        return self.rows


async def load(
    dsn: str, rows: dict[str, list[tuple[Any, ...]]], *, progress: Callable[[str], None] | None = None
) -> dict[str, float]:
    """COPY every table (parents first), then VACUUM ANALYZE them."""
    timings: dict[str, float] = {}
    conn = await asyncpg.connect(dsn, server_settings={"application_name": "mash-bench-seed"})
    try:
        if await conn.fetchval("SELECT count(*) FROM adult_concerns"):
            raise RuntimeError("the database already holds adult concerns: seed a freshly migrated one")
        await conn.execute("SET synchronous_commit = off")  # losing the seed in a crash costs a re-run
        for stage in LOAD_STAGES:
            for table in stage:
                started = time.perf_counter()
                await conn.copy_records_to_table(table, records=rows[table], columns=columns(table))
                timings[table] = round(time.perf_counter() - started, 2)
                if progress is not None:
                    progress(f"  copied {len(rows[table]):,} rows into {table} in {timings[table]}s")
        started = time.perf_counter()
        for table in MODELS:
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        timings["vacuum_analyze"] = round(time.perf_counter() - started, 2)
    finally:
        await conn.close()
    return timings


def build(
    concerns: int, *, now: datetime | None = None, days: int = 730, seed: int = DEFAULT_SEED
) -> _Builder:
    builder = _Builder(concerns, now or datetime.now(UTC), days, seed)
    builder.build()
    return builder


def summary(builder: _Builder) -> dict[str, Any]:
    stats: dict[str, Any] = {"rows": {table: len(rows) for table, rows in builder.rows.items()}}
    for key, value in sorted(builder.stats.items()):
        group, _, name = key.partition(":")
        if name:
            stats.setdefault(group, {})[name] = value
        else:
            stats[group] = value
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dsn", required=True, help="a migrated database (postgresql://...)")
    parser.add_argument("--concerns", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=730, help="received over this many days up to now")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)

    def info(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    builder = build(args.concerns, days=args.days, seed=args.seed)
    built = time.perf_counter() - started
    info(f"seed_adults: built the rows of {args.concerns:,} concerns in {built:.1f}s")
    timings = asyncio.run(load(args.dsn, builder.rows, progress=info))
    result = {**summary(builder), "build_s": round(built, 1), "load_s": timings,
              "total_s": round(time.perf_counter() - started, 1)}  # fmt: skip
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
