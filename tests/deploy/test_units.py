"""deploy/systemd/ as systemd reads it (`systemd-analyze verify`: every key known, every
command there), and the commands `make prod-check` runs from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.tools import Tool, needs

from .prod_check import SYSTEMD, exec_start

SYSTEMD_ANALYZE = Tool("systemd-analyze", "apt-get install systemd", commands=("systemd-analyze",))
BIN = Path(sys.executable).parent
UNITS = sorted(path.name for path in SYSTEMD.iterdir())


@needs(SYSTEMD_ANALYZE)
def test_systemd_accepts_every_unit(tmp_path: Path) -> None:
    """The units as installed, with this machine's virtual environment for /opt/ekort/venv and
    an account that exists here for ekort's."""
    for name in UNITS:
        text = (SYSTEMD / name).read_text(encoding="utf-8")
        text = text.replace("/opt/ekort/venv/bin/", f"{BIN}/")
        text = text.replace("User=ekort", "User=root").replace("Group=ekort", "Group=root")
        (tmp_path / name).write_text(text, encoding="utf-8")
    instances = [name.replace("@.", "@8081.") for name in UNITS]
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *instances],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_every_service_runs_ekort_from_the_install() -> None:
    assert {"ekort-portal.service", "ekort-ocsp@.service", "ekort-publish.service"} <= set(UNITS)
    assert {"ekort-publish.timer", "ekort-jobs.timer", "ekort-jobs.service"} <= set(UNITS)
    for name in UNITS:
        if name.endswith(".service"):
            for command in exec_start(name, instance="8081"):
                assert command[0].startswith(f"{BIN}/"), (name, command)
    assert exec_start("ekort-ocsp@.service", instance="8082") == [
        [str(BIN / "ekort"), "ocsp", "serve", "--host", "127.0.0.1", "--port", "8082"]
    ]
    assert exec_start("ekort-jobs.service") == [
        [str(BIN / "ekort"), "jobs", "run", "--workers", "2"],
        [str(BIN / "ekort"), "audit", "anchor"],
    ]
