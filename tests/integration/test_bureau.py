"""The card bureau: the photo kept encrypted from the counter to the bureau's delivery, one
production order per batch, and the delivery that deletes the photos."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from ekort.domain.errors import InvalidInput, NotFound, Refused
from ekort.domain.vocabulary import Role
from ekort.services import cards
from ekort.services.ca.secrets import unseal_photo
from ekort.services.cards import bureau
from ekort.store.models import AuditEntry, BureauBatch, Card, CardOffice, CardPhoto
from tests import factories
from tests import instants as t
from tests.integration.journeys import JPEG, ordered

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40


def office(name: str) -> CardOffice:
    return CardOffice.objects.create(
        name=name, town=name, street_address="Kungsgatan 1", postal_code="80320"
    )


@pytest.fixture
def counter(world):
    """The world's ID administrators work at Gävle; a third one at Hudiksvall."""
    gavle, hudik = office("Gävle"), office("Hudiksvall")
    for user in (world.id_admin, world.id_admin_2):
        user.account.office = gavle
        user.account.save(update_fields=["office"])
    other = factories.staff("idadmin3", Role.ID_ADMIN)
    other.account.office = hudik
    other.account.save(update_fields=["office"])
    return world, other


def photographed(w, picture: bytes = JPEG, person=None) -> Card:
    card = ordered(w, "photo", t.NEW_PROCESS, person=person)
    return cards.photograph(actor=w.id_admin, now=t.NEW_PROCESS, photos={card.pk: picture}).one()


def test_the_photo_is_kept_sealed_and_bound_to_its_card(counter):
    w, _ = counter
    card = photographed(w, PNG)
    kept = CardPhoto.objects.get(card=card)
    assert PNG not in bytes(kept.ciphertext)
    assert (kept.media_type, kept.office, kept.taken_at) == (
        "image/png",
        w.id_admin.account.office,
        t.NEW_PROCESS,
    )
    assert unseal_photo(kept.ciphertext, card.pk) == PNG
    with pytest.raises(InvalidTag):  # copied to another card's row, it does not open
        unseal_photo(kept.ciphertext, card.pk + 1)


def test_only_id_admins_of_the_office_see_the_photo(counter):
    w, hudiksvall = counter
    card = photographed(w)
    assert bureau.kept_photo(w.id_admin_2, card.pk).picture == JPEG  # same office
    with pytest.raises(NotFound):
        bureau.kept_photo(hudiksvall, card.pk)
    with pytest.raises(Refused) as caught:
        bureau.kept_photo(w.support, card.pk)
    assert caught.value.rule == "E10"
    reserve = ordered(w, "reserve", t.NEW_PROCESS)
    with pytest.raises(NotFound):
        bureau.kept_photo(w.id_admin, reserve.pk)


def order_of(path: Path) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        order = json.loads(archive.read("order.json"))
        photos = {n: archive.read(n) for n in archive.namelist() if n.startswith("photos/")}
    return order, photos


def test_a_production_order_per_batch_and_delivery_deletes_the_photos(
    counter, settings, django_capture_on_commit_callbacks
):
    w, _ = counter
    karin = factories.person(given="Karin", family="Kollega", manager=w.manager)
    photo_card, karins = photographed(w), photographed(w, PNG, person=karin)
    reserve = ordered(w, "reserve", t.NEW_PROCESS)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = cards.produce(
            actor=w.issuer, now=t.NEW_PROCESS, card_ids=[photo_card.pk, karins.pk, reserve.pk]
        )
    assert len(outcome.done) == 3
    batch = BureauBatch.objects.get()
    assert (batch.cards, batch.produced_by, batch.delivered_at) == (3, w.issuer, None)
    assert set(Card.objects.filter(bureau_batch=batch).values_list("pk", flat=True)) == set(
        outcome.done
    )
    path = Path(settings.EKORT_BUREAU_DIR) / batch.file_name
    assert path.stat().st_mode & 0o777 == 0o600
    order, photos = order_of(path)
    by_number = {c["card_number"]: c for c in order["cards"]}
    erik = by_number[Card.objects.get(pk=photo_card.pk).number]
    assert erik["layout"] == {
        "generation": "portrait-2024",
        "orientation": "portrait",
        "front": ["holder_name", "photo", "region_logo"],
        "back": ["card_number"],
    }
    assert erik["print"]["holder_name"] == "Erik Eriksson"
    assert photos[erik["photo"]] == JPEG
    assert photos[by_number[Card.objects.get(pk=karins.pk).number]["photo"]] == PNG
    reserve_entry = by_number[Card.objects.get(pk=reserve.pk).number]
    assert reserve_entry["photo"] is None and "photo" not in reserve_entry["layout"]["front"]
    # R5: the identity number is printed nowhere on a card of the new generation.
    assert w.employee.identity_number not in json.dumps(order)

    seq = AuditEntry.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        delivery = bureau.confirm_delivery(actor=w.issuer, batch_ids=[batch.pk], now=t.NEW_PROCESS)
    assert (delivery.confirmed, delivery.already, delivery.photos_deleted) == ([batch.pk], [], 2)
    assert not CardPhoto.objects.exists() and not path.exists()
    entries = AuditEntry.objects.filter(action="bureau_delivered").order_by("object_id")
    assert AuditEntry.objects.count() == seq + 3
    assert {(e.object_id, e.after["photo_deleted"]) for e in entries} == {
        (str(photo_card.pk), True),
        (str(karins.pk), True),
        (str(reserve.pk), False),
    }
    with pytest.raises(NotFound):
        bureau.kept_photo(w.id_admin, photo_card.pk)
    again = bureau.confirm_delivery(actor=w.issuer, batch_ids=[batch.pk], now=t.NEW_PROCESS)
    assert (again.confirmed, again.already) == ([], [batch.pk])
    with pytest.raises(InvalidInput):
        bureau.write_order_file(batch.pk)


def test_cards_without_a_kept_photo_are_produced_and_say_so(
    counter, settings, django_capture_on_commit_callbacks
):
    """Cards photographed before photos were kept (and the benchmark's cards) have none."""
    w, _ = counter
    card = photographed(w)
    CardPhoto.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        cards.produce(actor=w.issuer, now=t.NEW_PROCESS, card_ids=[card.pk]).one()
    batch = BureauBatch.objects.get()
    order, photos = order_of(Path(settings.EKORT_BUREAU_DIR) / batch.file_name)
    assert [c["photo"] for c in order["cards"]] == [None] and photos == {}


def test_an_unwritten_order_is_written_again(counter, settings):
    """Without the commit (a full disk, a killed process) no file; `write_order_file` writes it
    from what is kept."""
    w, _ = counter
    card = photographed(w)
    cards.produce(actor=w.issuer, now=t.NEW_PROCESS, card_ids=[card.pk]).one()
    batch = BureauBatch.objects.get()
    assert not bureau.order_file_written(batch)
    path = bureau.write_order_file(batch.pk)
    assert path.name == batch.file_name and bureau.order_file_written(batch)
    assert list(order_of(path)[1].values()) == [JPEG]


def test_confirming_an_unknown_batch_changes_nothing(counter):
    w, _ = counter
    card = photographed(w)
    cards.produce(actor=w.issuer, now=t.NEW_PROCESS, card_ids=[card.pk]).one()
    batch = BureauBatch.objects.get()
    with pytest.raises(NotFound):
        bureau.confirm_delivery(actor=w.issuer, batch_ids=[batch.pk, 999], now=t.NEW_PROCESS)
    with pytest.raises(Refused):
        bureau.confirm_delivery(actor=w.id_admin, batch_ids=[batch.pk], now=t.NEW_PROCESS)
    assert CardPhoto.objects.count() == 1
    assert BureauBatch.objects.get().delivered_at is None


def test_a_cancelled_order_keeps_no_photo(counter):
    w, _ = counter
    card = photographed(w)
    cards.cancel_order(actor=w.orderer, card_ids=[card.pk], now=t.NEW_PROCESS).one()
    assert not CardPhoto.objects.exists()
    entry = AuditEntry.objects.filter(action="cancel", object_id=str(card.pk)).get()
    assert entry.after["photo_deleted"] is True


def test_an_order_file_that_cannot_be_written_leaves_the_cards_produced_and_says_how_to_write_it(
    counter, settings, tmp_path, caplog, django_capture_on_commit_callbacks
):
    w, _ = counter
    card = photographed(w)
    blocked = tmp_path / "bureau"
    blocked.write_text("a file where the folder should be")
    settings.EKORT_BUREAU_DIR = blocked
    with django_capture_on_commit_callbacks(execute=True):
        produced = cards.produce(actor=w.issuer, now=t.NEW_PROCESS, card_ids=[card.pk]).one()
    batch = BureauBatch.objects.get()
    assert Card.objects.get(pk=produced.pk).bureau_batch_id == batch.pk
    assert not bureau.order_file_written(batch)
    assert CardPhoto.objects.filter(card_id=card.pk).exists()
    assert f"write it with `ekort bureau write --batch {batch.pk}`" in caplog.text

    blocked.unlink()
    path = bureau.write_order_file(batch.pk)
    assert list(order_of(path)[1].values()) == [JPEG]


def test_a_photo_that_cannot_be_unsealed_leaves_no_order_file_half_written(counter, settings):
    w, _ = counter
    card = photographed(w)
    cards.produce(actor=w.issuer, now=t.NEW_PROCESS, card_ids=[card.pk]).one()
    batch = BureauBatch.objects.get()
    photo = CardPhoto.objects.get(card_id=card.pk)
    sealed = bytearray(photo.ciphertext)
    sealed[-1] ^= 1
    CardPhoto.objects.filter(pk=photo.pk).update(ciphertext=bytes(sealed))
    with pytest.raises(InvalidTag):
        bureau.write_order_file(batch.pk)
    assert list(Path(settings.EKORT_BUREAU_DIR).iterdir()) == []  # no order, no partial file


def test_confirming_the_delivery_of_no_batch_is_refused(counter):
    w, _ = counter
    with pytest.raises(InvalidInput, match="Name at least one bureau batch"):
        bureau.confirm_delivery(actor=w.issuer, batch_ids=[], now=t.NEW_PROCESS)
