"""The people register's CSV import (`ekort people import`) of 100,000 persons on PostgreSQL
(10,000 with --quick) with 1,000 of them changed (names, e-mail, addresses, units, managers,
and a tenth of them leaving, each with a live card to block), into a register that holds them
already; then the same file again, which changes nothing. Each is put beside a plain PostgreSQL
COPY of the same rows into a table shaped like the register's, measured in the same run.
Target: the import with 1,000 changes under 30 s. The work is in `bench.people_importing`,
imported only in the child process, where Django is set up.
"""

from __future__ import annotations

from .core import POSTGRES, Benchmark, Context, Result


def run(ctx: Context) -> list[Result]:
    from .people_importing import run as run_import

    return run_import(ctx)


BENCHMARK = Benchmark("people_import", (POSTGRES,), run)
