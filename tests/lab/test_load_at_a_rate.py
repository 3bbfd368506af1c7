"""Load at a rate on the lab (bench.yml, one type): the demo's /ioTask?ms=100 on sync -w1 at 8 requests a second, 0.8
of its one slot. Poisson arrivals wait what M/D/1 says (Pollaczek-Khinchine: 200 ms on average); evenly spaced ones
wait nothing; every request is kept, timed from when it was due. In the same run, a short search for the rate sync
carries within p75 <= 250 ms: one slot of 100 ms never carries 10 a second. And a mix: four of those waits to one
computation of about 80 ms at 8 a second, then the waits alone on the very arrivals they had in the mix, every
request kept with its scenario, each scenario against the model of sync's one slot replayed on the same arrivals (the
event loops' model against the server: tests/unit/analyse/test_mix_run.py, a real lab run of four types)."""

from __future__ import annotations

import re

import pytest
from labtools import one_host, run_dir_of
from support import RATE_APP, lab_is_possible, playbook

from bench.analyse import capacity, mix, queueing, rate_verdict
from bench.parse import rate

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]


@pytest.fixture(scope="module")
def run():
    proc = playbook("bench.yml", "-e", "worker=sync", "-e", "@tests/fixtures/profiles/rate.yml", "-e", RATE_APP,
                    timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-5000:]
    run_dir = run_dir_of(proc.stdout)
    results = one_host(run_dir)
    rows = {r["arrivals"]: r for r in rate_verdict.rate_rows(results["results"])}
    return {
        "proc": proc,
        "dir": run_dir,
        "results": results,
        "rows": rows,
        "report": (run_dir / "report.md").read_text(),
    }


def test_poisson_arrivals_at_08_of_one_slot_wait_what_md1_says(run):
    row = run["rows"]["poisson"]
    got = row["rate"]
    print(f"\nsync 8/s Poisson: {row['sentence']}; p50 {got['latency']['percentiles']['p50']['value']:.3f} s, "
          f"lag p99 {got['lag_p99_s'] * 1000:.2f} ms")  # fmt: skip
    assert row["valid"] and got["errors"] == {} and got["load_bound"] is None, row
    assert got["service_s"] == pytest.approx(0.1, abs=0.005), "the app's own clock: 100 ms a request"
    assert row["rho"] == pytest.approx(0.8, abs=0.04) and row["slots"] == 1
    assert row["theory_wait_s"] == pytest.approx(queueing.mdk_wait_s(8.0, got["service_s"], 1))
    # the same arrivals through an ideal queue of one slot: the server's queue, to its few ms of its own per request
    # (344 ms against 320 ms seen: a request costs gunicorn about 2 ms beyond the app's 100). On a busy machine those
    # few ms grow (3 ms, with make test's unit tests beside it: 161 ms against 140, 15.4 %, just past the verdict's
    # 15 %), and the verdict then says so with the time the slot was held: a server that holds it 5 ms or more longer
    # than its app fails this test.
    held = got["effective_service_s"] - got["service_s"] if got["effective_service_s"] else 0.0
    assert row["verdict"] == "expected" or held < 0.005, row["sentence"]
    assert got["wait"]["mean"] == pytest.approx(got["ideal_wait_s"], rel=0.2), row["sentence"]
    assert got["achieved_rate"] == pytest.approx(8.0, rel=0.2)


def test_evenly_spaced_arrivals_below_saturation_wait_nothing(run):
    row = run["rows"]["even"]
    assert row["valid"] and row["rate"]["errors"] == {} and row["verdict"] == "expected", row["sentence"]
    assert row["rate"]["wait"]["mean"] < rate_verdict.WAIT_FLOOR_S and row["theory_wait_s"] == 0
    assert row["rate"]["ideal_wait_s"] == 0


def test_every_request_is_kept_and_the_report_says_what_the_requests_cannot_support(run):
    row = run["rows"]["poisson"]
    out = run["dir"] / "raw" / "app1" / row["load_host"] / f"{row['name']}.out"
    header, rows, summary = rate.read(out.read_text())
    assert header["rate"] == 8.0 and header["arrivals"] == "poisson" and len(rows) == summary["requests"]
    assert len(rows) == row["rate"]["requests"] + row["rate"]["warmup_requests"]
    assert all(r["app_s"] for r in rows if r["status"] == 200), "each answer carried the app's own time"
    report = run["report"]
    assert "## Load at a rate: how long requests waited, against queueing theory" in report
    line = next(x for x in report.splitlines() if x.startswith("| sync | `/ioTask?ms=100` | 8.0/s poisson"))
    n = row["rate"]["latency"]["n"]
    assert f"not supported ({n} requests, 368 needed)" in line and "expected: waited" in line, line


def test_a_capacity_search_steps_from_half_a_slot_and_one_slot_never_carries_ten_a_second(run):
    (rec,) = [r for r in run["results"]["results"] if r["scenario"] == "capacity"]
    search, found = rec["search"], rec["search"]["result"]
    steps = [(s["rate"], s["time_s"], s["verdict"]) for s in search["steps"]]
    print(f"\nsync capacity within p75 <= 250 ms: {steps} -> {found['how']}")
    assert rec["valid"], rec["invalid_reason"]
    assert steps[0][0] == 5.0 and steps[0][1] == 3, "half of one slot; 13 requests bound a p75: 3 s at 5/s"
    assert 2 <= len(steps) <= 3
    assert all(rate < 10 for rate, _, verdict in steps if verdict == capacity.MET), "one slot of 100 ms: < 10/s"
    assert found["capacity_per_s"] is None or found["capacity_per_s"] < 10, found
    for step in search["steps"]:  # kept on the controller, each step's requests
        out = run["dir"] / "raw" / "app1" / rec["load_host"] / f"{step['name']}.out"
        _, rows, _ = rate.read(out.read_text())
        assert len(rows) >= step["n"] > 0, step
    report = run["report"]
    assert "## Capacity within a latency target" in report
    assert re.search(r"^\| sync \| `/ioTask\?ms=100` \| p75 ≤ 250 ms with at most 1 % errors \|", report, re.M), report


def test_a_mix_keeps_each_requests_scenario_and_its_scenarios_wait_as_the_slot_model_says(run):
    records = {r["mix"]["only"]: r for r in run["results"]["results"] if r["scenario"] == "mix" and r["rate_per_s"]}
    assert set(records) == {None, "io_100ms"}
    together, alone = records[None], records["io_100ms"]
    assert together["valid"] and together["rate"]["errors"] == {} and together["load_bound"] is None, together
    _, rows, summary = rate.read((run["dir"] / "raw" / "app1" / together["load_host"] /
                                  f"{together['name']}.out").read_text())  # fmt: skip
    assert len(rows) == summary["requests"] and {r["cls"] for r in rows} == {0, 1}
    assert sum(1 for r in rows if r["cls"] == 0) / len(rows) == pytest.approx(0.8, abs=0.12), "four to one"
    assert sum(c["requests"] for c in together["rate"]["classes"]) == together["rate"]["requests"]
    _, alone_rows, _ = rate.read((run["dir"] / "raw" / "app1" / alone["load_host"] /
                                  f"{alone['name']}.out").read_text())  # fmt: skip
    assert sorted(r["due"] for r in alone_rows) == pytest.approx(sorted(r["due"] for r in rows if r["cls"] == 0))
    row, closed = mix.mix_rows(run["results"]["results"])
    io = next(c for c in row["classes"] if c["name"] == "io_100ms")
    print(f"\nsync mix: {io['sentence']}")
    assert io["theory"]["model"] == "slots" and "one slot: every request waits for the one before it" in io["sentence"]
    # one slot, first come first served: the computations mixed in only add to the waits' queue
    assert io["theory"]["held_share"] >= alone["rate"]["classes"][0]["theory"]["held_share"]
    assert all(c["verdict"] == "expected" for c in row["classes"]), [c["sentence"] for c in row["classes"]]
    report = run["report"]
    assert "## Mixed traffic: what each class of request waited" in report
    assert "**Mixed traffic** io_with_cpu (4 × io_100ms + 1 × cpu_80ms, 8/s): `/ioTask?ms=100` took" in report
    # the closed loop: three clients, each sending when its last was answered; one slot serves them in turn
    assert closed["clients"] == 3 and closed["valid"] and closed["rate"]["errors"] == {}, closed
    _, rows, _ = rate.read((run["dir"] / "raw" / "app1" / closed["load_host"] / f"{closed['name']}.out").read_text())
    for r in rows:
        assert r["due"] == r["sent"] and sum(1 for x in rows if x["sent"] <= r["sent"] < x["done"]) <= 3
    assert all(c["verdict"] == "expected" for c in closed["classes"]), [c["sentence"] for c in closed["classes"]]
    assert "(4 × io_100ms + 1 × cpu_80ms, a closed loop of 3 clients): `/ioTask?ms=100` p" in report
    # the mix's target: each scenario judged against it, and the recommendation says which instance met it
    for c in together["rate"]["classes"]:
        assert c["target_verdict"]["n"] == c["requests"] and c["target_verdict"]["verdict"] in ("met", "broken")
    entry = next(e for e in run["results"]["recommendations"] if e["by"] == "mix")
    assert entry["label"] == "4 × io_100ms + 1 × cpu_80ms" and entry["target"]["latency_s"] == 0.5
    assert "**io_with_cpu** (mixed traffic 4 × io_100ms + 1 × cpu_80ms) within p75 ≤ 500 ms" in report
