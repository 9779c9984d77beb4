"""Statutory returns (CIN census referral items, the Safeguarding Adults Collection) and timeliness."""
