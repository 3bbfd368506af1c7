"""Verdicts from the server's own clock, on real captured bursts (a quick run of all five types on the lab, the
app logging every probe request): the burst arithmetic, theory in rounds, where the CPU went, the sentences, the
report's first paragraph, and a mislabelled configuration that must be caught."""

from __future__ import annotations

import copy
import json
import statistics

import pytest
from conftest import FIXTURES

from bench import history, report, summary, timing, verdict

RUN = json.loads((FIXTURES / "results/server-timed-all.json").read_text())
JOURNAL = (FIXTURES / "journal/gthread-probes.json").read_text()
TYPES = ["sync", "gthread", "gevent", "eventlet", "tornado"]


def rows(results: dict) -> list[dict]:
    return verdict.probe_rows(results["results"], verdict.app_cores(results["hosts"]))


def burst_row(results: dict, worker: str, endpoint: str, n: int) -> dict:
    return next(r for r in rows(results) if (r["worker"], r["endpoint"], r["concurrency"]) == (worker, endpoint, n))


def record(results: dict, worker: str, endpoint: str, n: int) -> dict:
    return next(
        r for r in results["results"]
        if r["scenario"] == "probe" and (r["worker"], r["endpoint"], r["concurrency"]) == (worker, endpoint, n)
    )  # fmt: skip


# --- the journal's log lines and the burst arithmetic -------------------------------------------------------------


def test_the_journal_holds_one_line_per_probe_request():
    found = timing.parse_journal(JOURNAL)
    assert {name: len(reqs) for name, reqs in found.items()} == {
        "gthread-probe-ioTask-c1": 3, "gthread-probe-ioTask-c2": 2, "gthread-probe-ioTask-c4": 4,
        "gthread-probe-ioTask-c10": 10, "gthread-probe-cpuTask-c1": 3, "gthread-probe-cpuTask-c2": 2,
        "gthread-probe-cpuTask-c4": 4, "gthread-probe-cpuTask-c10": 10,
    }  # fmt: skip
    for reqs in found.values():
        assert [r.arrived for r in reqs] == sorted(r.arrived for r in reqs)
        assert all(r.left > r.arrived and r.unit_cpu_out_s >= r.unit_cpu_in_s for r in reqs)
    assert timing.parse_line("[2026-11-27 08:31:02 +0000] [549] [INFO] Booting worker with pid: 549") is None
    assert timing.parse_line("bench-timing {not json") is None


def test_two_threads_on_io_serve_pairs_one_second_apart():
    reqs = timing.parse_journal(JOURNAL)["gthread-probe-ioTask-c10"]
    sent = record(RUN, "gthread", "/ioTask", 10)["started"]
    burst = timing.burst(reqs, sent)
    assert [round(w) for w in burst["wait_s"]] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert all(abs(s - 1.0) < 0.01 for s in burst["service_s"])
    assert burst["peak_at_once"] == 2
    assert burst["at_once"] == pytest.approx(sum(burst["service_s"]) / burst["span_s"], rel=1e-3)
    assert burst["at_once"] == pytest.approx(2.0, rel=0.01)
    assert burst == record(RUN, "gthread", "/ioTask", 10)["server"]  # what collect stored


def test_the_calibration_waits_from_the_previous_departure():
    reqs = timing.parse_journal(JOURNAL)["gthread-probe-cpuTask-c1"]
    sent = record(RUN, "gthread", "/cpuTask", 1)["started"]
    one_client = timing.burst(reqs, sent, sequential=True)
    assert all(w < 0.05 for w in one_client["wait_s"])  # each was sent when the one before came back
    assert one_client["sent_s"][1] == pytest.approx(reqs[0].left - min(sent, reqs[0].arrived), abs=1e-3)
    together = timing.burst(reqs, sent)  # read as a burst, the 3rd would seem to have waited for two units
    assert together["wait_s"][2] > 0.5


def test_the_units_cpu_over_a_burst_is_the_last_reading_minus_the_first():
    reqs = timing.parse_journal(JOURNAL)["gthread-probe-cpuTask-c10"]
    burst = timing.burst(reqs, None)
    assert burst["unit_cpu_consumed_s"] == pytest.approx(
        max(r.unit_cpu_out_s for r in reqs) - min(r.unit_cpu_in_s for r in reqs), abs=1e-4
    )
    # the whole unit consumed at least what the requests' own threads did, and no more than one core over the span
    assert burst["requests_cpu_s"] <= burst["unit_cpu_consumed_s"] <= burst["span_s"] * 1.01


# --- verdicts --------------------------------------------------------------------------------------------------


def test_every_verdict_of_the_real_run_is_expected_within_five_percent():
    verdicts = verdict.verdicts(rows(RUN))
    assert sorted((v["worker"], v["task"]) for v in verdicts) == sorted((w, t) for w in TYPES for t in ("io", "cpu"))
    for v in verdicts:
        assert v["timed_by"] == "server"
        assert v["tolerance"] == 0.05
        assert v["error"] <= 0.05, (v["worker"], v["task"], v["measured"], v["expected"])
        assert v["as_expected"]
    # an exact match is rare: an error of 0 tolerated would hide nothing, so the tolerance is really used
    assert max(v["error"] for v in verdicts if v["task"] == "cpu") > 0


@pytest.mark.parametrize(
    ("worker", "task", "expected", "measured"),
    [("sync", "io", 1, 1.0), ("gthread", "io", 2, 2.0), ("gevent", "io", 10, 10.0), ("eventlet", "io", 10, 10.0),
     ("tornado", "io", 1, 1.0), ("sync", "cpu", 1, 1.0), ("gthread", "cpu", 2, 2.0), ("gevent", "cpu", 1, 1.0),
     ("eventlet", "cpu", 1, 1.0), ("tornado", "cpu", 1, 1.0)],
)  # fmt: skip
def test_theory_and_measure_per_type(worker, task, expected, measured):
    v = next(v for v in verdict.verdicts(rows(RUN)) if (v["worker"], v["task"]) == (worker, task))
    assert v["expected"] == expected
    assert v["measured"] == pytest.approx(measured, rel=0.05)


def test_a_mislabelled_configuration_is_not_as_expected():
    """The bug this replaces: a process with 2 threads recorded as 4. Theory for 10 requests on 4 threads is
    10/3 = 3.33; the burst shows 2 at once: not as expected, on IO (40 % off) and on CPU alike."""
    lied = copy.deepcopy(RUN)
    for r in lied["results"]:
        if r["worker"] == "gthread":
            r["threads"] = 4
    io, cpu = burst_row(lied, "gthread", "/ioTask", 10), burst_row(lied, "gthread", "/cpuTask", 10)
    assert io["expected"] == pytest.approx(10 / 3) and io["measured"] == pytest.approx(2.0, rel=0.02)
    assert io["error"] == pytest.approx(0.4, abs=0.01)
    assert not io["as_expected"] and not cpu["as_expected"]
    text = summary.paragraph(verdict.verdicts(rows(lied)), rows(lied), verdict.sweep_rows(lied["results"]), TYPES)
    assert "gthread on io is **not as expected**: 2.00 at once against a theory of 3.33" in text[-1]


def test_a_changed_cpu_unit_changes_the_effective_concurrency_not_the_verdict():
    """The unit of work is the server's median over the c=1 probe's requests; how many were in the app at once
    needs no unit at all."""
    before = burst_row(RUN, "sync", "/cpuTask", 10)
    single = record(RUN, "sync", "/cpuTask", 1)
    assert before["unit"] == statistics.median(single["server"]["service_s"])
    assert before["unit_cpu"] == statistics.median(single["server"]["cpu_s"])
    slower = copy.deepcopy(RUN)
    calib = record(slower, "sync", "/cpuTask", 1)["server"]
    calib["service_s"] = [s * 2 for s in calib["service_s"]]
    after = burst_row(slower, "sync", "/cpuTask", 10)
    assert after["effective"] == pytest.approx(2 * before["effective"])
    assert after["measured"] == before["measured"]


def test_without_the_apps_log_the_verdict_falls_back_to_siege_and_says_so():
    old = copy.deepcopy(RUN)
    for r in old["results"]:
        r["server"] = None
    v = burst_row(old, "sync", "/ioTask", 10)
    assert v["timed_by"] == "siege"
    assert v["measured"] == pytest.approx(1.0, rel=0.05)
    assert v["tolerance"] == verdict.SIEGE_TOLERANCE["io"]


# --- where the CPU went ------------------------------------------------------------------------------------------


def test_cpu_per_request_within_what_one_took_alone_is_no_overhead():
    for worker in TYPES:
        row = burst_row(RUN, worker, "/cpuTask", 10)
        high = row["cpu_alone_s"][1]
        assert row["cpu_per_request_s"] == pytest.approx(row["cpu_consumed_s"] / 10)
        assert 0.85 <= row["utilisation"] <= 1.01, worker
        if row["cpu_per_request_s"] <= high:
            assert verdict.cpu_overhead(row) == 0
            assert "no overhead beyond that range" in row["finding"]


def test_cpu_beyond_what_one_took_alone_is_the_worker_types_overhead():
    dearer = copy.deepcopy(RUN)
    server = record(dearer, "sync", "/cpuTask", 10)["server"]
    server["unit_cpu_consumed_s"] = round(server["unit_cpu_consumed_s"] * 1.3, 4)
    row = burst_row(dearer, "sync", "/cpuTask", 10)
    high = row["cpu_alone_s"][1]
    assert verdict.cpu_overhead(row) == pytest.approx((row["cpu_per_request_s"] - high) / row["unit_cpu"])
    assert verdict.cpu_overhead(row) > 0.1
    assert "more than the most one took alone, spent by the worker" in row["finding"]


def test_a_core_shared_with_other_work_makes_the_burst_doubtful():
    shared = copy.deepcopy(RUN)
    server = record(shared, "gevent", "/cpuTask", 10)["server"]
    server["unit_cpu_consumed_s"] = round(server["span_s"] * 0.7, 4)
    row = burst_row(shared, "gevent", "/cpuTask", 10)
    assert row["utilisation"] == pytest.approx(0.7, abs=0.01)
    assert "other work on the machine: these times are doubtful" in row["finding"]
    assert row["as_expected"]  # the queue was still as theory says
    lines = summary.paragraph(verdict.verdicts(rows(shared)), rows(shared), verdict.sweep_rows(shared["results"]),
                              TYPES)  # fmt: skip
    assert "gevent's CPU burst of 10 had its core only 70% busy" in lines[-1]


# --- the report ------------------------------------------------------------------------------------------------


def test_the_first_paragraph_answers_from_this_runs_figures():
    probes = rows(RUN)
    lines = summary.paragraph(verdict.verdicts(probes), probes, verdict.sweep_rows(RUN["results"]), TYPES)
    io, cpu, hello, doubtful = lines
    assert io.startswith("**IO-bound work** (`/ioTask?ms=100`, c=10): gevent served the most, 93.5 requests/s")
    assert "the requests worked on at once: gevent 10; eventlet 9.9; gthread 2; sync and tornado 1." in io
    assert cpu.startswith("**CPU-bound work** (`/cpuTask?n=650000`, c=10): gevent served the most")
    assert "the requests worked on at once: gthread 2; sync, gevent, eventlet and tornado 1." in cpu
    assert hello.startswith("**A trivial endpoint (hello)** (`/`, c=10): gevent served the most, 2,207.2")
    assert doubtful.startswith("**Doubtful**: each sweep point ran once")


def test_report_has_the_verdict_sentences_timelines_and_wait_columns(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(RUN))
    text = report.main(str(tmp_path)).read_text()
    section = text.split("## Verdict")[1].split("## Changes")[0]
    assert (
        "| sync | 1w, gunicorn 27.0.1 | io | 10 | 1.00 | 1.00 | expected | 1 request was worked on at once; the 2nd "
        "waited 1.01 s to reach the app" in section
    )
    assert (
        "| gevent | 1w×1000c, gunicorn 27.0.1 | io | 10 | 10.00 | 9.97 | expected | all 10 requests were worked on"
        in (section)
    )
    assert "none was answered before the last had finished" in section  # tornado's IO
    timelines = sorted(p.name for p in tmp_path.glob("timeline-*.png"))
    assert timelines == sorted(f"timeline-{w}-{e}.png" for w in TYPES for e in ("cpuTask", "ioTask"))
    for name in timelines:
        assert f"]({name})" in text
    row = next(line for line in text.splitlines() if line.startswith("| gthread | `/ioTask` | 10 |"))
    cells = [c.strip() for c in row.split("|")]
    server = record(RUN, "gthread", "/ioTask", 10)["server"]
    assert cells[5].split() == [f"{w:.2f}" for w in server["wait_s"]]  # in order of arrival: pairs, a second apart
    assert [round(float(w)) for w in cells[5].split()] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert cells[6].split() == ["1.00"] * 10


def test_history_compares_the_servers_figures_and_keeps_older_runs_apart():
    new = history.metrics(RUN)
    assert new[("gthread w1 t2 c1000", "probe io c=10", "at_once")] == pytest.approx(2.0, rel=0.02)
    assert ("sync w1 t1 c1000", "probe cpu /cpuTask", "unit_cpu_s") in new
    assert not [k for k in new if k[2] == "effective"]
    old = history.metrics(json.loads((FIXTURES / "results/quick-all.json").read_text()))
    assert {k[2] for k in old if k[1].startswith("probe")} == {"effective"}
