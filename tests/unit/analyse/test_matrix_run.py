"""A real matrix of knobs on the lab (tests/fixtures/matrix: gthread × workers 1, 2 × threads 1, 2, 4 and gevent ×
workers 1, 2, the demo, quick profile, one app core): its instances, the recommendation collect stored and the report
that speaks of each combination."""

from __future__ import annotations

import json

from support import FIXTURES

from bench.analyse import recommend, verdict
from bench.model import results_model
from bench.render import report

RUN = FIXTURES / "matrix" / "results.json"
VARIANTS = ["gthread-w1-t1", "gthread-w1-t2", "gthread-w1-t4", "gthread-w2-t1", "gthread-w2-t2", "gthread-w2-t4",
            "gevent-w1", "gevent-w2"]  # fmt: skip


def loaded() -> dict:
    return results_model.load(RUN)


def test_each_combination_is_an_instance_of_its_own_and_none_ran_twice():
    results = loaded()
    assert results["worker_types"] == ["gthread", "gevent"] and results_model.variants(results) == VARIANTS
    settings = [(i["worker_type"], i["workers"], i["threads"]) for i in results["instances"].values()]
    assert len(set(settings)) == 8 and ("gevent", 2, 1) in settings
    names = [r["name"] for r in results["results"]]
    assert len(names) == len(set(names))
    assert {r["variant"] for r in results["results"]} == set(VARIANTS)
    assert set(results["app_hosts"]["app1"]["processes"]) == set(VARIANTS), "each instance's own process record"
    # each ran the settings of its combination, as its process recorded them
    for variant, process in results["app_hosts"]["app1"]["processes"].items():
        inst = next(i for i in results["instances"].values() if i["variant"] == variant)
        assert (process["workers"], process["threads"]) == (inst["workers"], inst["threads"]), variant


def test_the_recommendation_collect_stored_is_the_one_the_report_works_out():
    results = loaded()
    again = recommend.recommend(results["results"], verdict.app_cores(results["hosts"]))
    stored = [{k: v for k, v in r.items() if k != "app_host"} for r in results["recommendations"]]
    assert json.loads(json.dumps(again)) == stored


def test_on_io_the_equals_are_named_and_the_one_of_least_memory_chosen():
    results = loaded()
    io, cpu, hello = results["recommendations"]
    assert (io["label"], io["best"], io["at_least"], io["best_per_s"]) == ("/ioTask?ms=100", "gthread-w1-t4", True, 40)
    assert io["equals"] == ["gthread-w2-t2", "gthread-w2-t4", "gevent-w1", "gevent-w2"]
    pss = {v: recommend.memory(results["results"], v) for v in [io["best"], *io["equals"]]}
    assert min(pss, key=lambda v: pss[v][0]) == "gthread-w1-t4" and pss["gthread-w1-t4"][1] == "PSS"
    assert (io["runner_up"], io["settled"]) == ("gthread-w1-t2", True), "met at 40/s where 2 threads missed at 20/s"
    assert io["workers"]["same"] == [1, 2] and io["workers"]["rule"] == 3 and not io["workers"]["rule_tried"]
    assert (cpu["best_per_s"], cpu["runner_up"], cpu["settled"]) == (20, "gthread-w2-t4", True)
    assert hello["by"] == "sweep" and hello["settled"] is None, "one run each: the noise is not measured"


def test_the_report_names_each_combination_and_what_each_costs(tmp_path):
    results = json.loads(RUN.read_text())
    (tmp_path / "results.json").write_text(json.dumps(results))
    text = report.render(results, tmp_path, make_charts=False)
    assert "worker types gthread, gevent in 8 combinations of knobs (gthread-w1-t1, gthread-w1-t2," in text
    first = text.split("\n- ", 1)[1]
    assert first.startswith("**io_within_p75** (`/ioTask?ms=100`) within p75 ≤ 250 ms with at most 1 % errors: choose "
                            "**gthread-w1-t4** (1w×4t), at least 40 requests a second, as much as gthread-w2-t2, "
                            "gthread-w2-t4, gevent-w1 and gevent-w2 within this search's resolution, and the least "
                            "memory of them (39 MiB PSS)")  # fmt: skip
    assert "of 1, 2 tried, 1 and 2 carried as much (3 was not tried)." in text
    assert "| gthread-w2-t1 | 2w×1t | 85 MiB | 57 MiB | 29 MiB | `/ioTask?ms=100` | 10.0/s |" in text
    assert "| gevent-w2 | 2w×1000c | 100 MiB | 67 MiB | 33 MiB |" in text
    assert "| gthread-w2-t4 | 2w×4t, gunicorn 27.0.1 | io |" in text, "the verdict per instance"


def test_a_burst_that_two_workers_shared_unevenly_says_so_from_the_apps_record_of_each_request():
    """gthread with two workers on one core: a worker accepts connections while it has some to spare and queues each
    in its own pool, so one of them took 9 of a CPU burst of 10 while the other idled: the verdict says so from the
    app's record of each request's process, not a fault of the harness. A burst served as theory says has no such
    words, nor has one worker."""
    results = loaded()
    cores = verdict.app_cores(results["hosts"])
    probes = {(p["variant"], p["task"], p["concurrency"]): p for p in verdict.probe_rows(results["results"], cores)}
    odd = probes[("gthread-w2-t2", "cpu", 10)]
    assert not odd["as_expected"] and "the workers took 9 and 1 of the 10 requests" in odd["sentence"]
    assert "the workers took 10 and 0 of the 10 requests" in probes[("gthread-w2-t1", "io", 10)]["sentence"]
    assert probes[("gevent-w2", "io", 10)]["as_expected"]
    assert "the workers took" not in probes[("gevent-w2", "io", 10)]["sentence"]
    assert all("the workers took" not in p["sentence"] for (v, _, _), p in probes.items() if v.endswith("-w1")
               or "-w1-" in v)  # fmt: skip
