"""GET /v1/reports/cin-referrals and its validation: every field of every item, and every finding, on a
hand-built month of contacts.

The range under test is April 2026: from 00:00 BST on 1 April (2026-03-31 23:00 UTC) to 23:59:59 BST on
30 April (2026-04-30 22:59:59 UTC). One item per child accepted as a referral (the CIN census meaning):

- R1, received at the range's first instant: Amelia and an unborn sibling, both accepted: a child and
  family assessment, primary need N1 for Amelia and N3 for the unborn child (their own entry). The unborn
  child's person record was later given gender "female": the census sends U (rule 8750 is reported), and
  the referral date is more than 280 days before the expected date of birth (rule 8606).
- R2: Ben and a child whose match to a person record is pending (no LA child id, rule 8500; no gender,
  rule 4180): accepted as a referral, then no further action: NFA, no primary need. Ben's person record's
  ethnicity, recorded after the referral, is the one reported.
- R3, received at the range's last second: Amelia again (linked to the same person record) and Carl,
  gender "other" (census U): early help for the referral, so Amelia's stays a contact; Carl's own entry
  is an accepted assessment with primary need N5.
- Contacts that stay contacts give no item: R4 undecided, R5 no further action not accepted, R6
  universal services.
- After the decisions (the census Assessments, Section47 and ChildProtectionPlans): Amelia (R1) is
  assessed, late (due 9 June after Easter and the May bank holidays, completed 19 August), then discussed
  under section 47 (without health first: 422) and conferenced late across the August bank holiday (due
  11 September, held 14 September) with a plan for neglect. The unborn child's case is closed after
  assessment (RC8), then assessed again (rule 8867). Ben, no further action yet accepted, is assessed and
  closed to early help (RC9) and enquired into with no conference (rules 2990 and 8831). Carl's sole
  assessment found no factors ("21" alone) but the case stays open on a plan (rule 8873Q).
- Left out by date: a withdrawn referral inside the range, one received a second before it, one at the
  first instant after it (Yusuf, accepted: an item of 1 May).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from app.core.scopes import AgencyCode, Role
from tests.conftest import Databases
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.pathway import (
    complete_assessment,
    completion_body,
    conclude,
    conference,
    discussion_body,
    hold_discussion,
    start_assessment,
)
from tests.fixtures.referrals import (
    child,
    propose_and_approve,
    rate,
    referral_body,
    withdraw,
)
from tests.fixtures.reports import Body, World, audit_entries, parse_csv, sql_id, sql_time, world_on
from tests.fixtures.values import NHS_AMELIA

RANGE = {"from": "2026-04-01", "to": "2026-04-30"}
# An unborn child's expected date of birth: a fixed date (nothing checks it against today), more than 40
# weeks after the referral of 1 April 2026 (rule 8606) and before March 2027, outside the range of the
# census of 2026-27 (rule 8530Q: March to December 2027).
UNBORN_DUE = "2027-02-03"
NFA_ACCEPTED = {
    "outcome": "no_further_action",
    "level": 1,
    "primary_need": None,
    "accepted_as_referral": True,
}


@dataclass
class Fixture:
    world: World
    expected: list[Body]
    findings: list[Body]


class Builder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.police, self.school, self.gp, self.practitioner, self.manager = world.callers(
            "police", "education", "gp", "practitioner", "mash_manager"
        )
        self.dates: list[str] = []

    async def referral(self, headers: dict[str, str], received: str, *children: Body, **fields: Any) -> Body:
        response = await self.world.http.post(
            "/v1/referrals", json=referral_body(*children, **fields), headers=headers
        )
        assert response.status_code == 201, response.text
        created: Body = response.json()
        self.dates.append(
            f"UPDATE referrals SET received_at = {sql_time(received)} WHERE id = '{sql_id(created['id'])}'"
        )
        return created

    async def decide(self, referral_id: str, **proposal: Any) -> Body:
        http = self.world.http
        await rate(http, self.practitioner, referral_id)
        await propose_and_approve(http, self.practitioner, self.manager, referral_id, **proposal)
        return await self.full(referral_id)

    async def full(self, referral_id: str) -> Body:
        response = await self.world.http.get(f"/v1/referrals/{referral_id}", headers=self.practitioner)
        assert response.status_code == 200, response.text
        found: Body = response.json()
        return found

    async def patch_person(self, person_id: str, **changes: Any) -> None:
        url = f"/v1/people/{person_id}"
        etag = (await self.world.http.get(url, headers=self.practitioner)).headers["etag"]
        patched = await self.world.http.patch(
            url, json=changes, headers={**self.practitioner, "If-Match": etag}
        )
        assert patched.status_code == 200, patched.text

    async def build(self) -> tuple[list[Body], list[Body]]:
        amelia = child(nhs_number=NHS_AMELIA, gender="female", ethnicity="WBRI")
        unborn = {"given_name": "Baby", "family_name": "Smith-Jones", "expected_date_of_birth": UNBORN_DUE}
        r1 = await self.referral(self.police, "2026-04-01T00:00:00+01:00", amelia, unborn)
        r1 = await self.decide(
            r1["id"],
            outcome="child_and_family_assessment",
            level=3,
            primary_need="N1",
            children=[{"child_id": r1["children"][1]["id"], "primary_need": "N3"}],
        )
        await self.patch_person(r1["children"][1]["person_id"], gender="female")

        ben = child(given_name="Ben", family_name="Okafor", date_of_birth="2015-09-09", gender="male")
        uncertain = child(given_name="Amelai", family_name="Smith-Jones")
        r2 = await self.referral(
            self.school,
            "2026-04-15T11:00:00+01:00",
            ben,
            uncertain,
            referral_source="2A",
            concern_categories=["neglect"],
        )
        r2 = await self.decide(r2["id"], **NFA_ACCEPTED)
        assert r2["children"][1]["match"]["status"] == "pending"
        await self.patch_person(r2["children"][0]["person_id"], ethnicity="BCRB")

        carl = child(given_name="Carl", family_name="Okoro", date_of_birth="2014-02-02", gender="other")
        r3 = await self.referral(self.gp, "2026-04-30T23:59:59+01:00", amelia, carl, referral_source="3A")
        r3 = await self.decide(
            r3["id"],
            outcome="early_help",
            level=2,
            primary_need=None,
            children=[
                {
                    "child_id": r3["children"][1]["id"],
                    "outcome": "child_and_family_assessment",
                    "level": 3,
                    "primary_need": "N5",
                }
            ],
        )
        assert r3["children"][0]["person_id"] == r1["children"][0]["person_id"]

        r4 = await self.referral(self.police, "2026-04-20T10:00:00+01:00", child(given_name="Dana"))
        await rate(self.world.http, self.practitioner, r4["id"], "green")
        r5 = await self.referral(self.police, "2026-04-21T10:00:00+01:00", child(given_name="Eve"))
        await self.decide(r5["id"], **{**NFA_ACCEPTED, "accepted_as_referral": False})
        r6 = await self.referral(self.police, "2026-04-22T10:00:00+01:00", child(given_name="Finn"))
        await self.decide(r6["id"], outcome="universal_services", level=1, primary_need=None)

        outside = [
            await self.referral(self.police, "2026-04-10T10:00:00+01:00", child(given_name="Wanda")),
            await self.referral(self.police, "2026-03-31T23:59:59+01:00", child(given_name="Xavier")),
            await self.referral(self.police, "2026-05-01T00:00:00+01:00", child(given_name="Yusuf")),
        ]
        await self.decide(outside[2]["id"])
        withdrawn = await withdraw(self.world.http, self.practitioner, outside[0]["id"])
        assert withdrawn.status_code == 200, withdrawn.text
        await run_sql(self.world.app, *self.dates)
        after = await self.after_the_decision(r1, r2, r3)

        r1_items = {
            "referral_id": r1["id"],
            "referral_date": "2026-04-01",
            "received_at": "2026-03-31T23:00:00Z",
            "referral_source": "6",
            "status": "decided",
            "outcome": "child_and_family_assessment",
            "decided_at": r1["outcome"]["decided_at"],
            "nfa": False,
        }
        r2_items = {
            "referral_id": r2["id"],
            "referral_date": "2026-04-15",
            "received_at": "2026-04-15T10:00:00Z",
            "referral_source": "2A",
            "status": "decided",
            "outcome": "no_further_action",
            "decided_at": r2["outcome"]["decided_at"],
            "nfa": True,
            "primary_need": None,
        }
        expected = [
            {
                **r1_items,
                "referral_child_id": r1["children"][0]["id"],
                "person_id": r1["children"][0]["person_id"],
                "date_of_birth": "2018-03-14",
                "expected_date_of_birth": None,
                "gender": "female",
                "sex": "F",
                "ethnicity": "WBRI",
                "primary_need": "N1",
            },
            {
                **r1_items,
                "referral_child_id": r1["children"][1]["id"],
                "person_id": r1["children"][1]["person_id"],
                "date_of_birth": None,
                "expected_date_of_birth": UNBORN_DUE,
                "gender": "female",
                "sex": "U",
                "ethnicity": None,
                "primary_need": "N3",
            },
            {
                **r2_items,
                "referral_child_id": r2["children"][0]["id"],
                "person_id": r2["children"][0]["person_id"],
                "date_of_birth": "2015-09-09",
                "expected_date_of_birth": None,
                "gender": "male",
                "sex": "M",
                "ethnicity": "BCRB",
            },
            {
                **r2_items,
                "referral_child_id": r2["children"][1]["id"],
                "person_id": None,
                "date_of_birth": "2018-03-14",
                "expected_date_of_birth": None,
                "gender": None,
                "sex": None,
                "ethnicity": None,
            },
            {
                "referral_id": r3["id"],
                "referral_child_id": r3["children"][1]["id"],
                "person_id": r3["children"][1]["person_id"],
                "date_of_birth": "2014-02-02",
                "expected_date_of_birth": None,
                "gender": "other",
                "sex": "U",
                "ethnicity": None,
                "referral_date": "2026-04-30",
                "received_at": "2026-04-30T22:59:59Z",
                "referral_source": "3A",
                "status": "decided",
                "outcome": "child_and_family_assessment",
                "decided_at": r3["outcome"]["decided_at"],
                "nfa": False,
                "primary_need": "N5",
            },
        ]
        expected = [
            {
                **item,
                "la_child_id": census_id(item["person_id"]),
                **NOTHING_AFTER,
                **after.get(item["referral_child_id"], {}),
            }
            for item in expected
        ]
        unborn_child, ben_child, uncertain_child, carl_child = (
            (r1["id"], r1["children"][1]["id"]),
            (r2["id"], r2["children"][0]["id"]),
            (r2["id"], r2["children"][1]["id"]),
            (r3["id"], r3["children"][1]["id"]),
        )
        findings = [
            finding("8750", "Sex must equal U for an unborn child", *unborn_child),
            finding(
                "8606", "Child referral date is more than 40 weeks before DOB or expected DOB", *unborn_child
            ),
            # Expected before March 2027: outside the census of 2026-27 (ReferenceDate 31 March 2027).
            finding("8530Q", EXPECTED_BIRTH_QUERY, *unborn_child),
            finding(
                "8867",
                "CIN episode is shown as closed, however Assessment is not shown as completed",
                *unborn_child,
            ),
            finding(
                "2990",
                "Activity is recorded against a case marked as ‘Case closed after assessment, no further "  # noqa: RUF001
                "action’ or 'case closed after assessment, referred to early help'.",  # noqa: RUF001
                *ben_child,
            ),
            finding(
                "8831",
                "Activity is recorded against a case marked as a referral with no further action",
                *ben_child,
            ),
            finding("8500", "LA Child ID missing", *uncertain_child),
            finding("4180", "Sex must be provided and equal M, F, or U", *uncertain_child),
            finding("8873Q", NO_FACTORS_QUERY, *carl_child),
        ]
        return expected, findings

    async def after_the_decision(self, r1: Body, r2: Body, r3: Body) -> dict[str, Body]:
        """What followed the decisions (the census Assessments, Section47 and ChildProtectionPlans), each
        child's expected item fields by child id."""
        http, practitioner, manager = self.world.http, self.practitioner, self.manager
        amelia, unborn = r1["children"][0]["id"], r1["children"][1]["id"]
        ben, carl = r2["children"][0]["id"], r3["children"][1]["id"]

        async def assess(referral: Body, child_id: str, started_on: str, completion: Body | None) -> Body:
            body = {"referral_id": referral["id"], "child_id": child_id, "started_on": started_on}
            started = await start_assessment(http, practitioner, body)
            if completion is None:
                return started
            return ok(await complete_assessment(http, manager, started["id"], completion))

        async def concluded(enquiry_id: str, concluded_on: str, outcome: str) -> None:
            body = {"concluded_on": concluded_on, "outcome": outcome}
            ok(await conclude(http, manager, enquiry_id, body))

        # Amelia: assessed, completed late (45 working days from 1 April skip Easter and both May bank holidays: due 9 June),
        # then a strategy discussion (health missing at first: 422) and a conference held late, on Monday
        # 14 September: 15 working days from Thursday 20 August skip the August bank holiday (31 August).
        late = await assess(
            r1, amelia, "2026-04-02", completion_body("2026-08-19", outcome="strategy_discussion")
        )
        assert (late["due_on"], late["timeliness"]["late"]) == ("2026-06-09", True)
        discussion = discussion_body(r1, "2026-08-20T10:00:00+01:00", child_ids=[amelia])
        without_health = [a for a in discussion["attendees"] if a["agency"] != "health"]
        problem = assert_problem(
            await http.post(
                "/v1/strategy-discussions",
                json={**discussion, "attendees": without_health},
                headers=practitioner,
            ),
            422,
            "validation_failed",
        )
        assert "missing: health" in problem["errors"][0]["msg"]
        [enquiry] = (await hold_discussion(http, practitioner, discussion))["section_47_enquiries"]
        assert enquiry["icpc_due_on"] == "2026-09-11"
        await concluded(enquiry["id"], "2026-09-01", "initial_child_protection_conference")
        held = ok(
            await conference(
                http,
                practitioner,
                enquiry["id"],
                {"held_on": "2026-09-14", "outcome": "child_protection_plan", "category_of_abuse": "neglect"},
            )
        )
        assert held["conference"]["timeliness"] == {"working_days": 16, "late": True}

        # The unborn child: closed after assessment with no further action (RC8), then assessed again
        # (rule 8867: closed, yet an assessment is open).
        await assess(
            r1,
            unborn,
            "2026-04-10",
            completion_body(
                "2026-05-20", factors=["1B", "4B"], outcome="no_further_action", closure_reason="RC8"
            ),
        )
        await assess(r1, unborn, "2026-06-01", None)

        # Ben (no further action, accepted as a referral): assessed, closed to early help (RC9), and an
        # enquiry that concluded with no conference (rules 2990 and 8831).
        await assess(
            r2, ben, "2026-04-16", completion_body("2026-04-30", factors=["4B"], outcome="early_help")
        )
        [ben_enquiry] = (
            await hold_discussion(
                http, practitioner, discussion_body(r2, "2026-05-05T10:00:00+01:00", child_ids=[ben])
            )
        )["section_47_enquiries"]
        await concluded(ben_enquiry["id"], "2026-05-12", "no_further_action")

        # Carl: no factors ("21", alone) and a child in need plan: the case stays open (rule 8873Q).
        await assess(r3, carl, "2026-05-01", completion_body("2026-06-10", factors=["21"]))

        return {
            amelia: {
                "assessments": [
                    {"start_date": "2026-04-02", "authorisation_date": "2026-08-19", "factors": ["3A", "16A"]}
                ],
                "section_47_enquiries": [
                    {
                        "start_date": "2026-08-20",
                        "icpc_target_date": "2026-09-11",
                        "date_of_initial_cpc": "2026-09-14",
                        "icpc_not_required": False,
                    }
                ],
                "child_protection_plans": [
                    {"start_date": "2026-09-14", "initial_category_of_abuse": "neglect"}
                ],
            },
            unborn: {
                "closure_date": "2026-05-20",
                "reason_for_closure": "RC8",
                "assessments": [
                    {"start_date": "2026-04-10", "authorisation_date": "2026-05-20", "factors": ["1B", "4B"]},
                    {"start_date": "2026-06-01", "authorisation_date": None, "factors": []},
                ],
            },
            ben: {
                "closure_date": "2026-04-30",
                "reason_for_closure": "RC9",
                "assessments": [
                    {"start_date": "2026-04-16", "authorisation_date": "2026-04-30", "factors": ["4B"]}
                ],
                "section_47_enquiries": [
                    {
                        "start_date": "2026-05-05",
                        "icpc_target_date": "2026-05-27",
                        "date_of_initial_cpc": None,
                        "icpc_not_required": True,
                    }
                ],
            },
            carl: {
                "assessments": [
                    {"start_date": "2026-05-01", "authorisation_date": "2026-06-10", "factors": ["21"]}
                ],
            },
        }


NOTHING_AFTER: Body = {
    "closure_date": None,
    "reason_for_closure": None,
    "assessments": [],
    "section_47_enquiries": [],
    "child_protection_plans": [],
}
NO_FACTORS_QUERY = (
    "Please check and either amend data or provide a reason: When there is only one assessment on the "
    "episode and the factors code “21 No factors identified” has been used for the completed assessment, "
    "the reason for closure ‘RC8’ or 'RC9' should be used."  # noqa: RUF001
)


EXPECTED_BIRTH_QUERY = (
    "Please check and either amend data or provide a reason: Expected Date of Birth is outside the expected "
    "range for this census (March to December of the Census Year end)"
)


def census_id(person_id: str | None) -> str | None:
    """The census LA child id made from a person id: its first 20 hexadecimal digits, upper case."""
    return None if person_id is None else person_id.replace("-", "")[:20].upper()


def finding(rule: str, message: str, referral_id: str, child_id: str) -> Body:
    return {"rule": rule, "message": message, "referral_id": referral_id, "child_id": child_id}


@pytest.fixture(scope="module")
async def fixture(databases: Databases) -> AsyncIterator[Fixture]:
    async with world_on(databases) as world:
        expected, findings = await Builder(world).build()
        yield Fixture(world, expected, findings)


async def get(world: World, params: Body, **headers: str) -> Any:
    return await world.http.get(
        "/v1/reports/cin-referrals", params=params, headers={**world.auditor, **headers}
    )


async def test_every_field_of_every_item(fixture: Fixture) -> None:
    response = await get(fixture.world, RANGE)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": fixture.expected, "next_cursor": None}
    assert "link" not in response.headers
    assert response.headers["vary"] == "Accept"


async def test_a_one_day_range(fixture: Fixture) -> None:
    response = await get(fixture.world, {"from": "2026-04-30", "to": "2026-04-30"})
    assert response.json()["items"] == fixture.expected[4:]
    # Yusuf's referral, received at the first instant after the range, is on 1 May.
    response = await get(fixture.world, {"from": "2026-05-01", "to": "2026-05-01"})
    [yusuf] = response.json()["items"]
    assert (yusuf["referral_date"], yusuf["received_at"]) == ("2026-05-01", "2026-04-30T23:00:00Z")


@pytest.mark.parametrize("limit", [1, 2, 3, 4])
async def test_pages_walk_every_item_once_in_order(fixture: Fixture, limit: int) -> None:
    """Pages of one split a referral's two children; the cursor resumes at the second."""
    assert await walk(fixture.world, "/v1/reports/cin-referrals", limit) == fixture.expected


async def walk(world: World, path: str, limit: int) -> list[Body]:
    """Every item of the range's pages of ``limit``, following the cursors."""
    seen: list[Body] = []
    params: Body = {**RANGE, "limit": limit}
    for _ in range(10):
        response = await world.http.get(path, params=params, headers=world.auditor)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        seen += page["items"]
        if page["next_cursor"] is None:
            assert "link" not in response.headers
            return seen
        assert response.headers["link"].endswith('; rel="next"')
        params = {**params, "cursor": page["next_cursor"]}
    raise AssertionError("more pages than items")


async def test_csv_is_the_whole_range_with_the_same_fields(fixture: Fixture) -> None:
    # limit applies to JSON pages only: the CSV is the census document for the whole range.
    response = await get(fixture.world, {**RANGE, "limit": 1}, Accept="text/csv")
    rows = parse_csv(response)
    assert response.headers["content-disposition"] == (
        'attachment; filename="cin-referrals-2026-04-01-2026-04-30.csv"'
    )
    assert response.text.split("\r\n", 1)[0] == (
        "referral_id,referral_child_id,person_id,la_child_id,date_of_birth,expected_date_of_birth,gender,sex,ethnicity,"
        "referral_date,received_at,referral_source,status,outcome,decided_at,nfa,primary_need,"
        "closure_date,reason_for_closure,assessment_start_date,assessment_authorisation_date,assessment_factors,"
        "s47_start_date,icpc_target_date,date_of_initial_cpc,icpc_not_required,cpp_start_date,"
        "cpp_initial_category_of_abuse"
    )

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    lists = ("assessments", "section_47_enquiries", "child_protection_plans")
    # Each item's columns, then its child's latest assessment (factors ;-joined) and section 47 enquiry
    # with the plan its conference made (the header's last eight columns and the category of abuse):
    # the JSON lists them all.
    latest = [
        [
            "2026-04-02",
            "2026-08-19",
            "3A;16A",
            "2026-08-20",
            "2026-09-11",
            "2026-09-14",
            "false",
            "2026-09-14",
        ],
        ["2026-06-01", "", "", "", "", "", "", ""],
        ["2026-04-16", "2026-04-30", "4B", "2026-05-05", "2026-05-27", "", "true", ""],
        ["", "", "", "", "", "", "", ""],
        ["2026-05-01", "2026-06-10", "21", "", "", "", "", ""],
    ]
    categories = ["neglect", "", "", "", ""]
    header = list(rows[0])
    names, category_column = header[-9:-1], header[-1]
    assert rows == [
        {name: cell(value) for name, value in item.items() if name not in lists}
        | dict(zip(names, tail, strict=True))
        | {category_column: category}
        for item, tail, category in zip(fixture.expected, latest, categories, strict=True)
    ]
    assert [(r["closure_date"], r["reason_for_closure"]) for r in rows] == [
        ("", ""),
        ("2026-05-20", "RC8"),
        ("2026-04-30", "RC9"),
        ("", ""),
        ("", ""),
    ]
    assert [(r["sex"], r["nfa"], r["primary_need"]) for r in rows] == [
        ("F", "false", "N1"),
        ("U", "false", "N3"),
        ("M", "true", ""),
        ("", "true", ""),
        ("U", "false", "N5"),
    ]


async def test_an_empty_range_is_an_empty_list(fixture: Fixture) -> None:
    response = await get(fixture.world, {"from": "2025-01-01", "to": "2025-12-31"})
    assert response.json() == {"items": [], "next_cursor": None}
    rows = parse_csv(await get(fixture.world, {"from": "2025-01-01", "to": "2025-12-31"}, Accept="text/csv"))
    assert rows == []


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"to": "2026-04-30"}, ["query", "from"]),
        ({"from": "2026-04-01"}, ["query", "to"]),
        ({"from": "2026-04-31", "to": "2026-05-01"}, ["query", "from"]),
        ({"from": "2026-04-30", "to": "2026-04-01"}, ["query", "to"]),
        ({"from": "2025-04-01", "to": "2026-04-02"}, ["query", "to"]),  # 367 days
        ({**RANGE, "limit": 201}, ["query", "limit"]),
    ],
    ids=["no from", "no to", "not a date", "to before from", "over a year", "limit over 200"],
)
async def test_bad_parameters(fixture: Fixture, params: Body, loc: list[str]) -> None:
    problem = assert_problem(await get(fixture.world, params), 422, "validation_failed")
    assert [e["loc"] for e in problem["errors"]] == [loc]


async def test_a_full_year_and_a_leap_year_are_accepted(fixture: Fixture) -> None:
    for params in ({"from": "2026-04-01", "to": "2027-03-31"}, {"from": "2027-04-01", "to": "2028-03-31"}):
        response = await get(fixture.world, params)
        assert response.status_code == 200, response.text


async def test_a_cursor_not_issued_by_the_api(fixture: Fixture) -> None:
    response = await get(fixture.world, {**RANGE, "cursor": "bm90LWEtY3Vyc29y"})
    assert_problem(response, 422, "invalid_cursor")


async def test_unsupported_accept(fixture: Fixture) -> None:
    assert_problem(await get(fixture.world, RANGE, Accept="application/xml"), 406, "not_acceptable")


async def test_every_export_is_audited_with_range_format_and_count(fixture: Fixture) -> None:
    world = fixture.world
    await get(world, {"from": "2026-04-02", "to": "2026-04-30"})
    await get(world, {"from": "2026-04-02", "to": "2026-04-30"}, Accept="text/csv")
    entries = await audit_entries(world, "cin_referrals_report")
    assert [{k: e[k] for k in ("action", "details", "person_id", "record_id")} for e in entries[-2:]] == [
        {
            "action": "export",
            "details": {
                "from": "2026-04-02",
                "to": "2026-04-30",
                "format": "json",
                "items": 3,
                "continued": False,
            },
            "person_id": None,
            "record_id": None,
        },
        {
            "action": "export",
            "details": {"from": "2026-04-02", "to": "2026-04-30", "format": "csv", "items": 3},
            "person_id": None,
            "record_id": None,
        },
    ]
    assert entries[-1]["actor"] == {
        "sub": "auditor-ruth",
        "agency": "childrens_social_care",
        "role": "auditor",
    }


async def test_other_roles_are_refused(fixture: Fixture) -> None:
    world = fixture.world
    for role, agency in (
        (Role.MASH_MANAGER, AgencyCode.CHILDRENS_SOCIAL_CARE),
        (Role.PARTNER_REFERRER, AgencyCode.POLICE),
        (Role.ADMIN, AgencyCode.CHILDRENS_SOCIAL_CARE),
    ):
        response = await world.http.get(
            "/v1/reports/cin-referrals", params=RANGE, headers=world.headers(role, agency, f"x-{role}")
        )
        assert_problem(response, 403, "insufficient_scope")
    assert_problem(await world.http.get("/v1/reports/cin-referrals", params=RANGE), 401, "not_authenticated")


@pytest.mark.parametrize("partner", [AgencyCode.POLICE, AgencyCode.HEALTH, AgencyCode.EDUCATION])
async def test_child_level_items_are_for_auditors_of_the_lead_agencies_and_the_council(
    fixture: Fixture, partner: AgencyCode
) -> None:
    """A partner agency's auditor runs the aggregate reports only: the items name children, JSON or CSV."""
    world = fixture.world
    refused = world.headers(Role.AUDITOR, partner, f"auditor-{partner}")
    before = await audit_entries(world, "cin_referrals_report")
    for accept in ("application/json", "text/csv"):
        response = await get(world, RANGE, **refused, Accept=accept)
        problem = assert_problem(response, 403, "agency_not_permitted")
        assert "childrens_social_care, adult_social_care or council" in problem["detail"]
        assert "Amelia" not in response.text and "referral_id" not in response.text
    # Refused before the range is looked at, and nothing was exported.
    assert_problem(
        await get(world, {"from": "2026-04-30", "to": "2026-04-01"}, **refused), 403, "agency_not_permitted"
    )
    assert await audit_entries(world, "cin_referrals_report") == before
    # Its aggregate reports stay open.
    for path, params in (("/v1/reports/timeliness", {}), ("/v1/reports/sac", {"year": 2026})):
        assert (await world.http.get(path, params=params, headers=refused)).status_code == 200

    for role, agency in (
        (Role.AUDITOR, AgencyCode.CHILDRENS_SOCIAL_CARE),
        (Role.AUDITOR, AgencyCode.ADULT_SOCIAL_CARE),
        (Role.AUDITOR, AgencyCode.COUNCIL),
        (Role.INFORMATION_GOVERNANCE, AgencyCode.COUNCIL),
    ):
        headers = world.headers(role, agency, f"{role}-{agency}")
        response = await get(world, RANGE, **headers)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == fixture.expected
        assert len(parse_csv(await get(world, RANGE, **headers, Accept="text/csv"))) == len(fixture.expected)


# ---------------------------------------------------------------------------------------------------
# GET /v1/reports/cin-referrals/validation

VALIDATION = "/v1/reports/cin-referrals/validation"


async def validate(world: World, params: Body, **headers: str) -> Any:
    return await world.http.get(VALIDATION, params=params, headers={**world.auditor, **headers})


async def test_every_finding_on_the_items(fixture: Fixture) -> None:
    response = await validate(fixture.world, RANGE)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": fixture.findings, "next_cursor": None}
    # Amelia: nothing to fix (her late assessment and conference are the timeliness report's). Carl's
    # day has his one finding; a day with none is an empty list.
    response = await validate(fixture.world, {"from": "2026-04-30", "to": "2026-04-30"})
    assert response.json() == {"items": fixture.findings[-1:], "next_cursor": None}
    response = await validate(fixture.world, {"from": "2026-04-02", "to": "2026-04-14"})
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("limit", [1, 2, 3])
async def test_finding_pages_walk_every_finding_once_in_order(fixture: Fixture, limit: int) -> None:
    """Pages of one split the three findings on the unborn child; the cursor resumes at the next rule."""
    assert await walk(fixture.world, VALIDATION, limit) == fixture.findings


async def test_validation_takes_the_items_range(fixture: Fixture) -> None:
    for params, loc in (
        ({"from": "2026-04-30", "to": "2026-04-01"}, ["query", "to"]),
        ({"from": "2025-04-01", "to": "2026-04-02"}, ["query", "to"]),
        ({"to": "2026-04-30"}, ["query", "from"]),
    ):
        problem = assert_problem(await validate(fixture.world, params), 422, "validation_failed")
        assert [e["loc"] for e in problem["errors"]] == [loc]
    assert_problem(
        await validate(fixture.world, {**RANGE, "cursor": "bm90LWEtY3Vyc29y"}), 422, "invalid_cursor"
    )


async def test_validation_is_child_level_and_audited(fixture: Fixture) -> None:
    world = fixture.world
    before = await audit_entries(world, "cin_referrals_validation")
    for partner in (AgencyCode.POLICE, AgencyCode.HEALTH):
        refused = world.headers(Role.AUDITOR, partner, f"auditor-{partner}")
        problem = assert_problem(await validate(world, RANGE, **refused), 403, "agency_not_permitted")
        assert "childrens_social_care, adult_social_care or council" in problem["detail"]
    for role, agency in (
        (Role.MASH_MANAGER, AgencyCode.CHILDRENS_SOCIAL_CARE),
        (Role.PARTNER_REFERRER, AgencyCode.POLICE),
    ):
        response = await world.http.get(
            VALIDATION, params=RANGE, headers=world.headers(role, agency, f"x-{role}")
        )
        assert_problem(response, 403, "insufficient_scope")
    assert await audit_entries(world, "cin_referrals_validation") == before

    council = world.headers(Role.AUDITOR, AgencyCode.COUNCIL, "auditor-council")
    assert (await validate(world, RANGE, **council)).json()["items"] == fixture.findings
    [entry] = (await audit_entries(world, "cin_referrals_validation"))[len(before) :]
    assert (entry["action"], entry["details"], entry["actor"]["sub"]) == (
        "read",
        {"from": "2026-04-01", "to": "2026-04-30", "findings": len(fixture.findings), "continued": False},
        "auditor-council",
    )


async def test_rules_the_api_keeps_from_breaking_still_run(databases: Databases) -> None:
    """The rules whose breach the API refuses (dates out of order, factors missing or "21" with others, a
    plan without its conference's date or a category) find nothing on records made through it: here the
    records are corrected under the API (``run_sql``, as a data fix or a migration from another system
    might) and each rule finds its item. The rest are reached through the API: a child accepted with no
    further action yet given a plan (8831, 8832), and a case closed after assessment with an enquiry
    still open (8868, 2990).

    Received Monday 1 June 2026: Pia (assessed twice, two enquiries with plans), Quinn (no further action,
    accepted: a plan all the same) and Rosa (closed after assessment, RC8, her enquiry open).
    """
    async with world_on(databases) as world:
        builder = Builder(world)
        http, practitioner, manager = world.http, builder.practitioner, builder.manager
        referral = await builder.referral(
            builder.police,
            "2026-06-01T10:00:00+01:00",
            child(given_name="Pia", family_name="Nowak", date_of_birth="2016-01-01", gender="female"),
            child(given_name="Quinn", family_name="Nowak", date_of_birth="2017-01-01", gender="male"),
            child(given_name="Rosa", family_name="Nowak", date_of_birth="2019-01-01", gender="female"),
        )
        pia, quinn, rosa = (c["id"] for c in referral["children"])
        await run_sql(world.app, *builder.dates)
        await builder.decide(
            referral["id"],
            outcome="child_and_family_assessment",
            level=3,
            primary_need="N1",
            children=[{"child_id": quinn, **NFA_ACCEPTED}],
        )

        async def assessed(child_id: str, started_on: str, completion: Body) -> str:
            body = {"referral_id": referral["id"], "child_id": child_id, "started_on": started_on}
            started = await start_assessment(http, practitioner, body)
            ok(await complete_assessment(http, manager, started["id"], completion))
            return str(started["id"])

        async def planned(enquiry_id: str, category: str) -> None:
            body = {"concluded_on": "2026-06-10", "outcome": "initial_child_protection_conference"}
            ok(await conclude(http, manager, enquiry_id, body))
            body = {
                "held_on": "2026-06-12",
                "outcome": "child_protection_plan",
                "category_of_abuse": category,
            }
            ok(await conference(http, practitioner, enquiry_id, body))

        first = await assessed(pia, "2026-06-02", completion_body("2026-06-05"))
        second = await assessed(pia, "2026-06-08", completion_body("2026-06-19"))
        closed = await assessed(
            rosa,
            "2026-06-02",
            completion_body("2026-06-05", outcome="no_further_action", closure_reason="RC8"),
        )
        discussed = await hold_discussion(
            http, practitioner, discussion_body(referral, "2026-06-03T10:00:00+01:00")
        )
        enquiries = {e["child_id"]: e["id"] for e in discussed["section_47_enquiries"]}
        await planned(enquiries[pia], "physical")
        await planned(enquiries[quinn], "emotional")
        [again] = (
            await hold_discussion(
                http, practitioner, discussion_body(referral, "2026-06-04T10:00:00+01:00", child_ids=[pia])
            )
        )["section_47_enquiries"]
        await planned(again["id"], "neglect")

        await run_sql(
            world.app,
            # Pia's first assessment: started before the referral, completed before it started, no factors.
            "UPDATE assessments SET started_on = '2026-05-29', completed_on = '2026-05-28', factors = '[]' "
            f"WHERE id = '{sql_id(first)}'",
            # Her second: "21" with another factor.
            f"""UPDATE assessments SET factors = '["21", "3A"]' WHERE id = '{sql_id(second)}'""",
            # Her first enquiry: started before the referral, conference before it started, on Saturday
            # 30 May (before the referral too), its plan with no category.
            "UPDATE section_47_enquiries SET started_on = '2026-05-31', conference_held_on = '2026-05-30', "
            f"conference_category_of_abuse = NULL WHERE id = '{sql_id(enquiries[pia])}'",
            # Her second: a plan with no conference date.
            f"UPDATE section_47_enquiries SET conference_held_on = NULL WHERE id = '{sql_id(again['id'])}'",
            # Rosa's closing assessment: closed on 31 May, before the referral (and started before it).
            "UPDATE assessments SET started_on = '2026-05-29', completed_on = '2026-05-31' "
            f"WHERE id = '{sql_id(closed)}'",
        )

        def on(child_id: str, *rules: tuple[str, str]) -> list[Body]:
            return [finding(code, message, referral["id"], child_id) for code, message in rules]

        assessment_before_referral = ("1103", "The assessment start date cannot be before the referral date")
        expected = [
            *on(
                pia,
                assessment_before_referral,
                ("8608", "Assessment Start Date cannot be later than its End Date"),
                (
                    "8897Q",
                    "Parental or child factors at assessment information is missing from a completed assessment",
                ),
                (
                    "8869",
                    "The assessment factors code “21” cannot be used in conjunction with any other assessment "
                    "factors.",
                ),
                ("2889", "The S47 start date cannot be before the referral date."),
                (
                    "8615",
                    "Section 47 Enquiry Start Date must be present and cannot be later than the date of the "
                    "initial Child Protection Conference",
                ),
                (
                    "1104",
                    "The date of the initial child protection conference cannot be before the referral date",
                ),
                ("8875", "The Date of Initial Child Protection Conference cannot be a weekend"),
                ("1105", "The child protection plan start date cannot be before the referral date"),
                (
                    "2885",
                    "Child protection plan shown as starting a different day to the initial child protection "
                    "conference.",
                ),
                (
                    "8905",
                    "Initial Category of Abuse code missing or invalid (see Category of Abuse table in CIN "
                    "Census code set)",
                ),
            ),
            *on(
                quinn,
                ("8831", "Activity is recorded against a case marked as a referral with no further action"),
                ("8832", "Child Protection details provided for a referral with no further action."),
            ),
            *on(
                rosa,
                assessment_before_referral,
                ("8630", "CIN Closure Date is before CIN Referral Date for the same CIN episode"),
                (
                    "8868",
                    "CIN episode is shown as closed, however Section 47 enquiry is not shown as completed by "
                    "ICPC date or ICPC not required flag",
                ),
                (
                    "2990",
                    "Activity is recorded against a case marked as ‘Case closed after assessment, no further "  # noqa: RUF001
                    "action’ or 'case closed after assessment, referred to early help'.",  # noqa: RUF001
                ),
            ),
        ]
        june = {"from": "2026-06-01", "to": "2026-06-30"}
        response = await world.http.get(VALIDATION, params=june, headers=world.auditor)
        assert response.json() == {"items": expected, "next_cursor": None}


async def test_census_child_id_and_period_rules(databases: Databases) -> None:
    """The LA child id (1570, 1580) and the rules on the census's period (8520, 8530Q, 8569Q, 8600), each
    broken by some items and kept by others, against the range's census (2026-27: 1 April 2026 to the
    ReferenceDate 31 March 2027, whose first working day is Wednesday 1 April) and against the census
    of 2025-26 (``census_year=2025``). The ids, dates of birth and expected dates are set under the API
    (``run_sql``: a council's own ids carried over from its case management system, data fixes).

    - Received Friday 20 March 2026: Ana, no further action (accepted; her own id ``LCS-0001/A``) and
      Bo, assessed (``AAAAAAAAAAAAAAAAAAAAA``, 21 characters).
    - Received Wednesday 1 April 2026, all no further action: Cy (``LCS0001A``; born 1 April 2027 as
      recorded, after both ReferenceDates), and two unborn children, Dee expected 1 March 2027 and Eve
      2 March 2027 (both also more than 40 weeks after the referral: 8606).
    """
    async with world_on(databases) as world:
        builder = Builder(world)
        due = UNBORN_DUE
        march = await builder.referral(
            builder.police,
            "2026-03-20T10:00:00+00:00",
            child(given_name="Ana", family_name="Ionescu", date_of_birth="2015-01-01", gender="female"),
            child(given_name="Bo", family_name="Ionescu", date_of_birth="2016-01-01", gender="male"),
        )
        april = await builder.referral(
            builder.police,
            "2026-04-01T10:00:00+01:00",
            child(given_name="Cy", family_name="Lindqvist", date_of_birth="2017-01-01", gender="male"),
            {"given_name": "Dee", "family_name": "Moreau", "expected_date_of_birth": due},
            {"given_name": "Eve", "family_name": "Novak", "expected_date_of_birth": due},
        )
        ana, bo = march["children"]
        assessed = {"outcome": "child_and_family_assessment", "level": 3, "primary_need": "N1"}
        march = await builder.decide(
            march["id"], **NFA_ACCEPTED, children=[{"child_id": bo["id"], **assessed}]
        )
        april = await builder.decide(april["id"], **NFA_ACCEPTED)
        await run_sql(world.app, *builder.dates)  # received as said, after the decisions (as above)
        ana, bo = march["children"]
        cy, dee, eve = april["children"]

        def person(record: Body, assignments: str) -> str:
            return f"UPDATE people SET {assignments} WHERE id = '{sql_id(record['person_id'])}'"

        await run_sql(
            world.app,
            person(ana, "la_child_id = 'LCS-0001/A'"),
            person(bo, f"la_child_id = '{'A' * 21}'"),
            person(cy, "la_child_id = 'LCS0001A', date_of_birth = '2027-04-01'"),
            person(dee, "expected_date_of_birth = '2027-03-01'"),
            person(eve, "expected_date_of_birth = '2027-03-02'"),
        )

        items = ok(
            await world.http.get(
                "/v1/reports/cin-referrals",
                params={"from": "2026-03-01", "to": "2026-04-30"},
                headers=world.auditor,
            )
        )["items"]
        assert [(i["la_child_id"], i["date_of_birth"], i["expected_date_of_birth"]) for i in items] == [
            ("LCS-0001/A", "2015-01-01", None),
            ("A" * 21, "2016-01-01", None),
            ("LCS0001A", "2027-04-01", None),
            (census_id(dee["person_id"]), None, "2027-03-01"),
            (census_id(eve["person_id"]), None, "2027-03-02"),
        ]

        too_long = ("1570", "LA Child ID must not be longer than 20 characters")
        not_alphanumeric = ("1580", "LA Child ID must not contain any non-alphanumeric characters")
        long_before_birth = ("8606", "Child referral date is more than 40 weeks before DOB or expected DOB")
        born_after = (
            "8520",
            "Date of Birth is after data collection period (must be on or before the end of the census period)",
        )
        expected_outside = ("8530Q", EXPECTED_BIRTH_QUERY)
        carried_over_nfa = (
            "8569Q",
            "A case with referral date before one working day prior to the collection start date must not be "
            "flagged as a no further action case",
        )
        after_census = ("8600", "Child referral date missing or after data collection period")

        def on(record: Body, referral: Body, *rules: tuple[str, str]) -> list[Body]:
            return [finding(code, message, referral["id"], record["id"]) for code, message in rules]

        async def findings(**params: Any) -> list[Body]:
            response = await world.http.get(
                VALIDATION, params={"from": "2026-03-01", "to": "2026-04-30", **params}, headers=world.auditor
            )
            page = ok(response)
            assert page["next_cursor"] is None
            return list(page["items"])

        # The range's census, 2026-27: Ana's referral is from before it and was not taken further (8569Q);
        # Bo's was (no 8569Q), as was Cy's on the census's first working day. Dee is expected on the first
        # of March 2027 (30 days before the ReferenceDate: outside), Eve the day after (inside).
        assert await findings() == [
            *on(ana, march, not_alphanumeric, carried_over_nfa),
            *on(bo, march, too_long),
            *on(cy, april, long_before_birth, born_after),
            *on(dee, april, long_before_birth, expected_outside),
            *on(eve, april, long_before_birth),
        ]
        # The census of 2025-26 (ReferenceDate 31 March 2026): April's referrals are after it (8600), and
        # the unborn children are expected after December 2026 (8530Q); March's are in it.
        assert await findings(census_year=2025) == [
            *on(ana, march, not_alphanumeric),
            *on(bo, march, too_long),
            *on(cy, april, long_before_birth, born_after, after_census),
            *on(dee, april, long_before_birth, expected_outside, after_census),
            *on(eve, april, long_before_birth, expected_outside, after_census),
        ]
        problem = assert_problem(
            await world.http.get(VALIDATION, params={**RANGE, "census_year": 1999}, headers=world.auditor),
            422,
            "validation_failed",
        )
        assert [e["loc"] for e in problem["errors"]] == [["query", "census_year"]]
