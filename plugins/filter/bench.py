"""Filters that call the harness's tested Python (bench/) from playbooks."""

from __future__ import annotations

import sys
from pathlib import Path

from ansible.errors import AnsibleFilterError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import resolve, scenarios, systemd


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


class FilterModule:
    def filters(self):
        return {"bench_matrix": bench_matrix, "systemd_command_line": systemd_command_line,
                "bench_pip_platforms": bench_pip_platforms}  # fmt: skip
