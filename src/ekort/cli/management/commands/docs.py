"""`ekort docs`: regenerate the parts of docs/ that are generated from code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.domain.lifecycle import render_markdown
from ekort.domain.policy_calendar import default_calendar
from ekort.domain.rulebook import RULES
from ekort.domain.rules_report import render_rules_markdown


def generated_documents() -> dict[str, str]:
    """File name under docs/ -> its content, generated from the code and the shipped calendar."""
    return {
        "lifecycle.md": render_markdown(),
        "rules.md": render_rules_markdown(default_calendar(), RULES.values()),
    }


class Command(BaseCommand):
    help = "Write docs/lifecycle.md and docs/rules.md from the code (--check compares only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        docs = Path(settings.PROJECT_DIR) / "docs"
        stale = []
        for name, text in generated_documents().items():
            target = docs / name
            if options["check"]:
                current = target.read_text(encoding="utf-8") if target.exists() else ""
                if current != text:
                    stale.append(name)
                continue
            target.write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {target}.")
        if stale:
            raise CommandError(f"Out of date: {', '.join(stale)}. Run `ekort docs`.")
        if options["check"]:
            self.stdout.write("Generated docs are current.")
