"""The one rule for a program a test needs (tests/tools.py): without it a test is skipped on a
workstation and fails in CI (CI=true), whichever program it is and however the test asks."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests import tools
from tests.tools import Tool

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = Tool(
    "Nothing",
    install="apt-get install nothing",
    commands=("sh", "ekort-test-no-such-program"),
)


@pytest.fixture
def workstation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")


def test_a_missing_program_skips_the_test_on_a_workstation(workstation) -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        tools.require(NOWHERE)
    assert str(skipped.value) == (
        "Nothing is not installed (ekort-test-no-such-program is missing; apt-get install nothing)."
    )


def test_a_missing_program_fails_the_test_in_ci(ci) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        tools.require(NOWHERE)
    assert str(failed.value).startswith("Nothing is not installed (ekort-test-no-such-program")
    assert "CI installs every program the tests need (.ci/run)" in str(failed.value)


@pytest.mark.parametrize(
    "missing",
    [
        Tool("A file", install="-", files=(Path("/nonexistent/ekort-test/libnothing.so"),)),
        Tool("A module", install="-", modules=("ekort_test_no_such_module",)),
    ],
)
def test_files_and_python_modules_count_as_programs_too(ci, missing: Tool) -> None:
    with pytest.raises(pytest.fail.Exception):
        tools.require(missing)


def test_a_program_that_is_there_is_found(ci) -> None:
    here = Tool(
        "Python",
        install="-",
        commands=("sh",),
        files=(Path(sys.executable),),
        modules=("pytest",),
    )
    assert here.missing() is None
    tools.require(here)  # neither skips nor fails


def test_a_mark_on_a_test_asks_for_its_programs_before_it_runs(request, ci) -> None:
    """`tools.needs` marks a module, class or test; tests/conftest.py checks every mark of
    a test before its fixtures are set up (`tools.require_marked`)."""
    tools.require_marked(request.node)  # this test has no mark: nothing to ask
    request.node.add_marker(tools.needs(NOWHERE))
    with pytest.raises(pytest.fail.Exception, match="Nothing is not installed"):
        tools.require_marked(request.node)


def test_a_program_that_cannot_work_here_is_the_same_rule(workstation, monkeypatch) -> None:
    with pytest.raises(pytest.skip.Exception, match="strace cannot trace here"):
        tools.unavailable("strace cannot trace here.")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="strace cannot trace here"):
        tools.unavailable("strace cannot trace here.")


# Ways a test could find a program, or give up without one, on its own.
OWN_WAYS = {
    ("shutil", "which"): "shutil.which",
    ("pytest", "skip"): "pytest.skip",
    ("pytest", "importorskip"): "pytest.importorskip",
}


def _own_ways(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in OWN_WAYS
        ):
            found.append(f"{OWN_WAYS[node.value.id, node.attr]} (line {node.lineno})")
        if isinstance(node, ast.Constant) and node.value == "CI":
            found.append(f'"CI" (line {node.lineno})')
    return found


def test_no_test_looks_for_a_program_on_its_own() -> None:
    """Every test that needs a program asks tests/tools.py, so none of them can skip in CI."""
    offenders = {
        str(path.relative_to(ROOT)): ways
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path != ROOT / "tests" / "tools.py" and path != Path(__file__).resolve()
        if (ways := _own_ways(path))
    }
    assert offenders == {}
