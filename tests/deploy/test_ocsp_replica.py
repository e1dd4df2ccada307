"""OCSP from a read replica (issue 14, point 3), with real programs only: a private PostgreSQL
primary and its streaming replica (tests/deploy/replica.py), two `ekort ocsp serve` reading the
replica, and nginx with deploy/nginx/ekort.conf in front (tests/deploy/ocsp_stack.py).

- A block committed on the primary is answered "revoked" through nginx within a second.
- A responder killed: every request is still answered (nginx retries the other).
- The replica stopped: the responders answer from memory and say so in /health and /metrics;
  a block made meanwhile is answered once the replica is back.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests import tools
from tests.deploy.ocsp_stack import Stack, get_json, get_text, ocsp_stack, post, status_of
from tests.deploy.replica import POSTGRES_SERVER, wait_until
from tests.deploy.stack import NGINX

pytestmark = [tools.needs(POSTGRES_SERVER, NGINX)]


def ask(stack: Stack, sample: dict, url: str | None = None) -> str:
    der = Path(sample["request"]).read_bytes()
    return status_of(post(url or stack.ocsp, der), sample["serial"])


def metric(url: str, name: str) -> float | None:
    for line in get_text(url + "/metrics").splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


@pytest.fixture(scope="module")
def stack():
    with ocsp_stack(count=6) as running:
        yield running


def test_every_answer_through_nginx_is_the_database_s(stack):
    for sample in stack.world["samples"]:
        assert ask(stack, sample) == stack.expected(sample), sample
    for responder in stack.responders:
        status, health = get_json(responder.url + "/health")
        assert (status, health["database"]) == (200, "up")
        assert metric(responder.url, "ekort_ocsp_database_up") == 1
        lag = metric(responder.url, "ekort_ocsp_replica_lag_seconds")
        assert lag is not None and lag >= 0  # it reads a replica, and says how far behind


def test_a_block_on_the_primary_is_revoked_through_nginx_within_a_second(stack):
    sample = stack.samples("good")[0]
    assert ask(stack, sample) == "good"
    committed = stack.block(sample["card_id"])
    revoked = wait_until(lambda: ask(stack, sample) == "revoked" and time.time(), 5, 0.005)
    assert revoked, "not revoked within 5 s"
    assert revoked - committed < 1.0, f"revoked {revoked - committed:.3f} s after the commit"
    # nginx asks either responder: each has it within its next poll.
    for responder in stack.responders:
        direct = responder.url + "/ocsp"
        assert wait_until(lambda: ask(stack, sample, direct) == "revoked", 2, 0.01)  # noqa: B023


def test_a_killed_responder_is_passed_over(stack):
    first, second = stack.responders
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    try:
        for sample in stack.world["samples"] * 3:
            assert ask(stack, sample) == stack.expected(sample)
        assert get_json(second.url + "/health")[0] == 200
    finally:
        stack.responders[0] = stack.start_responder(first.port)


def test_without_the_replica_answers_come_from_memory_and_catch_up_after(stack):
    sample = stack.samples("good")[1]
    responder = stack.responders[1]
    stack.db.stop_replica()
    try:
        down = wait_until(lambda: get_json(responder.url + "/health")[1]["database"] == "down", 10)
        assert down, "the responder does not say its database is down"
        _, health = get_json(responder.url + "/health")
        assert health["answering_from"] == "memory"
        assert get_json(responder.url + "/ready")[0] == 200  # it still serves
        assert metric(responder.url, "ekort_ocsp_database_up") == 0
        assert (metric(responder.url, "ekort_ocsp_seconds_since_poll") or 0) > 0.2
        for each in stack.world["samples"]:
            assert ask(stack, each) == stack.expected(each)  # from memory, as before
        stack.block(sample["card_id"])  # on the primary, while the replica is away
        time.sleep(3 * 0.2)
        assert ask(stack, sample) == "good"  # nobody can know yet
    finally:
        stack.db.start_replica()
    caught_up = wait_until(lambda: ask(stack, sample) == "revoked", 30, 0.05)
    assert caught_up, "the block made while the replica was away is not answered"
    assert wait_until(lambda: get_json(responder.url + "/health")[1]["database"] == "up", 10)
    assert metric(responder.url, "ekort_ocsp_database_up") == 1
