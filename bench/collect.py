"""Turn a run folder's raw siege output into results.json: one record per siege run, written atomically.

Reads RUN_DIR/run.json (what the run is: id, start, commit, profile, scenario matrix), RUN_DIR/raw/context.json
(the hosts' hardware and OS, and what /healthz said each worker type ran with) and, per siege run, raw/NAME.out,
.err and .meta.json. A run of the matrix with no raw output is recorded as invalid ("no output"), never dropped.
Per worker type, raw/TYPE.journal.json (its unit's journal during the load) gives the service's faults (workers
killed, a master restarted and for how long it was down), and raw/TYPE.failure.json says why a type was not loaded.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import events, siege, stats

SCHEMA = 1
NO_OUTPUT = "no output: the run did not happen (the load phase stopped early)"


def read_json(path: Path, default=None):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        if default is not None:
            return default
        raise


def write_json_atomic(path: Path, data) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def round_or_none(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def record(run: dict, raw: Path) -> dict:
    """The result record of one siege run of the matrix."""
    base = raw / run["name"]
    meta = read_json(base.with_name(base.name + ".meta.json"), default={})
    rec = {
        key: run[key]
        for key in ("name", "index", "worker", "worker_class", "workers", "threads", "worker_connections",
                    "gunicorn_version", "connection", "scenario", "endpoint", "task", "unit_s", "concurrency",
                    "reps", "repeat", "time_s")
    }  # fmt: skip
    if not meta:
        return {**rec, "transactions": 0, "failed": 0, "elapsed_s": None, "rps": None, "response_times_s": None,
                "p50_s": None, "p90_s": None, "p99_s": None, "max_s": None, "availability": None,
                "siege_concurrency": None, "started": None, "finished": None, "load_host": None,
                "valid": False, "invalid_reason": NO_OUTPUT}  # fmt: skip
    parsed = siege.parse(
        base.with_name(base.name + ".out").read_text(errors="replace"),
        base.with_name(base.name + ".err").read_text(errors="replace"),
        meta.get("rc", 0),
    )
    times = parsed.response_times
    expected = run["concurrency"] * run["reps"] if run["scenario"] == "probe" else None
    reason = parsed.invalid_reason(expected_transactions=expected)
    elapsed = parsed.summary.get("elapsed_time")
    return {
        **rec,
        "transactions": parsed.transactions,
        "failed": parsed.failed,
        "elapsed_s": elapsed,
        "rps": parsed.summary.get("transaction_rate"),
        "response_times_s": times if run["scenario"] == "probe" else None,
        "p50_s": round_or_none(stats.percentile(times, 50)),
        "p90_s": round_or_none(stats.percentile(times, 90)),
        "p99_s": round_or_none(stats.percentile(times, 99)),
        "max_s": max(times) if times else None,
        "availability": parsed.summary.get("availability"),
        "siege_concurrency": parsed.summary.get("concurrency"),
        "started": meta.get("started"),
        "finished": meta.get("finished"),
        "load_host": meta.get("host"),
        "valid": reason is None,
        "invalid_reason": reason,
    }


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unpack(raw: Path) -> None:
    """Unpack each load host's fetched archive (raw/<worker>.tar.gz) beside it, once."""
    for archive in sorted(raw.glob("*.tar.gz")):
        marker = archive.with_name(f".{archive.name}.unpacked")
        if marker.exists():
            continue
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
                tar.extractall(raw, filter="data")
            else:  # Debian 12's 3.11.2 (a scheduled controller host): refuse what the data filter would refuse
                for member in tar.getmembers():
                    if (
                        not (member.isfile() or member.isdir())
                        or Path(member.name).is_absolute()
                        or ".." in Path(member.name).parts
                    ):
                        raise ValueError(f"{archive}: unexpected member {member.name!r}")
                tar.extractall(raw)  # members checked above
        marker.touch()


def collect(run_dir: Path, finished: str | None = None) -> dict:
    run = read_json(run_dir / "run.json")
    raw = run_dir / "raw"
    unpack(raw)
    results = [record(r, raw) for r in run["matrix"] if r["scenario"] != "warmup"]
    context = read_json(raw / "context.json", default={})
    load_s = sum(r["finished"] - r["started"] for r in results if r["started"] is not None)
    warmups = [record(r, raw) for r in run["matrix"] if r["scenario"] == "warmup"]
    service_events = []
    for worker in run["worker"]:
        journal = raw / f"{worker}.journal.json"
        if journal.exists():
            found = events.parse(journal.read_text(errors="replace"))
            service_events += events.attach(found, worker, results + warmups)
    failures = [read_json(raw / f"{w}.failure.json") for w in run["worker"] if (raw / f"{w}.failure.json").exists()]
    load_s += sum(w["finished"] - w["started"] for w in warmups if w["started"] is not None)
    return {
        "schema": SCHEMA,
        "run_id": run["run_id"],
        "started": run["started"],
        "finished": finished or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": run["git_commit"],
        "profile": run["profile"],
        "ansible_core": run.get("ansible_core"),
        "workers_tested": run["worker"],
        "hosts": context.get("hosts", {}),
        "versions": context.get("versions", {}),
        "time_in_siege_s": round(load_s, 2),
        "warmups_discarded": len(warmups),
        "complete": not failures and all(r["invalid_reason"] != NO_OUTPUT for r in results),
        "failures": failures,
        "events": service_events,
        "results": results,
    }


def main(run_dir: str) -> Path:
    path = Path(run_dir)
    results = collect(path)
    write_json_atomic(path / "results.json", results)
    return path / "results.json"
