"""A side-by-side Markdown comparison of two runs: python -m bench compare RUN_A RUN_B [-o diff.md]."""

from __future__ import annotations

import json
from pathlib import Path

from bench import catalog, history


def compare(a: dict, b: dict) -> str:
    ma, mb = history.metrics(a), history.metrics(b)
    lines = [
        f"# {a['run_id']} → {b['run_id']}",
        "",
        "| | A | B |",
        "|---|---|---|",
        f"| started | {a['started']} | {b['started']} |",
        f"| commit | `{a['git_commit']}` | `{b['git_commit']}` |",
        f"| app | {history.app_name(a)} | {history.app_name(b)} |",
        f"| profile | {a['profile']} | {b['profile']} |",
        f"| app host | {history.host_type(a)} | {history.host_type(b)} |",
    ]
    for worker in dict.fromkeys(a["workers_tested"] + b["workers_tested"]):
        va, vb = a.get("versions", {}).get(worker, {}), b.get("versions", {}).get(worker, {})
        lines.append(f"| {worker} versions | {format_versions(worker, va, a)} | {format_versions(worker, vb, b)} |")
    if not history.comparable(a, b):
        lines += ["", "**Not comparable**: the app, the profile or the app host type differs; numbers are shown as is."]
    lines += ["", "| worker config | point | metric | A | B | change |", "|---|---|---|---:|---:|---:|"]
    for key in sorted(set(ma) | set(mb)):
        va, vb = ma.get(key), mb.get(key)
        change = f"{(vb - va) / va * 100:+.1f} %" if va and vb is not None else "–"
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {num(va)} | {num(vb)} | {change} |")
    return "\n".join(lines) + "\n"


def format_versions(worker: str, v: dict, results: dict) -> str:
    """The versions that matter for this type (python, gunicorn, the app's own packages, the type's: the catalog)."""
    columns = catalog.load().version_columns([worker], history.app_packages(results))
    return ", ".join(f"{k} {v[k]}" for k in columns if k in v) or "–"


def num(value: float | None) -> str:
    return "–" if value is None else f"{value:,.3f}"


def main(run_a: str, run_b: str, out: str | None = None) -> str:
    a = json.loads((Path(run_a) / "results.json").read_text())
    b = json.loads((Path(run_b) / "results.json").read_text())
    text = compare(a, b)
    if out:
        Path(out).write_text(text)
    return text
