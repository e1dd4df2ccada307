"""Request ids, metrics, health and readiness for the portal and the API (one Django process).

- `RequestIdMiddleware` (first in MIDDLEWARE): each request gets an id, used by every log line
  written while it is served (`ekort.logs.REQUEST_ID`) and returned as `X-Request-ID`. The
  proxy's `X-Request-ID` is kept when the request comes from an address in
  EKORT_TRUSTED_PROXIES (nginx sets it to `$request_id`), so that its access log and ekort's
  logs name the same id; from anyone else it is replaced, never believed.
- `MetricsMiddleware`: requests by route (the URL pattern, never the path: no identity number
  or id becomes a label), method and status, and their latency by route.
- `ProbesMiddleware`: `/health/` (alive: answers without the database), `/ready/` (can serve:
  the database answers; 503 when not), `/metrics` (Prometheus text, to EKORT_METRICS_ADDRESSES
  only and never through the proxy). They are answered before sessions, sign-in and Django's
  check of the Host header, so that a probe on 127.0.0.1 needs no public host name, and
  settings.SECURE_REDIRECT_EXEMPT spares them the redirect to HTTPS.

Under gunicorn with several workers, each worker counts its own requests: set
PROMETHEUS_MULTIPROC_DIR (an empty directory, emptied at each start) in the environment of
gunicorn and of `ekort jobs run`, and `/metrics` adds up every process's figures
(prometheus_client's multiprocess mode), the jobs' included. Without it, `/metrics` tells the
one process that answered (docs/operations.md, "Metrics").
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ekort.domain.errors import NotFound
from ekort.logs import REQUEST_ID
from ekort.services import clock
from ekort.services.ca.authority import issuing_ca
from ekort.store.models import AuditHead, CertificateAuthority

log = logging.getLogger("ekort.web")

# What generate_latest writes: the classic text format (names in underscores).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_GOOD_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# In multiprocess mode each process writes its figures to files there: the directory must be
# there before the first figure is (the portal's gunicorn empties it at start).
if _multiprocess_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
    os.makedirs(_multiprocess_dir, exist_ok=True)

REQUESTS = Counter(
    "ekort_http_requests",
    "HTTP requests answered by the portal and the API, by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "ekort_http_request_duration_seconds",
    "Time to answer a request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SIGN_IN_FAILURES = Counter(
    "ekort_sign_in_failures",
    "Failed sign-ins (a wrong password, an unknown account, a locked-out attempt).",
)
_METHODS = frozenset({"GET", "POST", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_id_of(request: HttpRequest) -> str:
    offered = request.headers.get("X-Request-ID", "")
    if (
        offered
        and request.META.get("REMOTE_ADDR") in settings.EKORT_TRUSTED_PROXIES
        and _GOOD_ID.fullmatch(offered)
    ):
        return offered
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        # Not reset on the way out: Django logs an error raised by a middleware or by the page
        # for 404 or 500 outside every middleware, and that line must name the request too.
        # The next request on this thread sets its own.
        REQUEST_ID.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def route_of(request: HttpRequest) -> str:
    probe: str | None = getattr(request, "ekort_probe", None)
    if probe is not None:
        return probe
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + str(match.route)


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)
        return response


def count_failed_sign_in(sender: Any, **kwargs: Any) -> None:
    SIGN_IN_FAILURES.inc()


def connect_signals() -> None:
    user_login_failed.connect(count_failed_sign_in, dispatch_uid="ekort.web.observe.sign_in")


class AuditHeadCollector(Collector):
    """The audit head's sequence, read from the database at each scrape: it grows with every
    entry, and a sequence that goes back is a trail cut short (docs/operations.md)."""

    def collect(self) -> Iterator[Metric]:
        head = AuditHead.objects.values_list("seq", flat=True).first()
        if head is not None:
            yield GaugeMetricFamily(
                "ekort_audit_head_sequence",
                "The sequence number of the newest audit entry.",
                value=head,
            )


class CertificateAuthorityCollector(Collector):
    """When each CA ekort signs with ends, and per assurance level when the issuing CA that
    certifies new cards ends: renewed (`ekort ca renew`) less than a card's validity before
    that, new cards' certificates are cut short to its end (docs/operations.md, the alert)."""

    def collect(self) -> Iterator[Metric]:
        every = GaugeMetricFamily(
            "ekort_ca_not_after_timestamp_seconds",
            "When the CA's certificate ends (Unix time).",
            labels=["ca", "role"],
        )
        for name, role, ends in CertificateAuthority.objects.values_list(
            "name", "role", "not_after"
        ).order_by("pk"):
            every.add_metric([name, role], ends.timestamp())
        yield every
        current = GaugeMetricFamily(
            "ekort_issuing_ca_not_after_timestamp_seconds",
            "When the issuing CA that certifies new cards at this assurance level ends.",
            labels=["level"],
        )
        now = clock.now()
        for level in ("3", "2"):
            try:
                current.add_metric([level], issuing_ca(level, now).not_after.timestamp())
            except NotFound:
                continue  # none in force: `ekort ca init` or a renewal is due, and says so
        yield current


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # every worker's and job's files
    else:
        registry.register(_ThisProcess())
    registry.register(AuditHeadCollector())
    registry.register(CertificateAuthorityCollector())
    return registry


class _ThisProcess(Collector):
    """The process's default registry: its counters, its CPU and memory."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def may_read_metrics(request: HttpRequest) -> bool:
    return (
        request.META.get("REMOTE_ADDR") in settings.EKORT_METRICS_ADDRESSES
        and "HTTP_X_FORWARDED_FOR" not in request.META
    )


def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        return HttpResponse("not found\n", status=404, content_type="text/plain; charset=utf-8")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE)


def health(request: HttpRequest) -> JsonResponse:
    """Alive: the process answers. It does not touch the database (`ready` does)."""
    return JsonResponse(
        {"status": "ok", "simulated_time": clock.is_simulated(), "now": clock.now().isoformat()}
    )


def ready(request: HttpRequest) -> JsonResponse:
    """Can serve: the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        log.exception("Not ready: the database does not answer.")
        return JsonResponse({"status": "not ready", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/health/": health,
    "/ready/": ready,
    "/metrics": metrics,
}


class ProbesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        request.ekort_probe = request.path_info  # type: ignore[attr-defined]
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse("method not allowed\n", status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return probe(request)
