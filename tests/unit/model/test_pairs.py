"""Which load hosts load which app host, and in which round (bench/model/pairs.py)."""

from __future__ import annotations

import pytest

from bench.model.pairs import PairError, describe, pairs


def loads(found: dict) -> dict:
    return {app: (p["load_hosts"], p["round"]) for app, p in found.items()}


def test_one_app_host_gets_every_load_host_as_before():
    assert loads(pairs(["app1"], ["load1", "load2"])) == {"app1": (["load1", "load2"], 0)}


def test_two_app_and_two_load_hosts_make_two_pairs_that_run_at_once():
    assert loads(pairs(["app1", "app2"], ["load1", "load2"])) == {"app1": (["load1"], 0), "app2": (["load2"], 0)}


def test_load_hosts_are_dealt_out_in_turn():
    found = pairs(["a", "b"], ["l1", "l2", "l3", "l4", "l5"])
    assert loads(found) == {"a": (["l1", "l3", "l5"], 0), "b": (["l2", "l4"], 0)}


def test_app_hosts_sharing_a_load_host_take_turns():
    found = pairs(["app1", "app2", "app3"], ["load1", "load2"])
    assert loads(found) == {"app1": (["load1"], 0), "app2": (["load2"], 0), "app3": (["load1"], 1)}
    assert describe(found) == ["app1 <- load1 (round 1 of 2)", "app2 <- load2 (round 1 of 2)",
                               "app3 <- load1 (round 2 of 2)"]  # fmt: skip


def test_two_app_hosts_and_one_load_host_take_turns():
    assert loads(pairs(["app1", "app2"], ["load1"])) == {"app1": (["load1"], 0), "app2": (["load1"], 1)}


def test_a_host_variable_chooses_the_load_hosts_and_overlaps_make_rounds():
    found = pairs(["big", "small"], ["l1", "l2"], {"big": ["l1", "l2"], "small": "l2"})
    assert loads(found) == {"big": (["l1", "l2"], 0), "small": (["l2"], 1)}
    assert describe(pairs(["app1"], ["load1"])) == ["app1 <- load1"]


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        ({"app2": []}, "app host app2 has no load host"),
        ({"app2": ["load9"]}, "app host app2: bench_load_hosts names load9, not in the load group (its hosts: load1)"),
        ({"app2": {"load1": 1}}, "app host app2: bench_load_hosts={'load1': 1}: give a list of hosts"),
        ({"web": ["load1"]}, "bench_load_hosts is set for web, which is not in the app group"),
    ],
)
def test_refusals_name_the_host(chosen, message):
    with pytest.raises(PairError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        pairs(["app1", "app2"], ["load1"], chosen)


def test_no_load_host_at_all_is_refused_naming_the_first_app_host():
    with pytest.raises(PairError, match="app host app1 has no load host"):
        pairs(["app1"], [])
