"""A run merged from two load hosts (a real capture on the lab): one record per run kept per host, the phase timings
in results.json and the report's footer, and the report's resources and per-run tables."""

from __future__ import annotations

import pytest
from support import FIXTURES

from bench import files
from bench.parse import collect
from bench.render import report

RES = FIXTURES / "resources"


# --- a run on two load hosts, merged ---------------------------------------------------------------------------------


def test_two_load_hosts_are_merged_into_one_record_and_kept_per_host(two_hosts):
    results = collect.collect(two_hosts)
    sweep = next(r for r in results["results"] if r["scenario"] == "sweep")
    assert sweep["load_host"] == "load1+load2" and [h["host"] for h in sweep["per_host"]] == ["load1", "load2"]
    assert sweep["transactions"] == sum(h["transactions"] for h in sweep["per_host"]) == 228
    assert [h["concurrency"] for h in sweep["per_host"]] == [2, 2], "c=4 shared between the two hosts"
    assert sweep["rps"] == pytest.approx(sum(h["rps"] for h in sweep["per_host"]), abs=0.01)
    for rec in results["results"]:  # the merged run spans both hosts' runs: from the first start to the last finish
        assert rec["started"] == min(h["started"] for h in rec["per_host"]), rec["name"]
        assert rec["finished"] == max(h["finished"] for h in rec["per_host"]), rec["name"]
    probe = next(r for r in results["results"] if r["scenario"] == "probe")
    assert probe["valid"] and len(probe["response_times_s"]) == 2, "one request from each host, pooled"
    assert sweep["app_resources"]["workers_rss_mb"] > 10


def test_phase_timings_are_in_results_and_the_report_footer(two_hosts):
    results = collect.collect(two_hosts)
    assert list(results["phases_s"]) == ["validate", "lab", "preflight", "deploy", "load"]
    assert all(v >= 0 for v in results["phases_s"].values()) and results["phases_s"]["load"] > 10
    files.write_json_atomic(two_hosts / "results.json", results)
    text = report.main(str(two_hosts)).read_text()
    assert "Phases: validate " in text and ", load " in text


def test_the_report_shows_resources_fidelity_and_the_per_run_table(two_hosts):
    files.write_json_atomic(two_hosts / "results.json", collect.collect(two_hosts))
    text = report.main(str(two_hosts)).read_text()
    row = next(line for line in text.splitlines() if line.startswith("| gevent | 4 |"))
    assert " MiB |" in row and row.count("%") >= 3
    assert "## Fidelity" in text and "- **gevent**: probes (requests at once) against theory" in text
    assert "| gevent-sweep-ioTask-ms-100-c4-r1 | siege |" in text
