"""The signing limit: raw signatures per second of an issuing CA's key, on one core, through
`cryptography` (the library ekort signs with). Everything else is reported against it."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .core import Benchmark, Context, Result, median_of, pin_to_one_core

MESSAGE = b"\x30" * 300  # about the size of a certificate's TBS part


def signatures_per_second(seconds: float) -> float:
    key = ec.generate_private_key(ec.SECP256R1())
    algorithm = ec.ECDSA(hashes.SHA256())
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(200):
            key.sign(MESSAGE, algorithm)
        count += 200
    return count / (time.perf_counter() - start)


def run(ctx: Context) -> list[Result]:
    pin_to_one_core()
    runs = 3
    samples = [signatures_per_second(0.5 if ctx.quick else 2.0) for _ in range(runs)]
    return [
        Result(
            benchmark="signing",
            metric="ECDSA P-256 signatures per second, one core",
            value=median_of(samples),
            unit="sig/s",
            runs=runs,
            samples=samples,
        )
    ]


BENCHMARK = Benchmark("signing", (), run)
