from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from articurated.admin_nav import CATALOGUE, nav_register
        from catalogue.nav import catalogue_links

        nav_register(CATALOGUE, catalogue_links, position=30)
