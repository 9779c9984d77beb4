"""Stateful fuzzing: chains of calls that follow the OpenAPI links (app/core/openapi.py).

A scenario creates a record and goes on with the operations its 201 links to (GET, PATCH with the
ETag, sub-resources, the parent record), each call checked like a single operation is.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app.core.idempotency import HEADER as IDEMPOTENCY_KEY
from tests.fuzz.conftest import FuzzApi
from tests.fuzz.test_operations import schema

pytestmark = pytest.mark.fuzz


class Workflows(schema.as_state_machine()):  # type: ignore[misc]
    api: ClassVar[FuzzApi]

    def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
        kwargs = self.api.call_kwargs(case.operation.method, case.operation.path)
        if case.headers and IDEMPOTENCY_KEY in case.headers:
            # A key drawn again in a later scenario would be a replay there (or a 422), so the same
            # choices would meet another answer: Hypothesis needs each scenario to see a fresh API.
            kwargs["headers"] = {**kwargs["headers"], IDEMPOTENCY_KEY: uuid.uuid4().hex}
        return kwargs


def test_workflows(fuzz_api: FuzzApi) -> None:
    Workflows.api = fuzz_api
    Workflows.run(
        settings=settings(
            max_examples=60,
            stateful_step_count=8,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
