"""URL patterns for the digests pages."""

from django.urls import URLPattern, path

from tracker.views import digests

urlpatterns: list[URLPattern] = [
    path("digests/watch/<str:kind>/<int:pk>/", digests.watch_toggle, name="tracker-watch-toggle"),
    path("digests/watches/", digests.watch_list, name="tracker-my-watches"),
    path("digests/preferences/", digests.preference_update, name="tracker-digest-preferences"),
    path("digests/preview", digests.digest_preview, name="tracker-digest-preview"),
    path(
        "digests/preview/email.html",
        digests.digest_preview_html,
        name="tracker-digest-preview-html",
    ),
    path(
        "digests/unsubscribe/<str:token>/",
        digests.digest_unsubscribe,
        name="tracker-digest-unsubscribe",
    ),
]
