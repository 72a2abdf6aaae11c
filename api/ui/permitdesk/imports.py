"""Importing permits from a CSV file in the browser: the same all-or-nothing checks as
``scancar permits import`` (every bad row by its line number, nothing stored unless every row
is good, rows over an area's quota refused unless the clerk allows them), for files as
spreadsheet programs write them (byte-order mark, ``;`` separator, Windows-1252)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from api.errors import ApiError
from api.permits import service
from api.ui.forms import FormState
from api.ui.session import PageUser, checked_form
from api.ui.templating import render
from api.ui.zonenames import area_labeller
from permits.csvio import COLUMNS, REQUIRED_COLUMNS, read_permit_rows
from permits.errors import CsvImportError, CsvRowError

MAX_BYTES = 20 * 1024 * 1024
MAX_SHOWN = 200

# the CSV checks' English messages in Dutch (permits.csvio and the import's quota checks);
# a message not listed is shown as it is
_DUTCH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), d)
    for p, d in (
        (r"^missing columns (.+?)(?:; unknown columns (.+?))?; expected: (.+)$",
         r"kolommen ontbreken: \1; verwacht: \3"),
        (r"^unknown columns (.+?); expected: (.+)$", r"onbekende kolommen: \1; verwacht: \2"),
        (r"^(.+) is not an ISO 8601 time such as (.+)$", r"\1 is geen tijd zoals \2"),
        (r"^(.+) has no UTC offset; add one, e\.g\. \+01:00 or Z$",
         r"\1 heeft geen tijdzone; zet er bijvoorbeeld +01:00 achter"),
        (r"^characters (.+) are not allowed; only A-Z and 0-9 .*$",
         r"de tekens \1 mogen niet in een kenteken; alleen A-Z en 0-9"),
        (r"^(.+) is not allowed; allowed: (.+)$", r"\1 mag niet; toegestaan: \2"),
        (r"^(.+) is not a date or time; write .*$",
         r"\1 is geen datum of tijd; schrijf 2026-01-01, 1-1-2026 of 2026-01-01T00:00:00+01:00"),
        (r"^(.+) is not a whole number of minutes \(0 or more\)$",
         r"\1 is geen geheel aantal minuten (0 of meer)"),
        (r"^the plate is empty$", r"het kenteken is leeg"),
        (r"^at most (\d+) characters are allowed$", r"een kenteken heeft hoogstens \1 tekens"),
        (r"^a plate is listed twice: (.+)$", r"een kenteken staat er twee keer in: \1"),
        (r"^(.+) is not a whole number >= 0$", r"\1 is geen geheel getal van 0 of meer"),
        (r"^permit id (.+) already used on line (\d+)$",
         r"vergunningnummer \1 staat al op regel \2"),
        (r"^more fields than the (\d+) columns$", r"meer velden dan de \1 kolommen"),
        (r"^area (.+) is over its quota: (\d+) places, (\d+) taken \((\d+) in the database, "
         r"(\d+) by earlier rows of this file\)$",
         r"gebied \1 zit vol: \2 plaatsen, \3 bezet (\4 al uitgegeven, \5 door eerdere regels)"),
        (r"^waitlisted, but none of its areas \((.+)\) has a quota for (\w+) permits: .*$",
         r"op de wachtlijst, maar geen van de gebieden (\1) heeft een quotum voor \2"),
        (r"^a (\w+) permit needs at least one area code.*$",
         r"een vergunning van soort \1 heeft een gebied nodig"),
        (r"^a (\w+) permit needs at least one plate$",
         r"een vergunning van soort \1 heeft een kenteken nodig"),
        (r"^a visitor permit has no plates.*$", r"een bezoekersvergunning heeft geen kenteken"),
        (r"^only visitor permits have a minute budget$",
         r"alleen een bezoekersvergunning heeft een tegoed"),
        (r"^a permit needs a holder$", r"de houder ontbreekt"),
        (r"^a permit needs a non-empty id$", r"het vergunningnummer ontbreekt"),
        (r"^.*must not be before start.*$", r"het einde ligt voor het begin"),
        (r"^(\d+) permit id\(s\) already exist, nothing imported: (.+)$",
         r"\1 vergunningnummer(s) bestaan al: \2"),
        (r"^permit ids appear more than once in the file: (.+)$",
         r"vergunningnummers staan vaker in het bestand: \1"),
    )
)  # fmt: skip


_INVALID = re.compile(r"^invalid \w+ .*?: (.+)$")  # permits.errors.InvalidPermitError


def dutch(message: str) -> str:
    invalid = _INVALID.match(message)
    if invalid:
        message = invalid.group(1)
    for pattern, replacement in _DUTCH:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


def row_line(error: CsvRowError) -> str:
    where = f"Regel {error.line}" + (f", kolom {error.column}" if error.column else "")
    return f"{where}: {dutch(error.message)}"


def page_ctx(user: PageUser, form: FormState, **extra: Any) -> dict[str, Any]:
    return {
        "user": user,
        "form": form,
        "columns": COLUMNS,
        "required": REQUIRED_COLUMNS,
        "bad_rows": [],
        "report": None,
        **extra,
    }


def decode(data: bytes) -> str:
    """The text of an uploaded CSV file: UTF-8 (with or without a byte-order mark) or, when it
    is not UTF-8, Windows-1252 as spreadsheet programs on Windows save it."""
    from permits import csvio

    decode_csv = getattr(csvio, "decode_csv", None)  # operators' decoder, once it has landed
    if decode_csv is not None:
        return str(decode_csv(data))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _semicolons_to_commas(text: str) -> str:
    """Accept ``;``-separated files (spreadsheets with a Dutch locale) by re-writing them."""
    import csv
    import io

    first = text.split("\n", 1)[0]
    if first.count(";") <= first.count(","):
        return text
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(text), delimiter=";"):
        writer.writerow(row)
    return out.getvalue()


async def upload(request: Request, session: Session, user: PageUser) -> Response:
    form = await checked_form(request, user)
    try:
        return await _upload(request, session, user, form)
    finally:
        await form.close()


async def _upload(request: Request, session: Session, user: PageUser, form: FormData) -> Response:
    state = FormState(values={"allow_over_quota": str(form.get("allow_over_quota") or "")})
    upload_ = form.get("file")
    if not isinstance(upload_, UploadFile) or not upload_.filename:
        state.add("Kies een CSV-bestand.", "file")
        return _page(request, user, state, 422)
    data = await upload_.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        state.add(f"Het bestand is groter dan {MAX_BYTES // (1024 * 1024)} MB.", "file")
        return _page(request, user, state, 413)
    text = _semicolons_to_commas(decode(data))
    try:
        rows = read_permit_rows(text.splitlines(keepends=True))
        report = service.import_permits(
            session,
            rows,
            f"user:{user.principal.name}",
            allow_over_quota=state.value("allow_over_quota") == "1",
        )
        session.commit()
    except CsvImportError as exc:
        session.rollback()
        state.add(
            f"Het bestand heeft {len(exc.errors)} foute regel(s); er is niets ingelezen.", "file"
        )
        lines = [row_line(e) for e in exc.errors[:MAX_SHOWN]]
        return _page(request, user, state, 422, bad_rows=lines, more=len(exc.errors) - len(lines))
    except ApiError as exc:
        session.rollback()
        state.add(f"{dutch(exc.detail)}; er is niets ingelezen.", "file")
        return _page(request, user, state, exc.status_code)
    return _page(
        request,
        user,
        state,
        200,
        report=report,
        filename=upload_.filename,
        area_label=area_labeller(request, session),
    )


def _page(
    request: Request, user: PageUser, form: FormState, status: int, **extra: Any
) -> HTMLResponse:
    return render(request, "permitdesk/import.html", page_ctx(user, form, **extra), status)
