"""The scenario matrix: an app's scenarios (the demo's, app/demo.bench.yml; the notes example's) under the profiles in
roles/load/defaults/main.yml."""

from __future__ import annotations

import pytest
import yaml
from support import ROOT

from bench.model import app, plan, scenarios

LOAD = yaml.safe_load((ROOT / "roles/load/defaults/main.yml").read_text())
DEMO = app.load_file(app.DEMO_FILE, base=ROOT)
INSTANCES = plan.plan_instances("classic", app=DEMO)


def matrix(profile="quick", instances=INSTANCES, the_app=DEMO, **kw):
    prof = LOAD["load_profiles"][profile]
    kw.setdefault("rate", prof.get("rate"))
    return scenarios.build_matrix(instances, prof["probes"], prof["sweep"], scenarios=the_app.as_vars()["scenarios"],
                                  profile=profile, **kw)  # fmt: skip


def test_quick_profile_covers_every_type_probe_and_sweep():
    runs = matrix()
    # probes: 2 endpoints x c 1,2,4,10; sweep: 3 endpoints x (warm-up + c 1,10); /ioTask?ms=100 at a rate
    per_type = 2 * 4 + 3 * (1 + 2) + 1
    assert len(runs) == 5 * per_type
    assert [r["index"] for r in runs] == list(range(1, len(runs) + 1))
    assert runs[0]["progress"] == f"[1/{len(runs)}] sync /ioTask c=1 (probe)" and runs[0]["label"] == "/ioTask"
    assert len({r["name"] for r in runs}) == len(runs)
    probe = next(r for r in runs if (r["worker_type"], r["scenario"], r["concurrency"]) == ("gthread", "probe", 4))
    assert probe["reps"] == 1 and probe["threads"] == 2 and probe["time_s"] is None
    assert next(r for r in runs if r["concurrency"] == 1 and r["scenario"] == "probe")["reps"] == 3
    warmups = [r for r in runs if r["scenario"] == "warmup"]
    assert all(w["discard"] and w["time_s"] == 1 for w in warmups) and len(warmups) == 15
    assert {r["connection"] for r in runs} == {"close"}
    assert next(r for r in runs if r["worker_type"] == "eventlet")["gunicorn_version"] == "25.3.0"
    assert {r["instance"] for r in runs if r["worker_type"] == "sync"} == {"demo-sync"}
    assert {r["app"] for r in runs} == {"demo"}
    assert {r["label"] for r in runs if r["scenario"] == "sweep"} == {"/", "/ioTask?ms=100", "/cpuTask?n=650000"}
    assert {r["label"] for r in matrix("full") if r["scenario"] == "sweep"} == {"/", "/ioTask?ms=100", "/cpuTask"}


def test_an_apps_own_scenarios_carry_their_request_and_status_into_each_run():
    notes = app.load_file(ROOT / "examples/notes/notes.bench.yml", base=ROOT)
    runs = matrix("quick", plan.plan_instances("gthread", app=notes), notes)
    create = next(r for r in runs if r["scenario_name"] == "create" and r["scenario"] == "sweep")
    assert create["method"] == "POST" and create["path"] == "/notes" and create["status"] == 201
    assert create["label"] == "POST /notes" and create["name"].startswith("gthread-sweep-POST-notes-c")
    assert create["body"] == '{"text":"a note written under load","tags":["bench"]}'
    assert create["headers"] == {"Content-Type": "application/json"} and create["instance"] == "notes-gthread"
    stats = [r for r in runs if r["scenario_name"] == "stats"]
    assert {r["scenario"] for r in stats} == {"probe", "sweep", "warmup"} and {r["task"] for r in stats} == {"cpu"}
    assert not [r for r in runs if r["scenario_name"] == "bad_limit"], "bad_limit is in the full profile only"
    full = matrix("full", plan.plan_instances("gthread", app=notes), notes)
    assert [r for r in full if r["scenario_name"] == "bad_limit"]


def test_full_profile_repeats_sweep_points():
    runs = matrix("full", INSTANCES[:1])
    sweep = [r for r in runs if r["scenario"] == "sweep"]
    assert len(sweep) == 3 * 6 * 3
    assert {r["repeat"] for r in sweep} == {1, 2, 3}
    assert all(r["timeout_s"] == 10 + 30 for r in sweep)


def test_connection_per_worker_type():
    runs = matrix(connection_by_worker_type={"gevent": "keep-alive"})
    assert {r["worker_type"]: r["connection"] for r in runs}["gevent"] == "keep-alive"
    assert {r["worker_type"]: r["connection"] for r in runs}["sync"] == "close"


@pytest.mark.parametrize(
    ("probes", "sweep", "kw", "message"),
    [
        ({"concurrency": []}, None, {}, r"load_probes.concurrency=\[\]"),
        ({"concurrency": [0]}, None, {}, "load_probes.concurrency: 0 is not a whole number"),
        ({"concurrency": ["x"]}, None, {}, "'x' is not a whole number"),
        (None, {"time_s": 0}, {}, "load_sweep.time_s=0"),
        (None, {"time_s": 1}, {}, "load_sweep.time_s=1: siege needs at least 2 s"),
        (None, {"repeats": "many"}, {}, "load_sweep.repeats='many'"),
        (None, None, {"connection_by_worker_type": {"sync": "x"}}, "load_connection_by_worker_type.sync='x'"),
    ],
)
def test_bad_scenarios_are_refused_naming_the_variable(probes, sweep, kw, message):
    prof = LOAD["load_profiles"]["quick"]
    with pytest.raises(scenarios.ScenarioError, match=message):
        scenarios.build_matrix(
            INSTANCES,
            {**prof["probes"], **(probes or {})},
            {**prof["sweep"], **(sweep or {})},
            scenarios=DEMO.as_vars()["scenarios"],
            profile="quick",
            **{"rate": prof["rate"], **kw},
        )


def test_slug():
    assert scenarios.slug("/") == "root"
    assert scenarios.slug("/ioTask?ms=100") == "ioTask-ms-100"


def test_wrk_keeps_time_to_the_second_and_runs_one_second_sweeps():
    prof = LOAD["load_profiles"]["quick"]
    runs = scenarios.build_matrix(INSTANCES, prof["probes"], {**prof["sweep"], "time_s": 1}, sweep_tool="wrk",
                                  scenarios=DEMO.as_vars()["scenarios"], profile="quick")  # fmt: skip
    assert {r["time_s"] for r in runs if r["scenario"] == "sweep"} == {1}


def test_a_scenario_loaded_at_a_rate_gets_one_run_per_rate_the_same_for_every_type():
    runs = [r for r in matrix() if r["scenario"] == "rate"]
    # the demo's /ioTask?ms=100 at the quick profile's 0.8 of one slot (8 a second), every type; the full one's three
    assert {(r["worker_type"], r["rate_per_s"], r["utilization"]) for r in runs} == {
        (i["worker_type"], 8.0, 0.8) for i in INSTANCES
    }
    full = [(r["rate_per_s"], r["utilization"]) for r in matrix("full", INSTANCES[:1]) if r["scenario"] == "rate"]
    assert full == [(5.0, 0.5), (8.0, 0.8), (9.0, 0.9)]
    first = runs[0]
    assert first["tool"] == "open_loop" and first["arrivals"] == "poisson" and first["label"] == "/ioTask?ms=100"
    assert (first["time_s"], first["warmup_s"], first["concurrency"]) == (15, 1, scenarios.RATE_MAX_OPEN)
    assert first["timeout_s"] == 1 + 15 + 30 and first["seed"] == 1
    assert first["name"] == "sync-rate-ioTask-ms-100-8ps"
    assert first["progress"].endswith("sync /ioTask?ms=100 8/s poisson (rate)")
    assert len({r["name"] for r in matrix()}) == len(matrix())


def test_each_rate_runs_under_each_arrivals_asked_for():
    runs = matrix(instances=INSTANCES[:1], rate={"utilization": [0.8], "time_s": 5, "arrivals": ["poisson", "even"]})
    runs = [r for r in runs if r["scenario"] == "rate"]
    assert [(r["name"], r["arrivals"], r["seed"]) for r in runs] == [
        ("sync-rate-ioTask-ms-100-8ps", "poisson", 1), ("sync-rate-ioTask-ms-100-8ps-even", "even", 1)
    ]  # fmt: skip


def test_a_profile_without_rate_settings_loads_nothing_at_a_rate():
    assert [r for r in matrix(rate={}) if r["scenario"] == "rate"] == []
    assert [r for r in matrix(rate=None) if r["scenario"] == "rate"] == []


def test_a_scenarios_own_rates_replace_the_profiles_utilizations():
    own = DEMO.as_vars()["scenarios"] + [
        {
            **DEMO.as_vars()["scenarios"][0],
            "name": "hello_rate",
            "scenario_name": "hello_rate",
            "load": ["rate"],
            "rate_per_s": [50, 120.5],
        }
    ]
    runs = scenarios.build_matrix(INSTANCES[:1], LOAD["load_profiles"]["quick"]["probes"],
                                  LOAD["load_profiles"]["quick"]["sweep"], scenarios=own, profile="quick",
                                  rate={"utilization": [0.5], "time_s": 5})  # fmt: skip
    mine = [(r["rate_per_s"], r["utilization"]) for r in runs if r.get("scenario_name") == "hello_rate"]
    assert mine == [(50.0, None), (120.5, None)]


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ({"utilization": [], "time_s": 5}, r"load_rate.utilization=\[\]"),
        ({"utilization": [0], "time_s": 5}, "load_rate.utilization: 0 is not a number > 0"),
        ({"utilization": [0.5], "time_s": 5, "arrivals": "bursty"}, "load_rate.arrivals='bursty': poisson or even"),
        ({"utilization": [0.5], "time_s": 5, "arrivals": []}, r"load_rate.arrivals=\[\]: poisson or even, or a list"),
        ({"utilization": [0.5], "time_s": 0}, "load_rate.time_s=0"),
        ({"utilization": [0.5], "time_s": 5, "max_open": 0}, "load_rate.max_open=0"),
    ],
)
def test_bad_rate_settings_are_refused_naming_the_variable(rate, message):
    with pytest.raises(scenarios.ScenarioError, match=message):
        matrix(rate=rate)


def test_a_rate_past_what_the_load_hosts_send_on_time_is_refused_naming_the_scenario():
    own = DEMO.as_vars()["scenarios"] + [
        {**DEMO.as_vars()["scenarios"][0], "name": "busy", "scenario_name": "busy", "load": ["rate"],
         "rate_per_s": [5000]}
    ]  # fmt: skip
    prof = LOAD["load_profiles"]["quick"]

    def build(**hosts):
        return scenarios.build_matrix(INSTANCES[:1], prof["probes"], prof["sweep"], scenarios=own, profile="quick",
                                      rate=prof["rate"], **hosts)  # fmt: skip

    with pytest.raises(scenarios.ScenarioError, match=r"\(busy\): 5000 requests a second is more than 1 load host"):
        build()
    with pytest.raises(scenarios.ScenarioError, match="more than 1 load host"):
        build(load_hosts=2, app_hosts=2)  # one each
    assert [r["rate_per_s"] for r in build(load_hosts=2) if r.get("scenario_name") == "busy"] == [5000.0]


def searched_app(**scenario) -> app.App:
    """The demo with /ioTask?ms=100 searched for its capacity within p90 <= 250 ms (and `scenario`'s changes)."""
    raw = yaml.safe_load(app.DEMO_FILE.read_text())["bench_app"]
    raw["scenarios"] = [s for s in raw["scenarios"] if "capacity" not in s.get("load", [])]  # the demo's own searches
    io = next(s for s in raw["scenarios"] if s["path"] == "/ioTask?ms=100")
    io.update({"load": ["sweep", "capacity"], "target": {"percentile": 90, "latency_s": 0.25}, **scenario})
    return app.parse(raw, base=ROOT)


@pytest.mark.parametrize("rates", [None, [20, 4]])
def test_a_capacity_search_is_one_run_per_type_from_its_start_up_to_one_load_hosts_ceiling(rates):
    searched = searched_app(**({"rate_per_s": rates} if rates else {}))
    prof = LOAD["load_profiles"]["quick"]
    runs = matrix(the_app=searched, capacity=prof["capacity"])
    found = [r for r in runs if r["scenario"] == "capacity"]
    assert [r["worker_type"] for r in found] == [i["worker_type"] for i in INSTANCES]
    one = found[0]
    start = 4.0 if rates else 5.0  # the lowest of its rates, else half of one slot of 100 ms
    # down to where the longest step (10 s, twice: 20 s) still has the 36 requests that bound a p90: 1.8/s
    assert (one["start_per_s"], one["low_per_s"], one["high_per_s"]) == (start, 1.8, 3000.0)
    assert one["target"] == {"percentile": 90.0, "latency_s": 0.25, "error_budget": 0.01}
    assert (one["tool"], one["arrivals"], one["name"]) == ("open_loop", "poisson", "sync-capacity-ioTask-ms-100")
    assert one["progress"].endswith(f"sync /ioTask?ms=100 from {start:g}/s (capacity)")
    # the longest the search may take: every step twice the longest step, with its warm-up and grace
    grace = 30
    settings = prof["capacity"]
    longest = settings["max_steps"] * (settings["warmup_s"] + 2 * settings["max_step_s"] + grace)
    assert one["timeout_s"] == longest
    assert not [r for r in matrix(the_app=searched) if r["scenario"] == "capacity"], "no settings: no search"


@pytest.mark.parametrize(
    ("capacity", "message"),
    [({"time_s": 0}, "load_capacity.time_s=0"), ({"time_s": 5, "max_steps": 0}, "load_capacity.max_steps=0"),
     ({"time_s": 5, "max_step_s": "long"}, "load_capacity.max_step_s='long'")],
)  # fmt: skip
def test_bad_capacity_settings_are_refused_naming_the_variable(capacity, message):
    with pytest.raises(scenarios.ScenarioError, match=message):
        matrix(the_app=searched_app(), capacity=capacity)


def test_a_capacity_search_with_no_room_below_the_ceiling_is_refused_naming_the_scenario():
    with pytest.raises(scenarios.ScenarioError, match=r"\(io_100ms\): a capacity search from 5000 requests a second"):
        matrix(the_app=searched_app(rate_per_s=[5000]), capacity=LOAD["load_profiles"]["quick"]["capacity"])


def test_a_capacity_search_whose_steps_cannot_bound_its_percentile_is_refused_with_what_would_do():
    """p99 needs 368 requests: from 5 a second, the quick profile's longest step (10 s, twice when run again) sends
    100. Every step would be undecided and the search would say 'not met' of any server: refused."""
    p99 = searched_app(target={"percentile": 99, "latency_s": 0.25})
    message = (r"\(io_100ms\): a capacity search from 5 requests a second cannot meet a p99 target: 368 requests bound "
               r"it, more than its longest step \(load_capacity.max_step_s=10, twice when run again\) sends at that "
               r"rate; start at 18.4/s or more \(rate_per_s\), or raise max_step_s")  # fmt: skip
    with pytest.raises(scenarios.ScenarioError, match=message):
        matrix(the_app=p99, capacity=LOAD["load_profiles"]["quick"]["capacity"])
    full = matrix(the_app=p99, capacity=LOAD["load_profiles"]["full"]["capacity"])  # 90 s steps: 2.05/s and up
    assert {r["low_per_s"] for r in full if r["scenario"] == "capacity"} == {2.045}


@pytest.mark.parametrize(("profile", "percentile"), [("quick", 75.0), ("full", 99.0)])
def test_the_demo_searches_one_io_and_one_cpu_scenario_per_type_p75_quick_p99_full(profile, percentile):
    settings = LOAD["load_profiles"][profile]
    runs = matrix(profile, capacity=settings["capacity"])
    found = [r for r in runs if r["scenario"] == "capacity"]
    assert len(found) == 2 * len(INSTANCES)
    assert {(r["label"], r["task"], r["start_per_s"]) for r in found} == {
        ("/ioTask?ms=100", "io", 5.0), ("/cpuTask?n=650000", "cpu", 10.0)
    }  # fmt: skip
    assert {r["target"]["percentile"] for r in found} == {percentile}


def test_a_mix_is_one_run_per_rate_then_its_scenarios_alone_on_the_same_arrivals():
    mixes = DEMO.as_vars()["mixes"]
    runs = [r for r in matrix(mixes=mixes) if r["scenario"] == "mix"]
    # the demo's nine 100 ms waits to one computation (sent only in the mix) at 8 a second, then the waits alone
    assert [(r["worker_type"], r["mix"]["only"]) for r in runs] == [
        (i["worker_type"], only) for i in INSTANCES for only in (None, "io_100ms")
    ]
    first, alone = runs[0], runs[1]
    assert first["name"] == "sync-mix-io_with_cpu-8ps" and alone["name"] == "sync-mix-io_with_cpu-8ps-alone-io_100ms"
    assert first["label"] == "9 × io_100ms + 1 × cpu_mix" and first["tool"] == "open_loop"
    assert [(c["name"], c["weight"], c["path"], c["task"]) for c in first["mix"]["classes"]] == [
        ("io_100ms", 9.0, "/ioTask?ms=100", "io"), ("cpu_mix", 1.0, "/cpuTask?n=1600000", "cpu")]  # fmt: skip
    assert first["seed"] == alone["seed"], "alone: the very arrivals it had in the mix"
    assert (first["rate_per_s"], first["arrivals"], first["time_s"], first["warmup_s"]) == (8.0, "poisson", 15, 1)
    assert alone["progress"].endswith("sync 9 × io_100ms + 1 × cpu_mix 8/s poisson, io_100ms alone (mix)")
    # a profile without rate settings runs no mix; a mix of another profile neither
    assert not [r for r in matrix(rate={}, mixes=mixes) if r["scenario"] == "mix"]
    assert not [r for r in matrix(mixes=[{**mixes[0], "profiles": ["full"]}]) if r["scenario"] == "mix"]
    with pytest.raises(scenarios.ScenarioError, match=r"bench_app.mixes \(io_with_cpu\): 5000 requests a second"):
        matrix(mixes=[{**mixes[0], "rate_per_s": [5000]}])


def test_a_mix_with_clients_is_also_a_closed_loop_of_that_many():
    closed = {**DEMO.as_vars()["mixes"][0], "rate_per_s": [], "clients": [4, 10]}
    runs = [r for r in matrix(instances=INSTANCES[:1], mixes=[closed]) if r["scenario"] == "mix"]
    assert [(r["name"], r["clients"], r["concurrency"], r["rate_per_s"], r["arrivals"], r["mix"]["only"])
            for r in runs] == [("sync-mix-io_with_cpu-c4", 4, 4, None, "closed", None),
                               ("sync-mix-io_with_cpu-c10", 10, 10, None, "closed", None)]  # fmt: skip
    assert runs[0]["progress"].endswith("sync 9 × io_100ms + 1 × cpu_mix c=4 closed loop (mix)")
    assert runs[0]["time_s"] == 15 and runs[0]["seed"] == runs[1]["seed"]
