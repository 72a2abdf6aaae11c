"""Applying for a permit in the portal, one question per page (GOV.UK pattern): the kind of
permit, the address (postcode and house number, then the exact address when the house is
split), the plates and details, then a check of the answers before the application is sent.

The answers so far travel with each page as hidden fields; nothing is stored before the
resident sends the application from the check page. "Wijzigen" on the check page goes back to
that question with every answer kept.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api.deps import backend_of
from api.errors import answer_for
from api.permits import resident
from api.residents.addresses import AddressArea, find_addresses, format_address, normalise_postcode
from api.residents.db import AddressRow
from api.settings import BackendSettings
from api.ui.forms import FormState, empty_form, form_values, see_other
from api.ui.messages import message_for
from api.ui.session import PageUser
from api.ui.templating import render
from permits.errors import PermitsError
from permits.model import PermitType
from permits.plates import format_plate, normalise_plate

STEPS = ("type", "address", "choose", "details", "check")
TYPES = {
    "resident": (
        "Bewonersvergunning",
        "U woont in een vergunninggebied en parkeert uw eigen auto.",
    ),
    "business": ("Bedrijfsvergunning", "Uw bedrijf is gevestigd in een vergunninggebied."),
    "care": ("Mantelzorgvergunning", "U zorgt voor iemand die in een vergunninggebied woont."),
    "visitor": ("Bezoekersvergunning", "Uw bezoek parkeert op uw tegoed, per kenteken."),
}


@dataclass(frozen=True, slots=True)
class State:
    """The answers so far (all text, as typed)."""

    type: str = ""
    postcode: str = ""
    house_number: str = ""
    address_id: str = ""
    plate1: str = ""
    plate2: str = ""
    company_name: str = ""
    kvk_number: str = ""
    cared_for_name: str = ""

    @classmethod
    def of(cls, values: dict[str, str]) -> State:
        known = cls.__dataclass_fields__
        return cls(**{k: v.strip() for k, v in values.items() if k in known})

    @property
    def permit_type(self) -> PermitType | None:
        return PermitType(self.type) if self.type in TYPES else None


def page(
    request: Request,
    user: PageUser,
    state: State,
    step: str,
    form: FormState,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    hidden = {k: v for k, v in asdict(state).items() if v and k not in _fields_of(step)}
    ctx = {
        "user": user,
        "state": state,
        "step": step,
        "form": form,
        "hidden": hidden,
        "types": TYPES,
        "type_options": [(k, v[0]) for k, v in TYPES.items()],
        "type_hints": {k: v[1] for k, v in TYPES.items()},
        "address_options": [(str(a.id), format_address(a)) for a in extra.pop("addresses", [])],
        **extra,
    }
    return render(request, f"portal/apply_{step}.html", ctx, status)


def _fields_of(step: str) -> tuple[str, ...]:
    return {
        "type": ("type",),
        "address": ("postcode", "house_number", "address_id"),
        "choose": ("address_id",),
        "details": ("plate1", "plate2", "company_name", "kvk_number", "cared_for_name"),
    }.get(step, ())


def _form(state: State, step: str) -> FormState:
    return FormState(values={k: getattr(state, k) for k in _fields_of(step)})


def step(
    request: Request,
    session: Session,
    settings: BackendSettings,
    user: PageUser,
    posted: FormData,
) -> Response:
    """Handle one posted page: check its answers, then show the next page (or this one again
    with the problems); ``goto`` (the check page's "Wijzigen") reopens a question."""
    values = form_values(posted)
    state = State.of(values)
    goto = values.get("goto", "")
    if goto in STEPS:
        return page(request, user, state, goto, _form(state, goto))
    current = values.get("step", "type")
    handler = {
        "type": _after_type,
        "address": _after_address,
        "choose": _after_choose,
        "details": _after_details,
        "check": _send,
    }.get(current, _after_type)
    return handler(request, session, settings, user, state)


def _after_type(
    request: Request,
    session: Session,  # noqa: ARG001 - every step takes the same arguments
    settings: BackendSettings,  # noqa: ARG001
    user: PageUser,
    state: State,
) -> Response:
    if state.permit_type is None:
        form = _form(state, "type")
        form.add("Kies welke vergunning u wilt aanvragen.", "type")
        return page(request, user, state, "type", form, 422)
    return page(request, user, state, "address", _form(state, "address"))


def _area(request: Request, session: Session, address: AddressRow, t: PermitType) -> AddressArea:
    index = backend_of(request).zone_catalog.current(session).index
    return resident.area_of(index, address, t)


def _after_address(
    request: Request, session: Session, settings: BackendSettings, user: PageUser, state: State
) -> Response:
    form = _form(state, "address")
    postcode = normalise_postcode(state.postcode)
    if postcode is None:
        form.add("Vul een postcode in zoals 1234 AB.", "postcode")
    if not (state.house_number.isdigit() and 0 < int(state.house_number) < 100000):
        form.add(
            "Vul het huisnummer in, alleen cijfers. Een letter of toevoeging kiest u zo.",
            "house_number",
        )
    if form.has_errors or postcode is None:
        return page(request, user, state, "address", form, 422)
    found = find_addresses(session, postcode, int(state.house_number))
    if not found:
        form.add(
            "Wij kennen geen adres met deze postcode en dit huisnummer. Controleer ze.", "postcode"
        )
        return page(request, user, state, "address", form, 422)
    state = replace(state, postcode=postcode)
    if len(found) > 1:
        return page(request, user, state, "choose", _form(state, "choose"), addresses=found)
    return _address_chosen(
        request, session, settings, user, replace(state, address_id=str(found[0].id))
    )


def _after_choose(
    request: Request, session: Session, settings: BackendSettings, user: PageUser, state: State
) -> Response:
    return _address_chosen(request, session, settings, user, state, step_on_error="choose")


def _address_chosen(
    request: Request,
    session: Session,
    settings: BackendSettings,
    user: PageUser,
    state: State,
    step_on_error: str = "address",
) -> Response:
    address = session.get(AddressRow, int(state.address_id)) if state.address_id.isdigit() else None
    permit_type = state.permit_type
    if address is None or permit_type is None:
        form = _form(state, step_on_error)
        form.add("Kies uw adres.", "address_id" if step_on_error == "choose" else "postcode")
        found = find_addresses(session, state.postcode, int(state.house_number or 0))
        return page(request, user, state, step_on_error, form, 422, addresses=found)
    area = _area(request, session, address, permit_type)
    if not area.area_codes:
        form = _form(state, "address")
        label = TYPES[permit_type.value][0].lower()
        form.add(
            f"{format_address(address)} ligt niet in een gebied waar u een {label} kunt "
            "krijgen. Kies een ander adres of een andere vergunning.",
            "postcode",
        )
        return page(request, user, state, "address", form, 422)
    if permit_type is PermitType.VISITOR:
        return _check_page(request, session, settings, user, state)
    return page(request, user, state, "details", _form(state, "details"))


def _details_problems(state: State) -> FormState:
    form = _form(state, "details")
    for name in ("plate1", "plate2"):
        text = getattr(state, name)
        if name == "plate1" and not text:
            form.add("Vul het kenteken in.", "plate1")
        elif text and not _is_dutch_plate(text):
            form.add("Vul een Nederlands kenteken in, zoals AB-123-C.", name)
    both_valid = not form.errors  # "the same" about plates already refused says nothing
    if both_valid and state.plate2 and state.plate1 and _same_plate(state.plate1, state.plate2):
        form.add("Het tweede kenteken is hetzelfde als het eerste.", "plate2")
    if state.type == "business":
        if not state.company_name:
            form.add("Vul de naam van het bedrijf in.", "company_name")
        if not (len(state.kvk_number) == 8 and state.kvk_number.isdigit()):
            form.add("Vul het KvK-nummer in: 8 cijfers.", "kvk_number")
    if state.type == "care" and not state.cared_for_name:
        form.add("Vul de naam in van degene voor wie u zorgt.", "cared_for_name")
    return form


def _is_dutch_plate(text: str) -> bool:
    """Six letters and digits in a Dutch sidecode (the groups ``format_plate`` finds)."""
    try:
        plate = normalise_plate(text)
    except PermitsError:
        return False
    return len(plate) == 6 and format_plate(plate) != plate


def _same_plate(a: str, b: str) -> bool:
    try:
        return normalise_plate(a) == normalise_plate(b)
    except PermitsError:
        return False


def _after_details(
    request: Request, session: Session, settings: BackendSettings, user: PageUser, state: State
) -> Response:
    form = _details_problems(state)
    if form.has_errors:
        return page(request, user, state, "details", form, 422)
    return _check_page(request, session, settings, user, state)


def _check_page(
    request: Request,
    session: Session,
    settings: BackendSettings,
    user: PageUser,
    state: State,
    form: FormState | None = None,
    status: int = 200,
) -> HTMLResponse:
    address = session.get(AddressRow, int(state.address_id))
    permit_type = state.permit_type
    if address is None or permit_type is None:  # checked on the earlier pages
        return page(request, user, state, "type", _form(state, "type"), 422)
    area = _area(request, session, address, permit_type)
    plates = [normalise_plate(p) for p in (state.plate1, state.plate2) if p]
    return page(
        request,
        user,
        state,
        "check",
        form or empty_form(),
        status,
        address=format_address(address),
        area=area,
        plates=plates,
        budget_hours=settings.visitor_budget_hours_per_year,
    )


def _send(
    request: Request, session: Session, settings: BackendSettings, user: PageUser, state: State
) -> Response:
    permit_type = state.permit_type
    if permit_type is None or not state.address_id.isdigit():
        return page(request, user, state, "type", _form(state, "type"), 422)
    problems = _details_problems(state) if permit_type is not PermitType.VISITOR else None
    if problems is not None and problems.has_errors:
        return page(request, user, state, "details", problems, 422)
    index = backend_of(request).zone_catalog.current(session).index
    try:
        app = resident.apply(
            session,
            user.principal,
            user.full_name,
            resident.ResidentApplication(
                type=permit_type,
                address_id=int(state.address_id),
                plates=tuple(p for p in (state.plate1, state.plate2) if p),
                company_name=state.company_name,
                kvk_number=state.kvk_number,
                cared_for_name=state.cared_for_name,
            ),
            index,
            settings,
        )
        session.commit()
    except Exception as exc:
        answer = answer_for(exc)
        if answer is None:
            raise
        session.rollback()
        form = empty_form()
        form.add(message_for(answer.code, exc).text)
        return _check_page(request, session, settings, user, state, form, answer.status)
    return see_other(f"/mijn/aanvragen/ontvangen/{app.permit_id}")
