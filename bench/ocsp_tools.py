"""Pure helpers of the OCSP benchmark (bench/ocsp.py): OpenSSL's index.txt, the wrk script and
its output, and a tiny HTTP client that asks a responder every request once.

Standard library only, so that `python -m bench.ocsp_tools fetch ...` runs inside the network
namespace of OpenSSL's responder without setting up Django.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MARKER = "WRK-JSON "
OCSP_REQUEST = "application/ocsp-request"

# ekort's revocation reasons (names of cryptography's ReasonFlags) as `openssl ca` writes them
# in index.txt. OpenSSL knows no privilegeWithdrawn or aACompromise; ekort never uses them.
_OPENSSL_REASONS = {
    "key_compromise": "keyCompromise",
    "ca_compromise": "CACompromise",
    "affiliation_changed": "affiliationChanged",
    "superseded": "superseded",
    "cessation_of_operation": "cessationOfOperation",
    "remove_from_crl": "removeFromCRL",
    # OpenSSL wants a hold instruction with a hold; "none" says nothing more than ekort does.
    "certificate_hold": "certificateHold,holdInstructionNone",
}


def openssl_time(when: datetime) -> str:
    """An instant as index.txt writes it: UTCTime, YYMMDDHHMMSSZ."""
    if when.tzinfo is None:
        raise ValueError("index.txt times must be timezone-aware")
    return when.astimezone(UTC).strftime("%y%m%d%H%M%SZ")


def index_serial(serial: int) -> str:
    """A serial as OpenSSL looks it up (BN_bn2hex): upper-case hex, whole bytes, no leading
    zero byte, "00" for zero."""
    if serial < 0:
        raise ValueError("serials are positive")
    text = format(serial, "X")
    return text if len(text) % 2 == 0 else "0" + text


def index_line(
    serial: int,
    not_after: datetime,
    subject: str,
    *,
    revoked_at: datetime | None = None,
    reason: str | None = None,
) -> str:
    """One line of an `openssl ca` index (tab-separated, no newline): status V or R, expiry,
    revocation "time[,reason]", serial, file name ("unknown"), subject."""
    if revoked_at is None:
        if reason:
            raise ValueError("a reason without a revocation time")
        status, revocation = "V", ""
    else:
        status, revocation = "R", openssl_time(revoked_at)
        if reason and reason != "unspecified":
            try:
                revocation += "," + _OPENSSL_REASONS[reason]
            except KeyError:
                raise ValueError(f"OpenSSL's index has no reason {reason!r}") from None
    if "\t" in subject or "\n" in subject:
        raise ValueError("index.txt fields cannot hold tabs or newlines")
    return "\t".join(
        (status, openssl_time(not_after), revocation, index_serial(serial), "unknown", subject)
    )


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def wrk_script(bodies: Sequence[Path], path: str) -> str:
    """A wrk Lua script that POSTs these DER files round-robin to `path`, skips wrk's start-up
    probe and prints its figures as one JSON line after `MARKER`."""
    files = ",\n".join(f"  {_lua_string(str(p))}" for p in bodies)
    return f"""-- Written by bench/ocsp.py: POST OCSP requests round-robin, report as JSON.
local files = {{
{files}
}}
local requests = {{}}
local count = 0
local next_one = 0

-- wrk's own resolve connects once to each address and closes without a request; OpenSSL
-- 3.0's responder then spins at 100% CPU. Take the address as it is.
function wrk.resolve(host, service)
  wrk.addrs = wrk.lookup(host, service)
end

function init(args)
  for i, name in ipairs(files) do
    local f = assert(io.open(name, "rb"))
    local body = f:read("*a")
    f:close()
    -- Keep-alive said aloud: OpenSSL's responder (HTTP/1.0) otherwise closes after each
    -- answer; HTTP/1.1 servers keep the connection either way.
    requests[i] = wrk.format("POST", {_lua_string(path)}, {{
      ["Content-Type"] = {_lua_string(OCSP_REQUEST)},
      ["Connection"] = "keep-alive",
    }}, body)
  end
  count = #requests
end

function request()
  next_one = next_one % count + 1
  return requests[next_one]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{MARKER}{{"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %.1f, "p90_us": %.1f, "p99_us": %.1f, "max_us": %.1f, "mean_us": %.1f}}\\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass(frozen=True)
class WrkRun:
    seconds: float
    requests: int
    errors: int  # connect, read, write and timeout errors, and answers not 2xx/3xx
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def parse_wrk(output: str) -> WrkRun:
    """The figures from the JSON line the script's `done` prints (the last such line)."""
    for line in reversed(output.splitlines()):
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            break
    else:
        raise ValueError("wrk printed no results line; is the Lua script's done() missing?")
    errors = sum(int(data[k]) for k in ("connect", "read", "write", "status", "timeout"))
    return WrkRun(
        seconds=data["duration_us"] / 1e6,
        requests=int(data["requests"]),
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


def cpu_ticks(stat: str) -> int:
    """User plus system time, in clock ticks, from a /proc/<pid>/stat line (the command name
    in parentheses may itself hold spaces and parentheses)."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of stat


# --- asking every request once (run inside the responder's network namespace) ----------------


def post(url: str, body: bytes, timeout: float = 5.0) -> bytes:
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        url, data=body, method="POST", headers={"Content-Type": OCSP_REQUEST}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        data: bytes = answer.read()
        return data


def fetch_all(url: str, out_dir: Path, files: Sequence[Path], wait: float = 15.0) -> None:
    """POST each file to `url` and write the answer next to it in `out_dir`. Waits up to `wait`
    seconds for the server to listen first (refused connections only: never a connection
    closed without a request, which OpenSSL 3.0's responder would spin on)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            first = post(url, files[0].read_bytes())
            break
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / files[0].name).write_bytes(first)
    for file in files[1:]:
        (out_dir / file.name).write_bytes(post(url, file.read_bytes()))


def main(argv: Sequence[str]) -> int:
    """`python -m bench.ocsp_tools fetch URL OUT_DIR FILE...`"""
    if len(argv) < 4 or argv[0] != "fetch":
        sys.stderr.write("usage: python -m bench.ocsp_tools fetch URL OUT_DIR FILE...\n")
        return 2
    fetch_all(argv[1], Path(argv[2]), [Path(a) for a in argv[3:]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
