"""Cards with real certificates and stored OCSP responses in the database DATABASE_URL names,
and blocks of them, in a process of its own (the test's own Django runs on its test database):

    python -m tests.deploy.ocsp_world build OUT COUNT   # migrate, then bench.ocsp.build
    python -m tests.deploy.ocsp_world block CARD_ID     # block through the service

`build` writes `world.json` into OUT: each sample's card, serial, expected answer and DER
request file (`req-*.der` under OUT's `ocsp` folder), and the files `openssl ocsp` needs.
`block` prints the POSIX time of its commit, so that the caller can time the way from the
primary to an answer.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BLOCKER = "ocsp.blocker"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ekort.settings")
    import django

    django.setup()


def build(out: Path, count: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.core import Context
    from bench.ocsp import build as build_cards

    data = build_cards(Context(quick=True, database="postgresql", workdir=out), count)
    data.blocker.username = BLOCKER
    data.blocker.save(update_fields=["username"])
    world = {
        "dir": str(data.dir),
        "samples": [
            {
                "card_id": s.card_id,
                "serial": s.serial,
                "expected": list(s.expected),
                "request": str(s.request),
            }
            for s in data.samples
        ],
    }
    (out / "world.json").write_text(json.dumps(world, indent=1))


def block(card_id: int) -> float:
    from django.contrib.auth.models import User
    from django.db import transaction

    from ekort.domain.vocabulary import BlockReason
    from ekort.services import cards, clock

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))
        cards.block(
            actor=User.objects.get(username=BLOCKER),
            reason=BlockReason.LOST,
            requested_by="innehavaren",
            now=clock.now(),
            card_ids=[card_id],
        ).one()
    return committed[0]


def main(argv: list[str]) -> None:
    _setup()
    if argv[0] == "build":
        build(Path(argv[1]), int(argv[2]))
    elif argv[0] == "block":
        print(repr(block(int(argv[1]))), flush=True)
    else:
        raise SystemExit(f"unknown verb {argv[0]!r}")


def run(verb: str, *args: str, env: dict[str, str]) -> str:
    """Run this module in a process of its own; its standard output."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "tests.deploy.ocsp_world", verb, *args],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ocsp_world {verb} failed: {done.stderr.strip()[-1500:]}")
    return done.stdout


def load(out: Path) -> dict[str, Any]:
    world: dict[str, Any] = json.loads((out / "world.json").read_text())
    return world


if __name__ == "__main__":
    main(sys.argv[1:])
