"""The server's own clock around every app (roles/gunicorn/files/server_timing.py, wrapped by bench_entry.py): the
Server-Timing header, the probe log line, and where a service's cgroup accounts its CPU (real files captured on this
machine and inside a lab host)."""

from __future__ import annotations

import io
import os
import re
import sys

import apps
import pytest
from support import FIXTURES, ROOT

sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "roles" / "gunicorn" / "files"))
import bench_entry
import flask_app
import server_timing

from bench.parse import timing

CGROUP = FIXTURES / "cgroup"


@pytest.fixture
def app_and_log():
    log = io.StringIO()
    app = flask_app.create_app({"TESTING": True, "IO_DEFAULT_MS": 20, "CPU_DEFAULT_N": 200_000})
    app.wsgi_app = bench_entry.wrap(app.wsgi_app, "wsgi")
    app.wsgi_app.stream = log
    app.wsgi_app.cgroup_cpu = lambda: 12.5
    return app.test_client(), log


def test_every_response_carries_server_timing_with_wall_and_cpu_time(app_and_log):
    client, log = app_and_log
    resp = client.get("/ioTask?ms=50")
    match = re.fullmatch(r"app;dur=([0-9.]+), cpu;dur=([0-9.]+)", resp.headers["Server-Timing"])
    assert match, resp.headers["Server-Timing"]
    wall_ms, cpu_ms = float(match[1]), float(match[2])
    assert wall_ms >= 50  # it slept 50 ms inside the app
    assert cpu_ms < wall_ms / 2  # ... without using the CPU
    assert log.getvalue() == ""  # no marker, no log line


def test_cpu_work_shows_as_cpu_time(app_and_log):
    """200,000 rounds of the CPU task take several ms of CPU on any machine, however busy (a busy one stretches the
    wall time, not the CPU time); 50 ms of sleep take a fraction of one."""
    client, _ = app_and_log
    timed = r"app;dur=([0-9.]+), cpu;dur=([0-9.]+)"
    cpu = re.fullmatch(timed, client.get("/cpuTask").headers["Server-Timing"])
    io = re.fullmatch(timed, client.get("/ioTask?ms=50").headers["Server-Timing"])
    assert float(cpu[2]) >= 5.0
    assert float(cpu[2]) > 5 * float(io[2])


@pytest.mark.parametrize("interface", apps.INTERFACES)
def test_a_marked_probe_request_writes_one_line_the_controller_parses(interface):
    """The WSGI and the ASGI middleware alike: the header on every response, one log line per marked request (the
    marker read case-insensitively, as HTTP header names are), nothing for unmarked ones."""
    client = apps.Client(interface, {"IO_DEFAULT_MS": 20})
    log = io.StringIO()
    client.timing.stream, client.timing.cgroup_cpu = log, lambda: 12.5
    assert re.fullmatch(r"app;dur=[0-9.]+, cpu;dur=[0-9.]+", client.get("/ioTask").headers["server-timing"])
    assert log.getvalue() == ""
    resp = client.get("/ioTask?ms=30", headers={"x-bench-PROBE": "sync-probe-ioTask-c4"})
    assert resp.status == 200
    lines = log.getvalue().splitlines()
    assert len(lines) == 1
    name, req = timing.parse_line(lines[0])
    assert name == "sync-probe-ioTask-c4"
    assert req.service_s >= 0.03
    assert req.cpu_s < req.service_s
    assert req.unit_cpu_in_s == req.unit_cpu_out_s == 12.5
    assert req.pid > 0


def test_errors_are_timed_too(app_and_log):
    client, log = app_and_log
    resp = client.get("/cpuTask?n=abc", headers={"X-Bench-Probe": "x"})
    assert resp.status_code == 400
    assert "Server-Timing" in resp.headers
    assert timing.parse_line(log.getvalue().strip())[0] == "x"


def test_cgroup_v2_and_v1_accounting_files():
    assert server_timing.parse_cpu_stat((CGROUP / "v2.cpu.stat").read_text()) == pytest.approx(31.174874)
    usage = (CGROUP / "v1.cpuacct.usage").read_text()
    assert server_timing.parse_cpuacct_usage(usage) == pytest.approx(int(usage) / 1e9)
    with pytest.raises(ValueError, match="usage_usec"):
        server_timing.parse_cpu_stat("user_usec 1\n")


def test_a_lab_host_accounts_a_unit_on_the_unified_hierarchy():
    """Inside a systemd-nspawn host on this machine (hybrid cgroups): the v1 hierarchies show the root, i.e. the
    whole machine; the unit's own cgroup is on the v2 (unified) hierarchy."""
    path, parse = server_timing.cgroup_cpu_file(
        (CGROUP / "nspawn-hybrid.proc-cgroup").read_text(), (CGROUP / "nspawn-hybrid.mountinfo").read_text()
    )
    assert path == "/sys/fs/cgroup/unified/system.slice/ssh.service/cpu.stat"
    assert parse is server_timing.parse_cpu_stat


def test_a_process_in_the_root_cgroup_gets_no_reading():
    """This machine's own processes sit in the root of every hierarchy: that would be the whole machine's CPU."""
    assert (
        server_timing.cgroup_cpu_file(
            (CGROUP / "v1-host.proc-cgroup").read_text(), (CGROUP / "v1-host.mountinfo").read_text()
        )
        is None
    )


def test_a_legacy_host_uses_cpuacct():
    """cgroup v1 only (no cgroup2 mount; systemd with CPUAccounting): the unit's cpuacct.usage."""
    proc = (CGROUP / "v1-host.proc-cgroup").read_text().replace("cpuacct:/", "cpuacct:/system.slice/gunicorn@x.service")
    proc = "\n".join(line for line in proc.splitlines() if not line.startswith("0::"))
    mounts = "\n".join(x for x in (CGROUP / "v1-host.mountinfo").read_text().splitlines() if "cgroup2" not in x)
    path, parse = server_timing.cgroup_cpu_file(proc, mounts)
    assert path == "/sys/fs/cgroup/cpuacct/system.slice/gunicorn@x.service/cpuacct.usage"
    assert parse is server_timing.parse_cpuacct_usage


@pytest.mark.parametrize("interface", apps.INTERFACES)
def test_every_answer_names_its_worker_and_the_release_it_loaded(interface, tmp_path, monkeypatch):
    """X-Bench-Worker: the process that answered and the app's release, read when the app was loaded (what tells old
    code from new around a reload): a release written later is not what an app already loaded reports."""
    release = tmp_path / "demo-sync.release"
    release.write_text("7 written by gunicorn_operation.py\n")
    monkeypatch.setenv(bench_entry.RELEASE_ENV, str(release))
    assert bench_entry.release() == "7"
    client = apps.Client(interface, {"IO_DEFAULT_MS": 1})
    client.timing.release = bench_entry.release()
    release.write_text("8\n")
    assert client.get("/ioTask").headers["x-bench-worker"] == f"{os.getpid()} 7"
    monkeypatch.delenv(bench_entry.RELEASE_ENV)
    assert bench_entry.release() == "0"
