"""Operations under load (bench/model/operations.py): which ones a run does, their settings, and the runs each worker
type gets for them in the scenario matrix (the demo's, and an app's own)."""

from __future__ import annotations

import pytest
import yaml
from support import ROOT

from bench.model import app, estimate, operations, plan, scenarios

LOAD = yaml.safe_load((ROOT / "roles/load/defaults/main.yml").read_text())
DEMO = app.load_file(app.DEMO_FILE, base=ROOT)
INSTANCES = plan.plan_instances("sync,gevent", app=DEMO)


def matrix(kinds, profile="quick", the_app=DEMO, instances=INSTANCES, **settings):
    prof = LOAD["load_profiles"][profile]
    return scenarios.build_matrix(instances, prof["probes"], prof["sweep"], scenarios=the_app.as_vars()["scenarios"],
                                  profile=profile, rate=prof.get("rate"), operations=kinds,
                                  operation_settings={**prof["operations"], **settings})  # fmt: skip


def test_the_operations_asked_for_the_profiles_otherwise_all_or_none():
    assert operations.chosen("reload,restart", []) == ["reload", "restart"]
    assert operations.chosen(["kill_worker"], ["reload"]) == ["kill_worker"]
    assert operations.chosen(None, ["reload"]) == ["reload"]
    assert operations.chosen("all", []) == list(operations.OPERATIONS) == ["reload", "restart", "kill_worker"]
    assert operations.chosen("none", ["reload"]) == []
    assert operations.chosen(None, LOAD["load_profiles"]["quick"]["operations"]["do"]) == []
    assert operations.chosen(None, LOAD["load_profiles"]["full"]["operations"]["do"]) == list(operations.OPERATIONS)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("reload,deploy", r"operations: 'deploy' is not an operation; use reload, restart, kill_worker \(or all"),
        ("reload,reload", r"operations='reload,reload': each operation once"),
        (["reload", 3], r"operations=\['reload', 3\]: a list of operations among reload, restart, kill_worker"),
        (",", r"operations=',': a list of operations"),
    ],
)
def test_bad_operations_are_refused_naming_the_variable(value, message):
    with pytest.raises(operations.OperationError, match=message):
        operations.chosen(value, [])


def test_the_profiles_default_is_named_when_it_is_the_bad_one():
    with pytest.raises(operations.OperationError, match=r"load_profiles.<profile>.operations.do: 'hup' is not"):
        operations.chosen(None, ["hup"])


def test_each_type_gets_one_run_per_operation_after_all_its_others_at_the_same_rate():
    runs = matrix("reload,restart,kill_worker")
    ops = [r for r in runs if r["scenario"] == "operation"]
    assert [r["name"] for r in ops] == [f"{t}-op-{k}-ioTask-ms-100" for t in ("sync", "gevent")
                                        for k in ("reload", "restart", "kill_worker")]  # fmt: skip
    for worker_type in ("sync", "gevent"):
        mine = [r["scenario"] for r in runs if r["worker_type"] == worker_type]
        assert mine[-3:] == ["operation"] * 3 and "operation" not in mine[:-3]
    # /ioTask?ms=100 (unit_s 0.1) at half of one slot: 5 a second, evenly spaced, the same for every type
    shape = {(r["rate_per_s"], r["arrivals"], r["time_s"], r["warmup_s"], r["seed"]) for r in ops}
    assert shape == {(5.0, "even", 12, 1, ops[0]["seed"])}
    reload = ops[0]
    assert reload["operation"] == {"kind": "reload", "at_s": 5.0, "window_s": 3.0, "new_release": True}
    assert ops[2]["operation"]["new_release"] is False  # a worker killed keeps the code
    assert reload["path"] == "/ioTask?ms=100" and reload["tool"] == "open_loop"
    assert reload["progress"].endswith("sync /ioTask?ms=100 5/s, reload at 5 s (operation)")
    assert not [r for r in matrix(None) if r["scenario"] == "operation"]  # quick does none unless asked


def test_an_operation_run_is_estimated_with_its_warmup_time_and_what_it_spends_around_them():
    runs = matrix("restart")
    expected, longest = estimate.run_seconds(next(r for r in runs if r["scenario"] == "operation"))
    assert expected == 1 + 12 + operations.OPERATION_END_S
    assert longest == 1 + 12 + 30  # its timeout: warm-up, time and the sweep's grace


def test_the_command_line_replaces_the_profiles_operations():
    assert {r["operation"]["kind"] for r in matrix(None, do=["kill_worker"]) if r["scenario"] == "operation"} == {
        "kill_worker"
    }
    assert not [r for r in matrix("none", do=["kill_worker"]) if r["scenario"] == "operation"]
    with pytest.raises(operations.OperationError, match="operations: 'hup' is not an operation"):
        matrix("reload,hup")


def test_an_apps_own_scenario_at_its_own_rate_and_none_without_one():
    notes = app.load_file(ROOT / "examples/notes/notes.bench.yml", base=ROOT)
    raw = notes.as_vars()["scenarios"]
    with pytest.raises(operations.OperationError, match=r"operations=reload: no scenario of the app is loaded during"):
        scenarios.build_matrix(plan.plan_instances("gthread", app=notes), LOAD["load_profiles"]["quick"]["probes"],
                               LOAD["load_profiles"]["quick"]["sweep"], scenarios=raw, profile="quick",
                               operations=["reload"], operation_settings={})  # fmt: skip
    own = [{**raw[0], "load": [*raw[0]["load"], "operations"], "rate_per_s": [40.0]}, *raw[1:]]
    runs = scenarios.build_matrix(plan.plan_instances("gthread", app=notes), LOAD["load_profiles"]["quick"]["probes"],
                                  LOAD["load_profiles"]["quick"]["sweep"], scenarios=own, profile="quick",
                                  operations=["kill_worker"],
                                  operation_settings={"time_s": 20, "at_s": 10})  # fmt: skip
    op = next(r for r in runs if r["scenario"] == "operation")
    assert (op["rate_per_s"], op["method"], op["path"], op["time_s"]) == (40.0, raw[0]["method"], raw[0]["path"], 20)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"at_s": 12}, r"load_operations.at_s=12: the operation's instant must fall inside the run, at least a second"),
        ({"at_s": 0}, r"load_operations.at_s=0: a number > 0"),
        ({"at_s": -3}, r"load_operations.at_s=-3: a number > 0"),
        ({"time_s": 2.5}, r"load_operations.time_s=2.5: a whole number >= 1"),
        ({"window_s": "5"}, r"load_operations.window_s='5': a number > 0"),
        ({"utilization": 0}, r"load_operations.utilization=0: a number > 0"),
    ],
)
def test_bad_operation_settings_are_refused_naming_the_variable(settings, message):
    with pytest.raises(operations.OperationError, match=message):
        matrix("reload", **settings)
