"""A Redis that is down or hung, and Celery pointed at one: for the tests and the broker bench,
which check that no page waits on the task queue."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class HungRedis:
    """A loopback server that accepts connections and never answers nor closes them, as a hung
    Redis does: connecting succeeds, and every reply is waited for in vain."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)  # so the accepting thread notices when to stop
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/12"
        self.connections: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                self.connections.append(self.listener.accept()[0])
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stopping.set()
        self._thread.join()
        for held in self.connections:
            held.close()
        self.listener.close()


@contextmanager
def celery_on_redis(url: str | None) -> Iterator[None]:
    """Point Celery's broker and result store at `url` as REDIS_URL does; None means eager."""
    from tracker.celery import app

    def forget_connections() -> None:  # both are rebuilt from the URLs on their next use
        app._pool, app.amqp._producer_pool = None, None
        app._local, app._backend_cache = threading.local(), None

    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "result_backend")}
    if url:
        app.conf.update(task_always_eager=False, broker_url=url, result_backend=url)
    else:
        app.conf.update(task_always_eager=True, broker_url="memory://", result_backend=None)
    forget_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        forget_connections()
