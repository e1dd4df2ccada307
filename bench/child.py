"""One benchmark module on one database, in a process of its own (started by bench.__main__).

    python -m bench.child NAME DATABASE WORKDIR [--quick]

Sets up Django for the database the environment names, migrates, runs the module and prints
its results as one JSON line after a marker, which the runner reads.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> None:
    name, database, workdir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    quick = "--quick" in sys.argv[4:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ekort.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.__main__ import MARKER, load
    from bench.core import Context

    benchmark = load(name)
    if benchmark.databases:
        call_command("migrate", verbosity=0)
    context = Context(quick=quick, database="" if database == "-" else database, workdir=workdir)
    results = benchmark.run(context)
    for result in results:
        result.database = result.database or context.database
    print(MARKER + json.dumps([r.as_json() for r in results], default=str), flush=True)


if __name__ == "__main__":
    main()
