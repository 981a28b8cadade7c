import os
import shutil
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from tests.factories import make_user
from tests.pages import ARTIFACTS
from tracker import roles
from tracker.celery import app as celery_app
from tracker.page_cache import FRAGMENTS

# Persistent connections from the live server's threads would keep the test database open at
# teardown; tests open a connection per request instead.
settings.DATABASES["default"]["CONN_MAX_AGE"] = 0

# CI sets this so that tests needing Redis or Chromium fail loudly instead of skipping.
REQUIRE_SERVICES = os.environ.get("TRACKER_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = {
        "redis": None if settings.REDIS_URL else "REDIS_URL is not set",
        "browser": None if shutil.which("chromium") else "Debian's chromium is not installed",
        "postgres": None
        if settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
        else "DATABASE_URL is not PostgreSQL",
    }
    for item in items:
        for marker, reason in missing.items():
            if reason and item.get_closest_marker(marker):
                if REQUIRE_SERVICES:
                    raise pytest.UsageError(f"{item.nodeid} needs {marker}: {reason}")
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def _no_stray_sessions_at_teardown(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Before the test database is dropped, end any session a finished worker or server thread
    left open, so the drop does not fail with "being accessed by other users"."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fragments_forgotten() -> Iterator[None]:
    """Each test starts with no kept page fragments: the database is rolled back between
    tests (and SQLite reuses ids), so a fragment kept by one could match the next's stamp."""
    caches[FRAGMENTS].clear()
    yield
    if FRAGMENTS in settings.CACHES:  # a test may have replaced the caches for its own run
        caches[FRAGMENTS].clear()


@pytest.fixture(autouse=True)
def _celery_in_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tasks run in the test's own process, as in the demo, except in tests that exercise the
    real broker (marked `redis`); otherwise a task queued in CI would wait for a worker."""
    if request.node.get_closest_marker("redis") is None:
        monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def groups(db: None) -> dict:
    return roles.ensure_roles()


@pytest.fixture
def viewer(groups: dict):
    return make_user("vera", role=roles.VIEWER)


@pytest.fixture
def editor(groups: dict):
    return make_user("eddie", role=roles.EDITOR)


@pytest.fixture
def admin_user(groups: dict):
    return make_user("ada", role=roles.ADMIN)


@pytest.fixture
def demo(db: None):
    """The real 2023-24 negotiation, loaded from the project's fixture."""
    from tracker.demo import load_demo

    negotiation, _ = load_demo()
    return negotiation


@pytest.fixture
def demo_targets(demo) -> tuple:
    """The demo's two whip boards: the Feb 7, 2024 cloture vote and the Apr 23 concurrence."""
    from tracker.models import VoteTarget

    cloture, concur = VoteTarget.objects.filter(negotiation=demo).order_by("expected_on")
    return cloture, concur


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """Debian's Chromium, driven by Playwright, headless and off the network."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # here are not inside it, and the live server's are in its own thread, so Django's
    # async-safety guard does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
