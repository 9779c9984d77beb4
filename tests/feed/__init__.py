"""Tests of the partner change feed (GET /v1/events), polled as a partner system polls it.

The polling helpers are in ``tests.fixtures.feed``."""
