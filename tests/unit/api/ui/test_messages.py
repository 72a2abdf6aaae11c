"""API error codes -> Dutch text: every code the backend raises has its text, filled in with
the values the error carries."""

from __future__ import annotations

import re

import pytest

from api.errors import NotFound, answer_for
from api.fines.rules import Overpayment
from api.review.rules import (
    ClaimExpired,
    DecisionMode,
    DecisionRefused,
    NoteTooLong,
    TooFarFromCar,
    check_confirmation,
    check_rejection,
)
from api.ui import messages
from permits.errors import VisitorBudgetExceededError
from tests.conftest import REPO

CODE = re.compile(r"""\bcode(?:\s*:\s*str)?\s*=\s*["']([a-z_]+)["']""")


def _raised_codes() -> set[str]:
    codes: set[str] = set()
    for package in ("api", "permits", "zones"):
        for path in (REPO / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            codes.update(CODE.findall(path.read_text(encoding="utf-8")))
    return codes


def test_messages_every_error_code_has_dutch_text() -> None:
    codes = _raised_codes()
    assert {"already_claimed", "note_required", "overpayment", "invalid_plate"} <= codes
    missing = sorted(c for c in codes if c not in messages.MESSAGES)
    assert missing == [], "add Dutch text for these codes to api/ui/messages.py"


def test_messages_texts_name_no_code_and_are_filled_in() -> None:
    exc = TooFarFromCar(501.4, 50)
    assert messages.message_for(exc.code, exc).text == (
        "U staat 501 m van het voertuig; ter plaatse bevestigen kan binnen 50 m."
    )
    assert messages.message_for(exc.code, exc).field == "mode"
    over = Overpayment(10000, 4480)
    assert "(€\u00a0100,00)" in messages.message_for(over.code, over).text
    assert "(€\u00a044,80)" in messages.message_for(over.code, over).text
    budget = VisitorBudgetExceededError("p1", requested_minutes=120, remaining_minutes=30)
    text = messages.message_for(budget.code, budget).text
    assert "nog 30 minuten over, 120 gevraagd" in text
    long_note = NoteTooLong(1200, 1000)
    assert messages.message_for(long_note.code, long_note).text.endswith("maximaal 1000 tekens.")


def test_messages_unknown_code_gets_a_plain_fallback() -> None:
    assert messages.message_for("never_heard_of") == messages.FALLBACK


@pytest.mark.parametrize(
    ("call", "code", "field"),
    [
        (lambda: check_rejection("other", "  "), "note_required", "note"),
        (lambda: check_rejection("bogus", None), "unknown_reject_reason", "reason"),
        (
            lambda: check_confirmation(
                mode=DecisionMode.REMOTE,
                remote_allowed=False,
                hit_lon=4.0,
                hit_lat=52.0,
                boa_lon=None,
                boa_lat=None,
                max_distance_m=50,
            ),
            "remote_not_allowed",
            "mode",
        ),
        (
            lambda: check_confirmation(
                mode=DecisionMode.ON_SITE,
                remote_allowed=True,
                hit_lon=4.0,
                hit_lat=52.0,
                boa_lon=None,
                boa_lat=None,
                max_distance_m=50,
            ),
            "position_required",
            "mode",
        ),
    ],
)
def test_messages_review_refusals_have_their_own_code_status_and_field(call, code, field) -> None:
    with pytest.raises(DecisionRefused) as info:
        call()
    answer = answer_for(info.value)
    assert answer is not None
    assert (answer.status, answer.code) == (422, code)
    assert messages.message_for(answer.code, info.value).field == field


def test_messages_status_of_api_errors_and_claim_errors() -> None:
    assert answer_for(NotFound("x", code="evidence_unavailable")).status == 404  # type: ignore[union-attr]
    expired = answer_for(ClaimExpired("expired"))
    assert expired is not None
    assert (expired.status, expired.code) == (409, "claim_expired")
    assert answer_for(RuntimeError("a bug")) is None


@pytest.mark.parametrize(
    ("error_type", "name", "ctx", "text"),
    [
        ("missing", "reason", {}, "Geef een reden op."),
        ("missing", "other", {}, "Vul dit veld in."),
        (
            "string_too_long",
            "note",
            {"max_length": 1000},
            "De toelichting is te lang: maximaal 1000 tekens.",
        ),
        ("greater_than_equal", "lat", {"ge": -90}, "Vul een getal van minstens -90 in."),
        ("float_parsing", "lon", {}, "Vul een getal in."),
        ("whatever_new", "x", {}, "Deze waarde is ongeldig."),
    ],
)
def test_messages_validation_errors(error_type, name, ctx, text) -> None:
    assert messages.validation_message(error_type, ctx, name) == text
