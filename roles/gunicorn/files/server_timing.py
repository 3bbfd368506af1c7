"""The server's own clock: how long each request spent inside the app, and how much CPU it took.

``ServerTiming`` wraps a WSGI app, ``ServerTimingASGI`` an ASGI app. Every response carries a standard
``Server-Timing`` header,
``app;dur=301.2, cpu;dur=298.7`` (milliseconds: wall time inside the app, and the CPU time of the thread that served
it: ``time.thread_time()``; under gevent and eventlet every greenlet of a worker runs on one thread, so it is that
loop's CPU while the request was in the app). A request that carries the probe marker header (``X-Bench-Probe: NAME``,
sent by the harness's probes only) also writes one line to stderr, i.e. the unit's journal::

    bench-timing {"probe": NAME, "arrived": EPOCH, "left": EPOCH, "cpu_s": ..., "pid": ..., "unit_cpu_in_s": ...,
                  "unit_cpu_out_s": ...}

``unit_cpu_in_s`` and ``unit_cpu_out_s`` are the CPU consumed so far by the whole service (its cgroup: cgroup v2
``cpu.stat`` usage_usec, or v1 ``cpuacct.usage``) when the request reached the app and when it left: over a burst,
the last departure's reading minus the first arrival's is what the service (master and workers) spent on it.
Requests without the marker pay two clock reads and one header; nothing is written.

Every response also carries ``X-Bench-Worker: PID RELEASE``: the worker process that served it, and the release of
the app that process loaded (bench_entry.py reads it when the app is loaded: in each worker, or once in the master
with preload_app). A run with an operation (a reload, a restart) tells old code from new by it.

Standard library only: the gunicorn role installs it beside bench_entry.py, which wraps every app in it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable

MARKER_ENVIRON = "HTTP_X_BENCH_PROBE"  # the WSGI name of the X-Bench-Probe header
MARKER_HEADER = b"x-bench-probe"  # its ASGI name (lower case, bytes)
LOG_PREFIX = "bench-timing "
WORKER_HEADER = "X-Bench-Worker"  # "PID RELEASE": who served a request, and the release of the app it had loaded


def server_timing_header(dur_s: float, cpu_s: float) -> str:
    return f"app;dur={dur_s * 1000:.1f}, cpu;dur={cpu_s * 1000:.1f}"


def parse_cpu_stat(text: str) -> float:
    """CPU seconds from a cgroup v2 ``cpu.stat`` (its usage_usec line)."""
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return int(value) / 1e6
    raise ValueError("cpu.stat has no usage_usec line")


def parse_cpuacct_usage(text: str) -> float:
    """CPU seconds from a cgroup v1 ``cpuacct.usage`` (nanoseconds)."""
    return int(text.strip()) / 1e9


def cgroup_cpu_file(proc_cgroup: str, mountinfo: str) -> tuple[str, Callable[[str], float]] | None:
    """Where this process's cgroup accounts its CPU, and how to read it, from /proc/self/cgroup and
    /proc/self/mountinfo: cgroup v2's ``cpu.stat`` when this process has a cgroup there (v2 alone, or the unified
    hierarchy of a hybrid setup: the kernel keeps usage_usec for every v2 cgroup, with or without the cpu
    controller), else v1's ``cpuacct.usage``. A cgroup that is the hierarchy's root is the whole machine (seen in a
    systemd-nspawn container, whose v1 hierarchies it cannot divide): it is not used. None when nothing fits."""
    paths: dict[str, str] = {}  # controller ("" for v2) -> cgroup path
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            paths[c] = path
    mounts: dict[str, tuple[str, str]] = {}  # controller ("" for v2) -> (mount point, root of the hierarchy shown)
    for line in mountinfo.splitlines():
        fields = line.split()
        sep = fields.index("-")
        fstype, options = fields[sep + 1], fields[sep + 3].split(",")
        if fstype == "cgroup2":
            mounts.setdefault("", (fields[4], fields[3]))
        elif fstype == "cgroup":
            for c in options:
                mounts.setdefault(c, (fields[4], fields[3]))
    for key, name, parse in (("", "cpu.stat", parse_cpu_stat), ("cpuacct", "cpuacct.usage", parse_cpuacct_usage)):
        if key not in paths or key not in mounts or paths[key] in ("", "/"):
            continue
        mount_point, root = mounts[key]
        rel = os.path.relpath(paths[key], root) if paths[key].startswith(root) else paths[key].lstrip("/")
        return os.path.normpath(os.path.join(mount_point, rel, name)), parse
    return None


def _read(path: str) -> str:
    with open(path, encoding="ascii") as fh:
        return fh.read()


def find_cgroup_cpu() -> Callable[[], float | None]:
    """A reader of this service's cgroup CPU seconds (None where it cannot be read)."""
    try:
        found = cgroup_cpu_file(_read("/proc/self/cgroup"), _read("/proc/self/mountinfo"))
        if found is not None:
            path, parse = found
            parse(_read(path))  # readable now, or not at all
            return lambda: parse(_read(path))
    except (OSError, ValueError, IndexError):
        pass
    return lambda: None


class _Timing:
    """What the WSGI and the ASGI middleware share: the probe's clocks and its log line."""

    def __init__(
        self, app: Callable, stream=None, cgroup_cpu: Callable[[], float | None] | None = None, release: str = "0"
    ):
        self.app = app
        self.stream = stream
        self.cgroup_cpu = cgroup_cpu
        self.release = release

    def _worker(self) -> str:
        """This process and the app's release (the pid asked each time: with preload_app the middleware is made in
        the master, and every worker is a fork of it)."""
        return f"{os.getpid()} {self.release}"

    def _arrive(self, probe: str | None) -> tuple:
        if probe is not None and self.cgroup_cpu is None:  # found once, in the worker that serves probes
            self.cgroup_cpu = find_cgroup_cpu()
        unit_in = self.cgroup_cpu() if probe is not None else None
        return time.time(), time.perf_counter(), time.thread_time(), unit_in

    @staticmethod
    def _header(started: float, cpu_started: float) -> str:
        return server_timing_header(time.perf_counter() - started, time.thread_time() - cpu_started)

    def _leave(self, probe: str, arrived: float, cpu_started: float, unit_in: float | None) -> None:
        cpu, left = time.thread_time() - cpu_started, time.time()
        line = {
            "probe": probe[:200],
            "arrived": round(arrived, 6),
            "left": round(left, 6),
            "cpu_s": round(cpu, 6),
            "pid": os.getpid(),
            "unit_cpu_in_s": unit_in,
            "unit_cpu_out_s": self.cgroup_cpu(),
        }
        stream = self.stream or sys.stderr
        stream.write(LOG_PREFIX + json.dumps(line, separators=(",", ":")) + "\n")
        stream.flush()


class ServerTiming(_Timing):
    """WSGI middleware: the Server-Timing header on every response, a log line for marked probe requests."""

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        probe = environ.get(MARKER_ENVIRON)
        arrived, started, cpu_started, unit_in = self._arrive(probe)

        def timed_start_response(status: str, headers: list, exc_info=None):
            timing = ("Server-Timing", self._header(started, cpu_started))
            return start_response(status, [*headers, timing, (WORKER_HEADER, self._worker())], exc_info)

        body = self.app(environ, timed_start_response)
        if probe is not None:
            self._leave(probe, arrived, cpu_started, unit_in)
        return body


class ServerTimingASGI(_Timing):
    """ASGI middleware, the same for an ASGI app: the header when the response starts, the log line when the app
    returns (after its last body message). Lifespan and websocket scopes pass through untouched."""

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        probe = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == MARKER_HEADER), None)
        arrived, started, cpu_started, unit_in = self._arrive(probe)

        async def timed_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                timing = (b"server-timing", self._header(started, cpu_started).encode("latin-1"))
                worker = (WORKER_HEADER.lower().encode("latin-1"), self._worker().encode("latin-1"))
                message = {**message, "headers": [*message.get("headers", ()), timing, worker]}
            await send(message)

        await self.app(scope, receive, timed_send)
        if probe is not None:
            self._leave(probe, arrived, cpu_started, unit_in)
