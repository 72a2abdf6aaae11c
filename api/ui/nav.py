"""Navigation per role and each role's start page.

One table for all audiences: an audience package adds its pages here (label, path, roles).
A test logs in as every role and follows every link its navigation shows: each must answer
200 (a page never links to a page that would refuse the reader).
"""

from __future__ import annotations

from dataclasses import dataclass

from api.auth.principal import Role


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str
    roles: frozenset[Role]

    def is_current(self, url_path: str) -> bool:
        return url_path == self.path or url_path.startswith(self.path + "/")


def _item(label: str, path: str, *roles: Role) -> NavItem:
    return NavItem(label, path, frozenset(roles))


ITEMS: tuple[NavItem, ...] = (
    _item("Wachtrij", "/ui/queue", Role.BOA, Role.BACKOFFICE),
    _item("Beheer", "/ui/admin", Role.ADMIN),
    _item("Dashboard", "/ui/dashboard", Role.BACKOFFICE, Role.ADMIN),
    _item("Meldingen", "/ui/meldingen", Role.BACKOFFICE),
    _item("Boetes", "/ui/fines", Role.BACKOFFICE),
    _item("Exports", "/ui/exports", Role.BACKOFFICE),
    _item("Vergunningen", "/ui/vergunningen", Role.BACKOFFICE),
    _item("Meldkamer", "/ui/meldkamer", Role.COORDINATOR, Role.BACKOFFICE),
    _item("Scanauto's", "/ui/autos", Role.BACKOFFICE, Role.ADMIN, Role.COORDINATOR),
    _item("Zones", "/ui/zones", Role.ADMIN),
    _item("Gebruikers", "/ui/gebruikers", Role.ADMIN),
    _item("Audit-log", "/ui/audit", Role.BACKOFFICE, Role.ADMIN),
)

# Where a role lands after logging in (and from "/ui/").
START_PAGE: dict[Role, str] = {
    Role.BOA: "/ui/queue",
    Role.BACKOFFICE: "/ui/dashboard",
    Role.ADMIN: "/ui/admin",
    Role.COORDINATOR: "/ui/meldkamer",
}
# Roles that may log in to the pages at all (providers and cars use the API only).
PAGE_ROLES: tuple[Role, ...] = tuple(START_PAGE)


def items_for(role: Role) -> list[NavItem]:
    return [i for i in ITEMS if role in i.roles]


def start_page(role: Role) -> str:
    return START_PAGE.get(role, "/ui/login")
