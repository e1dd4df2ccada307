"""The HR department's nightly files to the people register (`ekort people import`), as
events of the history: Henrik Gustafsson's last day of employment, recorded the night after
(his manager had blocked his card already), and Katarzyna Nowak's new family name, which leaves
her card showing the old one: her manager is offered a replacement for the name change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ekort.domain.people_register import SourceRecord
from ekort.domain.timekeeping import STOCKHOLM
from ekort.services.people_register import apply_records
from ekort.store.models import Person

from .cards import Plan

# (night, file name, [(person's key, given name, family name, last day or "")])
FILES = (
    (
        datetime(2025, 4, 1, 2, 15, tzinfo=STOCKHOLM),
        "hr-2025-04-01.csv",
        [("henrik", "Henrik", "Gustafsson", "2025-03-31")],
    ),
    (
        datetime(2025, 10, 6, 2, 15, tzinfo=STOCKHOLM),
        "hr-2025-10-06.csv",
        [("katarzyna", "Katarzyna", "Nowak Lind", "")],
    ),
)


def plan_files(plan: Plan, persons: dict[str, Person]) -> None:
    for at, name, rows in FILES:
        records = [
            SourceRecord(
                f"line {line}",
                {
                    "identity_number": persons[key].identity_number,
                    "given_name": given,
                    "family_name": family,
                    "employment_ends": ends,
                },
            )
            for line, (key, given, family, ends) in enumerate(rows, start=2)
        ]
        plan.event(at, f"people import {name}", _importer(name, records, at))


def _importer(name: str, records: list[SourceRecord], at: datetime) -> Callable[[], None]:
    def run() -> None:
        report = apply_records(source=f"people-import:{name}", records=records, now=at)
        assert not report.problems, report.problems

    return run
