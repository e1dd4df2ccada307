"""docs/lifecycle.md and docs/rules.md are generated from the code; they must be current."""

from pathlib import Path

import pytest

from ekort.cli.management.commands.docs import generated_documents

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize(("name", "text"), sorted(generated_documents().items()))
def test_generated_document_is_current(name, text):
    assert (DOCS / name).read_text(encoding="utf-8") == text, f"run `ekort docs` ({name})"


def test_rules_document_lists_every_rule_and_the_freeze():
    text = generated_documents()["rules.md"]
    for rule_id in [f"R{n}" for n in range(1, 19)] + ["E1", "E9"]:
        assert f"| {rule_id} |" in text
    assert "### stop (2024-01-23 – 2024-01-24)" in text
