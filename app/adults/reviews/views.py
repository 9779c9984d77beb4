"""Turning a safeguarding adults review into its body."""

from __future__ import annotations

from app.adults.reviews.schemas import SarAdvocacyOut, SarOut
from app.adults.reviews.service import advocate_outstanding
from app.core.rendering import from_record
from app.models.adult import SafeguardingAdultsReview


def out(review: SafeguardingAdultsReview) -> SarOut:
    advocacy = None
    if review.advocacy is not None:
        advocacy = SarAdvocacyOut.model_validate(
            {
                **review.advocacy,
                "required": review.advocacy_required,
                "advocate_outstanding": advocate_outstanding(review),
            }
        )
    return from_record(
        SarOut,
        review,
        commissioned=None if review.criteria is None else review.commissioned_on is not None,
        advocacy=advocacy,
    )
