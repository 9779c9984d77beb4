"""GET /v1/reports/sac: every cell of SG1-SG5 on a hand-built year of adult safeguarding.

The reporting year under test is 2024: 1 April 2024 00:00 BST (2024-03-31 23:00 UTC) to 31 March 2025
23:59:59 BST (2025-03-31 22:59:59 UTC); British Summer Time had begun on 30 March both years. The
adults, and why each is there (ages are on 31 March 2025):

| adult | age band | gender | ethnicity | what happens |
|---|---|---|---|---|
| Ada | 65 exactly: 65-74 | female | WBRI: white | two concerns in the year (counted once in SG1), the first with a section 42 enquiry into three allegations, two of one type of risk |
| Bob | 64 (birthday on 1 April): 18-64 | male | none on the concern, MWBC on his person record: mixed | concern and other enquiry at the year's last second; enquiry concluded at the next year's first |
| Cat | 79 | female | AIND | concern at the next year's first instant: not in the year |
| Dan | not known | not known | not known | concern at the year's first instant; other enquiry concluded in the year |
| Eve | 95: 95+ | other: not known | REFU: refused | concern a second before the year; section 42 enquiry started in it and concluded at its last second; the enquiry found a third allegation (psychological, by a service provider) |
| Gus | 90: 85-94 | male | BAFR: black | concern and enquiry before the year, concluded in it: SG2-SG4 only; the enquiry found the risk was neglect, not domestic abuse |
| Hal | 35: 18-64 | male | OOTH: other | concern and other enquiry in the year, concluded in it |
| Ivy | 75: 75-84 | female | NOBT: undeclared | concern in the year, not yet decided |

Safeguarding adults reviews (SG5; decisions by `decision_on`, completions by `completed_on`):

| about | criteria | decided | commissioned | completed | adult died |
|---|---|---|---|---|---|
| Gus | mandatory | 2024-05-20 | 2024-06-01 | 2025-02-28 | yes |
| Eve | discretionary | 2024-06-15 | no: considered, not commissioned | - | no |
| Hal | discretionary | 2024-01-10 (the year before) | 2024-02-01 | 2024-10-10 | no |
| Bob | not met | 2025-03-31 (the year's last day) | no | - | no |
| Ada | mandatory | 2025-04-01 (the next year) | 2025-04-02 | - | no |
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.core.scopes import AgencyCode, Role, agencies_for
from tests.conftest import Databases
from tests.fixtures.adults import (
    NFA_MET,
    OTHER_MET,
    advocacy_body,
    allegation,
    concern_body,
    decision_body,
    enquiry_body,
)
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem
from tests.fixtures.reports import Body, World, audit_entries, parse_csv, sql_id, sql_time, world_on
from tests.fixtures.values import NHS_MARGARET

YEAR = 2024


def zeros(*names: str) -> dict[str, int]:
    return dict.fromkeys(names, 0)


AGES = ("aged_18_to_64", "aged_65_to_74", "aged_75_to_84", "aged_85_to_94", "aged_95_and_over", "not_known")
GENDERS = ("male", "female", "not_known")
ETHNICITIES = (
    "white",
    "mixed_or_multiple",
    "asian_or_asian_british",
    "black_african_caribbean_or_black_british",
    "other",
    "refused",
    "undeclared_or_not_known",
)
REASONS = (
    "physical",
    "sensory",
    "memory_and_cognition",
    "learning_disability",
    "mental_health",
    "social",
    "no_support_reason",
    "not_known",
)
TYPES = (
    "physical",
    "sexual",
    "psychological",
    "financial_or_material",
    "discriminatory",
    "organisational",
    "neglect_and_acts_of_omission",
    "domestic_abuse",
    "sexual_exploitation",
    "modern_slavery",
    "self_neglect",
)
LOCATIONS = (
    "own_home",
    "in_the_community",
    "in_a_community_service",
    "care_home_nursing",
    "care_home_residential",
    "hospital_acute",
    "hospital_mental_health",
    "hospital_community",
    "other",
)
SOURCES = ("service_provider", "other_known_to_individual", "other_unknown_to_individual")
RESULTS = (
    "risk_identified_and_action_taken",
    "risk_identified_and_no_action_taken",
    "risk_assessment_inconclusive_and_action_taken",
    "risk_assessment_inconclusive_and_no_action_taken",
    "no_risk_identified_and_action_taken",
    "no_risk_identified_and_no_action_taken",
    "enquiry_ceased_at_individuals_request_and_no_action_taken",
)
OUTCOMES = ("risk_remained", "risk_reduced", "risk_removed")
CAPACITY = ("yes", "no", "dont_know", "not_recorded")
ASKED = ("yes_outcomes_expressed", "yes_no_outcomes_expressed", "no", "dont_know", "not_recorded")
ACHIEVED = ("fully", "partially", "not_achieved")


def counts(names: tuple[str, ...], **found: int) -> dict[str, int]:
    assert set(found) <= set(names), set(found) - set(names)
    return {**zeros(*names), **found}


def by_case(concerns: Body, section_42: Body, other: Body) -> Body:
    return {"concerns": concerns, "section_42_enquiries": section_42, "other_enquiries": other}


def by_kind(section_42: Body, other: Body) -> Body:
    return {"section_42_enquiries": section_42, "other_enquiries": other}


def grid(rows: tuple[str, ...], **cells: Body) -> Body:
    """A cross-tabulation by source of risk: ``cells`` maps a row to its non-zero columns."""
    assert set(cells) <= set(rows), set(cells) - set(rows)
    return {row: counts(SOURCES, **cells.get(row, {})) for row in rows}


def sg1(*measures: Body) -> Body:
    """SG1's tables from the three kinds of case (concerns, section 42, other), each given as
    {cases, individuals, age, gender, ethnicity, reason}."""
    return {
        "sg1a": by_case(*(counts(AGES, **m["age"]) for m in measures)),
        "sg1b": by_case(*(counts(GENDERS, **m["gender"]) for m in measures)),
        "sg1c": by_case(*(counts(ETHNICITIES, **m["ethnicity"]) for m in measures)),
        "sg1d": by_case(*(counts(REASONS, **m["reason"]) for m in measures)),
        "sg1f": by_case(*({"cases": m["cases"], "individuals": m["individuals"]} for m in measures)),
    }


def case(cases: int, individuals: int, age: Body, gender: Body, ethnicity: Body, reason: Body) -> Body:
    return {"cases": cases, "individuals": individuals, "age": age, "gender": gender, "ethnicity": ethnicity,
            "reason": reason}  # fmt: skip


def sg2_kind(types: Body, locations: Body, results: Body, outcomes: Body) -> Body:
    """One kind of enquiry's SG2 cells: type x source, location x source, results, outcomes."""
    return {
        "sg2a": grid(TYPES, **types),
        "sg2b": grid(LOCATIONS, **locations),
        "sg2c": counts(RESULTS, **results),
        "sg2e": counts(OUTCOMES, **outcomes),
    }


def sg2(section_42: Body, other: Body) -> Body:
    return {table: by_kind(section_42[table], other[table]) for table in ("sg2a", "sg2b", "sg2c", "sg2e")}


def sg5(died: int, survived: int, died_people: int, survived_people: int, **decisions: int) -> Body:
    return {
        "sg5a": {
            "safeguarding_adults_reviews": {
                "where_one_or_more_individuals_died": died,
                "where_no_individuals_died": survived,
            }
        },
        "sg5b": {
            "individuals": {
                "who_suffered_serious_harm_and_died": died_people,
                "who_suffered_serious_harm_and_survived": survived_people,
            }
        },
        "decisions": {"safeguarding_adults_reviews": counts(SAR_DECISIONS, **decisions)},
    }


SAR_DECISIONS = ("mandatory", "discretionary", "not_met", "commissioned", "not_commissioned")
EMPTY_CASE = case(0, 0, {}, {}, {}, {})
EMPTY_SG2_KIND = sg2_kind({}, {}, {}, {})
EMPTY_SG3 = {"concluded": 0, "lacked_capacity": counts(CAPACITY), "advocate_support": {"yes": 0, "no": 0}}
EMPTY_SG4 = {"concluded": 0, "msp_asked": counts(ASKED), "outcomes_achieved": counts(ACHIEVED)}
EMPTY_SG5 = sg5(0, 0, 0, 0)

EXPECTED_2024: Body = {
    "year": 2024,
    "period_start": "2024-04-01",
    "period_end": "2025-03-31",
    "sg1": sg1(
        # Ada (twice), Bob, Dan, Hal, Ivy. Ada is described as at her latest concern (sensory).
        case(
            cases=6,
            individuals=5,
            age={"aged_18_to_64": 2, "aged_65_to_74": 1, "aged_75_to_84": 1, "not_known": 1},
            gender={"male": 2, "female": 2, "not_known": 1},
            ethnicity={"white": 1, "mixed_or_multiple": 1, "other": 1, "undeclared_or_not_known": 2},
            reason={"sensory": 1, "mental_health": 1, "social": 1, "no_support_reason": 1, "not_known": 1},
        ),
        # Ada (her first concern's enquiry: physical) and Eve; Gus's enquiry started the year before.
        case(
            cases=2,
            individuals=2,
            age={"aged_65_to_74": 1, "aged_95_and_over": 1},
            gender={"female": 1, "not_known": 1},
            ethnicity={"white": 1, "refused": 1},
            reason={"physical": 1, "sensory": 1},
        ),
        # Bob, Dan, Hal.
        case(
            cases=3,
            individuals=3,
            age={"aged_18_to_64": 2, "not_known": 1},
            gender={"male": 2, "not_known": 1},
            ethnicity={"mixed_or_multiple": 1, "other": 1, "undeclared_or_not_known": 1},
            reason={"mental_health": 1, "social": 1, "not_known": 1},
        ),
    ),
    "sg2": sg2(
        # Ada, Eve and Gus, as their enquiries found them.
        sg2_kind(
            types={
                # Ada's two physical allegations, both by a service provider: one enquiry, counted once.
                "physical": {"service_provider": 1},
                "financial_or_material": {"other_known_to_individual": 1},  # Ada
                "sexual": {"other_unknown_to_individual": 1},  # Eve
                # Eve: as raised (known to her), and the one her enquiry found (a service provider).
                "psychological": {"other_known_to_individual": 1, "service_provider": 1},
                # Gus: raised as domestic abuse, found to be neglect (nothing left under domestic abuse).
                "neglect_and_acts_of_omission": {"other_known_to_individual": 1},
            },
            locations={
                "own_home": {"service_provider": 1, "other_known_to_individual": 1},  # Ada
                "care_home_residential": {"service_provider": 1},  # Ada
                # Eve: two as raised, one found.
                "hospital_acute": {
                    "other_unknown_to_individual": 1,
                    "other_known_to_individual": 1,
                    "service_provider": 1,
                },
                "in_the_community": {"other_known_to_individual": 1},  # Gus
            },
            results={
                "risk_identified_and_action_taken": 2,  # Ada (twice: once), Eve's found allegation
                "no_risk_identified_and_no_action_taken": 1,  # Ada
                "risk_assessment_inconclusive_and_action_taken": 1,  # Eve
                "risk_identified_and_no_action_taken": 1,  # Eve
                "no_risk_identified_and_action_taken": 1,  # Gus
            },
            # Reduced: Ada and Eve's found allegation; removed: Ada; remained: Eve.
            outcomes={"risk_reduced": 2, "risk_removed": 1, "risk_remained": 1},
        ),
        # Dan and Hal; Bob's concluded a second into the next year.
        sg2_kind(
            types={
                "self_neglect": {"other_unknown_to_individual": 1},
                "modern_slavery": {"service_provider": 1},
            },
            locations={
                "own_home": {"other_unknown_to_individual": 1},
                "in_a_community_service": {"service_provider": 1},
            },
            results={
                "enquiry_ceased_at_individuals_request_and_no_action_taken": 1,
                "risk_identified_and_action_taken": 1,
            },
            outcomes={"risk_removed": 1},
        ),
    ),
    "sg3": {
        "sg3a": by_kind(
            {
                "concluded": 3,
                "lacked_capacity": counts(CAPACITY, yes=2, not_recorded=1),
                "advocate_support": {"yes": 1, "no": 1},
            },
            {
                "concluded": 2,
                "lacked_capacity": counts(CAPACITY, no=1, dont_know=1),
                "advocate_support": {"yes": 0, "no": 0},
            },
        )
    },
    "sg4": {
        "sg4a": by_kind(
            {
                "concluded": 3,
                "msp_asked": counts(
                    ASKED, yes_outcomes_expressed=1, yes_no_outcomes_expressed=1, not_recorded=1
                ),
                "outcomes_achieved": counts(ACHIEVED, partially=1),
            },
            {
                "concluded": 2,
                "msp_asked": counts(ASKED, no=1, dont_know=1),
                "outcomes_achieved": counts(ACHIEVED),
            },
        )
    },
    # Completed: Gus's (he died) and Hal's (decided the year before; he survived). Decided: Gus's
    # (mandatory, commissioned), Eve's (discretionary, considered and not commissioned), Bob's (not met).
    "sg5": sg5(1, 1, 1, 1, mandatory=1, discretionary=1, not_met=1, commissioned=1, not_commissioned=2),
}


# ---------------------------------------------------------------------------------------------------
# The fixture


def risk(type_of_risk: str, location_of_risk: str, source_of_risk: str) -> Body:
    """An allegation of this type of risk, where and from whom."""
    return allegation(
        type_of_risk=type_of_risk, location_of_risk=location_of_risk, source_of_risk=source_of_risk
    )


class Builder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.health, self.worker, self.manager = world.callers("gp", "worker", "asc_manager")
        self.dates: list[str] = []

    async def call(self, method: str, url: str, headers: dict[str, str], expect: int, **kwargs: Any) -> Body:
        response = await self.world.http.request(method, url, headers=headers, **kwargs)
        assert response.status_code == expect, f"{method} {url}: {response.text}"
        body: Body = response.json()
        return body

    async def concern(self, adult: Body, *allegations: Body, received: str) -> Body:
        body = concern_body(*allegations, adult=adult)
        created = await self.call("POST", "/v1/adult-concerns", self.health, 201, json=body)
        full = await self.call("GET", f"/v1/adult-concerns/{created['id']}", self.worker, 200)
        self.dates.append(
            f"UPDATE adult_concerns SET received_at = {sql_time(received)} WHERE id = '{sql_id(full['id'])}'"
        )
        return full

    async def enquiry(self, concern: Body, kind: str, *, opened: str) -> str:
        met = {"section_42_enquiry": (True, True, True), "other_enquiry": OTHER_MET}[kind]
        await self.call(
            "POST", f"/v1/adult-concerns/{concern['id']}/section-42-decision", self.manager, 201,
            json=decision_body(kind, met),
        )  # fmt: skip
        enquiry = await self.call(
            "POST", f"/v1/adult-concerns/{concern['id']}/enquiries", self.worker, 201, json=enquiry_body()
        )
        if kind == "section_42_enquiry":
            await self.call(
                "POST", f"/v1/adult-concerns/{concern['id']}/advocacy", self.worker, 201,
                json=advocacy_body(difficulty=False, offer="not_required"),
            )  # fmt: skip
        self.dates.append(
            f"UPDATE enquiries SET opened_at = {sql_time(opened)} WHERE id = '{sql_id(enquiry['id'])}'"
        )
        enquiry_id: str = enquiry["id"]
        return enquiry_id

    async def conclude(
        self,
        concern: Body,
        enquiry_id: str,
        results: list[tuple[str, str | None]],
        *,
        concluded: str,
        found: tuple[Body, ...] = (),
        **answers: Any,
    ) -> None:
        """``results`` in order: the concern's allegations as raised, then those the enquiry ``found``."""
        allegations = [
            {"allegation_id": a["id"], "result": result, **({"risk_outcome": outcome} if outcome else {})}
            for a, (result, outcome) in zip([*concern["allegations"], *found], results, strict=True)
        ]
        await self.call(
            "POST", f"/v1/enquiries/{enquiry_id}/conclusion", self.manager, 200,
            json={"allegations": allegations, **answers},
        )  # fmt: skip
        self.dates.append(
            f"UPDATE enquiries SET concluded_at = {sql_time(concluded)} WHERE id = '{sql_id(enquiry_id)}'"
        )

    async def case(
        self,
        adult: Body,
        *allegations: Body,
        received: str,
        enquiry: tuple[str, str],
        results: list[tuple[str, str | None]],
        concluded: str,
        found: tuple[Body, ...] = (),
        corrected: dict[str, str] | None = None,
        **answers: Any,
    ) -> Body:
        """A concern about ``adult`` and its enquiry (kind, opened at), concluded: the enquiry finds the
        ``found`` allegations and makes the first allegation as raised ``corrected`` before it concludes."""
        concern = await self.concern(adult, *allegations, received=received)
        kind, opened = enquiry
        enquiry_id = await self.enquiry(concern, kind, opened=opened)
        added = tuple([await self.find(enquiry_id, allegation) for allegation in found])
        if corrected is not None:
            await self.correct(concern["allegations"][0]["id"], **corrected)
        await self.conclude(concern, enquiry_id, results, concluded=concluded, found=added, **answers)
        return concern

    async def find(self, enquiry_id: str, found: Body) -> Body:
        """The enquiry adds an allegation it found."""
        return await self.call(
            "POST", f"/v1/enquiries/{enquiry_id}/allegations", self.worker, 201, json=found
        )

    async def correct(self, allegation_id: str, **fields: str) -> None:
        """The enquiry corrects an allegation as it found it."""
        url = f"/v1/allegations/{allegation_id}"
        etag = (await self.world.http.get(url, headers=self.worker)).headers["etag"]
        await self.call(
            "PATCH", url, {**self.worker, "If-Match": etag}, 200, json={**fields, "reason": "As found."}
        )

    async def review(
        self, concern: Body, referred: str, *, died: bool, decision: Body, completed: str | None = None
    ) -> None:
        """A safeguarding adults review of the concern's adult: referred, decided, perhaps completed."""
        response = await self.world.http.post(
            "/v1/safeguarding-adults-reviews",
            headers=self.manager,
            json={"person_id": concern["adult"]["person_id"], "concern_ids": [concern["id"]],
                  "referred_on": referred, "adult_died": died, **decision},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        if completed is not None:
            await self.call(
                "PATCH", response.headers["location"], {**self.manager, "If-Match": response.headers["etag"]}, 200,
                json={"completed_on": completed, "findings": "Agencies did not share what they knew."},
            )  # fmt: skip

    async def build(self) -> dict[str, Body]:
        made: dict[str, Body] = {}
        ada = {
            "given_name": "Ada", "family_name": "Quarrington", "date_of_birth": "1960-03-31",
            "nhs_number": NHS_MARGARET, "postcode": "E17 5JW", "gender": "female", "ethnicity": "WBRI",
        }  # fmt: skip
        a1 = await self.case(
            {**ada, "primary_support_reason": "physical"},
            risk("physical", "own_home", "service_provider"),
            risk("financial_or_material", "own_home", "other_known_to_individual"),
            risk("physical", "care_home_residential", "service_provider"),
            received="2024-05-01T10:00:00+01:00",
            enquiry=("section_42_enquiry", "2024-05-03T10:00:00+01:00"),
            results=[("risk_identified_and_action_taken", "risk_reduced"),
                     ("risk_identified_and_action_taken", "risk_removed"),
                     ("no_risk_identified_and_no_action_taken", None)],
            concluded="2024-09-01T10:00:00+01:00",
            msp_asked="yes_outcomes_expressed", msp_outcomes_achieved="partially",
            lacked_capacity="yes", advocate_support=True,
        )  # fmt: skip
        # Her second concern names the same adult, so it is linked to the same person record.
        a2 = await self.concern(
            {**ada, "primary_support_reason": "sensory"}, allegation(), received="2025-01-10T10:00:00+00:00"
        )
        assert a2["match"]["status"] == "matched" and a2["adult"]["person_id"] == a1["adult"]["person_id"]
        await self.call(
            "POST", f"/v1/adult-concerns/{a2['id']}/section-42-decision", self.manager, 201,
            json=decision_body("no_further_action", NFA_MET),
        )  # fmt: skip
        made["ada"] = a1

        bob = await self.concern(
            {"given_name": "Bob", "family_name": "Quennell", "date_of_birth": "1960-04-01", "gender": "male",
             "primary_support_reason": "mental_health"},
            risk("organisational", "care_home_nursing", "service_provider"),
            received="2025-03-31T23:59:59+01:00",
        )  # fmt: skip
        # The person record is the hub's curated record: its ethnicity counts over the concern's (none).
        person_url = f"/v1/people/{bob['adult']['person_id']}"
        etag = (await self.world.http.get(person_url, headers=self.worker)).headers["etag"]
        await self.call(
            "PATCH", person_url, {**self.worker, "If-Match": etag}, 200, json={"ethnicity": "MWBC"}
        )
        enquiry = await self.enquiry(bob, "other_enquiry", opened="2025-03-31T23:59:59+01:00")
        await self.conclude(
            bob, enquiry, [("risk_identified_and_action_taken", "risk_reduced")],
            concluded="2025-04-01T00:00:00+01:00",
            msp_asked="yes_outcomes_expressed", msp_outcomes_achieved="fully", lacked_capacity="no",
        )  # fmt: skip

        await self.concern(
            {"given_name": "Cat", "family_name": "Quilliam", "date_of_birth": "1945-07-01", "gender": "female",
             "ethnicity": "AIND", "primary_support_reason": "learning_disability"},
            allegation(), received="2025-04-01T00:00:00+01:00",
        )  # fmt: skip

        await self.case(
            {"given_name": "Dan", "family_name": "Quorn"},
            risk("self_neglect", "own_home", "other_unknown_to_individual"),
            received="2024-04-01T00:00:00+01:00",
            enquiry=("other_enquiry", "2024-04-10T10:00:00+01:00"),
            results=[("enquiry_ceased_at_individuals_request_and_no_action_taken", None)],
            concluded="2024-12-01T10:00:00+00:00", msp_asked="no", lacked_capacity="dont_know",
        )  # fmt: skip

        eve = await self.case(
            {"given_name": "Eve", "family_name": "Quayle", "date_of_birth": "1929-06-15", "gender": "other",
             "ethnicity": "REFU", "primary_support_reason": "sensory"},
            risk("sexual", "hospital_acute", "other_unknown_to_individual"),
            risk("psychological", "hospital_acute", "other_known_to_individual"),
            received="2024-03-31T23:59:59+01:00",
            enquiry=("section_42_enquiry", "2024-04-02T10:00:00+01:00"),
            found=(risk("psychological", "hospital_acute", "service_provider"),),
            results=[("risk_assessment_inconclusive_and_action_taken", None),
                     ("risk_identified_and_no_action_taken", "risk_remained"),
                     ("risk_identified_and_action_taken", "risk_reduced")],
            concluded="2025-03-31T23:59:59+01:00",
            msp_asked="yes_no_outcomes_expressed", lacked_capacity="yes", advocate_support=False,
        )  # fmt: skip

        gus = await self.case(
            {"given_name": "Gus", "family_name": "Quantock", "date_of_birth": "1935-02-01", "gender": "male",
             "ethnicity": "BAFR", "primary_support_reason": "memory_and_cognition"},
            risk("domestic_abuse", "in_the_community", "other_known_to_individual"),
            received="2024-02-01T10:00:00+00:00",
            enquiry=("section_42_enquiry", "2024-02-10T10:00:00+00:00"),
            corrected={"type_of_risk": "neglect_and_acts_of_omission"},
            results=[("no_risk_identified_and_action_taken", None)],
            concluded="2024-06-30T10:00:00+01:00", msp_asked="not_recorded", lacked_capacity="not_recorded",
        )  # fmt: skip

        hal = await self.case(
            {"given_name": "Hal", "family_name": "Quimby", "date_of_birth": "1990-01-01", "gender": "male",
             "ethnicity": "OOTH", "primary_support_reason": "social"},
            risk("modern_slavery", "in_a_community_service", "service_provider"),
            received="2024-11-11T10:00:00+00:00",
            enquiry=("other_enquiry", "2024-11-12T10:00:00+00:00"),
            results=[("risk_identified_and_action_taken", "risk_removed")],
            concluded="2025-02-02T10:00:00+00:00", msp_asked="dont_know", lacked_capacity="no",
        )  # fmt: skip

        await self.concern(
            {"given_name": "Ivy", "family_name": "Quested", "date_of_birth": "1950-01-01", "gender": "female",
             "ethnicity": "NOBT", "primary_support_reason": "no_support_reason"},
            allegation(), received="2024-07-07T10:00:00+01:00",
        )  # fmt: skip

        # The reviews of the module's table: (adult, referred, died, criteria, decided, commissioned, completed).
        reviews = [
            (gus, "2024-05-01", True, "mandatory", "2024-05-20", "2024-06-01", "2025-02-28"),
            (eve, "2024-06-01", False, "discretionary", "2024-06-15", None, None),
            (hal, "2023-12-01", False, "discretionary", "2024-01-10", "2024-02-01", "2024-10-10"),
            (bob, "2025-03-01", False, "not_met", "2025-03-31", None, None),
            (a1, "2025-01-01", False, "mandatory", "2025-04-01", "2025-04-02", None),
        ]
        for concern, referred, died, criteria, decided, commissioned, completed in reviews:
            decision = {"criteria": criteria, "rationale": "Considered by the Board.", "decision_on": decided,
                        "commissioned": commissioned is not None,
                        **({"commissioned_on": commissioned} if commissioned else {})}  # fmt: skip
            await self.review(concern, referred, died=died, decision=decision, completed=completed)

        await run_sql(self.world.app, *self.dates)
        return made


@pytest.fixture(scope="module")
async def world(databases: Databases) -> AsyncIterator[World]:
    async with world_on(databases) as built:
        await Builder(built).build()
        yield built


async def sac(world: World, year: int, **headers: str) -> Body:
    response = await world.http.get(
        "/v1/reports/sac", params={"year": year}, headers={**world.auditor, **headers}
    )
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


# ---------------------------------------------------------------------------------------------------
# The tests


async def test_every_cell_of_the_year(world: World) -> None:
    assert await sac(world, YEAR) == EXPECTED_2024


async def test_the_boundaries_fall_in_the_neighbouring_years(world: World) -> None:
    before = await sac(world, YEAR - 1)
    # Eve's concern a second before 1 April 2024, and Gus's concern and enquiry.
    assert before["sg1"]["sg1f"]["concerns"] == {"cases": 2, "individuals": 2}
    assert before["sg1"]["sg1f"]["section_42_enquiries"] == {"cases": 1, "individuals": 1}
    assert before["sg2"] == sg2(EMPTY_SG2_KIND, EMPTY_SG2_KIND)
    # Hal's review was decided (discretionary, commissioned) the year before, completed in 2024.
    assert before["sg5"] == sg5(0, 0, 0, 0, discretionary=1, commissioned=1)

    after = await sac(world, YEAR + 1)
    # Cat's concern at 00:00 BST on 1 April 2025; she is 80 on 31 March 2026.
    assert after["sg1"] == sg1(
        case(
            1,
            1,
            {"aged_75_to_84": 1},
            {"female": 1},
            {"asian_or_asian_british": 1},
            {"learning_disability": 1},
        ),
        EMPTY_CASE,
        EMPTY_CASE,
    )
    # Bob's other enquiry, concluded at 00:00 BST on 1 April 2025.
    assert after["sg2"] == sg2(
        EMPTY_SG2_KIND,
        sg2_kind(
            {"organisational": {"service_provider": 1}}, {"care_home_nursing": {"service_provider": 1}},
            {"risk_identified_and_action_taken": 1}, {"risk_reduced": 1},
        ),
    )  # fmt: skip
    assert after["sg3"]["sg3a"]["other_enquiries"]["lacked_capacity"] == counts(CAPACITY, no=1)
    assert after["sg4"]["sg4a"]["other_enquiries"]["outcomes_achieved"] == counts(ACHIEVED, fully=1)
    assert after["sg3"]["sg3a"]["section_42_enquiries"] == EMPTY_SG3
    assert after["sg4"]["sg4a"]["section_42_enquiries"] == EMPTY_SG4
    # Ada's review, decided on 1 April 2025 and not yet completed.
    assert after["sg5"] == sg5(0, 0, 0, 0, mandatory=1, commissioned=1)


async def test_a_year_without_records_is_all_zeros(world: World) -> None:
    assert await sac(world, 2015) == {
        "year": 2015,
        "period_start": "2015-04-01",
        "period_end": "2016-03-31",
        "sg1": sg1(EMPTY_CASE, EMPTY_CASE, EMPTY_CASE),
        "sg2": sg2(EMPTY_SG2_KIND, EMPTY_SG2_KIND),
        "sg3": {"sg3a": by_kind(EMPTY_SG3, EMPTY_SG3)},
        "sg4": {"sg4a": by_kind(EMPTY_SG4, EMPTY_SG4)},
        "sg5": EMPTY_SG5,
    }


def flatten(report: Body) -> list[dict[str, str]]:
    """The JSON report as the documented CSV rows: table, measure, category, subcategory, count."""
    rows = []
    for section in ("sg1", "sg2", "sg3", "sg4", "sg5"):
        for table, measures in report[section].items():
            for measure, cells in measures.items():
                for category, value in cells.items():
                    pairs = [("", value)] if isinstance(value, int) else list(value.items())
                    for subcategory, count in pairs:
                        rows.append(
                            {"table": table, "measure": measure, "category": category, "subcategory": subcategory,
                             "count": str(count)}
                        )  # fmt: skip
    return rows


async def test_csv_carries_every_cell_of_the_json(world: World) -> None:
    response = await world.http.get(
        "/v1/reports/sac", params={"year": YEAR}, headers={**world.auditor, "Accept": "text/csv"}
    )
    rows = parse_csv(response)
    assert response.headers["content-disposition"] == 'attachment; filename="sac-2024-25.csv"'
    assert response.headers["vary"] == "Accept"
    assert response.text.startswith("table,measure,category,subcategory,count\r\n")
    assert rows == flatten(EXPECTED_2024)
    assert {
        "table": "sg1f",
        "measure": "concerns",
        "category": "cases",
        "subcategory": "",
        "count": "6",
    } in rows
    # A cross-tabulation's cell: Ada's two physical allegations by a service provider, counted once.
    assert {"table": "sg2a", "measure": "section_42_enquiries", "category": "physical",
            "subcategory": "service_provider", "count": "1"} in rows  # fmt: skip


async def test_content_negotiation(world: World) -> None:
    csv_preferred = "application/json;q=0.5, text/csv"
    response = await world.http.get(
        "/v1/reports/sac", params={"year": YEAR}, headers={**world.auditor, "Accept": csv_preferred}
    )
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    for accept in ("application/json", "*/*", "text/csv;q=0.5, application/*", "text/*;q=0.1, */*;q=0.2"):
        response = await world.http.get(
            "/v1/reports/sac", params={"year": YEAR}, headers={**world.auditor, "Accept": accept}
        )
        assert response.headers["content-type"] == "application/json", accept
        assert response.json() == EXPECTED_2024
    for accept in ("application/xml", "text/html", "text/csv;q=0, application/json;q=0"):
        response = await world.http.get(
            "/v1/reports/sac", params={"year": YEAR}, headers={**world.auditor, "Accept": accept}
        )
        assert_problem(response, 406, "not_acceptable")


@pytest.mark.parametrize(
    "params",
    [{}, {"year": "2024-25"}, {"year": 2014}, {"year": 2101}],
    ids=["missing", "not a year", "early", "late"],
)
async def test_year_is_required_and_bounded(world: World, params: Body) -> None:
    response = await world.http.get("/v1/reports/sac", params=params, headers=world.auditor)
    problem = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in problem["errors"]] == [["query", "year"]]


async def test_each_run_is_audited_without_personal_data(world: World) -> None:
    await sac(world, 2019)
    entries = await audit_entries(world, "sac_report")
    assert {"action": "read", "details": {"year": 2019}, "person_id": None, "record_id": None} in [
        {k: e[k] for k in ("action", "details", "person_id", "record_id")} for e in entries
    ]
    assert entries[-1]["actor"]["sub"] == "auditor-ruth"


@pytest.mark.parametrize("role", list(Role))
async def test_every_auditor_and_information_governance_may_run_it(world: World, role: Role) -> None:
    """An aggregate: auditors of any agency (a partner's included) and information governance run it;
    no other role has reports:read."""
    allowed = agencies_for(role)
    agency = AgencyCode.POLICE if AgencyCode.POLICE in allowed else min(allowed)
    headers = world.headers(role, agency, f"someone-{role}")
    response = await world.http.get("/v1/reports/sac", params={"year": YEAR}, headers=headers)
    if role in (Role.AUDITOR, Role.INFORMATION_GOVERNANCE):
        assert response.status_code == 200, response.text
    else:
        assert_problem(response, 403, "insufficient_scope")
