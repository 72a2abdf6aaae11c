"""Fines (back office): drafts from confirmed hits, the lifecycle, amounts, exports, the pack."""
