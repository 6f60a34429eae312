"""The admin sidebar, per role. Each domain app registers what it contributes in its
AppConfig.ready (this bottom layer never imports them); unfold calls `sidebar_navigation`
on every admin page (settings.UNFOLD["SIDEBAR"]["navigation"]). A builder returns only the
links the user's role may use, each queue with its count as a badge."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlparse

WORK = "Work queues"
CATALOGUE = "Catalogue"
RECORDS = "Records"
INTEGRATIONS = "Integrations"
ADMINISTRATION = "Administration"
MORE = "More"
_SECTION_ORDER = (WORK, CATALOGUE, RECORDS, INTEGRATIONS, ADMINISTRATION, MORE)


@dataclass(frozen=True)
class NavLink:
    title: str
    url: str
    icon: str
    badge: int | None = None  # a queue's count; 0 shows no badge
    badge_variant: str = "warning"


_BUILDERS: list[tuple[str, int, Callable[[object], list[NavLink]]]] = []


def nav_register(section: str, build: Callable[[object], list[NavLink]], *, position: int):
    """`build(request)` returns the links of `section` this user may follow."""
    if all(existing is not build for _, _, existing in _BUILDERS):
        _BUILDERS.append((section, position, build))


def _matches(link: NavLink, request) -> int:
    """How well the link matches the page: -1 not at all, else the number of query
    parameters it shares with the page (a queue link beats the plain list)."""
    parsed = urlparse(link.url)
    if not request.path.startswith(parsed.path) or parsed.path.rstrip("/") == "/admin":
        return -1
    wanted = dict(parse_qsl(parsed.query))
    if any(request.GET.get(key) != value for key, value in wanted.items()):
        return -1
    return len(wanted)


def sidebar_navigation(request) -> list[dict]:
    if not getattr(request.user, "is_staff", False):
        return []
    sections: dict[str, list[NavLink]] = {name: [] for name in _SECTION_ORDER}
    for section, _, build in sorted(_BUILDERS, key=lambda item: item[1]):
        sections.setdefault(section, []).extend(build(request))
    sections[MORE] += _unlisted_models(request, sections)
    links = [link for section in sections.values() for link in section]
    scores = {id(link): _matches(link, request) for link in links}
    best = max(scores.values(), default=-1)
    groups = []
    for title, section_links in sections.items():
        if not section_links:
            continue
        items = [
            {
                "title": link.title,
                "icon": link.icon,
                "link": link.url,
                "badge": link.badge or None,
                "badge_variant": link.badge_variant,
                "active": best >= 0 and scores[id(link)] == best,
            }
            for link in section_links
        ]
        groups.append({"title": title, "separator": bool(groups), "items": items})
    return groups


def _unlisted_models(request, sections: dict[str, list[NavLink]]) -> list[NavLink]:
    """Every other admin page the user may open (e.g. of an app that registered no links yet),
    so nothing registered in the admin is unreachable from the sidebar."""
    from django.contrib import admin

    listed = {urlparse(link.url).path for links in sections.values() for link in links}
    extra = []
    for app in admin.site.get_app_list(request):
        for model in app["models"]:
            url = model.get("admin_url")
            if url and url not in listed:
                extra.append(NavLink(str(model["name"]), url, "folder_open"))
    return extra


def links_may_view(request, links: list[tuple[str, str, str, str]]) -> list[NavLink]:
    """(title, admin url name, icon, permission) → the links whose permission the user has."""
    from django.urls import reverse

    return [
        NavLink(title, reverse(url_name), icon)
        for title, url_name, icon, permission in links
        if request.user.has_perm(permission)
    ]


def administration_links(request) -> list[NavLink]:
    """Users and groups, for superusers (roles are groups; see articurated/roles.py)."""
    from django.urls import reverse

    if not request.user.is_superuser:
        return []
    return [
        NavLink("Users", reverse("admin:auth_user_changelist"), "person"),
        NavLink("Groups (roles)", reverse("admin:auth_group_changelist"), "group"),
    ]
