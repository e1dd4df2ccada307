from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ekort.web"
    label = "ekort_web"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .observe import connect_signals
        from .sessions import started

        user_logged_in.connect(started, dispatch_uid="ekort.web.sessions.started")
        connect_signals()
