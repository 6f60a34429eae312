from django.apps import AppConfig


class ArticuratedConfig(AppConfig):
    """Shared helpers that every domain app may use: numbering, idempotency, errors, roles."""

    name = "articurated"
    verbose_name = "ArtiCurated core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from articurated.roles import roles_sync_on_migrate

        post_migrate.connect(roles_sync_on_migrate, dispatch_uid="articurated.roles_sync")
