"""``scancar addresses import FILE`` in its own process on a real SQLite database: the fixture
town's list, a re-import updating, and a bad file refused whole with its lines."""

from __future__ import annotations

from tests.api.test_permits_cli import _cli
from tests.conftest import REPO

TOWN = REPO / "fixtures" / "addresses" / "town.csv"


def test_addresses_cli_imports_updates_and_refuses_bad_rows(tmp_path):
    db = tmp_path / "a.db"
    assert _cli("db", "upgrade", db=db).returncode == 0
    first = _cli("addresses", "import", str(TOWN), db=db)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "imported 147 addresses (147 new, 0 updated)"
    again = _cli("addresses", "import", str(TOWN), db=db)
    assert again.stdout.strip() == "imported 147 addresses (0 new, 147 updated)"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "postcode;huisnummer;straat;woonplaats;lon;lat\n"
        "9991 AA;1;Lindelaan;Voorbeeldstad;4.354;52.015\n"
        "12;x;Lindelaan;Voorbeeldstad;4.354;52.015\n"
        "9991AB;2;Lindelaan;Voorbeeldstad;400;52.015\n",
        encoding="utf-8",
    )
    refused = _cli("addresses", "import", str(bad), db=db)
    assert refused.returncode == 1
    assert refused.stdout.splitlines() == [
        "line 3, column 'postcode': '12' is not a postcode like 1234AB",
        "line 4, column 'lon': '400' is not a WGS84 lon",
    ]
    assert "2 bad row(s); nothing imported" in refused.stderr
