"""Tests of the statutory returns and the timeliness report, through HTTP only (helpers: ``tests.fixtures.reports``)."""
