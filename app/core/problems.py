"""The registry of problem types: every error the API can return has a stable ``code`` listed here.

The same table feeds the error handlers, the OpenAPI documentation of each route's errors and the
``/problems/{code}`` pages that the ``type`` URI of every problem response points to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from app.core.context import problem_base_var


@dataclass(frozen=True, slots=True)
class ProblemType:
    code: str
    status: int
    title: str
    description: str


_PROBLEM_TYPES = [
    ProblemType(
        "bad_request",
        400,
        "Bad request",
        "The request could not be read. Check the headers and the body encoding.",
    ),
    ProblemType(
        "malformed_json",
        400,
        "Malformed JSON",
        "The request body is not valid JSON (RFC 8259): check quoting, commas and brackets. `errors` "
        'points at the character where reading stopped, as `["body", <offset>]`.',
    ),
    ProblemType(
        "not_authenticated",
        401,
        "Authentication required",
        "Send an access token in the Authorization header: `Authorization: Bearer <token>`. "
        "Partner systems obtain one from POST /oauth/token with their client credentials.",
    ),
    ProblemType(
        "invalid_token",
        401,
        "Invalid access token",
        "The access token is malformed, expired, signed with an unknown key or algorithm, meant for "
        "another audience or issuer, or belongs to a revoked client. Obtain a new token.",
    ),
    ProblemType(
        "insufficient_scope",
        403,
        "Insufficient scope",
        "The access token is valid but its role does not carry the scope this operation requires.",
    ),
    ProblemType(
        "agency_not_permitted",
        403,
        "Not permitted for the caller's agency",
        "The access token carries the scope, but what this operation gives is kept from the caller's "
        "agency: child-level report items (the CIN census) need an auditor of childrens_social_care, "
        "adult_social_care or council, and the person register is kept by those agencies only. `detail` "
        "says which agencies' callers may.",
    ),
    ProblemType(
        "self_approval",
        403,
        "Self-approval is not allowed",
        "A decision must be approved by a different manager from the one who proposed it.",
    ),
    ProblemType(
        "not_found",
        404,
        "Not found",
        "There is no such resource, or the caller's agency is not allowed to see it.",
    ),
    ProblemType(
        "method_not_allowed",
        405,
        "Method not allowed",
        "The resource exists but does not support this HTTP method; the Allow header lists those it does.",
    ),
    ProblemType(
        "not_acceptable",
        406,
        "Not acceptable",
        "The Accept header allows none of the media types this operation can produce; `detail` names them. "
        "Reports offer application/json (the default) and text/csv.",
    ),
    ProblemType(
        "request_timeout",
        408,
        "Request body too slow",
        "The request body did not arrive in time: the API allows a few seconds plus one second per "
        "configured number of bytes (MASH_BODY_TIMEOUT_SECONDS, MASH_BODY_MIN_RATE_BYTES). Nothing was "
        "changed; send the request again.",
    ),
    ProblemType(
        "invalid_transition",
        409,
        "Invalid state transition",
        "The action is not allowed in the record's current status.",
    ),
    ProblemType(
        "idempotency_key_in_progress",
        409,
        "Request with this Idempotency-Key is still running",
        "A request with the same Idempotency-Key from the same caller has not finished yet. "
        "Retry after a short wait: the original response will then be replayed.",
    ),
    ProblemType(
        "already_revoked",
        409,
        "Already revoked",
        "The client has already been revoked; revocation cannot be repeated or undone.",
    ),
    ProblemType(
        "webhook_subscription_disabled",
        409,
        "Webhook subscription disabled",
        "The subscription is disabled: nothing is sent to it. Enable it first "
        "(POST /v1/webhook-subscriptions/{id}/enable).",
    ),
    ProblemType(
        "duplicate_person",
        409,
        "Person already recorded",
        "A person with this NHS number already exists; `detail` names its id. Update that record instead.",
    ),
    ProblemType(
        "consent_override_required",
        409,
        "Consent override required",
        "The parents did not consent to this referral. A hub manager must record a consent override "
        "(reason and lawful basis) before information is requested from other agencies.",
    ),
    ProblemType(
        "already_responded",
        409,
        "Already responded",
        "This information request has been answered. To change the answer, send a correction: the same "
        "fields with a `correction_reason`; the earlier version is kept.",
    ),
    ProblemType(
        "do_not_inform_parents",
        409,
        "Parents must not be informed",
        'The referral is marked "do not inform parents": contact with parents or carers cannot be '
        "recorded until a manager removes the marker.",
    ),
    ProblemType(
        "match_already_resolved",
        409,
        "Match already resolved",
        "This child is already linked to a person record; only a pending match can be confirmed.",
    ),
    ProblemType(
        "legal_hold_active",
        409,
        "Legal hold in force",
        "A legal hold stands on this record: it is kept whatever its retention rule says and cannot be "
        "anonymised until every hold on it is released (POST /v1/legal-holds/{id}/release).",
    ),
    ProblemType(
        "retention_not_ended",
        409,
        "Retention period not ended",
        "The record's retention period (GET /v1/retention/rules) has not ended yet: only records on the "
        "review list (GET /v1/retention/review) can be anonymised.",
    ),
    ProblemType(
        "already_anonymised",
        409,
        "Already anonymised",
        "The record's personal data has already been replaced; anonymisation cannot be repeated or "
        "undone, and an anonymised record needs no hold.",
    ),
    ProblemType(
        "legal_hold_released",
        409,
        "Legal hold already released",
        "This legal hold has been released; a release cannot be repeated or undone. Place a new hold if "
        "the record must be kept again.",
    ),
    ProblemType(
        "advocate_required",
        409,
        "Independent advocate required",
        "The adult has substantial difficulty in being involved and no appropriate person to support them, "
        "so the Care Act requires an independent advocate. Record the advocate's appointment, or the adult's "
        "refusal, before concluding the enquiry.",
    ),
    ProblemType(
        "advocacy_not_assessed",
        409,
        "Advocacy not assessed",
        "Before a section 42 enquiry concludes, the council must have considered whether the adult needs "
        "an independent advocate (Care Act 2014 s68): record the assessment on the concern's advocacy.",
    ),
    ProblemType(
        "best_interests_requires_incapacity",
        409,
        "The person has capacity for this decision",
        "A best interests decision is made only for a person assessed as lacking capacity for that decision "
        "(Mental Capacity Act 2005 s1(5)). This assessment found that they have capacity.",
    ),
    ProblemType(
        "document_withdrawn",
        409,
        "Document withdrawn",
        "The document was withdrawn: it stays listed, with who withdrew it, when and why, but its content "
        "is no longer served. A withdrawn document cannot be withdrawn again.",
    ),
    ProblemType(
        "document_not_scanned",
        409,
        "Document not yet scanned",
        "A virus scanner is configured and has not yet found this document clean (its `scan_status` is "
        "`pending`): try again later.",
    ),
    ProblemType(
        "document_infected",
        409,
        "Document infected",
        "The virus scanner found malware in this document (`scan_status` `infected`): its content is not "
        "served.",
    ),
    ProblemType(
        "conflict",
        409,
        "Conflict",
        "The request conflicts with data that already exists.",
    ),
    ProblemType(
        "precondition_failed",
        412,
        "Precondition failed",
        "The If-Match header does not match the current ETag: the record changed since you read it. "
        "GET it again, reapply your change and send the new ETag.",
    ),
    ProblemType(
        "payload_too_large",
        413,
        "Request body too large",
        "The request body exceeds the maximum size the API accepts.",
    ),
    ProblemType(
        "unsupported_media_type",
        415,
        "Unsupported media type",
        "Send the request body as JSON with `Content-Type: application/json`.",
    ),
    ProblemType(
        "document_too_large",
        413,
        "Document too large",
        "The file is larger than the documents limit (20 MiB unless configured otherwise: `detail` gives "
        "the number of bytes). Nothing of it was kept.",
    ),
    ProblemType(
        "unsupported_document_type",
        415,
        "Unsupported document type",
        "The file's content is not one of the accepted types (PDF, DOCX, ODT, PNG, JPEG, TIFF, plain text, "
        "EML), or the Content-Type declared for the file part disagrees with its content. Types are "
        "judged by the bytes, not by the file name.",
    ),
    ProblemType(
        "validation_failed",
        422,
        "Validation failed",
        "The request is well-formed but some values are missing or invalid; `errors` lists each one "
        "with its location.",
    ),
    ProblemType(
        "idempotency_key_reused",
        422,
        "Idempotency-Key reused with a different request",
        "The Idempotency-Key was already used by this caller for a different request body or path. "
        "Use a new key for a new request.",
    ),
    ProblemType(
        "section_42_criteria_not_met",
        422,
        "Section 42 criteria not met",
        "A section 42 enquiry is made when all three criteria of the Care Act 2014 s42(1) are met; `errors` "
        "names the criteria recorded as not met. Consider an other enquiry, or no further action.",
    ),
    ProblemType(
        "section_42_duty_applies",
        422,
        "Section 42 enquiry required",
        "All three criteria of the Care Act 2014 s42(1) are met, so the council must make a section 42 enquiry.",
    ),
    ProblemType(
        "allegation_results_missing",
        422,
        "Allegation results missing",
        "An enquiry concludes with a result for every allegation of the concern; `errors` lists those without.",
    ),
    ProblemType(
        "capacity_outcome_inconsistent",
        422,
        "Capacity outcome inconsistent with the assessment",
        "Lacking capacity means being unable to understand, retain, use or weigh the information, or to "
        "communicate the decision, because of an impairment of the mind or brain (MCA 2005 ss2-3). The "
        "outcome recorded does not follow from the abilities, impairment and causative link recorded.",
    ),
    ProblemType(
        "invalid_cursor",
        422,
        "Invalid pagination cursor",
        "The cursor is not one this API issued. Start again from the first page.",
    ),
    ProblemType(
        "precondition_required",
        428,
        "If-Match required",
        "Updates require an If-Match header carrying the ETag from your last GET of the record.",
    ),
    ProblemType(
        "rate_limited",
        429,
        "Too many requests",
        "The client has sent too many requests; wait for the number of seconds in Retry-After.",
    ),
    ProblemType(
        "webhook_destination_refused",
        422,
        "Webhook destination refused",
        "The webhook URL cannot be used: it resolves to a private, loopback, link-local or otherwise "
        "non-public address, does not resolve, or is not https in production. `errors` points at the "
        "url and says which.",
    ),
    ProblemType(
        "internal_error",
        500,
        "Internal server error",
        "The service failed unexpectedly. Quote the request_id when reporting it.",
    ),
    ProblemType(
        "service_busy",
        503,
        "Service busy",
        "Every database connection is in use: the service is at capacity. Nothing was changed; retry "
        "after the Retry-After delay.",
    ),
    ProblemType(
        "database_unavailable",
        503,
        "Service unavailable",
        "The database cannot be reached. Nothing was changed; retry after the Retry-After delay.",
    ),
]

PROBLEM_TYPES: dict[str, ProblemType] = {p.code: p for p in _PROBLEM_TYPES}

# Every code above, as the one named enumeration the spec gives `Problem.code` (a code added to the
# registry is in it). Type checkers see the plain string each member is.
if TYPE_CHECKING:
    ProblemCode = str
else:
    ProblemCode = StrEnum("ProblemCode", {p.code.upper(): p.code for p in _PROBLEM_TYPES})
    ProblemCode.__doc__ = "Every problem `code` the API answers; GET /problems/{code} explains one."


def problem_page(code: str) -> str:
    """The URI of ``code``'s page: the ``type`` of its problems, under this request's public base
    (``app.core.context.problem_base_var``)."""
    return f"{problem_base_var.get().rstrip('/')}/problems/{code}"


def problem_type(code: str) -> ProblemType:
    return PROBLEM_TYPES[code]


def codes_for_status(status: int) -> list[str]:
    return [p.code for p in _PROBLEM_TYPES if p.status == status]
