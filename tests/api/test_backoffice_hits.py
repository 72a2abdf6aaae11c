"""The back office's hit search and a hit's read-only page over HTTP, on both databases:
every hit, decided ones too, filtered by plate (as typed, with dashes), zone, status, the BOA
who decided and local dates; a bad date refused in Dutch; the page links hit, fine and
evidence pack both ways; no decision forms; other roles refused."""

from __future__ import annotations

import re

from tests.api.test_admin_pages import _login, _text
from tests.api.test_backoffice_exports import app, flow  # noqa: F401 - fixtures
from tests.factories import CAPTURED_AT


def _ids(r) -> list[int]:
    return [int(i) for i in re.findall(r'data-hit="(\d+)"', r.text)]


def test_hit_search_and_read_only_hit_page(flow, client, accounts, bo, engine):  # noqa: F811
    from tests.api.review_support import post_hit, run_grace

    confirmed = flow.confirmed_hit(plate="AA11BB")
    fine = flow.fine_for(confirmed, bo)
    blue = post_hit(client, accounts.headers("device"), plate="CC22DD", zone_id="blauw",
                    reason="max_stay_exceeded")  # fmt: skip
    run_grace(flow.app)
    clerk = accounts.user("backoffice", name="bo-zoekt")
    _login(client, clerk)

    everything = client.get("/ui/meldingen")
    assert everything.status_code == 200
    assert sorted(_ids(everything)) == sorted([confirmed, blue])
    assert "Blauwe zone West" in _text(everything)
    assert _ids(client.get("/ui/meldingen", params={"kenteken": "aa-11-bb"})) == [confirmed]
    part = client.get("/ui/meldingen", params={"kenteken": "AA-11"})  # a part finds nothing
    assert _ids(part) == []
    assert "Het kenteken moet helemaal kloppen" in _text(part)  # and says why
    assert "helemaal kloppen" not in _text(client.get("/ui/meldingen", params={"zone": "x"}))
    assert _ids(client.get("/ui/meldingen", params={"zone": "blauw"})) == [blue]
    assert _ids(client.get("/ui/meldingen", params={"status": "confirmed"})) == [confirmed]
    boa_ids = re.findall(r'<option value="(\d+)"', everything.text)
    by_boa = [i for b in boa_ids for i in _ids(client.get("/ui/meldingen", params={"boa": b}))]
    assert by_boa == [confirmed]  # one BOA decided one hit
    day = CAPTURED_AT.date().isoformat()
    assert sorted(_ids(client.get("/ui/meldingen", params={"van": day, "tot": day}))) == sorted(
        [confirmed, blue]
    )
    assert (
        _ids(client.get("/ui/meldingen", params={"van": "2020-01-01", "tot": "2020-01-02"})) == []
    )
    bad = client.get("/ui/meldingen", params={"van": "gisteren"})
    assert bad.status_code == 422
    assert "Vul een geldige datum in bij het filter 'Gezien van'" in _text(bad)
    for junk, label in (({"status": "zzz"}, "Status"), ({"boa": "999999"}, "Beoordeeld door")):
        bad = client.get("/ui/meldingen", params=junk)  # never ignored: a Dutch 422
        assert bad.status_code == 422, junk
        assert f"Kies bij het filter '{label}' een van de mogelijkheden." in _text(bad)
        assert _ids(bad) == []

    page = client.get(f"/ui/meldingen/{confirmed}")
    assert page.status_code == 200
    text = _text(page)
    assert "AA-11-BB" in text
    assert "Alleen lezen" in text
    assert f'href="/ui/fines/{fine["id"]}"' in page.text
    assert f'href="/ui/fines/{fine["id"]}/pack"' in page.text
    assert "Bevestigd door" in text
    assert "<form" not in page.text.split('id="main"')[1]  # nothing to act on
    assert f'href="/ui/meldingen/{confirmed}"' in client.get(f"/ui/fines/{fine['id']}").text
    assert 'id="hit-fine">geen<' in _text(client.get(f"/ui/meldingen/{blue}"))
    assert client.get("/ui/meldingen/999999").status_code == 404

    _login(client, accounts.user("boa"))
    assert client.get("/ui/meldingen", follow_redirects=False).status_code == 403
