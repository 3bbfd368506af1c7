"""Verdicts from the server's own clock, on real captured bursts (a quick run of all five types on the lab, the
app logging every probe request): the burst arithmetic, theory in rounds, where the CPU went, the sentences, the
report's first paragraph, and a mislabelled configuration that must be caught."""

from __future__ import annotations

import copy
import json
import statistics

import pytest
from support import FIXTURES

from bench.analyse import throughput, verdict
from bench.model import results_model
from bench.parse import timing
from bench.render import report, summary
from bench.trends import history

# read as production reads any results.json: the current model (bench/model/results_model.py)
RUN = results_model.current(json.loads((FIXTURES / "results/server-timed-all.json").read_text()))
JOURNAL = (FIXTURES / "journal/gthread-probes.json").read_text()
TYPES = ["sync", "gthread", "gevent", "eventlet", "tornado"]


def rows(results: dict) -> list[dict]:
    return verdict.probe_rows(results["results"], verdict.app_cores(results["hosts"]))


def burst_row(results: dict, worker: str, endpoint: str, n: int) -> dict:
    return next(r for r in rows(results) if (r["worker_type"], r["label"], r["concurrency"]) == (worker, endpoint, n))


def record(results: dict, worker: str, endpoint: str, n: int) -> dict:
    return next(
        r for r in results["results"]
        if r["scenario"] == "probe" and (r["worker_type"], r["label"], r["concurrency"]) == (worker, endpoint, n)
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
    found = sorted((v["worker_type"], v["task"]) for v in verdicts)
    assert found == sorted((w, t) for w in TYPES for t in ("io", "cpu"))
    for v in verdicts:
        assert v["timed_by"] == "server"
        assert v["tolerance"] == 0.05
        assert v["error"] <= 0.05, (v["worker_type"], v["task"], v["measured"], v["expected"])
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
    v = next(v for v in verdict.verdicts(rows(RUN)) if (v["worker_type"], v["task"]) == (worker, task))
    assert v["expected"] == expected
    assert v["measured"] == pytest.approx(measured, rel=0.05)


def test_a_mislabelled_configuration_is_not_as_expected():
    """The bug this replaces: a process with 2 threads recorded as 4. Theory for 10 requests on 4 threads is
    10/3 = 3.33; the burst shows 2 at once: not as expected, on IO (40 % off) and on CPU alike."""
    lied = copy.deepcopy(RUN)
    for r in lied["results"]:
        if r["worker_type"] == "gthread":
            r["threads"] = 4
    io, cpu = burst_row(lied, "gthread", "/ioTask", 10), burst_row(lied, "gthread", "/cpuTask", 10)
    assert io["expected"] == pytest.approx(10 / 3) and io["measured"] == pytest.approx(2.0, rel=0.02)
    assert io["error"] == pytest.approx(0.4, abs=0.01)
    assert not io["as_expected"] and not cpu["as_expected"]
    text = summary.paragraph(verdict.verdicts(rows(lied)), rows(lied), throughput.sweep_rows(lied["results"]), TYPES)
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
    found = {worker: burst_row(RUN, worker, "/cpuTask", 10) for worker in TYPES}
    for worker, row in found.items():
        assert row["cpu_per_request_s"] == pytest.approx(row["cpu_consumed_s"] / 10)
        assert 0.85 <= row["utilisation"] <= 1.01, worker
    within = [w for w, row in found.items() if row["cpu_per_request_s"] <= row["cpu_alone_s"][1]]
    assert within == ["sync", "gevent", "eventlet", "tornado"], "gthread's 0.449 s is above its 0.444 s alone"
    for worker in within:
        assert verdict.cpu_overhead(found[worker]) == 0, worker
        assert "no overhead beyond that range" in found[worker]["finding"], worker
    assert verdict.cpu_overhead(found["gthread"]) == pytest.approx(0.0129, abs=1e-4)


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
    lines = summary.paragraph(verdict.verdicts(rows(shared)), rows(shared), throughput.sweep_rows(shared["results"]),
                              TYPES)  # fmt: skip
    assert "gevent's CPU burst of 10 had its core only 70% busy" in lines[-1]


# --- the report ------------------------------------------------------------------------------------------------


def test_the_first_paragraph_answers_from_this_runs_figures():
    probes = rows(RUN)
    lines = summary.paragraph(verdict.verdicts(probes), probes, throughput.sweep_rows(RUN["results"]), TYPES)
    hello, io, cpu, doubtful = lines  # in the app's order of scenarios (the matrix's)
    assert io.startswith("**IO-bound work** (`/ioTask?ms=100`, c=10): gevent served the most, 93.5 requests/s")
    assert "the requests worked on at once: gevent 10; eventlet 9.9; gthread 2; sync and tornado 1." in io
    assert cpu.startswith("**CPU-bound work** (`/cpuTask?n=650000`, c=10): gevent served the most")
    assert "the requests worked on at once: gthread 2; sync, gevent, eventlet and tornado 1." in cpu
    assert hello.startswith("**Hello** (`/`, c=10): gevent served the most, 2,207.2")
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
    assert new[("gthread 1w×2t", "probe io c=10", "at_once")] == pytest.approx(2.0, rel=0.02)
    assert ("sync 1w", "probe cpu /cpuTask", "unit_cpu_s") in new
    assert not [k for k in new if k[2] == "effective"]
    old = history.metrics(
        results_model.current(json.loads((FIXTURES / "results/quick-all-20261126-siege.json").read_text()))
    )
    assert {k[2] for k in old if k[1].startswith("probe")} == {"effective"}


# --- every field of a verdict row, on the real run: what each promises, checked another way ------------------------

# The same five types in an older run (2026-11-26, before the app timed its own requests): siege's times alone.
QUICK = results_model.current(json.loads((FIXTURES / "results/quick-all-20261126-siege.json").read_text()))


def server(results: dict, worker: str, endpoint: str, n: int) -> dict:
    return record(results, worker, endpoint, n)["server"]


def test_rows_timed_by_the_server_or_by_siege_have_the_same_fields():
    """The report reads every field of every probe row (StrictUndefined), whichever clock timed it."""
    by_server, by_siege = rows(RUN), rows(QUICK)
    assert {r["timed_by"] for r in by_server} == {"server"} and {r["timed_by"] for r in by_siege} == {"siege"}
    fields = set(by_server[0]) - set(RUN["results"][0])
    assert all(set(r) - set(RUN["results"][0]) == fields for r in by_server)
    assert all(set(r) - set(QUICK["results"][0]) == fields for r in by_siege)
    assert fields >= {"capacity", "finding", "unit", "unit_cpu", "expected", "measured", "error", "tolerance",
                      "as_expected", "peak_at_once", "effective", "effective_expected", "sent_s", "wait_s",
                      "service_s", "cpu_consumed_s", "cores_busy", "utilisation", "useful_cpu_s", "cpu_efficiency",
                      "requests_cpu_s", "cpu_inflation", "cpu_alone_s", "cpu_per_request_s"}  # fmt: skip
    for r in by_siege:
        assert r["wait_s"] is r["service_s"] is r["sent_s"] is r["peak_at_once"] is r["unit_cpu"] is None
        assert r["cpu_consumed_s"] is r["utilisation"] is r["cpu_alone_s"] is r["finding"] is None


def test_capacity_is_the_configurations_simultaneous_requests():
    assert {r["worker_type"]: r["capacity"] for r in rows(RUN)} == {
        "sync": 1, "gthread": 2, "gevent": 1000, "eventlet": 1000, "tornado": 1,
    }  # fmt: skip


def test_the_calibration_is_one_client_timed_by_the_server():
    """c=1 sends 3 requests one after another: all of them are in the app's log, one at a time."""
    for worker in TYPES:
        for endpoint in ("/ioTask", "/cpuTask"):
            row = burst_row(RUN, worker, endpoint, 1)
            assert row["timed_by"] == "server" and row["reps"] == 3
            assert row["expected"] == 1 and row["measured"] == pytest.approx(1.0, abs=0.01) and row["as_expected"]
            assert row["finding"] is None and verdict.cpu_overhead(row) is None
    row = burst_row(RUN, "sync", "/cpuTask", 1)
    assert row["sentence"] == "one unit of work: 3 requests one after another, 0.450 s in the app, 0.444 s of CPU"
    assert burst_row(RUN, "gevent", "/ioTask", 1)["sentence"] == (
        "one unit of work: 3 requests one after another, 1.002 s in the app, 0.001 s of CPU"
    )


def test_a_burst_recorded_without_reps_is_one_request_per_client():
    old = copy.deepcopy(RUN)
    record(old, "gthread", "/ioTask", 10)["reps"] = None
    row = burst_row(old, "gthread", "/ioTask", 10)
    assert row["timed_by"] == "server" and row["measured"] == pytest.approx(2.0, rel=0.01)


@pytest.mark.parametrize(
    ("worker", "endpoint", "n", "sentence"),
    [
        ("sync", "/ioTask", 10,
         "1 request was worked on at once; the 2nd waited 1.01 s to reach the app (the longest wait 9.04 s)"),
        ("gthread", "/ioTask", 2, "all 2 requests were worked on at once (each 1.00 s in the app)"),
        ("gthread", "/cpuTask", 4,
         "2 requests were worked on at once, each 1.9× as long as alone (they shared the core); the 3rd waited 0.75 s "
         "to reach the app (the longest wait 0.76 s)"),
        ("gevent", "/ioTask", 10, "all 10 requests were worked on at once (each 1.00 s in the app)"),
        ("tornado", "/ioTask", 2,
         "the 2 requests were worked on one after another (each 1.00 s in the app), but none was answered before "
         "the last had finished (all took about 2.0 s)"),
        ("tornado", "/ioTask", 10,
         "the 10 requests were worked on one after another (each 1.00 s in the app), but none was answered before "
         "the last had finished (all took about 10.0 s)"),
        ("tornado", "/cpuTask", 2,
         "the 2 requests were worked on one after another (each 0.44 s in the app), but none was answered before "
         "the last had finished (all took about 0.9 s)"),
    ],
)  # fmt: skip
def test_the_sentence_of_a_real_burst(worker, endpoint, n, sentence):
    assert burst_row(RUN, worker, endpoint, n)["sentence"] == sentence


def test_the_effective_concurrency_is_requests_at_once_times_the_unit_over_their_time_in_the_app():
    """N * unit / span = (sum of service / span) * unit / mean service: with each request as long as alone, the same as
    the requests at once; on a shared core (gthread on CPU) each took twice as long: effectively 1."""
    for row in rows(RUN):
        mean_service = statistics.mean(row["service_s"])
        assert row["effective"] == pytest.approx(row["measured"] * row["unit"] / mean_service, rel=2e-3), row["name"]
    assert burst_row(RUN, "sync", "/ioTask", 10)["effective"] == pytest.approx(1.0, rel=0.01)
    assert burst_row(RUN, "gevent", "/ioTask", 10)["effective"] == pytest.approx(10.0, rel=0.01)
    gthread = burst_row(RUN, "gthread", "/cpuTask", 10)
    assert gthread["measured"] == pytest.approx(2.0, rel=0.02) and gthread["effective"] == pytest.approx(1.0, rel=0.15)
    # theory of the effective concurrency: CPU work never beyond one lane per core (one core here)
    assert gthread["effective_expected"] == 1 and gthread["expected"] == 2
    assert burst_row(RUN, "gevent", "/ioTask", 10)["effective_expected"] == 10


def test_a_burst_of_no_measurable_span_has_no_rate():
    zero = copy.deepcopy(RUN)
    s = server(zero, "sync", "/cpuTask", 10)
    s.update(span_s=0.0, at_once=None)
    row = burst_row(zero, "sync", "/cpuTask", 10)
    assert row["timed_by"] == "server" and row["measured"] is None and row["error"] is None
    assert not row["as_expected"]
    assert row["effective"] is row["cores_busy"] is row["utilisation"] is row["finding"] is None


def test_the_requests_at_once_are_within_the_peak():
    for row in rows(RUN):
        assert row["measured"] <= row["peak_at_once"] <= row["capacity"], row["name"]
    assert burst_row(RUN, "gthread", "/ioTask", 10)["peak_at_once"] == 2
    assert burst_row(RUN, "eventlet", "/ioTask", 10)["peak_at_once"] == 10


def test_the_cpu_the_requests_did_is_n_units_of_what_one_took_alone():
    """useful = N * the calibration's CPU per request; the requests' own threads (each request's CPU in the log) and
    the whole service's cgroup account for it."""
    for worker in TYPES:
        row = burst_row(RUN, worker, "/cpuTask", 10)
        low, high = row["cpu_alone_s"]
        assert 10 * low <= row["useful_cpu_s"] <= 10 * high
        own = server(RUN, worker, "/cpuTask", 10)["cpu_s"]
        assert row["cpu_inflation"] == pytest.approx(statistics.mean(own) / row["unit_cpu"], rel=2e-3)
        assert row["requests_cpu_s"] == pytest.approx(sum(own), abs=1e-3)
        # one core, kept busy with the requests' work: the service's CPU is about N units
        assert 0.75 <= row["cpu_efficiency"] <= 1.25, worker
        assert row["cpu_efficiency"] * row["cpu_consumed_s"] == pytest.approx(row["useful_cpu_s"])
        assert row["cores_busy"] == pytest.approx(row["utilisation"])  # one lane
        assert row["cpu_consumed_s"] == server(RUN, worker, "/cpuTask", 10)["unit_cpu_consumed_s"]


def test_without_the_services_cpu_readings_there_is_no_finding():
    """A host without the cgroup's readings: the queue is still judged, where the CPU went is not."""
    legacy = copy.deepcopy(RUN)
    for r in legacy["results"]:
        if r["scenario"] == "probe" and r["task"] == "cpu":
            r["server"]["unit_cpu_consumed_s"] = None
            r["server"]["requests_cpu_s"] = None
    row = burst_row(legacy, "sync", "/cpuTask", 10)
    assert row["timed_by"] == "server" and row["as_expected"]
    assert row["cpu_consumed_s"] is row["cores_busy"] is row["utilisation"] is row["cpu_efficiency"] is None
    assert row["cpu_per_request_s"] is row["cpu_inflation"] is row["finding"] is None
    assert verdict.cpu_overhead(row) is None
    lines = summary.paragraph(verdict.verdicts(rows(legacy)), rows(legacy), throughput.sweep_rows(legacy["results"]),
                              TYPES)  # fmt: skip
    assert "CPU the service spent per request" not in lines[1]


def test_what_one_took_alone_includes_the_burst_where_requests_run_one_at_a_time():
    """sync, gevent, eventlet and tornado (one worker) run CPU work one request at a time: each request of the burst
    ran alone too. gthread's two threads share the core: only the calibration ran alone."""
    for worker in TYPES:
        calib = server(RUN, worker, "/cpuTask", 1)["cpu_s"]
        burst = server(RUN, worker, "/cpuTask", 10)["cpu_s"]
        alone = calib + burst if worker != "gthread" else calib
        assert burst_row(RUN, worker, "/cpuTask", 10)["cpu_alone_s"] == [min(alone), max(alone)], worker
    # on IO, gevent and eventlet hold every request at once: only the calibration ran alone
    assert burst_row(RUN, "gevent", "/ioTask", 10)["cpu_alone_s"] == [
        min(server(RUN, "gevent", "/ioTask", 1)["cpu_s"]), max(server(RUN, "gevent", "/ioTask", 1)["cpu_s"])
    ]  # fmt: skip


def test_the_finding_of_a_real_gthread_burst_in_full():
    row = burst_row(RUN, "gthread", "/cpuTask", 10)
    assert row["finding"] == (
        "its core 98% busy over the burst; 0.449 s of CPU per request in the burst, against 0.316–0.444 s alone: 1% "
        "more than the most one took alone, spent by its threads taking turns on the GIL (0% of the service's CPU "
        "went outside the requests' threads)"
    )
    one_thread = copy.deepcopy(RUN)  # one thread: no GIL to take turns on, and 30 % dearer than alone
    for r in one_thread["results"]:
        if r["worker_type"] == "gthread":
            r["threads"] = 1
    s = server(one_thread, "gthread", "/cpuTask", 10)
    s["unit_cpu_consumed_s"] = round(s["unit_cpu_consumed_s"] * 1.3, 4)
    assert "spent by the worker (" in burst_row(one_thread, "gthread", "/cpuTask", 10)["finding"]


def test_the_overhead_outside_the_requests_threads():
    dearer = copy.deepcopy(RUN)
    s = server(dearer, "sync", "/cpuTask", 10)
    s["unit_cpu_consumed_s"] = round(s["unit_cpu_consumed_s"] * 1.3, 4)
    row = burst_row(dearer, "sync", "/cpuTask", 10)
    outside = 1 - s["requests_cpu_s"] / s["unit_cpu_consumed_s"]
    assert 0.2 < outside < 0.3
    assert row["finding"].endswith(
        f"spent by the worker ({outside:.0%} of the service's CPU went outside the requests' threads)"
    )
    # the requests' threads counted more than the cgroup (two clocks): nothing went outside, not a negative share
    s["requests_cpu_s"] = s["unit_cpu_consumed_s"] + 0.1
    assert "(0% of the service's CPU went outside" in burst_row(dearer, "sync", "/cpuTask", 10)["finding"]


def test_a_busy_core_is_not_doubtful_and_two_busy_cores_are_plural():
    busy = copy.deepcopy(RUN)
    s = server(busy, "sync", "/cpuTask", 10)
    s.update(span_s=2.0, unit_cpu_consumed_s=1.8)  # exactly BUSY_CORE: not doubtful
    finding = burst_row(busy, "sync", "/cpuTask", 10)["finding"]
    assert finding.startswith("its core 90% busy over the burst; ") and "doubtful" not in finding
    assert "doubtful" not in burst_row(RUN, "sync", "/cpuTask", 10)["finding"]
    # the same record on two workers pinned to two cores, both busy
    two = copy.deepcopy(RUN)
    two["hosts"]["app1"]["cpus_pinned"] = [1, 2]
    for r in two["results"]:
        if r["worker_type"] == "sync":
            r["workers"] = 2
    s = server(two, "sync", "/cpuTask", 10)
    s["unit_cpu_consumed_s"] = round(s["span_s"] * 1.9, 4)
    row = burst_row(two, "sync", "/cpuTask", 10)
    assert row["cores_busy"] == pytest.approx(1.9, abs=1e-3) and row["utilisation"] == pytest.approx(0.95, abs=1e-3)
    assert row["finding"].startswith("its cores 95% busy over the burst;")
    s.update(span_s=2.0, unit_cpu_consumed_s=3.0)  # 1.5 cores: plural
    assert burst_row(two, "sync", "/cpuTask", 10)["finding"].startswith("its cores 75% busy over the burst")


def test_cpu_overhead_is_only_of_cpu_bursts():
    not_cpu_bursts = [row for row in rows(RUN) if row["task"] == "io" or row["concurrency"] == 1]
    assert len(not_cpu_bursts) == 25, "5 types: 4 IO bursts and the CPU calibration each"
    for row in not_cpu_bursts:
        assert row["cpu_per_request_s"] is not None and row["cpu_alone_s"]
        assert verdict.cpu_overhead(row) is None, row["name"]
        assert row["finding"] is None
    for row in rows(QUICK):
        assert verdict.cpu_overhead(row) is None


@pytest.mark.parametrize(
    ("hosts", "cores"),
    [({"app1": {"role": "app", "cores": 4, "cpus_pinned": [2, 3]}, "load1": {"role": "load", "cores": 8}}, 2),
     ({"load1": {"role": "load", "cores": 8}, "app1": {"role": "app", "cores": 4, "cpus_pinned": []}}, 4),
     ({"app1": {"role": "app", "cores": 4, "cpus_pinned": None}}, 4),
     ({"app1": {"role": "app"}}, 1), ({"load1": {"role": "load", "cores": 8}}, 1), ({}, 1)],
)  # fmt: skip
def test_app_cores_pinned_else_reported_else_one(hosts, cores):
    assert verdict.app_cores(hosts) == cores


# --- which clock: the server's only for a whole, valid burst with its calibration -----------------------------------


def test_a_burst_missing_from_the_apps_log_is_timed_by_siege():
    lost = copy.deepcopy(RUN)
    s = server(lost, "gthread", "/ioTask", 10)
    for key in ("wait_s", "service_s", "cpu_s", "sent_s"):
        s[key] = s[key][:-1]  # one request's line never reached the journal
    row = burst_row(lost, "gthread", "/ioTask", 10)
    assert row["timed_by"] == "siege" and row["measured"] == pytest.approx(2.0, rel=0.05)
    assert burst_row(lost, "gthread", "/ioTask", 4)["timed_by"] == "server"


def test_a_burst_without_a_server_timed_calibration_is_timed_by_siege():
    uncalibrated = copy.deepcopy(RUN)
    record(uncalibrated, "sync", "/cpuTask", 1)["server"] = None
    row = burst_row(uncalibrated, "sync", "/cpuTask", 10)
    assert row["timed_by"] == "siege" and row["tolerance"] == verdict.SIEGE_TOLERANCE["cpu"]
    # siege's own unit: the calibration's median response time
    assert row["unit"] == statistics.median(record(RUN, "sync", "/cpuTask", 1)["response_times_s"])
    assert row["measured"] == pytest.approx(10 * row["unit"] / max(record(RUN, "sync", "/cpuTask", 10)[
        "response_times_s"]))  # fmt: skip
    assert burst_row(uncalibrated, "sync", "/ioTask", 10)["timed_by"] == "server"


def test_without_any_calibration_only_an_endpoint_with_a_known_unit_is_judged():
    """No c=1 probe: /ioTask declares its unit (1 s), /cpuTask's unit is unknown."""
    results = [r for r in RUN["results"] if r["concurrency"] > 1]
    probes = verdict.probe_rows(results, 1)
    cpu = next(p for p in probes if p["name"] == "sync-probe-cpuTask-c10")
    assert cpu["timed_by"] == "siege" and cpu["unit"] is None and cpu["measured"] is None
    assert cpu["sentence"] == "no unit of work measured" and not cpu["as_expected"]
    io = next(p for p in probes if p["name"] == "sync-probe-ioTask-c10")
    assert io["timed_by"] == "siege" and io["unit"] == 1.0 and io["measured"] == pytest.approx(1.0, rel=0.01)
    assert io["sentence"].startswith("1 request was served at once; the 2nd request waited for the 1st to finish")


def test_an_invalid_burst_is_not_judged_whatever_the_apps_log_says():
    bad = copy.deepcopy(RUN)
    record(bad, "gevent", "/ioTask", 10).update(valid=False, invalid_reason="siege aborted (x)")
    record(bad, "gevent", "/ioTask", 4).update(valid=False, invalid_reason=None)
    row = burst_row(bad, "gevent", "/ioTask", 10)
    assert row["timed_by"] == "siege" and row["measured"] is None and not row["as_expected"]
    assert row["sentence"] == "siege aborted (x)" and row["finding"] is None
    assert burst_row(bad, "gevent", "/ioTask", 4)["sentence"] == "invalid"
    assert verdict.siege_row(record(bad, "gevent", "/ioTask", 10), bad["results"], 1)["sentence"] == "siege aborted (x)"
    # an invalid calibration measures no unit: the bursts fall back to siege, and /cpuTask's has no unit
    record(bad, "sync", "/cpuTask", 1).update(valid=False, invalid_reason="siege aborted (y)")
    cpu = burst_row(bad, "sync", "/cpuTask", 10)
    assert cpu["timed_by"] == "siege" and cpu["unit"] is None and cpu["measured"] is None


def test_within_the_tolerance_is_as_expected_and_its_edge_included():
    edge = copy.deepcopy(RUN)
    server(edge, "gevent", "/ioTask", 10)["at_once"] = 10.5  # 5 % above the theory of 10
    server(edge, "gevent", "/ioTask", 4)["at_once"] = 4.3  # 7.5 % above 4
    assert burst_row(edge, "gevent", "/ioTask", 10)["error"] == 0.05
    assert burst_row(edge, "gevent", "/ioTask", 10)["as_expected"]
    assert not burst_row(edge, "gevent", "/ioTask", 4)["as_expected"]


def test_siege_judges_a_cpu_burst_within_fifteen_percent():
    """quick-all.json: tornado's CPU bursts of 2 and 4 were 16 % and 22 % off; its burst of 10 and the others' within
    15 %: only a one-core CPU burst measured against a c=1 calibration gets that band, IO keeps 5 %."""
    old = rows(QUICK)
    assert {r["name"] for r in old if not r["as_expected"]} == {"tornado-probe-cpuTask-c2", "tornado-probe-cpuTask-c4"}
    sync = next(r for r in old if r["name"] == "sync-probe-cpuTask-c10")
    assert 0.05 < sync["error"] < 0.15 and sync["as_expected"] and sync["tolerance"] == 0.15
    assert next(r for r in old if r["name"] == "sync-probe-ioTask-c10")["tolerance"] == 0.05
    # the calibration itself: one client, 3 requests, one at a time (not 3 at once)
    calibrations = [r for r in old if r["concurrency"] == 1]
    assert len(calibrations) == 10, "one IO and one CPU calibration per type"
    for r in calibrations:
        assert r["measured"] == pytest.approx(1.0, abs=0.12), r["name"]


# --- one verdict per type and task: its largest burst ---------------------------------------------------------------


def test_the_verdict_is_the_largest_burst_and_never_the_calibration():
    small = [r for r in RUN["results"] if r["scenario"] != "probe" or r["concurrency"] <= 2]
    found = verdict.verdicts(verdict.probe_rows(small, 1))
    assert sorted((v["worker_type"], v["task"], v["concurrency"]) for v in found) == sorted(
        (w, t, 2) for w in TYPES for t in ("io", "cpu")
    )
    only_calibration = [r for r in RUN["results"] if r["scenario"] != "probe" or r["concurrency"] == 1]
    assert verdict.verdicts(verdict.probe_rows(only_calibration, 1)) == []


# --- sweep rows: medians over repeats, their spread, what the server spent, the IO limit ----------------------------


def sweep(results: dict, worker: str, endpoint: str, c: int) -> dict:
    return next(
        r for r in results["results"]
        if r["scenario"] == "sweep" and (r["worker_type"], r["label"], r["concurrency"]) == (worker, endpoint, c)
    )  # fmt: skip


def sweep_row(results: list[dict], worker: str, endpoint: str, c: int) -> dict:
    key = (worker, endpoint, c)
    return next(s for s in throughput.sweep_rows(results) if (s["worker_type"], s["label"], s["concurrency"]) == key)


def test_the_io_limit_is_min_of_c_and_capacity_over_the_io_time():
    """/ioTask?ms=100: 10 requests/s per slot; sync and tornado hold 1, gthread 2 threads, gevent 1000 connections."""
    limits = {(s["worker_type"], s["concurrency"]): s["io_limit_rps"] for s in throughput.sweep_rows(RUN["results"])
              if s["label"] == "/ioTask?ms=100"}  # fmt: skip
    assert limits == {("sync", 1): 10, ("sync", 10): 10, ("gthread", 1): 10, ("gthread", 10): 20, ("gevent", 1): 10,
                      ("gevent", 10): 100, ("eventlet", 1): 10, ("eventlet", 10): 100, ("tornado", 1): 10,
                      ("tornado", 10): 10}  # fmt: skip
    gevent = sweep_row(RUN["results"], "gevent", "/ioTask?ms=100", 10)
    assert gevent["rps"] == 93.53 and gevent["efficiency"] == pytest.approx(0.9353) and gevent["io_capacity"] == 1000
    not_io = [s for s in throughput.sweep_rows(RUN["results"]) if s["task"] != "io"]
    assert len(not_io) == 20, "each type's / and /cpuTask sweeps at c=1 and c=10"
    for s in not_io:
        assert s["io_limit_rps"] is s["io_capacity"] is s["efficiency"] is None
    # a CPU endpoint that declares a unit still has no IO limit
    declared = copy.deepcopy(RUN["results"])
    sweep({"results": declared}, "sync", "/cpuTask?n=650000", 10)["unit_s"] = 0.3
    assert sweep_row(declared, "sync", "/cpuTask?n=650000", 10)["io_limit_rps"] is None


def test_a_single_run_is_its_own_median_and_has_no_spread():
    for worker in TYPES:
        raw = sweep(RUN, worker, "/cpuTask?n=650000", 10)
        s = sweep_row(RUN["results"], worker, "/cpuTask?n=650000", 10)
        assert (s["rps"], s["rps_min"], s["rps_max"]) == (raw["rps"],) * 3
        for key in ("p50_s", "p90_s", "p99_s", "max_s"):
            assert s[key] == raw[key]
        assert s["cv"] is None and not s["noisy"] and s["repeats"] == s["valid"] == 1
        app = raw["app_resources"]
        assert s["server_cpu_pct"] == pytest.approx(app["master_cpu_pct"] + app["workers_cpu_pct"])
        assert s["server_rss_mb"] == pytest.approx(app["master_rss_mb"] + app["workers_rss_mb"])
        assert s["load_cpu_pct"] == raw["load_resources"]["cpu_pct"]
        assert (s["tool"], s["failed"], s["availability"], s["load_bound"], s["invalid_reasons"]) == (
            "siege", 0, 100.0, [], [])  # fmt: skip


def test_repeats_give_the_median_the_spread_and_the_worst_of_each():
    base = sweep(RUN, "gthread", "/ioTask?ms=100", 10)
    runs = []
    for i, (rps, cpu, rss, load, failed) in enumerate([(18.0, 2.0, 50.0, 5.0, 0), (20.0, 3.0, 60.0, 7.0, 2),
                                                       (22.0, 10.0, 55.0, 6.0, 1)], start=1):  # fmt: skip
        r = copy.deepcopy(base)
        r.update(repeat=i, rps=rps, failed=failed, p50_s=0.1 * i, p99_s=0.5 + i / 10, max_s=1.0 + i,
                 availability=100 - i, load_bound="load1 95% busy" if i == 2 else None)  # fmt: skip
        r["app_resources"].update(master_cpu_pct=0.0, workers_cpu_pct=cpu, master_rss_mb=10.0, workers_rss_mb=rss)
        r["load_resources"]["cpu_pct"] = load
        runs.append(r)
    s = throughput.sweep_rows(runs)[0]
    assert (s["rps"], s["rps_min"], s["rps_max"], s["repeats"], s["valid"]) == (20.0, 18.0, 22.0, 3, 3)
    assert s["cv"] == 0.1 and not s["noisy"]  # exactly 10 %: noisy is *more* than 10 %
    assert (s["p50_s"], s["p99_s"], s["max_s"]) == (pytest.approx(0.2), pytest.approx(0.7), 4.0)
    assert (s["server_cpu_pct"], s["server_rss_mb"], s["load_cpu_pct"]) == (3.0, 70.0, 6.0)
    assert (s["failed"], s["availability"], s["load_bound"]) == (3, 97, ["load1 95% busy"])
    assert s["efficiency"] == pytest.approx(20.0 / 20.0)
    # an invalid repeat counts in failures and reasons, not in the medians
    runs[2].update(valid=False, invalid_reason="siege aborted (x)")
    s = throughput.sweep_rows(runs)[0]
    assert (s["rps"], s["rps_max"], s["valid"], s["max_s"], s["server_cpu_pct"]) == (19.0, 20.0, 2, 3.0, 2.5)
    assert s["cv"] == pytest.approx(0.0744, abs=1e-4) and not s["noisy"]
    assert (s["failed"], s["invalid_reasons"], s["repeats"]) == (3, ["siege aborted (x)"], 3)
    # every repeat invalid: nothing to report but the failures
    for r in runs:
        r.update(valid=False, invalid_reason="siege aborted (x)")
    s = throughput.sweep_rows(runs)[0]
    assert s["rps"] is s["efficiency"] is s["cv"] is s["max_s"] is s["server_cpu_pct"] is s["load_cpu_pct"] is None
    assert s["io_limit_rps"] == 20.0 and not s["noisy"]


@pytest.mark.parametrize(("rps", "cv"), [([0.0, 0.0], None), ([0.5, 0.7], 0.2357), ([9.0, 11.0], 0.1414)])
def test_the_spread_of_slow_or_dead_points(rps, cv):
    """A point that served nothing has no spread (no division by zero); one under 1 request/s has one."""
    base = sweep(RUN, "sync", "/cpuTask?n=650000", 10)
    s = throughput.sweep_rows([{**base, "repeat": i, "rps": x} for i, x in enumerate(rps, start=1)])[0]
    assert s["cv"] == (None if cv is None else pytest.approx(cv, abs=1e-4))
    assert s["noisy"] == (cv is not None)


def test_a_record_from_before_wrk_was_run_by_siege():
    """The upgrade says so (results_model); the rows show each record's tool."""
    old = json.loads((FIXTURES / "results/server-timed-all.json").read_text())
    for record in old["results"]:
        record.pop("tool", None)
    record = sweep(results_model.current(old), "sync", "/", 10)
    assert throughput.sweep_rows([record])[0]["tool"] == "siege"
    assert throughput.sweep_rows([{**record, "tool": "wrk"}])[0]["tool"] == "wrk"


def test_fidelity_of_the_real_run():
    probes, sweeps = rows(RUN), throughput.sweep_rows(RUN["results"])
    found = {f["variant"]: f for f in throughput.fidelity(probes, sweeps, [*TYPES, "absent"])}
    io = {w: f["io"][0] for w, f in found.items() if f["io"]}
    for worker in TYPES:
        bursts = [p for p in probes if p["worker_type"] == worker and p["concurrency"] > 1]
        f = found[worker]
        assert f["probe_error"] == max(p["error"] for p in bursts) < 0.05  # the calibration is no verdict
        assert f["probe_error_io"] == max(p["error"] for p in bursts if p["task"] == "io")
        assert [x["label"] for x in f["io"]] == ["/ioTask?ms=100"], "the swept IO scenario, not the probe's"
        assert io[worker]["concurrency"] == 10 and io[worker]["rps"] == sweep(RUN, worker, "/ioTask?ms=100", 10)["rps"]
    # gevent's calibration was further off than any of its bursts: it is not the worst error
    assert found["gevent"]["probe_error"] < burst_row(RUN, "gevent", "/cpuTask", 1)["error"]
    # sync, gthread and tornado reach their capacity at c=10; gevent and eventlet (1000) never do
    assert [io[w]["saturated"] for w in TYPES] == [True, True, False, False, True]
    assert [io[w]["capacity"] for w in TYPES] == [1, 2, 1000, 1000, 1]
    assert (io["gthread"]["best_concurrency"], io["gthread"]["best_limit"]) == (10, 20.0)
    assert io["gthread"]["best_efficiency"] == pytest.approx(0.9645)
    # below saturation, the best point of all; at it, the best of the saturated points (tornado's c=1 beat c=10)
    assert (io["gevent"]["best_concurrency"], io["gevent"]["best_efficiency"]) == (1, 0.945)
    assert (io["tornado"]["best_concurrency"], io["tornado"]["efficiency"]) == (1, 0.727)
    assert (io["gevent"]["limit"], io["gevent"]["efficiency"]) == (100.0, 0.9353)
    assert "absent" not in found, "a type with no probe and no IO sweep has nothing to hold against theory"


def test_every_cpu_burst_kept_its_core_busy_however_short():
    """The CPU bursts of 2 last well under a second: still judged, and the core was busy through them."""
    bursts = [row for row in rows(RUN) if row["task"] == "cpu" and row["concurrency"] > 1]
    assert len(bursts) == 15, "5 types, bursts of 2, 4 and 10"
    for row in bursts:
        assert 0.95 <= row["cores_busy"] == row["utilisation"] <= 1.01, row["name"]
        assert row["finding"].startswith(f"its core {row['utilisation']:.0%} busy over the burst; "), row["name"]
    assert server(RUN, "gthread", "/cpuTask", 2)["span_s"] < 1


def test_sieges_sentence_of_a_burst_of_two():
    assert burst_row(QUICK, "gthread", "/ioTask", 2)["sentence"] == (
        "all 2 requests were served at once (each took about 1 s)"
    )
    assert burst_row(QUICK, "sync", "/cpuTask", 2)["sentence"] == (
        "1 request was served at once; the 2nd request waited for the 1st to finish (longest 0.7 s)"
    )


def test_when_each_request_was_sent():
    """A burst is sent at once; the calibration's client sends each request when the one before came back."""
    for row in rows(RUN):
        assert row["sent_s"] == server(RUN, row["worker_type"], row["label"], row["concurrency"])["sent_s"]
    bursts = [row for row in rows(RUN) if row["concurrency"] > 1]
    assert len(bursts) == 30, "5 types, 2 tasks, bursts of 2, 4 and 10"
    for row in bursts:
        assert row["sent_s"] == [0.0] * row["concurrency"], row["name"]
    calibration = burst_row(RUN, "sync", "/ioTask", 1)["sent_s"]
    assert [round(s) for s in calibration] == [0, 1, 2]


def test_siege_judges_cpu_within_fifteen_percent_edge_included():
    """3 sync workers on 3 cores, 10 requests of 0.17 s: theory 10 / ceil(10/3) = 2.5; the slowest answer at 0.8 s
    gives 10 * 0.17 / 0.8 = 2.125, exactly 15 % off."""
    p = {**record(QUICK, "sync", "/cpuTask", 10), "workers": 3, "unit_s": 0.17}
    p["response_times_s"] = [round(0.08 * i, 2) for i in range(1, 11)]
    row = verdict.siege_row(p, QUICK["results"], 3)
    assert (row["expected"], row["measured"], row["error"]) == (2.5, 2.125, 0.15)
    assert row["as_expected"]


def test_of_two_endpoints_of_one_task_probed_as_large_the_first_is_the_verdict():
    twice = copy.deepcopy(RUN)
    extra = [copy.deepcopy(r) for r in twice["results"] if r["worker_type"] == "gthread" and r["label"] == "/ioTask"]
    for r in extra:
        r.update(label="/ioTask?ms=1000", name=r["name"].replace("ioTask", "ioTask-ms-1000"))
    twice["results"] += extra
    (v,) = [v for v in verdict.verdicts(rows(twice)) if (v["worker_type"], v["task"]) == ("gthread", "io")]
    assert v["name"] == "gthread-probe-ioTask-c10"


def test_a_sweep_without_availability_has_none():
    """wrk reports no availability: a point run by wrk alone has none, not an error."""
    base = sweep(RUN, "gevent", "/", 10)
    s = throughput.sweep_rows([{**base, "tool": "wrk", "availability": None, "repeat": i} for i in (1, 2)])[0]
    assert s["availability"] is None and s["tool"] == "wrk"


def test_the_findings_words_in_full():
    assert burst_row(RUN, "sync", "/cpuTask", 10)["finding"] == (
        "its core 99% busy over the burst; 0.412 s of CPU per request in the burst, against 0.352–0.452 s alone: no "
        "overhead beyond that range"
    )
    shared = copy.deepcopy(RUN)
    s = server(shared, "gevent", "/cpuTask", 10)
    s["unit_cpu_consumed_s"] = round(s["span_s"] * 0.7, 4)
    assert burst_row(shared, "gevent", "/cpuTask", 10)["finding"].startswith(
        "its core 70% busy over the burst (the rest went to other work on the machine: these times are doubtful); "
    )


def test_the_verdict_is_the_largest_valid_burst():
    broken = copy.deepcopy(RUN)
    record(broken, "gevent", "/ioTask", 10).update(valid=False, invalid_reason="siege did not finish in time")
    v = next(v for v in verdict.verdicts(rows(broken)) if (v["worker_type"], v["task"]) == ("gevent", "io"))
    assert v["concurrency"] == 4 and v["as_expected"]
    for r in broken["results"]:
        if r["worker_type"] == "gevent" and r["label"] == "/ioTask" and r["concurrency"] > 1:
            r.update(valid=False, invalid_reason="x")
    v = next(v for v in verdict.verdicts(rows(broken)) if (v["worker_type"], v["task"]) == ("gevent", "io"))
    assert v["concurrency"] == 10 and not v["as_expected"]  # none valid: the largest, shown as it failed


def test_a_cpu_unit_too_small_to_measure_gives_no_overhead_rather_than_a_crash():
    light = copy.deepcopy(RUN)
    calib = record(light, "sync", "/cpuTask", 1)["server"]
    calib["cpu_s"] = [0.0] * len(calib["cpu_s"])
    row = burst_row(light, "sync", "/cpuTask", 10)
    assert row["unit_cpu"] == 0 and verdict.cpu_overhead(row) is None
    assert row["finding"].startswith("its core ")


def test_four_threads_sharing_one_core_serve_the_rounds_theory_weighs_by_length():
    """A real lab run (gthread, 4 threads, one core): 10 CPU requests reached the app 4, 4 and 2 at a time, the full
    rounds each lasting twice as long as the last. 3.65 at once: the theory of rounds weighed by their length (3.6)
    says expected; rounds of equal length (10/3 = 3.33) would have called the server wrong by 9.6 %."""
    four = json.loads((FIXTURES / "results/gthread-4-threads-probes.json").read_text())
    row = burst_row(results_model.current(four), "gthread", "/cpuTask", 10)
    assert four["processes"]["gthread"]["threads"] == 4
    assert [round(w) for w in row["wait_s"]] == [0, 0, 0, 0, 2, 2, 2, 2, 3, 3]
    assert row["expected"] == pytest.approx(3.6)
    assert row["measured"] == pytest.approx(3.65, abs=0.01)
    assert row["as_expected"]
    assert abs(row["measured"] - 10 / 3) / (10 / 3) > verdict.TOLERANCE["cpu"]
