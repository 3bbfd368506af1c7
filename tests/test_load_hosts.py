"""Two load hosts on the lab, with wrk for the sweep: each run starts on both at the same moment, shares its
concurrency, and is merged into one record (each host's output kept in raw/<host>/). The lab is put back to one
load host afterwards, by lab.yml alone: it powers off the host it no longer plans."""

from __future__ import annotations

import json
import re

import pytest
from conftest import FAULTS_APP, ROOT, lab_is_possible, lab_up, playbook, run
from labtools import one_host

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]

TWO = ["-e", "lab_load_hosts=2"]


@pytest.fixture(scope="module")
def merged():
    try:
        proc = playbook("bench.yml", *TWO, "-e", "worker=gevent", "-e", "@tests/fixtures/profiles/faults.yml",
                        "-e", FAULTS_APP, "-e", "load_tool=wrk", "-e", '{"load_profiles": {"faults": {"probes": '
                        '{"concurrency": [2]}, "sweep": {"concurrency": [4], "time_s": 2, "warmup_s": 1, '
                        '"repeats": 2}}}}', timeout=600)  # fmt: skip
    finally:  # back to the lab every other test expects: one load host (lab.yml powers load2 off by itself)
        back = lab_up()
    assert proc.returncode == 0, proc.stdout[-4000:]
    run_dir = ROOT / "reports" / re.search(r"reports/(\d{8}T\d{6}Z-demo-gevent)/report\.md", proc.stdout).group(1)
    return {"dir": run_dir, "results": one_host(json.loads((run_dir / "results.json").read_text())),
            "report": (run_dir / "report.md").read_text(), "back": back.stdout}  # fmt: skip


def test_the_lab_powers_off_a_load_host_it_no_longer_plans(merged):
    assert "powered off 1 host(s) no longer planned" in merged["back"]
    assert "bl-load2" not in run(["pgrep", "-af", "systemd-nspawn"]).stdout
    assert "bl-load2" not in run(["ip", "netns", "list"]).stdout
    assert "bl-load2" not in run(["ip", "-o", "link", "show"]).stdout
    assert "load2" not in (ROOT / "inventory/lab/hosts.yml").read_text()


def test_each_run_is_merged_from_both_load_hosts_started_together(merged):
    for rec in merged["results"]["results"]:
        hosts = rec["per_host"]
        assert [h["host"] for h in hosts] == ["load1", "load2"] and rec["load_host"] == "load1+load2", rec["name"]
        assert rec["transactions"] == sum(h["transactions"] for h in hosts) > 0, rec["name"]
        assert sum(h["concurrency"] for h in hosts) == rec["concurrency"], rec["name"]
        skew, shortest = abs(hosts[0]["started"] - hosts[1]["started"]), min(h["elapsed_s"] for h in hosts)
        print(f"\n{rec['name']}: load hosts started {skew:.3f} s apart, shortest run {shortest:.2f} s")
        # Not a fixed bound (0.57 s seen on the loaded 2-core machine): runs one after another are a whole run apart.
        assert skew < 0.75 * shortest, f"{rec['name']}: started {skew:.2f} s apart, not together"
        assert rec["valid"], rec["invalid_reason"]
    for host in ("load1", "load2"):
        assert (merged["dir"] / "raw" / "app1" / host / "gevent-sweep-ioTask-ms-100-c4-r2.out").exists()


def test_the_sweep_ran_with_wrk_and_reports_its_percentiles(merged):
    sweeps = [r for r in merged["results"]["results"] if r["scenario"] == "sweep"]
    assert len(sweeps) == 2 and {r["tool"] for r in sweeps} == {"wrk"}
    print(f"\nwrk p50/p99 of /ioTask?ms=100 at c=4 (s): {[(r['p50_s'], r['p99_s']) for r in sweeps]}")
    # 0.4 s, four sleeps: gevent serving c=4 one at a time or wrk's ms read as s fail it; load noise does not.
    assert all(0.1 <= r["p50_s"] <= r["p99_s"] < 0.4 for r in sweeps), [r["p99_s"] for r in sweeps]
    probe = next(r for r in merged["results"]["results"] if r["scenario"] == "probe")
    assert probe["tool"] == "siege" and len(probe["response_times_s"]) == 2


def test_the_report_shows_the_spread_of_repeats_and_both_load_hosts(merged):
    row = next(line for line in merged["report"].splitlines() if line.startswith("| gevent | 4 |"))
    assert re.search(r"\| [\d.]+–[\d.]+, CV [\d.]+ %", row), row
    assert row.endswith("| 2/2 |")
    assert "(sweep, wrk)" in (merged["dir"] / "run.json").read_text()
