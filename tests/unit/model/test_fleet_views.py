"""A run of two app hosts (tests/fixtures/results/fleet-two-hosts.json: tests/lab/test_fleet.py's pairs on the lab, app1
Debian 12 on one core, app2 Debian 13 on two, stock), split into each host's view (bench/model/fleet.py) and read by the
report, the history and the index as runs of one host each."""

from __future__ import annotations

import copy
import json
import re
import shutil

import pytest
from support import FIXTURES, fixture_json

from bench import files
from bench.model import fleet, results_model
from bench.parse import collect
from bench.render import report
from bench.trends import compare, history, index, keep

FLEET = FIXTURES / "results/fleet-two-hosts.json"


@pytest.fixture
def results() -> dict:
    return fixture_json("results/fleet-two-hosts.json")


def test_each_view_is_one_host_with_its_own_records_facts_and_versions(results):
    views = fleet.views(results)
    assert [v["app_host"] for v in views] == ["app1", "app2"] and fleet.app_hosts(results) == ["app1", "app2"]
    for view, load in zip(views, ("load1", "load2"), strict=True):
        assert set(view["hosts"]) == {view["app_host"], load}
        assert view["results"] and all(r["app_host"] == view["app_host"] for r in view["results"])
        assert view["versions"] == results["app_hosts"][view["app_host"]]["versions"]
        assert view["load_hosts"] == [load] and view["fleet"] == ["app1", "app2"]
    assert len(views[0]["results"]) + len(views[1]["results"]) == len(results["results"])
    assert views[0]["versions"]["gthread"]["python"].startswith("3.11.")
    assert views[1]["versions"]["gthread"]["python"].startswith("3.13.")
    legacy = fixture_json("results/quick-all.json")  # a run from before several app hosts: its one host's view
    (one,) = fleet.views(legacy)
    assert (one["app_host"], one["fleet"], one["load_hosts"], set(one["hosts"])) == ("app1", ["app1"], ["load1"],
                                                                                    {"app1", "load1"})  # fmt: skip
    assert [r["name"] for r in one["results"]] == [r["name"] for r in legacy["results"]]
    assert one["versions"] == legacy["versions"] and one["complete"] is legacy["complete"]


def test_machine_names_what_each_host_is(results):
    app1, app2 = fleet.views(results)
    assert fleet.machine(app1).endswith("x1, 23.5 GiB, Debian 12.15, Python 3.11.2")
    assert fleet.machine(app2).endswith("x2, 23.5 GiB, Debian 13.8, Python 3.13.5")


def test_side_by_side_lines_up_the_hosts_per_type_and_endpoint_per_core(results):
    rows = fleet.side_by_side(fleet.views(results), results["workers_tested"])
    assert [(r["variant"], r["label"]) for r in rows] == [("gthread", "/ioTask?ms=100"),
                                                              ("gevent", "/ioTask?ms=100")]  # fmt: skip
    for row in rows:
        assert row["concurrency"] == 4
        one, two = row["hosts"]["app1"], row["hosts"]["app2"]
        assert one["cores"] == 1 and two["cores"] == 2
        assert one["rps_per_core"] == one["rps"] and two["rps_per_core"] == pytest.approx(two["rps"] / 2)
        assert one["p99_s"] is not None and two["p99_s"] is not None


def test_the_report_opens_with_the_machines_then_a_section_per_host(tmp_path):
    shutil.copy(FLEET, tmp_path / "results.json")
    text = report.main(str(tmp_path)).read_text()
    assert text.startswith("# gunicorn worker types: run ") and "2 app hosts side by side" in text.splitlines()[0]
    top = text[: text.index("## App host app1")]
    assert "| worker | c | app1 rps | per core | p99 (s) | app2 rps | per core | p99 (s) |" in top
    assert "![/ioTask?ms=100: throughput per core by app host](hosts-ioTask-ms-100.png)" in top
    assert (tmp_path / "hosts-ioTask-ms-100.png").stat().st_size > 0
    app1, app2 = text.split("## App host app1: ")[1].split("## App host app2: ")
    for section in (app1, app2):
        assert "### Verdict: how many requests" in section and "### Hosts and versions" in section
        assert "\n## Verdict" not in section, "a host's headings are one level down"
    assert "| app1 (10.203.0.2) | app |" in app1 and "| app2 " not in app1
    assert "| app2 (10.203.0.3) | app |" in app2 and "Debian 13.8 | 3.13.5 |" in app2
    assert (tmp_path / "app1-probe-io.png").exists() and (tmp_path / "app2-probe-io.png").exists()


def test_the_history_holds_one_entry_per_host_and_compares_the_same_machine_only(tmp_path, results):
    for i in range(4):
        run = copy.deepcopy(results)
        run["run_id"] = run["started"] = f"2026-11-2{i}T00:00:00Z"
        if i == 3:  # the newest: app2 serves gevent's /ioTask?ms=100 at 60 % of before, app1 as before
            for r in run["results"]:
                if r["app_host"] == "app2" and r["worker"] == "gevent" and r["scenario"] == "sweep":
                    r["rps"] *= 0.6
        d = tmp_path / f"run{i}"
        (d / "raw").mkdir(parents=True)
        (d / "run.json").write_text("{}")
        files.write_json_atomic(d / "results.json", run)
    runs = history.load_runs(tmp_path)
    assert [(r["dir"].name, r["data"]["app_host"]) for r in runs][:2] == [("run0", "app1"), ("run0", "app2")]
    app1, app2 = (r["data"] for r in runs[:2])
    assert not history.comparable(app1, app2), "another machine: Debian 13, Python 3.13, two cores"
    assert history.comparable(app1, runs[2]["data"])
    earlier = [r["data"] for r in runs[:-2]]
    newest = {r["data"]["app_host"]: r["data"] for r in runs[-2:]}
    assert history.changes(newest["app1"], earlier) == []
    found = [c for c in history.changes(newest["app2"], earlier) if c["metric"] == "rps"]
    assert {c["point"] for c in found} == {"/ioTask?ms=100 c=1", "/ioTask?ms=100 c=4"}
    found = found[0]
    assert found["regression"] and found["config"].startswith("gevent ") and found["change"] == pytest.approx(-0.4)
    # raw/ is per run folder, not per host entry: keeping 1 keeps the newest folder's (its 2 entries would keep 2)
    assert keep.keep_raw(runs, 1) == [tmp_path / f"run{i}" / "raw" for i in range(3)]


def test_the_index_has_a_row_per_app_host_and_its_machine(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    shutil.copy(FLEET, d / "results.json")
    (d / "run.json").write_text("{}")
    (d / "changes.json").write_text(json.dumps([]))
    text = index.render(tmp_path).read_text()
    rows = [line for line in text.splitlines() if line.startswith("| 2026")]
    assert len(rows) == 2 and "| app1 (" in rows[0] + rows[1] and "| app2 (" in rows[0] + rows[1]
    assert "| app host |" in text


def test_collect_counts_time_in_rounds_and_keeps_raw_per_app_host(tmp_path):
    assert collect.in_rounds({"a": 10.0, "b": 12.0}, {"a": {"round": 0}, "b": {"round": 0}}) == 12.0
    assert collect.in_rounds({"a": 10.0, "b": 12.0}, {"a": {"round": 0}, "b": {"round": 1}}) == 22.0
    pairs = {"app1": {"load_hosts": ["load1"], "round": 0}, "app2": {"load_hosts": ["load2"], "round": 0}}
    assert {h: p["raw"] for h, p in results_model.plan_of({"pairs": pairs})["app_hosts"].items()} == {
        "app1": "app1", "app2": "app2"
    }, "raw/<app host>/"  # fmt: skip
    one = {"hosts": {"app1": {"role": "app"}, "load1": {"role": "load"}}}
    assert results_model.plan_of({}, one)["app_hosts"] == {
        "app1": {"load_hosts": ["load1"], "round": 0, "raw": "", "verify": {}, "versions": {}, "processes": {}}
    }, "a run from before several app hosts: its one app host, named in its facts, and raw/ itself"  # fmt: skip


def test_compare_pairs_runs_host_by_host(tmp_path, results):

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    other = copy.deepcopy(results)  # the same run, its second host named app3
    other["app_hosts"]["app3"] = other["app_hosts"].pop("app2")
    for rec in other["results"]:
        rec["app_host"] = rec["app_host"].replace("app2", "app3")
    files.write_json_atomic(tmp_path / "a" / "results.json", other)
    files.write_json_atomic(tmp_path / "b" / "results.json", results)
    text = compare.main(str(tmp_path / "a"), str(tmp_path / "b"))
    assert text.count("\n# ") + text.startswith("# ") == 1 and " (app1)\n" in text.splitlines()[0] + "\n"
    assert "- app3: only in A" in text and "- app2: only in B" in text and "**Not comparable**" not in text


def test_a_host_whose_type_failed_is_named_at_the_top_and_its_section_says_why(tmp_path, results):
    failure = fixture_json("journal/gthread.failure.json") | {"app_host": "app2"}
    results["failures"] = [failure]
    results["app_hosts"]["app2"]["complete"] = results["complete"] = False
    files.write_json_atomic(tmp_path / "results.json", results)
    text = report.main(str(tmp_path)).read_text()
    assert re.search(r"- \*\*app1\*\* \(.*\) loaded by load1: complete\.", text)
    assert re.search(r"- \*\*app2\*\* \(.*\) loaded by load2: \*\*incomplete\*\*: gthread failed \(see its", text)
    app1, app2 = text.split("## App host app1: ")[1].split("## App host app2: ")
    assert "### Faults during this run" in app2 and "- **gthread** failed while" in app2
    assert "Faults during this run" not in app1


def test_a_point_release_keeps_the_history_a_new_release_or_python_starts_another(results):
    app1 = fleet.views(results)[0]
    later = copy.deepcopy(app1)
    facts = fleet.app_facts(later)
    facts["os"], facts["python"] = "Debian 12.16", "3.11.9"
    assert history.comparable(app1, later), "an upgrade within Debian 12 and Python 3.11 is what regressions are for"
    facts["python"] = "3.13.5"
    assert not history.comparable(app1, later)


def test_runs_with_other_gunicorn_settings_are_not_lined_up_and_compare_says_which(results):
    """A run whose workers recycle every 20 requests (max_requests) is not the run before it made slower: flagged
    "regressed" against it before runs recorded their settings. A run from before then compares with any."""
    app1 = fleet.views(results)[0]
    plain = {"timeout_s": 30, "graceful_timeout_s": 10, "keepalive_s": 2, "preload_app": False, "max_requests": 0,
             "max_requests_jitter": 0}  # fmt: skip
    before, after = copy.deepcopy(app1), copy.deepcopy(app1)
    before["gunicorn_settings"], after["gunicorn_settings"] = plain, plain | {"max_requests": 20}
    assert history.comparable(before, copy.deepcopy(before)) and not history.comparable(before, after)
    assert history.comparable({**app1, "gunicorn_settings": {}}, after), "nothing recorded: nothing to tell apart"
    text = compare.compare(before, after)
    assert "**Not comparable**: the app, the profile, the machine or gunicorn's settings differ" in text
    assert (
        "| gunicorn settings | timeout_s 30, graceful_timeout_s 10, keepalive_s 2, preload_app False, max_requests 0"
        in text
    )
    for run in (after, slower := copy.deepcopy(before)):  # each sweep served half as much
        for r in run["results"]:
            if r["scenario"] == "sweep":
                r["rps"] /= 2
    assert [c for c in history.changes(slower, [before] * 5) if c["regression"]], "the same settings: regressed"
    assert history.changes(after, [before] * 5) == [], "no history of its settings: nothing to regress against"


def test_the_report_says_gunicorns_settings_when_the_run_recorded_them(tmp_path, results):
    assert "gunicorn's settings for every instance" not in report.render(results, tmp_path, make_charts=False)
    results["gunicorn_settings"] = {"timeout_s": 2, "preload_app": True, "max_requests": 20}
    text = report.render(results, tmp_path, make_charts=False)
    assert "gunicorn's settings for every instance: timeout_s 2, preload_app True, max_requests 20." in text
    one = json.loads((FIXTURES / "mix" / "results.json").read_text()) | {"gunicorn_settings": {"timeout_s": 2}}
    assert "gunicorn's settings for every instance: timeout_s 2." in report.render(one, tmp_path, make_charts=False)


def test_compare_puts_a_run_of_one_host_against_each_host_of_another(tmp_path, results):

    legacy = fixture_json("results/quick-all.json")
    pairs, alone = compare.matched(legacy, results)
    assert [b["app_host"] for _, b in pairs] == ["app1", "app2"] and alone == []


def test_each_index_row_counts_its_own_app_hosts_changes(tmp_path, results):
    """The newest of four runs of the two hosts has app2's gevent sweep at 60 % of before, app1 as before: its
    changes.json (what collect-report found, each change naming its app host) flags app2's points only, and each of
    the run's two index rows counts its own app host's changes, not the run's."""
    for i in range(4):
        run = copy.deepcopy(results)
        run["run_id"], run["started"] = f"20261120T00000{i}Z-demo", f"2026-11-20T00:00:0{i}Z"
        if i == 3:
            for r in run["results"]:
                if r["app_host"] == "app2" and r["worker"] == "gevent" and r["scenario"] == "sweep":
                    r["rps"] *= 0.6
        d = tmp_path / run["run_id"]
        d.mkdir()
        (d / "run.json").write_text("{}")
        files.write_json_atomic(d / "results.json", run)
    runs = history.load_runs(tmp_path)
    earlier = [r["data"] for r in runs if r["dir"].name != "20261120T000003Z-demo"]
    newest = tmp_path / "20261120T000003Z-demo"
    found = [c | {"app_host": one["app_host"]} for one in fleet.views(json.loads((newest / "results.json").read_text()))
             for c in history.changes(one, earlier)]  # fmt: skip
    assert sorted((c["app_host"], c["config"].split()[0], c["point"], c["regression"]) for c in found) == [
        ("app2", "gevent", "/ioTask?ms=100 c=1", True), ("app2", "gevent", "/ioTask?ms=100 c=4", True)
    ]  # fmt: skip
    (newest / "changes.json").write_text(json.dumps(found))  # as `python -m bench collect-report` writes it
    rows = {line.split(" | ")[2].split(" (")[0]: line for line in index.render(tmp_path).read_text().splitlines()
            if line.startswith("| 2026-11-20T00:00:03Z |")}  # fmt: skip
    assert sorted(rows) == ["app1", "app2"]
    assert rows["app2"].endswith(" | **2 regressed** |") and rows["app1"].endswith(" | – |"), rows
