"""A run's phases, from the one timer of a run: the task_timer callback (plugins/callback/task_timer.py), which times
every task, also notes when the first play of each phase began. A play names its phase in its vars
(`bench_phase: deploy`); the marks are kept in a file of the ansible-playbook's own (its pid), which `bench finish`
reads from inside that playbook (lock.owner_pid() finds it) and the callback removes when the playbook ends."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

PHASES = ("validate", "lab", "preflight", "deploy", "load", "report")  # in the order a run goes through them


def marks_path(pid: int, folder: Path | None = None) -> Path:
    return Path(folder or tempfile.gettempdir()) / f"gunicorn-bench-phases-{pid}.json"


def read(pid: int, folder: Path | None = None) -> dict[str, float]:
    """{phase: epoch seconds it began}; empty when the playbook noted none (a playbook without the callback)."""
    try:
        return json.loads(marks_path(pid, folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def note(pid: int, phase: str, at: float, folder: Path | None = None) -> dict[str, float]:
    """Mark when a phase began, once: a second play of the same phase (a phase of several plays) changes nothing."""
    if phase not in PHASES:
        raise ValueError(f"bench_phase: {phase!r} is no phase of a run; one of {', '.join(PHASES)}")
    marks = read(pid, folder)
    if phase not in marks:
        marks[phase] = at
        path = marks_path(pid, folder)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(marks), encoding="utf-8")
        os.replace(tmp, path)
    return marks


def forget(pid: int, folder: Path | None = None) -> None:
    with contextlib.suppress(OSError):
        marks_path(pid, folder).unlink()
