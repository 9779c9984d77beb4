"""Tests of the children's front door, rule by rule, through HTTP only.

The bodies, record makers and callers they use are in ``tests.fixtures`` (``referrals``, ``values``,
``http``, ``callers``). The names below keep imports written against this package working.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.fixtures.callers import CHILDREN_SIDE, cast
from tests.fixtures.http import locs as locs
from tests.fixtures.referrals import *  # noqa: F403
from tests.fixtures.values import *  # noqa: F403
from tests.fixtures.values import Headers


def actors(auth: Callable[..., Headers]) -> dict[str, Headers]:
    """The children's side's callers (the ``who`` fixture)."""
    return cast(auth, CHILDREN_SIDE)
