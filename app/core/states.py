"""State machines: a record's status changes only by an action that its table allows.

Each kind of record with a lifecycle has one status module beside its package
(``app/children/referrals/status.py``, ``app/adults/concerns/status.py``, ...). It holds the record's one
table, (from-status, action) -> to-status, and is the only code that assigns the record's ``status``:
services ask it to ``move`` the record (or ``check`` an action first, to refuse it before other work),
never assign ``status`` themselves. ``tests/test_source_rules.py`` fails on any other assignment.

An action the table does not list for the record's status is refused with a 409 ``invalid_transition``
whose detail says why. An action that keeps the status (editing an open record) is listed as a move to
the same status, so the table also says what may happen to a record in each status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from app.core.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


class Record(Protocol):
    @property
    def status(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Transitions(Generic[S, A]):
    """One record type's table. ``refused`` gives each action's detail when refused (``{status}`` is the
    record's status); ``refused_from`` a more telling detail for an action refused in one status."""

    statuses: type[S]
    table: Mapping[tuple[S, A], S]
    refused: Mapping[A, str]
    refused_from: Mapping[tuple[S, A], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unexplained = {action for _, action in self.table} - set(self.refused)
        if unexplained:
            raise ValueError(f"actions without a refusal detail: {sorted(unexplained)}")

    def target(self, status: str, action: A) -> S:
        """The status ``action`` leads to from ``status``; refused (409) when the table does not list it."""
        current = self.statuses(status)
        to = self.table.get((current, action))
        if to is None:
            detail = self.refused_from.get((current, action), self.refused[action])
            raise InvalidTransition(detail.format(status=current))
        return to

    def check(self, record: Record, action: A) -> S:
        """The status ``action`` would give ``record``, without moving it: to refuse before other work."""
        return self.target(record.status, action)


def stays(statuses: Iterable[S], *actions: A) -> dict[tuple[S, A], S]:
    """The table's entries for ``actions`` that keep the status, allowed in each of ``statuses``: each a
    move to the same status."""
    return {(status, action): status for status in statuses for action in actions}
