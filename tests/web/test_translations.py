"""The English catalogue: complete, compiled, and used.

Swedish is the source language; `src/ekort/locale/en/LC_MESSAGES/django.po` translates every
string the templates and the code mark for translation. `make translations` regenerates and
compiles it; these tests fail when a marked string has no English, when the committed `.mo`
is older than the `.po`, or when an English page still shows Swedish.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib

from tests import tools

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "ekort"
CATALOGUE = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")


def _catalogue() -> polib.POFile:
    return polib.pofile(str(CATALOGUE))


def _extracted(tmp_path: Path) -> set[str]:
    """The msgids Django's makemessages finds in a copy of the package today."""
    tools.require(tools.XGETTEXT)
    copy = tmp_path / "ekort"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(copy / "locale")
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "en", "--no-location"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "ekort.settings"},
    )
    fresh = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    return {entry.msgid for entry in fresh if not entry.obsolete}


def test_every_marked_string_is_in_the_catalogue(tmp_path):
    known = {entry.msgid for entry in _catalogue() if not entry.obsolete}
    missing = sorted(_extracted(tmp_path) - known)
    assert not missing, f"Run `make translations` and translate: {missing[:10]}"


def test_every_entry_is_translated_and_none_is_fuzzy():
    catalogue = _catalogue()
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"No English for: {untranslated[:10]}"
    assert not fuzzy, f"Fuzzy (unchecked) translations: {fuzzy[:10]}"


def test_the_compiled_catalogue_matches_the_source():
    source = {(e.msgid, e.msgstr) for e in _catalogue().translated_entries()}
    compiled = {(e.msgid, e.msgstr) for e in polib.mofile(str(COMPILED)) if e.msgid}
    assert source == compiled, "Run `make translations`: the .mo is out of date"


def test_an_english_page_is_in_english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/logga-in/").content.decode()
    assert '<html lang="en">' in page
    assert "Username" in page and "Användarnamn" not in page


def test_the_language_switch_sets_the_cookie_and_returns_to_the_page(client, settings):
    response = client.post("/sprak/", {"language": "en", "next": "/logga-in/"})
    assert response.status_code == 302 and response["Location"] == "/logga-in/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Sign in" in client.get("/logga-in/").content.decode()


def test_a_switch_to_another_site_goes_home_instead(client):
    response = client.post("/sprak/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"
