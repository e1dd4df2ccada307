"""Portal search: p50/p95/p99 latency of the ID administrator's "Hitta person" (POST
/kortkontor/arbete/) by identity number and by card number, with 1,000,000 persons on
PostgreSQL (100,000 on SQLite; 20,000 with --quick), at a steady 50 requests per second.
Target: p95 under 100 ms.

The portal runs under gunicorn (what docs/operations.md serves it with), two sync workers on
127.0.0.1, DEBUG off. The load is open-loop: send times are fixed in advance and latency is
measured from the scheduled send time, so a slow answer delays nothing and hides nothing
(no coordinated omission). The work is in `bench.searching` (Django is set up only in the
child process).
"""

from __future__ import annotations

from .core import POSTGRES, SQLITE, Benchmark, Context, Result


def run(ctx: Context) -> list[Result]:
    from .searching import run as run_search

    return run_search(ctx)


BENCHMARK = Benchmark("search", (SQLITE, POSTGRES), run)
