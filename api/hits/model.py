"""Hit states (the review issue adds the transitions)."""

from __future__ import annotations

import enum


class HitStatus(enum.StrEnum):
    PENDING_GRACE = "pending_grace"  # waiting for the coulance period to pass
    DISMISSED = "dismissed"  # a right was found after the grace period
    AWAITING_REVIEW = "awaiting_review"
    CLAIMED = "claimed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
