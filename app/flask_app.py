"""The app under test: a hello, an IO-bound task, a CPU-bound task and a readiness probe.

Served by gunicorn as ``flask_app:app``. ``/ioTask`` sleeps with ``time.sleep``, which gevent's and eventlet's
workers patch into a cooperative wait; ``/cpuTask`` is pure-Python arithmetic that holds the interpreter.
Every response carries a ``Server-Timing`` header (server_timing.py); ``/healthz`` says what the process runs: its
versions, the gunicorn settings its worker was started with, and a hash of each file of the app it loaded.
Every parameter is bounded so that no request can hold a worker longer than the configured limits.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from importlib import metadata

import server_timing
from flask import Flask, jsonify, request

DEFAULTS = {
    "IO_DEFAULT_MS": 1000,  # /ioTask without ?ms=
    "IO_MAX_MS": 10_000,  # largest ?ms= accepted
    "CPU_DEFAULT_N": 6_500_000,  # /cpuTask without ?n= (about 0.3 s on one core, Debian 12 Python 3.11)
    "CPU_MAX_N": 65_000_000,  # largest ?n= accepted (about 3 s)
}
VERSIONED = ("flask", "werkzeug", "gunicorn", "gevent", "greenlet", "eventlet", "tornado")
# What the gunicorn config's post_worker_init hook saw in this worker (worker class, workers, threads, ...).
PROCESS_ENV = "BENCH_GUNICORN_PROCESS"


def file_sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


# The app's code as this process loaded it: sha256 of each of its files, read at import.
APP_SHA256 = {os.path.basename(path): file_sha256(path) for path in (__file__, server_timing.__file__)}


class BadParameter(ValueError):
    """A query parameter that is missing its bounds; answered with 400 and a JSON error."""


def bounded_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise BadParameter(f"{name}={raw!r} is not an integer; use {low}..{high}") from None
    if not low <= value <= high:
        raise BadParameter(f"{name}={value} is out of range; use {low}..{high}")
    return value


def cpu_work(n: int) -> int:
    """Pure-Python work proportional to n; holds the GIL (and a gevent/eventlet loop) throughout."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("BENCH")  # BENCH_IO_MAX_MS=... from the service's environment
    app.config.update(config or {})
    app.wsgi_app = server_timing.ServerTiming(app.wsgi_app)  # Server-Timing on every response; probes logged

    @app.errorhandler(BadParameter)
    def bad_parameter(exc: BadParameter):
        return jsonify(error=str(exc)), 400

    @app.get("/")
    def hello():
        return "Hello from gunicorn\n"

    @app.get("/ioTask")
    def io_task():
        ms = bounded_int("ms", app.config["IO_DEFAULT_MS"], 0, app.config["IO_MAX_MS"])
        time.sleep(ms / 1000)
        return jsonify(task="io", ms=ms, pid=os.getpid())

    @app.get("/cpuTask")
    def cpu_task():
        n = bounded_int("n", app.config["CPU_DEFAULT_N"], 1, app.config["CPU_MAX_N"])
        started = time.perf_counter()
        result = cpu_work(n)
        return jsonify(task="cpu", n=n, result=result, seconds=round(time.perf_counter() - started, 4), pid=os.getpid())

    @app.get("/healthz")
    def healthz():
        return jsonify(
            status="ok", pid=os.getpid(), versions=versions(), app_sha256=APP_SHA256,
            process=json.loads(os.environ.get(PROCESS_ENV, "null")),
        )  # fmt: skip

    return app


app = create_app()
