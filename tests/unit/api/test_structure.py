"""The backend's structure where import-linter cannot see it: the pages build no SQL (they
call the features' queries and services), and only the composition root sits on the app."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

API = REPO / "api"
SQL_CALLS = re.compile(
    r"(?<![.\w])(select|update|delete|insert)\("  # building a statement
    r"|\bsession\.(exec|execute|scalars?)\("  # running one
)


def _sources(folder):
    return sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", _sources(API / "ui"), ids=lambda p: str(p.relative_to(REPO)))
def test_pages_run_no_sql_of_their_own(path):
    hits = [
        f"{n}: {line.strip()}"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if SQL_CALLS.search(line)
    ]
    assert hits == [], "pages read through api/<feature>/queries.py or a service"


def test_only_the_backend_sits_on_the_app_state():
    readers = {
        str(p.relative_to(REPO)): [
            line.strip()
            for line in p.read_text().splitlines()
            if re.search(r"app\.state\.(?!backend\b)\w", line)
        ]
        for p in _sources(API)
    }
    assert {path: lines for path, lines in readers.items() if lines} == {}


def test_the_structure_test_sees_sql(tmp_path):
    """The patterns above match the calls they are meant to catch."""
    assert SQL_CALLS.search("rows = session.exec(select(HitRow)).all()")
    assert SQL_CALLS.search("session.execute(update(HitRow))")
    assert not SQL_CALLS.search("queries.open_queue(session, zone=zone)")
