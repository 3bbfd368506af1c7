"""python -m bench collect RUN_DIR | report RUN_DIR | collect-report RUN_DIR"""

from __future__ import annotations

import sys

from bench import collect, report

COMMANDS = ("collect", "report", "collect-report")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    command, run_dir = argv
    if command in ("collect", "collect-report"):
        print(f"Results: {collect.main(run_dir)}")
    if command in ("report", "collect-report"):
        print(f"Report: {report.main(run_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
