"""An app as data (bench/model/app.py): the demo app's own file, every field of a user's app, and each bad input refused
with the field named."""

from __future__ import annotations

import copy

import pytest
import yaml
from support import ROOT

from bench.model import app, catalog, scenarios

DEMO = ROOT / "app/demo.bench.yml"


@pytest.fixture
def good(tmp_path) -> dict:
    """A user's app beside its inventory: a package folder, a requirements file, an env, POST and IO endpoints."""
    pkg = tmp_path / "notes" / "notes"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "web.py").write_text("app = None\n")
    (tmp_path / "notes" / "requirements.txt").write_text(
        "# the app's own\nflask>=3.0  # web\n\nsqlalchemy[asyncio]~=2.0\n"
    )
    return {
        "name": "notes",
        "src": "notes",
        "entry": "notes.web:app",
        "interface": "wsgi",
        "requirements": "requirements.txt",
        "ready": {"path": "/healthz", "status": 204},
        "env": {"NOTES_DB": "/var/lib/notes/db.sqlite", "NOTES_WORKERS": 2, "NOTES_DEBUG": False},
        "scenarios": [
            {"name": "list", "path": "/notes?limit=20"},
            {"name": "create", "method": "post", "path": "/notes", "body": {"text": "hi"}, "status": 201},
            {"name": "raw", "method": "PUT", "path": "/notes/1", "body": "text=hi",
             "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            {"name": "slow", "path": "/report", "task": "io", "unit_s": 0.2},
            {"name": "crunch", "path": "/stats", "task": "cpu", "load": ["probe"], "profiles": ["full"]},
        ],
    }  # fmt: skip


def test_the_demo_app_is_a_file_like_any_other():
    demo = app.load_file(DEMO, base=ROOT)
    assert demo.name == "demo" and demo.src == ROOT / "app" and demo.src_kind == "folder"
    assert demo.entries == {"wsgi": "flask_app:app", "asgi": "fastapi_app:app"}
    assert demo.requirements == {"wsgi": ("flask==3.1.3",), "asgi": ("fastapi==0.165.0",)}, "one list per interface"
    assert (demo.ready_path, demo.ready_status) == ("/healthz", 200)
    # every worker type of the catalog can serve it: it has an entry for both interfaces
    demo.check_worker_types(list(catalog.load().names))
    # what the playbooks run of it per profile: bench/model/scenarios.py's choice, on the app as the playbooks get it
    scs = demo.as_vars()["scenarios"]
    assert [s["path"] for s in scenarios.endpoints_for(scs, "probe", "quick")] == ["/ioTask", "/cpuTask"]
    assert [s["path"] for s in scenarios.endpoints_for(scs, "sweep", "quick")] == ["/", "/ioTask?ms=100",
                                                                                  "/cpuTask?n=650000"]  # fmt: skip
    assert [s["path"] for s in scenarios.endpoints_for(scs, "sweep", "full")] == ["/", "/ioTask?ms=100", "/cpuTask"]
    assert demo.instance_name("gevent_pywsgi") == "demo-gevent_pywsgi"


def test_every_field_of_a_users_app(good, tmp_path):
    notes = app.parse(good, base=tmp_path)
    assert notes.src == tmp_path / "notes" and notes.entries == {"wsgi": "notes.web:app"}
    assert notes.requirements == {"wsgi": ("flask>=3.0", "sqlalchemy[asyncio]~=2.0")}
    assert notes.env == {"NOTES_DB": "/var/lib/notes/db.sqlite", "NOTES_WORKERS": "2", "NOTES_DEBUG": "false"}
    by = {s.name: s for s in notes.scenarios}
    assert (by["list"].method, by["list"].status, by["list"].load, by["list"].task) == ("GET", 200, ("sweep",), None)
    assert by["create"].method == "POST" and by["create"].body == '{"text":"hi"}'
    assert by["create"].headers == {"Content-Type": "application/json"}, "a mapping body is sent as JSON"
    assert by["raw"].body == "text=hi" and by["raw"].headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert by["slow"].load == ("probe", "sweep") and by["slow"].unit_s == 0.2
    scs = notes.as_vars()["scenarios"]
    assert [s["name"] for s in scenarios.endpoints_for(scs, "probe", "quick")] == ["slow"]
    assert [s["name"] for s in scenarios.endpoints_for(scs, "probe", "full")] == ["slow", "crunch"]


def test_an_archive_is_a_source_and_a_requirements_list_is_checked(good, tmp_path):
    wheel = tmp_path / "notes-1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    spec = {**good, "src": str(wheel), "requirements": ["flask==3.1.2", "gevent>=24; python_version>='3.9'"]}
    notes = app.parse(spec, base=tmp_path)
    assert notes.src_kind == "archive"
    assert notes.requirements == {"wsgi": ("flask==3.1.2", 'gevent>=24; python_version >= "3.9"')}
    assert notes.distribution == "notes" and notes.packages("wsgi") == ["notes", "flask", "gevent"], "itself first"
    sdist = tmp_path / "notes_service-2.1.tar.gz"
    sdist.write_bytes(b"")
    assert app.parse({**spec, "src": str(sdist)}, base=tmp_path).packages("wsgi")[0] == "notes-service"
    odd = tmp_path / "latest.tar.gz"
    odd.write_bytes(b"")
    with pytest.raises(app.AppError, match=r"^bench_app.src=\S+latest.tar.gz: not named as a wheel or an sdist is"):
        app.parse({**spec, "src": str(odd)}, base=tmp_path)


def bad(good: dict, change) -> dict:
    spec = copy.deepcopy(good)
    change(spec)
    return spec


# Each row: what is wrong, how the app's description says it, and the start of the error (it names the field).
BAD = [
    ("a folder that does not exist", lambda s: s.update(src="nowhere"), "bench_app.src=nowhere: .* does not exist"),
    ("a source that is neither folder nor archive", lambda s: s.update(src="notes/requirements.txt"),
     r"bench_app.src=notes/requirements.txt: .* is not a folder, a wheel or an sdist"),
    ("an entry that is not module:callable", lambda s: s.update(entry="notes.web.app"),
     r"bench_app.entry='notes.web.app': package.module:callable"),
    ("an entry of an unknown interface", lambda s: (s.pop("interface"), s.update(entry={"rsgi": "a:b"})),
     r"bench_app.entry.rsgi: unknown interface; use wsgi or asgi"),
    ("no interface for a single entry", lambda s: s.pop("interface"), r"bench_app.interface=None: wsgi or asgi"),
    ("a name with a dash", lambda s: s.update(name="my-app"), r"bench_app.name='my-app'"),
    ("an unknown field", lambda s: s.update(port=8000), r"bench_app: unknown field port"),
    ("a requirement that is not one", lambda s: s.update(requirements=["flask>>3"]),
     r"bench_app.requirements\[0\]='flask>>3': not a requirement"),
    ("a URL requirement", lambda s: s.update(requirements=["notes @ https://example.com/notes.whl"]),
     "a URL requirement; hosts install from the wheelhouse only"),
    ("a requirements file that is not there", lambda s: s.update(requirements="reqs.txt"),
     r"bench_app.requirements=reqs.txt: no such file"),
    ("requirements for an interface it has no entry for", lambda s: s.update(requirements={"asgi": ["x"]}),
     r"bench_app.requirements.asgi: the app has no asgi entry \(entry: wsgi\)"),
    ("a bad requirement of one interface", lambda s: s.update(requirements={"wsgi": ["flask=3"]}),
     r"bench_app.requirements.wsgi\[0\]='flask=3': not a requirement"),
    ("a ready status that is not a number", lambda s: s["ready"].update(status="ok"),
     r"bench_app.ready.status='ok': an HTTP status, a number"),
    ("an environment variable that cannot be one", lambda s: s["env"].update({"2FAST": "x"}),
     r"bench_app.env.2FAST: not a variable name"),
    ("no scenarios", lambda s: s.update(scenarios=[]), r"bench_app.scenarios: a list of at least one"),
    ("a scenario without a path", lambda s: s["scenarios"][0].pop("path"),
     r"bench_app.scenarios\[0\] \(list\): no path"),
    ("a path that is a URL", lambda s: s["scenarios"][0].update(path="http://x/notes"),
     r"bench_app.scenarios\[0\] \(list\).path='http://x/notes': a URL path starting with /"),
    ("an unknown method", lambda s: s["scenarios"][1].update(method="FETCH"),
     r"bench_app.scenarios\[1\] \(create\).method='FETCH': one of GET, POST"),
    ("a status that is not a number", lambda s: s["scenarios"][1].update(status="created"),
     r"bench_app.scenarios\[1\] \(create\).status='created': an HTTP status, a number from 100 to 599"),
    ("a status out of range", lambda s: s["scenarios"][1].update(status=2010), r"\(create\).status=2010"),
    ("a body on a GET", lambda s: s["scenarios"][0].update(body="x"), r"\(list\).body: a GET request carries no body"),
    ("an unknown task", lambda s: s["scenarios"][3].update(task="disk"), r"\(slow\).task='disk': io or cpu"),
    ("unit_s without a task", lambda s: s["scenarios"][0].update(unit_s=1), r"\(list\).unit_s: only with a task"),
    ("a probe without a task", lambda s: s["scenarios"][0].update(load=["probe"]),
     r"\(list\).load: probes give a verdict and need a task"),
    ("an unknown load", lambda s: s["scenarios"][0].update(load=["soak"]),
     r"\(list\).load=\['soak'\]: a list of probe, sweep, rate, capacity, operations and/or timeout"),
    ("a timeout request without its time", lambda s: s["scenarios"][0].update(load=["timeout"]),
     r"\(list\).load: the request a timeout operation sends needs its task \(io or cpu"),
    ("operations without a rate", lambda s: s["scenarios"][0].update(load=["operations"]),
     r"\(list\).load: loaded during operations, it needs the rate \(rate_per_s: \[5\]\) or the work of one request"),
    ("a capacity search without a target", lambda s: s["scenarios"][0].update(load=["capacity"], rate_per_s=[5]),
     r"\(list\).target: a capacity search needs a latency target, e.g. \{percentile: 99, latency_s: 0.25"),
    ("a capacity search with neither a start nor a unit",
     lambda s: s["scenarios"][0].update(load=["capacity"], target={"percentile": 99, "latency_s": 0.25}),
     r"\(list\).load: a capacity search starts at the lowest of rate_per_s, or at half of one slot"),
    ("a target without a percentile",
     lambda s: s["scenarios"][0].update(load=["capacity"], rate_per_s=[5], target={"latency_s": 0.25}),
     r"\(list\).target.percentile: missing \(a latency target needs the percentile it bounds"),
    ("a target for a scenario not searched", lambda s: s["scenarios"][0].update(target={"percentile": 99}),
     r"\(list\).target: only for a scenario whose capacity is searched \(load: \[capacity\]\)"),
    ("a rate run with neither rates nor a unit", lambda s: s["scenarios"][0].update(load=["rate"]),
     r"\(list\).load: a rate run needs the rates \(rate_per_s: \[5, 8\]\) or the work of one request"),
    ("rates for a scenario not loaded at a rate", lambda s: s["scenarios"][0].update(rate_per_s=[5]),
     r"\(list\).rate_per_s: only for a scenario loaded at a rate"),
    ("a rate of zero", lambda s: s["scenarios"][0].update(load=["rate"], rate_per_s=[5, 0]),
     r"\(list\).rate_per_s=\[5, 0\]: a list of requests a second, each a number > 0"),
    ("two scenarios of one name", lambda s: s["scenarios"][1].update(name="list"),
     r"bench_app.scenarios\[1\] \(list\): a second scenario named list"),
    ("an unknown profile", lambda s: s["scenarios"][4].update(profiles=["nightly"]),
     r"\(crunch\).profiles=\['nightly'\]: a list of profiles among quick, full"),
    ("no sweep in a profile", lambda s: s.update(scenarios=[s["scenarios"][4]]),
     "bench_app.scenarios: none is swept in profile quick"),
    ("a scenario loaded in no way", lambda s: s["scenarios"][0].update(load=[]),
     r"bench_app.scenarios\[0\] \(list\).load=\[\]: loaded in no way; name it in a mix"),
    ("mixes that are not a list", lambda s: s.update(mixes={"name": "m"}), r"bench_app.mixes=\{'name': 'm'\}: a list"),
    ("a mix of one scenario", lambda s: s.update(mixes=[{**MIXED, "of": {"slow": 1}}]),
     r"bench_app.mixes\[0\] \(busy\).of=\{'slow': 1\}: two scenarios or more with their weights"),
    ("a mix naming a scenario the app lacks", lambda s: s.update(mixes=[{**MIXED, "of": {"slow": 9, "disk": 1}}]),
     r"bench_app.mixes\[0\] \(busy\).of.disk: no such scenario \(the app's: create, crunch, list, raw, slow\)"),
    ("a weight of zero", lambda s: s.update(mixes=[{**MIXED, "of": {"slow": 9, "crunch": 0}}]),
     r"\(busy\).of.crunch=0: a weight, a number > 0"),
    ("a negative weight", lambda s: s.update(mixes=[{**MIXED, "of": {"slow": -1, "crunch": 1}}]),
     r"\(busy\).of.slow=-1: a weight"),
    ("a mix without rates", lambda s: s.update(mixes=[{k: v for k, v in MIXED.items() if k != "rate_per_s"}]),
     r"\(busy\): no rate_per_s \(open loop: requests a second of the whole mix\) nor clients \(closed loop"),
    ("a rate of zero in a mix", lambda s: s.update(mixes=[{**MIXED, "rate_per_s": [0]}]),
     r"\(busy\).rate_per_s=\[0\]: a list of requests a second of the whole mix, each > 0"),
    ("a target on a closed loop alone", lambda s: s.update(mixes=[{**MIXED, "rate_per_s": [], "clients": [4],
                                                                   "target": {"percentile": 90, "latency_s": 0.2}}]),
     r"\(busy\).target: only for a mix at a rate \(rate_per_s\)"),
    ("a mix's target without a bound", lambda s: s.update(mixes=[{**MIXED, "target": {"percentile": 90}}]),
     r"bench_app.mixes\[0\] \(busy\).target.latency_s"),
    ("a closed loop of no clients", lambda s: s.update(mixes=[{**MIXED, "clients": [0]}]),
     r"\(busy\).clients=\[0\]: a list of closed loops' clients, each a whole number 1-1000"),
    ("a mix alone of a scenario not in it", lambda s: s.update(mixes=[{**MIXED, "alone": ["list"]}]),
     r"\(busy\).alone=\['list'\]: true \(each scenario also alone"),
    ("a mix named as a scenario", lambda s: s.update(mixes=[{**MIXED, "name": "slow"}]),
     r"bench_app.mixes\[0\] \(slow\): the name of another mix or scenario"),
    ("an unknown field of a mix", lambda s: s.update(mixes=[{**MIXED, "weights": [9, 1]}]),
     r"bench_app.mixes\[0\] \(busy\): unknown field weights"),
]  # fmt: skip
MIXED = {"name": "busy", "of": {"slow": 9, "crunch": 1}, "rate_per_s": [8]}


def test_a_mix_names_its_scenarios_with_their_weights_and_which_run_alone(good, tmp_path):
    notes = app.parse({**good, "mixes": [MIXED, {**MIXED, "name": "writes", "of": {"list": 4, "create": 1},
                                                 "alone": False, "profiles": ["full"]}]}, base=tmp_path)  # fmt: skip
    busy, writes = notes.as_vars()["mixes"]
    assert busy["label"] == "9 × slow + 1 × crunch" and busy["alone"] == ["slow", "crunch"], "all alone by default"
    assert [(c["name"], c["weight"], c["path"], c["task"]) for c in busy["classes"]] == [
        ("slow", 9.0, "/report", "io"), ("crunch", 1.0, "/stats", "cpu")]  # fmt: skip
    assert writes["alone"] == [] and writes["profiles"] == ["full"] and writes["clients"] == [] == busy["clients"]
    assert writes["classes"][1]["method"] == "POST" and writes["classes"][1]["body"] == '{"text":"hi"}'
    assert app.parse(good, base=tmp_path).as_vars()["mixes"] == []
    # a scenario sent only in a mix: no runs of its own
    only = copy.deepcopy(good)
    only["scenarios"][4]["load"] = []
    only_app = app.parse({**only, "mixes": [MIXED]}, base=tmp_path)
    assert next(s for s in only_app.scenarios if s.name == "crunch").load == ()
    assert not any(s["name"] == "crunch" for load in ("probe", "sweep", "rate", "capacity")
                   for s in scenarios.endpoints_for(only_app.as_vars()["scenarios"], load, "full"))  # fmt: skip


@pytest.mark.parametrize(("case", "change", "message"), BAD, ids=[row[0] for row in BAD])
def test_bad_input_is_refused_naming_the_field(good, tmp_path, case, change, message):
    with pytest.raises(app.AppError, match=message):
        app.parse(bad(good, change), base=tmp_path)


def test_an_asgi_app_is_refused_on_wsgi_worker_types(good, tmp_path):
    notes = app.parse({**good, "interface": "asgi"}, base=tmp_path)
    asgi_types = [n for n in catalog.load().names if catalog.load().type(n).interface == "asgi"]
    notes.check_worker_types(asgi_types)
    with pytest.raises(app.AppError, match=r"worker=sync,asgi: sync serves WSGI apps and bench_app notes has only "
                       rf"entry.asgi; use worker types of its interface: {', '.join(asgi_types)}"):  # fmt: skip
        notes.check_worker_types(["sync", "asgi"])


def test_an_app_file_that_is_not_valid_yaml_or_has_no_bench_app(tmp_path):
    broken = tmp_path / "broken.bench.yml"
    broken.write_text("bench_app:\n  name: notes\n  scenarios: [\n")
    with pytest.raises(app.AppError, match=r"broken.bench.yml: not valid YAML \(line 4, column 1\)"):
        app.load_file(broken)
    other = tmp_path / "other.yml"
    other.write_text(yaml.safe_dump({"app": {"name": "notes"}}))
    with pytest.raises(app.AppError, match=r"other.yml: no bench_app at its top"):
        app.load_file(other)
    with pytest.raises(app.AppError, match=r"missing.yml: cannot read it \(No such file or directory\)"):
        app.load_file(tmp_path / "missing.yml")
