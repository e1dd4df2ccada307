from django.contrib import admin
from django.urls import path
from django.views.i18n import set_language

from ekort.api.main import api
from ekort.web import pki_views, views
from ekort.web.mount import portal

urlpatterns = [
    path("", views.home, name="home"),
    path("rules/", views.rules, name="rules"),
    # /health/, /ready/ and /metrics are answered by ekort.web.observe.ProbesMiddleware.
    path("sprak/", set_language, name="set-language"),  # POST language=en|sv, next=<page>
    portal,  # sign-in, Mina sidor, Mina medarbetare, Kortkontor (ekort.web.urls)
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Where certificates' CDP and AIA point (ekort.services.ca.authority.endpoints).
    path("pki/crl/<slug:name>.crl", pki_views.crl, name="pki-crl"),
    path("pki/ca/<slug:name>.crt", pki_views.ca_certificate_der, name="pki-ca-der"),
    path("pki/ca/<slug:name>.pem", pki_views.ca_certificate_pem, name="pki-ca-pem"),
]
