"""Names instead of codes for the pages: a zone's name for its id and an area's name (its
zone's) for its code, from the current zone version (the catalog the API reads too)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from sqlmodel import Session

from api.deps import backend_of


def zone_names(request: Request, session: Session) -> dict[str, str]:
    """Zone id -> the zone's name in the current version."""
    zones = backend_of(request).zone_catalog.current(session).index.zones
    return {z.id: z.name for z in zones}


def area_names(request: Request, session: Session) -> dict[str, str]:
    """Permit area code -> the name of the zone that has it (the portal shows the same)."""
    zones = backend_of(request).zone_catalog.current(session).index.zones
    return {z.area_code: z.name for z in zones if z.area_code}


def area_labeller(request: Request, session: Session) -> Callable[[str], str]:
    """A function for the templates: '9999_NOORD' -> 'Vergunninggebied Noord (gebied
    9999_NOORD)', or 'gebied 9999_NOORD' for an area no zone has (any more)."""
    names = area_names(request, session)

    def area_label(code: str) -> str:
        name = names.get(code)
        return f"{name} (gebied {code})" if name else f"gebied {code}"

    return area_label
