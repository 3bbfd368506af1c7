"""A matrix of knobs (bench/model/plan.py: lists of values, each applied to the types that read it) and the time a
run will take against its budget (bench/model/estimate.py), on the controller before any host is touched."""

from __future__ import annotations

import copy

import pytest
import yaml
from support import ROOT

from bench.model import app, estimate, plan, results_model, scenarios

DEMO = app.given_or_demo(None)
DEFAULTS = yaml.safe_load((ROOT / "roles/load/defaults/main.yml").read_text())


def names(instances: list[dict]) -> list[str]:
    return [i["name"] for i in instances]


def test_each_knob_applies_only_to_the_types_that_read_it_and_nothing_runs_twice():
    got = plan.plan_instances("gthread,gevent", workers="1,2", threads=[1, 2, 4])
    assert names(got) == [
        "demo-gthread-w1-t1", "demo-gthread-w1-t2", "demo-gthread-w1-t4",
        "demo-gthread-w2-t1", "demo-gthread-w2-t2", "demo-gthread-w2-t4",
        "demo-gevent-w1", "demo-gevent-w2",  # gevent ignores threads: once per workers value, not three times
    ]  # fmt: skip
    settings = [(i["worker_type"], i["workers"], i["threads"], i["worker_connections"]) for i in got]
    assert len(set(settings)) == len(settings) == 8, "no combination is run twice"
    assert {i["threads"] for i in got if i["worker_type"] == "gevent"} == {1}
    assert [i["variant"] for i in got][:2] == ["gthread-w1-t1", "gthread-w1-t2"]
    assert [i["slots"] for i in got[:6]] == [1, 2, 4, 2, 4, 8]
    # one virtualenv per type and requirements, named after its first instance; the others link to it
    assert {i["venv"] for i in got} == {"demo-gthread-w1-t1", "demo-gevent-w1"}
    assert names(plan.virtualenvs(got)) == ["demo-gthread-w1-t1", "demo-gevent-w1"]
    assert plan.run_label([i["worker_type"] for i in got]) == "gthread+gevent", "the run's folder names each type once"


def test_one_value_keeps_the_types_own_names_and_a_value_only_one_type_varies_names_only_its_instances():
    one = plan.plan_instances("gthread,gevent", workers="2")
    assert names(one) == ["demo-gthread", "demo-gevent"] and [i["venv"] for i in one] == names(one)
    assert [i["variant"] for i in one] == ["gthread", "gevent"]
    mixed = plan.plan_instances("sync,gthread", threads="2,4")
    assert names(mixed) == ["demo-sync", "demo-gthread-t2", "demo-gthread-t4"]


def test_a_knob_that_changes_the_requirements_gets_its_own_virtualenv():
    got = plan.plan_instances("gthread", http_parser="python,fast")
    assert names(got) == ["demo-gthread-parser-python", "demo-gthread-parser-fast"]
    assert [i["venv"] for i in got] == names(got), "gunicorn_h1c is installed in one of them only"
    assert got[1]["requirements"] == ["gunicorn==27.0.1", "gunicorn_h1c==0.6.10"]


def test_the_app_file_gives_a_matrix_and_the_command_line_wins_knob_by_knob():
    raw = yaml.safe_load((ROOT / "app/demo.bench.yml").read_text())["bench_app"]
    raw = {**copy.deepcopy(raw), "src": str(ROOT / "app"), "matrix": {"workers": [1, 2], "threads": 4}}
    mine = app.parse(raw)
    assert mine.matrix == {"workers": [1, 2], "threads": [4]} and mine.as_vars()["matrix"] == mine.matrix
    got = plan.plan_instances("gthread", app=mine)
    assert [(i["workers"], i["threads"]) for i in got] == [(1, 4), (2, 4)]
    assert [(i["workers"], i["threads"]) for i in plan.plan_instances("gthread", app=mine, workers="3")] == [(3, 4)]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"threads": []}, r"^threads=\[\]: an empty value; give one value or a list of them"),
        ({"workers": "1,,2"}, r"^workers='1,,2': an empty value"),
        ({"threads": "1,0"}, r"^threads='0': must be a whole number from 1 to 256"),
        ({"workers": [1, 65]}, r"^workers=65: must be a whole number from 1 to 64"),
        ({"worker_types": "sync,tornado", "threads": "1,2"}, r"^threads=1,2 with worker=sync,tornado: gunicorn's "
                                                             r"sync,tornado workers ignore it"),
        ({"asgi_loop": "uvloop,trio"}, r"^asgi_loop='trio': use one of auto, asyncio, uvloop$"),
    ],
)  # fmt: skip
def test_a_bad_list_is_refused_naming_the_knob(kw, message):
    with pytest.raises(plan.PlanError, match=message):
        plan.plan_instances(**{"worker_types": "gthread", **kw})


@pytest.mark.parametrize(
    ("matrix", "error", "message"),
    [
        ({"cores": [1, 2]}, app.AppError, r"^bench_app.matrix: unknown field cores \(known: workers, threads,"),
        ({"threads": []}, app.AppError, r"^bench_app.matrix.threads=\[\]: a value or a list of at least one value"),
        ({"threads": [{"a": 1}]}, app.AppError, r"^bench_app.matrix.threads="),
        ({"threads": [0, 2]}, plan.PlanError, r"^bench_app.matrix.threads=0: must be a whole number from 1 to 256"),
        ("threads", app.AppError, r"^bench_app.matrix='threads': a mapping"),
    ],
)
def test_a_bad_matrix_in_the_app_file_is_refused_naming_its_field(matrix, error, message):
    raw = yaml.safe_load((ROOT / "app/demo.bench.yml").read_text())["bench_app"]
    with pytest.raises(error, match=message):
        mine = app.parse({**raw, "src": str(ROOT / "app"), "matrix": matrix})
        plan.plan_instances("gthread", app=mine)


def matrix(instances: list[dict], profile: str = "quick") -> list[dict]:
    p = DEFAULTS["load_profiles"][profile]
    return scenarios.build_matrix(instances, p["probes"], p["sweep"], scenarios=DEMO.as_vars()["scenarios"],
                                  profile=profile, rate=p.get("rate"), capacity=p.get("capacity"))  # fmt: skip


def test_the_load_matrix_runs_each_combination_under_its_own_names():
    instances = plan.plan_instances("gthread,gevent", workers="1,2", threads="1,2,4")
    runs = matrix(instances)
    assert len({r["name"] for r in runs}) == len(runs), "every run of the matrix has a name of its own"
    assert [v for v in dict.fromkeys(r["variant"] for r in runs)] == [i["variant"] for i in instances]
    mine = [r for r in runs if r["variant"] == "gthread-w2-t4"]
    assert mine and {(r["instance"], r["workers"], r["threads"]) for r in mine} == {("demo-gthread-w2-t4", 2, 4)}
    assert mine[0]["name"].startswith("gthread-w2-t4-") and "gthread-w2-t4 " in mine[0]["progress"]


def test_a_records_instance_is_named_by_its_variant_and_older_records_by_their_type():
    assert results_model.variant_of({"worker_type": "gthread", "variant": "gthread-t4"}) == "gthread-t4"
    assert results_model.variant_of({"worker_type": "gthread"}) == "gthread"
    instances = {"demo-gthread-t2": {"worker_type": "gthread", "variant": "gthread-t2"},
                 "demo-sync": {"worker_type": "sync"}}  # fmt: skip
    assert results_model.variants({"instances": instances}) == ["gthread-t2", "sync"]


# --- the time a run will take ----------------------------------------------------------------------------------------


def test_the_estimate_of_the_sample_run_is_near_what_it_took():
    """reports/sample is make bench (quick, the demo, eight types on the lab): its load phase took 728 s and the run
    773 s in all. The model is within a fifth of it."""
    sample = results_model.load(ROOT / "reports/sample/results.json")
    instances = plan.plan_instances("all")
    est = estimate.estimate(matrix(instances), instances)
    took = sample["phases_s"]["load"] + estimate.FIXED_S
    assert est["instances"] == 8 and est["runs"] == len(matrix(instances))
    assert 0.8 < est["expected_s"] / took < 1.2, (est["expected_s"], took)
    assert est["longest_s"] > 3 * est["expected_s"], "every run to its timeout"


def test_the_estimate_grows_with_the_combinations_and_with_rounds_of_app_hosts():
    one = plan.plan_instances("gthread")
    six = plan.plan_instances("gthread", workers="1,2", threads="1,2,4")
    e1, e6 = estimate.estimate(matrix(one), one), estimate.estimate(matrix(six), six)
    assert 5.5 < (e6["expected_s"] - estimate.FIXED_S) / (e1["expected_s"] - estimate.FIXED_S) < 6.5
    assert e6["by_type"] == {"gthread": 6} and e6["instances"] == 6
    rounds = estimate.estimate(matrix(one), one, app_hosts=3, load_hosts=1)
    assert rounds["rounds"] == 3 and rounds["expected_s"] - estimate.FIXED_S == pytest.approx(
        3 * (e1["expected_s"] - estimate.FIXED_S)
    )
    text = estimate.describe(e6, 120)
    assert (
        text.startswith("6 instances (combinations: gthread 6), ") and "budget 2 h 00 min (load_budget_min=120)" in text
    )


def test_a_run_over_its_budget_is_refused_naming_the_budget():
    six = plan.plan_instances("gthread", workers="1,2", threads="1,2,4")
    est = estimate.estimate(matrix(six), six)
    estimate.check_budget(est, est["expected_s"] / 60 + 1)  # within: nothing to say
    over = (
        r"^load_budget_min=5: this run would take about \d+ min, over its budget of 5 min \(6 instances.*raise load_b"
    )
    with pytest.raises(estimate.BudgetError, match=over):
        estimate.check_budget(est, 5)
    for bad in (0, -3, "soon", None, True):
        with pytest.raises(
            estimate.BudgetError, match=r"^load_budget_min=.*: the minutes a run may take, a number > 0"
        ):
            estimate.check_budget(est, bad)


def test_minutes_read_as_a_person_would_say_them():
    assert [estimate.minutes(s) for s in (59, 60, 61, 3600, 12817)] == ["1 min", "1 min", "2 min", "1 h 00 min",
                                                                        "3 h 34 min"]  # fmt: skip


def test_a_mix_adds_each_of_its_runs_to_the_estimate():
    """The demo's mix at 8 a second and its waits alone: two runs of the quick profile's rate time a type."""
    one = plan.plan_instances("gevent")
    p = DEFAULTS["load_profiles"]["quick"]
    with_mix = scenarios.build_matrix(one, p["probes"], p["sweep"], scenarios=DEMO.as_vars()["scenarios"],
                                      profile="quick", rate=p["rate"], capacity=p["capacity"],
                                      mixes=DEMO.as_vars()["mixes"])  # fmt: skip
    added = estimate.estimate(with_mix, one)["expected_s"] - estimate.estimate(matrix(one), one)["expected_s"]
    assert added == pytest.approx(2 * (p["rate"]["warmup_s"] + p["rate"]["time_s"] + estimate.RATE_END_S))
