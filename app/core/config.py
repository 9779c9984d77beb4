"""Settings, read from the environment with the ``MASH_`` prefix (and an optional ``.env`` file)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.clock import WorkingTimeConfig
from app.core.retention import RetentionConfig

# Known to everyone who can read this file: fine for a laptop, refused in production.
DEVELOPMENT_JWT_SECRET = "development-only-secret-do-not-use-in-production-0000"
MIN_SECRET_LENGTH = 32
# An origin is a scheme, a host and perhaps a port, nothing more (no path, no wildcard): the browser
# sends exactly that in its Origin header. A base URL may add a path (a service behind a prefix).
_ORIGIN = r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
_BASE_URL = r"^https?://[^\s/?#]+(/[^\s?#]*)?$"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MASH_", env_file=".env", extra="ignore", frozen=True, env_nested_delimiter="__"
    )

    environment: Literal["development", "production"] = "development"

    # Persistence. SQLite is the embedded default; PostgreSQL (postgresql+asyncpg://) in production.
    database_url: str = "sqlite+aiosqlite:///./var/mash.db"
    # Migrations run as the tables' owner; on PostgreSQL the application connects as a role that does
    # not own them (``mash_app``), so that row-level security applies to it. Default: database_url.
    migration_database_url: str | None = None
    # A fixed pool: overflow connections are closed on return, and reopening them under load costs
    # more than it gains (measured in bench/: +20% req/s on GET /v1/me with no overflow).
    db_pool_size: int = Field(20, ge=1, le=200)
    db_max_overflow: int = Field(0, ge=0, le=200)
    db_connect_timeout_seconds: float = Field(5.0, gt=0)
    db_pool_timeout_seconds: float = Field(10.0, gt=0)
    # PostgreSQL only; 0 disables. Set per transaction (set_config(..., true) with the BEGIN), never as a
    # connection's startup parameter, so that it works through a transaction-mode pooler too.
    db_statement_timeout_ms: int = Field(30_000, ge=0)
    # What the application connects through (PostgreSQL): ``none`` (the server itself, or a session-mode
    # pooler) or ``pgbouncer`` (a transaction-mode pooler such as PgBouncer 1.18: prepared statements are
    # not cached and each has a unique name, as a server connection serves many clients in turn).
    # Migrations (migration_database_url) must reach the server directly: they hold a session lock.
    database_pooler: Literal["none", "pgbouncer"] = "none"
    # PostgreSQL only, client side: the longest wait for any answer from the server (0: none). It is
    # what ends a request when the server stops answering altogether (a hung host, a network
    # partition), which statement_timeout cannot; keep it above the statement timeout.
    db_command_timeout_seconds: float = Field(35.0, ge=0)
    # How long /readyz waits for the database to answer SELECT 1 before saying 503.
    readiness_timeout_seconds: float = Field(2.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0)

    # Tokens this service issues (HS256).
    jwt_issuer: str = "mash-api"
    jwt_audience: str = "mash-api"
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    # The key that signs the audit chain's checkpoints (HMAC-SHA256, `mash audit verify`); unset: one
    # derived from jwt_secret. Changing it invalidates the checkpoints signed before (`--full` says so).
    audit_checkpoint_key: SecretStr | None = None
    access_token_ttl_seconds: int = Field(3600, ge=60, le=86_400)
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    # The longest lifetime (exp - iat) of any token accepted, ours or an identity provider's; `mash
    # token --ttl` and the token endpoint issue none longer (MASH_MAX_TOKEN_LIFETIME, seconds).
    max_token_lifetime: int = Field(86_400, ge=60)

    # Tokens from an external identity provider (RS256/ES256, keys from its JWKS).
    jwks_url: str | None = None
    jwks_issuer: str | None = None
    jwks_cache_seconds: int = Field(300, ge=10)
    jwks_min_refresh_seconds: int = Field(30, ge=1)

    # Working hours, bank holidays and timescales, e.g. MASH_WORKING_TIME__WORKDAY_START=08:30 or
    # MASH_WORKING_TIME__RAG_HOURS='{"red": 4, "amber": 24, "green": 72}'.
    working_time: WorkingTimeConfig = Field(default_factory=WorkingTimeConfig)
    # How long case records are kept before they are reviewed for anonymisation (app.core.retention),
    # e.g. MASH_RETENTION__ADULT_CONCERN__YEARS=6.
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    # HTTP.
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    # A body must arrive within body_timeout_seconds plus one second per body_min_rate_bytes received
    # (as Apache's mod_reqtimeout): a trickled body is refused (408) instead of tying up a worker.
    body_timeout_seconds: float = Field(10.0, gt=0, le=300)
    body_min_rate_bytes: int = Field(16_384, ge=1)
    max_json_depth: int = Field(32, ge=2, le=512)  # deeper JSON is refused (422) before it is parsed
    idempotency_ttl_hours: int = Field(24, ge=24)  # the contract promises at least 24 hours
    # The URL clients reach the service at (e.g. https://mash.example.gov.uk behind a load balancer):
    # problem ``type`` URIs are built on it. Unset: the scheme, address and port each request came in on.
    public_base_url: Annotated[str, Field(pattern=_BASE_URL)] | None = None
    # Origins whose browser pages may call the API (CORS), comma-separated or a JSON list, e.g.
    # https://hub.example.gov.uk,http://localhost:5173; none by default. Bearer tokens only: no cookies.
    cors_allow_origins: Annotated[list[Annotated[str, Field(pattern=_ORIGIN)]], NoDecode] = Field(
        default_factory=list
    )

    # The public's front door (POST /public/v1/...): the origins of the council's online form(s), allowed
    # (CORS) on those paths only, e.g. https://www.walthamforest.gov.uk; none by default.
    public_cors_allow_origins: Annotated[list[Annotated[str, Field(pattern=_ORIGIN)]], NoDecode] = Field(
        default_factory=list
    )
    # Posts per window per client address on the public's front door (default 5 an hour).
    public_rate_limit_requests: int = Field(5, ge=1)
    public_rate_limit_window_seconds: int = Field(3600, ge=1, le=86_400)
    # The proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client: the
    # load balancer in front of the service. `mash serve` hands them to uvicorn (its forwarded_allow_ips),
    # which takes the client's address from the header only when the connection comes from one of them;
    # from anyone else the header is ignored (a client could claim a fresh address per request, and so a
    # fresh per-address budget at the token endpoint and the public's front door). Unset: uvicorn's own
    # FORWARDED_ALLOW_IPS, by default 127.0.0.1 (a proxy on the same host).
    trusted_proxies: Annotated[list[str], NoDecode] | None = None

    # Rate limits: requests per fixed window per client (the token's `sub`, or the IP address when
    # there is no valid token); POST /oauth/token has its own, stricter budget per IP address. Counted
    # in PostgreSQL when that is the database (shared by every worker and replica), else in memory.
    rate_limit_enabled: bool = True
    rate_limit_requests: int = Field(600, ge=1)
    rate_limit_window_seconds: int = Field(60, ge=1, le=86_400)
    rate_limit_token_requests: int = Field(30, ge=1)
    # ... and per client_id asked about, whatever the address (a proxy's X-Forwarded-For can vary it).
    rate_limit_token_client_requests: int = Field(30, ge=1)
    rate_limit_pool_size: int = Field(4, ge=1, le=50)  # PostgreSQL: the counter's own small pool
    rate_limit_timeout_seconds: float = Field(0.5, gt=0)  # PostgreSQL: then the request goes uncounted
    log_level: str = "INFO"

    # Webhooks (``mash worker``). Destinations on private, loopback, link-local and other non-global
    # addresses are refused, at subscription and at every send, unless this is set (development only).
    webhook_allow_private: bool = False
    webhook_connect_timeout_seconds: float = Field(5.0, gt=0, le=60)
    # The longest wait for each part of the answer, and for the whole exchange (a trickled answer).
    webhook_read_timeout_seconds: float = Field(10.0, gt=0, le=120)
    webhook_max_response_bytes: int = Field(64 * 1024, ge=0, le=16 * 1024 * 1024)
    # Retries: the n-th waits base * 2^(n-1) seconds, at most max, with full jitter (a random part of
    # it, at least half), until the window since the delivery was made has passed: then the delivery
    # fails and its subscription is disabled. The window is at least 24 hours in production.
    webhook_retry_base_seconds: float = Field(5.0, gt=0)
    webhook_retry_max_delay_seconds: float = Field(3600.0, gt=0)
    webhook_retry_window_seconds: float = Field(26 * 3600.0, gt=0)
    webhook_worker_batch: int = Field(50, ge=1, le=1000)  # deliveries claimed (and sent at once) per round
    webhook_poll_interval_seconds: float = Field(0.5, gt=0, le=60)
    # The key the signing secrets are encrypted with (Fernet, urlsafe base64 of 32 bytes); unset: derived
    # from MASH_JWT_SECRET (so rotating that makes stored signing secrets unreadable: set this one).
    webhook_secrets_key: SecretStr | None = None
    # Documents on records (api.md "Documents"): the largest file accepted, where the bytes are kept
    # (``database``: chunked rows in the case database, the default; ``filesystem``: files under
    # ``document_directory``), and the virus scanner, if any: ``tcp://host:3310`` or
    # ``unix:///run/clamav/clamd.ctl`` (ClamAV's clamd). With a scanner, a document is served only once
    # it has been found clean.
    document_max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    document_storage: Literal["database", "filesystem"] = "database"
    document_directory: Path = Path("./var/documents")
    document_scanner_url: (
        Annotated[str, Field(pattern=r"^(tcp://[^\s/]+:[0-9]{1,5}|unix:///\S+)$")] | None
    ) = None
    document_scanner_timeout_seconds: float = Field(30.0, gt=0, le=600)

    # Argon2id cost for client secrets (argon2-cffi's RFC 9106 low-memory profile by default).
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65_536, ge=8_192)
    argon2_parallelism: int = Field(4, ge=1)
    argon2_max_concurrency: int | None = Field(None, ge=1, description="Default: the number of CPUs.")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [proxy.strip() for proxy in value.split(",") if proxy.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str] | None) -> list[str] | None:
        for proxy in value or ():
            ipaddress.ip_network(proxy, strict=False)  # ValueError names it: not an address or network
        return value

    @field_validator("cors_allow_origins", "public_cors_allow_origins", mode="before")
    @classmethod
    def _origins_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip().rstrip("/") for origin in text.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _production_is_safe(self) -> Settings:
        if self.environment == "production":
            secret = self.jwt_secret.get_secret_value()
            if secret == DEVELOPMENT_JWT_SECRET or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    "MASH_JWT_SECRET must be set to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters in production"
                )
            if self.webhook_retry_window_seconds < 24 * 3600:
                raise ValueError("MASH_WEBHOOK_RETRY_WINDOW_SECONDS must be at least 24 hours in production")
            if self.webhook_allow_private:
                raise ValueError("MASH_WEBHOOK_ALLOW_PRIVATE is for development only, never production")
        if self.access_token_ttl_seconds > self.max_token_lifetime:
            raise ValueError(
                "MASH_ACCESS_TOKEN_TTL_SECONDS must not exceed MASH_MAX_TOKEN_LIFETIME: the service "
                "would refuse its own tokens"
            )
        if self.jwks_url and not self.jwks_issuer:
            raise ValueError("MASH_JWKS_ISSUER is required when MASH_JWKS_URL is set")
        return self

    @property
    def checkpoint_key(self) -> bytes:
        """The audit checkpoints' signing key: ``audit_checkpoint_key``, or one derived from the JWT
        secret (so that no key signs both tokens and checkpoints)."""
        if self.audit_checkpoint_key is not None:
            return self.audit_checkpoint_key.get_secret_value().encode()
        secret = self.jwt_secret.get_secret_value().encode()
        return hmac.new(secret, b"mash audit checkpoint key", hashlib.sha256).digest()

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def migration_url(self) -> str:
        return self.migration_database_url or self.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file of a ``sqlite+aiosqlite:///path`` URL, or None for other databases."""
        if not self.is_sqlite:
            return None
        return Path(self.database_url.split("///", 1)[1])


@lru_cache
def get_settings() -> Settings:
    return Settings()
