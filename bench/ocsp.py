"""3. OCSP: responses per second from ekort's responder over HTTP on loopback, under wrk, next to
`openssl ocsp -index ... -port ...` answering the same requests, both pinned to the same core
and wrk to the other; and the time from a block's commit to the first "revoked" answer.

The data are real: a CA hierarchy and cards taken through the services (ordered, photographed,
produced, sent; a third activated, a third blocked), so the responses are the ones ekort signed
and stored (`refresh_responses`); the third still on hold since production has none stored and
is answered on demand from the database, then from the responder's cache
(`status.note_issued_on_hold`). OpenSSL gets the same issuing CA, the same responder
certificate and key, and an index.txt of the same serials and statuses; it signs each answer
as it goes, ekort looks a signed one up. Before timing, every request is asked once of each
responder and the answers must agree with the database.

Network: ekort's responder binds 127.0.0.1 only and runs in the machine's namespace, where the
database is (PostgreSQL listens on 127.0.0.1, which a new namespace cannot reach). OpenSSL's
`-port` binds every interface, so it runs, with its own wrk, inside a private namespace made
by `unshare -n` that holds only a loopback. The two are timed in turns, run after run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from .core import Benchmark, Context, Result, Target, median_of
from .ocsp_tools import WrkRun, cpu_ticks, index_line, parse_wrk, post, wrk_script

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.2  # the responder's database poll, its default
CONNECTIONS = 8  # wrk's open connections, one thread
OPENSSL_PORT = 8888  # inside the private namespace, where nothing else listens
OPENSSL_URL = f"http://127.0.0.1:{OPENSSL_PORT}/"
RATIO_TARGET = Target(">=", 2.0, "at least 2 × OpenSSL")
P99_TARGET = Target("<=", 5.0, "p99 under 5 ms")
REVOKED_TARGET = Target("<=", 1.0, "within 1 s")


@dataclass(frozen=True)
class Sample:
    certificate_id: int
    card_id: int
    serial: int
    expected: tuple[str, str | None]  # ("good" | "revoked", reason name or None)
    request: Path  # the DER OCSP request


@dataclass
class Data:
    samples: list[Sample]
    blocker: Any  # the staff user who blocks in the revocation check
    dir: Path  # ca.pem, signer.pem, signer.key, index.txt, req-*.der, the wrk scripts


# --- the data --------------------------------------------------------------------------------


def _expected(status: str, reason: str) -> tuple[str, str | None]:
    from ekort.domain.revocation_reasons import HOLD
    from ekort.store.models import Certificate

    if status == Certificate.Status.VALID:
        return "good", None
    if status == Certificate.Status.ON_HOLD:
        return "revoked", HOLD
    return "revoked", None if reason in ("", "unspecified") else reason


def openssl_signer(ca: Any, now: datetime) -> tuple[Any, Any]:
    """A responder certificate and key for OpenSSL: ekort's own signer key never leaves its
    backend, so a new key of the same kind, certified by the same CA (through the backend),
    with the same profile as ekort's signer. Both responders sign with equal keys."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from ekort.pki.certificates import ca_name, ocsp_responder_certificate
    from ekort.services.ca import authority

    theirs = authority.certificate_of(authority.responder_for(ca)).public_key()
    key: Any
    if isinstance(theirs, ec.EllipticCurvePublicKey):
        key = ec.generate_private_key(theirs.curve)
    elif isinstance(theirs, rsa.RSAPublicKey):
        key = rsa.generate_private_key(65537, theirs.key_size)
    else:
        raise RuntimeError(f"no OpenSSL signer for a {type(theirs).__name__}")
    cert = ocsp_responder_certificate(
        name=ca_name(f"{ca.name} OCSP (OpenSSL, benchmark)", "ekort benchmark"),
        public=key.public_key(),
        issuer=authority.certificate_of(ca),
        issuer_key=authority.signing_key_of(ca),
        now=now - timedelta(hours=1),
        days=30,
    )
    return cert, key


def build(ctx: Context, count: int) -> Data:
    """`count` cards through the services, a third each good, revoked and on hold, and the
    files both responders need."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp
    from tests import factories
    from tests.integration import journeys

    from ekort.domain.vocabulary import BlockReason
    from ekort.services import cards, clock
    from ekort.services.ca import authority
    from ekort.store.models import Certificate

    start = clock.now()
    hierarchy = authority.init_hierarchy(now=start - timedelta(days=1))
    w = factories.world()
    card_ids = []
    for i in range(count):
        person = factories.person(
            given="Test",
            family=f"Ocsp{i}",
            birth=f"19{60 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}",
            manager=w.manager,
            unit=w.unit,
        )
        now = clock.now()
        if i % 3 == 0:
            card = journeys.activated(w, "photo", now, now, person=person)
        else:
            card = journeys.sent(w, "photo", now, now, person=person)
            if i % 3 == 1:
                cards.block(
                    actor=w.id_admin,
                    reason=BlockReason.LOST,
                    requested_by="innehavaren",
                    now=clock.now(),
                    card_ids=[card.pk],
                ).one()
        card_ids.append(card.pk)

    ca = hierarchy.issuing["3"]
    ca_cert = authority.certificate_of(ca)
    out = ctx.workdir / "ocsp"
    out.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (out / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    signer, signer_key = openssl_signer(ca, start)
    (out / "signer.pem").write_bytes(signer.public_bytes(pem))
    (out / "signer.key").write_bytes(
        signer_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    records = Certificate.objects.filter(card_id__in=card_ids).order_by("pk")
    lines, samples = [], []
    sha1 = hashes.SHA1()  # noqa: S303 (what RFC 6960 CertIDs use, and what ekort stores for)
    for n, record in enumerate(records):
        if record.issuer_id != ca.pk:
            raise RuntimeError(f"certificate {record.pk} is not from {ca.name}")
        cert = x509.load_der_x509_certificate(bytes(record.der))
        expected = _expected(record.status, record.revocation_reason)
        revoked = record.status != Certificate.Status.VALID
        lines.append(
            index_line(
                cert.serial_number,
                cert.not_valid_after_utc,
                f"/CN=ekort bench {n}",
                revoked_at=(record.revoked_at or record.status_changed_at) if revoked else None,
                reason=expected[1],
            )
        )
        der = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(cert, ca_cert, sha1)
            .build()
            .public_bytes(serialization.Encoding.DER)
        )
        request = out / f"req-{n:04d}.der"
        request.write_bytes(der)
        samples.append(Sample(record.pk, record.card_id, cert.serial_number, expected, request))
    (out / "index.txt").write_text("\n".join(lines) + "\n")
    # Several cards may share a subject one day; the index must not refuse that.
    (out / "index.txt.attr").write_text("unique_subject = no\n")
    files = [s.request for s in samples]
    (out / "ekort.lua").write_text(wrk_script(files, "/ocsp"))
    (out / "openssl.lua").write_text(wrk_script(files, "/"))
    return Data(samples, w.id_admin, out)


def answer_of(der: bytes, serial: int) -> tuple[str, str | None]:
    """("good" | "revoked" | "unknown" | an error status, reason name or None)."""
    from cryptography.x509 import ocsp

    response = ocsp.load_der_ocsp_response(der)
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return response.response_status.name.lower(), None
    if response.serial_number != serial:
        return f"serial {response.serial_number:x}", None
    status = response.certificate_status.name.lower()
    reason = response.revocation_reason
    return status, None if reason is None else reason.name


def mismatches(data: Data, answers: Path) -> list[str]:
    wrong = []
    for sample in data.samples:
        got = answer_of((answers / sample.request.name).read_bytes(), sample.serial)
        if got != sample.expected:
            wrong.append(f"{sample.serial:x}: {got} not {sample.expected}")
    return wrong


# --- the processes ---------------------------------------------------------------------------


class Processes:
    """Every process this benchmark starts, each in a session of its own, so that stopping it
    stops what it started too (`nsenter`, `taskset` and `unshare` exec, they do not fork)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []

    def start(
        self, name: str, command: Sequence[str], *, stdout: int | None = None, **kw: Any
    ) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (closed in close())
        self._files.append(log)
        process = subprocess.Popen(
            list(command),
            stdout=log if stdout is None else stdout,
            stderr=log,
            start_new_session=True,
            **kw,
        )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if process.stdout is not None:
            process.stdout.close()
        if process in self.running:
            self.running.remove(process)

    def close(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)
        for file in self._files:
            file.close()

    def tail(self, name: str) -> str:
        try:
            lines = (self.logs / f"{name}.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-8:])


@contextmanager
def processes(logs: Path) -> Iterator[Processes]:
    logs.mkdir(parents=True, exist_ok=True)
    tracked = Processes(logs)
    try:
        yield tracked
    finally:
        tracked.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cores() -> tuple[int, int]:
    """(the servers' core, wrk's core): the last core and the first."""
    last = (os.cpu_count() or 1) - 1
    return last, 0


def start_ekort(procs: Processes, core: int, port: int) -> tuple[subprocess.Popen[bytes], str]:
    command = [
        *("taskset", "-c", str(core)),
        *(sys.executable, "-m", "ekort.cli.main", "ocsp", "serve"),
        *("--host", "127.0.0.1", "--port", str(port), "--poll", str(POLL)),
    ]
    # The environment is this process's: the same DATABASE_URL and EKORT_DATA_DIR.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ekort.settings"}
    process = procs.start("ekort", command, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return process, url + "/ocsp"
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"ekort's responder did not start: {procs.tail('ekort')}")
        time.sleep(0.05)


def start_namespace(procs: Processes) -> list[str]:
    """A private network namespace with only a loopback, up; returns the nsenter prefix."""
    holder = procs.start(
        "namespace",
        ["unshare", "-n", "sh", "-c", "ip link set lo up && echo ready && exec sleep 86400"],
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None
    if holder.stdout.readline().strip() != b"ready":
        raise RuntimeError(f"unshare -n failed (root needed): {procs.tail('namespace')}")
    return ["nsenter", f"--net=/proc/{holder.pid}/ns/net"]


def start_openssl(
    procs: Processes, data: Data, core: int, enter: list[str]
) -> subprocess.Popen[bytes]:
    d = data.dir
    command = [
        *enter,
        *("taskset", "-c", str(core), "openssl", "ocsp"),
        *("-index", str(d / "index.txt"), "-CA", str(d / "ca.pem")),
        *("-rsigner", str(d / "signer.pem"), "-rkey", str(d / "signer.key")),
        *("-port", str(OPENSSL_PORT), "-nmin", "60", "-resp_key_id", "-ignore_err"),
    ]
    return procs.start("openssl", command, cwd=d)


def fetch(
    data: Data, url: str, name: str, enter: Sequence[str] = (), *, first_only: bool = False
) -> Path:
    """Ask every request once (inside the namespace when `enter` says so), waiting for the
    server to listen first; returns the answers' dir."""
    out = data.dir / f"answers-{name}"
    samples = data.samples[:1] if first_only else data.samples
    command = [
        *enter,
        *(sys.executable, "-m", "bench.ocsp_tools", "fetch", url, str(out)),
        *(str(s.request) for s in samples),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"asking {name} failed: {done.stderr.strip()[-500:]}")
    return out


def cpu_seconds(pid: int) -> float:
    return cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Timed:
    wrk: WrkRun
    core_share: float  # the responder's CPU seconds per second of the run


def load(
    script: Path, url: str, core: int, seconds: float, enter: Sequence[str] = (), server: int = 0
) -> Timed:
    """One wrk run; with `server` (a pid), how much of its core that process had."""
    command = [
        *enter,
        *("taskset", "-c", str(core), "wrk", "-t1", f"-c{CONNECTIONS}"),
        *(f"-d{seconds:g}s", "--timeout", "2s", "-s", str(script), url),
    ]
    used = cpu_seconds(server) if server else 0.0
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    used = cpu_seconds(server) - used if server else 0.0
    if done.returncode:
        raise RuntimeError(f"wrk failed: {(done.stderr or done.stdout).strip()[-500:]}")
    run = parse_wrk(done.stdout)
    return Timed(run, used / run.seconds if run.seconds else 0.0)


def openssl_run(
    procs: Processes, data: Data, cores: tuple[int, int], enter: list[str], seconds: float
) -> Timed:
    """One timed run on a fresh `openssl ocsp`: when wrk closes its kept-alive connections at
    the end, OpenSSL 3.0's responder spins on them, so each run gets its own."""
    openssl = start_openssl(procs, data, cores[0], enter)
    try:
        fetch(data, OPENSSL_URL, "openssl-ready", enter, first_only=True)
        script = data.dir / "openssl.lua"
        return load(script, OPENSSL_URL, cores[1], seconds, enter, openssl.pid)
    finally:
        procs.stop(openssl)


# --- "revoked within one second" -------------------------------------------------------------


def time_to_revoked(data: Data, sample: Sample, url: str, limit: float = 10.0) -> float:
    """Block the card through the service; seconds from the commit to the first answer from
    the responder that says revoked (`limit` when none came by then)."""
    from django.db import transaction

    from ekort.domain.vocabulary import BlockReason
    from ekort.services import cards, clock

    body = sample.request.read_bytes()
    if answer_of(post(url, body), sample.serial)[0] != "good":
        raise RuntimeError(f"{sample.serial:x} is not good before its block")
    committed: list[float] = []
    # The outer block makes the commit this one, and the hook runs first on it, before the
    # service's own on-commit work (signing and storing the new response).
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.monotonic()))
        cards.block(
            actor=data.blocker,
            reason=BlockReason.LOST,
            requested_by="innehavaren",
            now=clock.now(),
            card_ids=[sample.card_id],
        ).one()
    while True:
        status = answer_of(post(url, body), sample.serial)[0]
        answered = time.monotonic()
        if status == "revoked":
            return answered - committed[0]
        if answered - committed[0] > limit:
            return limit
        time.sleep(0.002)


# --- the benchmark ---------------------------------------------------------------------------


def _responder_results(
    name: str, timed: list[Timed], p99_target: Target | None, notes: str
) -> list[Result]:
    """Rate, p50 and p99 (medians over the runs) of one responder."""
    runs = [t.wrk for t in timed]
    rates = [r.rate for r in runs]
    p50 = [r.p50_ms for r in runs]
    p99 = [r.p99_ms for r in runs]
    share = median_of([t.core_share for t in timed])
    errors = sum(r.errors for r in runs)
    said = [
        notes,
        f"it had {share:.0%} of its core (CPU time per second of run); "
        f"{median_of(rates) / share:,.0f} answers per CPU second"
        if share > 0
        else "",
        f"{errors} errors in {sum(r.requests for r in runs)} answers" if errors else "",
    ]
    return [
        Result(
            "ocsp",
            f"{name} responses per second, one core",
            median_of(rates),
            "req/s",
            runs=len(runs),
            samples=[round(r, 1) for r in rates],
            notes="; ".join(s for s in said if s),
        ),
        Result("ocsp", f"{name} p50 latency", median_of(p50), "ms", runs=len(runs), samples=p50),
        Result(
            "ocsp",
            f"{name} p99 latency",
            median_of(p99),
            "ms",
            runs=len(runs),
            samples=p99,
            target=p99_target,
        ),
    ]


def run(ctx: Context) -> list[Result]:
    count = 45 if ctx.quick else 210
    seconds, runs, warm = (3.0, 1, 1.0) if ctx.quick else (8.0, 3, 2.0)
    blocks = 3 if ctx.quick else 5
    data = build(ctx, count)
    server_core, wrk_core = cores()
    ekort_runs: list[Timed] = []
    openssl_runs: list[Timed] = []
    load_average = os.getloadavg()[0]
    with processes(ctx.workdir / "logs") as procs:
        ekort, ekort_url = start_ekort(procs, server_core, free_port())
        enter = start_namespace(procs)
        openssl = start_openssl(procs, data, server_core, enter)
        for name, url, ns in (("ekort", ekort_url, ()), ("openssl", OPENSSL_URL, enter)):
            wrong = mismatches(data, fetch(data, url, name, ns))
            if wrong:
                raise RuntimeError(f"{name} answered {len(wrong)} wrongly: {wrong[:3]}")
        procs.stop(openssl)
        script = data.dir / "ekort.lua"
        load(script, ekort_url, wrk_core, warm)  # fills its cache of request bytes
        for _ in range(runs):  # in turns, so that a noisy neighbour hurts both alike
            ekort_runs.append(load(script, ekort_url, wrk_core, seconds, server=ekort.pid))
            openssl_runs.append(openssl_run(procs, data, (server_core, wrk_core), enter, seconds))
        good = [s for s in data.samples if s.expected == ("good", None)]
        delays = [time_to_revoked(data, s, ekort_url) for s in good[:blocks]]

    ratio = median_of([t.wrk.rate for t in ekort_runs]) / median_of(
        [t.wrk.rate for t in openssl_runs]
    )
    setup = (
        f"{len(data.samples)} serials (good, revoked, on hold) round-robin, wrk -t1 "
        f"-c{CONNECTIONS} on core {wrk_core}, responders on core {server_core}, "
        f"{seconds:g} s per run, load average {load_average:.1f} before"
    )
    ekort_results = _responder_results("ekort", ekort_runs, P99_TARGET, setup)
    ekort_results[0].ratio = ratio
    ekort_results[0].ratio_to = "openssl ocsp, same core, same run"
    return [
        *ekort_results,
        Result(
            "ocsp",
            "ekort / OpenSSL responses per second",
            ratio,
            "×",
            runs=runs,
            target=RATIO_TARGET,
        ),
        *_responder_results(
            "openssl",
            openssl_runs,
            None,
            "`openssl ocsp -index -nmin 60` in `unshare -n`, signing each answer, a fresh "
            "process per run",
        ),
        Result(
            "ocsp",
            "block committed to first revoked answer",
            median_of(delays),
            "s",
            runs=len(delays),
            samples=[round(d, 4) for d in delays],
            target=REVOKED_TARGET,
            notes=f"responder polls the database every {POLL:g} s; the client asks every 2 ms",
        ),
    ]


BENCHMARK = Benchmark(
    "ocsp", ("sqlite", "postgresql"), run, needs=("wrk", "openssl", "unshare", "taskset")
)
