"""ekort's benchmark suite: `make bench` (or `python -m bench [--quick]`).

Each benchmark module measures one thing next to its limit or peer in the same run, and
reports figures and ratios (see `bench.core`). The runner starts one subprocess per module
and database, so that each has its own Django settings, database and data directory.
"""
