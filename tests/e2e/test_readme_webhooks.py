"""The README's webhook section, run as written: a live `mash serve` and `mash worker`, the section's sh
blocks in order, and its receiver (the section's first Python block) verifying what arrives."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

from tests.conftest import ROOT, Databases, app_url
from tests.fixtures.servers import free_port, mash_server

DEFAULT_ORIGIN = "http://127.0.0.1:8000"


def _section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Webhooks: events pushed to a partner system")
    return readme[start : readme.index("\n## ", start + 1)]


async def test_the_readme_webhook_section_works_as_written(databases: Databases, tmp_path: Path) -> None:
    section = _section()
    port = free_port()
    receiver = re.findall(r"```python\n(.*?)```", section, re.DOTALL)[0]
    (tmp_path / "receiver.py").write_text(receiver.replace('("127.0.0.1", 9000)', f'("127.0.0.1", {port})'))
    venv = str(Path(sys.executable).parent)
    url = await databases.clone()
    try:
        async with mash_server(app_url(url), webhook_allow_private="true") as (origin, env):
            script = (
                "\n".join(re.findall(r"```sh\n(.*?)```", section, re.DOTALL))
                .replace(DEFAULT_ORIGIN, origin)
                .replace("127.0.0.1:9000", f"127.0.0.1:{port}")
                .replace(".venv/bin/", f"{venv}/")
            )
            worker = await asyncio.create_subprocess_exec(
                f"{venv}/mash", "worker", cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL
            )
            try:
                shell = await asyncio.create_subprocess_exec(
                    "bash", "-euo", "pipefail", "-c", script, cwd=tmp_path, env=env,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )  # fmt: skip
                stdout, stderr = await asyncio.wait_for(shell.communicate(), 120)
            finally:
                worker.terminate()
                assert await asyncio.wait_for(worker.wait(), 30) == 0
    finally:
        await databases.drop(url)
    assert shell.returncode == 0, stderr.decode()
    # The receiver prints "<webhook-id> <type>" per message; the steps print JSON.
    printed = re.compile(r"^[0-9a-f-]{36} [a-z_.]+$")
    lines = stdout.decode().splitlines()
    received = sorted(line.split()[1] for line in lines if printed.match(line))
    assert received == ["referral.received", "webhook.test"], stdout.decode()
    decoder, rest, outputs = (
        json.JSONDecoder(),
        "\n".join(x for x in lines if not printed.match(x)).strip(),
        [],
    )
    while rest:
        document, end = decoder.raw_decode(rest)
        outputs.append(document)
        rest = rest[end:].strip()
    subscription, queued, referral, log = outputs
    assert subscription["secret"].startswith("whsec_") and subscription["active"] is True
    assert queued["event_type"] == "webhook.test"
    assert referral["status"] == "received"
    assert sorted(a["event_type"] for a in log) == ["referral.received", "webhook.test"]
    assert {(a["status_code"], a["error"]) for a in log} == {(204, None)}
