"""Request ids, metrics, health and readiness of the portal and the API (ekort.web.observe),
and JSON log lines with the traceback of a server error (ekort.logs)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from ekort import urls as ekort_urls
from ekort.logs import JsonFormatter
from ekort.services import clock

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = "ekort_http_requests_total"


def broken(request: HttpRequest, n: int = 0) -> HttpResponse:
    raise RuntimeError("the view broke")


def fine(request: HttpRequest) -> HttpResponse:
    logging.getLogger("ekort.web").info("a line while serving")
    return HttpResponse("ok")


urlpatterns = [path("broken/<int:n>/", broken), path("fine/", fine), *ekort_urls.urlpatterns]


def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- request ids -------------------------------------------------------------------------------


def test_every_response_names_a_request_id_of_its_own(client, db):
    first, second = client.get("/"), client.get("/")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_the_trusted_proxy_s_request_id_is_kept(client, db):
    response = client.get("/", HTTP_X_REQUEST_ID="0123abcd" * 4, REMOTE_ADDR="127.0.0.1")
    assert response["X-Request-ID"] == "0123abcd" * 4


@pytest.mark.parametrize(
    ("offered", "address"),
    [
        ("chosen-by-the-client", "203.0.113.9"),  # not the proxy
        ("x" * 65, "127.0.0.1"),  # too long
        ('bad"id\nwith a line', "127.0.0.1"),  # would break a log line or a header
    ],
)
def test_any_other_request_id_is_replaced(client, db, offered, address):
    response = client.get("/", HTTP_X_REQUEST_ID=offered, REMOTE_ADDR=address)
    assert response["X-Request-ID"] != offered
    assert len(response["X-Request-ID"]) == 32


def test_log_lines_while_serving_carry_the_request_id(client, settings, caplog):
    settings.ROOT_URLCONF = __name__
    with caplog.at_level(logging.INFO, logger="ekort.web"):
        logging.getLogger("ekort.web").addHandler(caplog.handler)
        try:
            response = client.get("/fine/", HTTP_X_REQUEST_ID="req-1")
        finally:
            logging.getLogger("ekort.web").removeHandler(caplog.handler)
    assert response["X-Request-ID"] == "req-1"
    record = next(r for r in caplog.records if r.getMessage() == "a line while serving")
    line = json.loads(JsonFormatter().format(record))
    assert (line["request_id"], line["level"], line["logger"]) == ("req-1", "INFO", "ekort.web")


def test_a_server_error_is_logged_with_its_traceback_and_request_id(settings, caplog):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    request_log = logging.getLogger("django.request")
    request_log.addHandler(caplog.handler)
    try:
        response = client.get("/broken/7/", HTTP_X_REQUEST_ID="req-500")
    finally:
        request_log.removeHandler(caplog.handler)
    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-500"
    record = next(r for r in caplog.records if r.name == "django.request")
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR"
    assert line["request_id"] == "req-500"
    assert "Traceback (most recent call last)" in line["exception"]
    assert "RuntimeError: the view broke" in line["exception"]
    assert "request" not in line  # the request object (cookies, body) is never written


def test_production_logs_server_errors_as_json_lines_on_standard_error(tmp_path):
    """The settings as production has them: Django's server errors (django.request) go to
    standard error as one JSON line each, with the traceback; nothing is left unlogged."""
    secret = "s3cret-for-this-test-only-0123456789-abcdefghijklmnop"
    env = {
        **os.environ,
        "EKORT_ENV": "production",
        "DJANGO_SECRET_KEY": secret + "1",
        "EKORT_AUDIT_KEY": secret + "2",
        "EKORT_SECRETS_KEY": secret + "3",
        "EKORT_KEY_PASSPHRASE": secret + "4",
        "EKORT_TEST_SYSTEM": "1",
        "DJANGO_ALLOWED_HOSTS": "ekort.example",
        "EKORT_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "ekort.settings",
    }
    env.pop("EKORT_LOG_FORMAT", None)
    env.pop("EKORT_SIMULATED_NOW", None)
    program = (
        "import django, logging\n"
        "django.setup()\n"
        "from ekort.logs import REQUEST_ID\n"
        "REQUEST_ID.set('req-prod')\n"
        "try:\n"
        "    raise ValueError('kaputt')\n"
        "except ValueError:\n"
        "    logging.getLogger('django.request').error('Internal Server Error: /x/', "
        "exc_info=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(text) for text in done.stderr.splitlines() if text.startswith("{")]
    assert line["message"] == "Internal Server Error: /x/"
    assert line["request_id"] == "req-prod"
    assert "ValueError: kaputt" in line["exception"]


def test_a_json_line_leaves_out_what_must_not_be_written():
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started %d", (7,), None)
    record.color_message = "Started \x1b[36m%d\x1b[0m"
    record.password = "hunter2"
    record.card_id = 42
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "Started 7"
    assert line["card_id"] == 42
    assert "color_message" not in line and "password" not in line


def test_no_access_line_per_request_reaches_a_handler(settings):
    """uvicorn writes an access line for each request whenever `uvicorn.access` has a handler
    to reach: the OCSP responder must not pay for one (nginx keeps the access log)."""
    import logging.config

    from ekort.logs import logging_config

    for json_lines in (True, False):
        logging.config.dictConfig(logging_config(json_lines=json_lines))
        assert not logging.getLogger("uvicorn.access").hasHandlers()
        assert logging.getLogger("uvicorn.error").hasHandlers()
    logging.config.dictConfig(settings.LOGGING)


# --- health, readiness and metrics -------------------------------------------------------------


def test_health_is_alive_and_ready_asks_the_database(client, db):
    health = client.get("/health/")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    ready = client.get("/ready/")
    assert (ready.status_code, ready.json()["database"]) == (200, "up")
    assert client.post("/ready/").status_code == 405


def test_probes_answer_a_host_name_django_would_refuse(client, db):
    """A probe on the server's own address names no public host; the pages refuse it."""
    assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400
    assert client.get("/health/", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/metrics", HTTP_HOST="10.1.2.3:8000").status_code == 200


def test_ready_says_when_the_database_does_not_answer(client, db, monkeypatch):
    from ekort.web import observe

    class Down:
        def cursor(self) -> None:
            raise ConnectionError("no database")

    monkeypatch.setattr(observe, "connection", Down())
    ready = client.get("/ready/")
    assert (ready.status_code, ready.json()["database"]) == (503, "down")
    assert client.get("/health/").status_code == 200


def test_requests_are_counted_by_route_not_by_path(client, db, settings):
    settings.ROOT_URLCONF = __name__
    before = scrape(client)
    for n in (1, 2, 3):
        Client(raise_request_exception=False).get(f"/broken/{n}/")
    client.get("/fine/")
    client.get("/no-such-page/")
    after = scrape(client)
    route = {"route": "/broken/<int:n>/", "method": "GET", "status": "500"}
    assert value(after, REQUESTS, **route) - value(before, REQUESTS, **route) == 3
    fine = {"route": "/fine/", "method": "GET", "status": "200"}
    assert value(after, REQUESTS, **fine) - value(before, REQUESTS, **fine) == 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, REQUESTS, **unmatched) - value(before, REQUESTS, **unmatched) == 1
    assert not any("/broken/1/" in str(labels) for _, labels in after)
    count = "ekort_http_request_duration_seconds_count"
    assert value(after, count, route="/fine/") - value(before, count, route="/fine/") == 1


def test_metrics_say_the_audit_head_s_sequence(client, db):
    from ekort.services import audit
    from ekort.store.models import AuditHead

    audit.append([])  # nothing to append: the head is made all the same, or left
    head = AuditHead.objects.values_list("seq", flat=True).first()
    samples = scrape(client)
    if head is None:
        assert ("ekort_audit_head_sequence", ()) not in samples
    else:
        assert value(samples, "ekort_audit_head_sequence") == head


def test_metrics_count_failed_sign_ins(client, db):
    before = value(scrape(client), "ekort_sign_in_failures_total")
    client.post("/logga-in/", {"username": "nobody", "password": "wrong"})
    assert value(scrape(client), "ekort_sign_in_failures_total") == before + 1


@pytest.mark.parametrize(
    "extra",
    [
        {"REMOTE_ADDR": "203.0.113.9"},  # not a metrics address
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},  # via the proxy
    ],
)
def test_metrics_are_for_the_metrics_addresses_only(client, db, extra):
    response = client.get("/metrics", **extra)
    assert response.status_code == 404
    assert b"ekort_" not in response.content


def test_the_jobs_count_the_cards_each_job_moved(db, tmp_path, monkeypatch):
    target = tmp_path / "jobs.prom"
    monkeypatch.setenv("EKORT_JOB_METRICS_FILE", str(target))
    before = REGISTRY.get_sample_value("ekort_job_cards_total", {"job": "notices"}) or 0.0
    call_command("jobs", "run", stdout=io.StringIO(), stderr=io.StringIO())
    assert REGISTRY.get_sample_value("ekort_job_last_run_cards", {"job": "notices"}) == 0
    assert REGISTRY.get_sample_value("ekort_job_cards_total", {"job": "notices"}) == before
    assert REGISTRY.get_sample_value("ekort_job_last_run_timestamp_seconds") > 0
    written = target.read_text()
    assert "ekort_job_last_run_cards{" in written
    assert "ekort_job_last_run_seconds" in written


def test_metrics_say_when_each_ca_ends_and_the_issuing_ca_to_renew(client, pki, settings):
    """An issuing CA must be renewed (`ekort ca renew`) a card's validity before it ends, or new
    cards' certificates are cut short to its end: the metrics give each CA's end and, per
    assurance level, the end of the CA that certifies new cards, for an alert to watch."""
    from ekort.services.ca import authority

    settings.EKORT_SIMULATED_NOW = "2024-02-01T09:00+01:00"
    clock.reset()
    samples = scrape(client)
    for ca in (pki.root, pki.issuing["3"], pki.issuing["2"]):
        end = value(samples, "ekort_ca_not_after_timestamp_seconds", ca=ca.name, role=ca.role)
        assert end == ca.not_after.timestamp()
    old = pki.issuing["3"]
    assert (
        value(samples, "ekort_issuing_ca_not_after_timestamp_seconds", level="3")
        == old.not_after.timestamp()
    )
    new = authority.renew_issuing_ca(old, now=clock.now())
    samples = scrape(client)
    assert (
        value(samples, "ekort_issuing_ca_not_after_timestamp_seconds", level="3")
        == new.not_after.timestamp()
    )
    assert (
        value(samples, "ekort_ca_not_after_timestamp_seconds", ca=old.name, role="issuing")
        == old.not_after.timestamp()
    )
