"""`ekort docs`: regenerate the parts of docs/ that are generated from code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from ekort.domain.lifecycle import render_markdown


class Command(BaseCommand):
    help = "Write docs/lifecycle.md from the lifecycle table (use --check to compare only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(settings.PROJECT_DIR) / "docs" / "lifecycle.md"
        text = render_markdown()
        if options["check"]:
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            if current != text:
                raise SystemExit("docs/lifecycle.md is out of date: run `ekort docs`.")
            self.stdout.write("docs/lifecycle.md is current.")
            return
        target.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {target}.")
