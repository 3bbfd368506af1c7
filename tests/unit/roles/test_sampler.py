"""The app host's sampler (roles/bench_app/files/bench_sampler.py) read against real processes of this machine: a
process's CPU is its user and its system time, as the kernel counts them, and what it writes is what
bench/parse/resources.py reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from support import load_module

from bench.parse import resources

sampler = load_module("roles/bench_app/files/bench_sampler.py")

# A child that spends CPU time both in user space (a loop) and in the kernel (reads of /dev/zero), then says what
# the kernel counted for it (os.times(): clock ticks, as /proc/PID/stat has them) and waits, spending nothing more.
BURN = """
import os, sys, time
deadline, buf = time.monotonic() + 30, bytearray(1 << 22)
with open("/dev/zero", "rb", buffering=0) as fh:
    while os.times().system < 0.15 and time.monotonic() < deadline:
        fh.readinto(buf)  # the copy into buf is kernel time
while os.times().user < 0.1:
    sum(range(20000))  # user time
t = os.times()
print(t.user, t.system, os.sysconf("SC_CLK_TCK"), flush=True)
sys.stdin.read()
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.fixture
def burnt():
    """(pid, user s, system s, ticks per second) of a live child that has spent CPU both ways."""
    with subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as p:
        try:
            user, system, clk = p.stdout.readline().split()
            yield p.pid, float(user), float(system), int(clk)
        finally:
            p.stdin.close()
            p.wait(timeout=10)


def test_a_process_cpu_is_its_user_and_system_time(burnt):
    pid, user, system, clk = burnt
    assert system >= 0.1 and user >= 0.05, "the child spent time on both sides"
    found = sampler.proc(pid)
    assert found[0] == pid and found[1] == os.getpid(), "[pid, ppid, ...]: this test started it"
    # what the child counted for itself, in ticks, give or take the tick of printing it
    assert abs(found[2] - round((user + system) * clk)) <= 2, (found, user, system)
    assert found[2] - round(user * clk) >= round(0.1 * clk) - 2, "system time is counted too"
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    assert abs(found[3] - rss) <= 1024 and found[3] > 1000, "VmRSS in kB"


def test_a_process_gone_is_none():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert sampler.proc(gone.pid) is None


def test_a_unit_sampled_twice_gives_the_cpu_resources_reads(burnt, tmp_path):
    """The sampler's lines for a cgroup whose cgroup.procs names the child (a folder of this test's own: the sampler
    reads nothing else of a cgroup), read back by bench/parse/resources.py: the CPU the child spent between the two
    samples. It is idle between them: 0 % of a core, its RSS the same; then it spends again."""
    pid, _, _, clk = burnt
    (tmp_path / "cgroup.procs").write_text(f"{pid}\n")
    lines = [json.dumps({"clk_tck": clk, "unit": "gunicorn@demo-sync.service", "cgroup": str(tmp_path)})]
    for _ in range(2):
        lines.append(json.dumps({"t": round(time.time(), 3), "procs": sampler.sample(str(tmp_path))}))
        time.sleep(0.2)
    got_clk, samples = resources.read_samples("\n".join(lines) + "\n")
    assert got_clk == clk and [len(s["procs"]) for s in samples] == [1, 1]
    usage = resources.app_usage(clk, samples, samples[0]["t"], samples[1]["t"])
    one_tick_pct = 100 / clk / (samples[1]["t"] - samples[0]["t"])  # a busy machine may charge it the tick it woke in
    assert usage["master_cpu_pct"] <= round(one_tick_pct, 1), "one process: the master, idle"
    assert usage["workers_seen"] == 0
    assert usage["master_rss_mb"] == round(samples[0]["procs"][0][3] / 1024, 1)
    (tmp_path / "cgroup.procs").write_text("")  # the unit between a stop and a restart
    assert sampler.sample(str(tmp_path)) == []
    assert sampler.sample(str(tmp_path / "gone")) == [], "a cgroup not there (yet)"


def test_the_sampler_script_refuses_bad_arguments_with_its_usage():
    done = subprocess.run([sys.executable, sampler.__file__, "only-one"], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stderr.startswith("Sample the CPU time and memory")


# The sampler of a turn, run as the app host runs it but on a cgroup folder of the test's own (cgroup_of asks
# systemctl, which this machine may lack), sampling every 5 s.
SAMPLER_ON = """
import sys
sys.path.insert(0, {folder!r})
import bench_sampler
bench_sampler.cgroup_of = lambda unit: {cgroup!r}
sys.exit(bench_sampler.main(["gunicorn@demo-sync.service", {out!r}, "--interval", "5"]))
"""


def test_a_sigterm_ends_the_sampler_at_once_not_after_its_interval(burnt, tmp_path):
    """The end of each worker type's turn stops its sampler and waits for it: SIGTERM between two samples ends it
    at once, with what it sampled written."""
    (tmp_path / "cgroup.procs").write_text(f"{burnt[0]}\n")
    out = tmp_path / "samples.jsonl"
    code = SAMPLER_ON.format(folder=os.path.dirname(sampler.__file__), cgroup=str(tmp_path), out=str(out))
    with subprocess.Popen([sys.executable, "-c", code]) as proc:
        deadline = time.monotonic() + 10
        while len(out.read_text().splitlines() if out.exists() else []) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        asked = time.monotonic()
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        took = time.monotonic() - asked
    assert took < 1.0, f"{took:.2f} s after SIGTERM: it slept out its 5 s interval"
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["procs"][0][0] == burnt[0]
