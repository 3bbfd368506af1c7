"""The history's figures keep their parts by name (worker_type, config, task, label, concurrency, metric); the string
key (config, point, metric) is made from them once and never split again."""

from __future__ import annotations

import json

from support import FIXTURES

from bench.model import fleet
from bench.trends import history, index

(SERVER_RUN,) = fleet.views(json.loads((FIXTURES / "results/server-timed-all.json").read_text()))  # its one host's


def test_each_figure_names_its_parts_and_its_key_is_made_from_them():
    found = history.figures(SERVER_RUN)
    sweep = next(f for f in found if f.worker_type == "gthread" and f.metric == "rps" and f.label == "/ioTask?ms=100")
    assert (sweep.config, sweep.scenario, sweep.task) == ("gthread 1w×2t", "sweep", None)
    assert sweep.key == ("gthread 1w×2t", f"/ioTask?ms=100 c={sweep.concurrency}", "rps")
    burst = next(f for f in found if f.worker_type == "sync" and f.metric == "at_once" and f.task == "io")
    assert (burst.scenario, burst.label, burst.concurrency, burst.point) == ("probe", "/ioTask", 10, "probe io c=10")
    unit = next(f for f in found if f.worker_type == "sync" and f.metric == "unit_cpu_s")
    assert (unit.task, unit.label, unit.concurrency, unit.point) == ("cpu", "/cpuTask", None, "probe cpu /cpuTask")
    assert history.metrics(SERVER_RUN) == {f.key: f.value for f in found}
    assert len(history.metrics(SERVER_RUN)) == len(found), "no two figures share a key"


def test_the_trends_read_the_named_parts_not_the_key():
    """Labelled from the scenario's label and the concurrency as named, whatever the label holds (here ' c=' in its
    query)."""
    run = json.loads(json.dumps(SERVER_RUN))
    for rec in run["results"]:
        if rec["label"] == "/ioTask?ms=100":
            rec["label"] = "/ioTask?ms=100&tag= c=1"
    trends = index.trend_points([{"complete": True, "data": run}])
    largest = max(f.concurrency for f in history.figures(run) if f.metric == "rps" and "tag" in f.label)
    assert f"rps, /ioTask?ms=100&tag= c=1 at c={largest}" in trends
