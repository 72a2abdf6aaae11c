"""The pages under the same limits as the API: values the database cannot hold (NUL, huge
ids, dates at the edges of the calendar, overlong text) in their addresses never give a 5xx,
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from api.limits import INT32_MAX
from api.ui.session import COOKIE

HOSTILE_PAGES = [
    "/ui/audit?van=0001-01-01&tot=9999-12-31",
    "/ui/audit?van=9999-12-31",
    "/ui/audit?actor=a%00b",
    "/ui/audit?pagina=99999",
    "/ui/fines?plate=%00",
    f"/ui/fines/{INT32_MAX + 1}",
    f"/ui/fines/{2**63}",
    "/ui/exports?pagina=100000",
    "/ui/dashboard?days=366",
    "/ui/vergunningen?vanaf=0001-01-01&tot=9999-12-31",
    "/ui/vergunningen?vanaf=9999-12-31",
    "/ui/vergunningen?gebied=%00",
    f"/ui/vergunningen/aanvragen/{INT32_MAX + 1}",
    f"/ui/vergunningen/vergunning/{'P' * 10_000}",
    "/ui/vergunningen/vergunning/P%00",
    "/ui/vergunningen/zoeken?q=%00",
    f"/ui/hits/{INT32_MAX + 1}",
    f"/ui/hits/{2**63}/photos/0",
    "/ui/hits/1/evidence/%00",
    "/ui/queue?zone=%00&lon=4.3&lat=52.0",
    "/ui/meldingen?van=0001-01-01&tot=9999-12-31",
    "/ui/meldingen?van=9999-12-31&boa=99999999999",
    "/ui/meldingen?kenteken=%00",
    f"/ui/meldingen/{INT32_MAX + 1}",
    f"/ui/meldingen/{2**63}",
]


def _login(client, name: str) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    r = client.post(
        "/ui/login",
        data={"username": name, "password": "correct-horse-1"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[-500:]
    client.cookies.set(COOKIE, r.cookies[COOKIE], path="/ui")


@pytest.mark.parametrize("role", ["admin", "backoffice", "boa"])
def test_page_limits_hostile_addresses_are_never_a_server_error(client, accounts, role):
    _login(client, accounts.user(role))
    answers = {}
    for url in HOSTILE_PAGES:
        r = client.get(url, follow_redirects=False)
        answers[url] = r.status_code
    assert {url: s for url, s in answers.items() if s >= 500} == {}
    # the limits answered, not only the role checks
    assert any(s in (400, 404, 422) for s in answers.values()), answers
