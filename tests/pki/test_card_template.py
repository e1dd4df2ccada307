"""Card certificates from a template (`certificates.card_template`) are the same certificates as
those built with every extension typed out: the same to-be-signed bytes, so the same checks in
every relying party. The template only saves encoding the shared extensions again per card."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ekort.pki import certificates
from ekort.pki.certificates import Endpoints, Holder, Profile, card_template
from tests.pki.hierarchy import hierarchy

NOW = dt.datetime(2024, 2, 6, 9, tzinfo=dt.UTC)
CARD_END = dt.datetime(2029, 2, 5, 22, 59, 59, tzinfo=dt.UTC)
ENDPOINTS = Endpoints(
    crl_url="http://crl.test.invalid/loa3.crl",
    ocsp_url="http://ocsp.test.invalid/loa3",
    issuer_cert_url="http://aia.test.invalid/loa3.cer",
)
POLICY = "1.2.752.74.8.3"
UPN_DOMAIN = "regiongavleborg.se"
UPN = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")  # Microsoft's user principal name
HOLDER = Holder(
    given_name="Åsa",
    family_name="Öberg, d.y.",  # a comma: escaped in the name's string form, not in DER
    hsa_id="SE2321000198-a1b2c3",
    card_number="97522100000000011",
    organisation="Region Gävleborg",
)


def _typed(profile: Profile, public: object, serial: int) -> x509.Certificate:
    """The reference: every extension passed to the builder as its typed object."""
    h = hierarchy()
    upn = f"{HOLDER.hsa_id}@{UPN_DOMAIN}" if profile is Profile.AUTHENTICATION else ""
    return certificates._build(
        subject=certificates.holder_name(HOLDER),
        issuer_name=h.issuing.subject,
        public=public,  # type: ignore[arg-type]
        signing_key=h.issuing_signer,
        not_before=NOW,
        not_after=min(CARD_END, h.issuing.not_valid_after_utc),
        serial=serial,
        extensions=certificates._card_extensions(
            profile,
            public,  # type: ignore[arg-type]
            HOLDER.card_number,
            h.issuing,
            ENDPOINTS,
            POLICY,
            upn=upn,
        ),
    )


def _template(profile: Profile, public: object) -> certificates.CardTemplate:
    h = hierarchy()
    return card_template(
        profile=profile,
        public=public,  # type: ignore[arg-type]
        issuer=h.issuing,
        issuer_key=h.issuing_signer,
        endpoints=ENDPOINTS,
        policy_oid=POLICY,
        upn_domain=UPN_DOMAIN if profile is Profile.AUTHENTICATION else "",
    )


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize(
    "key",
    [
        pytest.param(lambda: ec.generate_private_key(ec.SECP256R1()), id="ec-p256"),
        pytest.param(lambda: rsa.generate_private_key(65537, 2048), id="rsa-2048"),
    ],
)
def test_a_certificate_from_the_template_is_the_typed_one(profile, key):
    public = key().public_key()
    serial = 0x5EED_0000_0000_0001
    made = _template(profile, public).issue(
        holder=HOLDER, public=public, now=NOW, not_after=CARD_END, serial=serial
    )
    reference = _typed(profile, public, serial)
    assert made.tbs_certificate_bytes == reference.tbs_certificate_bytes
    # The extensions read back as their types, not as unrecognised ones.
    assert not [e for e in made.extensions if isinstance(e.value, x509.UnrecognizedExtension)]
    hierarchy().issuing_key.public_key().verify(
        made.signature, made.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256())
    )


def test_one_template_issues_each_card_its_own_name_number_and_key():
    first, second = (ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(2))
    template = _template(Profile.AUTHENTICATION, first)
    other = Holder("Bo", "Ek", "SE2321000198-b", "97522100000000029", HOLDER.organisation)
    a = template.issue(holder=HOLDER, public=first, now=NOW, not_after=CARD_END)
    b = template.issue(holder=other, public=second, now=NOW, not_after=CARD_END)
    assert a.serial_number != b.serial_number
    assert a.subject != b.subject
    ski = x509.SubjectKeyIdentifier
    assert a.extensions.get_extension_for_class(ski).value == ski.from_public_key(first)
    assert b.extensions.get_extension_for_class(ski).value == ski.from_public_key(second)
    san = b.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    [directory] = san.get_values_for_type(x509.DirectoryName)
    assert directory.rfc4514_string() == "2.5.4.5=97522100000000029"


def test_a_template_refuses_another_kind_of_key_and_an_ended_card():
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key()
    rsa_public = rsa.generate_private_key(65537, 2048).public_key()
    template = _template(Profile.AUTHENTICATION, ec_public)
    with pytest.raises(ValueError, match="another kind of card key"):
        template.issue(holder=HOLDER, public=rsa_public, now=NOW, not_after=CARD_END)
    with pytest.raises(ValueError, match="validity has ended"):
        template.issue(holder=HOLDER, public=ec_public, now=NOW, not_after=NOW)


def test_validity_never_exceeds_the_issuers():
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    far = hierarchy().issuing.not_valid_after_utc + dt.timedelta(days=400)
    made = _template(Profile.AUTHENTICATION, public).issue(
        holder=HOLDER, public=public, now=NOW, not_after=far
    )
    assert made.not_valid_after_utc == hierarchy().issuing.not_valid_after_utc


def _upns(cert: x509.Certificate) -> list[bytes]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [name.value for name in san.get_values_for_type(x509.OtherName) if name.type_id == UPN]


def test_the_authentication_certificate_names_the_holder_for_windows_logon():
    """Smart card logon: the UPN (Microsoft's otherName, a UTF8String) is the holder's HSA-id
    at the configured domain, beside the card number; other profiles carry none."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    auth = _template(Profile.AUTHENTICATION, public).issue(
        holder=HOLDER, public=public, now=NOW, not_after=CARD_END
    )
    expected = f"{HOLDER.hsa_id}@{UPN_DOMAIN}".encode()
    assert _upns(auth) == [b"\x0c" + bytes([len(expected)]) + expected]
    eku = auth.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert certificates.SMARTCARD_LOGON in eku
    for profile in (Profile.SIGNATURE, Profile.ADDITIONAL):
        other = _template(profile, public).issue(
            holder=HOLDER, public=public, now=NOW, not_after=CARD_END
        )
        assert _upns(other) == []
    without = card_template(
        profile=Profile.AUTHENTICATION,
        public=public,
        issuer=hierarchy().issuing,
        issuer_key=hierarchy().issuing_signer,
        endpoints=ENDPOINTS,
        policy_oid=POLICY,
    ).issue(holder=HOLDER, public=public, now=NOW, not_after=CARD_END)
    assert _upns(without) == []


def test_a_upn_domain_that_is_no_domain_is_refused():
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    for bad in ("region gavleborg.se", "@region.se", "region..se", "-region.se"):
        with pytest.raises(ValueError, match="UPN domain"):
            card_template(
                profile=Profile.AUTHENTICATION,
                public=public,
                issuer=hierarchy().issuing,
                issuer_key=hierarchy().issuing_signer,
                endpoints=ENDPOINTS,
                policy_oid=POLICY,
                upn_domain=bad,
            )


@pytest.mark.parametrize(
    "holder",
    [
        HOLDER,
        Holder("#Ann", "Lind+Berg", "SE2321000198-c", "97522100000000037", "Region ; <Test>"),
        Holder(" Eva", 'Nilsson "Jr" ', "SE2321000198-d", "97522100000000045", "Region\\X"),
    ],
    ids=["comma", "leading-hash-plus-semicolon", "spaces-quotes-backslash"],
)
def test_the_subject_text_kept_with_a_certificate_is_the_certificates_own(holder):
    """The certificate's row keeps its subject as RFC 4514 text, worked out from the name it
    was made with; it is what parsing the certificate gives, escapes and all."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    issued = _template(Profile.AUTHENTICATION, public).issue_with_subject(
        holder=holder, public=public, now=NOW, not_after=CARD_END
    )
    parsed = x509.load_der_x509_certificate(
        issued.certificate.public_bytes(serialization.Encoding.DER)
    )
    assert issued.subject == parsed.subject.rfc4514_string()
    assert parsed.subject == certificates.holder_name(holder)
