"""The server's own clock: each probe request's arrival in the app, departure and CPU time, from the unit's journal.

The app's wrapper (roles/gunicorn/files/server_timing.py) writes one line per request that carries the probe marker
header, to the journal of ``gunicorn@TYPE.service``, fetched to raw/<app host>/TYPE.journal.json::

    bench-timing {"probe": NAME, "arrived": EPOCH, "left": EPOCH, "cpu_s": S, "pid": PID,
                  "unit_cpu_in_s": S, "unit_cpu_out_s": S}

``unit_cpu_*`` are the whole service's CPU seconds (its cgroup) when the request reached the app and when it left.
A burst is the requests of one probe run. From them: each request's wait (from the burst being sent to reaching the
app) and service (inside the app), how many were worked on at once, and what the service's CPU did over the burst.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from bench.parse import events

LOG_PREFIX = "bench-timing "  # roles/gunicorn/files/server_timing.py writes it


@dataclass(frozen=True)
class Request:
    arrived: float
    left: float
    cpu_s: float
    pid: int
    unit_cpu_in_s: float | None = None
    unit_cpu_out_s: float | None = None

    @property
    def service_s(self) -> float:
        return self.left - self.arrived


def parse_line(message: str) -> tuple[str, Request] | None:
    """(probe name, request) of one log line, or None for any other line."""
    if not message.startswith(LOG_PREFIX):
        return None
    try:
        data = json.loads(message[len(LOG_PREFIX) :])
        return str(data["probe"]), Request(
            arrived=float(data["arrived"]), left=float(data["left"]), cpu_s=float(data["cpu_s"]),
            pid=int(data["pid"]), unit_cpu_in_s=_float(data.get("unit_cpu_in_s")),
            unit_cpu_out_s=_float(data.get("unit_cpu_out_s")),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return None


def _float(value) -> float | None:
    return None if value is None else float(value)


def parse_journal(text: str) -> dict[str, list[Request]]:
    """Probe name -> its requests in order of arrival, from a journal fetched as JSON lines."""
    found: dict[str, list[Request]] = {}
    for _, message in events.lines(text):
        parsed = parse_line(message)
        if parsed:
            found.setdefault(parsed[0], []).append(parsed[1])
    return {name: sorted(reqs, key=lambda r: r.arrived) for name, reqs in found.items()}


def occupancy(requests: list[Request]) -> float | None:
    """How many requests the app worked on at once, on average over the burst: the sum of their times inside the app
    divided by the burst's span in the app (first arrival to last departure). 1 for one after another; N ÷ ceil(N/k)
    for a perfect ladder on k slots. The machine's other work slows every request and the span alike, so it cancels."""
    if not requests:
        return None
    span = max(r.left for r in requests) - min(r.arrived for r in requests)
    return sum(r.service_s for r in requests) / span if span > 0 else None


def peak_occupancy(requests: list[Request], slack_s: float = 0.005) -> int:
    """Most requests inside the app at the same moment (one leaving and the next arriving within slack_s is no
    overlap)."""
    marks = sorted([(r.arrived + slack_s, 1) for r in requests] + [(r.left, -1) for r in requests])
    peak = inside = 0
    for _, step in marks:
        inside += step
        peak = max(peak, inside)
    return peak


def burst(requests: list[Request], sent: float | None, sequential: bool = False) -> dict:
    """What the server's clock says of one burst: per request (in order of arrival) when it was sent, its wait and
    its service; the span; the average and peak number in the app at once; the CPU the whole service consumed from
    the first arrival to the last departure, and the requests' own CPU. ``sent`` is when the load host started the
    burst (its clock; on VMs, NTP keeps it within a few ms of the app host's): a wait is never counted below 0.
    ``sequential``: one client sending its requests one after another (the c=1 calibration), each when the one
    before came back, so each waits from the previous departure."""
    if not requests:
        return {}
    first = min(r.arrived for r in requests)
    start = min(sent, first) if sent is not None else first
    sent_at = [start] * len(requests)
    if sequential:
        sent_at = [start] + [max(start, prev.left) for prev in requests[:-1]]
    ins = [r.unit_cpu_in_s for r in requests if r.unit_cpu_in_s is not None]
    outs = [r.unit_cpu_out_s for r in requests if r.unit_cpu_out_s is not None]
    span = max(r.left for r in requests) - first
    return {
        "requests": [asdict(r) for r in requests],
        "sent_s": [round(t - start, 4) for t in sent_at],
        "wait_s": [round(max(r.arrived - t, 0.0), 4) for r, t in zip(requests, sent_at, strict=True)],
        "service_s": [round(r.service_s, 4) for r in requests],
        "cpu_s": [round(r.cpu_s, 4) for r in requests],
        "span_s": round(span, 4),
        "at_once": occupancy(requests),
        "peak_at_once": peak_occupancy(requests),
        "unit_cpu_consumed_s": round(max(outs) - min(ins), 4) if ins and outs else None,
        "requests_cpu_s": round(sum(r.cpu_s for r in requests), 4),
        "pids": sorted({r.pid for r in requests}),
    }
