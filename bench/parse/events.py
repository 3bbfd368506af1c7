"""What happened to a gunicorn service during a run, read from its journal: workers that died, a master that died
and how long the service was down before systemd had it back.

The input is `journalctl --unit gunicorn@TYPE.service --output json --output-fields MESSAGE` on the app host, one JSON
object per line, fetched to raw/<app host>/TYPE.journal.json. gunicorn's own lines (its master logs a worker's death)
and systemd's lines about the unit (the main process exited, the restart, "Started") are both there.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

# gunicorn's arbiter (27.x and 25.x word these the same); a worker sent SIGTERM is a normal stop, not a fault.
WORKER_SIGNAL = re.compile(r"Worker \(pid:(?P<pid>\d+)\) was sent (?P<sig>SIG\w+|signal \d+)")
WORKER_EXIT = re.compile(r"Worker \(pid:(?P<pid>\d+)\) exited with code (?P<code>\d+)")
WORKER_TIMEOUT = re.compile(r"WORKER TIMEOUT \(pid:(?P<pid>\d+)\)")
# systemd, about the unit
MAIN_EXITED = re.compile(r"Main process exited, code=(?P<code>\w+), status=(?P<status>\S+)")
STARTED = re.compile(r"^Started ")
FAILED = re.compile(r"Failed with result '(?P<result>[^']+)'")


@dataclass
class Event:
    time: float  # seconds since the epoch
    kind: str  # worker_killed, worker_exited, worker_timeout, master_died, service_failed
    detail: str
    gap_s: float | None = None  # master_died: seconds until systemd had the service started again (None: never)


def lines(text: str) -> list[tuple[float, str]]:
    """(time, message) of each journal entry, in order; lines that are not JSON entries are skipped."""
    out = []
    for raw in text.splitlines():
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError:
            continue
        message = entry.get("MESSAGE")
        if isinstance(message, list):  # journald stores non-UTF-8 messages as byte arrays
            message = bytes(message).decode(errors="replace")
        if not isinstance(message, str) or "__REALTIME_TIMESTAMP" not in entry:
            continue
        out.append((int(entry["__REALTIME_TIMESTAMP"]) / 1e6, message))
    return out


def parse(text: str) -> list[Event]:
    """The faults in one unit's journal, oldest first. A master death is paired with the next "Started" line."""
    events: list[Event] = []
    down: Event | None = None
    for ts, message in lines(text):
        if m := WORKER_SIGNAL.search(message):
            if m["sig"] != "SIGTERM":
                events.append(Event(ts, "worker_killed", f"worker pid {m['pid']} was sent {m['sig']}"))
        elif m := WORKER_EXIT.search(message):
            events.append(Event(ts, "worker_exited", f"worker pid {m['pid']} exited with code {m['code']}"))
        elif m := WORKER_TIMEOUT.search(message):
            events.append(Event(ts, "worker_timeout", f"worker pid {m['pid']} timed out and was aborted"))
        elif m := MAIN_EXITED.search(message):
            if down is not None:
                down.detail += "; systemd's restart failed too"
            down = Event(ts, "master_died", f"gunicorn master {m['code']}, status {m['status']}")
            events.append(down)
        elif down is not None and STARTED.search(message):
            down.gap_s = round(ts - down.time, 3)
            down.detail += f"; systemd restarted it {down.gap_s:.1f} s later"
            down = None
        elif (m := FAILED.search(message)) and down is None:  # after a master death it is part of that death
            events.append(Event(ts, "service_failed", f"the unit failed ({m['result']})"))
    if down is not None:
        down.detail += "; not running again before the load of this type ended"
    return events


def attach(events: list[Event], worker_type: str, results: list[dict], variant: str | None = None) -> list[dict]:
    """Events as dicts of one instance's unit (of a worker type; its variant, the type's own unless a matrix ran
    several of it), each naming it and the run of the matrix of that instance it happened during (or None: between
    runs)."""
    variant = variant or worker_type
    out = []
    for e in events:
        during = next(
            (r["name"] for r in results
             if r.get("variant", r["worker_type"]) == variant and r.get("started") is not None
             and r["started"] <= e.time <= (r.get("finished") or r["started"])),
            None,
        )  # fmt: skip
        out.append({"worker_type": worker_type, "variant": variant, **asdict(e), "during": during})
    return out
