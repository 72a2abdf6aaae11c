"""The BOA tablet flow in a real browser (Debian's Chromium, Playwright) against a real uvicorn
server, at tablet (768x1024) and phone (390x844) size: the queue nearest first, a colleague's
claim, claiming, the photo viewer, the decision bar and its sheets, a failed submit keeping
what was typed, a claim expiring mid-decision (renewed on submit) and one lost to a colleague,
a plate correction with its look-alike check, straight on to the next hit, and a stolen
session cookie after logout. Every page: axe-core 0 violations, touch targets >= 44 px, no
console errors, a screenshot in test-artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session

from api.db import utcnow
from api.hits.db import HitRow
from tests.api.review_support import FakeRights, FakeZoneRules, run_grace
from tests.e2e.server import serve
from tests.e2e.tablet_support import street_evidence
from tests.factories import multipart, observation

pytestmark = [pytest.mark.browser]
HERE = {"longitude": 4.3581, "latitude": 52.0116}  # where the BOA stands
FAR = {"longitude": 4.3700, "latitude": 52.0190}  # ~1.1 km away
PASSWORD = "correct-horse-1"


def _post_hits(base: str, device: dict[str, str], specs: list[tuple[str, float, float, str]]):
    ids = {}
    for i, (plate, lon, lat, zone) in enumerate(specs):
        meta, parts = observation(
            images=street_evidence(plate, 40 + i), plate=plate, lon=lon, lat=lat, zone_id=zone
        )
        r = httpx.post(f"{base}/api/v1/observations", files=multipart(meta, parts), headers=device)
        assert r.status_code == 201, r.text
        ids[plate] = r.json()["id"]
    return ids


def _expire_claim(engine: Any, hit_id: int) -> None:
    with Session(engine) as s:
        s.execute(
            update(HitRow)
            .where(HitRow.id == hit_id)  # type: ignore[arg-type]
            .values(claimed_until=utcnow() - timedelta(minutes=1))
        )
        s.commit()


def _end_sessions(engine: Any, username: str) -> None:
    from sqlmodel import select

    from api.auth.db import UserRow
    from api.auth.sessions import end_user_sessions

    with Session(engine) as s:
        user = s.exec(select(UserRow).where(UserRow.username == username)).one()
        end_user_sessions(s, user.id or 0)
        s.commit()


def _login(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/ui/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url("**/ui/queue")


def _bar_in_reach(page: Any) -> None:
    """The decision bar is on screen without scrolling, at the bottom of the viewport."""
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator("#decision-bar").bounding_box()
    viewport = page.viewport_size
    assert box is not None
    assert viewport is not None
    assert box["y"] + box["height"] <= viewport["height"] + 1
    assert box["y"] >= viewport["height"] * 0.75


def _run_flow(
    kind: str,
    base: str,
    device_context: Any,
    check_page: Any,
    engine: Any,
    names: dict[str, str],
    colleague_api: dict[str, str],
    ids: dict[str, int],
) -> None:
    ctx = device_context(kind, geolocation=HERE, permissions=["geolocation"])
    page = ctx.new_page()
    _login(page, base, names["boa"])
    check_page(page, f"{kind}-queue")

    # nearest first: sorted by distance; a device without location says why it cannot
    page.click("#nearest")
    page.wait_for_url("**lat=52.011600**")
    assert "dichtstbij eerst" in page.inner_text("#sort-state")
    distances = page.locator(".app-queue__item .app-tag--distance").all_inner_texts()
    metres = [float(d.split()[0].replace(",", ".")) * (1000 if "km" in d else 1) for d in distances]
    assert metres == sorted(metres)
    check_page(page, f"{kind}-queue-nearest")
    blind = device_context(kind).new_page()  # no location permission
    blind.context.add_cookies(ctx.cookies())
    blind.goto(f"{base}/ui/queue")
    blind.click("#nearest")
    blind.wait_for_selector("#sort-state.app-warning-text")
    assert "Dichtstbij eerst kan niet" in blind.inner_text("#sort-state")
    blind.close()

    # a colleague's claim: who and until when, no claim button
    page.goto(f"{base}/ui/hits/{ids['held']}")
    assert "In behandeling door Collega Visser tot" in page.inner_text("#taken")
    assert page.locator("#claim").count() == 0
    check_page(page, f"{kind}-hit-colleague", full_page=False)

    # a free hit: claim it from the bar; time left; the decision always in reach
    page.goto(f"{base}/ui/hits/{ids['first']}")
    check_page(page, f"{kind}-hit-free", full_page=False)
    page.click("#claim")
    page.wait_for_selector("#open-reject")
    assert "nog 10 min" in page.inner_text("#claim-state")
    _bar_in_reach(page)
    assert "van het voertuig" in page.inner_text("#distance")
    check_page(page, f"{kind}-hit-claimed", full_page=False)

    # the viewer: the plate crop as sent, next photo, tap to zoom, back to the hit
    page.click(".app-photo--plate")
    page.wait_for_selector("#viewer-img")
    natural = page.evaluate("document.getElementById('viewer-img').naturalWidth")
    assert natural == page.evaluate("+document.getElementById('viewer-img').getAttribute('width')")
    check_page(page, f"{kind}-viewer-plate")
    page.click("#viewer-next")
    page.wait_for_url("**/photos/2")
    page.click("#viewer-stage")
    assert "app-viewer__stage--zoomed" in (page.get_attribute("#viewer-stage", "class") or "")
    check_page(page, f"{kind}-viewer-zoomed", full_page=False)
    page.click("#viewer-back")
    page.wait_for_url(f"**/ui/hits/{ids['first']}")

    # reject: "Anders" without a note is refused (422), the sheet stays open with the choice
    page.click("#open-reject")
    page.wait_for_selector("#sheet-reject:target")
    check_page(page, f"{kind}-sheet-reject", full_page=False)
    page.check("#reject-reason-8")  # Anders
    page.click("#reject")
    page.wait_for_selector("#reject-summary")
    assert "toelichting verplicht" in page.inner_text("#reject-summary")
    assert page.is_checked("#reject-reason-8")
    check_page(page, f"{kind}-reject-error", full_page=False)

    # the claim expires while the BOA types: the submit renews it (nobody else has it)
    page.fill("#reject-note", "Bestuurder kwam aanlopen en reed weg")
    _expire_claim(engine, ids["first"])
    page.click("#reject")
    # straight on to the nearest free hit, with the confirmation of the one just done
    page.wait_for_url(f"**/ui/hits/{ids['second']}")
    assert page.inner_text("#flash") == "Melding GZ-123-T afgewezen."
    check_page(page, f"{kind}-next-hit", full_page=False)

    # the session ends while the BOA types (idle, walking to the car): after logging in again
    # the BOA is back on the hit and what was typed is still there
    page.click("#claim")
    page.wait_for_selector("#open-confirm")
    page.click("#open-reject")
    page.check("#reject-reason-2")  # laden en lossen
    page.fill("#reject-note", "Bezorger stond te lossen")
    _end_sessions(engine, names["boa"])
    page.click("#reject")
    page.wait_for_url("**/ui/login**")
    page.fill("#username", names["boa"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"**/ui/hits/{ids['second']}")
    page.click("#open-reject")
    assert page.input_value("#reject-note") == "Bezorger stond te lossen"
    assert page.is_checked("#reject-reason-2")
    page.click("#sheet-reject [data-close-sheet]")

    # a plate correction beyond look-alikes needs a reason and a tick; the history shows it
    page.click("#more-actions summary")
    page.fill("#plate-plate", "XK-53-GV")
    page.fill("#plate-reason", "Plaat vuil, 3 gelezen als 2")
    assert "Let op" in page.inner_text("#lookalike-hint")
    page.click("#correct")
    page.wait_for_selector("#plate-summary")
    assert page.input_value("#plate-reason") == "Plaat vuil, 3 gelezen als 2"
    check_page(page, f"{kind}-plate-check")
    page.check("#plate-confirm_different")
    page.click("#correct")
    page.wait_for_selector("#history")
    history = unescape(page.inner_text("#history"))
    assert "Kenteken gecorrigeerd: XK-52-GV → XK-53-GV" in history
    assert "(reden: Plaat vuil, 3 gelezen als 2)" in history

    # confirm remotely -> on to the next hit
    page.click("#open-confirm")
    page.check("#confirm-mode")  # remote
    page.click("#confirm")
    page.wait_for_url(f"**/ui/hits/{ids['onsite']}")
    assert page.inner_text("#flash") == "Melding XK-53-GV bevestigd."

    # on site only (this zone): too far -> refused, what was typed stays; nearer -> confirmed
    page.click("#claim")
    page.wait_for_selector("#open-confirm")
    ctx.set_geolocation(FAR)
    page.wait_for_selector("#distance.app-warning-text:has-text('kan binnen')")
    page.click("#open-confirm")
    assert page.is_disabled("#confirm-mode")  # remote not allowed here
    page.check("#confirm-mode-2")
    page.fill("#confirm-note", "Ter plaatse: geen kaart achter de ruit")
    page.click("#confirm")
    page.wait_for_selector("#confirm-summary")
    assert "U staat" in page.inner_text("#confirm-summary")
    assert page.input_value("#confirm-note") == "Ter plaatse: geen kaart achter de ruit"
    assert page.is_checked("#confirm-mode-2")
    check_page(page, f"{kind}-confirm-too-far", full_page=False)
    ctx.set_geolocation({"longitude": 4.36205, "latitude": 52.01302})
    page.wait_for_selector("#distance:not(.app-warning-text)")
    page.click("#confirm")
    page.wait_for_url("**/ui/**")
    assert "bevestigd" in page.inner_text("#flash")
    page.goto(f"{base}/ui/hits/{ids['onsite']}")
    assert page.inner_text("#status") == "Bevestigd"
    assert page.inner_text("#decision-note") == "Ter plaatse: geen kaart achter de ruit"
    assert "ter plaatse" in page.inner_text("#decision")
    check_page(page, f"{kind}-hit-decided", full_page=False)

    # a claim lost to a colleague while typing: a clear message, the note kept, shown as taken
    page.goto(f"{base}/ui/hits/{ids['lost']}")
    page.click("#claim")
    page.wait_for_selector("#open-reject")
    _expire_claim(engine, ids["lost"])
    r = httpx.post(f"{base}/api/v1/hits/{ids['lost']}/claim", headers=colleague_api)
    assert r.status_code == 200, r.text
    page.click("#open-reject")
    page.check("#reject-reason")  # bestuurder aanwezig
    page.fill("#reject-note", "Sprak de bestuurder aan")
    page.click("#reject")
    page.wait_for_selector("#reject-summary")
    assert "een collega heeft de melding intussen genomen" in page.inner_text("#reject-summary")
    assert page.input_value("#reject-note") == "Sprak de bestuurder aan"
    assert "In behandeling door Collega Visser" in page.inner_text("#claim-state")
    check_page(page, f"{kind}-claim-lost", full_page=False)

    # logout ends the session on the server: a copied cookie is worthless
    stolen = ctx.cookies()
    page.goto(f"{base}/ui/queue")
    page.click("#logout")
    page.wait_for_url("**/ui/login")
    thief = device_context(kind).new_page()
    thief.context.add_cookies(stolen)
    thief.goto(f"{base}/ui/queue")
    assert "/ui/login" in thief.url
    thief.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tablet_boa_flow_at_tablet_and_phone_size(
    device_context, check_page, settings, engine, accounts
):
    from api.auth.service import create_user
    from api.db import session_scope
    from api.main import create_app

    app = create_app(
        settings, engine=engine, rights_checker=FakeRights(), zone_rules=FakeZoneRules()
    )
    names = {"boa": "boa-de-vries", "colleague": "boa-visser"}
    with session_scope(engine) as s:
        create_user(
            s, username=names["boa"], password=PASSWORD, role="boa", full_name="Bo de Vries"
        )
        create_user(
            s,
            username=names["colleague"],
            password=PASSWORD,
            role="boa",
            full_name="Collega Visser",
        )
    device = {"Authorization": f"Bearer {accounts.device('car-7')}"}
    with serve(app) as base:
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": names["colleague"], "password": PASSWORD}
        ).json()["access_token"]
        colleague = {"Authorization": f"Bearer {token}"}
        for kind in ("tablet", "phone"):
            plates = _post_hits(
                base,
                device,
                [
                    ("GZ123T", 4.3581, 52.0116, "centrum"),  # where the BOA stands
                    ("NB123K", 4.35811, 52.0116, "centrum"),  # held by the colleague
                    ("XK52GV", 4.3590, 52.0118, "centrum"),  # ~65 m
                    ("TT01AB", 4.3620, 52.0130, "wijk-noord"),  # ~300 m, on site only
                    ("JD482S", 4.3700, 52.0200, "centrum"),  # ~1.2 km
                ],
            )
            run_grace(app)
            held = plates["NB123K"]
            assert httpx.post(f"{base}/api/v1/hits/{held}/claim", headers=colleague).is_success
            ids = {
                "first": plates["GZ123T"],
                "held": held,
                "second": plates["XK52GV"],
                "onsite": plates["TT01AB"],
                "lost": plates["JD482S"],
            }
            _run_flow(kind, base, device_context, check_page, engine, names, colleague, ids)
