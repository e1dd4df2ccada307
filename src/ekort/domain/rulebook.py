"""Every rule ekort enforces, by ID.

R1-R18 come from the region's notice about the January 2024 card changes. E-rules are ekort's
own, for what the notice leaves to the system; the public SITHS practice behind them is in
docs/domain-notes.md. Refusals, tests and documentation cite these IDs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    sv: str
    en: str


_RULES = (
    Rule(
        "R1",
        "2023-12-18 – 2024-01-22 utfärdas endast reservkort.",
        "2023-12-18 – 2024-01-22: only reserve cards are issued.",
    ),
    Rule(
        "R2",
        "Ordinarie kort beställs som vanligt, men fotografering kan ske först 26 januari 2024.",
        "Photo cards can be ordered, but holders are photographed from 2024-01-26 only.",
    ),
    Rule(
        "R3",
        "Kort med kodkuvert ska hämtas ut senast 22 januari 2024; kort som inte hämtas spärras.",
        "Cards with a code envelope must be collected by 2024-01-22; the rest are blocked.",
    ),
    Rule(
        "R4",
        "2024-01-23 – 2024-01-25 är det beställnings- och kortutfärdarstopp.",
        "2024-01-23 – 2024-01-25: no card is ordered or issued.",
    ),
    Rule(
        "R5",
        "Från 25 januari 2024 är korten i stående format utan personnummer.",
        "From 2024-01-25 cards are portrait, without the identity number.",
    ),
    Rule(
        "R6",
        "Nya kort skickas inaktiva till folkbokföringsadressen.",
        "New cards are sent, inactive, to the registered address.",
    ),
    Rule(
        "R7",
        "En id-administratör aktiverar kortet vid personligt besök på ett kortkontor.",
        "An ID administrator activates the card, in person, at a card office.",
    ),
    Rule(
        "R8",
        "Kortet ska aktiveras inom tre månader och kan inte användas innan dess.",
        "The card must be activated within three months and cannot be used before.",
    ),
    Rule(
        "R9",
        "Vid aktiveringen väljer kortinnehavaren sin säkerhetskod.",
        "At activation the holder chooses the security code (PIN).",
    ),
    Rule(
        "R10",
        "Ett följebrev med instruktioner skickas med kortet.",
        "A cover letter with instructions is sent with the card.",
    ),
    Rule(
        "R11",
        "Endast SITHS eID läggs på kortet; Telia e-legitimation utgår.",
        "Only the SITHS eID is put on the card; the Telia eID is no longer issued.",
    ),
    Rule(
        "R12",
        "Underskriftscertifikat hämtas av innehavaren själv på SITHS Mina sidor.",
        "Signature certificates are downloaded by the holder in self-service.",
    ),
    Rule(
        "R13",
        "Nya kort har högst ett tilläggscertifikat åt gången.",
        "New cards hold at most one additional certificate at a time.",
    ),
    Rule(
        "R14",
        "Fotokort utfärdat efter 25 januari 2024: pin låses upp av id-administratör eller med puk.",
        "Photo card issued after 2024-01-25: PIN unlocked by an ID administrator or with the PUK.",
    ),
    Rule(
        "R15",
        "Kort utfärdat före 18 december 2023: puk-kod behövs; beställ pin/puk-brev.",
        "Card issued before 2023-12-18: the PUK is needed; order a PIN/PUK letter.",
    ),
    Rule(
        "R16",
        "Reservkort: puk-koden kom i kuvertet; nytt kodbrev kan inte beställas.",
        "Reserve card: the PUK came in the envelope; no new code letter can be ordered.",
    ),
    Rule(
        "R17",
        "SIS-märkta kort (utfärdade t.o.m. 2022-09-30) är giltig legitimation.",
        "SIS-marked cards (issued up to and including 2022-09-30) are valid identity documents.",
    ),
    Rule(
        "R18",
        "Support nås via e-post eller telefon; kortkontoren har öppettider per ort.",
        "Support is reached by e-mail or phone; card offices have opening hours per town.",
    ),
    # ekort's own rules, for what the notice leaves to the system.
    Rule(
        "E1",
        "Åtgärden är inte tillåten i kortets nuvarande tillstånd.",
        "The action is not allowed in the card's current state (the lifecycle table).",
    ),
    Rule(
        "E2",
        "Endast personens chef (behörig beställare) får beställa kort åt personen.",
        "Only the person's manager (an authorised orderer) may order a card for them.",
    ),
    Rule(
        "E3",
        "Den som beställt ett kort, eller ska ha det, får inte lämna ut eller aktivera det.",
        "Whoever ordered a card, or holds it, may not hand it out or activate it "
        "(separation of duties).",
    ),
    Rule(
        "E4",
        "Identiteten ska styrkas med en giltig, fysisk id-handling av godkänt slag.",
        "Identity is proven with a valid, physical identity document of an accepted kind.",
    ),
    Rule(
        "E5",
        "Kortinnehavaren ska vara minst 18 år (15 år för tillitsnivå 2).",
        "The holder must be at least 18 (15 for assurance level 2).",
    ),
    Rule(
        "E6",
        "Säkerhetskoden är 6-8 siffror; puk-koden är 8 siffror.",
        "The security code (PIN) is 6-8 digits; the PUK is 8 digits.",
    ),
    Rule("E7", "Reservkort har inget foto.", "Reserve cards carry no photo."),
    Rule(
        "E8",
        "En person har högst ett giltigt kort av varje typ; ett nytt kort ersätter det gamla, "
        "som får finnas kvar tills det nya aktiveras.",
        "A person holds at most one live card of each type; a new one replaces the old, which "
        "may stay until the new one is activated.",
    ),
    Rule(
        "E9", "En spärr är slutgiltig och kan inte hävas.", "A block is final; it cannot be lifted."
    ),
    Rule(
        "E10",
        "Åtgärden kräver en behörighet som kontot saknar.",
        "The action needs a role that the account does not have.",
    ),
    Rule(
        "E11",
        "Reservkort på tillitsnivå 3 lämnas ut och aktiveras av två id-administratörer: den ena "
        "registrerar kortet och id-handlingen, den andra godkänner.",
        "Reserve cards at assurance level 3 are handed out and activated by two ID "
        "administrators: one registers the card and the identity document, the other approves "
        "(four-eyes).",
    ),
    Rule(
        "E12",
        "Ett borttappat, stulet eller missbrukat kort spärras direkt när ersättningskortet "
        "beställs; annars fungerar det gamla kortet tills det nya aktiveras och spärras då. Ett "
        "kort som går ut förnyas tidigast ett visst antal dagar (90) före sista giltighetsdag.",
        "A lost, stolen or misused card is blocked as soon as its replacement is ordered; "
        "otherwise the old card works until the new one is activated, and is blocked then. A "
        "card that runs out is renewed at the earliest some days (90) before its last day.",
    ),
    Rule(
        "E13",
        "När anställningen har upphört (dagen efter sista anställningsdag) spärras personens alla "
        "giltiga kort med orsaken anställningen upphört, kort som inte har tillverkats avbeställs "
        "och inga nya kort beställs åt personen.",
        "When the employment has ended (the day after its last day) every live card of the "
        "person is blocked, for the reason employment ended, cards not produced yet are "
        "cancelled, and no new card is ordered for them.",
    ),
    Rule(
        "E14",
        "Ett brev med puk-koden som skickas igen, eller som den som själv skriver ut brev "
        "beställer till någon annans kort, skrivs ut först när en andra person har godkänt det.",
        "A letter with the PUK that is sent again, or that someone who prints letters orders for "
        "someone else's card, is printed only once a second person has approved it.",
    ),
    Rule(
        "E15",
        "Behörigheter ges och tas tillbaka bara av en säkerhetsansvarig, aldrig på det egna "
        "kontot.",
        "Roles are granted and withdrawn only by a security officer, never on their own account.",
    ),
    Rule(
        "E16",
        "Personalen loggar in med sitt e-tjänstekort: legitimeringscertifikatet från ekorts egna "
        "utfärdare, på ett aktivt kort som varken är spärrat eller vilande. Id-administratörer, "
        "utfärdare och annan personal behöver tillitsnivå 3; en kortinnehavare räcker nivå 2 för.",
        "Staff sign in with their card: the authentication certificate from ekort's own "
        "issuers, on an active card that is neither blocked nor on hold. ID administrators, "
        "issuers and other staff need assurance level 3; a card holder may use level 2.",
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    """The rule with this ID; an unknown ID is a programming error and fails loudly."""
    return RULES[rule_id]
