"""Agencies, roles and the scopes each role carries, exactly as the API contract sets them."""

from __future__ import annotations

from enum import StrEnum


class AgencyCode(StrEnum):
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    ADULT_SOCIAL_CARE = "adult_social_care"
    POLICE = "police"
    HEALTH = "health"
    EDUCATION = "education"
    PROBATION = "probation"
    HOUSING = "housing"
    EARLY_HELP = "early_help"
    YOUTH_OFFENDING = "youth_offending"
    VICTIM_SUPPORT = "victim_support"
    # The local authority's corporate side: information governance (subject access), complaints.
    COUNCIL = "council"


# The two lead agencies, each deciding on its own side's records; every other agency is a partner.
LEAD_AGENCIES = frozenset({AgencyCode.CHILDRENS_SOCIAL_CARE, AgencyCode.ADULT_SOCIAL_CARE})
PARTNER_AGENCIES = frozenset(AgencyCode) - LEAD_AGENCIES - {AgencyCode.COUNCIL}
# The agencies that see across all others: the lead agencies and the council's corporate side.
COUNCIL_AGENCIES = LEAD_AGENCIES | {AgencyCode.COUNCIL}


class Scope(StrEnum):
    REFERRALS_CREATE = "referrals:create"
    REFERRALS_READ = "referrals:read"
    REFERRALS_WRITE = "referrals:write"
    CONTRIBUTIONS_READ = "contributions:read"
    CONTRIBUTIONS_WRITE = "contributions:write"
    CONTRIBUTIONS_REQUEST = "contributions:request"
    PEOPLE_READ = "people:read"
    PEOPLE_WRITE = "people:write"
    DECISIONS_PROPOSE = "decisions:propose"
    DECISIONS_APPROVE = "decisions:approve"
    CONSENT_OVERRIDE = "consent:override"
    ADULT_CONCERNS_CREATE = "adult_concerns:create"
    ADULT_CONCERNS_READ = "adult_concerns:read"
    ADULT_CONCERNS_WRITE = "adult_concerns:write"
    ADULT_CONCERNS_DECIDE = "adult_concerns:decide"
    CAPACITY_READ = "capacity:read"
    CAPACITY_WRITE = "capacity:write"
    ADVOCATES_READ = "advocates:read"
    ADVOCATES_WRITE = "advocates:write"
    PLANS_READ = "plans:read"
    PLANS_WRITE = "plans:write"
    EVENTS_READ = "events:read"
    AUDIT_READ = "audit:read"
    REPORTS_READ = "reports:read"
    SUBJECT_ACCESS_EXPORT = "subject_access:export"
    DISCLOSURES_READ = "disclosures:read"
    RETENTION_MANAGE = "retention:manage"
    ADMIN = "admin"


SCOPE_DESCRIPTIONS: dict[str, str] = {
    Scope.REFERRALS_CREATE: "Make referrals about children",
    Scope.REFERRALS_READ: "Read referrals visible to the caller's agency",
    Scope.REFERRALS_WRITE: "Triage and update referrals",
    Scope.CONTRIBUTIONS_READ: "Read agency contributions visible to the caller's agency",
    Scope.CONTRIBUTIONS_WRITE: "Answer information requests addressed to the caller's agency",
    Scope.CONTRIBUTIONS_REQUEST: "Ask agencies for information about a referral",
    Scope.PEOPLE_READ: "Read and match person records",
    Scope.PEOPLE_WRITE: "Create and update person records",
    Scope.DECISIONS_PROPOSE: "Propose threshold decisions",
    Scope.DECISIONS_APPROVE: "Approve or return threshold decisions",
    Scope.CONSENT_OVERRIDE: "Authorise proceeding without parental consent",
    Scope.ADULT_CONCERNS_CREATE: "Raise concerns about adults at risk",
    Scope.ADULT_CONCERNS_READ: "Read adult concerns visible to the caller's agency",
    Scope.ADULT_CONCERNS_WRITE: "Update adult concerns and open enquiries",
    Scope.ADULT_CONCERNS_DECIDE: "Make section 42 decisions and conclude enquiries",
    Scope.CAPACITY_READ: "Read capacity assessments and best interests decisions",
    Scope.CAPACITY_WRITE: "Record capacity assessments and best interests decisions",
    Scope.ADVOCATES_READ: "Read advocates and advocacy",
    Scope.ADVOCATES_WRITE: "Record advocates and advocacy",
    Scope.PLANS_READ: "Read safeguarding plans",
    Scope.PLANS_WRITE: "Create and review safeguarding plans",
    Scope.EVENTS_READ: "Poll the change feed",
    Scope.AUDIT_READ: "Read the audit trail",
    Scope.REPORTS_READ: "Run statutory and timeliness reports",
    Scope.SUBJECT_ACCESS_EXPORT: "Answer subject access requests: the council-wide export (both sides)",
    Scope.DISCLOSURES_READ: "Read the disclosure log",
    Scope.RETENTION_MANAGE: (
        "Review records past their retention period, place and release legal holds, anonymise records"
    ),
    Scope.ADMIN: "Administer agencies, clients and settings (no access to case records)",
}


class Role(StrEnum):
    PARTNER_REFERRER = "partner_referrer"
    MASH_PRACTITIONER = "mash_practitioner"
    MASH_MANAGER = "mash_manager"
    ASC_PRACTITIONER = "asc_practitioner"
    ASC_MANAGER = "asc_manager"
    AUDITOR = "auditor"
    ADMIN = "admin"
    INFORMATION_GOVERNANCE = "information_governance"


_MASH_PRACTITIONER = frozenset(
    {
        Scope.REFERRALS_CREATE,
        Scope.REFERRALS_READ,
        Scope.REFERRALS_WRITE,
        Scope.CONTRIBUTIONS_READ,
        Scope.CONTRIBUTIONS_REQUEST,
        Scope.PEOPLE_READ,
        Scope.PEOPLE_WRITE,
        Scope.DECISIONS_PROPOSE,
        Scope.EVENTS_READ,
    }
)
_ASC_PRACTITIONER = frozenset(
    {
        Scope.ADULT_CONCERNS_CREATE,
        Scope.ADULT_CONCERNS_READ,
        Scope.ADULT_CONCERNS_WRITE,
        Scope.PEOPLE_READ,
        Scope.PEOPLE_WRITE,
        Scope.CAPACITY_READ,
        Scope.CAPACITY_WRITE,
        Scope.ADVOCATES_READ,
        Scope.ADVOCATES_WRITE,
        Scope.PLANS_READ,
        Scope.PLANS_WRITE,
        Scope.EVENTS_READ,
    }
)

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.PARTNER_REFERRER: frozenset(
        {
            Scope.REFERRALS_CREATE,
            Scope.REFERRALS_READ,
            Scope.CONTRIBUTIONS_READ,
            Scope.CONTRIBUTIONS_WRITE,
            Scope.ADULT_CONCERNS_CREATE,
            Scope.ADULT_CONCERNS_READ,
            Scope.EVENTS_READ,
        }
    ),
    Role.MASH_PRACTITIONER: _MASH_PRACTITIONER,
    Role.MASH_MANAGER: _MASH_PRACTITIONER | {Scope.DECISIONS_APPROVE, Scope.CONSENT_OVERRIDE},
    Role.ASC_PRACTITIONER: _ASC_PRACTITIONER,
    Role.ASC_MANAGER: _ASC_PRACTITIONER | {Scope.ADULT_CONCERNS_DECIDE},
    Role.AUDITOR: frozenset({Scope.AUDIT_READ, Scope.REPORTS_READ}),
    Role.ADMIN: frozenset({Scope.ADMIN}),
    Role.INFORMATION_GOVERNANCE: frozenset(
        {
            Scope.PEOPLE_READ,
            Scope.SUBJECT_ACCESS_EXPORT,
            Scope.DISCLOSURES_READ,
            Scope.AUDIT_READ,
            Scope.REPORTS_READ,
            # Records management is information governance's: the review list, holds, anonymisation.
            Scope.RETENTION_MANAGE,
        }
    ),
}

# The agencies each role may belong to (api.md, "normally in agency"): a token or client pairing a role
# with any other agency is invalid, whoever signed it. Visibility follows the agency, so a
# "mash_manager" of the police, or a partner_referrer of children's social care, would otherwise read
# with one side's rights what the other side's role allows. Roles missing here may be in any agency.
ROLE_AGENCIES: dict[Role, frozenset[AgencyCode]] = {
    Role.PARTNER_REFERRER: PARTNER_AGENCIES,
    Role.MASH_PRACTITIONER: frozenset({AgencyCode.CHILDRENS_SOCIAL_CARE}),
    Role.MASH_MANAGER: frozenset({AgencyCode.CHILDRENS_SOCIAL_CARE}),
    Role.ASC_PRACTITIONER: frozenset({AgencyCode.ADULT_SOCIAL_CARE}),
    Role.ASC_MANAGER: frozenset({AgencyCode.ADULT_SOCIAL_CARE}),
    Role.INFORMATION_GOVERNANCE: frozenset({AgencyCode.COUNCIL}),
}


def agencies_for(role: Role) -> frozenset[AgencyCode]:
    return ROLE_AGENCIES.get(role, frozenset(AgencyCode))


def role_allowed_in_agency(role: Role, agency: AgencyCode) -> bool:
    return agency in agencies_for(role)


def role_agency_problem(role: Role, agency: AgencyCode) -> str | None:
    """Why ``role`` cannot belong to ``agency``, in words safe to show; None when it can."""
    if role_allowed_in_agency(role, agency):
        return None
    allowed = ", ".join(sorted(agencies_for(role)))
    return f"the role {role} belongs only to the agencies {allowed}, not {agency}"
