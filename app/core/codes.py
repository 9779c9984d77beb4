"""Code lists every side shares (domain.md, api.md). Each side's own lists live beside it:
``app/children/codes.py``, ``app/adults/codes.py``, ``app/people/codes.py``. Wire values are fixed: partner
systems and statutory returns depend on them, so they are enumerations, never free text."""

from __future__ import annotations

from enum import StrEnum


# A referral's RAG rating. Shared: the working-time clock and the hub's timescales count deadlines by it.
class RagRating(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    BLUE = "blue"  # no MASH response needed: no checks, no RAG deadline


class LawfulBasis(StrEnum):
    """UK GDPR Article 6 bases for sharing without consent."""

    PUBLIC_TASK = "uk_gdpr_6_1_e_public_task"
    LEGAL_OBLIGATION = "uk_gdpr_6_1_c_legal_obligation"
    VITAL_INTERESTS = "uk_gdpr_6_1_d_vital_interests"


class SpecialCategoryCondition(StrEnum):
    """UK GDPR Article 9 conditions for special category data."""

    SAFEGUARDING = "uk_gdpr_9_2_g_dpa_2018_sch_1_para_18"
    VITAL_INTERESTS = "uk_gdpr_9_2_c_vital_interests"


class CaseSource(StrEnum):
    """Where a referral or a concern came from, as a work queue filters them: sent by a partner
    agency, made by the hub itself (its own staff, or taking a call), or made by a member of the public
    through the council's online form (``/public/v1/...``)."""

    PARTNER = "partner"
    PUBLIC = "public"
    HUB = "hub"
