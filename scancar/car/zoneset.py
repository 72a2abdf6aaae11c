"""The car's zone set: from ``zones.file``, else the backend's current set, saved in the data
folder (``zones.json``, written to a temporary name, fsynced and renamed) so that a car that
starts while the backend is down uses the last set it had, and says so. While running, a car
on the backend's zones asks for a newer version every ``zones.refresh_s`` (``ZoneRefresher``)."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scancar.car.backend import BackendLink, BackendRefusalError, BackendUnreachableError
from scancar.car.errors import NoZonesError
from zones.errors import ZoneFileError
from zones.geojson import load_feature_collection
from zones.index import ZoneIndex

if TYPE_CHECKING:
    from scancar.car.build import Car

log = logging.getLogger("scancar.zones")

SAVED_NAME = "zones.json"


@dataclass(frozen=True, slots=True)
class LoadedZones:
    index: ZoneIndex
    origin: str  # "file" | "backend" | "saved"
    version: int | None
    fetched_at: datetime | None
    count: int


def _index(doc: dict[str, Any] | Path, where: str) -> tuple[ZoneIndex, int]:
    try:
        imported = load_feature_collection(doc)
    except ZoneFileError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid"
        raise NoZonesError(f"zone set from {where} is not usable: {first}") from None
    return ZoneIndex(imported.zones), len(imported.zones)


def save_zones(data_dir: Path, doc: dict[str, Any], version: int | None, at: datetime) -> None:
    path = data_dir / SAVED_NAME
    tmp = path.with_name(f".{SAVED_NAME}.tmp")
    body = json.dumps({"version": version, "fetched_at": at.isoformat(), "collection": doc})
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def read_saved_zones(data_dir: Path) -> tuple[dict[str, Any], int | None, datetime] | None:
    path = data_dir / SAVED_NAME
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        fetched_at = datetime.fromisoformat(saved["fetched_at"])
        return saved["collection"], saved.get("version"), fetched_at
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("saved zone set %s is unreadable (%s); ignored", path, exc)
        return None


def load_zones(zones_file: Path | None, link: BackendLink | None, data_dir: Path) -> LoadedZones:
    """The zone set to enforce; ``NoZonesError`` when there is none (one line)."""
    if zones_file is not None:
        index, count = _index(zones_file, str(zones_file))
        return LoadedZones(index, "file", None, None, count)
    if link is None:
        raise NoZonesError("no zones: set zones.file or a backend")
    try:
        doc, version = link.zones()
    except BackendUnreachableError as exc:
        saved = read_saved_zones(data_dir)
        if saved is None:
            raise NoZonesError(
                f"no zones: the backend is unreachable ({exc}) and no zone set was saved in "
                f"{data_dir}; start once with the backend up, or set zones.file"
            ) from None
        doc, version, fetched_at = saved
        index, count = _index(doc, str(data_dir / SAVED_NAME))
        log.warning(
            "backend unreachable (%s): using the saved zone set (version %s, fetched %s)",
            exc,
            version,
            fetched_at.isoformat(timespec="seconds"),
        )
        return LoadedZones(index, "saved", version, fetched_at, count)
    index, count = _index(doc, link.base_url)
    now = datetime.now(UTC)
    save_zones(data_dir, doc, version, now)
    return LoadedZones(index, "backend", version, now, count)


class ZoneRefresher:
    """Swaps in the backend's zone set when its version changes (or after an offline start)."""

    def __init__(self, car: Car, interval_s: float) -> None:
        self.car = car
        self.interval_s = interval_s

    def step(self) -> bool:
        """One look; True when a new zone set is in use."""
        car, link = self.car, self.car.link
        if link is None:
            return False
        try:
            doc, version = link.zones()
        except (BackendUnreachableError, BackendRefusalError):
            return False  # the heartbeat and the rights keeper report the backend
        current = car.zones
        if current.origin == "backend" and version == current.version:
            return False
        try:
            index, count = _index(doc, link.base_url)
        except NoZonesError as exc:
            log.warning("%s; keeping zone set version %s", exc, current.version)
            return False
        now = datetime.now(UTC)
        save_zones(car.config.data_dir, doc, version, now)
        car.zones = LoadedZones(index, "backend", version, now, count)
        car.pipeline.zone_index = index
        log.info(
            "zone set version %s from the backend in use (was %s version %s)",
            version,
            current.origin,
            current.version,
        )
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            try:
                self.step()
            except Exception:  # the next round tries again
                log.exception("zone refresh failed")
