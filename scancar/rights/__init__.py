"""The car's parking-rights answer: an offline SQLite cache fed by the backend's rights feed,
with an online fallback when the cache is too old."""
