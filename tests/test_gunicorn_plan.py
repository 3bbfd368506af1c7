"""Worker type and knob validation, run on the controller before any host is touched."""

from __future__ import annotations

import pytest
import yaml
from conftest import ROOT, load_module

plan = load_module("plugins/modules/gunicorn_plan.py")
DEFAULTS = yaml.safe_load((ROOT / "roles/gunicorn/defaults/main.yml").read_text())["gunicorn_worker_defaults"]


def resolve(worker="all", workers=None, threads=None, worker_connections=None, gunicorn_version=None):
    return plan.plan_instances(
        worker,
        defaults=DEFAULTS,
        workers=workers,
        threads=threads,
        worker_connections=worker_connections,
        gunicorn_version=gunicorn_version,
    )


def test_all_gives_the_five_types_with_the_original_experiments_defaults():
    got = {i["name"]: i for i in resolve()}
    assert list(got) == ["sync", "gthread", "gevent", "eventlet", "tornado"]
    assert all(i["workers"] == 1 for i in got.values())
    assert got["gthread"]["threads"] == 2
    assert got["sync"]["threads"] == 1
    assert got["eventlet"]["gunicorn_version"] == "25.3.0"
    assert got["gevent"]["gunicorn_version"] == "27.0.1"
    assert {i["worker_class"] for i in got.values()} == set(got)


def test_knobs_arrive_as_strings_from_the_command_line_and_apply_where_they_mean_something():
    got = {i["name"]: i for i in resolve("all", workers="2", threads="4", worker_connections="50")}
    assert got["sync"]["workers"] == 2 and got["tornado"]["workers"] == 2
    assert got["gthread"]["threads"] == 4 and got["sync"]["threads"] == 1
    assert got["gevent"]["worker_connections"] == 50
    assert got["tornado"]["worker_connections"] == DEFAULTS["tornado"]["worker_connections"]


def test_a_list_of_types_keeps_order_and_drops_repeats():
    assert [i["name"] for i in resolve("gevent, sync,gevent")] == ["gevent", "sync"]


def test_gunicorn_version_override():
    assert resolve("gthread", gunicorn_version="26.0.0")[0]["gunicorn_version"] == "26.0.0"
    assert resolve("eventlet", gunicorn_version="25.1.0")[0]["gunicorn_version"] == "25.1.0"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"worker": "gunicorn"}, r"^worker='gunicorn': unknown worker type gunicorn; use one of sync, gthread"),
        ({"worker": ""}, r"^worker='': unknown worker type \(empty\)"),
        ({"worker": "sync,uvicorn"}, r"unknown worker type uvicorn"),
        ({"workers": "0"}, r"^workers='0': must be a whole number from 1 to 64"),
        ({"workers": "-2"}, r"^workers='-2'"),
        ({"workers": "1.5"}, r"^workers='1.5'"),
        ({"workers": "two"}, r"^workers='two'"),
        ({"workers": "65"}, r"^workers=65: must be a whole number from 1 to 64"),
        ({"workers": True}, r"^workers=True"),
        ({"threads": "0"}, r"^threads='0'"),
        ({"worker": "sync", "threads": "2"}, r"^threads=2 with worker=sync: only gthread runs threads.*mislabelled"),
        ({"worker": "gevent", "threads": "4"}, r"^threads=4 with worker=gevent"),
        ({"worker_connections": "0"}, r"^worker_connections='0'"),
        ({"worker": "sync", "worker_connections": "10"}, r"gunicorn's sync worker ignores it"),
        ({"gunicorn_version": "latest"}, r"^gunicorn_version='latest': use a release number"),
        ({"worker": "eventlet", "gunicorn_version": "27.0.1"}, r"removed the eventlet worker in 26.0.*25.3.0"),
        ({"worker": "all", "gunicorn_version": "26.0"}, r"gunicorn_version=26.0 with worker eventlet"),
    ],
)
def test_bad_input_is_refused_naming_the_variable(kw, message):
    with pytest.raises(plan.PlanError, match=message):
        resolve(**kw)


def test_a_defaults_table_that_would_mislabel_sync_is_refused():
    broken = {**DEFAULTS, "sync": {**DEFAULTS["sync"], "threads": 4}}
    with pytest.raises(plan.PlanError, match=r"gunicorn_worker_defaults\.sync: threads=4"):
        plan.plan_instances("sync", defaults=broken)
