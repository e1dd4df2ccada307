from django.contrib import admin
from django.urls import path

from ekort.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("rules/", views.rules, name="rules"),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
]
