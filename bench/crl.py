"""A full CRL at 10,000, 100,000 and 1,000,000 revoked entries: time and DER size.

Times `ekort.pki.crl.build_crl` (the checks, a RevokedCertificate per entry, signing, the
signature check and the DER, all by `cryptography`'s builders) with an EC P-256 issuer, random
128-bit serials and a quarter each of keyCompromise, certificateHold, superseded and no reason,
on one core. Making the entries (the caller's part, from database rows in ekort) is timed
apart and not included.
"""

from __future__ import annotations

import datetime as dt
import gc
import random

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ekort.pki.crl import RevokedEntry, build_crl
from ekort.pki.signing_only import signing_only

from .core import Benchmark, Context, Result, Target, median_of, pin_to_one_core, stopwatch

FULL = (10_000, 100_000, 1_000_000)
QUICK = (10_000, 100_000)
MILLION_TARGET = Target("<=", 12.0, "a million entries under 12 s")
REASONS = [
    x509.ReasonFlags.key_compromise,
    x509.ReasonFlags.certificate_hold,
    x509.ReasonFlags.superseded,
    None,
]


def issuer() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Issuing CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def entries(count: int, now: dt.datetime, seed: int = 5280) -> list[RevokedEntry]:
    """`count` revoked entries: distinct 128-bit serials, times in the past, mixed reasons."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    return [
        RevokedEntry(
            rng.getrandbits(127) | 1 << 127,
            now - dt.timedelta(seconds=rng.randrange(10**8)),
            REASONS[i % 4],
        )
        for i in range(count)
    ]


def run(ctx: Context) -> list[Result]:
    pin_to_one_core()
    cert, key = issuer()
    signing_key = signing_only(key)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    results = []
    for count in QUICK if ctx.quick else FULL:
        made = entries(count, now)
        runs = 3 if count <= 100_000 else 2
        samples, size = [], 0
        for _ in range(runs):
            gc.collect()
            with stopwatch() as took:
                der = build_crl(
                    issuer_cert=cert,
                    signing_key=signing_key,
                    entries=made,
                    number=count,
                    this_update=now,
                    next_update=now + dt.timedelta(days=1),
                )
            samples.append(took[0])
            size = len(der)
            del der
        del made
        results.append(
            Result(
                benchmark="crl",
                metric=f"full CRL, {count:,} entries",
                value=median_of(samples),
                unit="s",
                runs=runs,
                samples=samples,
                target=MILLION_TARGET if count == 1_000_000 else None,
            )
        )
        results.append(
            Result(
                benchmark="crl",
                metric=f"CRL size, {count:,} entries",
                value=size / 1e6,
                unit="MB",
                notes=f"{size:,} bytes DER, {size / count:.1f} per entry",
            )
        )
    return results


BENCHMARK = Benchmark("crl", (), run)
