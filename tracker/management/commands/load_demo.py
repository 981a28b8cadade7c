from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker import roles
from tracker.demo import DEMO_FIXTURE, DemoFixtureError, load_demo

DEMO_USERS = (("viewer", roles.VIEWER), ("editor", roles.EDITOR), ("admin", roles.ADMIN))


class Command(BaseCommand):
    help = "Load the 2023-24 supplemental negotiation, the staff roles and (demo mode) demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fixture", type=Path, default=DEMO_FIXTURE)

    def handle(self, *args: object, fixture: Path, **options: object) -> None:
        groups = roles.ensure_roles()
        try:
            negotiation, report = load_demo(fixture)
        except DemoFixtureError as error:
            raise CommandError(f"Nothing was loaded. {error}") from error
        if report.changed_anything:
            for verb, counts in (("created", report.created), ("updated", report.updated)):
                for name, count in sorted(counts.items()):
                    self.stdout.write(f"  {verb} {count} {name}")
        else:
            self.stdout.write("  already up to date: nothing changed")
        self.stdout.write(self.style.SUCCESS(f"Loaded {negotiation}."))

        if not settings.DEMO_MODE:
            self.stdout.write("Demo users skipped (DEMO_MODE is off).")
            return
        User = get_user_model()
        for username, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            if created:
                user.set_password(settings.DEMO_PASSWORD)
                user.is_staff = role == roles.ADMIN
                user.save()
            user.groups.add(groups[role])
        names = ", ".join(username for username, _ in DEMO_USERS)
        self.stdout.write(
            f"Demo users {names} (roles Viewer, Editor, Admin); password: {settings.DEMO_PASSWORD}"
        )
