"""Zones through the API: versions, validation errors, locate; and the zones CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

TOWN = REPO / "fixtures" / "zones" / "town.geojson"
TOWN_RD = REPO / "fixtures" / "zones" / "town_rd.geojson"


@pytest.fixture
def admin(accounts):
    return accounts.headers("admin")


def put(client, headers, doc, **params):
    return client.put("/api/v1/zones", json=doc, params=params, headers=headers)


def test_zones_upload_creates_versions_and_keeps_old_ones(client, admin, accounts):
    doc = json.loads(TOWN.read_text())
    r1 = put(client, admin, doc, note="first")
    assert r1.status_code == 201, r1.text
    assert r1.json()["version"] == 1
    assert r1.json()["zone_count"] == 6
    smaller = dict(doc, features=doc["features"][:2])
    r2 = put(client, admin, smaller)
    assert r2.json()["version"] == 2
    boa = accounts.headers("boa")
    current = client.get("/api/v1/zones", headers=boa).json()
    assert current["version"] == 2
    assert len(current["features"]) == 2
    old = client.get("/api/v1/zones", params={"version": 1}, headers=boa).json()
    assert len(old["features"]) == 6
    versions = client.get("/api/v1/zones/versions", headers=admin).json()
    assert [v["version"] for v in versions["data"]] == [2, 1]
    assert client.get("/api/v1/zones", params={"version": 9}, headers=boa).status_code == 404


def test_zones_upload_in_rd_new_is_stored_as_wgs84(client, admin):
    r = put(client, admin, json.loads(TOWN_RD.read_text()))
    assert r.status_code == 201
    assert r.json()["source_crs"] == "EPSG:28992"
    doc = client.get("/api/v1/zones", headers=admin).json()
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 4.3 < lon < 4.4
    assert 52.0 < lat < 52.1


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d["features"][0]["properties"].update(kind="pay"), "properties.kind"),
        (lambda d: d["features"][1].update(id=d["features"][0]["id"]), "duplicate"),
        (lambda d: d.update(features=[]), "empty"),
        (lambda d: d["features"][0]["properties"].pop("area_code"), "area_code"),
        (
            lambda d: d["features"][0]["geometry"].update(
                coordinates=[[[85000, 446000], [85100, 446000], [85100, 446100], [85000, 446000]]]
            ),
            "RD New",
        ),
    ],
    ids=["unknown-kind", "duplicate-id", "empty", "missing-area-code", "rd-numbers-in-wgs84"],
)
def test_zones_invalid_upload_is_422_with_problems_and_stores_nothing(
    client, admin, mutate, needle
):
    doc = json.loads(TOWN.read_text())
    mutate(doc)
    r = put(client, admin, doc)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_zone_file"
    assert any(needle.lower() in p.lower() for p in body["problems"]), body["problems"]
    assert client.get("/api/v1/zones", headers=admin).json()["version"] == 0


def test_zones_bowtie_geometry_reports_location_and_fix_repairs_it(client, admin):
    doc = json.loads(TOWN.read_text())
    doc["features"][0]["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[4.35, 52.01], [4.36, 52.02], [4.36, 52.01], [4.35, 52.02], [4.35, 52.01]]
        ],
    }
    r = put(client, admin, doc)
    assert r.status_code == 422
    assert any("4.355" in p for p in r.json()["problems"]), r.json()["problems"]
    fixed = put(client, admin, doc, fix="true")
    assert fixed.status_code == 201
    assert fixed.json()["repairs"]


@pytest.mark.parametrize(
    ("lon", "lat", "at", "zone", "regulated", "uncertain"),
    [
        (4.3600, 52.0100, "2026-11-26T11:00:00+01:00", "centrum", True, False),  # Thursday
        (4.3600, 52.0100, "2026-11-29T10:00:00+01:00", "centrum", False, False),  # Sunday 10h
        (4.3547, 52.0135, "2026-11-26T11:00:00+01:00", None, False, False),  # park (hole)
        (4.3505, 52.0115, "2026-11-26T11:00:00+01:00", "blauw", True, False),
        (4.35302, 52.0115, "2026-11-26T11:00:00+01:00", "centrum", True, True),  # 1.4 m from edge
        (4.4000, 52.1000, "2026-11-26T11:00:00+01:00", None, False, False),
    ],
)
def test_zones_locate(client, admin, accounts, lon, lat, at, zone, regulated, uncertain):
    put(client, admin, json.loads(TOWN.read_text()))
    r = client.get(
        "/api/v1/zones/locate",
        params={"lon": lon, "lat": lat, "at": at},
        headers=accounts.headers("device"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["zone"] or {}).get("id") == zone
    assert body["regulated"] is regulated
    assert body["uncertain"] is uncertain
    if zone == "centrum" and regulated:
        assert body["tariff_cents_per_hour"] == 450
        assert body["window"]["start"] == "09:00"


def test_zones_locate_refuses_naive_time(client, admin):
    r = client.get(
        "/api/v1/zones/locate",
        params={"lon": 4.36, "lat": 52.01, "at": "2026-11-26T11:00:00"},
        headers=admin,
    )
    assert r.status_code == 422
    assert "offset" in r.json()["detail"]


def _cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SCANCAR_ENV="development", SCANCAR_DATABASE_URL=f"sqlite:///{db}")
    return subprocess.run(
        [sys.executable, "-m", "scancar", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=REPO,
    )


def test_zones_cli_check_and_import(tmp_path):
    db = tmp_path / "z.db"
    ok = _cli("zones", "check", str(TOWN), db=db)
    assert ok.returncode == 0
    assert ok.stdout.strip() == "ok: 6 zones"
    bad = tmp_path / "bad.geojson"
    doc = json.loads(TOWN.read_text())
    doc["features"][2]["properties"]["kind"] = "pay"
    doc["features"][3]["properties"]["grace_minutes"] = "ten"
    bad.write_text(json.dumps(doc))
    r = _cli("zones", "check", str(bad), db=db)
    assert r.returncode == 1
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("feature 2")
    assert _cli("db", "upgrade", db=db).returncode == 0
    imp = _cli("zones", "import", str(TOWN_RD), "--crs", "EPSG:28992", db=db)
    assert imp.returncode == 0, imp.stderr
    assert "imported 6 zones as version 1" in imp.stdout
    assert _cli("zones", "import", str(bad), db=db).returncode == 1
