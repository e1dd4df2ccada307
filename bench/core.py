"""What a benchmark reports, and the machine it ran on.

A benchmark module exposes `BENCHMARK = Benchmark(name, databases, run)`; `run(ctx)` returns
`Result`s. Figures are what was measured, never estimates; a target is shown as met or not.
Absolute figures drift on a shared, noisy machine, so every module also reports a ratio to a
limit or peer measured side by side in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SQLITE, POSTGRES = "sqlite", "postgresql"


@dataclass(frozen=True)
class Target:
    """A goal from the issue: `value` compared with `op` ("<=" or ">=")."""

    op: str
    value: float
    text: str  # "at least 2,000 cards/s"

    def met_by(self, figure: float) -> bool:
        return figure >= self.value if self.op == ">=" else figure <= self.value


@dataclass
class Result:
    benchmark: str  # "issuance"
    metric: str  # "cards per second"
    value: float
    unit: str  # "cards/s", "ms", "s", "MB", "req/s"
    database: str = ""  # SQLITE, POSTGRES or "" when no database is involved
    runs: int = 1  # how many runs the value is the median of
    samples: list[float] = field(default_factory=list)
    ratio: float | None = None  # to `ratio_to`
    ratio_to: str = ""  # "raw ECDSA P-256 signatures/s on one core"
    target: Target | None = None
    notes: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met_by(self.value)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["met"] = self.met
        return data


@dataclass(frozen=True)
class Context:
    quick: bool
    database: str  # SQLITE or POSTGRES: the one Django is configured for in this process
    workdir: Path  # a private scratch directory for this module and database


@dataclass(frozen=True)
class Benchmark:
    name: str
    databases: Sequence[str]  # () for a benchmark that touches no database
    run: Callable[[Context], list[Result]]
    needs: Sequence[str] = ()  # programs that must be on PATH, e.g. ("wrk", "openssl")


def pin_to_one_core(core: int | None = None) -> int:
    """Keep this process on one core (the last one unless told), so that "per core" figures
    mean that; returns the core."""
    chosen = (os.cpu_count() or 1) - 1 if core is None else core
    os.sched_setaffinity(0, {chosen})
    return chosen


def usable_cores() -> int:
    """The cores this process may run on: how many worker processes a benchmark starts."""
    return len(os.sched_getaffinity(0))


def median_of(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: ...` then `t[0]` is the elapsed wall time in seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _first_line(command: Sequence[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "not found"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(postgres_version: str = "") -> dict[str, Any]:
    """The facts each figure is stated with."""
    import sqlite3

    import cryptography
    import django

    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "cryptography": cryptography.__version__,
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version or "not reachable",
        "openssl": _first_line(["openssl", "version"]),
        "wrk": _first_line(["wrk", "--version"]),
        "kernel": platform.release(),
    }


def dump(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
