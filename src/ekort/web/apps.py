from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ekort.web"
    label = "ekort_web"
