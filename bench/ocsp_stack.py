"""3b. OCSP as production runs it (issue 14, point 5): nginx (deploy/nginx/ekort.conf) in front
of two responders that read a streaming replica of the database, beside one responder asked
directly and `openssl ocsp`, in the same run on the same cores, and the time from a block
committed on the primary to the first "revoked" read through nginx from the replica.

The stack is tests/deploy/ocsp_stack.py: a private PostgreSQL primary (initdb on a free port;
the machine's server need not allow replication), a replica made by `pg_basebackup -R`, two
`ekort ocsp serve` with EKORT_OCSP_DATABASE_URL pointing at the replica, and nginx. The cards
are bench/ocsp.py's (through the services, a third each good, revoked and on hold).

Cores: every server process (nginx and both responders; the one responder asked directly;
OpenSSL) runs on the last core, wrk on the first, so each rate is what one core serves. The
figures per CPU second (the servers' CPU time over the answers) are what sizing rests on
(docs/operations.md, "Sizing OCSP"). The three are timed in turns, run after run.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from .core import Benchmark, Context, Result, Target, median_of
from .ocsp import (
    CONNECTIONS,
    OPENSSL_URL,
    P99_TARGET,
    RATIO_TARGET,
    REVOKED_TARGET,
    Data,
    Sample,
    cores,
    cpu_seconds,
    fetch,
    mismatches,
    openssl_run,
    processes,
    start_namespace,
    start_openssl,
)
from .ocsp_tools import parse_wrk, post


def _data(world: dict[str, Any]) -> Data:
    samples = [
        Sample(0, s["card_id"], s["serial"], tuple(s["expected"]), Path(s["request"]))
        for s in world["samples"]
    ]
    return Data(samples, None, Path(world["dir"]))


def _group(pid: int) -> list[int]:
    """`pid` and every process of its session (nginx's master and its worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == pid:  # the session id
                found.append(int(entry.name))
    return found or [pid]


def _pin(pids: list[int], core: int) -> None:
    for pid in pids:
        os.sched_setaffinity(pid, {core})


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            total += cpu_seconds(pid)
    return total


def _timed(script: Path, url: str, core: int, seconds: float, pids: list[int]) -> dict[str, float]:
    """One wrk run at `url`; the rate, latencies and the servers' CPU seconds per answer."""
    import subprocess

    command = ["taskset", "-c", str(core), "wrk", "-t1", f"-c{CONNECTIONS}"]
    command += [f"-d{seconds:g}s", "--timeout", "2s", "-s", str(script), url]
    used = _cpu(pids)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    used = _cpu(pids) - used
    if done.returncode:
        raise RuntimeError(f"wrk failed: {(done.stderr or done.stdout).strip()[-500:]}")
    run = parse_wrk(done.stdout)
    return {
        "rate": run.rate,
        "p50": run.p50_ms,
        "p99": run.p99_ms,
        "errors": float(run.errors),
        "per_cpu_second": run.requests / used if used > 0 else float("nan"),
        "share": used / run.seconds if run.seconds else 0.0,
    }


def _revoked_after(stack: Any, sample: dict[str, Any], limit: float = 10.0) -> float:
    body = Path(sample["request"]).read_bytes()
    from bench.ocsp import answer_of

    url = stack.ocsp
    if answer_of(post(url, body), sample["serial"])[0] != "good":
        raise RuntimeError(f"{sample['serial']:x} is not good before its block")
    committed = stack.block(sample["card_id"])
    while True:
        status = answer_of(post(url, body), sample["serial"])[0]
        now = time.time()
        if status == "revoked":
            return now - committed
        if now - committed > limit:
            return limit
        time.sleep(0.002)


def _results(
    name: str, runs: list[dict[str, float]], notes: str, p99: Target | None
) -> list[Result]:
    rates = [r["rate"] for r in runs]
    per_cpu = median_of([r["per_cpu_second"] for r in runs])
    share = median_of([r["share"] for r in runs])
    errors = sum(r["errors"] for r in runs)
    said = [notes, f"servers had {share:.0%} of the core; {per_cpu:,.0f} answers per CPU second"]
    if errors:
        said.append(f"{errors:.0f} errors")
    return [
        Result(
            "ocsp_stack",
            f"{name} responses per second, one core",
            median_of(rates),
            "req/s",
            runs=len(runs),
            samples=[round(r, 1) for r in rates],
            notes="; ".join(said),
        ),
        Result(
            "ocsp_stack",
            f"{name} answers per CPU second",
            per_cpu,
            "req/s",
            runs=len(runs),
            samples=[round(r["per_cpu_second"], 1) for r in runs],
        ),
        Result(
            "ocsp_stack",
            f"{name} p99 latency",
            median_of([r["p99"] for r in runs]),
            "ms",
            runs=len(runs),
            samples=[r["p99"] for r in runs],
            target=p99,
        ),
    ]


def run(ctx: Context) -> list[Result]:
    from tests.deploy.ocsp_stack import ocsp_stack

    # Small beside bench/ocsp.py: the whole `make bench` stays within its quarter of an hour.
    count = 30 if ctx.quick else 60
    seconds, runs, warm = (3.0, 1, 1.0) if ctx.quick else (5.0, 2, 1.0)
    blocks = 3 if ctx.quick else 5
    server_core, wrk_core = cores()
    load_average = os.getloadavg()[0]
    nginx_runs: list[dict[str, float]] = []
    direct_runs: list[dict[str, float]] = []
    openssl_runs: list[dict[str, float]] = []
    with ocsp_stack(count=count, work=ctx.workdir / "stack") as stack:
        data = _data(stack.world)
        responders = [r.process.pid for r in stack.responders]
        front = _group(stack.front.process.pid)
        _pin([*responders, *front], server_core)
        direct_url = stack.responders[0].url + "/ocsp"
        with processes(ctx.workdir / "logs") as procs:
            enter = start_namespace(procs)
            openssl = start_openssl(procs, data, server_core, enter)
            asked = (
                ("nginx", stack.ocsp, ()),
                ("direct", direct_url, ()),
                ("openssl", OPENSSL_URL, enter),
            )
            for name, url, ns in asked:
                wrong = mismatches(data, fetch(data, url, name, ns))
                if wrong:
                    raise RuntimeError(f"{name} answered {len(wrong)} wrongly: {wrong[:3]}")
            procs.stop(openssl)
            script = data.dir / "ekort.lua"
            _timed(script, stack.ocsp, wrk_core, warm, [*responders, *front])
            _timed(script, direct_url, wrk_core, warm, responders[:1])
            for _ in range(runs):  # in turns: a noisy neighbour hurts each alike
                nginx_runs.append(
                    _timed(script, stack.ocsp, wrk_core, seconds, [*responders, *front])
                )
                direct_runs.append(_timed(script, direct_url, wrk_core, seconds, responders[:1]))
                timed = openssl_run(procs, data, (server_core, wrk_core), enter, seconds)
                openssl_runs.append(
                    {
                        "rate": timed.wrk.rate,
                        "p50": timed.wrk.p50_ms,
                        "p99": timed.wrk.p99_ms,
                        "errors": float(timed.wrk.errors),
                        "per_cpu_second": timed.wrk.rate / timed.core_share
                        if timed.core_share
                        else float("nan"),
                        "share": timed.core_share,
                    }
                )
        good = [s for s in stack.world["samples"] if s["expected"][0] == "good"]
        delays = [_revoked_after(stack, s) for s in good[:blocks]]

    openssl_rate = median_of([r["rate"] for r in openssl_runs])
    setup = (
        f"{len(data.samples)} serials round-robin, wrk -t1 -c{CONNECTIONS} on core {wrk_core}, "
        f"servers on core {server_core}, {seconds:g} s per run, load average "
        f"{load_average:.1f} before"
    )
    through = _results(
        "nginx + 2 responders (replica)",
        nginx_runs,
        "POST /ocsp through nginx (deploy/nginx/ekort.conf) to two responders; " + setup,
        P99_TARGET,
    )
    through[0].ratio = median_of([r["rate"] for r in nginx_runs]) / openssl_rate
    through[0].ratio_to = "openssl ocsp, same core, same run"
    direct = _results("one responder direct", direct_runs, setup, P99_TARGET)
    direct[0].ratio = median_of([r["rate"] for r in direct_runs]) / openssl_rate
    direct[0].ratio_to = "openssl ocsp, same core, same run"
    return [
        *through,
        *direct,
        Result(
            "ocsp_stack",
            "one responder direct / OpenSSL responses per second",
            direct[0].ratio,
            "×",
            runs=runs,
            target=RATIO_TARGET,
        ),
        *_results(
            "openssl",
            openssl_runs,
            "`openssl ocsp -index -nmin 60` in `unshare -n`, a fresh process per run",
            None,
        ),
        Result(
            "ocsp_stack",
            "block on the primary to revoked through nginx and the replica",
            median_of(delays),
            "s",
            runs=len(delays),
            samples=[round(d, 4) for d in delays],
            target=REVOKED_TARGET,
            notes="streaming replication, then the responders' poll every 0.2 s; "
            "the client asks nginx every 2 ms",
        ),
    ]


BENCHMARK = Benchmark(
    "ocsp_stack", (), run, needs=("wrk", "openssl", "unshare", "taskset", "nginx", "runuser")
)
