"""The deadline sweep: the "not activated within three months" job (R8) over a million cards
on PostgreSQL (100,000 on SQLite; 20,000 with --quick), with block records, audit entries and
certificate revocations. Target: under 20 seconds on PostgreSQL. The work is in
`bench.sweeping`, imported only in the child process, where Django is set up.
"""

from __future__ import annotations

from .core import POSTGRES, SQLITE, Benchmark, Context, Result


def run(ctx: Context) -> list[Result]:
    from .sweeping import run as run_sweep

    return run_sweep(ctx)


BENCHMARK = Benchmark("sweep", (SQLITE, POSTGRES), run)
