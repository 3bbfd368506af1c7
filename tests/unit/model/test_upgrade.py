"""results.json's model (bench/model/results_model.py, schema 3) and the one upgrade of every older file to it: each
committed
sample and fixture upgrades; a file of schema 1, of schema 2 and one without a schema, collected by older harnesses
from tests/fixtures/two-load-hosts (tests/fixtures/upgrade), upgrade to what today's collect writes from the same
folder; a current file upgrades to itself; a newer one is refused; the report of an upgraded file is the report of the
file as it was; the history lines up old and new files."""

from __future__ import annotations

import copy
import json
import shutil
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
OLDER = [*SAMPLES, *sorted((FIXTURES / "results").glob("*.json")), *sorted((FIXTURES / "upgrade").glob("*.json"))]


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


def fresh(tmp_path: Path, layout: str = "plain") -> dict:
    """results.json as today's collect writes it, of tests/fixtures/two-load-hosts (as it is, or paired)."""
    run = tmp_path / layout
    if layout == "paired":
        paired(FIXTURES / "two-load-hosts", run)
    else:
        shutil.copytree(FIXTURES / "two-load-hosts", run)
    files.write_json_atomic(run / "results.json", results_model.stored(collect.collect(run, finished=FINISHED)))
    return json.loads((run / "results.json").read_text())


def without_source(results: dict) -> dict:
    return {k: v for k, v in results.items() if k != "catalog_source"}


# --- every committed sample and fixture ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", OLDER, ids=name)
def test_every_committed_sample_and_fixture_upgrades_to_schema_3(path):
    data = json.loads(path.read_text())
    kept = copy.deepcopy(data)
    up = results_model.upgrade(data)
    assert data == kept, "the file's content is left alone"
    assert up["schema"] == 3 and list(up)[: len(results_model.ORDER)] == list(results_model.ORDER)
    assert up["catalog_source"] == results_model.CATALOG_UPGRADED
    assert up["catalog"] == results_model.catalog_entries(data["workers_tested"])
    assert set(up["catalog"]["types"]) == set(data["workers_tested"]) & set(catalog.load().names)
    assert results_model.catalog_of(up).names == tuple(up["catalog"]["types"])
    # the instances once, each record naming its own and repeating none of its settings
    assert set(up["instances"]) == {r["instance"] for r in up["results"]}
    assert not [r["name"] for r in up["results"] if set(r) & set(results_model.INSTANCE_FIELDS)]
    settings = [k for k in results_model.INSTANCE_FIELDS if k != "app"]  # a record's app: the run's (below)
    for old, new in zip(data["results"], results_model.expand(up)["results"], strict=True):
        assert {k: new[k] for k in settings} == {k: old.get(k) for k in settings}, old["name"]
        assert new["app"] == up["app"]["name"] and new["instance"] == f"{new['app']}-{new['worker']}"
    # every app host named, its part whole, every record, failure and event naming one of them
    assert up["app_hosts"] and all(list(p) == list(results_model.PER_APP_HOST) for p in up["app_hosts"].values())
    assert {x["app_host"] for x in up["results"] + up["failures"] + up["events"]} <= set(up["app_hosts"])
    if "app_hosts" not in data:  # one app host, unnamed: the host of role app in the run's facts
        assert list(up["app_hosts"]) == ["app1"] and up["app_hosts"]["app1"]["versions"] == data["versions"]
    assert up["app"]["name"] == (data.get("app") or {}).get("name", "demo")
    assert json.loads(json.dumps(up)) == up, "the model is JSON as it is"
    assert results_model.upgrade(up) is up, "upgrading a current file is the identity"


def test_the_committed_samples_are_read_as_they_are():
    """reports/sample (eight types, the demo app before bench_app) and reports/sample-notes (the notes app)."""
    assert [p.parent.name for p in SAMPLES] == ["sample", "sample-notes"]
    sample, notes = (results_model.load(p) for p in SAMPLES)
    assert sample["app"] == results_model.DEMO_APP and history.app_packages(sample) == ["flask", "fastapi"]
    assert notes["app"]["name"] == "notes" and history.app_packages(notes) == ["Flask", "marshmallow"]
    assert len(sample["instances"]) == len(sample["workers_tested"]) == 8
    gthread = results_model.instance_of(sample, next(r for r in sample["results"] if r["worker"] == "gthread"))
    assert (gthread["workers"], gthread["threads"], gthread["gunicorn_version"]) == (1, 2, "27.0.1")
    assert set(notes["instances"]) == {f"notes-{w}" for w in notes["workers_tested"]}


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


def test_the_file_stores_each_instance_once_and_the_model_in_memory_repeats_it_on_each_record(tmp_path):
    now = fresh(tmp_path)
    assert now["schema"] == 3 and now["instances"] == {
        "demo-gevent": {"worker": "gevent", "worker_class": "gevent", "app": "demo", "gunicorn_version": "27.0.1",
                        "workers": 1, "threads": 1, "worker_connections": 1000, "http_parser": None,
                        "asgi_loop": None}
    }  # fmt: skip
    assert {r["instance"] for r in now["results"]} == {"demo-gevent"}
    assert not any(set(r) & set(results_model.INSTANCE_FIELDS) for r in now["results"])
    loaded = results_model.load(tmp_path / "plain" / "results.json")
    assert loaded == collect.collect(tmp_path / "plain", finished=FINISHED), "what collect gives is what load reads"
    assert all(r["worker"] == "gevent" and r["threads"] == 1 for r in loaded["results"])
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


@pytest.mark.parametrize("schema", [4, 99, "3", 3.0, True])
def test_a_file_of_an_unknown_schema_is_refused_naming_it(tmp_path, schema):
    data = fixture_json("results/quick-all.json") | {"schema": schema}
    with pytest.raises(results_model.SchemaError) as refused:
        results_model.upgrade(data)
    text = str(refused.value)
    assert f"has schema {schema!r}; this harness reads schema 3 and upgrades 1 and 2" in text
    assert data["run_id"] in text and data["git_commit"] in text
    (tmp_path / "results.json").write_text(json.dumps(data))
    with pytest.raises(results_model.SchemaError, match=f"has schema {schema!r}"):
        report.main(str(tmp_path))


# --- readers: the run's own catalog, the report, the history ------------------------------------------------------


def test_a_schema_3_files_own_catalog_is_what_compare_reads(tmp_path):
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
     FIXTURES / "results/fleet-two-hosts.json", FIXTURES / "results/quick-all-20261126-siege.json"],
    ids=name,
)  # fmt: skip
def test_the_report_of_an_older_file_and_of_its_upgrade_written_as_schema_3_are_the_same(tmp_path, path):
    older = json.loads(path.read_text())
    as_3 = results_model.stored(results_model.current(older))
    assert as_3["schema"] == 3
    (tmp_path / "changes.json").write_text("[]")
    assert report.render(as_3, tmp_path, make_charts=False) == report.render(older, tmp_path, make_charts=False)


def test_the_history_lines_up_older_and_current_files(tmp_path):
    """Three runs written by older harnesses (schema 1, one unnamed app host), then one written now (schema 3) whose
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
    assert [(f["schema"], "instances" in f) for f in on_disk] == [(1, False)] * 3 + [(3, True)]
    runs = history.load_runs(tmp_path)
    assert [r["data"]["schema"] for r in runs] == [3, 3, 3, 3] and all(r["complete"] for r in runs)
    found = history.changes(runs[-1]["data"], [r["data"] for r in runs[:-1]], history.Thresholds(min_history=3))
    regressed = {(c["config"], c["metric"]) for c in found if c["regression"]}
    assert ("gthread 1w×2t", "rps") in regressed
    assert not {config for config, _ in regressed} - {"gthread 1w×2t"}


def test_changes_that_name_no_app_host_are_the_one_app_hosts(tmp_path):
    path = tmp_path / "changes.json"
    path.write_text(json.dumps([{"metric": "rps"}, {"metric": "p99_s", "app_host": "app2"}]))
    assert results_model.changes_of(path, "app1") == [{"metric": "rps"}]


def test_a_change_written_before_one_config_label_reads_as_the_report_labels_it(tmp_path):
    """reports/sample's changes.json says "gevent w1 t1 c1000"; its report says "gevent 1w×1000c" everywhere."""
    (tmp_path / "changes.json").write_text(json.dumps([
        {"config": "gevent w1 t1 c1000", "app_host": "app1"}, {"config": "gthread w1 t2 c1000"},
        {"config": "sync 1w", "app_host": "app1"}, {"config": "sync w1 t1 c1000", "app_host": "app2"},
    ]))  # fmt: skip
    got = results_model.changes_of(tmp_path / "changes.json", "app1")
    assert [c["config"] for c in got] == ["gevent 1w×1000c", "gthread 1w×2t", "sync 1w"]
