"""The ASGI twin of flask_app.py, for gunicorn's asgi worker and uvicorn's: the same endpoints, bounds and 400 errors.

Served as ``fastapi_app:app`` (FastAPI). ``/ioTask`` awaits an asyncio
sleep; ``/cpuTask`` runs the same pure-Python loop as the WSGI app (bench_work.cpu_work) inside the coroutine, so it
blocks the event loop, as CPU work in an ``async def`` handler does in a real service (FastAPI would run a plain
``def`` handler in its thread pool instead). ``/healthz`` says what the process runs, like the WSGI app's.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import bench_work
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

APP_SHA256 = bench_work.files_sha256(sys.modules[__name__], bench_work)


def create_app(config: dict | None = None) -> FastAPI:
    settings = {**bench_work.settings(), **(config or {})}
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @api.exception_handler(bench_work.BadParameter)
    async def bad_parameter(request: Request, exc: bench_work.BadParameter) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @api.get("/", response_class=PlainTextResponse)
    async def hello() -> str:
        return bench_work.HELLO

    # Parameters arrive as text and are checked by bench_work, as in the WSGI app: the same bounds, the same 400.
    @api.get("/ioTask")
    async def io_task(ms: str | None = None) -> dict:
        value = bench_work.io_ms(ms, settings)
        await asyncio.sleep(value / 1000)
        return {"ms": value, "pid": os.getpid(), "task": "io"}

    @api.get("/cpuTask")
    async def cpu_task(n: str | None = None) -> dict:
        value = bench_work.cpu_n(n, settings)
        started = time.perf_counter()
        result = bench_work.cpu_work(value)
        return {"n": value, "pid": os.getpid(), "result": result, "seconds": round(time.perf_counter() - started, 4),
                "task": "cpu"}  # fmt: skip

    @api.get("/healthz")
    async def healthz() -> dict:
        return bench_work.health(APP_SHA256)

    return api


app = create_app()
