"""Mina medarbetare, orders from a file: upload, a preview by the order service that orders
nothing, then the confirmation that orders; bad files change nothing."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ekort.store.models import Card
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/medarbetare/bestall-fran-fil/"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def upload(client, text: str, encoding: str = "utf-8"):
    return client.post(URL, {"file": SimpleUploadedFile("team.csv", text.encode(encoding))})


def test_preview_then_confirm_then_the_same_file_orders_nothing_new(w, client):
    karin = factories.person(given="Karin", family="Kollega", manager=w.manager)
    olle = factories.person(given="Olle", family="Annan")
    text = (
        "personnummer;hsa-id;korttyp\n"
        f"{w.employee.identity_number};;foto\n"
        f";{karin.hsa_id};reserv\n"
        f"{olle.identity_number};;foto\n"
    )
    client.force_login(w.orderer)
    assert 'href="/medarbetare/bestall-fran-fil/"' in client.get("/medarbetare/").content.decode()
    assert "Läs in en fil" in text_of(client.get(URL))

    preview = upload(client, text)
    page = text_of(preview)
    assert preview.status_code == 200
    assert "2 kort beställs, 0 är redan beställda och 1 rader går inte att beställa" in page
    assert "(regel E2)" in page and "Olle" not in page
    assert w.employee.identity_number not in page  # masked: 19850312-****
    assert not Card.objects.exists()
    content = re.search(r'name="content" value="([^"]+)"', preview.content.decode()).group(1)

    done = client.post(URL, {"content": content})
    assert "2 kort är beställda, 0 var redan beställda" in text_of(done)
    assert Card.objects.filter(person__in=[w.employee, karin]).count() == 2

    again = upload(client, text)
    assert "0 kort beställs, 2 är redan beställda" in text_of(again)
    assert 'name="content"' not in again.content.decode()  # nothing to confirm
    assert Card.objects.count() == 2


def test_a_row_that_cannot_be_read_is_shown_refused_beside_the_others(w, client):
    client.force_login(w.orderer)
    text = f"personnummer;korttyp\n{w.employee.identity_number};foto\n19850312-0000;foto\n"
    preview = upload(client, text)
    page = text_of(preview)
    assert preview.status_code == 200
    assert "1 kort beställs, 0 är redan beställda och 1 rader går inte att beställa" in page
    assert "kontrollsiffra" in page and "19850312-0000" not in page
    assert "Reservkort" not in page  # the row that cannot be read names no card type
    content = re.search(r'name="content" value="([^"]+)"', preview.content.decode()).group(1)
    assert "1 kort är beställda" in text_of(client.post(URL, {"content": content}))
    assert list(Card.objects.values_list("person", flat=True)) == [w.employee.pk]


def test_a_bad_file_names_its_lines_and_orders_nothing(w, client):
    client.force_login(w.orderer)
    response = upload(client, f"personnummer;korttyp\n{w.employee.identity_number};guld\n")
    assert response.status_code == 400
    page = text_of(response)
    assert "Filen användes inte och inget kort är beställt" in page
    assert "Rad 2:" in page and "guld" in page
    response = upload(client, "personnummer;korttyp\nÅsa;foto\n", encoding="cp1252")
    assert response.status_code == 400 and "CSV UTF-8" in text_of(response)
    response = client.post(URL, {})
    assert response.status_code == 400 and "Välj en fil att läsa in." in text_of(response)
    response = client.post(URL, {"content": "inte base64!"})
    assert response.status_code == 400 and "Läs in den igen" in text_of(response)
    assert not Card.objects.exists()


def test_the_upload_needs_its_csrf_token_and_the_orderer_role(w):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(w.orderer)
    text = f"personnummer;korttyp\n{w.employee.identity_number};foto\n"
    response = strict.post(URL, {"file": SimpleUploadedFile("t.csv", text.encode())})
    assert response.status_code == 403
    holder = Client()
    holder.force_login(w.holder)
    assert holder.get(URL).status_code == 403
    assert not Card.objects.exists()
