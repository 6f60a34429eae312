from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from catalogue.signals import skus_created
        from inventory.receivers import stock_levels_create_for_new_skus

        skus_created.connect(stock_levels_create_for_new_skus, dispatch_uid="inventory.skus")

        from articurated.admin_nav import CATALOGUE, WORK, nav_register
        from articurated.dashboard import dashboard_panel_register
        from inventory import dashboard

        dashboard_panel_register(dashboard.low_stock_panel, position=35)
        nav_register(WORK, dashboard.work_links, position=35)
        nav_register(CATALOGUE, dashboard.catalogue_links, position=35)
