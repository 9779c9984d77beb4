"""The benchmark scenarios: one entry per endpoint, run against mash-api and against the ceiling.

To add a scenario: write a ``build`` function (and a ``setup`` if it needs data first), add a
``Scenario`` to ``SCENARIOS``, and add the endpoint doing the same database work to bench/ceiling.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from app.people.matching import NAME_CODE_LENGTH, nhs_check_digit, normalise_name, phonetic_code
from bench.matching_data import GROUPS, POSTCODE_AREAS, SURNAME_ENDINGS, SURNAME_STEMS, UNIT_LETTERS, words

Target = Literal["ours", "ceiling"]
TARGETS: tuple[Target, ...] = ("ours", "ceiling")
# Values shared by run.py, the setup hooks and the load generator: credentials, tokens, ids.
Context = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RequestSpec:
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    query: str = ""  # appended to the scenario's path, e.g. "?status=triaged"
    path_suffix: str = ""  # appended to the path before the query, e.g. "/<referral id>"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    method: str
    path: str  # on mash-api
    ceiling_path: str  # the endpoint of bench/ceiling.py doing the same database work
    # Builds request number ``seq`` (unique within a run, e.g. for idempotency keys). When ``varies``
    # is False it is called once per connection and the encoded request is reused: a cheaper client.
    build: Callable[[Context, int], RequestSpec]
    varies: bool = False
    # Runs once per target before the load, with a client bound to that target; what it returns is
    # added to the context (e.g. a token issued by that target).
    setup: Callable[[httpx.Client, Target, Context], dict[str, str]] | None = None
    # Reads or matches against referrals: run.py seeds the database first (bench/seed.py).
    seeded: bool = False
    # Run by bench/measure.py after the load, with $1 the time it started: (label, count) rows describing what
    # the requests did, e.g. how the new children were matched; shown as "<check_label>: ...".
    check: str | None = None
    check_label: str = ""
    # Run by bench/measure.py on the target's fresh database before the load: its rows (as text, tab-separated)
    # go to the context as "sample", one per line, e.g. the ids of referrals to read.
    sample: str | None = None

    def path_for(self, target: Target) -> str:
        return self.path if target == "ours" else self.ceiling_path


def _token_request(ctx: Context, _seq: int) -> RequestSpec:
    form = {
        "grant_type": "client_credentials",
        "client_id": ctx["client_id"],
        "client_secret": ctx["client_secret"],
    }
    return RequestSpec(
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        body=urlencode(form).encode(),
    )


def _fetch_token(http: httpx.Client, target: Target, ctx: Context, prefix: str = "") -> dict[str, str]:
    """A token for the client ``ctx[prefix + "client_id"]``, issued by the target itself."""
    spec = _token_request(
        {"client_id": ctx[f"{prefix}client_id"], "client_secret": ctx[f"{prefix}client_secret"]}, 0
    )
    response = http.post(SCENARIOS["token"].path_for(target), content=spec.body, headers=dict(spec.headers))
    response.raise_for_status()
    return {"access_token": response.json()["access_token"]}


def _me_request(ctx: Context, _seq: int) -> RequestSpec:
    return RequestSpec(
        headers={"Authorization": f"Bearer {ctx['access_token']}", "Accept": "application/json"}
    )


# ---- referral_create: a police system refers one or two children the hub has never seen -------------

# Family names not in bench/matching_data.py's population, nor sounding like one (blocking keys pair a
# name's phonetic code with a date or postcode): the children are new, as the scenario says.
_TAKEN = {
    phonetic_code(normalise_name(name), NAME_CODE_LENGTH)
    for name in [
        *(n for g in GROUPS for n in g.surnames),
        *(s + e for s in SURNAME_STEMS for e in SURNAME_ENDINGS),
    ]
}
_NEW_SURNAMES = [
    name
    for name in (
        stem + ending
        for stem in words(
            "Abber Bex Cul Dray Elm Fen Garr Hith Ick Jess Kell Lud Mab Ned Oss Pry Quen Rudd Sax Tib "
            "Ulv Vey Wex Yarr Zell Aud Bly Cog Dew Esk Fog Gil Hob Ire Jow Kip Lum Mew Nab Orm"
        )
        for ending in words(
            "combe cote den dyke fold garth holme ings lade mere rigg royd sike stow tarn wray beck"
        )
    )
    if phonetic_code(normalise_name(name), NAME_CODE_LENGTH) not in _TAKEN
]
# (surname, birth date) does not repeat for millions of requests: len(_NEW_SURNAMES) is coprime with
# the prime number of days, so request n gets the pair (n mod names, n mod days).
_BIRTH_DAYS = 6529
_GIVEN = {
    gender: [name for group in GROUPS for name in (group.boys if gender == "male" else group.girls)]
    for gender in ("male", "female")
}
_CONCERNS = (
    (
        ["domestic_abuse"],
        "Police attended a domestic incident at the home overnight; the children were present.",
    ),
    (
        ["domestic_abuse", "emotional_abuse"],
        "Third call-out this month: shouting and threats; the child was upset.",
    ),
    (["going_missing"], "Reported missing overnight and found in the town centre with older young people."),
    (["neglect"], "Officers found the children alone at home at 11pm with no food in the house."),
    (["physical_abuse"], "The child told an officer that a parent hit them; a bruise was seen on the arm."),
    (["child_criminal_exploitation", "going_missing"], "Found carrying cash and two phones far from home."),
)


def _sibling_born(born: date, apart: int, today: date) -> date:
    """A brother's or sister's date of birth, ``apart`` days from ``born``: older if that keeps them a
    child (under 18, else the referral is a 422), younger if they are born by now, else a twin."""
    if (today - born).days + apart <= 30 + _BIRTH_DAYS:
        return born - timedelta(days=apart)
    if (today - born).days - apart >= 30:
        return born + timedelta(days=apart)
    return born


def referral_body(n: int, today: date) -> dict[str, Any]:
    """Referral ``n`` from a police system: one or two children new to the hub, their household."""
    rng = random.Random(n)
    surname = _NEW_SURNAMES[n % len(_NEW_SURNAMES)]
    district = f"{rng.choice(POSTCODE_AREAS)}{rng.randint(1, 29)}"
    postcode = f"{district} {rng.randint(1, 9)}{rng.choice(UNIT_LETTERS)}{rng.choice(UNIT_LETTERS)}"
    address = {
        "lines": [f"{rng.randint(1, 180)} {rng.choice(('Moor', 'Mill', 'Church'))} Road"],
        "postcode": postcode,
    }
    born = today - timedelta(days=30 + n % _BIRTH_DAYS)
    children = []
    for index in range(2 if rng.random() < 0.4 else 1):
        gender = rng.choice(("male", "female"))
        child: dict[str, Any] = {
            "given_name": rng.choice(_GIVEN[gender]),
            "family_name": surname,
            "date_of_birth": (
                born if index == 0 else _sibling_born(born, rng.randint(400, 2500), today)
            ).isoformat(),
            "address": address,
            "gender": gender,
        }
        # The police know a child's NHS number now and then (a unique, valid one: 9 + n, check digit).
        first_nine = f"9{(2 * n + index) % 10**8:08d}"
        check = nhs_check_digit(first_nine)
        if rng.random() < 0.3 and check is not None:
            child["nhs_number"] = f"{first_nine}{check}"
        if rng.random() < 0.5:
            child["ethnicity"] = rng.choice(("WBRI", "WBRI", "WBRI", "APKN", "BAFR", "WOTH", "MWBC"))
        children.append(child)
    categories, summary = rng.choice(_CONCERNS)
    household = [
        {"given_name": rng.choice(_GIVEN["female"]), "family_name": surname, "relationship": "mother",
         "lives_with_children": True, "parental_responsibility": True}
    ]  # fmt: skip
    if rng.random() < 0.5:
        household.append(
            {"given_name": rng.choice(_GIVEN["male"]), "family_name": surname, "relationship": "parents_partner",
             "lives_with_children": rng.random() < 0.5}
        )  # fmt: skip
    informed = rng.random() < 0.5
    return {
        "children": children,
        "household": household,
        "concern_categories": categories,
        "concern_summary": summary,
        "referrer": {
            "name": f"PC {rng.randint(1000, 9999)} Dawson",
            "role": "Public protection officer",
            "phone": f"0113 496 {rng.randint(0, 9999):04d}",
        },
        "referral_source": "6",
        "parental_consent": {
            "informed": informed,
            "consented": False,
            "reason_not_informed": "Informing the parents would increase the risk to the children."
            if not informed
            else "The mother declined; the referral proceeds because the children are at risk of harm.",
        },
    }


def _referral_create(ctx: Context, seq: int) -> RequestSpec:
    # Both targets send the same sequence of bodies, each to its own copy of the seeded database.
    return RequestSpec(
        headers={
            "Authorization": f"Bearer {ctx['access_token']}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": f"bench-{seq}",
        },
        body=json.dumps(referral_body(seq, date.fromisoformat(ctx["today"]))).encode(),
    )


def _police_token(http: httpx.Client, target: Target, ctx: Context) -> dict[str, str]:
    return {**_fetch_token(http, target, ctx), "today": datetime.now(UTC).date().isoformat()}


# ---- referral_list*: the hub's screens, as a children's social care practitioner -------------------


def _practitioner_token(http: httpx.Client, target: Target, ctx: Context) -> dict[str, str]:
    # The month's window is fixed when the run starts, the same for both targets up to a minute.
    since = (datetime.now(UTC) - timedelta(days=28)).replace(microsecond=0)
    return {
        **_fetch_token(http, target, ctx, prefix="practitioner_"),
        "since": since.isoformat().replace("+00:00", "Z"),
    }


# The adult social care worker whose open enquiries the enquiry list shows: bench/seed_large.py
# allocates every enquiry to one of BENCH_ASC_WORKERS workers ("bench-asc-worker-<n>").
BENCH_ASC_WORKER = "bench-asc-worker-7"


def _asc_token(http: httpx.Client, target: Target, ctx: Context) -> dict[str, str]:
    return _fetch_token(http, target, ctx, prefix="asc_")


def _list_request(query: str) -> Callable[[Context, int], RequestSpec]:
    def build(ctx: Context, _seq: int) -> RequestSpec:
        return RequestSpec(
            headers={"Authorization": f"Bearer {ctx['access_token']}", "Accept": "application/json"},
            query="?" + query.format(**ctx),
        )

    return build


# ---- reading, answering, matching: requests about seeded records, from run.py's "sample" --------------


@cache
def _sample(text: str) -> list[list[str]]:
    # Parsed once per load generator (the context's string is the same object for every request).
    return [line.split("\t") for line in text.splitlines()]


def _pick(ctx: Context, seq: int) -> list[str]:
    rows = _sample(ctx["sample"])
    if not rows:
        raise RuntimeError("the sample query found no rows: is the database seeded?")
    return rows[seq % len(rows)]


def _referral_get(ctx: Context, seq: int) -> RequestSpec:
    return RequestSpec(
        headers={"Authorization": f"Bearer {ctx['access_token']}", "Accept": "application/json"},
        path_suffix=f"/{_pick(ctx, seq)[0]}",
    )


# The agencies answering (each with its own client, see BENCH_CLIENTS in bench/provision.py): most
# requests go to them.
ANSWERING = ("police", "health", "education")


def _answering_tokens(http: httpx.Client, target: Target, ctx: Context) -> dict[str, str]:
    return {
        f"token:{agency}": _fetch_token(http, target, ctx, prefix="" if agency == "police" else f"{agency}_")[
            "access_token"
        ]
        for agency in ANSWERING
    }


def _contribution_response(ctx: Context, seq: int) -> RequestSpec:
    contribution_id, agency, status = _pick(ctx, seq)
    rng = random.Random(seq)
    information, indicators = rng.choice(_ANSWERS)
    body: dict[str, Any] = {"information": information, "risk_indicators": indicators, "restricted": False}
    if status == "submitted":  # the open requests ran out: correct an earlier answer instead
        body["correction_reason"] = "The earlier answer named the wrong address."
    return RequestSpec(
        headers={
            "Authorization": f"Bearer {ctx[f'token:{agency}']}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        body=json.dumps(body).encode(),
        path_suffix=f"/{contribution_id}/response",
    )


_ANSWERS: tuple[tuple[str, list[str]], ...] = (
    ("Two call-outs to the address for domestic incidents in the last six months.", ["domestic_abuse"]),
    ("Not known to this agency.", []),
    ("The father was arrested for assault last year; no charge.", ["domestic_abuse"]),
)


def _person_match(ctx: Context, seq: int) -> RequestSpec:
    given, family, born, postcode = _pick(ctx, seq)
    query: dict[str, Any] = {"given_name": given, "family_name": family}
    if born:
        query["date_of_birth"] = born
    # A practitioner often does not have the postcode, or has an old one: every other query goes without.
    if postcode and seq % 2 == 0:
        query["postcode"] = postcode
    return RequestSpec(
        headers={
            "Authorization": f"Bearer {ctx['access_token']}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        body=json.dumps(query).encode(),
    )


_ALL = [
    Scenario(
        name="token",
        description="client credentials grant: SELECT client, argon2id verify, HS256 sign, audit write",
        method="POST",
        path="/oauth/token",
        ceiling_path="/ceiling/oauth/token",
        build=_token_request,
    ),
    Scenario(
        name="me",
        description="bearer token check: HS256 verify, SELECT clients.revoked_at by id",
        method="GET",
        path="/v1/me",
        ceiling_path="/ceiling/v1/me",
        build=_me_request,
        setup=_fetch_token,
    ),
    Scenario(
        name="referral_list",
        description="hub screen: overdue referrals, newest first, page of 50 (of 1M seeded), audit",
        method="GET",
        path="/v1/referrals",
        ceiling_path="/ceiling/v1/referrals",
        build=_list_request("overdue=true&limit=50"),
        setup=_practitioner_token,
        seeded=True,
    ),
    Scenario(
        name="referral_list_police",
        description="hub screen: police referrals of the last 28 days, page of 50, audit",
        method="GET",
        path="/v1/referrals",
        ceiling_path="/ceiling/v1/referrals",
        build=_list_request("referring_agency=police&received_from={since}&limit=50"),
        setup=_practitioner_token,
        seeded=True,
    ),
    Scenario(
        name="referral_list_red",
        description="hub screen: red referrals awaiting checks (status=triaged&rag=red), audit",
        method="GET",
        path="/v1/referrals",
        ceiling_path="/ceiling/v1/referrals",
        build=_list_request("status=triaged&rag=red&limit=50"),
        setup=_practitioner_token,
        seeded=True,
    ),
    Scenario(
        name="triage_page",
        description="hub triage page: unallocated overdue referrals by deadline, with checks, repeats, audit",
        method="GET",
        path="/v1/referrals",
        ceiling_path="/ceiling/v1/referrals",
        build=_list_request("allocated_to=none&overdue=true&sort=decision_due_at&limit=50"),
        setup=_practitioner_token,
        seeded=True,
    ),
    Scenario(
        name="enquiry_list",
        description="an adult worker's open enquiries (allocated to one seeded worker), with adult, advocacy, audit",
        method="GET",
        path="/v1/enquiries",
        ceiling_path="/ceiling/v1/enquiries",
        build=_list_request(f"allocated_to={BENCH_ASC_WORKER}&status=open&limit=50"),
        setup=_asc_token,
        seeded=True,
    ),
    Scenario(
        name="referral_get",
        description="hub screen: one referral, full view (children, siblings, earlier referrals), audit",
        method="GET",
        path="/v1/referrals",
        ceiling_path="/ceiling/v1/referrals",
        build=_referral_get,
        varies=True,
        setup=_practitioner_token,
        seeded=True,
        # Spread over the whole table, the same for both targets.
        sample="SELECT id FROM referrals ORDER BY md5(id::text) LIMIT 5000",
    ),
    Scenario(
        name="person_match",
        description="POST /v1/people/matches: blocking-key candidates, ranking, siblings, audit",
        method="POST",
        path="/v1/people/matches",
        ceiling_path="/ceiling/v1/people/matches",
        build=_person_match,
        varies=True,
        setup=_practitioner_token,
        seeded=True,
        sample="SELECT given_name, family_name, coalesce(date_of_birth::text, ''), coalesce(postcode, '')"
        " FROM people ORDER BY md5(id::text) LIMIT 5000",
    ),
    # Each request answers a different open request for information (a second answer would be refused),
    # then, when they run out, corrects an answered one: the same statements, one more version read back.
    Scenario(
        name="contribution_response",
        description="an agency answers a request for information: lock, UPDATE, INSERT, case event, audit",
        method="POST",
        path="/v1/contributions",
        ceiling_path="/ceiling/v1/contributions",
        build=_contribution_response,
        varies=True,
        setup=_answering_tokens,
        seeded=True,
        # ANSWERING is a constant of this module, not input.
        sample=f"(SELECT id, agency, status FROM contributions WHERE status = 'requested' AND agency IN {ANSWERING}"  # noqa: S608
        " ORDER BY md5(id::text)) UNION ALL (SELECT id, agency, status FROM contributions"
        f" WHERE status = 'submitted' AND agency IN {ANSWERING} ORDER BY md5(id::text) LIMIT 50000)",
        check="SELECT CASE WHEN version_number = 1 THEN 'first answers' ELSE 'corrections' END, count(*)"
        " FROM contribution_responses WHERE submitted_at >= $1 GROUP BY 1 ORDER BY 1",
        check_label="responses made",
    ),
    # After the lists, which then read the seeded referrals only, not the ones it adds.
    Scenario(
        name="referral_create",
        description="police referral of 1-2 new children: matching, person records, 8-20 INSERTs, audit",
        method="POST",
        path="/v1/referrals",
        ceiling_path="/ceiling/v1/referrals",
        build=_referral_create,
        varies=True,
        setup=_police_token,
        seeded=True,
        # The children must be new (the heaviest path: person records and their keys): any other
        # status means the bodies collided with the seeded people or with each other.
        check="SELECT c.match_status, count(*) FROM referral_children c JOIN referrals r ON r.id = c.referral_id"
        " WHERE r.received_at >= $1 GROUP BY 1 ORDER BY 1",
        check_label="children of the referrals made, by match status",
    ),
]
SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in _ALL}
