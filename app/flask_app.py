"""The WSGI app under test: a hello, an IO-bound task, a CPU-bound task and a readiness probe.

Served by gunicorn as ``flask_app:app``; fastapi_app.py is its ASGI twin, and bench_work.py what both share.
``/ioTask`` sleeps with ``time.sleep``, which gevent's and eventlet's workers patch into a cooperative wait;
``/cpuTask`` is pure-Python arithmetic that holds the interpreter. ``/healthz`` says what the process runs (the
harness reads nothing from it: it is the demo's own ready path). Every parameter is bounded so that no request can
hold a worker longer than the configured limits.
"""

from __future__ import annotations

import os
import sys
import time

import bench_work
from flask import Flask, jsonify, request

APP_SHA256 = bench_work.files_sha256(sys.modules[__name__], bench_work)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(bench_work.settings())
    app.config.update(config or {})

    @app.errorhandler(bench_work.BadParameter)
    def bad_parameter(exc: bench_work.BadParameter):
        return jsonify(error=str(exc)), 400

    @app.get("/")
    def hello():
        return bench_work.HELLO

    @app.get("/ioTask")
    def io_task():
        ms = bench_work.io_ms(request.args.get("ms"), app.config)
        time.sleep(ms / 1000)
        return jsonify(task="io", ms=ms, pid=os.getpid())

    @app.get("/cpuTask")
    def cpu_task():
        n = bench_work.cpu_n(request.args.get("n"), app.config)
        started = time.perf_counter()
        result = bench_work.cpu_work(n)
        return jsonify(task="cpu", n=n, result=result, seconds=round(time.perf_counter() - started, 4), pid=os.getpid())

    @app.get("/healthz")
    def healthz():
        return jsonify(bench_work.health(APP_SHA256))

    return app


app = create_app()
