"""The back office's and the control room's pages in a real browser (Debian's Chromium driven
by Playwright) against a real uvicorn server, at phone (390x844) and tablet (768x1024) size:
zones (a broken file with its problems, a preview on the map, saving, a rollback), exports
(a batch made, the CSV again, the exported state on the fine), the scan cars with a silent
car flagged, the audit log filtered, the control room's live map with a hit assigned to a BOA
who then sees it first in the tablet queue, the hit search with a hit's read-only page, and
the fine list. Every navigation item of each role in sight on both sizes (no row scrolling
sideways off the phone's screen). axe-core 0 violations, touch targets >= 44 px and no console
errors on each page, with screenshots in test-artifacts/screenshots/bo-*.png."""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from api.auth.db import DeviceRow
from api.review import service
from tests.api.review_support import FakeRights
from tests.conftest import REPO
from tests.e2e.server import serve
from tests.factories import CAPTURED_AT, make_image, multipart, observation

TOWN = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
PASSWORD = "correct-horse-1"
pytestmark = [pytest.mark.browser]


def _login(page: Any, base: str, name: str, start: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/ui/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"**{start}")


def _hits(base: str, device: dict[str, str], plates_zones: list[tuple[str, str, str]]) -> list[int]:
    ids = []
    for i, (plate, zone, reason) in enumerate(plates_zones):
        images = {
            "plate": ("plate", make_image(30 + i, (480, 110))),
            "overview": ("overview", make_image(40 + i, (960, 540))),
        }
        at = {"lon": 4.3505, "lat": 52.0100 + 0.003 * (i % 2)} if zone == "blauw" else {}
        meta, parts = observation(images=images, plate=plate, zone_id=zone, reason=reason, **at)
        r = httpx.post(f"{base}/api/v1/observations", files=multipart(meta, parts), headers=device)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def _confirm(base: str, boa: dict[str, str], hid: int) -> None:
    assert httpx.post(f"{base}/api/v1/hits/{hid}/claim", headers=boa).status_code == 200
    body = {"mode": "on_site", "lon": 4.3581, "lat": 52.0116}
    r = httpx.post(f"{base}/api/v1/hits/{hid}/confirm", json=body, headers=boa)
    assert r.status_code == 200, r.text


def _beat(
    base: str, token: str, minutes_ago: float, lon: float, lat: float, counts: dict[str, int]
) -> None:
    body = {
        "sent_at": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
        "run_id": str(uuid.uuid4()),
        "counts": {"frames": 100, **counts},
        "software_version": "scancar-car/2.1",
        "lon": lon,
        "lat": lat,
        "outbox_backlog": 2,
        "cameras": [{"name": "rechts", "state": "up", "fps": 9.8, "last_frame_age_s": 0.1,
                     "frames": 100}],
        "gps": {"state": "ok", "fix_age_s": 0.5, "satellites": 9},
    }  # fmt: skip
    r = httpx.post(
        f"{base}/api/v1/devices/heartbeat", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 204, r.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_backoffice_pages_in_the_browser(
    device_context, check_page, settings, engine, accounts, tmp_path
):
    from api.main import create_app

    settings = settings.model_copy(update={"map_tile_url": ""})  # offline: no base map
    app = create_app(settings, engine=engine, rights_checker=FakeRights())
    names = {
        "admin": accounts.user("admin", name="beheer-eva", password=PASSWORD),
        "backoffice": accounts.user("backoffice", name="bo-karin", password=PASSWORD),
        "coordinator": accounts.user("coordinator", name="meldkamer-ans", password=PASSWORD),
        "boa": accounts.user("boa", name="boa-piet", password=PASSWORD),
    }
    admin = accounts.headers("admin")
    boa = accounts.headers("boa")
    car = accounts.device("auto-noord")
    silent_car = accounts.device("auto-zuid")
    device = {"Authorization": f"Bearer {car}"}
    with serve(app) as base:
        assert httpx.put(f"{base}/api/v1/zones", json=TOWN, headers=admin).status_code == 201
        # the dashboard's known figures: 30 reads and 11 suspects from the cars' heartbeats
        _beat(base, car, 0.5, 4.3575, 52.0110, {"reads": 30, "checks": 30, "suspects": 11})
        _beat(base, silent_car, 40, 4.3610, 52.0060, {"reads": 0, "checks": 0, "suspects": 0})
        with Session(engine) as s:  # its last sign of life 40 minutes ago
            row = s.exec(select(DeviceRow).where(DeviceRow.name == "auto-zuid")).one()
            row.last_seen_at = datetime.now(UTC) - timedelta(minutes=40)
            s.add(row)
            s.commit()
        hits = _hits(
            base,
            device,
            [("GZ123T", "centrum", "no_right"), ("XK52GV", "centrum", "no_right"),
             ("TT01AB", "blauw", "max_stay_exceeded"), ("PP77RR", "blauw", "max_stay_exceeded")],
        )  # fmt: skip
        service.run_grace_step(
            engine,
            app.state.backend.evidence_store,
            app.state.backend.rights_checker,
            app.state.backend.zone_rules,
            settings,
            now=CAPTURED_AT.replace(hour=11),
        )
        _confirm(base, boa, hits[0])
        fine_id = httpx.get(
            f"{base}/api/v1/fines",
            params={"hit_id": hits[0]},
            headers=accounts.headers("backoffice"),
        ).json()["data"][0]["id"]
        r = httpx.post(
            f"{base}/api/v1/fines/{fine_id}/issue", headers=accounts.headers("backoffice")
        )
        assert r.status_code == 200, r.text

        # the BOA on a tablet shares the location with the control room
        boa_page = device_context(
            "tablet", geolocation={"longitude": 4.3552, "latitude": 52.0085},
            permissions=["geolocation"],
        ).new_page()  # fmt: skip
        _login(boa_page, base, names["boa"], "/ui/queue")
        boa_page.click("#share-toggle")
        boa_page.wait_for_url("**/ui/queue")
        boa_page.wait_for_selector("#share-location:has-text('laatst om')")
        for n, kind in enumerate(("phone", "tablet")):
            page = device_context(kind).new_page()
            first = n == 0
            _walk_zones(page, check_page, base, names["admin"], kind, first, tmp_path)
            _walk_exports(page, check_page, base, names["backoffice"], kind, first, fine_id)
            _walk_hits(page, check_page, base, kind, hits[0])
            _walk_cars_and_audit(page, check_page, base, kind)
            _walk_control_room(page, check_page, base, names["coordinator"], kind, hits[2 + n])
            # the BOA sees the assigned hit on top of the queue
            boa_page.goto(f"{base}/ui/queue")
            first_item = boa_page.locator(".app-queue__item").first
            assert first_item.get_attribute("href") == f"/ui/hits/{hits[2 + n]}"
            assert "Voor u van de meldkamer" in first_item.inner_text()
            if first:
                check_page(boa_page, "bo-tablet-boa-queue-assigned")
                _live_refresh(page, base, accounts, hits[3])

        # the administrator disables the BOA: the BOA's open tablet session ends at once
        admin_page = device_context("tablet").new_page()
        _login(admin_page, base, names["admin"], "/ui/admin")
        admin_page.click("#nav-gebruikers")
        admin_page.click("a:text('boa-piet')")
        admin_page.click("#disable")
        admin_page.wait_for_selector("#enable")
        assert admin_page.inner_text("#user-state") == "Uitgeschakeld"
        boa_page.goto(f"{base}/ui/queue")
        assert "/ui/login" in boa_page.url


def _broken_town(tmp_path) -> str:
    doc = copy.deepcopy(TOWN)
    doc["features"][0]["properties"]["kind"] = "purple"
    doc["features"][3]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[4.35, 52.0], [4.36, 52.01], [4.36, 52.0], [4.35, 52.01], [4.35, 52.0]]],
    }
    path = tmp_path / "zones-kapot.geojson"
    path.write_text(json.dumps(doc))
    return str(path)


def _changed_town(tmp_path) -> str:
    doc = copy.deepcopy(TOWN)
    doc["features"].pop()
    doc["features"][0]["properties"]["name"] = "Binnenstad"
    path = tmp_path / "zones-nieuw.geojson"
    path.write_text(json.dumps(doc))
    return str(path)


def _walk_zones(page, check_page, base, admin, kind, first, tmp_path) -> None:
    """Zones: the map with labels; a broken file refused; a preview saved; a rollback."""
    _login(page, base, admin, "/ui/admin")
    _assert_nav_in_sight(page)
    page.click("#nav-zones")
    page.wait_for_url("**/ui/zones")
    page.wait_for_selector("#zone-map[data-ready]")
    assert page.locator(".bo-zone-label").count() >= 5
    page.wait_for_timeout(300)  # the fit's animation
    assert "Geen achtergrondkaart" in page.inner_text("#zone-map-notice")
    check_page(page, f"bo-{kind}-zones")
    if not first:
        page.click("#version-2")
        page.wait_for_selector("#version-map[data-ready='5']")
        check_page(page, f"bo-{kind}-zone-version")
        return
    page.set_input_files("#upload-bestand", _broken_town(tmp_path))
    page.click("#upload")
    page.wait_for_selector("#problems")
    assert page.locator(".problem-row").count() == 2
    assert "de rand snijdt zichzelf" in page.inner_text("#problem-list")
    assert page.locator(".version-row").count() == 1  # nothing stored
    check_page(page, f"bo-{kind}-zones-problems")

    page.set_input_files("#upload-bestand", _changed_town(tmp_path))
    page.click("#upload")
    page.wait_for_selector("#preview-map[data-ready='5']")
    assert "1 verwijderd" in page.inner_text("#preview-diff")
    check_page(page, f"bo-{kind}-zone-preview")
    page.click("#save")
    page.wait_for_url("**/ui/zones")
    assert "Versie 2 is opgeslagen" in page.inner_text("#flash")
    assert page.locator(".version-row").count() == 2

    page.click("#version-1")
    page.wait_for_selector("#rollback-button")
    assert "1 nieuw" in page.inner_text("#rollback-diff")
    page.click("#rollback-button")
    page.wait_for_url("**/ui/zones")
    assert "teruggezet als nieuwe versie 3" in page.inner_text("#flash")
    assert page.locator(".version-row").count() == 3


NAV_OUT_OF_SIGHT_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const a of document.querySelectorAll('.app-nav__link')) {
    const b = a.getBoundingClientRect();
    const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
    if (b.left < 0 || b.right > width || !(hit && a.contains(hit))) {
      out.push(`${a.innerText} ${Math.round(b.left)}..${Math.round(b.right)}`);
    }
  }
  return {out, width, scrollWidth: document.documentElement.scrollWidth};
}
"""


def _assert_nav_in_sight(page) -> None:
    """Every item of the navigation is on screen as the page opens: none to the side (off
    the screen or in a row that scrolls sideways), and the page itself does not scroll
    sideways."""
    page.evaluate("window.scrollTo(0, 0)")
    seen = page.evaluate(NAV_OUT_OF_SIGHT_JS)
    assert seen["out"] == [], f"navigation items out of sight at {seen['width']} px: {seen['out']}"
    assert seen["scrollWidth"] <= seen["width"]


def _assert_one_line(page, selector: str, at_most: int = 1) -> None:
    """Each element matching ``selector`` shows its text on one line (``at_most`` lines)."""
    lines = page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel), (el) => {
        // the boxes of the text itself (not of the elements around it), one line per band
        const boxes = [];
        const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
          const r = document.createRange();
          r.selectNodeContents(n);
          boxes.push(...Array.from(r.getClientRects()).filter((b) => b.width > 0));
        }
        boxes.sort((a, b) => a.top - b.top);
        let lines = 0, bottom = -Infinity;
        for (const b of boxes) {
          if (b.top >= bottom - 1) { lines += 1; bottom = b.bottom; }
          else bottom = Math.max(bottom, b.bottom);
        }
        return [el.innerText, lines]; })""",
        selector,
    )
    assert lines, f"nothing matches {selector}"
    wrapped = [(text, n) for text, n in lines if not 1 <= n <= at_most]
    assert wrapped == [], f"{selector} wraps: {wrapped}"


ZONE_MAP_LABELS_JS = """
() => {
  const svg = document.querySelector('svg.zone-map');
  const paths = Array.from(svg.querySelectorAll('path[data-zone]')).reverse();  // topmost first
  const zoneAt = (x, y) => {
    const hit = paths.find((p) => p.isPointInFill(new DOMPoint(x, y)));
    return hit ? hit.dataset.zone : null;
  };
  const labels = Array.from(svg.querySelectorAll('text'), (t) => [t.textContent, t.getBBox()]);
  const problems = [];
  labels.forEach(([text, b], i) => {
    const under = new Set();
    for (let fx = 0; fx <= 1; fx += 0.125) {
      for (let fy = 0; fy <= 1; fy += 0.25) {
        under.add(zoneAt(b.x + fx * b.width, b.y + fy * b.height));
      }
    }
    if (under.size !== 1 || under.has(null)) problems.push(`${text} lies across ${[...under]}`);
    for (const [other, o] of labels.slice(i + 1)) {
      const apart = b.x >= o.x + o.width || o.x >= b.x + b.width
        || b.y >= o.y + o.height || o.y >= b.y + b.height;
      if (!apart) {
        problems.push(`${text} overlaps ${other}`);
      }
    }
  });
  return {count: labels.length, problems};
}
"""


def _assert_zone_map_readable(page) -> None:
    """The dashboard's zone map: each label lies on its zone's visible part alone (not across
    an edge or a smaller zone), no two labels overlap, and the ground outside the zones (a
    zone's hole included) is hatched and named in the legend."""
    seen = page.evaluate(ZONE_MAP_LABELS_JS)
    assert seen["count"] >= 4, seen
    assert seen["problems"] == [], seen["problems"]
    assert page.locator("svg.zone-map rect.zone-map-outside").count() == 1
    assert page.inner_text("#legend-outside") == "Gearceerd: geen zone"


def _walk_exports(page, check_page, base, clerk, kind, first, fine_id) -> None:
    """Exports: a tax batch made, listed with its count and total; the fine says exported;
    the fine list (its "Open" buttons and each value on one line). The back office's nine
    navigation items all in sight on each size."""
    _login(page, base, clerk, "/ui/dashboard")
    assert page.locator(".app-nav__link").count() == 9
    _assert_nav_in_sight(page)
    assert page.inner_text("#kpi-scans") == "30"
    assert page.inner_text("#kpi-suspects") == "11"
    assert page.inner_text("#kpi-hits") == "4"
    assert page.inner_text("#kpi-rate") == "100%"
    assert page.locator("#no-data").count() == 0
    _assert_zone_map_readable(page)
    check_page(page, f"bo-{kind}-dashboard")
    page.click("#nav-exports")
    page.wait_for_url("**/ui/exports")
    if first:
        assert "1 boete" in page.inner_text("#waiting-tax")
        page.check("#export-spoor")
        page.click("#export")
        page.wait_for_selector("#batch-fines")
        assert "Exportbatch gemaakt: 1 boete" in page.inner_text("#flash")
        check_page(page, f"bo-{kind}-export-batch")
        with page.expect_download() as download:
            page.click("#download")
        assert download.value.suggested_filename.startswith("fines-tax-")
        page.goto(f"{base}/ui/exports")
    assert page.locator(".batch-row").count() == 1
    # the batches: no date broken (the period may break before its "t/m"), no name broken at
    # its hyphen, all seven columns in sight on a tablet and the page not scrolling sideways
    _assert_one_line(page, ".batch-row td[data-label='Periode']", at_most=2)
    _assert_one_line(page, ".batch-period > span")
    _assert_one_line(page, ".batch-row td[data-label='Door']")
    assert page.eval_on_selector("#batches", "t => t.scrollWidth <= t.parentElement.clientWidth")
    _assert_nav_in_sight(page)
    check_page(page, f"bo-{kind}-exports")
    page.goto(f"{base}/ui/fines/{fine_id}")
    assert page.inner_text("#fine-exported").endswith("exportbatch Naheffingsaanslag")
    page.click("#nav-fines")
    page.wait_for_url("**/ui/fines")
    _assert_nav_in_sight(page)
    _assert_one_line(page, ".fine-row a.utrecht-button-link")
    _assert_one_line(page, ".fine-row td")  # the tablet's rows one line high, no number broken
    check_page(page, f"bo-{kind}-fines")


def _walk_cars_and_audit(page, check_page, base, kind) -> None:
    """The cars with the silent one flagged; the audit log filtered on zones."""
    page.click("#nav-autos")
    page.wait_for_url("**/ui/autos")
    assert "auto-zuid" in page.inner_text("#silent-warning")
    check_page(page, f"bo-{kind}-cars")
    page.click("#nav-audit")
    page.wait_for_url("**/ui/audit")
    page.select_option("#audit-action", "zones.*")
    page.click("#filter")
    page.wait_for_url("**action=zones**")
    assert page.locator(".audit-row").count() == 3
    check_page(page, f"bo-{kind}-audit")


def _walk_control_room(page, check_page, base, coordinator, kind, hit_id) -> None:
    """The live map (cars, the sharing BOA, waiting hits) and its lists; a hit assigned."""
    _login(page, base, coordinator, "/ui/meldkamer")
    _assert_nav_in_sight(page)
    page.wait_for_selector("#live-map[data-drawn]")
    # 2 cars, the BOA, the waiting hits of the blue zone
    assert int(page.get_attribute("#live-map", "data-drawn")) >= 5
    assert page.locator(".bo-zone-label").count() >= 3
    assert "boa-piet" in page.inner_text("#boas")
    assert "stil" in page.inner_text("#cars")
    check_page(page, f"bo-{kind}-controlroom")
    # the BOAs sharing their location come first, with their distance to the hit
    first_choice = page.locator(f"#assign-{hit_id}-boa_id option").nth(1)
    assert re.fullmatch(r"boa-piet \(\d+ m, deelt locatie\)", first_choice.inner_text())
    page.select_option(f"#assign-{hit_id}-boa_id", value=first_choice.get_attribute("value"))
    page.click(f"#assign-{hit_id}")
    page.wait_for_selector(f"#assigned-{hit_id}")
    assert f"Melding {hit_id} is toegewezen aan boa-piet." in page.inner_text("#flash")
    check_page(page, f"bo-{kind}-controlroom-assigned")


def _walk_hits(page, check_page, base, kind, hit_id) -> None:
    """The hit search by plate as typed; the hit's read-only page; on to its fine."""
    page.click("#nav-meldingen")
    page.wait_for_url("**/ui/meldingen")
    assert page.locator(".hit-row").count() == 4
    page.fill("#zoek-kenteken", "gz-123-t")
    page.click("#filter")
    page.wait_for_url("**kenteken=**")
    assert page.locator(".hit-row").count() == 1
    check_page(page, f"bo-{kind}-hits")
    page.click(f'a[href="/ui/meldingen/{hit_id}"]')
    page.wait_for_selector("#hit-fine")
    assert page.inner_text("#hit-plate") == "GZ-123-T"
    check_page(page, f"bo-{kind}-hit")
    page.click("#to-fine")
    page.wait_for_selector("#to-hit")


def _live_refresh(page, base, accounts, hit_id) -> None:
    """The control room's map and notice follow a change made elsewhere, without a reload."""
    page.evaluate("window.__sameDocument = true")
    drawn_before = page.get_attribute("#live-map", "data-drawn")
    assert page.is_hidden("#stale-notice")
    coordinator = accounts.headers("coordinator")
    boa = httpx.get(f"{base}/api/v1/controlroom/live", headers=coordinator).json()["boas"][0]
    r = httpx.put(
        f"{base}/api/v1/controlroom/hits/{hit_id}/assignment",
        json={"boa_id": boa["id"]},
        headers=coordinator,
    )
    assert r.status_code == 200, r.text
    page.wait_for_selector("#stale-notice:not([hidden])", timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert page.get_attribute("#live-map", "data-drawn") == drawn_before
    r = httpx.delete(f"{base}/api/v1/controlroom/hits/{hit_id}/assignment", headers=coordinator)
    assert r.status_code == 204
