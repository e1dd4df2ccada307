"""OCSP as production runs it, on this machine: cards on a private PostgreSQL primary, a
streaming replica of it, two responders (`ekort ocsp serve`) reading the replica
(EKORT_OCSP_DATABASE_URL), and nginx with deploy/nginx/ekort.conf in front of them
(tests/deploy/stack.py), which retries the other responder when one fails.
Used by tests/deploy/test_ocsp_replica.py and bench/ocsp_stack.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.deploy import ocsp_world
from tests.deploy.replica import Replicated, replicated
from tests.deploy.stack import Nginx, Ports, free_port, new_directory, nginx, stop

ROOT = Path(__file__).resolve().parents[2]
POLL = 0.2


def post(url: str, body: bytes, timeout: float = 5.0) -> bytes:
    request = urllib.request.Request(  # noqa: S310 (loopback, http)
        url, data=body, headers={"Content-Type": "application/ocsp-request"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (loopback)
        data: bytes = answer.read()
        return data


def get_json(url: str, timeout: float = 5.0) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (loopback)
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def get_text(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (loopback)
        text: str = answer.read().decode()
        return text


def status_of(der: bytes, serial: int) -> str:
    from cryptography.x509 import ocsp

    response = ocsp.load_der_ocsp_response(der)
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return response.response_status.name.lower()
    if response.serial_number != serial:
        return f"serial {response.serial_number:x}"
    return response.certificate_status.name.lower()


@dataclass
class Responder:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    db: Replicated
    env: dict[str, str]  # DATABASE_URL (the primary), EKORT_OCSP_DATABASE_URL, data dir
    world: dict[str, Any]
    responders: list[Responder]
    front: Nginx
    logs: Path
    blocked: set[int] = field(default_factory=set)  # cards blocked since the build
    _files: list[IO[bytes]] = field(default_factory=list)

    @property
    def ocsp(self) -> str:
        """The public OCSP address, through nginx."""
        return f"{self.front.public}/ocsp"

    def samples(self, expected: str) -> list[dict[str, Any]]:
        return [s for s in self.world["samples"] if s["expected"][0] == expected]

    def expected(self, sample: dict[str, Any]) -> str:
        """What the primary says of the sample's certificate now."""
        return "revoked" if sample["card_id"] in self.blocked else str(sample["expected"][0])

    def block(self, card_id: int) -> float:
        """Block the card on the primary; the POSIX time of the commit."""
        committed = float(ocsp_world.run("block", str(card_id), env=self.env).strip())
        self.blocked.add(card_id)
        return committed

    def start_responder(self, port: int) -> Responder:
        log = open(self.logs / f"responder-{port}.log", "ab")  # noqa: SIM115 (closed in close)
        self._files.append(log)
        command = [sys.executable, "-m", "ekort.cli.main", "ocsp", "serve"]
        command += ["--port", str(port), "--poll", str(POLL)]
        process = subprocess.Popen(
            command,
            env={**os.environ, **self.env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        responder = Responder(port, process)
        deadline = time.monotonic() + 60
        while True:
            try:
                if get_json(responder.url + "/ready", timeout=2)[0] == 200:
                    return responder
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                tail = (self.logs / f"responder-{port}.log").read_text(errors="replace")
                raise RuntimeError(f"the responder on {port} did not start: {tail[-1500:]}")
            time.sleep(0.05)

    def close(self) -> None:
        for responder in self.responders:
            stop(responder.process)
        for file in self._files:
            file.close()


@contextmanager
def ocsp_stack(count: int = 12, work: Path | None = None) -> Iterator[Stack]:
    """The whole stack with `count` cards (a third good, revoked, on hold), until the block
    ends; everything it started is stopped, its files deleted."""
    if work is None:
        work = Path(tempfile.mkdtemp(prefix="ekort-ocsp-stack-"))
        temporary = True
    else:
        temporary = False
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if temporary:
            stack.callback(shutil.rmtree, work, ignore_errors=True)
        db = stack.enter_context(replicated())
        env = {
            "DATABASE_URL": db.primary.url(),
            "EKORT_OCSP_DATABASE_URL": db.replica.url(),
            "EKORT_DATA_DIR": str(work / "data"),
            "EKORT_KEY_KDF_ROUNDS": "1000",  # key files for a test, not production's cost
            "DJANGO_DEBUG": "0",
        }
        ocsp_world.run("build", str(work), str(count), env=env)
        world = ocsp_world.load(work)
        ports = Ports(free_port(), free_port(), free_port(), (free_port(), free_port()))
        front_dir = new_directory()
        client_ca = (Path(world["dir"]) / "ca.pem").read_text()
        result = Stack(db, env, world, [], None, logs)  # type: ignore[arg-type]
        stack.callback(result.close)
        result.responders = [result.start_responder(port) for port in ports.responders]
        result.front = stack.enter_context(nginx(front_dir, ports, client_ca=client_ca))
        yield result
