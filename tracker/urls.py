from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from tracker.views import dashboard

# The admin logs in through the staff login (and its MFA), never a login page of its own.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", dashboard.home, name="tracker-home"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("tracker.urls_feeds")),
    path("", include("tracker.urls_digests")),
    path("", include("tracker.urls_analysis")),
]
