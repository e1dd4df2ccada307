"""The card bureau: the holder's photo kept until the card is printed, one production order
per batch, and the bureau's delivery, which deletes the photos.

- `keep_photos`: the photo taken at the counter is kept AES-256-GCM encrypted (`ca.secrets`,
  bound to its card), with the office it was taken at. Only ID administrators of that office
  see it (`kept_photo`), on a page that is never cached.
- `new_batch`: `produce` makes one batch of the cards it personalises. Once the transaction
  has committed, the batch's production order is written (`write_order_file`): a zip file in
  the bureau directory (EKORT_DATA_DIR/bureau/) with `order.json` (per card: the card number,
  the layout of its generation, R5, and what is printed in each field) and `photos/`, each
  photo under its card number. A file that could not be written (a full disk) is written
  again with `ekort bureau write`; nothing in it is lost, as the photos are kept.
- `confirm_delivery`: the bureau has delivered a batch: its photos are deleted, from the
  database and with the production order's file, each card's audit entry says so.
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from ekort.domain.card_face import CardFace, FaceField, card_face
from ekort.domain.errors import InvalidInput, NotFound
from ekort.domain.timekeeping import require_aware
from ekort.domain.vocabulary import CardType, Generation, Role
from ekort.store.models import BureauBatch, Card, CardPhoto
from ekort.store.sets import upsert_rows

from .. import audit
from ..ca.secrets import seal_photo, unseal_photo
from ..roles import require_role, roles_of
from .card_sets import CardRef, card_change

log = logging.getLogger(__name__)

ORDER_FORMAT = "ekort-bureau-order/1"
_PNG = b"\x89PNG\r\n\x1a\n"


def media_type(photo: bytes) -> str:
    return "image/png" if photo.startswith(_PNG) else "image/jpeg"


def bureau_dir() -> Path:
    """Where production orders are written: EKORT_BUREAU_DIR, else EKORT_DATA_DIR/bureau."""
    return Path(getattr(settings, "EKORT_BUREAU_DIR", settings.DATA_DIR / "bureau"))


# --- Photos ----------------------------------------------------------------------------------


def _office_of(actor: Any) -> int | None:
    account = getattr(actor, "account", None)
    return None if account is None else account.office_id


def keep_photos(actor: Any, photos: Mapping[int, bytes], now: datetime) -> None:
    """Keep each card's photo, sealed, in the transaction that photographs the cards."""
    office = _office_of(actor)
    upsert_rows(
        CardPhoto,
        ("card", "ciphertext", "media_type", "taken_at", "office"),
        ("card",),
        [
            (card_id, seal_photo(photo, card_id), media_type(photo), now, office)
            for card_id, photo in sorted(photos.items())
        ],
    )


@dataclass(frozen=True)
class KeptPhoto:
    card_id: int
    picture: bytes
    media_type: str
    taken_at: datetime


def _visible_photos(actor: Any) -> QuerySet[CardPhoto]:
    office = _office_of(actor)
    mine = Q(card__photographed_by=actor.pk)
    if office is not None:
        mine |= Q(office_id=office)
    return CardPhoto.objects.filter(mine)


def may_see_photo(actor: Any, card_id: int) -> bool:
    """Whether `kept_photo` would show the account a photo of the card (for a link to it)."""
    if not roles_of(actor) & {Role.ID_ADMIN}:
        return False
    return _visible_photos(actor).filter(card_id=card_id).exists()


def kept_photo(actor: Any, card_id: int) -> KeptPhoto:
    """The photo kept for a card, for an ID administrator of the office where it was taken (or
    who took it). Anyone else, a card without a kept photo (a reserve card, a photo deleted
    after delivery) and an unknown card alike are NotFound: the answer does not tell them
    apart."""
    require_role(actor, Role.ID_ADMIN)
    photo = _visible_photos(actor).filter(card_id=card_id).first()
    if photo is None:
        raise NotFound(f"There is no photo of card {card_id} to show.")
    picture = unseal_photo(photo.ciphertext, card_id)
    return KeptPhoto(card_id, picture, photo.media_type, photo.taken_at)


def delete_photos(card_ids: Collection[int]) -> set[int]:
    """Delete the photos kept for these cards (an order withdrawn before production); the
    cards that had one."""
    kept = set(CardPhoto.objects.filter(card_id__in=card_ids).values_list("card_id", flat=True))
    if kept:
        CardPhoto.objects.filter(card_id__in=kept).delete()
    return kept


# --- Production orders -----------------------------------------------------------------------


def new_batch(actor: Any, cards: Sequence[Card], now: datetime) -> BureauBatch | None:
    """The production order of the cards `produce` personalises now, set on each card (saved
    with the card's other fields); its file is written once the transaction commits."""
    if not cards:
        return None
    batch = BureauBatch.objects.create(produced_at=now, produced_by=actor, cards=len(cards))
    # Named in the transaction (no commit of its own afterwards, 4 ms on PostgreSQL): whether
    # the file was written is whether it is there (`order_file_written`).
    batch.file_name = file_name(batch.pk)
    batch.save(update_fields=["file_name"])
    for card in cards:
        card.bureau_batch = batch
    transaction.on_commit(lambda: _write_after_commit(batch.pk), robust=True)
    return batch


def _write_after_commit(batch_id: int) -> None:
    try:
        write_order_file(batch_id)
    except InvalidInput:  # delivered in the same transaction (the demo's history): no file
        return
    except OSError as problem:
        log.error(
            "The production order of bureau batch %s was not written (%s); the cards are "
            "produced and their photos kept: write it with `ekort bureau write --batch %s`.",
            batch_id,
            problem.strerror or problem,
            batch_id,
        )


def file_name(batch_id: int) -> str:
    return f"bureau-order-{batch_id:06d}.zip"


class _Row(NamedTuple):
    """What the production order needs of a card: read as plain values, not model objects."""

    pk: int
    number: str
    card_type: str
    generation: str
    sis_marked: bool
    valid_until: date | None
    given_name: str
    family_name: str
    identity_number: str
    photo_type: str | None  # the kept photo's media type; None: no photo kept


_ROW_FIELDS = (
    "pk",
    "number",
    "card_type",
    "generation",
    "sis_marked",
    "valid_until",
    "person__given_name",
    "person__family_name",
    "person__identity_number",
    "kept_photo__media_type",
)


@cache
def _face(generation: str, card_type: str, sis_marked: bool) -> CardFace:
    return card_face(Generation(generation), CardType(card_type), sis_marked)


@cache
def _layout(face: CardFace) -> dict[str, Any]:
    return {
        "generation": face.generation.value,
        "orientation": face.orientation.value,
        "front": [str(f) for f in face.front],
        "back": [str(f) for f in face.back],
    }


def _entry(card: _Row, photo_file: str | None, region: str) -> dict[str, Any]:
    """One card of the order: its layout (R5) and what is printed in each of its fields."""
    face = _face(card.generation, card.card_type, card.sis_marked)
    printed: dict[str, str | None] = {}
    for name in (*face.front, *face.back):
        if name is FaceField.HOLDER_NAME:
            printed[name] = f"{card.given_name} {card.family_name}"
        elif name is FaceField.PHOTO:
            printed[name] = photo_file
        elif name is FaceField.REGION_LOGO:
            printed[name] = region
        elif name is FaceField.IDENTITY_NUMBER:  # legacy cards only (R5)
            printed[name] = f"{card.identity_number[:8]}-{card.identity_number[8:]}"
        elif name is FaceField.CARD_NUMBER:
            printed[name] = card.number
        elif name is FaceField.SIS_MARK:
            printed[name] = "SIS"
        elif name is FaceField.VALID_UNTIL:
            printed[name] = card.valid_until.isoformat() if card.valid_until else None
    return {
        "card_number": card.number,
        "card_type": card.card_type,
        "layout": _layout(face),
        "print": printed,
        "photo": photo_file,
    }


def write_order_file(batch_id: int) -> Path:
    """Write (or write again) the batch's production order: two queries (three with photos),
    whatever its size; the cards are read as plain values, the photos unsealed one at a time
    into the zip. Written to a temporary name, mode 0600, and renamed into place when whole.
    With model objects and an indented JSON it cost 520 µs a card, as much as producing it;
    read as values and dumped by the C encoder, the Python side is a few µs a card and the
    rest is the queries and the file."""
    batch = BureauBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(f"There is no bureau batch {batch_id}.")
    if batch.delivered_at is not None:
        raise InvalidInput(
            f"Bureau batch {batch_id} was delivered on {batch.delivered_at:%Y-%m-%d}; its "
            "photos are deleted and its production order is not written again."
        )
    cards = [
        _Row(*values)
        for values in Card.objects.filter(bureau_batch_id=batch_id)
        .order_by("number")
        .values_list(*_ROW_FIELDS)
    ]
    photos = (
        CardPhoto.objects.filter(card__bureau_batch_id=batch_id)
        .values_list("card_id", "ciphertext", "media_type")
        .iterator(chunk_size=100)
        if any(card.photo_type for card in cards)
        else iter(())
    )
    folder = bureau_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = file_name(batch_id)
    target = folder / name
    partial = folder / f".{name}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    numbers = {card.pk: card.number for card in cards}
    photo_files: dict[int, str] = {}
    region = str(settings.EKORT_CA["region"])
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for card_id, sealed, kind in photos:
                suffix = "png" if kind == "image/png" else "jpg"
                photo_files[card_id] = f"photos/{numbers[card_id]}.{suffix}"
                archive.writestr(photo_files[card_id], unseal_photo(sealed, card_id))
            order = {
                "format": ORDER_FORMAT,
                "batch": batch_id,
                "produced_at": batch.produced_at.isoformat(),
                "region": region,
                "cards": [_entry(card, photo_files.get(card.pk), region) for card in cards],
            }
            # One line, by the C encoder (an indented dump is ten times slower).
            archive.writestr(
                "order.json",
                json.dumps(order, ensure_ascii=False, separators=(",", ":")),
                compress_type=zipfile.ZIP_DEFLATED,
            )
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def order_file_written(batch: BureauBatch) -> bool:
    return bool(batch.file_name) and (bureau_dir() / batch.file_name).exists()


def batches(*, waiting_only: bool = False) -> list[BureauBatch]:
    """The production orders, newest first; with `waiting_only`, those not delivered yet."""
    query = BureauBatch.objects.order_by("-pk")
    if waiting_only:
        query = query.filter(delivered_at__isnull=True)
    return list(query)


# --- Delivery --------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What confirming deliveries did: the batches confirmed now, those confirmed before (left
    as they were), and how many photos were deleted."""

    confirmed: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    photos_deleted: int = 0


def confirm_delivery(*, actor: Any, batch_ids: Collection[int], now: datetime) -> Delivery:
    """The card bureau has delivered these batches: delete their cards' photos and the
    production orders' files, and say so in each card's audit entry. An unknown batch refuses
    the whole call, which then changes nothing; a batch confirmed before is left as it is."""
    require_aware(now)
    require_role(actor, Role.ISSUER_ADMIN)
    ids = sorted({int(pk) for pk in batch_ids})
    if not ids:
        raise InvalidInput("Name at least one bureau batch whose delivery is confirmed.")
    delivery = Delivery()
    with transaction.atomic():
        found = list(BureauBatch.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        missing = sorted(set(ids) - {batch.pk for batch in found})
        if missing:
            raise NotFound(f"There is no bureau batch {', '.join(map(str, missing))}.")
        delivered = [batch for batch in found if batch.delivered_at is None]
        delivery.already = [batch.pk for batch in found if batch.delivered_at is not None]
        if not delivered:
            return delivery
        new_ids = [batch.pk for batch in delivered]
        cards = list(
            Card.objects.filter(bureau_batch_id__in=new_ids)
            .order_by("pk")
            .values_list("pk", "state", "number", "bureau_batch_id")
        )
        with_photo = set(
            CardPhoto.objects.filter(card__bureau_batch_id__in=new_ids).values_list(
                "card_id", flat=True
            )
        )
        delivery.photos_deleted, _ = CardPhoto.objects.filter(card_id__in=with_photo).delete()
        BureauBatch.objects.filter(pk__in=new_ids).update(delivered_at=now, delivered_by=actor)
        changes = [
            _delivered(actor, pk, state, number, batch_id, pk in with_photo, now)
            for pk, state, number, batch_id in cards
        ]
        audit.append(changes)
        names = [batch.file_name or file_name(batch.pk) for batch in delivered]
        transaction.on_commit(lambda: _remove_files(names), robust=True)
    delivery.confirmed = new_ids
    return delivery


def _delivered(
    actor: Any,
    card_id: int,
    state: str,
    number: str | None,
    batch_id: int,
    photo_deleted: bool,
    now: datetime,
) -> audit.Change:
    return card_change(
        actor,
        "bureau_delivered",
        CardRef(card_id, state, number),
        now,
        {"state": state},
        {"state": state, "bureau_batch_id": batch_id, "photo_deleted": photo_deleted},
    )


def _remove_files(names: list[str]) -> None:
    folder = bureau_dir()
    for name in names:
        (folder / name).unlink(missing_ok=True)
