"""The people register kept from a source: a CSV file (`ekort people import`) or the HSA
directory (`ekort people sync`). Both read their source into records and call `apply_records`.

New persons are created; names, e-mail addresses, addresses, units, managers, the protection
marking and the end of employment of known persons are updated. A person whose employment has
ended (E13: an end date passed, or gone from the directory when the source says it is
complete) has every live card blocked, employment ended, in one transaction per person, by the
block writer every block goes through (`cards.blocking.blocked`). Every change is audited,
with the source's name as the actor (`job:people-import:FILE`, `job:people-sync:URL`), and so
shows in the person's history.

A record that is wrong (a wrong check digit, an unknown unit, a duplicate HSA-id, a missing
name) is reported with its place and the reason, and the others go in. A dry run works out
the same changes and writes none. The same source applied twice changes nothing the second
time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from ekort.domain.errors import InvalidInput
from ekort.domain.identifiers import mask_identity_number
from ekort.domain.lifecycle import LIVE_STATES, OCCUPYING_STATES, UNPRODUCED_STATES, CardAction
from ekort.domain.people_register import (
    ADDRESS,
    SourcePerson,
    SourceRecord,
    decide_employment,
    read_record,
    same_as_stored,
)
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import BlockReason
from ekort.store.models import Card, Person, Unit
from ekort.store.sets import insert_rows, update_each

from . import audit
from .cards.blocking import blocked
from .cards.card_sets import CardRef
from .cards.ordering import cancelled
from .roles import Job, actor_label

# The register's fields a source keeps, as a record names them; the manager and the unit are
# kept by id, from the HSA-ids the record gives.
KEPT = (
    "hsa_id",
    "given_name",
    "family_name",
    "email",
    "street_address",
    "postal_code",
    "postal_town",
    "protected_identity",
    "employment_ends",
)
NEW_PERSONS_PER_TRANSACTION = 5000
UPDATES_PER_TRANSACTION = 1000
# A complete source that would end more employments than this share of the persons it keeps
# is more likely cut short than true: it stops unless the caller allows more (`max_leavers`).
DEFAULT_MAX_LEAVERS_SHARE = 0.05


@dataclass(frozen=True)
class Problem:
    """A record left out, where it is in the source and why."""

    where: str
    reason: str


@dataclass
class PersonChange:
    """What a source changes for one person. `fields` holds (before, after) by field name;
    an address is never put in it, only that it changed."""

    where: str
    label: str  # the masked identity number and the name
    person_id: int | None = None  # None for a new person
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    left: date | None = None  # the last day of employment, when it has ended
    gone: bool = False  # missing from a complete source
    cards_blocked: list[str] = field(default_factory=list)
    orders_cancelled: list[int] = field(default_factory=list)  # cards not produced yet, by id


@dataclass
class Report:
    source: str
    dry_run: bool
    created: list[PersonChange] = field(default_factory=list)
    updated: list[PersonChange] = field(default_factory=list)
    ended: list[PersonChange] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def cards_blocked(self) -> int:
        return sum(len(change.cards_blocked) for change in self.ended)

    @property
    def orders_cancelled(self) -> int:
        return sum(len(change.orders_cancelled) for change in self.ended)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.ended)


@dataclass
class _Row:
    """A record matched against the register: the person's row (None when new) and the
    values the record sets."""

    source: SourcePerson
    existing: dict[str, Any] | None
    values: dict[str, Any]


_COLUMNS = (
    "pk",
    "identity_number",
    *KEPT,
    "unit_id",
    "manager_id",
)


def _label(identity_number: str, given_name: str, family_name: str) -> str:
    return f"{mask_identity_number(identity_number)} {given_name} {family_name}"


def _values(person: SourcePerson, existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """The register's values the record sets: the fields it carries (all of them for a new
    person), the unit by its HSA-id."""
    values: dict[str, Any] = {}
    for name in KEPT:
        if name in person.given or existing is None:
            values[name] = getattr(person, name)
    if existing is not None and existing["hsa_id"] and "hsa_id" in values and not person.hsa_id:
        del values["hsa_id"]  # a record without an HSA-id does not take the person's away
    return values


def _differences(
    existing: Mapping[str, Any], values: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    return {
        name: (existing[name], value)
        for name, value in values.items()
        if existing.get(name) != value
    }


class _Register:
    """The register as a source meets it: the persons by identity number and HSA-id, the
    units by HSA-id. Read in three queries, however many persons."""

    def __init__(self) -> None:
        self.by_identity: dict[str, dict[str, Any]] = {}
        self.by_hsa: dict[str, int] = {}
        for row in Person.objects.values(*_COLUMNS).iterator(chunk_size=20_000):
            self.by_identity[row["identity_number"]] = row
            if row["hsa_id"]:
                self.by_hsa[row["hsa_id"]] = row["pk"]
        self.units = dict(
            Unit.objects.filter(hsa_id__isnull=False).values_list("hsa_id", "pk").iterator()
        )
        self.unit_hsa = {pk: hsa for hsa, pk in self.units.items()}
        self.person_hsa = {pk: hsa for hsa, pk in self.by_hsa.items()}

    def as_source(self, row: Mapping[str, Any]) -> dict[str, object]:
        """A person's values as a source writes them (`same_as_stored`)."""
        ends = row["employment_ends"]
        return {
            "identity_number": row["identity_number"],
            "hsa_id": row["hsa_id"] or "",
            "given_name": row["given_name"],
            "family_name": row["family_name"],
            "email": row["email"],
            "unit_hsa_id": self.unit_hsa.get(row["unit_id"], "") if row["unit_id"] else "",
            "manager_hsa_id": self.person_hsa.get(row["manager_id"], "")
            if row["manager_id"]
            else "",
            "street_address": row["street_address"],
            "postal_code": row["postal_code"],
            "postal_town": row["postal_town"],
            "protected_identity": row["protected_identity"],
            "employment_ends": ends.isoformat() if ends else "",
        }

    def unchanged(self, record: SourceRecord) -> dict[str, Any] | None:
        """The person of a record that changes nothing of theirs (`same_as_stored`)."""
        if record.problem:
            return None
        raw = record.values.get("identity_number") or ""
        key = raw if len(raw) == 12 else raw[:8] + raw[9:]
        row = self.by_identity.get(key)
        if row is None or not same_as_stored(record.values, self.as_source(row)):
            return None
        return row


def _read(
    records: Iterable[SourceRecord],
    register: _Register,
    today: date,
    report: Report,
    *,
    complete: bool,
) -> tuple[list[SourcePerson], set[str]]:
    """The records that read as persons, each identity number and HSA-id once; and, for a
    `complete` source, every identifier any record mentions, readable or not (for
    `_gone`). A record that changes nothing of a person of the register is only counted:
    most of a nightly file."""
    problems = report.problems
    persons: list[SourcePerson] = []
    mentioned: set[str] = set()
    seen_identity: dict[str, str] = {}
    seen_hsa: dict[str, str] = {}
    for record in records:
        if complete:
            for name in ("identity_number", "hsa_id"):
                raw = (record.values.get(name) or "").strip()
                digits = "".join(ch for ch in raw if ch.isdigit())
                mentioned.update(value for value in (raw, digits[-10:]) if value)
        same = register.unchanged(record)
        if same is not None:
            hsa = same["hsa_id"] if record.values.get("hsa_id") else None
            if same["identity_number"] not in seen_identity and hsa not in seen_hsa:
                seen_identity[same["identity_number"]] = record.where
                if hsa is not None:
                    seen_hsa[hsa] = record.where
                report.unchanged += 1
                continue
        try:
            person = read_record(record, today=today)
        except InvalidInput as refusal:
            problems.append(Problem(record.where, str(refusal)))
            continue
        digits = person.identity.digits
        if digits in seen_identity:
            problems.append(
                Problem(
                    person.where,
                    f"The identity number {person.identity.masked} is also on "
                    f"{seen_identity[digits]}; only the first one is read.",
                )
            )
            continue
        if person.hsa_id is not None and person.hsa_id in seen_hsa:
            problems.append(
                Problem(
                    person.where,
                    f"A duplicate HSA-id: {person.hsa_id} is also on {seen_hsa[person.hsa_id]}; "
                    "only the first one is read.",
                )
            )
            continue
        seen_identity[digits] = person.where
        if person.hsa_id is not None:
            seen_hsa[person.hsa_id] = person.where
        persons.append(person)
    return persons, mentioned


def _match(
    persons: Sequence[SourcePerson], register: _Register, problems: list[Problem]
) -> list[_Row]:
    """Each person against the register: their unit known, their HSA-id nobody else's, and
    their manager someone the register or the source has."""
    rows: list[_Row] = []
    for person in persons:
        existing = register.by_identity.get(person.identity.digits)
        if person.unit_hsa_id is not None and person.unit_hsa_id not in register.units:
            problems.append(
                Problem(person.where, f"Unknown unit: no unit has the HSA-id {person.unit_hsa_id}.")
            )
            continue
        if person.hsa_id is not None:
            owner = register.by_hsa.get(person.hsa_id)
            if owner is not None and (existing is None or owner != existing["pk"]):
                problems.append(
                    Problem(
                        person.where,
                        f"A duplicate HSA-id: {person.hsa_id} belongs to another person "
                        "in the register.",
                    )
                )
                continue
            if existing is not None and existing["hsa_id"] not in (None, "", person.hsa_id):
                problems.append(
                    Problem(
                        person.where,
                        f"The register has the HSA-id {existing['hsa_id']} for this person, "
                        f"the source {person.hsa_id}; an HSA-id is not changed by an import.",
                    )
                )
                continue
        rows.append(_Row(person, existing, _values(person, existing)))
    return _with_known_managers(rows, register, problems)


def _with_known_managers(
    rows: list[_Row], register: _Register, problems: list[Problem]
) -> list[_Row]:
    """The rows whose manager is in the register or among the other rows that go in. A row
    left out for its manager can leave out a row it manages: repeated until none is."""
    while True:
        coming = {row.source.hsa_id for row in rows if row.source.hsa_id is not None}
        known = coming | register.by_hsa.keys()
        kept = []
        for row in rows:
            manager = row.source.manager_hsa_id
            if (
                manager is not None
                and "manager_hsa_id" in row.source.given
                and manager not in known
            ):
                problems.append(
                    Problem(
                        row.source.where,
                        f"Unknown manager: no person has the HSA-id {manager}.",
                    )
                )
                continue
            kept.append(row)
        if len(kept) == len(rows):
            return kept
        rows = kept


def _pk(row: _Row) -> int:
    assert row.existing is not None
    return int(row.existing["pk"])


def _unit_id(row: _Row, register: _Register) -> Any:
    hsa = row.source.unit_hsa_id
    return None if hsa is None else register.units[hsa]


def _manager_field(row: _Row) -> bool:
    return "manager_hsa_id" in row.source.given or row.existing is None


def _unit_field(row: _Row) -> bool:
    return "unit_hsa_id" in row.source.given or row.existing is None


def _shown(changes: dict[str, tuple[Any, Any]]) -> dict[str, tuple[Any, Any]]:
    """Changes as a report and the audit trail hold them: an address only as changed, never
    its text, which a protected person's must never show in, and a person may become
    protected after the change."""
    shown = {name: change for name, change in changes.items() if name not in ADDRESS}
    if any(name in changes for name in ADDRESS):
        shown["address"] = ("", "changed")
    return shown


def _audit_values(changes: Mapping[str, tuple[Any, Any]], side: int) -> dict[str, Any]:
    return {
        name: value[side].isoformat() if isinstance(value[side], date) else value[side]
        for name, value in changes.items()
    }


def _cards_to_end(person_ids: Iterable[int]) -> tuple[dict[int, list[str]], dict[int, list[int]]]:
    """The persons' live cards, named as a block names them in the report (by card number),
    and their orders not produced yet (ordered or photographed cards), by card id: what
    `_end_cards` will block and cancel, so that a dry run lists what the real run does. One
    query."""
    live: dict[int, list[str]] = {}
    pending: dict[int, list[int]] = {}
    rows = Card.objects.filter(person_id__in=list(person_ids), state__in=OCCUPYING_STATES)
    for card_id, state, number, person_id in rows.order_by("pk").values_list(
        "pk", "state", "number", "person_id"
    ):
        if state in LIVE_STATES:
            live.setdefault(person_id, []).append(number or str(card_id))
        else:
            pending.setdefault(person_id, []).append(card_id)
    return live, pending


def _stored_leavers(today: date) -> list[int]:
    """Persons of the register whose end date has passed and who still have live cards or
    orders not produced yet."""
    return sorted(
        set(
            Card.objects.filter(
                state__in=OCCUPYING_STATES, person__employment_ends__lt=today
            ).values_list("person_id", flat=True)
        )
    )


def apply_records(
    *,
    source: str,
    records: Iterable[SourceRecord],
    now: datetime,
    dry_run: bool = False,
    complete: bool = False,
    max_leavers: int | None = None,
) -> Report:
    """Keep the register as the source says (see the module's text). `source` names it in
    the audit trail. With `complete`, a person of the register with an HSA-id that no record
    mentions has left; more such leavers than `max_leavers` (by default 5 % of the register's
    persons with an HSA-id, at least 10) stop the whole run with InvalidInput, nothing changed.
    """
    require_aware(now)
    name = " ".join(source.split())[:150]
    if not name:
        raise InvalidInput("Name the source (a file, a directory), for the audit trail.")
    job = Job(name)
    today = local_date(now)
    report = Report(source=actor_label(job), dry_run=dry_run)
    register = _Register()
    persons, mentioned = _read(records, register, today, report, complete=complete)
    rows = _match(persons, register, report.problems)
    gone = _gone(register, mentioned, today) if complete else []
    if complete:
        limit = max_leavers
        if limit is None:
            limit = max(10, int(len(register.by_hsa) * DEFAULT_MAX_LEAVERS_SHARE))
        if len(gone) > limit:
            raise InvalidInput(
                f"The source is said to be complete, but {len(gone)} persons of the register "
                f"are missing from it, more than the {limit} allowed: it may have been cut "
                "short. Nothing was changed; check the source, or allow more leavers."
            )
    new_rows = [row for row in rows if row.existing is None]
    known_rows = [row for row in rows if row.existing is not None]
    _create(job, new_rows, register, now, dry_run, report)
    touched = _update(job, known_rows, register, now, today, dry_run, report)
    _end_employments(job, register, gone, touched, now, today, dry_run, report)
    return report


def _gone(register: _Register, mentioned: set[str], today: date) -> list[dict[str, Any]]:
    """Persons of the register with an HSA-id, still employed, that no record mentions."""
    return [
        row
        for row in register.by_identity.values()
        if row["hsa_id"]
        and row["hsa_id"] not in mentioned
        and row["identity_number"][-10:] not in mentioned
        and (row["employment_ends"] is None or row["employment_ends"] >= today)
    ]


def _by_level(rows: list[_Row]) -> list[list[_Row]]:
    """New persons in levels: first those whose manager is in the register (or who have
    none), then those managed by the first, and so on. A ring of new persons managing each
    other is broken where it closes: that manager is set by the next run of the source."""
    by_hsa = {row.source.hsa_id: row for row in rows if row.source.hsa_id is not None}
    depth: dict[int, int] = {}
    for start in rows:
        chain: list[_Row] = []
        row: _Row | None = start
        while row is not None and id(row) not in depth and all(row is not c for c in chain):
            chain.append(row)
            manager = row.source.manager_hsa_id
            row = by_hsa.get(manager) if manager is not None else None
        below = depth[id(row)] if row is not None and id(row) in depth else -1
        for member in reversed(chain):
            below += 1
            depth[id(member)] = below
    levels: list[list[_Row]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for row in rows:
        levels[depth[id(row)]].append(row)
    return levels


def _create(
    job: Job,
    rows: list[_Row],
    register: _Register,
    now: datetime,
    dry_run: bool,
    report: Report,
) -> None:
    """New persons, 5,000 to a transaction, managers before the persons they manage."""
    for level in _by_level(rows):
        for start in range(0, len(level), NEW_PERSONS_PER_TRANSACTION):
            _create_chunk(
                job,
                level[start : start + NEW_PERSONS_PER_TRANSACTION],
                register,
                now,
                dry_run,
                report,
            )


# The person table's columns a new person is written with, by COPY (`store.sets.insert_rows`).
_NEW_COLUMNS = ("identity_number", "identity_kind", *KEPT, "unit_id", "manager_id")


def _create_chunk(
    job: Job,
    rows: list[_Row],
    register: _Register,
    now: datetime,
    dry_run: bool,
    report: Report,
) -> None:
    made = []
    for row in rows:
        person = row.source
        manager = person.manager_hsa_id
        made.append(
            {
                "identity_number": person.identity.digits,
                "identity_kind": person.identity.kind.value,
                **row.values,
                "unit_id": _unit_id(row, register),
                "manager_id": None if manager is None else register.by_hsa.get(manager),
            }
        )
    with transaction.atomic():
        ids: dict[str, int] = {}
        if not dry_run:
            insert_rows(Person, _NEW_COLUMNS, [tuple(new[c] for c in _NEW_COLUMNS) for new in made])
            ids = dict(
                Person.objects.filter(
                    identity_number__in=[new["identity_number"] for new in made]
                ).values_list("identity_number", "pk")
            )
        changes = []
        for row, new in zip(rows, made, strict=True):
            pk = ids.get(new["identity_number"])
            if new["hsa_id"] and pk is not None:
                register.by_hsa[new["hsa_id"]] = pk
            label = _label(new["identity_number"], new["given_name"], new["family_name"])
            report.created.append(PersonChange(row.source.where, label, pk))
            changes.append(_registered(job, pk, new, row.source, now))
        if not dry_run:
            audit.append(changes)


def _registered(
    job: Job, pk: int | None, new: Mapping[str, Any], source: SourcePerson, now: datetime
) -> audit.Change:
    after: dict[str, Any] = {
        # Masked: the trail must not become a register of identity numbers.
        "identity": mask_identity_number(new["identity_number"]),
        "hsa_id": new["hsa_id"],
        "given_name": new["given_name"],
        "family_name": new["family_name"],
        "email": new["email"],
        "unit_id": new["unit_id"],
        "manager_id": new["manager_id"],
        "protected_identity": new["protected_identity"],
    }
    if new["employment_ends"] is not None:
        after["employment_ends"] = new["employment_ends"].isoformat()
    return audit.Change(
        actor=actor_label(job),
        action="register_person",
        object_type="person",
        object_id=str(pk),
        at=now,
        reason=source.where[:200],
        after=after,
    )


def _target(row: _Row, register: _Register) -> dict[str, Any]:
    """What the row sets, the unit and the manager by id."""
    target = dict(row.values)
    if _unit_field(row):
        target["unit_id"] = _unit_id(row, register)
    if _manager_field(row):
        manager = row.source.manager_hsa_id
        target["manager_id"] = None if manager is None else register.by_hsa[manager]
    return target


def _update(
    job: Job,
    rows: list[_Row],
    register: _Register,
    now: datetime,
    today: date,
    dry_run: bool,
    report: Report,
) -> set[int]:
    """Known persons whose record differs. A person whose employment has ended and who has
    live cards is updated and has them blocked in a transaction of their own; the others'
    updates go a thousand to a transaction. Returns the ids of the persons it ended."""
    ended: set[int] = set()
    pending = []
    for row in rows:
        assert row.existing is not None
        changes = _differences(row.existing, _target(row, register))
        ends = changes.get("employment_ends", (None, row.existing["employment_ends"]))[1]
        leaving = not decide_employment(ends, now).allowed
        if changes or leaving:
            pending.append((row, changes, ends if leaving else None))
        else:
            report.unchanged += 1
    leavers = [_pk(row) for row, _, ends in pending if ends is not None]
    live, orders = _cards_to_end(leavers)
    batch: list[tuple[PersonChange, Mapping[str, Any]]] = []
    done: list[PersonChange] = []
    for row, planned, ends in pending:
        pk = _pk(row)
        cards = live.get(pk, []) if ends is not None else []
        withdrawn = orders.get(pk, []) if ends is not None else []
        if not planned and not cards and not withdrawn:
            report.unchanged += 1
            continue
        assert row.existing is not None
        change = PersonChange(
            where=row.source.where,
            label=_label(
                row.existing["identity_number"],
                row.values.get("given_name", row.existing["given_name"]),
                row.values.get("family_name", row.existing["family_name"]),
            ),
            person_id=pk,
            left=ends if cards or withdrawn else None,
        )
        done.append(change)
        if dry_run:
            change.fields = _shown(planned)
            change.cards_blocked = list(cards)
            change.orders_cancelled = list(withdrawn)
        elif cards or withdrawn:
            _update_one(job, change, pk, _target(row, register), now)
        else:
            batch.append((change, _target(row, register)))
    for start in range(0, len(batch), UPDATES_PER_TRANSACTION):
        _update_chunk(job, batch[start : start + UPDATES_PER_TRANSACTION], now)
    for change in done:
        if change.fields:
            report.updated.append(change)
        if change.left is not None:
            report.ended.append(change)
            assert change.person_id is not None
            ended.add(change.person_id)
        if not change.fields and change.left is None:
            report.unchanged += 1
    return ended


def _changed(
    job: Job, person: Person, target: Mapping[str, Any], where: str, now: datetime
) -> tuple[list[str], audit.Change | None, dict[str, tuple[Any, Any]]]:
    """Set on the locked `person` what `target` changes: the fields to save, the audit entry
    (None when nothing changed), and the changes as a report shows them."""
    existing = {name: getattr(person, name) for name in (*KEPT, "unit_id", "manager_id")}
    changes = _differences(existing, target)
    if not changes:
        return [], None, {}
    for name, (_, value) in changes.items():
        setattr(person, name, value)
    fields = list(changes)
    if "given_name" in changes or "family_name" in changes:
        person.name_changed_at = now
        fields.append("name_changed_at")
    shown = _shown(changes)
    entry = audit.Change(
        actor=actor_label(job),
        action="update_person",
        object_type="person",
        object_id=str(person.pk),
        at=now,
        reason=where[:200],
        before=_audit_values(shown, 0),
        after=_audit_values(shown, 1),
    )
    return fields, entry, shown


def _update_chunk(
    job: Job, batch: Sequence[tuple[PersonChange, Mapping[str, Any]]], now: datetime
) -> None:
    """Updates of persons, in one transaction, each against their row as it is once locked;
    the rows that change the same fields are written by one statement."""
    with transaction.atomic():
        ids = sorted(change.person_id for change, _ in batch if change.person_id is not None)
        persons = {
            p.pk: p for p in Person.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        alike: dict[tuple[str, ...], list[Person]] = {}
        entries = []
        for change, target in batch:
            person = persons[int(change.person_id or 0)]
            fields, entry, change.fields = _changed(job, person, target, change.where, now)
            if entry is not None:
                alike.setdefault(tuple(fields), []).append(person)
                entries.append(entry)
        for names, group in alike.items():
            update_each(
                Person, names, [(p.pk, *(getattr(p, name) for name in names)) for p in group]
            )
        audit.append(entries)


def _update_one(
    job: Job, change: PersonChange, pk: int, target: Mapping[str, Any], now: datetime
) -> None:
    """One person's update, the block of their live cards and the cancellation of their orders
    not produced yet, their employment having ended, in one transaction, against the person's
    row as it is once locked."""
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=pk)
        fields, entry, change.fields = _changed(job, person, target, change.where, now)
        entries = []
        if entry is not None:
            person.save(update_fields=fields)
            entries.append(entry)
        if not decide_employment(person.employment_ends, now).allowed:
            entries.extend(_end_cards(job, person, now, change))
        audit.append(entries)


def _end_cards(job: Job, person: Person, now: datetime, change: PersonChange) -> list[audit.Change]:
    """Block the person's live cards and cancel their orders not produced yet, locked, by the
    one block writer and the one cancellation writer (E13)."""
    ending = list(
        Card.objects.filter(person_id=person.pk, state__in=OCCUPYING_STATES)
        .select_for_update()
        .order_by("pk")
    )
    refs = [CardRef(c.pk, c.state, c.number) for c in ending if c.state in LIVE_STATES]
    unproduced = [card for card in ending if card.state in UNPRODUCED_STATES]
    ended = decide_employment(person.employment_ends, now)
    note = f"{ended.en} (E13)"
    change.left = person.employment_ends if refs or unproduced else None
    change.cards_blocked = [ref.number or str(ref.pk) for ref in refs]
    change.orders_cancelled = [card.pk for card in unproduced]
    requester = actor_label(job)
    why = BlockReason.EMPLOYMENT_ENDED
    entries = blocked(job, refs, CardAction.BLOCK, why, requester, note, now)
    return entries + cancelled(job, unproduced, now, note)


def _end_employments(
    job: Job,
    register: _Register,
    gone: list[dict[str, Any]],
    touched: set[int],
    now: datetime,
    today: date,
    dry_run: bool,
    report: Report,
) -> None:
    """Persons gone from a complete source end their employment yesterday; they, and every
    other person of the register whose end date has passed and who still has live cards,
    have those cards blocked, one transaction per person."""
    yesterday = today - timedelta(days=1)
    gone_ids = {row["pk"] for row in gone}
    by_pk = {row["pk"]: row for row in register.by_identity.values()}
    stored = [pk for pk in _stored_leavers(today) if pk not in touched and pk in by_pk]
    live, orders = _cards_to_end([*gone_ids, *stored]) if dry_run else ({}, {})
    for pk in sorted(gone_ids | set(stored)):
        if pk in touched:
            continue
        row = by_pk[pk]
        change = PersonChange(
            where="not in the source" if pk in gone_ids else "end date passed",
            label=_label(row["identity_number"], row["given_name"], row["family_name"]),
            person_id=pk,
            gone=pk in gone_ids,
        )
        if dry_run:
            if change.gone:
                change.fields = {"employment_ends": (row["employment_ends"], yesterday)}
            change.left = yesterday if change.gone else row["employment_ends"]
            change.cards_blocked = list(live.get(pk, []))
            change.orders_cancelled = list(orders.get(pk, []))
        else:
            _end_one(job, change, pk, now, yesterday)
        if change.fields or change.cards_blocked or change.orders_cancelled:
            report.ended.append(change)


def _end_one(job: Job, change: PersonChange, pk: int, now: datetime, yesterday: date) -> None:
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=pk)
        entries = []
        ends = person.employment_ends
        if change.gone and (ends is None or ends > yesterday):
            person.employment_ends = yesterday
            person.save(update_fields=["employment_ends"])
            change.fields = {"employment_ends": (ends, yesterday)}
            entries.append(
                audit.Change(
                    actor=actor_label(job),
                    action="update_person",
                    object_type="person",
                    object_id=str(person.pk),
                    at=now,
                    reason="not in the source, which is complete",
                    before={"employment_ends": ends.isoformat() if ends else None},
                    after={"employment_ends": yesterday.isoformat()},
                )
            )
        if not decide_employment(person.employment_ends, now).allowed:
            entries.extend(_end_cards(job, person, now, change))
        audit.append(entries)
