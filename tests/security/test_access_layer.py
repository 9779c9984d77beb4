"""Access is decided once: only the access modules (``app/**/access.py``) and the caller itself
(``app/core/auth.py``'s ``Principal``, over ``app/core/scopes.py``) compare a caller's agency with an
agency code. Everywhere else asks them (``access.is_hub(principal)``, ``access.visible(...)``,
``principal.is_council_wide``...), so a rule cannot be stepped around by a comparison written in a
router, a service or a repository."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

APP = ROOT / "app"
ALLOWED = {APP / "core" / "auth.py", APP / "core" / "scopes.py"}
# Names a caller travels under.
CALLERS = {"principal", "actor", "viewer", "caller", "agency"}


def _is_agency_code(node: ast.expr) -> bool:
    """``AgencyCode.X``, or a literal collection holding one."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id == "AgencyCode"
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_agency_code(element) for element in node.elts)
    return False


def _is_callers_agency(node: ast.expr) -> bool:
    """``principal.agency`` (under any of the callers' names), or a bare ``agency``."""
    if isinstance(node, ast.Attribute) and node.attr == "agency" and isinstance(node.value, ast.Name):
        return node.value.id in CALLERS
    return isinstance(node, ast.Name) and node.id == "agency"


def comparisons(source: str) -> list[int]:
    """Lines comparing a caller's agency with an agency code (directly, or through a module constant
    bound to one, such as ``LEAD = AgencyCode.ADULT_SOCIAL_CARE``)."""
    tree = ast.parse(source)
    constants = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and _is_agency_code(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def is_code(node: ast.expr) -> bool:
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(is_code(element) for element in node.elts)
        return _is_agency_code(node) or (isinstance(node, ast.Name) and node.id in constants)

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_callers_agency(o) for o in operands) and any(is_code(o) for o in operands):
                found.append(node.lineno)
    return found


def test_only_the_access_layer_compares_a_callers_agency_with_an_agency_code() -> None:
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
"""
    assert comparisons(forbidden) == [4, 6, 8]
    allowed = """
def d(principal, contribution, agencies):
    return contribution.agency == principal.agency or AgencyCode.POLICE in agencies
"""
    assert comparisons(allowed) == []
