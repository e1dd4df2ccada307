"""The OCSP benchmark's pure helpers (bench/ocsp_tools.py): OpenSSL's index.txt lines, the wrk
script and its JSON line, and CPU time from /proc. The benchmark itself is not run here."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from bench.ocsp_tools import (
    MARKER,
    cpu_ticks,
    index_line,
    index_serial,
    openssl_time,
    parse_wrk,
    wrk_script,
)

NOT_AFTER = datetime(2031, 11, 28, 22, 59, 59, tzinfo=UTC)
REVOKED = datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC)


def test_times_are_utc_time_in_the_index_format() -> None:
    cet = timezone(timedelta(hours=1))
    assert openssl_time(datetime(2026, 3, 1, 10, 30, 0, tzinfo=cet)) == "260301093000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        openssl_time(datetime(2026, 3, 1, 10, 30))


@pytest.mark.parametrize(
    ("serial", "text"),
    [
        (0, "00"),
        (0xF, "0F"),
        (0xABC, "0ABC"),
        (0x649A0B2A090D4B9F, "649A0B2A090D4B9F"),
        (0x1148CA3230B210C643FE1B00E8094E431F73FE1, "01148CA3230B210C643FE1B00E8094E431F73FE1"),
    ],
)
def test_serials_are_upper_case_hex_in_whole_bytes_as_openssl_looks_them_up(
    serial: int, text: str
) -> None:
    assert index_serial(serial) == text


def test_a_good_certificate_has_status_v_and_no_revocation() -> None:
    line = index_line(0x5E01, NOT_AFTER, "/CN=a")
    assert line.split("\t") == ["V", "311128225959Z", "", "5E01", "unknown", "/CN=a"]


def test_a_revoked_certificate_carries_time_and_openssl_s_reason_name() -> None:
    line = index_line(0x5E01, NOT_AFTER, "/CN=a", revoked_at=REVOKED, reason="key_compromise")
    assert line.split("\t")[:3] == ["R", "311128225959Z", "260301093000Z,keyCompromise"]


def test_unspecified_is_left_out_and_a_hold_names_its_instruction() -> None:
    bare = index_line(1, NOT_AFTER, "/CN=a", revoked_at=REVOKED, reason="unspecified")
    assert bare.split("\t")[2] == "260301093000Z"
    held = index_line(1, NOT_AFTER, "/CN=a", revoked_at=REVOKED, reason="certificate_hold")
    assert held.split("\t")[2] == "260301093000Z,certificateHold,holdInstructionNone"


def test_impossible_lines_are_refused() -> None:
    with pytest.raises(ValueError, match="without a revocation time"):
        index_line(1, NOT_AFTER, "/CN=a", reason="key_compromise")
    with pytest.raises(ValueError, match="no reason"):
        index_line(1, NOT_AFTER, "/CN=a", revoked_at=REVOKED, reason="privilege_withdrawn")
    with pytest.raises(ValueError, match="tabs"):
        index_line(1, NOT_AFTER, "/CN=a\tb")


def test_the_wrk_script_posts_the_files_round_robin_and_skips_the_probe() -> None:
    script = wrk_script([Path("/data/a.der"), Path("/data/b.der")], "/ocsp")
    assert '"/data/a.der"' in script and '"/data/b.der"' in script
    assert 'wrk.format("POST", "/ocsp"' in script
    assert '"application/ocsp-request"' in script
    # wrk.resolve is replaced by one that never calls wrk.connect (the start-up probe).
    resolve = script.split("function wrk.resolve", 1)[1].split("\nend", 1)[0]
    assert "wrk.lookup" in resolve and "connect" not in resolve
    assert "function done(summary, latency, requests)" in script
    assert MARKER in script


def _wrk_output(**figures: float) -> str:
    data = {
        "duration_us": 10_000_000,
        "requests": 250_000,
        "bytes": 1,
        "connect": 0,
        "read": 0,
        "write": 0,
        "status": 0,
        "timeout": 0,
        "p50_us": 310.0,
        "p90_us": 900.0,
        "p99_us": 2750.5,
        "max_us": 9000.0,
        "mean_us": 400.0,
    } | figures
    return (
        "Running 10s test @ http://127.0.0.1:8080/ocsp\n"
        "  1 threads and 8 connections\n"
        f"{MARKER}{json.dumps(data)}\n"
    )


def test_wrk_output_gives_rate_and_percentiles_in_milliseconds() -> None:
    run = parse_wrk(_wrk_output())
    assert run.requests == 250_000
    assert run.rate == pytest.approx(25_000)
    assert (run.p50_ms, run.p90_ms, run.p99_ms) == pytest.approx((0.31, 0.9, 2.7505))
    assert run.errors == 0


def test_wrk_errors_are_summed_and_a_missing_line_is_an_error() -> None:
    assert parse_wrk(_wrk_output(read=2, status=3, timeout=1)).errors == 6
    with pytest.raises(ValueError, match="no results line"):
        parse_wrk("Requests/sec: 1000\n")


def test_cpu_ticks_add_user_and_system_time_past_an_awkward_command_name() -> None:
    fields = ["S", *map(str, range(4, 14)), "1234", "56", *["0"] * 30]  # utime 1234, stime 56
    assert cpu_ticks("4242 (a (b) c) " + " ".join(fields)) == 1290
