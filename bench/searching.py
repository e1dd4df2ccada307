"""The portal search benchmark's work (see bench.search): population, server, sign-in, load."""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from datetime import date, datetime
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection

from ekort.domain.timekeeping import STOCKHOLM
from ekort.domain.vocabulary import Role
from ekort.services import search
from ekort.store.models import Account

from .core import POSTGRES, Context, Result, Target, percentile
from .load import run_open_loop
from .population import Cards, card_number, generate, identity_number

HOST = "127.0.0.1"
PATH = "/kortkontor/arbete/"
RATE = 50.0
TARGET = Target("<=", 100.0, "p95 under 100 ms at 50 requests/s")
PASSWORD = "bench-search-password-7f3a"  # noqa: S105 - a throwaway account in a throwaway database
ISSUED = datetime(2024, 3, 1, 10, 0, tzinfo=STOCKHOLM)


def size(ctx: Context) -> int:
    if ctx.quick:
        return 20_000
    return 1_000_000 if ctx.database == POSTGRES else 100_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _id_admin() -> None:
    user = User.objects.create_user("bench-idadmin", password=PASSWORD)
    group, _ = Group.objects.get_or_create(name=Role.ID_ADMIN.value)
    user.groups.add(group)
    Account.objects.create(user=user)


def plans(first_person: int, first_card: int) -> dict[str, str]:
    """EXPLAIN of the two lookups (PostgreSQL), for the notes: they must use indexes."""
    now = datetime.now(STOCKHOLM)
    queries = {
        "identity number": identity_number(first_person - 1),
        "card number": card_number(settings.EKORT_CARD_NUMBER_PREFIX, first_card),
    }
    found = {}
    for kind, text in queries.items():
        sql, params = search.persons_matching(text, now=now).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        found[kind] = plan
    return found


def _cookies(headers: list[tuple[str, str]], jar: dict[str, str]) -> None:
    for name, value in headers:
        if name.lower() == "set-cookie":
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(value)
            jar.update({key: morsel.value for key, morsel in cookie.items()})


def _request(
    port: int, method: str, path: str, jar: dict[str, str], body: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = HTTPConnection(HOST, port, timeout=30)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    content = response.read()
    _cookies(response.getheaders(), jar)
    conn.close()
    return response.status, content


def sign_in(port: int) -> dict[str, str]:
    """Sign in like a browser: GET the form (CSRF cookie and token), POST it; returns the
    cookies (session and the CSRF token as rotated at sign-in)."""
    jar: dict[str, str] = {}
    status, page = _request(port, "GET", "/logga-in/", jar)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or token is None:
        raise RuntimeError(f"sign-in page: HTTP {status}")
    form = {"username": "bench-idadmin", "password": PASSWORD}
    status, _ = _request(
        port, "POST", "/logga-in/", jar, form | {"csrfmiddlewaretoken": token[1].decode()}
    )
    if status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"sign-in: HTTP {status}")
    status, _ = _request(port, "GET", PATH, jar)
    if status != 200 or "csrftoken" not in jar:
        raise RuntimeError(f"the search page: HTTP {status}")
    return jar


def start_server(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_DEBUG": "0"}
    log = (workdir / "gunicorn.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "ekort.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        "2",
    ]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {(workdir / 'gunicorn.log').read_text()[-500:]}")
        try:
            status, _ = _request(port, "GET", "/logga-in/", {})
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 30 s")


def run(ctx: Context) -> list[Result]:
    count = size(ctx)
    orderer = User.objects.create_user("bench-orderer", password=None)
    started = time.perf_counter()
    generated = generate(
        Cards(
            count=count,
            state="active",
            ordered_by_id=orderer.pk,
            prefix=settings.EKORT_CARD_NUMBER_PREFIX,
            at=ISSUED,
            valid_until=date(2029, 3, 1),
        )
    )
    generating = time.perf_counter() - started
    _id_admin()
    explained = (
        plans(generated.first_person, generated.first_card) if ctx.database == POSTGRES else {}
    )
    port = _free_port()
    server = start_server(port, ctx.workdir)
    seconds = 5.0 if ctx.quick else 20.0
    results = []
    try:
        jar = sign_in(port)
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        token = jar["csrftoken"]
        pick = random.Random(7)  # noqa: S311 - which persons to look up, not a secret
        offset = generated.first_person - 1
        kinds = {
            "identity number": lambda i: identity_number(offset + i),
            "card number": lambda i: card_number(
                settings.EKORT_CARD_NUMBER_PREFIX, generated.first_card + i
            ),
        }
        for kind, text_of in kinds.items():
            texts = [text_of(pick.randrange(count)) for _ in range(int(RATE * seconds))]

            def make(i: int, texts: list[str] = texts) -> tuple[str, str, bytes, dict[str, str]]:
                body = urllib.parse.urlencode({"query": texts[i], "csrfmiddlewaretoken": token})
                headers = {
                    "Cookie": cookie,
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                return "POST", PATH, body.encode(), headers

            outcome = run_open_loop(
                HOST,
                port,
                make,
                rate=RATE,
                seconds=seconds,
                check=lambda status, body: status == 200,  # 404 would be "nobody found"
            )
            ms = [s * 1000 for s in outcome.latencies]
            plan = explained.get(kind, "")
            uses_index = "Seq Scan" not in plan if plan else None
            notes = (
                f"{count:,} persons ({generating:.0f} s to generate); gunicorn, 2 sync workers; "
                f"{outcome.sent} requests over {seconds:.0f} s, open loop; "
                f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
                f"max {max(ms, default=float('nan')):.1f} ms; errors {outcome.errors}"
                + (f" ({outcome.first_error})" if outcome.errors else "")
                + (
                    f"; EXPLAIN: {'index scans only' if uses_index else 'a sequential scan'}"
                    if plan
                    else ""
                )
            )
            results.append(
                Result(
                    benchmark="search",
                    metric=f"p95 by {kind}"
                    + ("" if count == 1_000_000 else f" ({count:,} persons)"),
                    value=percentile(ms, 95),
                    unit="ms",
                    samples=[percentile(ms, 50), percentile(ms, 95), percentile(ms, 99)],
                    target=TARGET if count == 1_000_000 else None,
                    notes=notes,
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return results
