"""Tables for fines, their payments and history, the number sequence, amount tables, exports."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, Text, text
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class FineRow(SQLModel, table=True):
    """One fine for one confirmed hit, on the zone's track (tax or wahv)."""

    __tablename__ = "fines"
    __table_args__ = (
        # exports: a track's fines by issue time
        Index("ix_fines_track_issued_at", "track", "issued_at"),
        # the purge's work list: closed fines not yet anonymised
        Index(
            "ix_fines_purge",
            "closed_at",
            postgresql_where=text("anonymised_at IS NULL AND closed_at IS NOT NULL"),
            sqlite_where=text("anonymised_at IS NULL AND closed_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    hit_id: int = Field(foreign_key="hits.id", unique=True, index=True)
    track: str = Field(max_length=8)  # tax | wahv
    status: str = Field(max_length=24, index=True)
    number: str | None = Field(default=None, max_length=16, unique=True)
    plate: str | None = Field(default=None, max_length=10, index=True)  # None once anonymised
    zone_id: str | None = Field(default=None, max_length=128, index=True)
    offence_at: datetime = Field(sa_type=UTCDateTime, index=True)
    offence_code: str | None = Field(default=None, max_length=32)
    amount_cents: int = 0
    paid_cents: int = 0
    calculation_json: str = Field(default="{}", sa_type=Text)
    calc_problem: str | None = Field(default=None, max_length=500)
    evidence_json: str = Field(default="{}", sa_type=Text)  # rights check + decision snapshot
    needs_second_approval: bool = False
    approved_by: int | None = Field(default=None, foreign_key="users.id")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    issued_by: int | None = Field(default=None, foreign_key="users.id")
    objection_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    objection_received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    objection_text: str | None = Field(default=None, max_length=4000)
    objection_late: bool = False
    objection_decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    objection_reason: str | None = Field(default=None, max_length=1000)
    annul_reason: str | None = Field(default=None, max_length=1000)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    anonymised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FinePaymentRow(SQLModel, table=True):
    __tablename__ = "fine_payments"

    id: int | None = Field(default=None, primary_key=True)
    fine_id: int = Field(foreign_key="fines.id", index=True)
    amount_cents: int
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    registered_by: int | None = Field(default=None, foreign_key="users.id")


class FineEventRow(SQLModel, table=True):
    """The history of one fine: every transition with who, when and why (no plates)."""

    __tablename__ = "fine_events"

    id: int | None = Field(default=None, primary_key=True)
    fine_id: int = Field(foreign_key="fines.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_type: str = Field(max_length=16)
    actor_id: int | None = None
    actor_name: str = Field(max_length=64)
    action: str = Field(max_length=32)
    from_status: str = Field(max_length=24)
    to_status: str = Field(max_length=24)
    detail: str = Field(default="", max_length=1000)


class FineNumberSequenceRow(SQLModel, table=True):
    """The last fine number handed out per year (gapless: taken in the issuing transaction)."""

    __tablename__ = "fine_number_sequences"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_number: int = 0


class CostTableRow(SQLModel, table=True):
    """Assessment costs of a naheffingsaanslag (kosten), valid from/to local dates."""

    __tablename__ = "fine_cost_table"

    id: int | None = Field(default=None, primary_key=True)
    amount_cents: int
    valid_from: date
    valid_to: date | None = None  # exclusive; None = open-ended
    description: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OffenceAmountRow(SQLModel, table=True):
    """WAHV (Mulder) amount per offence code, valid from/to local dates."""

    __tablename__ = "fine_offence_amounts"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, index=True)
    description: str = Field(default="", max_length=200)
    amount_cents: int
    valid_from: date
    valid_to: date | None = None  # exclusive; None = open-ended
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ExportBatchRow(SQLModel, table=True):
    """One export to the tax system (tax) or the central fine collection agency (wahv)."""

    __tablename__ = "fine_export_batches"

    id: str = Field(primary_key=True, max_length=36)
    track: str = Field(max_length=8, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    period_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    period_to: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fine_count: int = 0
    total_cents: int = 0


class FineExportItemRow(SQLModel, table=True):
    """A fine's place in an export batch: a fine is exported once, in one batch.

    Membership lives here, two keys and the status at export, and not on the fine: marking a
    month of fines is an insert of narrow rows instead of an update of wide rows that rewrites
    every index of ``fines``.
    """

    __tablename__ = "fine_export_items"
    __table_args__ = (
        # a batch's fines in id order (read back in chunks)
        Index("ix_fine_export_items_batch_id_fine_id", "batch_id", "fine_id"),
    )

    fine_id: int = Field(
        foreign_key="fines.id", primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    batch_id: str = Field(foreign_key="fine_export_batches.id", max_length=36)
    status: str = Field(max_length=24)  # the fine's status when it was exported


class FineExportPendingRow(SQLModel, table=True):
    """An issued fine that no export batch holds yet: what the next export takes (a fine enters
    when it gets its number, leaves when it is exported or annulled), so finding and counting
    those does not read every fine ever issued."""

    __tablename__ = "fine_export_pending"
    __table_args__ = (Index("ix_fine_export_pending_track_issued_at", "track", "issued_at"),)

    fine_id: int = Field(
        foreign_key="fines.id", primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    # the fine's own values, fixed once it is issued: what an export selects and counts by
    track: str = Field(max_length=8)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    amount_cents: int
