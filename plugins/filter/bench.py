"""Filters that call the harness's tested Python (bench/) from playbooks."""

from __future__ import annotations

import sys
from pathlib import Path

from ansible.errors import AnsibleFilterError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.control import host_context, lab_running, systemd, unreachable
from bench.deps import resolve
from bench.model import estimate, operations, pairs, scenarios


def bench_matrix(instances, probes, sweep, **kwargs):
    """Every siege run of the benchmark, numbered: see bench/model/scenarios.py."""
    try:
        return scenarios.build_matrix(list(instances), dict(probes), dict(sweep), **kwargs)
    except (scenarios.ScenarioError, operations.OperationError) as exc:
        raise AnsibleFilterError(str(exc)) from exc


def bench_estimate(matrix, instances, budget_min, **kwargs):
    """The run's instances, runs and the time it will take, in a line; refused (naming load_budget_min) when it is
    expected to take longer than its budget: see bench/model/estimate.py."""
    found = estimate.estimate(list(matrix), list(instances), **kwargs)
    try:
        estimate.check_budget(found, budget_min)
    except estimate.BudgetError as exc:
        raise AnsibleFilterError(str(exc)) from exc
    return estimate.describe(found, float(budget_min))


def systemd_command_line(argv):
    """A list of arguments as the value of a unit's ExecStart=: see bench/control/systemd.py."""
    try:
        return systemd.command_line(list(argv))
    except ValueError as exc:
        raise AnsibleFilterError(f"systemd_command_line: {exc}") from exc


def bench_pip_platforms(arch):
    """pip's --platform values for an app host's architecture (every manylinux level a Debian 12 host runs, and
    linux): see bench/deps/resolve.py, the one list."""
    return [f"{level}_{arch}" for level in resolve.MANYLINUX]


def bench_pairs(app_hosts, load_hosts, hostvars):
    """Each app host's load hosts and round (its host variable bench_load_hosts, or the rule):
    see bench/model/pairs.py."""
    chosen = {h: hostvars[h].get("bench_load_hosts") for h in app_hosts if "bench_load_hosts" in hostvars[h]}
    try:
        return pairs.pairs(list(app_hosts), list(load_hosts), chosen)
    except pairs.PairError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def bench_pairs_lines(found):
    """'app1 <- load1 (round 1 of 2)', one per app host."""
    return pairs.describe(dict(found))


def _host_vars(names, hostvars) -> dict[str, dict]:
    """The variables bench/control/host_context.py reads, of each host named (hostvars is Ansible's lazy mapping)."""
    return {h: {k: hostvars[h][k] for k in host_context.HOST_KEYS if k in hostvars[h]} for h in dict.fromkeys(names)}


def bench_report_context(groups, hostvars):
    """raw/context.json's hosts and apps, from the hosts' facts and what their turns kept:
    see bench/control/host_context.py."""
    app_hosts, load_hosts = list(groups.get("app", [])), list(groups.get("load", []))
    return host_context.report_context(app_hosts, load_hosts, _host_vars(app_hosts + load_hosts, hostvars))


def bench_failed_types(app_hosts, hostvars):
    """'sync, gthread' or 'sync on app1; gevent on app2': the worker types that failed ('' if none)."""
    return host_context.failed_types(list(app_hosts), _host_vars(app_hosts, hostvars))


def bench_run_id(started, label, verify_only=False):
    """A run's id, and its folder's name: '2026-12-03T02:18:16Z' and 'demo-sync' give 20261203T021816Z-demo-sync
    (-verify appended with verify_only=true)."""
    return f"{str(started).replace('-', '').replace(':', '')}-{label}{'-verify' if verify_only else ''}"


def bench_load_lost(registered, load_hosts):
    """{lost, host, msg}: the load host that stopped answering, from the load steps' results
    (bench/control/unreachable.py)."""
    return unreachable.lost_load_host(list(registered), list(load_hosts))


def lab_pgrep_pattern(lab_name):
    """pgrep's pattern for the lab's nspawn processes that does not match its own shell:
    see bench/control/lab_running.py."""
    return lab_running.pgrep_pattern(str(lab_name))


def lab_against_plan(nspawns, hosts):
    """{here, elsewhere, as_planned}: the lab's running nspawn processes against its plan
    (bench/control/lab_running.py)."""
    return lab_running.running(list(nspawns), list(hosts))


class FilterModule:
    def filters(self):
        return {"bench_matrix": bench_matrix, "bench_estimate": bench_estimate,
                "systemd_command_line": systemd_command_line,
                "bench_pip_platforms": bench_pip_platforms, "bench_pairs": bench_pairs,
                "bench_pairs_lines": bench_pairs_lines, "bench_report_context": bench_report_context,
                "bench_failed_types": bench_failed_types, "bench_run_id": bench_run_id,
                "bench_load_lost": bench_load_lost,
                "lab_pgrep_pattern": lab_pgrep_pattern, "lab_against_plan": lab_against_plan}  # fmt: skip
