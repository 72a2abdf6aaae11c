"""The restore drill's evidence check (``scancar admin check-evidence``), SQLite and
PostgreSQL: every row's file exists and still hashes to its SHA-256."""

from __future__ import annotations

from api.evidence.verify import verify_evidence
from tests.api.review_support import post_hit
from tests.factories import make_image
from tests.integration.cli.support import run_cli


def test_evidence_verify_finds_missing_and_changed_files(client, accounts, app):
    device = accounts.headers("device")
    first = post_hit(client, device)
    second = post_hit(  # other photos: files are stored once per content
        client,
        device,
        images={
            "plate": ("plate", make_image(11, (160, 40))),
            "overview": ("overview", make_image(12)),
        },
    )
    state = app.state.backend
    good = verify_evidence(state.engine, state.evidence_store)
    assert (good.rows, good.files, good.hits, good.is_ok) == (4, 4, 2, True)
    assert good.bytes_checked == sum(
        p.stat().st_size for p in state.evidence_store.root.rglob("*") if p.is_file()
    )

    digests = {}
    with state.engine.connect() as conn:
        from sqlalchemy import text

        for hit_id, name, digest in conn.execute(
            text("SELECT hit_id, name, sha256 FROM evidence ORDER BY id")
        ):
            digests[(hit_id, name)] = digest
    store = state.evidence_store
    store.path_for(digests[(first, "plate")]).unlink()
    changed = store.path_for(digests[(second, "overview")])
    changed.chmod(0o644)
    changed.write_bytes(changed.read_bytes()[:-10] + b"0123456789")
    (store.root / "ab").mkdir(exist_ok=True)
    (store.root / "ab" / ("ab" * 32)).write_bytes(b"leftover")

    report = verify_evidence(state.engine, store)
    assert not report.is_ok
    assert [(b.hit_id, b.name, b.problem) for b in report.bad] == [
        (first, "plate", "missing"),
        (second, "overview", "hash mismatch"),
    ]
    assert report.unreferenced_files == 1


def test_evidence_check_command(tmp_path, client, accounts, app, settings):
    post_hit(client, accounts.headers("device"))
    env = {"database_url": settings.database_url, "data_dir": str(settings.data_dir)}
    ok = run_cli("admin", "check-evidence", cwd=tmp_path, **env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("checked 2 evidence files (")
    assert ok.stdout.rstrip().endswith("of 1 hits: every file matches its SHA-256")
    for path in app.state.backend.evidence_store.root.rglob("*"):
        if path.is_file():
            path.unlink()
            break
    bad = run_cli("admin", "check-evidence", cwd=tmp_path, **env)
    assert bad.returncode == 1
    assert "missing (sha256 " in bad.stdout
    assert bad.stdout.splitlines()[-1].endswith("1 bad")
