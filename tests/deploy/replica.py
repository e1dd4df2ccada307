"""A private PostgreSQL primary and a streaming replica of it, for the OCSP responders to read
(tests/deploy/test_ocsp_replica.py, bench/ocsp_stack.py).

The machine's own server (127.0.0.1:5432) is never touched: its pg_hba.conf need not allow
replication, so the primary is a cluster of its own, made by `initdb` in a temporary directory
on a free port (trust on 127.0.0.1, replication included, as initdb writes it; fsync off, as
nothing here outlives the test), and the replica is `pg_basebackup -R` of it, started on
another free port. Run as root, the server programs run as the `postgres` user (initdb refuses
root). `stop_replica` and `start_replica` take the replica away and bring it back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.deploy.stack import free_port, wait_for_port
from tests.tools import Tool


def _bindir() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


BIN = _bindir()
POSTGRES_SERVER = Tool(
    "PostgreSQL's server programs",
    "apt-get install postgresql",
    files=tuple(BIN / name for name in ("initdb", "pg_ctl", "pg_basebackup", "postgres")),
)
DATABASE = "ekort"


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str], **kw: object) -> None:
    done = subprocess.run(_as_postgres(command), capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed: {done.stderr.strip()[-800:]}")


@dataclass
class Cluster:
    directory: Path
    port: int

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, *, may_move: bool = True) -> None:
        """Start the server on its port. Another process on a busy machine may take a free port
        between `free_port()` and the server's bind: then, if `may_move` (nothing has been told
        the port yet), it starts again on a new one; any other failure is raised with the end of
        the server's log, which says why."""
        for attempt in range(3):
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={self.directory} -c fsync=off "
                "-c full_page_writes=off"
            )
            try:
                _run(
                    [
                        str(BIN / "pg_ctl"),
                        *("-D", str(self.directory), "-o", options),
                        *("-l", str(self.directory / "server.log"), "-w", "-t", "60", "start"),
                    ]
                )
            except RuntimeError as failed:
                log = self.log()
                if may_move and attempt < 2 and "could not bind" in log:
                    self.port = free_port()
                    continue
                raise RuntimeError(
                    f"{failed}\n--- {self.directory / 'server.log'}:\n{log}"
                ) from None
            break
        wait_for_port(self.port)

    def stop(self) -> None:
        if (self.directory / "postmaster.pid").exists():
            _run([str(BIN / "pg_ctl"), "-D", str(self.directory), "-m", "fast", "-w", "stop"])

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


@dataclass
class Replicated:
    primary: Cluster
    replica: Cluster

    def stop_replica(self) -> None:
        self.replica.stop()

    def start_replica(self) -> None:
        # The responders were told this port: it stays.
        self.replica.start(may_move=False)

    def replica_lag(self) -> float | None:
        """What the replica says of its lag (as the responders read it), or None."""
        import psycopg

        with psycopg.connect(self.replica.url("postgres"), connect_timeout=3) as conn:
            row = conn.execute(
                "SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])


def _directory(parent: Path, name: str) -> Path:
    path = parent / name
    path.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


@contextmanager
def replicated() -> Iterator[Replicated]:
    """A primary with the database `ekort` (empty) and a replica streaming from it, each on a
    free port on 127.0.0.1, both stopped and deleted afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="ekort-pg-"))
    parent.chmod(0o755)
    primary = Cluster(_directory(parent, "primary"), free_port())
    replica = Cluster(parent / "replica", free_port())
    try:
        _run(
            [
                str(BIN / "initdb"),
                *("-D", str(primary.directory), "-U", "postgres", "--auth=trust"),
                *("--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"),
            ]
        )
        primary.start()
        import psycopg

        with psycopg.connect(primary.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        _directory(parent, "replica")
        _run(
            [
                str(BIN / "pg_basebackup"),
                *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
                *("-D", str(replica.directory), "-R", "-X", "stream", "--no-sync", "-c", "fast"),
            ]
        )
        replica.start()
        yield Replicated(primary, replica)
    finally:
        for cluster in (replica, primary):
            with suppress(RuntimeError):
                cluster.stop()
        shutil.rmtree(parent, ignore_errors=True)


def wait_until(predicate: Callable[[], Any], seconds: float, step: float = 0.05) -> Any:
    """`predicate()`'s first true value within `seconds`, else None."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
