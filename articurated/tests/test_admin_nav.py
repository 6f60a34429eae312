"""The admin sidebar groups the catalogue, stock, imports and webhooks pages per role (each app
registers its links in articurated/admin_nav.py) instead of leaving them under "More"."""

import pytest
from django.urls import reverse

CATALOGUE = {
    "Products": "admin:catalogue_product_changelist",
    "Categories": "admin:catalogue_category_changelist",
    "SKUs and stock": "admin:catalogue_sku_changelist",
    "Stock movements": "admin:inventory_stockmovement_changelist",
}
INTEGRATIONS = {
    "Imports": "admin:imports_import_changelist",
    "Webhook endpoints": "admin:webhooks_endpoint_changelist",
    "Webhook deliveries": "admin:webhooks_delivery_changelist",
}
NEW_APPS = ("/admin/catalogue/", "/admin/inventory/", "/admin/imports/", "/admin/webhooks/")


def _sidebar(client, user) -> dict[str, dict[str, str]]:
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return {
        group["title"]: {item["title"]: item["link"] for item in group["items"]}
        for group in response.context["sidebar_navigation"]
    }


def _links(names: dict) -> dict[str, str]:
    return {title: reverse(url_name) for title, url_name in names.items()}


def test_managers_see_the_catalogue_and_the_integrations_and_nothing_of_them_under_more(
    client, users
):
    sidebar = _sidebar(client, users["Manager"])
    assert sidebar["Catalogue"] == _links(CATALOGUE)
    assert sidebar["Integrations"] == _links(INTEGRATIONS)
    titles = list(sidebar)
    assert titles.index("Catalogue") < titles.index("Records") < titles.index("Integrations")
    more = sidebar.get("More", {}).values()
    assert not [link for link in more if link.startswith(NEW_APPS)]


@pytest.mark.parametrize("role", ["Warehouse", "Support"])
def test_other_staff_see_the_catalogue_but_no_imports_or_webhooks(client, users, role):
    sidebar = _sidebar(client, users[role])
    assert sidebar["Catalogue"] == _links(CATALOGUE)
    assert "Integrations" not in sidebar
    every_link = [link for group in sidebar.values() for link in group.values()]
    assert not [
        link for link in every_link if link.startswith(("/admin/imports/", "/admin/webhooks/"))
    ]


def test_a_superuser_finds_no_page_of_the_new_apps_left_under_more(client, users):
    sidebar = _sidebar(client, users["admin"])
    assert set(sidebar["Catalogue"]) == set(CATALOGUE)
    assert set(sidebar["Integrations"]) == set(INTEGRATIONS)
    more = sidebar.get("More", {}).values()
    assert not [link for link in more if link.startswith(NEW_APPS)]
