"""Lifecycle actions from page forms: which forms a user sees, and the POST routes behind them.

Each form POSTs (with its CSRF token) to `/tickets/{id}/act/{action}`, which validates the
fields with the API's body model of that action, calls `services.handling.perform` within the
actor's scope and redirects back with a flash message. Evidence for an exclusion request is
uploaded first through `/tickets/{id}/attachments`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from megacity.bootstrap import Megacity
from megacity.domain.access import Actor, Permission
from megacity.domain.enums import CallbackOutcome, Satisfaction, SpecialCase
from megacity.domain.errors import DomainError, NotFoundError
from megacity.domain.lifecycle import Action, allowed_actions
from megacity.domain.tickets import Ticket
from megacity.services import attachments, handling
from megacity.services.accounts import ForbiddenError
from megacity.web.api import schemas as s
from megacity.web.deps import MegacityDep
from megacity.web.labels import N_
from megacity.web.pages.common import error_text, gettext_for
from megacity.web.session import CsrfForm, PageActor, field, flash, safe_next

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class FormField:
    """One input of an action form; `options` are (value, label to translate)."""

    name: str
    kind: str  # text, textarea, number, select, unit, evidence
    label: str
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ActionForm:
    action: str
    label: str
    fields: tuple[FormField, ...]


REASON = FormField("reason", "textarea", N_("Reason"), required=True)
NOTE = FormField("reason", "text", N_("Note (optional)"))
YES_NO = (("true", N_("Yes")), ("false", N_("No")))
_FIELDS: dict[type[s.Strict], tuple[FormField, ...]] = {
    s.NoteBody: (),
    s.RequiredReasonBody: (REASON,),
    s.DisposeBody: (
        FormField(
            "case", "select", N_("Case (Art. 11)"), True, tuple((c.value, c.value) for c in SpecialCase)
        ),
        NOTE,
    ),
    s.DispatchBody: (FormField("unit_code", "unit", N_("Handling unit (empty: the suggestion)")), NOTE),
    s.RedispatchBody: (FormField("unit_code", "unit", N_("New handling unit"), True), NOTE),
    s.CallbackBody: (
        FormField(
            "outcome", "select", N_("Outcome"), True, tuple((o.value, o.value) for o in CallbackOutcome)
        ),
        FormField("resolved", "select", N_("Resolved"), False, YES_NO),
        FormField(
            "satisfaction",
            "select",
            N_("Satisfaction"),
            False,
            tuple((v.value, v.value) for v in Satisfaction),
        ),
        NOTE,
    ),
    s.ExtensionBody: (FormField("days", "number", N_("Working days to add"), True), REASON),
    s.EscalateBody: (
        FormField("level", "select", N_("Level"), True, (("district", "district"), ("city", "city"))),
        REASON,
    ),
    s.CohandlerBody: (FormField("unit_code", "unit", N_("Co-handling unit"), True), NOTE),
    s.ExclusionBody: (FormField("evidence", "evidence", N_("Evidence"), True), REASON),
    s.MergeBody: (FormField("master_id", "text", N_("Id of the master request"), True), NOTE),
}
#: Better labels of the reason field for actions whose reason is a text to the citizen.
_REASON_LABELS = {
    Action.ANSWER: N_("Answer given to the citizen"),
    Action.REPLY: N_("Reply: what was done, and the result"),
    Action.DISPUTE: N_("Why the request is not for this unit"),
}


def form_for(action: Action) -> ActionForm:
    """The form of one action, with the fields of its API body."""
    fields = _FIELDS[s.ACTION_BODIES[action]]
    label = _REASON_LABELS.get(action)
    if label:
        fields = tuple(
            FormField(f.name, f.kind, label, f.required) if f.name == "reason" else f for f in fields
        )
    return ActionForm(action.value, action.value, fields)


def forms_for(actor: Actor, ticket: Ticket) -> list[ActionForm]:
    """Forms of the actions the request's state allows and the actor's role may perform."""
    return [form_for(a) for a in allowed_actions(ticket) if a in s.ACTION_BODIES and actor.may_act(a)]


def unit_options(app: Megacity) -> list[tuple[str, str]]:
    """(code, label) of every handling unit in force today, for the unit fields' datalist."""
    today = app.clock().astimezone(app.tz).date()
    districts = app.profile.org.districts
    out = []
    for unit in sorted(app.profile.org.units_on(today), key=lambda u: (u.type.is_street_level, u.code)):
        district = districts.get(unit.district_code or "")
        where = district.name if district else ""
        out.append(
            (unit.code, f"{unit.name}（{where}）" if where and unit.type.is_street_level else unit.name)
        )
    return out


def parse_params(action: Action, form: FormData) -> tuple[str, dict[str, Any]]:
    """Validate a form against the action's API body; returns (reason, parameters)."""
    model = s.ACTION_BODIES[action]
    data: dict[str, Any] = {}
    for name in model.model_fields:
        if name == "evidence":
            values = [v for v in form.getlist(name) if isinstance(v, str) and v]
            if values:
                data[name] = values
        elif value := field(form, name):
            data[name] = value
    body = model.model_validate(data)
    params = body.model_dump(exclude={"reason"}, exclude_none=True)
    return str(getattr(body, "reason", "")), params


def _action(name: str) -> Action:
    try:
        action = Action(name)
    except ValueError:
        action = None
    if action is None or action not in s.ACTION_BODIES:
        raise NotFoundError(f"no page action '{name}'")
    return action


def _invalid(_: Callable[[str], str], action: Action, exc: pydantic.ValidationError) -> str:
    """A readable message for a form that failed validation, with the fields' own labels."""
    labels = {f.name: _(f.label) for f in form_for(action).fields}
    problems = []
    for error in exc.errors()[:5]:
        name = str(error["loc"][0]) if error["loc"] else "form"
        problem = _("required") if error["type"] == "missing" else error["msg"]
        problems.append(f"{labels.get(name, name)}: {problem}")
    return str(_("%(title)s: %(detail)s") % {"title": _("Invalid input"), "detail": "; ".join(problems)})


@router.post("/tickets/{ticket_id}/act/{action}")
def act(
    ticket_id: str, action: str, request: Request, app: MegacityDep, actor: PageActor, form: CsrfForm
) -> RedirectResponse:
    """Perform one lifecycle action from a page form, then go back with a message."""
    chosen = _action(action)
    if not actor.may_act(chosen):
        raise ForbiddenError(f"role {actor.role.value} may not {chosen.value.replace('_', ' ')}")
    _ = gettext_for(request)
    response = RedirectResponse(safe_next(field(form, "next"), f"/tickets/{ticket_id}"), status_code=303)
    try:
        reason, params = parse_params(chosen, form)
        if chosen is Action.DISPATCH and "unit_code" not in params:
            params.update(handling.suggested_dispatch(app=app, ticket_id=ticket_id))
        handling.perform(
            app=app,
            ticket_id=ticket_id,
            action=chosen,
            actor=actor.name,
            role=actor.role.value,
            reason=reason,
            params=params,
            visible=actor.sees,
        )
    except NotFoundError:
        raise
    except pydantic.ValidationError as exc:
        flash(response, request, "error", _invalid(_, chosen, exc))
    except DomainError as exc:
        flash(response, request, "error", error_text(_, exc))
    else:
        text = _("Done: %(action)s (%(id)s)") % {"action": _(chosen.value), "id": ticket_id}
        flash(response, request, "ok", text)
    return response


@router.post("/tickets/{ticket_id}/attachments")
def upload(
    ticket_id: str, request: Request, app: MegacityDep, actor: PageActor, form: CsrfForm
) -> RedirectResponse:
    """Attach a file (evidence, picture, document ...) to a request from its page."""
    if not actor.may(Permission.ATTACH_FILES):
        raise ForbiddenError(f"role {actor.role.value} may not attach files")
    _ = gettext_for(request)
    response = RedirectResponse(f"/tickets/{ticket_id}#attachments", status_code=303)
    upload_ = form.get("file")
    if not isinstance(upload_, UploadFile) or not upload_.filename:
        flash(response, request, "error", _("Choose a file to upload."))
        return response
    try:
        row = attachments.attach(
            app=app,
            ticket_id=ticket_id,
            purpose=field(form, "purpose") or "evidence",
            filename=upload_.filename,
            content_type=upload_.content_type or "application/octet-stream",
            content=upload_.file.read(attachments.MAX_BYTES + 1),
            actor=actor.name,
            role=actor.role.value,
            visible=actor.sees,
        )
    except NotFoundError:
        raise
    except DomainError as exc:
        flash(response, request, "error", error_text(_, exc))
    else:
        flash(response, request, "ok", _("Attached: %(name)s") % {"name": row["filename"]})
    return response
