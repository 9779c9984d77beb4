"""The application factory: settings → engine → security → middleware → error handlers → routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app.admin.auth.router import router as auth_router
from app.admin.clients.router import router as admin_router
from app.admin.ops.router import router as ops_router
from app.admin.settings.router import router as hub_settings_router
from app.adults.advocates.router import router as advocates_router
from app.adults.capacity.router import router as capacity_router
from app.adults.concerns.router import router as adult_concerns_router
from app.adults.plans.router import router as plans_router
from app.adults.reviews.router import router as reviews_router
from app.children.assessments.router import router as assessments_router
from app.children.contributions.router import router as contributions_router
from app.children.decisions.router import router as decisions_router
from app.children.protection.router import router as protection_router
from app.children.referrals.router import router as referrals_router
from app.core import clock
from app.core.config import Settings, get_settings
from app.core.cors import CorsByPath, document_cors
from app.core.db import create_engine, create_sessionmaker
from app.core.docs import serve_docs
from app.core.errors import install_error_handlers
from app.core.metrics import HttpMetrics
from app.core.middleware import BodyLimitMiddleware, RequestContextMiddleware
from app.core.openapi import build_openapi
from app.core.passwords import SecretHasher
from app.core.ratelimit import RateLimiter, RateLimitMiddleware
from app.core.routing import TransactionalRoute
from app.core.timescales import ClockProvider
from app.core.tokens import JwksCache, TokenService
from app.documents.router import router as documents_router
from app.documents.upload import UPLOAD_PATH
from app.governance.audit.router import router as audit_trail_router
from app.governance.feed.router import router as feed_router
from app.governance.reports.router import router as reports_router
from app.governance.retention.router import router as retention_router
from app.governance.subject_access.router import router as subject_access_router
from app.governance.webhooks.router import router as webhooks_router
from app.people.disclosures.router import router as disclosures_router
from app.people.router import router as people_router
from app.public.router import router as public_router

API_VERSION = "1.0.0"
TAGS = [
    {"name": "Authentication", "description": "Tokens, and who the caller is."},
    {"name": "Referrals", "description": "The children's front door: referrals, triage, consent, timeline."},
    {
        "name": "Contributions",
        "description": "Information requests to agencies (MASH checks) and their answers.",
    },
    {"name": "Threshold decisions", "description": "Proposed and approved decisions on referrals."},
    {
        "name": "Assessments and child protection",
        "description": (
            "After an accepted referral: child and family assessments, strategy discussions, section 47 "
            "enquiries and initial child protection conferences (children's social care only)."
        ),
    },
    {"name": "People", "description": "Person records and matching."},
    {"name": "Adult concerns", "description": "Adults at risk: concerns, section 42 decisions, enquiries."},
    {
        "name": "Mental capacity",
        "description": "Capacity assessments and best interests decisions (MCA 2005).",
    },
    {"name": "Advocacy", "description": "Independent advocates (Care Act and IMCA)."},
    {"name": "Safeguarding plans", "description": "Plans, their actions by agency, and reviews."},
    {
        "name": "Safeguarding adults reviews",
        "description": "Care Act 2014 s44: referral, the Board's decision (commissioned or not), completion.",
    },
    {
        "name": "Documents",
        "description": "Files on referrals, answers, adult concerns and enquiries: uploads streamed and checked "
        "on their bytes, downloads audited.",
    },
    {
        "name": "Change feed",
        "description": "Partner systems poll what changed on the records their agency may see, in order.",
    },
    {
        "name": "Audit trail",
        "description": "Who read or changed which case record, when; and the check of its hash chain.",
    },
    {
        "name": "Retention",
        "description": (
            "Records past their retention period, legal holds that keep them, and their anonymisation "
            "(information governance, scope `retention:manage`)."
        ),
    },
    {
        "name": "Administration",
        "description": "Agencies, partner system clients and the hub's timescales (scope `admin`).",
    },
    {
        "name": "Reports",
        "description": "Statutory returns (CIN census, Safeguarding Adults Collection) and timeliness.",
    },
    {
        "name": "Public front door",
        "description": (
            "Members of the public raise concerns about adults and children through the council's online "
            "form: no token, a limit per address, and nothing readable back."
        ),
    },
    {"name": "Operations", "description": "Health, readiness, metrics and problem type documentation."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = create_engine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        clock.load_bank_holidays(clock.today())
        yield
        await limiter.aclose()
        await engine.dispose()

    limiter = RateLimiter(settings)
    docs = not settings.is_production
    app = FastAPI(
        title="mash-api",
        version=API_VERSION,
        lifespan=lifespan,
        # FastAPI's pages load their assets from a CDN: app.core.docs serves them itself.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        openapi_tags=TAGS,
        # FastAPI's own OpenTelemetry instrumentation is off. Wherever a deployment sets a global
        # provider, it would export requests' values and bodies and exceptions' messages, which can
        # hold personal data; this service's metrics are its Prometheus /metrics and its logs are its
        # own. Left on, it also looks the providers up on every request (3 % of GET /v1/me's CPU).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    if docs:
        serve_docs(app)
    app.router.route_class = TransactionalRoute
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.hasher = SecretHasher(settings)
    app.state.tokens = TokenService(settings, JwksCache(settings) if settings.jwks_url else None)
    app.state.metrics = HttpMetrics()
    app.state.rate_limiter = limiter
    # The timescales in force are read per request (see app.core.timescales); the configured ones
    # apply until an admin stores others through PUT /v1/settings/timescales.
    app.state.clocks = ClockProvider(settings.working_time)
    app.state.clock = app.state.clocks.default  # the configured timescales' clock, for tools and tests

    # Added innermost first: the request context must wrap everything, including the body limit.
    # Rate limits come before the body is read, so a refused client costs one count and no upload.
    # CORS wraps both, so that a browser page can read their 413 or 429; a preflight costs no count.
    app.add_middleware(BodyLimitMiddleware, settings=settings, streamed=UPLOAD_PATH)
    app.add_middleware(RateLimitMiddleware, limiter=limiter, tokens=app.state.tokens)
    if settings.cors_allow_origins or settings.public_cors_allow_origins:
        app.add_middleware(
            CorsByPath,
            api_origins=list(settings.cors_allow_origins),
            public_origins=list(settings.public_cors_allow_origins),
        )
    app.add_middleware(
        RequestContextMiddleware, metrics=app.state.metrics, public_base_url=settings.public_base_url
    )
    install_error_handlers(app)

    app.include_router(auth_router)
    app.include_router(referrals_router)
    app.include_router(contributions_router)
    app.include_router(decisions_router)
    app.include_router(assessments_router)
    app.include_router(protection_router)
    app.include_router(people_router)
    app.include_router(subject_access_router)
    app.include_router(disclosures_router)
    app.include_router(adult_concerns_router)
    app.include_router(capacity_router)
    app.include_router(advocates_router)
    app.include_router(plans_router)
    app.include_router(reviews_router)
    app.include_router(documents_router)
    app.include_router(feed_router)
    app.include_router(webhooks_router)
    app.include_router(admin_router)
    app.include_router(hub_settings_router)
    app.include_router(audit_trail_router)
    app.include_router(reports_router)
    app.include_router(public_router)
    app.include_router(retention_router)
    app.include_router(ops_router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, settings.idempotency_ttl_hours)
            document_cors(app.openapi_schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document as the default configuration produces it, whatever the environment says."""
    app = create_app(Settings.model_construct(database_url="sqlite+aiosqlite:///:memory:"))
    return app.openapi()
