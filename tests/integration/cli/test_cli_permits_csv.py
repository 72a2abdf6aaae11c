"""``scancar permits import`` of files as spreadsheet programs save them, and of area codes
that match no zone: one message per bad row naming the file's own column and value."""

from __future__ import annotations

from tests.api.permits_support import TOWN
from tests.integration.cli.support import one_line_error, run_cli

HEADER = "Id;Type;Holder ref;Plates;Area codes;Valid from;Valid to;Status;Visitor budget minutes"


def test_cli_permits_import_spreadsheet_file_and_unknown_areas(tmp_path):
    assert run_cli("zones", "import", str(TOWN), cwd=tmp_path).returncode == 0
    excel = tmp_path / "vergunningen.csv"  # Excel on a Dutch Windows: cp1252 and ';'
    rows = [
        HEADER,
        "R-1;resident;Müller;gz-123-t;9999_NOORD;1-1-2026;31-12-2026;;",
        "R-2;resident;Café;XK-52-GV;9999_OOST, 9999_NOORD;1-1-2026;;;",
        ";;;;;;;;",
    ]
    excel.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))

    refused = run_cli("permits", "import", str(excel), cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stdout.splitlines() == [
        "line 3, column 'area_codes': \"9999_OOST\" matches no zone's area code"
    ]
    assert refused.stderr.strip() == (
        "1 bad row(s); nothing imported; rows in areas without a zone are imported with "
        "--allow-unknown-areas"
    )
    assert "Traceback" not in refused.stderr

    allowed = run_cli("permits", "import", str(excel), "--allow-unknown-areas", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "imported 2 permits"
    assert "warning: line 3, column 'area_codes': \"9999_OOST\"" in allowed.stderr
    exported = run_cli("permits", "export", cwd=tmp_path).stdout.splitlines()
    assert exported[1].startswith(
        "R-1,resident,Müller,GZ123T,9999_NOORD,2025-12-31T23:00:00+00:00,2026-12-31T23:00:00+00:00,active,"
    )


def test_cli_permits_import_not_a_csv_file(tmp_path):
    sheet = tmp_path / "vergunningen.xlsx"
    sheet.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")
    message = one_line_error(run_cli("permits", "import", str(sheet), cwd=tmp_path), 1)
    assert message.startswith(f"{sheet}: the file is not a text file (it holds NUL bytes); save it")
    missing = one_line_error(run_cli("permits", "import", "nope.csv", cwd=tmp_path), 2)
    assert missing == "cannot read nope.csv: No such file or directory"
