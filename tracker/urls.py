from django.contrib import admin
from django.urls import path

from tracker.views import dashboard

urlpatterns = [
    path("", dashboard.home, name="tracker-home"),
    path("admin/", admin.site.urls),
]
