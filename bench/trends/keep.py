"""Which runs keep their raw output (bench_keep_raw_runs): the newest of each app host's folder, the rest deleted."""

from __future__ import annotations

import shutil
from pathlib import Path


def keep_raw(runs: list[dict], keep: int) -> list[Path]:
    """Delete raw/ of all but the newest `keep` runs (results.json and report.md are always kept)."""
    removed = []
    dirs = list(dict.fromkeys(run["dir"] for run in runs))  # a run of several app hosts has one entry per host
    for folder in dirs[: max(len(dirs) - keep, 0)]:
        raw = folder / "raw"
        if raw.is_dir():
            shutil.rmtree(raw)
            removed.append(raw)
    return removed
