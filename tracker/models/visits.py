"""Where each staff member last looked: a marker per page, so the dashboard and a whip board can
say what changed since the last visit."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SeenMarkerQuerySet(models.QuerySet["SeenMarker"]):
    def for_page(self, user: models.Model, page: str) -> "SeenMarker | None":
        return self.filter(user=user, page=page).first()


class SeenMarker(models.Model):
    """The newest activity a user had on screen when they last looked at a page ("dashboard",
    "whip-12"). Moved forward by a POST the page sends once shown (a GET never writes)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seen_markers"
    )
    page = models.CharField(max_length=40)
    # The highest Activity id on screen: "what changed since" is every activity above it.
    activity_id = models.PositiveBigIntegerField(default=0)
    seen_at = models.DateTimeField(default=timezone.now)

    objects = SeenMarkerQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "page"], name="seen_marker_one_per_page")
        ]

    def __str__(self) -> str:
        return f"{self.user} saw {self.page} up to activity {self.activity_id}"

    @classmethod
    def mark(cls, user: models.Model, page: str, *, activity_id: int) -> "SeenMarker":
        """Move the user's marker on `page` up to `activity_id` (never back), seen now."""
        marker, _ = cls.objects.get_or_create(user=user, page=page)
        if activity_id > marker.activity_id:
            marker.activity_id = activity_id
            marker.seen_at = timezone.now()
            marker.save(update_fields=["activity_id", "seen_at"])
        return marker
