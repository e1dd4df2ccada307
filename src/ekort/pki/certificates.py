"""Building X.509 certificates: the CA hierarchy and the card profiles (RFC 5280).

Plain functions on `cryptography`. Keys come from a key backend as signing-only objects; the
card's public keys come from the card. Names, algorithms and validity are settings
(`EKORT_CA`, see docs/pki.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Microsoft's smart card logon EKU: Windows needs it to log on with the card.
SMARTCARD_LOGON = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.2")
# Assurance levels as certificate policies under the SITHS arc (NOTES.md); configurable.
DEFAULT_POLICY_OIDS = {"3": "1.2.752.74.8.3", "2": "1.2.752.74.8.2"}
# The card number rides in subjectAltName as a directoryName whose serialNumber is the number
# printed on the card: standard attributes only, which every X.509 decoder reads.


class Profile(StrEnum):
    AUTHENTICATION = "auth"
    SIGNATURE = "signature"
    ADDITIONAL = "additional"


@dataclass(frozen=True)
class Endpoints:
    """Where relying parties find revocation status and issuer certificates for one CA."""

    crl_url: str
    ocsp_url: str
    issuer_cert_url: str


def hash_for(key: CertificateIssuerPrivateKeyTypes) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def ca_name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_ids(
    public: CertificatePublicKeyTypes, issuer: x509.Certificate | None
) -> list[x509.ExtensionType]:
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    if issuer is None:
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    else:
        issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski)
    return [ski, aki]


def _usage(**flags: bool) -> x509.KeyUsage:
    names = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    ]
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})


def _endpoint_extensions(endpoints: Endpoints) -> list[x509.ExtensionType]:
    return [
        x509.CRLDistributionPoints(
            [
                x509.DistributionPoint(
                    [x509.UniformResourceIdentifier(endpoints.crl_url)], None, None, None
                )
            ]
        ),
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.OCSP,
                    x509.UniformResourceIdentifier(endpoints.ocsp_url),
                ),
                x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier(endpoints.issuer_cert_url),
                ),
            ]
        ),
    ]


def _build(
    *,
    subject: x509.Name,
    issuer_name: x509.Name,
    public: CertificatePublicKeyTypes,
    signing_key: CertificateIssuerPrivateKeyTypes,
    not_before: dt.datetime,
    not_after: dt.datetime,
    extensions: Sequence[tuple[x509.ExtensionType, bool]],
    serial: int | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hash_for(signing_key))  # type: ignore[arg-type]


def root_certificate(
    *,
    name: x509.Name,
    signing_key: CertificateIssuerPrivateKeyTypes,
    now: dt.datetime,
    years: int,
) -> x509.Certificate:
    public = signing_key.public_key()
    return _build(
        subject=name,
        issuer_name=name,
        public=public,
        signing_key=signing_key,
        not_before=now,
        not_after=now + dt.timedelta(days=365 * years + years // 4),
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=1), True),
            (_usage(key_cert_sign=True, crl_sign=True), True),
            *((ext, False) for ext in _key_ids(public, None)),
        ],
    )


def issuing_ca_certificate(
    *,
    name: x509.Name,
    public: CertificatePublicKeyTypes,
    root: x509.Certificate,
    root_key: CertificateIssuerPrivateKeyTypes,
    now: dt.datetime,
    years: int,
    root_endpoints: Endpoints,
    policy_oid: str,
) -> x509.Certificate:
    not_after = min(now + dt.timedelta(days=365 * years + years // 4), root.not_valid_after_utc)
    return _build(
        subject=name,
        issuer_name=root.subject,
        public=public,
        signing_key=root_key,
        not_before=now,
        not_after=not_after,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (_usage(key_cert_sign=True, crl_sign=True), True),
            *((ext, False) for ext in _key_ids(public, root)),
            (
                x509.CertificatePolicies(
                    [x509.PolicyInformation(x509.ObjectIdentifier(policy_oid), None)]
                ),
                False,
            ),
            *((ext, False) for ext in _endpoint_extensions(root_endpoints)),
        ],
    )


def ocsp_responder_certificate(
    *,
    name: x509.Name,
    public: CertificatePublicKeyTypes,
    issuer: x509.Certificate,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    now: dt.datetime,
    days: int,
) -> x509.Certificate:
    """A delegated OCSP signer (RFC 6960 4.2.2.2) with id-pkix-ocsp-nocheck, so relying
    parties do not ask about the responder's own status."""
    not_after = min(now + dt.timedelta(days=days), issuer.not_valid_after_utc)
    return _build(
        subject=name,
        issuer_name=issuer.subject,
        public=public,
        signing_key=issuer_key,
        not_before=now,
        not_after=not_after,
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_usage(digital_signature=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), False),
            (x509.OCSPNoCheck(), False),
            *((ext, False) for ext in _key_ids(public, issuer)),
        ],
    )


@dataclass(frozen=True)
class Holder:
    given_name: str
    family_name: str
    hsa_id: str
    card_number: str
    organisation: str


def holder_name(holder: Holder) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, holder.organisation),
            x509.NameAttribute(NameOID.GIVEN_NAME, holder.given_name),
            x509.NameAttribute(NameOID.SURNAME, holder.family_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{holder.given_name} {holder.family_name}"),
            # The HSA-id in serialNumber, as SITHS does (NOTES.md).
            x509.NameAttribute(NameOID.SERIAL_NUMBER, holder.hsa_id),
        ]
    )


def _card_number_san(card_number: str) -> x509.SubjectAlternativeName:
    return x509.SubjectAlternativeName(
        [x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, card_number)]))]
    )


def _profile_usage(
    profile: Profile, public: CertificatePublicKeyTypes
) -> list[tuple[x509.ExtensionType, bool]]:
    if profile is Profile.SIGNATURE:
        return [(_usage(content_commitment=True), True)]
    is_ec = isinstance(public, ec.EllipticCurvePublicKey)
    usage = _usage(digital_signature=True, key_encipherment=not is_ec)
    ekus = [ExtendedKeyUsageOID.CLIENT_AUTH, SMARTCARD_LOGON]
    return [(usage, True), (x509.ExtendedKeyUsage(ekus), False)]


def card_certificate(
    *,
    profile: Profile,
    holder: Holder,
    public: CertificatePublicKeyTypes,
    issuer: x509.Certificate,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    now: dt.datetime,
    not_after: dt.datetime,
    endpoints: Endpoints,
    policy_oid: str,
    serial: int | None = None,
) -> x509.Certificate:
    """A certificate for a key on the card. Validity never exceeds the card's or the issuer's."""
    end = min(not_after, issuer.not_valid_after_utc)
    if end <= now:
        raise ValueError("The card's validity has ended; no certificate can be issued for it.")
    return _build(
        subject=holder_name(holder),
        issuer_name=issuer.subject,
        public=public,
        signing_key=issuer_key,
        not_before=now,
        not_after=end,
        serial=serial,
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            *_profile_usage(profile, public),
            (_card_number_san(holder.card_number), False),
            (
                x509.CertificatePolicies(
                    [x509.PolicyInformation(x509.ObjectIdentifier(policy_oid), None)]
                ),
                False,
            ),
            *((ext, False) for ext in _key_ids(public, issuer)),
            *((ext, False) for ext in _endpoint_extensions(endpoints)),
        ],
    )
