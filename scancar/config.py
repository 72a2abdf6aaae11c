"""The car's configuration file (``car.toml``), validated at start-up.

A bad file stops the car with one line naming the key, the bad value and what is allowed
(``CarConfigError``). Example::

    data_dir = "/var/lib/scancar"
    ocr_model = "/opt/scancar/models/cct-xs-v2-global-model"   # else SCANCAR_OCR_MODEL

    [backend]
    url = "https://parkeren.example.nl"
    token_file = "/etc/scancar/device-token"
    heartbeat_s = 60

    [rights]
    max_age_minutes = 60               # older cache: online check, never a fine on it
    sync_interval_s = 60
    # key_file: only for a car WITHOUT a backend (test rigs); a car with a backend fetches
    # the plate key at every start and keeps it in memory only

    [gps]
    source = "serial:/dev/ttyACM0"     # serial:DEV | gpsd:HOST:PORT (nmea:/gpx: files: replay)
    baud = 9600

    [zones]
    file = "/etc/scancar/zones.geojson"   # optional; else the backend's (saved for offline starts)

    [[cameras]]
    name = "right"
    source = "rtsp://10.0.0.21/stream1"   # device number, /dev/videoN, rtsp:// or http:// MJPEG
    side = "right"
    distance_m = 3.0

    [start]
    camera_timeout_s = 20              # every camera delivers a frame within this, else exit 1
    gps_fix_timeout_s = 180            # a first valid fix within this, else exit 1

    [health]
    max_clock_offset_s = 0.5           # system clock vs GPS time; above it nothing is fined
    camera_down_after_s = 5
    gps_silent_after_s = 5
    summary_interval_s = 60            # one summary line in car.log
    metrics_port = 9108                # Prometheus text on 127.0.0.1; 0 = off

    [logs]
    max_mb = 20                        # car.log rotated at this size
    backups = 5

    [thresholds]
    min_zone_radius_m = 5.0
    chalk_distance_m = 8.0
    repeat_window_minutes = 240
    report_foreign = false
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scancar.pipeline.model import PipelineConfigError, PipelineSettings


class CarConfigError(ValueError):
    """The car's configuration is unusable; the message is one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackendConfig(_Strict):
    url: str
    token_file: Path | None = None  # required in car.toml; replay passes the token itself
    heartbeat_s: float = Field(default=60.0, gt=0, le=3600)
    drain_timeout_s: float = Field(default=30.0, ge=0, le=3600)
    retry_max_s: float = Field(default=300.0, ge=1, le=3600)  # upload backoff ceiling

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://; got {v!r}")
        return v.rstrip("/")


class GpsConfig(_Strict):
    source: str
    baud: int = Field(default=9600, ge=1200, le=921600)
    keep_s: float = Field(default=300.0, gt=0)
    max_accuracy_m: float = Field(default=15.0, gt=0, le=1000)

    @field_validator("source")
    @classmethod
    def _kind(cls, v: str) -> str:
        kind = v.split(":", 1)[0]
        if kind not in ("serial", "nmea", "gpx", "gpsd") or ":" not in v:
            raise ValueError(
                f"must be serial:DEVICE, nmea:FILE, gpx:FILE or gpsd:HOST:PORT; got {v!r}"
            )
        return v


class RightsConfig(_Strict):
    key_file: Path | None = None  # plate key for a car without a backend (test rigs) only
    snapshot: Path | None = None  # an offline feed snapshot (NDJSON) to seed an empty cache
    max_age_minutes: float = Field(default=60.0, gt=0)
    sync_interval_s: float = Field(default=60.0, gt=0)  # pull the backend's feed this often


class ZonesConfig(_Strict):
    file: Path | None = None
    refresh_s: float = Field(default=600.0, gt=0, le=86400)  # backend zones: look for a new set


class CameraConfig(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    source: str = Field(min_length=1)
    side: Literal["left", "right"] = "right"
    distance_m: float = Field(default=3.0, gt=0, le=30)
    angle_deg: float = Field(default=90.0, gt=0, lt=180)


class ThresholdsConfig(_Strict):
    min_zone_radius_m: float = 5.0
    max_accuracy_m: float = 15.0
    chalk_distance_m: float = 8.0
    chalk_margin_minutes: float = Field(default=30.0, ge=0)
    repeat_window_minutes: float = Field(default=240.0, ge=0)
    report_foreign: bool = False
    report_invalid: bool = False
    report_low_confidence: bool = False
    outbox_quota_mb: float = Field(default=512.0, gt=0)
    jpeg_quality: int = 90


class StartConfig(_Strict):
    camera_timeout_s: float = Field(default=20.0, gt=0, le=600)
    gps_fix_timeout_s: float = Field(default=180.0, gt=0, le=3600)


class HealthConfig(_Strict):
    max_clock_offset_s: float = Field(default=0.5, gt=0, le=60)
    camera_down_after_s: float = Field(default=5.0, gt=0, le=600)
    gps_silent_after_s: float = Field(default=5.0, gt=0, le=600)
    summary_interval_s: float = Field(default=60.0, gt=0, le=3600)
    status_interval_s: float = Field(default=5.0, gt=0, le=600)
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    min_free_disk_mb: float = Field(default=500.0, ge=0)


class LogsConfig(_Strict):
    max_mb: float = Field(default=20.0, gt=0, le=10_000)
    backups: int = Field(default=5, ge=1, le=100)


class CarConfig(_Strict):
    data_dir: Path
    ocr_model: str | None = None
    backend: BackendConfig | None = None
    gps: GpsConfig
    zones: ZonesConfig = ZonesConfig()
    rights: RightsConfig = RightsConfig()
    cameras: list[CameraConfig] = Field(min_length=1, max_length=8)
    thresholds: ThresholdsConfig = ThresholdsConfig()
    start: StartConfig = StartConfig()
    health: HealthConfig = HealthConfig()
    logs: LogsConfig = LogsConfig()

    def pipeline_settings(self) -> PipelineSettings:
        t = self.thresholds
        return PipelineSettings(
            min_zone_radius_m=t.min_zone_radius_m,
            max_accuracy_m=t.max_accuracy_m,
            chalk_distance_m=t.chalk_distance_m,
            chalk_margin=timedelta(minutes=t.chalk_margin_minutes),
            repeat_window=timedelta(minutes=t.repeat_window_minutes),
            report_foreign=t.report_foreign,
            report_invalid=t.report_invalid,
            report_low_confidence=t.report_low_confidence,
            jpeg_quality=t.jpeg_quality,
        )


def _resolve(base: Path, path: Path | None) -> Path | None:
    if path is None:
        return None
    path = path.expanduser()
    return path if path.is_absolute() else base / path


def _parse(path: Path) -> CarConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CarConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise CarConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = CarConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = str(first["msg"]).removeprefix("Value error, ")
        got = first.get("input")
        shown = "" if isinstance(got, dict | list) or "got" in msg else f" (got {got!r})"
        raise CarConfigError(f"{path}: {where}: {msg}{shown}") from None
    try:
        config.pipeline_settings()
    except PipelineConfigError as exc:
        raise CarConfigError(f"{path}: thresholds: {exc}") from None
    return config


def _resolved_rights(path: Path, config: CarConfig, base: Path) -> RightsConfig:
    r = config.rights
    rights = r.model_copy(
        update={"key_file": _resolve(base, r.key_file), "snapshot": _resolve(base, r.snapshot)}
    )
    for name in ("key_file", "snapshot"):
        file = getattr(rights, name)
        if file is not None and not file.is_file():
            raise CarConfigError(f"{path}: rights.{name}: {file} does not exist")
    if config.backend is not None and rights.key_file is not None:
        raise CarConfigError(
            f"{path}: rights.key_file: a car with a backend fetches the plate key at start and "
            "keeps it in memory only; remove key_file (a key on the car's disk exposes the "
            "rights register when the car is stolen)"
        )
    return rights


def load_car_config(path: Path) -> CarConfig:
    """Parse and check ``path``; relative paths in it are taken relative to its folder."""
    config = _parse(path)
    base = path.resolve().parent
    updates: dict[str, object] = {"data_dir": _resolve(base, config.data_dir)}
    if config.backend is not None:
        b = config.backend
        if b.token_file is None:
            raise CarConfigError(f"{path}: backend.token_file: Field required")
        token_file = _resolve(base, b.token_file)
        if token_file is None or not token_file.is_file():
            raise CarConfigError(f"{path}: backend.token_file: {token_file} does not exist")
        updates["backend"] = b.model_copy(update={"token_file": token_file})
    updates["rights"] = _resolved_rights(path, config, base)
    if config.zones.file is not None:
        zfile = _resolve(base, config.zones.file)
        if zfile is None or not zfile.is_file():
            raise CarConfigError(f"{path}: zones.file: {zfile} does not exist")
        updates["zones"] = config.zones.model_copy(update={"file": zfile})
    names = [c.name for c in config.cameras]
    if len(set(names)) != len(names):
        raise CarConfigError(f"{path}: cameras: names must be unique; got {names}")
    return config.model_copy(update=updates)
