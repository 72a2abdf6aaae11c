"""Observation ingest: happy path, repeats, and every bad input stores nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from api.audit.db import AuditRow
from api.hits.db import EvidenceRow, HitRow
from tests.factories import make_image, multipart, observation, sha


def _counts(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return (
            s.exec(select(func.count()).select_from(HitRow)).one(),
            s.exec(select(func.count()).select_from(EvidenceRow)).one(),
        )


def _stored_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = settings.evidence_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def post(client, accounts, meta, parts):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/observations", files=multipart(meta, parts), headers=accounts.headers("device")
    )


def test_observation_ingest_creates_pending_grace_hit(client, accounts, engine, settings):
    meta, parts = observation()
    r = post(client, accounts, meta, parts)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["observation_id"] == meta["observation_id"]
    assert body["status"] == "pending_grace"
    with Session(engine) as s:
        hit = s.get(HitRow, body["id"])
        assert hit is not None
        assert hit.plate == "GZ123T"
        assert hit.captured_at.utcoffset() is not None
        assert hit.captured_at.isoformat() == "2026-11-26T10:15:00+00:00"
        ev = s.exec(select(EvidenceRow).where(EvidenceRow.hit_id == hit.id)).all()
        assert sorted(e.name for e in ev) == ["overview", "plate"]
        audit = s.exec(select(AuditRow).where(AuditRow.action == "observation.received")).all()
        assert [a.target_id for a in audit] == [str(hit.id)]
        assert audit[0].actor_type == "device"
    files = _stored_files(settings)
    assert sorted(p.name for p in files) == sorted(sha(b) for b in parts.values())


def test_observation_identical_repeat_returns_200_and_stores_once(client, accounts, engine):
    meta, parts = observation()
    first = post(client, accounts, meta, parts)
    again = post(client, accounts, meta, parts)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert _counts(engine) == (1, 2)


def test_observation_same_id_different_content_is_409(client, accounts, engine):
    meta, parts = observation()
    assert post(client, accounts, meta, parts).status_code == 201
    meta2 = dict(meta, plate="XK52GV")
    r = post(client, accounts, meta2, parts)
    assert r.status_code == 409
    assert r.json()["code"] == "observation_conflict"
    assert _counts(engine) == (1, 2)


def test_observation_evidence_served_with_auth_and_hash_check(client, accounts, settings):
    meta, parts = observation()
    hit_id = post(client, accounts, meta, parts).json()["id"]
    url = f"/api/v1/hits/{hit_id}/evidence/plate"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=accounts.headers("device")).status_code == 403
    ok = client.get(url, headers=accounts.headers("boa"))
    assert ok.status_code == 200
    assert ok.content == parts["plate"]
    assert ok.headers["cache-control"].startswith("no-store")
    # tamper with the stored file: it is reported, not served
    path = next(p for p in _stored_files(settings) if p.name == sha(parts["plate"]))
    path.write_bytes(make_image(99, (160, 40)))
    bad = client.get(url, headers=accounts.headers("boa"))
    assert bad.status_code == 500
    assert bad.json()["code"] == "evidence_tampered"


BAD_METADATA = [
    ({"lat": 91.0}, "metadata.lat"),
    ({"lon": -181}, "metadata.lon"),
    ({"captured_at": "2026-11-26T10:15:00"}, "metadata.captured_at"),
    ({"plate": "GZ-123-T"}, "metadata.plate"),
    ({"plate": "GZ123<"}, "metadata.plate"),
    ({"reason": "looked_suspicious"}, "metadata.reason"),
    ({"plate_confidence": 1.5}, "metadata.plate_confidence"),
    ({"country": "NLD"}, "metadata.country"),
    ({"observation_id": "not-a-uuid"}, "metadata.observation_id"),
    ({"unexpected_field": 1}, "metadata.unexpected_field"),
    ({"evidence": []}, "metadata.evidence"),
]


@pytest.mark.parametrize(("override", "field"), BAD_METADATA)
def test_observation_invalid_metadata_is_422_naming_the_field(
    client, accounts, engine, settings, override, field
):
    meta, parts = observation()
    meta.update(override)
    r = post(client, accounts, meta, parts if override.get("evidence") != [] else {})
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"]
    assert r.json()["code"] == "invalid_metadata"
    assert _counts(engine) == (0, 0)
    assert _stored_files(settings) == []


def test_observation_metadata_not_json_is_422(client, accounts, engine):
    _, parts = observation()
    r = post(client, accounts, "{not json", parts)
    assert r.status_code == 422
    assert _counts(engine) == (0, 0)


def test_observation_sha_mismatch_names_the_part(client, accounts, engine, settings):
    meta, parts = observation()
    parts["overview"] = make_image(3)
    r = post(client, accounts, meta, parts)
    assert r.status_code == 422
    assert "'overview'" in r.json()["detail"]
    assert r.json()["code"] == "sha256_mismatch"
    assert _counts(engine) == (0, 0)
    assert _stored_files(settings) == []


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", "invalid_image"),
        (b"this is not an image at all", "invalid_image"),
        (make_image(4)[:400], "invalid_image"),  # truncated JPEG
        (make_image(5, fmt="GIF"), "invalid_image"),
    ],
    ids=["empty", "text", "truncated-jpeg", "gif"],
)
def test_observation_non_image_evidence_is_422(client, accounts, engine, settings, payload, code):
    images = {"plate": ("plate", payload)}
    meta, parts = observation(images=images)
    r = post(client, accounts, meta, parts)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert "'plate'" in r.json()["detail"]
    assert _counts(engine) == (0, 0)
    assert _stored_files(settings) == []


def test_observation_image_bomb_is_refused(client, accounts, engine, settings):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (20000, 20000)).save(buf, format="PNG", optimize=True)  # ~400 MP declared
    meta, parts = observation(images={"plate": ("plate", buf.getvalue())})
    r = post(client, accounts, meta, parts)
    assert r.status_code == 422
    assert "pixels" in r.json()["detail"]
    assert _counts(engine) == (0, 0)
    assert _stored_files(settings) == []


def test_observation_png_over_the_decoded_bytes_limit_is_refused(
    client, accounts, engine, settings, tmp_path
):
    """The 310 KB 16-bit RGBA PNG of 6320 x 6320 pixels: under the pixel limit, but 305 MB
    decoded; refused from its header, nothing stored."""
    from tests.unit.api.test_png_structure import _canvas_png

    canvas = _canvas_png(6320, tmp_path / "canvas.png")
    assert settings.max_image_pixels >= 6320 * 6320
    meta, parts = observation(images={"overview": ("overview", canvas)})
    r = post(client, accounts, meta, parts)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_image"
    assert "'overview'" in r.json()["detail"]
    assert "305 MB decoded; at most 64 MB allowed" in r.json()["detail"]
    assert _counts(engine) == (0, 0)
    assert _stored_files(settings) == []


def test_observation_oversized_image_is_413(client, accounts, engine, settings):
    big = make_image(6, (3000, 2200))  # random noise JPEG: several MB
    settings.max_image_bytes = len(big) - 1
    meta, parts = observation(images={"overview": ("overview", big)})
    r = post(client, accounts, meta, parts)
    assert r.status_code == 413
    assert "'overview'" in r.json()["detail"]
    assert _counts(engine) == (0, 0)


def test_observation_oversized_request_is_413(client, accounts, engine, settings, app):
    meta, _ = observation()
    body_limit = next(m for m in app.user_middleware if m.cls.__name__ == "BodyLimitsMiddleware")
    assert body_limit.kwargs["max_bytes"] == settings.max_request_bytes
    # 40 parts of 1 MB go over the 32 MB request limit
    many = {f"p{i}": b"x" * (1024 * 1024) for i in range(40)}
    r = post(client, accounts, meta, many)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert _counts(engine) == (0, 0)


def test_observation_too_many_parts_is_4xx(client, accounts, engine):
    meta, parts = observation()
    many = dict(parts)
    many.update({f"extra{i}": b"x" for i in range(2000)})
    r = post(client, accounts, meta, many)
    assert 400 <= r.status_code < 500
    assert "at most 6 images" in r.json()["detail"].lower()
    assert _counts(engine) == (0, 0)


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", ".hidden", "x" * 65])
def test_observation_unsafe_evidence_names_are_refused(client, accounts, engine, settings, name):
    meta, parts = observation(images={name: ("plate", make_image(7, (160, 40)))})
    r = post(client, accounts, meta, parts)
    assert r.status_code == 422
    assert "evidence" in r.json()["detail"]
    assert _counts(engine) == (0, 0)
    assert _stored_files(settings) == []


def test_observation_undeclared_or_missing_parts_are_422(client, accounts, engine):
    meta, parts = observation()
    extra = dict(parts, surprise=make_image(8))
    r = post(client, accounts, meta, extra)
    assert r.status_code == 422
    assert "'surprise'" in r.json()["detail"]
    missing = {"plate": parts["plate"]}
    r = post(client, accounts, meta, missing)
    assert r.status_code == 422
    assert "'overview'" in r.json()["detail"]
    assert _counts(engine) == (0, 0)


def test_observation_wrong_content_type_is_4xx(client, accounts, engine):
    meta, _ = observation()
    r = client.post("/api/v1/observations", json=meta, headers=accounts.headers("device"))
    assert r.status_code == 400
    assert "multipart/form-data" in r.json()["detail"]
    assert _counts(engine) == (0, 0)


def test_observation_requires_device_role(client, accounts):
    meta, parts = observation()
    assert client.post("/api/v1/observations", files=multipart(meta, parts)).status_code == 401
    r = client.post(
        "/api/v1/observations", files=multipart(meta, parts), headers=accounts.headers("boa")
    )
    assert r.status_code == 403


def test_observation_ids_are_independent(client, accounts, engine):
    for _ in range(3):
        meta, parts = observation(observation_id=str(uuid.uuid4()))
        assert post(client, accounts, meta, parts).status_code == 201
    # same images in three hits: stored once on disk, three evidence rows each pointing at them
    assert _counts(engine) == (3, 6)
