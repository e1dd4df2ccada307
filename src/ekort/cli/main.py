"""Entry point of the `ekort` console command: `ekort rules`, `ekort jobs run`, `ekort demo`..."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ekort.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        simulated = settings.EKORT_SIMULATED_NOW  # loads the settings, which check themselves
    except ImproperlyConfigured as problem:
        sys.stderr.write(f"ekort: configuration refused: {problem}\n")
        raise SystemExit(2) from None
    args = list(sys.argv if argv is None else argv)
    args[0] = "ekort"
    if simulated and len(args) > 1:
        # Said on stderr so that --json output stays clean.
        sys.stderr.write(
            f"ekort: SIMULATED TIME: running at {simulated} (EKORT_SIMULATED_NOW), "
            "not the real clock.\n"
        )
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
