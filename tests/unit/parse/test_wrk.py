"""wrk's output (real captures on the lab): percentiles, rates, invalid runs, and the sweep run by wrk while the
probes stay on siege."""

from __future__ import annotations

import pytest
from support import FIXTURES

from bench.model import scenarios
from bench.parse import wrk

WRK = FIXTURES / "wrk"
RES = FIXTURES / "resources"


# --- wrk -------------------------------------------------------------------------------------------------------------


def test_wrk_latency_percentiles_and_rate_in_seconds():
    run = wrk.parse((WRK / "hello-c10-sync.out").read_text())
    assert run.requests == 8495 and run.rps == 2830.46 and run.elapsed_s == 3.0
    assert run.percentiles == pytest.approx({50.0: 0.00355, 75.0: 0.00364, 90.0: 0.00377, 99.0: 0.00677})
    assert run.max_s == pytest.approx(0.01488) and run.mean_s == pytest.approx(0.00348)
    assert run.failed == 0 and run.invalid_reason() is None


def test_wrk_with_connection_close_has_no_socket_errors():
    run = wrk.parse((WRK / "io-c4-close.out").read_text())
    assert (run.requests, run.rps, run.percentiles[99.0]) == (232, 38.59, pytest.approx(0.10768))
    assert run.invalid_reason() is None


def test_wrk_timeouts_refusals_and_timeout_exits_are_invalid():
    timeouts = wrk.parse((WRK / "io-timeouts-sync.out").read_text())
    assert timeouts.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 2}
    assert timeouts.invalid_reason() == "2 failed requests (socket errors: timeout 2)"
    refused = wrk.parse("", (WRK / "refused.err").read_text(), rc=1)
    assert (
        refused.invalid_reason()
        == "wrk printed no summary (exit 1): unable to connect to 10.203.0.2:8000 Connection refused"
    )
    hung = wrk.parse("", "", rc=124)
    assert hung.invalid_reason().startswith("wrk did not finish in time")


def test_the_sweep_can_run_with_wrk_but_probes_stay_on_siege():
    inst = {"name": "demo-sync", "worker_type": "sync", "app": "demo", "worker_class": "sync", "workers": 1,
            "threads": 1, "worker_connections": 1000, "gunicorn_version": "27.0.1"}  # fmt: skip
    io = {"scenario_name": "io", "label": "/ioTask", "path": "/ioTask", "method": "GET", "task": "io",
          "unit_s": 1.0, "load": ["probe"], "profiles": None}  # fmt: skip
    hello = {"scenario_name": "hello", "label": "/", "path": "/", "method": "GET", "task": None, "load": ["sweep"],
             "profiles": None}  # fmt: skip
    matrix = scenarios.build_matrix(
        [inst], {"concurrency": [2]}, {"concurrency": [4], "time_s": 3, "warmup_s": 1},
        scenarios=[io, hello], profile="quick", sweep_tool="wrk",
    )  # fmt: skip
    assert [(r["scenario"], r["tool"]) for r in matrix] == [("probe", "siege"), ("warmup", "wrk"), ("sweep", "wrk")]
    assert matrix[2]["progress"] == "[3/3] sync / c=4 (sweep, wrk)"
    with pytest.raises(scenarios.ScenarioError, match="load_tool='ab': use siege or wrk"):
        scenarios.build_matrix([inst], {"concurrency": [1]}, {"concurrency": [1], "time_s": 1},
                               scenarios=[io, hello], profile="quick", sweep_tool="ab")  # fmt: skip
