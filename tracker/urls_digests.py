"""URL patterns for the digests pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
