"""The one status-change path for provisions and demands: a fixed workflow of allowed moves,
and no lost update (an edit says which revision it was based on)."""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from tracker.models.activity import Activity


class StaleEditError(Exception):
    """The edit was based on an older revision than the one stored: someone changed it first."""

    def __init__(self, current: models.Model) -> None:
        self.current = current
        super().__init__(f"{current} was changed by someone else since you loaded it.")


class TransitionNotAllowed(ValueError):
    """The workflow does not allow this move (e.g. out of Enacted)."""


def unique_slug(model: type[models.Model], negotiation_id: int, title: str) -> str:
    base = slugify(title)[:70] or "item"
    slug, n = base, 2
    while model.objects.filter(negotiation_id=negotiation_id, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def move_to_status(
    item: models.Model,
    new_status: str,
    *,
    kind: str,
    by: AbstractBaseUser | None,
    note: str,
    based_on_revision: int | None,
    allowed: set[str] | None = None,
    also_allowed: str = "",
    source: str = "",
    source_url: str = "",
    occurred_at: datetime | None = None,
    **subject: object,
) -> Activity:
    """The one status-change path for provisions and demands: lock, check, save, record.

    `allowed` replaces the workflow's moves from the stored status (a feed settling a move the
    record made), `also_allowed` adds one (a staff member undoing a feed's move); `source`,
    `source_url` and `occurred_at`
    say where a change that no staff member made comes from and when it happened.
    """
    model = type(item)
    if new_status not in {value for value, _ in model._meta.get_field("status").choices}:
        raise ValueError(f"Unknown status {new_status!r}.")
    stored = model.objects.select_for_update().get(pk=item.pk)
    if based_on_revision is not None and stored.revision != based_on_revision:
        raise StaleEditError(stored)
    if stored.status == new_status:
        raise TransitionNotAllowed(f"{stored} is already {stored.get_status_display()}.")
    moves = model.TRANSITIONS[stored.status] if allowed is None else allowed
    if new_status not in moves and new_status != also_allowed:
        new_label = dict(model._meta.get_field("status").choices)[new_status]
        raise TransitionNotAllowed(
            f"{stored} cannot move from {stored.get_status_display()} to {new_label}."
        )
    old_label = stored.get_status_display()
    item.status = new_status
    item.revision = stored.revision + 1
    item.save(update_fields=["status", "revision", "updated_at"])
    return Activity.objects.create(
        negotiation_id=item.negotiation_id,
        kind=kind,
        actor=by,
        source=source or ("" if by else "system"),
        source_url=source_url,
        occurred_at=occurred_at or timezone.now(),
        summary=f"{item.title}: {old_label} → {item.get_status_display()}",
        detail=note,
        from_value=stored.status,
        to_value=new_status,
        **subject,
    )


class WorkflowMixin:
    """A model whose `status` moves through a fixed workflow: `TRANSITIONS` (status -> the
    statuses it may move to), the Activity kind a change is recorded as, and what else that
    Activity names (`status_change_subject`)."""

    TRANSITIONS: dict[str, set[str]]
    STATUS_CHANGE_KIND: str

    @property
    def next_statuses(self) -> list[tuple[str, str]]:
        """The statuses the workflow allows from here, in workflow order."""
        choices = self._meta.get_field("status").choices  # type: ignore[attr-defined]
        allowed = self.TRANSITIONS[self.status]  # type: ignore[attr-defined]
        return [(value, label) for value, label in choices if value in allowed]

    def status_change_subject(self) -> dict[str, object]:
        raise NotImplementedError

    def feed_move_to_undo(self) -> str:
        """The status a feed moved this item from, when a feed made its latest status change:
        staff may always go back to it, even where the workflow has no such move (out of
        Enacted)."""
        subject = dict(list(self.status_change_subject().items())[:1])
        latest = (
            Activity.objects.filter(kind=self.STATUS_CHANGE_KIND, **subject)
            .order_by("-occurred_at", "-id")
            .values_list("actor_id", "source", "from_value", "to_value")
            .first()
        )
        if latest is None:
            return ""
        actor, source, from_value, to_value = latest
        is_feed = actor is None and source not in ("", "system")
        return from_value if is_feed and to_value == self.status else ""  # type: ignore[attr-defined]

    @transaction.atomic
    def undo_status_change(
        self, *, by: AbstractBaseUser, based_on_revision: int, within: timedelta
    ) -> Activity:
        """Put back the status `by` changed this item from, if theirs is still the latest change
        (the revision says nobody moved it since) and was made within `within`. The workflow may
        not allow that move otherwise (In text back to Agreed in principle), so it is allowed
        here once, and recorded like any change."""
        subject = dict(list(self.status_change_subject().items())[:1])
        latest = (
            Activity.objects.filter(kind=self.STATUS_CHANGE_KIND, **subject)
            .order_by("-occurred_at", "-id")
            .first()
        )
        if (
            latest is None
            or latest.actor_id != by.pk
            or latest.to_value != self.status  # type: ignore[attr-defined]
            or latest.occurred_at < timezone.now() - within
        ):
            raise TransitionNotAllowed("Only your own latest change can be undone, for a while.")
        return self.change_status(
            latest.from_value,
            by=by,
            note="Undone",
            based_on_revision=based_on_revision,
            also_allowed=latest.from_value,
        )

    @transaction.atomic
    def change_status(
        self,
        new_status: str,
        *,
        by: AbstractBaseUser | None,
        note: str = "",
        based_on_revision: int | None = None,
        **how: object,
    ) -> Activity:
        """Move to `new_status` and record it on the timeline.

        With `based_on_revision`, the change is refused (StaleEditError) if someone else changed
        the item since that revision was read, so no update is silently lost. `how` passes
        move_to_status's `allowed`, `also_allowed`, `source`, `source_url` and `occurred_at`.
        """
        return move_to_status(
            self,  # type: ignore[arg-type]
            new_status,
            kind=self.STATUS_CHANGE_KIND,
            by=by,
            note=note,
            based_on_revision=based_on_revision,
            **how,  # type: ignore[arg-type]
            **self.status_change_subject(),
        )
