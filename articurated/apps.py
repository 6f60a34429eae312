from django.apps import AppConfig


class ArticuratedConfig(AppConfig):
    """Shared helpers that every domain app may use: numbering, idempotency, errors, roles."""

    name = "articurated"
    verbose_name = "ArtiCurated core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from articurated.roles import roles_sync_on_migrate

        post_migrate.connect(roles_sync_on_migrate, dispatch_uid="articurated.roles_sync")

        from articurated.admin_nav import ADMINISTRATION, administration_links, nav_register

        nav_register(ADMINISTRATION, administration_links, position=900)

        from django.conf import settings
        from django.core.signals import request_started

        from articurated.jobs import embedded_worker_on_request_started

        if settings.DRAMATIQ_EMBEDDED_WORKER:
            request_started.connect(
                embedded_worker_on_request_started, dispatch_uid="articurated.embedded_worker"
            )
