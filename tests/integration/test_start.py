"""`ekort start` (what `make run` runs): the portal, the OCSP responder and the CRL scheduler
beside it, stopped together however the command is stopped: Ctrl-C in its terminal (SIGINT),
or SIGTERM from a process manager or `kill`, or the terminal closing (SIGHUP).

Each test runs the real command in a process of its own, on a fresh SQLite data folder and
free ports (`--no-demo`: the demo's build is not what is tested)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.deploy.stack import free_port, wait_for_port


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended


@pytest.fixture
def started(tmp_path) -> Iterator[tuple[subprocess.Popen[bytes], set[int]]]:
    """`ekort start` serving, and the processes it started beside the portal."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EKORT_", "DJANGO_")) and name != "DATABASE_URL"
    }
    environment["EKORT_DATA_DIR"] = str(tmp_path)  # SQLite, whatever database the suite runs on
    portal, responder = free_port(), free_port()
    command = [sys.executable, "-m", "ekort.cli.main", "start", "--no-demo"]
    process = subprocess.Popen(
        [*command, "--port", str(portal), "--ocsp-port", str(responder)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    helpers: set[int] = set()
    try:
        wait_for_port(responder, process=process, seconds=60)
        wait_for_port(portal, process=process, seconds=60)
        helpers = children_of(process.pid)
        assert len(helpers) == 2, helpers  # the responder and the CRL scheduler
        yield process, helpers
    finally:
        for pid in {process.pid, *helpers}:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="runs on SQLite whatever the suite's database"
)
@pytest.mark.parametrize(
    "stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name
)
def test_stopping_ekort_start_stops_what_it_started(started, stop):
    process, helpers = started
    process.send_signal(stop)
    process.wait(timeout=20)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in helpers if alive(pid)], f"left running after {stop.name}"
