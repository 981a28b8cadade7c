"""URL patterns for the feeds pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
