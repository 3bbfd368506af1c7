"""Checks on the controller before a run starts: the reports folder must take a whole run's output.

A run that could not write its results would load the hosts for minutes and then lose everything; this refuses
it before any host is touched, naming the folder, what is wrong and the variable that moves it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DEFAULT_MIN_FREE_MB = 50  # a quick run of all five types writes about 2 MB; a full one with raw output about 20 MB


def existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def reports_dir_problem(path: Path, min_free_mb: int = DEFAULT_MIN_FREE_MB) -> str | None:
    """Why a run could not write its output under `path` (created later if missing), or None when it can."""
    where = existing_ancestor(path)
    if not where.is_dir():
        return f"bench_reports_dir={path}: {where} is not a folder; point bench_reports_dir at a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=where, prefix=".bench-write-check-") as fh:
            fh.write(b"x" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return (
            f"bench_reports_dir={path}: cannot write in {where} ({exc.strerror}): make it writable for this user, "
            f"or point bench_reports_dir at a folder that is"
        )
    stat = os.statvfs(where)
    free_mb = stat.f_bavail * stat.f_frsize // (1024 * 1024)
    if free_mb < min_free_mb:
        return (
            f"bench_reports_dir={path}: only {free_mb} MiB free on its file system, a run needs "
            f"bench_min_free_mb={min_free_mb}: free some space (python -m bench collect-report keeps raw/ of the "
            f"newest bench_keep_raw_runs runs only) or point bench_reports_dir elsewhere"
        )
    return None
