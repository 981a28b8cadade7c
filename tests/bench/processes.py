"""What the benchmarks that start servers share: a free loopback port, and the CPU time a
server's children (gunicorn's or a Celery worker's processes) spent, read from /proc so that
other processes on a shared machine hardly change it."""

import os
import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_cpu_seconds(parent: int) -> float:
    """User and system CPU time of `parent`'s children so far."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == parent:  # ppid; utime and stime are fields 14 and 15 of stat
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
