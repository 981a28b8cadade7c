"""The Django admin: every model, with the same domain verbs as the staff views.

Status changes and new positions made here go through `Provision.change_status`,
`Demand.change_status` and `Stakeholder.record_position`, so they reach the timeline too.
One module per part of the domain, as in tracker/models/.
"""

from tracker.admin import (  # noqa: F401 - each module registers its models
    activity,
    bills,
    demands,
    digests,
    estimates,
    feeds,
    negotiations,
    provisions,
    stakeholders,
    votes,
    whip,
)
