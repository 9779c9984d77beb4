"""Subject access: a request logged with its statutory due date, and the export that answers it.

The main case follows one young person through the hub: a child on two referrals (one with a police
answer marked restricted, an open health answer, a decision, a contact with him, his sister and the
household named), then, as an adult, a safeguarding concern with an enquiry, a capacity assessment,
a best interests decision and a plan. His council-wide export (information governance) must hold every
one of those records, leave out the restricted answer and everyone else's personal data, count what it
left out and why, and appear with the partner agencies' reads in both the disclosure log and the audit
trail. Each lead agency's export holds its own side only: nothing of the other side is given, listed
among the recipients or counted as withheld.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from unittest.mock import patch

import httpx
import pytest
from fastapi import FastAPI

from app.core import clock
from app.governance.subject_access.service import due_on, one_calendar_month_after
from tests.fixtures.adults import (
    action,
    advocacy_body,
    allegation,
    assess,
    assessment_body,
    concern_body,
    decide,
    decide_best_interests,
    decision_body,
    make_plan,
    open_enquiry,
    plan_body,
    raise_concern,
    record_advocacy,
    review_body,
    review_plan,
)
from tests.fixtures.callers import TokenFactory, Who
from tests.fixtures.database import audit_events, counting_statements, run_sql
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.people import create_person
from tests.fixtures.referrals import (
    NOT_CONSENTED,
    answer,
    ask,
    child_decision,
    create_referral,
    override_consent,
    propose_and_approve,
    rate,
    referral_body,
    unique_child,
)
from tests.fixtures.values import NHS_AMELIA, Body, Headers, sql_id, unique_family_name

# In a form both SQLite (text) and PostgreSQL (timestamptz) accept.
TWO_YEARS_AGO = f"{clock.today().year - 2}-03-01 10:00:00.000000"
NEARLY_TWO_YEARS_AGO = f"{clock.today().year - 2}-05-20 15:30:00.000000"


@contextmanager
def when_kai_was_a_child() -> Iterator[None]:
    """The calendar of the day the referrals about Kai were made (their times are moved there after)."""
    day = date(clock.today().year - 2, 5, 20)
    with patch.object(clock, "today", lambda: day):
        yield


# What each side holds about Kai, as recorded: never in an export of the other side.
CHILDRENS_SIDE = (
    "Kai attends the CAMHS clinic monthly.",  # health's answer
    "Police attended a domestic incident overnight",  # the police's referral
    "His aunt says he has been missing overnight",
    "Saw Kai at school; he is worried.",  # a communication
    "Repeated domestic abuse with the child present",  # the threshold decision's rationale
)
ADULTS_SIDE = (
    "He wants to keep his flat.",
    "His benefits are being taken from him.",
    "Recorded against each criterion.",  # the section 42 rationale
    "Phone Dr Patel with the outcome.",  # feedback to the raiser
    "Whether to let her son manage her bank account",  # the capacity assessment
    "Alzheimer",
    "Her daughter applies to be deputy",  # the best interests decision
)
# What must never appear in any export: the restricted answer and other people's details.
RESTRICTED_ANSWER = "Intelligence links the household to a county lines network."
HIDDEN = (
    RESTRICTED_ANSWER,
    "Mireille",  # his sister, the other child on the first referral
    "Sarahbeth",  # his mother (household)
    "Dorian",  # his mother's partner (household)
    "Josephine Auntie",  # a relative who referred him (private individual)
    "07700 900123",  # her phone
    "Jane Hughes",  # consulted on the best interests decision
    "Grandma Rosalind",  # named in the plan as protecting him
    "stepfather figure",  # the person alleged to have caused harm
)

# What each side withholds from Kai's export (by reason and kind, counted) and to whom it says his
# information was given (trigger, record type, agency; sorted).
CHILDRENS_WITHHELD = {
    ("restricted_contribution", "contribution"): 1,
    ("restricted_contribution", "recipient"): 1,  # the police were asked: that points at the answer
    ("third_party", "other_child"): 1,
    ("third_party", "household_member"): 2,
    ("third_party", "referrer"): 1,
    ("third_party", "sibling"): 1,
}
ADULTS_WITHHELD = {
    ("third_party", "alleged_person"): 1,
    ("third_party", "best_interests_consultee"): 1,
    ("third_party", "protective_people"): 1,
}
CHILDRENS_RECIPIENTS = [
    ("contribution_request", "contribution", "health"),
    ("contribution_request", "contribution", "health"),  # health was asked on both referrals
    ("read", "referral", "health"),
    ("read", "referral", "police"),
]
# What each side's export counts in the audit trail, by kind of record.
CHILDRENS_RECORDS = {
    "referrals": 2,
    "contributions": 2,
    "threshold_decisions": 1,
    "communications": 1,
    "assessments": 0,
    "strategy_discussions": 0,
    "section_47_enquiries": 0,
}
ADULTS_RECORDS = {
    "adult_concerns": 1,
    "capacity_assessments": 1,
    "safeguarding_plans": 1,
    "safeguarding_adults_reviews": 1,
}
# The adults' side of an export of someone with no adult records.
NO_ADULT_RECORDS: dict[str, list[Body]] = {
    "concerns": [],
    "capacity_assessments": [],
    "safeguarding_plans": [],
    "safeguarding_adults_reviews": [],
}
ADULTS_RECIPIENTS = [
    ("read", "adult_concern", "health"),
    ("read", "enquiry", "police"),
    ("read", "safeguarding_plan", "police"),
]


@dataclass
class Story:
    person_id: str
    family_name: str
    first: str  # referral by the police, about him and his sister
    second: str  # referral taken by the hub from a relative
    open_answer: str  # health's answer on the first referral
    restricted_answer: str  # the police's restricted answer on the first referral
    second_request: str  # health asked on the second referral, not yet answered
    decision: str
    communication: str
    concern: str
    enquiry: str
    assessment: str
    best_interests: str
    plan: str
    review: str
    safeguarding_adults_review: str  # considered by the Board, not commissioned


async def health_answers_and_the_police_restrict(
    http: httpx.AsyncClient, who: Who, referral_id: str, health_says: str
) -> dict[str, str]:
    """Health and the police are asked about a rated referral; health answers, the police answer
    ``RESTRICTED_ANSWER``, restricted. Returns each agency's request id."""
    asked = {
        c["agency"]: c["id"] for c in await ask(http, who["practitioner"], referral_id, "health", "police")
    }
    await answer(http, who["health"], asked["health"], information=health_says)
    await answer_restricted(http, who["police"], asked["police"], "Live operation.")
    return asked


async def answer_restricted(http: httpx.AsyncClient, headers: Headers, request_id: str, reason: str) -> None:
    """``RESTRICTED_ANSWER`` to the request, restricted for ``reason``: what no export may show."""
    await answer(
        http, headers, request_id, information=RESTRICTED_ANSWER, restricted=True, restriction_reason=reason
    )


async def tell_the_story(http: httpx.AsyncClient, who: Who, app: FastAPI) -> Story:
    family = unique_family_name()
    kai = {
        "given_name": "Kai",
        "family_name": family,
        # Eighteen or nineteen now: a child when referred (the referrals are dated two years back below).
        "date_of_birth": date(clock.today().year - 19, 6, 15).isoformat(),
        "nhs_number": NHS_AMELIA,
    }
    sister = {"given_name": "Mireille", "family_name": family, "date_of_birth": "2013-04-02"}
    household = [
        {
            "given_name": "Sarahbeth",
            "family_name": family,
            "relationship": "mother",
            "lives_with_children": True,
        },
        {"given_name": "Dorian", "family_name": "Voss", "relationship": "parents_partner"},
    ]

    # 1. The police refer Kai and his sister without the parents' consent; the hub overrides it. (Two
    # years ago, when Kai was a child: a referral is for the under-18s on the day it is made.)
    with when_kai_was_a_child():
        first = await create_referral(
            http,
            who["police"],
            referral_body(
                kai,
                sister,
                household=household,
                parental_consent=NOT_CONSENTED,
                do_not_inform_parents=True,
                do_not_inform_reason="Telling the household would put the children at risk.",
            ),
        )
    await override_consent(
        http,
        who["manager"],
        first["id"],
        reason="Risk of significant harm.",
        special_category_condition="uk_gdpr_9_2_g_dpa_2018_sch_1_para_18",
    )
    await rate(http, who["practitioner"], first["id"])
    asked = await health_answers_and_the_police_restrict(
        http, who, first["id"], "Kai attends the CAMHS clinic monthly."
    )
    communication = ok(
        await http.post(
            f"/v1/referrals/{first['id']}/communications",
            json={"audience": "child", "method": "in_person", "summary": "Saw Kai at school; he is worried."},
            headers=who["practitioner"],
        ),
        201,
    )
    # Kai's sister goes to early help with her own primary need: her decision is hers, not in Kai's record.
    sister_entry = {
        "child_id": first["children"][1]["id"],
        "level": 2,
        "outcome": "early_help",
        "primary_need": "N8",
    }
    decision = await propose_and_approve(
        http, who["practitioner"], who["manager2"], first["id"], children=[sister_entry]
    )

    # 2. A relative phones the hub about Kai: a private individual's referral (source 1A).
    with when_kai_was_a_child():
        second = await create_referral(
            http,
            who["practitioner"],
            referral_body(
                kai,
                referral_source="1A",
                referrer={"name": "Josephine Auntie", "phone": "07700 900123"},
                concern_summary="His aunt says he has been missing overnight twice this month.",
            ),
        )
    await rate(http, who["practitioner"], second["id"], "green")
    (second_request,) = await ask(http, who["practitioner"], second["id"], "health")

    # Both referrals name the same person: matched by NHS number, name and date of birth.
    full = ok(await http.get(f"/v1/referrals/{first['id']}", headers=who["practitioner"]))
    person_id = next(c["person_id"] for c in full["children"] if c["given_name"] == "Kai")
    again = ok(await http.get(f"/v1/referrals/{second['id']}", headers=who["practitioner"]))
    assert again["children"][0]["person_id"] == person_id

    # Those referrals were made while he was a child.
    await run_sql(
        app,
        *(
            f"UPDATE referrals SET received_at = '{when}', created_at = '{when}' WHERE id = '{sql_id(r['id'])}'"
            for r, when in ((first, TWO_YEARS_AGO), (second, NEARLY_TWO_YEARS_AGO))
        ),
    )

    # 3. As an adult: a concern raised by his GP, matched to the same person.
    concern = await raise_concern(
        http,
        who["health"],
        concern_body(
            allegation(
                type_of_risk="financial_or_material",
                description="His benefits are being taken from him.",
                alleged_person={"relationship": "stepfather figure", "lives_with_adult": True},
            ),
            adult={**kai, "postcode": "E17 5JW"},
            adult_views="He wants to keep his flat.",
            raised_by={"name": "Dr Patel", "role": "GP", "phone": "020 7946 0101"},
        ),
    )
    concern_full = ok(await http.get(f"/v1/adult-concerns/{concern['id']}", headers=who["worker"]))
    assert concern_full["adult"]["person_id"] == person_id, concern_full["match"]
    await decide(http, who["asc_manager"], concern["id"])
    enquiry = await open_enquiry(http, who["worker"], concern["id"], caused_to_agency="police")
    ok(
        await record_advocacy(
            http, who["worker"], concern["id"], advocacy_body(difficulty=False, offer="not_required")
        ),
        201,
    )
    assessment = await assess(http, who["worker"], assessment_body(person_id, concern_id=concern["id"]))
    best_interests = await decide_best_interests(http, who["worker"], assessment["id"])
    plan = await make_plan(
        http,
        who["worker"],
        plan_body(
            person_id,
            action("police"),
            action("housing"),
            concern_id=concern["id"],
            protective_people="Grandma Rosalind visits daily.",
        ),
    )
    reviewed = ok(await review_plan(http, who["worker"], plan["id"], review_body()), 201)
    sar = ok(
        await http.post(
            "/v1/safeguarding-adults-reviews",
            json={"person_id": person_id, "concern_ids": [concern["id"]], "referred_on": "2026-11-10",
                  "adult_died": False, "criteria": "not_met", "decision_on": "2026-11-20",
                  "rationale": "No serious harm; agencies worked together.", "commissioned": False},
            headers=who["asc_manager"],
        ),
        201,
    )  # fmt: skip

    # 4. Partner agencies read what others recorded: each read is a disclosure.
    for agency, url in (
        ("health", f"/v1/referrals/{first['id']}"),  # asked for information
        ("police", f"/v1/referrals/{first['id']}"),  # the referrer, after the hub rated and decided it
        ("police", f"/v1/safeguarding-plans/{plan['id']}"),  # owns an action in the plan
        ("police", f"/v1/enquiries/{enquiry['id']}"),  # the enquiry was caused to it
        ("health", f"/v1/adult-concerns/{concern['id']}"),  # raised it; adult social care decided it
    ):
        ok(await http.get(url, headers=who[agency]))

    return Story(
        person_id=person_id,
        family_name=family,
        first=first["id"],
        second=second["id"],
        open_answer=asked["health"],
        restricted_answer=asked["police"],
        second_request=second_request["id"],
        decision=decision["id"],
        communication=communication["id"],
        concern=concern["id"],
        enquiry=enquiry["id"],
        assessment=assessment["id"],
        best_interests=best_interests["id"],
        plan=plan["id"],
        review=reviewed["id"],
        safeguarding_adults_review=sar["id"],
    )


async def log_request(
    http: httpx.AsyncClient, headers: Headers, person_id: str, **fields: Any
) -> httpx.Response:
    body: Body = {
        "received_on": clock.today().isoformat(),
        "requester": {"name": "Kai", "relationship": "data_subject", "email": "kai@example.org"},
        "identity_verified": True,
        **fields,
    }
    return await http.post(f"/v1/people/{person_id}/subject-access-requests", json=body, headers=headers)


async def answer_request(
    http: httpx.AsyncClient, who: Who, story: Story, **headers: str
) -> tuple[Body, httpx.Response]:
    """Information governance logs Kai's request and exports his council-wide record to answer it."""
    sar = ok(await log_request(http, who["governance"], story.person_id), 201)
    response = await http.get(
        f"/v1/people/{story.person_id}/record",
        params={"request_id": sar["id"]},
        headers={**who["governance"], **headers},
    )
    return sar, response


async def _new_person(http: httpx.AsyncClient, headers: Headers, given_name: str, date_of_birth: str) -> Body:
    """A person with no records yet, of a family name no other test uses."""
    body = {"given_name": given_name, "family_name": unique_family_name(), "date_of_birth": date_of_birth}
    return await create_person(http, headers, body)


# ---------------------------------------------------------------------------------------------------
# The export


async def test_the_council_wide_export_holds_every_record_and_withholds_the_restricted_answer_and_third_parties(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    story = await tell_the_story(client, who, app)
    sar, response = await answer_request(client, who, story)
    export = ok(response)

    assert export["person"]["id"] == story.person_id
    assert export["person"]["given_name"] == "Kai"
    assert export["generated_by"] == {
        "sub": "ig-officer",
        "agency": "council",
        "role": "information_governance",
    }
    assert export["sides"] == ["children", "adults"]
    assert export["subject_access_request"]["id"] == sar["id"]
    assert export["subject_access_request"]["status"] == "fulfilled"
    for recorded in CHILDRENS_SIDE + ADULTS_SIDE:
        assert recorded in response.text, recorded

    # Children's records: both referrals, oldest first, with what each says about him.
    first, second = export["children"]["referrals"]
    assert (first["id"], second["id"]) == (story.first, story.second)
    assert first["named_as"]["given_name"] == "Kai"
    assert first["concern_summary"] == referral_body()["concern_summary"]
    assert first["referrer"]["name"] == "PC Dawson"  # a police officer acting in her role
    assert first["consent_override"]["lawful_basis"] == "uk_gdpr_6_1_e_public_task"
    assert first["do_not_inform_parents"] is True
    assert first["do_not_inform_reason"] == "Telling the household would put the children at risk."
    assert first["rag"]["rating"] == "amber"
    assert [c["id"] for c in first["contributions"]] == [story.open_answer]  # not the restricted one
    (open_answer,) = first["contributions"]
    assert open_answer["agency"] == "health"
    assert [a["information"] for a in open_answer["answers"]] == ["Kai attends the CAMHS clinic monthly."]
    (decision,) = first["threshold_decisions"]
    assert decision["id"] == story.decision
    assert (
        decision["rationale"]
        == "Repeated domestic abuse with the child present; needs a section 17 assessment."
    )
    assert decision["status"] == "approved"
    # The decision on Kai, not on his sister (third-party data).
    assert decision["children"] == [child_decision(decision["children"][0]["child_id"])]
    assert "N8" not in response.text and "early_help" not in response.text
    assert [c["id"] for c in first["communications"]] == [story.communication]
    assert first["outcome"]["decision_id"] == story.decision
    assert "household" not in first and "children" not in first
    assert second["referrer"] is None  # a relative: a private individual
    assert second["concern_summary"] == "His aunt says he has been missing overnight twice this month."
    assert [(c["id"], c["status"], c["answers"]) for c in second["contributions"]] == [
        (story.second_request, "requested", [])
    ]

    # Adults' records.
    (concern,) = export["adults"]["concerns"]
    assert concern["id"] == story.concern
    assert concern["raised_by"] == {"name": "Dr Patel", "role": "GP", "phone": "020 7946 0101"}
    assert concern["adult_views"] == "He wants to keep his flat."
    (alleged,) = concern["allegations"]
    assert alleged["description"] == "His benefits are being taken from him."
    assert "alleged_person" not in alleged
    assert concern["section_42_decision"]["decision"] == "section_42_enquiry"
    assert concern["section_42_decision"]["rationale"] == "Recorded against each criterion."
    assert concern["enquiry"]["id"] == story.enquiry
    assert concern["enquiry"]["caused_to_agency"] == "police"
    assert [a["offer"] for a in concern["advocacy"]] == ["not_required"]
    (assessment,) = export["adults"]["capacity_assessments"]
    assert assessment["id"] == story.assessment
    assert assessment["outcome"] == "lacks_capacity"
    assert assessment["best_interests_decision"]["id"] == story.best_interests
    assert "consultees" not in assessment["best_interests_decision"]
    (plan,) = export["adults"]["safeguarding_plans"]
    assert plan["id"] == story.plan
    assert sorted(a["agency"] for a in plan["actions"]) == ["housing", "police"]
    assert [r["id"] for r in plan["reviews"]] == [story.review]
    assert "protective_people" not in plan
    (sar,) = export["adults"]["safeguarding_adults_reviews"]
    assert (sar["id"], sar["status"], sar["concern_ids"]) == (
        story.safeguarding_adults_review,
        "not_commissioned",
        [story.concern],
    )

    # Withheld: counted by reason and kind, never shown.
    assert export["withheld"]["by_reason"] == {"restricted_contribution": 2, "third_party": 8}
    assert export["withheld"]["total"] == 10
    assert _withheld(export) == {**CHILDRENS_WITHHELD, **ADULTS_WITHHELD}
    text = response.text
    for hidden in HIDDEN:
        assert hidden not in text, hidden
    assert story.restricted_answer not in text

    # To whom his information was given before this export (Art 15(1)(c)), but for the request whose
    # answer is withheld.
    assert _recipients(export) == sorted(CHILDRENS_RECIPIENTS + ADULTS_RECIPIENTS)


async def test_the_export_and_the_reads_are_in_the_disclosure_log_and_the_audit_trail(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    story = await tell_the_story(client, who, app)
    sar, exported = await answer_request(client, who, story, **{"X-Request-ID": "req-sar-export"})
    assert exported.status_code == 200, exported.text

    log = ok(await client.get(f"/v1/people/{story.person_id}/disclosures", headers=who["governance"]))
    latest = log["items"][0]  # newest first
    assert latest["trigger"] == "export"
    assert latest["record_type"] == "person" and latest["record_id"] == story.person_id
    assert latest["recipient_type"] == "data_subject" and latest["recipient_agency"] is None
    assert latest["purpose"] == "subject_access_request"
    assert latest["lawful_basis"] == "uk_gdpr_6_1_c_legal_obligation"
    assert latest["subject_access_request_id"] == sar["id"]
    assert latest["disclosed_by"] == {
        "sub": "ig-officer",
        "agency": "council",
        "role": "information_governance",
    }
    assert latest["request_id"] == "req-sar-export"
    reads = {
        (d["record_type"], d["record_id"], d["recipient_agency"])
        for d in log["items"]
        if d["trigger"] == "read"
    }
    assert reads == {
        ("referral", story.first, "health"),
        ("referral", story.first, "police"),
        ("safeguarding_plan", story.plan, "police"),
        ("enquiry", story.enquiry, "police"),
        ("adult_concern", story.concern, "health"),
    }
    assert len(log["items"]) == 9

    # The audit trail: the export, with counts and no personal data, and each partner's read.
    (export_event,) = await audit_events(app, action="export")
    assert (export_event.record_type, export_event.record_id) == ("person", story.person_id)
    assert str(export_event.person_id) == story.person_id
    assert (export_event.actor_sub, export_event.actor_agency) == ("ig-officer", "council")
    assert export_event.request_id == "req-sar-export"
    assert export_event.details["subject_access_request_id"] == sar["id"]
    assert export_event.details["sides"] == ["children", "adults"]
    assert export_event.details["records"] == {**CHILDRENS_RECORDS, **ADULTS_RECORDS}
    assert export_event.details["withheld"] == {"restricted_contribution": 2, "third_party": 8}
    serialised = json.dumps(export_event.details)
    for personal in ("Kai", story.family_name, *HIDDEN):
        assert personal not in serialised
    partner_reads = {
        (e.actor_agency, e.record_type, e.record_id)
        for e in await audit_events(app, action="read")
        if e.actor_agency in ("health", "police")
    }
    assert {
        ("health", "referral", story.first),
        ("police", "referral", story.first),
        ("police", "safeguarding_plan", story.plan),
        ("police", "enquiry", story.enquiry),
        ("health", "adult_concern", story.concern),
    } <= partner_reads
    (listed,) = await audit_events(app, action="list", record_type="disclosure")
    assert str(listed.person_id) == story.person_id
    assert listed.actor_sub == "ig-officer"

    # Each lead agency reads the entries about its own side's records, and the export that covered it.
    url = f"/v1/people/{story.person_id}/disclosures"
    childrens = (ok(await client.get(url, headers=who["practitioner"])))["items"]
    assert sorted((d["trigger"], d["record_type"], d["recipient_agency"]) for d in childrens) == [
        ("contribution_request", "contribution", "health"),
        ("contribution_request", "contribution", "health"),
        ("contribution_request", "contribution", "police"),
        ("export", "person", None),
        ("read", "referral", "health"),
        ("read", "referral", "police"),
    ]
    adults = (ok(await client.get(url, headers=who["worker"])))["items"]
    assert sorted((d["trigger"], d["record_type"], d["recipient_agency"]) for d in adults) == [
        ("export", "person", None),
        ("read", "adult_concern", "health"),
        ("read", "enquiry", "police"),
        ("read", "safeguarding_plan", "police"),
    ]


async def test_the_export_of_someone_with_no_records_is_just_their_person_record(
    client: httpx.AsyncClient, who: Who
) -> None:
    person = await _new_person(client, who["worker"], "Noor", "1990-02-02")
    export = ok(await client.get(f"/v1/people/{person['id']}/record", headers=who["governance"]))
    assert export["person"]["id"] == person["id"]
    assert export["subject_access_request"] is None
    assert export["sides"] == ["children", "adults"]
    assert export["children"] == {"referrals": []}
    assert export["adults"] == NO_ADULT_RECORDS
    assert export["recipients"] == []
    assert export["withheld"] == {
        "total": 0,
        "by_reason": {"restricted_contribution": 0, "third_party": 0},
        "items": [],
    }
    own_side = ok(await client.get(f"/v1/people/{person['id']}/record", headers=who["worker"]))
    assert (own_side["sides"], own_side["children"]) == (["adults"], None)
    assert own_side["adults"] == export["adults"] and own_side["withheld"] == export["withheld"]


async def test_an_answer_corrected_out_of_restriction_is_given_without_its_restricted_version(
    client: httpx.AsyncClient, who: Who
) -> None:
    child = {"given_name": "Ola", "family_name": unique_family_name(), "date_of_birth": "2016-06-06"}
    referral = await create_referral(client, who["police"], referral_body(child))
    await rate(client, who["practitioner"], referral["id"])
    (request,) = await ask(client, who["practitioner"], referral["id"], "health")
    await answer_restricted(client, who["health"], request["id"], "Police asked us to hold it.")
    await answer(
        client,
        who["health"],
        request["id"],
        information="Seen at the clinic in May.",
        correction_reason="The police have lifted the restriction; the note about them is removed.",
    )
    full = ok(await client.get(f"/v1/referrals/{referral['id']}", headers=who["practitioner"]))
    person_id = full["children"][0]["person_id"]

    response = await client.get(f"/v1/people/{person_id}/record", headers=who["practitioner"])
    export = ok(response)
    (given,) = export["children"]["referrals"][0]["contributions"]
    assert [(a["version"], a["information"]) for a in given["answers"]] == [(2, "Seen at the clinic in May.")]
    assert export["withheld"]["items"] == [
        {"reason": "restricted_contribution", "kind": "contribution_version", "count": 1}
    ]
    assert RESTRICTED_ANSWER not in response.text


async def test_the_export_takes_the_same_number_of_queries_however_many_records_a_person_has(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    """No query per record: a person with one referral and one with three referrals, answers,
    decisions, a concern, an assessment and a plan are exported in the same number of statements."""
    few = {"given_name": "Ada", "family_name": unique_family_name(), "date_of_birth": "2015-01-01"}
    referral = await create_referral(client, who["police"], referral_body(few))
    few_id = (ok(await client.get(f"/v1/referrals/{referral['id']}", headers=who["practitioner"])))[
        "children"
    ][0]["person_id"]
    story = await tell_the_story(client, who, app)

    with counting_statements(app) as small:
        ok(await client.get(f"/v1/people/{few_id}/record", headers=who["practitioner"]))
    with counting_statements(app) as large:
        ok(await client.get(f"/v1/people/{story.person_id}/record", headers=who["practitioner"]))
    assert len(large) == len(small), "\n".join(large)
    assert len(large) <= 30


# ---------------------------------------------------------------------------------------------------
# Who may export, and bad input


NOTHING_WITHHELD = {"total": 0, "by_reason": {"restricted_contribution": 0, "third_party": 0}, "items": []}


def _withheld(export: Body) -> dict[tuple[str, str], int]:
    return {(i["reason"], i["kind"]): i["count"] for i in export["withheld"]["items"]}


def _recipients(export: Body) -> list[tuple[str, str, str | None]]:
    return sorted((r["trigger"], r["record_type"], r["recipient_agency"]) for r in export["recipients"])


async def _one_side(
    client: httpx.AsyncClient,
    who: Who,
    story: Story,
    reader: str,
    side: str,
    kept_from_it: tuple[str, ...],
) -> Body:
    """``reader``'s export of Kai: ``side`` only, as recorded, nothing of ``kept_from_it``."""
    response = await client.get(f"/v1/people/{story.person_id}/record", headers=who[reader])
    export = ok(response)
    other = "adults" if side == "children" else "children"
    assert (export["sides"], export[other]) == ([side], None)
    for recorded in CHILDRENS_SIDE if side == "children" else ADULTS_SIDE:
        assert recorded in response.text, recorded
    for withheld in kept_from_it:
        assert withheld not in response.text, withheld
    return export


async def test_childrens_social_care_exports_the_childrens_side_only(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    """Kai's adult records (concern, s42 rationale, feedback, capacity, best interests, plan) are adult
    social care's: not given, not listed among the recipients, not counted as withheld."""
    story = await tell_the_story(client, who, app)
    adults_side = (
        *ADULTS_SIDE,
        story.concern,
        story.enquiry,
        story.assessment,
        story.plan,
        story.safeguarding_adults_review,
    )
    export = await _one_side(client, who, story, "practitioner", "children", adults_side)
    assert [r["id"] for r in export["children"]["referrals"]] == [story.first, story.second]
    assert _recipients(export) == CHILDRENS_RECIPIENTS
    assert _withheld(export) == CHILDRENS_WITHHELD
    (event,) = await audit_events(app, action="export")
    assert event.details["sides"] == ["children"]
    assert event.details["records"] == CHILDRENS_RECORDS


async def test_adult_social_care_exports_the_adults_side_only(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    """Kai's referrals (the police's concern, health's answer, the decision, his sister) are children's
    social care's: not given, not listed among the recipients, not counted as withheld."""
    story = await tell_the_story(client, who, app)
    childrens_side = (*CHILDRENS_SIDE, story.first, story.second, story.open_answer, story.decision)
    export = await _one_side(client, who, story, "worker", "adults", childrens_side)
    assert [c["id"] for c in export["adults"]["concerns"]] == [story.concern]
    assert [a["id"] for a in export["adults"]["capacity_assessments"]] == [story.assessment]
    assert [p["id"] for p in export["adults"]["safeguarding_plans"]] == [story.plan]
    assert [r["id"] for r in export["adults"]["safeguarding_adults_reviews"]] == [
        story.safeguarding_adults_review
    ]
    assert _recipients(export) == ADULTS_RECIPIENTS
    assert _withheld(export) == ADULTS_WITHHELD


async def test_adult_social_care_is_given_nothing_of_a_childs_record(
    client: httpx.AsyncClient, who: Who
) -> None:
    """The probe: adult social care exported a child's record with the police's concern and health's
    answer. Now it gets the person and an empty adults' side; the children's side is out of scope."""
    summary = "Officers found the child alone at home at two in the morning."
    referral = await create_referral(
        client, who["police"], referral_body(unique_child(), concern_summary=summary)
    )
    await rate(client, who["practitioner"], referral["id"])
    asked = await health_answers_and_the_police_restrict(
        client, who, referral["id"], "The health visitor saw bruising."
    )
    ok(await client.get(f"/v1/referrals/{referral['id']}", headers=who["health"]))  # a disclosure
    full = ok(await client.get(f"/v1/referrals/{referral['id']}", headers=who["practitioner"]))
    person_id = full["children"][0]["person_id"]

    response = await client.get(f"/v1/people/{person_id}/record", headers=who["worker"])
    export = ok(response)
    assert export["sides"] == ["adults"]
    assert export["children"] is None
    assert export["adults"] == NO_ADULT_RECORDS
    assert export["recipients"] == []
    assert export["withheld"] == NOTHING_WITHHELD
    for child_side in (
        summary,
        "The health visitor saw bruising.",
        RESTRICTED_ANSWER,
        "PC Dawson",
        *asked.values(),
    ):
        assert child_side not in response.text, child_side
    assert referral["id"] not in response.text

    # Children's social care gets all of it, the restricted answer withheld and counted.
    own = ok(await client.get(f"/v1/people/{person_id}/record", headers=who["practitioner"]))
    assert (own["sides"], own["adults"]) == (["children"], None)
    (given,) = own["children"]["referrals"]
    assert given["concern_summary"] == summary
    assert [c["id"] for c in given["contributions"]] == [asked["health"]]
    assert sorted((r["trigger"], r["recipient_agency"]) for r in own["recipients"]) == [
        ("contribution_request", "health"),
        ("read", "health"),
    ]
    assert _withheld(own) == {
        ("restricted_contribution", "contribution"): 1,
        ("restricted_contribution", "recipient"): 1,
    }


async def test_childrens_social_care_is_given_nothing_of_an_adults_record(
    client: httpx.AsyncClient, who: Who
) -> None:
    """The probe: children's social care exported an adult's capacity assessment, best interests
    decision, section 42 rationale and limited feedback. Now it gets the person and an empty children's
    side."""
    concern = await raise_concern(client, who["health"], concern_body())
    full = ok(await client.get(f"/v1/adult-concerns/{concern['id']}", headers=who["worker"]))
    person_id = full["adult"]["person_id"]
    rationale = "All three criteria met: an enquiry under section 42 is needed."
    feedback = "Tell Dr Patel that an enquiry is under way, nothing more."
    limited = "A police investigation into her son is under way."
    await decide(
        client,
        who["asc_manager"],
        concern["id"],
        decision_body(rationale=rationale, referrer_feedback=feedback, feedback_limited_reason=limited),
    )
    assessment = await assess(client, who["worker"], assessment_body(person_id, concern_id=concern["id"]))
    best_interests = await decide_best_interests(client, who["worker"], assessment["id"])
    ok(await client.get(f"/v1/adult-concerns/{concern['id']}", headers=who["health"]))  # a disclosure

    response = await client.get(f"/v1/people/{person_id}/record", headers=who["practitioner"])
    export = ok(response)
    assert export["sides"] == ["children"]
    assert export["adults"] is None
    assert export["children"] == {"referrals": []}
    assert export["recipients"] == []
    assert export["withheld"] == NOTHING_WITHHELD
    for adult_side in (
        rationale,
        feedback,
        limited,
        "Whether to let her son manage her bank account",  # the capacity assessment
        "Alzheimer",
        "Her daughter applies to be deputy",  # the best interests decision
        "Her son has been withdrawing large sums",  # an allegation
        concern["id"],
        assessment["id"],
        best_interests["id"],
    ):
        assert adult_side not in response.text, adult_side

    # Adult social care gets all of it.
    own = ok(await client.get(f"/v1/people/{person_id}/record", headers=who["worker"]))
    assert (own["sides"], own["children"]) == (["adults"], None)
    (given,) = own["adults"]["concerns"]
    assert given["section_42_decision"]["rationale"] == rationale
    assert given["section_42_decision"]["feedback_limited_reason"] == limited
    assert [a["id"] for a in own["adults"]["capacity_assessments"]] == [assessment["id"]]
    assert [(r["trigger"], r["record_type"]) for r in own["recipients"]] == [("read", "adult_concern")]


async def test_who_may_export(client: httpx.AsyncClient, who: Who, auth: TokenFactory, app: FastAPI) -> None:
    """The lead agencies (people:read) their side, information governance (subject_access:export) both;
    partner agencies, auditors and administrators have neither scope."""
    story = await tell_the_story(client, who, app)
    sides = {}
    for role in ("practitioner", "manager", "worker", "asc_manager", "governance"):
        export = ok(await client.get(f"/v1/people/{story.person_id}/record", headers=who[role]))
        sides[role] = export["sides"]
    assert sides == {
        "practitioner": ["children"],
        "manager": ["children"],
        "worker": ["adults"],
        "asc_manager": ["adults"],
        "governance": ["children", "adults"],
    }
    for headers in (
        who["police"],
        who["health"],
        who["auditor"],
        auth("auditor", "council", sub="council-auditor"),
        auth("admin", "childrens_social_care"),
    ):
        response = await client.get(f"/v1/people/{story.person_id}/record", headers=headers)
        problem = assert_problem(response, 403, "insufficient_scope")
        assert "people:read subject_access:export" in problem["detail"]


async def test_exporting_an_unknown_person_is_not_found_and_writes_nothing(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    unknown = uuid.uuid4()
    assert_problem(
        await client.get(f"/v1/people/{unknown}/record", headers=who["practitioner"]), 404, "not_found"
    )
    assert_problem(await log_request(client, who["practitioner"], str(unknown)), 404, "not_found")
    assert await audit_events(app, action="export") == []


async def test_the_request_an_export_answers_must_be_about_that_person(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    people = [await _new_person(client, who["worker"], name, "1980-01-01") for name in ("Una", "Vic")]
    sar = ok(await log_request(client, who["worker"], people[0]["id"]), 201)
    for request_id in (sar["id"], str(uuid.uuid4())):
        response = await client.get(
            f"/v1/people/{people[1]['id']}/record", params={"request_id": request_id}, headers=who["worker"]
        )
        problem = assert_problem(response, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["query", "request_id"]
    assert_problem(
        await client.get(f"/v1/people/{people[1]['id']}/record?request_id=nope", headers=who["worker"]),
        422,
        "validation_failed",
    )
    unchanged = ok(await client.get(f"/v1/subject-access-requests/{sar['id']}", headers=who["worker"]))
    assert unchanged["status"] == "open"
    assert await audit_events(app, action="export") == []


# ---------------------------------------------------------------------------------------------------
# Requests and their due date


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-03-31", "2026-04-30"),  # the corresponding date
        ("2026-05-31", "2026-06-30"),  # no 31 June: the last day of June
        ("2028-01-31", "2028-02-29"),  # a leap year: 29 February
        ("2029-01-31", "2029-02-28"),  # not a leap year
        ("2026-01-31", "2026-03-02"),  # 28 February 2026 is a Saturday: the next working day
        ("2027-01-31", "2027-03-01"),  # 28 February 2027 is a Sunday
        ("2026-12-31", "2027-02-01"),  # into the new year; 31 January 2027 is a Sunday
        ("2026-11-28", "2026-12-29"),  # 28 December 2026 is the substitute Boxing Day bank holiday
        ("2026-03-03", "2026-04-07"),  # Good Friday, the weekend and Easter Monday
    ],
)
def test_due_one_calendar_month_after_receipt(received: str, due: str) -> None:
    assert due_on(date.fromisoformat(received)) == date.fromisoformat(due)


def test_one_calendar_month_is_the_corresponding_date_or_the_last_day_of_the_month() -> None:
    assert one_calendar_month_after(date(2026, 1, 31)) == date(2026, 2, 28)
    assert one_calendar_month_after(date(2028, 1, 30)) == date(2028, 2, 29)
    assert one_calendar_month_after(date(2026, 1, 15)) == date(2026, 2, 15)
    assert one_calendar_month_after(date(2026, 12, 5)) == date(2027, 1, 5)


async def test_logging_a_request_stores_its_due_date_and_an_export_fulfils_it(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    person = await _new_person(client, who["practitioner"], "Wren", "2012-07-07")
    # Received on 31 January 2026: one calendar month is 28 February, a Saturday, so Monday 2 March.
    response = await log_request(
        client,
        {**who["practitioner"], "Idempotency-Key": "sar-wren-1"},
        person["id"],
        received_on="2026-01-31",
        requester={"name": "Ruth Example", "relationship": "parent_or_guardian", "postcode": "e17 4uh"},
        authority_confirmed=True,
    )
    sar = ok(response, 201)
    assert response.headers["location"] == f"/v1/subject-access-requests/{sar['id']}"
    assert sar["person_id"] == person["id"]
    assert (sar["received_on"], sar["due_on"]) == ("2026-01-31", "2026-03-02")
    assert sar["status"] == "open" and sar["overdue"] is True
    assert sar["requester"] == {
        "name": "Ruth Example",
        "relationship": "parent_or_guardian",
        "email": None,
        "phone": None,
        "address_lines": None,
        "postcode": "E17 4UH",
    }
    assert (sar["identity_verified"], sar["authority_confirmed"]) == (True, True)
    assert (sar["logged_by"], sar["logged_by_agency"]) == ("practitioner-ann", "childrens_social_care")

    # A retry with the same key is the same request, not a second one.
    replay = await log_request(
        client,
        {**who["practitioner"], "Idempotency-Key": "sar-wren-1"},
        person["id"],
        received_on=sar["received_on"],
        requester={"name": "Ruth Example", "relationship": "parent_or_guardian", "postcode": "e17 4uh"},
        authority_confirmed=True,
    )
    assert replay.status_code == 201 and replay.json()["id"] == sar["id"]
    assert replay.headers["idempotent-replayed"] == "true"

    got = await client.get(f"/v1/subject-access-requests/{sar['id']}", headers=who["worker"])
    assert got.status_code == 200 and got.json() == sar and got.headers["etag"]
    overdue = ok(await client.get("/v1/subject-access-requests?overdue=true", headers=who["worker"]))
    assert [r["id"] for r in overdue["items"]] == [sar["id"]]

    # One side's export is logged against the request but does not answer it: the request is to the
    # council, for everything it holds.
    one_side = ok(
        await client.get(
            f"/v1/people/{person['id']}/record", params={"request_id": sar["id"]}, headers=who["worker"]
        )
    )
    assert one_side["sides"] == ["adults"] and one_side["subject_access_request"]["status"] == "open"
    still = ok(await client.get(f"/v1/subject-access-requests/{sar['id']}", headers=who["worker"]))
    assert (still["status"], still["fulfilled_at"], still["overdue"]) == ("open", None, True)
    # The council-wide export answers it.
    ok(
        await client.get(
            f"/v1/people/{person['id']}/record", params={"request_id": sar["id"]}, headers=who["governance"]
        )
    )
    done = ok(await client.get(f"/v1/subject-access-requests/{sar['id']}", headers=who["worker"]))
    assert done["status"] == "fulfilled" and done["overdue"] is False
    assert done["fulfilled_by"] == "ig-officer" and done["fulfilled_at"] is not None
    assert (ok(await client.get("/v1/subject-access-requests?overdue=true", headers=who["worker"])))[
        "items"
    ] == []
    mine = ok(
        await client.get(
            "/v1/subject-access-requests",
            params={"person_id": person["id"], "status": "fulfilled"},
            headers=who["worker"],
        )
    )
    assert [r["id"] for r in mine["items"]] == [sar["id"]]

    events = await audit_events(app, record_type="subject_access_request")
    # The idempotent replay is audited as a read of the request it handed back.
    assert [e.action for e in events] == ["create", "read", "read", "list", "read", "read", "list", "list"]
    assert events[1].details == {"idempotent_replay": True}
    assert all(e.action == "list" or str(e.person_id) == person["id"] for e in events)
    assert "Ruth" not in json.dumps([e.details for e in events])


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"received_on": "2999-01-01"}, ["body"]),
        ({"requester": {"name": "Ruth", "relationship": "parent_or_guardian"}}, ["body"]),
        ({"authority_confirmed": True}, ["body"]),  # the person asks for themselves
        ({"requester": {"name": "Kai", "relationship": "cousin"}}, ["body", "requester", "relationship"]),
        ({"identity_verified": None}, ["body", "identity_verified"]),
        ({"surprise": 1}, ["body", "surprise"]),
    ],
)
async def test_a_request_that_does_not_add_up_is_refused(
    client: httpx.AsyncClient, who: Who, change: Body, loc: list[str]
) -> None:
    person = await _new_person(client, who["worker"], "Xan", "2001-01-01")
    problem = assert_problem(
        await log_request(client, who["worker"], person["id"], **change), 422, "validation_failed"
    )
    assert any(e["loc"][: len(loc)] == loc for e in problem["errors"]), problem["errors"]
    listed = ok(
        await client.get(
            "/v1/subject-access-requests", params={"person_id": person["id"]}, headers=who["worker"]
        )
    )
    assert listed["items"] == []


async def test_requests_are_for_the_lead_agencies_and_information_governance(
    client: httpx.AsyncClient, who: Who
) -> None:
    person = await _new_person(client, who["worker"], "Yas", "2001-01-01")
    sar = ok(await log_request(client, who["worker"], person["id"]), 201)
    # Information governance handles requests: it logs them (subject_access:export), lists and reads them.
    logged = ok(await log_request(client, who["governance"], person["id"]), 201)
    assert (logged["logged_by"], logged["logged_by_agency"]) == ("ig-officer", "council")
    assert (ok(await client.get(f"/v1/subject-access-requests/{sar['id']}", headers=who["governance"])))[
        "id"
    ] == sar["id"]
    listed = ok(
        await client.get(
            "/v1/subject-access-requests", params={"person_id": person["id"]}, headers=who["governance"]
        )
    )
    assert [r["id"] for r in listed["items"]] == [logged["id"], sar["id"]]
    problem = assert_problem(
        await log_request(client, who["auditor"], person["id"]), 403, "insufficient_scope"
    )
    assert "people:write subject_access:export" in problem["detail"]
    for role in ("police", "auditor"):
        assert_problem(await log_request(client, who[role], person["id"]), 403, "insufficient_scope")
        assert_problem(
            await client.get(f"/v1/subject-access-requests/{sar['id']}", headers=who[role]),
            403,
            "insufficient_scope",
        )
        assert_problem(
            await client.get("/v1/subject-access-requests", headers=who[role]), 403, "insufficient_scope"
        )
    assert_problem(
        await client.get(f"/v1/subject-access-requests/{uuid.uuid4()}", headers=who["worker"]),
        404,
        "not_found",
    )
