"""Permits in a real browser (Debian's Chromium) against a real uvicorn server and a real
OpenID provider (`oidc-provider` from npm) on loopback: residents log in through the provider
on a phone, apply, follow their application, change the plate, end a permit and register a
visitor; a clerk at a desk decides, sees the waiting list fill a freed place, imports a
spreadsheet-made CSV and prints the letter. Every page: axe-core 0 violations, touch targets,
no console errors, and a screenshot under test-artifacts/screenshots/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.e2e.server import free_port, serve
from tests.oidc.harness import ProviderAccount, oidc_provider

pytestmark = [pytest.mark.browser]
TOWN = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
ADDRESSES = REPO / "fixtures" / "addresses" / "town.csv"
JAN = ProviderAccount("jan", "jan-digid-1", "s-0000001", "Jan de Vries", "jan@example.nl")
ELS = ProviderAccount("els", "els-digid-1", "s-0000002", "Els Bakker", "els@example.nl")
NOORD = {"lon": 4.3580, "lat": 52.0160}
DESK = {"viewport": {"width": 1280, "height": 900}}


def _oidc_login(page: Any, base: str, who: ProviderAccount, check_page: Any, shots: bool) -> None:
    page.goto(f"{base}/mijn/")
    assert "/mijn/inloggen" in page.url
    if shots:
        check_page(page, "portal-login")
    page.click("#oidc-login")
    page.wait_for_selector("#login")  # the provider's own page
    assert page.url.startswith("http://127.0.0.1:")
    assert "/interaction/" in page.url
    page.fill("#login", who.login)
    page.fill("#password", who.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/mijn/")
    assert who.name in page.inner_text(".app-header__who")


def _answer(page: Any, check_page: Any, kind: str, postcode: str, number: str,
            plate: str | None, shots: bool) -> str:  # fmt: skip
    page.click("#apply")
    page.check(f"input[name=type][value={kind}]")
    if shots:
        check_page(page, "portal-apply-type")
    page.click("#next")
    page.fill("#postcode", postcode)
    page.fill("#house_number", number)
    if shots:
        check_page(page, "portal-apply-address")
    page.click("#next")
    if plate is not None:
        page.wait_for_selector("#plate1")
        if shots:  # the error summary and the message at the field
            page.click("#next")
            page.wait_for_selector("#summary")
            assert page.inner_text("#summary a") == "Vul het kenteken in."
            check_page(page, "portal-apply-plate-error")
        page.fill("#plate1", plate)
        page.click("#next")
    page.wait_for_selector("#answers")
    if shots:
        check_page(page, "portal-apply-check")
    page.click("#send")
    page.wait_for_selector("#confirmation")
    if shots:
        check_page(page, "portal-apply-received")
    return page.inner_text("#confirmation strong")


def _decide(page: Any, base: str, permit_id: str, check_page: Any, shot: str | None) -> None:
    page.goto(f"{base}/ui/vergunningen/zoeken?q={permit_id}")
    page.click(f"a[href='/ui/vergunningen/vergunning/{permit_id}']")
    page.click("a[href^='/ui/vergunningen/aanvragen/']")
    page.wait_for_selector("#rules")
    if shot:
        check_page(page, shot)
    page.fill("#grant-reason", "Woont op het adres; het kenteken staat op naam van de aanvrager.")
    page.click("#grant")
    page.wait_for_selector("#flash")


def _check(base: str, headers: dict[str, str], plate: str, at: datetime | None = None) -> dict:
    params: dict[str, Any] = {"plate": plate, **NOORD}
    if at is not None:
        params["at"] = at.isoformat()
    r = httpx.get(f"{base}/api/v1/rights/check", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_permits_portal_and_desk_in_the_browser(
    device_context, check_page, settings, engine, accounts
):
    from api.db import session_scope
    from api.main import create_app
    from api.residents.addresses import import_addresses, read_addresses

    port = free_port()
    with session_scope(engine) as session:
        import_addresses(session, read_addresses(ADDRESSES.read_text(encoding="utf-8")))
    clerk_name = accounts.user("backoffice", name="baliemedewerker")
    bo = accounts.headers("backoffice")
    boa = accounts.headers("boa")
    piet = accounts.user("resident", name="piet")
    piet_api = {"Authorization": f"Bearer {accounts.login(piet)}"}
    with oidc_provider([f"http://127.0.0.1:{port}/mijn/inloggen/terug"], [JAN, ELS]) as idp:
        app = create_app(
            settings.model_copy(
                update={
                    "oidc_issuer": idp.issuer,
                    "oidc_client_id": idp.client_id,
                    "oidc_client_secret": idp.client_secret,
                }
            ),
            engine=engine,
        )
        with serve(app, port=port) as base:
            assert (
                httpx.put(
                    f"{base}/api/v1/zones", json=TOWN, headers=accounts.headers("admin")
                ).status_code
                == 201
            )
            r = httpx.put(
                f"{base}/api/v1/permit-quotas/9999_NOORD",
                json={"capacity": 1, "permit_types": ["resident"]},
                headers=bo,
            )
            assert r.status_code == 200, r.text

            # -- Jan applies on his phone after logging in through the OpenID provider
            jan = device_context("phone").new_page()
            _oidc_login(jan, base, JAN, check_page, shots=True)
            check_page(jan, "portal-home-empty")
            jans = _answer(jan, check_page, "resident", "9991 AA", "1", "gz-123-t", shots=True)

            # -- the clerk grants it at the desk
            desk = device_context("tablet", **DESK).new_page()
            desk.goto(f"{base}/ui/vergunningen")
            desk.fill("#username", clerk_name)
            desk.fill("#password", "correct-horse-1")
            desk.click("#login")
            desk.wait_for_url(f"{base}/ui/vergunningen")
            assert desk.inner_text("#group-open .app-count") == "1"
            check_page(desk, "desk-inbox")
            _decide(desk, base, jans, check_page, shot="desk-application")
            check_page(desk, "desk-application-granted")
            desk.click("#letter")
            desk.wait_for_selector("#letter")
            assert "verlenen" in desk.inner_text("#letter")
            check_page(desk, "desk-letter")

            jan.goto(f"{base}/mijn/vergunningen/{jans}")
            assert "Actief" in jan.inner_text("#status-title")
            assert "Woont op het adres" in jan.inner_text("#decision-reason")
            check_page(jan, "portal-permit-active")
            assert _check(base, boa, "GZ123T")["allowed"] is True

            # -- Els applies in the same (now full) area: the desk puts her on the waiting list
            els = device_context("phone").new_page()
            _oidc_login(els, base, ELS, check_page, shots=False)
            els_id = _answer(els, check_page, "resident", "9991AB", "2", "XK-52-GV", shots=False)
            desk.goto(f"{base}/ui/vergunningen/zoeken?q={els_id}")
            desk.click(f"a[href='/ui/vergunningen/vergunning/{els_id}']")
            desk.click("a[href^='/ui/vergunningen/aanvragen/']")
            assert desk.inner_text("#grant") == "Op de wachtlijst zetten"
            check_page(desk, "desk-application-area-full")
            desk.fill("#grant-reason", "Voldoet; het gebied is vol.")
            desk.click("#grant")
            desk.wait_for_selector("#flash")
            desk.goto(f"{base}/ui/vergunningen/wachtlijsten")
            assert "Els Bakker" in desk.inner_text("#waiting-9999_NOORD")
            check_page(desk, "desk-waiting-lists")
            els.goto(f"{base}/mijn/vergunningen/{els_id}")
            assert "plaats 1 van de wachtlijst voor Vergunninggebied Noord" in els.inner_text(
                "#waiting"
            )
            check_page(els, "portal-permit-waitlisted")

            # -- another resident sees neither the page nor, through the API, the permit
            els.goto(f"{base}/mijn/vergunningen/{jans}")
            assert "Niet gevonden" in els.inner_text("h1")
            check_page(els, "portal-other-residents-permit-404")
            assert (
                httpx.get(f"{base}/api/v1/me/permits/{jans}", headers=piet_api).status_code == 404
            )
            assert httpx.get(f"{base}/api/v1/permits/{jans}", headers=piet_api).status_code == 403

            # -- Jan changes his plate, then ends the permit: Els gets the freed place
            jan.goto(f"{base}/mijn/vergunningen/{jans}")
            jan.click("#change-plate")
            jan.fill("#new_plate", "1-abc-23")
            check_page(jan, "portal-plate-change")
            jan.click("#save-plate")
            jan.wait_for_selector("#flash")
            assert "1-ABC-23" in jan.inner_text("#details-title + dl")
            later = datetime.now(UTC) + timedelta(minutes=1)
            assert _check(base, boa, "1ABC23", later)["allowed"] is True
            assert _check(base, boa, "GZ123T", later)["allowed"] is False
            jan.click("#end")
            check_page(jan, "portal-end-confirm")
            jan.click("#confirm-end")
            jan.wait_for_selector("#flash")
            els.goto(f"{base}/mijn/vergunningen/{els_id}")
            assert "Actief" in els.inner_text("#status-title")
            assert _check(base, boa, "XK52GV")["allowed"] is True

            # -- visitor parking on the phone: a session is a right for the scan car at once
            jan.goto(f"{base}/mijn/")
            visitor = _answer(jan, check_page, "visitor", "9991AA", "1", None, shots=False)
            _decide(desk, base, visitor, check_page, shot=None)
            jan.goto(f"{base}/mijn/bezoek")
            jan.fill("#fav-plate", "AB-12-CD")  # no Dutch series: a foreign plate
            jan.fill("#fav-label", "Oma")
            jan.check("#fav-buitenlands")
            jan.click("#add-favourite")
            jan.wait_for_selector("#quick-AB12CD")
            check_page(jan, "portal-visitors")
            jan.click("#quick-AB12CD")
            jan.wait_for_selector("#flash")
            assert "38 uur" in jan.inner_text("#budget")
            check_page(jan, "portal-visitor-running")
            assert _check(base, boa, "AB12CD")["reason"] == "visitor"
            jan.click("#running-title + ul button")
            jan.wait_for_selector("#flash")
            assert (
                _check(base, boa, "AB12CD", datetime.now(UTC) + timedelta(minutes=2))["allowed"]
                is False
            )

            # -- CSV import of a file as a Dutch spreadsheet saves it, then search and a permit
            rows = [
                "id;type;holder_ref;plates;area_codes;valid_from;valid_to;status",
                "CSV-1;business;Café Zoë;GZ12TT;9999_CENTRUM;2026-01-01T00:00:00+01:00;;",
                "CSV-2;resident;Hé;XX;;2026-01-01;;",
            ]
            bad = tmp_csv("fout.csv", "\r\n".join(rows).encode("cp1252"))
            good = tmp_csv("goed.csv", "\r\n".join(rows[:2]).encode("cp1252"))
            desk.goto(f"{base}/ui/vergunningen/import")
            desk.set_input_files("#file", str(bad))
            desk.click("#do-import")
            desk.wait_for_selector("#bad-rows")
            assert desk.inner_text("#bad-rows").startswith("Regel 3, kolom ")
            check_page(desk, "desk-import-errors")
            desk.set_input_files("#file", str(good))
            desk.click("#do-import")
            desk.wait_for_selector("#import-done")
            assert "1 vergunningen ingelezen" in desk.inner_text("#import-done")
            check_page(desk, "desk-import-done")
            desk.goto(f"{base}/ui/vergunningen/zoeken?q=zo%C3%AB")
            assert "CSV-1" in desk.inner_text("#found")
            check_page(desk, "desk-search")
            desk.goto(f"{base}/ui/vergunningen/vergunning/{jans}")
            assert "Kenteken gewijzigd" in desk.inner_text("#history")
            check_page(desk, "desk-permit-history")


def tmp_csv(name: str, data: bytes):  # type: ignore[no-untyped-def]
    path = REPO / "test-artifacts" / "uploads" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
