#!/usr/bin/env python3
"""Run siege on this load host, bounded by `timeout`, and keep every raw output. Parses nothing.

Usage:
  siege_driver.py PLAN.json run NAME [--pack]   run one siege run of the plan (then pack, when asked)
  siege_driver.py PLAN.json pack                pack the plan's output folder into its archive, for the controller
PLAN: {"out_dir": "...", "archive": ".../raw.tar.gz", "base_url": "http://10.0.0.2:8000", "rc_dir": "...",
       "runs": [{"name", "endpoint", "connection", "concurrency", "reps" | "time_s", "timeout_s", "label"}]}
The URL of a run is base_url + endpoint; its siege rc file is rc_dir/<connection>.siegerc.
A run writes NAME.out (siege's stdout: one line per request), NAME.err (its summary and errors) and NAME.meta.json
(command, exit status, start and end times, whether `timeout` stopped it). Standard library only: load hosts have
python3 and nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time

TIMEOUT_EXIT = (124, 137)  # timeout(1): the command timed out (124), or had to be killed (128 + 9)


def command(plan: dict, run: dict) -> list[str]:
    amount = ["-r", str(run["reps"])] if run.get("reps") else ["-t", f"{int(run['time_s'])}S"]
    rc_file = os.path.join(plan["rc_dir"], f"{run['connection']}.siegerc")
    return [
        "timeout", "--kill-after=5", str(int(run["timeout_s"])),
        "siege", "-R", rc_file, "-c", str(int(run["concurrency"])), *amount, plan["base_url"] + run["endpoint"],
    ]  # fmt: skip


def execute(plan: dict, run: dict) -> dict:
    cmd = command(plan, run)
    out_dir = plan["out_dir"]
    base = os.path.join(out_dir, run["name"])
    started = time.time()
    with open(base + ".out", "wb") as out, open(base + ".err", "wb") as err:
        rc = subprocess.call(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    meta = {
        "name": run["name"],
        "cmd": cmd,
        "rc": rc,
        "timed_out": rc in TIMEOUT_EXIT,
        "started": started,
        "finished": time.time(),
        "host": os.uname().nodename,
    }
    tmp = base + ".meta.json.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
    os.replace(tmp, base + ".meta.json")
    return meta


def pack(out_dir: str, archive: str) -> None:
    tmp = archive + ".tmp"
    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(out_dir, arcname=".")
    os.replace(tmp, archive)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in ("run", "pack") or (argv[1] == "run" and len(argv) not in (3, 4)):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as fh:
        plan = json.load(fh)
    os.makedirs(plan["out_dir"], exist_ok=True)
    if argv[1] == "pack":
        pack(plan["out_dir"], plan["archive"])
        print(plan["archive"])
        return 0
    run = next((r for r in plan["runs"] if r["name"] == argv[2]), None)
    if run is None:
        print(f"no run named {argv[2]!r} in {argv[0]}", file=sys.stderr)
        return 2
    meta = execute(plan, run)
    print(f"{run.get('label', run['name'])}: siege exit {meta['rc']} after {meta['finished'] - meta['started']:.2f} s")
    if argv[3:] == ["--pack"]:
        pack(plan["out_dir"], plan["archive"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
