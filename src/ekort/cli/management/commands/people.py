"""`ekort people import|sync`: keep the people register from a CSV file or the HSA directory.

    ekort people import personal.csv [--dry-run] [--complete] [--name NAME]
    ekort people sync --url ldap://hsa.example.se --base "ou=Region,c=SE" [--dry-run] [--complete]

New persons are created; names, e-mail addresses, addresses, units and managers are updated; a
person whose employment has ended has every live card blocked (E13). `--dry-run` prints what
would change and changes nothing. A wrong row is printed with its line (or DN) and the reason,
the others go in, and the command then exits with status 1. The columns and the directory's
attributes are in docs/operations.md ("The people register"). Nothing printed holds an
identity number in full or an address.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ekort.domain.errors import DomainError
from ekort.domain.timekeeping import parse_instant
from ekort.services import clock
from ekort.services.people_register import PersonChange, Report, apply_records
from ekort.services.people_sources import Directory, read_csv, read_directory
from ekort.store.models import Person, Unit


def _value(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


# A unit and a manager change as numbers in the register; the report names them by HSA-id,
# as the file or directory did (by name where the register has no HSA-id for them).
_BY_HSA_ID = {"unit_id": "unit", "manager_id": "manager"}


def _hsa_ids(changes: list[PersonChange]) -> dict[str, dict[int, str]]:
    """The HSA-ids of the units and managers the changes name, by field: one query each."""

    def ids(name: str) -> set[int]:
        return {v for c in changes for v in c.fields.get(name, ()) if isinstance(v, int)}

    units = Unit.objects.filter(pk__in=ids("unit_id")).values_list("pk", "hsa_id", "name")
    managers = Person.objects.filter(pk__in=ids("manager_id")).values_list(
        "pk", "hsa_id", "given_name", "family_name"
    )
    return {
        "unit_id": {pk: hsa_id or name for pk, hsa_id, name in units},
        "manager_id": {pk: hsa_id or f"{given} {family}" for pk, hsa_id, given, family in managers},
    }


def _fields(change: PersonChange, hsa_ids: dict[str, dict[int, str]]) -> str:
    parts = []
    for name, (before, after) in change.fields.items():
        if name == "address":
            parts.append("address changed")
        elif name in _BY_HSA_ID:
            shown, by_id = _BY_HSA_ID[name], hsa_ids[name]
            old, new = (by_id.get(v, v) if v is not None else None for v in (before, after))
            parts.append(f"{shown} {_value(old)} -> {_value(new)}")
        else:
            parts.append(f"{name.replace('_', ' ')} {_value(before)} -> {_value(after)}")
    return "; ".join(parts)


class Command(BaseCommand):
    help = "Keep the people register from a CSV file (import) or the HSA directory (sync)."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        reading = verbs.add_parser("import", help="read a CSV file")
        reading.add_argument("file", help="the CSV file (columns in docs/operations.md)")
        reading.add_argument("--name", help="the import's name in the audit trail (file name)")
        syncing = verbs.add_parser("sync", help="read an LDAP directory with HSA attributes")
        syncing.add_argument(
            "--url", default=os.environ.get("EKORT_LDAP_URL", ""), help="ldap://host:port"
        )
        syncing.add_argument(
            "--base", default=os.environ.get("EKORT_LDAP_BASE", ""), help="the search base DN"
        )
        syncing.add_argument(
            "--bind-dn", default=os.environ.get("EKORT_LDAP_BIND_DN", ""), help="bind as"
        )
        syncing.add_argument(
            "--password-file",
            default=os.environ.get("EKORT_LDAP_PASSWORD_FILE", ""),
            help="a file holding the bind password (never on the command line)",
        )
        for sub in (reading, syncing):
            sub.add_argument("--dry-run", action="store_true", help="print, change nothing")
            sub.add_argument(
                "--complete",
                action="store_true",
                help="the source lists everyone: a person with an HSA-id missing from it has left",
            )
            sub.add_argument(
                "--max-leavers",
                type=int,
                help="with --complete: stop if more would leave (default 5%% of the register)",
            )
            sub.add_argument("--at", help="as of this instant (ISO 8601); default: now")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            now = parse_instant(options["at"]) if options["at"] else clock.now()
            if options["verb"] == "import":
                path = Path(options["file"])
                records = read_csv(path)
                source = f"people-import:{options['name'] or path.name}"
            else:
                directory = self._directory(options)
                records = read_directory(directory)
                source = f"people-sync:{directory.name}"
            report = apply_records(
                source=source,
                records=records,
                now=now,
                dry_run=options["dry_run"],
                complete=options["complete"],
                max_leavers=options["max_leavers"],
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self._print(report)
        if report.problems:
            raise CommandError(
                f"{len(report.problems)} record(s) were refused (listed above); "
                + ("nothing was changed (dry run)." if report.dry_run else "the others went in.")
            )

    def _directory(self, options: dict[str, Any]) -> Directory:
        if not options["url"] or not options["base"]:
            raise CommandError(
                "Say which directory: --url ldap://host:port and --base DN "
                "(or EKORT_LDAP_URL and EKORT_LDAP_BASE)."
            )
        password = ""
        if options["password_file"]:
            try:
                password = Path(options["password_file"]).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise CommandError(
                    f"The password file cannot be read: {error.strerror or error}."
                ) from None
        return Directory(options["url"], options["base"], options["bind_dn"], password)

    def _print(self, report: Report) -> None:
        out = self.stdout
        out.write(report.source + (" (dry run: nothing is changed)" if report.dry_run else ""))
        would = "would be " if report.dry_run else ""
        for change in report.created:
            out.write(f"{change.where}: new person {change.label}")
        hsa_ids = _hsa_ids(report.updated)
        for change in report.updated:
            out.write(f"{change.where}: {change.label}: {_fields(change, hsa_ids)}")
        for change in report.ended:
            ended = change.left.isoformat() if change.left else "-"
            cards = ", ".join(change.cards_blocked) or "none"
            gone = " (not in the complete source)" if change.gone else ""
            orders = ", ".join(f"card id {pk}" for pk in change.orders_cancelled)
            withdrawn = f"; orders {would}cancelled: {orders}" if orders else ""
            out.write(
                f"{change.where}: {change.label}: employment ended {ended}{gone}; "
                f"cards {would}blocked: {cards}{withdrawn}"
            )
        if report.problems:
            out.write("Refused:")
            for problem in report.problems:
                out.write(f"{problem.where}: {problem.reason}")
        out.write(
            f"{len(report.created)} new, {len(report.updated)} updated, "
            f"{len(report.ended)} ended ({report.cards_blocked} cards {would}blocked, "
            f"{report.orders_cancelled} orders {would}cancelled), "
            f"{report.unchanged} unchanged, {len(report.problems)} refused."
        )
