"""The committed fixture town files are exactly what make_town.py writes."""

from __future__ import annotations

from pathlib import Path

from fixtures.zones.make_town import write
from zones.geojson import load_feature_collection
from zones.index import ZoneIndex

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "zones"


def test_make_town_is_deterministic_and_committed(tmp_path: Path) -> None:
    wgs84, rd = write(tmp_path)
    assert wgs84.read_bytes() == (FIXTURES / "town.geojson").read_bytes()
    assert rd.read_bytes() == (FIXTURES / "town_rd.geojson").read_bytes()


def test_town_zones_of_both_files_resolve_alike() -> None:
    wgs = ZoneIndex(load_feature_collection(FIXTURES / "town.geojson").zones)
    rd = ZoneIndex(load_feature_collection(FIXTURES / "town_rd.geojson").zones)
    grid = [(4.3470 + i * 0.00043, 52.0050 + j * 0.00033) for i in range(40) for j in range(40)]
    inner = [z.geometry.representative_point() for z in wgs.zones]
    kinds = set()
    for lon, lat in grid + [(p.x, p.y) for p in inner]:
        a, b = wgs.locate(lon, lat), rd.locate(lon, lat)
        assert (a.id if a else None) == (b.id if b else None)
        if a:
            kinds.add(a.kind.value)
    assert kinds == {"paid", "permit", "blue", "loading", "no_parking"}
