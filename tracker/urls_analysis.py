"""URL patterns for the analysis pages: whip boards and the funding comparison."""

from django.urls import URLPattern, path

from tracker.views import funding, whip

urlpatterns: list[URLPattern] = [
    path("whip/", whip.whip_target_list, name="tracker-whip-list"),
    path("whip/<int:pk>/", whip.whip_board, name="tracker-whip-board"),
    path("whip/<int:pk>/board.csv", whip.whip_board_csv, name="tracker-whip-board-csv"),
    path("whip/<int:pk>/results/", whip.whip_results, name="tracker-whip-results"),
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
]
