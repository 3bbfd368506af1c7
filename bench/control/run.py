"""The controller's side of a run, in as few steps as possible: each playbook task costs about half a second.

begin   (begin.yml)     the reports folder can take the run, exists, and this run holds the lock
open    (bench_load.yml) the run folder and run.json, once the hosts passed their preflight
finish  (report.yml)    phases.json and context.json, then results, report and index, reports/latest, the lock
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from bench import files
from bench.control import lock, phases, preflight
from bench.model import results_model

LOCK_NAME = ".bench.lock"


class Refused(Exception):
    """The run cannot start; the message names the variable and the fix."""


def begin(reports_dir: Path, min_free_mb: int, lock_wait_s: float, pid: int) -> Path:
    """Check the reports folder, make it, take the lock. Raises Refused (folder) or lock.Busy (another run)."""
    problem = preflight.reports_dir_problem(reports_dir, min_free_mb)
    if problem:
        raise Refused(problem)
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / LOCK_NAME
    lock.acquire(path, pid, lock_wait_s)
    return path


def open_run(run_dir: Path, run: dict) -> Path:
    """Make RUN_DIR/raw (and raw/<app host>/ for each app host paired) and write run.json (what is run: the matrix,
    the pairs, versions); a run folder is never reused."""
    (run_dir / "raw").mkdir(parents=True, exist_ok=True)
    for host in run.get("pairs") or {}:
        (run_dir / "raw" / host).mkdir(exist_ok=True)
    files.write_json_atomic(run_dir / "run.json", run)
    return run_dir / "run.json"


def point_latest(run_dir: Path) -> Path:
    """reports/latest -> this run, replaced in one rename so that a reader never finds it missing."""
    link = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, link)
    return link


def phases_line(marks: dict[str, float], end: float) -> str:
    """'validate 2.3 s, lab 2.5 s, …' from the marks taken when each phase began."""
    order = [p for p in phases.PHASES if p in marks]
    ends = [marks[p] for p in order[1:]] + [end]
    return ", ".join(f"{p} {e - marks[p]:.1f} s" for p, e in zip(order, ends, strict=True))


def verify_s(host: dict) -> float:
    """How long an app host's app took to answer its verification, every type's (one request per scenario, several at
    once for a type with several slots): per type, from its first request to its last answer."""
    return sum(
        max(((row.get("started_s") or 0.0) + (row.get("elapsed_s") or 0.0) for row in rows), default=0.0)
        for rows in (host.get("verify") or {}).values()
    )


def per_type_cost_s(marks: dict[str, float], end: float, results: dict) -> tuple[float, float] | None:
    """What one worker type's turn costs beside the load generator, and how much of that was the app answering its
    verification: the load phase of the app host that spent the most on it (every pair loads at once), less that
    host's time in siege or wrk and letting the app finish queued requests, over the types it took its turn with
    (start, check, verify, sample, fetch, stop). None when the run loaded nothing or did not mark its load phase."""
    if "load" not in marks or not results["worker_types"] or not results["app_hosts"]:
        return None
    load_s = marks.get("report", end) - marks["load"]
    turns = len(results["worker_types"])
    return max(
        ((load_s - (host.get("time_in_load_s") or 0.0) - (host.get("settle_s") or 0.0)) / turns, verify_s(host) / turns)
        for host in results["app_hosts"].values()
    )


def overhead_line(
    marks: dict[str, float],
    end: float,
    in_load_s: float,
    settle_s: float = 0.0,
    per_type: tuple[float, float] | None = None,
) -> str:
    """Wall time from validation to the end of the report, and how much of it was the harness's own: neither the
    load generator's nor the app's, finishing before a sweep run the requests queued by the previous one; and of it,
    what each worker type's turn cost (and of that, the app's own time answering the verification)."""
    wall = end - min(marks.values())
    settled = f", {settle_s:.1f} s letting the app finish queued requests before a sweep run" if settle_s else ""
    turn = ""
    if per_type is not None:
        turn_s, verify_part_s = per_type
        turn = f"; {turn_s:.1f} s a worker type's turn beside them: start, check, verify, sample, fetch, stop"
        if verify_part_s:
            turn += f" ({verify_part_s:.1f} s of it the app answering the verification)"
    return (
        f"Overhead: {wall - in_load_s - settle_s:.1f} s of {wall:.1f} s outside the load generator "
        f"({in_load_s:.1f} s in siege or wrk{settled}{turn})"
    )


def finish(run_dir: Path, marks: dict[str, float], context: dict, report) -> list[str]:
    """Write phases.json and context.json, collect and render (report(run_dir) -> lines), point latest, give the
    lock back. The lock is given back even when collecting fails: the raw output stays for `collect-report`."""
    raw = run_dir / "raw"
    try:
        files.write_json_atomic(raw / "phases.json", marks)
        files.write_json_atomic(raw / "context.json", context)
        lines = report(run_dir)
        results = results_model.load(run_dir / "results.json")
        if not results["verify_only"]:  # a verification is not a run's report
            lines.append(f"Latest: {point_latest(run_dir)}")
    finally:
        with contextlib.suppress(OSError):
            lock.release(run_dir.parent / LOCK_NAME, lock.owner_pid())
    end = time.time()
    if not marks:  # a playbook run without the task_timer callback (an ansible.cfg of its own) timed no phase
        return [*lines, "Phases: not timed (the task_timer callback of ansible.cfg was not enabled)"]
    lines.append(f"Phases: {phases_line(marks, end)}")
    per_type = per_type_cost_s(marks, end, results)
    lines.append(overhead_line(marks, end, results["time_in_load_s"], results["settle_s"], per_type))
    return lines
