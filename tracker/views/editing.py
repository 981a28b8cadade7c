"""Edits shared by the provision, demand and stakeholder pages: status changes and notes."""

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from tracker.forms import NoteForm, StatusChangeForm
from tracker.models import (
    Activity,
    Demand,
    Provision,
    Stakeholder,
    StaleEditError,
    TransitionNotAllowed,
)

CHANGED, CONFLICT, INVALID = 200, 409, 422


def apply_status_change(
    item: Provision | Demand, form: StatusChangeForm, *, by: AbstractBaseUser
) -> int:
    """Apply a submitted status change; the HTTP status says how it went.

    409: someone changed the item since the form's revision (nothing written; the caller
    shows the newer change). 422: the form is invalid or the workflow refuses the move (the
    error is on the form).
    """
    if not form.is_valid():
        return INVALID
    try:
        item.change_status(
            form.cleaned_data["status"],
            by=by,
            note=form.cleaned_data["note"],
            based_on_revision=form.cleaned_data["revision"],
            # A feed's move can always be undone by staff, even out of Enacted.
            also_allowed=item.feed_move_to_undo(),
        )
    except StaleEditError:
        return CONFLICT
    except TransitionNotAllowed as refused:
        form.add_error("status", str(refused))
        return INVALID
    return CHANGED


def add_note(request: HttpRequest, subject: Provision | Demand | Stakeholder) -> NoteForm | None:
    """Add the posted note to `subject`; None when added, else the form with its errors."""
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The note is empty or too long (2,000 characters at most).")
        return form
    Activity.add_note(subject, form.cleaned_data["text"], by=request.user)
    messages.success(request, "Note added.")
    return None
