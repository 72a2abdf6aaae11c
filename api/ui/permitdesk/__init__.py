"""Permit desk (vergunningenbalie) for clerks: /ui/vergunningen. Built in #17."""
