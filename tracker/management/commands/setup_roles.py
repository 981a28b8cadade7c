from django.core.management.base import BaseCommand

from tracker.roles import ensure_roles


class Command(BaseCommand):
    help = "Create or refresh the Viewer, Editor and Admin groups and their permissions."

    def handle(self, *args: object, **options: object) -> None:
        for name, group in ensure_roles().items():
            self.stdout.write(f"{name}: {group.permissions.count()} permissions")
