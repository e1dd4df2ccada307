"""CRLs and CA certificates over HTTP, where the certificates' CDP and AIA point (RFC 5280).

Public, no login: relying parties fetch these without credentials. The paths are the ones
`ekort.services.ca.authority.endpoints()` writes into certificates:

- `GET /pki/crl/<slug>.crl`: the latest CRL of that CA, DER (`application/pkix-crl`),
- `GET /pki/ca/<slug>.crt`: the CA certificate, DER (`application/pkix-cert`, RFC 2585),
- `GET /pki/ca/<slug>.pem`: the same in PEM (`application/x-pem-file`).

OCSP is not here: it is its own process (`ekort ocsp serve`, `ekort.responder`).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import Encoding
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from ekort.services import clock
from ekort.services.ca.authority import certificate_of, slug
from ekort.services.ca.status import latest_crl
from ekort.store.models import CertificateAuthority

# Only CAs whose URLs appear in certificates are published: the root, the issuing CAs and
# another region's issuer, whose additional certificates (R13) are issued here with CDP and AIA
# pointing here (`issuance.issue_certificate`). The OCSP signers are not: the signer's
# certificate travels inside each OCSP response.
_PUBLISHED = (
    CertificateAuthority.Role.ROOT,
    CertificateAuthority.Role.ISSUING,
    CertificateAuthority.Role.FOREIGN,
)
# CA certificates change only when a CA is replaced, which gives it a new name and slug.
_CA_CERT_MAX_AGE = 86400
_CRL_MAX_AGE_CAP = 3600


def _ca(name: str) -> CertificateAuthority:
    for ca in CertificateAuthority.objects.filter(role__in=_PUBLISHED):
        if slug(ca) == name:
            return ca
    raise Http404(f"No CA is published as {name[:80]!r}.")


def _public(response: HttpResponse, max_age: int) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={max(0, max_age)}, no-transform"
    return response


@require_safe
def crl(request: HttpRequest, name: str) -> HttpResponse:
    ca = _ca(name)
    latest = latest_crl(ca)
    if latest is None:
        raise Http404(f"The CA {ca.name} has published no CRL yet.")
    response = HttpResponse(bytes(latest.der), content_type="application/pkix-crl")
    response["Content-Disposition"] = f'inline; filename="{name}.crl"'
    response["Last-Modified"] = http_date(latest.this_update.timestamp())
    response["Expires"] = http_date(latest.next_update.timestamp())
    until_next = int((latest.next_update - clock.now()).total_seconds())
    return _public(response, min(until_next, _CRL_MAX_AGE_CAP))


@require_safe
def ca_certificate_der(request: HttpRequest, name: str) -> HttpResponse:
    ca = _ca(name)
    response = HttpResponse(bytes(ca.certificate_der), content_type="application/pkix-cert")
    response["Content-Disposition"] = f'inline; filename="{name}.crt"'
    return _public(response, _CA_CERT_MAX_AGE)


@require_safe
def ca_certificate_pem(request: HttpRequest, name: str) -> HttpResponse:
    ca = _ca(name)
    pem = certificate_of(ca).public_bytes(Encoding.PEM)
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'inline; filename="{name}.pem"'
    return _public(response, _CA_CERT_MAX_AGE)
