"""`mash clients list` and `mash clients revoke` on the server, audited like the API's, and `mash token`
naming the valid roles when given another."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.fixtures.cli import mash, migrated_database


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return migrated_database(tmp_path, monkeypatch)


def test_clients_are_listed_and_revoked_from_the_command_line(database: Path) -> None:
    made = [
        json.loads(
            mash(
                "clients", "create", "--name", name, "--agency", "police", "--role", "partner_referrer"
            ).stdout
        )
        for name in ("First police system", "Second police system")
    ]
    listed = mash("clients", "list")
    assert listed.exit_code == 0, listed.output
    clients = json.loads(listed.stdout)
    assert [c["client_id"] for c in clients] == [m["client_id"] for m in made], "oldest first"
    assert all("secret" not in key for c in clients for key in c), "never a secret"

    revoked = mash("clients", "revoke", made[0]["client_id"], "--reason", "Secret exposed in a ticket")
    assert revoked.exit_code == 0, revoked.output
    shown = json.loads(revoked.stdout)
    assert (shown["active"], shown["revocation_reason"]) == (False, "Secret exposed in a ticket")
    assert shown["revoked_by"].startswith("cli:")
    active = json.loads(mash("clients", "list", "--active").stdout)
    assert [c["client_id"] for c in active] == [made[1]["client_id"]]
    assert [c["client_id"] for c in json.loads(mash("clients", "list", "--revoked").stdout)] == [
        made[0]["client_id"]
    ]

    with sqlite3.connect(database) as db:
        audited = db.execute(
            "SELECT actor_sub FROM audit_events WHERE action = 'revoke' AND record_type = 'client' AND record_id = ?",
            (made[0]["client_id"],),
        ).fetchall()
    assert len(audited) == 1 and audited[0][0].startswith("cli:")

    again = mash("clients", "revoke", made[0]["client_id"], "--reason", "Again")
    assert again.exit_code == 2 and "already been revoked" in again.stderr
    unknown = mash("clients", "revoke", str(uuid.uuid4()), "--reason", "Who?")
    assert unknown.exit_code == 2 and "No client" in unknown.stderr
    malformed = mash("clients", "revoke", "client-7", "--reason", "Who?")
    assert malformed.exit_code == 2 and not malformed.stdout


def test_mash_token_names_the_roles_when_given_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASH_JWT_SECRET", TEST_SECRET)
    refused = mash("token", "--agency", "police", "--role", "foo")
    assert refused.exit_code == 2 and not refused.stdout
    assert "unknown role 'foo'; the roles are: partner_referrer, mash_practitioner" in refused.stderr
