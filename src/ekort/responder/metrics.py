"""The responder's Prometheus metrics, served at `GET /metrics` (docs/operations.md, "Metrics").

The request path only adds to plain integers (one dict item per request and per answer, one
histogram bucket): every request is handled on the event loop's one thread, and so is a scrape,
so nothing needs a lock, and prometheus_client's own counters (a lock each) stay off the hot
path. A scrape turns them into metric families (`collect`), with what the store knows: how many
responses it holds, whether the database answered its last poll, how long ago it last read it,
the age of the newest status it holds, and a replica's lag.

Labels are bounded: the route is one of a handful of names, never the path (an OCSP GET puts
the request in the path), and the answer's status one of the OCSP statuses.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ekort.services import clock

from .signing import OnDemandSigner
from .store import GOOD, REVOKED, UNKNOWN, ResponseStore

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
# Seconds. An answer from memory takes well under a millisecond; one signed on demand a few.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# What an answer can be: a certificate status, or an OCSP error status.
ANSWERS = (
    GOOD,
    REVOKED,
    UNKNOWN,
    "malformed_request",
    "unauthorized",
    "try_later",
    "internal_error",
)
ROUTES = ("/ocsp", "/health", "/ready", "/metrics", "other")


class ResponderMetrics(Collector):
    def __init__(self, store: ResponseStore, signer: OnDemandSigner) -> None:
        self.store = store
        self.signer = signer
        self.answers: dict[str, int] = dict.fromkeys(ANSWERS, 0)
        # (route, method, HTTP status) -> requests
        self.requests: dict[tuple[str, str, int], int] = {}
        # route -> requests per bucket of BUCKETS, and one more past the last; their sum
        self.latency: dict[str, list[int]] = {route: [0] * (len(BUCKETS) + 1) for route in ROUTES}
        self.latency_sum: dict[str, float] = dict.fromkeys(ROUTES, 0.0)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
        ProcessCollector(registry=self.registry)  # CPU seconds, memory, open files

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """One request (`Responder._http` does the same inline)."""
        key = (route, method, status)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        self.latency[route][bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum[route] += seconds

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "ekort_ocsp_http_requests",
            "HTTP requests the OCSP responder answered, by route, method and HTTP status.",
            labels=["route", "method", "status"],
        )
        for (route, method, code), count in sorted(self.requests.items()):
            requests.add_metric([route, method, str(code)], count)
        yield requests
        latency = HistogramMetricFamily(
            "ekort_ocsp_http_request_duration_seconds",
            "Time from a request's arrival to its answer, by route.",
            labels=["route"],
        )
        for route in ROUTES:
            counts = self.latency[route]
            total = 0
            buckets = []
            for bound, count in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                total += count
                buckets.append((bound, total))
            latency.add_metric([route], buckets, self.latency_sum[route])
        yield latency
        answers = CounterMetricFamily(
            "ekort_ocsp_answers",
            "OCSP answers, by the certificate status given or the OCSP error status.",
            labels=["status"],
        )
        for given, count in self.answers.items():
            answers.add_metric([given], count)
        yield answers
        store = self.store
        yield GaugeMetricFamily(
            "ekort_ocsp_responses_held",
            "Pre-signed responses held in memory.",
            value=len(store.responses),
        )
        yield GaugeMetricFamily(
            "ekort_ocsp_on_demand_cached",
            "Responses signed on demand and cached.",
            value=self.signer.cached(),
        )
        yield GaugeMetricFamily(
            "ekort_ocsp_database_up",
            "1 when the responder's last poll read its database (a replica, when configured); "
            "0 while it answers from memory alone.",
            value=1 if store.database_up else 0,
        )
        yield GaugeMetricFamily(
            "ekort_ocsp_seconds_since_poll",
            "Seconds since the responder last read its database: nothing newer is known.",
            value=store.seconds_since_poll(),
        )
        if store.newest:
            yield GaugeMetricFamily(
                "ekort_ocsp_newest_status_age_seconds",
                "Seconds since the newest status the responder holds was signed (thisUpdate).",
                value=max(0.0, clock.now().timestamp() - store.newest),
            )
        if store.replica_lag is not None:
            yield GaugeMetricFamily(
                "ekort_ocsp_replica_lag_seconds",
                "How far the replica the responder reads is behind the primary, as it said at "
                "the last poll that read it (0: all it received is replayed).",
                value=store.replica_lag,
            )
