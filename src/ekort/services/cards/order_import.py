"""Orders from a file (`ekort orders import`, the upload on Mina medarbetare): each row of a
manager's CSV becomes one `NewOrder`, and the rows go to the one order service, `order_cards`,
in one call. Each row is reported with its line: ordered, already ordered (E8: the person has a
card of that type ordered or in use, so running the same file again orders nothing new), or
refused with the rule that refused it.

A row whose person is not in the register, or is not the manager's, is refused as E2 without
the person's name: the report only repeats what the file said, so that a file of identity
numbers cannot be used to look up who they belong to. A dry run asks the very same service in
a transaction that is then rolled back, so its answer is the real one, and nothing is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction

from ekort.domain.errors import DomainError, Refused
from ekort.domain.order_file import OrderLine, parse_order_file
from ekort.domain.orders import decide_orderer
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import Role
from ekort.store.models import Person

from ..roles import person_id_of, require_role
from .card_sets import Outcome
from .ordering import NewOrder, order_cards


class LineStatus(StrEnum):
    ORDERED = "ordered"  # ordered now (in a dry run: would be)
    ALREADY = "already"  # E8: a card of that type is ordered or in use already
    REFUSED = "refused"  # another rule refused it


@dataclass(frozen=True)
class LineResult:
    line: int
    who: str  # as the file named the person: a masked identity number or the HSA-id
    card_type: str
    status: LineStatus
    rule: str = ""
    sv: str = ""
    en: str = ""
    card_id: int | None = None


@dataclass
class ImportReport:
    dry_run: bool
    lines: list[LineResult] = field(default_factory=list)

    def count(self, status: LineStatus) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def ordered(self) -> int:
        return self.count(LineStatus.ORDERED)

    @property
    def already(self) -> int:
        return self.count(LineStatus.ALREADY)

    @property
    def refused(self) -> int:
        return self.count(LineStatus.REFUSED)


class _DryRun(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__("dry run")
        self.outcome = outcome


def _persons(lines: list[OrderLine]) -> tuple[dict[str, Person], dict[str, Person]]:
    """The register's persons named in the file, by identity number and by HSA-id: two
    queries, whatever the number of rows."""
    numbers = {line.identity_number for line in lines if line.identity_number}
    hsa_ids = {line.hsa_id for line in lines if line.hsa_id}
    fields = ("pk", "manager_id", "identity_number", "hsa_id")
    by_number = {
        p.identity_number: p
        for p in Person.objects.filter(identity_number__in=numbers).only(*fields)
    }
    by_hsa = {p.hsa_id or "": p for p in Person.objects.filter(hsa_id__in=hsa_ids).only(*fields)}
    return by_number, by_hsa


def _person_of(line: OrderLine, by_number: dict[str, Person], by_hsa: dict[str, Person]) -> Any:
    if line.identity_number is not None:
        person = by_number.get(line.identity_number)
        if person is not None and line.hsa_id is not None and person.hsa_id != line.hsa_id:
            return None  # the two columns name different persons (or one names nobody)
        return person
    return by_hsa.get(line.hsa_id or "")


def _ordered(actor: Any, orders: list[NewOrder], now: datetime, dry_run: bool) -> Outcome:
    if not orders:
        return Outcome()
    if not dry_run:
        return order_cards(actor=actor, orders=orders, now=now)
    try:
        with transaction.atomic():
            raise _DryRun(order_cards(actor=actor, orders=orders, now=now))
    except _DryRun as rolled_back:
        return rolled_back.outcome


def _refused(line: OrderLine, refusal: Refused) -> LineResult:
    status = LineStatus.ALREADY if refusal.rule == "E8" else LineStatus.REFUSED
    return LineResult(
        line.line, line.who, line.card_type.value, status, refusal.rule, refusal.sv, refusal.en
    )


def _unusable(line: OrderLine, problem: DomainError) -> LineResult:
    text = str(problem)
    return LineResult(line.line, line.who, line.card_type.value, LineStatus.REFUSED, "", text, text)


def import_orders(*, actor: Any, data: bytes, now: datetime, dry_run: bool = False) -> ImportReport:
    """Order the cards a file lists (`ekort.domain.order_file`), by `order_cards`. A file that
    cannot be read is refused whole (`OrderFileRefused`) and nothing is ordered; otherwise
    each line is reported, in file order, a line that cannot be understood as refused."""
    require_aware(now)
    require_role(actor, Role.ORDERER)
    read = parse_order_file(data, today=local_date(now))
    lines = read.lines
    by_number, by_hsa = _persons(lines)
    me = person_id_of(actor)
    results: dict[int, LineResult] = {
        # A row that cannot be understood names neither person nor card type: the report
        # repeats nothing of what it said (an identity number with a wrong check digit).
        problem.line: LineResult(
            problem.line, "", "", LineStatus.REFUSED, "", problem.sv, problem.en
        )
        for problem in read.problems
    }
    orders: list[NewOrder] = []
    asked: list[OrderLine] = []
    for line in lines:
        person = _person_of(line, by_number, by_hsa)
        manager = None if person is None else person.manager_id
        try:
            decide_orderer(me, manager, line.who).require()
        except Refused as refusal:
            results[line.line] = _refused(line, refusal)
            continue
        assert person is not None
        orders.append(NewOrder(person.pk, line.card_type, line.note))
        asked.append(line)
    outcome = _ordered(actor, orders, now, dry_run)
    done = iter(outcome.done)
    for position, line in enumerate(asked):
        problem = outcome.refused.get(position)
        if isinstance(problem, Refused):
            results[line.line] = _refused(line, problem)
        elif problem is not None:
            results[line.line] = _unusable(line, problem)
        else:
            card_id = None if dry_run else next(done)
            results[line.line] = LineResult(
                line.line, line.who, line.card_type.value, LineStatus.ORDERED, card_id=card_id
            )
    return ImportReport(dry_run, [results[number] for number in sorted(results)])
