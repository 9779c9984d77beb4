"""Tests of the children's front door, rule by rule, through HTTP only (helpers: ``tests.fixtures``)."""
