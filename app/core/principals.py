"""Who may call: one principal alias per scope, declared once for every router.

A route takes the caller as ``principal: ReferralsRead`` (the scope it needs, checked by
``requires``); an ``...Once`` alias also claims the request's ``Idempotency-Key`` (``idempotent``), for
the operations that create. Aliases that only one router has reason for (an alternative of scopes, a
redaction, a check of its own) stay with that router.
"""

from __future__ import annotations

from typing import Annotated

from app.core.auth import Principal, requires
from app.core.idempotency import idempotent
from app.core.scopes import Scope

# Children's side.
ReferralsCreateOnce = Annotated[Principal, idempotent(requires(Scope.REFERRALS_CREATE))]
ReferralsRead = Annotated[Principal, requires(Scope.REFERRALS_READ)]
ReferralsWrite = Annotated[Principal, requires(Scope.REFERRALS_WRITE)]
ReferralsWriteOnce = Annotated[Principal, idempotent(requires(Scope.REFERRALS_WRITE))]
ConsentOverride = Annotated[Principal, requires(Scope.CONSENT_OVERRIDE)]
ContributionsRead = Annotated[Principal, requires(Scope.CONTRIBUTIONS_READ)]
ContributionsWrite = Annotated[Principal, requires(Scope.CONTRIBUTIONS_WRITE)]
ContributionsRequestOnce = Annotated[Principal, idempotent(requires(Scope.CONTRIBUTIONS_REQUEST))]
DecisionsProposeOnce = Annotated[Principal, idempotent(requires(Scope.DECISIONS_PROPOSE))]
DecisionsApprove = Annotated[Principal, requires(Scope.DECISIONS_APPROVE)]

# Adults' side.
ConcernsCreateOnce = Annotated[Principal, idempotent(requires(Scope.ADULT_CONCERNS_CREATE))]
ConcernsRead = Annotated[Principal, requires(Scope.ADULT_CONCERNS_READ)]
ConcernsWrite = Annotated[Principal, requires(Scope.ADULT_CONCERNS_WRITE)]
ConcernsWriteOnce = Annotated[Principal, idempotent(requires(Scope.ADULT_CONCERNS_WRITE))]
ConcernsDecide = Annotated[Principal, requires(Scope.ADULT_CONCERNS_DECIDE)]
ConcernsDecideOnce = Annotated[Principal, idempotent(requires(Scope.ADULT_CONCERNS_DECIDE))]
CapacityRead = Annotated[Principal, requires(Scope.CAPACITY_READ)]
CapacityWriteOnce = Annotated[Principal, idempotent(requires(Scope.CAPACITY_WRITE))]
AdvocatesRead = Annotated[Principal, requires(Scope.ADVOCATES_READ)]
AdvocatesWriteOnce = Annotated[Principal, idempotent(requires(Scope.ADVOCATES_WRITE))]
PlansWrite = Annotated[Principal, requires(Scope.PLANS_WRITE)]
PlansWriteOnce = Annotated[Principal, idempotent(requires(Scope.PLANS_WRITE))]

# The person register, both sides.
PeopleRead = Annotated[Principal, requires(Scope.PEOPLE_READ)]
PeopleWrite = Annotated[Principal, requires(Scope.PEOPLE_WRITE)]
PeopleWriteOnce = Annotated[Principal, idempotent(requires(Scope.PEOPLE_WRITE))]

# Governance.
EventsRead = Annotated[Principal, requires(Scope.EVENTS_READ)]
AuditRead = Annotated[Principal, requires(Scope.AUDIT_READ)]
ReportsRead = Annotated[Principal, requires(Scope.REPORTS_READ)]
RetentionManage = Annotated[Principal, requires(Scope.RETENTION_MANAGE)]
RetentionManageOnce = Annotated[Principal, idempotent(requires(Scope.RETENTION_MANAGE))]
