"""Publishing revocation status: pre-signed OCSP responses and full CRLs.

`refresh_responses` signs a fresh OCSP response for each certificate whose status changed and
stores it, so that the responder only looks bytes up. Callers schedule it with
`transaction.on_commit`, so relying parties never see a status the database does not hold.

One status is not signed ahead: a certificate on hold since its card was produced
(`note_issued_on_hold`). Nobody can use such a card before it is activated, and activation
signs its "good" response, so a response signed at production would be signed for nobody;
in bulk production it cost more than the certificate itself. The responder answers the rare
question about one from the database, signed on demand (`ekort.responder.signing`), and the
CRL lists it.

A certificate's status changes in one place, `change_status`, whoever changes it (a block, a
deadline sweep, a replacement, an activation, the holder's self-service). In the change's own
transaction it moves the status revision of the certificates' issuers on, once per call
(`_revisions_moved`): the revision commits with the statuses, so the responder drops every
answer it signed on demand and cached for those CAs at its first poll after the commit, even
before the new responses are signed, and the publisher builds their next CRL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from ekort.domain.revocation_reasons import HOLD
from ekort.domain.timekeeping import require_aware
from ekort.pki import crl as crl_encoding
from ekort.pki import ocsp as ocsp_encoding
from ekort.store.models import Certificate, CertificateAuthority, Crl, OcspResponse
from ekort.store.sets import Ids, upsert_rows

from .authority import (
    ca_settings,
    certificate_of,
    renew_responders,
    responder_for,
    signing_key_of,
)

Status = Certificate.Status
# The CAs whose certificates ekort records (the cards'): the ones whose status revision moves.
CARD_ISSUERS = (CertificateAuthority.Role.ISSUING, CertificateAuthority.Role.FOREIGN)


def ocsp_status(cert: Certificate) -> tuple[Any, datetime | None, x509.ReasonFlags | None]:
    if cert.status == Status.VALID:
        return ocsp_encoding.CertStatus.GOOD, None, None
    reason = HOLD if cert.status == Status.ON_HOLD else cert.revocation_reason
    revoked_at = cert.revoked_at or cert.status_changed_at
    flag = x509.ReasonFlags[reason] if reason and reason != "unspecified" else None
    return ocsp_encoding.CertStatus.REVOKED, revoked_at, flag


def _next_revision(ca_id: int) -> int:
    ca = CertificateAuthority.objects.select_for_update().get(pk=ca_id)
    ca.status_revision += 1
    ca.save(update_fields=["status_revision"])
    return ca.status_revision


def refresh_responses(certificate_ids: Iterable[int], now: datetime) -> int:
    """Sign and store the current OCSP response of each certificate; returns how many."""
    require_aware(now)
    validity = timedelta(hours=ca_settings().ocsp_response_validity_hours)
    by_issuer: dict[int, list[Certificate]] = defaultdict(list)
    ids = list(certificate_ids)
    for start in range(0, len(ids), 5000):
        for cert in Certificate.objects.filter(pk__in=ids[start : start + 5000]).only(
            "pk",
            "issuer_id",
            "serial",
            "status",
            "status_changed_at",
            "revoked_at",
            "revocation_reason",
        ):
            by_issuer[cert.issuer_id].append(cert)
    done = 0
    for issuer_id, certs in by_issuer.items():
        ca = CertificateAuthority.objects.get(pk=issuer_id)
        responder = responder_for(ca)
        context = ocsp_encoding.make_responder_context(
            certificate_of(ca), certificate_of(responder), signing_key_of(responder)
        )
        rows = []
        for cert in certs:
            status, revoked_at, reason = ocsp_status(cert)
            der = ocsp_encoding.build_response(
                context=context,
                serial=int(cert.serial, 16),
                status=status,
                revoked_at=revoked_at,
                reason=reason,
                this_update=now,
                next_update=now + validity,
            )
            rows.append((cert.serial, der))
        with transaction.atomic():
            revision = _next_revision(issuer_id)
            upsert_rows(
                OcspResponse,
                ["issuer", "serial", "der", "this_update", "next_update", "revision"],
                ["issuer", "serial"],
                [(issuer_id, serial, der, now, now + validity, revision) for serial, der in rows],
            )
        done += len(rows)
    return done


def _revisions_moved(issuer_ids: Collection[int]) -> None:
    """In the caller's transaction, with the statuses it wrote or the certificates it issued:
    move the status revision of each of `issuer_ids` on by one. It commits with them, so
    whatever reads a revision also reads them: the responder drops every answer it signed on
    demand and cached for these CAs at its next poll, and `publish_due` builds their next CRL.

    Every issuer of card certificates is locked first, in id order, each time: a transaction
    that changes statuses in several steps (activating a set of cards of both assurance levels,
    swapping an additional certificate for another region's) then never holds one CA while it
    waits for another that a second transaction holds. The rows stay locked to the commit,
    like the audit head, which every such transaction locks after them."""
    if not issuer_ids:
        return
    ids = sorted(set(issuer_ids))
    authorities = CertificateAuthority.objects.filter(Q(role__in=CARD_ISSUERS) | Q(pk__in=ids))
    list(authorities.select_for_update().order_by("pk").values_list("pk", flat=True))
    CertificateAuthority.objects.filter(pk__in=ids).update(status_revision=F("status_revision") + 1)


def note_issued_on_hold(issuer_ids: Iterable[int]) -> None:
    """In the caller's transaction, after certificates were issued on hold: move each issuer's
    status revision on, so that the next CRL lists them (`publish_due`) and the responder drops
    any "unknown" it signed and cached for their serials before they existed. No OCSP
    response is signed for them (see the module's docstring)."""
    _revisions_moved(set(issuer_ids))


def note_issued(certificate: Certificate, now: datetime) -> None:
    """In the caller's transaction, after `certificate` was issued good (the holder's
    signature or additional certificate): its issuer's revision moves on, and its response is
    signed when the transaction commits."""
    _revisions_moved({certificate.issuer_id})
    _sign_on_commit([certificate.pk], now)


def change_status(
    certificates: QuerySet[Certificate],
    now: datetime,
    *,
    status: str,
    reason: str = "",
    sign_held: bool = True,
    **also: Any,
) -> list[int]:
    """Give `certificates` the new `status` (with `reason` when revoked, and the fields of
    `also`) in the caller's transaction: the one writer of a recorded certificate's status.
    Returns the ids of those it changed.

    The issuers' status revision moves on once in the same transaction (`_revisions_moved`),
    for any number of certificates, and their new OCSP responses are signed when it commits.
    With `sign_held=False` (the deadline sweeps, a million at a time) the response of one
    that was on hold is left to the publisher (`reconcile`, run by `ekort jobs run` right
    after the sweeps and by `ekort ca publish`): it never had a stored response, so the
    responder answers it on demand from the database meanwhile, with the new status."""
    require_aware(now)
    rows = list(certificates.values_list("pk", "issuer_id", "status"))
    ids = Ids(pk for pk, _, _ in rows)
    fields: dict[str, Any] = {"status": status, "status_changed_at": now, **also}
    if status == Status.REVOKED:
        fields.update(revoked_at=now, revocation_reason=reason or "unspecified")
    Certificate.objects.filter(pk__any_of=ids).update(**fields)
    _revisions_moved({issuer_id for _, issuer_id, _ in rows})
    signed = ids if sign_held else [pk for pk, _, was in rows if was != Status.ON_HOLD]
    _sign_on_commit(signed, now)
    return list(ids)


def _sign_on_commit(certificate_ids: Iterable[int], now: datetime) -> None:
    ids = list(certificate_ids)
    if ids:
        transaction.on_commit(lambda: refresh_responses(ids, now))


def refresh_expiring(now: datetime, *, margin: timedelta = timedelta(hours=6)) -> int:
    """Re-sign responses that would expire within `margin` (the scheduled refresh)."""
    expiring = OcspResponse.objects.filter(
        issuer_id=OuterRef("issuer_id"), serial=OuterRef("serial"), next_update__lt=now + margin
    )
    ids = Certificate.objects.filter(Exists(expiring)).values_list("pk", flat=True)
    return refresh_responses(list(ids.iterator(chunk_size=20000)), now)


def build_crl(ca: CertificateAuthority, now: datetime) -> Crl:
    """A full CRL of `ca`: revoked and on-hold certificates that have not expired."""
    require_aware(now)
    # Read the revision before the entries: a revocation that lands in between makes the CRL
    # look stale and it is simply built again, never the other way round.
    revision = CertificateAuthority.objects.get(pk=ca.pk).status_revision
    rows = (
        Certificate.objects.filter(issuer=ca, not_after__gt=now)
        .exclude(status=Status.VALID)
        .values_list("serial", "status", "revoked_at", "status_changed_at", "revocation_reason")
    )
    entries = []
    for serial, status, revoked_at, changed_at, reason in rows.iterator(chunk_size=20000):
        code = HOLD if status == Status.ON_HOLD else reason
        flag = x509.ReasonFlags[code] if code and code != "unspecified" else None
        entries.append(crl_encoding.RevokedEntry(int(serial, 16), revoked_at or changed_at, flag))
    with transaction.atomic():
        locked = CertificateAuthority.objects.select_for_update().get(pk=ca.pk)
        locked.crl_number += 1
        locked.save(update_fields=["crl_number"])
        validity = timedelta(hours=ca_settings().crl_validity_hours)
        der = crl_encoding.build_crl(
            issuer_cert=certificate_of(ca),
            signing_key=signing_key_of(ca),
            entries=entries,
            number=locked.crl_number,
            this_update=now,
            next_update=now + validity,
        )
        return Crl.objects.create(
            issuer=ca,
            number=locked.crl_number,
            this_update=now,
            next_update=now + validity,
            der=der,
            entries=len(entries),
            status_revision=revision,
        )


def latest_crl(ca: CertificateAuthority) -> Crl | None:
    return Crl.objects.filter(issuer=ca).order_by("-number").first()


CRL_ISSUERS = (
    CertificateAuthority.Role.ROOT,
    CertificateAuthority.Role.ISSUING,
    CertificateAuthority.Role.FOREIGN,
)


def crl_issuers(now: datetime) -> list[CertificateAuthority]:
    """The CAs that sign CRLs at `now`: every CRL issuer that has not ended. A CA renewed
    (`authority.renew_issuing_ca`) stays one until it ends; every certificate it issued has
    ended by then too (none outlives its issuer), so a CRL from it would tell nobody anything."""
    require_aware(now)
    return list(
        CertificateAuthority.objects.filter(role__in=CRL_ISSUERS, not_after__gt=now).order_by("pk")
    )


def publish_due(
    now: datetime,
    *,
    debounce: timedelta = timedelta(seconds=30),
    margin: timedelta = timedelta(hours=2),
) -> list[Crl]:
    """Build the CRLs that are due: none yet, a revocation since the last one (at most one CRL
    per `debounce`, so a burst of blocks makes one CRL, not hundreds), or the last one's
    nextUpdate less than `margin` away. Also re-signs OCSP responses that are about to expire."""
    require_aware(now)
    for ca in renew_responders(now):
        # Every stored response of that CA is signed again, by the new signer.
        stored = OcspResponse.objects.filter(issuer=ca, serial=OuterRef("serial"))
        resign = Certificate.objects.filter(Exists(stored), issuer=ca).values_list("pk", flat=True)
        refresh_responses(list(resign.iterator(chunk_size=20000)), now)
    reconcile(now)
    built = []
    for ca in crl_issuers(now):
        latest = latest_crl(ca)
        if (
            latest is None
            or latest.next_update - now < margin
            or (
                ca.status_revision > latest.status_revision and now - latest.this_update >= debounce
            )
        ):
            built.append(build_crl(ca, now))
    refresh_expiring(now)
    return built


def reconcile(now: datetime) -> int:
    """Sign responses for certificates whose status changed after their stored response was
    signed, or that have none: what a process killed between a commit and its on-commit
    refresh left behind. A certificate on hold with no response is left alone: it has been on
    hold since production and is answered on demand (`note_issued_on_hold`). Run before the
    CRLs, so that both agree with the database."""
    stored = OcspResponse.objects.filter(issuer_id=OuterRef("issuer_id"), serial=OuterRef("serial"))
    stale = (
        Certificate.objects.annotate(signed_at=Subquery(stored.values("this_update")[:1]))
        .filter(
            (Q(signed_at__isnull=True) & ~Q(status=Status.ON_HOLD))
            | Q(signed_at__lt=F("status_changed_at"))
        )
        .values_list("pk", flat=True)
    )
    return refresh_responses(list(stale.iterator(chunk_size=20000)), now)
