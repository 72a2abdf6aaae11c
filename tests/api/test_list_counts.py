"""Counts of the big lists: exact up to COUNT_CAP, else 'more than COUNT_CAP'."""

from __future__ import annotations

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
