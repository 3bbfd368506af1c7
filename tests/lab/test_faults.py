"""Faults during a real run on the lab: each is injected from this machine (the lab's hosts are its containers) while
bench.yml runs, and the run must stop cleanly or go on, say what happened, and keep what it collected.

Runs a short profile (tests/fixtures/profiles/faults.yml): per worker type a 2-request IO burst and a 6 s sweep.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from labtools import ansible, gunicorn_pids, lab_host_init, one_host, processes, run_dir_of, siege_running, wait_for
from support import BIN, FAULTS_APP, ROOT, lab_is_possible, playbook

from bench.control import lock

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]

PROFILE = ["-e", "@tests/fixtures/profiles/faults.yml", "-e", FAULTS_APP]
REPORTS = ROOT / "reports"
SWEEP = "-t 6S"  # the profile's sweep run; its warm-up is -t 1S
PROBE = ("-c 2", "-r 1", "/ioTask")
LOCK = REPORTS / ".bench.lock"
LEFTOVER = "/opt/bench/load/leftover-of-an-interrupted-run"  # under the load folder, as a siege run's files are


@pytest.fixture(scope="module")
def deployed(lab):
    """conftest's lab, with gthread deployed: the type `broken()` breaks on the host before a run (the runs deploy the
    others themselves)."""
    proc = playbook("playbooks/deploy.yml", "-e", "worker=gthread")
    assert proc.returncode == 0, proc.stdout[-3000:]


def start_bench(*extra: str) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.Popen(
        [str(BIN / "ansible-playbook"), "bench.yml", *PROFILE, *extra], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def stop(proc: subprocess.Popen) -> None:
    """End a bench run this test started (its whole session), if it is still going."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


class Injector(threading.Thread):
    """Runs steps (callables) in order beside a bench run; an exception is kept and raised by check()."""

    def __init__(self, *steps):
        super().__init__(daemon=True)
        self.steps, self.done, self.error = steps, [], None

    def run(self):
        try:
            for step in self.steps:
                self.done.append(step())
        except BaseException as exc:
            self.error = exc

    def check(self):
        self.join(timeout=30)
        if self.error:
            raise self.error


def broken(worker: str, mode: str):
    """Make gunicorn@WORKER fail to start (its gunicorn is not executable), for the length of a with block."""

    class Broken:
        def __enter__(self):
            path = f"/opt/bench/venvs/demo-{worker}/bin/gunicorn"
            assert ansible("app", "-m", "ansible.builtin.file", "-a", f"path={path} mode=0000")["app1"].get("mode")

        def __exit__(self, *exc):
            path = f"/opt/bench/venvs/demo-{worker}/bin/gunicorn"
            ansible("app", "-m", "ansible.builtin.file", "-a", f"path={path} mode={mode}")

    return Broken()


# --- Ctrl-C: nothing half-written, and the next run works (the faulty run below is that next run) --------------------


def test_ctrl_c_mid_run_leaves_no_half_written_results_and_a_stale_lock(deployed):
    index = REPORTS / "index.md"
    index_before = index.read_bytes() if index.exists() else None
    latest_before = (REPORTS / "latest").resolve() if (REPORTS / "latest").exists() else None
    proc = start_bench("-e", "worker=sync")
    try:
        wait_for(lambda: siege_running(SWEEP), 120, "the sync sweep")
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole foreground process group
        out = proc.communicate(timeout=90)[0]
    finally:
        stop(proc)
    assert proc.returncode != 0
    run_dir = run_dir_of(out)
    assert (run_dir / "run.json").exists()
    assert not (run_dir / "results.json").exists() and not list(run_dir.glob(".results.json.*"))
    assert not (run_dir / "report.md").exists()
    assert (index.read_bytes() if index.exists() else None) == index_before
    assert ((REPORTS / "latest").resolve() if (REPORTS / "latest").exists() else None) == latest_before
    assert (REPORTS / ".bench.lock").exists(), "the interrupted run's lock stays, stale, for the next run to take over"


# --- one run, four faults: a hung server, a worker killed, a type that fails to start, the master killed -------------


def leftovers() -> list[int]:
    """Pids (seen from here) of the stand-in for a siege an interrupted run left running on the load host."""
    return [pid for pid, _, cmdline in processes() if LEFTOVER in cmdline]


@pytest.fixture(scope="module")
def interrupted(deployed):
    """What a Ctrl-C'd run leaves for the next one, made here so that the faulty run's test does not depend on the
    Ctrl-C test: the lock naming a run that is gone (a pid that has exited, with the identity it had) and a process
    under the load folder on the load host, as a siege still running there would be."""
    current = lock.holder(LOCK)
    if current is not None and lock.identity(current[0]) == current[1]:
        pytest.fail(f"{LOCK} is held by a live run (pid {current[0]}): the fault tests need the lab to themselves")
    gone = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    identity = lock.identity(gone.pid)
    gone.kill()
    gone.wait()
    LOCK.parent.mkdir(exist_ok=True)
    LOCK.write_text(f"{gone.pid} {identity}\n")
    assert lock.holder(LOCK) == (gone.pid, identity) and lock.identity(gone.pid) is None, "stale: its owner is gone"
    sleeper = f"setsid -f python3 -c 'import time; time.sleep(600)' {LEFTOVER} </dev/null >/dev/null 2>&1"
    started = ansible("load", "-m", "ansible.builtin.shell", "-a", sleeper)
    assert started and all(r.get("rc") == 0 for r in started.values()), started
    wait_for(leftovers, 10, "the leftover process on the load host")
    return gone.pid


@pytest.fixture(scope="module")
def faulty(deployed, interrupted):
    def hang_sync_during_its_probe():
        master, workers = wait_for(lambda: siege_running(*PROBE) and gunicorn_pids("sync")[0] and gunicorn_pids("sync"),
                                   120, "the sync probe")  # fmt: skip
        for pid in [master, *workers]:
            os.kill(pid, signal.SIGSTOP)
        try:
            wait_for(lambda: not siege_running(*PROBE), 30, "the end of the hung probe")
        finally:
            for pid in [master, *workers]:
                os.kill(pid, signal.SIGCONT)
        return "hung"

    def kill_a_sync_worker_mid_sweep():
        wait_for(lambda: siege_running(SWEEP) and gunicorn_pids("sync")[0], 60, "the sync sweep")
        time.sleep(2)
        os.kill(gunicorn_pids("sync")[1][0], signal.SIGKILL)
        return "worker killed"

    def kill_the_gevent_master_mid_sweep():
        wait_for(lambda: siege_running(SWEEP) and gunicorn_pids("gevent")[0], 120, "the gevent sweep")
        time.sleep(2)
        os.kill(gunicorn_pids("gevent")[0], signal.SIGKILL)
        return "master killed"

    injector = Injector(hang_sync_during_its_probe, kill_a_sync_worker_mid_sweep, kill_the_gevent_master_mid_sweep)
    with broken("gthread", "0755"):
        injector.start()
        proc = playbook("bench.yml", "-e", "worker=sync,gthread,gevent", *PROFILE, timeout=600)
    injector.check()
    run_dir = run_dir_of(proc.stdout)
    results = one_host(run_dir)
    return {"proc": proc, "dir": run_dir, "results": results, "report": (run_dir / "report.md").read_text(),
            "injected": injector.done}  # fmt: skip


def result(results, worker, scenario):
    return next(r for r in results["results"] if r["worker_type"] == worker and r["scenario"] == scenario)


def test_the_run_after_a_ctrl_c_takes_over_the_stale_lock_and_stops_its_leftovers(faulty):
    """The faulty run started with the stale lock and the leftover process of `interrupted` in place."""
    out = faulty["proc"].stdout
    assert faulty["injected"] == ["hung", "worker killed", "master killed"]
    assert "another benchmark run" not in out, "the stale lock was not taken for a live run's"
    assert "PLAY [Bench | results and report]" in out, out[-3000:]
    assert not LOCK.exists(), "taken over, then given back at the end"
    assert not leftovers(), "the leftover on the load host was stopped"


def test_a_hung_server_makes_the_scenario_invalid_not_averaged(faulty):
    probe = next(r for r in faulty["results"]["results"]
                 if r["worker_type"] == "sync" and r["scenario"] == "probe" and r["concurrency"] == 2)  # fmt: skip
    assert not probe["valid"]
    # siege never gives up on a server that accepted and does not answer (it blocks in read(); its socket timeout
    # does not end that): only `timeout` bounds the run, and the reason says it did (bench/parse/siege.py).
    assert re.search(r"did not finish in time and was (stopped|killed) by timeout", probe["invalid_reason"]), probe
    assert "| sync | `/ioTask` | 2 | invalid:" in faulty["report"]


def test_a_killed_worker_is_respawned_and_its_failures_are_counted(faulty):
    results = faulty["results"]
    killed = [e for e in results["events"] if e["worker_type"] == "sync" and e["kind"] == "worker_killed"]
    assert len(killed) == 1 and killed[0]["during"] == result(results, "sync", "sweep")["name"]
    sweep = result(results, "sync", "sweep")
    assert sweep["transactions"] > 20, "the master respawned the worker and the sweep went on"
    assert sweep["failed"] >= 1 and not sweep["valid"]
    assert "was sent SIGKILL" in faulty["report"]


def test_a_type_that_fails_to_start_is_reported_with_its_journal_and_the_run_goes_on(faulty):
    proc, results = faulty["proc"], faulty["results"]
    assert proc.returncode != 0
    assert "worker type(s) gthread failed" in proc.stdout
    (failure,) = results["failures"]
    assert failure["worker_type"] == "gthread" and failure["phase"] == "starting it" and failure["action"] == "continue"
    assert any("Permission denied" in line or "203/EXEC" in line for line in failure["journal"]), failure
    assert all(r["invalid_reason"].startswith("no output") for r in results["results"] if r["worker_type"] == "gthread")
    assert result(results, "gevent", "probe")["valid"], "gevent, after gthread, was loaded"
    assert not results["complete"]
    assert "**This run is incomplete**: gthread failed" in faulty["report"]
    assert "**gthread** failed while starting it" in faulty["report"]


def test_a_killed_master_is_restarted_by_systemd_and_the_gap_is_recorded(faulty):
    results = faulty["results"]
    (died,) = [e for e in results["events"] if e["worker_type"] == "gevent" and e["kind"] == "master_died"]
    assert died["during"] == result(results, "gevent", "sweep")["name"]
    assert died["gap_s"] is not None and 0.5 < died["gap_s"] < 10
    assert result(results, "gevent", "sweep")["failed"] >= 1
    row = r"\| gevent \| [\d:.]+ \| gunicorn master killed, status 9/KILL; systemd restarted it"
    assert re.search(row, faulty["report"])


def test_every_instance_is_stopped_after_the_faulty_run(faulty):
    out = ansible("app", "-m", "ansible.builtin.shell", "-a", "systemctl list-units --state=active --plain --no-legend "
                  "'gunicorn@*' | wc -l")["app1"]  # fmt: skip
    assert out["stdout"].strip() == "0"


def test_stop_mode_stops_at_the_first_type_that_fails(deployed):
    with broken("gthread", "0755"):
        proc = playbook("bench.yml", "-e", "worker=gthread,gevent", "-e", "bench_on_worker_failure=stop", *PROFILE)
    assert proc.returncode != 0
    results = one_host(run_dir_of(proc.stdout))
    assert results["failures"][0]["action"] == "stop"
    assert all(r["invalid_reason"].startswith("no output") for r in results["results"] if r["worker_type"] == "gevent")
    report = (run_dir_of(proc.stdout) / "report.md").read_text()
    assert "Not loaded: gevent" in report and "The run stopped there (`bench_on_worker_failure=stop`)" in report


# --- last: the load host lost mid-run (the lab is brought back afterwards) --------------------------------------------


def test_a_load_host_lost_mid_run_fails_clearly_and_the_app_is_stopped(deployed):
    proc = start_bench("-e", "worker=sync")
    try:
        wait_for(lambda: siege_running(SWEEP), 120, "the sync sweep")
        time.sleep(1)
        os.kill(lab_host_init("load1"), signal.SIGKILL)  # its systemd: the whole host goes, sshd with it
        out = proc.communicate(timeout=300)[0]
    finally:
        stop(proc)
        restored = playbook("playbooks/lab.yml")
    assert restored.returncode == 0, restored.stdout[-2000:]
    assert proc.returncode != 0
    assert re.search(r"load host load1 \([\d.]+\) stopped answering during the load of sync", out), out[-4000:]
    run_dir = run_dir_of(out)
    results = one_host(run_dir)
    assert results["failures"][0]["load_host_lost"] is True and results["failures"][0]["action"] == "stop"
    assert (run_dir / "raw/app1/sync.journal.json").stat().st_size > 0, "the app's journal was kept"
    assert "stopped answering during the load of sync" in (run_dir / "report.md").read_text()
    active = ansible(
        "app", "-m", "ansible.builtin.command", "-a", "systemctl is-active gunicorn@demo-sync.service", check=False
    )  # inactive: is-active exits 3
    assert active["app1"]["stdout"].strip() == "inactive"
