"""Operations under load: what the harness does to a running instance at a known instant while one of the app's
scenarios runs at a steady rate (open loop: the requests due during the operation are sent and counted), and what it
plans for each worker type. One place for the operations there are; the gunicorn role's gunicorn_operation.py does
them on the app host, bench/analyse/operations.py reads what they lost.

Which operations a run does: the command line's `-e operations=reload,restart` (or `all`), else the profile's
(load_profiles.<profile>.operations.do). Which scenario carries the load: the app's scenarios whose `load` lists
`operations` (the demo: its 100 ms wait). The run's shape: the profile's operations settings."""

from __future__ import annotations

# What each operation is, in the words the report uses. A new release of the app is written before a reload and a
# restart (bench_entry.py reads it when the app is loaded), so that every answer says which code served it.
OPERATIONS = {
    "reload": "systemctl reload (HUP): the master starts new workers on the new release and stops the old ones "
    "gracefully",
    "restart": "systemctl restart: the service stopped (its workers finish what they hold, up to graceful_timeout) "
    "and started again on the new release",
    "kill_worker": "one worker killed with SIGKILL (as the kernel's OOM killer or a crash would): the master starts "
    "another",
    "timeout": "one request slower than gunicorn's timeout (the app's scenario loaded as `timeout`): where it holds "
    "what signals the worker is alive, the master aborts the worker, and what it held with it",
    "recycle": "workers restarted by gunicorn's max_requests (and its jitter) during the run: nothing is done at an "
    "instant; each restart is found in the journal, and the requests after it set against the others",
    "deploy": "deploy.yml's own tasks (the bench_app and gunicorn roles) with a new version of the app: its code "
    "swapped in, then the instance restarted, or reloaded with gunicorn_code_change=reload; the instant is when it "
    "restarted or reloaded it",
}
# Operations that write a new release of the app first (the others keep the code it runs).
NEW_RELEASE = ("reload", "restart", "deploy")
# Seconds an operation run spends besides its warm-up and time (measured on the lab: the start agreed with the load
# hosts, the operation's own task, the wait for the load hosts: 2.7-3.1 s a run of four types, 2026-12-04)
OPERATION_END_S = 3.0


class OperationError(ValueError):
    """An operation setting that cannot work; the message names the variable and what would be valid."""


def chosen(value, profile_default) -> list[str]:
    """The operations to do: the command line's (a comma-separated string, a list, `all` or `none`), else the
    profile's `do`; each one of OPERATIONS, none twice."""
    name = "operations"
    if value in (None, ""):
        value, name = profile_default, "load_profiles.<profile>.operations.do"
    if value in (None, "none", []):
        return []
    if value == "all":
        return list(OPERATIONS)
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or any(not isinstance(v, str) or not v for v in items):
        raise OperationError(f"{name}={value!r}: a list of operations among {', '.join(OPERATIONS)} (or all, none)")
    unknown = [v for v in items if v not in OPERATIONS]
    if unknown:
        raise OperationError(
            f"{name}: {', '.join(map(repr, unknown))} is not an operation; use {', '.join(OPERATIONS)} (or all, none)"
        )
    if len(set(items)) != len(items):
        raise OperationError(f"{name}={value!r}: each operation once")
    return items


def _number(name: str, value, low: float, *, whole: bool = False, above: bool = False) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and (value > low if above else value >= low)
    if not ok or (whole and value != int(value)):
        kind = "a whole number" if whole else "a number"
        raise OperationError(f"load_operations.{name}={value!r}: {kind} {'>' if above else '>='} {low:g}")
    return float(value)


def settings(raw: dict | None) -> dict:
    """The profile's operations settings, checked: time_s (the run after its warm-up), at_s (the operation's instant,
    seconds into time_s: inside it, with time after it to see the service back), warmup_s, utilization (of one slot:
    the rate, as for rate runs, when the scenario gives no rate_per_s), window_s (the stretch after the instant
    whose latency is set against the stretch before it) and deploy_s (what a deploy's run adds to time_s: its tasks
    take that long before the instance restarts)."""
    raw = raw or {}
    out = {
        "time_s": _number("time_s", raw.get("time_s", 20), 1, whole=True),
        "warmup_s": _number("warmup_s", raw.get("warmup_s", 1), 0, whole=True),
        "at_s": _number("at_s", raw.get("at_s", 8), 0, above=True),
        "utilization": _number("utilization", raw.get("utilization", 0.5), 0, above=True),
        "window_s": _number("window_s", raw.get("window_s", 5), 0, above=True),
        "connections": _connections(raw.get("connections", ["close"])),
        # a deploy's run is longer by this much: deploy.yml's tasks run from at_s (they took 13-17 s to the restart
        # on the lab, 2026-12-04: tests/fixtures/operations-deploy; more where SSH's round trip is longer)
        "deploy_s": _number("deploy_s", raw.get("deploy_s", 25), 1, whole=True),
    }
    if out["at_s"] >= out["time_s"] - 1:
        raise OperationError(
            f"load_operations.at_s={raw.get('at_s', 8)!r}: the operation's instant must fall inside the run, at least "
            f"a second before its end (time_s={out['time_s']:g}), so that what follows it is measured"
        )
    return out


CONNECTIONS = ("close", "keep-alive")  # how the load's requests go: each on its own connection, or kept alive


def _connections(value) -> list[str]:
    """How the load connects during operations: close, keep-alive, or both (a run each)."""
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not items
        or any(v not in CONNECTIONS for v in items)
        or len(set(items)) < len(items)
    ):
        raise OperationError(f"load_operations.connections={value!r}: close, keep-alive, or a list of both")
    return items


def rate_of(ep: dict, utilization: float) -> float:
    """The rate a scenario is loaded at during an operation: its first rate_per_s, else `utilization` of one slot."""
    if ep.get("rate_per_s"):
        return float(ep["rate_per_s"][0])
    if not ep.get("unit_s"):
        raise OperationError(
            f"bench_app.scenarios ({ep['scenario_name']}): loaded during operations, it needs rate_per_s or unit_s"
        )
    return round(utilization / float(ep["unit_s"]), 6)


def runs(eps: list[dict], kinds: list[str], o_set: dict, slow: list[dict], limits: dict | None = None,
         *, asked: bool = True) -> list[tuple[dict, str, float, int]]:  # fmt: skip
    """(scenario, operation, rate, its place) of a worker type's operation runs: per scenario loaded during operations
    and per operation, one open-loop run (scenarios.py makes the rows); none without operations. A timeout needs the
    request it sends (slow: the app's scenarios loaded as `timeout`), answered within the run and slower than
    gunicorn's timeout; a recycle, a max_requests the run reaches (limits: the gunicorn role's gunicorn_limits).
    Asked for by name, one that cannot work is refused; by `all` or the profile, it is left out."""
    if not kinds:
        return []
    if not eps:
        raise OperationError(
            f"operations={','.join(kinds)}: no scenario of the app is loaded during operations; add `operations` to "
            "one scenario's load (bench_app.scenarios.<n>.load)"
        )
    kinds = [k for k in kinds if _possible(k, eps, o_set, slow, limits or {}, asked=asked)]
    return [(ep, kind, rate_of(ep, o_set["utilization"]), n) for n, ep in enumerate(eps) for kind in kinds]


def _possible(kind: str, eps: list[dict], o_set: dict, slow: list[dict], limits: dict, *, asked: bool) -> bool:
    """Whether the instances' gunicorn settings let an operation show anything (unknown settings: yes); not, and
    asked for by name: refused."""
    why = None
    timeout_s, max_requests = limits.get("timeout_s"), limits.get("max_requests")
    if kind == "timeout" and len(slow) != 1:
        why = (f"operations=timeout: the app needs one scenario loaded as `timeout` (the request slower than "
               f"gunicorn's timeout), not {len(slow)} (bench_app.scenarios.<n>.load)")  # fmt: skip
    elif kind == "timeout" and o_set["at_s"] + slow[0]["unit_s"] + 1 > o_set["time_s"]:
        why = (f"load_operations.time_s={o_set['time_s']:g}: a timeout at {o_set['at_s']:g} s sends "
               f"{slow[0]['scenario_name']} ({slow[0]['unit_s']:g} s): the run must outlast it by a "
               "second")  # fmt: skip
    elif kind == "timeout" and timeout_s is not None and int(timeout_s) >= slow[0]["unit_s"]:
        why = (f"operations=timeout: gunicorn_timeout={int(timeout_s)} is not shorter than "
               f"{slow[0]['scenario_name']} ({slow[0]['unit_s']:g} s): the master would never time a worker out; "
               "-e gunicorn_timeout=2, say")  # fmt: skip
    if kind == "recycle" and max_requests is not None:
        sent = min(rate_of(ep, o_set["utilization"]) for ep in eps) * o_set["time_s"]
        if int(max_requests) <= 0:
            why = "operations=recycle: gunicorn_max_requests=0 recycles no worker; -e gunicorn_max_requests=20, say"
        elif int(max_requests) + int(limits.get("max_requests_jitter") or 0) > sent:
            why = (f"operations=recycle: gunicorn_max_requests={int(max_requests)} (+ jitter) is more than the run "
                   f"sends ({sent:g} requests): no worker would be recycled in it")  # fmt: skip
    if why and asked:
        raise OperationError(why)
    return why is None


def blocks_heartbeat(worker_type: str, task: str, cat) -> bool:
    """Whether a request of this task holds what tells gunicorn's master that its worker is alive: a worker that
    serves one request at a time (sync: its loop waits in the app), or one whose loop the request holds (an event
    loop computing). A thread's wait (gthread) or a greenlet's (gevent) leaves the worker's loop free to signal."""
    theory = cat.type(worker_type).theory
    return theory["cpu" if task == "cpu" else "io"] == "workers"


def fits(worker_type: str, kind: str, slow: list[dict], cat, *, asked: bool) -> bool:
    """Whether an operation applies to a type: a timeout only where its request holds the worker's heartbeat (else
    the master never times the worker out: an IO wait on gthread, gevent, eventlet, asgi..., as found on the lab,
    docs/measurement.md). Asked for by name, one that cannot apply is refused; by `all`, it is left out there."""
    if kind != "timeout" or blocks_heartbeat(worker_type, slow[0]["task"], cat):
        return True
    if asked:
        raise OperationError(
            f"operations=timeout with worker={worker_type}: {slow[0]['scenario_name']} ({slow[0]['task']}) never "
            f"holds a {worker_type} worker's heartbeat, so gunicorn's timeout never aborts it; leave timeout out for "
            f"{worker_type}, or load a cpu request as `timeout`"
        )
    return False


def row_fields(
    kind: str, per_s: float, o_set: dict, grace_s: int, slow: list[dict], *, connection: str = "close"
) -> dict:
    """What a run row of an operation says beside its scenario: evenly spaced requests (each second's alike: what a
    loss is a share of), the operation and its instant (a timeout's: the request it sends; a deploy's: the time its
    tasks are given), its time."""
    time_s = int(o_set["time_s"] + (o_set["deploy_s"] if kind == "deploy" else 0))
    return {"scenario": "operation", "concurrency": 1000, "reps": None, "time_s": time_s,
            "warmup_s": int(o_set["warmup_s"]), "rate_per_s": per_s, "utilization": None, "arrivals": "even",
            "repeat": 1, "discard": False, "tool": "open_loop", "keep_alive": connection == "keep-alive",
            "operation": {"kind": kind, "at_s": o_set["at_s"], "window_s": o_set["window_s"],
                          "new_release": kind in NEW_RELEASE,
                          "deploy_s": int(o_set["deploy_s"]) if kind == "deploy" else None,
                          "slow": {k: slow[0][k] for k in ("scenario_name", "label", "method", "path", "status", "task",
                                                           "unit_s")} if kind == "timeout" else None},
            "timeout_s": int(o_set["warmup_s"]) + time_s + grace_s}  # fmt: skip
