"""`mash audit verify`: from the latest signed checkpoint by default, signing a new one at the head;
`--full` checks every entry and every checkpoint; exit status 1 when the chain does not verify."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.fixtures.cli import mash, migrated_database


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return migrated_database(tmp_path, monkeypatch)


def _create_client(name: str) -> None:  # an audited write from the command line
    made = mash("clients", "create", "--name", name, "--agency", "police", "--role", "partner_referrer")
    assert made.exit_code == 0, made.output


def _verify(*options: str) -> tuple[int, dict[str, object]]:
    done = mash("audit", "verify", *options)
    return done.exit_code, json.loads(done.stdout)


def test_a_routine_check_starts_from_the_last_checkpoint_and_signs_the_head(database: Path) -> None:
    for n in range(3):
        _create_client(f"Police system {n}")
    code, first = _verify()
    assert code == 0
    assert (first["valid"], first["checked"], first["after_seq"], first["checkpoint_signed"]) == (
        True,
        3,
        0,
        True,
    )

    _create_client("Police system 3")
    code, routine = _verify()
    assert (code, routine["checked"], routine["after_seq"], routine["head_seq"]) == (0, 1, 3, 4)
    code, full = _verify("--full")
    assert (code, full["checked"], full["after_seq"], full["full"]) == (0, 4, 0, True)
    assert full["checkpoint_signed"] is False, "the head was signed already"


def test_a_forged_checkpoint_fails_the_check(database: Path) -> None:
    _create_client("Police system")
    assert _verify()[0] == 0
    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_checkpoints SET signature = ?", ("f" * 64,))
    for options in ((), ("--full",)):
        code, result = _verify(*options)
        assert (code, result["valid"], result["reason"], result["first_invalid_seq"]) == (
            1,
            False,
            "bad_checkpoint",
            1,
        )
        assert result["checkpoint_signed"] is False
