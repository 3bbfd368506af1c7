"""The harness's controller-side commands (run by the playbooks; useful by hand too).

python -m bench collect-report RUN_DIR [--keep-raw N] [thresholds]   results.json, changes, report.md, index.md
python -m bench collect RUN_DIR | report RUN_DIR                      one step of it
python -m bench index REPORTS_DIR                                     reports/index.md and its trend charts
python -m bench compare RUN_A RUN_B [-o FILE]                         side-by-side Markdown of two runs
python -m bench lock acquire|release LOCKFILE [--wait S]              one benchmark at a time
python -m bench check-reports REPORTS_DIR [--min-free-mb N]           can a run write its output there?
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import collect, history, lock, preflight


def _reporting():
    """Jinja2 and matplotlib take a second to import: only the commands that render pay for it."""
    from bench import compare, index, report  # noqa: PLC0415 -- see the docstring

    return compare, index, report


def thresholds(args) -> history.Thresholds:
    return history.Thresholds(args.threshold, args.noise_factor, args.min_history, args.window)


def collect_report(args) -> int:
    _, index, report = _reporting()
    run_dir = Path(args.run_dir)
    results_path = collect.main(str(run_dir))
    print(f"Results: {results_path}")
    results = json.loads(results_path.read_text())
    reports = run_dir.parent
    earlier = [r["data"] for r in history.load_runs(reports)
               if r["complete"] and r["dir"] != run_dir and r["data"]["started"] < results["started"]]  # fmt: skip
    found = history.changes(results, earlier, thresholds(args))
    collect.write_json_atomic(run_dir / "changes.json", found)
    print(f"Report: {report.main(str(run_dir))}")
    print(f"Index: {index.render(reports, thresholds(args))}")
    for raw in history.keep_raw(history.load_runs(reports), args.keep_raw):
        print(f"Removed old raw output: {raw}")
    regressed = [c for c in found if c["regression"]]
    print(f"Changes since previous runs: {len(regressed)} regressed, {len(found) - len(regressed)} improved")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("collect", "report", "collect-report"):
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
    p = sub.add_parser("lock")
    p.add_argument("action", choices=["acquire", "release"])
    p.add_argument("lockfile")
    p.add_argument("--wait", type=float, default=0)
    p = sub.add_parser("check-reports")
    p.add_argument("reports_dir")
    p.add_argument("--min-free-mb", type=int, default=preflight.DEFAULT_MIN_FREE_MB)
    args = parser.parse_args(argv)

    if args.command == "collect":
        print(f"Results: {collect.main(args.run_dir)}")
    elif args.command == "report":
        _, _, report = _reporting()
        print(f"Report: {report.main(args.run_dir)}")
    elif args.command == "collect-report":
        return collect_report(args)
    elif args.command == "index":
        _, index, _ = _reporting()
        print(f"Index: {index.render(Path(args.reports_dir))}")
    elif args.command == "compare":
        compare, _, _ = _reporting()
        text = compare.main(args.run_a, args.run_b, args.output)
        print(f"Comparison: {args.output}" if args.output else text, end="" if not args.output else "\n")
    elif args.command == "check-reports":
        problem = preflight.reports_dir_problem(Path(args.reports_dir), args.min_free_mb)
        print(problem or f"{args.reports_dir}: writable", file=sys.stderr if problem else sys.stdout)
        return 4 if problem else 0
    elif args.command == "lock":
        path, pid = Path(args.lockfile), lock.owner_pid()
        if args.action == "release":
            print("released" if lock.release(path, pid) else "not held by this run")
            return 0
        try:
            lock.acquire(path, pid, args.wait)
        except lock.Busy as exc:
            print(exc, file=sys.stderr)
            return 3
        print(f"locked {path} for pid {pid}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
