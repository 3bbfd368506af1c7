"""Parse wrk's output (`wrk --latency`) into the same figures as a siege run, for sweeps run with load_tool=wrk.

wrk measures latency in microseconds (siege in 10 ms ticks) and prints a latency distribution (50, 75, 90, 99 %).
It counts what siege calls failed transactions as socket errors (connect, read, write, timeout) and non-2xx/3xx
responses; a run with any of them, with no requests, or stopped by `timeout`, is invalid, as with siege.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bench.parse.siege import TIMEOUT_EXIT

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
DURATION = r"([\d.]+)(us|ms|s|m|h)"
LATENCY_RE = re.compile(rf"^Latency\s+{DURATION}\s+{DURATION}\s+{DURATION}")
PERCENTILE_RE = re.compile(rf"^(\d+(?:\.\d+)?)%\s+{DURATION}$")
REQUESTS_RE = re.compile(rf"^(\d+) requests in {DURATION}, ")
SOCKET_RE = re.compile(r"^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
NON2XX_RE = re.compile(r"^Non-2xx or 3xx responses: (\d+)")
RATE_RE = re.compile(r"^Requests/sec:\s+([\d.]+)")


def seconds(value: str, unit: str) -> float:
    return float(value) * UNITS[unit]


@dataclass
class WrkRun:
    requests: int = 0
    elapsed_s: float | None = None
    rps: float | None = None
    mean_s: float | None = None
    max_s: float | None = None
    percentiles: dict[float, float] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)
    non_2xx: int = 0
    rc: int = 0
    error: str | None = None
    # The status the scenario must answer (bench_app.scenarios): wrk counts only answers outside 2xx/3xx, so for a
    # scenario that must answer 4xx or 5xx those are its transactions, and any other answer cannot be told apart.
    expected_status: int = 200

    @property
    def wrong(self) -> int:
        """Answers of the wrong class: non-2xx/3xx ones, or, for a scenario that must answer >= 400, the others."""
        return self.requests - self.non_2xx if self.expected_status >= 400 else self.non_2xx

    @property
    def failed(self) -> int:
        return self.wrong + sum(self.socket_errors.values())

    @property
    def transactions(self) -> int:
        return max(self.requests - self.wrong, 0)

    def invalid_reason(self) -> str | None:
        if self.rc in TIMEOUT_EXIT:
            return f"wrk did not finish in time and was stopped by timeout (exit {self.rc}): server hung or too slow"
        if self.rps is None:
            return f"wrk printed no summary (exit {self.rc}): {self.error or 'killed or crashed'}"
        if self.requests == 0:
            return "zero requests completed"
        if self.failed:
            errors = ", ".join(f"{k} {v}" for k, v in self.socket_errors.items() if v)
            kind = "2xx/3xx" if self.expected_status >= 400 else "non-2xx/3xx"
            parts = ([f"socket errors: {errors}"] if errors else []) + (
                [f"{self.wrong} {kind} responses (the scenario must answer {self.expected_status})"]
                if self.wrong
                else []
            )
            return f"{self.failed} failed requests ({'; '.join(parts)})"
        return None


def parse(stdout: str, stderr: str = "", rc: int = 0) -> WrkRun:
    run = WrkRun(rc=rc, error=stderr.strip().splitlines()[-1] if stderr.strip() else None)
    for raw in stdout.splitlines():
        line = raw.strip()
        if m := LATENCY_RE.match(line):
            run.mean_s, run.max_s = seconds(m[1], m[2]), seconds(m[5], m[6])
        elif m := PERCENTILE_RE.match(line):
            run.percentiles[float(m[1])] = seconds(m[2], m[3])
        elif m := REQUESTS_RE.match(line):
            run.requests, run.elapsed_s = int(m[1]), seconds(m[2], m[3])
        elif m := SOCKET_RE.match(line):
            run.socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups()), strict=True))
        elif m := NON2XX_RE.match(line):
            run.non_2xx = int(m[1])
        elif m := RATE_RE.match(line):
            run.rps = float(m[1])
    return run
