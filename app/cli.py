"""The ``mash`` command: serve, migrate, register clients, mint tokens, seed demo data, verify the audit,
list the records past their retention period."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings, get_settings

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
clients_cli = typer.Typer(no_args_is_help=True, help="Partner system clients.")
audit_cli = typer.Typer(no_args_is_help=True, help="The audit trail.")
cli.add_typer(clients_cli, name="clients")
retention_cli = typer.Typer(no_args_is_help=True, help="Retention: records past their retention period.")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(retention_cli, name="retention")

ROOT = Path(__file__).resolve().parent.parent
DEMO_CREDENTIALS = Path("var/demo-clients.json")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CliActor:
    """Who did it, in the audit trail, when an administrator acts from the command line."""

    sub: str
    agency: str = "system"
    role: str = "admin"


def _actor() -> CliActor:
    return CliActor(sub=f"cli:{getpass.getuser()}")


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"configuration error: {error['msg']}", err=True)
        raise typer.Exit(2) from None


def _with_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from app.core.db import commit, create_engine, create_sessionmaker

    async def run() -> T:
        engine = create_engine(_settings())
        try:
            async with create_sessionmaker(engine)() as session:
                result = await work(session)
                await commit(session)
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
    reload: bool = False,
    worker_healthcheck_timeout: Annotated[
        int,
        typer.Option(
            min=1,
            help="With --workers > 1: seconds a worker may take to start or to answer the supervisor's "
            "health check before it is killed and replaced.",
        ),
    ] = 30,
) -> None:
    """Run the API with uvicorn (with --workers > 1, /metrics sums every worker's counts)."""
    from app.core.metrics import multiprocess_metrics

    settings = _settings()
    with multiprocess_metrics() if workers > 1 else nullcontext():
        _run_uvicorn(settings, host, port, workers, reload, worker_healthcheck_timeout)


def _run_uvicorn(
    settings: Settings, host: str, port: int, workers: int, reload: bool, worker_healthcheck_timeout: int
) -> None:
    import uvicorn

    from app.core.logging import uvicorn_log_config

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_config=uvicorn_log_config(settings.log_level),
        access_log=False,
        server_header=False,
        proxy_headers=True,
        # X-Forwarded-For names the client only on connections from these (MASH_TRUSTED_PROXIES, else
        # uvicorn's FORWARDED_ALLOW_IPS): the per-address limits (the token endpoint, the public's front
        # door) count that address.
        forwarded_allow_ips=None if settings.trusted_proxies is None else ",".join(settings.trusted_proxies),
        # uvicorn's default (5 s) kills workers that are merely slow to import the app on a busy host,
        # and then their replacements, in a loop.
        timeout_worker_healthcheck=worker_healthcheck_timeout,
    )


@cli.command()
def worker() -> None:
    """Deliver webhooks: read the change feed for each subscription and send what is due, signed, with
    retries, until stopped (SIGTERM or Ctrl-C). Run as many as you like beside the API (PostgreSQL)."""
    import logging.config
    import signal

    from app.core.logging import uvicorn_log_config
    from app.governance.webhooks.worker import serve as serve_webhooks

    settings = _settings()
    logging.config.dictConfig(uvicorn_log_config(settings.log_level))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve_webhooks(settings, stop)

    asyncio.run(run())


@cli.command()
def migrate(revision: str = "head") -> None:
    """Apply the database migrations (``alembic upgrade``)."""
    from alembic import command
    from alembic.config import Config

    settings = _settings()
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = settings.migration_url  # as the tables' owner
    command.upgrade(config, revision)


@clients_cli.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="What the partner system is")],
    agency: Annotated[str, typer.Option(help="Agency code, e.g. police")],
    role: Annotated[str, typer.Option(help="Role, e.g. partner_referrer")],
) -> None:
    """Register a client; prints its client_id and client_secret as JSON (the secret is shown once)."""
    from app.admin.clients.schemas import ClientRegistration
    from app.admin.clients.service import create_client
    from app.core.passwords import SecretHasher

    try:
        data = ClientRegistration(name=name, agency=agency, role=role)
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    hasher = SecretHasher(_settings())

    async def work(session: AsyncSession) -> dict[str, str]:
        client, secret = await create_client(session, _actor(), data, hasher)
        return {"client_id": str(client.id), "client_secret": secret}

    typer.echo(json.dumps(_with_session(work), indent=2))


@clients_cli.command("list")
def clients_list(
    active: Annotated[
        bool | None, typer.Option("--active/--revoked", help="Only active, or only revoked, clients")
    ] = None,
) -> None:
    """List the registered clients as JSON (never their secrets), oldest first, as GET /v1/clients."""
    from app.admin.clients import repository
    from app.admin.clients.service import client_out
    from app.core.pagination import MAX_LIMIT, PageParams

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page, cursor = await repository.list_clients(
                session, PageParams(limit=MAX_LIMIT, cursor=cursor), active=active
            )
            found += [client_out(c).model_dump(mode="json") for c in page]
            if cursor is None:
                return found[::-1]

    typer.echo(json.dumps(_with_session(work), indent=2))


@clients_cli.command("revoke")
def clients_revoke(
    client_id: Annotated[str, typer.Argument(help="The client's id")],
    reason: Annotated[str, typer.Option(help="Why the client is revoked")],
) -> None:
    """Revoke a client (audited, as POST /v1/clients/{id}/revocation): its tokens stop working at once."""
    import uuid

    from app.admin.clients.schemas import ClientRevocation
    from app.admin.clients.service import client_out, revoke_client
    from app.core.errors import AppError

    try:
        key = uuid.UUID(client_id)
        body = ClientRevocation(reason=reason)
    except ValueError as exc:  # a malformed id, or a reason the API would refuse
        _fail(f"{exc}".splitlines()[0] if not isinstance(exc, ValidationError) else _first_error(exc))

    async def work(session: AsyncSession) -> dict[str, Any]:
        client = await revoke_client(session, _actor(), key, body.reason)
        return client_out(client).model_dump(mode="json")

    try:
        typer.echo(json.dumps(_with_session(work), indent=2))
    except AppError as exc:
        _fail(exc.detail)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(map(str, error['loc']))}: {error['msg']}"


@cli.command()
def token(
    agency: Annotated[str, typer.Option(help="Agency code")],
    role: Annotated[str, typer.Option(help="Role")],
    sub: Annotated[str | None, typer.Option(help="Subject; default cli:<user>")] = None,
    ttl: Annotated[int | None, typer.Option(min=60, help="Lifetime in seconds")] = None,
) -> None:
    """Print a signed access token, for development and administration.

    Such a token belongs to no registered client, so it cannot be revoked; it lives until it expires.
    """
    from app.core.scopes import AgencyCode, Role, role_agency_problem
    from app.core.tokens import TokenService

    try:
        agency_code = AgencyCode(agency)
    except ValueError:
        _fail(f"unknown agency {agency!r}; the agencies are: {', '.join(AgencyCode)}")
    try:
        role_name = Role(role)
    except ValueError:
        _fail(f"unknown role {role!r}; the roles are: {', '.join(Role)}")
    mismatch = role_agency_problem(role_name, agency_code)
    if mismatch is not None:
        _fail(mismatch)
    settings = _settings()
    if ttl is not None and ttl > settings.max_token_lifetime:
        _fail(
            f"--ttl {ttl} is longer than MASH_MAX_TOKEN_LIFETIME ({settings.max_token_lifetime} seconds): "
            "the service would refuse the token"
        )
    issued = TokenService(settings).issue(
        sub=sub or f"cli:{getpass.getuser()}", agency=agency_code, role=role_name, ttl_seconds=ttl
    )
    typer.echo(issued.access_token)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


DEMO_CLIENTS = [
    ("Demo police system", "police", "partner_referrer"),
    ("Demo health system", "health", "partner_referrer"),
    ("Demo education system", "education", "partner_referrer"),
    ("Demo MASH practitioner", "childrens_social_care", "mash_practitioner"),
    ("Demo MASH manager", "childrens_social_care", "mash_manager"),
    ("Demo ASC practitioner", "adult_social_care", "asc_practitioner"),
    ("Demo ASC manager", "adult_social_care", "asc_manager"),
    ("Demo auditor", "childrens_social_care", "auditor"),
    ("Demo administrator", "childrens_social_care", "admin"),
    ("Demo information governance", "council", "information_governance"),
]


@cli.command("seed-demo")
def seed_demo() -> None:
    """Register demo clients (development only); their credentials go to var/demo-clients.json."""
    import sqlalchemy as sa

    from app.admin.clients.schemas import ClientRegistration
    from app.admin.clients.service import create_client, revoke_client
    from app.admin.settings.service import store_seed_borough_hours
    from app.core.passwords import SecretHasher
    from app.models.client import Client

    settings = _settings()
    if settings.is_production:
        typer.echo("error: seed-demo refuses to run in production", err=True)
        raise typer.Exit(2)
    known: dict[str, Any] = json.loads(DEMO_CREDENTIALS.read_text()) if DEMO_CREDENTIALS.exists() else {}
    hasher = SecretHasher(settings)

    async def work(session: AsyncSession) -> dict[str, Any]:
        credentials: dict[str, Any] = {}
        for name, agency, role in DEMO_CLIENTS:
            existing = await session.scalar(
                sa.select(Client).where(Client.name == name, Client.revoked_at.is_(None))
            )
            if existing is not None and name in known and known[name]["client_id"] == str(existing.id):
                credentials[name] = known[name]
                continue
            if existing is not None:  # its secret is lost: replace it
                await revoke_client(session, _actor(), existing.id, "demo credentials file lost")
            data = ClientRegistration(name=name, agency=agency, role=role)
            client, secret = await create_client(session, _actor(), data, hasher)
            credentials[name] = {
                "client_id": str(client.id),
                "client_secret": secret,
                "agency": agency,
                "role": role,
            }
        # The seed borough's working hours (Monday to Thursday to 17:15, Friday to 17:00), unless an
        # admin has set timescales already.
        await store_seed_borough_hours(session, _actor(), settings.working_time)
        return credentials

    credentials = _with_session(work)
    review = _with_session(_demo_review)
    DEMO_CREDENTIALS.parent.mkdir(parents=True, exist_ok=True)
    DEMO_CREDENTIALS.write_text(json.dumps(credentials, indent=2) + "\n")
    os.chmod(DEMO_CREDENTIALS, 0o600)
    police = credentials["Demo police system"]
    typer.echo(f"Demo clients ready; their credentials are in {DEMO_CREDENTIALS}.")
    typer.echo(f"A demo safeguarding adults review: /v1/safeguarding-adults-reviews/{review}")
    typer.echo("Get a token for the demo police system with:")
    typer.echo(
        "  curl -s -X POST http://127.0.0.1:8000/oauth/token -d grant_type=client_credentials "
        f"-d client_id={police['client_id']} -d client_secret={police['client_secret']}"
    )
    typer.echo("or an administrator's token with:")
    typer.echo("  .venv/bin/mash token --agency childrens_social_care --role admin")
    _seed_demo_casework(settings)


def _seed_demo_casework(settings: Settings) -> None:
    """A referral decided for a strategy discussion, an assessment and a section 47 enquiry (once)."""
    from app.children import demo
    from app.main import create_app

    async def run() -> dict[str, str] | None:
        app = create_app(settings)
        try:
            return await demo.seed(app)
        finally:
            await app.state.rate_limiter.aclose()
            await app.state.engine.dispose()

    made = asyncio.run(run())
    if made is None:
        typer.echo(f"Demo casework already there (referral {demo.DEMO_REFERENCE}).")
        return
    typer.echo(
        f"Demo casework: referral {made['referral_id']} (external_reference {demo.DEMO_REFERENCE}), "
        f"assessment {made['assessment_id']}, strategy discussion {made['strategy_discussion_id']}."
    )


DEMO_ADULT = {"given_name": "Dora", "family_name": "Demo-Review", "date_of_birth": "1938-05-17"}


async def _demo_review(session: AsyncSession) -> str:
    """A safeguarding adults review to look at (once): a demo adult who died, the Board's decision that the
    mandatory criteria were met, the review commissioned, its findings and actions, completed. Made through
    the services as an adult social care manager would, so it is audited and on the feed."""
    import sqlalchemy as sa

    from app.adults.reviews import service as reviews
    from app.adults.reviews.schemas import SarActionIn, SarCreate, SarUpdate
    from app.core.auth import Principal
    from app.core.concurrency import etag
    from app.core.scopes import ROLE_SCOPES, AgencyCode, Role
    from app.models.adult import SafeguardingAdultsReview
    from app.models.person import Person
    from app.people import service as people
    from app.people.schemas import PersonCreate

    manager = Principal(
        sub="cli:demo-asc-manager",
        agency=AgencyCode.ADULT_SOCIAL_CARE,
        role=Role.ASC_MANAGER,
        scopes=frozenset(str(s) for s in ROLE_SCOPES[Role.ASC_MANAGER]),
    )
    existing = await session.scalar(
        sa.select(SafeguardingAdultsReview.id)
        .join(Person, Person.id == SafeguardingAdultsReview.person_id)
        .where(Person.given_name == DEMO_ADULT["given_name"], Person.family_name == DEMO_ADULT["family_name"])
    )
    if existing is not None:
        return str(existing)
    person = await people.create_person(session, manager, PersonCreate.model_validate(DEMO_ADULT))
    referred = SarCreate.model_validate(
        {
            "person_id": person.id,
            "referred_on": "2026-09-01",
            "adult_died": True,
            "criteria": "mandatory",
            "decision_on": "2026-09-15",
            "rationale": "She died of neglect at home; three agencies knew parts of it and did not share them.",
            "commissioned": True,
            "commissioned_on": "2026-09-22",
        }
    )
    review = await reviews.create(session, manager, referred)
    completion = SarUpdate(
        completed_on=review.commissioned_on,
        findings="No agency held the whole picture; the GP's concern never reached adult social care.",
        actions=[
            SarActionIn(agency=AgencyCode.HEALTH, description="Share safeguarding concerns within a day.")
        ],
    )
    await reviews.update(session, manager, review.id, completion, etag(review.version))
    return str(review.id)


@audit_cli.command("verify")
def audit_verify(
    full: Annotated[
        bool, typer.Option("--full", help="Check every entry and every checkpoint, not only what is new")
    ] = False,
) -> None:
    """Check the audit hash chain; exit 1 if it is broken.

    By default only the entries after the latest signed checkpoint (its signature checked first);
    ``--full`` checks all of them and every checkpoint. A chain that verifies is signed at its head
    as the next checkpoint."""
    from app.core.audit import ChainVerification, verify_chain, write_checkpoint
    from app.core.db import begin_read_only, release

    key = _settings().checkpoint_key

    async def check(session: AsyncSession) -> tuple[ChainVerification, bool]:
        await begin_read_only(session)  # on SQLite, without holding up the running service's writes
        result = await verify_chain(session, checkpoint_key=key, incremental=not full)
        await release(session)
        return result, await write_checkpoint(session, key, result)

    result, signed = _with_session(check)
    typer.echo(
        json.dumps(
            {
                "valid": result.valid,
                "checked": result.checked,
                "after_seq": result.after_seq,
                "head_seq": result.head_seq,
                "full": full,
                "checkpoint_signed": signed,
                "first_invalid_id": None if result.first_invalid_id is None else str(result.first_invalid_id),
                "first_invalid_seq": result.first_invalid_seq,
                "reason": result.reason,
            }
        )
    )
    if not result.valid:
        raise typer.Exit(1)


@retention_cli.command("review")
def retention_review(
    record_type: Annotated[
        list[str] | None,
        typer.Option("--record-type", help="referral or adult_concern (repeat for both; default: both)"),
    ] = None,
) -> None:
    """Print the records past their retention period, with no legal hold and not anonymised, one JSON
    line each (ids and dates only; audited as GET /v1/retention/review). Review each, then hold or
    anonymise it through the API (information governance)."""
    from app.core.pagination import PageParams
    from app.core.retention import RetainedRecordType
    from app.governance.retention import service

    try:
        kinds = [RetainedRecordType(t) for t in record_type] if record_type else list(RetainedRecordType)
    except ValueError:
        typer.echo(f"--record-type is one of {', '.join(RetainedRecordType)}", err=True)
        raise typer.Exit(2) from None
    rules = _settings().retention

    async def review(session: AsyncSession) -> list[str]:
        lines = []
        for kind in kinds:
            cursor: str | None = None
            while True:
                found, cursor = await service.review(session, _actor(), rules, kind, PageParams(200, cursor))
                lines += [item.model_dump_json() for item in found]
                if cursor is None:
                    break
        return lines

    for line in _with_session(review):
        typer.echo(line)


@cli.command("purge-idempotency-keys")
def purge_idempotency_keys() -> None:
    """Delete stored idempotency responses past their retention period."""
    from app.core.idempotency import purge_expired

    typer.echo(f"purged {_with_session(purge_expired)} expired idempotency records")


@cli.command()
def openapi(output: Annotated[Path | None, typer.Option(help="Write here instead of stdout")] = None) -> None:
    """Print the OpenAPI document (``make openapi`` writes it to openapi/openapi.json)."""
    from app.main import openapi_document

    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


def main() -> None:
    cli()
