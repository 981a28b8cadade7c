from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from tracker.views import dashboard, demands, provisions, records, stakeholders, timeline

# The admin logs in through the staff login (and its MFA), never a login page of its own.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", dashboard.home, name="tracker-home"),
    path("healthz", dashboard.health, name="tracker-health"),
    path("provisions/", provisions.provision_list, name="tracker-provision-list"),
    path("provisions/<int:pk>/", provisions.provision_detail, name="tracker-provision-detail"),
    path(
        "provisions/<int:pk>/status", provisions.provision_status, name="tracker-provision-status"
    ),
    path(
        "provisions/<int:pk>/amounts",
        provisions.provision_amounts,
        name="tracker-provision-amounts",
    ),
    path("provisions/<int:pk>/notes", provisions.provision_note, name="tracker-provision-note"),
    path("demands/", demands.demand_list, name="tracker-demand-list"),
    path("demands/new", demands.demand_create, name="tracker-demand-create"),
    path("demands/<int:pk>/", demands.demand_detail, name="tracker-demand-detail"),
    path("demands/<int:pk>/edit", demands.demand_edit, name="tracker-demand-edit"),
    path("demands/<int:pk>/status", demands.demand_status, name="tracker-demand-status"),
    path("demands/<int:pk>/notes", demands.demand_note, name="tracker-demand-note"),
    path("stakeholders/", stakeholders.stakeholder_list, name="tracker-stakeholder-list"),
    path(
        "stakeholders/<int:pk>/", stakeholders.stakeholder_detail, name="tracker-stakeholder-detail"
    ),
    path(
        "stakeholders/<int:pk>/positions",
        stakeholders.position_create,
        name="tracker-position-create",
    ),
    path(
        "stakeholders/<int:pk>/notes",
        stakeholders.stakeholder_note,
        name="tracker-stakeholder-note",
    ),
    path("positions/", stakeholders.position_grid, name="tracker-position-grid"),
    path("positions/grid.csv", stakeholders.position_grid_csv, name="tracker-position-grid-csv"),
    path("timeline/", timeline.timeline, name="tracker-timeline"),
    path("bills/", records.bill_list, name="tracker-bill-list"),
    path("bills/<int:pk>/", records.bill_detail, name="tracker-bill-detail"),
    path("votes/", records.vote_list, name="tracker-vote-list"),
    path("votes/<int:pk>/", records.vote_detail, name="tracker-vote-detail"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("tracker.urls_feeds")),
    path("", include("tracker.urls_digests")),
    path("", include("tracker.urls_analysis")),
]
