"""SqliteOutbox on a real SQLite file and real evidence files."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from scancar.outbox.errors import (
    DuplicateObservationError,
    EvidenceMismatchError,
    OutboxConfigError,
    OutboxFullError,
)
from scancar.outbox.model import ItemState
from scancar.outbox.store import SqliteOutbox
from scancar.wire import ObservationReceipt
from tests.integration.outbox.outbox_factory import make_suspect, observation_id


def open_outbox(path: Path, quota: int = 10_000_000, **kwargs: object) -> SqliteOutbox:
    return SqliteOutbox(path, quota, **kwargs)  # type: ignore[arg-type]


def test_put_stores_metadata_bytes_exactly_and_evidence_files(tmp_path: Path) -> None:
    metadata, evidence = make_suspect(1)
    with open_outbox(tmp_path) as outbox:
        outbox.put(metadata, evidence)
        [item] = outbox.next_batch()
    assert item.observation_id == metadata.observation_id
    assert item.metadata_json == metadata.model_dump_json().encode()
    assert {e.name: e.path.read_bytes() for e in item.evidence} == evidence
    assert {e.name: e.sha256 for e in item.evidence} == {
        n: hashlib.sha256(b).hexdigest() for n, b in evidence.items()
    }
    assert item.attempts == 0


def test_outbox_uses_wal_and_full_sync(tmp_path: Path) -> None:
    with open_outbox(tmp_path):
        pass
    db = sqlite3.connect(tmp_path / "outbox.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


def test_next_batch_keeps_put_order_and_survives_reopen(tmp_path: Path) -> None:
    order = [5, 3, 9, 1, 7]
    with open_outbox(tmp_path) as outbox:
        for i in order:
            outbox.put(*make_suspect(i))
    with open_outbox(tmp_path) as outbox:
        assert [it.observation_id for it in outbox.next_batch(3)] == [
            observation_id(i) for i in order[:3]
        ]
        assert outbox.backlog() == 5
        assert outbox.last_reconcile.orphan_dirs_deleted == 0


def test_put_same_content_twice_is_a_no_op(tmp_path: Path) -> None:
    with open_outbox(tmp_path) as outbox:
        outbox.put(*make_suspect(1))
        outbox.put(*make_suspect(1))
        assert outbox.backlog() == 1


def test_put_same_id_other_content_is_refused(tmp_path: Path) -> None:
    metadata, evidence = make_suspect(1)
    changed = metadata.model_copy(update={"plate_confidence": 0.5})
    with open_outbox(tmp_path) as outbox:
        outbox.put(metadata, evidence)
        with pytest.raises(DuplicateObservationError, match=str(metadata.observation_id)):
            outbox.put(changed, evidence)
        assert outbox.backlog() == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda ev: {**ev, "extra.jpg": b"x"}, "evidence names"),
        (lambda ev: {k: v for k, v in ev.items() if k != "plate.jpg"}, "evidence names"),
        (lambda ev: {**ev, "plate.jpg": ev["plate.jpg"] + b"!"}, "sha256 of 'plate.jpg'"),
    ],
)
def test_put_refuses_evidence_not_matching_metadata(
    tmp_path: Path, mutate: object, message: str
) -> None:
    metadata, evidence = make_suspect(1)
    with open_outbox(tmp_path) as outbox:
        with pytest.raises(EvidenceMismatchError, match=message):
            outbox.put(metadata, mutate(evidence))  # type: ignore[operator]
        assert outbox.backlog() == 0
    assert list((tmp_path / "evidence").iterdir()) == []


def test_mark_sent_deletes_evidence_and_metadata(tmp_path: Path) -> None:
    metadata, evidence = make_suspect(1)
    oid = metadata.observation_id
    with open_outbox(tmp_path) as outbox:
        outbox.put(metadata, evidence)
        outbox.mark_sent(oid, ObservationReceipt(id=7, observation_id=oid, status="new"))
        assert outbox.backlog() == 0
        assert outbox.state_of(oid) is ItemState.SENT
        assert outbox.stats().sent == 1
        assert outbox.stats().bytes_queued == 0
        # a sent id stays known: putting it again is a no-op, not a second upload
        outbox.put(metadata, evidence)
        assert outbox.backlog() == 0
    assert not (tmp_path / "evidence" / str(oid)).exists()
    db = sqlite3.connect(tmp_path / "outbox.sqlite3")
    row = db.execute(
        "SELECT metadata_json, receipt_json FROM outbox WHERE observation_id = ?", (str(oid),)
    ).fetchone()
    db.close()
    assert row[0] is None
    assert '"id":7' in row[1]


def test_dead_letter_keeps_reason_and_evidence(tmp_path: Path) -> None:
    metadata, evidence = make_suspect(1)
    oid = metadata.observation_id
    with open_outbox(tmp_path) as outbox:
        outbox.put(metadata, evidence)
        outbox.put(*make_suspect(2))
        outbox.dead_letter(oid, 422, "rejected", '{"code": "invalid"}')
        [letter] = outbox.dead_letters()
        assert (letter.observation_id, letter.status, letter.reason) == (oid, 422, "rejected")
        assert letter.detail == '{"code": "invalid"}'
        assert [it.observation_id for it in outbox.next_batch()] == [observation_id(2)]
        assert outbox.state_of(oid) is ItemState.DEAD
        outbox.purge_dead(oid)
        assert outbox.stats().dead == 1
    assert (tmp_path / "evidence" / str(observation_id(2))).is_dir()
    assert not (tmp_path / "evidence" / str(oid)).exists()


def test_quota_refuses_new_suspects_keeps_queued_and_alerts_once(tmp_path: Path) -> None:
    alerts: list[str] = []
    size = len(make_suspect(0)[0].model_dump_json()) + sum(map(len, make_suspect(0)[1].values()))
    with open_outbox(tmp_path, quota=int(size * 3.5), on_alert=alerts.append) as outbox:
        for i in range(3):
            outbox.put(*make_suspect(i))
        with pytest.raises(OutboxFullError, match="quota"):
            outbox.put(*make_suspect(3))
        with pytest.raises(OutboxFullError):
            outbox.put(*make_suspect(4))
        assert len(alerts) == 1
        assert outbox.backlog() == 3
        assert outbox.stats().is_accepting is False
        # hysteresis: one sent item brings usage to 2/3.5 of the quota, below 90 %
        outbox.mark_sent(observation_id(0), None)
        outbox.put(*make_suspect(3))
        assert outbox.stats().is_accepting is True
        assert outbox.backlog() == 3


def test_min_free_bytes_refuses_when_disk_is_nearly_full(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    with (
        open_outbox(tmp_path, min_free_bytes=free + 1) as outbox,
        pytest.raises(OutboxFullError, match="free on disk"),
    ):
        outbox.put(*make_suspect(1))


def test_reconcile_deletes_orphans_and_dead_letters_missing_evidence(tmp_path: Path) -> None:
    with open_outbox(tmp_path) as outbox:
        for i in range(3):
            outbox.put(*make_suspect(i))
        outbox.mark_sent(observation_id(2), None)
    evidence = tmp_path / "evidence"
    # a put that crashed before its COMMIT, one that crashed while writing, a sent leftover
    (evidence / str(observation_id(8))).mkdir()
    (evidence / str(observation_id(8)) / "plate.jpg").write_bytes(b"x")
    (evidence / f"{observation_id(9)}.tmp").mkdir()
    (evidence / str(observation_id(2))).mkdir()
    # a pending row whose file vanished
    (evidence / str(observation_id(1)) / "overview.jpg").unlink()
    with open_outbox(tmp_path) as outbox:
        report = outbox.last_reconcile
        assert (report.orphan_dirs_deleted, report.sent_evidence_deleted) == (2, 1)
        assert report.missing_to_dead == 1
        [letter] = outbox.dead_letters()
        assert letter.observation_id == observation_id(1)
        assert letter.reason == "evidence_missing"
        assert "overview.jpg" in letter.detail
        assert [it.observation_id for it in outbox.next_batch()] == [observation_id(0)]
    assert sorted(p.name for p in evidence.iterdir()) == sorted(
        [str(observation_id(0)), str(observation_id(1))]
    )


def test_outbox_refuses_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(OutboxConfigError, match="quota_bytes"):
        SqliteOutbox(tmp_path, 0)
    with pytest.raises(OutboxConfigError, match="resume_ratio"):
        SqliteOutbox(tmp_path, 10, resume_ratio=1.5)


def test_dead_letter_ignores_an_observation_already_sent(tmp_path: Path) -> None:
    metadata, evidence = make_suspect(1)
    oid = metadata.observation_id
    with open_outbox(tmp_path) as outbox:
        outbox.put(metadata, evidence)
        outbox.mark_sent(oid, None)
        outbox.dead_letter(oid, 500, "rejected", "late")
        assert outbox.state_of(oid) is ItemState.SENT
        assert outbox.dead_letters() == []
