"""The cluster test: the tracker as several machines run it, on this one machine.

    make cluster-test        (or: uv run python -m tests.cluster.run)

Debian's nginx balances two gunicorn web nodes (TLS on the balancer, as an ingress does), two
Celery workers and the beats share the real Redis (database 12), and every process reaches a
PostgreSQL cluster of the test's own, started here on its own port, through Debian's PgBouncer in
transaction mode. Each process runs the command its container runs in docker-compose.yml (with
only its address, name or file changed), after the migrate service's release step and the
Dockerfile's collectstatic; the compose healthchecks are run against them too. Then it checks,
and prints what it saw:

1. a login through the balancer holds on both nodes; a status change made through one node is
   seen through the other;
2. killing a web node mid-load loses no request the balancer could retry (GETs);
3. two beats started by mistake: each scheduled feed refresh and digest still runs once;
4. a worker killed (SIGKILL) mid feed refresh: the task is delivered again and finishes the run;
5. digests for 200 users sent by both workers at once to a real SMTP server: one message each;
6. PostgreSQL stopped and started under load: requests fail fast with 503, then recover alone.

All ports are free loopback ports picked at start; every process started is stopped at the end,
and the whole run is bounded (DEADLINE). Needs root or the postgres user for the PostgreSQL
cluster, nginx and pgbouncer on the PATH or in /usr/sbin (.ci/run installs them).
"""

import contextlib
import glob
import json
import math
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 290  # seconds for the whole run, setup and cleanup included
FEED_DELAY = 4.0  # seconds the feed server waits before each answer: a refresh lasts a while
BEAT_EVERY = 10  # seconds between the beats' runs of each entry during check 3
DIGEST_USERS = 200
PASSWORD = "cluster-test-passphrase-2024"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
REDIS_URL = "redis://127.0.0.1:6379/12"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def say(text: str = "") -> None:
    print(text, flush=True)


def wait_until(what: str, predicate: Callable[[], object], timeout: float, every: float = 0.2):
    """Poll until `predicate` returns something true (returned), or fail naming `what`."""
    give_up = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            value = predicate()
            if value:
                return value
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(every)


def sbin(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise SystemExit(f"{name} is not installed (apt-get install {name}); .ci/run installs it")
    return found


# Processes -------------------------------------------------------------------------------------


class Processes:
    """Every process the test starts, each in its own process group with its own log file."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.running[name] = process
        return process

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        process = self.running.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for name in list(self.running):
            self.kill(name, signal.SIGTERM)

    def log(self, name: str, since: int = 0) -> str:
        """The process's output (all its lives), from byte `since` on."""
        path = self.workdir / f"{name}.log"
        return path.read_bytes()[since:].decode(errors="replace") if path.exists() else ""

    def log_size(self, name: str) -> int:
        path = self.workdir / f"{name}.log"
        return path.stat().st_size if path.exists() else 0


def as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class Postgres:
    """A PostgreSQL cluster of the test's own, so stopping it disturbs no one else's tests."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.home = workdir / "postgres"
        self.home.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.home, "postgres", "postgres")
        self.data, self.port = self.home / "data", port
        subprocess.run(
            as_postgres(
                [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"]
                + ["--auth=trust", "--no-sync", "--encoding=UTF8"]
            ),
            check=True,
            capture_output=True,
        )

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.home} -c fsync=off"
        subprocess.run(
            as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.home / "log")]
                + ["-o", options, "-w", "-t", "30", *args]
            ),
            check=True,
            capture_output=True,
        )

    def psql(self, sql: str) -> None:
        subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
            + ["-d", "postgres", "-q", "-c", sql],
            check=True,
            capture_output=True,
        )


def write_pgbouncer_config(workdir: Path, port: int, postgres_port: int) -> list[str]:
    home = workdir / "pgbouncer"
    home.mkdir()
    (home / "users.txt").write_text('"postgres" ""\n')
    (home / "pgbouncer.ini").write_text(
        f"""[databases]
tracker_cluster = host=127.0.0.1 port={postgres_port} dbname=tracker_cluster user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {home}/users.txt
pool_mode = transaction
max_client_conn = 200
default_pool_size = 20
; Retry a PostgreSQL that went away after 1 s, not 15, and never queue a client for long:
; requests fail fast while the database is away and recover as soon as it is back.
server_login_retry = 1
server_connect_timeout = 3
query_wait_timeout = 10
ignore_startup_parameters = extra_float_digits
logfile = {home}/pgbouncer.log
"""
    )
    if os.geteuid() == 0:
        for path in [home, *home.iterdir()]:
            shutil.chown(path, "postgres", "postgres")
    return as_postgres([sbin("pgbouncer"), str(home / "pgbouncer.ini")])


def write_nginx_config(workdir: Path, port: int, web_ports: list[int]) -> list[str]:
    home = workdir / "nginx"
    home.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(home / "key.pem"), "-out", str(home / "cert.pem")],
        check=True,
        capture_output=True,
    )
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (home / temp).mkdir()
        (home / temp).chmod(0o777)  # nginx's workers run as nobody when started as root
    servers = "\n".join(
        f"    server 127.0.0.1:{web} max_fails=1 fail_timeout=10s;" for web in web_ports
    )
    (home / "nginx.conf").write_text(
        f"""daemon off;
worker_processes 1;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log {home}/access.log;
  client_body_temp_path {home}/body;
  proxy_temp_path {home}/proxy;
  fastcgi_temp_path {home}/fastcgi;
  uwsgi_temp_path {home}/uwsgi;
  scgi_temp_path {home}/scgi;
  # No keepalive to the nodes: gunicorn's sync workers close each connection after its
  # answer, and a reused one would count as a failure of its node.
  upstream tracker {{
{servers}
  }}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {home}/cert.pem;
    ssl_certificate_key {home}/key.pem;
    location / {{
      proxy_pass http://tracker;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Request-ID $request_id;
      # A node that refuses or drops the connection: nginx tries the other (idempotent
      # requests only, its default), and rests the failed one for 10 s.
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
      proxy_connect_timeout 2s;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""
    )
    return [sbin("nginx"), "-p", str(home), "-c", str(home / "nginx.conf")]


class SlowFeeds:
    """The demo's recorded feeds on loopback (tracker/demo/replay.py), each answer delayed, so a
    refresh is still running when a worker is killed or a second beat's copy arrives."""

    def __init__(self) -> None:
        from tracker.demo import replay

        recorded = replay._handler(replay.RECORDED_FEEDS.resolve())

        class Delayed(recorded):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                time.sleep(FEED_DELAY)
                # The worker killed in check 4 hangs up mid-answer.
                with contextlib.suppress(ConnectionError):
                    super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Delayed)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.urls = {
            "CONGRESS_API_BASE_URL": f"{base}/congress",
            "SENATE_VOTES_BASE_URL": f"{base}/senate",
            "HOUSE_VOTES_BASE_URL": f"{base}/house",
            "LEGISLATORS_URL": f"{base}/legislators/legislators-current.json",
        }
        self.server.congress_base = self.urls["CONGRESS_API_BASE_URL"]  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MailSink:
    """A real SMTP server (aiosmtpd) that keeps each message's recipients."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.recipients: list[str] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
                sink.recipients.extend(envelope.rcpt_tos)
                return "250 Message accepted"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


# The compose file's commands ---------------------------------------------------------------------


def compose_command(service: str) -> list[str]:
    return list(COMPOSE[service]["command"])


def healthcheck_argv(service: str, replacements: dict[str, str]) -> list[str]:
    """The service's compose healthcheck as argv, with `replacements` made in its text."""
    kind, *test = COMPOSE[service]["healthcheck"]["test"]
    if kind == "CMD-SHELL":
        test = ["sh", "-c", test[0].replace("$$", "$")]
    replaced = []
    for part in test:
        for old, new in replacements.items():
            part = part.replace(old, new)
        replaced.append(part)
    return replaced


def collectstatic_argv() -> list[str]:
    dockerfile = (ROOT / "Dockerfile").read_text()
    return shlex.split(re.search(r"(python manage\.py collectstatic[^\n&\\]*)", dockerfile)[1])


# The browser's side --------------------------------------------------------------------------


class Staff:
    """One person using the site through the balancer, with their cookies."""

    def __init__(self, cluster: "Cluster") -> None:
        self.cluster, self.base = cluster, cluster.base
        self.http = httpx.Client(base_url=self.base, verify=cluster.tls, timeout=15)

    def login(self, username: str) -> None:
        page = self.http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        response = self.http.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "login": username, "password": PASSWORD},
            headers={"Referer": f"{self.base}/accounts/login/"},
        )
        assert response.status_code == 302 and response.headers["location"] == "/", (
            f"login of {username} answered {response.status_code}"
        )

    def post(self, path: str, data: dict[str, object]) -> httpx.Response:
        return self.http.post(
            path,
            data=data,
            headers={
                "Referer": f"{self.base}{path}",
                "X-CSRFToken": self.http.cookies["__Host-csrftoken"],
            },
        )

    def twin(self) -> "Staff":
        """The same session on a connection of its own (for a thread)."""
        other = Staff(self.cluster)
        other.http.cookies = self.http.cookies
        return other


def upstream(response: httpx.Response) -> str:
    return response.headers.get("x-upstream", "?")


class Load:
    """A few threads requesting `path` as `staff` until stopped, recording every answer."""

    def __init__(self, staff: Staff, path: str, threads: int = 4) -> None:
        self.results: list[tuple[float, int, float, str]] = []  # (sent at, status, seconds, node)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(staff.twin(), path), daemon=True)
            for _ in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, staff: Staff, path: str) -> None:
        while not self._stop.is_set():
            sent = time.monotonic()
            try:
                response = staff.http.get(path)
                status, node = response.status_code, upstream(response)
            except httpx.HTTPError as error:
                status, node = 0, type(error).__name__
            self.results.append((sent, status, time.monotonic() - sent, node))

    def stop(self) -> list[tuple[float, int, float, str]]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.results


# The run -------------------------------------------------------------------------------------


class Cluster:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes = Processes(workdir)
        self.ports = {
            name: free_port() for name in ("postgres", "pgbouncer", "balancer", "web1", "web2")
        }
        self.base = f"https://127.0.0.1:{self.ports['balancer']}"
        self.mail = MailSink()
        self.postgres = Postgres(workdir, self.ports["postgres"])
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "SENTRY_DSN", "DATABASE_POOL", "DEBUG"}
        } | {
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "tests.cluster.settings",
            "CLUSTER_BEAT_EVERY": str(BEAT_EVERY),
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "TRUSTED_PROXY_COUNT": "1",
            "SITE_URL": self.base,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.ports['pgbouncer']}"
            "/tracker_cluster",
            "DATABASE_POOL": "pgbouncer",
            "REDIS_URL": REDIS_URL,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.mail.port),
            "STATIC_ROOT": str(workdir / "static"),
            "WEB_CONCURRENCY": "2",
            "CELERY_WORKER_CONCURRENCY": "2",
            "FEED_TOTAL_TIMEOUT": "60",
        }
        django_setup(self)
        self.feeds = SlowFeeds()
        self.env |= self.feeds.urls

    # Starting things

    def run_once(self, argv: list[str], what: str) -> None:
        result = subprocess.run(
            argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=180
        )
        if result.returncode:
            raise AssertionError(f"{what} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")

    def start_web(self, name: str) -> None:
        # Its own address, and its own control socket (two nodes share this machine).
        node_options = (
            f"--bind 127.0.0.1:{self.ports[name]} --control-socket {self.workdir}/{name}.ctl"
        )
        env = self.env | {"GUNICORN_CMD_ARGS": node_options}
        self.processes.start(name, compose_command("web"), env)
        wait_until(
            f"{name} to answer",
            lambda: httpx.get(f"http://127.0.0.1:{self.ports[name]}/healthz").status_code == 200,
            60,
        )

    def start_worker(self, name: str) -> None:
        since = self.processes.log_size(name)
        self.processes.start(
            name, compose_command("worker") + ["--hostname", f"celery@{name}"], self.env
        )
        wait_until(f"{name} to be ready", lambda: "ready" in self.processes.log(name, since), 60)

    def start_beat(self, name: str) -> None:
        command = compose_command("beat")
        command[command.index("--schedule") + 1] = str(self.workdir / f"{name}-schedule")
        self.processes.start(name, command, self.env)

    def healthcheck(self, service: str, node: str) -> subprocess.CompletedProcess[str]:
        replacements = {
            "web": {"127.0.0.1:8000": f"127.0.0.1:{self.ports.get(node, 0)}"},
            # The compose file's path, replaced by the test's own.
            "beat": {"/tmp/celerybeat-schedule": str(self.workdir / f"{node}-schedule")},  # noqa: S108
        }.get(service, {})
        return subprocess.run(
            healthcheck_argv(service, replacements),
            cwd=ROOT,
            env=self.env | {"HOSTNAME": node},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def up(self) -> None:
        started = time.monotonic()
        self.postgres.pg_ctl("start")
        self.postgres.psql("CREATE DATABASE tracker_cluster")
        self.processes.start(
            "pgbouncer",
            write_pgbouncer_config(self.workdir, self.ports["pgbouncer"], self.ports["postgres"]),
            self.env,
        )
        wait_until(
            "PgBouncer",
            lambda: socket.create_connection(("127.0.0.1", self.ports["pgbouncer"])),
            20,
        )
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        # What the containers run before serving: the image's collectstatic and the migrate
        # service's release step; then the demo negotiation, loaded by hand as on a real server.
        self.run_once(collectstatic_argv(), "collectstatic")
        self.run_once(compose_command("migrate"), "the release step")
        self.run_once([sys.executable, "manage.py", "load_demo"], "load_demo")
        for name in ("web1", "web2"):
            self.start_web(name)
        nginx = write_nginx_config(
            self.workdir, self.ports["balancer"], [self.ports["web1"], self.ports["web2"]]
        )
        self.processes.start("nginx", nginx, self.env)
        # The balancer's own certificate, trusted by the test's clients alone.
        self.tls = ssl.create_default_context(cafile=self.workdir / "nginx" / "cert.pem")
        wait_until(
            "the balancer",
            lambda: httpx.get(f"{self.base}/healthz", verify=self.tls).status_code == 200,
            20,
        )
        for name in ("worker1", "worker2"):
            self.start_worker(name)
        say(
            f"Up in {time.monotonic() - started:.1f} s: PostgreSQL {self.ports['postgres']}, "
            f"PgBouncer {self.ports['pgbouncer']}, nginx {self.base}, web "
            f"{self.ports['web1']} and {self.ports['web2']}, workers worker1 and worker2, "
            f"Redis db 12, SMTP {self.mail.port}; logs in {self.workdir}"
        )

    def down(self) -> None:
        self.processes.stop_all()
        with contextlib.suppress(Exception):
            self.postgres.pg_ctl("stop", "-m", "immediate")
        self.feeds.close()
        self.mail.close()
        with contextlib.suppress(Exception):
            import redis

            redis.Redis.from_url(REDIS_URL).flushdb()


def django_setup(cluster: Cluster) -> None:
    """This process reads and writes the test's database directly (not through PgBouncer)."""
    os.environ.update(
        cluster.env
        | {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{cluster.ports['postgres']}"
            "/tracker_cluster",
            "DATABASE_POOL": "",
            "DATABASE_CONN_MAX_AGE": "0",
            # The SMTP server's and the test's own lines stay out of the report.
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def make_staff(username: str, role: str) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username, f"{username}@cluster.test", PASSWORD)
    user.groups.add(Group.objects.get(name=role))


def make_digest_readers(prefix: str, count: int) -> list[str]:
    """`count` staff whose daily digest is due now (empty ones too), for a real SMTP server."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from tracker.models import DigestPreference

    User = get_user_model()
    names = [f"{prefix}{number:03d}" for number in range(1, count + 1)]
    users = User.objects.bulk_create(
        User(username=name, email=f"{name}@cluster.test", password="!") for name in names
    )
    DigestPreference.objects.bulk_create(
        DigestPreference(user=user, frequency="daily", hour=0, time_zone="UTC", send_empty=True)
        for user in users
    )
    # Subscribed days ago, so today's digest is theirs (a newcomer's first one is the next).
    DigestPreference.objects.filter(user__in=users).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    return [f"{name}@cluster.test" for name in names]


def task_lines(log: str, task: str, event: str) -> int:
    """How many of the worker's JSON lines say a `task` was `event` (received, succeeded)."""
    count = 0
    for line in log.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if task in record.get("message", "") and event in record.get("message", ""):
                count += 1
    return count


# The checks ----------------------------------------------------------------------------------


def check_login_and_status_change(cluster: Cluster) -> None:
    from tracker.models import Provision
    from tracker.models.provisions import PROVISION_TRANSITIONS

    make_staff("eddie", "Editor")
    eddie = Staff(cluster)
    eddie.login("eddie")
    pages = [eddie.http.get("/") for _ in range(6)]
    nodes = Counter(upstream(page) for page in pages)
    assert all(page.status_code == 200 for page in pages), [p.status_code for p in pages]
    assert len(nodes) == 2, nodes
    say(f"    logged in once; 6 dashboard loads, all 200, served by {dict(nodes)}")

    provision = next(
        p for p in Provision.objects.order_by("pk") if PROVISION_TRANSITIONS.get(p.status)
    )
    target = sorted(PROVISION_TRANSITIONS[provision.status])[0]
    changed = eddie.post(
        f"/provisions/{provision.pk}/status",
        {"status": target, "revision": provision.revision, "note": "cluster test"},
    )
    assert changed.status_code == 302, changed.status_code
    writer = upstream(changed)
    detail = wait_until(
        "a page from the other node",
        lambda: next(
            page
            for page in [eddie.http.get(f"/provisions/{provision.pk}/")]
            if upstream(page) != writer
        ),
        10,
    )
    shown = re.search(r'name="revision" value="(\d+)"', detail.text)[1]
    assert int(shown) == provision.revision + 1, (shown, provision.revision)
    say(
        f"    status of provision {provision.pk} changed {provision.status} -> {target} via "
        f"{writer}; {upstream(detail)} shows revision {shown} (was {provision.revision})"
    )


def check_web_node_killed_mid_load(cluster: Cluster) -> None:
    eddie = Staff(cluster)
    eddie.login("eddie")
    load = Load(eddie, "/provisions/")
    time.sleep(2)
    killed = f"127.0.0.1:{cluster.ports['web1']}"
    killed_at = time.monotonic()
    cluster.processes.kill("web1")
    time.sleep(4)
    results = load.stop()
    before = [r for r in results if r[0] < killed_at]
    after = [r for r in results if r[0] >= killed_at]
    failed = [r for r in results if r[1] != 200]
    # nginx names every node it tried: "killed, other" for a request it retried.
    retried = [r for r in results if "," in r[3]]
    served_by_killed = [r for r in after if r[3] == killed]
    say(
        f"    {len(before)} GETs before the kill, {len(after)} after; failed: {len(failed)}; "
        f"retried on the other node by nginx: {len(retried)}; answered by the killed node "
        f"after the kill: {len(served_by_killed)}; slowest {max(r[2] for r in results):.2f} s"
    )
    say(f"    before the kill, answers by node: {dict(Counter(r[3] for r in before))}")
    assert not failed, Counter(r[1] for r in failed)
    assert len({r[3].split(",")[0] for r in before}) == 2, "both nodes served before the kill"
    cluster.start_web("web1")


def check_worker_killed_mid_refresh(cluster: Cluster) -> None:
    from tracker.models import FeedRun

    eddie = Staff(cluster)
    eddie.login("eddie")
    queued = eddie.post("/feeds/members/refresh/", {})
    assert queued.status_code == 302, queued.status_code
    run = FeedRun.objects.filter(source="members", trigger="manual").latest("pk")
    wait_until(
        "the refresh to start", lambda: FeedRun.objects.get(pk=run.pk).status == "running", 30
    )
    holder = wait_until(
        "the worker that took it",
        lambda: next(
            name
            for name in ("worker1", "worker2")
            if task_lines(cluster.processes.log(name), "tracker.tasks.refresh_feed", "received")
        ),
        10,
    )
    survivor = "worker2" if holder == "worker1" else "worker1"
    cluster.processes.kill(holder)  # SIGKILL, the pool's processes with it
    killed_at = time.monotonic()
    say(f"    run {run.pk} running on {holder}: killed it with SIGKILL")
    try:
        _see_the_run_finish(cluster, run.pk, survivor, killed_at)
    finally:
        cluster.start_worker(holder)


def _see_the_run_finish(cluster: Cluster, run_pk: int, survivor: str, killed_at: float) -> None:
    from tracker.models import FeedRun, FeedRunStatus

    finished = wait_until(
        "the run to finish",
        lambda: (
            (found := FeedRun.objects.get(pk=run_pk)).status not in ("queued", "running") and found
        ),
        90,
        every=0.5,
    )
    runs = Counter(FeedRun.objects.filter(source="members").values_list("status", flat=True))
    done_by = task_lines(cluster.processes.log(survivor), "refresh_feed", "succeeded")
    say(
        f"    redelivered to {survivor} ({done_by} refresh succeeded there); run {run_pk} "
        f"{finished.status} {time.monotonic() - killed_at:.1f} s after the kill, "
        f"{finished.fetched} members read; member runs by status: {dict(runs)}"
    )
    assert finished.status == FeedRunStatus.SUCCEEDED, (finished.status, finished.message)
    assert not FeedRun.objects.filter(status=FeedRunStatus.RUNNING).exists()
    assert runs == {"succeeded": 1}, runs


def check_digests_from_both_workers(cluster: Cluster) -> None:
    from tracker import tasks
    from tracker.models import DigestDelivery

    addresses = make_digest_readers("reader", DIGEST_USERS)
    sent_before = {
        name: task_lines(cluster.processes.log(name), "send_digest", "succeeded")
        for name in ("worker1", "worker2")
    }
    # As two beats would: the due digests are queued twice, and both workers take them.
    for _ in range(2):
        tasks.send_due_digests.delay()
    wait_until(
        f"{DIGEST_USERS} digests sent",
        lambda: (
            sum(address in addresses for address in cluster.mail.recipients) >= DIGEST_USERS
            and not DigestDelivery.objects.filter(status__in=["pending", "sending"]).exists()
        ),
        150,
        every=1,
    )
    time.sleep(2)  # any duplicate would arrive now
    per_user = Counter(a for a in cluster.mail.recipients if a in addresses)
    by_worker = {
        name: task_lines(cluster.processes.log(name), "send_digest", "succeeded") - before
        for name, before in sent_before.items()
    }
    say(
        f"    {DIGEST_USERS} users due; send_due_digests queued twice; send_digest tasks done "
        f"per worker {by_worker}; messages at the SMTP server: {sum(per_user.values())} for "
        f"{len(per_user)} users, most to one user {max(per_user.values())}"
    )
    assert len(per_user) == DIGEST_USERS and set(per_user.values()) == {1}
    assert all(by_worker.values()), "both workers sent digests"


def check_two_beats(cluster: Cluster) -> None:
    from tracker.models import FeedRun

    addresses = make_digest_readers("beatreader", 20)
    first_run = FeedRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for name in ("beat1", "beat2"):
        cluster.start_beat(name)
    wait_until(
        "both beats to start",
        lambda: all("beat: Starting" in cluster.processes.log(n) for n in ("beat1", "beat2")),
        30,
    )
    # Two of the beats' slots, each refresh given time to finish.
    now = time.time()
    time.sleep(math.ceil(now / BEAT_EVERY) * BEAT_EVERY - now + 2 * BEAT_EVERY - 1)
    beats_ok = {
        name: cluster.healthcheck("beat", name).returncode == 0 for name in ("beat1", "beat2")
    }
    for name in ("beat1", "beat2"):
        cluster.processes.kill(name, signal.SIGTERM)
    wait_until(
        "the scheduled refreshes to finish",
        lambda: (
            not FeedRun.objects.filter(pk__gt=first_run, status__in=["queued", "running"]).exists()
        ),
        60,
        every=0.5,
    )
    time.sleep(2)
    sends = {
        name: cluster.processes.log(name).count("Sending due task refresh-members")
        for name in ("beat1", "beat2")
    }
    slots: dict[int, list[str]] = {}
    for run in FeedRun.objects.filter(pk__gt=first_run, source="members").order_by("pk"):
        slots.setdefault(int(run.queued_at.timestamp() // BEAT_EVERY), []).append(run.status)
    per_user = Counter(a for a in cluster.mail.recipients if a in addresses)
    say(f"    refresh-members sent by beat1 {sends['beat1']}x, by beat2 {sends['beat2']}x")
    for slot, statuses in sorted(slots.items()):
        at = datetime.fromtimestamp(slot * BEAT_EVERY, UTC).strftime("%H:%M:%SZ")
        say(f"    the {at} refresh: runs {statuses}")
    say(
        f"    digests: 20 users due, {sum(per_user.values())} messages to {len(per_user)} of "
        f"them; beat healthchecks {beats_ok}"
    )
    assert sends["beat1"] and sends["beat2"], "both beats sent the refresh"
    for statuses in slots.values():
        assert len([s for s in statuses if s != "skipped"]) == 1, statuses
    assert len(per_user) == 20 and set(per_user.values()) == {1}, per_user
    assert all(beats_ok.values()), beats_ok


def check_postgres_restart(cluster: Cluster) -> None:
    from django.db import connection

    eddie = Staff(cluster)
    eddie.login("eddie")
    connection.close()
    load = Load(eddie, "/provisions/", threads=3)
    time.sleep(2)
    stopped_at = time.monotonic()
    cluster.postgres.pg_ctl("stop", "-m", "fast")
    time.sleep(5)
    cluster.postgres.pg_ctl("start")
    back_at = time.monotonic()
    wait_until(
        "pages to come back",
        lambda: any(r[1] == 200 and r[0] > back_at for r in load.results),
        60,
    )
    time.sleep(2)
    results = load.stop()
    during = [r for r in results if stopped_at <= r[0] < back_at]
    first_ok = min(r[0] + r[2] for r in results if r[1] == 200 and r[0] > back_at)
    statuses = Counter(r[1] for r in results)
    unavailable = [r for r in results if r[1] == 503]
    say(
        f"    {len(results)} GETs; by status {dict(statuses)}; while PostgreSQL was down "
        f"({back_at - stopped_at:.1f} s): {len(during)} requests, slowest 503 "
        f"{max((r[2] for r in unavailable), default=0):.2f} s; first 200 "
        f"{first_ok - back_at:.1f} s after PostgreSQL was back"
    )
    assert set(statuses) <= {200, 503}, statuses
    assert unavailable, "the outage was seen"


def check_logs(cluster: Cluster) -> None:
    counts = {}
    for name in ("web1", "web2", "worker1", "worker2", "beat1"):
        lines = [line for line in cluster.processes.log(name).splitlines() if line.strip()]
        records = []
        for line in lines:
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
        counts[name] = (len(records), len(lines))
        assert all(record["time"].endswith("Z") for record in records)
    web = [
        json.loads(line)
        for line in cluster.processes.log("web2").splitlines()
        if '"request_id"' in line
    ]
    worker = [
        json.loads(line)
        for line in cluster.processes.log("worker2").splitlines()
        if '"task_id"' in line
    ]
    assert web and worker, "lines naming a request and a task"
    say(
        "    JSON lines / all lines: "
        + ", ".join(
            f"{name} {json_lines}/{all_lines}" for name, (json_lines, all_lines) in counts.items()
        )
    )
    say(f"    e.g. web: {json.dumps(web[-1])[:300]}")
    say(f"    e.g. worker: {json.dumps(worker[-1])[:300]}")
    assert any("user_id" in line for line in web)


def check_healthchecks(cluster: Cluster) -> None:
    results = {
        node: cluster.healthcheck(service, node).returncode
        for service, node in (
            ("web", "web1"),
            ("web", "web2"),
            ("worker", "worker1"),
            ("worker", "worker2"),
        )
    }
    say(f"    compose healthchecks (0 = healthy): {results}")
    assert set(results.values()) == {0}, results


CHECKS = [
    ("compose healthchecks of web and workers", check_healthchecks),
    (
        "1. a login holds on both nodes; a change through one is seen through the other",
        check_login_and_status_change,
    ),
    ("2. a web node killed mid-load: no retryable request lost", check_web_node_killed_mid_load),
    (
        "4. a worker killed mid feed refresh: the task is redelivered and finishes the run",
        check_worker_killed_mid_refresh,
    ),
    (
        "5. digests for 200 users from both workers: one message each",
        check_digests_from_both_workers,
    ),
    ("3. two beats by mistake: each scheduled refresh and digest runs once", check_two_beats),
    (
        "6. PostgreSQL restarted under load: fast 503s, then recovery on its own",
        check_postgres_restart,
    ),
    ("logs: JSON lines in UTC with request, user and task ids", check_logs),
]


def main() -> int:
    def out_of_time(signum: int, frame: object) -> None:
        raise TimeoutError(f"the cluster test ran past its {DEADLINE} s deadline")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    signal.alarm(DEADLINE)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="tracker-cluster-"))
    workdir.chmod(0o755)
    cluster = Cluster(workdir)
    passed = failed = 0
    try:
        cluster.up()
        for title, check in CHECKS:
            say(f"\n{title}")
            check_started = time.monotonic()
            try:
                check(cluster)
            except Exception as error:  # one check failing never keeps the others from running
                failed += 1
                say(f"    FAILED: {error!r}")
            else:
                passed += 1
                say(f"    ok ({time.monotonic() - check_started:.1f} s)")
    except BaseException as error:
        failed += 1
        say(f"\nThe cluster test stopped: {error!r}")
        for name in ("web1", "web2", "worker1", "worker2", "beat1", "pgbouncer", "nginx"):
            tail = "\n".join(cluster.processes.log(name).splitlines()[-15:])
            if tail:
                say(f"--- {name}.log (last lines)\n{tail}")
    finally:
        signal.alarm(0)
        cluster.down()
        if failed == 0 and not os.environ.get("CLUSTER_KEEP_LOGS"):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"\nLogs kept in {workdir}")
    say(f"\nThe cluster test took {time.monotonic() - started:.0f} s.")
    say(f"cluster: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
