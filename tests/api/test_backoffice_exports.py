"""The exports page over HTTP, on both databases: a batch per track for a period of local
days (the API's ``export_batch``), asking again gives the same batch, new fines a new one,
a reversed period and a period of several batches refused in Dutch with the typed values
kept, earlier batches with counts and totals, the CSV again (the API's file byte for byte),
and the exported state on each fine."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from api.db import utcnow
from api.ui.labels import LOCAL
from tests.api.test_admin_pages import _csrf, _login, _text
from tests.api.test_fines import TAX_CENTRUM, Flow, post


@pytest.fixture
def app(settings, engine):
    from api.main import create_app
    from tests.api.review_support import FakeRights

    return create_app(settings, engine=engine, rights_checker=FakeRights())


@pytest.fixture
def flow(client, accounts, app):
    from api.db import session_scope
    from api.fines.tariffs import seed_default_tariffs
    from tests.api.test_fines import TOWN

    assert client.put("/api/v1/zones", json=TOWN, headers=accounts.headers("admin")).status_code
    with session_scope(app.state.backend.engine) as s:
        seed_default_tariffs(s)
    return Flow(client, accounts, app)


def _issued(flow, client, bo, **kw) -> int:
    fine_id = flow.fine_for(flow.confirmed_hit(**kw), bo)["id"]
    assert post(client, f"/api/v1/fines/{fine_id}/issue", bo).status_code == 200
    return fine_id


def test_exports_page_batches_csv_and_exported_state(flow, client, accounts, bo):
    tax = [_issued(flow, client, bo, plate=p) for p in ("AA11BB", "CC22DD")]
    wahv = _issued(flow, client, bo, zone_id="blauw", plate="EE33FF", reason="max_stay_exceeded")
    draft = flow.fine_for(flow.confirmed_hit(plate="KK55LL"), bo)["id"]  # never exported
    clerk = accounts.user("backoffice", name="bo-export")
    _login(client, clerk)
    today = utcnow().astimezone(LOCAL).date()

    page = client.get("/ui/exports")
    assert page.status_code == 200
    text = _text(page)
    assert "Nog geen exportbatches." in text
    assert re.search(r'id="waiting-tax">2 boetes, € 169,60', text), text[:3000]
    assert 'id="waiting-wahv">1 boete, € 115,00' in text
    csrf = _csrf(page.text)

    reversed_ = client.post(
        "/ui/exports",
        data={"csrf": csrf, "spoor": "tax", "van": today.isoformat(),
              "tot": (today - timedelta(days=3)).isoformat()},
    )  # fmt: skip
    assert reversed_.status_code == 422
    assert "De datum 'tot en met' ligt vóór de datum 'van'." in _text(reversed_)
    assert 'href="#export-tot"' in reversed_.text
    assert f'value="{(today - timedelta(days=3)).isoformat()}"' in reversed_.text
    missing = client.post("/ui/exports", data={"csrf": csrf, "van": today.isoformat()})
    assert missing.status_code == 422
    assert "Kies een van de mogelijkheden." in _text(missing) or "Vul dit veld in." in _text(
        missing
    )

    period = {"csrf": csrf, "spoor": "tax", "van": today.isoformat(), "tot": today.isoformat()}
    made = client.post("/ui/exports", data=period, follow_redirects=False)
    assert made.status_code == 303, _text(made)[-1500:]
    batch_url = made.headers["location"]
    batch_id = batch_url.rsplit("/", 1)[-1]
    shown = _text(client.get(batch_url))
    assert f"Exportbatch gemaakt: 2 boetes, samen € {169.60:.2f}".replace(".", ",") in shown
    assert 'id="batch-fines">2' in shown
    assert "€ 169,60" in shown
    assert shown.count("fine-row") == 2

    again = client.post("/ui/exports", data=period, follow_redirects=False)
    assert again.headers["location"] == batch_url  # the same batch, nothing new
    assert "zaten al in deze exportbatch" in _text(client.get(batch_url))

    # the CSV from the page is the API's file of the same batch
    page_csv = client.get(f"{batch_url}/csv")
    assert page_csv.status_code == 200
    assert page_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in page_csv.headers["content-disposition"]
    api_csv = client.get("/api/v1/fines/export", params={"batch_id": batch_id, "format": "csv"},
                         headers=bo)  # fmt: skip
    assert page_csv.text == api_csv.text
    lines = page_csv.text.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(batch_id) for line in lines[1:])

    # a new fine makes a new batch; the whole day now spans two batches: refused in Dutch
    newer = _issued(flow, client, bo, plate="GG44HH")
    second = client.post("/ui/exports", data=period, follow_redirects=False)
    assert second.headers["location"] != batch_url
    _login(client, clerk)
    both = client.post(
        "/ui/exports", data={**period, "csrf": _csrf(client.get("/ui/exports").text)}
    )
    assert both.status_code == 409
    assert "zitten al in verschillende exportbatches" in _text(both)
    empty = client.post(
        "/ui/exports",
        data={**period, "csrf": _csrf(both.text), "van": "2020-01-01", "tot": "2020-01-31"},
    )
    assert "Er zijn geen opgelegde boetes in deze periode" in _text(empty)

    listing = client.get("/ui/exports")
    rows = re.findall(r'class="utrecht-table__row batch-row" data-batch="([^"]+)"', listing.text)
    assert len(rows) == 2
    assert rows[1] == batch_id
    counts = re.findall(r"batch-count\">(\d+)</td>", listing.text)
    assert counts == ["1", "2"]
    assert 'id="waiting-tax">niets' in _text(listing)
    only_wahv = client.get("/ui/exports", params={"spoor": "wahv"})
    assert 'data-batch="' not in only_wahv.text

    # the exported state on each fine, in the list and on the fine's page
    fine_page = _text(client.get(f"/ui/fines/{tax[0]}"))
    assert re.search(r'id="fine-exported">\d\d-\d\d-\d{4} \d\d:\d\d · ', fine_page)
    assert f'href="/ui/exports/{batch_id}"' in client.get(f"/ui/fines/{tax[0]}").text
    assert "nog niet" in _text(client.get(f"/ui/fines/{wahv}")).split('id="fine-exported"')[1][:40]
    assert "eerst opleggen" in _text(client.get(f"/ui/fines/{draft}"))
    in_batch = client.get("/ui/fines", params={"batch": batch_id})
    assert in_batch.text.count("fine-row") == 2
    assert newer not in [int(i) for i in re.findall(r'/ui/fines/(\d+)"', in_batch.text)]

    # other roles never see it; an unknown batch is a Dutch 404
    assert client.get("/ui/exports/00000000-0000-0000-0000-000000000000").status_code == 404
    _login(client, accounts.user("boa", name="boa-export"))
    assert client.get("/ui/exports", follow_redirects=False).status_code == 403
    assert TAX_CENTRUM * 2 == 16960
