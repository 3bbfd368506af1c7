"""roles/lab/library/lab_network.py run for real, by Ansible, on a bridge and namespaces of this test's own making
(names of its own prefix, an address of 198.18.0.0/15, the range for benchmarks): made, idempotent, a host dropped,
a leftover process killed, all removed. Whatever happens, the finally removes what the test made. It needs root on
Linux; it touches nothing of the lab (other names, other prefix), and runs in the lab's unit under `make test`
(tests/conftest.py) so that no lab test sees its interfaces come and go."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from support import BIN, ROOT, lab_is_possible, run

pytestmark = pytest.mark.skipif(not lab_is_possible(), reason="makes a bridge and namespaces: root on Linux only")

PREFIX = f"zt{os.getpid() % 10000:04d}"  # the lab's is bl; a name of at most 15 characters: zt1234-h1
BRIDGE = f"{PREFIX}br0"
HOSTS = [f"{PREFIX}-h1", f"{PREFIX}-h2"]


def free_subnet() -> str:
    """A /24 of 198.19.0.0/16 that no route of this machine uses: '198.19.N'."""
    routes = run(["ip", "-4", "route", "show", "table", "all"]).stdout
    return next(f"198.19.{n}" for n in range(os.getpid() % 200, 256) if f"198.19.{n}." not in routes)


def ansible_module(args: dict):
    """The module run by Ansible on localhost (this Python runs it: no interpreter is looked for)."""
    return run([str(BIN / "ansible"), "-i", "localhost,", "-c", "local", "localhost", "-m", "lab_network",
                "-e", f"ansible_python_interpreter={sys.executable}", "-a", json.dumps(args)],
               env={"ANSIBLE_LIBRARY": str(ROOT / "roles/lab/library")})  # fmt: skip


def lab_network(**args) -> dict:
    """One run of the module that succeeds; its result."""
    proc = ansible_module(args)
    for mark in ("localhost | CHANGED => ", "localhost | SUCCESS => "):
        if mark in proc.stdout:
            assert proc.returncode == 0, proc.stdout
            return json.loads(proc.stdout.split(mark, 1)[1])
    raise AssertionError(proc.stdout[-3000:] + proc.stderr[-2000:])


def links(ns: str | None = None) -> dict[str, dict]:
    out = run(["ip", *(["-n", ns] if ns else []), "-j", "addr"]).stdout
    return {link["ifname"]: link for link in json.loads(out or "[]")}


def cidrs(link: dict) -> list[str]:
    return [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a["family"] == "inet"]


def namespaces() -> list[str]:
    return sorted(n for n in run(["ip", "netns", "list"]).stdout.split() if n.startswith(f"{PREFIX}-"))


def reaches(ns: str, address: str) -> bool:
    """A TCP connection from inside the namespace to a listener of this test on the bridge's address."""
    with socket.create_server((address, 0)) as server:

        def accept():
            server.accept()[0].close()

        accepted = threading.Thread(target=accept, daemon=True)
        accepted.start()
        code = f"import socket; socket.create_connection(({address!r}, {server.getsockname()[1]}), timeout=3)"
        done = run(["ip", "netns", "exec", ns, sys.executable, "-c", code], timeout=20)
        accepted.join(timeout=5)
    return done.returncode == 0


def wait_for_pid(ns: str, pid: int) -> bool:
    for _ in range(50):
        if str(pid) in run(["ip", "netns", "pids", ns]).stdout.split():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def subnet():
    """The test's subnet; afterwards, whatever it made is removed (its namespaces, veths and bridge)."""
    try:
        yield free_subnet()
    finally:
        for ns in namespaces():
            for pid in run(["ip", "netns", "pids", ns]).stdout.split():
                run(["kill", "-9", pid])
            run(["ip", "netns", "del", ns])
        for name in [*HOSTS, BRIDGE]:
            if name in links():
                run(["ip", "link", "del", name])
        assert not namespaces() and not {*HOSTS, BRIDGE} & set(links()), "the test left something behind"


def test_the_lab_network_is_made_kept_pruned_and_removed(subnet):
    bridge = {"name": BRIDGE, "cidr": f"{subnet}.1/24"}
    hosts = [{"machine": h, "netns": h, "veth": h, "cidr": f"{subnet}.{i + 2}/24"} for i, h in enumerate(HOSTS)]
    made = lab_network(prefix=PREFIX, bridge=bridge, hosts=hosts, stop_timeout=2)
    assert made["changed"] and made["changes"][:2] == [f"bridge {BRIDGE}", f"address {subnet}.1/24 on {BRIDGE}"]
    assert f"veth {HOSTS[0]} <-> {HOSTS[0]}:eth0" in made["changes"]
    root = links()
    assert cidrs(root[BRIDGE]) == [f"{subnet}.1/24"] and "UP" in root[BRIDGE]["flags"]
    assert namespaces() == HOSTS
    for i, h in enumerate(HOSTS):
        assert root[h]["master"] == BRIDGE, root[h]
        inside = links(h)
        assert sorted(inside) == ["eth0", "lo"] and cidrs(inside["eth0"]) == [f"{subnet}.{i + 2}/24"]
        assert "UP" in inside["lo"]["flags"] and "UP" in inside["eth0"]["flags"]
        assert run(["ip", "-n", h, "-4", "route", "show", "default"]).stdout == "", "no default route inside"
        assert reaches(h, f"{subnet}.1"), f"{h} reaches the bridge"

    again = lab_network(prefix=PREFIX, bridge=bridge, hosts=hosts, stop_timeout=2)
    assert (again["changed"], again["changes"]) == (False, [])

    # the plan shrinks to one host: the other's namespace and veth go, the first is left alone
    pruned = lab_network(prefix=PREFIX, bridge=bridge, hosts=hosts[:1], stop_timeout=2)
    assert pruned["changes"] in ([f"removed netns {HOSTS[1]}"], [f"removed netns {HOSTS[1]}", f"removed {HOSTS[1]}"])
    assert namespaces() == HOSTS[:1] and HOSTS[1] not in links() and links()[HOSTS[0]]["master"] == BRIDGE

    # a process left in a namespace (a host whose nspawn crashed) is killed on removal
    with subprocess.Popen(["ip", "netns", "exec", HOSTS[0], "sleep", "60"]) as left:  # ip execs sleep: one pid
        assert wait_for_pid(HOSTS[0], left.pid), "the sleeper runs inside"
        gone = lab_network(state="absent", prefix=PREFIX, bridge={"name": BRIDGE}, stop_timeout=2)
        assert left.wait(timeout=10) == -9
    changes = gone["changes"]
    assert changes[:2] == [f"killed 1 leftover process(es) in {HOSTS[0]}", f"removed netns {HOSTS[0]}"], changes
    # the veth goes with its peer's namespace, at once or while the module looks: listed or not
    assert changes[-1] == f"removed {BRIDGE}" and changes[2:-1] in ([], [f"removed {HOSTS[0]}"]), changes
    assert not namespaces() and not {*HOSTS, BRIDGE} & set(links())
    assert lab_network(state="absent", prefix=PREFIX, bridge={"name": BRIDGE})["changed"] is False


def test_a_host_that_cannot_be_made_fails_naming_the_command(subnet):
    """An address that is not one: `ip` refuses, the module fails with the command and what ip said."""
    bridge = {"name": BRIDGE, "cidr": "198.19.300.1/24"}
    proc = ansible_module({"prefix": PREFIX, "bridge": bridge, "hosts": []})
    assert proc.returncode == 2, proc.stdout
    result = json.loads(proc.stdout.split("localhost | FAILED! => ", 1)[1])
    assert result["msg"].startswith(f"ip addr add 198.19.300.1/24 dev {BRIDGE} failed: "), result["msg"]
    assert result["changes"] == [f"bridge {BRIDGE}", f"address 198.19.300.1/24 on {BRIDGE}"]
