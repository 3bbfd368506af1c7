"""report.md rendered from a fixed results.json (a real quick run of all five types on the lab, its probes timed by
the app; and an older one timed by siege alone)."""

from __future__ import annotations

import json
import shutil

import pytest
from support import QUICK_ALL, ROOT, fixture_json

from bench.analyse import throughput
from bench.model import results_model
from bench.render import report

RESULTS = fixture_json("results/quick-all.json")
TYPES = ["sync", "gthread", "gevent", "eventlet", "tornado"]
# Requests at once in a burst of 10, by the config (1 worker; gthread 2 threads; gevent and eventlet 1000 connections):
# IO waits overlap up to the slots; CPU work on one core is one at a time, but for gthread's two threads sharing it.
THEORY = {"sync": (1, 1), "gthread": (2, 2), "gevent": (10, 1), "eventlet": (10, 1), "tornado": (1, 1)}


def record(name: str) -> dict:
    return next(r for r in RESULTS["results"] if r["name"] == name)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    shutil.copy(QUICK_ALL, run_dir / "results.json")
    path = report.main(str(run_dir))
    return run_dir, path.read_text()


def test_verdict_table_has_a_row_per_type_and_task_with_theory_and_measure(rendered):
    _, text = rendered
    section = text.split("## Verdict")[1].split("## Probes")[0]
    rows = [line[2:].split(" | ") for line in section.splitlines() if " | io | " in line or " | cpu | " in line]
    assert sorted((r[0], r[2]) for r in rows) == sorted((w, t) for w in TYPES for t in ("io", "cpu"))
    for worker, _config, task, n, theory, at_once, verdict_, *_ in rows:
        server = record(f"{worker}-probe-{'ioTask' if task == 'io' else 'cpuTask'}-c10")["server"]
        assert n == "10" and float(theory) == THEORY[worker][task == "cpu"], (worker, task)
        assert at_once == f"{server['at_once']:.2f}", "the app's own figure, not siege's"
        assert abs(server["at_once"] / float(theory) - 1) < 0.05 and verdict_ == "expected", (worker, task)
    assert "| sync | 1w, gunicorn 27.0.1 | io | 10 | 1.00 | 1.00 | expected |" in section
    assert "| eventlet | 1w×1000c, gunicorn 25.3.0 | io | 10 | 10.00 | 9.97 | expected |" in section


def test_a_run_from_before_the_app_timed_its_requests_says_its_figures_are_sieges(tmp_path):
    text = report.render(fixture_json("results/quick-all-20261126-siege.json"), tmp_path, make_charts=False)
    assert "| sync | 1w, gunicorn 27.0.1 | io | 10 | 1.00 | 1.00 (siege) | expected |" in text
    assert "| gthread | 1w×2t, gunicorn 27.0.1 | io | 10 | 2.00 | 2.00 (siege) | expected |" in text


def test_probe_ladders_are_listed_in_order(rendered):
    _, text = rendered
    for worker, steps in (("sync", [1, 2, 3, 4]), ("gthread", [1, 1, 2, 2])):  # one at a time; two at a time
        times = sorted(record(f"{worker}-probe-ioTask-c4")["response_times_s"])
        assert [round(t) for t in times] == steps
        assert f"| {worker} | `/ioTask` | 4 | {' '.join(f'{t:.2f}' for t in times)} |" in text


def test_sweep_tables_and_charts(rendered):
    run_dir, text = rendered
    for endpoint in ("/", "/ioTask?ms=100", "/cpuTask?n=650000"):
        assert f"### `{endpoint}`" in text
    charts = sorted(p.name for p in run_dir.glob("*.png"))
    timelines = [f"timeline-{w}-{e}.png" for w in TYPES for e in ("cpuTask", "ioTask")]  # one per type and endpoint
    assert charts == sorted(["probe-cpu.png", "probe-io.png", "sweep-cpuTask-n-650000.png", "sweep-ioTask-ms-100.png",
                             "sweep-root.png", *timelines])  # fmt: skip
    for name in charts:
        assert f"({name})" in text
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hosts_versions_limits_and_footer(rendered):
    _, text = rendered
    assert "| app1 (10.203.0.2) | app |" in text
    assert "siege 4.0.7" in text
    assert "10 ms clock" in text
    *_, overhead, phases = text.rstrip().splitlines()
    assert overhead.endswith("(validation, lab, deploy, switching worker types, collecting).")
    assert f"{results_model.current(RESULTS)['time_in_load_s']:.0f} s inside the load generator" in overhead
    assert phases.startswith(
        "Phases: " + ", ".join(f"{name} {s:.1f} s" for name, s in RESULTS["phases_s"].items()) + "; collecting"
    )


def test_an_invalid_run_is_listed_and_not_averaged_in(tmp_path):
    results = results_model.current(fixture_json("results/quick-all.json"))
    sweep = next(r for r in results["results"] if r["scenario"] == "sweep" and r["worker_type"] == "gevent")
    sweep.update(valid=False, invalid_reason="siege aborted after 1024 socket failures (x)")
    rows = throughput.sweep_rows(results["results"])
    row = next(r for r in rows if (r["worker_type"], r["label"], r["concurrency"]) ==
               ("gevent", sweep["label"], sweep["concurrency"]))  # fmt: skip
    assert row["valid"] == 0 and row["rps"] is None
    text = report.render(results, tmp_path, make_charts=False)
    assert f"| {sweep['name']} | siege aborted after 1024 socket failures (x) |" in text


def test_noisy_repeats_are_flagged():
    base = next(r for r in results_model.current(RESULTS)["results"] if r["scenario"] == "sweep")
    runs = [{**base, "repeat": i, "rps": rps} for i, rps in enumerate([100.0, 100.0, 140.0], start=1)]
    row = throughput.sweep_rows(runs)[0]
    assert row["noisy"] and row["rps"] == 100.0 and (row["rps_min"], row["rps_max"]) == (100.0, 140.0)
    quiet = throughput.sweep_rows([{**base, "repeat": i, "rps": 100.0 + i} for i in range(3)])[0]
    assert not quiet["noisy"]


# --- a report speaks of the app it loaded ---------------------------------------------------------------------------
NOTES = ROOT / "reports/sample-notes/results.json"  # the notes example on six WSGI types: CPU probes, untagged sweeps
DEMO_WORDS = ("/ioTask", "/cpuTask", "ioTask", "cpuTask", "trivial endpoint")


def render_variant(tmp_path, results: dict) -> str:
    (tmp_path / "results.json").write_text(json.dumps(results))
    return report.render(results, tmp_path, make_charts=False)


def test_the_notes_report_names_its_own_scenarios_and_prints_no_missing_figure(tmp_path):
    text = render_variant(tmp_path, json.loads(NOTES.read_text()))
    assert not [w for w in DEMO_WORDS if w in text], "the demo's endpoints in a report of another app"
    assert "None" not in text and "c=–" not in text and "(– rps)" not in text
    choose = [line for line in text.splitlines() if line.startswith("- **") and ": choose **" in line]
    assert [line.split("**")[1] for line in choose] == ["list", "create", "stats"], "first, in the app's order"
    assert text.index(choose[-1]) < text.index("- **list** (`/notes?limit=20`, c=10)")
    summary_lines = [line for line in text.splitlines() if line.startswith("- **") and line not in choose][:4]
    assert [line.split("**")[1] for line in summary_lines] == ["list", "create", "stats", "Doubtful"]
    assert "- **create** (`POST /notes`, c=10): gevent_pywsgi served the most, 1,261.8 requests/s" in text
    assert "one unit of work each (`/stats` (stats): about 0.11 s of CPU, the median of its c=1 probes)" in text
    # fidelity: the probes' errors only (no IO sweep declares a unit), and the targets that apply
    assert "- **gthread**: probes (requests at once) against theory, worst error 1.9 %.\n" in text
    assert "Targets on the lab: probe error within 5 %.\n" in text
    assert "(9% of the shortest probed unit, 0.11 s on `/stats`; the median latency of `/notes?limit=20`" in text


def test_an_app_with_only_untagged_sweeps_has_no_verdict_and_says_why(tmp_path):
    """No probe and no `task`: each swept scenario gets its sentence; no verdict table, probe chart or fidelity."""
    results = json.loads(NOTES.read_text())
    results["results"] = [{**r, "task": None} for r in results["results"] if r["scenario"] == "sweep"]
    text = render_variant(tmp_path, results)
    assert [line.split("**")[1] for line in text.splitlines() if line.startswith("- **") and ": choose **" not in line][
        :4
    ] == ["list", "create", "stats", "Doubtful"]
    assert "- **stats** (`/stats`, c=10): eventlet served the most" in text
    assert "This app has no probe scenarios" in text and "| worker | config | task |" not in text
    assert "## Probes" not in text and "## Fidelity" not in text and "probe ladders" not in text
    assert "None" not in text and "stagger" not in text


def test_an_app_with_only_io_scenarios_speaks_of_io_alone(tmp_path):
    results = fixture_json("results/quick-all.json")
    results["results"] = [r for r in results["results"] if r["task"] == "io"]
    text = render_variant(tmp_path, results)
    assert "Where the CPU went" not in text and "| cpu |" not in text and "cpuTask" not in text
    assert "one unit of work each (`/ioTask` (IO-bound work): 1 s of IO)" in text
    lines = [line for line in text.splitlines() if line.startswith("- **") and ": choose **" not in line]
    assert lines[0].startswith("- **IO-bound work** (`/ioTask?ms=100`, c=10): eventlet served the most, 95.4")
    assert (
        "In a burst of 10, the requests worked on at once: gevent and eventlet 10; gthread 2; sync and tornado 1."
        in lines[0]
    )
    assert (
        "- **sync**: probes (requests at once) against theory, worst error 0.3 % (IO 0.3 %); `/ioTask?ms=100` at "
        "saturation (c ≥ capacity 1) reaches" in text
    )
    assert "None" not in text


def test_bursts_of_a_kind_the_app_does_not_sweep_get_their_own_sentence(tmp_path):
    results = fixture_json("results/quick-all.json")
    results["results"] = [r for r in results["results"] if r["scenario"] == "probe" or r["task"] != "cpu"]
    text = render_variant(tmp_path, results)
    line = next(x for x in text.splitlines() if x.startswith("- **CPU-bound bursts**"))
    assert line.startswith("- **CPU-bound bursts** (`/cpuTask`, not swept): In a burst of 10, the requests worked on")


def test_a_run_at_a_rate_has_its_section_its_chart_and_no_percentile_its_requests_cannot_support(tmp_path):
    """A real run (tests/fixtures/rate: sync -w1, /ioTask?ms=100 at 8 a second, Poisson and evenly spaced, 20 s)."""
    shutil.copy(ROOT / "tests/fixtures/rate/results.json", tmp_path / "results.json")
    text = report.main(str(tmp_path)).read_text()
    assert "## Load at a rate: how long requests waited, against queueing theory" in text
    assert "![/ioTask?ms=100 at a rate: wait against theory, and latency](rate-ioTask-ms-100.png)" in text
    assert (tmp_path / "rate-ioTask-ms-100.png").stat().st_size > 10_000
    rows = [line for line in text.splitlines() if line.startswith("| sync | `/ioTask?ms=100` |")]
    assert len(rows) == 2
    poisson, even = rows
    # the slot held is shown only where the server waited past its ideal queue
    assert (
        "| 8.0/s poisson | 8.5/s | 0.81 (1) | 100.8 ms | – | 343.6 ms (106.8–582.5) | 320.0 ms | 209.5 ms |" in poisson
    )
    assert "| 292 ms (252–365) | not supported (172 requests, 368 needed) | 0 | expected: waited 343.6 ms" in poisson
    assert "an ideal queue of 1 slot(s) of 100.8 ms 320.0 ms for these very arrivals" in poisson
    assert "| 8.0/s even |" in even and "D/D/1 at ρ = 0.81 says 0.0 ms" in even and "| expected: " in even
    assert "None" not in text and "nan" not in text
