"""One way for every page to act on a form.

``form_action`` reads the posted form (CSRF and Origin checked), validates it with the same
pydantic schema as the API when one is given, calls the service, and returns an ``Outcome``:
- success: ``outcome.result`` is what the service returned;
- refusal: ``outcome.form`` carries the values as typed, the Dutch message per field and the
  summary for the top of the page, and ``outcome.status`` is the status the JSON API gives the
  same refusal (422 for a refused decision, 409 for a conflict, 404...), never another one.

The route then renders its page again with ``forms={key: outcome.form}`` and ``outcome.status``,
or redirects (``see_other``) after a success. Error codes become Dutch text only through
``api.ui.messages``. Templates show forms with the macros in ``templates/macros/forms.html``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.errors import answer_for
from api.ui.messages import message_for, validation_message
from api.ui.session import PageUser, check_origin, checked_form
from api.ui.templating import NO_STORE

T = TypeVar("T")
SKIP = frozenset({"csrf"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One line of the error summary; ``field`` links it to its form field."""

    text: str
    field: str | None = None


@dataclass(slots=True)
class FormState:
    """A form as the page shows it: typed values, a message per field, the summary."""

    key: str = ""  # prefix of the field ids when a page has several forms ("reject-note")
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def field_id(self, name: str) -> str:
        return f"{self.key}-{name}" if self.key else name

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    @property
    def has_errors(self) -> bool:
        return bool(self.problems)

    def add(self, text: str, name: str | None = None) -> None:
        if name and name not in self.errors:
            self.errors[name] = text
        self.problems.append(Problem(text, name))


@dataclass(slots=True)
class Outcome(Generic[T]):
    form: FormState
    status: int = 200
    code: str | None = None
    result: T | None = None

    @property
    def ok(self) -> bool:
        return self.code is None

    @property
    def value(self) -> T:
        """The action's result, after a success that returned one."""
        if self.result is None:
            raise LookupError("the form action gave no result")
        return self.result


def empty_form(key: str = "", **values: str) -> FormState:
    """A form shown for the first time (optionally with default values)."""
    return FormState(key=key, values=dict(values))


def form_values(form: FormData) -> dict[str, str]:
    """The typed text values of a posted form (files and the CSRF token left out)."""
    return {
        k: str(v) for k, v in form.multi_items() if k not in SKIP and not isinstance(v, UploadFile)
    }


def _validation_state(state: FormState, exc: ValidationError) -> None:
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        name = loc[0] if loc else None
        state.add(validation_message(err.get("type", ""), err.get("ctx") or {}, name), name)


async def _call(action: Callable[[Any], Any], arg: Any) -> Any:
    if inspect.iscoroutinefunction(action):
        return await action(arg)
    result = await run_in_threadpool(action, arg)
    if inspect.isawaitable(result):
        return await result
    return result


@overload
async def form_action(
    request: Request,
    user: PageUser | None,
    action: Callable[[Any], Awaitable[T]],
    *,
    schema: type[BaseModel] | None = None,
    session: Session | None = None,
    key: str = "",
    max_files: int = 1,
) -> Outcome[T]: ...


@overload
async def form_action(
    request: Request,
    user: PageUser | None,
    action: Callable[[Any], T],
    *,
    schema: type[BaseModel] | None = None,
    session: Session | None = None,
    key: str = "",
    max_files: int = 1,
) -> Outcome[T]: ...


async def form_action(
    request: Request,
    user: PageUser | None,
    action: Callable[[Any], Any],
    *,
    schema: type[BaseModel] | None = None,
    session: Session | None = None,
    key: str = "",
    max_files: int = 1,
) -> Outcome[Any]:
    """Run ``action`` on the posted form; see the module docstring.

    ``action`` gets the validated ``schema`` instance, or the raw ``FormData`` without a
    schema. ``user`` None is for the login form (Origin checked, no session yet). Errors the
    API does not map (bugs) are not caught: they stay 500s and are logged as such.
    """
    if user is None:
        check_origin(request)
        form = await request.form(max_files=0, max_fields=20)
    else:
        form = await checked_form(request, user, max_files=max_files)
    state = FormState(key=key, values=form_values(form))
    try:
        arg: Any = form
        if schema is not None:
            arg = schema.model_validate({k: v for k, v in state.values.items() if v != ""})
        result = await _call(action, arg)
    except ValidationError as exc:
        _validation_state(state, exc)
        return Outcome(state, 422, "validation_error")
    except Exception as exc:
        answer = answer_for(exc)
        if answer is None:
            raise
        if session is not None:
            session.rollback()
        msg = message_for(answer.code, exc)
        state.add(msg.text, msg.field)
        return Outcome(state, answer.status, answer.code)
    return Outcome(state, result=result)


def see_other(url: str) -> RedirectResponse:
    """The answer to a successful POST: go to ``url`` with GET (no resubmit on reload)."""
    return RedirectResponse(url, status_code=303, headers=NO_STORE)
