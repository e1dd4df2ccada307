"""The demo's fifty persons: who they are, where they work and live, who their manager is, and
which story their cards tell (a function in `stories` or `current`, by name). Registering them
through the services gives each a made-up but valid identity number and HSA-id.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from ekort.domain.identifiers import luhn_check_digit
from ekort.services.people import PersonDetails, register_person
from ekort.store.models import Person, Unit

from .region import ORGANISATION_NUMBER, TOWN
from .timeline import HISTORY_START

# A samordningsnummer instead of a personnummer; a protected identity (skyddad identitet).
SAMORDNINGSNUMMER = frozenset({"katarzyna", "mikko"})
PROTECTED = frozenset({"eva"})


@dataclass(frozen=True)
class PersonSpec:
    key: str
    given: str
    family: str
    sex: str  # "F" or "M", matched by the identity number's ninth digit
    unit: str
    town: str
    manager: str | None
    story: str | None  # the name of a story in `stories` or `current`
    samordning: bool = False
    protected: bool = False


def _group(
    unit: str, manager: str | None, *rows: tuple[str, str, str, str, str | None]
) -> tuple[PersonSpec, ...]:
    """Persons of one unit with one manager; each row is (key, name, sex, town, story)."""
    specs = []
    for key, name, sex, town, story in rows:
        given, family = name.split(" ", 1)
        specs.append(
            PersonSpec(
                key,
                given,
                family,
                sex,
                unit,
                town,
                manager,
                story,
                samordning=key in SAMORDNINGSNUMMER,
                protected=key in PROTECTED,
            )
        )
    return tuple(specs)


# Managers first: a person is registered with their manager (E2).
PERSONS: tuple[PersonSpec, ...] = (
    *_group("ledning", None, ("direktor", "Helena Forsberg", "F", "Gävle", None)),
    # The director's managers, one per unit.
    *_group("akut", "direktor", ("chef", "Karin Lindqvist", "F", "Gävle", "sis_2022_damaged")),
    *_group(
        "hcsandviken",
        "direktor",
        ("chef.sandviken", "Per Hedlund", "M", "Sandviken", "company_card"),
    ),
    *_group(
        "medhudik",
        "direktor",
        ("chef.hudiksvall", "Annika Berglund", "F", "Hudiksvall", "sis_card_renewed"),
    ),
    *_group("ortobollnas", "direktor", ("chef.bollnas", "Magnus Ek", "M", "Bollnäs", "sis_2022")),
    *_group(
        "ambljusdal",
        "direktor",
        ("chef.ljusdal", "Ulrika Norberg", "F", "Ljusdal", "company_card"),
    ),
    *_group(
        "it",
        "direktor",
        ("chef.it", "Fredrik Sundström", "M", "Gävle", "sis_card_expired_replaced"),
    ),
    # Regionservice IT: the ID administrators of the five card offices, and support.
    *_group(
        "it",
        "chef.it",
        ("idadmin", "Anna Hedin", "F", "Gävle", "company_card"),
        ("idadmin2", "Mats Öberg", "M", "Gävle", "sis_2022"),
        ("idadmin.sandviken", "Sara Wallin", "F", "Sandviken", "company_card"),
        ("idadmin.hudiksvall", "Jonas Hägglund", "M", "Hudiksvall", "sis_card_renewed"),
        ("idadmin.bollnas", "Cecilia Strand", "F", "Bollnäs", "company_card"),
        ("idadmin.ljusdal", "Björn Ersson", "M", "Ljusdal", "sis_2022"),
        ("support", "Linnea Holmberg", "F", "Gävle", "new_card"),
    ),
    # Akutmottagningen, Gävle sjukhus
    *_group(
        "akut",
        "chef",
        ("innehavare", "Johan Sjöberg", "M", "Gävle", "lost_in_reserve_weeks"),
        ("emma", "Emma Nilsson", "F", "Gävle", "not_collected"),
        ("ahmed", "Ahmed Hussein", "M", "Sandviken", "sis_card_expired_replaced"),
        ("malin", "Malin Engström", "F", "Gävle", "stolen"),
        ("oskar", "Oskar Lundgren", "M", "Gävle", "current_ordered"),
        ("frida", "Frida Persson", "F", "Gävle", "current_photographed"),
        ("nils", "Nils Olsson", "M", "Gävle", "sis_card_expires"),
        ("ida", "Ida Karlsson", "F", "Gävle", "blocked_during_stop"),
        ("sara", "Sara Holm", "F", "Gävle", "renewal_due"),
        ("per", "Per Nyström", "M", "Sandviken", "renewal_under_way"),
    ),
    # Hälsocentralen Sandviken
    *_group(
        "hcsandviken",
        "chef.sandviken",
        ("lars", "Lars Andersson", "M", "Sandviken", "sis_2022_pin_letter"),
        ("maria", "Maria Jonsson", "F", "Sandviken", "reserve_in_january"),
        ("katarzyna", "Katarzyna Nowak", "F", "Sandviken", "new_card"),
        ("viktor", "Viktor Pettersson", "M", "Gävle", "current_produced"),
        ("kristina", "Kristina Bengtsson", "F", "Sandviken", "company_card"),
        ("henrik", "Henrik Gustafsson", "M", "Sandviken", "employment_ended"),
        ("hanna", "Hanna Larsson", "F", "Sandviken", "not_activated"),
    ),
    # Medicinkliniken, Hudiksvalls sjukhus
    *_group(
        "medhudik",
        "chef.hudiksvall",
        ("mikko", "Mikko Virtanen", "M", "Hudiksvall", "company_card"),
        ("elin", "Elin Sandberg", "F", "Hudiksvall", "photographed_before_the_pause"),
        ("anders", "Anders Björk", "M", "Hudiksvall", "sis_card_renewed"),
        ("johanna", "Johanna Falk", "F", "Hudiksvall", "current_sent"),
        ("gustav", "Gustav Lundin", "M", "Hudiksvall", "cancelled_then_issued"),
        ("sofia", "Sofia Åkesson", "F", "Hudiksvall", "expired_in_2023"),
        ("karl", "Karl Hansson", "M", "Hudiksvall", "new_card_pin_unlocked"),
    ),
    # Ortopedkliniken, Bollnäs sjukhus
    *_group(
        "ortobollnas",
        "chef.bollnas",
        ("eva", "Eva Bergström", "F", "Bollnäs", "company_card"),
        ("mikael", "Mikael Eriksson", "M", "Bollnäs", "reserve_not_collected"),
        ("agnes", "Agnes Holm", "F", "Bollnäs", "current_reserve_sent"),
        ("stefan", "Stefan Nordin", "M", "Bollnäs", "damaged"),
        ("camilla", "Camilla Svensson", "F", "Bollnäs", "reserve_order_cancelled"),
        ("emil", "Emil Jansson", "M", "Bollnäs", "current_activated"),
        ("matilda", "Matilda Olofsson", "F", "Bollnäs", "lost_in_reserve_weeks"),
    ),
    # Ambulanssjukvården Ljusdal
    *_group(
        "ambljusdal",
        "chef.ljusdal",
        ("olof", "Olof Wikström", "M", "Ljusdal", "sis_card_renewed"),
        ("jenny", "Jenny Söderberg", "F", "Ljusdal", "not_activated"),
        ("axel", "Axel Nyström", "M", "Ljusdal", "company_card_pin_letter"),
        ("asa", "Åsa Lindgren", "F", "Ljusdal", "current_cancelled"),
        ("hakan", "Håkan Hedberg", "M", "Ljusdal", "sis_card_expired_replaced"),
        ("ebba", "Ebba Mattsson", "F", "Ljusdal", "reserve_in_new_process"),
        ("jorgen", "Jörgen Dahl", "M", "Bollnäs", "sis_2022"),
    ),
)
SPECS = {spec.key: spec for spec in PERSONS}


def register_persons(units: dict[str, Unit], registrar: Any, seed: int) -> dict[str, Person]:
    """Register every person, managers first, on the morning the history starts; returns them
    by key. Addresses, identity numbers and HSA-ids are drawn from `seed`."""
    rng = random.Random(seed)  # noqa: S311 (made-up demo data, not secrets)
    persons: dict[str, Person] = {}
    numbers: set[str] = set()
    codes: set[str] = set()
    for spec in PERSONS:
        town = TOWN[spec.town]
        street = f"{rng.choice(town.streets)} {rng.randint(1, 48)}"
        if rng.random() < 0.3:
            street += f" lgh {rng.randint(10, 16)}0{rng.randint(1, 4)}"
        manager = persons[spec.manager] if spec.manager else None
        persons[spec.key] = register_person(
            actor=registrar,
            details=PersonDetails(
                identity_number=_identity_number(rng, spec, numbers),
                given_name=spec.given,
                family_name=spec.family,
                street_address=street,
                postal_code=rng.choice(town.postal_codes),
                postal_town=town.name,
                hsa_id=_hsa_id(rng, codes),
                unit_id=units[spec.unit].pk,
                manager_id=manager.pk if manager else None,
                protected_identity=spec.protected,
                email=work_address(spec.given, spec.family),
            ),
            now=HISTORY_START,
        )
    return persons


def work_address(given: str, family: str) -> str:
    """The region's e-mail address for a name: förnamn.efternamn, without å, ä, ö or accents
    (the demo's names are distinct), where the e-mail notices go (into var/outbox/ for `make
    run`)."""
    folded = unicodedata.normalize("NFKD", f"{given}.{family}".lower().replace(" ", "-"))
    local = "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch in ".-"))
    return f"{local}@regiongavleborg.se"


def _identity_number(rng: random.Random, spec: PersonSpec, taken: set[str]) -> str:
    while True:
        birth = date(rng.randint(1962, 1998), rng.randint(1, 12), rng.randint(1, 28))
        # The ninth digit (the last before the check digit) is odd for men, even for women.
        sex_digit = rng.choice((1, 3, 5, 7, 9) if spec.sex == "M" else (0, 2, 4, 6, 8))
        serial = f"{rng.randint(1, 99):02d}{sex_digit}"
        day = birth.day + (60 if spec.samordning else 0)
        date_part = f"{birth.year:04d}{birth.month:02d}{day:02d}"
        digits = f"{date_part}{serial}{luhn_check_digit(date_part[2:] + serial)}"
        if digits not in taken:
            taken.add(digits)
            return digits


def _hsa_id(rng: random.Random, taken: set[str]) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        code = "".join(rng.choice(alphabet) for _ in range(4))
        if code not in taken:
            taken.add(code)
            return f"SE{ORGANISATION_NUMBER}-{code}"
