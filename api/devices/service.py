"""Heartbeats: keep the last-seen state of each scan car, its health and the counts for
reports."""

from __future__ import annotations

from sqlmodel import Session

from api.audit.service import record
from api.auth.db import DeviceRow
from api.auth.principal import Principal
from api.db import utcnow
from api.devices.db import HeartbeatRow
from api.errors import NotFound
from scancar.wire import Heartbeat

HEALTH_FIELDS = frozenset(
    {
        "uptime_s",
        "cameras",
        "gps",
        "clock_offset_s",
        "clock_trusted",
        "rights_state",
        "zones_origin",
        "zones_version",
        "outbox_oldest_age_s",
        "dead_letters",
        "disk_free_bytes",
        "problems",
    }
)


def store_heartbeat(session: Session, device: Principal, hb: Heartbeat) -> HeartbeatRow:
    now = utcnow()
    sent = hb.model_fields_set
    row = HeartbeatRow(
        device_id=device.id,
        run_id=str(hb.run_id) if hb.run_id else None,
        received_at=now,
        sent_at=hb.sent_at,
        lon=hb.lon,
        lat=hb.lat,
        counts=hb.counts.model_dump(),
        outbox_backlog=hb.outbox_backlog,
        rights_cache_age_s=hb.rights_cache_age_s,
        software_version=hb.software_version,
        health=hb.model_dump(mode="json", include=set(HEALTH_FIELDS))
        if sent & HEALTH_FIELDS
        else None,
    )
    session.add(row)
    dev = session.get(DeviceRow, device.id)
    if dev is not None:
        dev.last_seen_at = now
        session.add(dev)
    return row


def revoke(session: Session, actor: Principal, device_id: int) -> DeviceRow:
    """Revoke a car's token (it gets 401 from its next request on); audited. Revoking a
    revoked car changes nothing. The caller commits."""
    device = session.get(DeviceRow, device_id)
    if device is None:
        raise NotFound(f"no device with id {device_id}")
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        session.add(device)
        session.flush()
        record(session, actor, "device.revoked", "device", device_id)
    return device
