"""The back-office pages in a real browser (Debian's Chromium driven by Playwright) against a
real uvicorn server: dashboard with SVG charts and zone map, the fine list, a fine's actions
(issue, payment, an overpayment refused, objection, decision) and the evidence pack."""

from __future__ import annotations

import json
import os

import httpx
import pytest

from api.review import service
from tests.api.review_support import FakeRights
from tests.conftest import REPO
from tests.e2e.server import serve
from tests.factories import CAPTURED_AT, make_image, multipart, observation

ARTIFACTS = REPO / "test-artifacts"
TOWN = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
pytestmark = [pytest.mark.browser]


def _decide(base: str, boa: dict[str, str], hid: int, confirm: bool) -> None:
    assert httpx.post(f"{base}/api/v1/hits/{hid}/claim", headers=boa).status_code == 200
    if confirm:
        body = {"mode": "on_site", "lon": 4.3581, "lat": 52.0116}
        r = httpx.post(f"{base}/api/v1/hits/{hid}/confirm", json=body, headers=boa)
    else:
        r = httpx.post(
            f"{base}/api/v1/hits/{hid}/reject", json={"reason": "driver_present"}, headers=boa
        )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_backoffice_dashboard_fine_actions_and_pack(device_context, settings, engine, accounts):
    from api.main import create_app

    app = create_app(settings, engine=engine, rights_checker=FakeRights())
    bo_name = accounts.user("backoffice", name="bo-devries", password="correct-horse-1")
    admin = accounts.headers("admin")
    boa = accounts.headers("boa")
    device = {"Authorization": f"Bearer {accounts.device('car-1')}"}
    with serve(app) as base:
        assert httpx.put(f"{base}/api/v1/zones", json=TOWN, headers=admin).status_code == 201
        ids = []
        for i, (plate, zone) in enumerate(
            (("GZ123T", "centrum"), ("XK52GV", "centrum"), ("TT01AB", "blauw"))
        ):
            images = {
                "plate": ("plate", make_image(30 + i, (480, 110))),
                "overview": ("overview", make_image(40 + i, (960, 540))),
            }
            meta, parts = observation(images=images, plate=plate, zone_id=zone)
            r = httpx.post(
                f"{base}/api/v1/observations", files=multipart(meta, parts), headers=device
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        service.run_grace_step(
            engine,
            app.state.backend.evidence_store,
            app.state.backend.rights_checker,
            app.state.backend.zone_rules,
            settings,
            now=CAPTURED_AT.replace(hour=11),
        )
        _decide(base, boa, ids[0], confirm=True)
        _decide(base, boa, ids[1], confirm=False)
        _decide(base, boa, ids[2], confirm=True)

        page = device_context("desktop").new_page()
        page.goto(f"{base}/ui/dashboard")
        assert "/ui/login" in page.url
        page.fill("#username", bo_name)
        page.fill("#password", "correct-horse-1")
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/dashboard")
        assert page.locator("svg.chart").count() == 5
        assert page.locator("path[data-zone]").count() == 6
        assert page.locator('path[data-zone="centrum"]').get_attribute("data-hits") == "2"
        assert page.inner_text("#kpi-hits") == "3"
        assert page.inner_text("#kpi-rate") == "67%"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "backoffice-dashboard.png"), full_page=True)

        # the fine list with a filter
        page.click("#nav-fines")
        page.wait_for_url("**/ui/fines")
        assert page.locator(".fine-row").count() == 2
        page.select_option("#track", "wahv")
        page.click("#filter")
        page.wait_for_url("**track=wahv**")
        assert page.locator(".fine-row").count() == 1
        page.goto(f"{base}/ui/fines?plate=GZ123T")
        assert page.locator(".fine-row").count() == 1
        page.locator(".fine-row a").first.click()

        # issue, a partial payment, an overpayment refused, an objection, a decision
        page.wait_for_selector("#issue")
        box = page.locator("#issue").bounding_box()
        assert box is not None
        assert box["height"] >= 44
        assert page.inner_text("#fine-amount") == "€\u00a084,80"
        page.click("#issue")
        page.wait_for_selector("#pay")
        assert page.inner_text("#status") == "Opgelegd"
        assert page.locator("h1").inner_text().startswith("Boete 2026-000001")
        page.fill("#payment-amount", "40,00")
        page.click("#pay")
        page.wait_for_selector("#pay")
        assert page.inner_text("#outstanding") == "€\u00a044,80"
        page.fill("#payment-amount", "100")
        page.click("#pay")
        page.wait_for_selector("#payment-summary")
        assert "meer dan er openstaat (€\u00a044,80)" in page.inner_text("#payment-summary")
        assert page.input_value("#payment-amount") == "100"  # the typed value is kept
        page.fill("#objection-text", "Ik stond er maar heel even.")
        page.click("#object")
        page.wait_for_selector("#decide-form")
        assert page.inner_text("#status") == "Bezwaar"
        page.check("input[name=upheld][value='0']")
        page.fill("#decide-reason", "Geen parkeerrecht; foto's zijn duidelijk.")
        page.click("#decide")
        page.wait_for_selector("#collection")
        assert page.inner_text("#status") == "Bezwaar ongegrond"
        page.screenshot(path=str(ARTIFACTS / "backoffice-fine.png"), full_page=True)

        # the evidence pack: photos embedded, printable
        page.click("#pack")
        page.wait_for_selector("#pack-calc")
        assert page.inner_text("#pack-number") == "2026-000001"
        assert page.inner_text("#pack-plate") == "GZ-123-T"
        assert page.locator(".photos img").count() == 2
        loaded = page.evaluate(
            "Array.from(document.querySelectorAll('.photos img')).every(i => i.naturalWidth > 0)"
        )
        assert loaded is True
        page.screenshot(path=str(ARTIFACTS / "backoffice-pack.png"), full_page=True)
        pdf = page.pdf(path=str(ARTIFACTS / "backoffice-pack.pdf"), format="A4")
        assert pdf[:4] == b"%PDF"
        page.context.close()

        # the same states through the API
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": bo_name, "password": "correct-horse-1"},
        ).json()["access_token"]
        fines = httpx.get(
            f"{base}/api/v1/fines",
            params={"plate": "GZ123T"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]
        assert [(f["status"], f["paid_cents"]) for f in fines] == [("objection_rejected", 4000)]
    assert os.path.getsize(ARTIFACTS / "backoffice-dashboard.png") > 10_000
    assert os.path.getsize(ARTIFACTS / "backoffice-fine.png") > 10_000
