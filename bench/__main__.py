"""The harness's controller-side commands (run by the playbooks; useful by hand too).

python -m bench collect-report RUN_DIR [--keep-raw N] [thresholds]   results.json, changes, report.md, index.md
python -m bench report RUN_DIR                                        report.md again, from its results.json
python -m bench index REPORTS_DIR                                     reports/index.md and its trend charts
python -m bench compare RUN_A RUN_B [-o FILE]                         side-by-side Markdown of two runs
python -m bench begin REPORTS_DIR [--min-free-mb N] [--wait S]        check the reports folder, make it, take the lock
python -m bench open-run RUN_DIR < run.json                           the run folder and its run.json
python -m bench finish RUN_DIR [thresholds] < {"context"}     phases, context, collect-report, latest, unlock
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench import files
from bench.control import lock, phases, preflight, run
from bench.model import fleet, results_model
from bench.parse import collect
from bench.render import terminal
from bench.trends import history, keep


def _reporting():
    """Jinja2 and matplotlib take a second to import: only the commands that render pay for it."""
    from bench.render import report  # noqa: PLC0415 -- see the docstring
    from bench.trends import compare, index  # noqa: PLC0415 -- see the docstring

    return compare, index, report


def thresholds(args) -> history.Thresholds:
    return history.Thresholds(args.threshold, args.noise_factor, args.min_history, args.window)


def collect_report(args) -> int:
    try:
        lines = collect_report_lines(args, Path(args.run_dir))
    except collect.RawGone as exc:
        print(exc, file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


def collect_report_lines(args, run_dir: Path) -> list[str]:
    _, index, report = _reporting()
    results_path = collect.main(str(run_dir))
    lines = [f"Results: {results_path}"]
    results = results_model.load(results_path)
    if results["verify_only"]:  # verify_only=true: the table is the answer; no report, no history
        lines.append("Verified before load (verify_only=true, nothing was loaded):")
        for one in fleet.views(results):
            lines += [f"app host {one['app_host']}:"] if len(fleet.app_hosts(results)) > 1 else []
            lines += terminal.verify_lines(one)
        return lines
    reports = run_dir.parent
    earlier = [r["data"] for r in history.load_runs(reports)
               if r["complete"] and r["dir"] != run_dir and r["data"]["started"] < results["started"]]  # fmt: skip
    # each app host against its own history (history.comparable: the same machine), each change naming it
    found = [c | {"app_host": one["app_host"]} for one in fleet.views(results)
             for c in history.changes(one, earlier, thresholds(args))]  # fmt: skip
    files.write_json_atomic(run_dir / "changes.json", found)
    # The index and the report each draw their own charts (about a second each): the index is drawn in a forked
    # process meanwhile. Both read results.json and changes.json, written above, and write different files.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        drawn = pool.submit(index.render, reports, thresholds(args))
        lines.append(f"Report: {report.main(str(run_dir))}")
        lines.append(f"Index: {drawn.result()}")
    lines += [f"Removed old raw output: {raw}" for raw in keep.keep_raw(history.load_runs(reports), args.keep_raw)]
    regressed = [c for c in found if c["regression"]]
    per_host = [f"{host}: {sum(c.get('app_host') == host for c in regressed)} regressed"
                for host in fleet.app_hosts(results)] if len(fleet.app_hosts(results)) > 1 else []  # fmt: skip
    lines.append(f"Changes since previous runs: {len(regressed)} regressed, {len(found) - len(regressed)} improved"
                 + (f" ({', '.join(per_host)})" if per_host else ""))  # fmt: skip
    return lines


def stdin_json(what: str) -> dict:
    try:
        data = json.load(sys.stdin)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{what}: standard input is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SystemExit(f"{what}: standard input must be a JSON object")
    return data


def cmd_report(args) -> int:
    _, _, report = _reporting()
    print(f"Report: {report.main(args.run_dir)}")
    return 0


def cmd_index(args) -> int:
    _, index, _ = _reporting()
    print(f"Index: {index.render(Path(args.reports_dir))}")
    return 0


def cmd_compare(args) -> int:
    compare, _, _ = _reporting()
    text = compare.main(args.run_a, args.run_b, args.output)
    print(f"Comparison: {args.output}" if args.output else text, end="" if not args.output else "\n")
    return 0


def cmd_begin(args) -> int:
    try:
        path = run.begin(Path(args.reports_dir), args.min_free_mb, args.wait, lock.owner_pid())
    except (run.Refused, lock.Busy) as exc:
        print(exc, file=sys.stderr)
        return 4 if isinstance(exc, run.Refused) else 3
    print(f"locked {path}")
    return 0


def cmd_open_run(args) -> int:
    print(f"Run: {run.open_run(Path(args.run_dir), stdin_json('open-run'))}")
    return 0


def cmd_finish(args) -> int:
    given = stdin_json("finish")
    marks = phases.read(lock.owner_pid())  # noted by the playbook's task_timer callback, the run's one timer
    lines = run.finish(Path(args.run_dir), marks, given.get("context", {}),
                       lambda run_dir: collect_report_lines(args, run_dir))  # fmt: skip
    print("\n".join(lines))
    return 0


COMMANDS = {"report": cmd_report, "collect-report": collect_report, "index": cmd_index, "compare": cmd_compare,
            "begin": cmd_begin, "open-run": cmd_open_run, "finish": cmd_finish}  # fmt: skip


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("report")
    p.add_argument("run_dir")
    for name in ("collect-report", "finish"):
        p = sub.add_parser(name)
        p.add_argument("run_dir")
        p.add_argument("--keep-raw", type=int, default=10, help="keep raw/ of the newest N runs")
        p.add_argument("--threshold", type=float, default=history.DEFAULT.relative)
        p.add_argument("--noise-factor", type=float, default=history.DEFAULT.noise_factor)
        p.add_argument("--min-history", type=int, default=history.DEFAULT.min_history)
        p.add_argument("--window", type=int, default=history.DEFAULT.window)
    p = sub.add_parser("index")
    p.add_argument("reports_dir")
    p = sub.add_parser("compare")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("-o", "--output")
    p = sub.add_parser("begin")
    p.add_argument("reports_dir")
    p.add_argument("--min-free-mb", type=int, default=preflight.DEFAULT_MIN_FREE_MB)
    p.add_argument("--wait", type=float, default=0, help="seconds to wait for another run's lock")
    p = sub.add_parser("open-run")
    p.add_argument("run_dir")
    return top


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
