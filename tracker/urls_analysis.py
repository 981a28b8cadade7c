"""URL patterns for the analysis pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
