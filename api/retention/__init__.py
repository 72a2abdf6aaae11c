"""Retention: the purge job that removes personal data after its term; the job loop."""
