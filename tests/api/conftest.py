"""Fixtures shared by the API tests (the database, app and accounts come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.api.permits_support import load_town


@pytest.fixture
def bo(accounts):  # type: ignore[no-untyped-def]
    """Request headers of a back-office user."""
    return accounts.headers("backoffice")


@pytest.fixture
def town(engine) -> None:  # type: ignore[no-untyped-def]
    """The fixture town's zones as the current zone version."""
    load_town(engine)
