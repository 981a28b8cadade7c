"""Settings come from the environment and refuse an unsafe production configuration."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "tracker.example.org",
    "DATABASE_URL": "postgres://tracker@db.example.org:5432/tracker",
    "REDIS_URL": "redis://redis.example.org:6379/0",
    "EMAIL_HOST": "smtp.example.org",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_the_deploy_checklist_passes_with_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout


def test_the_deploy_checklist_flags_debug_left_on() -> None:
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV | {"DEBUG": "true"}
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stderr + result.stdout


def test_a_malformed_boolean_is_a_clear_error() -> None:
    result = _manage("check", env={"DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'perhaps'" in result.stderr


def test_without_redis_url_celery_runs_tasks_in_process() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup();"
            "from django.conf import settings; from tracker.tasks import ping;"
            "print(settings.CELERY_TASK_ALWAYS_EAGER, ping.delay('hello').get(timeout=5))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        | {"DJANGO_SETTINGS_MODULE": "tracker.settings"},
    )
    assert result.stdout.split() == ["True", "hello"], result.stderr


def _settings(*names: str, env: dict[str, str]) -> list[str]:
    """The named settings' reprs, as settings.py computes them from `env`."""
    printed = ", ".join(f"repr(settings.{name})" for name in names)
    code = f"from django.conf import settings; print({printed}, sep='\\n')"
    result = _manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_production_cookies_carry_the_host_prefix() -> None:
    assert _settings("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", env=PRODUCTION_ENV) == [
        "'__Host-sessionid'",
        "'__Host-csrftoken'",
    ]
    # Over plain HTTP (the local demo) browsers would refuse __Host- cookies.
    local = _settings("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", env={"DEBUG": "true"})
    assert local == ["'sessionid'", "'csrftoken'"]


def test_forwarded_headers_count_only_behind_a_trusted_proxy() -> None:
    names = ("SECURE_PROXY_SSL_HEADER", "ALLAUTH_TRUSTED_PROXY_COUNT")
    assert _settings(*names, env=PRODUCTION_ENV) == ["None", "0"]
    behind_one = _settings(*names, env=PRODUCTION_ENV | {"TRUSTED_PROXY_COUNT": "1"})
    assert behind_one == ["('HTTP_X_FORWARDED_PROTO', 'https')", "1"]


def test_sessions_last_two_hours_idle_and_twelve_in_all_unless_configured() -> None:
    names = ("SESSION_IDLE_TIMEOUT", "SESSION_MAX_AGE", "SESSION_COOKIE_AGE")
    assert _settings(*names, env=PRODUCTION_ENV) == ["7200", "43200", "43200"]
    shorter = {"SESSION_IDLE_TIMEOUT": "900", "SESSION_MAX_AGE": "28800"}
    assert _settings(*names, env=PRODUCTION_ENV | shorter) == ["900", "28800", "28800"]
