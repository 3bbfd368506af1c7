"""The lab on this machine: real systemd-nspawn hosts reached over SSH, its refusals, and its teardown."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from labtools import ansible, app_address, recap
from support import BIN, ROOT, lab_is_possible, lab_leftovers, lab_up, playbook, run, snapshot

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]


def controller_network() -> str:
    """The subnet of this machine's own uplink (not loopback, not the lab)."""
    for link in json.loads(run(["ip", "-j", "addr"]).stdout):
        if link["ifname"] == "lo" or link["ifname"].startswith(("bl-", "blbr")):
            continue
        for a in link.get("addr_info", []):
            if a["family"] == "inet":
                octets = a["local"].split(".")
                return f"{'.'.join(octets[:3])}.0/{a['prefixlen']}" if a["prefixlen"] == 24 else f"{a['local']}/32"
    pytest.skip("no IPv4 uplink to collide with")


@pytest.fixture(scope="module")
def fresh_lab(lab):
    """The lab as the runs before left it (make test: as make bench did), up: its hosts must answer, run systemd with
    nothing failed, and be pinned, whatever ran on them. (Booting it afresh cost 23 s of make test; the teardown
    tests below power it off, cleanly and after a crash.)"""
    return lab


# --- refusals (the table of bad input is in test_refusals.py) -------------------------------------------------------


def test_a_subnet_overlapping_this_machines_network_is_refused():
    before = snapshot()
    subnet = controller_network()
    proc = playbook("playbooks/lab.yml", "-e", f"lab_subnet={subnet}", timeout=120)
    assert proc.returncode != 0
    assert f"lab_subnet={subnet} overlaps what this machine already uses" in proc.stdout
    assert snapshot() == before


def test_not_root_is_refused():
    """Run the playbook as nobody. The venv's interpreter may live under /root (pyenv), which nobody cannot
    enter, so a private mount namespace shows nobody an open /root holding only that tree."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-nobody-"))
    os.chmod(scratch, 0o755)
    home, hold = scratch / "home", scratch / "hold"
    home.mkdir()
    hold.mkdir()
    os.chown(home, 65534, 65534)
    python = os.path.realpath(BIN / "python")
    tree = python.split("/")[2] if python.startswith("/root/") else ""
    script = (
        f"mount --bind /root/{tree} {hold} && mount -t tmpfs -o mode=755 tmpfs /root && "
        f"mkdir /root/{tree} && mount --bind {hold} /root/{tree} && "
        if tree
        else ""
    ) + f"exec setpriv --reuid=65534 --regid=65534 --clear-groups {BIN}/ansible-playbook playbooks/lab.yml"
    try:
        before = snapshot()
        proc = run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            env={"HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home / "tmp")},
            timeout=120,
        )
        assert proc.returncode != 0
        assert "it needs Linux and root" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert "as uid 65534" in proc.stdout
        assert snapshot() == before
    finally:
        shutil.rmtree(scratch)


# --- the lab up ------------------------------------------------------------------------------------------------------


def test_every_host_answers_over_ssh_with_become(fresh_lab):
    results = ansible("all", "-m", "ansible.builtin.command", "-a", "id -un")
    assert set(results) == {"app1", "load1"}
    assert {h: r["stdout"] for h, r in results.items()} == {"app1": "root", "load1": "root"}
    pings = ansible("all", "-m", "ansible.builtin.ping")
    assert {h: r["ping"] for h, r in pings.items()} == {"app1": "pong", "load1": "pong"}


def test_each_hosts_systemd_is_running_and_nothing_failed(fresh_lab):
    results = ansible("all", "-m", "ansible.builtin.command", "-a", "systemctl is-system-running")
    assert {h: r["stdout"] for h, r in results.items()} == {"app1": "running", "load1": "running"}


def test_load_host_reaches_app_host_and_nothing_else(fresh_lab):
    app_ip = app_address("app1")
    reach = ansible(
        "load", "-m", "ansible.builtin.command", "-a", f"timeout 3 bash -c '</dev/tcp/{app_ip}/22 && echo open'"
    )
    assert reach["load1"]["stdout"] == "open"
    routes = ansible("all", "-m", "ansible.builtin.command", "-a", "ip -4 route show default")
    assert {h: r["stdout"] for h, r in routes.items()} == {"app1": "", "load1": ""}, routes


def test_each_host_is_pinned_to_its_own_core(fresh_lab):
    results = ansible("all", "-m", "ansible.builtin.command", "-a", "grep Cpus_allowed_list /proc/1/status")
    cores = {h: r["stdout"].split()[-1] for h, r in results.items()}
    assert cores["app1"] != cores["load1"], cores
    assert all(re.fullmatch(r"\d+", c) for c in cores.values()), cores


def test_second_run_changes_nothing(fresh_lab):
    proc = playbook("playbooks/lab.yml")
    assert proc.returncode == 0
    assert recap(proc.stdout, "localhost")["changed"] == 0
    assert recap(proc.stdout, "app1")["failed"] == 0


# --- teardown, also after a crash ----------------------------------------------------------------------------------


def test_crashed_hosts_come_back_and_are_cleaned(fresh_lab):
    for pid in run(["pgrep", "-x", "systemd-nspawn"]).stdout.split():
        os.kill(int(pid), signal.SIGKILL)  # a crash: containers orphaned, namespaces and veths left behind
    time.sleep(0.5)
    assert lab_leftovers(), "the crash should leave namespaces behind"
    proc = playbook("playbooks/lab.yml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "orphaned process" in proc.stdout
    pings = ansible("all", "-m", "ansible.builtin.ping")
    assert {h: r["ping"] for h, r in pings.items()} == {"app1": "pong", "load1": "pong"}


def test_lab_down_after_one_host_crashed_leaves_nothing_and_a_second_down_changes_nothing(fresh_lab):
    """After the test above the lab is up again. load1 crashes (its nspawn killed: its namespace and veth left behind);
    lab down powers app1 off cleanly and cleans what load1 left: both paths in one down."""
    started = time.monotonic()
    lab_up()
    print(f"\nlab.yml with the lab up: {time.monotonic() - started:.1f} s")  # a figure to read (-s), not a bound
    crashed = [pid for pid in run(["pgrep", "-f", "systemd-nspawn.*bl-load1"]).stdout.split()]
    assert len(crashed) == 1, crashed
    os.kill(int(crashed[0]), signal.SIGKILL)
    time.sleep(0.5)
    assert run(["pgrep", "-f", "systemd-nspawn.*bl-app1"]).stdout.split(), "app1 still runs, to be powered off"
    assert "bl-load1" in run(["ip", "netns", "list"]).stdout, "the crash left load1's namespace behind"
    proc = playbook("playbooks/lab.yml", "-e", "lab_state=absent")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert lab_leftovers() == []
    assert not (ROOT / "inventory/lab/hosts.yml").exists()
    proc = playbook("playbooks/lab.yml", "-e", "lab_state=absent")
    assert proc.returncode == 0
    assert recap(proc.stdout, "localhost")["changed"] == 0
