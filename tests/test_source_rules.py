"""Rules about app/'s source that no request can show, read from its syntax tree (``ast``): a ``# noqa``
or a ruff setting hides nothing from them.

- **One writer per state machine.** A record's ``status`` is written only by its status module (the one
  table of moves, ``app.core.states``): no ``x.status = ...``, ``setattr(x, "status", ...)``, UPDATE
  ``.values(status=...)`` or a plain row's ``._replace(status=...)`` (a row its status module writes
  back) anywhere else, and a new record starts in the module's ``INITIAL`` status.
- **London's today.** Dates come from the clock module (``app.core.clock``: ``today()`` in England,
  ``now()`` in UTC): no ``date.today()``, no ``datetime.now()`` without a zone, no ``utcnow()`` and no
  timestamp read in the server's zone anywhere in app/; and only the clock module reads the wall clock.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each record with a lifecycle, and its status module: the only code that writes its `status`.
STATUS_MODULES = {
    "Referral": "app/children/referrals/status.py",
    "Contribution": "app/children/contributions/status.py",
    "ThresholdDecision": "app/children/decisions/status.py",
    "AdultConcern": "app/adults/concerns/status.py",
    "Enquiry": "app/adults/concerns/enquiry_status.py",
    "SafeguardingPlan": "app/adults/plans/status.py",
    "SafeguardingAdultsReview": "app/adults/reviews/status.py",
    "Assessment": "app/children/assessments/status.py",
    "Section47Enquiry": "app/children/protection/status.py",
}
# The other writes of a `status` in app/, each with why it is not a state machine of its own. A write
# not listed here or in a status module fails the test.
OTHER_STATUS_WRITES = {
    ("app/admin/auth/service.py", "self.status"): "an OAuth error's HTTP status code, not a record's",
    ("app/adults/plans/service.py", "action.status"): (
        "a plan action's progress, any of four values its owner chooses while the plan is active"
    ),
    ("app/governance/subject_access/service.py", "sar.status"): (
        "a subject access request is fulfilled by a council-wide export: one step, nothing to refuse"
    ),
}


def app_sources() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((ROOT / "app").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        yield name, ast.parse(path.read_text(encoding="utf-8"), name)


def _targets(node: ast.AST) -> Iterator[ast.expr]:
    if isinstance(node, ast.Assign):
        pending = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        pending = [node.target]
    else:
        return
    while pending:
        target = pending.pop()
        if isinstance(target, ast.Tuple | ast.List):
            pending.extend(target.elts)
        elif isinstance(target, ast.Starred):
            pending.append(target.value)
        else:
            yield target


def _names_status(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def status_writes(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Each write of a ``status`` in ``tree``, as (line, the code that writes)."""
    for node in ast.walk(tree):
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and target.attr == "status":
                yield target.lineno, ast.unparse(target)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) > 1:
            if _names_status(node.args[1]):
                yield node.lineno, f"setattr({ast.unparse(node.args[0])}, 'status', ...)"
        elif isinstance(func, ast.Attribute) and func.attr == "_replace":
            if any(k.arg == "status" for k in node.keywords):
                yield node.lineno, f"{ast.unparse(func)}(status=...)"
        elif isinstance(func, ast.Attribute) and func.attr == "values":
            keys = [k.arg for k in node.keywords] + [
                key.value for arg in node.args if isinstance(arg, ast.Dict) for key in arg.keys
                if isinstance(key, ast.Constant)
            ]  # fmt: skip
            if "status" in keys:
                yield node.lineno, f"{ast.unparse(func)}(status=...)"
        elif isinstance(func, ast.Name) and func.id in STATUS_MODULES:
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "status" and not (
                    isinstance(value, ast.Attribute) and value.attr == "INITIAL"
                ):
                    yield node.lineno, f"{func.id}(status={ast.unparse(value)})"


def test_only_a_records_status_module_writes_its_status() -> None:
    found = {
        (name, line, code)
        for name, tree in app_sources()
        for line, code in status_writes(tree)
        if name not in STATUS_MODULES.values()
    }
    stray = sorted(
        f"{name}:{line}: {code}" for name, line, code in found if (name, code) not in OTHER_STATUS_WRITES
    )
    assert stray == [], "a status is written outside its status module:\n" + "\n".join(stray)
    # The exceptions still exist (a stale one would let a new write of the same name through).
    assert {(name, code) for name, _, code in found} == set(OTHER_STATUS_WRITES)


@pytest.mark.parametrize(("record", "module"), STATUS_MODULES.items())
def test_each_status_module_writes_its_records_status(record: str, module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    moves = [code for _, code in status_writes(tree) if code.endswith((".status", "._replace(status=...)"))]
    assert moves, f"{module} moves no {record}"
    assert "INITIAL" in {t.id for node in tree.body for t in _targets(node) if isinstance(t, ast.Name)}


WRITES = """
referral.status = ReferralStatus.DECIDED  # noqa
concern.status, concern.updated_at = "closed", now
plan.status: str = "closed"
decision.status += ""
setattr(contribution, "status", "cancelled")
await session.execute(sa.update(Referral).values(status="withdrawn"))
await session.execute(sa.update(AdultConcern).values({"status": "closed"}))
session.add(Referral(id=uuid.uuid4(), status=ReferralStatus.DECIDED))
"""
NOT_WRITES = """
if referral.status == ReferralStatus.DECIDED: pass
status = referral.status
session.add(Referral(id=uuid.uuid4(), status=status.INITIAL))
out = ReferralOut(status=referral.status)
stmt = sa.select(Referral).where(Referral.status == "received")
"""


def test_the_rule_sees_every_way_of_writing_a_status() -> None:
    assert sorted(line for line, _ in status_writes(ast.parse(WRITES))) == list(range(2, 10))
    assert list(status_writes(ast.parse(NOT_WRITES))) == []


# ---------------------------------------------------------------------------------------------------
# London's today

CLOCK_MODULE = "app/core/clock.py"
# Naive readings, in the server's zone (or a naive UTC that passes for local): never, not even in the
# clock module. `fromtimestamp` and `now` are naive without a zone argument.
NAIVE = {"today", "utcnow", "utcfromtimestamp"}
NAIVE_WITHOUT_ZONE = {"now": 0, "fromtimestamp": 1}  # the zone's position among the arguments


def _date_classes(tree: ast.AST) -> tuple[set[str], set[str]]:
    """The names that stand for datetime.date/datetime.datetime, and those for the datetime module."""
    classes, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "datetime":
            classes |= {a.asname or a.name for a in node.names if a.name in ("date", "datetime")}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "datetime"}
    return classes, modules


def clock_reads(tree: ast.AST) -> Iterator[tuple[int, str, bool]]:
    """Each reading of the wall clock through ``date``/``datetime``: (line, code, whether naive)."""
    classes, modules = _date_classes(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver, method = node.func.value, node.func.attr
        is_class = (isinstance(receiver, ast.Name) and receiver.id in classes) or (
            isinstance(receiver, ast.Attribute)
            and receiver.attr in ("date", "datetime")
            and isinstance(receiver.value, ast.Name)
            and receiver.value.id in modules
        )
        if not is_class or method not in NAIVE | set(NAIVE_WITHOUT_ZONE):
            continue
        zone: ast.expr | None = None
        if method in NAIVE_WITHOUT_ZONE:
            position = NAIVE_WITHOUT_ZONE[method]
            zone = next((k.value for k in node.keywords if k.arg == "tz"), None)
            if zone is None and len(node.args) > position:
                zone = node.args[position]
        naive = method in NAIVE or zone is None or (isinstance(zone, ast.Constant) and zone.value is None)
        if method != "fromtimestamp" or naive:  # a given timestamp placed in a zone reads no clock
            yield node.lineno, ast.unparse(node), naive


def test_dates_come_from_the_clock_module_in_londons_zone() -> None:
    found = [
        (name, line, code, naive) for name, tree in app_sources() for line, code, naive in clock_reads(tree)
    ]
    naive = [f"{name}:{line}: {code}" for name, line, code, is_naive in found if is_naive]
    assert naive == [], "the server's zone, not London's (use app.core.clock.today or now):\n" + "\n".join(
        naive
    )
    elsewhere = [f"{name}:{line}: {code}" for name, line, code, _ in found if name != CLOCK_MODULE]
    assert elsewhere == [], "the wall clock read outside app/core/clock.py:\n" + "\n".join(elsewhere)


NAIVE_READS = """
import datetime as dt
from datetime import UTC, date, datetime
from datetime import date as Day
due = date.today()  # noqa: DTZ011
stamp = datetime.now()  # noqa: DTZ005
stamp = datetime.now(None)
stamp = datetime.now(tz=None)
stamp = datetime.utcnow()  # noqa: DTZ003
day = Day.today()
day = dt.date.today()
stamp = dt.datetime.today()
stamp = datetime.fromtimestamp(1_700_000_000)
stamp = datetime.utcfromtimestamp(1_700_000_000)
"""
AWARE_READS = """
from datetime import UTC, datetime
stamp = datetime.now(UTC)
stamp = datetime.now(tz=LONDON)
stamp = datetime.fromtimestamp(record.created, UTC)
day = today()
"""


def test_the_rule_sees_every_naive_reading_of_the_clock() -> None:
    reads = list(clock_reads(ast.parse(NAIVE_READS)))
    assert sorted(line for line, _, _ in reads) == list(range(5, 15))
    assert all(naive for _, _, naive in reads)
    assert [naive for _, _, naive in clock_reads(ast.parse(AWARE_READS))] == [False, False]
