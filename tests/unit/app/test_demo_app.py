"""The app and its ASGI twin (app/flask_app.py, app/fastapi_app.py): the same endpoints, bounds and errors, each
test on both, through the apps' own entry points in-process (tests/apps.py)."""

from __future__ import annotations

import asyncio
import itertools
import time

import apps
import pytest
from support import ROOT

from bench.model import app as app_spec


@pytest.fixture(params=apps.INTERFACES)
def client(request):
    return apps.Client(request.param, {"IO_DEFAULT_MS": 20, "CPU_DEFAULT_N": 1000})


def test_hello(client):
    resp = client.get("/")
    assert resp.status == 200
    assert resp.body == b"Hello from gunicorn\n"


def test_io_task_waits_the_asked_time(client):
    started = time.perf_counter()
    resp = client.get("/ioTask?ms=50")
    took = time.perf_counter() - started
    assert resp.status == 200
    assert resp.json["ms"] == 50 and resp.json["task"] == "io"
    assert took >= 0.05


def test_io_task_default_comes_from_config(client):
    assert client.get("/ioTask").json["ms"] == 20


def test_cpu_task_does_the_asked_work(client):
    resp = client.get("/cpuTask?n=10")
    assert resp.status == 200
    assert resp.json["n"] == 10
    assert resp.json["result"] == sum(i * i % 7 for i in range(10))
    assert client.get("/cpuTask").json["n"] == 1000


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/ioTask?ms=abc", "ms='abc' is not an integer; use 0..10000"),
        ("/ioTask?ms=1.5", "ms='1.5' is not an integer"),
        ("/ioTask?ms=-1", "ms=-1 is out of range; use 0..10000"),
        ("/ioTask?ms=10001", "ms=10001 is out of range"),
        ("/ioTask?ms=", "ms='' is not an integer"),
        ("/cpuTask?n=0", "n=0 is out of range; use 1..65000000"),
        ("/cpuTask?n=65000001", "n=65000001 is out of range"),
        ("/cpuTask?n=1e9", "n='1e9' is not an integer"),
    ],
)
def test_bad_parameters_get_400_with_a_json_error(client, url, message):
    resp = client.get(url)
    assert resp.status == 400
    assert resp.headers["content-type"].startswith("application/json")
    assert message in resp.json["error"]


@pytest.mark.parametrize("interface", apps.INTERFACES)
def test_limits_come_from_the_environment(monkeypatch, interface):
    monkeypatch.setenv("BENCH_IO_MAX_MS", "100")
    client = apps.Client(interface)
    assert client.get("/ioTask?ms=101").status == 400
    assert client.get("/ioTask?ms=1").status == 200


def test_healthz_reports_versions_and_the_files_loaded(client):
    resp = client.get("/healthz")
    assert resp.status == 200
    assert resp.json["status"] == "ok"
    framework = {"wsgi": "flask", "asgi": "fastapi"}[client.interface]
    assert resp.json["versions"][framework] == {"flask": "3.1.3", "fastapi": "0.165.0"}[framework]
    assert resp.json["versions"]["python"].count(".") == 2
    own = {"wsgi": "flask_app.py", "asgi": "fastapi_app.py"}[client.interface]
    assert set(resp.json["app_sha256"]) == {own, "bench_work.py"}, "the timing middleware is the harness's"


def test_the_demo_app_file_names_each_interfaces_entry_and_its_framework():
    demo = app_spec.load_file(app_spec.DEMO_FILE, base=ROOT)
    for iface in apps.INTERFACES:
        module, _, attr = demo.entries[iface].partition(":")
        served = {"wsgi": apps.flask_app, "asgi": apps.fastapi_app}[iface]
        assert served.__name__ == module and hasattr(served, attr)
        framework = {"wsgi": "flask", "asgi": "fastapi"}[iface]
        assert demo.packages(iface) == [framework]
        assert apps.Client(iface).get(demo.ready_path).status == demo.ready_status


def test_cpu_work_blocks_the_asgi_event_loop():
    """/cpuTask is an async handler: while it runs, nothing else on the loop does (as in a real service)."""
    client = apps.Client("asgi", {"CPU_DEFAULT_N": 2_000_000})
    ticks: list[float] = []

    async def ticker():
        for _ in range(50):
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.001)

    async def both():
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.005)
        await client._asgi_get("/cpuTask", {})
        await task

    asyncio.run(both())
    longest_gap = max(b - a for a, b in itertools.pairwise(ticks))
    assert longest_gap > 20 * 0.001, "the ticker ran on while /cpuTask computed: the handler does not block the loop"
