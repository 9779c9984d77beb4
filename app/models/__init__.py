"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from app.models.adult import (
    AdultConcern,
    Advocacy,
    Advocate,
    Allegation,
    BestInterestsDecision,
    CapacityAssessment,
    Enquiry,
    PlanAction,
    PlanReview,
    SafeguardingPlan,
    Section42DecisionRecord,
)
from app.models.agency import Agency
from app.models.audit import AuditChainHead, AuditEvent
from app.models.base import Base
from app.models.client import Client
from app.models.disclosure import Disclosure, SubjectAccessRequest
from app.models.event import CaseEvent
from app.models.idempotency import IdempotencyRecord
from app.models.person import Person, PersonLink, PersonMatchKey
from app.models.ratelimit import RateLimitCounter
from app.models.referral import (
    Communication,
    Contribution,
    ContributionResponse,
    Referral,
    ReferralChild,
    ReferralHouseholdMember,
    ThresholdDecision,
)
from app.models.settings import HubSetting

__all__ = [
    "AdultConcern",
    "Advocacy",
    "Advocate",
    "Agency",
    "Allegation",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "BestInterestsDecision",
    "CapacityAssessment",
    "CaseEvent",
    "Client",
    "Communication",
    "Contribution",
    "ContributionResponse",
    "Disclosure",
    "Enquiry",
    "HubSetting",
    "IdempotencyRecord",
    "Person",
    "PersonLink",
    "PersonMatchKey",
    "PlanAction",
    "PlanReview",
    "RateLimitCounter",
    "Referral",
    "ReferralChild",
    "ReferralHouseholdMember",
    "SafeguardingPlan",
    "Section42DecisionRecord",
    "SubjectAccessRequest",
    "ThresholdDecision",
]
