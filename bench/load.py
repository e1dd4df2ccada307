"""An open-loop load generator on threads and http.client (no third-party client).

Request i is due at `start + i / rate`, whatever happened to the others; a pool of threads
sends each when due and its latency is counted from that due time, not from when a thread got
round to it. If the server falls behind, the queueing shows up in the latencies instead of
silently lowering the rate (coordinated omission).
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Request = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, from the due time
    errors: int = 0
    first_error: str = ""
    sent: int = 0


def schedule(start: float, rate: float, count: int) -> list[float]:
    """The due times of `count` requests at `rate` per second from `start`."""
    return [start + i / rate for i in range(count)]


def run_open_loop(
    host: str,
    port: int,
    make: Callable[[int], Request],
    *,
    rate: float,
    seconds: float,
    check: Callable[[int, bytes], bool],
    threads: int = 32,
) -> Outcome:
    count = int(rate * seconds)
    due = schedule(time.perf_counter() + 0.2, rate, count)
    todo: queue.Queue[int | None] = queue.Queue()
    for i in range(count):
        todo.put(i)
    outcome = Outcome()
    lock = threading.Lock()

    def worker() -> None:
        while True:
            i = todo.get()
            if i is None:
                return
            wait = due[i] - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            method, path, body, headers = make(i)
            error = ""
            try:
                conn = http.client.HTTPConnection(host, port, timeout=30)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                conn.close()
                if not check(response.status, data):
                    error = f"HTTP {response.status}"
            except OSError as exc:
                error = repr(exc)
            elapsed = time.perf_counter() - due[i]
            with lock:
                outcome.sent += 1
                if error:
                    outcome.errors += 1
                    outcome.first_error = outcome.first_error or error
                else:
                    outcome.latencies.append(elapsed)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for _ in pool:
        todo.put(None)
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcome
