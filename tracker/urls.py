from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from tracker.views import (
    bills,
    choices,
    dashboard,
    demands,
    digests,
    favicon,
    feeds,
    funding,
    health,
    positions,
    proposals,
    provisions,
    search,
    stakeholders,
    timeline,
    visits,
    votes,
    whip,
)

# A database outage is a 503 with Retry-After, not a 500.
handler500 = "tracker.views.health.server_error"

# The admin logs in through the staff login (and its MFA), never a login page of its own.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", dashboard.home, name="tracker-home"),
    path("search/", search.search_results, name="tracker-search"),
    path("seen/<str:page>", visits.seen_mark, name="tracker-seen"),
    path("favicon.ico", favicon.favicon, name="tracker-favicon"),
    # Type-ahead for long selects (the combobox of static/tracker/combobox.js).
    path("choices/<slug:kind>/", choices.choice_list, name="tracker-choices"),
    # Probes; tracker.views.health.ProbeMiddleware answers them before the Host header is checked.
    path("healthz", health.healthz, name="tracker-health"),
    path("readyz", health.readyz, name="tracker-ready"),
    # Provisions and demands
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
    path(
        "provisions/proposals/<int:pk>/decide",
        proposals.proposal_decide,
        name="tracker-proposal-decide",
    ),
    path("demands/", demands.demand_list, name="tracker-demand-list"),
    path("demands/new", demands.demand_create, name="tracker-demand-create"),
    path("demands/<int:pk>/", demands.demand_detail, name="tracker-demand-detail"),
    path("demands/<int:pk>/edit", demands.demand_edit, name="tracker-demand-edit"),
    path("demands/<int:pk>/status", demands.demand_status, name="tracker-demand-status"),
    path("demands/<int:pk>/notes", demands.demand_note, name="tracker-demand-note"),
    # Stakeholders and their positions
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
    path("positions/", positions.position_grid, name="tracker-position-grid"),
    path("positions/grid.csv", positions.position_grid_csv, name="tracker-position-grid-csv"),
    path("timeline/", timeline.timeline, name="tracker-timeline"),
    # What Congress published
    path("bills/", bills.bill_list, name="tracker-bill-list"),
    path("bills/<int:pk>/", bills.bill_detail, name="tracker-bill-detail"),
    path("votes/", votes.vote_list, name="tracker-vote-list"),
    path("votes/<int:pk>/", votes.vote_detail, name="tracker-vote-detail"),
    path("feeds/", feeds.feed_list, name="tracker-feeds"),
    path("feeds/<str:source>/refresh/", feeds.feed_refresh, name="tracker-feed-refresh"),
    path("feeds/runs/<int:pk>/", feeds.feed_run_status, name="tracker-feed-run"),
    # Whip counts and the funding comparison
    path("whip/", whip.whip_target_list, name="tracker-whip-list"),
    path("whip/<int:pk>/", whip.whip_board, name="tracker-whip-board"),
    path("whip/<int:pk>/board.csv", whip.whip_board_csv, name="tracker-whip-board-csv"),
    path("whip/<int:pk>/results/", whip.whip_results, name="tracker-whip-results"),
    path("whip/<int:pk>/roll-call/", whip.whip_target_link, name="tracker-whip-target-link"),
    path(
        "whip/<int:pk>/members/<int:member_pk>/position/",
        whip.whip_position_record,
        name="tracker-whip-position-record",
    ),
    path(
        "whip/<int:pk>/members/<int:member_pk>/override/",
        whip.whip_override_set,
        name="tracker-whip-override-set",
    ),
    path("funding/", funding.funding_compare, name="tracker-funding-compare"),
    path("funding/comparison.csv", funding.funding_compare_csv, name="tracker-funding-compare-csv"),
    # Email digests
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
    # Accounts and the admin
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
