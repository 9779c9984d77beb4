"""Who reads the person register, and which sides of a person's record: decided here, once.

**The register** (people, their identifying details and siblings, matching, subject access requests) is
read by the two lead agencies and the council's corporate side (``Principal.is_council_wide``). To any
other caller a person does not exist: 404 for one, an empty list for many, whatever scopes its token
carries. Partner agencies hold no ``people:read`` (a role outside its agency is refused at the token),
so this is the wall behind that one.

**The two sides** of a person's record, for the subject access export and the disclosure log, which
show nobody more than they could read record by record:

* children's: the referrals naming the person as a child, with their contributions, decisions and
  communications, the siblings those referrals linked, and the disclosures of those records;
* adults': the adult safeguarding concerns about the person, with their enquiries and advocacy, their
  capacity assessments and best interests decisions, their safeguarding plans, and the disclosures of
  those records.

Children's social care reads the children's side, adult social care the adults' side, whatever scopes
its token carries. Both sides are read only by the council's corporate side holding the scope that
grants both for the operation (``subject_access:export`` for the export, ``disclosures:read`` for the
disclosure log): information governance, answering a subject access request to the council as one
controller.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from app.core.auth import Principal
from app.core.scopes import Scope


class RecordSide(StrEnum):
    CHILDREN = "children"
    ADULTS = "adults"


BOTH_SIDES = frozenset(RecordSide)
NO_SIDE: frozenset[RecordSide] = frozenset()


def reads_register(principal: Principal) -> bool:
    """May the caller see people at all? The lead agencies and the council's corporate side."""
    return principal.is_council_wide


def register_clause(principal: Principal) -> sa.ColumnElement[bool]:
    """A filter for any query of the register (people, subject access requests): all or nothing."""
    return sa.true() if reads_register(principal) else sa.false()


def sides(principal: Principal, both_sides_scope: Scope) -> frozenset[RecordSide]:
    """The sides of a person's record the caller reads in an operation whose council-wide form needs
    ``both_sides_scope``: a lead agency its own side, whatever its scopes (it reads no more of the
    other side record by record); the council's corporate side both, holding that scope; else none."""
    if principal.is_childrens_hub:
        return frozenset({RecordSide.CHILDREN})
    if principal.is_adults_hub:
        return frozenset({RecordSide.ADULTS})
    if principal.is_council_wide and principal.has(both_sides_scope):
        return BOTH_SIDES
    return NO_SIDE


def in_order(chosen: frozenset[RecordSide]) -> list[RecordSide]:
    """Sides in their fixed order (children's first), for documents and audit entries."""
    return [side for side in RecordSide if side in chosen]
