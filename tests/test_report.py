"""report.md rendered from a fixed results.json (a real quick run of all five types on the lab)."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import FIXTURES

from bench import report, verdict

RESULTS = json.loads((FIXTURES / "results/quick-all.json").read_text())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    shutil.copy(FIXTURES / "results/quick-all.json", run_dir / "results.json")
    path = report.main(str(run_dir))
    return run_dir, path.read_text()


def test_verdict_table_has_a_row_per_type_and_task_with_theory_and_measure(rendered):
    _, text = rendered
    section = text.split("## Verdict")[1].split("## Probes")[0]
    rows = [
        line for line in section.splitlines() if line.startswith("| ") and (" | io | " in line or " | cpu | " in line)
    ]
    assert len(rows) == 10
    # a run from before the app timed its own requests: siege's response times, and said so
    assert "| sync | 1w, gunicorn 27.0.1 | io | 10 | 1.00 | 1.00 (siege) | expected |" in section
    assert "| gthread | 1w×2t, gunicorn 27.0.1 | io | 10 | 2.00 | 2.00 (siege) | expected |" in section
    assert "| eventlet | 1w×1000c, gunicorn 25.3.0 | io | 10 | 10.00 |" in section


def test_probe_ladders_are_listed_in_order(rendered):
    _, text = rendered
    assert "| sync | `/ioTask` | 4 | 1.00 2.00 3.00 4.00 | – | – |" in text
    assert "| gthread | `/ioTask` | 4 | 1.00 1.00 2.00 2.00 | – | – |" in text


def test_sweep_tables_and_charts(rendered):
    run_dir, text = rendered
    for endpoint in ("/", "/ioTask?ms=100", "/cpuTask?n=650000"):
        assert f"### `{endpoint}`" in text
    charts = sorted(p.name for p in run_dir.glob("*.png"))
    assert charts == ["probe-cpu.png", "probe-io.png", "sweep-cpuTask-n-650000.png", "sweep-ioTask-ms-100.png",
                      "sweep-root.png"]  # fmt: skip
    for name in charts:
        assert f"({name})" in text
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hosts_versions_limits_and_footer(rendered):
    _, text = rendered
    assert "| app1 (10.203.0.2) | app |" in text
    assert "siege 4.0.7" in text
    assert "10 ms clock" in text
    assert text.rstrip().splitlines()[-1].endswith("(validation, lab, deploy, switching worker types, collecting).")


def test_an_invalid_run_is_listed_and_not_averaged_in(tmp_path):
    results = json.loads(json.dumps(RESULTS))
    sweep = next(r for r in results["results"] if r["scenario"] == "sweep" and r["worker"] == "gevent")
    sweep.update(valid=False, invalid_reason="siege aborted after 1024 socket failures (x)")
    rows = verdict.sweep_rows(results["results"])
    row = next(r for r in rows if (r["worker"], r["endpoint"], r["concurrency"]) ==
               ("gevent", sweep["endpoint"], sweep["concurrency"]))  # fmt: skip
    assert row["valid"] == 0 and row["rps"] is None
    text = report.render(results, tmp_path, make_charts=False)
    assert f"| {sweep['name']} | siege aborted after 1024 socket failures (x) |" in text


def test_noisy_repeats_are_flagged():
    base = next(r for r in RESULTS["results"] if r["scenario"] == "sweep")
    runs = [{**base, "repeat": i, "rps": rps} for i, rps in enumerate([100.0, 100.0, 140.0], start=1)]
    row = verdict.sweep_rows(runs)[0]
    assert row["noisy"] and row["rps"] == 100.0 and (row["rps_min"], row["rps_max"]) == (100.0, 140.0)
    quiet = verdict.sweep_rows([{**base, "repeat": i, "rps": 100.0 + i} for i in range(3)])[0]
    assert not quiet["noisy"]
