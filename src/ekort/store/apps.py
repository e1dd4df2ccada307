from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "ekort.store"
    label = "ekort"
    verbose_name = "ekort"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import sets  # noqa: F401 - registers the `any_of` lookup
