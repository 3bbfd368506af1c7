"""results.json from a run folder holding real siege output (tests/fixtures/siege)."""

from __future__ import annotations

import json
import shutil
import tarfile

import pytest
from builders import MATRIX
from support import FIXTURES

from bench import files
from bench.parse import collect, wrk


@pytest.fixture
def run_dir(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    # The fetched archive of a load host, as the playbook leaves it: unpacked by collect itself.
    with tarfile.open(raw / "sync.tar.gz", "w:gz") as tar:
        for f in (FIXTURES / "siege").glob("*-*"):
            tar.add(f, arcname=f"./{f.name}")
    (tmp_path / "run.json").write_text(json.dumps({
        "run_id": "20261126T000000Z-sync", "started": "2026-11-26T00:00:00Z", "git_commit": "abc", "profile": "quick",
        "worker_types": ["sync"], "ansible_core": "2.19.14", "matrix": MATRIX,
    }))  # fmt: skip
    (raw / "context.json").write_text(json.dumps({
        "versions": {"sync": {"gunicorn": "27.0.1", "python": "3.11.2"}},
        "hosts": {"app1": {"role": "app", "cores": 1, "cpus_pinned": [1]}},
    }))  # fmt: skip
    return tmp_path


def test_results_json_has_one_record_per_run_and_the_run_fields(run_dir):
    path = collect.main(str(run_dir))
    results = json.loads(path.read_text())
    for key in ("run_id", "started", "finished", "git_commit", "profile", "hosts", "results"):
        assert key in results
    assert results["app_hosts"]["app1"]["versions"]["sync"]["gunicorn"] == "27.0.1"  # its one app host's
    assert [r["name"] for r in results["results"]] == [m["name"] for m in MATRIX]
    assert not list(run_dir.glob(".results.json.*")), "no temporary file left behind"


def test_probe_record(run_dir):
    rec = collect.collect(run_dir)["results"][0]
    assert rec["response_times_s"] == [1.0, 2.0, 3.0, 4.01]
    assert (rec["transactions"], rec["failed"], rec["elapsed_s"], rec["rps"]) == (4, 0, 4.01, 1.0)
    assert (rec["p50_s"], rec["max_s"]) == (2.5, 4.01)
    assert rec["p90_s"] == pytest.approx(3.707) and rec["p99_s"] == pytest.approx(3.9797)
    assert rec["valid"] and rec["invalid_reason"] is None
    for key in ("worker_type", "workers", "threads", "worker_connections", "gunicorn_version", "scenario", "label",
                "concurrency"):  # fmt: skip
        assert key in rec


def test_sweep_record_keeps_percentiles_not_every_time(run_dir):
    rec = collect.collect(run_dir)["results"][2]
    assert rec["response_times_s"] is None
    assert rec["transactions"] == 46 and rec["rps"] == 9.83
    assert rec["p50_s"] == 0.3 and rec["max_s"] == 0.31


def test_invalid_runs_are_recorded_with_their_reason(run_dir):
    recs = {r["name"]: r for r in collect.collect(run_dir)["results"]}
    assert recs["aborted-sync-keepalive-c4"]["invalid_reason"].startswith("siege aborted after 1024 socket failures")
    assert recs["zero-refused-c2"]["invalid_reason"].startswith("zero transactions")
    assert "by timeout (exit 124)" in recs["hung-blackhole-c2"]["invalid_reason"]
    assert recs["never-ran-c2"]["invalid_reason"].startswith("no output")
    assert not any(recs[n]["valid"] for n in ("aborted-sync-keepalive-c4", "zero-refused-c2", "never-ran-c2"))


def test_time_in_the_load_generator_is_the_sum_of_run_times(run_dir):
    results = collect.collect(run_dir)
    metas = [json.loads(p.read_text()) for p in (FIXTURES / "siege").glob("*.meta.json")]
    assert results["time_in_load_s"] == pytest.approx(sum(m["finished"] - m["started"] for m in metas), abs=0.01)


def test_the_wait_for_an_idle_server_is_kept_per_run_and_summed_apart_from_the_load_generators_time(run_dir):
    raw = run_dir / "raw"
    collect.unpack(raw)
    meta_file = next(p for p in raw.glob("**/sweep-sync-io-c3-t5.meta.json"))
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "settle_s": 0.852}))  # what the driver records since it waits
    results = collect.collect(run_dir)
    recs = {r["name"]: r for r in results["results"]}
    assert recs["sweep-sync-io-c3-t5"]["settle_s"] == 0.852 and recs["probe-sync-io-c4"]["settle_s"] is None
    assert results["settle_s"] == 0.85
    metas = [json.loads(p.read_text()) for p in (FIXTURES / "siege").glob("*.meta.json")]
    in_siege = sum(m["finished"] - m["started"] for m in metas)
    assert results["time_in_load_s"] == pytest.approx(in_siege, abs=0.01), "the wait is not counted as siege time"


def test_a_failed_write_keeps_the_previous_results(run_dir, monkeypatch):
    collect.main(str(run_dir))
    before = (run_dir / "results.json").read_text()

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(files.json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        collect.main(str(run_dir))
    assert (run_dir / "results.json").read_text() == before
    assert not list(run_dir.glob(".results.json.*"))
    shutil.rmtree(run_dir / "raw")


def test_availability_is_the_share_of_transactions_that_did_not_fail(run_dir):
    recs = {r["name"]: r for r in collect.collect(run_dir)["results"]}
    aborted = recs["aborted-sync-keepalive-c4"]  # 1027 transactions, 1024 failed
    assert aborted["availability"] == round(100 * 1027 / (1027 + 1024), 2) == 50.07, "siege's own figure"
    assert recs["zero-refused-c2"]["availability"] == 0.0, "2 failed, none served"
    assert recs["probe-sync-io-c4"]["availability"] == 100.0
    assert recs["hung-blackhole-c2"]["availability"] is None and recs["never-ran-c2"]["availability"] is None


def test_an_older_runs_run_json_and_failure_json_collect_as_todays(run_dir, tmp_path):
    """A run made before the playbooks wrote the model's names: run.json's `worker` (its types), each matrix row's
    `worker`, `endpoint` (its scenario's label) and `label` (its line in Ansible's output, today's `progress`), and a
    failure.json's `worker`. It collects to the same results as the run written today."""
    failure = {"instance": "demo-sync", "phase": "loading it", "task": "t", "message": "m", "journal": [],
               "action": "continue", "load_host_lost": False}  # fmt: skip
    older = tmp_path / "older"
    shutil.copytree(run_dir, older)
    plan = json.loads((run_dir / "run.json").read_text())
    rows = [row | {"progress": f"[{row['index']}/{len(MATRIX)}] sync {row['label']}"} for row in plan["matrix"]]
    (run_dir / "run.json").write_text(json.dumps(plan | {"matrix": rows}))
    (run_dir / "raw" / "sync.failure.json").write_text(json.dumps(failure | {"worker_type": "sync"}))
    old_rows = [{("worker" if k == "worker_type" else k): v for k, v in row.items() if k not in ("label", "progress")}
                | {"endpoint": row["label"], "label": row["progress"]} for row in rows]  # fmt: skip
    del plan["worker_types"]
    (older / "run.json").write_text(json.dumps(plan | {"worker": ["sync"], "matrix": old_rows}))
    (older / "raw" / "sync.failure.json").write_text(json.dumps(failure | {"worker": "sync"}))
    today, before = collect.collect(run_dir, finished="f"), collect.collect(older, finished="f")
    assert today == before
    assert today["worker_types"] == ["sync"] and today["failures"][0]["worker_type"] == "sync"
    assert [r["label"] for r in today["results"]] == [row["label"] for row in MATRIX]
    assert "progress" not in today["results"][0], "the line in Ansible's output is no part of a record"


# --- warm-ups, and two load hosts (tests/fixtures/two-load-hosts: gevent, a probe, a warm-up and a sweep) ------------


def test_warm_ups_are_run_but_left_out_of_the_results(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "two-load-hosts", run)
    results = collect.collect(run)
    assert [r["scenario"] for r in results["results"]] == ["probe", "sweep"]
    assert results["warmups_discarded"] == 1


WRK = FIXTURES / "wrk"
WRK_SWEEP = "gevent-sweep-ioTask-ms-100-c4-r1"


def wrk_run(tmp_path, load1: str, load2: str):
    """The two-load-host run with its sweep made by wrk: each host's output a real wrk capture (two captures of
    different runs stand in for the two hosts: a 3.5 ms hello and a 103 ms IO run)."""
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "two-load-hosts", run)
    plan = json.loads((run / "run.json").read_text())
    next(r for r in plan["matrix"] if r["name"] == WRK_SWEEP)["tool"] = "wrk"
    (run / "run.json").write_text(json.dumps(plan))
    for host, text in (("load1", load1), ("load2", load2)):
        (run / "raw" / host / f"{WRK_SWEEP}.out").write_text(text)
        (run / "raw" / host / f"{WRK_SWEEP}.err").write_text("")
    return next(r for r in collect.collect(run)["results"] if r["name"] == WRK_SWEEP)


def test_wrk_on_two_hosts_keeps_the_worst_hosts_percentiles(tmp_path):
    fast, slow = (WRK / "hello-c10-sync.out").read_text(), (WRK / "io-c4-close.out").read_text()
    for i, (load1, load2) in enumerate(((fast, slow), (slow, fast))):  # whichever host was slower
        sweep = wrk_run(tmp_path / str(i), load1, load2)
        assert sweep["tool"] == "wrk" and sweep["valid"] and sweep["response_times_s"] is None
        assert (sweep["p50_s"], sweep["p90_s"], sweep["p99_s"]) == (0.1031, 0.1037, 0.1077), "the slow host's"
        assert sweep["max_s"] == pytest.approx(0.10775)
        assert sweep["transactions"] == 8495 + 232 and sweep["rps"] == pytest.approx(2830.46 + 38.59)


def test_wrk_non_2xx_responses_are_failures_not_transactions(tmp_path):
    # A real capture, with the line wrk prints after its socket errors when responses had a status above 399.
    hello = (WRK / "hello-c10-sync.out").read_text()
    with_503s = hello.replace("Requests/sec:", "  Non-2xx or 3xx responses: 95\nRequests/sec:")
    parsed = wrk.parse(with_503s)
    assert (parsed.requests, parsed.non_2xx, parsed.transactions, parsed.failed) == (8495, 95, 8400, 95)
    assert parsed.invalid_reason() == "95 failed requests (95 non-2xx/3xx responses (the scenario must answer 200))"
    must_fail = wrk.parse(with_503s)
    must_fail.expected_status = 503  # a scenario that must answer 503: the others are the wrong ones
    assert (must_fail.transactions, must_fail.failed) == (95, 8400)
    assert must_fail.invalid_reason() == "8400 failed requests (8400 2xx/3xx responses (the scenario must answer 503))"
    sweep = wrk_run(tmp_path, hello, with_503s)
    assert (sweep["transactions"], sweep["failed"]) == (8495 + 8400, 95)
    assert sweep["availability"] == round(100 * 16895 / (16895 + 95), 2)
    assert not sweep["valid"]
    assert (
        sweep["invalid_reason"] == "load2: 95 failed requests (95 non-2xx/3xx responses (the scenario must answer 200))"
    )


def test_a_run_killed_by_timeout_while_the_app_answered_at_once_blames_siege_not_the_server():
    """Seen on the lab: gevent's POST sweep of the notes example, 1,895 answers of 201 in its 2 s, then siege never
    returned; the app, idle, answered the driver's request on its ready path at once."""
    stopped = "siege did not finish in time and was killed by timeout (exit -9): server hung or too slow"
    meta = {"timed_out": True, "app_answered_after_timeout_s": 0.012}
    assert collect.who_hung(stopped, meta) == ("siege did not finish in time and was killed by timeout (exit -9), yet "
                                               "the app answered its ready path 0.01 s later: siege hung, not the "
                                               "server")  # fmt: skip
    assert collect.who_hung(stopped, {**meta, "app_answered_after_timeout_s": None}) == stopped, "no answer: the app"
    assert collect.who_hung(stopped, {"timed_out": True}) == stopped, "runs recorded before the driver asked"
    assert collect.who_hung(None, meta) is None
