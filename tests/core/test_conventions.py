"""The contract's conventions (api.md, "Conventions", contract 1.1) as a client meets them: what a body
that is not JSON, a date in the wrong format, a naive or out-of-range date-time, an unknown or repeated
query parameter get; where a problem's ``type`` points; CORS for the origins configured; docs offline."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from app.core.config import Settings
from app.core.cors import ALLOW_ORIGIN, EXPOSED_HEADERS
from app.core.errors import DATE_FORMAT_MESSAGE, DATETIME_FORMAT_MESSAGE, NAIVE_DATETIME_MESSAGE
from app.core.schemas import Instant, PastAwareDatetime
from app.main import create_app, openapi_document
from tests.conftest import make_settings
from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem, ok, serving
from tests.fixtures.referrals import referral_body

HUB_PAGE = "https://hub.example.org"


def _errors(body: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    return [(error["loc"], error["msg"]) for error in body["errors"]]


# -- bodies and dates ---------------------------------------------------------------------------------


async def test_a_body_that_is_not_json_is_a_400_saying_where_it_stopped(
    client: httpx.AsyncClient, who: Who
) -> None:
    response = await client.post(
        "/v1/referrals",
        content=b'{"children": [{"given_name": "Jane", }]}',
        headers={**who["police"], "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400, "malformed_json")
    [(loc, msg)] = _errors(body)
    assert loc[0] == "body" and isinstance(loc[1], int)
    assert msg.startswith("not valid JSON")
    assert "Jane" not in response.text


async def test_a_date_in_another_format_is_told_the_format(client: httpx.AsyncClient, who: Who) -> None:
    body = referral_body()
    body["children"][0]["date_of_birth"] = "02/05/2016"
    problem = assert_problem(
        await client.post("/v1/referrals", json=body, headers=who["police"]), 422, "validation_failed"
    )
    assert _errors(problem) == [(["body", "children", 0, "date_of_birth"], DATE_FORMAT_MESSAGE)]
    assert "YYYY-MM-DD" in DATE_FORMAT_MESSAGE


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("02/05/2016", DATETIME_FORMAT_MESSAGE, id="not a date-time"),
        pytest.param("2026-05-02T09:30:00", NAIVE_DATETIME_MESSAGE, id="naive"),
        pytest.param("2026-05-02", NAIVE_DATETIME_MESSAGE, id="a date alone"),
    ],
)
async def test_a_query_date_time_is_told_the_format_and_that_it_needs_an_offset(
    client: httpx.AsyncClient, who: Who, value: str, message: str
) -> None:
    response = await client.get("/v1/referrals", params={"received_from": value}, headers=who["practitioner"])
    assert _errors(assert_problem(response, 422, "validation_failed")) == [
        (["query", "received_from"], message)
    ]
    assert "offset" in message or "YYYY-MM-DDThh:mm:ss" in message


@pytest.mark.parametrize(
    ("url", "name", "value"),
    [
        ("/v1/referrals", "received_from", "0001-01-01T00:00:00+01:00"),
        ("/v1/referrals", "received_to", "9999-12-31T23:59:59-01:00"),
        ("/v1/referrals", "received_to", "9999-12-31T23:59:59Z"),
        ("/v1/audit-events", "from", "0001-01-01T00:30:00+02:00"),
        ("/v1/audit-events", "to", "9999-12-31T22:00:00-05:00"),
    ],
)
async def test_a_date_time_at_the_edge_of_the_calendar_is_a_422_not_a_500(
    client: httpx.AsyncClient, who: Who, url: str, name: str, value: str
) -> None:
    headers = who["practitioner"] if url == "/v1/referrals" else who["auditor"]
    response = await client.get(url, params={name: value}, headers=headers)
    [(loc, msg)] = _errors(assert_problem(response, 422, "validation_failed"))
    assert loc == ["query", name] and "UTC" in msg


@pytest.mark.parametrize("kind", [Instant, PastAwareDatetime])
def test_every_instant_a_client_sends_fits_in_utc(kind: Any) -> None:
    adapter = TypeAdapter(kind)
    for value in ("0001-01-01T22:00:00Z", "9999-12-31T00:00:00Z", "0001-01-01T00:00:00+00:30"):
        with pytest.raises(ValidationError, match="once converted to UTC"):
            adapter.validate_python(value)
    assert adapter.validate_python("2020-02-29T12:00:00+01:00").isoformat() == "2020-02-29T12:00:00+01:00"


# -- query strings -----------------------------------------------------------------------------------


async def test_an_unknown_query_parameter_is_a_422_naming_it(client: httpx.AsyncClient, who: Who) -> None:
    # A typo silently ignored would answer a list that looks filtered and is not.
    response = await client.get("/v1/referrals?stauts=received&limit=5", headers=who["practitioner"])
    body = assert_problem(response, 422, "validation_failed")
    assert _errors(body) == [(["query", "stauts"], "is not a parameter of this operation")]
    assert "received" not in response.text


async def test_an_operation_without_parameters_refuses_any(client: httpx.AsyncClient, who: Who) -> None:
    body = assert_problem(
        await client.get("/v1/me?debug=1&debug=2", headers=who["police"]), 422, "validation_failed"
    )
    assert _errors(body) == [(["query", "debug"], "is not a parameter of this operation")]
    ok(await client.get("/v1/me", headers=who["police"]))


async def test_a_single_valued_parameter_sent_twice_is_a_422(client: httpx.AsyncClient, who: Who) -> None:
    response = await client.get("/v1/referrals?limit=1&limit=2", headers=who["practitioner"])
    assert _errors(assert_problem(response, 422, "validation_failed")) == [
        (["query", "limit"], "takes one value: send it once")
    ]


async def test_a_list_parameter_takes_repeats(client: httpx.AsyncClient, who: Who) -> None:
    url = "/v1/events?event_type=referral.received&event_type=referral.rated&limit=5"
    assert ok(await client.get(url, headers=who["police"]))["items"] == []


async def test_unknown_and_repeated_parameters_are_all_listed_once_each(
    client: httpx.AsyncClient, who: Who
) -> None:
    response = await client.get("/v1/referrals?a=1&a=2&limit=1&b=3&limit=4", headers=who["practitioner"])
    assert [loc for loc, _ in _errors(assert_problem(response, 422, "validation_failed"))] == [
        ["query", "a"],
        ["query", "limit"],
        ["query", "b"],
    ]


def test_the_spec_says_unknown_and_repeated_parameters_are_refused() -> None:
    document = openapi_document()
    description = document["paths"]["/v1/referrals"]["get"]["responses"]["422"]["description"]
    assert "unknown query parameter" in description and "more than once" in description


# -- problem type URIs -------------------------------------------------------------------------------


async def test_problem_types_follow_the_address_the_service_was_reached_at(settings: Settings) -> None:
    async with serving(create_app(settings), "http://127.0.0.1:8123") as http:
        body = assert_problem(await http.get("/v1/me"), 401, "not_authenticated")
    assert body["type"] == "http://127.0.0.1:8123/problems/not_authenticated"
    async with serving(create_app(settings), "https://10.1.2.3") as http:
        body = assert_problem(await http.get("/v1/me"), 401, "not_authenticated")
    assert body["type"] == "https://10.1.2.3/problems/not_authenticated"


async def test_problem_types_are_built_on_the_public_base_url(database_url: str) -> None:
    app = create_app(make_settings(database_url, public_base_url="https://mash.example.org/api/"))
    async with serving(app, "http://10.0.0.5:8000") as http:
        unauthenticated = assert_problem(await http.get("/v1/me"), 401, "not_authenticated")
        missing = assert_problem(await http.get("/v1/nothing-here"), 404, "not_found")
        too_large = assert_problem(
            await http.post("/oauth/token", content=b"x" * 2_000_000, headers={"Content-Type": "text/plain"}),
            413,
            "payload_too_large",
        )
    for body in (unauthenticated, missing, too_large):
        assert body["type"] == f"https://mash.example.org/api/problems/{body['code']}"


# -- CORS --------------------------------------------------------------------------------------------


async def _preflight(
    http: httpx.AsyncClient, url: str, origin: str, method: str, headers: str | None = None
) -> httpx.Response:
    """A browser's CORS preflight from a page on ``origin``, for a ``method`` request with ``headers``."""
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        asked["Access-Control-Request-Headers"] = headers
    return await http.options(url, headers=asked)


async def test_without_an_allow_list_no_origin_is_let_in(client: httpx.AsyncClient, who: Who) -> None:
    response = await client.get("/v1/me", headers={**who["police"], "Origin": HUB_PAGE})
    assert response.status_code == 200 and ALLOW_ORIGIN.lower() not in response.headers
    preflight = await _preflight(client, "/v1/me", HUB_PAGE, "GET")
    assert preflight.status_code == 405 and ALLOW_ORIGIN.lower() not in preflight.headers


async def test_an_allowed_origin_gets_its_preflight_and_its_answers(database_url: str, who: Who) -> None:
    app = create_app(make_settings(database_url, cors_allow_origins=[HUB_PAGE]))
    async with serving(app) as http:
        preflight = await _preflight(
            http, "/v1/referrals", HUB_PAGE, "POST", "authorization, content-type, idempotency-key"
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == HUB_PAGE
        allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type", "idempotency-key", "if-match"} <= allowed
        assert "PATCH" in preflight.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in preflight.headers

        created = await http.post(
            "/v1/referrals", json=referral_body(), headers={**who["police"], "Origin": HUB_PAGE}
        )
        assert created.status_code == 201
        assert created.headers["access-control-allow-origin"] == HUB_PAGE
        exposed = {h.strip().lower() for h in created.headers["access-control-expose-headers"].split(",")}
        assert {"etag", "location", "link", "retry-after", "ratelimit-remaining"} <= exposed
        assert {h.lower() for h in EXPOSED_HEADERS} == exposed
        assert "Origin" in created.headers["vary"]

        # Errors are readable by the page too.
        refused = await http.get("/v1/me", headers={"Origin": HUB_PAGE})
        assert_problem(refused, 401, "not_authenticated")
        assert refused.headers["access-control-allow-origin"] == HUB_PAGE


async def test_another_origin_is_not_let_in(database_url: str, who: Who) -> None:
    app = create_app(make_settings(database_url, cors_allow_origins=[HUB_PAGE]))
    async with serving(app) as http:
        stranger = "https://evil.example.net"
        response = await http.get("/v1/me", headers={**who["police"], "Origin": stranger})
        assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
        preflight = await _preflight(http, "/v1/me", stranger, "GET")
        assert_problem(preflight, 400, "bad_request")
        assert "evil" not in preflight.text and "access-control-allow-origin" not in preflight.headers
        # An allowed origin asking for a header the API does not read is refused as well.
        odd_header = await _preflight(http, "/v1/me", HUB_PAGE, "GET", "x-secret")
        assert_problem(odd_header, 400, "bad_request")


def test_the_spec_documents_the_cors_header_on_every_response() -> None:
    document = openapi_document()
    header = document["components"]["headers"][ALLOW_ORIGIN]
    assert "MASH_CORS_ALLOW_ORIGINS" in header["description"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                assert response["headers"][ALLOW_ORIGIN] == {
                    "$ref": f"#/components/headers/{ALLOW_ORIGIN}"
                }, (
                    method,
                    path,
                    status,
                )


# -- docs offline ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "asset"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]
)
async def test_the_docs_load_every_asset_from_the_service(
    client: httpx.AsyncClient, page: str, asset: str
) -> None:
    response = await client.get(page)
    html = response.text
    # The browser is told so too: scripts, styles, images and connections from this origin only.
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy and "https:" not in policy
    # Nothing from elsewhere: every src and href is a path on this service.
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert references and all(ref.startswith("/") for ref in references), references
    assert f"/docs/assets/{asset}" in references
    assert "cdn" not in html.lower() and "fonts.googleapis" not in html
    served = await client.get(f"/docs/assets/{asset}")
    assert served.status_code == 200 and "javascript" in served.headers["content-type"]
    assert len(served.content) > 100_000
