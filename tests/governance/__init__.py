"""Tests of governance: the audit trail, settings, the change feed, disclosures and reports."""
