"""Tests of adults at risk, rule by rule, through HTTP only (helpers: ``tests.fixtures``)."""
