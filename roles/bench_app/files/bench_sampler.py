#!/usr/bin/env python3
"""Sample the CPU time and memory of every process of a systemd unit until stopped (SIGTERM), for the benchmark.

Usage: bench_sampler.py UNIT OUT.jsonl [--interval S]
Every interval, one JSON line: {"t": epoch seconds, "procs": [[pid, ppid, cpu_ticks, rss_kb, pss_kb], ...]} for the
processes
in the unit's cgroup (found again each time, so a master restarted by systemd is followed). The first line gives the
clock: {"clk_tck": ticks per second, "unit": UNIT, "cgroup": path}. Standard library only; run as root (the unit's
processes belong to another user): `systemd-run --unit=bench-sampler ... bench_sampler.py gunicorn@gthread.service`.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

CGROUP_ROOT = "/sys/fs/cgroup"


def cgroup_of(unit: str) -> str:
    out = subprocess.run(["systemctl", "show", "--property=ControlGroup", "--value", unit],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    if not out:  # not running right now: where systemd puts a template unit's instance
        out = f"/system.slice/system-{unit.split('@', maxsplit=1)[0]}.slice/{unit}"
    # cgroup v2 (/sys/fs/cgroup), or systemd's hybrid and legacy layouts (unified/, systemd/)
    for base in (CGROUP_ROOT, CGROUP_ROOT + "/unified", CGROUP_ROOT + "/systemd"):
        if os.path.isdir(base + out) or os.path.isdir(base + "/system.slice"):
            return base + out
    return CGROUP_ROOT + out


def proc(pid: int) -> list[int] | None:
    """[pid, ppid, utime + stime in ticks, VmRSS in kB, Pss in kB], or None when the process is gone. PSS shares
    each page among the processes that map it (the workers forked from one master share the app's code): the sum over
    processes is what they take together, where RSS counts every shared page once per process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            rss = next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as fh:
            pss = next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
    except (OSError, IndexError, ValueError):
        return None
    # fields[0] is the state (field 3 of stat); ppid is field 4, utime 14, stime 15
    return [pid, int(fields[1]), int(fields[11]) + int(fields[12]), rss, pss]


def sample(cgroup: str) -> list[list[int]]:
    try:
        with open(os.path.join(cgroup, "cgroup.procs"), encoding="ascii") as fh:
            pids = [int(p) for p in fh.read().split()]
    except OSError:
        return []  # the unit is between a stop and a restart
    return [p for p in (proc(pid) for pid in pids) if p]


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--interval"):
        print(__doc__, file=sys.stderr)
        return 2
    unit, out = argv[0], argv[1]
    interval = float(argv[3]) if len(argv) == 4 else 0.5
    stop = []
    # SIGTERM ends the wait between samples at once (time.sleep would finish its interval first: the end of a worker
    # type's turn waits for this process): the signal wakes the select on this pipe
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    cgroup = cgroup_of(unit)
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"clk_tck": os.sysconf("SC_CLK_TCK"), "unit": unit, "cgroup": cgroup}) + "\n")
        while not stop:
            fh.write(json.dumps({"t": round(time.time(), 3), "procs": sample(cgroup)}) + "\n")
            fh.flush()
            select.select([woken], [], [], interval)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
