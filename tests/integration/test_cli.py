"""The `ekort` command line: `rules`, `jobs run`, and the console script itself with simulated
time (refused in production)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ekort.services import audit
from ekort.store.models import Block, Card
from tests import instants as t
from tests import tools
from tests.integration import bulk_cards as bulk
from tests.integration.journeys import sent

HOW_TO_WRITE = "write for example 2024-01-24 or 2024-01-24T10:00+01:00"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def decisions(report: dict[str, Any]) -> dict[tuple[str, str], tuple[bool, str]]:
    return {
        (row["action"], row["card_type"]): (row["allowed"], row["rule"]) for row in report["rules"]
    }


def test_rules_json_during_the_stop_refuses_ordering_with_r4():
    out, _ = run("rules", "--at", "2024-01-24", "--json")
    report = json.loads(out)
    assert report["local_date"] == "2024-01-24"
    assert report["period"]["name"] == "stop"
    rows = decisions(report)
    assert rows[("order", "photo")] == (False, "R4")
    assert rows[("order", "reserve")] == (False, "R4")
    assert rows[("issue", "photo")] == (False, "R4")


def test_rules_json_from_26_january_allows_ordering_and_photographing_photo_cards():
    out, _ = run("rules", "--at", "2024-01-26", "--json")
    rows = decisions(json.loads(out))
    assert rows[("order", "photo")][0] is True
    assert rows[("photograph", "photo")] == (True, "R2")
    assert rows[("activate", "photo")] == (True, "R7")


def test_rules_text_table_names_the_period_and_the_rule():
    out, _ = run("rules", "--at", "2024-01-24T10:00+01:00")
    assert "Period:" in out and "stop (2024-01-23 – 2024-01-24)" in out
    assert re.search(r"order\s+photo\s+REFUSED\s+R4", out)
    # Blocking is not issuing: taken during the stop too (R4).
    assert re.search(r"^block\s+photo\s+ALLOWED\s+R4\s", out, re.M)
    assert re.search(r"^block\s+reserve\s+ALLOWED\s+R4\s", out, re.M)
    assert re.search(r"^Card sent now:\s+No card can be sent on 2024-01-24.*\(R4\)$", out, re.M)


def test_rules_json_lists_blocking_as_allowed_and_no_passed_deadline():
    out, _ = run("rules", "--at", "2024-01-24", "--json")
    report = json.loads(out)
    rows = decisions(report)
    assert rows[("block", "photo")] == (True, "R4")
    assert rows[("block", "reserve")] == (True, "R4")
    assert report["period"]["days"] == "2024-01-23 – 2024-01-24"
    sent_now = report["card_sent_now"]
    assert (sent_now["allowed"], sent_now["rule"]) == (False, "R4")
    assert sent_now["pickup_deadline"] is None and sent_now["activation_deadline"] is None


@pytest.mark.parametrize("at", ["garbage", "2024-13-01", "24/01/2024"])
def test_rules_with_a_bad_date_says_how_to_write_one(at):
    with pytest.raises(CommandError) as error:
        run("rules", "--at", at)
    assert "This is not a date or instant" in str(error.value) and at not in str(error.value)
    assert HOW_TO_WRITE in str(error.value)


@pytest.mark.django_db
def test_jobs_run_blocks_uncollected_cards_and_prints_a_summary(world):
    through_services = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    more = bulk.cards(
        world.employee,
        world.orderer,
        2,
        state="awaiting_pickup",
        ordered_at=t.RESERVE_ONLY,
        pickup_deadline=date(2024, 1, 22),
    )
    not_due = bulk.cards(
        world.employee,
        world.orderer,
        1,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=date(2024, 4, 30),
    )

    out, _ = run("jobs", "run", "--at", "2024-01-23")

    lines = out.splitlines()
    assert lines[0] == "Deadline jobs as of 2024-01-23T00:00:00+01:00"
    assert re.search(r"^\s+not_collected\s+R3\s+3 cards$", out, re.MULTILINE), out
    assert re.search(r"^\s+not_activated\s+R8\s+0 cards$", out, re.MULTILINE), out
    assert re.search(r"^\s+expired\s+validity\s+0 cards$", out, re.MULTILINE), out
    assert re.match(r"Done: 3 cards changed in \d+\.\d s\.$", lines[-1]), out
    assert bulk.states([through_services, *more]) == ["blocked"] * 3
    assert bulk.states(not_due) == ["sent_inactive"]
    assert Block.objects.filter(reason="not_collected").count() == 3
    assert audit.verify_trail() == []

    again, _ = run("jobs", "run", "--at", "2024-01-23")
    assert re.search(r"Done: 0 cards changed", again)


@pytest.mark.django_db
def test_jobs_run_on_the_last_pickup_day_blocks_nothing(world):
    card = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    out, _ = run("jobs", "run", "--at", "2024-01-22T23:59:59+01:00")
    assert re.search(r"not_collected\s+R3\s+0 cards", out)
    assert Card.objects.get(pk=card.pk).state == "awaiting_pickup"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "nonsense"], f"This is not a date or instant; {HOW_TO_WRITE}."),
        (["--at", "2024-01-23", "--chunk", "0"], "--chunk must be at least 1."),
        (["--at", "2024-01-23", "--workers", "0"], "--workers must be from 1 to 16."),
        (["--at", "2024-01-23", "--workers", "17"], "--workers must be from 1 to 16."),
    ],
)
def test_jobs_run_with_bad_options_fails_clearly_and_changes_nothing(world, args, message):
    card = sent(world, "reserve", t.RESERVE_ONLY, t.RESERVE_ONLY)
    with pytest.raises(CommandError) as error:
        run("jobs", "run", *args)
    assert str(error.value) == message
    assert Card.objects.get(pk=card.pk).state == "awaiting_pickup"


# The real console script, in a process of its own.


def console_script() -> str:
    tools.require(tools.EKORT_SCRIPT)
    return str(tools.EKORT_SCRIPT.files[0])


def run_script(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"EKORT_SIMULATED_NOW", "EKORT_ENV", "DJANGO_SECRET_KEY", "EKORT_AUDIT_KEY"}
    }
    environment.update(
        {"EKORT_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "ekort.settings", **env}
    )
    return subprocess.run(
        [console_script(), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


AT = "2024-01-24T10:00+01:00"


def test_console_script_says_on_stderr_that_time_is_simulated(tmp_path):
    done = run_script(tmp_path, "rules", "--at", AT, "--json", EKORT_SIMULATED_NOW=AT)
    assert done.returncode == 0, done.stderr
    assert "SIMULATED TIME" in done.stderr
    assert AT in done.stderr
    report = json.loads(done.stdout)  # the notice stays out of the JSON
    assert decisions(report)[("order", "photo")] == (False, "R4")


def test_console_script_prints_the_simulated_instant_to_the_minute(tmp_path):
    done = run_script(tmp_path, "rules", EKORT_SIMULATED_NOW=AT)
    assert done.returncode == 0, done.stderr
    at_line = next(line for line in done.stdout.splitlines() if line.startswith("At:"))
    # The simulated clock runs on from 10:00, but the report reads it to the minute.
    assert re.fullmatch(r"At:\s+2024-01-24 10:0\d Stockholm time \(UTC\+01:00\)", at_line)
    report = json.loads(run_script(tmp_path, "rules", "--json", EKORT_SIMULATED_NOW=AT).stdout)
    assert re.fullmatch(r"2024-01-24T10:0\d:\d\d\+01:00", report["instant"])


def test_console_script_without_simulated_time_says_nothing_of_it(tmp_path):
    done = run_script(tmp_path, "rules", "--at", AT)
    assert done.returncode == 0, done.stderr
    assert "SIMULATED TIME" not in done.stderr
    assert "stop" in done.stdout


def test_console_script_refuses_simulated_time_in_production(tmp_path):
    done = run_script(
        tmp_path,
        "rules",
        "--at",
        AT,
        EKORT_SIMULATED_NOW=AT,
        EKORT_ENV="production",
        DJANGO_SECRET_KEY="dummy-secret-for-a-test",
        EKORT_AUDIT_KEY="dummy-audit-key-for-a-test",
    )
    assert done.returncode != 0
    assert "simulated time is refused in production" in done.stderr
    assert "Unset EKORT_SIMULATED_NOW" in done.stderr
    assert done.stdout == ""
