"""The recommendation (bench/analyse/recommend.py): per scenario, the instance that carries the most within the target,
the runner-up, whether the run can tell them apart, and where 2 × cores + 1 workers stands. Searches as collect records
them (their results: the bracket of met and missed rates), of instances as the plan makes them."""

from __future__ import annotations

import pytest

from bench.analyse import recommend
from bench.model import plan
from bench.render import summary

TARGET = {"percentile": 75.0, "latency_s": 0.25, "error_budget": 0.01}
INSTANCES = {i["variant"]: i for i in plan.plan_instances("gthread,gevent", workers="1,2", threads="1,4")}


def search(variant: str, met: float | None, missed: float | None, label: str = "/ioTask?ms=100") -> dict:
    """A capacity record of one instance whose search met the target at `met`/s and missed it at `missed`/s."""
    inst = INSTANCES[variant]
    return {**{k: inst[k] for k in ("worker_type", "variant", "workers", "threads", "worker_connections",
                                    "http_parser", "asgi_loop")},
            "scenario": "capacity", "scenario_name": "io_within_p75", "label": label, "valid": True,
            "search": {"target": TARGET, "result": {"capacity_per_s": met, "missed_per_s": missed}}}  # fmt: skip


def only(records: list[dict], cores: int = 1) -> dict:
    (entry,) = recommend.recommend(records, cores)
    return entry


def test_the_best_is_settled_when_it_met_the_target_where_the_runner_up_missed_it():
    entry = only([search("gthread-w1-t1", 5, 10), search("gthread-w2-t4", 40, 60), search("gevent-w1", 20, 30)])
    assert (entry["best"], entry["best_config"], entry["best_per_s"]) == ("gthread-w2-t4", "2w×4t", 40)
    assert (entry["runner_up"], entry["runner_up_per_s"], entry["margin"]) == ("gevent-w1", 20, 1.0)
    assert (
        entry["settled"] is True and "met the target at 40/s, a rate where gevent-w1 missed it (30/s)" in entry["why"]
    )
    text = summary.recommendation_sentence(entry)
    assert text.startswith("**io_within_p75** (`/ioTask?ms=100`) within p75 ≤ 250 ms with at most 1 % errors: choose "
                           "**gthread-w2-t4** (2w×4t), 40 requests a second, +100% on the runner-up gevent-w1's 20: "
                           "a real difference")  # fmt: skip


def test_overlapping_brackets_are_no_difference_the_run_can_show_and_it_says_what_would_settle_it():
    entry = only([search("gthread-w2-t4", 40, 60), search("gevent-w2", 35, 45)])
    assert entry["settled"] is False and round(entry["margin"], 3) == 0.143
    assert "brackets overlap (gthread-w2-t4 met at 40/s, gevent-w2 missed at 45/s)" in entry["why"]
    assert "load_capacity.max_steps" in entry["why"]
    assert "not a difference this run can show" in summary.recommendation_sentence(entry)


def test_searches_that_met_the_same_rate_are_equals_and_the_one_that_takes_least_memory_is_chosen():
    tie = only([search("gthread-w1-t4", 20, 40), search("gevent-w1", 20, 30), search("gthread-w1-t1", 5, 10)])
    assert (tie["best"], tie["equals"]) == ("gevent-w1", ["gthread-w1-t4"]), "no memory measured: fewest threads"
    assert (tie["runner_up"], tie["settled"]) == ("gthread-w1-t1", True)
    heavy, light = search("gevent-w1", 20, 30), search("gthread-w1-t4", 20, 40)
    heavy["app_resources"] = {"master_rss_mb": 30.0, "workers_rss_mb": 60.0, "pss_mb": 70.0}
    light["app_resources"] = {"master_rss_mb": 30.0, "workers_rss_mb": 40.0, "pss_mb": 52.5}
    chosen = only([heavy, light])
    assert (chosen["best"], chosen["memory"], chosen["runner_up"]) == ("gthread-w1-t4", (52.5, "PSS"), None)
    assert chosen["why"] == "every instance searched met it at the same rate"
    assert (
        "choose **gthread-w1-t4** (1w×4t), 20 requests a second, as much as gevent-w1 within this search's "
        "resolution, and the least memory of them (52 MiB PSS) (every instance"
    ) in summary.recommendation_sentence(chosen)
    without_pss = {"master_rss_mb": 30.0, "workers_rss_mb": 40.0, "pss_mb": None}
    assert recommend.memory([{**light, "app_resources": without_pss}], "gthread-w1-t4") == (70.0, "RSS")
    floor = only([search("gthread-w2-t4", 40, 80), search("gevent-w2", 20, None)])
    assert floor["settled"] is False and "never missed the target (at least 20/s): it may carry more" in floor["why"]


def test_no_instance_met_the_target_and_a_single_search_have_their_own_words():
    none = only([search("gthread-w1-t1", None, 2.5), search("gevent-w1", 0.0, 5)])
    assert none["best"] is None and summary.recommendation_sentence(none).endswith(
        "no instance to recommend, no instance met the target at any rate tried."
    )
    alone = only([search("gevent-w1", 20, 40)])
    assert alone["runner_up"] is None and alone["settled"] is None
    assert summary.recommendation_sentence(alone).endswith("20 requests a second (the only instance searched).")


def test_the_workers_counts_tried_for_the_best_are_held_against_the_rule_of_thumb():
    records = [search("gthread-w1-t4", 20, 40), search("gthread-w2-t4", 40, 60), search("gthread-w1-t1", 5, 10),
               search("gthread-w2-t1", 10, 20), search("gevent-w1", 30, 40)]  # fmt: skip
    one_core = only(records, cores=1)
    assert one_core["workers"] == {"cores": 1, "rule": 3, "tried": {1: 20, 2: 40}, "best_workers": 2, "same": [2],
                                   "rule_tried": False}, "of the best's other knobs (4 threads) only"  # fmt: skip
    assert summary.recommendation_sentence(one_core).endswith(
        "Workers: the rule of thumb (2 × cores + 1) says 3 on this host's 1 core; of 1, 2 tried, 2 carried the most "
        "(3 was not tried)."
    )
    assert only(records, cores=2)["workers"]["rule"] == 5
    assert only([search("gthread-w1-t4", 20, 40), search("gevent-w1", 30, 40)])["workers"] is None, "one count"


def sweep(variant: str, rps: list[float], c: int = 10) -> list[dict]:
    inst = INSTANCES[variant]
    return [{**inst, "scenario": "sweep", "scenario_name": "root", "label": "/", "concurrency": c, "repeat": n,
             "valid": True, "rps": x, "p50_s": 0.01, "p90_s": 0.02, "p99_s": 0.03, "max_s": 0.04, "failed": 0,
             "availability": 1.0, "invalid_reason": None, "tool": "siege", "task": None, "unit_s": None,
             "app_resources": None, "load_resources": None, "load_bound": None}
            for n, x in enumerate(rps, start=1)]  # fmt: skip


@pytest.mark.parametrize(
    ("best", "runner", "settled", "words"),
    [
        ([900.0, 910.0, 905.0], [700.0, 720.0, 710.0], True, "every repeat of gevent-w2 (900.0 at the least) served "
                                                             "more than any of gthread-w2-t4 (720.0 at the most)"),
        ([900.0, 910.0, 690.0], [700.0, 720.0, 710.0], False, "the repeats overlap"),
        ([905.0], [710.0], None, "one run each: its noise is not measured"),
    ],
)  # fmt: skip
def test_a_scenario_searched_by_none_falls_back_on_its_sweep_and_its_repeats(best, runner, settled, words):
    records = sweep("gevent-w2", best) + sweep("gthread-w2-t4", runner) + sweep("gevent-w2", [1.0], c=1)
    entry = only(records)
    assert (entry["by"], entry["concurrency"], entry["best"], entry["runner_up"]) == ("sweep", 10, "gevent-w2",
                                                                                      "gthread-w2-t4")  # fmt: skip
    assert entry["settled"] is settled and words in entry["why"]
    assert "swept at c=10; no capacity search" in summary.recommendation_sentence(entry)
