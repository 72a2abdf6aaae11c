"""The list pages' count text and page links (api.ui.paging)."""

from __future__ import annotations

from api.ui.paging import count_text, page_links


def test_count_text_says_more_than_a_capped_count_in_dutch_digits():
    assert count_text(42, True) == 42
    assert count_text(10_000, False) == "meer dan 10.000"


def _links(page_no: int, shown: int, count: int, exact: bool) -> dict[str, object]:
    return page_links(
        "/ui/audit",
        {"actie": "fine.*"},
        page_no,
        shown=shown,
        page_size=100,
        count=count,
        exact=exact,
    )


def test_page_links_keep_the_filters_and_stop_on_the_last_page():
    first = _links(1, 100, 250, True)
    assert first == {
        "page_no": 1,
        "prev_url": None,
        "next_url": "/ui/audit?actie=fine.%2A&pagina=2",
    }
    last = _links(3, 50, 250, True)
    assert last["prev_url"] == "/ui/audit?actie=fine.%2A&pagina=2"
    assert last["next_url"] is None
    assert _links(2, 100, 200, True)["next_url"] is None  # exactly full, nothing after


def test_a_capped_count_never_hides_the_next_page():
    """Past the cap the count cannot say where the list ends: a full page offers the next."""
    beyond = _links(150, 100, 10_000, False)
    assert beyond["next_url"] == "/ui/audit?actie=fine.%2A&pagina=151"
    assert _links(151, 7, 10_000, False)["next_url"] is None  # a short page is the last
