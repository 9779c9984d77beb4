"""Tests of the partner change feed (GET /v1/events), polled the way a partner system polls it.

The polling helpers are in ``tests.fixtures.feed``; the names below keep imports written against this
package working.
"""

from tests.fixtures.feed import *  # noqa: F403
from tests.fixtures.values import Headers as Headers
