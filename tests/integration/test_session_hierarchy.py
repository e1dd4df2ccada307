"""The `pki` fixture hands every test the session's CA hierarchy (tests/conftest.py): rows and
key files copied in, not made again. These tests hold it to what `init_hierarchy` makes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.apps import apps
from django.conf import settings
from django.db import transaction

from ekort.services.ca import authority
from ekort.store.models import AuditEntry, CertificateAuthority
from tests.instants import sthlm

pytestmark = pytest.mark.django_db

AT = sthlm(2015, 1, 1)  # as the pki fixture's hierarchy


def rows_per_model() -> Counter[str]:
    return Counter(
        {
            model._meta.label: model._base_manager.count()
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        }
    )


def authorities() -> list[tuple[object, ...]]:
    return sorted(
        (
            ca.name,
            ca.role,
            ca.assurance_level,
            ca.parent.name if ca.parent else "",
            ca.not_before,
            ca.not_after,
            authority.certificate_of(ca).subject,
            authority.certificate_of(ca).issuer,
            sorted(e.oid.dotted_string for e in authority.certificate_of(ca).extensions),
        )
        for ca in CertificateAuthority.objects.select_related("parent")
    )


def audit_entries() -> list[tuple[object, ...]]:
    return [
        (e.seq, e.at, e.actor, e.action, e.object_type, e.after)
        for e in AuditEntry.objects.order_by("seq")
    ]


def test_the_session_hierarchy_is_the_one_init_hierarchy_makes(request):
    before = rows_per_model()
    with transaction.atomic():
        made = authority.init_hierarchy(now=AT)
        made_rows = rows_per_model() - before
        made_authorities, made_audit = authorities(), audit_entries()
        transaction.set_rollback(True)

    given = request.getfixturevalue("pki")
    assert rows_per_model() - before == made_rows
    assert authorities() == made_authorities
    assert audit_entries() == made_audit
    assert set(given.issuing) == set(made.issuing) == set(given.responders)


def test_each_ca_signs_with_the_key_of_its_certificate(pki):
    for ca in [pki.root, *pki.issuing.values(), *pki.responders.values()]:
        signature = authority.signing_key_of(ca).sign(b"ekort", ec.ECDSA(hashes.SHA256()))
        authority.certificate_of(ca).public_key().verify(
            signature, b"ekort", ec.ECDSA(hashes.SHA256())
        )


def test_the_key_files_are_the_tests_own_copies(pki, ca_template):
    mine = sorted(p.name for p in settings.EKORT_KEY_DIR.iterdir())
    assert mine == sorted(p.name for p in ca_template.keys.iterdir())
    assert ca_template.keys != settings.EKORT_KEY_DIR
    # A key this test makes lands in its own folder, never in the session's.
    authority.renew_responders(AT, margin=timedelta(days=10_000))
    assert len(list(settings.EKORT_KEY_DIR.iterdir())) > len(mine)
    assert sorted(p.name for p in ca_template.keys.iterdir()) == mine
