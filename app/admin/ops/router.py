"""Liveness, readiness, metrics, and the pages that explain each problem code."""

from __future__ import annotations

import asyncio
import dataclasses
from enum import StrEnum
from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from app.core.auth import PUBLIC
from app.core.db import ping
from app.core.errors import AppError, DatabaseUnavailable, problem_response
from app.core.openapi import problem_responses
from app.core.pagination import Page, Paging, page_in_memory
from app.core.problems import PROBLEM_TYPES, ProblemCode, ProblemType, problem_page
from app.core.routing import Router
from app.core.schemas import example

# Probed by load balancers and Prometheus, read by anyone following a problem's `type`: no token.
router = Router(tags=["Operations"], dependencies=[PUBLIC])


class HealthStatus(StrEnum):
    OK = "ok"  # the process is up (/healthz)
    READY = "ready"  # ... and can reach the database (/readyz)


class Health(BaseModel):
    model_config = example({"status": "ok"})

    status: HealthStatus


class ProblemTypeOut(BaseModel):
    model_config = example(
        {
            "code": "precondition_failed",
            "type": "https://mash.example.gov.uk/problems/precondition_failed",
            "status": 412,
            "title": "Precondition failed",
            "description": "The If-Match header does not match the current ETag.",
        }
    )

    code: ProblemCode
    type: str = Field(
        max_length=2048,
        description="The code's page: the `type` of every problem with this code.",
        json_schema_extra={"format": "uri-reference"},
    )
    status: int = Field(ge=400, le=599)
    title: str = Field(max_length=200)
    description: str = Field(max_length=2_000)

    @classmethod
    def of(cls, problem_type: ProblemType) -> ProblemTypeOut:
        return cls(type=problem_page(problem_type.code), **dataclasses.asdict(problem_type))


@router.get(
    "/healthz",
    summary="Liveness: the process is up",
)
async def check_liveness() -> Health:
    """200 while the process is up; it does not touch the database (see `/readyz`)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    response_model=Health,
    responses=problem_responses(503),
)
async def check_readiness(request: Request) -> Response:
    """200 when the database answers a query within two seconds, else 503: take this instance out of the load balancer."""
    try:
        async with asyncio.timeout(request.app.state.settings.readiness_timeout_seconds):
            async with request.app.state.engine.connect() as connection:
                await ping(connection)
    except Exception:  # any failure to answer SELECT 1 in time means "not ready"
        error = DatabaseUnavailable()
        return problem_response(
            error.code,
            "The database did not answer; this instance should not receive traffic.",
            headers=error.headers,
        )
    return JSONResponse({"status": "ready"})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def get_metrics(request: Request) -> Response:
    """Request counts and latencies in the Prometheus text exposition format, summed over every worker process of this instance."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/problems",
    summary="Every problem code",
    description="Every problem `code` the API answers, with its status, title, explanation and page (the "
    "`type` of its problems), in the registry's order.",
)
async def list_problems(paging: Paging) -> Page[ProblemTypeOut]:
    found, next_cursor = page_in_memory(list(PROBLEM_TYPES.values()), _code, paging.params)
    return paging.page([ProblemTypeOut.of(p) for p in found], next_cursor)


def _code(problem_type: ProblemType) -> str:
    return problem_type.code


@router.get(
    "/problems/{code}",
    summary="What a problem code means",
    responses=problem_responses(404),
)
async def get_problem(code: Annotated[str, Path(max_length=64)]) -> ProblemTypeOut:
    """The title, HTTP status and explanation of a problem `code`: the page each problem's `type` URI points to."""
    problem_type = PROBLEM_TYPES.get(code)
    if problem_type is None:
        raise AppError("There is no problem code of that name.", code="not_found")
    return ProblemTypeOut.of(problem_type)
