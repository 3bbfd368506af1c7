"""results.json's model (bench/model/results_model.py, schema 6) and the one upgrade of every older file to it: each
committed sample and fixture upgrades, and no older name is left in it; a file of schema 1, of schema 2, of schema 3
and one without a schema, collected by older harnesses from tests/fixtures/two-load-hosts (tests/fixtures/upgrade),
upgrade to what today's collect writes from the same folder; a current file upgrades to itself; a newer one is
refused; the report of an upgraded file is the report of the file as it was, and the committed samples' verdict and
sweep tables are what their report.md shows; the history lines up old and new files."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import FIXTURES, ROOT, fixture_json

from bench import files
from bench.model import catalog, fleet, results_model
from bench.parse import collect
from bench.render import report
from bench.trends import compare, history

FINISHED = "2026-11-27T00:41:00Z"  # what the older collects of tests/fixtures/upgrade were given
SAMPLES = sorted(ROOT.glob("reports/sample*/results.json"))
# files an older harness wrote: reports/sample-notes, and the fixtures (results/quick-eight.json is the reports/sample
# of before the runs at a rate: eight types, the demo app before bench_app)
OLDER = [ROOT / "reports/sample-notes/results.json", *sorted((FIXTURES / "results").glob("*.json")),
         *sorted((FIXTURES / "upgrade").glob("*.json"))]  # fmt: skip
# The names schema 4 replaced, as older files hold them (a record's, instance's, failure's and event's `worker` is a
# worker type; a record's `endpoint` the label of its scenario), and worker_types.yml's `app` of a type in a catalog
# that a schema-3 run recorded.
OLD_NAMES = {"worker_types": "workers_tested", "time_in_load_s": "time_in_siege_s", "worker_type": "worker",
             "label": "endpoint"}  # fmt: skip
OLD_CATALOG_NAMES = {"interface": "app"}


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def paired(src: Path, dest: Path) -> Path:
    """tests/fixtures/two-load-hosts as a run of one paired app host (how runs are made since several app hosts are
    possible): raw/app1/ holds what raw/ held per app host, run.json names the pair, context.json its versions."""
    shutil.copytree(src, dest)
    raw = dest / "raw"
    (raw / "app1").mkdir()
    for p in list(raw.iterdir()):
        if p.name not in ("app1", "context.json", "phases.json"):
            p.rename(raw / "app1" / p.name)
    run = json.loads((dest / "run.json").read_text())
    run["pairs"] = {"app1": {"load_hosts": ["load1", "load2"], "round": 0}}
    (dest / "run.json").write_text(json.dumps(run))
    context = json.loads((raw / "context.json").read_text())
    apps = {k: context.pop(k) for k in ("verify", "versions", "processes") if k in context}
    (raw / "context.json").write_text(json.dumps({**context, "apps": {"app1": apps}}))
    return dest


def faulted(src: Path, dest: Path) -> Path:
    """tests/fixtures/two-load-hosts with a failure and a service event of gevent (tests/fixtures/journal's, as the
    playbooks write them): what two-load-hosts-faulted-schema3.json was collected from."""
    shutil.copytree(src, dest)
    failure = (FIXTURES / "journal/gthread.failure.json").read_text().replace("gthread", "gevent")
    (dest / "raw" / "gevent.failure.json").write_text(failure)
    shutil.copy(FIXTURES / "journal/gevent-master-killed.json", dest / "raw" / "gevent.journal.json")
    return dest


def fresh(tmp_path: Path, layout: str = "plain") -> dict:
    """results.json as today's collect writes it, of tests/fixtures/two-load-hosts (as it is, paired or faulted)."""
    run = tmp_path / layout
    if layout == "paired":
        paired(FIXTURES / "two-load-hosts", run)
    elif layout == "faulted":
        faulted(FIXTURES / "two-load-hosts", run)
    else:
        shutil.copytree(FIXTURES / "two-load-hosts", run)
    files.write_json_atomic(run / "results.json", results_model.stored(collect.collect(run, finished=FINISHED)))
    return json.loads((run / "results.json").read_text())


def without_source(results: dict) -> dict:
    """The model less what an older file cannot have recorded: where its catalog came from, and the recommendations
    (worked out from the records; an older file has none, null, and the report works them out again)."""
    return {k: v for k, v in results.items() if k not in ("catalog_source", "recommendations")}


def keys_anywhere(value, where: str = "") -> list[tuple[str, str]]:
    """(where, key) of every key of every mapping in a JSON value, however deep."""
    if isinstance(value, dict):
        return [(where, k) for k in value] + [x for k, v in value.items() for x in keys_anywhere(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in keys_anywhere(v, f"{where}[{i}]")]
    return []


def older_settings(data: dict, record: dict) -> dict:
    """A record's instance settings as an older file holds them, under their older names: on the record itself, or
    (schema 3) once, in `instances`."""
    held = {**data.get("instances", {}).get(record.get("instance"), {}), **record}
    held.setdefault("variant", held.get("worker_type") or held.get("worker"))  # before matrices: its type's only one
    return {k: held.get(OLD_NAMES.get(k, k)) for k in results_model.INSTANCE_FIELDS if k != "app"}


def table_rows(report_md: str) -> list[str]:
    """The rows of a report's verdict and sweep tables, under their headings."""
    rows, keep = [], False
    for line in report_md.splitlines():
        if line.startswith("## "):
            keep = line.startswith(("## Verdict", "## Sweep"))
        if keep and (line.startswith("| ") or line.startswith("### ")):
            rows.append(line)
    return rows


# --- every committed sample and fixture ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", OLDER, ids=name)
def test_every_committed_sample_and_fixture_upgrades_to_the_current_schema(path):
    data = json.loads(path.read_text())
    kept = copy.deepcopy(data)
    up = results_model.upgrade(data)
    assert data == kept, "the file's content is left alone"
    assert up["schema"] == results_model.SCHEMA == 6 and list(up)[: len(results_model.ORDER)] == list(
        results_model.ORDER
    )
    assert up["worker_types"] == data["workers_tested"]
    # the run's own catalog since schema 3 (worker_types.yml's as it was then, today's for these files); before, today's
    recorded = data.get("schema") == 3
    assert up["catalog_source"] == (results_model.CATALOG_RECORDED if recorded else results_model.CATALOG_UPGRADED)
    assert up["catalog"] == results_model.catalog_entries(data["workers_tested"])
    assert set(up["catalog"]["types"]) == set(data["workers_tested"]) & set(catalog.load().names)
    assert results_model.catalog_of(up).names == tuple(up["catalog"]["types"])
    # the instances once, each record naming its own and repeating none of its settings
    assert set(up["instances"]) == {r["instance"] for r in up["results"]}
    assert not [r["name"] for r in up["results"] if set(r) & set(results_model.INSTANCE_FIELDS)]
    for old, new in zip(data["results"], results_model.expand(up)["results"], strict=True):
        assert {k: new[k] for k in older_settings(data, old)} == older_settings(data, old), old["name"]
        assert new["app"] == up["app"]["name"] and new["instance"] == f"{new['app']}-{new['worker_type']}"
        assert new["label"] == old["endpoint"], old["name"]
    # every app host named, its part whole, every record, failure and event naming one of them
    assert up["app_hosts"] and all(list(p) == list(results_model.PER_APP_HOST) for p in up["app_hosts"].values())
    assert {x["app_host"] for x in up["results"] + up["failures"] + up["events"]} <= set(up["app_hosts"])
    if "app_hosts" not in data:  # one app host, unnamed: the host of role app in the run's facts
        assert list(up["app_hosts"]) == ["app1"] and up["app_hosts"]["app1"]["versions"] == data["versions"]
    assert [p["time_in_load_s"] for p in up["app_hosts"].values()] == (
        [p.get("time_in_siege_s") for p in data["app_hosts"].values()] if "app_hosts" in data
        else [data.get("time_in_siege_s")]
    )  # fmt: skip
    assert up["app"]["name"] == (data.get("app") or {}).get("name", "demo")
    assert json.loads(json.dumps(up)) == up, "the model is JSON as it is"
    assert results_model.upgrade(up) is up, "upgrading a current file is the identity"


@pytest.mark.parametrize("path", OLDER, ids=name)
def test_no_older_name_is_left_anywhere_in_the_upgraded_model(path):
    """Not in the file's model, nor in the model in memory (each record carrying its instance's settings): the names
    schema 4 replaced, at any depth, and worker_types.yml's `app` of a type in the run's catalog. (`app` itself stays:
    the run's app, and an instance's, the app's name.)"""
    data = json.loads(path.read_text())
    older = set(OLD_NAMES.values())
    assert {k for _, k in keys_anywhere(data)} & older, "the file speaks the older names"
    for model in (results_model.upgrade(data), results_model.current(data)):
        assert [(where, k) for where, k in keys_anywhere(model) if k in older] == []
        assert [(t, k) for t, entry in model["catalog"]["types"].items() for k in entry
                if k in OLD_CATALOG_NAMES.values()] == []  # fmt: skip
        assert all(set(OLD_CATALOG_NAMES) <= set(entry) for entry in model["catalog"]["types"].values())


def test_the_committed_samples_are_read_as_they_are():
    """reports/sample (eight types, the demo app with its searches of capacity: schema 6) and reports/sample-notes
    (the notes app), and the reports/sample of before (tests/fixtures/results/quick-eight.json: the demo app before
    bench_app)."""
    assert [p.parent.name for p in SAMPLES] == ["sample", "sample-notes"]
    sample, notes = (results_model.load(p) for p in SAMPLES)
    assert json.loads(SAMPLES[0].read_text())["schema"] == results_model.SCHEMA
    assert sample["app"]["name"] == "demo" and history.app_packages(sample) == ["flask", "fastapi"]
    assert len([r for r in sample["results"] if r["scenario"] == "capacity" and r["valid"]]) == 2 * 8
    before = results_model.load(FIXTURES / "results/quick-eight.json")
    assert before["app"] == results_model.DEMO_APP and len(before["worker_types"]) == 8
    assert notes["app"]["name"] == "notes" and history.app_packages(notes) == ["Flask", "marshmallow"]
    assert len(sample["instances"]) == len(sample["worker_types"]) == 8
    gthread = results_model.instance_of(sample, next(r for r in sample["results"] if r["worker_type"] == "gthread"))
    assert (gthread["workers"], gthread["threads"], gthread["gunicorn_version"]) == (1, 2, "27.0.1")
    assert set(notes["instances"]) == {f"notes-{w}" for w in notes["worker_types"]}


@pytest.mark.parametrize("path", SAMPLES, ids=name)
def test_a_committed_samples_report_rendered_again_has_its_verdict_and_sweep_tables(tmp_path, path):
    """`python -m bench report` on a copy of the sample (its results.json of an older schema, read through the
    upgrade): the verdict and sweep tables of its committed report.md, row for row."""
    for part in ("results.json", "changes.json"):
        shutil.copy(path.parent / part, tmp_path / part)
    done = subprocess.run([sys.executable, "-m", "bench", "report", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    committed = table_rows((path.parent / "report.md").read_text())
    assert committed and table_rows((tmp_path / "report.md").read_text()) == committed


# --- older files upgrade to what collect writes now --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "layout", "drop_schema"),
    [
        ("two-load-hosts-schema1.json", "plain", False),
        ("two-load-hosts-schema1.json", "plain", True),  # written before results.json named its schema
        ("two-load-hosts-schema2.json", "plain", False),
        ("two-load-hosts-paired-schema2.json", "paired", False),
    ],
)
def test_an_older_file_upgrades_to_what_collect_writes_now_from_the_same_run(tmp_path, fixture, layout, drop_schema):
    old = fixture_json(f"upgrade/{fixture}")
    if drop_schema:
        del old["schema"]
    now = fresh(tmp_path, layout)
    up = results_model.upgrade(old)
    assert without_source(up) == without_source(now)
    assert (up["catalog_source"], now["catalog_source"]) == (results_model.CATALOG_UPGRADED,
                                                             results_model.CATALOG_RECORDED)  # fmt: skip


@pytest.mark.parametrize(
    ("fixture", "layout"),
    [("two-load-hosts-schema3.json", "plain"), ("two-load-hosts-faulted-schema3.json", "faulted")],
)
def test_a_schema_3_file_upgrades_to_what_collect_writes_now_under_the_new_names(tmp_path, fixture, layout):
    """A schema-3 file (collected by the harness of 1bb3763, before schema 4) is today's file under the older names:
    its upgrade is what collect writes now from the same folder, its own recorded catalog kept, and each renamed field
    holds what the older one held."""
    old = fixture_json(f"upgrade/{fixture}")
    assert old["schema"] == 3
    now = fresh(tmp_path, layout)
    up = results_model.upgrade(old)
    assert without_source(up) == without_source(now) and up["catalog_source"] == results_model.CATALOG_RECORDED
    assert up["recommendations"] is None and now["recommendations"], "worked out now; not recorded then"
    assert (up["worker_types"], up["time_in_load_s"]) == (old["workers_tested"], old["time_in_siege_s"])
    assert [p["time_in_load_s"] for p in up["app_hosts"].values()] == [
        p["time_in_siege_s"] for p in old["app_hosts"].values()
    ]
    assert {n: i["worker_type"] for n, i in up["instances"].items()} == {
        n: i["worker"] for n, i in old["instances"].items()
    }
    assert [r["label"] for r in up["results"]] == [r["endpoint"] for r in old["results"]]
    for part in ("failures", "events"):
        assert [x["worker_type"] for x in up[part]] == [x["worker"] for x in old[part]]
    assert {t: e["interface"] for t, e in up["catalog"]["types"].items()} == {
        t: e["app"] for t, e in old["catalog"]["types"].items()
    }
    if layout == "faulted":
        assert up["failures"] and up["events"], "the faulted run has a failure and a service event to rename"


def test_the_file_stores_each_instance_once_and_the_model_in_memory_repeats_it_on_each_record(tmp_path):
    now = fresh(tmp_path)
    assert now["schema"] == 6 and now["instances"] == {
        "demo-gevent": {"worker_type": "gevent", "variant": "gevent", "worker_class": "gevent", "app": "demo",
                        "gunicorn_version": "27.0.1", "workers": 1, "threads": 1, "worker_connections": 1000,
                        "http_parser": None, "asgi_loop": None}
    }  # fmt: skip
    assert {r["instance"] for r in now["results"]} == {"demo-gevent"}
    assert not any(set(r) & set(results_model.INSTANCE_FIELDS) for r in now["results"])
    loaded = results_model.load(tmp_path / "plain" / "results.json")
    assert loaded == collect.collect(tmp_path / "plain", finished=FINISHED), "what collect gives is what load reads"
    assert all(r["worker_type"] == "gevent" and r["threads"] == 1 for r in loaded["results"])
    assert results_model.stored(loaded) == now
    changed = copy.deepcopy(loaded)
    changed["results"][0]["workers"] = 2
    with pytest.raises(ValueError, match=r"workers=2, unlike its instance demo-gevent"):
        results_model.stored(changed)


def test_a_current_file_upgrades_to_itself(tmp_path):
    now = fresh(tmp_path, "paired")
    assert results_model.upgrade(now) is now
    assert results_model.upgrade(results_model.upgrade(now)) == now


def test_two_settings_of_one_instance_are_refused():
    data = fixture_json("results/quick-all.json")
    next(r for r in data["results"] if r["worker"] == "gthread")["threads"] = 4
    with pytest.raises(results_model.SchemaError, match=r"instance demo-gthread has two settings"):
        results_model.upgrade(data)


@pytest.mark.parametrize("schema", [7, 99, "4", 4.0, 3.0, True])
def test_a_file_of_an_unknown_schema_is_refused_naming_it(tmp_path, schema):
    data = fixture_json("results/quick-all.json") | {"schema": schema}
    with pytest.raises(results_model.SchemaError) as refused:
        results_model.upgrade(data)
    text = str(refused.value)
    assert f"has schema {schema!r}; this harness reads schema 6 and upgrades 1, 2, 3, 4 and 5" in text
    assert data["run_id"] in text and data["git_commit"] in text
    (tmp_path / "results.json").write_text(json.dumps(data))
    with pytest.raises(results_model.SchemaError, match=f"has schema {schema!r}"):
        report.main(str(tmp_path))


# --- readers: the run's own catalog, the report, the history ------------------------------------------------------


def test_a_current_files_own_catalog_is_what_compare_reads(tmp_path):
    now = fresh(tmp_path)
    (view,) = fleet.views(now)
    assert compare.format_versions("gevent", view["versions"]["gevent"], view).startswith("python 3.11.2, gunicorn ")
    assert "gevent 26.9.0, greenlet 3.5.6" in compare.format_versions("gevent", view["versions"]["gevent"], view)
    now["catalog"]["types"]["gevent"]["versions"] = ["greenlet"]  # the run's catalog, not today's
    (view,) = fleet.views(now)
    assert results_model.catalog_of(view).type("gevent").versions == ("greenlet",)
    text = compare.format_versions("gevent", view["versions"]["gevent"], view)
    assert "greenlet 3.5.6" in text and "gevent 26.9.0" not in text


@pytest.mark.parametrize(
    "path",
    [ROOT / "reports/sample/results.json", ROOT / "reports/sample-notes/results.json",
     FIXTURES / "results/fleet-two-hosts.json", FIXTURES / "results/quick-all-20261126-siege.json",
     FIXTURES / "upgrade/two-load-hosts-faulted-schema3.json"],
    ids=name,
)  # fmt: skip
def test_the_report_of_an_older_file_and_of_its_upgrade_written_as_the_current_schema_are_the_same(tmp_path, path):
    older = json.loads(path.read_text())
    as_now = results_model.stored(results_model.current(older))
    assert as_now["schema"] == 6
    (tmp_path / "changes.json").write_text("[]")
    assert report.render(as_now, tmp_path, make_charts=False) == report.render(older, tmp_path, make_charts=False)


def test_the_history_lines_up_older_and_current_files(tmp_path):
    """Three runs written by older harnesses (schema 1, one unnamed app host), then one written now (schema 6) whose
    gthread sweep serves half as much: a regression against the older ones, and the index lists all four."""
    base = fixture_json("results/quick-all.json")
    for n in range(4):
        run = copy.deepcopy(base)
        run["run_id"], run["started"] = f"run{n}", f"2026-12-0{n + 1}T00:00:00Z"
        if n == 3:
            run = results_model.stored(results_model.current(run))
            for r in run["results"]:
                if r["scenario"] == "sweep" and r["instance"] == "demo-gthread" and r["rps"]:
                    r["rps"] /= 2
        d = tmp_path / run["run_id"]
        d.mkdir()
        (d / "run.json").write_text(json.dumps({"run_id": run["run_id"], "started": run["started"]}))
        files.write_json_atomic(d / "results.json", run)
    on_disk = [json.loads((tmp_path / f"run{n}" / "results.json").read_text()) for n in range(4)]
    assert [(f["schema"], "instances" in f) for f in on_disk] == [(1, False)] * 3 + [(6, True)]
    runs = history.load_runs(tmp_path)
    assert [r["data"]["schema"] for r in runs] == [6, 6, 6, 6] and all(r["complete"] for r in runs)
    found = history.changes(runs[-1]["data"], [r["data"] for r in runs[:-1]], history.Thresholds(min_history=3))
    regressed = {(c["config"], c["metric"]) for c in found if c["regression"]}
    assert ("gthread 1w×2t", "rps") in regressed
    assert not {config for config, _ in regressed} - {"gthread 1w×2t"}


def test_changes_that_name_no_app_host_are_the_one_app_hosts(tmp_path):
    path = tmp_path / "changes.json"
    path.write_text(json.dumps([{"metric": "p99_s", "app_host": "app2"}, {"metric": "rps"},
                                {"metric": "p50_s", "app_host": "app1"}]))  # fmt: skip
    assert results_model.changes_of(path, "app1") == [{"metric": "rps"}, {"metric": "p50_s", "app_host": "app1"}]


def test_a_run_json_written_before_bench_app_is_the_demos_loaded_by_siege():
    """run.json before bench_app named no app, and its matrix entries no app nor tool (siege was the only one)."""
    old = {"worker": ["sync"], "matrix": [{"worker": "sync", "name": "sync-probe-c1", "scenario": "probe",
                                           "endpoint": "/ioTask", "concurrency": 1, "reps": 3}]}  # fmt: skip
    plan = results_model.plan_of(old)
    assert plan["app"] == results_model.DEMO_APP and plan["worker_types"] == ["sync"]
    [entry] = plan["matrix"]
    assert (entry["app"], entry["tool"], entry["instance"], entry["worker_type"]) == (
        "demo",
        "siege",
        "demo-sync",
        "sync",
    )
    named = results_model.plan_of({**old, "app": {"name": "notes"}, "matrix": [{**old["matrix"][0], "tool": "wrk"}]})
    assert (named["matrix"][0]["app"], named["matrix"][0]["tool"], named["matrix"][0]["instance"]) == \
        ("notes", "wrk", "notes-sync")  # fmt: skip
    own = results_model.plan_of({**old, "matrix": [{**old["matrix"][0], "app": "notes"}]})
    assert own["matrix"][0]["app"] == "notes", "an entry that names its app keeps it"


def test_a_change_written_before_one_config_label_reads_as_the_report_labels_it(tmp_path):
    """reports/sample's changes.json says "gevent w1 t1 c1000"; its report says "gevent 1w×1000c" everywhere."""
    (tmp_path / "changes.json").write_text(json.dumps([
        {"config": "gevent w1 t1 c1000", "app_host": "app1"}, {"config": "gthread w1 t2 c1000"},
        {"config": "sync 1w", "app_host": "app1"}, {"config": "sync w1 t1 c1000", "app_host": "app2"},
    ]))  # fmt: skip
    got = results_model.changes_of(tmp_path / "changes.json", "app1")
    assert [c["config"] for c in got] == ["gevent 1w×1000c", "gthread 1w×2t", "sync 1w"]


def test_the_gunicorn_settings_run_json_recorded_are_what_collect_keeps(tmp_path):
    """run.json's gunicorn_settings (bench_load.yml writes the gunicorn role's, since they were recorded) go to
    results.json as they are: the history lines up runs by them; a run.json without them gives none."""
    assert "gunicorn_settings" not in fresh(tmp_path)
    run = tmp_path / "recorded"
    shutil.copytree(FIXTURES / "two-load-hosts", run)
    settings = {"timeout_s": 2, "graceful_timeout_s": 10, "keepalive_s": 2, "preload_app": True, "max_requests": 20,
                "max_requests_jitter": 5}  # fmt: skip
    files.write_json_atomic(run / "run.json", files.read_json(run / "run.json") | {"gunicorn_settings": settings})
    assert collect.collect(run, finished=FINISHED)["gunicorn_settings"] == settings
