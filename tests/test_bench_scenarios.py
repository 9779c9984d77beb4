"""The load bench's requests are ones the service accepts: a bench run that meets 422s measures the
refusal, not the work (bench/scenarios.py)."""

from __future__ import annotations

from app.children.referrals.schemas import ReferralCreate
from app.core.clock import today as clock_today
from bench.scenarios import referral_body


def test_every_bench_referral_names_children_under_18() -> None:
    today = clock_today()
    # Past two cycles of the dates of birth (6,529 days), the older sibling's offset included.
    for n in range(0, 14_000, 7):
        ReferralCreate.model_validate(referral_body(n, today))
