"""The BOA tablet app in a real browser (Debian's Chromium driven by Playwright) against a
real uvicorn server: log in, see the queue, open a hit, reject one, confirm another."""

from __future__ import annotations

import os

import httpx
import pytest

from api.review import service
from tests.api.review_support import FakeRights, FakeZoneRules, after_grace
from tests.conftest import REPO
from tests.e2e.server import serve
from tests.factories import make_image, multipart, observation

ARTIFACTS = REPO / "test-artifacts"
pytestmark = [pytest.mark.browser]


def _plate_image(text_seed: int) -> bytes:
    return make_image(text_seed, (480, 110))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tablet_login_queue_reject_and_confirm(browser, settings, engine, accounts):
    from api.main import create_app

    app = create_app(
        settings, engine=engine, rights_checker=FakeRights(), zone_rules=FakeZoneRules()
    )
    boa = accounts.user("boa", name="boa-jansen", password="correct-horse-1")
    device = {"Authorization": f"Bearer {accounts.device('car-1')}"}
    with serve(app) as base:
        ids = []
        for i, (plate, lon) in enumerate((("GZ123T", 4.3581), ("XK52GV", 4.3590))):
            images = {
                "plate": ("plate", _plate_image(10 + i)),
                "overview": ("overview", make_image(20 + i, (1280, 720))),
            }
            meta, parts = observation(images=images, plate=plate, lon=lon)
            r = httpx.post(
                f"{base}/api/v1/observations", files=multipart(meta, parts), headers=device
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        service.run_grace_step(
            engine,
            app.state.evidence_store,
            app.state.rights_checker,
            app.state.zone_rules,
            settings,
            now=after_grace(),
        )

        ctx = browser.new_context(
            viewport={"width": 768, "height": 1024},
            geolocation={"longitude": 4.3582, "latitude": 52.0117},
            permissions=["geolocation"],
        )
        page = ctx.new_page()
        page.goto(f"{base}/ui/queue")
        assert "/ui/login" in page.url
        page.fill("#username", boa)
        page.fill("#password", "correct-horse-1")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert page.url == f"{base}/ui/queue", page.content()[:3000]
        items = page.locator(".app-queue__item")
        assert items.count() == 2
        assert set(page.locator(".app-queue__item .app-plate").all_inner_texts()) == {
            "GZ-123-T",
            "XK-52-GV",
        }

        # nearest first uses the tablet position
        page.click("#nearest")
        page.wait_for_url("**lat=52.011700**")
        assert page.locator(".app-queue__item .app-plate").first.inner_text() == "GZ-123-T"

        # reject the first hit
        page.locator(".app-queue__item", has_text="GZ-123-T").click()
        page.click("#claim")
        page.wait_for_selector("#reject-form")
        box = page.locator("#confirm").bounding_box()
        assert box is not None
        assert box["height"] >= 44
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "tablet-hit-page.png"), full_page=True)
        page.check("input[name=reason][value=driver_present]")
        page.click("#reject")
        page.wait_for_selector("#status")
        assert page.inner_text("#status") == "Afgewezen"

        # confirm the second one remotely
        page.goto(f"{base}/ui/queue")
        page.locator(".app-queue__item", has_text="XK-52-GV").click()
        page.click("#claim")
        page.check("input[name=mode][value=remote]")
        page.click("#confirm")
        page.wait_for_selector("#status")
        assert page.inner_text("#status") == "Bevestigd"

        # the states through the API
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": boa, "password": "correct-horse-1"}
        ).json()
        h = {"Authorization": f"Bearer {token['access_token']}"}
        states = {i: httpx.get(f"{base}/api/v1/hits/{i}", headers=h).json() for i in ids}
        assert states[ids[0]]["status"] == "rejected"
        assert states[ids[0]]["reject_reason"] == "driver_present"
        assert states[ids[1]]["status"] == "confirmed"
        assert states[ids[1]]["decision_mode"] == "remote"
        assert states[ids[1]]["decided_by"] == states[ids[0]]["decided_by"]

        # logout: the session cookie is gone and pages need a login again
        page.goto(f"{base}/ui/queue")
        page.click("text=Uitloggen")
        page.wait_for_url("**/ui/login")
        page.goto(f"{base}/ui/hits/{ids[1]}")
        assert "/ui/login" in page.url
        ctx.close()
    assert os.path.getsize(ARTIFACTS / "tablet-hit-page.png") > 10_000
