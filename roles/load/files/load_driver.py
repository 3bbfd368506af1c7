#!/usr/bin/env python3
"""Run siege (or wrk, or open_loop.py beside this file, for runs that ask for them) on this load host, bounded by
`timeout`, and keep every raw output. Parses nothing.

Usage:
  load_driver.py PLAN.json run NAME --base-url URL [--pack] [--start-at EPOCH] [--host-index I --hosts N]
      run one run of the plan against URL (http://app:port; then pack, when asked); with several load hosts,
      each starts at the same agreed time and takes its share of the run's concurrency
  load_driver.py PLAN.json turn --base-url URL [--verify SCENARIOS.json] [--verify-timeout S] [--verify-at-once N]
                                [--verify-only]
      a worker type's turn in one call (one SSH round trip, not one per run): request each scenario once, up to N
      at a time, and check its status (bench_verify.py, beside this file; one JSON line each), then, unless
      --verify-only, run every run of the plan in turn (but an operation's: `run` runs it, while the app host does
      the operation) and pack. A scenario that answered another status, or nothing, ends it there: exit 3, nothing
      loaded
  load_driver.py PLAN.json pack                pack the plan's output folder into its archive, for the controller
PLAN: {"out_dir": "...", "archive": ".../raw.tar.gz", "rc_dir": "...", "socket_timeout_s": 30,
       "runs": [{"name", "path", "connection", "concurrency", "reps" | "time_s", "timeout_s", "progress"}]}
A run at a rate (tool open_loop) also has rate_per_s, arrivals, warmup_s and seed: open_loop.py sends rate_per_s
requests a second for warmup_s + time_s (at most `concurrency` open at once; with several load hosts each sends its
share, see share_rate), each with the probe marker, and writes its records to NAME.out.
A mix (scenario "mix") is such a run whose requests are of several classes, drawn by weight (its `mix`: classes and
`only`, written to NAME.mix.json for open_loop.py --mix); one with `clients` instead of a rate is a closed loop of
that many clients (open_loop.py --clients), shared among load hosts as a concurrency is.
A capacity search (scenario "capacity") is a run of such steps at the rates bench/analyse/capacity.py chooses (copied
beside this file with the quantiles module it reads), each judged against the run's target from its own records:
NAME-s01.out, NAME-s02.out, ... and NAME.search.json (every step: its rate, time, verdict and why; the result). It runs
on the first load host alone (its steps are decided one after another, from what each measured).
The URL of a run is --base-url + path; its siege rc file is rc_dir/<connection>.siegerc.
A probe (scenario "probe") sends the header X-Bench-Probe: NAME with every request: the app then logs when each
reached it and left it, and its CPU time (the sweep sends none). A time-based run (a sweep) first waits for one
answer on the app's ready path (the plan's ready_path), so that it starts on an idle server. A run's request is its
path, method, body and headers (bench_app.scenarios): siege gets "URL METHOD BODY" and -T for the content type, wrk
a Lua script (NAME.lua) that sets them. A run writes
NAME.out (siege's stdout: one line per request), NAME.err (its summary and errors), NAME.meta.json (command, exit
status, start and end times, whether `timeout` stopped it, how long the server took to settle) and NAME.cpu.json
(this host's busy CPU time and siege's, every 0.5 s, with the number of CPUs this host may use). Standard library
only: load hosts have python3 and nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request

# timeout(1): the command timed out (124), or had to be killed (128 + 9; -9 when --kill-after kills timeout's own
# process group, timeout included). The same as bench/parse/siege.py's (this file runs alone on the load hosts).
TIMEOUT_EXIT = (124, 137, -9)
PROBE_HEADER = "X-Bench-Probe"  # the app's server_timing.py logs requests that carry it
VERIFY_FAILED = 3  # turn's exit status when a scenario did not answer its status (nothing was loaded)


def tool_of(run: dict) -> str:
    """The load generator of a run: wrk or open_loop.py when it asks for it, siege otherwise."""
    return run["tool"] if run.get("tool") in ("wrk", "open_loop") else "siege"


def lua_string(text: str) -> str:
    """A Lua long string holding text as it is (no escapes are read inside one)."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[\n{text}]{'=' * level}]"  # a newline right after the opening bracket is dropped by Lua


def wrk_script(run: dict) -> str:
    """wrk's Lua setup for a request other than a plain GET: its method, body and headers."""
    lines = [f"wrk.method = {lua_string(run.get('method') or 'GET')}"]
    if run.get("body") is not None:
        lines.append(f"wrk.body = {lua_string(run['body'])}")
    for key, value in (run.get("headers") or {}).items():
        # a space inside the brackets: `[[[` would open a long string that Lua reads as a call (a syntax error, and wrk
        # would send plain GETs)
        lines.append(f"wrk.headers[ {lua_string(key)} ] = {lua_string(str(value))}")
    return "\n".join(lines) + "\n"


def open_loop_command(plan: dict, run: dict, url: str) -> list[str]:
    """open_loop.py (beside this file) at this host's share of the run's rate, for its warm-up and its time; every
    request carries the probe marker, so that the app logs when each reached it and left it."""
    run_s = int(run.get("warmup_s") or 0) + int(run["time_s"])
    # an answer may take the socket timeout, but no longer than what `timeout` leaves after the schedule
    answer_s = max(1, min(int(plan.get("socket_timeout_s", 30)), int(run["timeout_s"]) - run_s - 5))
    headers = [f"{PROBE_HEADER}: {run['name']}"] + [f"{k}: {v}" for k, v in (run.get("headers") or {}).items()]
    mix = []
    if run.get("mix"):  # a mix: its classes' requests in a file beside the run's output (open_loop.py --mix)
        path = os.path.join(plan["out_dir"], run["name"] + ".mix.json")
        write_json(path, {"classes": run["mix"]["classes"], "only": run["mix"].get("only")})
        mix, headers = ["--mix", path], headers[:1]  # each class carries its own headers
    return [
        sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "open_loop.py"), url,
        *(["--clients", str(int(run["clients"]))] if run.get("clients") else
          ["--rate", repr(float(run["rate_per_s"])), "--arrivals", run["arrivals"]]),
        "--duration", str(run_s),
        "--seed", str(int(run.get("seed") or 0)), "--phase", repr(float(run.get("phase_s") or 0.0)),
        "--timeout", str(answer_s), "--max-open", str(int(run["concurrency"])),
        "--method", run.get("method") or "GET",
        *(["--body", run["body"]] if run.get("body") is not None else []),
        *[arg for header in headers for arg in ("--header", header)],
        *mix,
        *(["--keep-alive"] if run.get("keep_alive") else []),  # an operation's run over kept-alive connections
    ]  # fmt: skip


def command(plan: dict, run: dict) -> list[str]:
    bound = ["timeout", "--kill-after=5", str(int(run["timeout_s"]))]
    url, concurrency = plan["base_url"] + run["path"], int(run["concurrency"])  # path: the scenario's URL path
    method, body, headers = run.get("method") or "GET", run.get("body"), dict(run.get("headers") or {})
    if tool_of(run) == "open_loop":
        return [*bound, *open_loop_command(plan, run, url)]
    if tool_of(run) == "wrk":  # time-based only; one thread per CPU this host may use, never more than connections
        threads = max(1, min(concurrency, len(os.sched_getaffinity(0))))
        close = ["-H", "Connection: close"] if run["connection"] == "close" else []
        script = []
        if method != "GET" or body is not None or headers:
            path = os.path.join(plan["out_dir"], run["name"] + ".lua")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(wrk_script(run))
            script = ["-s", path]
        return [
            *bound, "wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{int(run['time_s'])}s", "--latency",
            "--timeout", f"{int(plan.get('socket_timeout_s', 30))}s", *close, *script, url,
        ]  # fmt: skip
    amount = ["-r", str(run["reps"])] if run.get("reps") else ["-t", f"{int(run['time_s'])}S"]
    rc_file = os.path.join(plan["rc_dir"], f"{run['connection']}.siegerc")
    # Probes carry a marker: the app then logs each request's arrival, departure and CPU under the run's name.
    marker = ["-H", f"{PROBE_HEADER}: {run['name']}"] if run.get("scenario") == "probe" else []
    content_type = headers.pop("Content-Type", None) or headers.pop("content-type", None)
    extra = [arg for key, value in headers.items() for arg in ("-H", f"{key}: {value}")]
    if content_type:
        extra += ["-T", content_type]
    # siege's URL format: "URL METHOD BODY" (a body on the command line; siege sends it as it is)
    target = url if method == "GET" and body is None else f"{url} {method}" + (f" {body}" if body is not None else "")
    return [*bound, "siege", "-R", rc_file, "-c", str(concurrency), *marker, *extra, *amount, target]


def host_busy_s() -> float:
    """Busy CPU time (all but idle and iowait) of the CPUs this host may run on: all of a VM's, or the cores a
    pinned lab host has. Whoever kept them busy, siege or not, the load generator could not use that time."""
    mine = {f"cpu{n}" for n in os.sched_getaffinity(0)}
    busy = 0
    with open("/proc/stat", encoding="ascii") as fh:
        for line in fh:
            name, *values = line.split()
            if name in mine:
                fields = [int(x) for x in values]
                busy += sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Processes whose parent is pid (read from /proc/*/stat: /proc/PID/task/PID/children needs a kernel option)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def tree_cpu_s(pid: int) -> float:
    """CPU time of a process and its descendants (timeout and the siege it runs)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
        todo += children(p)
    return total


def sampled(proc: subprocess.Popen, interval: float = 0.5) -> list[list[float]]:
    """[time, host busy s, siege busy s] every interval until proc exits (and once more at the end)."""
    samples = []
    while True:
        samples.append([round(time.time(), 3), round(host_busy_s(), 4), round(tree_cpu_s(proc.pid), 4)])
        try:
            proc.wait(timeout=interval)
        except subprocess.TimeoutExpired:
            continue
        samples.append([round(time.time(), 3), round(host_busy_s(), 4), samples[-1][2]])
        return samples


def write_json(path: str, data) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
    os.replace(tmp, path)


def settle(base_url: str, timeout_s: float, ready_path: str = "/healthz", strict: bool = False) -> float | None:
    """Wait until the app has answered one request on its ready path; return how long that took. A time-based siege or
    wrk stops with requests still queued at the server (in its listen backlog, or in gthread's queue), which a sync
    worker then serves one by one: seen on the lab, the first request of the run after a c=10 warm-up of 100 ms IO
    waited 0.95 s. Served in order, this request comes back when they are done, so the run starts on an idle server."""
    started = time.time()
    try:
        with urllib.request.urlopen(base_url + ready_path, timeout=timeout_s) as response:
            response.read()
    except urllib.error.HTTPError:
        pass  # an answer all the same
    except OSError:
        if strict:
            return None  # strict: no answer came
        # an app that does not answer: the run itself shows it, with the reason
    return time.time() - started


def execute(plan: dict, run: dict, settled_s: float | None = None) -> dict:
    cmd = command(plan, run)
    out_dir = plan["out_dir"]
    base = os.path.join(out_dir, run["name"])
    started = time.time()
    with open(base + ".out", "wb") as out, open(base + ".err", "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        samples = sampled(proc)
        rc = proc.returncode
    write_json(base + ".cpu.json", {"cpus": len(os.sched_getaffinity(0)), "samples": samples})
    meta = {
        "name": run["name"],
        "cmd": cmd,
        "rc": rc,
        "timed_out": rc in TIMEOUT_EXIT,
        "started": started,
        "finished": time.time(),
        "host": os.uname().nodename,
        "concurrency": int(run["concurrency"]),
        "tool": tool_of(run),
        "settle_s": None if settled_s is None else round(settled_s, 3),
    }
    if meta["timed_out"]:  # who hung, the load generator or the app? ask the app once (siege 4.0.7 hangs at times)
        answered = settle(plan["base_url"], 5.0, plan.get("ready_path", "/healthz"), strict=True)
        meta["app_answered_after_timeout_s"] = None if answered is None else round(answered, 3)
    write_json(base + ".meta.json", meta)
    return meta


def pack(out_dir: str, archive: str) -> None:
    tmp = archive + ".tmp"
    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(out_dir, arcname=".")
    os.replace(tmp, archive)


def share(concurrency: int, index: int, hosts: int) -> int:
    """This host's part of a run's concurrency when `hosts` load hosts share it (the first ones take the remainder)."""
    return concurrency // hosts + (1 if index < concurrency % hosts else 0)


def share_rate(run: dict, index: int, hosts: int) -> dict:
    """This host's part of a rate run that `hosts` load hosts share: rate / hosts each, on schedules that add up to the
    run's (Poisson: independent streams, whose sum is a Poisson stream of the whole rate; evenly spaced: each i / rate
    later than the first), and its share of the open connections."""
    if run.get("clients"):  # a closed loop: its clients shared as a concurrency is, each host its own draws
        clients = share(int(run["clients"]), index, hosts)
        return {**run, "clients": clients, "concurrency": clients, "seed": int(run.get("seed") or 0) * 1000 + index}
    rate = float(run["rate_per_s"])
    return {**run, "rate_per_s": rate / hosts, "seed": int(run.get("seed") or 0) * 1000 + index,
            "phase_s": index / rate if run.get("arrivals") == "even" else 0.0,
            "concurrency": max(1, share(int(run["concurrency"]), index, hosts))}  # fmt: skip


def one_run(plan: dict, run: dict, start_at: float | None = None, host_index: int = 0, hosts: int = 1) -> str:
    """Run one run of the plan (this host's share of its concurrency, or of its rate); the line that says how it
    went."""
    if run.get("scenario") == "capacity":  # decided step by step: the first load host alone
        return search(plan, run) if host_index == 0 else f"{run.get('progress', run['name'])}: the first load host's"
    if tool_of(run) == "open_loop":
        run = share_rate(run, host_index, hosts) if hosts > 1 else run
    else:
        run = {**run, "concurrency": share(int(run["concurrency"]), host_index, hosts)}
    ready = plan.get("ready_path", "/healthz")
    settled_s = settle(plan["base_url"], float(run["timeout_s"]), ready) if run.get("time_s") else None
    if start_at:
        time.sleep(max(0.0, start_at - time.time()))
    progress = run.get("progress", run["name"])  # its line in Ansible's output: "[7/30] sync /ioTask c=4 (probe)"
    if run["concurrency"] == 0:  # fewer connections than load hosts: this one sits the run out
        return f"{progress}: nothing for this host ({host_index + 1} of {hosts})"
    meta = execute(plan, run, settled_s)
    return f"{progress}: {meta['tool']} exit {meta['rc']} after {meta['finished'] - meta['started']:.2f} s"


def read_rows(path: str) -> list[dict]:
    """open_loop.py's records in a file (its header and summary left out): due, done, status, error of each request."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut off by `timeout`: the rows before it still count
            if isinstance(row, list) and len(row) >= 7:
                rows.append({"due": row[1], "done": row[3], "status": row[4], "error": row[6]})
    return rows


def search(plan: dict, run: dict) -> str:
    """A capacity search: steps at the rates capacity.next_step chooses until it is done (or max_steps ran), each
    judged from its own records; NAME.search.json keeps them and the result; the line that says what it found."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import capacity  # noqa: PLC0415 (bench/analyse/capacity.py, beside this file on the load host)

    target, warmup_s = run["target"], int(run.get("warmup_s") or 0)
    start, high, low = float(run["start_per_s"]), float(run["high_per_s"]), float(run["low_per_s"])
    steps: list[dict] = []
    while len(steps) < int(run["max_steps"]) and (step := capacity.next_step(steps, start, high, low)) is not None:
        time_s = capacity.step_time_s(step["rate"], run["time_s"], target, step["longer"])
        time_s = min(time_s, float(run["max_step_s"]) * step["longer"])
        name = f"{run['name']}-s{len(steps) + 1:02d}"
        one = {**run, "name": name, "rate_per_s": step["rate"], "time_s": int(time_s),
               "seed": int(run.get("seed") or 0) * 100 + len(steps) + 1,
               "timeout_s": warmup_s + int(time_s) + int(run.get("step_grace_s") or 30)}  # fmt: skip
        settled_s = settle(plan["base_url"], float(one["timeout_s"]), plan.get("ready_path", "/healthz"))
        meta = execute(plan, one, settled_s)
        rows = read_rows(os.path.join(plan["out_dir"], name + ".out"))
        latencies, errors = capacity.sample(rows, warmup_s, int(run.get("status") or 200))
        verdict = capacity.judge(latencies, errors, target)
        steps.append({**step, "name": name, "time_s": int(time_s), "rc": meta["rc"], **verdict})
        print(f"  step {len(steps)}: {step['rate']:g}/s for {int(time_s)} s: {verdict['verdict']} ({verdict['why']})",
              flush=True)  # fmt: skip
    found = capacity.result(steps, high, low, start, int(run["max_steps"]))
    record = {"name": run["name"], "target": target, "start_per_s": start, "steps": steps, "result": found}
    write_json(os.path.join(plan["out_dir"], run["name"] + ".search.json"), record)
    return f"{run.get('progress', run['name'])}: capacity {found['capacity_per_s']}/s: {found['how']}"


def verified(base_url: str, scenarios_file: str, timeout_s: float, at_once: int = 1) -> bool:
    """One request per scenario (bench_verify.py beside this file), up to at_once at a time, a JSON line each; whether
    all answered right."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench_verify  # noqa: PLC0415 (a file of its own on the load host, beside this one)

    return bench_verify.verify_all(base_url, scenarios_file, timeout_s, at_once)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("plan")
    parser.add_argument("action", choices=["run", "turn", "pack"])
    parser.add_argument("name", nargs="?")
    parser.add_argument("--base-url", help="the app host: http://ADDRESS:PORT (run, turn)")
    parser.add_argument("--pack", action="store_true", help="pack the output folder after the run")
    parser.add_argument("--start-at", type=float, help="wait until this epoch time to start (several load hosts)")
    parser.add_argument("--host-index", type=int, default=0, help="this load host's place among --hosts")
    parser.add_argument("--hosts", type=int, default=1, help="load hosts sharing each run's concurrency")
    parser.add_argument("--verify", metavar="SCENARIOS", help="the app's scenarios, each requested once first (turn)")
    parser.add_argument("--verify-timeout", type=float, default=10.0, help="seconds an answer may take (turn)")
    parser.add_argument("--verify-at-once", type=int, default=1, help="verification requests sent at once (turn)")
    parser.add_argument("--verify-only", action="store_true", help="verify, and load nothing (turn)")
    args = parser.parse_args(argv)
    if args.action != "pack" and not args.base_url:
        parser.error(f"{args.action} needs --base-url")
    if args.action == "turn" and args.verify_only:  # a run of verify_only=true plans no runs, and writes no plan
        ok = not args.verify or verified(
            args.base_url.rstrip("/"), args.verify, args.verify_timeout, args.verify_at_once
        )
        return 0 if ok else VERIFY_FAILED
    with open(args.plan, encoding="utf-8") as fh:
        plan = json.load(fh)
    os.makedirs(plan["out_dir"], exist_ok=True)
    if args.action == "pack":
        pack(plan["out_dir"], plan["archive"])
        print(plan["archive"])
        return 0
    plan = {**plan, "base_url": args.base_url.rstrip("/")}
    if args.action == "turn":
        if args.verify and not verified(plan["base_url"], args.verify, args.verify_timeout, args.verify_at_once):
            return VERIFY_FAILED
        for run in plan["runs"]:
            if run.get("scenario") != "operation":  # each needs the app host's operation: run on their own (run)
                print(one_run(plan, run), flush=True)
        pack(plan["out_dir"], plan["archive"])
        return 0
    run = next((r for r in plan["runs"] if r["name"] == args.name), None)
    if run is None:
        print(f"no run named {args.name!r} in {args.plan}", file=sys.stderr)
        return 2
    print(one_run(plan, run, args.start_at, args.host_index, args.hosts))
    if args.pack:
        pack(plan["out_dir"], plan["archive"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
