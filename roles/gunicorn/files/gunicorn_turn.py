#!/usr/bin/python3
"""Start one gunicorn instance and check that it runs what was deployed, in one call on the app host (stdlib only).

What the gunicorn role's readiness check does, in one process instead of a task per step (each Ansible task is an SSH
round trip): optionally stop every other running instance; start, restart or reload gunicorn@NAME (a reload: HUP to a
running master, which starts new workers that load the app again and stops the old ones gracefully; started when it
was not running); wait until the app answers its ready path with its ready status (systemd's READY=1 comes when
gunicorn has bound, before its workers have loaded the app); read the record its worker wrote once it had loaded the
app (the config's post_worker_init: /run/gunicorn-NAME/process-<pid>.json); hold it against the plan, the config file
on the host and the app's code; optionally start a sampler unit beside it, or stop it again. Prints one JSON object
on stdout (`ok`, `changed`: whether it started, restarted or stopped a unit, `process`, `mismatches`, `seconds`, and
the unit's journal since the start when something failed) and exits 1 when not ok.

The app's code is checked where it lives. When the app's folder (the config's chdir) holds the entry's top module,
the process must have loaded it from there, and every module of the folder it loaded must have the sha256 of the
file on the host now. Otherwise the entry comes from an installed distribution (an app shipped as a package, from
its requirements or its own wheel): that distribution's version in the virtualenv must be the one its lock pins."""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

PROCESS_RECORD = "/run/gunicorn-{name}/process-*.json"
CONFIG = "/etc/gunicorn/{name}.conf.py"
# the plan's settings the worker reports as it saw them (the optional ones are checked only when the plan sets them)
SETTINGS = ("worker_class", "workers", "threads", "worker_connections")
OPTIONAL = ("http_parser", "asgi_loop")
PIN_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;#\\]+)")
WHEEL_RE = re.compile(r"(?:^|/)([A-Za-z0-9_.]+)-([^-/]+)(?:-\d[^-/]*)?-[^-/]+-[^-/]+-[^-/]+\.whl\b")


def normalize(name: str) -> str:
    """A distribution's name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins(text: str) -> dict[str, str]:
    """name -> version of a lock file: `name==version` lines (hashes and markers after them ignored), and wheel paths
    (the app's own wheel, named name-version-...whl)."""
    pins = {}
    for line in text.splitlines():
        if (m := PIN_RE.match(line)) or (m := WHEEL_RE.search(line.split("#")[0])):
            pins[normalize(m.group(1))] = m.group(2)
    return pins


def folder_holds(app_dir: str, module: str) -> bool:
    """Whether the app's folder holds a top-level module (module.py or a package); an unnamed one it never holds."""
    return bool(module) and (os.path.isfile(os.path.join(app_dir, module + ".py"))
                             or os.path.isfile(os.path.join(app_dir, module, "__init__.py")))  # fmt: skip


def sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def mismatches(plan: dict, process: dict, *, config_sha256: str | None, app_sums: dict[str, str | None],
               entry_in_folder: bool, pins: dict[str, str]) -> list[str]:  # fmt: skip
    """What the process runs that differs from the plan and the host: each a sentence; none when all agree.

    plan: the instance of the plan (bench/model/plan.py: gunicorn_version, the settings of SETTINGS and OPTIONAL);
    process: the record its worker wrote; config_sha256: the config file on the host now; app_sums: path (relative
    to the app's folder) -> sha256 on the host now, of each file the process says it loaded from there;
    entry_in_folder: whether the app's folder holds the entry's top module; pins: the virtualenv's lock (normalized
    name -> version)."""
    found = []
    reported = {**process, "gunicorn": (process.get("versions") or {}).get("gunicorn")}
    wanted = {"gunicorn": plan["gunicorn_version"], **{k: plan[k] for k in SETTINGS}}
    wanted.update({k: plan[k] for k in OPTIONAL if plan.get(k)})
    for key, want in wanted.items():
        got = reported.get(key, "not reported")
        if str(got) != str(want):
            found.append(f"{key} is {got}, planned {want}")
    if process.get("config_sha256") != config_sha256:
        found.append(
            f"config: the process read sha256 {str(process.get('config_sha256'))[:12]}, the host has "
            f"{(config_sha256 or 'no such file')[:12]}"
        )
    loaded = process.get("app_sha256") or {}
    for path, digest in sorted(loaded.items()):
        if app_sums.get(path) != digest:
            found.append(f"{path}: the process loaded sha256 {digest[:12]}, the host has "
                         f"{(app_sums.get(path) or 'no such file')[:12]}")  # fmt: skip
    entry = process.get("entry") or {}
    if entry_in_folder:
        if not entry.get("in_folder"):
            found.append(
                f"entry module {entry.get('module')!r} was loaded from {entry.get('file') or 'nowhere'}, not from the "
                "app's folder that holds it"
            )
    else:
        dist, version = entry.get("distribution"), entry.get("version")
        if not dist:
            found.append(
                f"entry module {entry.get('module')!r} is neither in the app's folder nor in an installed "
                f"distribution (loaded from {entry.get('file') or 'nowhere'})"
            )
        elif normalize(dist) not in pins:
            found.append(
                f"entry module {entry.get('module')!r} comes from {dist} {version}, which the lock does not pin"
            )
        elif pins[normalize(dist)] != version:
            found.append(f"{dist} is {version} in the virtualenv, the lock pins {pins[normalize(dist)]}")
    return found


def systemctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)


def others_running(name: str) -> list[str]:
    """The other gunicorn@ units that run or are on their way up or down (the previous type's turn asks its instance
    to quit and does not wait: stopping it here waits until it is gone and its port free)."""
    out = systemctl("list-units", "--state=active,activating,deactivating,reloading", "--plain", "--no-legend",
                    "gunicorn@*.service").stdout  # fmt: skip
    return [
        line.split()[0] for line in out.splitlines() if line.split() and line.split()[0] != f"gunicorn@{name}.service"
    ]


def wait_ready(url: str, status: int, timeout: float, unit: str | None = None) -> str | None:
    """None once the app answers url with status; else why not, after timeout seconds, or as soon as systemd gives
    the unit up (a master that exits at once, restarted until systemd's start limit)."""
    deadline = time.monotonic() + timeout
    why = "no answer"
    asked = time.monotonic()
    while time.monotonic() < deadline:
        if unit and time.monotonic() - asked > 0.5:
            asked = time.monotonic()
            if systemctl("is-failed", "--quiet", unit).returncode == 0:
                return f"{url}: {why}, and systemd gave {unit} up (failed)"
        try:
            with urllib.request.urlopen(url, timeout=max(deadline - time.monotonic(), 0.1)) as answer:
                got = answer.status
        except urllib.error.HTTPError as err:
            got = err.code
        except (OSError, ValueError) as err:
            why, got = f"no answer ({err})", None
        if got == status:
            return None
        if got is not None:
            why = f"answered {got}, expected {status}"
        time.sleep(0.05)
    return f"{url}: {why} within {timeout:g} s"


def newest_record(name: str, since: float) -> dict | None:
    """The record of the newest worker started after `since` (a record left by an earlier process is not this one's)."""
    paths = [p for p in glob.glob(PROCESS_RECORD.format(name=name)) if os.path.getmtime(p) >= since - 1]
    if not paths:
        return None
    with open(max(paths, key=os.path.getmtime)) as fh:
        return json.load(fh)


def journal(name: str, since: float, lines: int) -> list[str]:
    """The last `lines` lines of the unit's journal since `since` (journalctl's --lines with --since gives the first
    ones: the traceback that says why would be cut off)."""
    out = subprocess.run(
        ["journalctl", "--unit", f"gunicorn@{name}.service", "--since", f"@{int(since)}", "--no-pager",
         "--output", "short-precise"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return out.splitlines()[-lines:]


# What each --state asks of systemd: start (a running process is kept), restart, reload (a running one; else start).
STATES = {"started": "start", "restarted": "restart", "reloaded": "reload"}
EXIT_CGROUP = 219  # systemd's exit status when it could not put the new process in the unit's cgroup


def start(action: str, unit: str, result: dict, pause_s: float = 1.0) -> subprocess.CompletedProcess:
    """systemctl start or restart; once more after pause_s when systemd could not set up the unit's cgroup
    (status=219/CGROUP: seen once on a lab host started moments before, the start that systemd's Restart= made 1 s
    later succeeded). Any other failure is the app's or the config's, and is not retried. A retry is said in
    result["notes"]."""
    done = systemctl(action, unit)
    if done.returncode == 0:
        return done
    status = systemctl("show", "--property=ExecMainStatus", "--value", unit).stdout.strip()
    if status != str(EXIT_CGROUP):
        return done
    result.setdefault("notes", []).append(
        f"systemctl {action} {unit} failed with status={EXIT_CGROUP}/CGROUP (systemd could not set up its cgroup);"
        f" asked once more after {pause_s:g} s"
    )
    time.sleep(pause_s)
    return systemctl(action, unit)


class TurnFailed(Exception):
    """A step of the turn failed: the message says which and why."""


def read_text(path: str | None) -> str:
    if not path or not os.path.exists(path):
        return ""
    with open(path) as fh:
        return fh.read()


def turn(args: argparse.Namespace, plan: dict, result: dict) -> None:
    """The steps, in order; result gets what each found; TurnFailed at the first that fails."""
    name = plan["name"]
    unit = f"gunicorn@{name}.service"
    t0 = time.monotonic()
    if args.stop_others and (others := others_running(name)):
        stopped = systemctl("stop", *others)
        if stopped.returncode != 0:
            raise TurnFailed(f"could not stop {', '.join(others)}: {stopped.stderr.strip()}")
        result["changed"] = True
    was_running = systemctl("is-active", "--quiet", unit).returncode == 0
    action = STATES[args.state] if was_running or args.state != "reloaded" else "start"
    result["action"] = action
    result["changed"] = result["changed"] or action != "start" or not was_running
    done = start(action, unit, result) if action != "reload" else systemctl("reload", unit)
    if done.returncode != 0:
        raise TurnFailed(f"systemctl {action} {unit} failed: {done.stderr.strip()}")
    if why := wait_ready(args.ready_url, args.ready_status, args.ready_timeout, unit):
        raise TurnFailed(f"{unit} did not become ready: {why}")
    result["seconds"] = {"ready": round(time.monotonic() - t0, 3)}
    process = None
    while process is None and time.monotonic() - t0 < args.ready_timeout:
        # written by post_worker_init, before the worker serves; a restarted or reloaded instance's, after it
        process = newest_record(name, result["started"] if action != "start" else 0)
        if process is None:
            time.sleep(0.05)
    if process is None:
        raise TurnFailed(f"{unit} answered, but no worker wrote its record ({PROCESS_RECORD.format(name=name)})")
    result["process"] = process
    result["mismatches"] = mismatches(
        plan, process,
        config_sha256=sha256(CONFIG.format(name=name)),
        app_sums={path: sha256(os.path.join(args.app_dir, path)) for path in process.get("app_sha256") or {}},
        # the entry's top module as the worker named it (the config's post_worker_init: one rule, where it is imported)
        entry_in_folder=folder_holds(args.app_dir, (process.get("entry") or {}).get("module") or ""),
        pins=lock_pins(read_text(args.lock)),
    )  # fmt: skip
    if result["mismatches"]:
        raise TurnFailed(f"{unit} is not running what was deployed: {'; '.join(result['mismatches'])}")
    if args.sampler:
        sampler = f"bench-sampler-{name}.service"
        systemctl("stop", sampler)  # one left by an interrupted run
        run = subprocess.run(
            ["systemd-run", f"--unit={sampler}", "--collect", "--quiet", sys.executable, args.sampler, unit,
             args.samples],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if run.returncode != 0:
            raise TurnFailed(f"could not start {sampler}: {run.stderr.strip()}")
    if args.stop_after:
        systemctl("stop", unit)
        result["changed"] = True  # it runs no more, whether it ran before or was started to be checked
    result["seconds"]["turn"] = round(time.monotonic() - t0, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", required=True, help="the instance's plan, JSON: name, gunicorn_version, settings")
    parser.add_argument("--app-dir", required=True, help="the app's folder (the config's chdir)")
    parser.add_argument("--lock", help="the virtualenv's lock (its requirements file)")
    parser.add_argument("--ready-url", required=True)
    parser.add_argument("--ready-status", type=int, default=200)
    parser.add_argument("--ready-timeout", type=float, default=30)
    parser.add_argument("--state", choices=tuple(STATES), default="restarted")
    parser.add_argument("--stop-others", action="store_true", help="stop every other running gunicorn@ instance")
    parser.add_argument("--stop-after", action="store_true", help="stop it again once checked")
    parser.add_argument("--sampler", help="start this sampler script beside it (a transient unit)")
    parser.add_argument("--samples", help="where the sampler writes")
    parser.add_argument("--journal-lines", type=int, default=40)
    args = parser.parse_args(argv)
    plan = json.loads(args.plan)
    result: dict = {"ok": False, "changed": False, "instance": plan["name"], "started": time.time(), "process": {},
                    "mismatches": []}  # fmt: skip
    try:
        turn(args, plan, result)
        result["ok"] = True
    except TurnFailed as failed:
        result["error"] = str(failed)
        result["journal"] = journal(plan["name"], result["started"], args.journal_lines)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
