"""The dated policy calendar: which card actions are allowed on which day, as data.

A calendar is a list of periods (Stockholm local dates, inclusive, no gaps or overlaps). Each
period decides, for every action and card type, allowed or refused with the rule and a Swedish
and an English sentence; it also fixes the card generation, the delivery path, the pick-up
deadline or activation window, and whether photo cards issued then are SIS-marked (R17).

The calendar lives in a TOML file; `data/gavleborg-2024.toml` is the shipped default and
documents the format. Another region's calendar is another file, not code. Loading checks the
whole file and raises `CalendarError`, naming the file, period and key, on any problem.
"""

from __future__ import annotations

import bisect
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from itertools import pairwise
from types import MappingProxyType
from typing import NoReturn, TypeVar

from .errors import Decision, InvalidInput, decides
from .renewal import DEFAULT_RENEWAL_DAYS
from .rulebook import RULES, rule
from .timekeeping import add_months, add_years, local_date
from .vocabulary import CardType, DeliveryPath, Generation


class PolicyAction(StrEnum):
    ORDER = "order"
    PHOTOGRAPH = "photograph"
    ISSUE = "issue"
    HAND_OUT = "hand_out"
    ACTIVATE = "activate"


class CalendarError(InvalidInput):
    """A calendar file that cannot be used; the message names the file, period and key."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        super().__init__(f"{source}: {where}: {problem}" if where else f"{source}: {problem}")


@dataclass(frozen=True)
class Period:
    name: str
    first_day: date | None  # None: open start, covers every earlier day
    last_day: date | None  # None: open end; otherwise the inclusive last day
    generation: Generation
    delivery_path: DeliveryPath
    sis_marked_photo_cards: bool
    pickup_deadline: date | None  # last day to collect (code-envelope path), else None
    activation_window_months: int | None  # home path, else None
    decisions: Mapping[tuple[PolicyAction, CardType], Decision]
    summary_sv: str
    summary_en: str
    # What the pages call the period, in a few words ("Beställningsstopp"); optional in the
    # file, where a period without one is named by its days instead. `name` is the file's key.
    title_sv: str = ""
    title_en: str = ""

    def covers(self, day: date) -> bool:
        return (self.first_day is None or self.first_day <= day) and (
            self.last_day is None or day <= self.last_day
        )

    @property
    def days(self) -> str:
        """The period's first and last day, both included: "2024-01-23 – 2024-01-24"."""
        return days_text(self.first_day, self.last_day)


def deadline_passed(deadline: date, today: date) -> bool:
    """A last day has passed once it is over: the day after it, the card is overdue (R3,
    R8). The deadline sweeps select the same cards: deadline before today."""
    return today > deadline


def days_text(first: date | None, last: date | None) -> str:
    """A run of days as every report and page writes it: the first and the last day, both
    included, "…" for an open end. "2024-01-23 – 2024-01-25", "… – 2022-09-30",
    "2024-01-26 – …"; a one-day period is "2024-01-25 – 2024-01-25"."""
    start = "…" if first is None else first.isoformat()
    end = "…" if last is None else last.isoformat()
    return f"{start} – {end}"


# Blocking is not one of the calendar's actions: no period may refuse it.
BLOCK = "block"


def decide_block() -> Decision:
    """A card of any type can be blocked on any day. Blocking is not issuing: a block request
    must never be lost, not even during the ordering and issuing stop (R4;
    docs/domain-notes.md)."""
    return Decision.allow(
        "R4",
        "Ett kort kan spärras när som helst, även under beställnings- och kortutfärdarstoppet: "
        "att spärra är inte att utfärda, och en spärrbegäran får aldrig gå förlorad.",
        "A card can be blocked at any time, even during the ordering and issuing stop: "
        "blocking is not issuing, and a block request must never be lost.",
    )


@dataclass(frozen=True)
class RuleRow:
    action: PolicyAction
    card_type: CardType
    allowed: bool
    rule: str
    sv: str
    en: str


class PolicyCalendar:
    """A region's periods in date order. Build it with `load` or `from_toml`."""

    def __init__(
        self,
        region: str,
        periods: tuple[Period, ...],
        validity_years: Mapping[CardType, int],
        *,
        source: str = "<code>",
        renewal_days: int = DEFAULT_RENEWAL_DAYS,
    ) -> None:
        _check_continuity(periods, source)
        self.region = region
        self.periods = periods
        self.validity_years: Mapping[CardType, int] = MappingProxyType(dict(validity_years))
        # How many days before a card's last day its renewal can be ordered (E12).
        self.renewal_days = renewal_days
        self._later_starts = [p.first_day for p in periods[1:] if p.first_day is not None]

    def __repr__(self) -> str:
        return f"PolicyCalendar({self.region!r}, periods={[p.name for p in self.periods]})"

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<string>") -> PolicyCalendar:
        return _Loader(source).calendar(text)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PolicyCalendar:
        source = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as error:
            raise CalendarError(
                source, "", f"cannot read the calendar file ({error.strerror})."
            ) from None
        except UnicodeDecodeError:
            raise CalendarError(source, "", "the calendar file is not UTF-8 text.") from None
        return cls.from_toml(text, source=source)

    # --- which period -------------------------------------------------------------------

    def period_on(self, day: date) -> Period:
        """The period that covers the Stockholm local date `day`."""
        period = self.periods[bisect.bisect_right(self._later_starts, day)]
        if not period.covers(day):
            first, last = self.periods[0].first_day, self.periods[-1].last_day
            raise InvalidInput(
                f"The policy calendar of {self.region} covers the days {days_text(first, last)}; "
                f"it has no rules for {day.isoformat()}."
            )
        return period

    def period_at(self, now: datetime) -> Period:
        return self.period_on(local_date(now))

    def boundaries(self) -> tuple[date, ...]:
        """The first day of every period after the first, in order (for timelines)."""
        return tuple(self._later_starts)

    # --- decisions ----------------------------------------------------------------------

    @decides("R1", "R2", "R3", "R4", "R6", "R7", "R8", "E7")
    def decide(
        self,
        action: PolicyAction,
        card_type: CardType,
        now: datetime,
        *,
        deadline: date | None = None,
        has_registered_address: bool = True,
    ) -> Decision:
        """May `action` be done to a card of `card_type` at `now`? First the period's own
        decision (this calendar's data: R1, R2, R4, R6, R7, E7, and R3 once the pick-up
        period is over); then the card's own last day, for a hand-out (`deadline`: its pick-up
        deadline, R3) or an activation (its activation deadline, R8); and for issuing, which
        sends the card, a registered address to send it to (R6 home, R3 code envelope) and a
        pick-up day that has not passed (R3)."""
        period = self.period_at(now)
        decision = period.decisions[(action, card_type)]
        if not decision.allowed:
            return decision
        today = local_date(now)
        last_day_rule = {PolicyAction.HAND_OUT: "R3", PolicyAction.ACTIVATE: "R8"}.get(action)
        if last_day_rule is not None and deadline is not None and deadline_passed(deadline, today):
            r = rule(last_day_rule)
            return Decision.refuse(
                last_day_rule,
                f"{r.sv} Sista dag var {deadline.isoformat()}; kortet spärras och ett nytt kort "
                "behöver beställas.",
                f"{r.en} The last day was {deadline.isoformat()}; the card will be blocked and "
                "a new one must be ordered.",
            )
        if action is PolicyAction.ISSUE:
            path_rule = "R6" if period.delivery_path is DeliveryPath.HOME else "R3"
            if not has_registered_address:
                r = rule(path_rule)
                return Decision.refuse(
                    path_rule,
                    f"{r.sv} Personen saknar registrerad folkbokföringsadress i ekort.",
                    f"{r.en} The person has no registered address recorded in ekort.",
                )
            pickup = period.pickup_deadline
            if period.delivery_path is DeliveryPath.CODE_ENVELOPE and pickup and pickup < today:
                return Decision.refuse(
                    "R3",
                    f"Inga kort kan skickas {today}: sista dag att hämta ut kort, {pickup}, "
                    "har passerat.",
                    f"No card can be sent on {today}: the last day to collect cards, {pickup}, "
                    "has passed.",
                )
        return decision

    def rules_table(self, now: datetime) -> list[RuleRow]:
        """One row per (action, card type), in declaration order, for the period at `now`."""
        decisions = self.period_at(now).decisions
        return [
            RuleRow(action, card_type, d.allowed, d.rule, d.sv, d.en)
            for action in PolicyAction
            for card_type in CardType
            for d in (decisions[(action, card_type)],)
        ]

    # --- card facts decided by the date -------------------------------------------------

    def delivery_path(self, now: datetime) -> DeliveryPath:
        return self.period_at(now).delivery_path

    def generation_at(self, now: datetime) -> Generation:
        return self.period_at(now).generation

    def sis_marked(self, card_type: CardType, issued_at: datetime) -> bool:
        """Whether a card issued at `issued_at` is SIS-marked (R17). Reserve cards never are."""
        return card_type is CardType.PHOTO and self.period_at(issued_at).sis_marked_photo_cards

    def pickup_deadline(self, sent_at: datetime) -> date | None:
        """The last day to collect a card whose code envelope was sent at `sent_at` (R3);
        None for a card sent then, which goes home and is activated at a card office (R6)."""
        return self.period_at(sent_at).pickup_deadline

    def activation_deadline(self, sent_at: datetime) -> date | None:
        """The last day to activate a card sent home at `sent_at` (R8); None for a card sent
        then, which is collected with a code envelope (R3).

        Calendar months from the local day the card was sent, the last day included, clamped
        to the month's end: sent 2024-01-31, last day 2024-04-30.
        """
        sent_on = local_date(sent_at)
        months = self.period_on(sent_on).activation_window_months
        return None if months is None else add_months(sent_on, months)

    def valid_until(self, card_type: CardType, issued_at: datetime) -> date:
        """The card's last valid day: the local issue date plus the validity in years."""
        return add_years(local_date(issued_at), self.validity_years[card_type])


DEFAULT_CALENDAR_FILE = "gavleborg-2024.toml"


@cache
def default_calendar() -> PolicyCalendar:
    """The shipped calendar: Region Gävleborg, the changes of January 2024."""
    resource = resources.files("ekort.domain").joinpath("data", DEFAULT_CALENDAR_FILE)
    return PolicyCalendar.from_toml(
        resource.read_text(encoding="utf-8"), source=DEFAULT_CALENDAR_FILE
    )


# --- checks across periods ------------------------------------------------------------------


def _check_continuity(periods: tuple[Period, ...], source: str) -> None:
    if not periods:
        raise CalendarError(
            source, "", "the calendar has no periods; write at least one [[period]]."
        )
    for number, period in enumerate(periods, start=1):
        where = f"period {number} ({period.name!r})"
        if period.first_day is None and number != 1:
            raise CalendarError(
                source,
                f"{where}, key first_day",
                'only the first period may start "open"; give the first day as a date.',
            )
        if period.last_day is None and number != len(periods):
            raise CalendarError(
                source,
                f"{where}, key last_day",
                'only the last period may end "open"; give the last day as a date.',
            )
        if (
            period.first_day is not None
            and period.last_day is not None
            and period.first_day > period.last_day
        ):
            raise CalendarError(
                source,
                where,
                f"first_day {period.first_day} is after last_day {period.last_day}.",
            )
    for number, (previous, period) in enumerate(pairwise(periods), start=2):
        # Checked above: only the first period starts open, only the last ends open.
        assert previous.last_day is not None
        assert period.first_day is not None
        expected = previous.last_day + timedelta(days=1)
        where = f"period {number} ({period.name!r}), key first_day"
        if period.first_day > expected:
            raise CalendarError(
                source,
                where,
                f"starts {period.first_day}, but the previous period {previous.name!r} ends "
                f"{previous.last_day}: the days "
                f"{days_text(expected, period.first_day - timedelta(days=1))} belong to no "
                "period (a gap). Periods are listed in date order, each starting the day after "
                "the last ends.",
            )
        if period.first_day < expected:
            raise CalendarError(
                source,
                where,
                f"starts {period.first_day}, on or before {previous.last_day}, the last day of "
                f"the previous period {previous.name!r}: the periods overlap. Periods are listed "
                f"in date order, each starting the day after the last ends ({expected}).",
            )


# --- reading the TOML -----------------------------------------------------------------------

OPEN = "open"
_E = TypeVar("_E", bound=StrEnum)

_REQUIRED_TOP_KEYS = frozenset({"region", "validity_years", "period", "decisions"})
_TOP_KEYS = _REQUIRED_TOP_KEYS | {"renewal_days_before_expiry"}
_PERIOD_KEYS = frozenset(
    {
        "name",
        "first_day",
        "last_day",
        "summary_sv",
        "summary_en",
        "title_sv",
        "title_en",
        "generation",
        "delivery_path",
        "sis_marked_photo_cards",
        "pickup_deadline",
        "activation_window_months",
        "actions",
    }
)
_DECISION_KEYS = frozenset({"allowed", "rule", "sv", "en"})


def _choices(values: Iterable[object]) -> str:
    return ", ".join(repr(str(v)) for v in values)


class _Loader:
    """Reads one calendar file; every error names `source` and where in it."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        raise CalendarError(self.source, where, problem)

    def calendar(self, text: str) -> PolicyCalendar:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            self.fail("", f"not valid TOML: {error}. (Dates are written 2024-01-22, unquoted.)")
        self.keys(document, "top level", allowed=_TOP_KEYS, required=_REQUIRED_TOP_KEYS)
        region = self.text(document, "region", "top level")
        validity = self.validity(document["validity_years"])
        decisions = self.decision_library(document["decisions"])
        raw_periods = document["period"]
        if not isinstance(raw_periods, list):
            self.fail("key period", "write each period as a [[period]] table.")
        periods: list[Period] = []
        for number, raw in enumerate(raw_periods, start=1):
            period = self.period(raw, number, decisions)
            if any(p.name == period.name for p in periods):
                self.fail(f"period {number}, key name", f"the name {period.name!r} is used twice.")
            periods.append(period)
        renewal_days = (
            self.positive_int(document, "renewal_days_before_expiry", "top level")
            if "renewal_days_before_expiry" in document
            else DEFAULT_RENEWAL_DAYS
        )
        return PolicyCalendar(
            region, tuple(periods), validity, source=self.source, renewal_days=renewal_days
        )

    # --- sections ---

    def validity(self, raw: object) -> dict[CardType, int]:
        where = "[validity_years]"
        table = self.table(raw, where)
        names = {str(t) for t in CardType}
        self.keys(table, where, allowed=names, required=names)
        return {CardType(name): self.positive_int(table, name, where) for name in table}

    def decision_library(self, raw: object) -> dict[str, Decision]:
        library: dict[str, Decision] = {}
        for name, entry in self.table(raw, "[decisions]").items():
            where = f"[decisions.{name}]"
            table = self.table(entry, where)
            self.keys(table, where, allowed=_DECISION_KEYS, required=_DECISION_KEYS)
            rule = self.text(table, "rule", where)
            if rule not in RULES:
                self.fail(
                    f"{where}, key rule",
                    f"{rule!r} is not a rule ekort knows; cite one of R1-R18 or E1-E10 "
                    "(src/ekort/domain/rulebook.py).",
                )
            library[name] = Decision(
                allowed=self.boolean(table, "allowed", where),
                rule=rule,
                sv=self.text(table, "sv", where),
                en=self.text(table, "en", where),
            )
        return library

    def period(self, raw: object, number: int, library: Mapping[str, Decision]) -> Period:
        where = f"period {number}"
        table = self.table(raw, where)
        name = self.text(table, "name", where)
        where = f"period {number} ({name!r})"
        required = _PERIOD_KEYS - {
            "pickup_deadline",
            "activation_window_months",
            "title_sv",
            "title_en",
        }
        self.keys(table, where, allowed=_PERIOD_KEYS, required=required)
        delivery_path = self.enum(DeliveryPath, table, "delivery_path", where)
        # Each delivery path has its own deadline: a fixed pick-up day for code envelopes (R3),
        # an activation window for cards sent home (R8).
        needed, unwanted = {
            DeliveryPath.CODE_ENVELOPE: ("pickup_deadline", "activation_window_months"),
            DeliveryPath.HOME: ("activation_window_months", "pickup_deadline"),
        }[delivery_path]
        if needed not in table:
            self.fail(where, f'delivery_path "{delivery_path}" needs the key {needed}.')
        if unwanted in table:
            self.fail(
                f"{where}, key {unwanted}",
                f'does not apply to delivery_path "{delivery_path}"; remove it.',
            )
        return Period(
            name=name,
            first_day=self.day(table, "first_day", where, open_allowed=True),
            last_day=self.day(table, "last_day", where, open_allowed=True),
            generation=self.enum(Generation, table, "generation", where),
            delivery_path=delivery_path,
            sis_marked_photo_cards=self.boolean(table, "sis_marked_photo_cards", where),
            pickup_deadline=(
                self.day(table, "pickup_deadline", where) if "pickup_deadline" in table else None
            ),
            activation_window_months=(
                self.positive_int(table, "activation_window_months", where)
                if "activation_window_months" in table
                else None
            ),
            decisions=MappingProxyType(self.actions(table["actions"], where, library)),
            summary_sv=self.text(table, "summary_sv", where),
            summary_en=self.text(table, "summary_en", where),
            title_sv=self.text(table, "title_sv", where) if "title_sv" in table else "",
            title_en=self.text(table, "title_en", where) if "title_en" in table else "",
        )

    def actions(
        self, raw: object, period_where: str, library: Mapping[str, Decision]
    ) -> dict[tuple[PolicyAction, CardType], Decision]:
        where = f"{period_where}, [period.actions]"
        actions = {str(a) for a in PolicyAction}
        card_types = {str(t) for t in CardType}
        table = self.table(raw, where)
        self.keys(table, where, allowed=actions, required=actions)
        decisions: dict[tuple[PolicyAction, CardType], Decision] = {}
        for action in PolicyAction:
            action_where = f"{period_where}, key actions.{action}"
            row = self.table(table[action], action_where)
            self.keys(row, action_where, allowed=card_types, required=card_types)
            for card_type in CardType:
                reference = self.text(row, card_type, action_where)
                if reference not in library:
                    self.fail(
                        f"{action_where}.{card_type}",
                        f"no decision named {reference!r}; add [decisions.{reference}] or use "
                        f"one of {_choices(sorted(library))}.",
                    )
                decisions[(action, card_type)] = library[reference]
        return decisions

    # --- values ---

    def keys(
        self,
        table: Mapping[str, object],
        where: str,
        *,
        allowed: frozenset[str] | set[str],
        required: frozenset[str] | set[str],
    ) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            self.fail(
                where,
                f"unknown key {_choices(unknown)}; the keys here are {_choices(sorted(allowed))}.",
            )
        missing = sorted(required - set(table))
        if missing:
            self.fail(where, f"missing key {_choices(missing)}.")

    def table(self, raw: object, where: str) -> dict[str, object]:
        if not isinstance(raw, dict):
            self.fail(where, f"expected a table, found {_describe(raw)}.")
        return raw

    def text(self, table: Mapping[str, object], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}, key {key}", f"expected text, found {_describe(value)}.")
        return value.strip()

    def boolean(self, table: Mapping[str, object], key: str, where: str) -> bool:
        value = table.get(key)
        if not isinstance(value, bool):
            self.fail(f"{where}, key {key}", f"expected true or false, found {_describe(value)}.")
        return value

    def positive_int(self, table: Mapping[str, object], key: str, where: str) -> int:
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(
                f"{where}, key {key}", f"expected a whole number above 0, found {_describe(value)}."
            )
        return value

    def enum(self, kind: type[_E], table: Mapping[str, object], key: str, where: str) -> _E:
        value = table.get(key)
        for member in kind:
            if member == value:
                return member
        self.fail(
            f"{where}, key {key}",
            f"unknown value {_describe(value)}; use one of {_choices(kind)}.",
        )

    def day(
        self, table: Mapping[str, object], key: str, where: str, *, open_allowed: bool = False
    ) -> date | None:
        value = table.get(key)
        if open_allowed and value == OPEN:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        expected = (
            'a date such as 2024-01-22 or "open"' if open_allowed else "a date such as 2024-01-22"
        )
        self.fail(f"{where}, key {key}", f"expected {expected}, found {_describe(value)}.")


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime):
        return f"the date and time {value.isoformat()} (give the date only)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)
