"""Fines through the API: drafts from confirmed hits, issue, payments, objections, annulment,
the avalanche guard, exports, the evidence pack and the gapless number sequence."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from api.audit.db import AuditRow
from api.auth.principal import Principal, Role
from api.fines import service
from api.fines.db import FineRow
from api.fines.rules import LOCAL
from api.review import service as review
from tests.api.review_support import FakeRights, post_hit
from tests.conftest import REPO
from tests.factories import CAPTURED_AT

TOWN = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
# CAPTURED_AT is Thursday 26 Nov 2026 11:15 local: one hour in the centre costs 450 cents.
TAX_CENTRUM = 450 + 8030


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"avalanche_max_fines": 2, "avalanche_window_days": 30})


@pytest.fixture
def app(settings, engine):
    from api.main import create_app

    return create_app(settings, engine=engine, rights_checker=FakeRights())


@pytest.fixture
def zones_loaded(client, accounts):
    r = client.put("/api/v1/zones", json=TOWN, headers=accounts.headers("admin"))
    assert r.status_code == 201, r.text


@pytest.fixture
def tariffs(engine):
    from api.db import session_scope
    from api.fines.tariffs import seed_default_tariffs

    with session_scope(engine) as s:
        seed_default_tariffs(s)


class Flow:
    """Makes confirmed hits the way the car and a BOA do."""

    def __init__(self, client, accounts, app) -> None:
        self.client, self.accounts, self.app = client, accounts, app

    def confirmed_hit(self, **overrides: Any) -> int:
        hid = post_hit(self.client, self.accounts.headers("device"), **overrides)
        review.run_grace_step(
            self.app.state.backend.engine,
            self.app.state.backend.evidence_store,
            self.app.state.backend.rights_checker,
            self.app.state.backend.zone_rules,
            self.app.state.backend.settings,
            now=CAPTURED_AT + timedelta(minutes=30),
        )
        boa = self.accounts.headers("boa")
        assert self.client.post(f"/api/v1/hits/{hid}/claim", headers=boa).status_code == 200
        body = {"mode": "on_site", "lon": 4.3581, "lat": 52.0116}
        r = self.client.post(f"/api/v1/hits/{hid}/confirm", json=body, headers=boa)
        assert r.status_code == 200, r.text
        return hid

    def fine_for(self, hid: int, headers) -> dict[str, Any]:
        r = self.client.get("/api/v1/fines", params={"hit_id": hid}, headers=headers)
        assert r.status_code == 200, r.text
        (fine,) = r.json()["data"]
        return fine


@pytest.fixture
def flow(client, accounts, app, zones_loaded, tariffs):
    return Flow(client, accounts, app)


def post(client, url, headers, body=None):
    return client.post(url, json=body, headers=headers)


# --------------------------------------------------------------------------- drafts
def test_fines_confirmed_hit_makes_a_tax_draft_with_its_calculation(flow, client, bo):
    hid = flow.confirmed_hit()
    fine = flow.fine_for(hid, bo)
    assert fine["track"] == "tax"
    assert fine["status"] == "draft"
    assert fine["number"] is None
    assert fine["plate"] == "GZ123T"
    assert fine["amount_cents"] == TAX_CENTRUM
    assert fine["paid_cents"] == 0
    detail = client.get(f"/api/v1/fines/{fine['id']}", headers=bo).json()
    calc = detail["calculation"]
    assert calc["lines"] == [
        {"label": "parking_tax", "cents": 450},
        {"label": "assessment_costs", "cents": 8030},
    ]
    assert calc["basis"]["zone_id"] == "centrum"
    assert calc["basis"]["zone_version"] == 1
    assert calc["basis"]["charged_from"] == CAPTURED_AT.isoformat()
    assert detail["evidence"]["rights_check"]["allowed"] is False
    assert detail["evidence"]["decision"]["mode"] == "on_site"
    assert [h["action"] for h in detail["history"]] == ["draft"]


@pytest.mark.parametrize(
    ("zone", "reason", "code", "amount"),
    [
        ("blauw", "max_stay_exceeded", "blue_zone", 11500),
        ("verbod-markt", "no_parking", "no_parking", 12000),
    ],
)
def test_fines_wahv_zone_makes_a_mulder_draft(flow, bo, zone, reason, code, amount):
    hid = flow.confirmed_hit(zone_id=zone, reason=reason)
    fine = flow.fine_for(hid, bo)
    assert (fine["track"], fine["amount_cents"]) == ("wahv", amount)


def test_fines_unknown_zone_gives_a_draft_that_cannot_be_issued(flow, client, bo):
    hid = flow.confirmed_hit(zone_id="nergens")
    fine = flow.fine_for(hid, bo)
    detail = client.get(f"/api/v1/fines/{fine['id']}", headers=bo).json()
    assert "zone 'nergens' is not in the current zone set" in detail["calc_problem"]
    r = post(client, f"/api/v1/fines/{fine['id']}/issue", bo)
    assert r.status_code == 409
    assert r.json()["code"] == "calculation_error"


# --------------------------------------------------------------------------- lifecycle
def test_fines_issue_numbers_per_year_without_gaps(flow, client, bo):
    ids = [flow.fine_for(flow.confirmed_hit(plate=p), bo)["id"] for p in ("AA11BB", "CC22DD")]
    numbers = [post(client, f"/api/v1/fines/{i}/issue", bo).json()["number"] for i in ids]
    assert numbers == ["2026-000001", "2026-000002"]
    again = post(client, f"/api/v1/fines/{ids[0]}/issue", bo)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_fine_transition"
    assert "cannot issue a fine that is issued" in again.json()["detail"]


def test_fines_partial_payments_overpayment_and_paid(flow, client, bo, engine):
    fid = flow.fine_for(flow.confirmed_hit(), bo)["id"]
    post(client, f"/api/v1/fines/{fid}/issue", bo)
    r = post(client, f"/api/v1/fines/{fid}/payments", bo, {"amount_cents": 3000})
    assert (r.json()["status"], r.json()["paid_cents"], r.json()["outstanding_cents"]) == (
        "issued",
        3000,
        TAX_CENTRUM - 3000,
    )
    over = post(client, f"/api/v1/fines/{fid}/payments", bo, {"amount_cents": 6000})
    assert over.status_code == 422
    assert over.json()["code"] == "overpayment"
    assert "EUR 60,00 is more than the EUR 54,80 still outstanding" in over.json()["detail"]
    r = post(client, f"/api/v1/fines/{fid}/payments", bo, {"amount_cents": TAX_CENTRUM - 3000})
    assert (r.json()["status"], r.json()["outstanding_cents"]) == ("paid", 0)
    assert r.json()["closed_at"] is not None
    annul = post(client, f"/api/v1/fines/{fid}/annul", bo, {"reason": "te laat"})
    assert annul.status_code == 409
    assert "allowed now: nothing (final state)" in annul.json()["detail"]
    detail = client.get(f"/api/v1/fines/{fid}", headers=bo).json()
    assert [p["amount_cents"] for p in detail["payments"]] == [3000, TAX_CENTRUM - 3000]
    with Session(engine) as s:
        actions = s.exec(
            select(AuditRow.action).where(AuditRow.target_type == "fine").order_by(AuditRow.id)
        ).all()
    assert actions == ["fine.draft", "fine.issue", "fine.pay", "fine.pay_in_full"]


def test_fines_objection_in_time_upheld_annuls(flow, client, bo):
    fid = flow.fine_for(flow.confirmed_hit(), bo)["id"]
    issued = post(client, f"/api/v1/fines/{fid}/issue", bo).json()
    received = datetime.fromisoformat(issued["issued_at"]) + timedelta(days=10)
    r = post(
        client,
        f"/api/v1/fines/{fid}/objection",
        bo,
        {"received_at": received.isoformat(), "text": "Ik had een vergunning."},
    )
    assert (r.json()["status"], r.json()["objection_late"]) == ("objection", False)
    pay = post(client, f"/api/v1/fines/{fid}/payments", bo, {"amount_cents": 100})
    assert pay.status_code == 409
    r = post(
        client,
        f"/api/v1/fines/{fid}/decide-objection",
        bo,
        {"upheld": True, "reason": "vergunning aangetoond"},
    )
    assert r.json()["status"] == "objection_upheld"
    assert r.json()["closed_at"] is not None


def test_fines_late_objection_is_flagged_rejected_then_paid(flow, client, bo):
    fid = flow.fine_for(flow.confirmed_hit(), bo)["id"]
    issued = post(client, f"/api/v1/fines/{fid}/issue", bo).json()
    deadline = datetime.fromisoformat(issued["objection_deadline"])
    assert deadline - datetime.fromisoformat(issued["issued_at"]) > timedelta(weeks=6)
    r = post(
        client,
        f"/api/v1/fines/{fid}/objection",
        bo,
        {"received_at": (deadline + timedelta(minutes=1)).isoformat(), "text": "Te laat."},
    )
    assert (r.json()["status"], r.json()["objection_late"]) == ("objection", True)
    r = post(
        client,
        f"/api/v1/fines/{fid}/decide-objection",
        bo,
        {"upheld": False, "reason": "niet-ontvankelijk: termijn verstreken"},
    )
    assert r.json()["status"] == "objection_rejected"
    r = post(client, f"/api/v1/fines/{fid}/payments", bo, {"amount_cents": 1000})
    assert r.json()["status"] == "objection_rejected"
    r = post(client, f"/api/v1/fines/{fid}/payments", bo, {"amount_cents": TAX_CENTRUM - 1000})
    assert r.json()["status"] == "paid"
    history = client.get(f"/api/v1/fines/{fid}", headers=bo).json()["history"]
    assert [h["action"] for h in history] == [
        "draft",
        "issue",
        "object",
        "reject_objection",
        "pay",
        "pay_in_full",
    ]
    assert history[2]["detail"].startswith("late;")


def test_fines_annul_needs_a_reason_and_collection_closes(flow, client, bo):
    a = flow.fine_for(flow.confirmed_hit(plate="AA11BB"), bo)["id"]
    b = flow.fine_for(flow.confirmed_hit(plate="CC22DD"), bo)["id"]
    r = post(client, f"/api/v1/fines/{a}/annul", bo, {"reason": ""})
    assert r.status_code == 422
    r = post(client, f"/api/v1/fines/{a}/annul", bo, {"reason": "verkeerd kenteken"})
    assert (r.json()["status"], r.json()["annul_reason"]) == ("annulled", "verkeerd kenteken")
    post(client, f"/api/v1/fines/{b}/issue", bo)
    r = post(client, f"/api/v1/fines/{b}/send-to-collection", bo)
    assert r.json()["status"] == "sent_to_collection"
    listed = client.get("/api/v1/fines", params={"status": "annulled"}, headers=bo).json()
    assert [f["id"] for f in listed["data"]] == [a]


# --------------------------------------------------------------------------- avalanche
def test_fines_avalanche_needs_a_second_approval_by_someone_else(flow, client, accounts, bo):
    ids = [flow.fine_for(flow.confirmed_hit(), bo)["id"] for _ in range(3)]
    details = [client.get(f"/api/v1/fines/{i}", headers=bo).json() for i in ids]
    assert [d["needs_second_approval"] for d in details] == [False, False, True]
    third = ids[2]
    r = post(client, f"/api/v1/fines/{third}/issue", bo)
    assert r.status_code == 409
    assert r.json()["code"] == "second_approval_required"
    assert post(client, f"/api/v1/fines/{third}/approve", bo).status_code == 200
    same = post(client, f"/api/v1/fines/{third}/issue", bo)
    assert same.status_code == 409
    assert "someone else than the issuer" in same.json()["detail"]
    other = {"Authorization": f"Bearer {accounts.login(accounts.user('backoffice'))}"}
    r = post(client, f"/api/v1/fines/{third}/issue", other)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "issued"


def test_fines_alert_list_counts_recent_fines(app, engine, settings):
    with Session(engine) as s:
        from tests.api.test_reports import make_hit

        now = datetime.now(CAPTURED_AT.tzinfo)
        for i in range(4):
            hit = make_hit(s, plate="ZZ99ZZ", at=now - timedelta(days=i), status="confirmed")
            s.add(
                FineRow(
                    hit_id=hit.id,
                    track="tax",
                    status="draft",
                    plate="ZZ99ZZ",
                    zone_id="centrum",
                    offence_at=hit.captured_at,
                    needs_second_approval=i == 3,
                )
            )
        s.commit()
        (alert,) = service.alerts(s, settings)
    assert (alert.plate, alert.fine_count) == ("ZZ99ZZ", 4)
    assert len(alert.awaiting_approval) == 1


# --------------------------------------------------------------------------- exports
def test_fines_export_is_idempotent_and_marks_the_batch(flow, client, bo):
    ids = [flow.fine_for(flow.confirmed_hit(plate=p), bo)["id"] for p in ("AA11BB", "CC22DD")]
    wahv = flow.fine_for(flow.confirmed_hit(zone_id="blauw", plate="EE33FF"), bo)["id"]
    for i in [*ids, wahv]:
        post(client, f"/api/v1/fines/{i}/issue", bo)
    first = client.get("/api/v1/fines/export", params={"track": "tax"}, headers=bo).json()
    assert first["created"] is True
    assert sorted(f["fine_id"] for f in first["fines"]) == ids
    assert first["total_cents"] == 2 * TAX_CENTRUM
    again = client.get("/api/v1/fines/export", params={"track": "tax"}, headers=bo).json()
    assert (again["batch_id"], again["created"]) == (first["batch_id"], False)
    assert again["fines"] == first["fines"]
    marked = client.get(f"/api/v1/fines/{ids[0]}", headers=bo).json()
    assert marked["export_batch_id"] == first["batch_id"]
    post(client, f"/api/v1/fines/{ids[0]}/payments", bo, {"amount_cents": 100})
    paid = client.get(f"/api/v1/fines/{ids[0]}", headers=bo).json()
    assert paid["export_batch_id"] == first["batch_id"]
    # the export in the history: after the issue, before the later payment, as exported
    events = [(e["action"], e["to_status"], e["detail"]) for e in paid["history"]]
    exported = ("export", "issued", f"batch={first['batch_id']}")
    assert events.index(exported) == events.index(next(e for e in events if e[0] == "issue")) + 1
    assert events[-1][0] != "export"
    listed = client.get("/api/v1/fines", params={"track": "tax"}, headers=bo).json()["data"]
    assert {f["id"]: f["export_batch_id"] for f in listed if f["id"] in ids} == dict.fromkeys(
        ids, first["batch_id"]
    )
    w = client.get("/api/v1/fines/export", params={"track": "wahv"}, headers=bo).json()
    assert [f["fine_id"] for f in w["fines"]] == [wahv]
    assert w["batch_id"] != first["batch_id"]

    csv_r = client.get("/api/v1/fines/export", params={"track": "tax", "format": "csv"}, headers=bo)
    lines = csv_r.text.strip().splitlines()
    assert lines[0].startswith("batch_id,number,track,status,plate")
    assert all(line.startswith(first["batch_id"]) for line in lines[1:])
    assert len(lines) == 3

    newer = flow.fine_for(flow.confirmed_hit(plate="GG44HH"), bo)["id"]
    post(client, f"/api/v1/fines/{newer}/issue", bo)
    second = client.get("/api/v1/fines/export", params={"track": "tax"}, headers=bo).json()
    assert second["created"] is True
    assert [f["fine_id"] for f in second["fines"]] == [newer]
    both = client.get("/api/v1/fines/export", params={"track": "tax"}, headers=bo)
    assert both.status_code == 409
    assert both.json()["code"] == "several_batches"
    by_id = client.get(
        "/api/v1/fines/export", params={"batch_id": first["batch_id"]}, headers=bo
    ).json()
    assert sorted(f["fine_id"] for f in by_id["fines"]) == ids


def test_fines_exports_survive_migration_0640_down_and_up(flow, client, bo, engine):
    """Batch membership moved from two columns of fines to fine_export_items (0640): down puts
    it back on the fines, up moves it over again; an export made before 0640 keeps its stored
    history row and gets no second one."""
    from sqlalchemy import text

    from api import migrate

    OLD_EXPORT_AT = "2026-01-02 03:04:05.000000"  # noqa: N806 - as both databases read it
    ids = [flow.fine_for(flow.confirmed_hit(plate=p), bo)["id"] for p in ("AA11BB", "CC22DD")]
    post(client, f"/api/v1/fines/{ids[0]}/issue", bo)
    first = client.get("/api/v1/fines/export", params={"track": "tax"}, headers=bo).json()
    post(client, f"/api/v1/fines/{ids[1]}/issue", bo)
    migrate.downgrade(engine, "0630")
    with engine.begin() as conn:
        on_fines = conn.execute(text("SELECT id, export_batch_id FROM fines ORDER BY id")).all()
        assert [tuple(r) for r in on_fines] == [(ids[0], first["batch_id"]), (ids[1], None)]
        # an export as the code before 0640 made it: columns and a stored history row
        conn.execute(
            text(
                "INSERT INTO fine_export_batches (id, track, created_at, created_by, fine_count, "
                "total_cents) VALUES ('old-batch', 'tax', :at, 'oud', 1, 1)"
            ),
            {"at": OLD_EXPORT_AT},
        )
        conn.execute(
            text(
                "UPDATE fines SET export_batch_id = 'old-batch', exported_at = :at WHERE id = :id"
            ),
            {"at": OLD_EXPORT_AT, "id": ids[1]},
        )
        conn.execute(
            text(
                "INSERT INTO fine_events (fine_id, at, actor_type, actor_name, action, "
                "from_status, to_status, detail) VALUES (:id, :at, 'user', 'oud', 'export', "
                "'issued', 'issued', 'batch=old-batch')"
            ),
            {"at": OLD_EXPORT_AT, "id": ids[1]},
        )
    migrate.upgrade(engine)
    assert migrate.drift(engine) == []
    for fid, batch in ((ids[0], first["batch_id"]), (ids[1], "old-batch")):
        fine = client.get(f"/api/v1/fines/{fid}", headers=bo).json()
        assert fine["export_batch_id"] == batch
        exports = [e for e in fine["history"] if e["action"] == "export"]
        assert [(e["detail"], e["to_status"]) for e in exports] == [(f"batch={batch}", "issued")]
    again = client.get("/api/v1/fines/export", params={"batch_id": "old-batch"}, headers=bo)
    assert [f["fine_id"] for f in again.json()["fines"]] == [ids[1]]
    # nothing is left to export: the track has no fines outside a batch
    none_left = client.get("/api/v1/fines/export", params={"track": "tax"}, headers=bo)
    assert none_left.json()["code"] == "several_batches"


def test_fines_export_skips_drafts_and_annulled_and_empty_gives_no_batch(flow, client, bo, engine):
    from sqlmodel import func

    from api.fines.db import FineExportPendingRow

    flow.confirmed_hit()
    r = client.get("/api/v1/fines/export", params={"track": "tax"}, headers=bo).json()
    assert (r["batch_id"], r["fines"]) == (None, [])
    fid = flow.fine_for(flow.confirmed_hit(plate="ZZ99ZZ"), bo)["id"]
    post(client, f"/api/v1/fines/{fid}/issue", bo)
    waiting = select(func.count()).select_from(FineExportPendingRow)
    with Session(engine) as s:
        assert s.exec(waiting).one() == 1  # issued: waiting for the next export
    annulled = post(client, f"/api/v1/fines/{fid}/annul", bo, {"reason": "verkeerd kenteken"})
    assert annulled.status_code == 200, annulled.text
    with Session(engine) as s:
        assert s.exec(waiting).one() == 0  # annulled: never exported
    r = client.get("/api/v1/fines/export", params={"track": "tax"}, headers=bo).json()
    assert (r["batch_id"], r["fines"]) == (None, [])


# --------------------------------------------------------------------------- evidence pack
def test_fines_evidence_pack_has_photos_rights_decision_and_calculation(flow, client, bo):
    fid = flow.fine_for(flow.confirmed_hit(), bo)["id"]
    post(client, f"/api/v1/fines/{fid}/issue", bo)
    r = client.get(f"/api/v1/fines/{fid}/pack", headers=bo)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert html.count('src="data:image/jpeg;base64,') == 2
    assert "2026-000001" in html
    assert "geen geldig parkeerrecht" in html
    assert "(geen recht gevonden, bij het bevestigen)" in html  # the check's source in Dutch
    assert "bron confirm" not in html
    assert "· Systeem · Concept aangemaakt" in html  # not 'system'
    assert "ter plaatse" in html
    # for a citizen or a judge: Dutch amounts, the plate as on the car, the basis in words
    assert "<td>€\u00a084,80</td>" in html
    assert " EUR</td>" not in html
    assert 'id="pack-plate">GZ-123-T<' in html
    assert "<dt>Versie zonebestand</dt>" in html
    assert "<dt>Kosten geldig tot</dt><dd>geen einddatum</dd>" in html
    assert "zone_version=" not in html
    assert "cost_table_id" not in html
    assert "4.358100, 52.011600" in html
    assert "<script" not in html
    assert "style=" not in html
    assert client.get(f"/api/v1/fines/{fid}/pack", headers={}).status_code == 401


# --------------------------------------------------------------------------- tariffs
def test_fines_tariffs_admin_adds_periods_without_overlap(client, accounts, tariffs):
    admin = accounts.headers("admin")
    body = {"amount_cents": 8200, "valid_from": "2027-01-01"}
    r = client.post("/api/v1/fines/tariffs/costs", json=body, headers=admin)
    assert r.status_code == 409
    assert "overlaps entry" in r.json()["detail"]
    body = {
        "code": "blue_zone",
        "amount_cents": 11000,
        "valid_from": "2025-01-01",
        "valid_to": "2026-01-01",
    }
    r = client.post("/api/v1/fines/tariffs/offences", json=body, headers=admin)
    assert r.status_code == 201, r.text
    t = client.get("/api/v1/fines/tariffs", headers=accounts.headers("backoffice")).json()
    assert [c["amount_cents"] for c in t["costs"]] == [7810, 8030]
    assert [o["amount_cents"] for o in t["offences"] if o["code"] == "blue_zone"] == [11000, 11500]


def test_fines_two_exports_at_once_share_no_fine(flow, client, bo, engine, monkeypatch):
    """The second export of a period, started while the first has put the fines in its batch
    but not committed, waits, then answers with the first one's batch (no error, no fine in
    two batches, nothing left on the waiting list)."""
    from sqlmodel import func

    from api.fines import export
    from api.fines.db import FineExportItemRow, FineExportPendingRow
    from zones import FineTrack

    ids = [flow.fine_for(flow.confirmed_hit(plate=p), bo)["id"] for p in ("AA11BB", "CC22DD")]
    for i in ids:
        post(client, f"/api/v1/fines/{i}/issue", bo)
    inside, release = threading.Event(), threading.Event()
    record = export.record

    def held_record(*args: Any, **kwargs: Any) -> None:  # the first export, before its commit
        inside.set()
        release.wait(20)
        record(*args, **kwargs)

    monkeypatch.setattr(export, "record", held_record)
    actor = Principal(kind="user", id=1, name="bo", role=Role.BACKOFFICE)
    results: dict[str, tuple[str | None, bool]] = {}
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            with Session(engine, expire_on_commit=False) as s:
                r = export.export_batch(
                    s, actor, track=FineTrack.TAX, period_from=None, period_to=None
                )
                results[name] = (r.batch.id if r.batch else None, r.created)
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert inside.wait(20)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    second.join(0.5)  # waiting on the first one's rows (PostgreSQL) or write lock (SQLite)
    release.set()
    first.join(30)
    second.join(30)
    assert errors == []
    assert results["first"][1] is True
    assert results["second"] == (results["first"][0], False)
    with Session(engine) as s:
        in_batches = s.exec(select(FineExportItemRow.fine_id, FineExportItemRow.batch_id)).all()
        waiting = s.exec(select(func.count()).select_from(FineExportPendingRow)).one()
    assert sorted(in_batches) == [(i, results["first"][0]) for i in sorted(ids)]
    assert waiting == 0


# --------------------------------------------------------------------------- numbers
def _issue_concurrently(engine, settings, fine_ids: list[int], actor: Principal) -> list[str]:
    numbers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(fine_ids))
    lock = threading.Lock()

    def worker(fid: int) -> None:
        try:
            barrier.wait()
            with Session(engine, expire_on_commit=False) as s:
                fine = service.issue(s, fid, actor, settings)
            with lock:
                numbers.append(fine.number or "")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f,)) for f in fine_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return numbers


def _drafts(engine, n: int) -> list[int]:
    from tests.api.test_reports import make_hit

    ids = []
    with Session(engine) as s:
        for i in range(n):
            hit = make_hit(s, plate=f"PL{i:02d}XX", at=CAPTURED_AT, status="confirmed")
            fine = FineRow(
                hit_id=hit.id,
                track="tax",
                status="draft",
                plate=hit.plate,
                offence_at=hit.captured_at,
                amount_cents=8480,
            )
            s.add(fine)
            s.flush()
            ids.append(fine.id)
        s.commit()
    return ids


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_fines_number_sequence_is_gapless_under_concurrency_on_postgres(engine, settings, accounts):
    accounts.user("backoffice", name="bo-seq")
    actor = Principal("user", 1, "bo-seq", Role.BACKOFFICE)
    ids = _drafts(engine, 24)
    numbers = _issue_concurrently(engine, settings, ids, actor)
    year = datetime.now(CAPTURED_AT.tzinfo).astimezone(LOCAL).year
    assert sorted(numbers) == [f"{year}-{i:06d}" for i in range(1, 25)]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_fines_number_sequence_rollback_returns_the_number(engine, settings, accounts):
    accounts.user("backoffice", name="bo-seq")
    actor = Principal("user", 1, "bo-seq", Role.BACKOFFICE)
    ids = _drafts(engine, 2)
    with Session(engine) as s:
        assert service.next_fine_number(s, 2031) == 1
        s.rollback()
    with Session(engine, expire_on_commit=False) as s:
        first = service.issue(s, ids[0], actor, settings)
        second = service.issue(s, ids[1], actor, settings)
    assert [first.number[-6:], second.number[-6:]] == ["000001", "000002"]


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_fines_issuing_one_fine_twice_at_once_takes_one_number(engine, settings, accounts):
    from api.fines.db import FineNumberSequenceRow

    accounts.user("backoffice", name="bo-seq")
    actor = Principal("user", 1, "bo-seq", Role.BACKOFFICE)
    (fid,) = _drafts(engine, 1)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        with Session(engine, expire_on_commit=False) as s:
            try:
                outcomes.append(service.issue(s, fid, actor, settings).number or "")
            except Exception as exc:
                outcomes.append(getattr(exc, "code", type(exc).__name__))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes)[0].endswith("-000001")
    assert sorted(outcomes)[1] in ("fine_changed", "invalid_fine_transition")
    with Session(engine) as s:
        assert [r.last_number for r in s.exec(select(FineNumberSequenceRow)).all()] == [1]
