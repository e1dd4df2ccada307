"""The lifecycle's states and actions and the card types in words, Swedish and English, for the
sentences the domain itself writes (a refusal names what the card is and what may be done with
it). The portal's own labels are in the message catalogue (ekort.web.labels); a refusal is
data in both languages, so its words are here."""

from __future__ import annotations

from .vocabulary import CardType

# Keyed by value: lifecycle.py, where the states and actions are declared, writes its refusals
# with these (tests/unit/test_card_words.py holds them to every state and action).
# "Kortet är …" / "The card is …"
STATES: dict[str, tuple[str, str]] = {
    "ordered": ("beställt", "ordered"),
    "photographed": ("fotograferat", "photographed"),
    "produced": ("tillverkat", "produced"),
    "awaiting_pickup": ("klart att hämtas ut", "waiting to be collected"),
    "sent_inactive": ("skickat men inte aktiverat", "sent but not activated"),
    "active": ("aktivt", "active"),
    "blocked": ("spärrat", "blocked"),
    "expired": ("utgånget", "expired"),
    "cancelled": ("återkallat", "cancelled"),
}

# "Det går inte att …" / "Cannot …"
ACTIONS: dict[str, tuple[str, str]] = {
    "photograph": ("fotografera", "photograph"),
    "produce": ("tillverka", "produce"),
    "send_code_envelope": ("skicka kodkuvert", "send a code envelope"),
    "send_home": ("skicka hem", "send home"),
    "hand_out": ("lämna ut", "hand out"),
    "activate": ("aktivera", "activate"),
    "order_pin_letter": ("beställa pin/puk-brev", "order a PIN/PUK letter"),
    "unlock_pin": ("låsa upp pin-koden", "unlock the PIN"),
    "manage_certificates_on": ("ändra certifikaten", "change the certificates"),
    "block": ("spärra", "block"),
    "replace": ("ersätta", "replace"),
    "expire": ("låta gå ut", "let expire"),
    "cancel": ("återkalla beställningen", "cancel the order"),
}

# "ett fotokort" / "a photo card"
CARD_TYPES: dict[CardType, tuple[str, str]] = {
    CardType.PHOTO: ("fotokort", "photo card"),
    CardType.RESERVE: ("reservkort", "reserve card"),
}
