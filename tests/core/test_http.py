"""Every error path answers problem+json with a stable code; request ids, logs and metrics."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import _logs as otel_logs
from opentelemetry import metrics, trace

from app.core.logging import JsonFormatter
from app.main import create_app
from tests.conftest import make_settings
from tests.fixtures.callers import TokenFactory
from tests.fixtures.clients import client_body
from tests.fixtures.http import PROBLEM_KEYS, assert_problem, serving
from tests.fixtures.referrals import referral_body

PERSONAL = "Jane Doe born 2015-03-01"


Logs = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def server_logs() -> Iterator[Logs]:
    """What the service logged so far, as our JSON formatter renders it (the test client's own
    httpx log lines are left out: they are the caller's, not the service's)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)

    def lines() -> list[dict[str, Any]]:
        parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [line for line in parsed if line["logger"] != "httpx"]

    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/nothing-here"), 404, "not_found")


async def test_unknown_record_is_a_404_problem(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/v1/clients/0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10", headers=admin)
    assert_problem(response, 404, "not_found")


async def test_wrong_method_is_a_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v1/me")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


# Looks like personal data, as a careless or hostile client might put in a URL or a body.
ECHO = "jane-doe-1970"


@pytest.mark.parametrize(
    "url",
    [
        f"/v1/{ECHO}",
        f"/v1/people/search/{ECHO}",
        f"/{ECHO}?name={ECHO}",
        f"/v1/clients/0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10/{ECHO}",
    ],
)
async def test_a_404_does_not_echo_the_path_or_the_query(
    client: httpx.AsyncClient, admin: dict[str, str], url: str
) -> None:
    response = await client.get(url, headers=admin)
    assert_problem(response, 404, "not_found")
    assert ECHO not in response.text


async def test_a_405_does_not_echo_the_method(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.request("JANEDOE", "/v1/me", headers=admin)
    assert_problem(response, 405, "method_not_allowed")
    assert "JANEDOE" not in response.text
    assert response.headers["allow"] == "GET"


async def test_an_unknown_problem_code_is_not_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/problems/{ECHO}")
    assert_problem(response, 404, "not_found")
    assert ECHO not in response.text


async def test_messages_that_would_quote_the_value_sent_do_not(
    client: httpx.AsyncClient, admin: dict[str, str], auth: TokenFactory
) -> None:
    # pydantic names the first bad character of a UUID, the email validator the bad characters.
    bad_id = assert_problem(
        await client.get("/v1/clients/q0b6f8a2e", headers=admin), 422, "validation_failed"
    )
    assert bad_id["errors"] == [{"loc": ["path", "client_id"], "msg": "Input should be a valid UUID"}]
    assert "`q`" not in str(bad_id)
    referrer = {"name": "PC Dawson", "email": "jane_doe@exa(mple).org"}
    response = await client.post(
        "/v1/referrals", json=referral_body(referrer=referrer), headers=auth("partner_referrer", "police")
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert {"loc": ["body", "referrer", "email"], "msg": "value is not a valid email address"} in problem[
        "errors"
    ]
    assert "'('" not in response.text and "jane_doe" not in response.text


async def test_malformed_id_is_a_422_problem(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = assert_problem(await client.get("/v1/clients/not-a-uuid", headers=admin), 422, "validation_failed")
    assert body["errors"][0]["loc"] == ["path", "client_id"]


async def test_validation_errors_list_each_field_and_never_echo_the_input(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/clients",
        json={"name": "", "agency": PERSONAL, "role": "partner_referrer", "nickname": PERSONAL},
        headers=admin,
    )
    body = assert_problem(response, 422, "validation_failed")
    locations = sorted(tuple(e["loc"]) for e in body["errors"])
    assert locations == [("body", "agency"), ("body", "name"), ("body", "nickname")]
    assert all(set(e) == {"loc", "msg"} for e in body["errors"])
    assert "Jane" not in response.text


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        pytest.param(b'{"name": ', "application/json", 400, "malformed_json", id="invalid JSON"),
        pytest.param(
            b"name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type", id="not JSON"
        ),
    ],
)
async def test_a_body_that_cannot_be_read_is_a_problem(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    content: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    response = await client.post(
        "/v1/clients", content=content, headers={**admin, "Content-Type": content_type}
    )
    assert_problem(response, status, code)


async def test_json_with_a_charset_parameter_is_json(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/clients",
        content=json.dumps(client_body()).encode(),
        headers={**admin, "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


async def test_a_declared_body_over_one_mebibyte_is_a_413_problem(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    big = json.dumps({**client_body(), "name": "x" * (1024 * 1024)})
    response = await client.post(
        "/v1/clients", content=big, headers={**admin, "Content-Type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


async def test_a_streamed_body_over_one_mebibyte_is_a_413_problem(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = await client.post(
        "/v1/clients", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")


async def test_the_callers_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "partner-abc.123"})
    assert response.headers["x-request-id"] == "partner-abc.123"


@pytest.mark.parametrize("incoming", ["", "has spaces", "x" * 129, "<script>"])
async def test_an_unsafe_request_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] != incoming
    assert len(response.headers["x-request-id"]) == 32


async def test_a_500_carries_a_request_id_and_nothing_else(
    app: FastAPI, client: httpx.AsyncClient, server_logs: Logs
) -> None:
    async def explode() -> None:
        raise RuntimeError(f"cannot process {PERSONAL}")

    app.add_api_route("/test/explode", explode)
    response = await client.get("/test/explode", headers={"X-Request-ID": "req-500"})

    body = assert_problem(response, 500, "internal_error")
    assert set(body) == PROBLEM_KEYS
    assert body["request_id"] == "req-500"
    assert "RuntimeError" not in response.text
    assert "Jane" not in response.text
    logs = server_logs()
    errors = [line for line in logs if line["logger"] == "mash.errors"]
    assert errors and errors[0]["error_type"] == "RuntimeError"
    assert errors[0]["request_id"] == "req-500"
    assert any("test_http.py" in frame for frame in errors[0]["stack"])
    assert all("Jane" not in json.dumps(line) for line in logs)


async def test_every_request_is_logged_as_one_json_line_without_personal_data(
    client: httpx.AsyncClient, admin: dict[str, str], server_logs: Logs
) -> None:
    await client.post("/v1/clients", json={**client_body(), "name": PERSONAL}, headers=admin)
    # An unknown query parameter is refused (422); neither its value nor the body's is logged or echoed.
    refused = await client.get("/v1/clients", params={"name": PERSONAL}, headers=admin)
    assert "Jane" not in refused.text
    logs = server_logs()
    access = [line for line in logs if line["logger"] == "mash.access"]
    assert [(line["method"], line["route"], line["status"]) for line in access] == [
        ("POST", "/v1/clients", 201),
        ("GET", "/v1/clients", 422),
    ]
    # The query is refused before the token is read (as a body that is not JSON is), so that line names
    # no caller.
    assert [line["agency"] for line in access] == ["childrens_social_care", None]
    assert all(line["request_id"] for line in access)
    assert all("Jane" not in json.dumps(line) for line in logs)


async def test_a_deployments_opentelemetry_receives_nothing_from_fastapis_own_instrumentation(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # FastAPI's instrumentation would hand a deployment's OpenTelemetry SDK requests' values and bodies
    # and exceptions' messages, which can hold personal data: it is off. These providers stand for
    # such an SDK: each notes its uses and records nothing.
    used: list[str] = []

    class Tracers(trace.TracerProvider):
        def get_tracer(self, instrumenting_module_name: str, *args: Any, **kwargs: Any) -> trace.Tracer:
            used.append("tracer")
            return trace.NoOpTracer()

    class Meters(metrics.MeterProvider):
        def get_meter(self, name: str, *args: Any, **kwargs: Any) -> metrics.Meter:
            used.append("meter")
            return metrics.NoOpMeter(name)

    class Loggers(otel_logs.LoggerProvider):
        def get_logger(self, name: str, *args: Any, **kwargs: Any) -> otel_logs.Logger:
            used.append("logger")
            return otel_logs.NoOpLogger(name)

    monkeypatch.setattr(trace, "get_tracer_provider", Tracers)
    monkeypatch.setattr(metrics, "get_meter_provider", Meters)
    monkeypatch.setattr(otel_logs, "get_logger_provider", Loggers)
    created = await client.post("/v1/clients", json={**client_body(), "name": PERSONAL}, headers=admin)
    assert created.status_code == 201
    assert (await client.get("/v1/clients", params={"name": PERSONAL}, headers=admin)).status_code == 422
    assert used == []


async def test_metrics_count_requests_by_route_template_and_status(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.get("/v1/clients/0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10", headers=admin)
    await client.get("/v1/clients/1b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10", headers=admin)
    await client.get("/nowhere")
    text = (await client.get("/metrics")).text
    assert 'mash_http_requests_total{method="GET",route="/v1/clients/{client_id}",status="404"} 2.0' in text
    assert 'mash_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert (
        'mash_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/v1/clients/{client_id}"'
        in text
    )


async def test_metrics_count_made_up_methods_as_other(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # A method a client makes up must not become a series of its own: each would be kept for ever.
    for method in ("BREW", "WHEN", "PROPFIND"):
        assert (await client.request(method, "/v1/clients", headers=admin)).status_code == 405
    text = (await client.get("/metrics")).text
    assert 'mash_http_requests_total{method="OTHER",route="/v1/clients",status="405"} 3.0' in text
    assert all(method not in text for method in ("BREW", "WHEN", "PROPFIND"))


@pytest.fixture
async def unreachable_db_client(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    # Nothing listens on port 1: every connection attempt is refused at once.
    settings = make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/mash", db_connect_timeout_seconds=1)
    async with serving(create_app(settings)) as http:
        yield http


async def test_readyz_reports_an_unreachable_database_with_503(
    unreachable_db_client: httpx.AsyncClient,
) -> None:
    response = await unreachable_db_client.get("/readyz")
    assert_problem(response, 503, "database_unavailable")
    assert (await unreachable_db_client.get("/healthz")).status_code == 200


async def test_requests_needing_the_database_get_503_when_it_is_down(
    unreachable_db_client: httpx.AsyncClient, auth
) -> None:
    response = await unreachable_db_client.get("/v1/clients", headers=auth("admin"))
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "5"


async def test_an_exhausted_connection_pool_is_a_busy_service_not_an_outage(database_url: str, auth) -> None:
    # One connection, held by another task: the request waits a short pool timeout, then gets 503.
    busy = create_app(
        make_settings(database_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.2)
    )
    async with busy.state.engine.connect() as held:
        await held.exec_driver_sql("SELECT 1")
        transport = httpx.ASGITransport(app=busy)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/v1/clients", headers=auth("admin"))
    await busy.state.engine.dispose()
    assert_problem(response, 503, "service_busy")
    assert response.headers["retry-after"] == "5"
