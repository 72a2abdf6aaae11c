"""Errors of the car's rights cache."""

from __future__ import annotations


class RightsCacheError(Exception):
    """Base class for the car's rights-cache errors."""

    code = "rights_cache_error"


class RightsUnavailableError(RightsCacheError):
    """Neither a usable cache nor the online check could answer."""

    code = "rights_unavailable"


class CacheKeyMismatchError(RightsCacheError):
    """The cache file or a feed page was made with another enrolment key."""

    code = "cache_key_mismatch"

    def __init__(self, what: str, found: str, expected: str) -> None:
        self.found = found
        self.expected = expected
        super().__init__(
            f"{what} was made with plate key {found!r}, but this car is enrolled with key "
            f"{expected!r}; re-enrol the car or fetch a fresh snapshot"
        )


class FeedOrderError(RightsCacheError):
    """A changes page that does not continue from the cache's cursor, or a broken snapshot."""

    code = "feed_order"
