"""A Python client generated from the committed spec works: generated cleanly and completely, and a typed
script using it (clients/python/walkthrough.py) passes ``mypy --strict`` and runs against a live server.

The client is generated with openapi-python-client (a dev dependency, settings in
clients/python/config.yaml) into a temporary folder: nothing generated is committed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.core.scopes import AgencyCode, Role
from app.core.tokens import TokenService
from tests.conftest import ROOT, Databases, make_settings
from tests.fixtures.servers import mash_server

SPEC = ROOT / "openapi" / "openapi.json"
CLIENTS = ROOT / "clients" / "python"
BIN = Path(sys.executable).parent
PACKAGE = "mash_client"
_OPERATION = re.compile(r'"method": "(\w+)",\s*"url": "([^"]+)"')


class Generated:
    def __init__(self, folder: Path, output: str) -> None:
        self.folder = folder  # holds the package ``mash_client``
        self.output = output  # what the generator printed


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    folder = tmp_path_factory.mktemp("python-client")
    done = subprocess.run(
        [
            BIN / "openapi-python-client", "generate", "--path", SPEC, "--config", CLIENTS / "config.yaml",
            "--meta", "none", "--output-path", folder / PACKAGE,
        ],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return Generated(folder, output)


def test_the_client_is_generated_without_a_warning(generated: Generated) -> None:
    # The generator reports what it could not generate ("Warning(s) encountered ... some pieces may be
    # missing", followed by each schema or endpoint skipped) and otherwise only says where it wrote.
    lines = [line for line in generated.output.splitlines() if line.strip()]
    assert lines == [f"Generating {generated.folder / PACKAGE}"], generated.output


def test_every_operation_and_schema_is_in_the_client(generated: Generated) -> None:
    spec = json.loads(SPEC.read_text())
    expected = {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    package = generated.folder / PACKAGE
    found = {
        match.groups()
        for module in (package / "api").rglob("*.py")
        for match in _OPERATION.finditer(module.read_text())
    }
    assert found == expected
    models = (package / "models" / "__init__.py").read_text()
    exported = set(re.findall(r'^\s+"(\w+)",$', models, re.MULTILINE))
    assert set(spec["components"]["schemas"]) <= exported


def test_the_walkthrough_type_checks_strictly(generated: Generated) -> None:
    config = generated.folder / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n")
    done = subprocess.run(
        [
            BIN / "mypy", "--config-file", config, "--cache-dir", generated.folder / ".mypy_cache",
            CLIENTS / "walkthrough.py",
        ],
        cwd=generated.folder, env={**os.environ, "MYPYPATH": str(generated.folder)},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
async def live_server(databases: Databases) -> AsyncIterator[tuple[str, TokenService]]:
    url = await databases.clone()
    try:
        async with mash_server(url) as (origin, _):
            yield origin, TokenService(make_settings(url))
    finally:
        await databases.drop(url)


async def test_the_walkthrough_runs_against_a_live_server(
    generated: Generated, live_server: tuple[str, TokenService]
) -> None:
    origin, tokens = live_server
    admin = tokens.issue(sub="walkthrough.admin", agency=AgencyCode.CHILDRENS_SOCIAL_CARE, role=Role.ADMIN)
    hub = tokens.issue(
        sub="ann.practitioner", agency=AgencyCode.CHILDRENS_SOCIAL_CARE, role=Role.MASH_PRACTITIONER
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(generated.folder),
        "MASH_BASE_URL": origin,
        "MASH_ADMIN_TOKEN": admin.access_token,
        "MASH_HUB_TOKEN": hub.access_token,
    }
    script = await asyncio.create_subprocess_exec(
        sys.executable, CLIENTS / "walkthrough.py", cwd=generated.folder, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(script.communicate(), 60)
    assert script.returncode == 0, stderr.decode()
    seen: dict[str, Any] = json.loads(stdout)
    referral_id, incident = seen["referral"]["id"], seen["incident"]
    # The partner's referral carries its incident number, and reads back the same in the referrer's view.
    assert seen["referral"] == {
        "id": referral_id, "view": "referrer", "status": "received", "external_reference": incident
    }  # fmt: skip
    assert seen["read_back"] == seen["referral"]
    assert seen["hub"] == {"view": "full", "children": ["Amelia"]}
    # The hub allocated it to the practitioner holding the token, and it is in that practitioner's queue.
    assert seen["allocation"] == {
        "worker": "ann.practitioner",
        "team": "MASH A",
        "allocated_by": "ann.practitioner",
    }
    assert seen["mine"] == [{"id": referral_id, "worker": "ann.practitioner", "team": "MASH A"}]
    # The partner finds it by its incident number.
    assert seen["found"] == [{"id": referral_id, "external_reference": incident}]
    # From ``now``: an empty page and a cursor; from that cursor, the referral's receipt (with the incident
    # number) and nothing about the hub's allocation, which partners never see.
    assert seen["feed_from_now"]["items"] == 0 and seen["feed_from_now"]["cursor"]
    assert seen["feed"] == [
        {
            "record_id": referral_id,
            "event_type": "referral.received",
            "status": "received",
            "external_reference": incident,
        }
    ]
    assert seen["feed_cursor"] and seen["feed_cursor"] != seen["feed_from_now"]["cursor"]
