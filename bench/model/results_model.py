"""The model of a run's results (results.json, schema 6), the one place that knows the older files, and the one way in.

Schema 4 (bench/parse/collect.py writes it; every reader reads it through load() or current(), never the file itself):

  schema             4
  run_id, started, finished, git_commit, profile, ansible_core, verify_only
  worker_types       the worker types loaded, in the run's order
  app                the app loaded (its bench_app, without the scenarios)
  catalog            the entries of worker_types.yml of the types tested, and the knobs they read: {"types", "knobs"},
                     as in the file (catalog_of() makes a bench.catalog.Catalog of them)
  catalog_source     where `catalog` came from: the run (CATALOG_RECORDED) or today's file (CATALOG_UPGRADED)
  instances          each gunicorn instance of the run, by name, and its planned settings (INSTANCE_FIELDS): once;
                     `worker_type` is its worker type, `workers` its number of worker processes, `app` the app's name,
                     `variant` its name within the run (its type's, or with the knobs of its combination when a
                     matrix ran several of its type: gthread-w2-t4; a file written before matrices has none: its
                     type's, as expand() reads it)
  hosts              every host's facts (role app or load, CPU, memory, OS, Python)
  app_hosts          each app host's part (PER_APP_HOST): its load hosts, round, verification, versions, processes,
                     time in the load generator (siege or wrk), settle time, whether it is complete
  time_in_load_s, settle_s, warmups_discarded, phases_s, complete    the run's (app hosts of one round at once)
  failures, events   each naming its worker_type (its variant: the instance) and app_host
  recommendations    per app host and scenario, the instance to choose and its margin (bench/analyse/recommend.py;
                     null in a file written before them: the report works them out again)
  results            one record per run of the matrix: its `instance` (a name in `instances`), its `app_host`, what
                     it asked (scenario, its label, method, path, status, concurrency, ...) and what was measured; a
                     record's `label` is how the report names its scenario (the path of a GET, else the method and
                     the path), its `path` what was requested

In memory (load(), current(), and the views of bench/model/fleet.py) each record also carries its instance's settings
(worker_type, workers, threads, ...): the verdict and the report read them off the record. The file stores them once.

upgrade() turns any older results.json into schema 6: files without a schema, schema 1 and schema 2 (whose number
did not say their shape: both were written with and without app_hosts), schema 3 (the same shape under older
names: RENAMED, CATALOG_RENAMED), schema 4 (records without the fields of a run at a rate: RECORD_DEFAULTS) and
schema 5 (records without a capacity search's: RECORD_DEFAULTS). A file newer than this harness is refused.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import yaml

from bench.model import catalog, plan
from bench.model.app import instance_name

SCHEMA = 6
OLDER = (None, 1, 2, 3, 4, 5)  # what upgrade() takes: None is a file written before results.json named its schema
# Schema 4's names, by the older name they replace: in the run's part and each app host's, in every record, instance,
# failure and event of an older results.json. A run made before the playbooks wrote these names has them in its
# run.json (its matrix rows' `worker` and `endpoint`; its `worker` list, the run's types, is plan_of's
# `worker_types`) and in its failure.json files (`worker`): read through renamed() too.
RENAMED = {
    "workers_tested": "worker_types",  # the worker types loaded (`workers` is a number of processes)
    "time_in_siege_s": "time_in_load_s",  # the time inside the load generator, siege or wrk
    "worker": "worker_type",  # a worker type's name: sync, gthread, ...
    "endpoint": "label",  # how the report names a scenario: the path of a GET, else the method and the path
}
# ... and in the catalog a run recorded: worker_types.yml's `app` of a type (the interface it serves) is `interface`.
CATALOG_RENAMED = {"app": "interface"}
# A record's instance settings: what the plan (bench/model/plan.py, the matrix of bench/model/scenarios.py) gave
# the instance. `app` is the app's name (bench_app.name).
INSTANCE_FIELDS = ("worker_type", "variant", "worker_class", "app", "gunicorn_version", "workers", "threads",
                   "worker_connections", "http_parser", "asgi_loop")  # fmt: skip
# An app host's part of the run (app_hosts.<host>); bench/model/fleet.py's view of the host takes them in place of
# the run's.
PER_APP_HOST = ("load_hosts", "round", "verify", "versions", "processes", "time_in_load_s", "settle_s", "complete")
CATALOG_RECORDED = "recorded by the run (worker_types.yml as it was collected)"
CATALOG_UPGRADED = "upgraded from today's worker_types.yml (the file recorded no catalog)"

# The app of a run made before bench_app: the demo app, and what it loaded beside gunicorn (its /healthz named them).
# Its run.json has no app, nor has its results.json; collected again since, its results.json has {"name": "demo"}.
DEMO_APP = {"name": "demo", "packages": {"wsgi": ["flask"], "asgi": ["fastapi"]}}
UNNAMED_DEMO = ({"name": "demo"}, None, {})
# Fields a record of an older file may lack, and what a fresh one holds when nothing was measured or asked.
RECORD_DEFAULTS = {"scenario_name": None, "tool": "siege", "settle_s": None, "per_host": [], "load_resources": None,
                   "app_resources": None, "load_bound": None,
                   # a run at a rate (schema 5): what it offered, and what it measured (bench/parse/rate.py)
                   "rate_per_s": None, "utilization": None, "arrivals": None, "warmup_s": None, "seed": None,
                   "rate": None,
                   # a capacity search (schema 6): its target; `search`: its steps, result (bench/analyse/capacity.py)
                   "target": None, "search": None,
                   # a run of a mix of scenarios: its classes, and the one run alone (bench/analyse/mix.py); the
                   # clients of a closed loop
                   "mix": None, "clients": None,
                   # a run with an operation under load: which, and when (bench/model/operations.py); what it lost is
                   # its rate's `operation` (bench/analyse/operations.py)
                   "operation": None, "keep_alive": None}  # fmt: skip
# Top-level fields of the model, in the order the file holds them.
ORDER = ("schema", "run_id", "started", "finished", "git_commit", "profile", "ansible_core", "worker_types", "app",
         "verify_only", "catalog_source", "catalog", "instances", "hosts", "app_hosts", "time_in_load_s", "settle_s",
         "warmups_discarded", "phases_s", "complete", "failures", "events", "recommendations",
         "results")  # fmt: skip


class SchemaError(ValueError):
    """A results.json this harness cannot read; the message names the file's schema and what it reads."""


def renamed(entry: dict, names: dict = RENAMED) -> dict:
    """An entry of an older file (results.json, or an older run's run.json or failure.json) under schema 6's names
    (RENAMED), in its order; an entry under them already is returned as it is. An older name replaces what held the
    new one: an older matrix row's `label` (its line in Ansible's output, today's `progress`) gives way to its
    scenario's label, the row's `endpoint`."""
    taken = {new for old, new in names.items() if old in entry}
    return {names.get(k, k): v for k, v in entry.items() if k not in taken}


# --- the catalog a run used ------------------------------------------------------------------------------------------


@functools.cache
def _catalog_file(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def catalog_entries(names, path: Path = catalog.CATALOG_PATH) -> dict:
    """The entries of worker_types.yml (as written there) of these types, and of the knobs they read; a type the file
    does not have is left out."""
    data = _catalog_file(Path(path))
    types = {n: data["types"][n] for n in names if n in data["types"]}
    knobs = {k: v for k, v in data["knobs"].items() if any(k in (t.get("knobs") or {}) for t in types.values())}
    return json.loads(json.dumps({"types": types, "knobs": knobs}))  # a copy, as JSON holds it


def catalog_of(results: dict) -> catalog.Catalog:
    """The catalog a run used (its `catalog`), as bench/model/catalog.py gives today's."""
    entries = results["catalog"]
    return catalog.parse({"sets": {}, "knobs": entries["knobs"], "types": entries["types"]})


# --- records and their instances --------------------------------------------------------------------------------------


def variant_of(entry: dict) -> str:
    """The instance a record, a row or a failure is of, by its name within the run (its `variant`; an entry made
    without one, before matrices or by a test, is of its type's only instance)."""
    return entry.get("variant") or entry["worker_type"]


def variants(results: dict) -> list[str]:
    """The run's instances by their names within it (`variant`: a worker type's, or with the knobs of its combination:
    gthread-w2-t4), in the run's order; the report groups and names its figures by them. A model without instances
    (a test's) has its worker types."""
    if results.get("instances"):
        return list(dict.fromkeys(variant_of(i) for i in results["instances"].values()))
    return list(results.get("worker_types") or [])


def instance_of(results: dict, record: dict) -> dict:
    """A record's instance settings (worker_type, workers, threads, ...), from the run's `instances`."""
    return results["instances"][record["instance"]]


def _with_variant(entry: dict) -> dict:
    """A failure or an event of a file written before matrices (no `variant`): of its type's only instance."""
    return {**entry, "variant": variant_of(entry)}


def expand(results: dict) -> dict:
    """The model in memory: each record carrying its instance's settings (a record's own value, if any, stays). An
    instance written before matrices (no `variant`) is its type's only one: its variant is its type."""
    instances = {n: {**i, "variant": variant_of(i)} for n, i in results["instances"].items()}
    records = [{**instances[r["instance"]], **r} for r in results["results"]]
    return {**results, "instances": instances, "results": records,
            **{k: [_with_variant(x) for x in results.get(k) or []] for k in ("failures", "events")}}  # fmt: skip


def stored(results: dict) -> dict:
    """The model as the file holds it: each record names its instance and repeats none of its settings (a record whose
    setting differs from its instance's is refused: it would be lost)."""
    out = []
    for r in results["results"]:
        instance = results["instances"][r["instance"]]
        differ = [f"{k}={r[k]!r}" for k in INSTANCE_FIELDS if k in r and r[k] != instance[k]]
        if differ:
            raise ValueError(f"record {r['name']}: {', '.join(differ)}, unlike its instance {r['instance']}")
        out.append({k: v for k, v in r.items() if k not in INSTANCE_FIELDS})
    return {**results, "results": out}


def _request(entry: dict) -> dict:
    """What a run asked (of a plan's entry or a record): one planned before bench_app.scenarios has no method nor path,
    it was a GET of its label (then the path itself); one planned before scenarios named their status had to answer
    200."""
    return {"method": entry.get("method") or "GET", "path": entry.get("path") or entry["label"],
            "status": entry.get("status") or 200}  # fmt: skip


def _instances(entries: list[dict], where: str) -> dict[str, dict]:
    """instance name -> its settings, from entries (records or plan entries) that each carry them; refused when two
    entries of one instance disagree."""
    out: dict[str, dict] = {}
    for e in entries:
        settings = {k: e.get(k) for k in INSTANCE_FIELDS}
        if out.setdefault(e["instance"], settings) != settings:
            raise SchemaError(f"{where}: instance {e['instance']} has two settings, {out[e['instance']]}, {settings}")
    return out


# --- a run's plan (run.json), as collect reads it -------------------------------------------------------------------


def _legacy_app_host(hosts: dict) -> str:
    """The name of the one app host of a run made before several were possible: the host of role app in its facts."""
    return next((name for name, facts in hosts.items() if facts.get("role") == "app"), "app")


def _load_hosts(hosts: dict) -> list[str]:
    return [name for name, facts in hosts.items() if facts.get("role") == "load"]


def plan_of(run: dict, context: dict | None = None) -> dict:
    """run.json (and raw/context.json) of any run as today's plan, under the model's names: its `worker_types`
    (an older run.json's `worker` list); its matrix, each entry complete (its worker_type, label, instance, app, tool,
    method, path and status; RENAMED reads the names an older run's playbooks wrote); its `instances`; and
    `app_hosts`, per app host its load hosts, round, raw folder under raw/ (`raw`), verification, versions and
    processes. A run made before several
    app hosts were possible had one, not named in run.json: the host of role app in its facts, its output in raw/
    itself."""
    context = context or {}
    hosts = context.get("hosts", {})
    app = run.get("app") or DEMO_APP
    matrix = []
    for entry in map(renamed, run.get("matrix", [])):
        e = {"tool": "siege", "scenario_name": None, "http_parser": None, "asgi_loop": None} | entry
        e["app"] = entry.get("app") or app["name"]
        e["instance"] = entry.get("instance") or instance_name(e["app"], e["worker_type"])
        e["variant"] = entry.get("variant") or e["worker_type"]
        matrix.append(e | _request(entry))
    facts = ("verify", "versions", "processes")
    if run.get("pairs"):
        apps = context.get("apps", {})
        app_hosts = {host: {"load_hosts": list(pair["load_hosts"]), "round": pair["round"], "raw": host,
                            **{k: apps.get(host, {}).get(k) or {} for k in facts}}
                     for host, pair in run["pairs"].items()}  # fmt: skip
    else:
        one = {"load_hosts": _load_hosts(hosts), "round": 0, "raw": "", **{k: context.get(k) or {} for k in facts}}
        app_hosts = {_legacy_app_host(hosts): one}
    types = run["worker_types"] if "worker_types" in run else run.get("worker")  # `worker`: an older run.json
    return {**{k: v for k, v in run.items() if k != "worker"}, "worker_types": list(types or []),
            "app": app, "ansible_core": run.get("ansible_core"), "verify_only": bool(run.get("verify_only")),
            "matrix": matrix, "instances": _instances(matrix, "run.json"), "app_hosts": app_hosts,
            "hosts": hosts}  # fmt: skip


# --- results.json of any schema --------------------------------------------------------------------------------------


def upgrade(data: dict) -> dict:
    """results.json's content of any schema as schema 6 (a schema-6 file as it is); SchemaError for a newer one."""
    schema = data.get("schema")
    if schema == SCHEMA and type(schema) is int:
        return data
    if schema not in OLDER or type(schema) not in (int, type(None)):
        commit = f" (harness commit {data['git_commit']})" if data.get("git_commit") else ""
        raise SchemaError(
            f"results.json of run {data.get('run_id', '?')}{commit} has schema {schema!r}; this harness reads schema "
            f"{SCHEMA} and upgrades 1, 2, 3, 4 and 5 (and files without a schema): render it with the harness that"
            " wrote it"
        )
    return _from_older(data)


def _under_new_names(data: dict) -> dict:
    """An older file's content under schema 6's names (RENAMED): the run's part and each app host's, every record,
    instance (stored once since schema 3), failure and event; and the catalog a schema-3 run recorded
    (CATALOG_RENAMED)."""
    out = renamed(data)
    for key in ("results", "failures", "events"):
        out[key] = [renamed(x) for x in data.get(key) or []]
    if data.get("app_hosts"):
        out["app_hosts"] = {h: renamed(p) for h, p in data["app_hosts"].items()}
    if data.get("instances"):
        out["instances"] = {n: renamed(i) for n, i in data["instances"].items()}
    if data.get("catalog"):
        types = {n: renamed(t, CATALOG_RENAMED) for n, t in data["catalog"]["types"].items()}
        out["catalog"] = {**data["catalog"], "types": types}
    return out


def _from_older(older: dict) -> dict:
    """An older file as schema 6, in one pass over it under the new names: a file that stores its instances once
    (schema 3) read as its records carry them; each older shape's missing parts filled in."""
    data = _under_new_names(older)
    if "instances" in data:
        data = expand(data)
    hosts = data.get("hosts") or {}
    app = DEMO_APP if data.get("app") in UNNAMED_DEMO else data["app"]
    if data.get("app_hosts"):  # several app hosts possible (schema 1 since then, schema 2): each host's part
        parts = {h: dict(p) for h, p in data["app_hosts"].items()}
        tag: dict = {}
    else:  # one app host, not named: its part at the top (the host of role app in the facts)
        name = _legacy_app_host(hosts)
        parts = {name: {"load_hosts": _load_hosts(hosts), "round": 0,
                        **{k: data.get(k) for k in ("verify", "versions", "processes", "time_in_load_s", "settle_s",
                                                    "complete")}}}  # fmt: skip
        tag = {"app_host": name}
    for part in parts.values():
        for key in ("verify", "versions", "processes"):
            part[key] = part.get(key) or {}
        part["settle_s"] = part.get("settle_s") or 0.0
        part["complete"] = part.get("complete", True) is not False  # files written before `complete` was: complete
    parts = {h: {k: p[k] for k in PER_APP_HOST} for h, p in parts.items()}
    records = []
    for r in data["results"]:
        rec = {**r, **tag}
        for key, value in RECORD_DEFAULTS.items():
            rec.setdefault(key, list(value) if isinstance(value, list) else value)
        rec["app"] = r.get("app") or app["name"]
        rec["instance"] = r.get("instance") or instance_name(rec["app"], r["worker_type"])
        rec["variant"] = r.get("variant") or r["worker_type"]
        if rec["app_resources"]:  # the sampler read no PSS then
            rec["app_resources"] = {**rec["app_resources"], "pss_mb": rec["app_resources"].get("pss_mb")}
        rec.update(_request(r))
        if rec["scenario"] == "probe":
            rec.setdefault("server", None)
        records.append(rec)
    instances = _instances(records, f"results.json of run {data.get('run_id', '?')}")
    recorded = data.get("catalog")  # the run's own since schema 3; older files take today's worker_types.yml
    out = {
        **{k: v for k, v in data.items() if k not in ("verify", "versions", "processes")},
        "schema": SCHEMA,
        "ansible_core": data.get("ansible_core"),
        "app": app,
        "verify_only": bool(data.get("verify_only")),
        "catalog_source": data["catalog_source"] if recorded else CATALOG_UPGRADED,
        "catalog": recorded or catalog_entries(data["worker_types"]),
        "instances": instances,
        "hosts": hosts,
        "app_hosts": parts,
        "settle_s": data.get("settle_s") or 0.0,
        "warmups_discarded": data.get("warmups_discarded", 0),
        "phases_s": data.get("phases_s") or {},
        "complete": all(p["complete"] for p in parts.values()) and data.get("complete", True) is not False,
        "failures": [_with_variant(f | tag) for f in data.get("failures") or []],
        "events": [_with_variant(e | tag) for e in data.get("events") or []],
        "recommendations": data.get("recommendations"),  # None: not recorded (the report works them out)
        "results": records,
    }
    return in_order(stored(out))


def in_order(results: dict) -> dict:
    """The model's fields in the file's order (ORDER), any other after them."""
    return {k: results[k] for k in ORDER if k in results} | {k: v for k, v in results.items() if k not in ORDER}


def current(data: dict) -> dict:
    """The model in memory of results.json's content, of any schema (the model itself as it is, expanded)."""
    return expand(upgrade(data))


def load(path: Path | str) -> dict:
    """The one way to read a results.json: read, upgraded, each record carrying its instance's settings."""
    return current(json.loads(Path(path).read_text()))


# how changes.json named a configuration before the report had one label for it ("gevent w1 t1 c1000")
OLD_CONFIG_RE = re.compile(r"(?P<worker_type>\S+) w(?P<workers>\d+) t(?P<threads>\d+) c(?P<worker_connections>\d+)")


def changes_of(path: Path, app_host: str) -> list[dict]:
    """One app host's changes in a run's changes.json (what collect-report found against the earlier runs), each
    configuration labelled as the rest of the report labels it. A change that names no app host was written before
    changes named theirs, by a run of one app host: that host's."""
    out = []
    for written in json.loads(Path(path).read_text()):
        if written.get("app_host", app_host) != app_host:
            continue
        if m := OLD_CONFIG_RE.fullmatch(written.get("config", "")):
            setting = {k: (v if k == "worker_type" else int(v)) for k, v in m.groupdict().items()}
            written = {**written, "config": f"{setting['worker_type']} {plan.config_label(setting)}"}  # noqa: PLW2901
        out.append(written)
    return out
