"""Worker type and knob validation (bench/model/plan.py over worker_types.yml), run on the controller before any host is
touched."""

from __future__ import annotations

import copy

import pytest
import yaml
from support import ROOT

from bench.model import app, catalog, plan

CLASSIC = ["sync", "gthread", "gevent", "eventlet", "tornado"]
EIGHT = [*CLASSIC, "gevent_pywsgi", "asgi", "uvicorn"]


def resolve(worker_types="all", **kw):
    """The plan of the demo app, by worker type."""
    return {i["worker_type"]: i for i in plan.plan_instances(worker_types, **kw)}


def test_all_gives_every_type_of_the_catalog_and_classic_the_original_five():
    everything = list(resolve("all"))
    assert everything == list(catalog.load().names) and everything[: len(EIGHT)] == EIGHT  # in catalog order
    assert list(resolve("classic")) == CLASSIC
    assert list(resolve("classic,asgi")) == [*CLASSIC, "asgi"]
    assert plan.run_label(everything) == "all" and plan.run_label(CLASSIC) == "classic"
    assert plan.run_label(["asgi", "sync"]) == "asgi+sync"


def test_defaults_come_from_the_catalog():
    got = resolve("all")
    assert all(i["workers"] == 1 for i in got.values())
    assert got["gthread"]["threads"] == 2 and got["sync"]["threads"] == 1
    assert got["eventlet"]["gunicorn_version"] == "25.3.0" and got["asgi"]["gunicorn_version"] == "27.0.1"
    assert got["uvicorn"]["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert got["gevent_pywsgi"]["worker_class"] == "gevent_pywsgi"
    assert got["asgi"]["entry"] == "fastapi_app:app" and got["gevent"]["entry"] == "flask_app:app"
    assert got["uvicorn"]["app_requirements"] == ["fastapi==0.165.0"] and got["sync"]["app_packages"] == ["flask"]
    assert got["sync"]["name"] == "demo-sync" and got["asgi"]["app"] == "demo", "instances are named by app and type"
    assert got["sync"]["env"] == {"BENCH_IO_MAX_MS": "10000", "BENCH_CPU_MAX_N": "65000000"}
    assert got["gevent"]["worker_versions"] == ["gevent", "greenlet"]
    assert got["sync"]["requirements"] == ["gunicorn==27.0.1"]
    assert got["asgi"]["http_parser"] is None and got["asgi"]["asgi_loop"] is None


def test_knobs_arrive_as_strings_and_apply_to_the_types_that_read_them():
    got = resolve("all", workers="2", threads="4", worker_connections="50", http_parser="python", asgi_loop="asyncio")
    assert {i["workers"] for i in got.values()} == {2}
    assert got["gthread"]["threads"] == 4 and got["sync"]["threads"] == 1
    assert got["gevent"]["worker_connections"] == 50 and got["asgi"]["worker_connections"] == 50
    assert got["tornado"]["worker_connections"] == 1000 and got["uvicorn"]["worker_connections"] == 1000
    # the requests each works on at once, waiting on IO (the verification's requests at a time): the catalog's theory
    assert {n: i["slots"] for n, i in got.items() if n in EIGHT} == {
        "sync": 2, "gthread": 8, "gevent": 100, "eventlet": 100, "tornado": 2, "gevent_pywsgi": 100,
        "asgi": 100, "uvicorn": catalog.UNBOUNDED}  # fmt: skip
    assert resolve("sync")["sync"]["slots"] == 1 and resolve("gthread")["gthread"]["slots"] == 2
    # http_parser: gunicorn's own parser (asgi from 25.0, the WSGI workers from 25.2); gevent_pywsgi, tornado and
    # uvicorn parse HTTP themselves
    assert {n for n, i in got.items() if i["http_parser"] == "python"} == {
        "sync",
        "gthread",
        "gevent",
        "eventlet",
        "asgi",
    }
    assert {n for n, i in got.items() if i["asgi_loop"]} == {"asgi"}


def test_http_parser_fast_adds_gunicorn_fast_parser_package():
    got = resolve("gthread", http_parser="fast")["gthread"]
    assert got["requirements"] == ["gunicorn==27.0.1", "gunicorn_h1c==0.6.10"]
    assert resolve("gthread", http_parser="python")["gthread"]["requirements"] == ["gunicorn==27.0.1"]


def test_a_list_of_types_keeps_order_and_drops_repeats():
    assert list(resolve("gevent, sync,gevent")) == ["gevent", "sync"]


def test_gunicorn_version_override():
    assert resolve("gthread", gunicorn_version="26.0.0")["gthread"]["gunicorn_version"] == "26.0.0"
    assert resolve("eventlet", gunicorn_version="25.1.0")["eventlet"]["gunicorn_version"] == "25.1.0"
    assert resolve("asgi", gunicorn_version="25.1.0", http_parser="fast")["asgi"]["http_parser"] == "fast"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"worker_types": "gunicorn"}, r"^worker='gunicorn': unknown worker type gunicorn; use one of sync, gthread"),
        ({"worker_types": "gunicorn"}, r"all \(every type\), classic \(sync gthread gevent eventlet tornado\)$"),
        ({"worker_types": ""}, r"^worker='': unknown worker type \(empty\)"),
        ({"worker_types": "sync,meinheld"}, r"unknown worker type meinheld"),
        ({"workers": "0"}, r"^workers='0': must be a whole number from 1 to 64"),
        ({"workers": "-2"}, r"^workers='-2'"),
        ({"workers": "1.5"}, r"^workers='1.5'"),
        ({"workers": "two"}, r"^workers='two'"),
        ({"workers": "65"}, r"^workers='65': must be a whole number from 1 to 64"),
        ({"workers": True}, r"^workers=True"),
        ({"threads": "0"}, r"^threads='0'"),
        ({"worker_types": "sync", "threads": "2"}, r"^threads=2 with worker=sync: gunicorn's sync worker ignores it; "
                                                   r"it applies to gthread\. With sync.*mislabelled"),
        ({"worker_types": "asgi", "threads": "4"}, r"^threads=4 with worker=asgi: gunicorn's asgi worker ignores it"),
        ({"worker_types": "gevent,tornado", "threads": "4"}, r"^threads=4 with worker=gevent,tornado: gunicorn's "
                                                             r"gevent,tornado workers ignore it"),
        ({"worker_connections": "0"}, r"^worker_connections='0'"),
        ({"worker_types": "sync", "worker_connections": "10"}, r"gunicorn's sync worker ignores it"),
        ({"worker_types": "uvicorn", "worker_connections": "10"}, r"gunicorn's uvicorn worker ignores it"),
        ({"http_parser": "turbo"}, r"^http_parser='turbo': use one of auto, fast, python$"),
        ({"worker_types": "gthread", "http_parser": "fast", "gunicorn_version": "25.1.0"},
         r"^http_parser=fast with worker=gthread: gunicorn 25\.1\.0 lacks it for gthread; it applies to sync "
         r"\(gunicorn 25\.2 or newer\), gthread \(gunicorn 25\.2 or newer\)"),
        ({"worker_types": "tornado", "http_parser": "python"}, r"gunicorn's tornado worker ignores it"),
        ({"worker_types": "eventlet,asgi", "http_parser": "fast", "gunicorn_version": "24.1.0"},
         r"^gunicorn_version=24\.1\.0 with worker type asgi: the asgi worker exists in gunicorn 25\.1 or newer"),
        ({"worker_types": "eventlet,gthread", "http_parser": "fast", "gunicorn_version": "25.1.0"},
         r"gunicorn 25\.1\.0 lacks it for eventlet; gunicorn 25\.1\.0 lacks it for gthread"),
        ({"worker_types": "sync", "asgi_loop": "uvloop"}, r"^asgi_loop=uvloop with worker=sync: gunicorn's sync worker "
                                                    r"ignores it; it applies to asgi \(gunicorn 25\.1 or newer\)$"),
        ({"worker_types": "uvicorn", "asgi_loop": "uvloop"}, r"uvicorn worker ignores it"),
        ({"asgi_loop": "trio"}, r"^asgi_loop='trio': use one of auto, asyncio, uvloop$"),
        ({"gunicorn_version": "latest"}, r"^gunicorn_version='latest': use a release number"),
        ({"worker_types": "eventlet", "gunicorn_version": "27.0.1"},
         r"eventlet worker exists in gunicorn before 26\.0; use gunicorn_version=25\.3\.0"),
        ({"worker_types": "all", "gunicorn_version": "26.0"}, r"gunicorn_version=26.0 with worker type eventlet"),
        ({"worker_types": "asgi", "gunicorn_version": "24.1.0"}, r"asgi worker exists in gunicorn 25\.1 or newer"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_variable(kw, message):
    with pytest.raises(plan.PlanError, match=message):
        plan.plan_instances(**{"worker_types": "all", **kw})


def test_config_label_shows_the_knobs_a_type_reads():
    # the plan's instances carry the model's names (worker_type), as collect's records do
    got = resolve("all", http_parser="python")
    assert plan.config_label(got["sync"]) == "1w, parser python"
    assert plan.config_label(got["gthread"]) == "1w×2t, parser python"  # its connections bound no theory
    assert plan.config_label(got["tornado"]) == "1w"
    assert plan.config_label(got["uvicorn"]) == "1w"
    assert plan.config_label({**got["asgi"], "asgi_loop": "uvloop"}) == "1w×1000c, parser python, loop uvloop"
    assert plan.config_label({"worker_type": "retired-type", "workers": 3}) == "3w"


RAW = yaml.safe_load(catalog.CATALOG_PATH.read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["types"]["sync"].pop("theory"), r"types\.sync: missing theory"),
        (
            lambda c: c["types"]["sync"]["theory"].update(io="greenlets"),
            r"types\.sync\.theory\.io='greenlets': use one",
        ),
        (
            lambda c: c["types"]["sync"].update(interface="rsgi"),
            r"types\.sync\.interface='rsgi': use one of wsgi, asgi",
        ),
        (lambda c: c["types"]["sync"]["knobs"].update(backlog=None), r"types\.sync\.knobs: backlog not under knobs"),
        (lambda c: c["types"]["sync"]["defaults"].update(threads=4), r"types\.sync\.defaults\.threads: 1"),
        (lambda c: c["sets"].update(fast=["sync", "meinheld"]), r"sets\.fast: meinheld not under types"),
        (lambda c: c["sets"].update(all=["sync"]), r"sets\.all: a set cannot be named like a type or 'all'"),
    ],
)
def test_a_malformed_catalog_is_refused_naming_the_entry(edit, message):
    broken = copy.deepcopy(RAW)
    edit(broken)
    with pytest.raises(catalog.CatalogError, match=message):
        catalog.parse(broken)


def test_all_means_every_type_the_apps_interfaces_serve_and_instances_are_named_by_app():
    notes = app.load_file(ROOT / "examples/notes/notes.bench.yml", base=ROOT)
    got = plan.plan_instances("all", app=notes)
    wsgi = [n for n in catalog.load().names if catalog.load().type(n).interface == "wsgi"]
    assert [i["worker_type"] for i in got] == wsgi and "asgi" not in wsgi
    assert [i["name"] for i in got] == [f"notes-{n}" for n in wsgi]
    assert {i["entry"] for i in got} == {"notes:create_app()"} and got[0]["app_packages"] == ["Flask", "marshmallow"]
    assert plan.run_label(wsgi, interfaces=("wsgi",)) == "all", "every type the app can run on"
    assert plan.run_label(wsgi) == "+".join(wsgi) and plan.run_label(["asgi", "uvicorn"]) == "asgi+uvicorn"
    with pytest.raises(app.AppError, match=r"^worker=asgi: asgi serves ASGI apps and bench_app notes has only "
                       r"entry.wsgi; use worker types of its interface: sync, gthread"):  # fmt: skip
        plan.plan_instances("asgi", app=notes)
