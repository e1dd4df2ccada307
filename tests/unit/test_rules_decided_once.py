"""Every rule is decided once, in the domain.

A refusal (`Refused`, `Decision.refuse`) is built only in `ekort.domain`, only inside a
function marked `@decides(...)` for the rule it names, and each rule ID is marked on exactly
one function. Services call that function and `.require()` its answer; pages and the API ask
the same function. docs/rules.md lists the functions (`ekort docs`).
"""

from __future__ import annotations

import ast
from pathlib import Path

from ekort.domain.deciders import deciders
from ekort.domain.policy_calendar import default_calendar
from ekort.domain.rulebook import RULES

SRC = Path(__file__).resolve().parents[2] / "src" / "ekort"
DOMAIN = SRC / "domain"


def _is_refusal(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name) and func.id == "Refused":
        return True
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "refuse"
        and isinstance(func.value, ast.Name)
        and func.value.id == "Decision"
    )


def _refusals(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _is_refusal(node)]


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(SRC.parent)}:{getattr(node, 'lineno', 0)}"


def test_no_refusal_is_built_outside_the_domain():
    found = [
        _where(path, call)
        for path in sorted(SRC.rglob("*.py"))
        if DOMAIN not in path.parents and "migrations" not in path.parts
        for call in _refusals(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == [], f"refusals built outside ekort.domain (ask a domain decision): {found}"


def _marked_rules(function: ast.FunctionDef) -> set[str] | None:
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Name)
            and decorator.func.id == "decides"
        ):
            return {arg.value for arg in decorator.args if isinstance(arg, ast.Constant)}
    return None


def test_each_refusal_in_the_domain_is_in_a_function_marked_for_its_rule():
    problems = []
    # errors.py defines Decision and Refused: turning a decision into a refusal is not deciding.
    for path in sorted(p for p in DOMAIN.rglob("*.py") if p.name != "errors.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            marked = _marked_rules(function)
            for call in _refusals(function):
                rule = call.args[0] if call.args else None
                if marked is None:
                    problems.append(f"{_where(path, call)} in unmarked {function.name}()")
                elif isinstance(rule, ast.Constant) and rule.value not in marked:
                    problems.append(f"{_where(path, call)} refuses {rule.value}, not marked")
    assert problems == [], problems


def test_each_rule_is_decided_by_exactly_one_function():
    twice = {rule: names for rule, names in deciders().items() if len(names) != 1}
    assert twice == {}
    assert set(deciders()) <= set(RULES)


def test_every_rule_the_calendar_refuses_is_marked_on_its_decide():
    calendar = default_calendar()
    refused = {
        decision.rule
        for period in calendar.periods
        for decision in period.decisions.values()
        if not decision.allowed
    }
    marked = {rule for rule, [name] in deciders().items() if name.endswith("PolicyCalendar.decide")}
    assert refused and refused <= marked
