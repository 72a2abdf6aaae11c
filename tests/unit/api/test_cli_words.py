"""The admin commands' summaries are words, not reprs."""

from __future__ import annotations

from api.permits.jobs import ExpiryReport
from api.retention.cli import describe_expiry, describe_grace, describe_purge
from api.retention.service import PurgeReport
from api.review.service import GraceReport


def test_cli_words_purge():
    assert describe_purge(PurgeReport(dry_run=True)) == "nothing is past its retention term"
    assert describe_purge(PurgeReport(dry_run=False)) == "nothing to remove"
    report = PurgeReport(
        dry_run=False, evidence_hits=2, evidence_rows=4, rights_checks=1, fines_anonymised=3
    )
    assert describe_purge(report) == (
        "removed the photos of 2 closed hits, 1 rights check of a hit, the plates of 3 closed fines"
    )
    partial = PurgeReport(dry_run=False, check_log_deleted=2, complete=False)
    assert describe_purge(partial) == (
        "removed 2 rights-check log rows (stopped at its time limit; run it again to go on)"
    )
    assert describe_purge(PurgeReport(dry_run=True, files_deleted=1)) == (
        "would remove 1 leftover evidence file"
    )


def test_cli_words_grace_and_expiry():
    assert describe_grace(GraceReport(0, 0, 0, 0)) == "no hit past its grace period"
    assert describe_grace(GraceReport(3, 1, 2, 1)) == (
        "3 hits past the grace period checked: 1 dismissed (a right was found), 2 to review; "
        "1 expired claim released"
    )
    assert describe_expiry(ExpiryReport()) == "no permit due to expire"
    assert describe_expiry(ExpiryReport(expired=1, granted=2, failed=1)) == (
        "1 permit expired, 0 waiting applications refused (validity ended), 2 waiting "
        "applications granted a freed place, 1 permit failed (see the log; retried next run)"
    )
