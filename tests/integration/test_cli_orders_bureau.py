"""`ekort orders import` and `ekort bureau list|write|confirm`."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ekort.services import cards
from ekort.store.models import BureauBatch, Card, CardPhoto
from tests import factories
from tests import instants as t
from tests.integration.journeys import JPEG, ordered

pytestmark = pytest.mark.django_db
AT = "2024-02-06T10:00+01:00"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_orders_import_dry_run_then_real_then_again(world, tmp_path):
    karin = factories.person(given="Karin", family="Kollega", manager=world.manager)
    path = tmp_path / "team.csv"
    path.write_text(
        f"personnummer;korttyp\n{world.employee.identity_number};foto\n"
        f"{karin.identity_number};reserv\n",
        encoding="utf-8",
    )
    out, _ = run("orders", "import", str(path), "--actor", "chef", "--dry-run", "--at", AT)
    assert "line 2: photo card would be ordered for 19850312-****" in out
    assert "Dry run, nothing ordered: 2 would be ordered" in out
    assert not Card.objects.exists()
    out, _ = run("orders", "import", str(path), "--actor", "chef", "--at", AT)
    assert "Done: 2 ordered, 0 already ordered, 0 refused, of 2 row(s)." in out
    out, _ = run("orders", "import", str(path), "--actor", "chef", "--at", AT)
    assert "already ordered or in use (E8), not again" in out
    assert "Done: 0 ordered, 2 already ordered" in out
    assert Card.objects.count() == 2


def test_orders_import_refusals_and_bad_files_fail(world, tmp_path):
    stranger = factories.person(given="Olle", family="Annan")
    path = tmp_path / "team.csv"
    path.write_text(f"personnummer;korttyp\n{stranger.identity_number};foto\n", encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError, match="1 row\\(s\\) refused"):
        call_command("orders", "import", str(path), "--actor", "chef", "--at", AT, stdout=out)
    assert "line 2: refused, E2:" in out.getvalue() and "Olle" not in out.getvalue()
    path.write_text(
        f"personnummer;korttyp\n19850312-0000;foto\n{world.employee.identity_number};foto\n",
        encoding="utf-8",
    )
    out = StringIO()
    with pytest.raises(CommandError, match="1 row\\(s\\) refused"):
        call_command("orders", "import", str(path), "--actor", "chef", "--at", AT, stdout=out)
    assert "line 2: refused, input: " in out.getvalue() and "check digit" in out.getvalue()
    assert "19850312-0000" not in out.getvalue()
    assert "line 3: photo card ordered for" in out.getvalue()
    assert Card.objects.filter(person=world.employee).count() == 1
    Card.objects.all().delete()
    path.write_text("personnummer;korttyp\n19850312-0000;foto\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was ordered"):
        call_command("orders", "import", str(path), "--actor", "chef", "--at", AT, stderr=err)
    assert "line 2: " in err.getvalue() and "check digit" in err.getvalue()
    with pytest.raises(CommandError, match="Cannot read"):
        run("orders", "import", str(tmp_path / "missing.csv"), "--actor", "chef")
    with pytest.raises(CommandError, match="no user"):
        run("orders", "import", str(path), "--actor", "nobody")
    assert not Card.objects.exists()


def test_bureau_list_write_and_confirm(world, settings):
    card = ordered(world, "photo", t.NEW_PROCESS)
    cards.photograph(actor=world.id_admin, now=t.NEW_PROCESS, photos={card.pk: JPEG}).one()
    cards.produce(actor=world.issuer, now=t.NEW_PROCESS, card_ids=[card.pk]).one()
    batch = BureauBatch.objects.get()
    out, _ = run("bureau", "list", "--actor", "utgivare")
    assert "file not written" in out and "1 batch(es)." in out
    out, _ = run("bureau", "write", "--batch", str(batch.pk), "--actor", "utgivare")
    assert (Path(settings.EKORT_BUREAU_DIR) / BureauBatch.objects.get().file_name).exists()
    out, _ = run("bureau", "confirm", "--batch", str(batch.pk), "--actor", "utgivare", "--at", AT)
    assert "Confirmed the delivery of 1 batch(es); 1 photo(s) deleted." in out
    assert not CardPhoto.objects.exists()
    out, _ = run("bureau", "confirm", "--batch", str(batch.pk), "--actor", "utgivare", "--at", AT)
    assert "confirmed before" in out
    with pytest.raises(CommandError, match="no bureau batch 999"):
        run("bureau", "confirm", "--batch", "999", "--actor", "utgivare")
    with pytest.raises(CommandError, match="Name the batches"):
        run("bureau", "confirm", "--actor", "utgivare")
    with pytest.raises(CommandError, match="E10"):
        run("bureau", "list", "--actor", "idadmin")
