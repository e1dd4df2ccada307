"""The CA hierarchy: a root, one issuing CA per assurance level, an OCSP signer per issuing CA,
and (in the demo) another region's issuer for additional certificates (R13)."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import transaction

from ekort.domain.errors import InvalidInput, NotFound
from ekort.domain.timekeeping import require_aware
from ekort.pki.certificates import (
    DEFAULT_POLICY_OIDS,
    Endpoints,
    ca_name,
    issuing_ca_certificate,
    ocsp_responder_certificate,
    root_certificate,
)
from ekort.pki.keys import KeyAlgorithm
from ekort.store.models import CertificateAuthority

from .. import audit
from .backends import backend_for, key_backend

Role = CertificateAuthority.Role


def slug(ca: CertificateAuthority) -> str:
    """The CA's name as it appears in URLs: 'ekort-e-id-person-id-3-ca-v1'."""
    return re.sub(r"[^a-z0-9]+", "-", ca.name.lower()).strip("-")


def endpoints(ca: CertificateAuthority) -> Endpoints:
    """Where the certificates that `ca` issues point relying parties (CDP and AIA)."""
    name = slug(ca)
    return Endpoints(
        crl_url=f"{settings.EKORT_PUBLIC_URL}/pki/crl/{name}.crl",
        ocsp_url=f"{settings.EKORT_OCSP_URL}/ocsp/{name}",
        issuer_cert_url=f"{settings.EKORT_PUBLIC_URL}/pki/ca/{name}.crt",
    )


@lru_cache(maxsize=64)
def _parsed(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def certificate_of(ca: CertificateAuthority) -> x509.Certificate:
    return _parsed(bytes(ca.certificate_der))


def signing_key_of(ca: CertificateAuthority) -> Any:
    return backend_for(ca.key_ref).signing_key(_key_ref(ca))


def _key_ref(ca: CertificateAuthority) -> Any:
    from ekort.pki.keys import KeyRef

    return KeyRef.parse(ca.key_ref)


def _store(
    cert: x509.Certificate,
    *,
    name: str,
    role: str,
    key_ref: str,
    level: str = "",
    parent: CertificateAuthority | None = None,
) -> CertificateAuthority:
    # The CertID key hash is SHA-1 over the subjectPublicKey BIT STRING, not the whole SPKI:
    # the same digest as RFC 5280's method 1 for the subject key identifier.
    key_bits = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    return CertificateAuthority.objects.create(
        name=name,
        role=role,
        assurance_level=level,
        parent=parent,
        key_ref=key_ref,
        certificate_der=cert.public_bytes(serialization.Encoding.DER),
        key_sha1=key_bits.hex(),
        name_sha1=hashlib.sha1(cert.subject.public_bytes(), usedforsecurity=False).hexdigest(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


@dataclass(frozen=True)
class CaSettings:
    """EKORT_CA from settings, typed (defaults and meanings in docs/pki.md)."""

    region: str
    organisation_number: str
    root_name: str
    issuing_names: dict[str, str]
    root_algorithm: str
    issuing_algorithm: str
    root_validity_years: int
    issuing_validity_years: int
    ocsp_validity_days: int
    crl_validity_hours: int
    ocsp_response_validity_hours: int
    upn_domain: str = ""


def ca_settings() -> CaSettings:
    config: dict[str, Any] = settings.EKORT_CA
    return CaSettings(**config)


@dataclass(frozen=True)
class Hierarchy:
    root: CertificateAuthority
    issuing: dict[str, CertificateAuthority]  # by assurance level
    responders: dict[str, CertificateAuthority]  # OCSP signer per issuing CA, by level


def _label(name: str) -> str:
    """A key label from the CA's name plus a random suffix: a re-created CA never collides
    with (or overwrites) an old key."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:80]
    return f"{base}-{uuid.uuid4().hex[:8]}"


def _new_responder(
    ca: CertificateAuthority, issuer_key: Any, now: datetime, *, name: str
) -> CertificateAuthority:
    """A delegated OCSP signer for `ca`: a new key in the backend and a certificate from `ca`."""
    config = ca_settings()
    backend = key_backend()
    issuer_cert = certificate_of(ca)
    ref = backend.create_key(_label(name), KeyAlgorithm(config.issuing_algorithm))
    cert = ocsp_responder_certificate(
        name=ca_name(f"{ca.name} OCSP", _organisation(issuer_cert)),
        public=backend.public_key(ref),
        issuer=issuer_cert,
        issuer_key=issuer_key,
        now=now,
        days=config.ocsp_validity_days,
    )
    return _store(
        cert, name=name, role=Role.OCSP, key_ref=str(ref), level=ca.assurance_level, parent=ca
    )


def init_hierarchy(*, now: datetime, actor: str = "ekort ca init") -> Hierarchy:
    """Create the root, the LoA3 and LoA2 issuing CAs and their OCSP signers. Refuses to run
    twice: a CA is never silently replaced."""
    require_aware(now)
    config = ca_settings()
    if CertificateAuthority.objects.filter(role=Role.ROOT).exists():
        raise InvalidInput("The CA hierarchy exists already; `ekort ca show` lists it.")
    backend = key_backend()
    organisation = config.region
    with transaction.atomic():
        root_ref = backend.create_key(_label(config.root_name), KeyAlgorithm(config.root_algorithm))
        root_key = backend.signing_key(root_ref)
        root_cert = root_certificate(
            name=ca_name(config.root_name, organisation),
            signing_key=root_key,
            now=now,
            years=config.root_validity_years,
        )
        root = _store(root_cert, name=config.root_name, role=Role.ROOT, key_ref=str(root_ref))
        issuing: dict[str, CertificateAuthority] = {}
        responders: dict[str, CertificateAuthority] = {}
        for level, name in config.issuing_names.items():
            ref = backend.create_key(_label(name), KeyAlgorithm(config.issuing_algorithm))
            cert = issuing_ca_certificate(
                name=ca_name(name, organisation),
                public=backend.public_key(ref),
                root=root_cert,
                root_key=root_key,
                now=now,
                years=config.issuing_validity_years,
                root_endpoints=endpoints(root),
                policy_oid=DEFAULT_POLICY_OIDS[level],
            )
            ca = _store(
                cert, name=name, role=Role.ISSUING, key_ref=str(ref), level=level, parent=root
            )
            issuing[level] = ca
            responders[level] = _new_responder(
                ca, backend.signing_key(ref), now, name=f"{name} OCSP"
            )
        audit.append(
            [
                audit.Change(
                    actor=actor,
                    action="ca_init",
                    object_type="ca",
                    object_id=str(root.pk),
                    at=now,
                    after={
                        "root": root.name,
                        "issuing": [ca.name for ca in issuing.values()],
                        "algorithms": [config.root_algorithm, config.issuing_algorithm],
                    },
                ),
            ]
        )
    return Hierarchy(root, issuing, responders)


def issuing_ca(level: str, now: datetime | None = None) -> CertificateAuthority:
    """The issuing CA that certifies cards at assurance level `level` at `now`: of those in
    force then, the newest (after `renew_issuing_ca`, the successor). Without `now`, the newest
    of all (for looking one up, not for issuing)."""
    every = CertificateAuthority.objects.filter(role=Role.ISSUING, assurance_level=level)
    in_force = every
    if now is not None:
        require_aware(now)
        in_force = every.filter(not_before__lte=now, not_after__gt=now)
    ca = in_force.order_by("-not_before", "-pk").first()
    if ca is not None:
        return ca
    if every.exists():
        raise NotFound(
            f"No issuing CA for assurance level {level} is in force now; an issuing CA is "
            "renewed (`ekort ca renew`) before it ends."
        )
    raise NotFound(
        f"There is no issuing CA for assurance level {level}; run `ekort ca init` first."
    )


def client_ca_chain() -> str:
    """The certificates of the root and of every issuing CA (a renewed one's predecessor too,
    whose cards are still out), in PEM: what the TLS proxy verifies the cards' certificates
    against when staff sign in with the card (deploy/nginx/ekort.conf, E16)."""
    cas = CertificateAuthority.objects.filter(role__in=[Role.ROOT, Role.ISSUING]).order_by("pk")
    return "".join(
        certificate_of(ca).public_bytes(serialization.Encoding.PEM).decode("ascii") for ca in cas
    )


def responder_for(ca: CertificateAuthority) -> CertificateAuthority:
    """The CA's current OCSP signer: the one that stays valid longest."""
    responder = (
        CertificateAuthority.objects.filter(role=Role.OCSP, parent=ca)
        .order_by("-not_after")
        .first()
    )
    if responder is None:
        raise NotFound(f"The CA {ca.name} has no OCSP signing certificate.")
    return responder


def _organisation(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(names[0].value) if names else ""


def renew_responders(
    now: datetime, *, margin: timedelta = timedelta(days=30)
) -> list[CertificateAuthority]:
    """Give every CA whose OCSP signer expires within `margin` a new signer (new key, new
    certificate). The old one stays on record; responses are signed by the new one from now
    on. Returns the CAs that got a new signer."""
    require_aware(now)
    renewed = []
    for ca in CertificateAuthority.objects.filter(role__in=[Role.ISSUING, Role.FOREIGN]):
        current = responder_for(ca)
        issuer_cert = certificate_of(ca)
        if (
            current.not_after - now > margin
            or issuer_cert.not_valid_after_utc <= now
            # In the CA's last weeks its signer lasts as long as the CA can: a new one would not.
            or current.not_after >= issuer_cert.not_valid_after_utc
        ):
            continue
        with transaction.atomic():
            name = f"{ca.name} OCSP {now:%Y-%m-%d %H%M%S}"
            _new_responder(ca, signing_key_of(ca), now, name=name)
            audit.append(
                [
                    audit.Change(
                        actor="ekort ca publish",
                        action="ocsp_signer_renewed",
                        object_type="ca",
                        object_id=str(ca.pk),
                        at=now,
                        after={"signer": name},
                    ),
                ]
            )
        renewed.append(ca)
    return renewed


def init_foreign_issuer(
    *, name: str, organisation: str, now: datetime, actor: str = "ekort demo"
) -> CertificateAuthority:
    """Another region's person CA, for the additional certificates on cards (R13). In real
    life that region runs it; here it exists so that the demo and tests have one."""
    require_aware(now)
    config = ca_settings()
    backend = key_backend()
    with transaction.atomic():
        ref = backend.create_key(_label(name), KeyAlgorithm(config.issuing_algorithm))
        key = backend.signing_key(ref)
        cert = root_certificate(
            name=ca_name(name, organisation),
            signing_key=key,
            now=now,
            years=config.issuing_validity_years,
        )
        ca = _store(cert, name=name, role=Role.FOREIGN, key_ref=str(ref), level="3")
        _new_responder(ca, key, now, name=f"{name} OCSP")
        audit.append(
            [
                audit.Change(
                    actor=actor,
                    action="ca_foreign",
                    object_type="ca",
                    object_id=str(ca.pk),
                    at=now,
                    after={"name": name},
                ),
            ]
        )
        return ca


def _successor_name(name: str) -> str:
    """'... CA v1' -> '... CA v2' (a name without a version gets ' v2'), the first one free."""
    match = re.fullmatch(r"(.*\bv)(\d+)", name)
    stem, version = (match.group(1), int(match.group(2))) if match else (f"{name} v", 1)
    while True:
        version += 1
        candidate = f"{stem}{version}"
        if not CertificateAuthority.objects.filter(name=candidate).exists():
            return candidate


def renew_issuing_ca(
    ca: CertificateAuthority, *, now: datetime, actor: str = "ekort ca renew"
) -> CertificateAuthority:
    """CA rollover: a successor for the issuing CA `ca`, with a new key (in the key backend)
    and a certificate from the root, named with the next version ('... CA v2') and so with
    URLs of its own; and an OCSP signer for it. From `now` on, new card certificates come from
    the successor (`issuing_ca`). `ca` stays: it goes on signing CRLs and OCSP answers for the
    certificates it issued until it ends, and they end with it at the latest.

    Refused for anything but an issuing CA in force that has no successor yet."""
    require_aware(now)
    config = ca_settings()
    backend = key_backend()
    with transaction.atomic():
        ca = CertificateAuthority.objects.select_for_update().get(pk=ca.pk)
        if ca.role != Role.ISSUING:
            raise InvalidInput(
                f"{ca.name} is not an issuing CA; `ekort ca renew` renews an issuing CA."
            )
        if ca.not_after <= now:
            raise InvalidInput(
                f"{ca.name} ended on {ca.not_after:%Y-%m-%d}: a CA is renewed before its end."
            )
        successor = CertificateAuthority.objects.filter(
            role=Role.ISSUING, assurance_level=ca.assurance_level, not_before__gt=ca.not_before
        ).first()
        if successor is not None:
            raise InvalidInput(f"{ca.name} was renewed already, as {successor.name}.")
        root = ca.parent
        assert root is not None
        root_cert = certificate_of(root)
        if root_cert.not_valid_after_utc <= now:
            raise InvalidInput(f"The root {root.name} has ended: it certifies no new CA.")
        name = _successor_name(ca.name)
        ref = backend.create_key(_label(name), KeyAlgorithm(config.issuing_algorithm))
        cert = issuing_ca_certificate(
            name=ca_name(name, _organisation(certificate_of(ca))),
            public=backend.public_key(ref),
            root=root_cert,
            root_key=signing_key_of(root),
            now=now,
            years=config.issuing_validity_years,
            root_endpoints=endpoints(root),
            policy_oid=DEFAULT_POLICY_OIDS[ca.assurance_level],
        )
        new = _store(
            cert,
            name=name,
            role=Role.ISSUING,
            key_ref=str(ref),
            level=ca.assurance_level,
            parent=root,
        )
        _new_responder(new, backend.signing_key(ref), now, name=f"{name} OCSP")
        audit.append(
            [
                audit.Change(
                    actor=actor,
                    action="ca_renewed",
                    object_type="ca",
                    object_id=str(ca.pk),
                    at=now,
                    before={"ca": ca.name, "not_after": ca.not_after.isoformat()},
                    after={
                        "ca": new.name,
                        "not_before": new.not_before.isoformat(),
                        "not_after": new.not_after.isoformat(),
                    },
                ),
            ]
        )
    return new
