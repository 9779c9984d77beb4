"""An assessment as the hub sees it (the only caller that may)."""

from __future__ import annotations

from app.children.assessments.schemas import AssessmentOut
from app.children.pathway import lateness_out
from app.models.protection import Assessment
from app.models.referral import ReferralChild


def assessment_out(assessment: Assessment, child: ReferralChild) -> AssessmentOut:
    return AssessmentOut.model_validate(
        {
            **{
                name: getattr(assessment, name)
                for name in AssessmentOut.model_fields
                if hasattr(assessment, name)
            },
            "person_id": child.person_id,
            "timeliness": lateness_out(assessment.working_days_taken, assessment.completed_late),
        }
    )
