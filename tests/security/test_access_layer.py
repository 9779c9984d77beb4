"""Access is decided once: only the access modules (``app/**/access.py``) and the caller itself
(``app/core/auth.py``'s ``Principal``, over ``app/core/scopes.py``) compare a caller's agency with an
agency code. Everywhere else asks them (``access.is_hub(principal)``, ``access.visible(...)``,
``access.shows_updater(...)``, ``principal.is_council_wide``...), so a rule cannot be stepped around by a
comparison written in a router, a service, a view or a repository.

What counts as such a comparison (``==``, ``!=``, ``in``, ``not in``), read from the syntax tree:

- the caller's own agency (``principal.agency``, under any of the names a caller travels under) compared
  with anything, in Python or in a statement's ``WHERE`` (the caller in a query is a readable statement,
  which is the access module's);
- in Python, an agency handed down from a caller (a bare ``agency``, ``by_agency``...) compared with an
  agency code (``AgencyCode.X``, a module constant bound to one) or with a record's agency
  (``referral.referring_agency``, ``action.updated_by_agency``...).

Not counted: a statement's filter by an agency handed in (``.where(PlanAction.agency == agency)``: the
access module chose what the caller may read, the filter only narrows it), and two agencies of the same
request body compared with each other (``body.caused_to_agency == body.lead_agency``: a validation, no
caller in it).
"""

from __future__ import annotations

import ast

from tests.conftest import ROOT

APP = ROOT / "app"
ALLOWED = {APP / "core" / "auth.py", APP / "core" / "scopes.py"}
# Names a caller travels under.
CALLERS = {"principal", "actor", "viewer", "caller"}
OPERATORS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
# Calls whose arguments are a statement's clauses.
SQL_CALLS = {"where", "filter", "filter_by", "having", "join", "outerjoin", "and_", "or_", "not_", "case"}


def _is_agency_code(node: ast.expr) -> bool:
    """``AgencyCode.X``, or a literal collection holding one."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id == "AgencyCode"
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_agency_code(element) for element in node.elts)
    return False


def _unwrap(node: ast.expr) -> ast.expr:
    """``str(x)`` is ``x``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" and node.args:
        return node.args[0]
    return node


def _agency_name(name: str) -> bool:
    return name in {"agency", "agency_code"} or name.endswith("_agency")


def _is_callers_agency(node: ast.expr) -> bool:
    """``principal.agency`` (under any of the callers' names)."""
    node = _unwrap(node)
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "agency"
        and isinstance(node.value, ast.Name)
        and node.value.id in CALLERS
    )


def _is_handed_agency(node: ast.expr) -> bool:
    """An agency handed down from a caller: a bare ``agency``, ``by_agency``, ``agency_code``..."""
    node = _unwrap(node)
    return isinstance(node, ast.Name) and _agency_name(node.id)


def _is_looked_up(node: ast.expr) -> bool:
    """``event.data["agency"]`` or ``event.data.get("agency")``: a record's agency kept in a mapping."""
    key: ast.expr | None = None
    if isinstance(node, ast.Subscript):
        key = node.slice
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        key = node.args[0] if node.args else None
    else:
        return False
    return isinstance(key, ast.Constant) and isinstance(key.value, str) and _agency_name(key.value)


def _is_column(node: ast.expr) -> bool:
    """A model's column (``Referral.referring_agency``), or an expression a function builds for a query."""
    node = _unwrap(node)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id[:1].isupper() and node.value.id != "AgencyCode"
    return isinstance(node, ast.Call) and not _is_looked_up(node)


def _is_records_agency(node: ast.expr) -> bool:
    """``referral.referring_agency``, ``document.agency``, ``event.data["agency"]``..."""
    node = _unwrap(node)
    if isinstance(node, ast.Attribute):
        return _agency_name(node.attr) and not _is_column(node)
    return _is_looked_up(node)


def comparisons(source: str) -> list[int]:
    """Lines comparing a caller's agency with an agency code (directly, or through a module constant
    bound to one, such as ``LEAD = AgencyCode.ADULT_SOCIAL_CARE``) or with a record's agency."""
    tree = ast.parse(source)
    constants = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and _is_agency_code(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    in_sql: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in SQL_CALLS:
                for argument in [*node.args, *(k.value for k in node.keywords)]:
                    in_sql.update(id(inner) for inner in ast.walk(argument))

    def is_code(node: ast.expr) -> bool:
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(is_code(element) for element in node.elts)
        return _is_agency_code(node) or (isinstance(node, ast.Name) and node.id in constants)

    def is_agency(node: ast.expr) -> bool:
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(is_agency(element) for element in node.elts)
        return (
            is_code(node) or _is_records_agency(node) or _is_callers_agency(node) or _is_handed_agency(node)
        )

    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or not all(isinstance(op, OPERATORS) for op in node.ops):
            continue
        operands = [node.left, *node.comparators]
        sql = id(node) in in_sql or any(_is_column(o) for o in operands)
        for i, operand in enumerate(operands):
            others = operands[:i] + operands[i + 1 :]
            if (
                _is_callers_agency(operand)
                or (not sql and _is_handed_agency(operand) and any(is_agency(o) for o in others))
                or (_is_handed_agency(operand) and any(is_code(o) for o in others))
            ):
                found.append(node.lineno)
                break
    return sorted(found)


def test_only_the_access_layer_compares_a_callers_agency() -> None:
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        if path.name == "access.py" or path in ALLOWED:
            continue
        offenders += [f"{path.relative_to(ROOT)}:{line}" for line in comparisons(path.read_text())]
    assert offenders == [], "ask the record's access module or the Principal instead: " + ", ".join(offenders)


def test_the_check_finds_the_comparisons_it_forbids() -> None:
    forbidden = """
LEAD = AgencyCode.ADULT_SOCIAL_CARE
def a(principal):
    return principal.agency == AgencyCode.CHILDRENS_SOCIAL_CARE
def b(actor):
    return actor.agency != LEAD
def c(agency, enquiry):
    return agency in (LEAD, enquiry.lead_agency)
def d(principal, contribution):
    return contribution.agency == principal.agency
def e(action, *, agency, hub):
    return action.updated_by if hub or agency == action.updated_by_agency else None
def f(viewer, document):
    return str(viewer.agency) not in {document.agency, AgencyCode.POLICE}
def g(principal):
    return sa.select(Referral).where(Referral.referring_agency == str(principal.agency))
def h(by_agency, event):
    return event.data["agency"] != by_agency
def i(principal, agencies):
    return principal.agency in agencies
def j(agency):
    return sa.select(Referral).where(Referral.referring_agency == AgencyCode.POLICE, agency == LEAD)
def k(event, agency):
    return bool(event.data.get("agency") == agency)
"""
    assert comparisons(forbidden) == [4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]
    allowed = """
def q(contribution, agencies):
    return contribution.agency is not None and AgencyCode.POLICE in agencies
def l(plan_id, agency):
    return sa.select(PlanAction).where(PlanAction.plan_id == plan_id, PlanAction.agency == agency)
def m(model, by_agency):
    return sa.select(model).where(model.added_by_agency == by_agency)
def n(body):
    return body.caused_to_agency is not None and body.caused_to_agency == body.lead_agency
def o(present):
    return [agency for agency in REQUIRED if agency not in present]
def p(filters):
    return filters.agency is None
"""
    assert comparisons(allowed) == []
