#!/usr/bin/python
"""lab_plan: plan the lab (names, addresses, cores) and refuse, before anything changes, what cannot work.

It runs in the controller's own process, as this action plugin: the lab is built on the controller itself, and
planning only computes and reads `ip`; as a module it cost a Python start and Ansible's module wrapper on every run,
about half a second. This file is the only copy: the role's library/lab_plan.py is a symbolic link to it, so that
ansible-doc, ansible-lint and the tests find the task's documentation and logic under the module's name (it has no
main(): nothing runs it as a module)."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import subprocess
from pathlib import Path

import yaml
from ansible.plugins.action import ActionBase

DOCUMENTATION = r"""
module: lab_plan
short_description: Plan lab hosts and check the controller can hold them, changing nothing
description:
  - Validates the lab subnet and names, assigns every host an address, a network namespace, a veth and a core,
    and fails with a message naming the variable when the subnet overlaps an address or route of the controller
    that is not the lab's own, or when there are too few cores to pin.
options:
  name: {type: str, required: true, description: "Prefix of namespaces, veths and machines."}
  bridge: {type: str, required: true, description: Bridge name.}
  subnet: {type: str, required: true, description: IPv4 CIDR.}
  app_hosts: {type: int, required: true, description: Number of app hosts.}
  load_hosts: {type: int, required: true, description: Number of load hosts.}
  cpu_pinning: {type: bool, default: true, description: Pin each host to a core.}
  suite: {type: str, default: bookworm, description: "Debian release of every host without one of its own."}
  roots_dir: {type: path, description: "Folder of the base roots (one per release, each with its .lab-base-id)."}
  hosts_dir: {type: path, description: "Folder of the hosts' folders (keys, logs, a writable layer per release)."}
  base_id_of:
    type: str
    description: "What a base root is built from, as JSON with @SUITE@ for its release: its SHA-1 is the base id."
  prebuild_suites:
    type: list
    elements: str
    default: []
    description:
      - "Releases whose base root is built (and kept current) though no host runs them now: make bench builds
        trixie's once, so that the tests of a lab of unlike hosts find it ready."
  host_settings:
    type: dict
    default: {}
    description:
      - "Per host name, or per group (app, load), what differs from the rest: debian_suite (bookworm or trixie), cores
        (how many cores the host may use; app hosts get theirs to themselves when pinned) and stock (true: the host
        as a Debian image delivers it, without python3-venv, siege and wrk). A host's own entry wins over its group's."
"""

EXAMPLES = r"""
- name: Plan hosts, addresses and cores, and check the subnet is free
  lab_plan:
    name: bl
    bridge: blbr0
    subnet: 10.203.0.0/24
    app_hosts: 1
    load_hosts: 1
  register: lab_plan_result
"""

RETURN = r"""
plan:
  description: The bridge (name, address, cidr), the subnet, every host (name, group, address, cidr, netns, veth,
    machine, cpus, suite, stock, base_dir, layer_dir), the releases (suites), per release the base id wanted and
    the one cached (bases), the releases whose base root must be built (stale) and the warnings shown to the user.
  type: dict
  returned: success
clashes:
  description: Addresses and routes of the controller that overlap the subnet.
  type: list
  returned: when the subnet is taken
foreign:
  description: Interfaces of another lab on the bridge.
  type: list
  returned: when the bridge carries another lab's hosts
"""

NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,5}$")
SUITES = ("bookworm", "trixie")
SETTINGS = {"debian_suite": str, "cores": int, "stock": bool}
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
MAX_HOSTS_PER_GROUP = 8


class PlanError(ValueError):
    """A refusal: the message names the variable and what would be valid."""


def overlapping(subnet: ipaddress.IPv4Network, addrs: list[dict], routes: list[dict], own: set[str]) -> list[str]:
    """Addresses and routes of the controller that overlap the lab subnet and are not the lab's own.

    ``addrs`` is ``ip -j addr`` output, ``routes`` is ``ip -j -4 route show table all``; ``own`` holds the names of
    the lab's bridge and veths, whose addresses and routes are expected.
    """
    found = []
    for link in addrs:
        ifname = link.get("ifname", "")
        if ifname in own:
            continue
        for info in link.get("addr_info", []):
            if info.get("family") != "inet":
                continue
            net = ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}").network
            if net.overlaps(subnet):
                found.append(f"address {info['local']}/{info['prefixlen']} on {ifname}")
    for route in routes:
        dst = route.get("dst", "")
        if dst in ("default", "") or route.get("dev") in own:
            continue
        if route.get("type") in ("broadcast", "local", "multicast") or route.get("table") == "local":
            continue
        net = ipaddress.ip_network(dst if "/" in dst else f"{dst}/32", strict=False)
        if net.overlaps(subnet):
            found.append(f"route {dst} via {route.get('dev', route.get('gateway', '?'))}")
    return found


def validate(name: str, bridge: str, subnet: str, app_hosts: int, load_hosts: int) -> ipaddress.IPv4Network:
    """Refuse names, subnets and counts that cannot work; return the subnet."""
    if not NAME_RE.match(name):
        raise PlanError(f"lab_name={name!r}: use 1-6 lowercase letters and digits, starting with a letter (e.g. bl)")
    if not IFNAME_RE.match(bridge):
        raise PlanError(f"lab_bridge={bridge!r}: an interface name of 1-15 letters, digits, '-', '_' or '.'")
    try:
        net = ipaddress.ip_network(subnet)
    except ValueError as exc:
        raise PlanError(f"lab_subnet={subnet!r}: not an IPv4 network in CIDR form like 10.203.0.0/24 ({exc})") from exc
    if net.version != 4 or not net.is_private:
        raise PlanError(f"lab_subnet={subnet!r}: use a private IPv4 network (10/8, 172.16/12, 192.168/16)")
    for var, count in (("lab_app_hosts", app_hosts), ("lab_load_hosts", load_hosts)):
        if not 1 <= count <= MAX_HOSTS_PER_GROUP:
            raise PlanError(f"{var}={count}: must be between 1 and {MAX_HOSTS_PER_GROUP}")
    if net.num_addresses - 2 < app_hosts + load_hosts + 1:
        raise PlanError(
            f"lab_subnet={subnet!r}: {max(net.num_addresses - 2, 0)} usable addresses, the lab needs "
            f"{app_hosts + load_hosts + 1} (bridge + hosts); use a larger subnet such as a /24"
        )
    return net


def assign_cores(
    apps: list[str], loads: list[str], cpus: list[int], cpu_pinning: bool, wanted: dict[str, int]
) -> tuple[dict[str, list[int]], list[str]]:
    """App hosts get their cores (one each unless `wanted` says more; the highest ones) to themselves; load hosts
    share the rest. Unpinned, every host may use every core, or the first `wanted` ones. Returns cores per host,
    warnings."""
    for host, count in wanted.items():
        if not 1 <= count <= len(cpus):
            raise PlanError(f"lab_host_settings: {host}: cores={count}: this machine has {len(cpus)} core(s) {cpus}; "
                            f"give 1 to {len(cpus)}")  # fmt: skip
    if not cpu_pinning:
        warning = "lab_cpu_pinning=false: app and load hosts share all cores; results are noisier"
        return {host: cpus[: wanted.get(host, len(cpus))] for host in apps + loads}, [warning]
    need = sum(wanted.get(h, 1) for h in apps) + 1
    if len(cpus) < need:
        raise PlanError(
            f"lab_cpu_pinning=true: this machine has {len(cpus)} core(s) {cpus}; pinning gives every app host "
            f"its cores to itself and the load hosts at least one more ({need} needed). Lower "
            "lab_app_hosts (or their cores), or set lab_cpu_pinning=false to run unpinned: then all hosts share all "
            "cores and results are noisier."
        )
    rest = list(cpus)
    cores = {}
    for host in apps:
        cores[host] = sorted(rest.pop() for _ in range(wanted.get(host, 1)))
    cores.update(
        {host: rest[: wanted[host]] if host in wanted else [rest[i % len(rest)]] for i, host in enumerate(loads)}
    )
    warnings = []
    if len(loads) > len(rest):
        warnings.append(
            f"{len(loads)} load hosts share {len(rest)} core(s) {rest}: siege may be limited by the load side"
        )
    return cores, warnings


def setting(key: str, name: str, value):
    """One setting of lab_host_settings, checked (a number given as a string, as -e gives it, is a number)."""
    kind = SETTINGS.get(name)
    if kind is None:
        raise PlanError(f"lab_host_settings: {key}: {name!r} is not a setting (use {', '.join(SETTINGS)})")
    if kind is int and isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PlanError(f"lab_host_settings: {key}: {name}={value!r}: must be a {kind.__name__}")
    if name == "debian_suite" and value not in SUITES:
        raise PlanError(f"lab_host_settings: {key}: debian_suite={value!r}: use one of {', '.join(SUITES)}")
    return value


def host_settings(settings: dict, apps: list[str], loads: list[str], suite: str) -> dict[str, dict]:
    """Each host's debian_suite, stock and (when set) cores: its own entry over its group's over the defaults.
    Refuses unknown hosts, keys and values, naming them."""
    if suite not in SUITES:
        raise PlanError(f"lab_debian_suite={suite!r}: use one of {', '.join(SUITES)}")
    known = {*apps, *loads, "app", "load"}
    checked = {}
    for key, entry in settings.items():
        if key not in known:
            raise PlanError(f"lab_host_settings: {key!r} is neither a planned host nor a group "
                            f"(hosts: {', '.join(apps + loads)}; groups: app, load)")  # fmt: skip
        if not isinstance(entry, dict):
            raise PlanError(f"lab_host_settings: {key}: give a mapping of {', '.join(SETTINGS)}")
        checked[key] = {name: setting(key, name, value) for name, value in entry.items()}
    return {
        host: {"debian_suite": suite, "stock": False}
        | checked.get("app" if host in apps else "load", {})
        | checked.get(host, {})
        for host in apps + loads
    }


def plan_lab(
    *, name: str, bridge: str, subnet: str, app_hosts: int, load_hosts: int, cpus: list[int], cpu_pinning: bool,
    suite: str = "bookworm", settings: dict | None = None,
) -> dict:  # fmt: skip
    """Names, addresses, cores, Debian release and stock-ness of every lab host; raises PlanError on input that cannot
    work."""
    net = validate(name, bridge, subnet, app_hosts, load_hosts)
    apps = [f"app{i}" for i in range(1, app_hosts + 1)]
    loads = [f"load{i}" for i in range(1, load_hosts + 1)]
    each = host_settings(settings or {}, apps, loads, suite)
    wanted = {h: e["cores"] for h, e in each.items() if "cores" in e}
    cores, warnings = assign_cores(apps, loads, cpus, cpu_pinning, wanted)
    addresses = net.hosts()
    gateway = next(addresses)
    hosts = [
        {
            "name": host,
            "group": "app" if host in apps else "load",
            "address": str(addr),
            "cidr": f"{addr}/{net.prefixlen}",
            "netns": f"{name}-{host}",
            "veth": f"{name}-{host}",
            "machine": f"{name}-{host}",
            "cpus": cores[host],
            "suite": each[host]["debian_suite"],
            "stock": each[host]["stock"],
        }
        for host, addr in zip(apps + loads, addresses, strict=False)
    ]
    return {
        "bridge": {"name": bridge, "address": str(gateway), "cidr": f"{gateway}/{net.prefixlen}"},
        "subnet": str(net),
        "hosts": hosts,
        "suites": list(dict.fromkeys(each[h]["debian_suite"] for h in apps + loads)),  # only the releases used
        "warnings": warnings,
    }


# The options as the documentation states them: validate_argument_spec checks the task's arguments against them.
ARGUMENT_SPEC = {
    name: {key: value for key, value in option.items() if key in ("type", "required", "default")}
    for name, option in yaml.safe_load(DOCUMENTATION)["options"].items()
}


def subnet_clash(plan: dict, addrs_json: str, routes_json: str) -> dict | None:
    """The refusal (msg and clashes) when the planned subnet overlaps this machine's addresses or routes."""
    own = {plan["bridge"]["name"]}
    own |= {h["veth"] for h in plan["hosts"]}
    clashes = overlapping(ipaddress.ip_network(plan["subnet"]), json.loads(addrs_json), json.loads(routes_json), own)
    if not clashes:
        return None
    return {
        "msg": f"lab_subnet={plan['subnet']} overlaps what this machine already uses: {'; '.join(clashes)}. "
        "Choose another private subnet with -e lab_subnet=..., or remove the stale interface "
        "(a leftover from an earlier lab: make lab-down).",
        "clashes": clashes,
    }


def bridge_clash(plan: dict, prefix: str, addrs_json: str) -> dict | None:
    """The refusal when the lab's bridge already carries hosts of a lab with another name (prefix): this plan would
    boot a second set of hosts on the same addresses and writable layers, and removing it would cut the other off."""
    bridge = plan["bridge"]["name"]
    foreign = sorted(
        link["ifname"]
        for link in json.loads(addrs_json)
        if link.get("master") == bridge and not link["ifname"].startswith(f"{prefix}-")
    )
    if not foreign:
        return None
    return {
        "msg": f"lab_bridge={bridge} already carries the hosts of another lab ({', '.join(foreign)}), not named "
        f"lab_name={prefix}: use that lab's lab_name, or take it down first (make lab-down), or give this one its "
        "own lab_bridge and lab_subnet",
        "foreign": foreign,
    }


def plan_here(p: dict) -> dict:
    return plan_lab(
        name=p["name"],
        bridge=p["bridge"],
        subnet=p["subnet"],
        app_hosts=p["app_hosts"],
        load_hosts=p["load_hosts"],
        cpus=sorted(os.sched_getaffinity(0)),
        cpu_pinning=p["cpu_pinning"],
        suite=p["suite"],
        settings=p["host_settings"],
    )


def base_id(base_id_of: str, suite: str) -> str:
    """The id of a release's base root: the sha1 of what it is built from (the role's lab_base_id_of, JSON)."""
    return hashlib.sha1(base_id_of.replace("@SUITE@", suite).encode()).hexdigest()


def paths(plan: dict, roots_dir: str, hosts_dir: str) -> dict:
    """Each host's base root (roots_dir/<release>), writable layer (hosts_dir/<host>/<release>, or <release>-stock
    for a stock host: making a host stock, or not, never reuses the other's layer) and systemd-nspawn's --overlay of
    the two."""
    for host in plan["hosts"]:
        host["base_dir"] = f"{roots_dir}/{host['suite']}"
        host["layer_dir"] = f"{hosts_dir}/{host['name']}/{host['suite']}{'-stock' if host['stock'] else ''}"
        host["overlay"] = f"{host['base_dir']}:{host['layer_dir']}/upper:/"
    return plan


def bases(plan: dict, roots_dir: str, base_id_of: str, prebuild: list[str] | tuple[str, ...] = ()) -> dict:
    """Per release, the base id wanted (the role's lab_base_id) and the one cached in roots_dir/<release>/.lab-base-id
    ('' when none): plan["bases"], and plan["stale"], the releases of the plan whose base root must be built."""
    found = {}
    for suite in SUITES:
        try:
            current = (Path(roots_dir) / suite / ".lab-base-id").read_text().strip()
        except OSError:
            current = ""
        found[suite] = {"wanted": base_id(base_id_of, suite), "current": current}
    unknown = [suite for suite in prebuild if suite not in SUITES]
    if unknown:
        raise PlanError(f"lab_prebuild_suites: {', '.join(unknown)}: use releases of {', '.join(SUITES)}")
    wanted = list(dict.fromkeys([*plan["suites"], *prebuild]))
    stale = [suite for suite in wanted if found[suite]["wanted"] != found[suite]["current"]]
    # the hosts run on these: a rebuild of one of them powers its hosts off first (a prebuilt release's does not)
    stale_used = [suite for suite in stale if suite in plan["suites"]]
    return plan | {"bases": found, "stale": stale, "stale_used": stale_used}


ADDRS = ["ip", "-j", "addr"]
ROUTES = ["ip", "-j", "-4", "route", "show", "table", "all"]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            plan = paths(plan_here(args), args["roots_dir"], args["hosts_dir"])
            plan = bases(plan, args["roots_dir"], args["base_id_of"], args["prebuild_suites"])
        except PlanError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        addrs = subprocess.run(ADDRS, capture_output=True, text=True, check=True).stdout
        routes = subprocess.run(ROUTES, capture_output=True, text=True, check=True).stdout
        clash = bridge_clash(plan, args["name"], addrs) or subnet_clash(plan, addrs, routes)
        if clash:
            result.update(failed=True, **clash)
            return result
        if plan["warnings"]:
            result["warnings"] = list(plan["warnings"])
        result.update(changed=False, plan=plan)
        return result
