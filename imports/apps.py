from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Imports"

    def ready(self) -> None:
        from articurated.admin_nav import INTEGRATIONS, nav_register
        from imports import tasks  # noqa: F401 - declares the actors on the broker
        from imports.nav import integration_links

        nav_register(INTEGRATIONS, integration_links, position=50)
