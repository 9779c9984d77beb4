"""The benchmark's databases: the seeded template (made once by bench/seed_large.py, kept while its
staleness key matches), each target's fresh copy of it, migrated with ``mash migrate``, the application's
login role, and the clients registered for the run.

The template ``<database>_seed`` carries, as its comment, the schema revision it was migrated to, the
seed parameters, a hash of ``SEED_INPUTS`` (the code the seeded rows depend on) and when it was made;
a later run reuses it only if all of them match and it is less than ``SEED_MAX_AGE_S`` old.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import asyncpg
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bench import seed_large
from bench.servers import BIN, ROOT, info, run_checked, server_env

APP_ROLE = "mash_app"  # the role the application connects as (migration 20261127_row_security)
# Clients registered for the run; each scenario's setup takes its token with the credentials under
# "<prefix>client_id" and "<prefix>client_secret".
BENCH_CLIENTS = {
    "": ("--name", "bench police system", "--agency", "police", "--role", "partner_referrer"),
    "practitioner_": (
        "--name", "bench MASH practitioner", "--agency", "childrens_social_care", "--role", "mash_practitioner",
    ),
    "health_": ("--name", "bench health system", "--agency", "health", "--role", "partner_referrer"),
    "education_": ("--name", "bench school system", "--agency", "education", "--role", "partner_referrer"),
    "auditor_": ("--name", "bench auditor", "--agency", "childrens_social_care", "--role", "auditor"),
    "asc_": ("--name", "bench ASC practitioner", "--agency", "adult_social_care", "--role", "asc_practitioner"),
}  # fmt: skip
# What the seeded data depends on: a change to any of them makes run.py seed afresh.
SEED_INPUTS = (
    "bench/seed.py",
    "bench/seed_large.py",
    "bench/seed_adults.py",
    "bench/seed_people.py",
    "app/core/audit.py",
    "bench/matching_data.py",
    "app/people/matching.py",
    "app/people/nicknames.py",
    "app/core/clock.py",
    "app/core/codes.py",
    "app/children/codes.py",
    "app/adults/codes.py",
    "app/people/codes.py",
    "migrations/versions",
)
# Seeded rows are dated relative to when they were made (recent referrals open, older ones decided):
# past this age the template is too stale to reuse.
SEED_MAX_AGE_S = 12 * 3600


async def recreate_database(admin_dsn: str, name: str, template: str | None = None) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template is None:
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            # FILE_COPY copies the files instead of WAL-logging every block: seconds, not a minute.
            strategy = " STRATEGY FILE_COPY" if conn.get_server_version().major >= 15 else ""
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
    finally:
        await conn.close()


async def ensure_app_role(admin_dsn: str) -> None:
    """The application's login role (migration 20261127_row_security makes it without LOGIN)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(
            f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN; "
            f"EXCEPTION WHEN duplicate_object THEN ALTER ROLE {APP_ROLE} LOGIN; END $$"
        )
    finally:
        await conn.close()


async def app_env(admin_dsn: str, owner_url: str, overrides: list[str]) -> dict[str, str]:
    """The environment mash-api serves in as production does: connected as the role that owns nothing,
    so under row-level security, with its migrations and `mash` commands run as the owner."""
    await ensure_app_role(admin_dsn)
    env = server_env(
        overrides, make_url(owner_url).set(username=APP_ROLE).render_as_string(hide_password=False)
    )
    env["MASH_MIGRATION_DATABASE_URL"] = owner_url
    return env


def seed_key(params: seed_large.Params) -> str:
    digest = hashlib.sha256(json.dumps(params.as_dict(), sort_keys=True).encode())
    for entry in SEED_INPUTS:
        path = ROOT / entry
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(ROOT).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


async def kept_template(admin_dsn: str, name: str) -> dict[str, Any] | None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        comment = await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name
        )
    finally:
        await conn.close()
    try:
        found: dict[str, Any] = json.loads(comment)
    except (TypeError, ValueError):
        return None
    return found


async def keep_template(admin_dsn: str, database: str, template: str, about: dict[str, Any]) -> None:
    await recreate_database(admin_dsn, template, database)
    conn = await asyncpg.connect(admin_dsn)
    try:
        literal = json.dumps(about).replace("'", "''")
        await conn.execute(f"COMMENT ON DATABASE \"{template}\" IS '{literal}'")
    finally:
        await conn.close()


async def seed_template(
    args: argparse.Namespace, admin_dsn: str, dsn: str, env: dict[str, str], workdir: Path
) -> tuple[str, dict[str, Any]]:
    """The template database ``<database>_seed``, migrated and seeded by bench/seed_large.py: the one
    an earlier run kept if it was made at the same schema revision with the same seed parameters,
    its inputs (the seeding and matching code) are unchanged and it is recent; else a new one (a few
    minutes), made in ``args.database`` and copied."""
    template = f"{args.database}_seed"
    params = seed_params(args)
    key = seed_key(params)
    revision = head_revision()
    kept = None if args.fresh_seed else await kept_template(admin_dsn, template)
    age = time.time() - float(kept["created"]) if kept else None
    if kept is not None and age is not None:
        why = stale(kept, key, revision, params, age)
        if why is None:
            info(f"using the seeded database {template} ({age / 60:.0f} min old, revision {revision})")
            return template, {**kept["summary"], "template": template, "age_s": round(age), "seed_s": 0}
        info(f"not reusing {template}: {why}")
    info(
        f"seeding {params.referrals:,} referrals and {params.concerns:,} adult concerns into {args.database}"
        f" (bench/seed_large.py), kept as {template}"
    )
    started = time.perf_counter()
    await recreate_database(admin_dsn, args.database)
    await asyncio.to_thread(run_checked, [str(BIN / "mash"), "migrate"], env, workdir)
    command = [
        str(BIN / "python"), "-m", "bench.seed_large", "--dsn", dsn, "--json",
        *(f"--{name.replace('_', '-')}={value}" for name, value in params.as_dict().items()),
    ]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, stdout=subprocess.PIPE, stderr=None, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench/seed_large.py failed ({done.returncode})")
    summary: dict[str, Any] = json.loads(done.stdout)
    await keep_template(
        admin_dsn,
        args.database,
        template,
        {
            "key": key,
            "revision": revision,
            "params": params.as_dict(),
            "created": time.time(),
            "summary": summary,
        },
    )
    seconds = round(time.perf_counter() - started, 1)
    info(f"seeded and kept as {template} in {seconds}s")
    return template, {**summary, "template": template, "age_s": 0, "seed_s": seconds}


def seed_params(args: argparse.Namespace) -> seed_large.Params:
    return seed_large.Params(
        referrals=args.referrals,
        concerns=args.concerns,
        base_referrals=min(args.base_referrals, args.referrals),
        base_concerns=min(args.base_concerns, args.concerns),
        audit_entries=args.audit_entries,
        people=args.people,
    )


def head_revision() -> str:
    """The migrations' head revision: a template made at another one is not reused."""
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    return str(ScriptDirectory.from_config(config).get_current_head())


def stale(kept: dict[str, Any], key: str, revision: str, params: seed_large.Params, age: float) -> str | None:
    """Why the kept template cannot be reused, or None."""
    if kept.get("revision") != revision:
        return f"made at schema revision {kept.get('revision')}, not {revision}"
    if kept.get("params") != params.as_dict():
        return f"seeded with {kept.get('params')}, not {params.as_dict()}"
    if kept.get("key") != key:
        return "the seeding or matching code changed since"
    if age >= SEED_MAX_AGE_S:
        return f"{age / 3600:.0f} h old (its dates are relative to when it was made)"
    return None


async def fresh_database(
    args: argparse.Namespace,
    admin_dsn: str,
    dsn: str,
    env: dict[str, str],
    workdir: Path,
    template: str | None,
) -> dict[str, str]:
    """A new ``args.database`` (a copy of the template if seeded), migrated, its clients;
    returns the clients' credentials."""
    info(f"recreating database {args.database}" + (f" from {template}" if template else ""))
    await recreate_database(admin_dsn, args.database, template)
    await asyncio.to_thread(run_checked, [str(BIN / "mash"), "migrate"], env, workdir)
    ctx: dict[str, str] = {}
    for prefix, client in BENCH_CLIENTS.items():
        create = [str(BIN / "mash"), "clients", "create", *client]
        created = json.loads(await asyncio.to_thread(run_checked, create, env, workdir))
        ctx |= {
            f"{prefix}client_id": created["client_id"],
            f"{prefix}client_secret": created["client_secret"],
        }
    return ctx
