"""URL patterns for the feeds pages."""

from django.urls import URLPattern, path

from tracker.views import feeds

urlpatterns: list[URLPattern] = [
    path("feeds/", feeds.feed_list, name="tracker-feeds"),
    path("feeds/<str:source>/refresh/", feeds.feed_refresh, name="tracker-feed-refresh"),
    path("feeds/runs/<int:pk>/", feeds.feed_run_status, name="tracker-feed-run"),
]
