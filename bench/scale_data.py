# ruff: noqa: S608 - every statement is built from constants of this module
"""A year of a large city's back-office data, generated in SQL (bench data only).

``load_year(engine, hits=N)`` fills a freshly migrated database with N hits spread evenly over
the 365 days before now, and what a year of them leaves behind with the purge running:

- hits: 36 % dismissed at the grace step, 4 % rejected, the rest confirmed; hits of the last
  12 days mostly still wait for a BOA (about 2 % of all); the last 10 minutes are in grace;
- a fine for every confirmed hit (tax or WAHV by zone), drafts for the last 2 days, then paid,
  objections, annulled, sent to collection, outstanding; fines issued more than 45 days ago
  are exported in monthly batches per track;
- payments, one history row per hit and per fine, rights checks of the last 8 days, evidence
  rows for hits that still have evidence, 2.3 audit rows and 2.2 car heartbeats per hit
  (10 cars, one run per car per day, cumulative counters);
- retention applied as if the purge last ran a day ago (so a run has a day's work): plates of
  discarded hits older than 7 days and closed fines past their term are gone, their evidence
  too.

Every value is a function of the row number (a multiplicative hash, ``_rnd``), so the same
size and seed give the same data on PostgreSQL and SQLite. PostgreSQL loads with the row
triggers off (``session_replication_role = replica``: no foreign-key or aggregate triggers;
the caller rebuilds the aggregates afterwards); SQLite loads with them on.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

DAY = 86_400
YEAR = 365 * DAY
LETTERS = "BDFGHJKLNPRSTVXZ"
N_DEVICES = 10
N_BOAS = 20
# zone kinds by column of the grid: (kind, fine track, grace minutes, max stay)
GRID_COLS, GRID_ROWS = 8, 5
CELL_LON, CELL_LAT = 0.012, 0.008
ORIGIN_LON, ORIGIN_LAT = 5.06, 52.06
KINDS = ("paid", "paid", "permit", "paid", "blue", "permit", "loading", "no_parking")
TRACK = {"paid": "tax", "permit": "tax", "blue": "wahv", "loading": "wahv", "no_parking": "wahv"}
REASON = {
    "paid": "no_right",
    "permit": "no_right",
    "blue": "max_stay_exceeded",
    "loading": "loading_zone",
    "no_parking": "no_parking",
}
REJECT_REASONS = (
    "driver_present",
    "loading_unloading",
    "plate_misread",
    "right_found",
    "evidence_insufficient",
)


def zone_ids() -> list[str]:
    return [f"z{i:02d}" for i in range(GRID_COLS * GRID_ROWS)]


def zone_geojson() -> dict[str, object]:
    """A grid of 40 zones (8 x 5 cells of about 800 x 900 m) with the five zone kinds."""
    features = []
    for idx, zid in enumerate(zone_ids()):
        col_, row = idx % GRID_COLS, idx // GRID_COLS
        kind = KINDS[col_]
        x0, y0 = ORIGIN_LON + col_ * CELL_LON, ORIGIN_LAT + row * CELL_LAT
        ring = [[x0, y0], [x0 + CELL_LON, y0], [x0 + CELL_LON, y0 + CELL_LAT], [x0, y0 + CELL_LAT]]
        features.append(
            {
                "type": "Feature",
                "id": zid,
                "properties": {
                    "name": f"Zone {idx + 1}",
                    "kind": kind,
                    "area_code": f"0344_{zid.upper()}",
                    "schedule": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
                            "start": "09:00",
                            "end": "21:00",
                            "tariff_cents_per_hour": 450 if kind == "paid" else 0,
                        }
                    ],
                    "max_stay_minutes": 120 if kind == "blue" else None,
                    "grace_minutes": 10,
                    "fine_track": TRACK[kind],
                    "remote_enforcement_allowed": kind not in ("blue", "loading"),
                    "permit_types": ["resident", "visitor"] if kind == "permit" else [],
                },
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


@dataclass
class Sql:
    """The few expressions that differ between PostgreSQL and SQLite."""

    pg: bool
    t0: datetime  # the start of the year (now - 365 days)
    seed: int

    def series(self, n: int) -> tuple[str, str]:
        """(WITH prefix, FROM clause) giving integers i = 1..n."""
        if self.pg:
            return "", f"generate_series(CAST(1 AS BIGINT), {n}) AS s(i)"
        cte = f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
        return cte, "s"

    def ts(self, seconds: str) -> str:
        """The timestamp ``seconds`` (an integer expression) after t0, in the column's format."""
        if self.pg:
            return f"(TIMESTAMPTZ '{self.t0.isoformat()}' + ({seconds}) * INTERVAL '1 second')"
        epoch = int(self.t0.timestamp())
        return f"(strftime('%Y-%m-%d %H:%M:%S', {epoch} + ({seconds}), 'unixepoch') || '.000000')"

    def secs(self, column: str) -> str:
        """Integer seconds from t0 to a timestamp column (inverse of ``ts``)."""
        if self.pg:
            t0 = self.t0.isoformat()
            return f"CAST(EXTRACT(EPOCH FROM {column} - TIMESTAMPTZ '{t0}') AS BIGINT)"
        epoch = int(self.t0.timestamp())
        return f"(CAST(strftime('%s', {column}) AS INTEGER) - {epoch})"

    def rnd(self, iv: str, k: int) -> str:
        """A uniform number in [0, 1) from the row number (stream ``k``), seeded."""
        a = (2_654_435_761, 2_246_822_519, 3_266_489_917, 668_265_263, 374_761_393, 1_181_783_497)[
            k % 6
        ]
        b = 7_919 * (k + 1) + 104_729 * self.seed
        return f"((({iv}) * {a} + {b}) % 1000003 * 1.0 / 1000003)"

    def least(self, *xs: str) -> str:
        return f"{'LEAST' if self.pg else 'MIN'}({', '.join(xs)})"

    def greatest(self, *xs: str) -> str:
        return f"{'GREATEST' if self.pg else 'MAX'}({', '.join(xs)})"

    def pad(self, expr: str, width: int) -> str:
        if self.pg:
            return f"lpad(CAST({expr} AS TEXT), {width}, '0')"
        return f"printf('%0{width}d', {expr})"

    def hex64(self, iv: str, salt: str) -> str:
        if self.pg:
            return f"md5('{salt}' || ({iv})) || md5(({iv}) || '{salt}')"
        salt_no = int(hashlib.sha256(salt.encode()).hexdigest()[:6], 16)
        return f"printf('%064x', ({iv}) * 16777216 + {salt_no})"

    def json_counts(self, m: str) -> str:
        fn = "json_build_object" if self.pg else "json_object"
        return (
            f"{fn}('frames', ({m}) * 600, 'frames_skipped', 0, 'reads', ({m}) * 41, "
            f"'checks', ({m}) * 40, 'suspects', ({m}) * 3, 'discarded', ({m}) * 37)"
        )

    def true(self) -> str:
        return "TRUE" if self.pg else "1"


@dataclass
class LoadReport:
    hits: int
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def _plate(sql: Sql, pv: str) -> str:
    """A Dutch-looking plate (XX-999-X without dashes) from a plate number expression."""

    def letter(e: str) -> str:
        return f"substr('{LETTERS}', 1 + CAST(({e}) % 16 AS INTEGER), 1)"

    return (
        f"{letter(pv)} || {letter(f'({pv}) / 16')} || "
        f"{sql.pad(f'CAST(({pv}) / 256 AS INTEGER) % 1000', 3)} || {letter(f'({pv}) / 256000')}"
    )


class _Loader:
    def __init__(self, conn: Connection, sql: Sql, n: int, boas: tuple[int, int]) -> None:
        self.conn, self.sql, self.n = conn, sql, n
        self.boa_lo, self.boa_hi = boas
        self.step = YEAR // n
        self.purged_until = YEAR - DAY  # the purge last ran a day before now
        self.report = LoadReport(n)

    def run(self, name: str, statement: str) -> None:
        t = time.perf_counter()
        result = self.conn.execute(text(statement))
        self.report.seconds[name] = self.report.seconds.get(name, 0.0) + time.perf_counter() - t
        self.report.rows[name] = self.report.rows.get(name, 0) + max(0, result.rowcount or 0)

    # ------------------------------------------------------------------ hits
    def t_cap(self, iv: str) -> str:
        """Capture time of hit ``iv`` in seconds after t0."""
        return f"(({iv}) - 1) * {self.step} + CAST({self.sql.rnd(iv, 0)} * {self.step} AS INTEGER)"

    def hits(self) -> None:
        s, n = self.sql, self.n
        with_, from_ = s.series(n)
        r1, r2, r3 = s.rnd("i", 1), s.rnd("i", 2), s.rnd("i", 3)
        zone = f"CAST({s.rnd('i', 5)} * {s.rnd('i', 5)} * 40 AS INTEGER)"  # busier low numbers
        base = (
            f"SELECT i, {self.t_cap('i')} AS t, {zone} AS z, {r1} AS r1, {r2} AS r2, {r3} AS r3, "
            f"{s.rnd('i', 4)} AS r4 FROM {from_}"
        )
        age = f"({YEAR} - b.t)"
        status = (
            f"CASE WHEN {age} < 600 THEN 'pending_grace' WHEN b.r1 < 0.36 THEN 'dismissed' "
            f"WHEN {age} < {12 * DAY} AND b.r2 < 0.75 THEN 'awaiting_review' "
            f"WHEN {age} < {12 * DAY} AND b.r2 < 0.76 THEN 'claimed' "
            f"WHEN b.r1 < 0.40 THEN 'rejected' ELSE 'confirmed' END"
        )
        kinds = " ".join(f"WHEN {k} THEN '{REASON[v]}'" for k, v in enumerate(KINDS))
        reason = f"CASE b.z % {GRID_COLS} {kinds} END"
        delay = f"CAST({s.least(f'{age} - 600', str(DAY))} * b.r3 AS INTEGER)"
        lon = f"{ORIGIN_LON} + (b.z % {GRID_COLS}) * {CELL_LON} + b.r3 * {CELL_LON}"
        lat = f"{ORIGIN_LAT} + (b.z / {GRID_COLS}) * {CELL_LAT} + b.r4 * {CELL_LAT}"
        plate_no = f"((b.i * 7) % {max(1, n // 3)} + 1) * 2654435 % 4194304"
        boa = f"{self.boa_lo} + b.i % {self.boa_hi - self.boa_lo + 1}"
        reject = " ".join(f"WHEN {k} THEN '{v}'" for k, v in enumerate(REJECT_REASONS))
        inner = (
            f"SELECT b.i AS id, b.t AS t, b.z AS z, b.r2 AS r2, b.r3 AS r3, {status} AS status, "
            f"{reason} AS reason, b.t + 600 + {delay} AS decided, {lon} AS lon, {lat} AS lat, "
            f"{_plate(s, plate_no)} AS plate, {boa} AS boa, "
            f"CASE b.i % {len(REJECT_REASONS)} {reject} END AS reject_reason "
            f"FROM ({base}) AS b"
        )
        decided_col = "CASE WHEN h.status IN ('rejected', 'confirmed') THEN h.decided END"
        done = f"COALESCE({decided_col}, h.t + 600)"  # decided, or updated at the grace step
        discarded = "h.status IN ('dismissed', 'rejected')"
        anon = f"{discarded} AND {done} + {7 * DAY} <= {self.purged_until}"
        ev_gone = (
            f"CASE WHEN h.status = 'dismissed' THEN h.t + 600 "
            f"WHEN h.status = 'rejected' AND h.decided + {DAY} <= {self.purged_until} "
            f"THEN h.decided + {DAY} END"
        )
        self.run(
            "hits",
            f"INSERT INTO hits (id, observation_id, device_id, content_sha256, metadata_json, "
            "status, plate, country, plate_confidence, captured_at, lon, lat, "
            "position_accuracy_m, camera, zone_id, reason, rights_checked_at, software_version, "
            "received_at, updated_at, grace_until, repeat, claimed_by, claimed_until, "
            "decided_by, decided_at, decision_mode, reject_reason, evidence_deleted_at) "
            f"{with_}SELECT h.id, 'bench-' || h.id, 1 + h.id % {N_DEVICES}, "
            f"{s.hex64('h.id', 'obs')}, CASE WHEN {anon} THEN '{{}}' ELSE "
            '\'{"camera": "cam-right"}\' END, h.status, '
            f"CASE WHEN {anon} THEN '' ELSE h.plate END, 'NL', 0.9 + h.r3 / 10, {s.ts('h.t')}, "
            "h.lon, h.lat, 3.5, 'cam-right', "
            f"'z' || {s.pad('h.z', 2)}, h.reason, {s.ts('h.t')}, 'bench-1', {s.ts('h.t + 4')}, "
            f"{s.ts(f'COALESCE({decided_col}, h.t + 600)')}, {s.ts('h.t + 600')}, "
            f"{'FALSE' if s.pg else '0'}, "
            "CASE WHEN h.status = 'claimed' THEN h.boa END, "
            f"CASE WHEN h.status = 'claimed' THEN {s.ts(f'{YEAR} + 900')} END, "
            "CASE WHEN h.status IN ('rejected', 'confirmed') THEN h.boa END, "
            f"{s.ts(decided_col)}, "
            "CASE WHEN h.status IN ('rejected', 'confirmed') THEN "
            "CASE WHEN h.r2 < 0.2 THEN 'on_site' ELSE 'remote' END END, "
            "CASE WHEN h.status = 'rejected' THEN h.reject_reason END, "
            f"{s.ts(ev_gone)} "
            f"FROM ({inner}) AS h",
        )

    # ------------------------------------------------------------------ fines
    def fines(self) -> None:
        s = self.sql
        age = f"({YEAR} - f.t)"
        status = (
            f"CASE WHEN {age} < {2 * DAY} THEN 'draft' "
            f"WHEN f.r < 0.70 AND {age} > {16 * DAY} THEN 'paid' "
            f"WHEN f.r < 0.72 AND {age} > {40 * DAY} THEN 'objection_upheld' "
            f"WHEN f.r < 0.74 AND {age} > {10 * DAY} THEN 'objection' "
            f"WHEN f.r < 0.77 THEN 'annulled' "
            f"WHEN f.r < 0.87 AND {age} > {100 * DAY} THEN 'sent_to_collection' "
            "ELSE 'issued' END"
        )
        issued = f"g.t + {DAY}"
        closed = (
            f"CASE g.status WHEN 'paid' THEN {issued} + {14 * DAY} "
            f"WHEN 'objection_upheld' THEN {issued} + {30 * DAY} "
            f"WHEN 'annulled' THEN {issued} + {5 * DAY} "
            f"WHEN 'sent_to_collection' THEN {issued} + {90 * DAY} END"
        )
        deadline = f"CASE WHEN g.status <> 'draft' THEN {issued} + {42 * DAY} END"
        due = f"{s.greatest('g.closed', 'COALESCE(g.deadline, 0)', 'g.t')} + {91 * DAY}"
        anon = f"g.closed IS NOT NULL AND {due} <= {self.purged_until}"
        wahv = ", ".join(str(k) for k, v in enumerate(KINDS) if TRACK[v] == "wahv")
        inner = (
            f"SELECT h.id AS id, {s.secs('h.captured_at')} AS t, h.zone_id AS zone_id, "
            f"{s.rnd('h.id', 6)} AS r, CASE WHEN CAST(substr(h.zone_id, 2) AS INTEGER) "
            f"% {GRID_COLS} IN ({wahv}) THEN 'wahv' ELSE 'tax' END AS track, h.plate AS plate "
            "FROM hits AS h WHERE h.status = 'confirmed'"
        )
        mid = f"SELECT f.*, {status} AS status FROM ({inner}) AS f"
        outer = f"SELECT g.*, {closed} AS closed, {deadline} AS deadline FROM ({mid}) AS g"
        self.run(
            "fines",
            "INSERT INTO fines (id, hit_id, track, status, number, plate, zone_id, offence_at, "
            "offence_code, amount_cents, paid_cents, calculation_json, evidence_json, "
            "needs_second_approval, created_at, updated_at, issued_at, issued_by, "
            "objection_deadline, objection_received_at, objection_text, objection_late, "
            "closed_at, anonymised_at) "
            f"SELECT g.id, g.id, g.track, g.status, "
            f"CASE WHEN g.status <> 'draft' THEN '2026-' || {s.pad('g.id', 7)} END, "
            f"CASE WHEN {anon} THEN NULL ELSE g.plate END, g.zone_id, {s.ts('g.t')}, "
            "CASE WHEN g.track = 'wahv' THEN 'blue_zone' END, "
            "CASE WHEN g.track = 'wahv' THEN 11500 ELSE 8260 END, "
            "CASE WHEN g.status = 'paid' THEN CASE WHEN g.track = 'wahv' THEN 11500 ELSE 8260 END "
            "ELSE 0 END, '{}', "
            f"CASE WHEN {anon} THEN '{{}}' ELSE '{{\"decision\": \"remote\"}}' END, "
            f"{'FALSE' if s.pg else '0'}, {s.ts('g.t + 3600')}, "
            f"{s.ts('COALESCE(g.closed, g.t + 86400)')}, "
            f"CASE WHEN g.status <> 'draft' THEN {s.ts('g.t + 86400')} END, NULL, "
            f"{s.ts('g.deadline')}, "
            f"CASE WHEN g.status LIKE 'objection%' THEN {s.ts('g.t + 86400 + 864000')} END, "
            f"CASE WHEN g.status LIKE 'objection%' AND NOT ({anon}) THEN 'bezwaar' END, "
            f"{'FALSE' if s.pg else '0'}, {s.ts('g.closed')}, "
            f"CASE WHEN {anon} THEN {s.ts(str(self.purged_until))} END "
            f"FROM ({outer}) AS g",
        )
        # the hits of anonymised fines lost their plate and evidence with them
        self.run(
            "fines",
            f"UPDATE hits SET plate = '', metadata_json = '{{}}', "
            f"evidence_deleted_at = {s.ts(str(self.purged_until))} "
            "WHERE id IN (SELECT hit_id FROM fines WHERE anonymised_at IS NOT NULL)",
        )
        # the months exported so far, each track's month one batch
        t = s.secs("f.offence_at")
        batch = f"f.track || '-' || CAST(({t} + {DAY}) / {30 * DAY} AS INTEGER)"
        done = (
            f"SELECT f.id AS id, f.track AS track, f.status AS status, f.amount_cents AS cents, "
            f"{batch} AS batch, CAST(({t} + {DAY}) / {30 * DAY} AS INTEGER) AS month FROM fines f "
            f"WHERE f.status NOT IN ('draft', 'annulled') AND {t} + {DAY} < {YEAR - 45 * DAY}"
        )
        self.run(
            "export batches",
            "INSERT INTO fine_export_batches (id, track, created_at, created_by, fine_count, "
            f"total_cents) SELECT e.batch, MIN(e.track), "
            f"{s.ts(f'(MIN(e.month) + 1) * {30 * DAY}')}, 'bench', COUNT(*), SUM(e.cents) "
            f"FROM ({done}) AS e GROUP BY e.batch",
        )
        self.run(
            "export batches",
            "INSERT INTO fine_export_items (fine_id, batch_id, status) "
            f"SELECT e.id, e.batch, e.status FROM ({done}) AS e",
        )
        self.run(
            "export batches",
            "INSERT INTO fine_export_pending (fine_id, track, issued_at, amount_cents) "
            "SELECT f.id, f.track, f.issued_at, f.amount_cents FROM fines f "
            "WHERE f.number IS NOT NULL AND f.status NOT IN ('draft', 'annulled') AND NOT EXISTS "
            "(SELECT 1 FROM fine_export_items i WHERE i.fine_id = f.id)",
        )
        self.run(
            "payments",
            "INSERT INTO fine_payments (fine_id, amount_cents, received_at, registered_by) "
            "SELECT id, paid_cents, closed_at, NULL FROM fines WHERE status = 'paid'",
        )
        self.run(
            "fine events",
            "INSERT INTO fine_events (fine_id, at, actor_type, actor_id, actor_name, action, "
            "from_status, to_status, detail) SELECT id, created_at, 'user', NULL, 'boa', "
            "'draft', 'none', 'draft', '' FROM fines",
        )

    # ------------------------------------------------------------------ around the hits
    def hit_side(self) -> None:
        s = self.sql
        self.run(
            "hit events",
            "INSERT INTO hit_events (hit_id, at, actor_type, actor_id, actor_name, action, "
            "from_status, to_status, detail) SELECT id, updated_at, 'system', NULL, 'system', "
            "CASE WHEN status = 'dismissed' THEN 'right_found' ELSE 'grace_passed' END, "
            "'pending_grace', status, '' FROM hits WHERE status <> 'pending_grace'",
        )
        self.run(
            "rights checks",
            "INSERT INTO hit_rights_checks (hit_id, at, source, plate, zone_id, checked_for, "
            "allowed, reason, right_id, valid_until) SELECT id, captured_at, 'car', plate, "
            f"zone_id, captured_at, {'FALSE' if s.pg else '0'}, 'no_right', NULL, NULL "
            f"FROM hits WHERE captured_at >= {s.ts(str(YEAR - 8 * DAY))}",
        )
        for name in ("overview", "plate"):
            self.run(
                "evidence",
                "INSERT INTO evidence (hit_id, name, kind, sha256, size_bytes, content_type, "
                f"width, height, created_at) SELECT id, '{name}.jpg', '{name}', "
                f"{s.hex64('id', name)}, 98000, 'image/jpeg', 1920, 1080, received_at "
                "FROM hits WHERE evidence_deleted_at IS NULL",
            )

    def audit(self) -> None:
        s, n = self.sql, self.n
        total = n * 23 // 10
        with_, from_ = s.series(total)
        step = YEAR // total
        kind = "i % 23"
        self.run(
            "audit",
            "INSERT INTO audit_log (at, actor_type, actor_id, actor_name, action, target_type, "
            f"target_id, request_id, detail) {with_}SELECT {s.ts(f'(i - 1) * {step}')}, "
            f"CASE WHEN {kind} < 22 THEN 'user' ELSE 'system' END, NULL, 'bench', "
            f"CASE WHEN {kind} < 9 THEN 'hit.grace_passed' WHEN {kind} < 17 THEN 'hit.confirm' "
            f"WHEN {kind} < 22 THEN 'fine.issue' ELSE 'auth.login' END, "
            f"CASE WHEN {kind} < 17 THEN 'hit' WHEN {kind} < 22 THEN 'fine' ELSE 'user' END, "
            f"CAST(1 + (i * 7919) % {n} AS TEXT), NULL, '' FROM {from_}",
        )

    def heartbeats(self) -> None:
        s, n = self.sql, self.n
        total = n * 22 // 10
        per_day = max(1, -(-total // (N_DEVICES * 365)))
        gap = 15 * 3600 // per_day
        with_, from_ = s.series(total)
        k = f"((i - 1) / {N_DEVICES})"
        day, m = f"({k} / {per_day})", f"({k} % {per_day})"
        sent = f"{day} * {DAY} + {6 * 3600} + {m} * {gap}"
        self.run(
            "heartbeats",
            "INSERT INTO heartbeats (device_id, run_id, received_at, sent_at, lon, lat, counts, "
            f"outbox_backlog, rights_cache_age_s, software_version) {with_}SELECT "
            f"1 + (i - 1) % {N_DEVICES}, 'run-' || (1 + (i - 1) % {N_DEVICES}) || '-' || {day}, "
            f"{s.ts(f'{sent} + 1')}, {s.ts(sent)}, {ORIGIN_LON + 0.05}, {ORIGIN_LAT + 0.02}, "
            f"{s.json_counts(m + ' + 1')}, 0, 60.0, 'bench-1' FROM {from_} "
            f"WHERE {sent} < {YEAR}",
        )


def _seed_accounts(engine: Engine) -> tuple[int, int]:
    """Devices 1..10, the BOAs, a back-office user and an admin; returns the BOA id range."""
    from api.auth.service import create_device, create_user
    from api.db import session_scope

    with session_scope(engine) as session:
        for d in range(N_DEVICES):
            create_device(session, name=f"car-{d + 1:02d}")
        ids = [
            create_user(session, username=f"boa{b:02d}", password=PASSWORD, role="boa").id
            for b in range(N_BOAS)
        ]
        create_user(session, username="backoffice", password=PASSWORD, role="backoffice")
        create_user(session, username="admin", password=PASSWORD, role="admin")
    boa_ids = [i for i in ids if i is not None]
    return min(boa_ids), max(boa_ids)


def _seed_zones(engine: Engine, workdir: Path) -> None:
    from api.db import session_scope
    from api.zones.versions import import_zone_set
    from zones.geojson import load_feature_collection

    path = workdir / "zones.geojson"
    path.write_text(json.dumps(zone_geojson()))
    with session_scope(engine) as session:
        import_zone_set(session, load_feature_collection(path), None, actor_name="bench")


PASSWORD = "bench-password-1"  # noqa: S105 - bench accounts in a throw-away database


def reference_now() -> datetime:
    """The end of the generated year: now, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def load_year(
    engine: Engine, workdir: Path, *, hits: int, seed: int = 1, now: datetime | None = None
) -> LoadReport:
    """Fill a freshly migrated database with a year of data ending at ``now``."""
    now = now or reference_now()
    sql = Sql(engine.dialect.name == "postgresql", now - timedelta(seconds=YEAR), seed)
    boas = _seed_accounts(engine)
    _seed_zones(engine, workdir)
    with engine.begin() as conn:
        if sql.pg:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        loader = _Loader(conn, sql, hits, boas)
        loader.hits()
        loader.fines()
        loader.hit_side()
        loader.audit()
        loader.heartbeats()
        if sql.pg:
            for table in (
                "hits",
                "fines",
                "fine_payments",
                "fine_events",
                "hit_events",
                "hit_rights_checks",
                "evidence",
                "audit_log",
                "heartbeats",
            ):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
    t = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if sql.pg else "ANALYZE"))
    loader.report.seconds["analyze"] = time.perf_counter() - t
    return loader.report
