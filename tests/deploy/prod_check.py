"""`make prod-check`: the production stack of deploy/ on this machine, and a smoke test through
it (docs/operations.md, "Checking the stack").

What runs is what an operator installs, moved to 127.0.0.1, high free ports and a temporary
directory: nginx with deploy/nginx/ekort.conf (tests/deploy/stack.py), and each ExecStart= of
deploy/systemd/ as written there, with only the install prefix, the config file's path and
the instance's port put in: gunicorn with deploy/gunicorn.conf.py, two OCSP responders, and
the scheduled work (`ekort ca publish`, `ekort jobs run`, `ekort audit anchor`) run once. All
of it with EKORT_ENV=production (a test system: EKORT_TEST_SYSTEM=1 and the virtual card
reader), fresh random secrets, and a PostgreSQL database of its own, made here and dropped at
the end, holding the demo region (`ekort demo`, run before production starts).

The smoke test, through nginx only: sign-in with the card (curl with a demo card's key, read
from its virtual chip) for an ID administrator, whose pages open, and a refused blocked card;
no staff password in production; a card from order to activation through the API, with API
tokens from `ekort api-token`; OCSP for it (POST and GET, over two responders) and for a
blocked card; the CRL and the CA certificate over plain HTTP with their caching headers. Then
the backup round trip of docs/operations.md: `ekort audit anchor`, `pg_dump`, a restore into a
new database, and `ekort audit verify --anchor` against the restored copy.

PostgreSQL: PROD_CHECK_POSTGRES_URL, else EKORT_TEST_POSTGRES_URL or DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/postgres; its user creates and drops the two databases,
named PROD_CHECK_DB_PREFIX (default ekort_prod_check) plus a random suffix.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from tests.deploy.stack import (
    DEPLOY,
    PROD_STACK,
    ROOT,
    Nginx,
    Ports,
    free_port,
    nginx,
    stop,
    wait_for_port,
)

BIN = Path(sys.executable).parent
SYSTEMD = DEPLOY / "systemd"
# A 1x1 PNG: the portal checks the photo's signature, not its looks.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)
DOCUMENT = {"kind": "passport", "number": "AB1234567", "expires_on": "2035-01-01"}
PIN = "402918"


class CheckFailed(Exception):
    pass


def say(text: str) -> None:
    print(f"prod-check: {text}", flush=True)


def expect(condition: bool, what: str, detail: object = "") -> None:
    if not condition:
        raise CheckFailed(f"{what} {detail}" if detail else what)
    say(f"ok  {what}")


# --- PostgreSQL --------------------------------------------------------------------------------


def server_url() -> str:
    return (
        os.environ.get("PROD_CHECK_POSTGRES_URL")
        or os.environ.get("EKORT_TEST_POSTGRES_URL")
        or os.environ.get("DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/postgres"
    )


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@contextmanager
def databases(*names: str) -> Iterator[None]:
    import psycopg

    server = server_url()
    with psycopg.connect(server, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- The units' commands -------------------------------------------------------------------------


def exec_start(unit: str, *, instance: str = "") -> list[list[str]]:
    """ExecStart= (and ExecStartPost=) of a unit in deploy/systemd/, as this machine runs it:
    the install's virtual environment is this one, /etc/ekort/gunicorn.conf.py is
    deploy/gunicorn.conf.py, %i is the instance."""
    text = (SYSTEMD / unit).read_text(encoding="utf-8")
    commands = re.findall(r"^ExecStart(?:Post)?=(.+)$", text, flags=re.MULTILINE)
    if not commands:
        raise CheckFailed(f"{unit} has no ExecStart=")
    found = []
    for line in commands:
        line = line.replace("/opt/ekort/venv/bin/", f"{BIN}/")
        line = line.replace("/etc/ekort/gunicorn.conf.py", str(DEPLOY / "gunicorn.conf.py"))
        line = line.replace("%i", instance)
        found.append(shlex.split(line))
    return found


@dataclass
class Stack:
    directory: Path
    env: dict[str, str]
    ports: Ports
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    nginx: Nginx | None = None

    def run(self, *command: str, env: Mapping[str, str] | None = None, **kwargs: Any) -> str:
        done = subprocess.run(
            list(command),
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
            cwd=self.directory,
            **kwargs,
        )
        if done.returncode != 0:
            raise CheckFailed(
                f"{' '.join(command[:4])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def ekort(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        return self.run(str(BIN / "ekort"), *args, env=env)

    def unit(self, name: str, *, instance: str = "") -> None:
        for command in exec_start(name, instance=instance):
            self.run(*command)

    def start(self, command: list[str], port: int, log: str) -> None:
        out = (self.directory / log).open("wb")
        process = subprocess.Popen(
            command,
            env=self.env,
            cwd=self.directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        try:
            wait_for_port(port, process=process, seconds=60)
        except (RuntimeError, TimeoutError) as problem:
            raise CheckFailed(f"{log}: {problem}\n{(self.directory / log).read_text()}") from None


def environment(directory: Path, url: str, ports: Ports) -> dict[str, str]:
    """/etc/ekort/ekort.env (deploy/ekort.env.example) for this machine."""
    public = f"http://127.0.0.1:{ports.http}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EKORT_", "DJANGO_", "DATABASE_URL"))
    }
    env.update(
        EKORT_ENV="production",
        EKORT_TEST_SYSTEM="1",  # virtual cards: this is a test system
        EKORT_CARD_READER="virtual",
        EKORT_DATA_DIR=str(directory / "data"),
        DATABASE_URL=url,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        EKORT_AUDIT_KEY=secrets.token_urlsafe(48),
        EKORT_SECRETS_KEY=secrets.token_urlsafe(48),
        EKORT_KEY_PASSPHRASE=secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        EKORT_PUBLIC_URL=public,
        EKORT_OCSP_URL=public,
        EKORT_BEHIND_PROXY="1",
        EKORT_CLIENT_CERT_PROXIES="127.0.0.1",
        EKORT_STAFF_PASSWORD_SIGN_IN="0",
        EKORT_PORTAL_BIND=f"127.0.0.1:{ports.portal}",
        EKORT_PORTAL_WORKERS="2",
        # Nobody listens on port 25 here: the nightly notices stay pending, as they would.
        EKORT_EMAIL_HOST="127.0.0.1",
        EKORT_EMAIL_PORT=str(free_port()),
        EKORT_EMAIL_SECURITY="none",
        EKORT_EMAIL_TIMEOUT="2",
        PYTHONPATH=str(ROOT),
        # As deploy/ekort.env.example: the portal adds up its workers' and the jobs' figures.
        PROMETHEUS_MULTIPROC_DIR=str(directory / "data" / "metrics"),
    )
    return env


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    tls: Path | None = None,
) -> Answer:
    context = ssl.create_default_context(cafile=str(tls)) if tls else None
    handlers: list[Any] = [_NoRedirect()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    # Only the stack's own http(s) URLs, made above.
    request = urllib.request.Request(  # noqa: S310
        url, data=body, method=method, headers=dict(headers or {})
    )
    try:
        with opener.open(request, timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def curl(stack: Stack, path: str, card: Any | None = None, *extra: str) -> tuple[int, str, str]:
    assert stack.nginx is not None
    command = ["curl", "-sS", "--cacert", str(stack.nginx.directory / "tls" / "server.crt")]
    command += ["-o", "-", "-w", "\n%{http_code} %{redirect_url}"]
    if card is not None:
        command += ["--cert", str(card.cert), "--key", str(card.key)]
    out = stack.run(*command, *extra, f"{stack.nginx.portal}{path}")
    body, _, last = out.rpartition("\n")
    status, _, location = last.partition(" ")
    return int(status), location, body


# --- The smoke test ------------------------------------------------------------------------------


def smoke(stack: Stack) -> None:
    import django

    os.environ.update(stack.env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "ekort.settings"
    django.setup()
    assert stack.nginx is not None
    portal, public = stack.nginx.portal, stack.nginx.public
    tls = stack.nginx.directory / "tls" / "server.crt"
    keys = stack.directory / "keys"

    card_sign_in(stack, keys)
    card_id = order_to_activation(stack, portal, tls)
    ocsp_and_crl(stack, public, card_id)
    probes_and_logs(stack, portal, tls)


def _auth_card(username: str, state: str) -> Any:
    from ekort.store.models import Card

    return (
        Card.objects.filter(
            person__account__user__username=username,
            state=state,
            certificates__profile="auth",
        )
        .order_by("-pk")
        .first()
    )


def card_sign_in(stack: Stack, keys: Path) -> None:
    from tests.card_keys import export_card

    active = _auth_card("idadmin", "active")
    expect(active is not None and active.assurance_level == "3", "the demo's ID admin has a card")
    card = export_card(active, keys)
    jar = str(stack.directory / "cookies.txt")
    status, location, _ = curl(stack, "/logga-in/kort/", card, "-c", jar)
    expect(
        status == 302 and "/logga-in/" not in location,
        f"card sign-in through nginx ({status} {location})",
    )
    status, _, body = curl(stack, "/kortkontor/arbete/", card, "-b", jar)
    expect(status == 200 and "Hitta person" in body, "the ID administrator's page opens (LoA3)")
    blocked = _auth_card("chef", "blocked")
    expect(blocked is not None, "the demo has a blocked card of a member of staff")
    status, _, body = curl(stack, "/logga-in/kort/", export_card(blocked, keys / "blocked"))
    expect(status == 403 and "Kortet är spärrat" in body, "a blocked card is refused (403)")
    status, _, body = curl(
        stack,
        "/logga-in/",
        None,
        "-c",
        str(stack.directory / "jar2"),
        "-b",
        str(stack.directory / "jar2"),
    )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    expect(status == 200 and token is not None, "the sign-in page over HTTPS")
    assert token is not None
    status, _, body = curl(
        stack,
        "/logga-in/",
        None,
        "-b",
        str(stack.directory / "jar2"),
        "-H",
        f"Referer: {stack.nginx.portal if stack.nginx else ''}/logga-in/",
        "--data-urlencode",
        f"csrfmiddlewaretoken={token.group(1)}",
        "--data-urlencode",
        "username=idadmin",
        "--data-urlencode",
        "password=demo-idadmin",
    )
    expect(
        status == 200 and "lösenordet är fel" in body,
        "no staff password in production",
        f"({status}: {body[-600:]!r})",
    )


def _token(stack: Stack, username: str) -> str:
    out = stack.ekort("api-token", "--user", username, "--name", "prod-check", "--days", "1")
    return out.strip().splitlines()[-1].strip()


def order_to_activation(stack: Stack, portal: str, tls: Path) -> int:
    from ekort.store.models import Person
    from tests.factories import identity_number

    chef = Person.objects.get(account__user__username="chef")
    tokens = {name: _token(stack, name) for name in ("support", "chef", "idadmin", "utgivare")}

    def api(who: str, method: str, path: str, data: Any = None) -> Answer:
        body = None if data is None else json.dumps(data).encode()
        headers = {"Authorization": f"Bearer {tokens[who]}", "Content-Type": "application/json"}
        return http(f"{portal}/api/v1{path}", method=method, body=body, headers=headers, tls=tls)

    number = identity_number("19880214", secrets.randbelow(1000))
    person = api(
        "support",
        "POST",
        "/persons",
        {
            "identity_number": number,
            "given_name": "Prova",
            "family_name": "Produktion",
            "street_address": "Storgatan 1",
            "postal_code": "80320",
            "postal_town": "Gävle",
            "hsa_id": f"SE2321000198-p{number}",
            "unit_id": chef.unit_id,
            "manager_id": chef.pk,
        },
    )
    expect(
        person.status == 201, f"API: a person registered ({person.status} {person.body[:200]!r})"
    )
    order = api("chef", "POST", "/orders", {"person_id": person.json()["id"], "card_type": "photo"})
    expect(order.status == 201, "API: a photo card ordered", (order.status, order.body[:300]))
    card_id = int(order.json()["id"])
    steps: list[tuple[str, str, Any, str]] = [
        ("idadmin", "photograph", {"photo_base64": base64.b64encode(PNG).decode()}, "photographed"),
        ("utgivare", "produce", None, "produced"),
        ("utgivare", "send", None, "sent_inactive"),
        ("idadmin", "activate", {"document": DOCUMENT, "pin": PIN}, "active"),
    ]
    for who, action, data, state in steps:
        done = api(who, "POST", f"/cards/{card_id}/{action}", data if data is not None else {})
        expect(
            done.status == 200 and done.json()["state"] == state,
            f"API: {action} → {state}",
            (done.status, done.body[:300]),
        )
    return card_id


def _ocsp_request(cert: Any, issuer: Any) -> bytes:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303
    return builder.build().public_bytes(serialization.Encoding.DER)


def ocsp_and_crl(stack: Stack, public: str, card_id: int) -> None:
    from cryptography import x509
    from cryptography.x509 import ocsp

    from ekort.services.ca.authority import slug
    from ekort.store.models import Certificate

    record = Certificate.objects.select_related("issuer").get(card_id=card_id, profile="auth")
    name = slug(record.issuer)
    ca = http(f"{public}/pki/ca/{name}.pem")
    expect(ca.status == 200 and b"BEGIN CERTIFICATE" in ca.body, "the CA certificate over HTTP")
    expect("public" in ca.headers.get("Cache-Control", ""), "  ... with Cache-Control public")
    issuer = x509.load_pem_x509_certificate(ca.body)
    cert = x509.load_der_x509_certificate(bytes(record.der))
    request = _ocsp_request(cert, issuer)
    good = http(
        f"{public}/ocsp/{name}",
        method="POST",
        body=request,
        headers={"Content-Type": "application/ocsp-request"},
    )
    answer = ocsp.load_der_ocsp_response(good.body)
    expect(
        good.status == 200 and answer.certificate_status == ocsp.OCSPCertStatus.GOOD,
        "OCSP (POST) through nginx: the new card is good",
    )
    encoded = base64.b64encode(request).decode()
    path = f"{public}/ocsp/{name}/{quote(encoded, safe='')}"
    first, second = http(path), http(path)
    expect(
        first.status == 200
        and ocsp.load_der_ocsp_response(first.body).certificate_status == ocsp.OCSPCertStatus.GOOD
        and "max-age" in first.headers.get("Cache-Control", ""),
        "OCSP (GET, RFC 5019) with Cache-Control max-age",
        (first.status, first.headers, first.body[:200]),
    )
    expect(
        second.headers.get("X-Cache-Status") == "HIT",
        "  ... the second GET from nginx's cache",
        second.headers,
    )
    revoked = (
        Certificate.objects.select_related("issuer")
        .filter(profile="auth", status="revoked", card__state="blocked", issuer=record.issuer)
        .first()
    )
    expect(revoked is not None, "a blocked card's certificate from the same CA")
    assert revoked is not None
    answer = ocsp.load_der_ocsp_response(
        http(
            f"{public}/ocsp/{name}",
            method="POST",
            body=_ocsp_request(x509.load_der_x509_certificate(bytes(revoked.der)), issuer),
            headers={"Content-Type": "application/ocsp-request"},
        ).body
    )
    expect(answer.certificate_status == ocsp.OCSPCertStatus.REVOKED, "OCSP: blocked is revoked")
    crl = http(f"{public}/pki/crl/{name}.crl")
    expect(
        crl.status == 200 and crl.headers.get("Content-Type") == "application/pkix-crl",
        "the CRL over plain HTTP",
    )
    expect("max-age" in crl.headers.get("Cache-Control", ""), "  ... with Cache-Control max-age")
    parsed = x509.load_der_x509_crl(crl.body)
    expect(
        parsed.get_revoked_certificate_by_serial_number(int(revoked.serial, 16)) is not None
        and parsed.is_signature_valid(issuer.public_key()),
        "  ... signed by the CA and listing the blocked card",
    )
    moved = http(f"{public}/mina-sidor/")
    expect(
        moved.status == 301 and moved.headers.get("Location", "").startswith("https://"),
        "the portal over plain HTTP moves to HTTPS",
    )


# --- Backup and restore --------------------------------------------------------------------------


def backup_round_trip(stack: Stack, restored_url: str) -> None:
    """docs/operations.md, "Backup and restore", as written there."""
    anchor = stack.ekort("audit", "anchor").strip().splitlines()[-1].strip()
    expect(re.fullmatch(r"\d+:[0-9a-f]{64}", anchor) is not None, f"an audit anchor {anchor[:20]}…")
    dump = stack.directory / "ekort.dump"
    stack.run("pg_dump", "--format=custom", f"--file={dump}", stack.env["DATABASE_URL"])
    stack.run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored_url}", str(dump))
    out = stack.ekort("audit", "verify", "--anchor", anchor, env={"DATABASE_URL": restored_url})
    expect("intact" in out.lower(), f"restored copy: ekort audit verify --anchor: {out.strip()}")


def _samples(text: str, name: str) -> list[float]:
    return [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]


def probes_and_logs(stack: Stack, portal: str, tls: Path) -> None:
    """Each process's health, readiness and metrics on its own address (docs/operations.md,
    "Health, readiness and metrics"), none of it through nginx, and JSON log lines."""
    own = f"http://127.0.0.1:{stack.ports.portal}"
    health, ready = http(own + "/health/"), http(own + "/ready/")
    expect(health.status == 200 and health.json()["status"] == "ok", "portal: /health/ (alive)")
    expect(ready.status == 200 and ready.json()["database"] == "up", "portal: /ready/ (database)")
    metrics = http(own + "/metrics")
    text = metrics.body.decode()
    expect(metrics.status == 200, "portal: /metrics on its own address", metrics.status)
    expect(sum(_samples(text, "ekort_http_requests_total{")) > 0, "  ... counts its requests")
    # PROMETHEUS_MULTIPROC_DIR: the nightly jobs ran in a process of their own before.
    expect(
        bool(_samples(text, "ekort_job_last_run_timestamp_seconds")),
        "  ... with the nightly jobs' figures (multiprocess mode)",
    )
    expect(bool(_samples(text, "ekort_audit_head_sequence")), "  ... and the audit head")
    ends = _samples(text, "ekort_issuing_ca_not_after_timestamp_seconds")
    expect(
        len(ends) == 2 and min(ends) > time.time(),
        "  ... and when the issuing CAs for new cards end",
        ends,
    )
    outside = http(f"{portal}/metrics", tls=tls)
    expect(outside.status == 404, "portal: /metrics through nginx is 404", outside.status)
    for port in stack.ports.responders:
        url = f"http://127.0.0.1:{port}"
        said = http(url + "/health").json()
        expect(said["database"] == "up", f"OCSP {port}: /health says its database is up", said)
        expect(http(url + "/ready").status == 200, f"OCSP {port}: /ready")
    answered = 0.0
    for port in stack.ports.responders:
        text = http(f"http://127.0.0.1:{port}/metrics").body.decode()
        answered += sum(_samples(text, "ekort_ocsp_answers_total{"))
    expect(answered > 0, "OCSP: /metrics count the answers given", answered)
    lines = (stack.directory / "gunicorn.log").read_text(errors="replace").splitlines()
    logged = [json.loads(line) for line in lines if line.startswith('{"time"')]
    expect(
        any(line.get("request_id", "-") != "-" for line in logged),
        "portal: JSON log lines with the request's id",
        lines[-3:],
    )


# --- The whole run -------------------------------------------------------------------------------


def prepare(stack: Stack) -> None:
    started = time.monotonic()
    stack.ekort("migrate", "--noinput", "-v", "0")
    # The demo refuses production; it builds the region with production's secrets and data.
    stack.ekort("demo", env={"EKORT_ENV": "development", "EKORT_TEST_SYSTEM": ""})
    stack.ekort("collectstatic", "--noinput", "-v", "0")
    say(f"database, demo region and static files in {time.monotonic() - started:.0f} s")


def start(stack: Stack, ports: Ports) -> Callable[[], None]:
    (portal,) = exec_start("ekort-portal.service")
    stack.start(portal, ports.portal, "gunicorn.log")
    for port in ports.responders:
        (responder,) = exec_start("ekort-ocsp@.service", instance=str(port))
        stack.start(responder, port, f"ocsp-{port}.log")
    stack.unit("ekort-publish.service")
    stack.unit("ekort-jobs.service")
    say("gunicorn, two OCSP responders, ekort-publish and ekort-jobs ran")

    def stop_all() -> None:
        for process in stack.processes:
            stop(process)

    return stop_all


def main() -> int:
    missing = PROD_STACK.missing()
    if missing is not None:
        say(f"{missing} is missing ({PROD_STACK.install})")
        return 2
    started = time.monotonic()
    directory = Path(tempfile.mkdtemp(prefix="ekort-prod-check-"))
    directory.chmod(0o755)
    prefix = os.environ.get("PROD_CHECK_DB_PREFIX", "ekort_prod_check")
    suffix = secrets.token_hex(4)
    name, restored = f"{prefix}_{suffix}", f"{prefix}_{suffix}_restored"
    server = server_url()
    ports = Ports(free_port(), free_port(), free_port(), (free_port(), free_port()))
    stack = Stack(directory, environment(directory, database_url(server, name), ports), ports)
    try:
        with databases(name, restored), ExitStack() as cleanup:
            prepare(stack)
            cleanup.callback(start(stack, ports))
            chain = stack.ekort("ca", "chain")
            stack.nginx = cleanup.enter_context(
                nginx(directory, ports, client_ca=chain, static=directory / "data" / "static")
            )
            say(f"nginx: {stack.nginx.portal} (portal), {stack.nginx.public} (OCSP, CRL)")
            smoke(stack)
            backup_round_trip(stack, database_url(server, restored))
    except CheckFailed as failure:
        say(f"FAILED: {failure}")
        for log in sorted(directory.glob("*.log")):
            say(f"--- {log.name} (last lines)")
            print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))
        return 1
    finally:
        if os.environ.get("PROD_CHECK_KEEP") != "1":
            shutil.rmtree(directory, ignore_errors=True)
    say(f"passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
