"""Plain functions that make test objects with sensible defaults."""

from datetime import date
from itertools import count

from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tracker import roles
from tracker.models import (
    Demand,
    Negotiation,
    PackageVersion,
    Provision,
    Stakeholder,
    Vote,
    VoteTarget,
    VoteTargetLink,
)

_serial = count(1)
PASSWORD = "correct horse battery staple"


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def make_user(username: str, *, role: str = roles.VIEWER, with_totp: bool | None = None, **fields):
    """A staff member in `role`. Admins get an authenticator app unless with_totp=False."""
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        is_staff=role == roles.ADMIN,
        **fields,
    )
    user.groups.add(Group.objects.get(name=role))
    if role == roles.ADMIN if with_totp is None else with_totp:
        TOTP.activate(user, TOTP_SECRET)
    return user


def make_negotiation(**fields) -> Negotiation:
    n = next(_serial)
    defaults = {"slug": f"negotiation-{n}", "name": f"Negotiation {n}", "congress": 118}
    return Negotiation.objects.create(**defaults | fields)


def make_version(negotiation: Negotiation | None = None, **fields) -> PackageVersion:
    n = next(_serial)
    defaults = {
        "slug": f"version-{n}",
        "name": f"Version {n}",
        "stage": "request",
        "dated": date(2023, 10, 20),
    }
    return PackageVersion.objects.create(
        negotiation=negotiation or make_negotiation(), **defaults | fields
    )


def make_provision(negotiation: Negotiation | None = None, **fields) -> Provision:
    n = next(_serial)
    defaults = {
        "slug": f"provision-{n}",
        "title": f"Provision {n}",
        "kind": "funding",
        "category": "ukraine",
        "status": "in_negotiation",
    }
    return Provision.objects.create(
        negotiation=negotiation or make_negotiation(), **defaults | fields
    )


def make_stakeholder(**fields) -> Stakeholder:
    n = next(_serial)
    defaults = {
        "slug": f"stakeholder-{n}",
        "name": f"Senator {n}",
        "kind": "senator",
        "party": "D",
        "state": "CT",
    }
    return Stakeholder.objects.create(**defaults | fields)


def make_demand(negotiation: Negotiation | None = None, **fields) -> Demand:
    n = next(_serial)
    defaults = {"slug": f"demand-{n}", "title": f"Demand {n}", "asks": "A change in the law"}
    return Demand.objects.create(negotiation=negotiation or make_negotiation(), **defaults | fields)


def make_vote(**fields) -> Vote:
    n = next(_serial)
    defaults = {
        "chamber": "senate",
        "congress": 118,
        "session": 2,
        "roll_number": n,
        "voted_on": date(2024, 2, 7),
        "question": f"On the motion (roll call {n})",
        "result": "Motion Agreed to",
    }
    return Vote.objects.create(**defaults | fields)


def make_vote_target(negotiation: Negotiation | None = None, **fields) -> VoteTarget:
    defaults = {"motion": "Cloture on the motion to proceed"}
    return VoteTarget.objects.create(
        negotiation=negotiation or make_negotiation(), **defaults | fields
    )


def link_to_target(target: VoteTarget, **fields) -> VoteTargetLink:
    """Link `target` to a provision or demand (a new provision unless one is given)."""
    if "provision" not in fields and "demand" not in fields:
        fields["provision"] = make_provision(target.negotiation)
    return VoteTargetLink.objects.create(target=target, **fields)
