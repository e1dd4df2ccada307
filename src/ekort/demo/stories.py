"""The stories of the history: what happens to one person's cards, from 2018 to the build
instant, step by step through the card services. `PERSONS` names each person's story.

The SIS-marked cards from before 2022-10-01 (R17), a reserve card in the reserve-only weeks
(R1) while the photo card waits for the new portal (R2), cards not collected by 2024-01-22 (R3),
a block during the stop (R4), new-generation cards sent home and activated (R5-R9), PIN letters
and unlocks (R14-R16), lost, stolen, damaged, expired and replaced cards. The cards still on
their way at the build instant are in `current`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from ekort.domain.vocabulary import BlockReason, CardType, ReplacementReason

from . import certificates
from .cards import Plan
from .timeline import ANY_TIMES, BACK_OFFICE_TIMES, ORDER_TIMES, instant


def company_card(plan: Plan, key: str) -> None:
    """A company card without SIS marking (R17), still in use."""
    plan.legacy_card(key, date(2022, 10, 10), date(2023, 11, 10))


def company_card_pin_letter(plan: Plan, key: str) -> None:
    card, _, _ = plan.legacy_card(key, date(2022, 10, 10), date(2023, 6, 30))
    # R15: an older card's PIN needs the PUK, from a PIN/PUK letter.
    plan.pin_letter(card, plan.between(date(2024, 9, 2), date(2025, 2, 28), ANY_TIMES))


def sis_2022(plan: Plan, key: str) -> None:
    """SIS-marked, issued before 2022-10-01 (R17): a valid identity document until 2027."""
    plan.legacy_card(key, date(2022, 2, 1), date(2022, 8, 31))


def sis_2022_pin_letter(plan: Plan, key: str) -> None:
    card, _, _ = plan.legacy_card(key, date(2022, 2, 1), date(2022, 8, 31))
    plan.pin_letter(card, plan.between(date(2024, 4, 2), date(2024, 6, 28), ANY_TIMES))


def sis_2022_damaged(plan: Plan, key: str) -> None:
    card, _, _ = plan.legacy_card(key, date(2022, 3, 1), date(2022, 6, 30))
    at = plan.between(date(2024, 10, 1), date(2024, 10, 31))
    new = plan.replace(card, at, ReplacementReason.DAMAGED, "Chipet går inte att läsa.")
    plan.new_path(new, at)


def sis_card_renewed(plan: Plan, key: str) -> None:
    """SIS-marked card from 2019-2021, replaced by a new-generation card before it ran out."""
    card, produced, _ = plan.legacy_card(key, date(2019, 6, 3), date(2021, 9, 30))
    expires = plan.valid_until(card, produced)
    at = plan.between(expires - timedelta(days=50), expires - timedelta(days=20))
    new = plan.replace(
        card,
        at,
        ReplacementReason.EXPIRING,
        f"Förnyelse: kortet gäller till {expires.isoformat()}.",
    )
    plan.new_path(new, at)


def sis_card_expired_replaced(plan: Plan, key: str) -> None:
    """SIS-marked card that ran out (expired by the nightly job), replaced weeks later."""
    card, produced, _ = plan.legacy_card(key, date(2019, 3, 1), date(2020, 10, 30))
    expires = plan.valid_until(card, produced)
    at = plan.between(expires + timedelta(days=7), expires + timedelta(days=40))
    new = plan.replace(card, at, ReplacementReason.EXPIRING, "Ersätter utgånget kort.")
    plan.new_path(new, at)


def sis_card_expires(plan: Plan, key: str) -> None:
    """SIS-marked card from early 2021 that runs out in 2026; no new card ordered."""
    plan.legacy_card(key, date(2021, 1, 11), date(2021, 3, 31))


def expired_in_2023(plan: Plan, key: str) -> None:
    """Card from 2018 that ran out in autumn 2023; its replacement is a company card."""
    card, produced, _ = plan.legacy_card(key, date(2018, 10, 1), date(2018, 10, 12))
    expires = plan.valid_until(card, produced)
    at = plan.between(expires + timedelta(days=3), expires + timedelta(days=10))
    new = plan.replace(card, at, ReplacementReason.EXPIRING, "Ersätter utgånget kort.")
    plan.legacy_path(new, at)


def employment_ended(plan: Plan, key: str) -> None:
    card, _, _ = plan.legacy_card(key, date(2023, 1, 9), date(2023, 6, 16))
    at = plan.between(date(2025, 3, 3), date(2025, 3, 28), ANY_TIMES)
    plan.block(
        card,
        at,
        BlockReason.EMPLOYMENT_ENDED,
        "Anställningen avslutas 2025-03-31.",
        by="manager",
    )


def damaged(plan: Plan, key: str) -> None:
    card, _, _ = plan.legacy_card(key, date(2022, 11, 1), date(2022, 12, 16))
    at = plan.between(date(2025, 1, 13), date(2025, 1, 31))
    new = plan.replace(card, at, ReplacementReason.DAMAGED, "Kortet har gått sönder.")
    plan.new_path(new, at)


def cancelled_then_issued(plan: Plan, key: str) -> None:
    at = plan.on(2023, 4, 11, ORDER_TIMES)
    wrong = plan.order(key, at, note="Nyanställd läkare.")
    plan.cancel(
        wrong,
        plan.after(at, 1, 2, ORDER_TIMES),
        "Beställningen gjordes med fel uppgifter; en ny beställning görs.",
    )
    again = plan.on(2023, 4, 17, ("13:40",))
    card = plan.order(key, again, note="Nyanställd läkare.")
    plan.legacy_path(card, again)


def lost_in_reserve_weeks(plan: Plan, key: str) -> None:
    """Lost in the reserve-only weeks (R1): a reserve card at once, handed out by
    2024-01-22 (R3); the new photo card waits for the new portal (R2) and, once it is
    activated, the reserve card goes back."""
    card, _, _ = plan.legacy_card(key, date(2023, 2, 6), date(2023, 6, 9))
    lost = (
        plan.on(2023, 12, 19, ("08:05",))
        if key == "innehavare"
        else plan.on(2024, 1, 3, ("08:05",))
    )
    plan.block(card, lost, BlockReason.LOST, "Kortet borttappat.", by="holder")
    at = lost + timedelta(minutes=40)
    photo = plan.replace(card, at, ReplacementReason.LOST, "Ersätter borttappat kort.")
    reserve = plan.order(
        key,
        at + timedelta(minutes=5),
        CardType.RESERVE,
        "Reservkort i väntan på nytt fotokort.",
    )
    produced = plan.after(at, 1, 1, BACK_OFFICE_TIMES)
    plan.produce(reserve, produced)
    plan.send(reserve, produced + timedelta(minutes=40))
    collect = plan.on(2024, 1, 11) if key == "innehavare" else plan.on(2024, 1, 15)
    plan.hand_out(reserve, collect)
    activated = plan.new_path(photo, at, photographed_at=plan.on(2024, 1, 29))
    plan.block(
        reserve,
        activated + timedelta(minutes=10),
        BlockReason.REPLACED,
        "Reservkortet återlämnat när fotokortet aktiverades.",
        by="id_admin",
    )
    if key == "innehavare":
        certificates.self_service(plan, photo, plan.on(2024, 3, 5, ("19:30",)))
        plan.pin_letter(photo, plan.on(2024, 9, 16, ("20:15",)))
        plan.unlock(photo, plan.on(2025, 2, 11))


def not_collected(plan: Plan, key: str) -> None:
    """Code envelope sent in December 2023, the card never collected: blocked by the
    nightly job on 2024-01-23 (R3), then replaced in the new process."""
    at = plan.on(2023, 11, 20, ORDER_TIMES)
    card = plan.order(key, at)
    plan.legacy_path(card, at, produce_on=plan.on(2023, 12, 13, ("10:40",)), collect=False)
    again = plan.between(date(2024, 2, 5), date(2024, 2, 16))
    new = plan.replace(
        card, again, ReplacementReason.OTHER, "Kortet hämtades inte ut före 22 januari."
    )
    plan.new_path(new, again)


def reserve_not_collected(plan: Plan, key: str) -> None:
    at = plan.on(2024, 1, 8, ("09:00",))
    photo = plan.order(key, at, note="Nyanställd; fotografering från 26 januari.")
    reserve = plan.order(
        key,
        at + timedelta(minutes=5),
        CardType.RESERVE,
        "Nyanställd; reservkort tills fotokortet finns.",
    )
    plan.legacy_path(reserve, at, produce_on=plan.on(2024, 1, 9, ("13:15",)), collect=False)
    plan.new_path(photo, at, photographed_at=plan.on(2024, 1, 30))


def photographed_before_the_pause(plan: Plan, key: str) -> None:
    """Photographed on 12 December 2023; production closed for photo cards from the 18th
    (R1), so the card is produced in the new design (R5) after 26 January."""
    at = plan.on(2023, 12, 4, ORDER_TIMES)
    card = plan.order(key, at, note="Nyanställd sjuksköterska.")
    plan.photograph(card, plan.on(2023, 12, 12))
    produced = plan.on(2024, 1, 29, ("10:40",))
    plan.produce(card, produced)
    plan.send(card, produced + timedelta(minutes=40))
    plan.activate(card, plan.after(produced, 5, 9))


def reserve_in_january(plan: Plan, key: str) -> None:
    """Reserve card produced on 9 January 2024, sent on the 10th, collected on the 16th."""
    at = plan.on(2024, 1, 9, ("08:40",))
    photo = plan.order(key, at, note="Nyanställd; fotografering från 26 januari.")
    reserve = plan.order(
        key, at + timedelta(minutes=5), CardType.RESERVE, "Reservkort tills fotokortet finns."
    )
    plan.produce(reserve, instant(date(2024, 1, 9), "14:00"))
    plan.send(reserve, instant(date(2024, 1, 10), "13:30"))
    plan.hand_out(reserve, instant(date(2024, 1, 16), "09:30"))
    activated = plan.new_path(photo, at, photographed_at=plan.on(2024, 2, 1))
    plan.block(
        reserve,
        activated + timedelta(minutes=10),
        BlockReason.REPLACED,
        "Reservkortet återlämnat när fotokortet aktiverades.",
        by="id_admin",
    )


def blocked_during_stop(plan: Plan, key: str) -> None:
    """Lost during the stop (R4): the block is taken at once; the new card is ordered on
    the 26th, when ordering opens again."""
    card, _, _ = plan.legacy_card(key, date(2023, 5, 2), date(2023, 5, 31))
    plan.block(
        card,
        instant(date(2024, 1, 24), "10:15"),
        BlockReason.LOST,
        "Spärren togs emot under beställnings- och utfärdarstoppet.",
    )
    at = instant(date(2024, 1, 26), "08:30")
    new = plan.replace(card, at, ReplacementReason.LOST, "Ersätter borttappat kort.")
    plan.new_path(new, at)


def new_card(plan: Plan, key: str) -> None:
    at = plan.between(date(2024, 2, 19), date(2024, 4, 26))
    card = plan.order(key, at, note="Första kortet i den nya kortutfärdarportalen.")
    plan.new_path(card, at)


def new_card_pin_unlocked(plan: Plan, key: str) -> None:
    at = plan.between(date(2025, 3, 3), date(2025, 3, 28))
    card = plan.order(key, at, note="Nyanställd läkare.")
    activated = plan.new_path(card, at)
    plan.unlock(card, plan.after(activated, 120, 180))  # R14: at the card office


def not_activated(plan: Plan, key: str) -> None:
    """Sent home but never activated within three months (R8): blocked by the nightly
    job; a new card is ordered and this time activated."""
    first = date(2024, 5, 6) if key == "hanna" else date(2025, 2, 3)
    at = plan.between(first, first + timedelta(days=20))
    card = plan.order(key, at, note="Nyanställd.")
    sent = plan.new_path(card, at, activate=False)
    deadline = plan.calendar.activation_deadline(sent)
    assert deadline is not None  # sent home on the new path
    again = plan.between(deadline + timedelta(days=14), deadline + timedelta(days=30))
    new = plan.replace(
        card, again, ReplacementReason.OTHER, "Kortet aktiverades inte inom tre månader."
    )
    plan.new_path(new, again)


def stolen(plan: Plan, key: str) -> None:
    at = plan.between(date(2024, 3, 4), date(2024, 3, 22))
    card = plan.order(key, at, note="Nyanställd.")
    plan.new_path(card, at)
    stolen = plan.between(date(2025, 4, 7), date(2025, 4, 25), ANY_TIMES)
    plan.block(card, stolen, BlockReason.STOLEN, "Stulet med plånboken; polisanmält.")
    again = plan.after(stolen, 1, 2, ORDER_TIMES)
    new = plan.replace(card, again, ReplacementReason.STOLEN, "Ersätter stulet kort.")
    plan.new_path(new, again)


def reserve_order_cancelled(plan: Plan, key: str) -> None:
    at = plan.between(date(2024, 8, 12), date(2024, 8, 30))
    card = plan.order(key, at, note="Nyanställd.")
    plan.new_path(card, at)
    forgot = plan.between(date(2025, 2, 10), date(2025, 2, 21))
    reserve = plan.order(key, forgot, CardType.RESERVE, "Kortet kvarglömt på tjänsteresa.")
    plan.cancel(
        reserve,
        plan.after(forgot, 1, 1, ORDER_TIMES),
        "Fotokortet kom tillbaka; reservkortet behövs inte.",
    )


def reserve_in_new_process(plan: Plan, key: str) -> None:
    """Lost in 2025: a reserve card, sent home and activated (R6, R7), bridges the weeks
    until the new photo card is activated."""
    at = plan.between(date(2024, 2, 5), date(2024, 2, 23))
    card = plan.order(key, at, note="Nyanställd.")
    plan.new_path(card, at)
    lost = plan.between(date(2025, 5, 12), date(2025, 5, 23), ANY_TIMES)
    plan.block(card, lost, BlockReason.LOST, "Kortet borttappat.")
    again = plan.after(lost, 1, 1, ("08:35",))
    photo = plan.replace(card, again, ReplacementReason.LOST, "Ersätter borttappat kort.")
    reserve = plan.order(
        key,
        again + timedelta(minutes=5),
        CardType.RESERVE,
        "Reservkort i väntan på nytt fotokort.",
    )
    reserve_active = plan.new_path(reserve, again)
    activated = plan.new_path(photo, again, photographed_at=reserve_active + timedelta(minutes=10))
    plan.block(
        reserve,
        activated + timedelta(minutes=10),
        BlockReason.REPLACED,
        "Reservkortet återlämnat när fotokortet aktiverades.",
        by="id_admin",
    )


STORIES: dict[str, Callable[[Plan, str], None]] = {
    "company_card": company_card,
    "company_card_pin_letter": company_card_pin_letter,
    "sis_2022": sis_2022,
    "sis_2022_pin_letter": sis_2022_pin_letter,
    "sis_2022_damaged": sis_2022_damaged,
    "sis_card_renewed": sis_card_renewed,
    "sis_card_expired_replaced": sis_card_expired_replaced,
    "sis_card_expires": sis_card_expires,
    "expired_in_2023": expired_in_2023,
    "employment_ended": employment_ended,
    "damaged": damaged,
    "cancelled_then_issued": cancelled_then_issued,
    "lost_in_reserve_weeks": lost_in_reserve_weeks,
    "not_collected": not_collected,
    "reserve_not_collected": reserve_not_collected,
    "photographed_before_the_pause": photographed_before_the_pause,
    "reserve_in_january": reserve_in_january,
    "blocked_during_stop": blocked_during_stop,
    "new_card": new_card,
    "new_card_pin_unlocked": new_card_pin_unlocked,
    "not_activated": not_activated,
    "stolen": stolen,
    "reserve_order_cancelled": reserve_order_cancelled,
    "reserve_in_new_process": reserve_in_new_process,
}
