"""The portal's routes. No identity number ever goes into a URL: cards and persons are named
by their database ids, and every lookup is limited to what the account may see."""

from django.urls import path

from . import office, portal
from .signin import SignInView, SignOutView

app_name = "portal"

urlpatterns = [
    path("logga-in/", SignInView.as_view(), name="sign-in"),
    path("logga-ut/", SignOutView.as_view(), name="sign-out"),
    path("mina-sidor/", portal.MyCardsView.as_view(), name="mine"),
    path("mina-sidor/kort/<int:card_id>/pinbrev/", portal.PinLetterView.as_view(), name="pin"),
    path(
        "mina-sidor/kort/<int:card_id>/sparra/",
        portal.BlockMyCardView.as_view(),
        name="block-mine",
    ),
    path("mina-sidor/fragor-och-svar/", portal.QuestionsView.as_view(), name="questions"),
    path("kortkontor/", portal.OfficesView.as_view(), name="offices"),
    path("kortkontor/arbete/", office.FindPersonView.as_view(), name="office-find"),
    path("kortkontor/arbete/kort/<int:card_id>/", office.CardView.as_view(), name="office-card"),
    path(
        "kortkontor/arbete/kort/<int:card_id>/fotografera/",
        office.PhotographView.as_view(),
        name="office-photograph",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/lamna-ut/",
        office.HandOutView.as_view(),
        name="office-hand-out",
    ),
    path(
        "kortkontor/arbete/kort/<int:card_id>/aktivera/",
        office.ActivateView.as_view(),
        name="office-activate",
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
    path("medarbetare/<int:person_id>/bestall/", portal.OrderCardView.as_view(), name="order"),
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
]
