"""The three staff roles, as Django groups with model permissions.

Viewer reads everything; Editor also changes statuses, records positions, edits demands and adds
notes; Admin also manages every record and the staff accounts in the Django admin.
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

VIEWER = "Viewer"
EDITOR = "Editor"
ADMIN = "Admin"

EDITOR_PERMISSIONS = {
    "change_provision",
    "add_position",
    "add_demand",
    "change_demand",
    "add_activity",
    "add_stanceoverride",
    # Linking a whip count to its roll call by hand, where the feeds could not tell which.
    "change_votetarget",
}


def ensure_roles() -> dict[str, Group]:
    """Create or refresh the three groups and their permissions; safe to run again."""
    tracker_models = [
        model._meta.model_name for model in apps.get_app_config("tracker").get_models()
    ]
    tracker_permissions = Permission.objects.filter(content_type__app_label="tracker")
    view_permissions = tracker_permissions.filter(codename__startswith="view_")
    editor_permissions = view_permissions | tracker_permissions.filter(
        codename__in=EDITOR_PERMISSIONS
    )
    admin_permissions = Permission.objects.filter(
        Q(content_type__app_label="tracker", content_type__model__in=tracker_models)
        | Q(content_type__app_label="auth", content_type__model__in=["user", "group"])
        # Staff accounts' email addresses and authenticators (allauth), e.g. to reset a lost one.
        | Q(content_type__app_label__in=["account", "mfa"])
    )
    groups = {}
    for name, permissions in (
        (VIEWER, view_permissions),
        (EDITOR, editor_permissions),
        (ADMIN, admin_permissions),
    ):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)
        groups[name] = group
    return groups
