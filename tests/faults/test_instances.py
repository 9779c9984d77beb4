"""Two `mash serve` instances on one database, a client's requests alternating between them (as a load
balancer sends them; through PgBouncer in `make test-pooled`): the rate limit is one budget for the
caller, counted in the database, not one per instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import live_servers, make_settings
from tests.fixtures.callers import TokenFactory

pytestmark = pytest.mark.postgres

LIMIT = 10


async def test_two_instances_share_one_rate_limit_budget(
    database_url: str, auth: TokenFactory, tmp_path: Path
) -> None:
    # A day's window: a window ending during the test (at midnight UTC) would restore the budget.
    settings = make_settings(
        database_url, rate_limit_enabled=True, rate_limit_requests=LIMIT, rate_limit_window_seconds=86_400
    )
    police = auth("partner_referrer", "police", sub="police-system")
    async with live_servers(settings, 2, tmp_path) as http:
        answers = [await http.get("/v1/referrals", headers=police) for _ in range(LIMIT + 4)]
        other = await http.get("/v1/referrals", headers=auth("partner_referrer", "health", sub="gp-system"))

    assert [a.status_code for a in answers] == [200] * LIMIT + [429] * 4
    # Each instance counts on from the other's count: one sequence, not two.
    assert [int(a.headers["ratelimit-remaining"]) for a in answers] == [*range(LIMIT - 1, -1, -1), 0, 0, 0, 0]
    assert all(a.headers["ratelimit-limit"] == str(LIMIT) for a in answers)
    assert answers[-1].headers["retry-after"]
    assert other.status_code == 200, "another caller keeps its own budget"
