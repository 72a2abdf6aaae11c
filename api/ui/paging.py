"""One way for list pages to say their count and link to the next and previous page.

Counts come capped from ``api.pagination`` (exact up to ``COUNT_CAP``); a capped count is
shown as "meer dan 10.000", and the next page is offered while a full page was shown and the
count does not say it was the last (a capped count never does).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode


def count_text(value: int, exact: bool) -> int | str:
    """The count as the page shows it: the number, or "meer dan 10.000" when capped."""
    return value if exact else "meer dan " + f"{value:,}".replace(",", ".")


def page_links(
    path: str,
    query: Mapping[str, str],
    page_no: int,
    *,
    shown: int,
    page_size: int,
    count: int,
    exact: bool,
) -> dict[str, str | int | None]:
    """``page_no``, ``prev_url`` and ``next_url`` for the ``pager`` macro (1-based pages;
    ``query`` holds the filters the links keep, ``pagina`` is added)."""

    def url(n: int) -> str:
        return f"{path}?{urlencode({**query, 'pagina': n})}"

    has_more = shown == page_size and (not exact or count > page_no * page_size)
    return {
        "page_no": page_no,
        "prev_url": url(page_no - 1) if page_no > 1 else None,
        "next_url": url(page_no + 1) if has_more else None,
    }
