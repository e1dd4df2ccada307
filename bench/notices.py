"""The daily e-mail notice selection (`services.notices.record_due`, the first half of what
`ekort jobs run` does for notices) over 1,000,000 cards on PostgreSQL (20,000 with --quick),
with its records; the SMTP delivery aside. Target: under 10 seconds. Reported as a ratio to a
plain COPY of the same rows out of the database, in the same run. The work is in
`bench.noticing`, imported only in the child process, where Django is set up.
"""

from __future__ import annotations

from .core import POSTGRES, Benchmark, Context, Result


def run(ctx: Context) -> list[Result]:
    from .noticing import run as run_notices

    return run_notices(ctx)


BENCHMARK = Benchmark("notices", (POSTGRES,), run)
