"""The portal's routes. No identity number ever goes into a URL: cards and persons are named
by their database ids, and every lookup is limited to what the account may see."""

from django.urls import path

from . import accessibility, issuer, office, portal, renewals, security, selfservice, support
from .card_sign_in import CardSignInView
from .signin import SignInView, SignOutView

app_name = "portal"

urlpatterns = [
    path("logga-in/", SignInView.as_view(), name="sign-in"),
    path("logga-in/kort/", CardSignInView.as_view(), name="card-sign-in"),
    path("logga-ut/", SignOutView.as_view(), name="sign-out"),
    path("mina-sidor/", portal.MyCardsView.as_view(), name="mine"),
    path("mina-sidor/kort/<int:card_id>/pinbrev/", portal.PinLetterView.as_view(), name="pin"),
    path(
        "mina-sidor/kort/<int:card_id>/sparra/",
        portal.BlockMyCardView.as_view(),
        name="block-mine",
    ),
    path(
        "mina-sidor/kort/<int:card_id>/underskriftscertifikat/",
        selfservice.SignatureView.as_view(),
        name="certificates-signature",
    ),
    path(
        "mina-sidor/kort/<int:card_id>/tillaggscertifikat/",
        selfservice.AdditionalView.as_view(),
        name="certificates-additional",
    ),
    path(
        "mina-sidor/kort/<int:card_id>/tillaggscertifikat/ta-bort/",
        selfservice.RemoveAdditionalView.as_view(),
        name="certificates-remove-additional",
    ),
    path(
        "mina-sidor/kort/<int:card_id>/certifikat/<int:certificate_id>.pem",
        selfservice.DownloadView.as_view(encoding=selfservice.PEM),
        name="certificates-pem",
    ),
    path(
        "mina-sidor/kort/<int:card_id>/certifikat/<int:certificate_id>.cer",
        selfservice.DownloadView.as_view(encoding=selfservice.DER),
        name="certificates-der",
    ),
    path("mina-sidor/fragor-och-svar/", portal.QuestionsView.as_view(), name="questions"),
    path("kortkontor/", portal.OfficesView.as_view(), name="offices"),
    path("tillganglighet/", accessibility.statement, name="accessibility"),
    path("kortkontor/arbete/", office.FindPersonView.as_view(), name="office-find"),
    path("kortkontor/arbete/kort/<int:card_id>/", office.CardView.as_view(), name="office-card"),
    path(
        "kortkontor/arbete/kort/<int:card_id>/fotografera/",
        office.PhotographView.as_view(),
        name="office-photograph",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/foto/",
        office.PhotoView.as_view(),
        name="office-photo",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/lamna-ut/",
        office.HandOutView.as_view(),
        name="office-hand-out",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/godkann-utlamning/",
        office.ApproveHandOutView.as_view(),
        name="office-approve-hand-out",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/aterkalla-utlamning/",
        office.WithdrawHandOutView.as_view(),
        name="office-withdraw-hand-out",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/aktivera/",
        office.ActivateView.as_view(),
        name="office-activate",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/godkann-aktivering/",
        office.ApproveActivationView.as_view(),
        name="office-approve-activation",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/las-upp-pin/",
        office.UnlockPinView.as_view(),
        name="office-unlock",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/sparra/",
        office.BlockView.as_view(),
        name="office-block",
    ),
    path("medarbetare/", portal.StaffView.as_view(), name="staff"),
    path("medarbetare/<int:person_id>/", portal.StaffPersonView.as_view(), name="staff-person"),
    path("medarbetare/<int:person_id>/bestall/", portal.OrderCardView.as_view(), name="order"),
    path("medarbetare/bestall-fran-fil/", portal.OrderFileView.as_view(), name="order-file"),
    path(
        "medarbetare/kort/<int:card_id>/ersatt/",
        portal.ReplaceCardView.as_view(),
        name="replace",
    ),
    path(
        "medarbetare/kort/<int:card_id>/sparra/",
        portal.BlockStaffCardView.as_view(),
        name="block-staff",
    ),
    path("kort-som-gar-ut/", renewals.RenewalsView.as_view(), name="renewals"),
    path("kort-som-gar-ut/csv/", renewals.RenewalsCsvView.as_view(), name="renewals-csv"),
    path("stod/", support.SearchView.as_view(), name="support-find"),
    path("stod/oversikt/", support.OverviewView.as_view(), name="support-overview"),
    path("stod/person/<int:person_id>/", support.PersonView.as_view(), name="support-person"),
    path("stod/kort/<int:card_id>/", support.CardView.as_view(), name="support-card"),
    path("stod/kort/<int:card_id>/sparra/", support.BlockView.as_view(), name="support-block"),
    path(
        "stod/brev/<int:letter_id>/skicka-igen/",
        support.ResendLetterView.as_view(),
        name="support-resend",
    ),
    path(
        "stod/brev/<int:letter_id>/godkann/",
        support.ApproveLetterView.as_view(),
        name="support-approve-letter",
    ),
    path("utfardare/utskriftsko/", issuer.PrintQueueView.as_view(), name="issuer-queue"),
    path(
        "utfardare/utskriftsko/brev/<int:letter_id>/pdf/",
        issuer.LetterPdfView.as_view(),
        name="issuer-letter-pdf",
    ),
    path("sakerhet/", security.AccountsView.as_view(), name="security-accounts"),
    path(
        "sakerhet/konto/<int:user_id>/",
        security.AccountView.as_view(),
        name="security-account",
    ),
    path("sakerhet/granskning/", security.AuditView.as_view(), name="security-audit"),
    path("utfardare/api-nycklar/", issuer.TokensView.as_view(), name="issuer-tokens"),
    path(
        "utfardare/api-nycklar/<int:token_id>/aterkalla/",
        issuer.RevokeTokenView.as_view(),
        name="issuer-token-revoke",
    ),
    path(
        "utfardare/utfardare-och-sparrlistor/",
        issuer.AuthoritiesView.as_view(),
        name="issuer-authorities",
    ),
]
