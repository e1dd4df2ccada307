"""The print queue: letters waiting to be printed, their PDFs, and marking them printed.

A letter row holds no code (see `Letter`). The PUK is unsealed only while the PDF of a letter
that carries it is rendered (the PIN/PUK letter, R14/R15, and a reserve card's code envelope,
R16), goes into that PDF and nowhere else: not in the audit trail, a log or a page. A letter
with the PUK that is sent again waits for a second person's approval before it is printed
(E14, `approve_letter`). A letter whose card is blocked before it is printed leaves the queue
with the block (`withdrawn_at`, `cards.blocking.withdraw_letters`) and is never printed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from ekort.domain.errors import Decision, NotFound
from ekort.domain.letter_rules import (
    LetterStep,
    carries_puk,
    decide_cover_letter_again,
    decide_letter_approval,
    needs_second_approval,
)
from ekort.domain.lifecycle import CardState
from ekort.domain.pins import CodeRequest, decide_codes
from ekort.domain.timekeeping import local_date, require_aware
from ekort.domain.vocabulary import CardType, Generation, LetterKind, Role
from ekort.letters import LetterData, render_letter
from ekort.store.locks import lock_card
from ekort.store.models import Letter, LetterApproval
from ekort.store.rosters import name_condition

from . import audit
from .ca.secrets import unseal
from .cards.card_sets import card_change, snapshot
from .cards.locked_pin import pin_letter_queued
from .cards.production import queue_letter
from .policy import current_calendar
from .roles import actor_label, person_id_of, require_role


def waiting_letters(
    *, kind: LetterKind | None = None, office_id: int | None = None, name: str = ""
) -> QuerySet[Letter]:
    """Letters not printed yet (nor withdrawn with a block), oldest first, with the approval
    each may wait for (E14). `kind`: of that kind only. `office_id`: the card's office only,
    where it was activated or, not activated yet, photographed (`of_office`). `name`: to a
    person whose given or family name starts with each of its words, as the staff lists find
    a name (`rosters.name_condition`)."""
    letters = Letter.objects.filter(printed_at__isnull=True, withdrawn_at__isnull=True)
    if kind is not None:
        letters = letters.filter(kind=kind.value)
    if office_id is not None:
        letters = letters.filter(of_office(office_id))
    if name.strip():
        letters = letters.filter(name_condition(name, prefix="person__"))
    return letters.select_related("card", "approval", "person").order_by("queued_at", "pk")


def waiting_counts() -> dict[str, int]:
    """How many letters wait, by kind: one grouped query (the queue's summary)."""
    rows = (
        Letter.objects.filter(printed_at__isnull=True, withdrawn_at__isnull=True)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return dict(rows)


def of_office(office_id: int) -> Q:
    """The letters of cards of one card office: activated there, or, not activated yet,
    photographed there. The office is its ID administrator's (`Account.office`), as the
    renewal worklists have it."""
    activated = Q(card__activated_by__account__office_id=office_id)
    photographed = Q(
        card__activated_by__isnull=True, card__photographed_by__account__office_id=office_id
    )
    return activated | photographed


def recently_withdrawn(now: datetime, *, days: int = 7) -> QuerySet[Letter]:
    """Letters taken out of the queue unprinted, because their card was blocked, in the last
    `days` days up to `now`, the latest first."""
    require_aware(now)
    return (
        Letter.objects.filter(withdrawn_at__gt=now - timedelta(days=days), withdrawn_at__lte=now)
        .select_related("card", "card__block", "person")
        .order_by("-withdrawn_at", "-pk")
    )


def recently_printed(now: datetime, *, days: int = 7) -> QuerySet[Letter]:
    """Letters marked printed in the last `days` days up to `now`, the latest first."""
    require_aware(now)
    return (
        Letter.objects.filter(printed_at__gt=now - timedelta(days=days), printed_at__lte=now)
        .select_related("card", "approval", "person")
        .order_by("-printed_at", "-pk")
    )


def withdrawn_among(letter_ids: Iterable[int]) -> int:
    """How many of the letters were taken out of the queue with their card's block."""
    return Letter.objects.filter(pk__in=list(letter_ids), withdrawn_at__isnull=False).count()


def letter_carries_puk(letter: Letter) -> bool:
    return carries_puk(LetterKind(letter.kind), CardType(letter.card.card_type))


def approval_of(letter: Letter) -> LetterApproval | None:
    """The second person's approval the letter was sent again with (E14), if any."""
    try:
        return letter.approval
    except LetterApproval.DoesNotExist:
        return None


def awaits_approval(letter: Letter) -> bool:
    """The letter was sent again with the PUK and nobody has approved it yet (E14)."""
    approval = approval_of(letter)
    return approval is not None and approval.awaiting


def printer_ordered_it(letter: Letter, actor: Any) -> bool:
    """`actor` ordered or re-sent `letter` for someone else's card and no other person has
    approved it: they do not print it (E14), whatever roles they held when they ordered it."""
    return _ordered_unapproved(actor, [(letter.pk, letter.ordered_by_id, letter.person_id)])


def _ordered_unapproved(actor: Any, letters: Iterable[tuple[int, int | None, int]]) -> bool:
    """`printer_ordered_it` for any of `letters` (id, who ordered it, whose it is)."""
    me, my_person = getattr(actor, "pk", None), person_id_of(actor)
    mine = [
        pk for pk, ordered_by, person in letters if me and ordered_by == me and person != my_person
    ]
    if not mine:
        return False
    approved = LetterApproval.objects.filter(letter_id__in=mine, approved_at__isnull=False)
    return approved.count() < len(mine)


def _letter(letter_id: int) -> Letter:
    letter = Letter.objects.select_related("card", "approval").filter(pk=letter_id).first()
    if letter is None:
        raise NotFound(f"There is no letter with id {letter_id}.")
    return letter


def get_letter(letter_id: int) -> Letter:
    """The letter and its card (no code), or NotFound."""
    return _letter(letter_id)


def print_decision(letter: Letter, actor: Any = None) -> Decision:
    """May the letter's PDF be made (by `actor`)? A printed letter that carries the PUK is not
    printed again: a lost PIN/PUK letter is replaced by ordering a new one (R14), a reserve
    card's lost code envelope by ordering a new card (R16). One sent again with the PUK waits
    for a second person's approval, and whoever ordered one for someone else's card does not
    print it unapproved (E14). `letter_pdf` requires it; the print queue's page asks it to offer
    the PDF."""
    card = letter.card
    codes = decide_codes(
        CodeRequest.PRINT_LETTER,
        CardType(card.card_type),
        Generation(card.generation),
        letter=LetterKind(letter.kind),
        waiting=letter.printed_at is None,
    )
    if not codes.allowed:
        return codes
    approval = decide_letter_approval(
        LetterStep.PRINT,
        awaiting=awaits_approval(letter),
        printer_ordered_it=printer_ordered_it(letter, actor),
    )
    return codes if approval.allowed else approval


def letter_pdf(*, actor: Any, letter_id: int, now: datetime) -> bytes:
    """The letter as a PDF, for an issuer administrator. Audited as `letter_rendered`, without
    the code."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN)
    with transaction.atomic():
        letter = _letter(letter_id)
        card = letter.card
        if letter.withdrawn_at is not None:
            raise NotFound(
                f"Letter {letter.pk} was taken out of the print queue when its card was blocked; "
                "it is not printed."
            )
        print_decision(letter, actor).require()
        with_puk = letter_carries_puk(letter)
        puk: str | None = None
        if with_puk:
            if card.puk_ciphertext is None:
                raise NotFound(f"Card {card.pk} has no PUK recorded; it was never personalised.")
            puk = unseal(bytes(card.puk_ciphertext), card.pk)
        assert card.number is not None  # letters are queued for produced cards only
        data = LetterData(
            kind=LetterKind(letter.kind),
            recipient_name=letter.recipient_name,
            street_address=letter.street_address,
            postal_code=letter.postal_code,
            postal_town=letter.postal_town,
            card_number=card.number,
            card_type=CardType(card.card_type),
            letter_id=letter.pk,
            date=local_date(letter.queued_at),
            region_name=current_calendar().region,
            pickup_deadline=card.pickup_deadline
            if letter.kind == LetterKind.CODE_ENVELOPE
            else None,
            activation_deadline=card.activation_deadline
            if letter.kind == LetterKind.COVER_LETTER
            else None,
            puk=puk,
        )
        pdf = render_letter(data)
        # No digest of the PDF either: with the PUK inside, a hash of a reproducible PDF would
        # let anyone who reads the trail try the 10^8 PUKs against it.
        audit.append(
            [
                audit.Change(
                    actor=actor_label(actor),
                    action="letter_rendered",
                    object_type="letter",
                    object_id=str(letter.pk),
                    at=now,
                    after={
                        "kind": letter.kind,
                        "card_id": card.pk,
                        "card_number": card.number,
                        "carries_puk": with_puk,
                        "printed_at": letter.printed_at.isoformat() if letter.printed_at else None,
                    },
                ),
            ]
        )
        return pdf


def mark_printed(*, actor: Any, letter_ids: Iterable[int], now: datetime) -> int:
    """Mark the letters printed at `now`; those printed already keep their time, and those
    withdrawn with their card's block stay unprinted. Returns how many were marked. An unknown
    id refuses the whole call (NotFound), and so does a letter that waits for a second person's
    approval or that `actor` ordered for someone else's card unapproved (E14), writing
    nothing."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN)
    wanted = sorted(set(letter_ids))
    with transaction.atomic():
        rows = list(
            Letter.objects.select_for_update()
            .filter(pk__in=wanted)
            .order_by("pk")
            .values_list(
                "pk", "kind", "card_id", "printed_at", "withdrawn_at", "ordered_by", "person"
            )
        )
        missing = sorted(set(wanted) - {pk for pk, *_ in rows})
        if missing:
            raise NotFound(f"There is no letter with id {', '.join(map(str, missing))}.")
        waiting = [
            (pk, kind, card_id, ordered_by, person)
            for pk, kind, card_id, printed_at, withdrawn_at, ordered_by, person in rows
            if printed_at is None and withdrawn_at is None
        ]
        if not waiting:
            return 0
        todo = [(pk, kind, card_id) for pk, kind, card_id, _, _ in waiting]
        awaiting = LetterApproval.objects.filter(
            letter_id__in=[pk for pk, _, _ in todo], approved_at__isnull=True
        ).exists()
        ordered = [(pk, ordered_by, person) for pk, _, _, ordered_by, person in waiting]
        decide_letter_approval(
            LetterStep.PRINT,
            awaiting=awaiting,
            printer_ordered_it=_ordered_unapproved(actor, ordered),
        ).require()
        marked = Letter.objects.filter(
            pk__in=[pk for pk, _, _ in todo], printed_at__isnull=True, withdrawn_at__isnull=True
        ).update(printed_at=now)
        label = actor_label(actor)
        audit.append(
            [
                audit.Change(
                    actor=label,
                    action="letter_printed",
                    object_type="letter",
                    object_id=str(pk),
                    at=now,
                    before={"printed_at": None},
                    after={"printed_at": now.isoformat(), "kind": kind, "card_id": card_id},
                )
                for pk, kind, card_id in todo
            ]
        )
        return marked


def resend_letter(*, actor: Any, letter_id: int, now: datetime) -> Letter:
    """Send a letter again, for the support desk or an issuer administrator; returns the new
    letter, queued for printing to the person's CURRENT registered address.

    A cover letter is queued again while its card waits for activation (R10, R6). A PIN/PUK
    letter is ordered anew by the rules of a PIN/PUK letter (R14, R15; R16 refuses reserve
    cards): the new letter carries the card's PUK, rendered only into its PDF. A code envelope
    is never sent again (R16): a new card is ordered instead. A letter still waiting in the print
    queue is not sent again, nor a PIN/PUK letter while another of the card's waits there (the
    letter's own rule: R10, or R14/R15). Audited as
    `resend_letter` on the card, naming the old and the new letter; no code is in the entry."""
    require_aware(now)
    require_role(actor, Role.SUPPORT, Role.ISSUER_ADMIN)
    with transaction.atomic():
        old = _letter(letter_id)
        kind = LetterKind(old.kind)
        waiting = old.printed_at is None
        if kind is LetterKind.CODE_ENVELOPE:
            decide_codes(
                CodeRequest.SEND_LETTER,
                CardType(old.card.card_type),
                Generation(old.card.generation),
                letter=kind,
                waiting=waiting,
            ).require()  # R16: never sent again
        card = lock_card(old.card_id)
        noted: dict[str, Any] = {"resent_letter_id": old.pk, "kind": kind.value}
        if kind is LetterKind.PIN_PUK_LETTER:
            second = needs_second_approval(kind, CardType(card.card_type))
            if second:
                noted["awaits_approval"] = True
            # The lifecycle's refusal (E1, a blocked card) comes first: it says more than
            # "still queued".
            letter, change = pin_letter_queued(
                actor, card, now, action="resend_letter", noted=noted
            )
            if second:  # E14: printed once another person approves it (`approve_letter`)
                LetterApproval.objects.create(letter=letter, resent_by=actor, resent_at=now)
            audit.append([change])
            return letter
        has_address = card.person.has_registered_address
        decide_cover_letter_again(
            CardState(card.state), waiting=waiting, has_address=has_address
        ).require()
        letter = queue_letter(card, kind, now)
        after = {**snapshot(card), "letter_id": letter.pk, **noted}
        audit.append([card_change(actor, "resend_letter", card, now, snapshot(card), after)])
        return letter


def approve_letter(*, actor: Any, letter_id: int, now: datetime) -> LetterApproval:
    """A second person of the support desk or an issuer administrator approves a letter with the
    PUK that another sent again (E14); from then on it is printed as any other. Audited as
    `approve_letter` on the letter, naming who sent it again; no code is in the entry."""
    require_aware(now)
    require_role(actor, Role.SUPPORT, Role.ISSUER_ADMIN)
    with transaction.atomic():
        letter = _letter(letter_id)
        approval = (
            LetterApproval.objects.select_for_update()
            .select_related("resent_by")
            .filter(letter_id=letter.pk)
            .first()
        )
        decide_letter_approval(
            LetterStep.APPROVE,
            awaiting=approval is not None and approval.awaiting,
            resent_by=None if approval is None else approval.resent_by_id,
            actor=actor.pk,
        ).require()
        assert approval is not None
        approval.approved_by, approval.approved_at = actor, now
        approval.save(update_fields=["approved_by", "approved_at"])
        audit.append(
            [
                audit.Change(
                    actor=actor_label(actor),
                    action="approve_letter",
                    object_type="letter",
                    object_id=str(letter.pk),
                    at=now,
                    before={"approved_at": None},
                    after={
                        "kind": letter.kind,
                        "card_id": letter.card_id,
                        "card_number": letter.card.number,
                        "resent_by": actor_label(approval.resent_by),
                        "resent_at": approval.resent_at.isoformat(),
                        "approved_at": now.isoformat(),
                    },
                ),
            ]
        )
        return approval
