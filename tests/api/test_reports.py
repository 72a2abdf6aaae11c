"""Report figures against a fixture with known counts; the CSV; the dashboard page."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from api.auth.db import DeviceRow
from api.devices.db import HeartbeatRow
from api.fines.db import FinePaymentRow, FineRow
from api.hits.db import HitRow

LOCAL = ZoneInfo("Europe/Amsterdam")


def _device(session: Session) -> int:
    dev = session.exec(select(DeviceRow)).first()
    if dev is None:
        from api.auth.service import create_device

        dev, _ = create_device(session, name=f"car-{uuid.uuid4().hex[:6]}")
        session.flush()
    return dev.id or 0


def make_hit(
    session: Session,
    *,
    plate: str = "GZ123T",
    at: datetime,
    status: str = "awaiting_review",
    zone_id: str | None = "centrum",
    reject_reason: str | None = None,
    decided_after: timedelta | None = None,
) -> HitRow:
    """A hit row straight in the database (for figures that need many hits)."""
    hit = HitRow(
        observation_id=str(uuid.uuid4()),
        device_id=_device(session),
        content_sha256="0" * 64,
        metadata_json=f'{{"plate": "{plate}"}}',
        status=status,
        plate=plate,
        country="NL",
        plate_confidence=0.95,
        captured_at=at,
        lon=4.3581,
        lat=52.0116,
        position_accuracy_m=3.0,
        camera="right",
        zone_id=zone_id,
        reason="no_right",
        software_version="test",
        reject_reason=reject_reason,
        decided_at=at + decided_after if decided_after else None,
    )
    session.add(hit)
    session.flush()
    return hit


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)  # type: ignore[misc]


START = local(2026, 11, 2, 0, 0)  # Monday
END = local(2026, 11, 4, 0, 0)  # two local days


@pytest.fixture
def fixture_data(engine):
    """Known figures:

    day 1 (2 Nov): centrum: 3 confirmed (decided after 10, 20, 30 min), 1 rejected
      (driver_present, 60 min); blauw: 1 rejected (plate_misread, 40 min), 1 awaiting.
    day 2 (3 Nov): centrum: 1 confirmed (50 min) at 23:30 local (= 22:30 UTC, still 3 Nov);
      noord: 1 dismissed.
    outside: 1 confirmed on 1 Nov 23:59 local and 1 on 4 Nov 00:00 local (not counted).
    fines: 4 tax in centrum (offences: 3 on day 1, 1 on day 2; issued: 2 on day 1 at 8480,
      1 on day 2 at 8480; 1 draft)
      payments: 3000 on day 1 (the first fine), 8480 on day 2 (the second: a day-1 offence).
    One date basis: fines and their amounts count on the day of the offence.
    heartbeats: car A run r1: reads 100 before the period, 250 on day 1, 400 on day 2;
      car A run r2 (restart) 50 on day 2; suspects 3 -> 9 on day 1/2.
    """
    with Session(engine) as s:
        c = [
            make_hit(s, at=local(2026, 11, 2, 9, 0), status="confirmed", decided_after=m)
            for m in (timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=30))
        ]
        make_hit(
            s,
            at=local(2026, 11, 2, 9, 30),
            status="rejected",
            reject_reason="driver_present",
            decided_after=timedelta(minutes=60),
        )
        make_hit(
            s,
            at=local(2026, 11, 2, 14, 5),
            status="rejected",
            zone_id="blauw",
            reject_reason="plate_misread",
            decided_after=timedelta(minutes=40),
        )
        make_hit(s, at=local(2026, 11, 2, 14, 10), zone_id="blauw")
        late = make_hit(
            s,
            at=local(2026, 11, 3, 23, 30),
            status="confirmed",
            decided_after=timedelta(minutes=50),
        )
        make_hit(s, at=local(2026, 11, 3, 12, 0), status="dismissed", zone_id="noord")
        make_hit(s, at=local(2026, 11, 1, 23, 59), status="confirmed")
        make_hit(s, at=local(2026, 11, 4, 0, 0), status="confirmed")
        fines = []
        for hit, issued, paid in (
            (c[0], local(2026, 11, 2, 10, 0), 3000),
            (c[1], local(2026, 11, 2, 11, 0), 8480),
            (c[2], None, 0),
            (late, local(2026, 11, 3, 23, 55), 0),
        ):
            f = FineRow(
                hit_id=hit.id,
                track="tax",
                status="issued" if issued else "draft",
                plate=hit.plate,
                zone_id=hit.zone_id,
                offence_at=hit.captured_at,
                amount_cents=8480,
                paid_cents=paid,
                issued_at=issued,
            )
            s.add(f)
            s.flush()
            fines.append(f)
        s.add(
            FinePaymentRow(
                fine_id=fines[0].id, amount_cents=3000, received_at=local(2026, 11, 2, 15)
            )
        )
        s.add(
            FinePaymentRow(
                fine_id=fines[1].id, amount_cents=8480, received_at=local(2026, 11, 3, 9)
            )
        )
        dev = _device(s)
        for at, run, reads, suspects in (
            (local(2026, 11, 1, 20, 0), "r1", 100, 1),
            (local(2026, 11, 2, 12, 0), "r1", 250, 3),
            (local(2026, 11, 3, 12, 0), "r1", 400, 9),
            (local(2026, 11, 3, 15, 0), "r2", 50, 0),
            (local(2026, 11, 4, 1, 0), "r2", 999, 5),
        ):
            s.add(
                HeartbeatRow(
                    device_id=dev,
                    run_id=run,
                    sent_at=at,
                    received_at=at,
                    counts={"reads": reads, "checks": reads, "suspects": suspects},
                    software_version="t",
                )
            )
        s.commit()


def test_reports_summary_figures_match_the_fixture(client, accounts, fixture_data):
    r = client.get(
        "/api/v1/reports/summary",
        params={"from": START.isoformat(), "to": END.isoformat()},
        headers=accounts.headers("backoffice"),
    )
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["hits_total"] == 8
    assert s["hits_by_status"] == {
        "awaiting_review": 1,
        "confirmed": 4,
        "dismissed": 1,
        "rejected": 2,
    }
    assert s["confirmation_rate"] == round(4 / 6, 4)
    assert s["reject_reasons"] == {"driver_present": 1, "plate_misread": 1}
    assert s["fines_by_track_status"] == {"tax": {"draft": 1, "issued": 3}}
    assert s["amount_issued_cents"] == 3 * 8480
    assert s["amount_paid_cents"] == 3000 + 8480
    assert s["avg_scan_to_decision_s"] == pytest.approx((10 + 20 + 30 + 60 + 40 + 50) / 6 * 60)
    assert s["scans"] == (250 - 100) + (400 - 250) + 50
    assert s["suspects"] == (3 - 1) + (9 - 3)
    hours = s["hits_per_hour"]
    assert (hours[9], hours[14], hours[23], hours[12], sum(hours)) == (4, 2, 1, 1, 8)
    zones = {z["zone_id"]: z for z in s["per_zone"]}
    assert zones["centrum"] == {
        "zone_id": "centrum",
        "hits": 5,
        "confirmed": 4,
        "rejected": 1,
        "fines": 4,
        "amount_issued_cents": 3 * 8480,
    }
    assert (zones["blauw"]["hits"], zones["blauw"]["rejected"]) == (2, 1)
    assert zones["noord"]["hits"] == 1
    days = {d["day"]: d for d in s["per_day"]}
    assert list(days) == ["2026-11-02", "2026-11-03"]
    d1, d2 = days["2026-11-02"], days["2026-11-03"]
    assert (d1["hits"], d1["confirmed"], d1["rejected"], d1["confirmation_rate"]) == (
        6,
        3,
        2,
        0.6,
    )
    assert (d2["hits"], d2["confirmed"], d2["confirmation_rate"]) == (2, 1, 1.0)
    assert (d1["fines_issued"], d1["amount_issued_cents"], d1["amount_paid_cents"]) == (
        2,
        2 * 8480,
        3000 + 8480,
    )
    assert (d2["fines_issued"], d2["amount_issued_cents"], d2["amount_paid_cents"]) == (
        1,
        8480,
        0,
    )
    assert (d1["scans"], d2["scans"]) == (150, 200)


def test_reports_summary_csv(client, accounts, fixture_data):
    r = client.get(
        "/api/v1/reports/summary",
        params={"from": START.isoformat(), "to": END.isoformat(), "format": "csv"},
        headers=accounts.headers("admin"),
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["section", "zone_id", "day", "metric", "value"]
    index = {(a, b, c, d): v for a, b, c, d, v in rows[1:]}
    assert index[("total", "", "", "hits")] == "8"
    assert index[("zone", "centrum", "", "fines")] == "4"
    assert index[("day", "", "2026-11-02", "amount_paid_cents")] == str(3000 + 8480)
    assert index[("reject_reasons", "", "", "plate_misread")] == "1"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"from": "2026-11-03T00:00:00+00:00", "to": "2026-11-02T00:00:00+00:00"}, "after"),
        ({"from": "2024-01-01T00:00:00+00:00", "to": "2026-01-01T00:00:00+00:00"}, "at most"),
        ({"from": "2026-11-03T00:00:00"}, "timezone"),
    ],
)
def test_reports_summary_refuses_bad_periods(client, accounts, params, needle):
    r = client.get("/api/v1/reports/summary", params=params, headers=accounts.headers("backoffice"))
    assert r.status_code == 422
    assert needle in r.json()["detail"]


def test_reports_dashboard_page_has_svg_charts_and_map(app, client, accounts, engine):
    import json

    from api.ui.session import COOKIE
    from tests.conftest import REPO

    admin = accounts.headers("admin")
    town = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
    assert client.put("/api/v1/zones", json=town, headers=admin).status_code == 201
    now = datetime.now(LOCAL)
    with Session(engine) as s:
        for _ in range(3):
            make_hit(s, at=now - timedelta(hours=2), status="confirmed", zone_id="centrum")
        make_hit(s, at=now - timedelta(hours=1), status="rejected", reject_reason="driver_present")
        s.commit()
    name = accounts.user("backoffice")
    r = client.post(
        "/ui/login",
        data={"username": name, "password": "correct-horse-1", "next": "/ui/dashboard"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.cookies.set(COOKIE, r.cookies[COOKIE], path="/ui")
    page = client.get("/ui/dashboard")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 5
    assert 'data-zone="centrum" data-hits="4"' in html
    assert "Bestuurder aanwezig" in html
    assert "style=" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None  # no inline script (CSP)
    csv_page = client.get("/ui/dashboard/summary.csv", params={"days": 1})
    assert csv_page.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_page.text)))
    assert ["zone", "centrum", "", "hits", "4"] in rows
    client.cookies.clear()
