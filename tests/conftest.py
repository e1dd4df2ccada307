"""Fixtures for the whole suite.

The CA hierarchy is made once per test session (`ca_template`): `init_hierarchy` runs for real
into a key directory of the session's own, in a transaction that is then rolled back, and the
rows it wrote are remembered. Each test that asks for `pki` gets copies of those key files in its
own key directory and the same rows in its own database, so that what one test signs, renews or
writes never reaches another. Tests of the hierarchy's creation call `init_hierarchy` themselves.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import factories, tools

# A password hash costs about half a second of CPU with Django's default PBKDF2 (1,000,000
# iterations), and the portal's fixtures set five passwords a test. The suite hashes with MD5
# instead; the stronger hashers stay listed, so that a hash made by them still checks.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# scrypt's cost for the codes a holder chooses, outside the chip's own tests (cheap_chosen_codes).
CHEAP_CODE_COST = 2**4
# PBKDF2 iterations for the CA key files the suite writes and opens (production: 600,000, about
# a fifth of a second per file, and every test with a CA opens a few). tests/pki/test_keys.py
# tests the production cost once.
CHEAP_KEY_FILE_ROUNDS = 1_000


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked `tools.needs(...)` is skipped without its programs, or failed in CI,
    before any of its fixtures is set up (tests/tools.py)."""
    tools.require_marked(item)


@pytest.fixture(scope="session", autouse=True)
def _cheap_passwords_and_key_files() -> Iterator[None]:
    from django.conf import settings
    from django.test import override_settings

    hashers = [*FAST_PASSWORD_HASHERS, *settings.PASSWORD_HASHERS]
    with override_settings(
        PASSWORD_HASHERS=list(dict.fromkeys(hashers)), EKORT_KEY_KDF_ROUNDS=CHEAP_KEY_FILE_ROUNDS
    ):
        yield


@pytest.fixture(autouse=True)
def cheap_chosen_codes(monkeypatch):
    """The PIN and signature code a holder chooses are hashed with scrypt at N = 2**14 on the
    chip: about 50 ms each, and a test of ordering rules sets a PIN on every card it hands out.
    Outside tests/pki (whose conftest undoes this: the chip's own tests keep the real cost),
    new codes are hashed at N = 2**4. The cost is stored with each hash, so a code checks
    against its own cost either way."""
    from ekort.pki import card_codes

    make = card_codes.CodeHash.of.__func__
    assert make.__defaults__ == (card_codes.CHOSEN_CODE_COST,), (
        "CodeHash.of no longer takes its cost as its one default: update cheap_chosen_codes"
    )
    monkeypatch.setattr(make, "__defaults__", (CHEAP_CODE_COST,))


@pytest.fixture(scope="session", autouse=True)
def _postgresql_flush_by_delete() -> Iterator[None]:
    """Tests that commit (transaction=True) end with Django's flush, a TRUNCATE of every table.
    On PostgreSQL that costs about a second (a new file for each of ~35 tables); a DELETE of
    the few rows a test leaves costs about 10 ms. The append-only triggers (audit entries,
    blocks) refuse DELETE, so the flush runs as a replica, which fires no triggers; that
    needs a superuser, and without one the flush stays a TRUNCATE."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush
    superuser: dict[str, bool] = {}

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        alias = self.connection.alias
        if alias not in superuser:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
            superuser[alias] = bool(row and row[0])
        if reset_sequences or not tables or not superuser[alias]:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        # execute_sql_flush runs these in one transaction: SET LOCAL ends with it, and the
        # deferred foreign keys are not checked (a replica fires no triggers, theirs included).
        return [
            "SET LOCAL session_replication_role = replica;",
            # The table names are Django's own, quoted: nothing from outside.
            *(f"DELETE FROM {self.quote_name(table)};" for table in tables),  # noqa: S608
        ]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def pki_directories(settings, tmp_path_factory):
    """Keys and virtual cards of each test in folders of their own, and fresh backends."""
    from ekort.services.ca import backends

    base = tmp_path_factory.mktemp("pki")
    settings.EKORT_KEY_DIR = base / "keys"
    settings.EKORT_VIRTUAL_CARD_DIR = base / "cards"
    settings.EKORT_BUREAU_DIR = base / "bureau"  # the card bureau's production orders
    backends.reset()
    yield base
    backends.reset()


def _hierarchy_instant():
    from tests.instants import sthlm

    # As of 2015, so that every named instant in the tests lies inside the CAs' validity.
    return sthlm(2015, 1, 1)


def _settings_that_shape_the_hierarchy(settings: Any) -> tuple[Any, ...]:
    """What `init_hierarchy` reads from settings: a test that changes any of it gets a
    hierarchy made for it, not the session's."""
    return (
        settings.EKORT_KEY_BACKEND,
        settings.EKORT_KEY_PASSPHRASE,
        repr(settings.EKORT_CA),
        settings.EKORT_PUBLIC_URL,
        settings.EKORT_OCSP_URL,
        settings.EKORT_AUDIT_KEY,
        settings.TIME_ZONE,
        settings.USE_TZ,
    )


def _table_rows(model: Any) -> dict[Any, dict[str, Any]]:
    columns = [field.attname for field in model._meta.concrete_fields]
    return {row[model._meta.pk.attname]: row for row in model._base_manager.values(*columns)}


def _all_rows() -> dict[Any, dict[Any, dict[str, Any]]]:
    from django.apps import apps

    return {
        model: _table_rows(model)
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


@dataclass(frozen=True)
class CaTemplate:
    """The session's CA hierarchy: its key files, and the rows `init_hierarchy` wrote (new or
    changed), by model and primary key, in the order the models were found."""

    keys: Path
    shaped_by: tuple[Any, ...]
    rows: dict[Any, dict[Any, dict[str, Any]]]
    root: Any
    issuing: dict[str, Any]
    responders: dict[str, Any]

    def restore(self, key_dir: Path) -> Any:
        """The key files into `key_dir` and the rows into the test's database (committed
        with it, or rolled back with it); the hierarchy as `init_hierarchy` returns it."""
        from django.core.management.color import no_style
        from django.db import connection, transaction

        from ekort.services.ca.authority import Hierarchy
        from ekort.store.models import CertificateAuthority

        shutil.copytree(self.keys, key_dir, dirs_exist_ok=True)
        with transaction.atomic():  # foreign keys are checked at the end, whatever the order
            for model, rows in self.rows.items():
                manager = model._base_manager
                present = set(manager.filter(pk__in=list(rows)).values_list("pk", flat=True))
                for pk in present:
                    manager.filter(pk=pk).update(**rows[pk])
                manager.bulk_create([model(**row) for pk, row in rows.items() if pk not in present])
            # The primary keys came with the rows: move the sequences past them (PostgreSQL).
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), list(self.rows)):
                    cursor.execute(sql)
        authorities = CertificateAuthority.objects.in_bulk(
            [self.root, *self.issuing.values(), *self.responders.values()]
        )
        return Hierarchy(
            root=authorities[self.root],
            issuing={level: authorities[pk] for level, pk in self.issuing.items()},
            responders={level: authorities[pk] for level, pk in self.responders.items()},
        )


@pytest.fixture(scope="session")
def ca_template(django_db_setup, django_db_blocker, tmp_path_factory) -> CaTemplate:
    """`init_hierarchy` once for the session, for real, in a transaction rolled back after the
    rows it wrote are read; its key files stay in a directory of the session's."""
    from django.conf import settings
    from django.db import transaction
    from django.test import override_settings

    from ekort.services.ca import backends
    from ekort.services.ca.authority import init_hierarchy

    keys = tmp_path_factory.mktemp("ca-template") / "keys"
    with django_db_blocker.unblock(), override_settings(EKORT_KEY_DIR=keys):
        backends.reset()
        try:
            with transaction.atomic():
                before = _all_rows()
                made = init_hierarchy(now=_hierarchy_instant())
                after = _all_rows()
                transaction.set_rollback(True)
        finally:
            backends.reset()
        shaped_by = _settings_that_shape_the_hierarchy(settings)
    written = {
        model: {pk: row for pk, row in rows.items() if before[model].get(pk) != row}
        for model, rows in after.items()
    }
    gone = [model for model, rows in before.items() if set(rows) - set(after[model])]
    assert not gone, f"init_hierarchy deleted rows of {gone}: the template cannot replay that"
    return CaTemplate(
        keys=keys,
        shaped_by=shaped_by,
        rows={model: rows for model, rows in written.items() if rows},
        root=made.root.pk,
        issuing={level: ca.pk for level, ca in made.issuing.items()},
        responders={level: ca.pk for level, ca in made.responders.items()},
    )


@pytest.fixture
def pki(db, settings, ca_template):
    """The CA hierarchy (root, LoA3 and LoA2 issuing CAs, OCSP signers) as of 2015, so that
    every named instant in the tests lies inside its validity: the session's, copied in."""
    if _settings_that_shape_the_hierarchy(settings) != ca_template.shaped_by:
        from ekort.services.ca.authority import init_hierarchy

        return init_hierarchy(now=_hierarchy_instant())
    return ca_template.restore(Path(settings.EKORT_KEY_DIR))


@pytest.fixture
def world(db, pki):
    return factories.world()
