"""The shared page layer in a real browser at tablet and phone size: the login form with its
error summary, the role start pages with their navigation, and the error pages; axe-core
0 violations, touch targets >= 44 px and no console errors (CSP) on each, with screenshots."""

from __future__ import annotations

import pytest

from tests.e2e.server import serve

pytestmark = [pytest.mark.browser]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pages_login_start_pages_and_errors(device_context, check_page, settings, engine, accounts):
    from api.main import create_app

    app = create_app(settings, engine=engine)
    users = {
        role: accounts.user(role, name=f"{role}-pagina", password="correct-horse-1")
        for role in ("boa", "backoffice", "admin")
    }
    with serve(app) as base:
        for kind in ("tablet", "phone"):
            page = device_context(kind).new_page()
            page.goto(f"{base}/ui/queue")
            assert "/ui/login" in page.url
            check_page(page, f"{kind}-login")

            # a failed login: the summary at the top links to the field, the name is kept
            page.fill("#username", users["boa"])
            page.click("#login")
            page.wait_for_selector("#summary")
            assert page.evaluate("document.activeElement.id") == "summary"  # moved there
            assert page.inner_text("#summary a") == "Vul uw wachtwoord in."
            assert page.input_value("#username") == users["boa"]
            assert page.get_attribute("#password", "aria-describedby") == "password-error"
            check_page(page, f"{kind}-login-error")
            page.click("#summary a")
            assert page.evaluate("document.activeElement.id") == "password"

            for role, start, name in (
                ("admin", "/ui/admin", "admin-start"),
                ("backoffice", "/ui/dashboard", "backoffice-start"),
                ("boa", "/ui/queue", "boa-start"),
            ):
                page.context.clear_cookies()
                page.goto(f"{base}/ui/login")
                page.fill("#username", users[role])
                page.fill("#password", "correct-horse-1")
                page.click("#login")
                page.wait_for_url(f"**{start}")
                assert page.get_attribute(".app-nav__link[aria-current=page]", "href") == start
                check_page(page, f"{kind}-{name}")

            # error pages (logged in as the BOA): HTML, Dutch, a way back
            for url, name in (
                ("/ui/hits/999999", "error-404"),
                ("/ui/dashboard", "error-403"),
                ("/ui/queue?lat=noord", "error-422"),
            ):
                response = page.goto(f"{base}{url}")
                assert response is not None
                assert response.status in (403, 404, 422)
                assert page.inner_text("#error-message")
                check_page(page, f"{kind}-{name}")
                page.get_by_role("link", name="Naar uw startpagina").click()
                page.wait_for_url("**/ui/queue")

            # logout from the header
            page.click("#logout")
            page.wait_for_url("**/ui/login")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pages_sharing_refused_location_reads_as_one_sentence(
    device_context, settings, engine, accounts
):
    """A BOA switches location sharing on while the browser refuses the position: the line
    says so in one Dutch sentence (only the first letter after 'maar' made small)."""
    from api.main import create_app

    name = accounts.user("boa", name="boa-delen", password="correct-horse-1")
    with serve(create_app(settings, engine=engine)) as base:
        page = device_context("phone").new_page()
        page.goto(f"{base}/ui/login")
        page.fill("#username", name)
        page.fill("#password", "correct-horse-1")
        page.click("#login")
        page.wait_for_url("**/ui/queue")
        page.click("#share-toggle")
        page.wait_for_url("**/ui/queue")
        page.wait_for_selector("#share-location:has-text('maar')")
        line = page.inner_text("#share-location")
        assert line.startswith("U deelt uw locatie, maar ")
        assert ". Sta locatie toe" in line or ". Probeer" in line, line
