"""Which of the lab's systemd-nspawn processes run as its plan says (roles/lab/tasks/main.yml): each planned host on
its planned base root and layer (--overlay), under its machine name, on its cores. The lab is only built or booted
when they do not all."""

from __future__ import annotations

import re


def pgrep_pattern(lab_name: str) -> str:
    """pgrep's pattern for the lab's nspawn processes, which does not match the shell that runs pgrep: "[b]l-"
    matches "bl-" but not itself."""
    return f"--machine=[{lab_name[0]}]{lab_name[1:]}-"


def as_planned(hosts: list[dict]) -> str:
    """One alternative per planned host, in the order boot.yml writes the arguments; "" (anything) for no hosts."""
    return "|".join(f"--overlay={re.escape(h['overlay'])} .*--machine={re.escape(h['machine'])} "
                    f".*--cpu-affinity={','.join(str(c) for c in h['cpus'])} " for h in hosts)  # fmt: skip


def running(nspawns: list[str], hosts: list[dict]) -> dict:
    """Of the nspawn command lines (pgrep --list-full): how many run as planned (here), how many run a planned
    machine otherwise (elsewhere: another base root, layer or cores), and whether every planned host runs as planned
    and nothing else does (as_planned)."""
    planned = re.compile(as_planned(hosts))
    machines = re.compile(f"--machine=({'|'.join(re.escape(h['machine']) for h in hosts)})")
    here = [line for line in nspawns if planned.search(line)]
    others = [line for line in nspawns if not planned.search(line)]
    return {
        "here": len(here),
        "elsewhere": sum(1 for line in others if machines.search(line)),
        "as_planned": len(here) == len(hosts) and not others,
    }
