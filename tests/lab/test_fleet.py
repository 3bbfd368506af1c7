"""Several app hosts in one run, on a lab of unlike hosts: app1 on bookworm with one core, app2 on trixie with both
cores (unpinned: this machine has two) and stock, as a Debian image delivers it (no python3-venv, siege or wrk).
With three load hosts, both pairs run at once, app1 loaded by two (load1 and load3: each run starts on both at the
same moment, shares its concurrency, and is merged into one record; wrk for the sweep); with one load host between
them, they take turns. The lab is put back as every other test expects afterwards (one app and one load host,
pinned), by lab.yml alone: it powers off the hosts it no longer plans."""

from __future__ import annotations

import json
import re

import pytest
from labtools import ansible, run_dir_of
from support import ROOT, demo_app, lab_is_possible, lab_up, playbook
from support import run as command

from bench.analyse import verdict
from bench.model import fleet

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]

MIXED = {
    "lab_app_hosts": 2,
    "lab_cpu_pinning": False,
    "lab_host_settings": {"app1": {"cores": 1}, "app2": {"debian_suite": "trixie", "cores": 2, "stock": True}},
}
IO_UNIT_S = 0.5  # long against the few ms a burst of four takes to reach the app (3.84 at once seen with 0.25 s)
# what the checks read, in little time: the pairs an IO burst, the turns a CPU burst (0.3 s a request: long against
# the lab's noise), and both a short sweep of /ioTask?ms=100 (a profile with a sweep needs a scenario to sweep)
IO = {"name": "io", "path": f"/ioTask?ms={int(IO_UNIT_S * 1000)}", "task": "io", "unit_s": IO_UNIT_S, "load": ["probe"]}
SWEEP = {"name": "io_100ms", "path": "/ioTask?ms=100", "task": "io", "unit_s": 0.1, "load": ["sweep"]}
CPU = {"name": "cpu", "path": "/cpuTask", "task": "cpu", "load": ["probe"]}
# the sweep: c=4 only (what the side by side tables compare), twice (the report's spread of repeats)
SHORT = ["-e", "@tests/fixtures/profiles/faults.yml",
         "-e", json.dumps({"load_profiles": {"faults": {"probes": {"concurrency": [1, 4], "calibration_reps": 2},
                                                        "sweep": {"concurrency": [4], "time_s": 2, "warmup_s": 1,
                                                                  "repeats": 2}}}})]  # fmt: skip


# the turns' checks read no sweep: the least one (a profile must sweep something)
ONE_SWEEP = {"concurrency": [4], "time_s": 2, "warmup_s": 0, "repeats": 1}


def bench(*args: str) -> dict:
    proc = playbook("bench.yml", *SHORT, *args, timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:]
    run_dir = run_dir_of(proc.stdout)
    results = json.loads((run_dir / "results.json").read_text())
    return {"proc": proc, "dir": run_dir, "results": results, "report": (run_dir / "report.md").read_text(),
            "views": {v["app_host"]: v for v in fleet.views(results)}}  # fmt: skip


def span(view: dict) -> tuple[float, float]:
    ran = [r for r in view["results"] if r["started"]]
    return min(r["started"] for r in ran), max(r["finished"] for r in ran)


@pytest.fixture(scope="module")
def fleet_runs():
    """Two pairs at once (sync and gevent, four workers each; app1 loaded by load1 and load3, the sweep by wrk), then
    the same two app hosts taking turns on one load host (sync with two workers: theory scaled by each host's cores).
    Both runs use the types whose virtualenvs the pairs build on app2: a type new to it would build another there,
    about half a minute on a fresh clone. sync, not gthread -w2 --threads 1, for the CPU burst: a gthread worker
    accepts connections while its thread is busy, so the burst is not shared evenly between the two processes (1.30
    at once seen on app2)."""
    try:
        pairs = bench("-e", json.dumps(MIXED | {"lab_load_hosts": 3}), "-e", "worker=sync,gevent", "-e", "workers=4",
                      "-e", "load_tool=wrk", "-e", demo_app(IO, SWEEP))  # fmt: skip
        turns = bench("-e", json.dumps(MIXED | {"lab_load_hosts": 1}), "-e", "worker=sync", "-e", "workers=2",
                      "-e", demo_app(CPU, SWEEP), "-e", json.dumps({"load_sweep": ONE_SWEEP}))  # fmt: skip
        stock = ansible("app2", "-m", "ansible.builtin.shell", "-a",
                        "python3 -c 'import ensurepip' 2>&1 | tail -1; command -v siege wrk pip3;"
                        " ls /opt/bench/venvs/demo-sync/bin")["app2"]["stdout"]  # fmt: skip
    finally:
        lab_up()  # the lab every other test expects: one app host and one load host, pinned, on bookworm
    return {"pairs": pairs, "turns": turns, "stock": stock}


def test_two_pairs_run_at_once_each_with_its_own_load_host(fleet_runs):
    run = fleet_runs["pairs"]
    assert "app1 <- load1, load3" in run["proc"].stdout and "app2 <- load2" in run["proc"].stdout
    (a1, b1), (a2, b2) = span(run["views"]["app1"]), span(run["views"]["app2"])
    overlap = min(b1, b2) - max(a1, a2)
    print(f"\napp1 loaded {a1:.1f}-{b1:.1f}, app2 {a2:.1f}-{b2:.1f}: overlap {overlap:.1f} s of {b1 - a1:.1f} s")
    assert overlap > 0.8 * min(b1 - a1, b2 - a2), "the pairs' load phases overlap"
    # app1's runs are shared by its two load hosts, but for c=1 (load3 sits those out)
    assert {(r["concurrency"] > 1, r["load_host"]) for r in run["views"]["app1"]["results"]} == {
        (True, "load1+load3"), (False, "load1")
    }  # fmt: skip
    assert {r["load_host"] for r in run["views"]["app2"]["results"]} == {"load2"}


def test_every_run_of_both_hosts_is_kept_under_its_app_host(fleet_runs):
    run = fleet_runs["pairs"]
    for host in ("app1", "app2"):
        records = run["views"][host]["results"]
        assert records and all(r["app_host"] == host and r["valid"] for r in records), host
        for rec in records:
            for load in rec["load_host"].split("+"):
                assert (run["dir"] / "raw" / host / load / f"{rec['name']}.out").exists(), (host, load, rec["name"])
        assert (run["dir"] / "raw" / host / "gevent.journal.json").stat().st_size > 0


def test_each_run_of_two_load_hosts_is_merged_from_both_started_together(fleet_runs):
    shared = [r for r in fleet_runs["pairs"]["views"]["app1"]["results"] if r["concurrency"] >= 2]  # c=1: load1's
    assert {(r["worker_type"], r["scenario"]) for r in shared} == {
        (w, s) for w in ("sync", "gevent") for s in ("probe", "sweep")
    }
    for rec in shared:
        hosts = rec["per_host"]
        assert [h["host"] for h in hosts] == ["load1", "load3"] and rec["load_host"] == "load1+load3", rec["name"]
        assert rec["transactions"] == sum(h["transactions"] for h in hosts) > 0, rec["name"]
        assert sum(h["concurrency"] for h in hosts) == rec["concurrency"], rec["name"]
        skew, shortest = abs(hosts[0]["started"] - hosts[1]["started"]), min(h["elapsed_s"] for h in hosts)
        print(f"\n{rec['name']}: load hosts started {skew:.3f} s apart, shortest run {shortest:.2f} s")
        # Not a fixed bound (0.57 s seen on the loaded 2-core machine): runs one after another are a whole run apart.
        assert skew < 0.75 * shortest, f"{rec['name']}: started {skew:.2f} s apart, not together"


def test_the_sweep_ran_with_wrk_and_reports_its_percentiles_and_the_spread_of_repeats(fleet_runs):
    run = fleet_runs["pairs"]
    for host, view in run["views"].items():
        sweeps = [r for r in view["results"] if r["scenario"] == "sweep"]
        assert len(sweeps) == 4 and {r["tool"] for r in sweeps} == {"wrk"}, host
        print(f"\n{host}: wrk p50/p99 of /ioTask?ms=100 at c=4 (s): {[(r['p50_s'], r['p99_s']) for r in sweeps]}")
        # 0.4 s, four sleeps: c=4 served one at a time or wrk's ms read as s fail it; load noise does not
        assert all(0.1 <= r["p50_s"] <= r["p99_s"] < 0.4 for r in sweeps), [r["p99_s"] for r in sweeps]
        probes = [r for r in view["results"] if r["scenario"] == "probe" and r["concurrency"] == 4]
        assert probes and all(r["tool"] == "siege" and len(r["response_times_s"]) == 4 for r in probes), host
    section = run["report"][run["report"].index("## App host app1") :]
    row = next(line for line in section.splitlines() if line.startswith("| gevent | 4 |"))
    assert re.search(r"\| [\d.]+–[\d.]+, CV [\d.]+ %", row), row
    assert row.endswith("| 2/2 |")
    assert "(sweep, wrk)" in (run["dir"] / "run.json").read_text()


def test_each_host_is_what_the_lab_made_it_and_its_io_probes_meet_theory(fleet_runs):
    views = fleet_runs["pairs"]["views"]
    facts = {h: fleet.app_facts(v) for h, v in views.items()}
    assert facts["app1"]["os"].startswith("Debian 12") and facts["app1"]["python"].startswith("3.11.")
    assert facts["app2"]["os"].startswith("Debian 13") and facts["app2"]["python"].startswith("3.13.")
    assert facts["app1"]["cpus_pinned"] == [0] and facts["app2"]["cpus_pinned"] == [0, 1]
    for host, view in views.items():
        for worker, theory in (("sync", 4.0), ("gevent", 4.0)):  # four workers
            (burst,) = [r for r in view["results"] if r["scenario"] == "probe" and r["task"] == "io"
                        and r["worker_type"] == worker and r["concurrency"] == 4]  # fmt: skip
            print(f"\n{host} {worker} IO c=4: at once {burst['server']['at_once']:.2f} (theory {theory})")
            assert abs(burst["server"]["at_once"] - theory) <= 0.05 * theory, (host, worker, burst["server"])


def test_the_report_puts_the_machines_side_by_side(fleet_runs):
    run = fleet_runs["pairs"]
    report = run["report"]
    assert "2 app hosts side by side" in report and "## Machines side by side" in report
    assert re.search(r"- \*\*app1\*\* \(.* x1, .*Debian 12.*Python 3\.11.*\) loaded by load1, load3: complete", report)
    assert re.search(r"- \*\*app2\*\* \(.* x2, .*Debian 13.*Python 3\.13.*\) loaded by load2: complete", report)
    table = report[report.index("### `/ioTask?ms=100`") : report.index("## Limits of comparing")]
    assert "| worker | c | app1 rps | per core | p99 (s) | app2 rps | per core | p99 (s) |" in table
    assert re.search(r"^\| sync \| 4 \|", table, re.M) and re.search(r"^\| gevent \| 4 \|", table, re.M)
    assert (run["dir"] / "hosts-ioTask-ms-100.png").stat().st_size > 0
    assert "## App host app1: " in report and "## App host app2: " in report
    assert report.count("### Verdict: how many requests") == 2
    # the IO verdicts hold on both (the CPU ones on unpinned cores shared with the other pair are the machine's:
    # gthread's 2 threads on app2's 2 cores measured 1.84 at once once, each request taking 82 % more CPU than alone)
    assert not re.search(r"^\| \w+ \| [^|]+ \| io \| .*not as expected", report, re.M)
    assert "Some hosts share cores or are not pinned" in report


def test_the_stock_host_has_no_ensurepip_and_its_virtualenvs_no_pip(fleet_runs):
    out = fleet_runs["stock"]
    assert "No module named 'ensurepip'" in out and "siege" not in out and "pip" not in out.split(), out
    assert "gunicorn" in out.split()


def test_the_lab_powers_off_the_hosts_it_no_longer_plans(fleet_runs):
    assert "powered off 2 host(s) no longer planned" in fleet_runs["turns"]["proc"].stdout  # load2 and load3
    # and back to one app host, pinned: every host is booted again, on its own core (test_lab checks which)
    nspawns, netns = command(["pgrep", "-af", "systemd-nspawn"]).stdout, command(["ip", "netns", "list"]).stdout
    links, inventory = command(["ip", "-o", "link", "show"]).stdout, (ROOT / "inventory/lab/hosts.yml").read_text()
    for host in ("app2", "load2", "load3"):
        assert f"bl-{host}" not in nspawns + netns + links and f"{host}:" not in inventory, host


def test_two_app_hosts_take_turns_on_one_load_host(fleet_runs):
    run = fleet_runs["turns"]
    assert "app1 <- load1 (round 1 of 2)" in run["proc"].stdout and "app2 <- load1 (round 2 of 2)" in run["proc"].stdout
    (a1, b1), (a2, b2) = span(run["views"]["app1"]), span(run["views"]["app2"])
    assert b1 <= a2 or b2 <= a1, "never loaded at once"
    assert (
        "in 2 rounds" in run["report"] and "## App host app1" in run["report"] and "## App host app2" in run["report"]
    )


def test_cpu_theory_scales_with_each_hosts_cores(fleet_runs):
    """sync with two workers, a burst of 4 CPU requests: both hosts work on 2 at once (two processes), but app1's
    share its one core (one core busy, each request about twice as long as alone) and app2's run on its two (more
    than one core busy at once, which one core cannot do): the theory counts each host's own cores (stats.cpu_lanes).
    app2's cores are the machine's two, unpinned: in make test the unit tests and lint run on them beside it (1.69 at
    once and 1.66 cores busy seen there, 1.89-1.97 and 1.83-1.94 alone), so its bound is what one core cannot reach."""
    for host, cores in (("app1", 1), ("app2", 2)):
        view = fleet_runs["turns"]["views"][host]
        assert verdict.app_cores(view["hosts"]) == cores
        rows = verdict.verdicts(verdict.probe_rows(view["results"], cores))
        (cpu,) = [v for v in rows if v["task"] == "cpu"]
        print(f"\n{host} sync -w2 CPU c={cpu['concurrency']}: at once {cpu['measured']:.2f} (theory "
              f"{cpu['expected']:.2f}), cores busy {cpu['cores_busy']:.2f}: {cpu['sentence']}")  # fmt: skip
        assert cpu["expected"] == 2.0, (host, cpu["expected"])
        if cores == 1:
            assert abs(cpu["measured"] - 2.0) <= 0.1 * 2.0 and cpu["cores_busy"] <= 1.1, (host, cpu)
        else:
            assert cpu["measured"] > 1.5 and cpu["cores_busy"] > 1.3, (host, cpu["measured"], cpu["cores_busy"])
