"""The catalogue's part of the admin sidebar (articurated/admin_nav.py)."""

from articurated.admin_nav import NavLink, links_may_view

_LINKS = [
    ("Products", "admin:catalogue_product_changelist", "inventory_2", "catalogue.view_product"),
    ("Categories", "admin:catalogue_category_changelist", "category", "catalogue.view_category"),
]


def catalogue_links(request) -> list[NavLink]:
    return links_may_view(request, _LINKS)
