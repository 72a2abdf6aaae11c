"""The app's API routes with their full paths (FastAPI >= 0.16x nests included routers)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute


@dataclass(frozen=True, slots=True)
class RouteEntry:
    path: str
    methods: frozenset[str]
    route: APIRoute


def iter_api_routes(app: FastAPI) -> Iterator[RouteEntry]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are flat APIRoutes
        for r in app.routes:
            if isinstance(r, APIRoute):
                yield RouteEntry(r.path, frozenset(r.methods or ()), r)
        return
    for ctx in iter_route_contexts(app.routes):
        original = ctx.original_route
        if isinstance(original, APIRoute) and ctx.path:
            yield RouteEntry(ctx.path, frozenset(ctx.methods or ()), original)
