#!/usr/bin/python
"""Make or remove the lab's bridge, namespaces and veths; on removal also end every process living in them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: lab_network
short_description: Bridge, network namespaces and veths of the lab
description:
  - state=present makes one bridge with an address and, per host, a network namespace whose eth0 is the peer of a
    veth enslaved to the bridge. No default route is set inside: the hosts reach the bridge's subnet only. Hosts of
    an earlier plan that this one drops (fewer load hosts) are powered off, and their namespaces and veths removed.
  - state=absent stops the lab's nspawn processes (SIGTERM, i.e. a clean poweroff, then SIGKILL after stop_timeout),
    kills whatever still lives in a lab namespace, deletes the namespaces, veths and bridge, and unmounts anything
    left mounted under state_dir. It finds leftovers by prefix, so a crashed run is cleaned too.
options:
  state: {type: str, choices: [present, absent], default: present, description: Wanted state.}
  prefix: {type: str, required: true, description: Prefix of the lab's namespaces, veths and machines.}
  bridge: {type: dict, required: true, description: "name and cidr of the bridge."}
  hosts: {type: list, elements: dict, default: [], description: "netns, veth and cidr of every host."}
  state_dir: {type: path, description: Lab state folder; leftover mounts below it are removed on absent.}
  stop_timeout: {type: float, default: 8, description: Seconds to wait for a clean poweroff.}
"""


class Net:
    """Thin wrapper over `ip` that records what it changed."""

    def __init__(self, module: AnsibleModule):
        self.module = module
        self.changes: list[str] = []

    def ip(self, *args: str, ns: str | None = None, check: bool = True) -> str:
        cmd = ["ip"] + (["-n", ns] if ns else []) + list(args)
        rc, out, err = self.module.run_command(cmd)
        if check and rc != 0:
            self.module.fail_json(msg=f"{' '.join(cmd)} failed: {err.strip()}", changes=self.changes)
        return out

    def change(self, what: str, *args: str, ns: str | None = None) -> None:
        self.changes.append(what)
        if not self.module.check_mode:
            self.ip(*args, ns=ns)

    def links(self, ns: str | None = None) -> dict[str, dict]:
        return {link["ifname"]: link for link in json.loads(self.ip("-j", "addr", ns=ns) or "[]")}

    @staticmethod
    def namespaces() -> list[str]:
        try:
            return sorted(os.listdir("/run/netns"))
        except FileNotFoundError:
            return []


def inet_cidrs(link: dict) -> set[str]:
    return {f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a.get("family") == "inet"}


def ensure_addr(net: Net, link: dict | None, ifname: str, cidr: str, ns: str | None = None) -> None:
    have = inet_cidrs(link or {})
    for stale in sorted(have - {cidr}):
        net.change(f"removed {stale} from {ifname}", "addr", "del", stale, "dev", ifname, ns=ns)
    if cidr not in have:
        net.change(f"address {cidr} on {ifname}", "addr", "add", cidr, "dev", ifname, ns=ns)
    if not link or "UP" not in link.get("flags", []):
        net.change(f"{ifname} up", "link", "set", ifname, "up", ns=ns)


def prune(net: Net, prefix: str, hosts: list[dict], stop_timeout: float) -> None:
    """Power off and unplug the hosts of an earlier, larger plan (lab_load_hosts=2, then 1): a host nobody plans
    would keep a core busy and its address answering until `make lab-down`."""
    planned = {h["machine"] for h in hosts} | {h["netns"] for h in hosts} | {h["veth"] for h in hosts}
    extra = [pid for pid, machine in nspawn_machines(prefix).items() if machine not in planned]
    if extra:
        net.changes.append(f"powered off {len(extra)} host(s) no longer planned")
        if not net.module.check_mode:
            kill_all(extra, signal.SIGTERM)
            kill_all(wait_gone(extra, stop_timeout), signal.SIGKILL)
            wait_gone(extra, 5)
    for ns in net.namespaces():
        if ns.startswith(f"{prefix}-") and ns not in planned:
            leftovers = [int(p) for p in net.ip("netns", "pids", ns, check=False).split()]
            if leftovers and not net.module.check_mode:
                kill_all(leftovers, signal.SIGKILL)
                wait_gone(leftovers, 5)
            net.change(f"removed netns {ns}", "netns", "del", ns)
    for ifname in net.links():
        if ifname.startswith(f"{prefix}-") and ifname not in planned:
            net.changes.append(f"removed {ifname}")
            if not net.module.check_mode:
                net.ip("link", "del", ifname, check=False)  # it may have gone with its namespace meanwhile


def present(net: Net, prefix: str, bridge: dict, hosts: list[dict], stop_timeout: float) -> None:
    prune(net, prefix, hosts, stop_timeout)
    links = net.links()
    running = set(nspawn_pids(prefix, by_machine=True))
    if bridge["name"] not in links:
        net.change(f"bridge {bridge['name']}", "link", "add", bridge["name"], "type", "bridge")
    ensure_addr(net, links.get(bridge["name"]), bridge["name"], bridge["cidr"])
    namespaces = net.namespaces()
    for host in hosts:
        ns, veth = host["netns"], host["veth"]
        if ns not in namespaces:
            net.change(f"netns {ns}", "netns", "add", ns)
        elif host["machine"] not in running:
            orphans = [int(p) for p in net.ip("netns", "pids", ns, check=False).split()]
            if orphans:  # a host whose nspawn crashed: its processes would clash with the one we boot
                net.changes.append(f"killed {len(orphans)} orphaned process(es) in {ns}")
                if not net.module.check_mode:
                    kill_all(orphans, signal.SIGKILL)
                    wait_gone(orphans, 5)
        inner = {} if net.module.check_mode and ns not in namespaces else net.links(ns=ns)
        if veth in links and "eth0" not in inner:  # half of a pair whose other end went with an old namespace
            net.change(f"removed stale {veth}", "link", "del", veth)
            links.pop(veth)
        if veth not in links:
            net.change(
                f"veth {veth} <-> {ns}:eth0", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns
            )
            inner = {}
        if links.get(veth, {}).get("master") != bridge["name"]:
            net.change(f"{veth} on {bridge['name']}", "link", "set", veth, "master", bridge["name"], "up")
        if "lo" not in inner or "UP" not in inner["lo"].get("flags", []):
            net.change(f"{ns}: lo up", "link", "set", "lo", "up", ns=ns)
        ensure_addr(net, inner.get("eth0"), "eth0", host["cidr"], ns=ns)


def nspawn_pids(prefix: str, by_machine: bool = False) -> list:
    """systemd-nspawn processes started for this lab (found by their --machine= argument): pids, or machine names."""
    found = nspawn_machines(prefix)
    return list(found.values()) if by_machine else list(found)


def nspawn_machines(prefix: str) -> dict[int, str]:
    """pid -> machine name of every systemd-nspawn process started for this lab."""
    pids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"systemd-nspawn":
            for arg in argv:
                if arg.startswith(f"--machine={prefix}-".encode()):
                    pids[int(entry)] = arg.split(b"=", 1)[1].decode()
    return pids


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := [p for p in pids if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def leftover_mounts(state_dir: str | None, prefix: str) -> list[str]:
    targets = []
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            target = line.split()[4]
            if (state_dir and target.startswith(state_dir.rstrip("/") + "/")) or target.startswith(
                f"/run/netns/{prefix}-"
            ):
                targets.append(target)
    return sorted(set(targets), key=len, reverse=True)


def absent(net: Net, prefix: str, bridge: dict, state_dir: str | None, stop_timeout: float) -> None:
    check = net.module.check_mode
    nspawns = nspawn_pids(prefix)
    if nspawns:
        net.changes.append(f"powered off {len(nspawns)} host(s)")
        if not check:
            kill_all(nspawns, signal.SIGTERM)  # nspawn turns SIGTERM into a clean poweroff of the container
            kill_all(wait_gone(nspawns, stop_timeout), signal.SIGKILL)
            wait_gone(nspawns, 5)
    namespaces = [n for n in net.namespaces() if n.startswith(f"{prefix}-")]
    # What still lives in a lab namespace belongs to a host whose nspawn is gone (a crash): nothing to save.
    leftovers = [int(p) for ns in namespaces for p in net.ip("netns", "pids", ns, check=False).split()]
    if leftovers:
        net.changes.append(f"killed {len(leftovers)} leftover process(es) in {', '.join(namespaces)}")
        if not check:
            kill_all(leftovers, signal.SIGKILL)
            wait_gone(leftovers, 5)
    for ns in namespaces:
        net.change(f"removed netns {ns}", "netns", "del", ns)
    links = net.links()
    for ifname in sorted(links):
        if ifname.startswith(f"{prefix}-") or ifname == bridge["name"]:
            net.changes.append(f"removed {ifname}")
            if not net.module.check_mode:
                net.ip("link", "del", ifname, check=False)
                # a veth goes by itself once its peer's namespace is gone, maybe while we delete it: only fail
                # when it is still there
                if ifname in net.links():
                    net.module.fail_json(msg=f"ip link del {ifname} left it in place", changes=net.changes)
    for target in leftover_mounts(state_dir, prefix):
        net.changes.append(f"unmounted {target}")
        if not check:
            net.module.run_command(["umount", "-l", target], check_rc=True)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "prefix": {"type": "str", "required": True},
            "bridge": {"type": "dict", "required": True},
            "hosts": {"type": "list", "elements": "dict", "default": []},
            "state_dir": {"type": "path"},
            "stop_timeout": {"type": "float", "default": 8},
        },
        supports_check_mode=True,
    )
    p = module.params
    net = Net(module)
    if p["state"] == "present":
        present(net, p["prefix"], p["bridge"], p["hosts"], p["stop_timeout"])
    else:
        absent(net, p["prefix"], p["bridge"], p["state_dir"], p["stop_timeout"])
    module.exit_json(changed=bool(net.changes), changes=net.changes)


if __name__ == "__main__":
    main()
