"""The page benchmark's settings: the tracker's own (tracker/settings.py, from the environment
the benchmark sets), serving one more page, a trivial one (tests/bench/urls.py).

/healthz is answered by a middleware before the session and authentication ones, so it would
measure less than any page does; the trivial page goes through every middleware and the login
check a page goes through, and does nothing else. It exists only under these settings.
"""

from tracker.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls"
