"""The Flask app, through its factory and Flask's test client."""

from __future__ import annotations

import sys
import time

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "app"))
import flask_app


@pytest.fixture
def client():
    app = flask_app.create_app({"TESTING": True, "IO_DEFAULT_MS": 20, "CPU_DEFAULT_N": 1000})
    return app.test_client()


def test_hello(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert b"Hello" in resp.data


def test_io_task_waits_the_asked_time(client):
    started = time.perf_counter()
    resp = client.get("/ioTask?ms=50")
    took = time.perf_counter() - started
    assert resp.status_code == 200
    assert resp.json["ms"] == 50
    assert took >= 0.05


def test_io_task_default_comes_from_config(client):
    assert client.get("/ioTask").json["ms"] == 20


def test_cpu_task_does_the_asked_work(client):
    resp = client.get("/cpuTask?n=10")
    assert resp.status_code == 200
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
    assert resp.status_code == 400
    assert resp.is_json
    assert message in resp.json["error"]


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("BENCH_IO_MAX_MS", "100")
    client = flask_app.create_app({"TESTING": True}).test_client()
    assert client.get("/ioTask?ms=101").status_code == 400
    assert client.get("/ioTask?ms=1").status_code == 200


def test_healthz_reports_versions(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok"
    assert resp.json["versions"]["flask"] == "3.1.3"
    assert resp.json["versions"]["python"].count(".") == 2


def test_module_level_app_for_gunicorn():
    assert flask_app.app.url_map.bind("").match("/ioTask")[0] == "io_task"
