"""Parse the raw output of one siege 4.0.7 run (stdout, stderr, exit status) and judge whether it is valid.

With ``verbose = true`` and ``json_output = false`` siege writes one line per request to stdout::

    HTTP/1.1 200     1.00 secs:      34 bytes ==> GET  /ioTask

and its summary (``Transactions: 4 hits`` …) and socket errors to stderr. It exits 0 whatever happened, so validity
is judged from the output: an abort, a run killed by ``timeout``, zero transactions, a missing summary or failed
transactions make a run invalid, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REQUEST_RE = re.compile(
    r"^HTTP/(?P<proto>[\d.]+)\s+(?P<status>\d{3})\s+(?P<secs>[\d.]+) secs:\s+(?P<bytes>\d+) bytes ==> "
    r"(?P<method>[A-Z]+)\s+(?P<path>\S+)"
)
SUMMARY_RE = re.compile(r"^(?P<key>[A-Z][A-Za-z ]+):\s+(?P<value>-?[\d.]+)")
ERROR_RE = re.compile(r"\[(?:\x1b\[[\d;]*m)?error(?:\x1b\[[\d;]*m)?\]\s*(?P<msg>.*)")
ABORT_TEXT = "siege aborted due to excessive socket failure"
# timeout(1) stopped the command (124) or had to kill it (137); with --kill-after, timeout kills its whole process
# group, itself included, so the driver sees -9 (SIGKILL) as often as 137.
TIMEOUT_EXIT = (124, 137, -9)

SUMMARY_KEYS = {
    "Transactions": "transactions",
    "Availability": "availability",
    "Elapsed time": "elapsed_time",
    "Data transferred": "data_transferred",
    "Response time": "response_time",
    "Transaction rate": "transaction_rate",
    "Throughput": "throughput",
    "Concurrency": "concurrency",
    "Successful transactions": "successful_transactions",
    "Failed transactions": "failed_transactions",
    "Longest transaction": "longest_transaction",
    "Shortest transaction": "shortest_transaction",
}


@dataclass
class Request:
    status: int
    secs: float
    bytes: int
    method: str
    path: str


@dataclass
class SiegeRun:
    requests: list[Request] = field(default_factory=list)
    summary: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    aborted: bool = False
    rc: int = 0

    @property
    def response_times(self) -> list[float]:
        return [r.secs for r in self.requests]

    @property
    def timed_out(self) -> bool:
        return self.rc in TIMEOUT_EXIT

    @property
    def transactions(self) -> int:
        return int(self.summary.get("transactions", len(self.requests)))

    @property
    def failed(self) -> int:
        """Failed transactions: siege's count, or failed statuses and socket errors when it printed no summary."""
        if "failed_transactions" in self.summary:
            return int(self.summary["failed_transactions"])
        return sum(1 for r in self.requests if r.status >= 400) + len(self.errors)

    def invalid_reason(self, expected_transactions: int | None = None, expected_status: int = 200) -> str | None:  # noqa: PLR0911 -- checks in order
        """Why this run must not be averaged in, or None when it is valid. expected_status: the status every answer
        must have (the scenario's, bench_app.scenarios; siege counts a 4xx or 5xx answer as a transaction that is
        neither successful nor failed)."""
        if self.timed_out:
            how = "killed" if self.rc in (137, -9) else "stopped"
            return f"siege did not finish in time and was {how} by timeout (exit {self.rc}): server hung or too slow"
        if self.aborted:
            return f"siege aborted after {self.failed} socket failures ({self.first_error() or 'no error shown'})"
        if not self.summary:
            return f"siege printed no summary (exit {self.rc}): killed or crashed"
        if self.transactions == 0:
            return f"zero transactions ({self.first_error() or 'no error shown'})"
        if self.failed:
            return f"{self.failed} failed transactions ({self.first_error() or 'HTTP errors'})"
        bad = [r for r in self.requests if r.status != expected_status]
        if bad:
            return (f"{len(bad)} responses with another HTTP status than {expected_status} "
                    f"(first: {bad[0].status} {bad[0].path})")  # fmt: skip
        if expected_transactions is not None and len(self.requests) != expected_transactions:
            return f"{len(self.requests)} of {expected_transactions} requests completed"
        return None

    def first_error(self) -> str | None:
        return self.errors[0] if self.errors else None


def parse(stdout: str, stderr: str, rc: int = 0) -> SiegeRun:
    """Parse one run. Lines that are neither requests nor summary (siege's banner, its "New configuration
    template added" note on a host's first run) are ignored."""
    run = SiegeRun(rc=rc)
    for line in stdout.splitlines():
        match = REQUEST_RE.match(line.strip())
        if match:
            run.requests.append(
                Request(
                    status=int(match["status"]),
                    secs=float(match["secs"]),
                    bytes=int(match["bytes"]),
                    method=match["method"],
                    path=match["path"],
                )
            )
    for line in stderr.splitlines():
        text = line.strip()
        if ABORT_TEXT in text:
            run.aborted = True
        error = ERROR_RE.search(text)
        if error:
            run.errors.append(error["msg"].strip())
            continue
        match = SUMMARY_RE.match(text)
        if match and match["key"] in SUMMARY_KEYS:
            run.summary[SUMMARY_KEYS[match["key"]]] = float(match["value"])
    return run
