#!/usr/bin/env python3
"""Run a list of siege runs on this load host, each bounded by `timeout`, and keep every raw output.

Usage: siege_driver.py PLAN.json
PLAN: {"out_dir": "...", "archive": ".../raw.tar.gz", "start_at": <epoch or null>,
       "runs": [{"name", "url", "concurrency", "reps" | "time_s", "rc", "timeout_s"}]}
For each run it writes NAME.out (siege's stdout: one line per request), NAME.err (its summary and errors) and
NAME.meta.json (command, exit status, start and end times, whether it was killed by the timeout), then packs the
folder into one archive for the controller to fetch. It parses nothing: that happens on the controller.
Standard library only: load hosts have python3 and nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time

TIMEOUT_EXIT = (124, 137)  # timeout(1): the command timed out (124), or had to be killed (128 + 9)


def command(run: dict) -> list[str]:
    amount = ["-r", str(run["reps"])] if run.get("reps") else ["-t", f"{int(run['time_s'])}S"]
    return [
        "timeout", "--kill-after=5", str(int(run["timeout_s"])),
        "siege", "-R", run["rc"], "-c", str(int(run["concurrency"])), *amount, run["url"],
    ]  # fmt: skip


def execute(run: dict, out_dir: str) -> dict:
    cmd = command(run)
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
    with open(base + ".meta.json", "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
    return meta


def main(plan_path: str) -> int:
    with open(plan_path, encoding="utf-8") as fh:
        plan = json.load(fh)
    out_dir = plan["out_dir"]
    os.makedirs(out_dir, exist_ok=True)
    if plan.get("start_at"):
        time.sleep(max(0.0, plan["start_at"] - time.time()))
    for run in plan["runs"]:
        meta = execute(run, out_dir)
        print(f"{meta['name']}: rc={meta['rc']} {meta['finished'] - meta['started']:.2f}s", flush=True)
    tmp = plan["archive"] + ".tmp"
    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(out_dir, arcname=".")
    os.replace(tmp, plan["archive"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
