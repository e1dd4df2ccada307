"""The portal's routes. No identity number ever goes into a URL: cards and persons are named
by their database ids, and every lookup is limited to what the account may see."""

from django.urls import path

from . import portal
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
