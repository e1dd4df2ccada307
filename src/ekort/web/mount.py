"""The portal as one entry for the project's URL list (its routes are in `ekort.web.urls`)."""

from django.urls import include, path

portal = path("", include("ekort.web.urls", namespace="portal"))
