"""The car's SQLite stores for digital chalking and the repeat guard (keyed hashes only)."""

from scancar.chalk.store import SqliteChalkStore, SqliteRepeatGuard, load_or_create_secret

__all__ = ["SqliteChalkStore", "SqliteRepeatGuard", "load_or_create_secret"]
