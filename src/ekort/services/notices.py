"""E-mail notices to card holders and their managers, sent by `ekort jobs run`.

Which notices are due is the domain's (`ekort.domain.notices`: the kinds, their thresholds and
windows as data). A run has two steps:

1. `record_due`: one query over the card table finds the cards in a notice's window whose
   notice is not yet recorded (the windows' conditions OR-ed, each with a probe of the
   records' unique index; one pass, as the deadline sweeps find their due cards, with no
   index on the state), and joins their holder's and manager's addresses to those alone; one
   more does the same over the certificates. The domain decides each such card's notices
   (`notices_due`), and the records are written a few thousand at a time with INSERT ... ON
   CONFLICT DO NOTHING (`store.sets.insert_new`): a notice is recorded once per card or
   certificate, kind, threshold and recipient (the holder, the manager), which is what makes
   a second run the same day send nothing new, and two runs at once record it once. A
   recipient without an e-mail address is left out: recorded on the first run after the
   address is registered, while the notice is still due.
2. `deliver`: every pending notice, oldest first, a thousand read at a time, through Django's
   e-mail backend, over one connection for the run (SMTP in production, a folder of files for
   `make run`). Each is rendered when sent, from templates in `mail/` (Swedish, then English),
   and marked sent with the address it went to and an audit entry (`notice_sent`, which the
   person's history shows).
   A delivery that fails leaves the notice pending with its failure noted, tried again on the
   next run; a notice no longer worth sending by then (the deadline passed, the card was
   activated) is marked lapsed. Nothing in delivery raises out of the job.

No mail holds an identity number, a code, or a postal address.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template import Context, Engine

from ekort.domain.lifecycle import CardState
from ekort.domain.notices import (
    RULES,
    CardFacts,
    Event,
    NoticeKind,
    NoticeStatus,
    Recipient,
    Window,
    certificate_notices_due,
    notices_due,
    still_current,
    windows,
)
from ekort.domain.timekeeping import STOCKHOLM, local_date, require_aware, start_of_local_day
from ekort.letters.render import SUPPORT_EMAIL, SUPPORT_PHONE, SUPPORT_PHONE_MENU
from ekort.store.models import Card, Certificate, Notice
from ekort.store.sets import Ids, insert_new

from . import audit
from .roles import Job, actor_label

log = logging.getLogger(__name__)

JOB = Job("notices")
CHUNK = 5000  # records written per statement
BATCH = 50  # mails sent before their records are written (a crash re-sends at most these)
LOAD = 1000  # pending notices read at a time
MAIL_DIR = Path(__file__).resolve().parent / "mail"
_ENGINE = Engine(dirs=[str(MAIL_DIR)], autoescape=False)  # plain text, no HTML
_NEW = ("card_id", "certificate_id", "recipient_id", "role", "kind", "days_before", "event_on")

_INSTANTS = {Event.SENT, Event.CLOSED, Event.CERTIFICATE_NOT_AFTER}


@dataclass
class NoticeRun:
    recorded: int = 0  # new notices found due
    sent: int = 0
    failed: int = 0  # deliveries that failed: tried again next run
    lapsed: int = 0  # pending notices no longer worth sending


def _in_window(event: Event, window: Window) -> Q:
    """The event's column in the window; an instant by its Stockholm date."""
    name = event.value
    if event in _INSTANTS:
        return Q(
            **{
                f"{name}__gte": start_of_local_day(window.first),
                f"{name}__lt": start_of_local_day(window.last + timedelta(days=1)),
            }
        )
    return Q(**{f"{name}__gte": window.first, f"{name}__lte": window.last})


def _not_recorded(window: Window, role: Recipient, *, certificate: bool = False) -> Q:
    """No record yet of the window's notice to `role` about the outer card (certificate): one
    probe of the unique constraint's index, with the outer row's own id."""
    about = {"certificate_id": OuterRef("pk")} if certificate else {"card_id": OuterRef("pk")}
    return ~Q(
        Exists(
            Notice.objects.filter(
                **about,
                certificate__isnull=not certificate,
                kind=window.kind.value,
                days_before=window.days_before,
                role=role.value,
            )
        )
    )


def _card_condition(found: Sequence[Window]) -> Q:
    """The cards in a window with a notice not yet recorded for the holder (or, for a kind the
    manager hears of, for the manager): the job's one pass over the card table. Only the
    card's own columns, so that the database filters the table with it as it reads it and
    joins the holder, the manager and the block to those cards alone. A card whose notices are
    all recorded is not read again, night after night, while it stays in its window; one
    whose holder has no address or no manager (or was blocked for a reason the manager is not
    told of) is, and recorded for when there is one."""
    conditions = []
    for window in found:
        rule = RULES[window.kind]
        if rule.event is Event.CERTIFICATE_NOT_AFTER:
            continue
        new = _not_recorded(window, Recipient.HOLDER)
        if rule.to_manager or rule.kind is NoticeKind.CARD_BLOCKED:
            new |= _not_recorded(window, Recipient.MANAGER)
        in_window = Q(state__in=sorted(rule.states)) & _in_window(rule.event, window)
        conditions.append(in_window & new)
    return reduce(or_, conditions)


def _day(instant: datetime | None) -> date | None:
    return None if instant is None else instant.astimezone(STOCKHOLM).date()


def _due_card_rows(today: date, found: Sequence[Window]) -> Iterator[tuple[Any, ...]]:
    """Each new notice's row (`_NEW`) for the cards in a window, recipients with an address."""
    rows = (
        Card.objects.filter(_card_condition(found))
        .order_by()
        .values_list(
            "pk",
            "state",
            "sent_at",
            "pickup_deadline",
            "activation_deadline",
            "valid_until",
            "closed_at",
            "block__reason",
            "person_id",
            "person__email",
            "person__manager_id",
            "person__manager__email",
        )
    )
    for (
        pk,
        state,
        sent_at,
        pickup,
        activation,
        valid_until,
        closed_at,
        reason,
        holder,
        holder_email,
        manager,
        manager_email,
    ) in rows.iterator(chunk_size=5000):
        facts = CardFacts(
            CardState(state),
            sent_on=_day(sent_at),
            pickup_deadline=pickup,
            activation_deadline=activation,
            valid_until=valid_until,
            closed_on=_day(closed_at),
            block_reason=reason or "",
            has_manager=manager is not None,
        )
        for due in notices_due(facts, today, found):
            for role in due.recipients:
                to, email = (
                    (holder, holder_email) if role is Recipient.HOLDER else (manager, manager_email)
                )
                if email:
                    yield (pk, None, to, role.value, due.kind.value, due.days_before, due.event_on)


def _due_certificate_rows(today: date, found: Sequence[Window]) -> Iterator[tuple[Any, ...]]:
    rule = RULES[NoticeKind.CERTIFICATE_EXPIRING]
    mine = [window for window in found if window.kind is rule.kind]
    if not mine:
        return
    condition = reduce(
        or_,
        (
            _in_window(rule.event, window)
            & _not_recorded(window, Recipient.HOLDER, certificate=True)
            for window in mine
        ),
    )
    rows = (
        Certificate.objects.filter(
            condition,
            status=Certificate.Status.VALID,
            on_card=True,
        )
        # The authentication certificate is issued with the card and ends with it
        # (`ca.issuance.card_end`): the card's own notice tells of it. Without this, the
        # certificates of every card in its 90 days would be read again each night.
        .exclude(profile=Certificate.Profile.AUTHENTICATION)
        .order_by()
        .values_list(
            "pk",
            "card_id",
            "not_after",
            "card__state",
            "card__valid_until",
            "card__person_id",
            "card__person__email",
        )
    )
    for pk, card, not_after, state, valid_until, holder, email in rows.iterator(chunk_size=5000):
        if not email:
            continue
        day = not_after.astimezone(STOCKHOLM).date()
        for due in certificate_notices_due(CardState(state), valid_until, day, today, mine):
            yield (card, pk, holder, Recipient.HOLDER.value, due.kind.value, due.days_before, day)


def _write(rows: Iterator[tuple[Any, ...]], now: datetime) -> int:
    shared = {
        "found_at": now,
        "status": NoticeStatus.PENDING.value,
        "attempts": 0,
        "sent_to": "",
        "failure": "",
    }
    written = 0
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            written += insert_new(Notice, _NEW, batch, shared)
            batch = []
    return written + insert_new(Notice, _NEW, batch, shared)


def record_due(now: datetime) -> int:
    """Record every notice due at `now` and not recorded before; how many were new. One
    transaction: a run that fails records nothing, and the next one records it all."""
    require_aware(now)
    today = local_date(now)
    found = windows(today)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The selection's condition is long (every window, OR-ed) and true for few rows:
            # compiling it to machine code cost PostgreSQL 3 s of a 5 s run over a million
            # cards, more than it saved (`make bench`).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return _write(_due_card_rows(today, found), now) + _write(
            _due_certificate_rows(today, found), now
        )


# --- Delivery ---------------------------------------------------------------------------------

BLOCK_REASONS = {
    "lost": ("borttappat", "lost"),
    "stolen": ("stulet", "stolen"),
    "damaged": ("skadat", "damaged"),
    "key_compromise": ("misstanke om att koden eller kortet röjts", "suspected misuse"),
    "employment_ended": ("anställningen har upphört", "employment ended"),
    "name_changed": ("namnbyte", "name changed"),
    "replaced": ("ersatt av ett nytt kort", "replaced by a new card"),
    "not_collected": ("kortet hämtades inte ut i tid (R3)", "not collected in time (R3)"),
    "not_activated": ("kortet aktiverades inte i tid (R8)", "not activated in time (R8)"),
    "other": ("annat skäl", "another reason"),
}
CARD_TYPES = {"photo": ("fotokort", "photo card"), "reserve": ("reservkort", "reserve card")}
PROFILES = {
    "auth": ("e-legitimation (SITHS eID)", "SITHS eID"),
    "signature": ("underskriftscertifikat", "signature certificate"),
    "additional": ("tilläggscertifikat", "additional certificate"),
}


def _genitive_sv(name: str) -> str:
    """ "Sara Holms", "Lars Nils": a Swedish name ending in s, x or z takes no genitive s."""
    return name if name[-1:].lower() in {"s", "x", "z"} else f"{name}s"


def _date(day: date) -> str:
    return day.isoformat()


def message_for(notice: Notice, today: date) -> EmailMessage:
    """The mail for `notice` (its card, person, certificate and block read with it)."""
    card = notice.card
    holder = card.person
    kind = NoticeKind(notice.kind)
    block = getattr(card, "block", None) if kind is NoticeKind.CARD_BLOCKED else None
    certificate = notice.certificate
    context = {
        "to_manager": notice.role == Recipient.MANAGER,
        "recipient": notice.recipient.full_name,
        "holder": holder.full_name,
        "holder_sv": _genitive_sv(holder.full_name),
        "card_number": card.number or "",
        "card_type": CARD_TYPES.get(card.card_type, (card.card_type, card.card_type)),
        "event_on": _date(notice.event_on),
        "days_left": (notice.event_on - today).days,
        "sent_on": _date(local_date(card.sent_at)) if card.sent_at else "",
        "activation_deadline": _date(card.activation_deadline) if card.activation_deadline else "",
        "blocked_at": (
            block.registered_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") if block else ""
        ),
        "reason": BLOCK_REASONS.get(block.reason, (block.reason, block.reason))
        if block
        else ("", ""),
        "profile": PROFILES.get(certificate.profile, ("", "")) if certificate else ("", ""),
        "rule": RULES[kind].rule,
        "support_email": SUPPORT_EMAIL,
        "support_phone": SUPPORT_PHONE,
        "support_menu": SUPPORT_PHONE_MENU,
        "offices_url": f"{settings.EKORT_PUBLIC_URL}/kortkontor/",
        "portal_url": f"{settings.EKORT_PUBLIC_URL}/mina-sidor/",
    }
    subject, _, body = (
        _ENGINE.get_template(f"{kind.value}.txt").render(Context(context)).strip().partition("\n")
    )
    footer = _ENGINE.get_template("footer.txt").render(Context(context))
    return EmailMessage(
        subject=subject.strip(),
        body=body.strip() + "\n\n" + footer.strip() + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient.email],
    )


def _current(notice: Notice, today: date) -> bool:
    """Still worth sending (`still_current`); a certificate's, while it is valid on the card."""
    kind = NoticeKind(notice.kind)
    if not still_current(kind, notice.event_on, CardState(notice.card.state), today):
        return False
    certificate = notice.certificate
    return certificate is None or (
        certificate.status == Certificate.Status.VALID and certificate.on_card
    )


def _sorted_out(
    pending: Sequence[Notice], today: date
) -> tuple[list[Notice], list[int], list[tuple[Notice, str]]]:
    """The notices to send, the ids of those no longer worth sending (`_current`), and those
    this version cannot read (a kind or state it does not know, written by a later version),
    with why: one odd row is noted on itself and never holds up the others."""
    to_send, lapsed, unreadable = [], [], []
    for notice in pending:
        try:
            current = _current(notice, today)
        except ValueError as problem:
            unreadable.append((notice, _failure(problem)))
            continue
        if current:
            to_send.append(notice)
        else:
            lapsed.append(notice.pk)
    return to_send, lapsed, unreadable


def _pending_ids() -> list[int]:
    return list(
        Notice.objects.filter(status=NoticeStatus.PENDING)
        .order_by("found_at", "pk")
        .values_list("pk", flat=True)
    )


def _loaded(ids: Sequence[int]) -> list[Notice]:
    return list(
        Notice.objects.filter(pk__in=list(ids), status=NoticeStatus.PENDING)
        .select_related("card__person", "card__block", "recipient", "certificate")
        .order_by("found_at", "pk")
    )


def _failure(problem: BaseException) -> str:
    return f"{type(problem).__name__}: {problem}"[:300]


def _record(
    sent: list[tuple[Notice, str]], failed: list[tuple[Notice, str]], now: datetime
) -> None:
    """Mark the batch's notices sent (with an audit entry each) or failed, in one transaction."""
    with transaction.atomic():
        for notice, address in sent:
            Notice.objects.filter(pk=notice.pk).update(
                status=NoticeStatus.SENT,
                sent_at=now,
                sent_to=address,
                attempts=notice.attempts + 1,
                failure="",
            )
        for notice, why in failed:
            Notice.objects.filter(pk=notice.pk).update(attempts=notice.attempts + 1, failure=why)
        audit.append(
            [
                audit.Change(
                    actor=actor_label(JOB),
                    action="notice_sent",
                    object_type="notice",
                    object_id=str(notice.pk),
                    at=now,
                    after={
                        "notice": notice.kind,
                        "recipient": notice.role,
                        "card_id": notice.card_id,
                        "card_number": notice.card.number,
                        "event_on": notice.event_on.isoformat(),
                        # a threshold; news (sent, blocked) has none
                        **({"days_before": notice.days_before} if notice.days_before else {}),
                    },
                )
                for notice, _ in sent
            ]
        )


def deliver(now: datetime) -> NoticeRun:
    """Send every pending notice, oldest first, over one connection of the configured e-mail
    backend, `LOAD` read at a time. Never raises: a failure is noted on the notice, which the
    next run tries again."""
    require_aware(now)
    today = local_date(now)
    result = NoticeRun()
    try:
        ids = _pending_ids()
    except Exception:  # the database: the next run tries again
        log.exception("e-mail notices: could not read the pending notices")
        return result
    connection: Any = None
    try:
        for start in range(0, len(ids), LOAD):
            try:
                pending = _loaded(ids[start : start + LOAD])
                to_send, lapsed, unreadable = _sorted_out(pending, today)
                Notice.objects.filter(pk__in=lapsed).update(status=NoticeStatus.LAPSED)
            except Exception:
                log.exception("e-mail notices: could not read a batch of pending notices")
                return result
            result.lapsed += len(lapsed)
            if unreadable:
                _safely(_record, [], unreadable, now)
                result.failed += len(unreadable)
            if to_send and connection is None:
                connection = get_connection(fail_silently=False)
                try:
                    connection.open()
                except Exception as problem:  # the mail server is down: all wait for next run
                    connection = None
                    result.failed += _not_delivered(ids[start:], _failure(problem))
                    return result
            for first in range(0, len(to_send), BATCH):
                sent, failed = _send(connection, to_send[first : first + BATCH], today)
                _safely(_record, sent, failed, now)
                result.sent += len(sent)
                result.failed += len(failed)
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:  # closing a broken connection: nothing left to lose
                log.debug("e-mail notices: closing the connection failed", exc_info=True)
    return result


def _send(
    connection: Any, notices: Sequence[Notice], today: date
) -> tuple[list[tuple[Notice, str]], list[tuple[Notice, str]]]:
    """Each notice's mail, one at a time: those sent (with the address), those that failed
    (with why)."""
    sent: list[tuple[Notice, str]] = []
    failed: list[tuple[Notice, str]] = []
    for notice in notices:
        address = notice.recipient.email
        try:
            if not address:
                raise ValueError("the recipient has no e-mail address any more")
            if connection.send_messages([message_for(notice, today)]) != 1:
                raise smtplib.SMTPException("the backend did not send it")
            sent.append((notice, address))
        except Exception as problem:
            failed.append((notice, _failure(problem)))
            if isinstance(problem, smtplib.SMTPServerDisconnected | OSError):
                _reconnect(connection)
    return sent, failed


def _not_delivered(ids: Sequence[int], why: str) -> int:
    """No connection to the mail server: each pending notice left is noted as one more failed
    attempt, with one UPDATE; how many."""
    log.warning("e-mail notices: no connection to the mail server (%s)", why)
    try:
        return sum(
            Notice.objects.filter(
                pk__any_of=Ids(ids[i : i + CHUNK]), status=NoticeStatus.PENDING
            ).update(attempts=F("attempts") + 1, failure=why)
            for i in range(0, len(ids), CHUNK)
        )
    except Exception:  # they stay pending all the same
        log.exception("e-mail notices: could not note the failed deliveries")
        return len(ids)


def _reconnect(connection: Any) -> None:
    """After a lost connection, open a new one for the rest of the run (if it can be had)."""
    try:
        connection.close()
    except Exception:  # already broken
        log.debug("e-mail notices: closing a lost connection failed", exc_info=True)
    try:
        connection.open()
    except Exception:  # the next message's send tries again, and fails on its own
        log.debug("e-mail notices: reconnecting failed", exc_info=True)


def _safely(record: Any, *args: Any) -> None:
    try:
        record(*args)
    except Exception:  # a failed write: the notices stay pending and are sent again next run
        log.exception("e-mail notices: could not record a batch of deliveries")


def run(now: datetime) -> NoticeRun:
    """Record the notices due at `now`, then deliver every pending one (`ekort jobs run`)."""
    recorded = record_due(now)
    result = deliver(now)
    result.recorded = recorded
    return result
