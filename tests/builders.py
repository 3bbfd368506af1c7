"""Data that several unit tests build the same way: the matrix of the run folder of real siege output
(tests/fixtures/siege), a minimal valid wheel made here, and an instance of the notes example's plan."""

from __future__ import annotations

import zipfile
from pathlib import Path

from support import ROOT

from bench.model import app, plan

BASE = {"worker_type": "sync", "worker_class": "sync", "workers": 1, "threads": 1, "worker_connections": 1000,
        "gunicorn_version": "27.0.1", "connection": "close", "unit_s": None, "repeat": 1, "discard": False}  # fmt: skip


def entry(name, scenario, label, task, concurrency, index, *, reps=1, time_s=None, unit_s=None):
    return {**BASE, "name": name, "scenario": scenario, "label": label, "task": task, "unit_s": unit_s,
            "concurrency": concurrency, "reps": reps, "time_s": time_s, "index": index}  # fmt: skip


MATRIX = [
    entry("probe-sync-io-c4", "probe", "/ioTask", "io", 4, 1, unit_s=1.0),
    entry("probe-sync-cpu-c2", "probe", "/cpuTask", "cpu", 2, 2),
    entry("sweep-sync-io-c3-t5", "sweep", "/ioTask?ms=100", "io", 3, 3, reps=None, time_s=5, unit_s=0.1),
    entry("aborted-sync-keepalive-c4", "sweep", "/", "hello", 4, 4, reps=None, time_s=5),
    entry("zero-refused-c2", "probe", "/", "hello", 2, 5),
    entry("hung-blackhole-c2", "probe", "/", "hello", 2, 6),
    entry("never-ran-c2", "probe", "/", "hello", 2, 7),
]


def wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = (), tag: str = "py3-none-any") -> None:
    """A minimal, valid wheel: enough for pip to read its name, version and dependencies."""
    dist = f"{name.replace('-', '_')}-{version}"
    meta = "".join([f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                    *(f"Requires-Dist: {r}\n" for r in requires)])  # fmt: skip
    with zipfile.ZipFile(folder / f"{dist}-{tag}.whl", "w") as zf:
        zf.writestr(f"{dist}.dist-info/METADATA", meta)
        zf.writestr(
            f"{dist}.dist-info/WHEEL", f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"
        )
        zf.writestr(f"{dist}.dist-info/RECORD", "")


def instance(worker_type: str, requirements=("Flask>=3.0,<4", "marshmallow>=3.20,<5")) -> dict:
    notes = app.load_file(ROOT / "examples/notes/notes.bench.yml", base=ROOT)
    inst = next(i for i in plan.plan_instances(worker_type, app=notes))
    return {**inst, "app_requirements": list(requirements)}, notes.as_vars()
