"""What a run's report says of its hosts and of what each app host ran, from the variables Ansible holds of each host
(report.yml hands them over through the bench_report_context filter; `python -m bench finish` writes the result to
raw/context.json), and which worker types failed where."""

from __future__ import annotations

import re
from collections.abc import Mapping

# The host variables read here: gathered facts, the inventory's address and pinned cores (the lab's), what the load
# role registered of `siege --version`, and what each worker type's turn kept on its app host.
HOST_KEYS = ("ansible_facts", "ansible_host", "lab_cpus", "load_siege", "bench_versions", "bench_processes",
             "bench_verified", "bench_failed_types")  # fmt: skip
SIEGE_VERSION = re.compile(r"\d+\.\d+(\.\d+)?")


def host_record(name: str, hostvars: Mapping, *, app: bool, load: bool) -> dict:
    """One host of the run as the report shows it: its role, address, hardware, OS, Python and (a load host) siege."""
    facts = hostvars["ansible_facts"]
    processor = facts["processor"]
    python = facts.get("python", {}).get("version")
    siege = hostvars.get("load_siege") or {}
    found = SIEGE_VERSION.search(f"{siege.get('stdout', '')}{siege.get('stderr', '')}") if load else None
    return {
        "role": "app" if app else "load",
        "address": hostvars.get("ansible_host", name),
        "cpu_model": processor[2] if len(processor) > 2 else "unknown",
        "cores": facts["processor_nproc"],
        "cpus_pinned": hostvars.get("lab_cpus"),
        "memory_mb": facts["memtotal_mb"],
        "kernel": facts["kernel"],
        "os": f"{facts['distribution']} {facts['distribution_version']}",
        "architecture": facts["architecture"],
        "python": ".".join(str(python[part]) for part in ("major", "minor", "micro")) if python else None,
        "siege": found.group() if found else None,
    }


def report_context(app_hosts: list[str], load_hosts: list[str], hostvars: Mapping[str, Mapping]) -> dict:
    """{"hosts": every host whose facts were gathered, app hosts first; "apps": per app host, the versions and the
    process each worker type ran, and its verification before load}. A host in both groups is listed once, as an
    app host."""
    hosts = {
        name: host_record(name, hostvars[name], app=name in app_hosts, load=name in load_hosts)
        for name in app_hosts + load_hosts
        if "processor_nproc" in hostvars[name].get("ansible_facts", {})
    }
    apps = {
        name: {
            "versions": hostvars[name].get("bench_versions", {}),
            "processes": hostvars[name].get("bench_processes", {}),
            "verify": hostvars[name].get("bench_verified", {}),
        }
        for name in app_hosts
    }
    return {"hosts": hosts, "apps": apps}


def failed_types(app_hosts: list[str], hostvars: Mapping[str, Mapping]) -> str:
    """'sync, gthread' (one app host) or 'sync on app1; gevent on app2': the worker types that failed; '' if none."""
    several = len(app_hosts) > 1
    return "; ".join(", ".join(hostvars[name]["bench_failed_types"]) + (f" on {name}" if several else "")
                     for name in app_hosts if "bench_failed_types" in hostvars[name])  # fmt: skip
