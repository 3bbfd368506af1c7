"""Parsing real siege 4.0.7 output captured on the lab (tests/fixtures/siege/README.md says how)."""

from __future__ import annotations

import json

import pytest
from support import FIXTURES

from bench.parse import siege

SIEGE = FIXTURES / "siege"


def load(name: str, rc: int | None = None) -> siege.SiegeRun:
    meta = SIEGE / f"{name}.meta.json"
    code = rc if rc is not None else json.loads(meta.read_text())["rc"]
    return siege.parse((SIEGE / f"{name}.out").read_text(), (SIEGE / f"{name}.err").read_text(), code)


def test_probe_keeps_every_response_time_and_skips_the_first_run_notice():
    run = load("probe-sync-io-c4")
    assert run.response_times == [1.00, 2.00, 3.00, 4.01]
    assert {(r.status, r.method, r.path, r.bytes) for r in run.requests} == {(200, "GET", "/ioTask", 34)}
    assert run.summary["transactions"] == 4
    assert run.summary["elapsed_time"] == 4.01
    assert run.summary["longest_transaction"] == 4.01
    assert run.summary["concurrency"] == 2.50
    assert run.invalid_reason(expected_transactions=4) is None


def test_cpu_probe():
    run = load("probe-sync-cpu-c2")
    assert run.response_times == [0.28, 0.57]
    assert run.invalid_reason(expected_transactions=2) is None


def test_time_based_sweep_parses_every_request_and_the_full_summary():
    run = load("sweep-sync-io-c3-t5")
    assert len(run.requests) == 46 == run.transactions
    assert set(siege.SUMMARY_KEYS.values()) == set(run.summary)
    assert run.summary["transaction_rate"] == 9.83
    assert run.summary["availability"] == 100.0
    assert min(run.response_times) == 0.10 and max(run.response_times) == 0.31
    assert run.requests[0].path == "/ioTask?ms=100"
    assert run.invalid_reason() is None


def test_aborted_run_is_invalid_even_though_siege_exited_0():
    run = load("aborted-sync-keepalive-c4")
    assert run.rc == 0
    assert run.aborted
    assert run.failed == 1024
    assert len(run.requests) == 1027
    assert run.invalid_reason().startswith("siege aborted after 1024 socket failures")


def test_zero_transactions_is_invalid_with_the_socket_error():
    run = load("zero-refused-c2")
    assert run.transactions == 0
    assert run.errors == ["socket: unable to connect sock.c:282: Connection refused"] * 2
    assert run.invalid_reason() == "zero transactions (socket: unable to connect sock.c:282: Connection refused)"


def test_hung_server_run_stopped_by_timeout_is_invalid():
    run = load("hung-blackhole-c2")
    assert run.timed_out
    assert run.transactions == 0
    assert "stopped by timeout (exit 124): server hung" in run.invalid_reason()


def test_siege_hung_past_its_time_and_killed_by_timeouts_process_group_is_a_timeout():
    """A real run (sync / c=1 -t 3S, the lab, first 200 of its request lines): siege said "Lifting the server
    siege..." and hung; `timeout --kill-after` killed its process group, itself included, so the driver saw -9."""
    run = load("hung-after-its-time-sync-root-c1", rc=-9)
    assert run.timed_out and run.summary == {} and len(run.requests) == 200
    assert "killed by timeout (exit -9)" in run.invalid_reason()


def test_killed_siege_leaves_no_summary_and_is_invalid():
    run = load("killed-sync-io-c2", rc=137)
    assert run.requests == [] and run.summary == {}
    assert "killed by timeout (exit 137)" in run.invalid_reason()
    assert siege.parse("", "Killed\n", 0).invalid_reason() == "siege printed no summary (exit 0): killed or crashed"


def test_a_probe_with_missing_requests_is_invalid():
    assert load("probe-sync-io-c4").invalid_reason(expected_transactions=10) == "4 of 10 requests completed"


@pytest.mark.parametrize("status", [500, 502, 404])
def test_http_errors_make_a_run_invalid(status):
    out = f"HTTP/1.1 {status}     0.01 secs:      21 bytes ==> GET  /ioTask\n"
    err = (SIEGE / "probe-sync-cpu-c2.err").read_text().replace("Transactions:\t\t           2", "Transactions: 1")
    err = err.replace("Failed transactions:\t           0", "Failed transactions: 0")
    assert f"another HTTP status than 200 (first: {status} /ioTask)" in siege.parse(out, err).invalid_reason()


def test_a_scenario_that_must_answer_an_error_status_is_valid_with_it_and_invalid_with_200():
    """bench_app.scenarios[].status: a 400 that the scenario must answer is its transaction (siege counts it as
    neither successful nor failed: captured on the lab, `Successful transactions: 0`, `Failed transactions: 0`)."""
    out = "HTTP/1.1 400     0.01 secs:      52 bytes ==> GET  /notes?limit=0\n" * 2
    err = (SIEGE / "probe-sync-cpu-c2.err").read_text()
    run = siege.parse(out, err)
    assert run.invalid_reason(expected_status=400) is None
    assert run.invalid_reason() == "2 responses with another HTTP status than 200 (first: 400 /notes?limit=0)"
    ok = siege.parse(out.replace(" 400 ", " 200 "), err)
    assert "another HTTP status than 400 (first: 200" in ok.invalid_reason(expected_status=400)
