"""Entry point of the `ekort` console command: `ekort rules`, `ekort jobs run`, `ekort demo`..."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ekort.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "ekort"
    if os.environ.get("EKORT_SIMULATED_NOW", "").strip() and len(args) > 1:
        # Said on stderr so that --json output stays clean.
        sys.stderr.write(
            f"ekort: SIMULATED TIME: running at {os.environ['EKORT_SIMULATED_NOW']} "
            "(EKORT_SIMULATED_NOW), not the real clock.\n"
        )
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
