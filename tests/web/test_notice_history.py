"""A sent e-mail notice on Kundtjänst's person page: which notice, to whom, for which day."""

from __future__ import annotations

import re

from django.core import mail

from ekort.services import notices
from ekort.store.models import Person
from tests import instants as t
from tests.integration import bulk_cards as bulk


def test_the_person_page_shows_the_notices_sent_about_their_card(w, client):
    Person.objects.filter(pk=w.employee.pk).update(email="erik.eriksson@regiongavleborg.se")
    Person.objects.filter(pk=w.manager.pk).update(email="maria.chef@regiongavleborg.se")
    bulk.cards(
        w.employee,
        w.orderer,
        1,
        state="sent_inactive",
        ordered_at=t.NEW_PROCESS,
        activation_deadline=t.LAST_ACTIVATION_DAY_END.date(),
    )
    run = notices.run(t.sthlm(2024, 4, 27, 1))  # Django's test outbox stands in for SMTP
    assert (run.recorded, run.sent) == (2, 2)
    assert len(mail.outbox) == 2
    client.force_login(w.support)
    page = client.get(f"/stod/person/{w.employee.pk}/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert text.count("E-postavisering skickades") == 2
    assert "Nattlig körning: e-postaviseringar" in text and "job:" not in text
    assert "Sista dag att aktivera kortet närmar sig" in text
    assert "Kortinnehavaren" in text and "Närmaste chef" in text
    assert "Gäller dagen 2024-04-30" in text
    assert "Dagar före 3" in text
    assert "erik.eriksson@" not in page  # the address is on the record, not in the history
