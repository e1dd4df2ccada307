from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "ekort.cli"
    label = "ekort_cli"
    verbose_name = "ekort command line"
