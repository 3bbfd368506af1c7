"""Filters that call the harness's tested Python (bench/) from playbooks."""

from __future__ import annotations

import sys
from pathlib import Path

from ansible.errors import AnsibleFilterError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import pairs, resolve, scenarios, systemd


def bench_matrix(instances, probes, sweep, **kwargs):
    """Every siege run of the benchmark, numbered: see bench/scenarios.py."""
    try:
        return scenarios.build_matrix(list(instances), dict(probes), dict(sweep), **kwargs)
    except scenarios.ScenarioError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def systemd_command_line(argv):
    """A list of arguments as the value of a unit's ExecStart=: see bench/systemd.py."""
    try:
        return systemd.command_line(list(argv))
    except ValueError as exc:
        raise AnsibleFilterError(f"systemd_command_line: {exc}") from exc


def bench_pip_platforms(arch):
    """pip's --platform values for an app host's architecture (every manylinux level a Debian 12 host runs, and
    linux): see bench/resolve.py, the one list."""
    return [f"{level}_{arch}" for level in resolve.MANYLINUX]


def bench_pairs(app_hosts, load_hosts, hostvars):
    """Each app host's load hosts and round (its host variable bench_load_hosts, or the rule): see bench/pairs.py."""
    chosen = {h: hostvars[h].get("bench_load_hosts") for h in app_hosts if "bench_load_hosts" in hostvars[h]}
    try:
        return pairs.pairs(list(app_hosts), list(load_hosts), chosen)
    except pairs.PairError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def bench_pairs_lines(found):
    """'app1 <- load1 (round 1 of 2)', one per app host."""
    return pairs.describe(dict(found))


class FilterModule:
    def filters(self):
        return {"bench_matrix": bench_matrix, "systemd_command_line": systemd_command_line,
                "bench_pip_platforms": bench_pip_platforms, "bench_pairs": bench_pairs,
                "bench_pairs_lines": bench_pairs_lines}  # fmt: skip
