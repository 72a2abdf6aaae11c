"""The back-office gaps of the permits API: the expiry step of the background jobs (with the
waiting list), quota checks when a permit's areas change, and quotas on the CSV import.
Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, col, func, select

from api.audit.db import AuditRow
from api.permits.db import PermitEventRow
from api.permits.jobs import ExpiryReport, run_expiry_step
from tests.api.permits_support import (
    NOORD,
    ZUID,
    apply_for,
    check,
    create_permit,
    decide,
    now,
)

NOORD_AREA = "9999_NOORD"
ZUID_AREA = "9999_ZUID"


def _quota(client, bo, area: str, capacity: int) -> dict:
    r = client.put(f"/api/v1/permit-quotas/{area}", json={"capacity": capacity}, headers=bo)
    assert r.status_code == 200, r.text
    return r.json()


def _get(client, bo, path: str) -> dict:
    r = client.get(f"/api/v1/{path}", headers=bo)
    assert r.status_code == 200, r.text
    return r.json()


def _events(engine, permit_id: str, action: str) -> list[PermitEventRow]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(PermitEventRow).where(
                    PermitEventRow.permit_id == permit_id, PermitEventRow.action == action
                )
            )
        )


def _audit(engine, action: str) -> list[AuditRow]:
    with Session(engine) as s:
        return list(
            s.exec(select(AuditRow).where(AuditRow.action == action).order_by(col(AuditRow.id)))
        )


# --------------------------------------------------------------------------- expiry step
def test_permits_expiry_step_expires_holders_and_grants_the_waiting_list(client, bo, engine):
    _quota(client, bo, NOORD_AREA, 2)
    ending = create_permit(client, bo, "AA11AA", days=30)  # ends in 29 days
    lasting = create_permit(client, bo, "BB22BB", days=200)
    suspended = create_permit(client, bo, "CC33CC", areas=[ZUID_AREA], days=30)
    client.post(f"/api/v1/permits/{suspended}/suspend", json={"reason": "x"}, headers=bo)
    open_ended = client.post(
        "/api/v1/permits",
        json={
            "type": "business",
            "holder": "H-9",
            "plates": ["DD44DD"],
            "area_codes": [ZUID_AREA],
            "valid_from": (now() - timedelta(days=1)).isoformat(),
        },
        headers=bo,
    ).json()["id"]
    lapsing = apply_for(client, bo, "EE55EE", days=10)  # its validity ends while it waits
    first = apply_for(client, bo, "FF66FF", days=365)
    second = apply_for(client, bo, "GG77GG", days=365)
    assert [decide(client, bo, a)["waiting_list_position"] for a in (lapsing, first, second)] == [
        1,
        2,
        3,
    ]
    first_pid = _get(client, bo, f"permit-applications/{first}")["permit_id"]

    later = now() + timedelta(days=31)
    report = run_expiry_step(engine, now=later)
    assert report == ExpiryReport(expired=2, refused=1, granted=1, failed=0)

    expired = _get(client, bo, f"permits/{ending}")
    assert expired["status"] == "expired"
    assert expired["allowed_actions"] == []
    last = expired["events"][-1]
    assert (last["action"], last["from_status"], last["to_status"]) == (
        "expire",
        "active",
        "expired",
    )
    assert last["reason"].startswith("validity ended at ")
    assert last["actor"] == "system (permit expiry)"
    assert _get(client, bo, f"permits/{suspended}")["status"] == "expired"
    assert _get(client, bo, f"permits/{lasting}")["status"] == "active"
    assert _get(client, bo, f"permits/{open_ended}")["status"] == "active"

    refused = _get(client, bo, f"permit-applications/{lapsing}")
    assert (refused["status"], refused["decision"], refused["waiting_list_position"]) == (
        "refused",
        "refuse",
        None,
    )
    assert refused["decision_reason"].endswith("before a place became free")
    granted = _get(client, bo, f"permit-applications/{first}")
    assert (granted["status"], granted["waiting_list_position"]) == ("active", None)
    grant_event = _events(engine, first_pid, "grant")[-1]
    assert grant_event.reason == (
        f"place freed in area {NOORD_AREA} (by {ending}); first on waiting list"
    )
    assert _get(client, bo, f"permit-applications/{second}")["waiting_list_position"] == 1

    quota = _get(client, bo, f"permit-quotas/{NOORD_AREA}")
    assert (quota["holders"], quota["free_places"]) == (2, 0)
    assert [w["position"] for w in quota["waiting"]] == [1]
    listed = client.get("/api/v1/permits", params={"status": "expired"}, headers=bo).json()
    assert sorted(p["id"] for p in listed["data"]) == sorted([ending, suspended])

    assert sorted(a.target_id for a in _audit(engine, "permit.expire")) == sorted(
        [ending, suspended]
    )
    assert [
        a.target_id for a in _audit(engine, "permit_application.granted_from_waiting_list")
    ] == [str(first)]
    assert [a.target_id for a in _audit(engine, "permit_application.refused_validity_ended")] == [
        str(lapsing)
    ]
    assert all(a.actor_type == "system" for a in _audit(engine, "permit.expire"))

    # idempotent: a second run finds nothing, and changes nothing
    assert run_expiry_step(engine, now=later) == ExpiryReport()
    assert len(_events(engine, ending, "expire")) == 1
    assert len(_audit(engine, "permit.expire")) == 2


def test_permits_background_tick_runs_the_expiry_step(app, client, bo):
    from api.retention.jobs import tick

    pid = create_permit(client, bo, "AA11AA", days=30)
    report = tick(app.state.backend, now=now() + timedelta(days=31))
    assert report.expiry == ExpiryReport(expired=1)
    assert report.grace is not None
    assert report.purge is not None
    assert _get(client, bo, f"permits/{pid}")["status"] == "expired"


def test_permits_expiry_step_twice_at_once_changes_each_permit_once(db_url, client, bo, engine):
    """Two job runners (as in two server processes) on one database at the same moment."""
    from api.db import make_engine

    holders, waiting = 12, 8
    _quota(client, bo, NOORD_AREA, holders)
    ending = [create_permit(client, bo, f"AA{i:02d}AA", days=30) for i in range(holders)]
    apps = [apply_for(client, bo, f"WW{i:02d}WW", days=365) for i in range(waiting)]
    for app_id in apps:
        assert decide(client, bo, app_id)["status"] == "waitlisted"

    later = now() + timedelta(days=31)
    engines = [make_engine(db_url), make_engine(db_url)]
    barrier = threading.Barrier(2)
    reports: list[ExpiryReport] = []
    errors: list[BaseException] = []

    def run(eng) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=30)
            reports.append(run_expiry_step(eng, now=later))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for e in engines:
        e.dispose()
    assert errors == []
    assert sum(r.failed for r in reports) == 0
    assert sum(r.expired for r in reports) == holders
    assert sum(r.granted for r in reports) == waiting

    with Session(engine) as s:
        per_permit = dict(
            s.exec(
                select(PermitEventRow.permit_id, func.count())
                .where(PermitEventRow.action == "expire")
                .group_by(col(PermitEventRow.permit_id))
            ).all()
        )
        grants = s.exec(
            select(func.count())
            .select_from(PermitEventRow)
            .where(PermitEventRow.action == "grant", PermitEventRow.from_status == "waitlisted")
        ).one()
    assert per_permit == dict.fromkeys(ending, 1)
    assert grants == waiting
    assert len(_audit(engine, "permit.expire")) == holders
    assert len(_audit(engine, "permit_application.granted_from_waiting_list")) == waiting
    quota = _get(client, bo, f"permit-quotas/{NOORD_AREA}")
    assert (quota["holders"], quota["waiting"]) == (waiting, [])


# --------------------------------------------------------------------------- PATCH areas
def _patch_areas(client, bo, permit_id: str, areas: list[str]):  # type: ignore[no-untyped-def]
    return client.patch(
        f"/api/v1/permits/{permit_id}",
        json={"area_codes": areas, "reason": "moved house"},
        headers=bo,
    )


def test_permits_patch_adding_a_full_area_is_refused(client, bo, accounts, town, engine):
    boa = accounts.headers("boa")
    _quota(client, bo, NOORD_AREA, 1)
    _quota(client, bo, ZUID_AREA, 1)
    mover = create_permit(client, bo, "AA11AA", areas=[ZUID_AREA])
    create_permit(client, bo, "BB22BB", areas=[NOORD_AREA])  # takes NOORD's only place

    r = _patch_areas(client, bo, mover, [ZUID_AREA, NOORD_AREA])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "area_quota_full"
    assert r.json()["detail"] == (
        f"area '{NOORD_AREA}' is full: its quota is 1 place, 1 held, 0 waiting; "
        f"resident permit '{mover}' cannot be extended to it"
    )
    unchanged = _get(client, bo, f"permits/{mover}")
    assert unchanged["area_codes"] == [ZUID_AREA]
    assert [e["action"] for e in unchanged["events"]] == ["create"]
    assert check(client, boa, "AA11AA", NOORD)["reason"] == "none"
    assert _get(client, bo, f"permit-quotas/{ZUID_AREA}")["holders"] == 1

    # with a place free, the same change goes through (the place stays in ZUID)
    _quota(client, bo, NOORD_AREA, 2)
    r = _patch_areas(client, bo, mover, [ZUID_AREA, NOORD_AREA])
    assert r.status_code == 200, r.text
    assert r.json()["area_codes"] == [NOORD_AREA, ZUID_AREA]
    assert check(client, boa, "AA11AA", NOORD)["allowed"] is True
    assert _get(client, bo, f"permit-quotas/{ZUID_AREA}")["holders"] == 1
    assert _get(client, bo, f"permit-quotas/{NOORD_AREA}")["holders"] == 1


def test_permits_patch_moving_the_place_into_a_full_area_is_refused(client, bo, engine):
    _quota(client, bo, NOORD_AREA, 1)
    _quota(client, bo, ZUID_AREA, 1)
    mover = create_permit(client, bo, "AA11AA", areas=[NOORD_AREA])
    create_permit(client, bo, "BB22BB", areas=[ZUID_AREA])
    waiting = apply_for(client, bo, "CC33CC")
    assert decide(client, bo, waiting)["status"] == "waitlisted"

    r = _patch_areas(client, bo, mover, [ZUID_AREA])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "area_quota_full"
    assert f"area '{ZUID_AREA}' is full: its quota is 1 place, 1 held" in r.json()["detail"]
    # nothing moved: the place in NOORD is still held, nobody was granted it
    assert _get(client, bo, f"permits/{mover}")["area_codes"] == [NOORD_AREA]
    assert _get(client, bo, f"permit-applications/{waiting}")["status"] == "waitlisted"
    assert _get(client, bo, f"permit-quotas/{NOORD_AREA}")["holders"] == 1


def test_permits_patch_removing_the_quota_area_grants_the_waiting_list(
    client, bo, accounts, town, engine
):
    boa = accounts.headers("boa")
    _quota(client, bo, NOORD_AREA, 1)
    mover = create_permit(client, bo, "AA11AA", areas=[NOORD_AREA])
    first = apply_for(client, bo, "BB22BB")
    second = apply_for(client, bo, "CC33CC")
    assert decide(client, bo, first)["waiting_list_position"] == 1
    assert decide(client, bo, second)["waiting_list_position"] == 2

    r = _patch_areas(client, bo, mover, [ZUID_AREA])  # ZUID has no quota
    assert r.status_code == 200, r.text
    assert r.json()["events"][-1]["action"] == "update"
    granted = _get(client, bo, f"permit-applications/{first}")
    assert (granted["status"], granted["waiting_list_position"]) == ("active", None)
    assert _get(client, bo, f"permit-applications/{second}")["waiting_list_position"] == 1
    assert _events(engine, granted["permit_id"], "grant")[-1].reason == (
        f"place freed in area {NOORD_AREA} (by {mover}); first on waiting list"
    )
    assert [
        a.target_id for a in _audit(engine, "permit_application.granted_from_waiting_list")
    ] == [str(first)]
    quota = _get(client, bo, f"permit-quotas/{NOORD_AREA}")
    assert (quota["holders"], quota["free_places"], len(quota["waiting"])) == (1, 0, 1)
    assert check(client, boa, "AA11AA", NOORD)["reason"] == "none"
    assert check(client, boa, "AA11AA", ZUID)["allowed"] is True
    assert check(client, boa, "BB22BB", NOORD)["allowed"] is True

    # moving back into the (again full) area is refused
    back = _patch_areas(client, bo, mover, [NOORD_AREA])
    assert back.status_code == 409
    assert back.json()["code"] == "area_quota_full"


def test_permits_patch_keeps_a_waiting_application_in_its_area(client, bo):
    _quota(client, bo, NOORD_AREA, 0)
    app_id = apply_for(client, bo, "AA11AA")
    pid = decide(client, bo, app_id)["permit_id"]
    r = _patch_areas(client, bo, pid, [ZUID_AREA])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "quota_error"
    assert f"waits for a place in area '{NOORD_AREA}'" in r.json()["detail"]
    assert _get(client, bo, f"permit-applications/{app_id}")["waiting_list_position"] == 1


# --------------------------------------------------------------------------- CSV import
HEADER = "id,type,holder_ref,plates,area_codes,valid_from,valid_to,status,visitor_budget_minutes"
ROWS = [
    f"I-1,resident,H-1,AA11AA,{NOORD_AREA},2026-01-01T00:00:00Z,,,",  # line 2: fits
    f"I-2,resident,H-2,BB22BB,{NOORD_AREA},2026-01-01T00:00:00Z,,active,",  # line 3: over
    f"I-3,business,H-3,CC33CC,{NOORD_AREA},2026-01-01T00:00:00Z,,,",  # no quota for its type
    f"I-4,resident,H-4,DD44DD,{NOORD_AREA},2026-01-01T00:00:00Z,,expired,",  # holds no place
    f"I-5,resident,H-5,EE55EE,{NOORD_AREA};{ZUID_AREA},2026-01-01T00:00:00Z,,suspended,",
]


@pytest.fixture
def permits_cli(settings, monkeypatch, town):  # the zones give the area codes
    from typer.testing import CliRunner

    from scancar.cli.root import app as cli

    monkeypatch.setenv("SCANCAR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SCANCAR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SCANCAR_ENV", "test")
    monkeypatch.setenv("SCANCAR_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, ["permits", *args])


def test_permits_import_refuses_rows_over_a_quota_with_line_numbers(
    client, bo, permits_cli, tmp_path
):
    _quota(client, bo, NOORD_AREA, 2)
    create_permit(client, bo, "ZZ99ZZ", areas=[NOORD_AREA])  # one place held already
    path = tmp_path / "permits.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")

    result = permits_cli("import", str(path))
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        f"line 3, column 'area_codes': area '{NOORD_AREA}' is over its quota: 2 places, "
        "2 taken (1 in the database, 1 by earlier rows of this file)",
        f"line 6, column 'area_codes': area '{NOORD_AREA}' is over its quota: 2 places, "
        "3 taken (1 in the database, 2 by earlier rows of this file)",
    ]
    assert result.stderr.strip() == (
        "2 bad row(s); nothing imported; rows over a quota are imported with --allow-over-quota"
    )
    assert client.get("/api/v1/permits", headers=bo).json()["count"] == 1  # nothing imported

    forced = permits_cli("import", "--allow-over-quota", str(path))
    assert forced.exit_code == 0, forced.output
    assert forced.stdout.strip() == "imported 5 permits"
    assert forced.stderr.strip() == (
        f"warning: area '{NOORD_AREA}' is over its quota: 4 permits hold a place, the quota "
        "is 2 (1 before this import)"
    )
    quota = _get(client, bo, f"permit-quotas/{NOORD_AREA}")
    assert (quota["holders"], quota["free_places"]) == (4, 0)
    audit = client.get("/api/v1/permits", headers=bo).json()
    assert audit["count"] == 6


def test_permits_import_within_quota_takes_places(client, bo, permits_cli, tmp_path):
    _quota(client, bo, NOORD_AREA, 2)
    path = tmp_path / "permits.csv"
    path.write_text("\n".join([HEADER, ROWS[0], ROWS[2], ROWS[3], ROWS[4]]) + "\n")
    result = permits_cli("import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 4 permits"
    assert result.stderr == ""
    quota = _get(client, bo, f"permit-quotas/{NOORD_AREA}")
    assert (quota["holders"], quota["free_places"]) == (2, 0)  # I-1 and I-5
    full = client.post(
        "/api/v1/permits",
        json={
            "type": "resident",
            "holder": "H-7",
            "plates": ["GG77GG"],
            "area_codes": [NOORD_AREA],
            "valid_from": now().isoformat(),
        },
        headers=bo,
    )
    assert full.status_code == 409
    assert full.json()["code"] == "area_quota_full"
    # an imported holder that is revoked frees its place like any other
    client.post("/api/v1/permits/I-1/revoke", json={"reason": "moved"}, headers=bo)
    assert _get(client, bo, f"permit-quotas/{NOORD_AREA}")["free_places"] == 1


# ------------------------------------------------------------ application rows on import
def _csv_row(pid: str, plate: str, status: str, area: str = NOORD_AREA, kind: str = "resident"):  # type: ignore[no-untyped-def]
    return f"{pid},{kind},H-{pid},{plate},{area},2026-01-01T00:00:00Z,,{status},"


def _import(permits_cli, tmp_path, *rows: str):  # type: ignore[no-untyped-def]
    """``scancar permits import`` of a CSV file with ``rows`` under the header."""
    path = tmp_path / "permits.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return permits_cli("import", str(path))


def _application_of(client, bo, permit_id: str) -> dict:
    app_id = _get(client, bo, f"permits/{permit_id}")["application_id"]
    assert app_id is not None, f"permit {permit_id} has no application"
    return _get(client, bo, f"permit-applications/{app_id}")


def test_permits_import_waitlisted_rows_join_the_waiting_list_in_file_order(
    client, bo, permits_cli, tmp_path
):
    _quota(client, bo, NOORD_AREA, 1)
    holder = create_permit(client, bo, "ZZ99ZZ", areas=[NOORD_AREA])
    queued = apply_for(client, bo, "YY88YY", area_codes=[NOORD_AREA])
    assert decide(client, bo, queued)["waiting_list_position"] == 1
    result = _import(
        permits_cli,
        tmp_path,
        _csv_row("W-2", "BB22BB", "waitlisted"),
        _csv_row("W-1", "AA11AA", "waitlisted"),
        _csv_row("R-1", "CC33CC", "applied"),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "imported 3 permits",
        "3 of them are applications to decide (2 on a waiting list)",
    ]
    # after the application already waiting, in the file's order (not by id)
    w2, w1 = _application_of(client, bo, "W-2"), _application_of(client, bo, "W-1")
    assert (w2["status"], w2["waiting_list_area_code"]) == ("waitlisted", NOORD_AREA)
    assert (w2["waiting_list_position"], w1["waiting_list_position"]) == (2, 3)
    assert w2["applicant"] == {"holder_ref": "H-W-2", "source": "csv import"}
    # an imported 'applied' row is in review and decided like any application
    r1 = _application_of(client, bo, "R-1")
    assert r1["status"] == "in_review"
    assert decide(client, bo, r1["id"])["waiting_list_position"] == 4
    # places freed go to the imported applications in their turn
    client.post(f"/api/v1/permits/{holder}/revoke", json={"reason": "moved"}, headers=bo)
    client.post(
        f"/api/v1/permits/{_get(client, bo, f'permit-applications/{queued}')['permit_id']}/revoke",
        json={"reason": "moved"},
        headers=bo,
    )
    assert _get(client, bo, "permits/W-2")["status"] == "active"
    assert _get(client, bo, "permits/W-1")["status"] == "waitlisted"
    assert _application_of(client, bo, "W-1")["waiting_list_position"] == 1


def test_permits_import_grants_waiting_rows_where_places_are_free(
    client, bo, permits_cli, tmp_path
):
    _quota(client, bo, NOORD_AREA, 2)
    result = _import(
        permits_cli,
        tmp_path,
        _csv_row("A-1", "AA11AA", "active"),
        _csv_row("W-1", "BB22BB", "waitlisted"),
        _csv_row("W-2", "CC33CC", "waitlisted"),
    )
    assert result.exit_code == 0, result.output
    assert "granted at once, places being free: W-1" in result.stdout
    assert _get(client, bo, "permits/W-1")["status"] == "active"
    assert _application_of(client, bo, "W-1")["decision"] == "grant"
    assert _application_of(client, bo, "W-2")["waiting_list_position"] == 1
    quota = _get(client, bo, f"permit-quotas/{NOORD_AREA}")
    assert (quota["holders"], quota["free_places"], len(quota["waiting"])) == (2, 0, 1)


def test_permits_import_refuses_waitlisted_rows_without_a_waiting_list(
    client, bo, permits_cli, tmp_path
):
    _quota(client, bo, NOORD_AREA, 2)  # resident permits only
    result = _import(
        permits_cli,
        tmp_path,
        _csv_row("W-1", "AA11AA", "waitlisted"),
        _csv_row("W-2", "BB22BB", "waitlisted", kind="business"),
        _csv_row("W-3", "CC33CC", "waitlisted", area=ZUID_AREA),
    )
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        f"line 3, column 'status': waitlisted, but none of its areas ({NOORD_AREA}) has a quota "
        "for business permits: there is no waiting list to join",
        f"line 4, column 'status': waitlisted, but none of its areas ({ZUID_AREA}) has a quota "
        "for resident permits: there is no waiting list to join",
    ]
    assert client.get("/api/v1/permits", headers=bo).json()["count"] == 0


# --------------------------------------------------------------------------- a quota set later
def test_permits_quota_set_later_counts_the_permits_already_there(client, bo, engine):
    first = create_permit(client, bo, "AA11AA", areas=[NOORD_AREA])
    create_permit(client, bo, "BB22BB", areas=[ZUID_AREA, NOORD_AREA])
    create_permit(client, bo, "CC33CC", areas=[NOORD_AREA + "_OOST"])  # another area
    create_permit(client, bo, "DD44DD", areas=[NOORD_AREA], permit_type="business")
    gone = create_permit(client, bo, "EE55EE", areas=[NOORD_AREA])
    client.post(f"/api/v1/permits/{gone}/revoke", json={"reason": "moved"}, headers=bo)

    quota = _quota(client, bo, NOORD_AREA, 2)
    assert (quota["holders"], quota["free_places"]) == (2, 0)  # the two resident holders
    assert any(
        "2 permits already in the area" in a.detail for a in _audit(engine, "permit_quota.set")
    )
    queued = apply_for(client, bo, "FF66FF", area_codes=[NOORD_AREA])
    assert decide(client, bo, queued)["waiting_list_position"] == 1
    # a holder counted this way frees its place like any other
    client.post(f"/api/v1/permits/{first}/revoke", json={"reason": "moved"}, headers=bo)
    assert _get(client, bo, f"permit-applications/{queued}")["status"] == "active"


def test_permits_export_lists_waiting_permits_last_in_waiting_order(
    client, bo, permits_cli, tmp_path
):
    """Importing the export again rebuilds the same waiting lists (file order is list order)."""
    import csv
    import io

    _quota(client, bo, NOORD_AREA, 1)
    create_permit(client, bo, "ZZ99ZZ", areas=[NOORD_AREA])
    queued = apply_for(client, bo, "YY88YY", area_codes=[NOORD_AREA])
    decide(client, bo, queued)
    queued_permit = _get(client, bo, f"permit-applications/{queued}")["permit_id"]
    imported = _import(
        permits_cli,
        tmp_path,
        _csv_row("W-2", "BB22BB", "waitlisted"),
        _csv_row("A-1", "AA11AA", "active", area=ZUID_AREA),
        _csv_row("W-1", "CC33CC", "waitlisted"),
    )
    assert imported.exit_code == 0, imported.output
    out = permits_cli("export")
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    statuses = [(r["id"], r["status"]) for r in rows]
    waiting = [pid for pid, status in statuses if status == "waitlisted"]
    assert waiting == [queued_permit, "W-2", "W-1"]
    assert statuses[-3:] == [(pid, "waitlisted") for pid in waiting]
    others = [pid for pid, status in statuses if status != "waitlisted"]
    assert others == sorted(others)
    assert "A-1" in others
