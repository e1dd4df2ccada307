"""Utfärdare: the issuer administrator's own pages. The print queue (the letters not printed
yet, their PDFs, marking a print run done), the certificate authorities with their latest
CRLs, read only, and the API tokens (list, revoke).

Thin views over `ekort.services.print_queue` and the CA records. A letter's PDF may carry the PUK
(a PIN/PUK letter, a reserve card's code envelope): it goes out as a download that no cache
keeps, and no page ever holds a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from ekort.domain.errors import NotFound, Refused
from ekort.domain.vocabulary import LetterKind, Role
from ekort.services import clock, print_queue, tokens
from ekort.services.ca import authority, status
from ekort.store.models import CardOffice, CertificateAuthority, Crl, Letter

from .history_words import LETTER_KINDS
from .lists import PAGE, FilterForm, Listing, bound, listing, name_field, set_filters
from .page_access import RoleRequiredMixin
from .reading import Problem

ISSUER_ROLES = frozenset({Role.ISSUER_ADMIN})
PER_PAGE = 100  # letters per page of the queue: a print run, and a page that stays quick
RECENT_DAYS = 7
RECENT_MAX = 200  # the read-only table of recently printed letters shows at most this many
MAX_ID = 2**31 - 1


class IssuerView(RoleRequiredMixin, View):
    roles: ClassVar[frozenset[Role]] = ISSUER_ROLES


# --- Utskriftskö -----------------------------------------------------------------------------


class LetterIdsField(django_forms.Field):
    """The ticked letters: a list of letter ids from checkboxes that share one name."""

    widget = django_forms.MultipleHiddenInput  # reads every value of the name (getlist)
    default_error_messages = {
        "required": gettext_lazy("Välj minst ett brev att markera som utskrivet."),
        "invalid": gettext_lazy("Breven kunde inte läsas. Ladda om sidan och försök igen."),
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            ids = [int(v) for v in value]
        except (TypeError, ValueError) as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if any(not 1 <= i <= MAX_ID for i in ids):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return ids


class MarkPrintedForm(django_forms.Form):
    brev = LetterIdsField(label=gettext_lazy("Brev"))


@dataclass
class LetterRow:
    letter: Letter
    viewer: Any = None  # the issuer administrator looking at the queue
    problem: Problem | None = None

    @property
    def kind(self) -> str:
        return str(LETTER_KINDS.get(self.letter.kind, self.letter.kind))

    @property
    def carries_puk(self) -> bool:
        return print_queue.letter_carries_puk(self.letter)

    @property
    def awaits_approval(self) -> bool:
        """Sent again with the PUK, and not yet approved by a second person (E14)."""
        return print_queue.awaits_approval(self.letter)

    @property
    def ordered_by_viewer(self) -> bool:
        """The viewer ordered it for someone else's card, unapproved: another prints it (E14)."""
        return print_queue.printer_ordered_it(self.letter, self.viewer)

    @property
    def selectable(self) -> bool:
        return not self.awaits_approval and not self.ordered_by_viewer

    @property
    def may_download(self) -> bool:
        """A printed letter with the PUK is not rendered again (R14, R16); the service asks the
        same rules again, should the page be old."""
        return print_queue.print_decision(self.letter, self.viewer).allowed

    @property
    def reprint_rule(self) -> str:
        return print_queue.print_decision(self.letter, self.viewer).rule


class QueueFilterForm(FilterForm):
    """Which letters the queue shows: to a person of that name, of one kind, of one card
    office's cards (GET, in the URL: a name at most, never an identity number)."""

    namn = name_field(gettext_lazy("Mottagarens namn"))
    typ = django_forms.ChoiceField(label=gettext_lazy("Brevtyp"), required=False)
    kontor = django_forms.TypedChoiceField(
        label=gettext_lazy("Kortkontor"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = self.fields["typ"]
        offices = self.fields["kontor"]
        assert isinstance(kinds, django_forms.ChoiceField)
        assert isinstance(offices, django_forms.ChoiceField)
        kinds.choices = [("", _("Alla brevtyper"))] + [
            (kind.value, str(LETTER_KINDS.get(kind.value, kind.value))) for kind in LetterKind
        ]
        offices.choices = [("", _("Alla kortkontor"))] + [
            (office.pk, str(office)) for office in CardOffice.objects.order_by("town", "name")
        ]

    @property
    def kind(self) -> LetterKind | None:
        typed = self.cleaned_data.get("typ") if self.is_valid() else None
        return LetterKind(typed) if typed else None

    @property
    def office_id(self) -> int | None:
        return self.cleaned_data.get("kontor") if self.is_valid() else None

    @property
    def name(self) -> str:
        return str(self.cleaned_data.get("namn") or "") if self.is_valid() else ""


def _filters(request: HttpRequest) -> dict[str, str]:
    """The queue's filters as the URL carries them, those the form takes."""
    return set_filters(bound(QueueFilterForm, request.GET))


def _queue_url(page: int | str, filters: dict[str, str] | None = None, **more: str) -> str:
    """The queue's URL at a page, with its filters; the first page has no `sida`."""
    query = dict(filters or {})
    if str(page) not in ("", "1"):
        query[PAGE] = str(page)
    query.update(more)
    url = reverse("portal:issuer-queue")
    return f"{url}?{urlencode(query)}" if query else url


def render_queue(
    request: HttpRequest,
    *,
    form: MarkPrintedForm | None = None,
    problem: Problem | None = None,
    status: int = 200,
) -> HttpResponse:
    now = clock.now()
    filter_form = bound(QueueFilterForm, request.GET)
    queue = print_queue.waiting_letters(
        kind=filter_form.kind, office_id=filter_form.office_id, name=filter_form.name
    )
    page: Listing[Letter] = listing(
        request, queue, filter_form, per_page=PER_PAGE, path=reverse("portal:issuer-queue")
    )
    viewer = request.user
    waiting = [LetterRow(letter, viewer) for letter in page.rows]
    recent = [
        LetterRow(letter, viewer)
        for letter in print_queue.recently_printed(now, days=RECENT_DAYS)[:RECENT_MAX]
    ]
    withdrawn = [
        LetterRow(letter, viewer)
        for letter in print_queue.recently_withdrawn(now, days=RECENT_DAYS)[:RECENT_MAX]
    ]
    for row in waiting + recent:
        if problem is not None and row.letter.pk == problem.target:
            row.problem = problem
    counts = print_queue.waiting_counts()
    # "Välj alla på sidan" without JavaScript: the page again, every box ticked.
    select_all = request.GET.get("alla") == "1"
    context = {
        "listing": page,
        "page": page.page,
        "waiting": waiting,
        "summary": [
            (str(LETTER_KINDS.get(kind.value, kind.value)), counts[kind.value])
            for kind in LetterKind
            if counts.get(kind.value)
        ],
        "summary_total": sum(counts.values()),
        "selectable": sum(1 for row in waiting if row.selectable),
        "select_all": select_all,
        "select_all_url": page.url(page.page.number, alla="1") + "#vantar",
        "filter_form": filter_form,
        "filtered": page.filtered,
        "recent": recent,
        "recent_days": RECENT_DAYS,
        "recent_capped": len(recent) >= RECENT_MAX,
        "withdrawn": withdrawn,
        "form": form or MarkPrintedForm(),
        # Shown at the top of the page, where focus goes, whichever row it is about.
        "result_problem": problem,
        "this_url": page.url(page.page.number),
    }
    return render(request, "ekort/portal/issuer/queue.html", context, status=status)


class PrintQueueView(IssuerView):
    """GET: the queue, a page at a time, filtered by letter type and card office. POST: mark
    the ticked letters printed (PRG), back to the same page and filters."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return render_queue(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = MarkPrintedForm(request.POST)
        if not form.is_valid():
            return render_queue(request, form=form, status=400)
        chosen = form.cleaned_data["brev"]
        try:
            marked = print_queue.mark_printed(
                actor=request.user, letter_ids=chosen, now=clock.now()
            )
        except NotFound:
            form.add_error(
                "brev", _("Ett av breven finns inte längre. Ladda om sidan och försök igen.")
            )
            return render_queue(request, form=form, status=400)
        except Refused as exc:  # one of them waits for a second person's approval (E14)
            return render_queue(request, problem=Problem.refused("mark", 0, exc), status=409)
        if marked:
            messages.success(
                request,
                ngettext(
                    "%(n)d brev är markerat som utskrivet.",
                    "%(n)d brev är markerade som utskrivna.",
                    marked,
                )
                % {"n": marked},
            )
        withdrawn = print_queue.withdrawn_among(chosen)
        if withdrawn:
            # Blocked while the page was open: the letter is not to be sent.
            messages.warning(
                request,
                ngettext(
                    "%(n)d av de valda breven togs ur kön när kortet spärrades och markerades "
                    "inte. Skicka inte det brevet.",
                    "%(n)d av de valda breven togs ur kön när korten spärrades och markerades "
                    "inte. Skicka inte de breven.",
                    withdrawn,
                )
                % {"n": withdrawn},
            )
        elif not marked:
            messages.info(request, _("Inga brev markerades: de valda var redan utskrivna."))
        return HttpResponseRedirect(_queue_url(request.GET.get(PAGE, "1"), _filters(request)))


class LetterPdfView(IssuerView):
    """The letter as a PDF download. Refused for a printed letter that carries the PUK: the
    queue page then shows the rule next to the letter."""

    def get(self, request: HttpRequest, letter_id: int) -> HttpResponse:
        try:
            pdf = print_queue.letter_pdf(actor=request.user, letter_id=letter_id, now=clock.now())
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        except Refused as exc:
            return render_queue(request, problem=Problem.refused("pdf", letter_id, exc), status=409)
        response = HttpResponse(pdf, content_type="application/pdf")
        # The letter id only: no name or card number in a file name that lands in Downloads.
        response["Content-Disposition"] = f'attachment; filename="brev-{letter_id}.pdf"'
        response["Cache-Control"] = "no-store"  # it may carry a PUK
        return response


# --- API-nycklar ------------------------------------------------------------------------------

TOKEN_STATES: dict[str, Any] = {
    tokens.TokenState.LIVE: gettext_lazy("Gäller"),
    tokens.TokenState.EXPIRED: gettext_lazy("Utgången"),
    tokens.TokenState.REVOKED: gettext_lazy("Återkallad"),
}


class TokensView(IssuerView):
    """Every API token: whose, what for, issued, last used, until when, and whether it works;
    never the token or its digest. A live one can be revoked."""

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = tokens.list_tokens(actor=request.user, now=clock.now())
        context = {
            "rows": [(row, TOKEN_STATES[row.state]) for row in rows],
            "live": tokens.TokenState.LIVE,
        }
        return render(request, "ekort/portal/issuer/tokens.html", context)


class RevokeTokenView(IssuerView):
    """POST only: revoke a token at once (audited as `revoke_api_token`)."""

    def post(self, request: HttpRequest, token_id: int) -> HttpResponse:
        try:
            record = tokens.revoke_token(actor=request.user, token_id=token_id, now=clock.now())
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        messages.success(
            request,
            _("API-nyckeln är återkallad: %(name)s. Den fungerar inte längre.")
            % {"name": record.name},
        )
        return HttpResponseRedirect(reverse("portal:issuer-tokens"))


# --- Utfärdare och spärrlistor ---------------------------------------------------------------

CA_ROLES: dict[str, Any] = {
    CertificateAuthority.Role.ROOT: gettext_lazy("Rotutfärdare"),
    CertificateAuthority.Role.ISSUING: gettext_lazy("Utfärdande CA"),
    CertificateAuthority.Role.OCSP: gettext_lazy("OCSP-signerare"),
    CertificateAuthority.Role.FOREIGN: gettext_lazy("Annan regions utfärdare"),
}
# The CAs whose CRL and certificate are published (as in `pki_views`), and those whose
# certificates point relying parties to an OCSP responder.
PUBLISHED = frozenset(status.CRL_ISSUERS)
WITH_OCSP = frozenset({CertificateAuthority.Role.ISSUING, CertificateAuthority.Role.FOREIGN})


def key_algorithm(cert: x509.Certificate) -> str:
    """The public key's algorithm and size, as `ekort ca show` names it."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return type(key).__name__.removesuffix("PublicKey")
    return type(key).__name__


@dataclass(frozen=True)
class AuthorityRow:
    ca: CertificateAuthority
    role: str
    algorithm: str
    serial: str
    crl: Crl | None
    crl_stale: bool
    crl_url: str  # links on this host ...
    certificate_url: str
    public_crl_url: str  # ... and the addresses certificates carry (CDP, AIA)
    public_certificate_url: str
    ocsp_url: str
    signers: list[CertificateAuthority]


def authority_rows(now: datetime) -> list[AuthorityRow]:
    cas = list(CertificateAuthority.objects.select_related("parent").order_by("pk"))
    rows = []
    for ca in cas:
        if ca.role == CertificateAuthority.Role.OCSP:
            continue  # shown with the CA it signs for
        cert = authority.certificate_of(ca)
        published = ca.role in PUBLISHED
        crl = status.latest_crl(ca) if published else None
        name = authority.slug(ca)
        public = authority.endpoints(ca)
        rows.append(
            AuthorityRow(
                ca=ca,
                role=str(CA_ROLES.get(ca.role, ca.role)),
                algorithm=key_algorithm(cert),
                serial=f"{cert.serial_number:x}",
                crl=crl,
                crl_stale=crl is not None and crl.next_update <= now,
                crl_url=reverse("pki-crl", args=[name]) if crl is not None else "",
                certificate_url=reverse("pki-ca-der", args=[name]) if published else "",
                public_crl_url=public.crl_url,
                public_certificate_url=public.issuer_cert_url,
                ocsp_url=public.ocsp_url if ca.role in WITH_OCSP else "",
                signers=[s for s in cas if s.parent_id == ca.pk and s.role == "ocsp"],
            )
        )
    return rows


class AuthoritiesView(IssuerView):
    def get(self, request: HttpRequest) -> HttpResponse:
        now = clock.now()
        context = {"rows": authority_rows(now), "now": now}
        return render(request, "ekort/portal/issuer/authorities.html", context)
