"""/v1/retention and /v1/legal-holds: records past their retention period, the legal holds that keep
them, and their anonymisation (information governance, scope `retention:manage`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request

from app.core.creation import Created
from app.core.db import DbSession
from app.core.openapi import problem_responses
from app.core.pagination import Page, Paging
from app.core.principals import RetentionManage, RetentionManageOnce
from app.core.retention import RetainedRecordType, RetentionConfig
from app.core.routing import Router, answered_by_service
from app.governance.retention import service
from app.governance.retention.schemas import (
    AnonymisationIn,
    AnonymisationOut,
    LegalHoldIn,
    LegalHoldOut,
    LegalHoldReleaseIn,
    RetentionReviewItem,
    RetentionRulesOut,
)

router = Router(tags=["Retention"])

_NEVER_DELETED = (
    "Nothing is deleted: an anonymised record keeps its ids, codes, dates and statuses (the audit trail, "
    "the change feed and the statutory returns refer to them), and its personal data is replaced."
)


def _rules(request: Request) -> RetentionConfig:
    rules: RetentionConfig = request.app.state.settings.retention
    return rules


@router.get("/v1/retention/rules", summary="Get the retention rules in force")
async def get_retention_rules(request: Request, _: RetentionManage) -> RetentionRulesOut:
    """How long each record type is kept, and on what basis: set in the service's configuration
    (`MASH_RETENTION__REFERRAL__YEARS`, `MASH_RETENTION__ADULT_CONCERN__YEARS`), with defaults from
    the IRMS local government retention guidance for social care."""
    return RetentionRulesOut(rules=service.rules_out(_rules(request)))


@router.get("/v1/retention/review", summary="List records past their retention period")
async def list_retention_review(
    request: Request,
    principal: RetentionManage,
    session: DbSession,
    paging: Paging,
    record_type: Annotated[RetainedRecordType, Query(description="Which records to review.")],
) -> Page[RetentionReviewItem]:
    """The records of one type whose retention period has ended, with no legal hold and not yet
    anonymised, oldest first: ids and dates only. Review each, then place a legal hold or anonymise it.
    Audited as a list of the records named."""
    items, next_cursor = await service.review(session, principal, _rules(request), record_type, paging.params)
    return paging.page(items, next_cursor)


@router.post(
    "/v1/retention/anonymisations",
    summary="Anonymise a record past its retention period",
    description=(
        "Replaces the personal data of a referral (its children, household, referrer, summary, agencies' "
        "answers, decisions' reasons, contacts, strategy discussions) or an adult concern (the adult, the "
        "raiser, views and outcomes, allegations, section 42 reasons, the enquiry's conclusion), and of "
        "each person record it names that no other record still needs. " + _NEVER_DELETED + " The "
        "audit trail is not touched, so its hash chain still verifies. Only a record on the review list: "
        "held → 409 `legal_hold_active`, period not ended → 409 `retention_not_ended`, done before → 409 "
        "`already_anonymised`; a record that does not exist → 404."
    ),
    responses=problem_responses(
        404,
        409,
        codes={404: ["not_found"], 409: ["legal_hold_active", "retention_not_ended", "already_anonymised"]},
    ),
)
async def anonymise_record(
    request: Request,
    created: Created,
    principal: RetentionManageOnce,
    session: DbSession,
    body: AnonymisationIn,
) -> AnonymisationOut:
    done = await service.anonymise(session, principal, _rules(request), body)
    return created.at(f"/v1/retention/anonymisations/{done.id}", done)


router.get(
    "/v1/retention/anonymisations/{anonymisation_id}",
    summary="Get an anonymisation",
    description="Which record was anonymised, under which rule, when, by whom, and what became of the people "
    "it named.",
)(
    answered_by_service(
        service.get_anonymisation,
        "get_anonymisation",
        parameter="anonymisation_id",
        principal=RetentionManage,
    )
)


@router.post(
    "/v1/legal-holds",
    summary="Place a legal hold on a record",
    description=(
        "While a hold stands the record is kept whatever its retention rule says: it is left off the "
        "review list and cannot be anonymised. A record may have several holds; each is released on its "
        "own. A record that does not exist → 404; one already anonymised → 409 `already_anonymised`."
    ),
    responses=problem_responses(404, 409, codes={404: ["not_found"], 409: ["already_anonymised"]}),
)
async def place_legal_hold(
    created: Created, principal: RetentionManageOnce, session: DbSession, body: LegalHoldIn
) -> LegalHoldOut:
    hold = await service.place_hold(session, principal, body)
    return created.at(f"/v1/legal-holds/{hold.id}", service.hold_out(hold))


@router.get("/v1/legal-holds", summary="List legal holds")
async def list_legal_holds(
    principal: RetentionManage,
    session: DbSession,
    paging: Paging,
    record_type: Annotated[RetainedRecordType | None, Query()] = None,
    record_id: Annotated[uuid.UUID | None, Query(description="The holds on one record.")] = None,
    active: Annotated[bool | None, Query(description="true: standing holds; false: released ones.")] = None,
) -> Page[LegalHoldOut]:
    """Legal holds, newest first."""
    found, next_cursor = await service.list_holds(
        session, principal, paging.params, record_type=record_type, record_id=record_id, active=active
    )
    return paging.page([service.hold_out(h) for h in found], next_cursor)


@router.get("/v1/legal-holds/{hold_id}", summary="Get a legal hold")
async def get_legal_hold(hold_id: uuid.UUID, principal: RetentionManage, session: DbSession) -> LegalHoldOut:
    """One hold: the record, why, who placed it and when, and its release."""
    return service.hold_out(await service.get_hold(session, principal, hold_id))


@router.post(
    "/v1/legal-holds/{hold_id}/release",
    summary="Release a legal hold",
    description=(
        "The hold stops keeping the record (it stays listed, released, with who, when and why). The record "
        "returns to the review list if its period has ended and no other hold stands. Released before → "
        "409 `legal_hold_released`."
    ),
    responses=problem_responses(409, codes={409: ["legal_hold_released"]}),
)
async def release_legal_hold(
    hold_id: uuid.UUID, principal: RetentionManage, session: DbSession, body: LegalHoldReleaseIn
) -> LegalHoldOut:
    return service.hold_out(await service.release_hold(session, principal, hold_id, body.reason))
