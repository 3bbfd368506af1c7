"""The load hosts' driver: the load generator of a run is a named field of its record, not a place in its command."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import threading
import time

import jinja2
import pytest
import yaml
from support import ROOT, load_module

from bench.analyse import capacity
from bench.parse import rate

driver = load_module("roles/load/files/load_driver.py")
open_loop = load_module("roles/load/files/open_loop.py")

PLAN = {"base_url": "http://10.203.0.2:8000", "rc_dir": "/etc/bench", "socket_timeout_s": 30}
SWEEP = {"name": "sweep-c4", "label": "/ioTask?ms=100", "path": "/ioTask?ms=100", "connection": "close",
         "concurrency": 4, "time_s": 3}  # fmt: skip


@pytest.mark.parametrize(("asked", "tool"), [(None, "siege"), ("siege", "siege"), ("wrk", "wrk")])
def test_the_tool_named_is_the_one_the_command_runs(asked, tool):
    run = {**SWEEP, "timeout_s": 30, **({"tool": asked} if asked else {})}
    cmd = driver.command(PLAN, run)
    assert driver.tool_of(run) == tool
    assert cmd[:4] == ["timeout", "--kill-after=5", "30", tool]
    assert cmd[-1] == PLAN["base_url"] + "/ioTask?ms=100"


def test_a_run_prints_and_records_its_tool_by_name(tmp_path, monkeypatch, capsys):
    """The command itself is replaced by `true`: no load generator, no app."""
    plan = {**PLAN, "out_dir": str(tmp_path / "out"), "archive": str(tmp_path / "raw.tar.gz")}
    wrk = {"reps": 1, "time_s": None, "timeout_s": 30, "tool": "wrk", "progress": "[1/1] sync / c=4"}
    plan["runs"] = [{**SWEEP, **wrk}]
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    monkeypatch.setattr(driver, "command", lambda plan, run: ["true"])
    assert driver.main([str(plan_file), "run", "sweep-c4", "--base-url", "http://10.203.0.2:8000/"]) == 0
    assert capsys.readouterr().out.startswith("[1/1] sync / c=4: wrk exit 0 after ")
    meta = json.loads((tmp_path / "out/sweep-c4.meta.json").read_text())
    assert (meta["tool"], meta["cmd"], meta["rc"], meta["concurrency"]) == ("wrk", ["true"], 0, 4)


CREATE = {"name": "gthread-sweep-POST-notes-c4-r1", "label": "POST /notes", "path": "/notes", "method": "POST",
          "body": '{"text":"a ]] note","tags":["bench"]}', "headers": {"Content-Type": "application/json",
          "X-Tenant": "bench"}, "connection": "close", "concurrency": 4, "time_s": 3, "timeout_s": 33}  # fmt: skip


def test_siege_sends_a_scenarios_method_body_and_headers_in_its_url_format():
    cmd = driver.command(PLAN, CREATE)
    assert cmd[-1] == 'http://10.203.0.2:8000/notes POST {"text":"a ]] note","tags":["bench"]}'
    assert cmd[cmd.index("-T") + 1] == "application/json" and cmd[cmd.index("-H") + 1] == "X-Tenant: bench"
    delete = driver.command(PLAN, {**CREATE, "method": "DELETE", "body": None, "headers": {}})
    assert delete[-1] == "http://10.203.0.2:8000/notes DELETE" and "-T" not in delete
    assert driver.command(PLAN, {**SWEEP, "timeout_s": 30})[-1] == "http://10.203.0.2:8000/ioTask?ms=100", "plain GET"


def test_wrk_gets_a_lua_script_that_sets_the_method_body_and_headers(tmp_path):
    cmd = driver.command({**PLAN, "out_dir": str(tmp_path)}, {**CREATE, "tool": "wrk"})
    script = cmd[cmd.index("-s") + 1]
    assert script == str(tmp_path / f"{CREATE['name']}.lua") and cmd[-1] == "http://10.203.0.2:8000/notes"
    lua = (tmp_path / f"{CREATE['name']}.lua").read_text()
    # the body holds "]]": the long string's level goes up until its closing bracket cannot appear inside
    assert 'wrk.body = [=[\n{"text":"a ]] note","tags":["bench"]}]=]' in lua
    assert "wrk.method = [[\nPOST]]" in lua and "wrk.headers[ [[\nX-Tenant]] ] = [[\nbench]]" in lua
    plain = driver.command({**PLAN, "out_dir": str(tmp_path)}, {**SWEEP, "tool": "wrk", "timeout_s": 30})
    assert "-s" not in plain, "a plain GET needs no script"


# --- the headers a run sends: Connection: close to wrk when the run asks for it, the probe marker on probes only ---

PROBE = {"name": "sync-probe-ioTask-c4", "scenario": "probe", "label": "/ioTask", "path": "/ioTask",
         "connection": "close", "concurrency": 4, "reps": 1, "time_s": None, "timeout_s": 30}  # fmt: skip


def headers(cmd: list[str]) -> list[str]:
    return [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "-H"]


def test_wrk_sends_connection_close_when_the_run_asks_for_it_and_siege_reads_its_rc_file():
    close = driver.command(PLAN, {**SWEEP, "tool": "wrk", "timeout_s": 30})
    assert headers(close) == ["Connection: close"]
    assert close[close.index("-H") : close.index("-H") + 2] == ["-H", "Connection: close"]
    assert headers(driver.command(PLAN, {**SWEEP, "tool": "wrk", "connection": "keep-alive", "timeout_s": 30})) == []
    # siege takes the connection from its rc file (roles/load/templates/siegerc.j2: `connection = ...`)
    siege_close = driver.command(PLAN, {**SWEEP, "timeout_s": 30})
    assert siege_close[siege_close.index("-R") + 1] == "/etc/bench/close.siegerc" and headers(siege_close) == []
    keep = driver.command(PLAN, {**SWEEP, "connection": "keep-alive", "timeout_s": 30})
    assert keep[keep.index("-R") + 1] == "/etc/bench/keep-alive.siegerc"


def test_probes_carry_the_probe_marker_and_sweeps_none():
    assert headers(driver.command(PLAN, PROBE)) == ["X-Bench-Probe: sync-probe-ioTask-c4"]
    assert headers(driver.command(PLAN, {**SWEEP, "scenario": "sweep", "timeout_s": 30})) == []
    assert headers(driver.command(PLAN, {**SWEEP, "scenario": "warmup", "timeout_s": 30})) == []
    wrk = driver.command(PLAN, {**SWEEP, "scenario": "sweep", "tool": "wrk", "connection": "keep-alive",
                                "timeout_s": 30})  # fmt: skip
    assert "X-Bench-Probe" not in " ".join(wrk)
    # a probe of a scenario with headers of its own sends both, the marker first
    probe = driver.command(PLAN, {**CREATE, "scenario": "probe", "name": "notes-probe-POST-c2", "reps": 1})
    assert headers(probe) == ["X-Bench-Probe: notes-probe-POST-c2", "X-Tenant: bench"]


# --- the same, sent for real: siege and wrk (where this machine has them) against a server that records requests ----


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers 200 to anything, after keeping its method, path, headers and body (on the server: seen)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    do_GET = do_POST = answer


@pytest.fixture
def recorder():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def drive(tmp_path, server, run: dict) -> list[tuple]:
    """One run of a plan through the driver's own main(), as a load host runs it; the requests the server saw."""
    tmp_path.mkdir(exist_ok=True)
    template = (ROOT / "roles/load/templates/siegerc.j2").read_text()
    defaults = yaml.safe_load((ROOT / "roles/load/defaults/main.yml").read_text())
    rc = jinja2.Template(template).render(ansible_managed="test", load_connection=run["connection"], **defaults)
    (tmp_path / f"{run['connection']}.siegerc").write_text(rc)
    plan = {"out_dir": str(tmp_path / "out"), "archive": str(tmp_path / "raw.tar.gz"), "rc_dir": str(tmp_path),
            "socket_timeout_s": 5, "ready_path": "/healthz", "runs": [run]}  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    assert driver.main([str(tmp_path / "plan.json"), "run", run["name"], "--base-url", url]) == 0
    meta = json.loads((tmp_path / "out" / f"{run['name']}.meta.json").read_text())
    assert meta["rc"] == 0, (tmp_path / "out" / f"{run['name']}.err").read_text()
    return [s for s in server.seen if s[1] != "/healthz"]  # the driver's own wait for an idle server aside


needs = {tool: pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} is not installed here")
         for tool in ("siege", "wrk")}  # fmt: skip


@needs["siege"]
def test_siege_sends_the_probe_marker_with_every_request_of_a_probe(tmp_path, recorder):
    burst = {**PROBE, "label": "/ioTask?ms=1", "path": "/ioTask?ms=1", "concurrency": 2, "timeout_s": 20}
    seen = drive(tmp_path, recorder, burst)
    assert [(method, path, h.get("X-Bench-Probe")) for method, path, h, _ in seen] == [
        ("GET", "/ioTask?ms=1", "sync-probe-ioTask-c4")
    ] * 2


@needs["siege"]
def test_siege_sends_no_marker_with_a_sweep(tmp_path, recorder):
    sweep = {**SWEEP, "label": "/", "path": "/", "concurrency": 1, "time_s": 1, "timeout_s": 20}
    seen = drive(tmp_path, recorder, sweep)
    # siege -t 1S runs short, at times 0.04 s on a busy machine (a few requests): what counts is that none is marked
    assert seen and not [h for _, _, h, _ in seen if "X-Bench-Probe" in h]


@needs["wrk"]
def test_wrk_sends_connection_close_when_asked(tmp_path, recorder):
    run = {**SWEEP, "name": "wrk-close", "tool": "wrk", "label": "/", "path": "/", "concurrency": 1, "time_s": 1,
           "timeout_s": 20}  # fmt: skip
    closed = drive(tmp_path / "close", recorder, run)
    assert closed and {h.get("Connection") for _, _, h, _ in closed} == {"close"}
    recorder.seen.clear()
    kept = drive(tmp_path / "keep", recorder, {**run, "connection": "keep-alive"})
    assert kept and {h.get("Connection") for _, _, h, _ in kept} == {None}
    assert not [h for _, _, h, _ in closed + kept if "X-Bench-Probe" in h], "a sweep: no probe marker"


@needs["wrk"]
def test_wrk_sends_a_scenarios_method_body_and_headers(tmp_path, recorder):
    run = {**CREATE, "tool": "wrk", "concurrency": 1, "time_s": 1, "timeout_s": 20}
    seen = drive(tmp_path, recorder, run)
    assert seen and {(m, p, h.get("Content-Type"), h.get("X-Tenant"), b) for m, p, h, b in seen} == {
        ("POST", "/notes", "application/json", "bench", CREATE["body"])
    }


# --- a worker type's turn in one call: verify, then every run in turn, then pack -----------------------------------


def turn_plan(tmp_path, monkeypatch, server) -> tuple[list[str], list[str]]:
    """A plan of two runs whose command is `true` (no load generator), the scenarios file, and the runs started."""
    plan = {**PLAN, "out_dir": str(tmp_path / "out"), "archive": str(tmp_path / "raw.tar.gz"), "ready_path": "/ready",
            "runs": [{**PROBE, "name": "probe-c1", "reps": 1, "timeout_s": 10, "progress": "probe c=1"},
                     {**SWEEP, "name": "sweep-c4", "timeout_s": 10, "progress": "sweep c=4"}]}  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    started = []
    monkeypatch.setattr(driver, "command", lambda plan, run: started.append(run["name"]) or ["true"])
    url = f"http://127.0.0.1:{server.server_address[1]}"
    argv = [str(tmp_path / "plan.json"), "turn", "--base-url", url, "--verify", str(tmp_path / "scenarios.json")]
    return argv, started


def scenarios(tmp_path, *statuses) -> None:
    rows = [{"name": f"s{n}", "method": "GET", "path": f"/s{n}", "status": status} for n, status in enumerate(statuses)]
    (tmp_path / "scenarios.json").write_text(json.dumps(rows))


def test_a_turn_verifies_each_scenario_then_runs_every_run_in_order_and_packs(tmp_path, monkeypatch, recorder, capsys):
    argv, started = turn_plan(tmp_path, monkeypatch, recorder)
    scenarios(tmp_path, 200, 200)
    assert driver.main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["ok"] for line in out[:2]] == [True, True]
    assert [line.split(":")[0] for line in out[2:]] == ["probe c=1", "sweep c=4"]
    assert started == ["probe-c1", "sweep-c4"]
    assert [s[1] for s in recorder.seen] == ["/s0", "/s1", "/ready"], "verified first; the sweep waited for /ready"
    assert (tmp_path / "raw.tar.gz").stat().st_size > 0


def test_a_scenario_that_answers_another_status_ends_the_turn_before_any_load(tmp_path, monkeypatch, recorder, capsys):
    argv, started = turn_plan(tmp_path, monkeypatch, recorder)
    scenarios(tmp_path, 200, 404)  # the recorder answers 200 to anything
    assert driver.main(argv) == driver.VERIFY_FAILED == 3
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["name"], r["status"], r["ok"]) for r in rows] == [("s0", 200, True), ("s1", 200, False)]
    assert started == [] and not (tmp_path / "raw.tar.gz").exists()


def test_a_verify_only_turn_loads_nothing_and_needs_no_plan(tmp_path, monkeypatch, recorder, capsys):
    argv, started = turn_plan(tmp_path, monkeypatch, recorder)
    scenarios(tmp_path, 200)
    (tmp_path / "plan.json").unlink()  # verify_only=true plans no runs: the load hosts get no plan
    assert driver.main([*argv, "--verify-only"]) == 0
    assert started == [] and len(capsys.readouterr().out.splitlines()) == 1
    scenarios(tmp_path, 404)
    assert driver.main([*argv, "--verify-only"]) == driver.VERIFY_FAILED


# --- a run at a rate: open_loop.py, beside the driver ---------------------------------------------------------------

RATE = {**CREATE, "name": "gthread-rate-POST-notes-20ps", "scenario": "rate", "tool": "open_loop", "rate_per_s": 20.0,
        "arrivals": "even", "time_s": 1, "warmup_s": 0, "concurrency": 50, "timeout_s": 20, "seed": 1}  # fmt: skip


def test_a_rate_run_sends_its_requests_on_schedule_each_with_the_marker_and_the_scenarios_request(tmp_path, recorder):
    seen = drive(tmp_path, recorder, RATE)
    assert len(seen) == 20, "20 a second for 1 s, evenly spaced"
    assert {(m, p, h.get("Content-Type"), h.get("X-Tenant"), h.get("X-Bench-Probe"), b) for m, p, h, b in seen} == {
        ("POST", "/notes", "application/json", "bench", RATE["name"], CREATE["body"])
    }
    header, rows, summary = rate.read((tmp_path / "out" / f"{RATE['name']}.out").read_text())
    assert (header["rate"], header["arrivals"], header["max_open"]) == (20.0, "even", 50)
    assert len(rows) == summary["requests"] == 20 and {r["status"] for r in rows} == {200}
    meta = json.loads((tmp_path / "out" / f"{RATE['name']}.meta.json").read_text())
    assert meta["tool"] == "open_loop" and meta["cmd"][:3] == ["timeout", "--kill-after=5", "20"]


def test_load_hosts_sharing_a_rate_send_what_one_would():
    shared = [driver.share_rate({**RATE, "rate_per_s": 10.0}, i, 2) for i in range(2)]
    assert [s["rate_per_s"] for s in shared] == [5.0, 5.0] and [s["phase_s"] for s in shared] == [0.0, 0.1]
    assert [s["concurrency"] for s in shared] == [25, 25]
    dues = sorted(d for s in shared for d in open_loop.schedule(s["rate_per_s"], 2.0, "even", 0, s["phase_s"]))
    assert dues == pytest.approx(open_loop.schedule(10.0, 2.0))
    poisson = [driver.share_rate({**RATE, "arrivals": "poisson"}, i, 2) for i in range(2)]
    assert poisson[0]["seed"] != poisson[1]["seed"] and {s["phase_s"] for s in poisson} == {0.0}


MIX = {**RATE, "name": "gthread-mix-busy-c3", "scenario": "mix", "rate_per_s": None, "arrivals": "closed",
       "clients": 3, "concurrency": 3,
       "mix": {"name": "busy", "only": None, "classes": [
           {"name": "create", "weight": 1, "path": "/notes", "method": "POST", "body": CREATE["body"],
            "headers": {"X-Tenant": "bench"}},
           {"name": "list", "weight": 3, "path": "/notes?limit=20", "method": "GET", "body": None,
            "headers": {}}]}}  # fmt: skip


def test_a_mix_in_a_closed_loop_sends_each_scenarios_own_request_from_its_clients(tmp_path, recorder):
    seen = drive(tmp_path, recorder, MIX)
    header, rows, summary = rate.read((tmp_path / "out" / f"{MIX['name']}.out").read_text())
    assert header["arrivals"] == "closed" and header["clients"] == 3 and header["classes"] == ["create", "list"]
    assert len(rows) == summary["requests"] == len(seen) > 3
    kinds = {(m, p, h.get("X-Tenant"), h.get("X-Bench-Probe"), b) for m, p, h, b in seen}
    assert kinds == {("POST", "/notes", "bench", MIX["name"], CREATE["body"]),
                     ("GET", "/notes?limit=20", None, MIX["name"], "")}, "each its own request"  # fmt: skip
    assert sum(1 for m, *_ in seen if m == "POST") == sum(1 for r in rows if r["cls"] == 0)
    shared = [driver.share_rate(MIX, i, 2) for i in range(2)]
    assert [(s["clients"], s["concurrency"]) for s in shared] == [(2, 2), (1, 1)]
    assert shared[0]["seed"] != shared[1]["seed"]


# --- a capacity search: steps of open_loop.py at the rates bench/analyse/capacity.py chooses -------------------------


class OneSlot(http.server.BaseHTTPRequestHandler):
    """A server of one slot: each request holds it for 20 ms (so it serves at most 50 a second)."""

    protocol_version = "HTTP/1.1"
    slot = threading.Lock()

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != "/healthz":
            with self.slot:
                time.sleep(0.02)
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")


def test_a_capacity_search_steps_to_the_highest_rate_a_server_of_known_capacity_meets(tmp_path):
    """Run as a load host has it: the driver beside open_loop.py and the two modules of bench/analyse the load role
    copies there. The target: half of the requests within 60 ms, on a server of one 20 ms slot: met at low rates,
    never at 50 a second or more (the slot cannot serve them: the queue grows without bound)."""
    host = tmp_path / "load"
    host.mkdir()
    for path in ("roles/load/files/load_driver.py", "roles/load/files/open_loop.py", "bench/analyse/capacity.py",
                 "bench/analyse/quantiles.py"):  # fmt: skip
        shutil.copy(ROOT / path, host)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OneSlot)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    run = {"name": "sync-capacity-slot", "label": "/slot", "path": "/slot", "method": "GET", "status": 200,
           "scenario": "capacity", "tool": "open_loop", "connection": "close", "concurrency": 200,
           "arrivals": "poisson",
           "target": {"percentile": 50.0, "latency_s": 0.06, "error_budget": 0.01}, "start_per_s": 10.0,
           "high_per_s": 400.0, "low_per_s": 1.0, "time_s": 1, "warmup_s": 0, "max_step_s": 2, "max_steps": 9,
           "step_grace_s": 5, "seed": 1, "timeout_s": 200}  # fmt: skip
    plan = {"out_dir": str(tmp_path / "out"), "archive": str(tmp_path / "raw.tar.gz"), "rc_dir": str(tmp_path),
            "socket_timeout_s": 5, "ready_path": "/healthz", "runs": [run]}  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    code = subprocess.run(
        [sys.executable, str(host / "load_driver.py"), str(tmp_path / "plan.json"), "run", run["name"],
         "--base-url", f"http://127.0.0.1:{server.server_address[1]}"],
        check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    server.shutdown()
    assert code.returncode == 0, code.stderr
    record = json.loads((tmp_path / "out" / f"{run['name']}.search.json").read_text())
    found, steps = record["result"], record["steps"]
    print(f"\n{[(s['rate'], s['verdict']) for s in steps]} -> {found['how']}")
    assert [s["rate"] for s in steps[:2]] == [10.0, 20.0] and steps[0]["verdict"] == "met"
    assert found["capacity_per_s"] is not None and 10 <= found["capacity_per_s"] < 50, found
    assert found["missed_per_s"] is not None and found["missed_per_s"] <= 80, found
    for step in steps:  # every step's own records, judged again here, give the driver's verdict
        _, rows, _ = rate.read((tmp_path / "out" / f"{step['name']}.out").read_text())
        assert capacity.judge(*capacity.sample(rows, 0, 200), record["target"])["verdict"] == step["verdict"], step
    assert f"{run['name']}: capacity {found['capacity_per_s']}/s: met at" in code.stdout
