"""Fixtures of the fault tests: a private PostgreSQL cluster (``pg_cluster``)."""

from tests.integration.faults.pg_cluster import private_pg

__all__ = ["private_pg"]
