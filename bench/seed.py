"""Seed a migrated PostgreSQL database with two years of referrals, as mash-api would have written them.

    .venv/bin/python -m bench.seed --dsn postgresql://postgres@127.0.0.1:5432/mash_bench --referrals 100000

bench/run.py runs it before starting the servers when a scenario reads or matches against referrals.
Rows go in with binary COPY, not through the API (100,000 referrals through the API would take an hour
and write as many audit events), but they are the rows the application writes: the same columns, the
codes of app.children.codes and app.core.codes, deadlines from app.core.clock, ``person_match_keys`` from
``app.people.matching.blocking_keys`` of each person, case events with the event types and data the
services emit, numbered in time order. No audit events are written: they would have to be hash
chained, and the audit trail starts empty, so ``mash audit verify`` still checks the whole chain.

What it models, per referral (received over the last ``--days`` days, weekdays busier, three quarters
of weekday referrals in office hours):

- the referring agency and its CIN source code, a referrer, one to three concern categories, parental
  consent (given, refused or not sought, with a reason), now and then "do not inform parents";
- one to four children of one household from bench/matching_data.py's synthetic population; a third of
  referrals come back to a family already known, so its children are linked (``matched``), confirmed
  by a practitioner after a ``pending`` match, or await one; the others make new person records;
- the household's adults, sibling links between children referred together;
- the life of the referral up to now: a RAG rating, agencies asked for information (with consent or a
  recorded override) and their answers, a threshold decision proposed and approved, or a withdrawal,
  and a few that stall, so that the overdue list has a backlog.

Random but reproducible: ``--seed`` fixes everything except the anchor time (now), so recent referrals
are open and older ones decided whenever it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import takewhile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/seed.py), not only as a module
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from app.children.codes import (  # noqa: E402
    ACCEPTED_OUTCOMES,
    NFA_OUTCOMES,
    AssessmentFactor,
    AssessmentOutcome,
    CategoryOfAbuse,
    ConcernCategory,
    ConferenceOutcome,
    DecisionOutcome,
    ReasonForClosure,
    Section47Outcome,
    StrategyDiscussionDecision,
)
from app.core.clock import WorkingClock, earlier_of, local_date  # noqa: E402
from app.core.codes import LawfulBasis, SpecialCategoryCondition  # noqa: E402
from app.people.matching import Identity, blocking_keys, score  # noqa: E402
from bench.matching_data import Generator, Household, nickname, typo  # noqa: E402

LOCAL = ZoneInfo("Europe/London")
DEFAULT_SEED = 20261123
# Share of referrals about a family the hub already knows (CIN census: about 22 % are re-referrals
# within a year; over two years, more).
RETURNING_FAMILY = 0.33
STALLED = 0.004  # referrals nobody moved on: the overdue backlog
WITHDRAWN = 0.02

# (agency, share of referrals, its CIN source-of-referral codes)
AGENCIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("police", 0.34, ("6",)),
    ("education", 0.21, ("2A", "2A", "2A", "2B")),
    ("health", 0.15, ("3A", "3B", "3C", "3D", "3E", "3F")),
    ("childrens_social_care", 0.12, ("1A", "1B", "1C", "1D", "5A", "5C", "8", "9", "10")),
    ("early_help", 0.05, ("5D",)),
    ("housing", 0.04, ("4",)),
    ("probation", 0.03, ("7",)),
    ("youth_offending", 0.02, ("7",)),
    ("adult_social_care", 0.02, ("5B",)),
    ("victim_support", 0.02, ("8",)),
)
# How often the referrer knows the child's NHS number.
KNOWS_NHS = {"health": 0.9, "education": 0.6, "childrens_social_care": 0.5, "police": 0.3}
CATEGORIES: dict[str, tuple[str, ...]] = {
    "police": (
        "domestic_abuse",
        "domestic_abuse",
        "police_or_youth_offending",
        "going_missing",
        "physical_abuse",
    ),
    "education": (
        "school_attendance_or_behaviour",
        "neglect",
        "emotional_abuse",
        "self_harm",
        "physical_abuse",
    ),
    "health": ("health_or_missed_appointments", "neglect", "self_harm", "physical_abuse", "send_or_ehc_plan"),
}
OTHER_CATEGORIES = tuple(str(c) for c in ConcernCategory)
SUMMARIES = (
    "Police attended a domestic incident at the home overnight; the child was present.",
    "The child has missed most of the last three weeks of school and looked unkempt when seen.",
    "Two missed immunisation appointments and a missed paediatric follow-up this year.",
    "The child disclosed being hit by an adult at home; a bruise was seen on the arm.",
    "Reported missing overnight for the second time this month; found in the town centre.",
    "Concerns about the home conditions raised by a neighbour: little food, no heating.",
    "The young person told a teacher about self-harm and was worried about going home.",
    "The family was evicted and is staying with friends; the children are not in school.",
    "The mother's partner has a history of violence and has moved into the household.",
    "The child was seen with older young people linked to drug supply outside the area.",
)
REASONS_NOT_INFORMED = (
    "Informing the parents would increase the risk to the child.",
    "The parent is the alleged perpetrator; telling them could lose evidence.",
    "Parents could not be contacted before the referral was made.",
)
RAG = (("red", 0.08), ("amber", 0.27), ("green", 0.45), ("blue", 0.20))
CHECKS_NEEDED = {"red": 0.8, "amber": 0.6, "green": 0.35, "blue": 0.0}
OUTCOMES: dict[str, tuple[tuple[str, float], ...]] = {
    "red": (("strategy_discussion", 0.5), ("child_and_family_assessment", 0.4), ("early_help", 0.05),
            ("no_further_action", 0.05)),
    "amber": (("child_and_family_assessment", 0.45), ("early_help", 0.25), ("no_further_action", 0.2),
              ("strategy_discussion", 0.05), ("universal_services", 0.05)),
    "green": (("early_help", 0.35), ("universal_services", 0.2), ("no_further_action", 0.35),
              ("child_and_family_assessment", 0.1)),
    "blue": (("no_further_action", 0.6), ("universal_services", 0.3), ("early_help", 0.1)),
}  # fmt: skip
FACTORS_BY_CATEGORY = {
    "domestic_abuse": ("3A", "3B"),
    "neglect": ("16A",),
    "physical_abuse": ("18C",),
    "emotional_abuse": ("17A",),
    "sexual_abuse": ("19C",),
    "going_missing": ("10A",),
    "self_harm": ("15A",),
    "child_sexual_exploitation": ("11A",),
    "child_criminal_exploitation": ("24A",),
    "gangs": ("13A",),
}
PRIMARY_NEEDS = (("N1", 0.55), ("N4", 0.12), ("N5", 0.12), ("N2", 0.06), ("N3", 0.06), ("N6", 0.05),
                 ("N8", 0.04))  # fmt: skip
# After an accepted referral (app/children/assessments, app/children/protection): what assessments find,
# how long they take (a share past 45 working days), what strategy discussions and section 47
# enquiries decide, and conferences (a share held past 15 working days).
ASSESSMENT_WORKING_DAYS = 45  # app.children.assessments.service.ASSESSMENT_WORKING_DAYS
ICPC_WORKING_DAYS = 15  # app.children.protection.service.ICPC_WORKING_DAYS
ASSESSMENT_LATE = 0.15
ASSESSMENT_OUTCOMES = ((AssessmentOutcome.CHILD_IN_NEED_PLAN, 0.35), (AssessmentOutcome.NO_FURTHER_ACTION, 0.3),
                       (AssessmentOutcome.EARLY_HELP, 0.25), (AssessmentOutcome.STRATEGY_DISCUSSION, 0.1))  # fmt: skip
NO_FACTORS = 0.05  # factor "21" alone
SECTION_47 = 0.8  # strategy discussions deciding on a section 47 enquiry
S47_OUTCOMES = ((Section47Outcome.INITIAL_CHILD_PROTECTION_CONFERENCE, 0.4),
                (Section47Outcome.CHILD_IN_NEED_PLAN, 0.35), (Section47Outcome.NO_FURTHER_ACTION, 0.25))  # fmt: skip
CONFERENCE_LATE = 0.2
PLAN = 0.8  # conferences making a child protection plan
ABUSE = ((CategoryOfAbuse.NEGLECT, 0.48), (CategoryOfAbuse.EMOTIONAL, 0.36), (CategoryOfAbuse.PHYSICAL, 0.07),
         (CategoryOfAbuse.SEXUAL, 0.04), (CategoryOfAbuse.MULTIPLE, 0.05))  # fmt: skip
SIBLING_APART = 0.15  # a sibling of an assessed child decided apart: early help, a contact
ATTENDEES = (
    {"agency": "police", "name": "DS Hughes", "role": "Public protection unit"},
    {"agency": "health", "name": "Dr Patel", "role": "Named nurse for safeguarding"},
    {"agency": "childrens_social_care", "name": "Sam Shaw", "role": "MASH social worker"},
)
EDUCATION_ATTENDEE = {"agency": "education", "name": "Grace Hughes", "role": "Designated safeguarding lead"}
ASKED: tuple[tuple[str, float], ...] = (
    ("health", 0.9),
    ("education", 0.7),
    ("police", 0.6),
    ("early_help", 0.2),
    ("housing", 0.15),
    ("probation", 0.1),
    ("adult_social_care", 0.08),
    ("youth_offending", 0.05),
)
QUESTIONS = (
    "What do you know about the child and family? Any recent concerns?",
    "Please share any contact with the family in the last 12 months, and attendance.",
    "Any history of domestic abuse, offending or risk to children at this address?",
)
ANSWERS: tuple[tuple[str, list[str]], ...] = (
    ("Known to the service; no concerns recorded in the last year.", []),
    ("Two missed appointments this year; the family did not respond to letters.", ["missed_health_appointments"]),
    ("Attendance 81 % this term; the child has seemed withdrawn.", ["school_absence"]),
    ("Two call-outs to the address for domestic incidents in the last six months.", ["domestic_abuse"]),
    ("Not known to this agency.", []),
)  # fmt: skip
ETHNICITY = {
    "british": (("WBRI", 0.88), ("WIRI", 0.02), ("MWBC", 0.04), ("WOTH", 0.03), ("MOTH", 0.03)),
    "south_asian": (("APKN", 0.55), ("AIND", 0.2), ("ABAN", 0.2), ("AOTH", 0.05)),
    "east_european": (("WOTH", 0.85), ("WROM", 0.15)),
    "african_caribbean": (("BAFR", 0.5), ("BCRB", 0.3), ("MWBC", 0.1), ("BOTH", 0.1)),
}
ADULT_NAMES = {
    "mother": ("Sarah", "Emma", "Laura", "Gemma", "Kelly", "Amy", "Aisha", "Fatima", "Anna", "Grace"),
    "father": ("James", "Daniel", "Mark", "Lee", "Craig", "Imran", "Tomasz", "Kwame", "Paul", "Ryan"),
}
STREET_NAMES = ("Forest", "Church", "Mill", "Park", "Victoria", "Station", "Albert", "Moor", "Green", "Oak")
STREETS = ("Road", "Street", "Avenue", "Close", "Lane", "Terrace", "Crescent", "Grove")

PEOPLE = "people"
TABLES: dict[str, tuple[str, ...]] = {
    PEOPLE: ("id", "given_name", "family_name", "date_of_birth", "expected_date_of_birth", "nhs_number",
             "address_lines", "postcode", "gender", "ethnicity", "created_at", "created_by", "updated_at",
             "version"),
    "referrals": ("id", "status", "referring_agency", "referred_by", "received_at", "referrer",
                  "referral_source", "concern_categories", "concern_summary", "parents_informed",
                  "parents_consented", "consent_reason", "consent_override_reason", "consent_override_basis",
                  "consent_override_special_category", "consent_override_by", "consent_override_at",
                  "do_not_inform_parents", "do_not_inform_reason", "rag_rating", "rag_rationale",
                  "rag_rated_by", "rag_rated_at", "statutory_decision_due_at", "decision_due_at",
                  "outcome_level", "outcome", "decided_at", "decision_id", "withdrawn_at", "withdrawn_by",
                  "withdrawal_reason", "created_at", "updated_at", "version", "rag_due_at",
                  "acknowledgement_due_at", "acknowledged_at"),
    "referral_children": ("id", "referral_id", "position", "person_id", "given_name", "family_name",
                          "date_of_birth", "expected_date_of_birth", "nhs_number", "address_lines",
                          "postcode", "gender", "ethnicity", "match_status", "match_candidates"),
    "referral_household_members": ("id", "referral_id", "position", "given_name", "family_name",
                                   "relationship", "date_of_birth", "lives_with_children",
                                   "parental_responsibility"),
    "person_match_keys": ("key", "person_id"),
    "person_links": ("person_id", "related_person_id", "relationship", "source_referral_id", "created_at"),
    "contributions": ("id", "referral_id", "agency", "question", "requested_by", "requested_at", "due_at",
                      "status", "current_version", "restricted", "submitted_at"),
    "contribution_responses": ("id", "contribution_id", "version_number", "information", "risk_indicators",
                               "restricted", "restriction_reason", "correction_reason", "submitted_by",
                               "submitted_at"),
    "threshold_decisions": ("id", "referral_id", "level", "outcome", "rationale", "primary_need",
                            "assessment_factors", "nfa", "accepted_as_referral", "status", "proposed_by",
                            "proposed_at", "reviewed_by", "reviewed_at", "review_comment"),
    "threshold_decision_children": ("decision_id", "referral_child_id", "referral_id", "level", "outcome",
                                    "primary_need", "nfa", "accepted_as_referral", "own_entry"),
    "assessments": ("id", "referral_id", "child_id", "status", "referral_received_on", "started_on", "due_on",
                    "started_by", "created_at", "completed_on", "factors", "outcome", "closure_reason",
                    "working_days_taken", "completed_late", "completed_by", "completed_at", "version"),
    "strategy_discussions": ("id", "referral_id", "child_ids", "held_at", "held_on", "attendees", "decision",
                             "rationale", "recorded_by", "recorded_at", "version"),
    "section_47_enquiries": ("id", "strategy_discussion_id", "referral_id", "child_id", "status", "started_on",
                             "icpc_due_on", "created_at", "concluded_on", "outcome", "category_of_abuse",
                             "concluded_by", "concluded_at", "conference_held_on", "conference_outcome",
                             "conference_category_of_abuse", "conference_working_days", "conference_late",
                             "conference_recorded_by", "conference_recorded_at", "version"),
    "case_events": ("seq", "id", "occurred_at", "aggregate_type", "aggregate_id", "event_type", "actor_sub",
                    "actor_agency", "actor_role", "data"),
}  # fmt: skip
# Foreign keys are checked row by row during COPY: parents first, then the rest two at a time.
LOAD_STAGES: tuple[tuple[str, ...], ...] = (
    (PEOPLE,),
    ("referrals",),
    ("case_events", "person_match_keys", "referral_children", "contributions", "referral_household_members",
     "threshold_decisions", "person_links", "strategy_discussions"),
    ("contribution_responses", "threshold_decision_children", "assessments", "section_47_enquiries"),
)  # fmt: skip
LOAD_CONNECTIONS = 2  # the machine's cores: one COPY each

Row = tuple[Any, ...]


def _dumps(value: Any) -> str:
    # SQLAlchemy's JSON type stores json.dumps() text with its default separators.
    return json.dumps(value)


@dataclass(frozen=True, slots=True)
class Actor:
    sub: str
    agency: str
    role: str


@dataclass
class _Family:
    household: Household
    adults: list[tuple[str, str, str, date | None, bool | None, bool | None]]
    street: str
    ethnicity: str | None
    referred: list[int] = field(default_factory=list)  # person indexes referred before


@dataclass
class Seeded:
    rows: dict[str, list[Row]]
    now: datetime
    stats: dict[str, Any]


class _Builder:
    def __init__(self, referrals: int, now: datetime, days: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.days = days
        self.count = referrals
        self.clock = WorkingClock()
        self.rows: dict[str, list[Row]] = {table: [] for table in TABLES}
        self.events: list[tuple[datetime, uuid.UUID, str, Actor, dict[str, Any]]] = []
        self.stats: Counter[str] = Counter()
        self.counted: Counter[str] = Counter()  # rows yielded by chunks()
        # Partner systems (client ids) per agency, and the hub's practitioners and managers.
        self.systems = {
            agency: [Actor(self.new_sub(), agency, "partner_referrer") for _ in range(3)]
            for agency, _, _ in AGENCIES
        }
        self.practitioners = [
            Actor(self.new_sub(), "childrens_social_care", "mash_practitioner") for _ in range(12)
        ]
        self.managers = [Actor(self.new_sub(), "childrens_social_care", "mash_manager") for _ in range(4)]
        # A population larger than the referred children, so that new families keep arriving.
        generator = Generator(seed, int(referrals * 1.6) + 100)
        self.people, households = generator.population()
        self.rng.shuffle(households)
        self.fresh = households
        self.families: list[_Family] = []
        self.person_ids: dict[int, uuid.UUID] = {}
        self.person_identity: dict[int, Identity] = {}
        self.linked: set[tuple[uuid.UUID, uuid.UUID]] = set()

    # -- helpers

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def new_sub(self) -> str:
        return str(self.new_id())

    def pick(self, weighted: Sequence[tuple[str, float]]) -> str:
        roll = self.rng.random() * sum(weight for _, weight in weighted)
        for value, weight in weighted:
            roll -= weight
            if roll < 0:
                return value
        return weighted[-1][0]

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def emit(self, at: datetime, referral_id: uuid.UUID, event_type: str, actor: Actor, **data: Any) -> None:
        self.events.append((at, referral_id, event_type, actor, data))

    def received_times(self) -> list[datetime]:
        out: list[datetime] = []
        start = self.now - timedelta(days=self.days)
        while len(out) < self.count:
            day = start + timedelta(days=self.rng.random() * self.days)
            local = day.astimezone(LOCAL)
            weekend = local.isoweekday() >= 6
            if weekend and self.rng.random() > 0.35:
                continue
            office = self.rng.random() < 0.75 and not weekend
            hour = self.rng.uniform(8.5, 18.0) if office else self.rng.uniform(0.0, 24.0)
            at = datetime.combine(local.date(), datetime.min.time(), LOCAL) + timedelta(hours=hour)
            at = at.astimezone(UTC)
            if at < self.now:
                out.append(at)
        out.sort()
        return out

    # -- families and children

    def family(self) -> _Family:
        household = self.fresh.pop()
        group = household.group.name
        surname = household.surname
        adults: list[tuple[str, str, str, date | None, bool | None, bool | None]] = []
        mother_surname = surname if self.rng.random() < 0.8 else typo(self.rng, surname)
        born = date(1978, 1, 1) + timedelta(days=self.rng.randrange(25 * 365))
        adults.append((self.rng.choice(ADULT_NAMES["mother"]), mother_surname, "mother", born, True, True))
        if self.rng.random() < 0.5:
            relationship = self.pick((("father", 0.6), ("parents_partner", 0.3), ("step_parent", 0.1)))
            lives = self.rng.random() < 0.6
            adults.append(
                (
                    self.rng.choice(ADULT_NAMES["father"]),
                    surname,
                    relationship,
                    None,
                    lives,
                    relationship == "father",
                )
            )
        ethnicity = self.pick(ETHNICITY[group]) if self.rng.random() < 0.9 else None
        street = f"{self.rng.randint(1, 180)} {self.rng.choice(STREET_NAMES)} {self.rng.choice(STREETS)}"
        found = _Family(household, adults, street, ethnicity)
        self.families.append(found)
        return found

    def eligible(self, family: _Family, on: date) -> list[int]:
        out = []
        for index in family.household.members:
            identity = self.people[index - 1].identity
            if identity.date_of_birth is not None:
                if identity.date_of_birth <= on and (on - identity.date_of_birth).days < 18 * 365:
                    out.append(index)
            elif identity.expected_date_of_birth is not None and identity.expected_date_of_birth > on:
                out.append(index)  # a pre-birth referral
        return out

    def choose_children(self, on: date) -> tuple[_Family, list[int]]:
        while True:
            returning = self.families and self.rng.random() < RETURNING_FAMILY
            family = self.rng.choice(self.families) if returning else self.family()
            eligible = self.eligible(family, on)
            if not eligible:
                continue
            wanted = min(len(eligible), self.rng.choices((1, 2, 3, 4), weights=(60, 27, 9, 4))[0])
            known = [index for index in eligible if index in family.referred]
            # A re-referral is usually about a child referred before.
            chosen = known[:wanted] if known and self.rng.random() < 0.8 else []
            rest = [index for index in eligible if index not in chosen]
            self.rng.shuffle(rest)
            chosen += rest[: wanted - len(chosen)]
            return family, sorted(chosen, key=lambda i: self.people[i - 1].identity.date_of_birth or on)

    def child_fields(self, family: _Family, index: int, agency: str) -> dict[str, Any]:
        identity = self.people[index - 1].identity
        knows_nhs = self.rng.random() < KNOWS_NHS.get(agency, 0.4)
        return {
            "given_name": identity.given_name or "Unborn",
            "family_name": identity.family_name or family.household.surname,
            "date_of_birth": identity.date_of_birth,
            "expected_date_of_birth": identity.expected_date_of_birth,
            "nhs_number": identity.nhs_number if knows_nhs else None,
            "address_lines": [family.street],
            "postcode": identity.postcode,
            "gender": identity.gender,
            "ethnicity": family.ethnicity,
        }

    def new_person(self, index: int, fields: dict[str, Any], at: datetime, actor: Actor) -> uuid.UUID:
        person_id = self.new_id()
        self.person_ids[index] = person_id
        identity = _identity(fields)
        self.person_identity[index] = identity
        self.rows[PEOPLE].append(
            (person_id, fields["given_name"], fields["family_name"], fields["date_of_birth"],
             fields["expected_date_of_birth"], fields["nhs_number"], _dumps(fields["address_lines"]),
             fields["postcode"], fields["gender"], fields["ethnicity"], at, actor.sub, None, 1)
        )  # fmt: skip
        self.rows["person_match_keys"].extend((key, person_id) for key in blocking_keys(identity))
        return person_id

    def link(self, person_ids: list[uuid.UUID], referral_id: uuid.UUID, at: datetime) -> None:
        unique = list(dict.fromkeys(person_ids))
        for a in unique:
            for b in unique:
                if a != b and (a, b) not in self.linked:
                    self.linked.add((a, b))
                    self.rows["person_links"].append((a, b, "sibling", referral_id, at))

    # -- one referral

    def referral(self, received: datetime) -> None:
        rng = self.rng
        rid = self.new_id()
        agency, _, sources = AGENCIES[_index(rng, [share for _, share, _ in AGENCIES])]
        referrer = rng.choice(
            self.practitioners if agency == "childrens_social_care" else self.systems[agency]
        )
        source = rng.choice(sources)
        categories = self.categories(agency)
        family, children = self.choose_children(received.date())
        statutory_due = self.clock.referral_decision_due(received)
        practitioner = rng.choice(self.practitioners)
        manager = rng.choice(self.managers)

        # The life of the referral is planned in full, then cut at now (or at its withdrawal).
        rating = self.pick(RAG)
        rated_at = received + self.minutes(20, 300)
        stalled = rng.random() < STALLED
        withdraw_at = received + self.minutes(60, 2880) if rng.random() < WITHDRAWN else None
        consented = rng.random() < 0.6
        informed = consented or rng.random() < 0.6

        def happened(at: datetime) -> bool:
            return at <= self.now and (withdraw_at is None or at < withdraw_at)

        self.emit(
            received, rid, "referral.received", referrer, referral_source=source, children=len(children)
        )
        linked = self.children(rid, family, children, agency, received, referrer, practitioner, happened)
        self.link(linked, rid, received)
        for position, (given, surname, relationship, born, lives, responsible) in enumerate(family.adults):
            self.rows["referral_household_members"].append(
                (self.new_id(), rid, position, given, surname, relationship, born, lives, responsible)
            )

        status, version, updated_at, due, target = "received", 1, None, statutory_due, None
        rag: tuple[Any, ...] = (None, None, None, None)
        override: tuple[Any, ...] = (None, None, None, None, None)
        outcome: tuple[Any, ...] = (None, None, None, None)
        withdrawal: tuple[Any, ...] = (None, None, None)
        if happened(rated_at) and not (stalled and rng.random() < 0.3):
            status, version, updated_at = "triaged", version + 1, rated_at
            rag = (rating, f"{rating.capitalize()}: {rng.choice(SUMMARIES)}", practitioner.sub, rated_at)
            # The RAG target never extends the statutory deadline (app.children.referrals.service.rate).
            target = self.clock.rag_due(received, rating)
            due = earlier_of(target, statutory_due)
            self.emit(
                rated_at, rid, "referral.rated", practitioner, rating=rating, decision_due_at=due.isoformat(),
                rag_due_at=None if target is None else target.isoformat(),
            )  # fmt: skip
            ready, progressing = rated_at, not stalled
            if rng.random() < CHECKS_NEEDED[rating]:
                asked_at = rated_at + self.minutes(5, 60)
                if not consented:  # agencies are asked only with consent or a recorded override
                    override_at = rated_at + self.minutes(2, 40)
                    asked_at = max(asked_at, override_at + self.minutes(1, 10))
                    if happened(override_at):
                        basis, special = (
                            str(LawfulBasis.PUBLIC_TASK),
                            str(SpecialCategoryCondition.SAFEGUARDING),
                        )
                        override = ("Seeking consent would place the child at increased risk of significant harm.",
                                    basis, special, manager.sub, override_at)  # fmt: skip
                        version, updated_at = version + 1, override_at
                        self.emit(override_at, rid, "referral.consent_overridden", manager, lawful_basis=basis,
                                  special_category_condition=special)  # fmt: skip
                if happened(asked_at):
                    status, version, updated_at = "gathering_information", version + 1, asked_at
                    ready = self.contributions(rid, rating, asked_at, practitioner, withdraw_at, stalled)
                else:
                    progressing = False
            propose_at = ready + self.minutes(20, 240)
            if rng.random() < 0.12:  # decided late
                propose_at = max(propose_at, due + self.minutes(0, 4320))
            if progressing and happened(propose_at):
                status, version, updated_at = "awaiting_approval", version + 1, propose_at
                decided = self.decision(
                    rid, rating, categories, received, propose_at, practitioner, manager, happened
                )
                if decided is not None:
                    decision_id, level, code, decided_at = decided
                    status, version, updated_at = "decided", version + 1, decided_at
                    outcome = (level, code, decided_at, decision_id)
        if withdraw_at is not None and withdraw_at <= self.now and status != "decided":
            status, version, updated_at = "withdrawn", version + 1, withdraw_at
            withdrawal = (
                withdraw_at,
                practitioner.sub,
                "Referred in error: the family had already been referred.",
            )
            self.emit(withdraw_at, rid, "referral.withdrawn", practitioner)
        self.stats[f"status:{status}"] += 1
        self.stats[f"agency:{agency}"] += 1
        self.stats[f"rag:{rag[0]}"] += 1

        # The referrer told their contact was received: mostly within the working day, some late, some
        # not yet (the first communication with the referrer, app.children.referrals.service).
        acknowledged = received + self.minutes(15, 2880)
        acknowledged_at = acknowledged if happened(acknowledged) and rng.random() >= 0.05 else None
        if acknowledged_at is not None:
            self.emit(acknowledged_at, rid, "referral.acknowledged", practitioner,
                      acknowledged_at=acknowledged_at.isoformat(), method="email")  # fmt: skip
        acknowledgement = (target, self.clock.referral_acknowledgement_due(received), acknowledged_at)

        do_not_inform = not informed and rng.random() < 0.1
        self.rows["referrals"].append(
            (rid, status, agency, referrer.sub, received, _dumps(self.referrer_json(agency)), source,
             _dumps(categories), rng.choice(SUMMARIES), informed, consented,
             None if consented else rng.choice(REASONS_NOT_INFORMED), *override, do_not_inform,
             "Telling the parents would put the child at risk." if do_not_inform else None, *rag,
             statutory_due, due, *outcome, *withdrawal, received, updated_at, version, *acknowledgement)
        )  # fmt: skip

    def children(
        self,
        rid: uuid.UUID,
        family: _Family,
        children: list[int],
        agency: str,
        received: datetime,
        referrer: Actor,
        practitioner: Actor,
        happened: Callable[[datetime], bool],
    ) -> list[uuid.UUID]:
        """The referral's children: known ones linked or confirmed, new ones given a person record."""
        rng = self.rng
        linked: list[uuid.UUID] = []
        for position, index in enumerate(children):
            fields = self.child_fields(family, index, agency)
            child_id = self.new_id()
            candidates: list[dict[str, Any]] = []
            confirm_at = None
            person_id: uuid.UUID | None
            if index not in self.person_ids:
                person_id = self.new_person(index, fields, received, referrer)
                created_status = match_status = "new_person"
            elif rng.random() < 0.75:
                person_id = self.person_ids[index]
                created_status = match_status = "matched"
            else:
                # Spelled differently this time: a pending match, confirmed by a practitioner later.
                person_id = self.person_ids[index]
                variant = nickname(rng, fields["given_name"]) or typo(rng, fields["given_name"])
                fields = {**fields, "given_name": variant}
                found = score(_identity(fields), self.person_identity[index])
                candidates = [
                    {
                        "person_id": str(person_id),
                        "score": round(found.score, 4),
                        "reasons": list(found.reasons),
                    }
                ]
                created_status = match_status = "pending"
                confirm_at = received + self.minutes(15, 240)
                if happened(confirm_at):
                    match_status = "confirmed"
                else:
                    person_id, confirm_at = None, None
            if person_id is not None:
                linked.append(person_id)
            self.rows["referral_children"].append(
                (child_id, rid, position, person_id, fields["given_name"], fields["family_name"],
                 fields["date_of_birth"], fields["expected_date_of_birth"], fields["nhs_number"],
                 _dumps(fields["address_lines"]), fields["postcode"], fields["gender"], fields["ethnicity"],
                 match_status, _dumps(candidates))
            )  # fmt: skip
            pending = created_status == "pending"
            self.emit(received, rid, f"child.{created_status}", referrer, child_id=str(child_id),
                      person_id=None if pending else str(person_id), candidates=len(candidates))  # fmt: skip
            if confirm_at is not None:
                self.emit(confirm_at, rid, "child.match_confirmed", practitioner, child_id=str(child_id),
                          person_id=str(person_id))  # fmt: skip
            self.stats[f"children:{match_status}"] += 1
        family.referred.extend(index for index in children if index not in family.referred)
        return linked

    def categories(self, agency: str) -> list[str]:
        pool = CATEGORIES.get(agency, OTHER_CATEGORIES)
        chosen = list(dict.fromkeys(self.rng.choice(pool) for _ in range(self.rng.choice((1, 1, 2, 3)))))
        return chosen

    def referrer_json(self, agency: str) -> dict[str, str]:
        rng = self.rng
        number = f"0113 496 {rng.randrange(10_000):04d}"
        if agency == "police":
            return {"name": f"PC {rng.randrange(1000, 9999)} {rng.choice(ADULT_NAMES['father'])}",
                    "role": "Public protection officer", "phone": number}  # fmt: skip
        return {"name": f"{rng.choice(ADULT_NAMES['mother'])} {rng.choice(('Shaw', 'Patel', 'Hughes'))}",
                "role": "Designated safeguarding lead", "email": f"safeguarding@{agency}.example.org"}  # fmt: skip

    def contributions(
        self,
        rid: uuid.UUID,
        rating: str,
        asked_at: datetime,
        practitioner: Actor,
        withdraw_at: datetime | None,
        stalled: bool,
    ) -> datetime:
        rng = self.rng
        due = self.clock.rag_due(asked_at, rating)
        assert due is not None  # blue referrals are not checked
        agencies = [agency for agency, chance in ASKED if rng.random() < chance] or ["health"]
        question = rng.choice(QUESTIONS)
        last = asked_at
        for agency in agencies:
            contribution_id = self.new_id()
            self.emit(asked_at, rid, "contribution.requested", practitioner, contribution_id=str(contribution_id),
                      agency=agency, due_at=due.isoformat())  # fmt: skip
            answered_at = asked_at + (due - asked_at) * rng.uniform(0.15, 1.25)
            status, version, submitted_at, restricted = "requested", 0, None, False
            if answered_at <= self.now and not (stalled and rng.random() < 0.5):
                if withdraw_at is not None and withdraw_at < answered_at:
                    status = "cancelled" if withdraw_at <= self.now else "requested"
                else:
                    status, version, submitted_at = "submitted", 1, answered_at
                    restricted = rng.random() < 0.04
                    last = max(last, answered_at)
                    information, indicators = rng.choice(ANSWERS)
                    responder = rng.choice(self.systems[agency])
                    self.rows["contribution_responses"].append(
                        (self.new_id(), contribution_id, 1, information, _dumps(indicators), restricted,
                         "Disclosure would prejudice a live investigation." if restricted else None, None,
                         responder.sub, answered_at)
                    )  # fmt: skip
                    self.emit(answered_at, rid, "contribution.submitted", responder,
                              contribution_id=str(contribution_id), agency=agency, version=1,
                              restricted=restricted)  # fmt: skip
            elif withdraw_at is not None and withdraw_at <= self.now:
                status = "cancelled"
            self.rows["contributions"].append(
                (contribution_id, rid, agency, question, practitioner.sub, asked_at, due, status, version,
                 restricted, submitted_at)
            )  # fmt: skip
            self.stats[f"contributions:{status}"] += 1
        return last

    def decision(
        self,
        rid: uuid.UUID,
        rating: str,
        categories: list[str],
        received: datetime,
        proposed_at: datetime,
        practitioner: Actor,
        manager: Actor,
        happened: Callable[[datetime], bool],
    ) -> tuple[uuid.UUID, int, str, datetime] | None:
        rng = self.rng
        outcome = DecisionOutcome(self.pick(OUTCOMES[rating]))
        level = {"no_further_action": 1, "universal_services": 1, "early_help": 2}.get(outcome, 3)
        if outcome == DecisionOutcome.STRATEGY_DISCUSSION or (
            outcome == DecisionOutcome.CHILD_AND_FAMILY_ASSESSMENT and rating == "red" and rng.random() < 0.3
        ):
            level = 4
        nfa = outcome in NFA_OUTCOMES
        need = None if nfa else self.pick(PRIMARY_NEEDS)
        factors: list[str] = []
        if not nfa:
            factors = list(dict.fromkeys(f for c in categories for f in FACTORS_BY_CATEGORY.get(c, ())))
            factors = factors or [str(AssessmentFactor.OTHER)]
        # Accepted as a referral: implied by an assessment or a strategy discussion; after NFA, sometimes.
        accepted = outcome in ACCEPTED_OUTCOMES or (
            outcome == DecisionOutcome.NO_FURTHER_ACTION and rng.random() < 0.3
        )
        decision_id = self.new_id()
        reviewed_at = proposed_at + self.minutes(10, 360)
        approved = happened(reviewed_at)
        self.rows["threshold_decisions"].append(
            (decision_id, rid, level, str(outcome), "Proposed after reviewing the agencies' information.", need,
             _dumps(factors), nfa, accepted, "approved" if approved else "proposed", practitioner.sub,
             proposed_at, manager.sub if approved else None, reviewed_at if approved else None,
             "Agreed." if approved else None)
        )  # fmt: skip
        # Every child takes the referral-wide decision (the children's rows are this referral's last), but
        # for now and then a sibling of an assessed child, decided apart: early help, left a contact.
        children = list(takewhile(lambda row: row[1] == rid, reversed(self.rows["referral_children"])))[::-1]
        accepted_ids: list[uuid.UUID] = []
        for position, child in enumerate(children):
            apart = (
                position > 0
                and outcome == DecisionOutcome.CHILD_AND_FAMILY_ASSESSMENT
                and rng.random() < SIBLING_APART
            )
            if apart:
                entry: Row = (
                    decision_id,
                    child[0],
                    rid,
                    2,
                    str(DecisionOutcome.EARLY_HELP),
                    None,
                    True,
                    False,
                    True,
                )
                self.stats["decision_children:apart"] += 1
            else:
                entry = (decision_id, child[0], rid, level, str(outcome), need, nfa, accepted, False)
                if accepted:
                    accepted_ids.append(child[0])
            self.rows["threshold_decision_children"].append(entry)
        self.emit(proposed_at, rid, "decision.proposed", practitioner, decision_id=str(decision_id), level=level,
                  outcome=str(outcome), nfa=nfa)  # fmt: skip
        if not approved:
            return None
        self.emit(reviewed_at, rid, "decision.approved", manager, decision_id=str(decision_id))
        self.emit(reviewed_at, rid, "referral.decided", manager, level=level, outcome=str(outcome))
        if outcome == DecisionOutcome.CHILD_AND_FAMILY_ASSESSMENT:
            for child_id in accepted_ids:
                self.assessment(rid, child_id, categories, received, reviewed_at, practitioner, manager)
        elif outcome == DecisionOutcome.STRATEGY_DISCUSSION and accepted_ids:
            self.strategy_discussion(rid, accepted_ids, received, reviewed_at, practitioner, manager)
        return decision_id, level, str(outcome), reviewed_at

    # -- after the decision: assessments, strategy discussions, section 47 enquiries, conferences

    def local_time(self, on: date, low: float = 9.0, high: float = 17.0) -> datetime:
        """An instant in office hours on the London date ``on``."""
        at = datetime.combine(on, datetime.min.time(), LOCAL) + timedelta(hours=self.rng.uniform(low, high))
        return at.astimezone(UTC)

    def assessment(
        self,
        rid: uuid.UUID,
        child_id: uuid.UUID,
        categories: list[str],
        received: datetime,
        decided_at: datetime,
        practitioner: Actor,
        manager: Actor,
    ) -> None:
        """A child and family assessment of an accepted child (app.children.assessments.service): started
        within days of the decision, due 45 working days after the referral's London date, completed
        (most in time) once that day has come."""
        rng, clock = self.rng, self.clock
        received_on = local_date(received)
        created_at = decided_at + self.minutes(30, 2880)
        if created_at > self.now:
            return
        started_on = max(received_on, local_date(created_at))
        due_on = clock.working_days_after(received_on, ASSESSMENT_WORKING_DAYS)
        assessment_id = self.new_id()
        self.emit(created_at, rid, "assessment.started", practitioner, assessment_id=str(assessment_id),
                  child_id=str(child_id), due_on=due_on.isoformat())  # fmt: skip
        taken = (rng.randint(ASSESSMENT_WORKING_DAYS + 1, ASSESSMENT_WORKING_DAYS + 30)
                 if rng.random() < ASSESSMENT_LATE else rng.randint(5, ASSESSMENT_WORKING_DAYS))  # fmt: skip
        completed_on = max(started_on, clock.working_days_after(received_on, taken))
        completed_at = max(created_at + self.minutes(5, 60), self.local_time(completed_on))
        done: tuple[Any, ...] = (None,) * 8
        state = "open"
        if completed_at <= self.now:
            state = "completed"
            outcome = AssessmentOutcome(self.pick(ASSESSMENT_OUTCOMES))
            factors = list(dict.fromkeys(f for c in categories for f in FACTORS_BY_CATEGORY.get(c, ())))
            if rng.random() < NO_FACTORS:
                factors = [str(AssessmentFactor.NO_FACTORS)]
            factors = factors or [str(AssessmentFactor.OTHER)]
            # The reason for closure the service gives or accepts (CLOSING): RC8 after no further action
            # (now and then RC7, services ceased), RC9 after early help, none while the case stays open.
            reason = {
                AssessmentOutcome.NO_FURTHER_ACTION: ReasonForClosure.SERVICES_CEASED
                if rng.random() < 0.1
                else ReasonForClosure.CLOSED_AFTER_ASSESSMENT_NO_FURTHER_ACTION,
                AssessmentOutcome.EARLY_HELP: ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP,
            }.get(outcome)
            late = completed_on > due_on
            done = (completed_on, _dumps(factors), str(outcome), None if reason is None else str(reason),
                    clock.working_days_between(received_on, completed_on), late, manager.sub, completed_at)  # fmt: skip
            self.emit(completed_at, rid, "assessment.completed", manager, assessment_id=str(assessment_id),
                      child_id=str(child_id), outcome=str(outcome),
                      closure_reason=None if reason is None else str(reason), late=late)  # fmt: skip
            self.stats[f"assessments:{'late' if late else 'in_time'}"] += 1
            if outcome == AssessmentOutcome.STRATEGY_DISCUSSION:
                self.strategy_discussion(rid, [child_id], received, completed_at, practitioner, manager)
        else:
            self.stats["assessments:open"] += 1
        if done[0] is None:
            done = (None, _dumps([]), None, None, None, None, None, None)
        self.rows["assessments"].append(
            (assessment_id, rid, child_id, state, received_on, started_on, due_on, practitioner.sub, created_at,
             *done, 1 if state == "open" else 2)
        )  # fmt: skip

    def strategy_discussion(
        self,
        rid: uuid.UUID,
        child_ids: list[uuid.UUID],
        received: datetime,
        after: datetime,
        practitioner: Actor,
        manager: Actor,
    ) -> None:
        """A strategy discussion about accepted children (police, health and children's social care at
        least) and, when it decides so, a section 47 enquiry per child with its conference due 15 working
        days after the discussion's London date (app.children.protection.service)."""
        rng, clock = self.rng, self.clock
        held_at = max(received, after) + self.minutes(30, 2880)
        if held_at > self.now:
            return
        held_on = local_date(held_at)
        recorded_at = held_at + self.minutes(30, 240)
        if recorded_at > self.now:
            return
        discussion_id = self.new_id()
        attendees = [*ATTENDEES, EDUCATION_ATTENDEE] if rng.random() < 0.4 else list(ATTENDEES)
        decision = (StrategyDiscussionDecision.SECTION_47_ENQUIRY if rng.random() < SECTION_47
                    else StrategyDiscussionDecision.NO_SECTION_47)  # fmt: skip
        self.rows["strategy_discussions"].append(
            (discussion_id, rid, _dumps([str(c) for c in child_ids]), held_at, held_on, _dumps(attendees),
             str(decision), "Reasonable cause to suspect significant harm: agreed after sharing information."
             if decision == StrategyDiscussionDecision.SECTION_47_ENQUIRY
             else "The threshold for section 47 is not met; the assessment continues.", practitioner.sub,
             recorded_at, 1)
        )  # fmt: skip
        self.emit(recorded_at, rid, "strategy_discussion.held", practitioner,
                  strategy_discussion_id=str(discussion_id), decision=str(decision), children=len(child_ids))  # fmt: skip
        self.stats[f"strategy_discussions:{decision}"] += 1
        if decision != StrategyDiscussionDecision.SECTION_47_ENQUIRY:
            return
        due = clock.working_days_after(held_on, ICPC_WORKING_DAYS)
        for child_id in child_ids:
            self.section_47(rid, discussion_id, child_id, held_on, due, recorded_at, practitioner, manager)

    def section_47(
        self,
        rid: uuid.UUID,
        discussion_id: uuid.UUID,
        child_id: uuid.UUID,
        held_on: date,
        due: date,
        created_at: datetime,
        practitioner: Actor,
        manager: Actor,
    ) -> None:
        rng, clock = self.rng, self.clock
        enquiry_id = self.new_id()
        self.emit(created_at, rid, "section_47.started", practitioner, section_47_enquiry_id=str(enquiry_id),
                  child_id=str(child_id), icpc_due_on=due.isoformat())  # fmt: skip
        ids = {"section_47_enquiry_id": str(enquiry_id), "child_id": str(child_id)}
        state, version = "open", 1
        outcome: tuple[Any, ...] = (None,) * 5
        conference: tuple[Any, ...] = (None,) * 7
        late_conference = rng.random() < CONFERENCE_LATE
        held_after = (rng.randint(ICPC_WORKING_DAYS + 1, ICPC_WORKING_DAYS + 10) if late_conference
                      else rng.randint(6, ICPC_WORKING_DAYS))  # fmt: skip
        concluded_on = clock.working_days_after(held_on, rng.randint(2, max(2, held_after - 3)))
        concluded_at = max(created_at + self.minutes(5, 60), self.local_time(concluded_on))
        if concluded_at <= self.now:
            result = Section47Outcome(self.pick(S47_OUTCOMES))
            conference_called = result == Section47Outcome.INITIAL_CHILD_PROTECTION_CONFERENCE
            category = str(self.pick(ABUSE)) if conference_called and rng.random() < 0.5 else None
            state = "awaiting_conference" if conference_called else "concluded"
            version = 2
            outcome = (concluded_on, str(result), category, manager.sub, concluded_at)
            self.emit(concluded_at, rid, "section_47.concluded", manager, **ids, outcome=str(result))
            conference_on = max(concluded_on, clock.working_days_after(held_on, held_after))
            conference_at = max(concluded_at + self.minutes(5, 60), self.local_time(conference_on))
            if conference_called and conference_at <= self.now:
                plan = rng.random() < PLAN
                result_at = ConferenceOutcome.CHILD_PROTECTION_PLAN if plan else ConferenceOutcome.NO_PLAN
                late = conference_on > due
                state, version = "conference_held", 3
                conference = (conference_on, str(result_at), str(self.pick(ABUSE)) if plan else None,
                              clock.working_days_between(held_on, conference_on), late, manager.sub,
                              conference_at)  # fmt: skip
                self.emit(
                    conference_at, rid, "conference.held", manager, **ids, outcome=str(result_at), late=late
                )
                self.stats[f"conferences:{'late' if late else 'in_time'}"] += 1
        self.stats[f"section_47:{state}"] += 1
        self.rows["section_47_enquiries"].append(
            (enquiry_id, discussion_id, rid, child_id, state, held_on, due, created_at, *outcome, *conference,
             version)
        )  # fmt: skip

    # -- all of it

    def build(self) -> Seeded:
        for received in self.received_times():
            self.referral(received)
        # Case events are numbered in the order they happened, as the head lock numbers them.
        self.events.sort(key=lambda event: event[0])
        self.rows["case_events"] = self.case_event_rows(self.events, 1)
        return Seeded(self.rows, self.now, self.summary({t: len(r) for t, r in self.rows.items()}))

    def case_event_rows(
        self, events: list[tuple[datetime, uuid.UUID, str, Actor, dict[str, Any]]], first_seq: int
    ) -> list[Row]:
        return [
            (seq, self.new_id(), at, "referral", rid, event_type, actor.sub, actor.agency, actor.role, _dumps(data))
            for seq, (at, rid, event_type, actor, data) in enumerate(events, start=first_seq)
        ]  # fmt: skip

    def chunks(self, size: int) -> Iterator[dict[str, list[Row]]]:
        """The rows a chunk of ``size`` referrals at a time, so that a million referrals need no more
        memory than ``size`` of them (and the population they are drawn from).

        Case events are still numbered in the order they happened across chunks: every later chunk's
        referrals are received after the next chunk's first receipt, so the events of this chunk up to
        then are numbered now, and the later ones (a decision days after receipt) wait for the next.
        """
        times = self.received_times()
        seq, waiting = 1, 0
        for start in range(0, len(times), size):
            for received in times[start : start + size]:
                self.referral(received)
            self.events.sort(key=lambda event: event[0])  # stable: the waiting events stay first
            if start + size < len(times):
                boundary = times[start + size]
                waiting = next(
                    (i for i, event in enumerate(self.events) if event[0] >= boundary), len(self.events)
                )
            else:
                waiting = len(self.events)
            ready, self.events = self.events[:waiting], self.events[waiting:]
            self.rows["case_events"] = self.case_event_rows(ready, seq)
            seq += len(ready)
            rows, self.rows = self.rows, {table: [] for table in TABLES}
            self.counted.update({t: len(r) for t, r in rows.items()})
            yield rows

    def summary(self, rows: dict[str, int]) -> dict[str, Any]:
        stats: dict[str, Any] = {"now": self.now.isoformat(), "rows": rows}
        for key, value in sorted(self.stats.items()):
            group, _, name = key.partition(":")
            stats.setdefault(group, {})[name] = value
        return stats


def _index(rng: random.Random, weights: Sequence[float]) -> int:
    roll = rng.random() * sum(weights)
    for index, weight in enumerate(weights):
        roll -= weight
        if roll < 0:
            return index
    return len(weights) - 1


def _identity(fields: dict[str, Any]) -> Identity:
    # As app.people.repository.identity_of reads a person row.
    return Identity(
        given_name=fields["given_name"],
        family_name=fields["family_name"],
        date_of_birth=fields["date_of_birth"],
        expected_date_of_birth=fields["expected_date_of_birth"],
        nhs_number=fields["nhs_number"],
        postcode=fields["postcode"],
        gender=fields["gender"],
    )


def build(
    referrals: int, *, now: datetime | None = None, days: int = 730, seed: int = DEFAULT_SEED
) -> Seeded:
    return _Builder(referrals, now or datetime.now(UTC), days, seed).build()


async def seed_in_chunks(
    dsn: str,
    referrals: int,
    *,
    chunk: int,
    days: int = 730,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build and load ``referrals`` referrals ``chunk`` at a time (see ``_Builder.chunks``)."""
    builder = _Builder(referrals, now or datetime.now(UTC), days, seed)
    timings = await load_chunks(dsn, builder.chunks(chunk), progress=progress)
    return {**builder.summary(dict(builder.counted)), "load_s": timings}


async def load(
    dsn: str, seeded: Seeded, *, progress: Callable[[str], None] | None = None
) -> dict[str, float]:
    """COPY every table (parents first), then VACUUM ANALYZE, as autovacuum would have by now."""
    return await load_chunks(dsn, iter([seeded.rows]), progress=progress)


async def load_chunks(
    dsn: str, chunks: Iterator[dict[str, list[Row]]], *, progress: Callable[[str], None] | None = None
) -> dict[str, float]:
    """COPY each chunk of rows as it is built (parents first), then VACUUM ANALYZE once."""
    timings: dict[str, float] = {}
    connections = [
        await asyncpg.connect(dsn, server_settings={"application_name": "mash-bench-seed"})
        for _ in range(LOAD_CONNECTIONS)
    ]
    try:
        for conn in connections:
            if await conn.fetchval("SELECT count(*) FROM referrals"):
                raise RuntimeError("the database already holds referrals: seed a freshly migrated one")
            # Losing the seed in a crash costs a re-run, nothing more.
            await conn.execute("SET synchronous_commit = off")
        for rows in chunks:
            await _copy(connections, rows, timings, progress)
        started = time.perf_counter()
        tables = list(TABLES)
        await asyncio.gather(
            *(_vacuum(conn, tables[i :: len(connections)]) for i, conn in enumerate(connections))
        )
        timings["vacuum_analyze"] = time.perf_counter() - started
    finally:
        for conn in connections:
            await conn.close()
    return {name: round(seconds, 2) for name, seconds in timings.items()}


async def _copy(
    connections: list[asyncpg.Connection],
    rows: dict[str, list[Row]],
    timings: dict[str, float],
    progress: Callable[[str], None] | None,
) -> None:
    for stage in LOAD_STAGES:

        async def worker(conn: asyncpg.Connection, queue: list[str]) -> None:
            while queue:
                table = queue.pop(0)
                started = time.perf_counter()
                await conn.copy_records_to_table(table, records=rows[table], columns=TABLES[table])
                seconds = time.perf_counter() - started
                timings[table] = timings.get(table, 0.0) + seconds
                if progress is not None:
                    progress(f"  copied {len(rows[table]):,} rows into {table} in {seconds:.2f}s")

        queue = list(stage)
        await asyncio.gather(*(worker(conn, queue) for conn in connections))


async def _vacuum(conn: asyncpg.Connection, tables: list[str]) -> None:
    for table in tables:
        await conn.execute(f"VACUUM (ANALYZE) {table}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dsn", required=True, help="a freshly migrated database (postgresql://...)")
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730, help="received over this many days up to now")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--chunk",
        type=int,
        default=0,
        help="build and load this many referrals at a time (bounded memory, for a million); 0: all at once",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    args = parser.parse_args(argv)

    def info(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    if args.chunk > 0:
        stats = asyncio.run(
            seed_in_chunks(
                args.dsn, args.referrals, chunk=args.chunk, days=args.days, seed=args.seed, progress=info
            )
        )
        stats["total_s"] = round(time.perf_counter() - started, 1)
        info(f"seed: done in {stats['total_s']}s")
        print(json.dumps(stats, indent=None if args.json else 2))
        return 0
    seeded = build(args.referrals, days=args.days, seed=args.seed)
    built = time.perf_counter() - started
    total = sum(len(rows) for rows in seeded.rows.values())
    info(f"seed: built {total:,} rows for {args.referrals:,} referrals in {built:.1f}s")
    timings = asyncio.run(load(args.dsn, seeded, progress=info))
    summary = {**seeded.stats, "build_s": round(built, 1), "load_s": timings,
               "total_s": round(time.perf_counter() - started, 1)}  # fmt: skip
    info(f"seed: done in {summary['total_s']}s")
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
