"""Building X.509 certificates: the CA hierarchy and the card profiles (RFC 5280).

Plain functions on `cryptography`. Keys come from a key backend as signing-only objects; the
card's public keys come from the card. Names, algorithms and validity are settings
(`EKORT_CA`, see docs/pki.md).
"""

from __future__ import annotations

import datetime as dt
import re
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
# Microsoft's user principal name, an otherName in subjectAltName: the account Windows logs on
# with the card (docs/pki.md, "Windows smart card logon").
USER_PRINCIPAL_NAME = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?=.{{1,253}}$)({_LABEL}\.)*[A-Za-z]{{2,63}}")
# Assurance levels as certificate policies under the SITHS arc (docs/domain-notes.md,
# "Certificates"); configurable.
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


def _endpoint_extensions(endpoints: Endpoints, *, ocsp: bool = True) -> list[x509.ExtensionType]:
    """CRL distribution point and AIA; the AIA names an OCSP responder only with `ocsp`."""
    access = [
        x509.AccessDescription(
            x509.AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(endpoints.issuer_cert_url),
        ),
    ]
    if ocsp:
        access.insert(
            0,
            x509.AccessDescription(
                x509.AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(endpoints.ocsp_url),
            ),
        )
    return [
        x509.CRLDistributionPoints(
            [
                x509.DistributionPoint(
                    [x509.UniformResourceIdentifier(endpoints.crl_url)], None, None, None
                )
            ]
        ),
        x509.AuthorityInformationAccess(access),
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
            # No OCSP address: the root has no responder (it signs nothing but CA certificates
            # and its CRL), so relying parties check an issuing CA on the root's CRL.
            *((ext, False) for ext in _endpoint_extensions(root_endpoints, ocsp=False)),
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


_COUNTRY = x509.NameAttribute(NameOID.COUNTRY_NAME, "SE")


def _holder_attributes(holder: Holder) -> list[x509.NameAttribute[str]]:
    """The subject's attributes, in writing order."""
    return [
        _COUNTRY,
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, holder.organisation),
        x509.NameAttribute(NameOID.GIVEN_NAME, holder.given_name),
        x509.NameAttribute(NameOID.SURNAME, holder.family_name),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{holder.given_name} {holder.family_name}"),
        # The HSA-id in serialNumber, as SITHS does (docs/domain-notes.md).
        x509.NameAttribute(NameOID.SERIAL_NUMBER, holder.hsa_id),
    ]


def holder_name(holder: Holder) -> x509.Name:
    return x509.Name(_holder_attributes(holder))


def check_upn_domain(domain: str) -> str:
    """A DNS domain for the UPN (`EKORT_CA_UPN_DOMAIN`), or "" for none; ValueError if not."""
    if domain and not _DOMAIN.fullmatch(domain):
        raise ValueError(f"The UPN domain must be a DNS domain such as region.se, not {domain!r}.")
    return domain


def _utf8_string(text: str) -> bytes:
    """DER of a UTF8String: the value of a UPN otherName."""
    body = text.encode()
    if len(body) < 0x80:
        return b"\x0c" + bytes([len(body)]) + body
    length = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return b"\x0c" + bytes([0x80 | len(length)]) + length + body


def _card_san(card_number: str, upn: str = "") -> x509.SubjectAlternativeName:
    """The card number, as a directoryName, and with `upn` the holder's UPN (smart card
    logon)."""
    names: list[x509.GeneralName] = [
        x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, card_number)]))
    ]
    if upn:
        names.append(x509.OtherName(USER_PRINCIPAL_NAME, _utf8_string(upn)))
    return x509.SubjectAlternativeName(names)


def _profile_usage(
    profile: Profile, public: CertificatePublicKeyTypes
) -> list[tuple[x509.ExtensionType, bool]]:
    if profile is Profile.SIGNATURE:
        return [(_usage(content_commitment=True), True)]
    is_ec = isinstance(public, ec.EllipticCurvePublicKey)
    usage = _usage(digital_signature=True, key_encipherment=not is_ec)
    ekus = [ExtendedKeyUsageOID.CLIENT_AUTH, SMARTCARD_LOGON]
    return [(usage, True), (x509.ExtendedKeyUsage(ekus), False)]


# The two extensions of a card certificate that differ from card to card; every other one is
# the same for all certificates of one profile from one issuer.
_PER_CARD = (x509.OID_SUBJECT_ALTERNATIVE_NAME, x509.OID_SUBJECT_KEY_IDENTIFIER)


def _card_extensions(
    profile: Profile,
    public: CertificatePublicKeyTypes,
    card_number: str,
    issuer: x509.Certificate,
    endpoints: Endpoints,
    policy_oid: str,
    upn: str = "",
) -> list[tuple[x509.ExtensionType, bool]]:
    """A card certificate's extensions, in the order they are written."""
    return [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        *_profile_usage(profile, public),
        (_card_san(card_number, upn), False),
        (
            x509.CertificatePolicies(
                [x509.PolicyInformation(x509.ObjectIdentifier(policy_oid), None)]
            ),
            False,
        ),
        *((ext, False) for ext in _key_ids(public, issuer)),
        *((ext, False) for ext in _endpoint_extensions(endpoints)),
    ]


@dataclass(frozen=True)
class IssuedCertificate:
    """A card certificate and its subject as RFC 4514 text, which the certificate's row keeps
    (worked out from the name the certificate was made with, not parsed back from it)."""

    certificate: x509.Certificate
    subject: str


@dataclass(frozen=True)
class CardTemplate:
    """What the certificates of one profile from one issuer share, worked out once.

    The extensions that are the same on every card are encoded once and passed to the builder
    as `UnrecognizedExtension`s, whose value `cryptography` writes as given: the certificate's
    bytes are the same as with the typed extensions (tests/pki/test_card_template.py compares
    them), and a batch of cards does not encode the same eight extensions a thousand times.
    The builder is made in one step with all its extensions, not by adding them one at a time
    (each addition copies the builder and compares the new extension with those before it): a
    certificate took 146 µs to issue that way and 135 µs this way (`bench issuance`'s card).
    """

    profile: Profile
    issuer_name: x509.Name
    issuer_end: dt.datetime
    issuer_key: CertificateIssuerPrivateKeyTypes
    hash: hashes.HashAlgorithm
    for_ec_keys: bool
    # The UPN's domain ("" for no UPN): the UPN is the holder's HSA-id at it.
    upn_domain: str
    # In writing order; the extension is None where a per-card one goes (`_PER_CARD`).
    extensions: tuple[
        tuple[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType] | None, bool], ...
    ]

    def issue(
        self,
        *,
        holder: Holder,
        public: CertificatePublicKeyTypes,
        now: dt.datetime,
        not_after: dt.datetime,
        serial: int | None = None,
    ) -> x509.Certificate:
        """A certificate for a key on the card. Validity never exceeds the card's or the
        issuer's."""
        return self.issue_with_subject(
            holder=holder, public=public, now=now, not_after=not_after, serial=serial
        ).certificate

    def issue_with_subject(
        self,
        *,
        holder: Holder,
        public: CertificatePublicKeyTypes,
        now: dt.datetime,
        not_after: dt.datetime,
        serial: int | None = None,
    ) -> IssuedCertificate:
        """`issue`, with the subject's RFC 4514 text."""
        if isinstance(public, ec.EllipticCurvePublicKey) != self.for_ec_keys:
            raise ValueError("This template is for another kind of card key.")
        end = min(not_after, self.issuer_end)
        if end <= now:
            raise ValueError("The card's validity has ended; no certificate can be issued for it.")
        attributes = _holder_attributes(holder)
        extensions = [
            extension or x509.Extension(oid, critical, self._per_card(oid, holder, public))
            for oid, extension, critical in self.extensions
        ]
        builder = x509.CertificateBuilder(
            issuer_name=self.issuer_name,
            subject_name=x509.Name(attributes),
            public_key=public,
            serial_number=serial or x509.random_serial_number(),
            not_valid_before=now,
            not_valid_after=end,
            extensions=extensions,
        )
        certificate = builder.sign(self.issuer_key, self.hash)  # type: ignore[arg-type]
        # RFC 4514 writes the attributes last to first, each as `Name.rfc4514_string` would.
        subject = ",".join(attribute.rfc4514_string() for attribute in reversed(attributes))
        return IssuedCertificate(certificate, subject)

    def _per_card(
        self, oid: x509.ObjectIdentifier, holder: Holder, public: CertificatePublicKeyTypes
    ) -> x509.ExtensionType:
        if oid == x509.OID_SUBJECT_ALTERNATIVE_NAME:
            upn = f"{holder.hsa_id}@{self.upn_domain}" if self.upn_domain else ""
            return _card_san(holder.card_number, upn)
        return x509.SubjectKeyIdentifier.from_public_key(public)


def card_template(
    *,
    profile: Profile,
    public: CertificatePublicKeyTypes,
    issuer: x509.Certificate,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    endpoints: Endpoints,
    policy_oid: str,
    upn_domain: str = "",
) -> CardTemplate:
    """The template for certificates of `profile` from `issuer` for keys like `public`. With
    `upn_domain`, each certificate names its holder for Windows smart card logon: a UPN, the
    holder's HSA-id at that domain, in subjectAltName beside the card number (for a profile
    with the smartcardLogon EKU)."""
    check_upn_domain(upn_domain)
    extensions: list[
        tuple[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType] | None, bool]
    ] = []
    for extension, critical in _card_extensions(
        profile, public, "0", issuer, endpoints, policy_oid
    ):
        oid = extension.oid
        if oid in _PER_CARD:
            extensions.append((oid, None, critical))
        else:
            encoded = x509.UnrecognizedExtension(oid, extension.public_bytes())
            extensions.append((oid, x509.Extension(oid, critical, encoded), critical))
    return CardTemplate(
        profile=profile,
        issuer_name=issuer.subject,
        issuer_end=issuer.not_valid_after_utc,
        issuer_key=issuer_key,
        hash=hash_for(issuer_key),
        for_ec_keys=isinstance(public, ec.EllipticCurvePublicKey),
        upn_domain=upn_domain,
        extensions=tuple(extensions),
    )


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
    upn_domain: str = "",
) -> x509.Certificate:
    """A certificate for a key on the card. Validity never exceeds the card's or the issuer's.
    For many cards, make the template once (`card_template`) and issue from it."""
    template = card_template(
        profile=profile,
        public=public,
        issuer=issuer,
        issuer_key=issuer_key,
        endpoints=endpoints,
        policy_oid=policy_oid,
        upn_domain=upn_domain,
    )
    return template.issue(holder=holder, public=public, now=now, not_after=not_after, serial=serial)
