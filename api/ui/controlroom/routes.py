"""Pages of this audience (see the package docstring). Add routes to router and templates
under templates/ (named ``controlroom/<file>.html``); see docs/pages.md."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
