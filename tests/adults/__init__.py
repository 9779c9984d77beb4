"""Tests of adults at risk, rule by rule, through HTTP only.

The bodies, record makers and callers they use are in ``tests.fixtures`` (``adults``, ``people``,
``values``, ``http``, ``callers``); in this package ``who`` is the adults' side's cast (conftest.py).
The names below keep imports written against this package working.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.fixtures.adults import *  # noqa: F403
from tests.fixtures.callers import ADULTS_SIDE, cast
from tests.fixtures.http import locs as locs
from tests.fixtures.people import *  # noqa: F403
from tests.fixtures.values import *  # noqa: F403
from tests.fixtures.values import Headers


def actors(auth: Callable[..., Headers]) -> dict[str, Headers]:
    """The adults' side's callers (the ``adult_who`` fixture)."""
    return cast(auth, ADULTS_SIDE)
