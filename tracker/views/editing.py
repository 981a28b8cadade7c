"""The one way a status form becomes a status change, for provisions and demands alike."""

from django.contrib.auth.models import AbstractBaseUser

from tracker.forms import StatusChangeForm
from tracker.models import Demand, Provision, StaleEditError, TransitionNotAllowed

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
        )
    except StaleEditError:
        return CONFLICT
    except TransitionNotAllowed as refused:
        form.add_error("status", str(refused))
        return INVALID
    return CHANGED
