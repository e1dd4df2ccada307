"""Time `ekort.pki.crl.build_crl` at 10k, 100k and 1M entries (EC P-256 issuer, random
128-bit serials, a quarter each of keyCompromise, certificateHold, superseded and no reason).

    .venv/bin/python scripts/measure_crl.py [COUNT ...]

"make entries" is the caller's part (the RevokedEntry list); "build_crl" is everything else:
the checks, a RevokedCertificate per entry, signing, the signature check and the DER, all by
`cryptography`'s builders. Not a test: a million entries take seconds.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ekort.pki.crl import RevokedEntry, build_crl
from ekort.pki.signing_only import signing_only

REASONS = [
    x509.ReasonFlags.key_compromise,
    x509.ReasonFlags.certificate_hold,
    x509.ReasonFlags.superseded,
    None,
]


def issuer() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Measure Issuing CA")])
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


def main(argv: list[str]) -> None:
    counts = [int(a) for a in argv] or [10_000, 100_000, 1_000_000]
    cert, key = issuer()
    signing_key = signing_only(key)
    rng = random.Random(5280)  # noqa: S311 (test data, not secrets)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    print(
        f"{'entries':>10} {'make entries':>13} {'build_crl':>10} {'total':>8} {'bytes':>12}",
        flush=True,
    )
    for count in counts:
        started = time.perf_counter()
        entries = [
            RevokedEntry(
                rng.getrandbits(127) | 1 << 127,
                now - dt.timedelta(seconds=rng.randrange(10**8)),
                REASONS[i % 4],
            )
            for i in range(count)
        ]
        made = time.perf_counter()
        der = build_crl(
            issuer_cert=cert,
            signing_key=signing_key,
            entries=entries,
            number=count,
            this_update=now,
            next_update=now + dt.timedelta(days=1),
        )
        built = time.perf_counter()
        print(
            f"{count:>10} {made - started:>12.2f}s {built - made:>9.2f}s"
            f" {built - started:>7.2f}s {len(der):>12}",
            flush=True,
        )
        del entries, der


if __name__ == "__main__":
    main(sys.argv[1:])
