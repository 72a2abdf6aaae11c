"""Counts of the big lists: exact up to COUNT_CAP, else 'more than COUNT_CAP'."""

from __future__ import annotations

import re

from sqlalchemy import bindparam, text

from api.db import UTCDateTime, utcnow
from api.pagination import COUNT_CAP
from tests.bulk import series


def test_list_counts_stop_at_the_cap_and_say_so(client, accounts, engine):
    with_, from_ = series(engine, COUNT_CAP + 5)
    stmt = text(
        f"{with_}INSERT INTO audit_log (at, actor_type, actor_name, action, target_type, "  # noqa: S608
        "target_id, detail) SELECT :at, 'system', 'test', 'hit.confirm', "
        f"CASE WHEN i <= 3 THEN 'zone' ELSE 'hit' END, CAST(i AS TEXT), '' FROM {from_}"
    ).bindparams(bindparam("at", type_=UTCDateTime()))
    with engine.begin() as conn:
        conn.execute(stmt, {"at": utcnow()})
    bo = accounts.headers("backoffice")
    many = client.get("/api/v1/audit", params={"target_type": "hit", "limit": 5}, headers=bo)
    assert many.status_code == 200
    assert (many.json()["count"], many.json()["count_exact"]) == (COUNT_CAP, False)
    assert [int(r["target_id"]) for r in many.json()["data"]] == list(
        range(COUNT_CAP + 5, COUNT_CAP, -1)
    )
    few = client.get("/api/v1/audit", params={"target_type": "zone"}, headers=bo).json()
    assert (few["count"], few["count_exact"], len(few["data"])) == (3, True, 3)
    fines = client.get("/api/v1/fines", headers=bo).json()
    assert (fines["count"], fines["count_exact"]) == (0, True)


def test_hit_list_and_search_count_up_to_the_cap(client, accounts, engine):
    from sqlmodel import Session

    from api.auth.service import create_device
    from tests.api.test_admin_pages import _login, _text
    from tests.bulk import false

    with Session(engine) as s:
        device, _ = create_device(s, name="count-car")
        s.commit()
        dev = device.id
    with_, from_ = series(engine, COUNT_CAP + 5)
    stmt = text(
        f"{with_}INSERT INTO hits (observation_id, device_id, content_sha256, metadata_json, "  # noqa: S608
        "status, plate, plate_confidence, captured_at, lon, lat, position_accuracy_m, camera, "
        "zone_id, reason, software_version, received_at, updated_at, repeat) "
        f"SELECT 'count-' || i, {dev}, 'x', '{{}}', CASE WHEN i <= 3 THEN 'confirmed' "
        "ELSE 'awaiting_review' END, 'NB' || i, 0.9, :at, 5.12, 52.09, 3.0, 'right', "
        f"'centrum', 'no_right', 't', :at, :at, {false(engine)} FROM {from_}"
    ).bindparams(bindparam("at", type_=UTCDateTime()))
    with engine.begin() as conn:
        conn.execute(stmt, {"at": utcnow()})
    bo = accounts.headers("backoffice")
    many = client.get("/api/v1/hits", params={"limit": 5}, headers=bo).json()
    assert (many["count"], many["count_exact"], len(many["data"])) == (COUNT_CAP, False, 5)
    few = client.get("/api/v1/hits", params={"status": "confirmed"}, headers=bo).json()
    assert (few["count"], few["count_exact"], len(few["data"])) == (3, True, 3)

    _login(client, accounts.user("backoffice"))
    page = client.get("/ui/meldingen")
    assert page.status_code == 200
    assert 'id="hit-count">meer dan 10.000<' in _text(page)
    assert "pagina=2" in page.text  # more pages than the count can say
    last = client.get("/ui/meldingen", params={"pagina": 201})  # rows 10,001 to 10,005
    assert (len(re.findall(r'data-hit="\d+"', last.text)), "pagina=202" in last.text) == (5, False)
    confirmed = client.get("/ui/meldingen", params={"status": "confirmed"})
    assert 'id="hit-count">3<' in _text(confirmed)
    assert "pagina=2" not in confirmed.text
