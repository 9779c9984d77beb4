"""Nobody receives what the visibility rules deny them, whatever happened before (api.md, "Agencies,
roles, scopes"): a property test.

Hypothesis drives random sequences of creates and reads by random callers through the HTTP API, on a
fresh database per sequence. Every create plants unique markers in what it writes (a child's name, a
referral's summary, the hub's question, an agency's answer, a decision's rationale, an adult's
views, the feedback to the raiser, a plan's contingency and its actions) and the model records who
may see each one, and each record id, under the rules. After every step, the one invariant: nothing
the caller received (a record, a list, the feed, a timeline, an export, the audit trail, a census
item, an idempotent replay, an error body) holds a marker, a record id or a hub staff subject that
the rules deny that caller.

Partner callers, auditors, the administrator and information governance all share one ``sub``, so
anything keyed on the subject alone would leak between them; hub staff have subjects of their own,
which partner views must never carry.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Databases
from tests.fixtures.adults import adult as adult_body
from tests.fixtures.adults import allegation, concern_body, decision_body
from tests.fixtures.database import app_of_its_own
from tests.fixtures.referrals import child, referral_body

# --- Callers -----------------------------------------------------------------------------------------

SHARED = "shared-user"
HUB_SUBS = ("hubstaffann", "hubstaffbob", "ascstaffcat", "ascstaffdan")
PARTNERS = ("police", "health", "housing")
# Kinds that read every record of their side or (auditors, information governance) across sides.
WHOLE = frozenset({"children_hub", "adults_hub", "lead_auditor", "governance"})


@dataclass(frozen=True)
class Caller:
    name: str
    role: str
    agency: str
    sub: str
    kind: str


CALLERS = {
    c.name: c
    for c in (
        Caller("police", "partner_referrer", "police", SHARED, "partner"),
        Caller("health", "partner_referrer", "health", SHARED, "partner"),
        Caller("housing", "partner_referrer", "housing", SHARED, "partner"),
        Caller("practitioner", "mash_practitioner", "childrens_social_care", HUB_SUBS[0], "children_hub"),
        Caller("manager", "mash_manager", "childrens_social_care", HUB_SUBS[1], "children_hub"),
        Caller("asc_worker", "asc_practitioner", "adult_social_care", HUB_SUBS[2], "adults_hub"),
        Caller("asc_manager", "asc_manager", "adult_social_care", HUB_SUBS[3], "adults_hub"),
        Caller("police_auditor", "auditor", "police", SHARED, "partner_auditor"),
        Caller("council_auditor", "auditor", "council", SHARED, "lead_auditor"),
        Caller("governance", "information_governance", "council", SHARED, "governance"),
        Caller("admin", "admin", "police", SHARED, "admin"),
    )
}
READERS = sorted(CALLERS)


def is_partner(caller: Caller, *agencies: str | None) -> bool:
    return caller.kind == "partner" and caller.agency in agencies


def knows_ids_of(caller: Caller, *agencies: str | None) -> bool:
    """Record ids: the hub sides, lead auditors and governance see all; a partner (and its own
    auditor, through its agency's audit events) only those of records its agency has a part in."""
    if caller.kind in WHOLE:
        return True
    return caller.kind in ("partner", "partner_auditor") and caller.agency in agencies


# --- The model -------------------------------------------------------------------------------------

_markers = itertools.count(1)


def marker(prefix: str = "Mk") -> str:
    """A word no other write uses: letters only, so it passes every name and text pattern."""
    n, letters = next(_markers), ""
    for _ in range(8):
        n, digit = divmod(n, 26)
        letters += chr(ord("a") + digit)
    return prefix + letters


@dataclass
class Fact:
    text: str
    what: str
    allowed: Callable[[Caller], bool]


@dataclass
class Referral:
    id: str
    referrer: str
    asked: set[str] = field(default_factory=set)
    rated: bool = False
    decided: bool = False


@dataclass
class Contribution:
    id: str
    referral: Referral
    agency: str
    restricted: bool = False


@dataclass
class Concern:
    id: str
    raiser: str
    person_id: str | None
    decided: bool = False
    limited: bool = False
    enquiry_agencies: set[str] = field(default_factory=set)
    plan_agencies: set[str] = field(default_factory=set)


@dataclass
class Create:
    caller: Caller
    path: str
    body: dict[str, Any]
    key: str
    kind: str


@dataclass
class Model:
    facts: list[Fact] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    concerns: list[Concern] = field(default_factory=list)
    enquiries: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    creates: list[Create] = field(default_factory=list)

    def fact(self, text: str, what: str, allowed: Callable[[Caller], bool]) -> None:
        self.facts.append(Fact(text, what, allowed))

    def person(self, person_id: str | None) -> None:
        if person_id is not None and person_id not in self.people:
            self.people.append(person_id)
            # The hub's own link between records: never shown to a partner (it would tell which of its
            # referrals are about the same child).
            self.fact(person_id, "a person id", lambda c: c.kind in WHOLE)


def _owner_or_adults_hub(agency: str) -> Callable[[Caller], bool]:
    return lambda c: c.kind in ("adults_hub", "governance") or is_partner(c, agency)


def hub_subjects_allowed(caller: Caller) -> bool:
    return caller.kind in WHOLE


class World:
    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.model = Model()
        self.headers = {}
        for name, caller in CALLERS.items():
            issued = app.state.tokens.issue(sub=caller.sub, agency=caller.agency, role=caller.role)
            self.headers[name] = {"Authorization": f"Bearer {issued.access_token}"}
        self.received = 0

    async def call(
        self, who: str, method: str, path: str, *, check: bool = True, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.headers[who], **kwargs.pop("headers", {})}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 500, f"{method} {path} as {who}: {response.status_code} {response.text}"
        if check:
            self.check(CALLERS[who], method, path, response)
        return response

    def check(self, caller: Caller, method: str, path: str, response: httpx.Response) -> None:
        """The invariant: nothing in the answer that the rules deny this caller."""
        text = response.text
        self.received += 1
        # A text may belong to several records (a partner re-sending another's body makes its own copy):
        # it may be shown when any of them allows it.
        shown: dict[str, list[Fact]] = {}
        for fact in self.model.facts:
            if fact.text in text:
                shown.setdefault(fact.text, []).append(fact)
        leaks = [facts[0].what for facts in shown.values() if not any(f.allowed(caller) for f in facts)]
        if not hub_subjects_allowed(caller):
            leaks += [f"the hub subject {sub}" for sub in HUB_SUBS if sub in text]
        assert not leaks, (
            f"{method} {path} as {caller.name} ({caller.role}@{caller.agency}) received: {leaks}"
        )

    async def create(self, who: str, path: str, body: dict[str, Any], kind: str) -> httpx.Response:
        key = marker("key")
        response = await self.call(who, "POST", path, json=body, headers={"Idempotency-Key": key})
        if response.status_code == 201:
            self.model.creates.append(Create(CALLERS[who], path, body, key, kind))
        return response

    # --- creates -----------------------------------------------------------------------------------

    async def refer(self, partner: str) -> None:
        caller = CALLERS[partner]
        summary, family = marker(), marker("Q")
        born = date(2012, 1, 1) + timedelta(days=next(_markers) % 3000)
        body = referral_body(
            child(given_name="Amelia", family_name=family, date_of_birth=born.isoformat()),
            concern_summary=f"Police attended an incident; the child was present. {summary}",
        )
        response = await self.create(partner, "/v1/referrals", body, "referral")
        assert response.status_code == 201, response.text
        await self.track_referral(response.json()["id"], caller, summary, family)

    async def track_referral(self, referral_id: str, caller: Caller, summary: str, family: str) -> None:
        referral = Referral(referral_id, caller.agency)
        self.model.referrals.append(referral)
        m = self.model
        m.fact(
            summary,
            "a referral's summary",
            lambda c: c.kind in ("children_hub", "governance") or is_partner(c, referral.referrer),
        )
        m.fact(
            family,
            "a child's name",
            lambda c: (
                c.kind in ("children_hub", "adults_hub", "governance")
                or is_partner(c, referral.referrer, *referral.asked)
            ),
        )
        m.fact(referral.id, "a referral id", lambda c: knows_ids_of(c, referral.referrer, *referral.asked))
        full = (await self.call("practitioner", "GET", f"/v1/referrals/{referral.id}")).json()
        for named in full["children"]:
            m.person(named["person_id"])

    async def ask(self, index: int, agency: str) -> None:
        if not self.model.referrals:
            return
        referral = self.model.referrals[index % len(self.model.referrals)]
        if referral.decided or agency in referral.asked:
            return
        if not referral.rated:
            rated = await self.call(
                "practitioner",
                "POST",
                f"/v1/referrals/{referral.id}/rag-rating",
                json={"rating": "amber", "rationale": "Needs checks."},
            )
            assert rated.status_code == 200, rated.text
            referral.rated = True
        question = marker()
        body = {"agencies": [agency], "question": f"What do you know about this family? {question}"}
        response = await self.create(
            "practitioner", f"/v1/referrals/{referral.id}/contribution-requests", body, "ask"
        )
        assert response.status_code == 201, response.text
        [made] = response.json()["items"]
        contribution = Contribution(made["id"], referral, agency)
        referral.asked.add(agency)
        self.model.contributions.append(contribution)
        self.model.fact(
            question,
            "the hub's question",
            lambda c: c.kind in ("children_hub", "governance") or is_partner(c, agency),
        )
        self.model.fact(contribution.id, "a contribution id", lambda c: knows_ids_of(c, agency))

    async def answer(self, index: int, restricted: bool) -> None:
        open_ones = [c for c in self.model.contributions if not c.referral.decided]
        if not open_ones:
            return
        contribution = open_ones[index % len(open_ones)]
        said = marker()
        body: dict[str, Any] = {
            "information": f"Known to us. {said}",
            "risk_indicators": [],
            "restricted": restricted,
        }
        if restricted:
            body["restriction_reason"] = "Police intelligence."
        response = await self.call(
            contribution.agency, "POST", f"/v1/contributions/{contribution.id}/response", json=body
        )
        if response.status_code != 200:
            return  # answered already: a correction needs a reason; the leak check above still ran
        contribution.restricted = restricted
        self.model.fact(
            said,
            "an agency's answer",
            lambda c: (
                c.kind == "children_hub"
                or is_partner(c, contribution.agency)
                or (c.kind == "governance" and not contribution.restricted)
            ),
        )

    async def decide_referral(self, index: int) -> None:
        undecided = [r for r in self.model.referrals if not r.decided and r.rated]
        if not undecided:
            return
        referral = undecided[index % len(undecided)]
        rationale = marker()
        body = {"level": 2, "outcome": "early_help", "rationale": f"Additional needs. {rationale}"}
        proposed = await self.create(
            "practitioner", f"/v1/referrals/{referral.id}/threshold-decisions", body, "decision"
        )
        if proposed.status_code != 201:
            return
        approved = await self.call(
            "manager",
            "POST",
            f"/v1/threshold-decisions/{proposed.json()['id']}/approval",
            json={"approved": True, "comment": "Agreed."},
        )
        assert approved.status_code == 200, approved.text
        referral.decided = True
        self.model.fact(
            rationale, "a decision's rationale", lambda c: c.kind in ("children_hub", "governance")
        )

    async def raise_concern(self, partner: str) -> None:
        caller = CALLERS[partner]
        described, views, family = marker(), marker(), marker("Q")
        body = concern_body(
            allegation(description=f"Money is missing. {described}"),
            adult=adult_body(family_name=family),
            adult_views=f"She wants to stay at home. {views}",
        )
        response = await self.create(partner, "/v1/adult-concerns", body, "concern")
        assert response.status_code == 201, response.text
        await self.track_concern(response.json()["id"], caller, described, views, family)

    async def track_concern(
        self, concern_id: str, caller: Caller, described: str, views: str, family: str
    ) -> None:
        full = (await self.call("asc_worker", "GET", f"/v1/adult-concerns/{concern_id}")).json()
        concern = Concern(concern_id, caller.agency, full["adult"]["person_id"])
        self.model.concerns.append(concern)
        self.model.person(concern.person_id)
        m = self.model
        raiser = concern.raiser
        m.fact(
            described,
            "an allegation",
            lambda c: c.kind in ("adults_hub", "governance") or is_partner(c, raiser),
        )
        m.fact(
            views,
            "the adult's views",
            lambda c: c.kind in ("adults_hub", "governance") or is_partner(c, raiser),
        )
        m.fact(
            family,
            "an adult's name",
            lambda c: (
                c.kind in ("children_hub", "adults_hub", "governance")
                or is_partner(c, raiser, *concern.plan_agencies)
            ),
        )
        m.fact(concern.id, "a concern id", lambda c: knows_ids_of(c, raiser, *concern.enquiry_agencies))

    async def decide_concern(self, index: int, limited: bool) -> None:
        undecided = [c for c in self.model.concerns if not c.decided]
        if not undecided:
            return
        concern = undecided[index % len(undecided)]
        rationale, feedback = marker(), marker()
        body = decision_body(
            rationale=f"All three met. {rationale}", referrer_feedback=f"Phone the GP. {feedback}"
        )
        if limited:
            body["feedback_limited_reason"] = "A police investigation is under way."
        response = await self.create(
            "asc_manager", f"/v1/adult-concerns/{concern.id}/section-42-decision", body, "s42"
        )
        assert response.status_code == 201, response.text
        concern.decided, concern.limited = True, limited
        m = self.model
        m.fact(rationale, "a section 42 rationale", lambda c: c.kind in ("adults_hub", "governance"))
        m.fact(
            feedback,
            "the raiser's feedback",
            lambda c: (
                c.kind in ("adults_hub", "governance")
                or (is_partner(c, concern.raiser) and not concern.limited)
            ),
        )

    async def open_enquiry(self, index: int, caused_to: str | None) -> None:
        ready = [c for c in self.model.concerns if c.decided and not c.enquiry_agencies]
        if not ready:
            return
        concern = ready[index % len(ready)]
        body: dict[str, Any] = {"lead_agency": "adult_social_care", "objectives": ["establish_facts"]}
        if caused_to is not None:
            body["caused_to_agency"] = caused_to
        response = await self.create(
            "asc_worker", f"/v1/adult-concerns/{concern.id}/enquiries", body, "enquiry"
        )
        assert response.status_code == 201, response.text
        concern.enquiry_agencies = {"adult_social_care", *([caused_to] if caused_to else [])}
        enquiry_id = response.json()["id"]
        self.model.enquiries.append(enquiry_id)
        self.model.fact(enquiry_id, "an enquiry id", lambda c: knows_ids_of(c, *concern.enquiry_agencies))

    async def plan(self, index: int, owners: frozenset[str]) -> None:
        # A plan is for a known person: a concern whose adult still awaits a match decision (its random
        # identity looked like an earlier one's) has none to plan for.
        concerns = [c for c in self.model.concerns if c.person_id is not None]
        if not concerns or not owners:
            return
        concern = concerns[index % len(concerns)]
        wishes, contingency = marker(), marker()
        tasks = {agency: marker() for agency in sorted(owners)}
        body = {
            "person_id": concern.person_id,
            "lead": {"name": "A. Khan", "role": "Social worker", "agency": "adult_social_care"},
            "adult_wishes": f"To stay at home. {wishes}",
            "actions": [
                {"agency": agency, "description": f"Visit. {task}", "due_date": "2099-01-01"}
                for agency, task in tasks.items()
            ],
            "contingency": f"Call the duty team. {contingency}",
            "review_due_on": "2099-01-01",
        }
        response = await self.create("asc_worker", "/v1/safeguarding-plans", body, "plan")
        assert response.status_code == 201, response.text
        plan_id = response.json()["id"]
        concern.plan_agencies |= owners
        self.model.plans.append(plan_id)
        m = self.model
        m.fact(wishes, "the adult's wishes in a plan", lambda c: c.kind in ("adults_hub", "governance"))
        m.fact(
            contingency,
            "a plan's contingency",
            lambda c: c.kind in ("adults_hub", "governance") or is_partner(c, *owners),
        )
        m.fact(plan_id, "a plan id", lambda c: knows_ids_of(c, *owners))
        for agency, task in tasks.items():
            m.fact(
                task,
                f"{agency}'s action",
                _owner_or_adults_hub(agency),
            )

    # --- reads -------------------------------------------------------------------------------------

    def _pick(self, items: list[Any], index: int) -> Any | None:
        return items[index % len(items)] if items else None

    async def read(self, who: str, what: str, index: int) -> None:
        m = self.model
        referral = self._pick(m.referrals, index)
        contribution = self._pick(m.contributions, index)
        concern = self._pick(m.concerns, index)
        person = self._pick(m.people, index)
        paths = {
            "referrals": "/v1/referrals?limit=200",
            "inbox": "/v1/contributions?limit=200",
            "concerns": "/v1/adult-concerns?limit=200",
            "plans": "/v1/safeguarding-plans?limit=200",
            "people": "/v1/people?limit=200",
            "feed": "/v1/events?limit=200",
            "audit": "/v1/audit-events?limit=200&order=newest_first",
            "cin": "/v1/reports/cin-referrals?from=2000-01-01&to=2100-01-01&limit=200",
        }
        if referral is not None:
            paths["referral"] = f"/v1/referrals/{referral.id}"
            paths["timeline"] = f"/v1/referrals/{referral.id}/timeline"
            paths["referral_contributions"] = f"/v1/referrals/{referral.id}/contributions"
        if contribution is not None:
            paths["contribution"] = f"/v1/contributions/{contribution.id}"
        if concern is not None:
            paths["concern"] = f"/v1/adult-concerns/{concern.id}"
        if m.enquiries:
            paths["enquiry"] = f"/v1/enquiries/{self._pick(m.enquiries, index)}"
        if m.plans:
            paths["plan"] = f"/v1/safeguarding-plans/{self._pick(m.plans, index)}"
        if person is not None:
            paths["person"] = f"/v1/people/{person}"
            paths["export"] = f"/v1/people/{person}/record"
            paths["disclosures"] = f"/v1/people/{person}/disclosures"
        path = paths.get(what)
        if path is not None:
            await self.call(who, "GET", path)

    async def replay(self, who: str, index: int) -> None:
        """Another caller (partners, auditors and the administrator share one ``sub``) retries a
        partner's earlier create with its key and body: the stored answer goes only to the caller that
        made it; anyone else with the scope makes a record of its own."""
        partner_creates = [c for c in self.model.creates if c.kind in ("referral", "concern")]
        create = self._pick(partner_creates, index)
        if create is None:
            return
        caller = CALLERS[who]
        response = await self.call(
            who, "POST", create.path, json=create.body, headers={"Idempotency-Key": create.key}, check=False
        )
        made_it = any(
            c.caller == caller and (c.path, c.key) == (create.path, create.key) for c in self.model.creates
        )
        if response.headers.get("idempotent-replayed") == "true":
            assert made_it, f"{who} was replayed {create.caller.name}'s {create.kind}"
        elif response.status_code == 201:
            assert not made_it, f"{who} made a second {create.kind} with its own key"
            self.model.creates.append(Create(caller, create.path, create.body, create.key, create.kind))
            # The same body: the same markers, now also in a record of this caller's.
            texts = [f.text for f in self.model.facts]
            made = response.json()["id"]
            if create.kind == "referral":
                summary = next(t for t in texts if t in create.body["concern_summary"])
                family = create.body["children"][0]["family_name"]
                await self.track_referral(made, caller, summary, family)
            else:
                described = next(t for t in texts if t in create.body["allegations"][0]["description"])
                views = next(t for t in texts if t in create.body["adult_views"])
                await self.track_concern(made, caller, described, views, create.body["adult"]["family_name"])
        # Checked once what a record of its own allows it is known.
        self.check(caller, "POST", create.path, response)


# --- Steps -------------------------------------------------------------------------------------------

partners = st.sampled_from(PARTNERS)
indices = st.integers(min_value=0, max_value=50)
READS = ("referrals", "inbox", "concerns", "plans", "people", "feed", "audit", "cin", "referral", "timeline",
         "referral_contributions", "contribution", "concern", "enquiry", "plan", "person", "export",
         "disclosures")  # fmt: skip
steps = st.one_of(
    st.tuples(st.just("refer"), partners),
    st.tuples(st.just("ask"), indices, partners),
    st.tuples(st.just("answer"), indices, st.booleans()),
    st.tuples(st.just("decide_referral"), indices),
    st.tuples(st.just("raise_concern"), partners),
    st.tuples(st.just("decide_concern"), indices, st.booleans()),
    st.tuples(st.just("open_enquiry"), indices, st.one_of(st.none(), partners)),
    st.tuples(st.just("plan"), indices, st.frozensets(partners, min_size=1)),
    st.tuples(st.just("read"), st.sampled_from(READERS), st.sampled_from(READS), indices),
    st.tuples(st.just("replay"), st.sampled_from(READERS), indices),
)


async def run(world: World, step: tuple[Any, ...]) -> None:
    action, *args = step
    await getattr(world, action)(*args)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sequence=st.lists(steps, min_size=15, max_size=40))
async def test_nobody_receives_what_the_rules_deny_them(
    databases: Databases, sequence: list[tuple[Any, ...]]
) -> None:
    async with app_of_its_own(databases) as (app, client):
        world = World(client, app)
        for step in sequence:
            await run(world, step)


# --- The oracle is not vacuous ----------------------------------------------------------------------


async def test_the_invariant_sees_what_it_must_and_catches_a_leak(databases: Databases) -> None:
    """One fixed sequence: each allowed reader does receive its markers (so the check is looking at
    real answers), and a planted leak (the hub's view checked as the police) is caught."""
    async with app_of_its_own(databases) as (app, client):
        world = World(client, app)
        await world.refer("police")
        await world.ask(0, "health")
        await world.answer(0, False)
        referral = world.model.referrals[0]
        summary = next(f.text for f in world.model.facts if f.what == "a referral's summary")
        own = await world.call("police", "GET", f"/v1/referrals/{referral.id}")
        assert summary in own.text
        export = await world.call("governance", "GET", f"/v1/people/{world.model.people[0]}/record")
        assert summary in export.text, export.text
        hub_view = await world.client.get(
            f"/v1/referrals/{referral.id}", headers=world.headers["practitioner"]
        )
        with pytest.raises(AssertionError, match="a referral's summary"):
            world.check(CALLERS["health"], "GET", "(the hub's answer)", hub_view)
