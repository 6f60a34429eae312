"""The imports' part of the admin sidebar (articurated/admin_nav.py): managers only."""

from articurated.admin_nav import NavLink, links_may_view

_LINKS = [("Imports", "admin:imports_import_changelist", "upload_file", "imports.view_import")]


def integration_links(request) -> list[NavLink]:
    return links_may_view(request, _LINKS)
