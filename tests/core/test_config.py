"""Settings: safe in development, refused when unsafe in production."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app.core.clock import Weekday
from app.core.codes import RagRating
from app.core.config import DEVELOPMENT_JWT_SECRET, Settings
from app.main import create_app
from tests.fixtures.http import asgi_client

STRONG = "k3y-" + "x" * 60


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize("secret", [DEVELOPMENT_JWT_SECRET, "short-secret"])
def test_production_refuses_a_default_or_weak_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="MASH_JWT_SECRET"):
        _settings(environment="production", jwt_secret=secret)


def test_production_refuses_to_start_with_the_default_secret_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("MASH_ENVIRONMENT", "production")
    monkeypatch.delenv("MASH_JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="MASH_JWT_SECRET"):
        Settings(_env_file=None)


def test_settings_read_the_mash_prefix(monkeypatch) -> None:
    monkeypatch.setenv("MASH_DATABASE_URL", "postgresql+asyncpg://u@db:5432/mash")
    monkeypatch.setenv("MASH_ACCESS_TOKEN_TTL_SECONDS", "600")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/mash"
    assert settings.access_token_ttl_seconds == 600


def test_a_jwks_url_needs_an_issuer() -> None:
    with pytest.raises(ValidationError, match="MASH_JWKS_ISSUER"):
        _settings(jwks_url="https://idp.example/jwks.json")


def test_idempotency_keys_cannot_be_kept_less_than_a_day() -> None:
    with pytest.raises(ValidationError):
        _settings(idempotency_ttl_hours=1)


async def test_production_hides_the_interactive_docs(tmp_path) -> None:
    settings = _settings(
        environment="production", jwt_secret=STRONG, database_url=f"sqlite+aiosqlite:///{tmp_path}/p.db"
    )
    app = create_app(settings)
    async with asgi_client(app, "http://t") as http:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
            assert (await http.get(path)).status_code == 404
        assert (await http.get("/healthz")).status_code == 200
    await app.state.engine.dispose()


async def test_development_serves_the_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "mash-api"


def test_working_time_is_configured_through_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASH_WORKING_TIME__WORKDAY_START", "08:30")
    monkeypatch.setenv("MASH_WORKING_TIME__RAG_HOURS", '{"red": 2, "amber": 24, "green": 72}')
    monkeypatch.setenv("MASH_WORKING_TIME__EXTRA_CLOSURE_DATES", '["2026-12-24"]')
    working_time = Settings(_env_file=None).working_time
    # The older single window is still read: the same start on every working weekday.
    friday = working_time.working_hours[Weekday.FRIDAY]
    assert friday is not None and friday.start.isoformat() == "08:30:00"
    assert working_time.rag_hours[RagRating.RED] == 2
    assert [d.isoformat() for d in working_time.extra_closure_dates] == ["2026-12-24"]


def test_per_weekday_working_hours_are_configured_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "MASH_WORKING_TIME__WORKING_HOURS",
        '{"monday": {"start": "09:00", "end": "17:15"}, "friday": {"start": "09:00", "end": "17:00"}}',
    )
    working_time = Settings(_env_file=None).working_time
    monday, friday = working_time.working_hours[Weekday.MONDAY], working_time.working_hours[Weekday.FRIDAY]
    assert monday is not None and monday.end.isoformat() == "17:15:00"
    assert friday is not None and friday.end.isoformat() == "17:00:00"
    assert working_time.working_weekdays == frozenset({1, 5})  # the days not given have no hours


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("", []),
        ("https://hub.example.org", ["https://hub.example.org"]),
        (
            "https://hub.example.org/, http://localhost:5173",
            ["https://hub.example.org", "http://localhost:5173"],
        ),
        ('["http://127.0.0.1:3000"]', ["http://127.0.0.1:3000"]),
    ],
)
def test_cors_origins_are_a_comma_separated_or_json_list(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: list[str]
) -> None:
    monkeypatch.setenv("MASH_CORS_ALLOW_ORIGINS", value)
    assert Settings(_env_file=None).cors_allow_origins == origins


@pytest.mark.parametrize(
    "origin", ["*", "null", "https://hub.example.org/app", "hub.example.org", "ftp://x.org"]
)
def test_a_cors_origin_is_exactly_an_origin(monkeypatch: pytest.MonkeyPatch, origin: str) -> None:
    monkeypatch.setenv("MASH_CORS_ALLOW_ORIGINS", origin)
    with pytest.raises(ValidationError, match="cors_allow_origins"):
        Settings(_env_file=None)


def test_the_public_base_url_is_an_http_url() -> None:
    assert (
        _settings(public_base_url="https://mash.example.org/api").public_base_url
        == "https://mash.example.org/api"
    )
    assert _settings().public_base_url is None
    with pytest.raises(ValidationError, match="public_base_url"):
        _settings(public_base_url="mash.example.org")
