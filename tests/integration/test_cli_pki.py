"""`ekort ca init|show|crl|publish` as an administrator uses them."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography import x509
from django.core.management import CommandError, call_command

from ekort.store.models import CertificateAuthority

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_init_show_and_a_crl_written_to_a_file(tmp_path):
    assert "No CA yet" in run("ca", "show")
    created = run("ca", "init")
    assert "LoA3: ekort e-id Person ID 3 CA v1" in created
    assert CertificateAuthority.objects.filter(role="issuing").count() == 2
    assert CertificateAuthority.objects.filter(role="ocsp").count() == 2
    shown = run("ca", "show")
    assert "ekort-e-id-root-ca-v1" in shown
    assert "ECPublicKey  384" in shown  # the root: EC P-384 by default
    with pytest.raises(CommandError, match="exists already"):
        call_command("ca", "init", stdout=StringIO())
    target = tmp_path / "loa3.crl"
    said = run("ca", "crl", "--ca", "ekort-e-id-person-id-3-ca-v1", "--out", str(target))
    assert "CRL 1 of ekort e-id Person ID 3 CA v1: 0 entries" in said
    crl = x509.load_der_x509_crl(target.read_bytes())
    assert crl.issuer.rfc4514_string().startswith("CN=ekort e-id Person ID 3 CA v1")


def test_crl_refuses_unknown_ca_and_ambiguous_out(tmp_path):
    run("ca", "init")
    with pytest.raises(CommandError, match="No CA called"):
        call_command("ca", "crl", "--ca", "nobody", stdout=StringIO())
    with pytest.raises(CommandError, match="--out writes one CRL"):
        call_command("ca", "crl", "--out", str(tmp_path / "x.crl"), stdout=StringIO())


def test_publish_builds_every_crl_once_then_nothing(tmp_path):
    run("ca", "init")
    first = run("ca", "publish")
    assert first.count("CRL 1 of") == 3  # root and the two issuing CAs
    assert run("ca", "publish") == ""
    with pytest.raises(CommandError, match="at least 1 second"):
        call_command("ca", "publish", "--loop", "0", stdout=StringIO())
