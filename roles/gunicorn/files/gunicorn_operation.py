#!/usr/bin/python3
"""Do one operation to a running gunicorn instance at a given instant, while the load hosts load it, and say what it
did and when (stdlib only; run as root on the app host by the gunicorn role's operation.yml).

  gunicorn_operation.py NAME KIND --at EPOCH --workers N [--settle-timeout S] [--url URL --slow-path PATH
                        --slow-method M --gunicorn-timeout S]

KIND is one of bench/model/operations.py's OPERATIONS:
  reload       a new release of the app written, then `systemctl reload gunicorn@NAME` (the unit's ExecReload: HUP to
               the master, which starts new workers and stops the old ones gracefully)
  restart      a new release written, then `systemctl restart gunicorn@NAME` (it returns once the new master has said
               READY=1: bound, before its workers have loaded the app)
  kill_worker  SIGKILL to the oldest worker (as the OOM killer or a crash would)
  recycle      nothing at the instant: gunicorn's max_requests restarts workers through the run; the settings and
               the workers before and after are recorded
  deploy       a new release written, and nothing else: the deploy is the controller's (deploy.yml's own roles, run
               from playbooks/tasks/operation_run.yml while this watches), which swaps the app's code in and restarts
               or reloads the instance; this waits, up to the settle timeout, until none of the workers from before is
               left and the service is whole again
  timeout      one request to URL + PATH (the app's scenario slower than gunicorn's timeout), sent from this host:
               where it holds what tells the master its worker is alive, the master aborts that worker after
               `timeout` seconds; its answer, or its error, and when, are recorded

The release file (/etc/gunicorn/NAME.release, its first word a number) is what the harness's middleware reports in
every answer for the app as it was loaded (bench_entry.py): written before the signal, it is what new code looks like.

It then waits until the service is whole again: the master it expects (the same one, or a new one after a restart)
with N workers, none of them left from before the operation (but the workers a worker kill left alone), each having
written the record of a loaded app (the config's post_worker_init). Prints one JSON object: the instant asked and the
instant it acted (`at`), when the command returned (`returned`), when the service was whole again (`whole`, null if
not within the timeout), the master and workers before and after, the release before and after, and the command's
exit status and output."""

from __future__ import annotations

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

KINDS = ("reload", "restart", "kill_worker", "timeout", "recycle", "deploy")
RELEASE_FILE = "/etc/gunicorn/{name}.release"
PROCESS_RECORD = "/run/gunicorn-{name}/process-{pid}.json"


def main_pid(unit: str) -> int:
    out = subprocess.run(["systemctl", "show", "--property", "MainPID", "--value", unit], capture_output=True,
                         text=True, check=False).stdout.strip()  # fmt: skip
    return int(out) if out.isdigit() else 0


def children(pid: int) -> list[int]:
    """The processes whose parent is pid, oldest first (by their start time)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat, encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # after ")": state, ppid, ..., starttime is the 20th
            found.append((int(fields[19]), int(stat.split("/")[2])))
    return [p for _, p in sorted(found)]


def read_release(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return (fh.read().split() or ["0"])[0]
    except OSError:
        return "0"


def write_release(path: str, release: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(f"{release} written by gunicorn_operation.py at {time.time():.6f}\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def whole(name: str, master: int, workers: int, gone: set[int]) -> tuple[bool, list[int]]:
    """Whether the master has its workers again, none of those that had to go, each with its app loaded."""
    current = children(master) if master else []
    ready = [p for p in current if os.path.exists(PROCESS_RECORD.format(name=name, pid=p))]
    return master > 0 and len(current) == workers and not gone & set(current) and len(ready) == workers, current


def send(url: str, method: str, timeout_s: float, into: dict) -> None:
    """One request, its answer's status or the error that ended it, and when it was sent and ended (epoch)."""
    into["sent"] = round(time.time(), 6)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=timeout_s) as answer:
            answer.read()
            into["status"] = answer.status
    except urllib.error.HTTPError as err:
        into["status"] = err.code
    except (OSError, ValueError) as err:
        into["error"] = type(err).__name__ + ": " + str(err)[:200]
    into["ended"] = round(time.time(), 6)


def operate(args: argparse.Namespace) -> dict:
    unit = f"gunicorn@{args.name}.service"
    release_file = RELEASE_FILE.format(name=args.name)
    master = main_pid(unit)
    before = children(master) if master else []
    release = read_release(release_file)
    out = {"kind": args.kind, "instance": args.name, "planned_at": args.at, "preload_app": args.preload_app,
           "master_before": master,
           "workers_before": before, "release_before": release, "release_after": release}  # fmt: skip
    time.sleep(max(0.0, args.at - time.time()))
    out["at"] = round(time.time(), 6)
    if args.kind in ("reload", "restart", "deploy"):  # a new release; every worker from before must go
        out["release_after"] = str(int(release) + 1 if release.isdigit() else 1)
        write_release(release_file, out["release_after"])
        out["rc"], out["output"] = 0, ""  # a deploy is the controller's: deploy.yml's roles restart or reload it
        if args.kind != "deploy":
            done = subprocess.run(["systemctl", args.kind, unit], capture_output=True, text=True, check=False)
            out["rc"], out["output"] = done.returncode, (done.stdout + done.stderr).strip()[-600:]
        gone = set(before)
    elif args.kind == "recycle":  # its workers recycle on their own; the run's end is its "whole again"
        out["rc"], out["output"], out["max_requests"] = 0, "", [args.max_requests, args.max_requests_jitter]
        gone = set()
    elif args.kind == "timeout":
        slow = out["slow"] = {"path": args.slow_path, "gunicorn_timeout_s": args.gunicorn_timeout}
        sender = threading.Thread(target=send, args=(args.url.rstrip("/") + args.slow_path, args.slow_method,
                                                     args.settle_timeout, slow), daemon=True)  # fmt: skip
        sender.start()
        out["rc"], out["output"] = 0, ""
        gone = set()
    else:
        victim = before[0] if before else None
        if victim:
            os.kill(victim, signal.SIGKILL)
        out["rc"], out["output"], out["killed"] = (0, "", victim) if victim else (1, "no worker to kill", None)
        gone = {victim} if victim else set()
    out["returned"] = round(time.time(), 6)
    deadline = time.monotonic() + args.settle_timeout
    out["whole"], now, since, seen = None, [], None, None
    while time.monotonic() < deadline:
        master = main_pid(unit)
        ok, now = whole(args.name, master, args.workers, gone)
        if not ok or now != seen:  # whole since when, with these workers
            since, seen = (time.time(), now) if ok else (None, None)
        # a timeout's: once its request has ended, and a second more (the master's loop wakes once a second: the
        # worker that served it may still be there, on its way out)
        slow_over = "slow" not in out or ("ended" in out["slow"] and time.time() >= out["slow"]["ended"] + 1.0)
        if ok and slow_over:
            out["whole"] = round(since, 6)
            break
        time.sleep(0.02)
    out["master_after"], out["workers_after"] = master, now
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the instance: gunicorn@NAME.service")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--at", type=float, required=True, help="the epoch time to act at")
    parser.add_argument("--workers", type=int, required=True, help="the workers the instance runs")
    parser.add_argument("--settle-timeout", type=float, default=30.0, help="seconds to wait for it to be whole")
    parser.add_argument("--url", help="where the app answers, http://ADDRESS:PORT (timeout)")
    parser.add_argument("--slow-path", help="the request slower than gunicorn's timeout (timeout)")
    parser.add_argument("--slow-method", default="GET")
    parser.add_argument("--gunicorn-timeout", type=float, help="the instance's timeout, seconds (timeout: recorded)")
    parser.add_argument("--preload-app", action="store_true", help="the instance preloads its app (recorded)")
    parser.add_argument("--max-requests", type=int, default=0, help="the instance's max_requests (recorded)")
    parser.add_argument("--max-requests-jitter", type=int, default=0, help="and its jitter (recorded)")
    args = parser.parse_args(argv)
    if args.kind == "timeout" and not (args.url and args.slow_path):
        parser.error("timeout needs --url and --slow-path")
    result = operate(args)
    print(json.dumps(result))
    return 0 if result["rc"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
