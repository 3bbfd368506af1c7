"""A side-by-side Markdown comparison of two runs: python -m bench compare RUN_A RUN_B [-o diff.md]. Runs of several
app hosts are compared host by host (bench/model/fleet.py's views, matched by app host name)."""

from __future__ import annotations

from pathlib import Path

from bench.model import fleet, results_model
from bench.trends import history


def compare(a: dict, b: dict) -> str:
    ma, mb = history.metrics(a), history.metrics(b)
    hosts = list(dict.fromkeys((a["app_host"], b["app_host"])))
    title = f"# {a['run_id']} → {b['run_id']}" + (f" ({' → '.join(hosts)})" if hosts else "")
    lines = [
        title,
        "",
        "| | A | B |",
        "|---|---|---|",
        f"| started | {a['started']} | {b['started']} |",
        f"| commit | `{a['git_commit']}` | `{b['git_commit']}` |",
        f"| app | {history.app_name(a)} | {history.app_name(b)} |",
        f"| profile | {a['profile']} | {b['profile']} |",
        f"| app host | {fleet.machine(a)} | {fleet.machine(b)} |",
        f"| gunicorn settings | {history.settings_words(a) or '–'} | {history.settings_words(b) or '–'} |",
    ]
    types = {results_model.variant_of(i): i["worker_type"] for x in (b, a) for i in x["instances"].values()}
    for variant in dict.fromkeys(results_model.variants(a) + results_model.variants(b)):
        va, vb = a["versions"].get(variant, {}), b["versions"].get(variant, {})
        lines.append(f"| {variant} versions | {format_versions(types[variant], va, a)} | "
                     f"{format_versions(types[variant], vb, b)} |")  # fmt: skip
    if not history.comparable(a, b):
        why = "the app, the profile, the machine or gunicorn's settings differ"
        lines += ["", f"**Not comparable**: {why}; numbers are shown as is."]
    lines += ["", "| worker config | point | metric | A | B | change |", "|---|---|---|---:|---:|---:|"]
    for key in sorted(set(ma) | set(mb)):
        va, vb = ma.get(key), mb.get(key)
        change = f"{(vb - va) / va * 100:+.1f} %" if va and vb is not None else "–"
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {num(va)} | {num(vb)} | {change} |")
    return "\n".join(lines) + "\n"


def format_versions(worker_type: str, v: dict, results: dict) -> str:
    """The versions that matter for this type (python, gunicorn, the app's own packages, the type's: the run's
    catalog)."""
    columns = results_model.catalog_of(results).version_columns([worker_type], history.app_packages(results))
    return ", ".join(f"{k} {v[k]}" for k in columns if k in v) or "–"


def num(value: float | None) -> str:
    return "–" if value is None else f"{value:,.3f}"


def matched(a: dict, b: dict) -> tuple[list[tuple[dict, dict]], list[str]]:
    """The views of two runs to compare, paired by app host (a run of one app host: against each of the other's), and
    the app hosts only one of them has."""
    va, vb = fleet.views(a), fleet.views(b)
    if len(va) == 1 or len(vb) == 1:  # one host against one, or against each host of the other run
        return [(x, y) for x in va for y in vb], []
    by_a, by_b = ({v["app_host"]: v for v in views} for views in (va, vb))  # several hosts: every view names its own
    pairs = [(v, by_b[host]) for host, v in by_a.items() if host in by_b]
    alone = [f"{h}: only in A" for h in by_a if h not in by_b] + [f"{h}: only in B" for h in by_b if h not in by_a]
    return pairs, alone


def main(run_a: str, run_b: str, out: str | None = None) -> str:
    a = results_model.load(Path(run_a) / "results.json")
    b = results_model.load(Path(run_b) / "results.json")
    pairs, alone = matched(a, b)
    text = "\n".join(compare(x, y) for x, y in pairs) + "".join(f"\n- {line}\n" for line in alone)
    if out:
        Path(out).write_text(text)
    return text
