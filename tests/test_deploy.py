"""Deploying: the Docker stack, the Kubernetes base and the connection settings, checked offline.

There is no Docker engine and no Kubernetes cluster on the development machines: docker-compose.yml
is checked against the Compose specification's schema and the manifests against Kubernetes'
own, and the commands they run are run for real here and by the cluster test
(tests/cluster/run.py, `make cluster-test`).
"""

import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "tracker" / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "tracker.example.org",
}


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with Django set up from `env` (and nothing of ours)."""
    ours = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "SENTRY_DSN", "DATABASE_POOL"}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k not in ours}
        | {"DJANGO_SETTINGS_MODULE": "tracker.settings"}
        | env,
    )


def _setting(expression: str, env: dict[str, str]) -> str:
    result = _python(f"from django.conf import settings; print(repr({expression}))", env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# docker compose -------------------------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
        + ["docker-compose.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_web_worker_and_beat_start_once_the_migrate_service_has_finished() -> None:
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert SERVICES["migrate"]["command"] == ["python", "-m", "tracker.deploy.release"]
    assert "migrate" not in " ".join(SERVICES["web"]["command"])


def test_the_app_is_one_image_built_once() -> None:
    images = {SERVICES[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    assert [name for name, service in SERVICES.items() if "build" in service] == ["migrate"]


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in SERVICES.items():
        if name != "migrate":  # a one-shot: its exit code is its health
            assert service["healthcheck"]["test"], name


def test_no_image_floats_on_latest() -> None:
    dockerfile_images = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    compose_images = [s["image"] for n, s in SERVICES.items() if n not in APP_SERVICES]
    for image in dockerfile_images + compose_images:
        name, _, tag = image.partition(":")
        assert re.fullmatch(r"v?\d+(\.\d+)+(-[\w.-]+)?", tag), image


def test_a_deploy_that_forgets_its_key_does_not_start_on_the_compose_default() -> None:
    default = re.fullmatch(r"\$\{SECRET_KEY:-(.*)\}", COMPOSE["x-app"]["environment"]["SECRET_KEY"])
    assert default is not None
    result = _python("", PRODUCTION_ENV | {"SECRET_KEY": default.group(1)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_an_empty_key_in_a_try_out_falls_back_to_the_demo_key() -> None:
    assert _setting("settings.SECRET_KEY", {"DEBUG": "true", "SECRET_KEY": ""}) == repr(
        "django-insecure-local-demo-key-never-use-in-production"
    )


def test_secrets_and_local_state_never_reach_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", "var", ".git", "test-artifacts"} <= ignored


def test_uv_is_pinned_and_stays_out_of_the_image_with_its_cache() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    build_stage, final_stage = dockerfile.rsplit("\nFROM ", 1)
    assert re.search(r"pip install --no-cache-dir uv==\d+\.\d+\.\d+", build_stage)
    assert "UV_NO_CACHE=1" in build_stage
    assert "uv" not in re.sub(r"#.*", "", final_stage).replace("/opt/venv", "").split()


def test_gunicorn_replaces_workers_now_and_then_at_different_moments() -> None:
    config = runpy.run_path(str(ROOT / "tracker" / "deploy" / "gunicorn.conf.py"))
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0
    command = ["gunicorn", "--config", "tracker/deploy/gunicorn.conf.py", "tracker.wsgi"]
    assert SERVICES["web"]["command"] == command
    assert "CMD " + json.dumps(command) in (ROOT / "Dockerfile").read_text()


def _compose_defaults() -> dict[str, str]:
    """The app containers' environment with an empty .env, less the compose network's hosts."""
    environment = COMPOSE["x-app"]["environment"]
    resolved = {
        name: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
        for name, value in environment.items()
    }
    return {
        k: v for k, v in resolved.items() if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_HOST"}
    }


def _start_containers_on_a_fresh_database(tmp_path: Path, env: dict[str, str]) -> None:
    """Run the migrate service's command, as `docker compose up` does before anything else."""
    release = subprocess.run(
        SERVICES["migrate"]["command"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        | env
        | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    assert release.returncode == 0, release.stderr


def _log_in(username: str, password: str, env: dict[str, str], create: bool = False) -> list[str]:
    """Log in through the real login page; the status, where it sends you, the negotiations."""
    result = _python(
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client\n"
        "from tracker.models import Negotiation\n"
        + (
            f"get_user_model().objects.create_user({username!r}, 'x@example.com', {password!r})\n"
            if create
            else ""
        )
        + "client = Client(raise_request_exception=False)\n"
        f"response = client.post('/accounts/login/', {{'login': {username!r},"
        f" 'password': {password!r}}}, HTTP_HOST='localhost')\n"
        "print(response.status_code, response.get('Location'), Negotiation.objects.count())\n",
        env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_new_user_of_the_compose_stack_logs_in_as_a_demo_user(tmp_path: Path) -> None:
    """`docker compose up` with an empty .env: the demo is loaded and its users can log in."""
    env = _compose_defaults() | {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    _start_containers_on_a_fresh_database(tmp_path, env)
    status, location, negotiations = _log_in("viewer", "negotiate-2024", env)
    assert (status, location) == ("302", "/")
    assert negotiations == "1"


def test_outside_demo_mode_the_stack_starts_empty_and_staff_log_in(tmp_path: Path) -> None:
    """The migrate service on a fresh database without the demo: the cache table that holds
    lockouts exists, so logging in works, and no demo negotiation is loaded."""
    env = _compose_defaults() | {
        "DEMO_MODE": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
    }
    _start_containers_on_a_fresh_database(tmp_path, env)
    assert _log_in("vera", "a-long-passphrase", env, create=True) == ["302", "/", "0"]


# Connections ----------------------------------------------------------------------------------

POSTGRES = {"DATABASE_URL": "postgres://tracker@db.example.org:5432/tracker"}


def test_django_s_psycopg_pool_lends_each_process_a_few_connections() -> None:
    env = PRODUCTION_ENV | POSTGRES | {"DATABASE_POOL": "psycopg"}
    assert _setting("settings.DATABASES['default']['OPTIONS']['pool']", env) == repr(
        {"min_size": 1, "max_size": 4, "timeout": 5}
    )
    assert _setting("settings.DATABASES['default']['CONN_MAX_AGE']", env) == "0"


def test_behind_pgbouncer_no_connection_is_kept_and_no_cursor_outlives_its_transaction() -> None:
    env = PRODUCTION_ENV | POSTGRES | {"DATABASE_POOL": "pgbouncer"}
    database = "settings.DATABASES['default']"
    assert _setting(f"{database}['DISABLE_SERVER_SIDE_CURSORS']", env) == "True"
    assert _setting(f"{database}['CONN_MAX_AGE']", env) == "0"
    assert _setting(f"'pool' in {database}['OPTIONS']", env) == "False"


def test_an_unknown_pool_is_a_clear_error() -> None:
    result = _python("", PRODUCTION_ENV | POSTGRES | {"DATABASE_POOL": "pgpool"})
    assert "DATABASE_POOL must be psycopg or pgbouncer, not 'pgpool'" in result.stderr


@pytest.mark.postgres
def test_the_psycopg_pool_serves_queries_on_postgresql() -> None:
    result = _python(
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT 1')\n"
        "    print(cursor.fetchone()[0], connection.pool.max_size)\n",
        {"DATABASE_URL": os.environ["DATABASE_URL"], "DATABASE_POOL": "psycopg"},
    )
    assert result.stdout.split() == ["1", "4"], result.stderr


# Kubernetes -----------------------------------------------------------------------------------


def _kustomization() -> dict:
    return yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())


def _resources() -> list[dict]:
    return [
        document
        for name in _kustomization()["resources"]
        for document in yaml.safe_load_all((KUBERNETES / name).read_text())
    ]


def _one(kind: str, name: str) -> dict:
    (resource,) = [r for r in _resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    return resource


def _pod(kind: str, name: str) -> dict:
    return _one(kind, name)["spec"]["template"]["spec"]


def _containers(pod: dict) -> list[dict]:
    return pod.get("initContainers", []) + pod["containers"]


WORKLOADS = [
    ("Job", "tracker-migrate"),
    ("Deployment", "tracker-web"),
    ("Deployment", "tracker-worker"),
    ("Deployment", "tracker-beat"),
]


def test_the_base_lists_every_manifest_in_its_folder() -> None:
    listed = set(_kustomization()["resources"])
    on_disk = {path.name for path in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def test_every_manifest_is_valid_kubernetes() -> None:
    for resource in _resources():
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_pods_run_the_commands_compose_runs() -> None:
    for (kind, name), service in zip(WORKLOADS, APP_SERVICES, strict=True):
        (container,) = _pod(kind, name)["containers"]
        assert container["command"] == SERVICES[service]["command"], name


def test_migrations_run_once_in_a_job_and_the_pods_wait_for_them() -> None:
    job = _one("Job", "tracker-migrate")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    for kind, name in WORKLOADS[1:]:
        (wait,) = _pod(kind, name)["initContainers"]
        assert "manage.py migrate --check" in wait["command"][-1]


def test_web_is_probed_on_healthz_and_readyz_and_scaled_by_load() -> None:
    (web,) = _pod("Deployment", "tracker-web")["containers"]
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    autoscaler = _one("HorizontalPodAutoscaler", "tracker-web")
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "tracker-web"
    assert autoscaler["spec"]["minReplicas"] >= 2


def test_there_is_exactly_one_beat_and_a_rollout_never_runs_two() -> None:
    beat = _one("Deployment", "tracker-beat")["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"] == {"type": "Recreate"}


def test_disruption_budgets_keep_web_and_workers_serving() -> None:
    for name in ("tracker-web", "tracker-worker"):
        budget = _one("PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"]
        pods = _one("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert budget.items() <= pods.items()


def test_secrets_are_files_the_settings_read_through_name_file() -> None:
    for kind, name in WORKLOADS:
        pod = _pod(kind, name)
        secret_volumes = {v["name"] for v in pod["volumes"] if "secret" in v}
        for container in _containers(pod):
            mounts = [
                m["mountPath"] for m in container["volumeMounts"] if m["name"] in secret_volumes
            ]
            files = {e["name"]: e["value"] for e in container["env"] if e["name"].endswith("_FILE")}
            assert set(files) == {"SECRET_KEY_FILE", "DATABASE_URL_FILE", "REDIS_URL_FILE"}
            assert all(path.rsplit("/", 1)[0] in mounts for path in files.values())
            assert not [e for e in container["env"] if "value" in e and "_FILE" not in e["name"]]


def test_the_ingress_sends_https_traffic_to_the_web_service() -> None:
    ingress = _one("Ingress", "tracker")["spec"]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = _one("Service", backend["name"])
    assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    assert ingress["tls"][0]["hosts"] == [ingress["rules"][0]["host"]]


# Setup on a fresh machine -------------------------------------------------------------------


def test_uv_is_bootstrapped_into_a_venv_of_its_own_even_where_python_is_externally_managed():
    """`pip install --user` is refused on PEP 668 Pythons (Debian 12, recent Ubuntu, Homebrew);
    a venv's own pip is not. The same pinned uv as the image's."""
    makefile = (ROOT / "Makefile").read_text()
    assert "--user" not in makefile
    assert "-m venv .venv-bootstrap" in makefile
    pinned = re.search(r"^UV_VERSION := (\S+)$", makefile, re.M)[1]
    assert f"uv=={pinned}" in (ROOT / "Dockerfile").read_text()
