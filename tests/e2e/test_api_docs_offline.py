"""The OpenAPI pages (/docs, /redoc) render in a real browser with every request outside the
server refused: their assets come from the package, not from a CDN."""

from __future__ import annotations

import pytest

from tests.e2e.server import serve

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_api_docs_render_without_internet(device_context, app, tmp_path):
    outside: list[str] = []
    with serve(app) as base:
        page = device_context("desktop").new_page()

        def only_the_server(route):  # type: ignore[no-untyped-def]
            if route.request.url.startswith(base):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_server)
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        operations = page.locator(".opblock").count()
        assert operations > 50  # every route of the API is listed
        assert (
            page.locator(".information-container .title")
            .inner_text()
            .startswith("Scan-car enforcement backend")
        )
        page.screenshot(path=str(tmp_path / "docs.png"))
        page.goto(f"{base}/redoc")
        page.wait_for_selector("[role=menuitem], .menu-content", timeout=30_000)
        assert "observations" in page.content()
        page.close()
    assert outside == []
