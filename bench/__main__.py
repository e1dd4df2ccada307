"""Run the benchmark suite: `python -m bench [--quick] [--only NAME ...] [--json PATH]`.

One subprocess per (module, database): each gets its own data directory and, on PostgreSQL, a
database of its own that is dropped afterwards. Prints a table and writes it as JSON with the
machine's facts. Modules whose programs are missing (wrk, openssl) are reported as skipped.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .core import POSTGRES, SQLITE, Benchmark, dump, machine

# In the order of the issue: the signing limit first, since issuance is reported against it.
MODULES = (
    "signing",
    "issuance",
    "ocsp",
    "ocsp_stack",
    "crl",
    "sweep",
    "search",
    "notices",
    "people_import",
)
MARKER = "BENCH-RESULTS "
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    """Where the runner creates and drops the benchmarks' databases."""
    return os.environ.get("EKORT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)


def postgres_version() -> str:
    """The server's version, or "" when no PostgreSQL answers."""
    try:
        import psycopg

        with psycopg.connect(postgres_admin_url(), connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else ""
    except Exception:  # any failure means "not reachable", which the table then says
        return ""


def database_url(name: str) -> str:
    """The URL of the benchmark database `name` on the server of `postgres_admin_url`."""
    base = postgres_admin_url().rsplit("/", 1)[0]
    return f"{base}/{name}"


def copy_name(name: str) -> str:
    """The name of a copy a module makes of its database (the sweep's floor runs on one)."""
    return f"{name}_copy"


def _recreate(name: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(postgres_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def load(name: str) -> Benchmark:
    module = importlib.import_module(f"bench.{name}")
    benchmark: Benchmark = module.BENCHMARK
    return benchmark


def run_child(name: str, database: str, quick: bool) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"ekort-bench-{name}-"))
    env = {**os.environ, "EKORT_DATA_DIR": str(workdir), "PYTHONPATH": str(ROOT)}
    env["DJANGO_DEBUG"] = "0"  # as in production: no query log, no debug cursor
    env.pop("EKORT_SIMULATED_NOW", None)
    pg_name = f"ekort_bench_{name}"
    if database == POSTGRES:
        _recreate(pg_name)
        env["DATABASE_URL"] = database_url(pg_name)
    else:
        env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "bench.child", name, database or "-", str(workdir)]
    if quick:
        command.append("--quick")
    try:
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    finally:
        if database == POSTGRES:
            _recreate(pg_name, drop_only=True)
            _recreate(copy_name(pg_name), drop_only=True)  # left by a module that failed
        shutil.rmtree(workdir, ignore_errors=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            results: list[dict[str, Any]] = json.loads(line[len(MARKER) :])
            return results
    tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
    return [
        {
            "benchmark": name,
            "database": database,
            "metric": "FAILED",
            "value": float("nan"),
            "unit": "",
            "notes": " | ".join(tail),
            "met": False,
        }
    ]


def _format_value(row: dict[str, Any]) -> str:
    value = row["value"]
    if value != value:  # NaN
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f"{text} {row['unit']}".strip()


def table(rows: list[dict[str, Any]]) -> str:
    header = ("benchmark", "database", "metric", "value", "runs", "ratio", "target", "met")
    lines = []
    for row in rows:
        ratio = row.get("ratio")
        target = row.get("target")
        met = row.get("met")
        lines.append(
            (
                row["benchmark"],
                row.get("database") or "-",
                row["metric"],
                _format_value(row),
                str(row.get("runs", "")),
                f"{ratio:.3g} × {row.get('ratio_to', '')}" if ratio is not None else "",
                target["text"] if target else "",
                {True: "yes", False: "NO", None: ""}[met],
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    notes = [f"- {r['benchmark']}/{r['metric']}: {r['notes']}" for r in rows if r.get("notes")]
    return "\n".join(out + (["", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data sets, under 2 minutes")
    parser.add_argument("--only", nargs="*", choices=MODULES, help="run only these modules")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "latest.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pg = postgres_version()
    facts = machine(pg)
    print("ekort benchmarks" + (" (quick)" if args.quick else ""), flush=True)
    for key, value in facts.items():
        print(f"  {key}: {value}")
    rows: list[dict[str, Any]] = []
    for name in args.only or MODULES:
        benchmark = load(name)
        missing = [p for p in benchmark.needs if shutil.which(p) is None]
        databases = [d for d in benchmark.databases if d == SQLITE or pg] or [""]
        if missing:
            rows.append(
                {
                    "benchmark": name,
                    "database": "",
                    "metric": "skipped",
                    "value": float("nan"),
                    "unit": "",
                    "notes": f"needs {', '.join(missing)} (apt-get install {' '.join(missing)})",
                    "met": None,
                }
            )
            continue
        for database in databases:
            print(f"\n== {name} {database}".rstrip(), flush=True)
            begun = time.perf_counter()
            found = run_child(name, database, args.quick)
            rows += found
            print(f"   {len(found)} figures in {time.perf_counter() - begun:.1f} s", flush=True)
    elapsed = time.perf_counter() - started
    print("\n" + table(rows))
    print(f"\nTotal time {elapsed:.0f} s. JSON: {args.json}")
    dump(
        args.json,
        {"machine": facts, "quick": args.quick, "seconds": round(elapsed, 1), "results": rows},
    )
    return 1 if any(r["metric"] == "FAILED" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
