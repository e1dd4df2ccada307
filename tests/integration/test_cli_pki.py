"""`ekort ca init|show|chain|crl|publish` as an administrator uses them."""

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


def test_chain_prints_the_root_and_issuing_cas_that_nginx_verifies_cards_against():
    with pytest.raises(CommandError, match="No CA yet"):
        run("ca", "chain")
    run("ca", "init")
    chain = run("ca", "chain")
    certificates = x509.load_pem_x509_certificates(chain.encode())
    names = {c.subject.rfc4514_string() for c in certificates}
    assert len(certificates) == 3  # the root and the LoA3 and LoA2 issuing CAs; no OCSP signer
    assert any("Root CA" in name for name in names)
    assert sum("Person ID" in name for name in names) == 2


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


FOREIGN = "Region Uppsala Person ID 3 CA v1"


def test_crl_on_demand_for_another_regions_issuer_lists_a_removed_certificate(
    world, settings, client
):
    """Every CA ekort signs for has a CRL on demand: the issuer of the additional
    certificates (R13) too, and the served CRL then lists the one just revoked."""
    from ekort.services import clock
    from ekort.services.ca import authority, holder_certificates
    from tests import instants as t
    from tests.integration.journeys import PIN, activated

    later = t.sthlm(2024, 3, 4, 10)
    settings.EKORT_SIMULATED_NOW = "2024-03-04T11:00+01:00"
    clock.reset()
    try:
        issuer = authority.init_foreign_issuer(
            name=FOREIGN, organisation="Region Uppsala", now=t.sthlm(2015, 1, 1)
        )
        card = activated(world, "photo", t.NEW_PROCESS, t.NEW_PROCESS)
        holder_certificates.add_additional_certificate(
            actor=world.holder, card_id=card.pk, pin=PIN, issuer_name=FOREIGN, now=later
        )
        removed = holder_certificates.remove_additional_certificate(
            actor=world.holder, card_id=card.pk, pin=PIN, now=later
        )
        said = run("ca", "crl", "--ca", FOREIGN)
        assert f"CRL 1 of {FOREIGN}: 1 entries" in said
        served = client.get(f"/pki/crl/{authority.slug(issuer)}.crl")
        assert served.status_code == 200
        crl = x509.load_der_x509_crl(served.content)
        assert crl.get_revoked_certificate_by_serial_number(int(removed.serial, 16)) is not None
        assert crl.is_signature_valid(authority.certificate_of(issuer).public_key())
        # Every CA ekort signs CRLs for, at once: root, both issuing CAs and the other region's.
        assert run("ca", "crl").count("CRL ") == 4
    finally:
        settings.EKORT_SIMULATED_NOW = ""
        clock.reset()
