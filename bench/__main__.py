"""python -m bench collect RUN_DIR | report RUN_DIR"""

from __future__ import annotations

import sys

from bench import collect, report


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("collect", "report"):
        print(__doc__, file=sys.stderr)
        return 2
    command, run_dir = argv
    if command == "collect":
        print(f"Results: {collect.main(run_dir)}")
    else:
        print(f"Report: {report.main(run_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
