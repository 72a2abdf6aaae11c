"""Zone versions as an operator manages them (``api.zones.versions``), on SQLite and
PostgreSQL: the diff, a dry run, an identical import, the version list and a rollback; the
same through ``PUT /api/v1/zones`` and the ``scancar zones`` commands."""

from __future__ import annotations

import copy
import json

import pytest
from sqlmodel import select

from api.audit.db import AuditRow
from api.db import session_scope
from api.errors import NotFound
from api.zones.db import ZoneVersionRow
from api.zones.versions import (
    ZoneChange,
    import_zone_set,
    list_zone_versions,
    rollback_zone_set,
)
from tests.api.permits_support import TOWN
from tests.integration.cli.support import run_cli
from zones.geojson import load_feature_collection

TOWN_DOC = json.loads(TOWN.read_text())


def _edited() -> dict:
    """The town without its loading zone, a longer grace in centrum, and a new zone."""
    doc = copy.deepcopy(TOWN_DOC)
    doc["features"] = [f for f in doc["features"] if f["id"] != "laden-kerkstraat"]
    centrum = next(f for f in doc["features"] if f["id"] == "centrum")
    centrum["properties"]["grace_minutes"] = 15
    extra = copy.deepcopy(next(f for f in doc["features"] if f["id"] == "zuid"))
    extra["id"] = "zuid-2"
    extra["geometry"]["coordinates"] = [
        [[4.40, 52.00], [4.41, 52.00], [4.41, 52.01], [4.40, 52.01], [4.40, 52.00]]
    ]
    doc["features"].append(extra)
    return doc


def _import(engine, doc, **kwargs):
    with session_scope(engine) as session:
        return import_zone_set(session, load_feature_collection(doc), None, **kwargs)


def _stored(engine) -> list[int]:
    with session_scope(engine) as session:
        return [r.version for r in session.exec(select(ZoneVersionRow)).all()]


def test_zones_versions_import_diff_identical_and_dry_run(engine):
    first = _import(engine, TOWN_DOC, actor_name="cli")
    assert (first.version, first.previous_version, first.is_created) == (1, 0, True)
    assert first.diff.added == tuple(sorted(f["id"] for f in TOWN_DOC["features"]))

    reordered = dict(TOWN_DOC, features=list(reversed(TOWN_DOC["features"])))
    same = _import(engine, reordered)
    assert (same.version, same.is_created, same.diff.is_empty) == (1, False, True)

    dry = _import(engine, _edited(), dry_run=True)
    assert (dry.version, dry.previous_version, dry.is_created, dry.is_dry_run) == (
        2,
        1,
        False,
        True,
    )
    assert dry.diff.added == ("zuid-2",)
    assert dry.diff.removed == ("laden-kerkstraat",)
    assert dry.diff.changed == (ZoneChange("centrum", ("grace_minutes",)),)
    assert dry.diff.summary() == (
        "1 added (zuid-2); 1 changed (centrum: grace_minutes); 1 removed (laden-kerkstraat)"
    )
    assert _stored(engine) == [1]

    second = _import(engine, _edited(), note="edit")
    assert (second.version, second.is_created) == (2, True)
    assert second.diff == dry.diff
    assert _stored(engine) == [1, 2]


def test_zones_versions_rollback_stores_the_old_set_as_a_new_version(engine):
    _import(engine, TOWN_DOC)
    _import(engine, _edited())
    with session_scope(engine) as session:
        back = rollback_zone_set(session, 1, None, actor_name="ops")
    assert (back.version, back.previous_version, back.is_created) == (3, 2, True)
    assert back.diff.added == ("laden-kerkstraat",)
    assert back.diff.removed == ("zuid-2",)
    with session_scope(engine) as session:
        rows = {r.version: r for r in session.exec(select(ZoneVersionRow)).all()}
        assert rows[3].geojson == rows[1].geojson
        assert rows[3].note == "rollback to version 1"
        infos = list_zone_versions(session)
        audit = session.exec(select(AuditRow).where(AuditRow.action == "zones.rolled_back")).one()
    assert [(i.version, i.is_current) for i in infos] == [(3, True), (2, False), (1, False)]
    assert audit.target_id == "3"
    assert audit.detail.startswith("1 added (laden-kerkstraat)")

    with session_scope(engine) as session:
        again = rollback_zone_set(session, 1, None)
    assert (again.version, again.is_created) == (3, False)
    with session_scope(engine) as session, pytest.raises(NotFound) as err:
        rollback_zone_set(session, 7, None)
    assert err.value.detail == "no zone version 7; versions 1 to 3 exist"


def test_zones_put_identical_is_200_without_a_new_version(client, accounts):
    admin = accounts.headers("admin")
    first = client.put("/api/v1/zones", json=TOWN_DOC, headers=admin)
    assert first.status_code == 201
    assert first.json()["created"] is True
    same = client.put("/api/v1/zones", json=TOWN_DOC, headers=admin)
    assert same.status_code == 200
    assert (same.json()["version"], same.json()["created"]) == (1, False)
    dry = client.put("/api/v1/zones", json=_edited(), params={"dry_run": "true"}, headers=admin)
    assert dry.status_code == 200
    body = dry.json()
    assert (body["version"], body["previous_version"], body["dry_run"]) == (2, 1, True)
    assert body["diff"]["changed"] == [{"zone_id": "centrum", "fields": ["grace_minutes"]}]
    assert client.get("/api/v1/zones", headers=admin).json()["version"] == 1


def test_zones_cli_dry_run_versions_and_rollback(tmp_path):
    edited = tmp_path / "edited.geojson"
    edited.write_text(json.dumps(_edited()))

    def cli(*args: str):
        result = run_cli("zones", *args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert cli("import", str(TOWN)) == ["imported 6 zones as version 1 (town.geojson)"]
    assert cli("import", str(TOWN)) == [
        "6 zones from town.geojson: identical to the current version 1; nothing stored"
    ]
    changes = (
        "changes against version 1: 1 added (zuid-2); 1 changed (centrum: grace_minutes); "
        "1 removed (laden-kerkstraat)"
    )
    assert cli("import", str(edited), "--dry-run") == [
        "dry run: 6 zones from edited.geojson would become version 2; nothing stored",
        changes,
    ]
    assert cli("import", str(edited)) == [
        "imported 6 zones as version 2 (edited.geojson)",
        changes,
    ]
    listing = cli("versions")
    assert listing[0].split()[:2] == ["2", "current"]
    assert listing[1].split()[0] == "1"
    assert "current" not in listing[1]
    assert listing[0].endswith("by cli  import edited.geojson")
    assert cli("rollback", "1")[0] == ("rolled back: the 6 zones of version 1 are now version 3")
    missing = run_cli("zones", "rollback", "9", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: no zone version 9; versions 1 to 3 exist"
