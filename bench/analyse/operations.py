"""What an operation under load lost (bench/model/operations.py): from every request of its open-loop run
(open_loop.py's records: when each was due, when it ended, its status or error, the worker that answered and the app
release it had loaded) and what the operation did and when (gunicorn_operation.py's record), each on its own clock of
the same wall time (the lab's one clock; NTP on VMs).

A request is lost when it got no answer (refused, reset, closed, timeout) or an answer other than the scenario's
status; delayed when it was answered right but later than the bound: the scenario's latency target when it has one,
else twice the p99 of the window before the operation and at least 50 ms more than it. The service is back when every
request due after that is answered right within the bound; `back_s` is how long after the operation the last request
that was not was due. Old code after the operation (a request due after it, answered by the release before it) is
the graceful part of a reload; new code before it would be a fault of the instrument (none is expected).

Reasons come from the evidence, never guessed: the errors' kinds (refused: nothing listened on the port; reset or
closed: the process holding the connection went away) and the unit's journal around the instant (gunicorn's own lines:
the HUP handled, workers booted and exiting, a worker killed, the master shut down and started)."""

from __future__ import annotations

import re

from bench.analyse import quantiles

# The bound when the scenario has no target: twice the p99 before the operation, and at least this much above it.
DELAY_FLOOR_S = 0.05
# A recycle's requests: those due within this long after a worker said it would restart (its successor boots).
RECYCLE_NEAR_S = 1.0
# gunicorn's lines (25.x-27.x) that say what the service did around an operation, and how the report words each.
JOURNAL = (
    (re.compile(r"Handling signal: hup", re.I), "HUP handled"),
    (re.compile(r"Handling signal: term", re.I), "TERM handled"),
    (re.compile(r"Booting worker with pid"), "worker booted"),
    (re.compile(r"Worker exiting"), "worker exited"),
    (re.compile(r"Worker \(pid:\d+\) was sent SIGKILL"), "worker killed by SIGKILL"),
    (re.compile(r"WORKER TIMEOUT"), "WORKER TIMEOUT"),
    (RECYCLING := re.compile(r"Autorestarting worker"), "worker recycled"),
    (re.compile(r"Shutting down: Master"), "master shut down"),
    (re.compile(r"Main process exited, code=(?!exited, status=0/)"), "master failed"),  # systemd's words
    (re.compile(r"Scheduled restart job"), "restarted by systemd"),
    (re.compile(r"Starting gunicorn \d"), "master started"),
    (re.compile(r"Listening at"), "listening"),
)
# What each error word of open_loop.py means for a request lost around an operation.
ERROR_MEANS = {
    "refused": "connection refused: nothing listened on the port",
    "reset": "connection reset: the process holding it went away",
    "closed": "connection closed with no answer: the process holding it went away",
    "timeout": "no answer in time",  # within the load generator's wait: `answer_timeout_s` says how long
}


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return quantiles.nearest_rank(sorted(values), q)


def _window(rows: list[dict], start: float, end: float) -> list[dict]:
    return [r for r in rows if start <= r["due"] < end]


def _latencies(rows: list[dict], ok) -> list[float]:
    return [r["done"] - r["due"] for r in rows if ok(r)]


def lost_kind(row: dict, status: int) -> str | None:
    """Why a request is lost: its error word, `status N` for another answer, None when it was answered right."""
    if row["status"] is None:
        return row.get("error") or "no answer"
    return None if row["status"] == status else f"status {row['status']}"


def journal_around(lines: list[tuple[float, str]], start: float, end: float) -> dict[str, int]:
    """gunicorn's lines of the unit's journal between start and end (epoch seconds), counted by what they say."""
    counts: dict[str, int] = {}
    for when, message in lines:
        if start <= when <= end:
            for pattern, word in JOURNAL:
                if pattern.search(message):
                    counts[word] = counts.get(word, 0) + 1
    return counts


# gunicorn's last word when its master exits on an error (its config read again on a reload, say), on stderr
MASTER_ERROR = re.compile(r"^Error: ")


def first_error(lines: list[tuple[float, str]], start: float, end: float) -> str | None:
    """The first error gunicorn's master gave as it exited between start and end, as it said it."""
    return next((m.strip()[:200] for when, m in lines if start <= when <= end and MASTER_ERROR.search(m)), None)


def analyse(header: dict, rows: list[dict], done: dict, run: dict) -> dict:
    """The operation's figures: requests and losses by kind, latency before and after it, old and new code, how long
    until it was served within the bound again, and the reason in words (with_journal adds the journal's
    evidence)."""
    epoch = float(header["epoch"])
    status = int(run["status"])
    op = run["operation"]
    warmup_s = float(run.get("warmup_s") or 0)
    window_s = float(op.get("window_s") or 5)
    at = (float(done["at"]) - epoch) if done.get("at") else warmup_s + float(op["at_s"])
    measured = [r for r in rows if r["due"] >= warmup_s]
    why = {id(r): lost_kind(r, status) for r in measured}  # each request judged once (rows from several hosts repeat i)
    lost = [(r, why[id(r)]) for r in measured if why[id(r)]]
    by_kind: dict[str, int] = {}
    for _, kind in lost:
        by_kind[kind] = by_kind.get(kind, 0) + 1
    ok = lambda r: why[id(r)] is None  # noqa: E731
    before = _latencies(_window(measured, at - window_s, at), ok)
    after = _latencies(_window(measured, at, at + window_s), ok)
    target = run.get("target") or {}
    p99_before = _p(before, 99)
    if target.get("latency_s"):
        bound, bound_is = float(target["latency_s"]), "target"
    else:
        bound, bound_is = _bound(p99_before), "before" if p99_before is not None else None
    delayed = [r for r in measured if r["due"] >= at and ok(r) and bound is not None and r["done"] - r["due"] > bound]
    bad = [r for r, _ in lost if r["due"] >= at - window_s] + delayed
    last_bad = max((r["due"] for r in bad), default=None)
    old, new = str(done.get("release_before")), str(done.get("release_after"))
    changed = old != new
    old_after = [r for r in measured if changed and r["due"] >= at and ok(r) and str(r.get("release")) == old]
    new_before = [r for r in measured if changed and r["due"] < at and ok(r) and str(r.get("release")) == new]
    new_after = [r for r in measured if changed and r["due"] >= at and ok(r) and str(r.get("release")) == new]
    rel = lambda t: None if t is None else round(float(t) - epoch - at, 3)  # noqa: E731  (seconds after the operation)
    out = {
        "kind": op["kind"],
        "at_s": round(at, 3),
        "returned_after_s": rel(done.get("returned")),
        "whole_after_s": rel(done.get("whole")),
        "requests": len(measured),
        "answered_ok": len(measured) - len(lost),
        "lost": len(lost),
        "lost_by_kind": dict(sorted(by_kind.items())),
        "keep_alive": bool(run.get("keep_alive")),
        # lost on a connection an earlier answer had left open (--keep-alive): closed by the server as it came
        "lost_on_kept": sum(1 for r, _ in lost if r.get("reused") == 1),
        "answer_timeout_s": header.get("timeout_s"),  # how long the load generator waited for an answer
        "lost_first_after_s": round(min(r["due"] for r, _ in lost) - at, 3) if lost else None,
        "lost_last_after_s": round(max(r["due"] for r, _ in lost) - at, 3) if lost else None,
        "delayed": len(delayed),
        "bound_s": None if bound is None else round(bound, 6),
        "bound_is": bound_is,
        "before": {"requests": len(before), "p99_s": _round(p99_before), "max_s": _round(max(before, default=None))},
        "after": {"requests": len(after), "p99_s": _round(_p(after, 99)), "max_s": _round(max(after, default=None))},
        "back_after_s": 0.0 if last_bad is None else round(max(0.0, last_bad - at), 3),
        "release_before": old,
        "release_after": new,
        "old_code_after": len(old_after),
        "old_code_last_after_s": round(max(r["done"] for r in old_after) - at, 3) if old_after else None,
        "new_code_before": len(new_before),
        "new_code_after": len(new_after),
        "preload_app": done.get("preload_app"),
        "workers_before": done.get("workers_before") or [],
        "workers_after": done.get("workers_after") or [],
        "workers_gone": sorted(set(done.get("workers_before") or []) - set(done.get("workers_after") or [])),
        "slow": _slow(done.get("slow"), rel),
        "deploy": _deploy(done.get("deploy"), rel),
        "master_changed": bool(done.get("master_before")) and done.get("master_before") != done.get("master_after"),
        "operation_rc": done.get("rc"),
        "operation_output": done.get("output") or "",
        "journal": {},
        "journal_error": None,
        "timeline": [
            [round(r["due"] - at, 3), None if why[id(r)] else round(r["done"] - r["due"], 4), why[id(r)]]
            for r in measured
        ],  # every request measured, from the instant: [due, latency or null, why lost]
        # the stretch of wall time whose journal lines are the operation's evidence: a second before it, to two after
        # the service was whole again
        "at_epoch": round(epoch + at, 6),
        # a recycle's evidence is the whole measured run: its workers restart when they reach max_requests
        "run_from_epoch": round(epoch + warmup_s, 6),
        "run_to_epoch": round(epoch + warmup_s + float(run.get("time_s") or 0), 6),
        "max_requests": done.get("max_requests"),
        "window_s": window_s,
        "evidence_from": round(epoch + at - 1, 6),
        "evidence_to": round(float(done.get("whole") or done.get("returned") or epoch + at) + 2, 6),
    }
    out["verdict"], out["reason"] = verdict(out)
    return out


def _bound(p99_s: float | None) -> float | None:
    """The bound of a request's latency when the scenario has no target: twice the p99 it is set against, and at
    least DELAY_FLOOR_S more than it."""
    return None if p99_s is None else max(2 * p99_s, p99_s + DELAY_FLOOR_S)


def _slow(slow: dict | None, rel) -> dict | None:
    """A timeout's own request: how long it took, how it ended (its status, or the error that ended it), when."""
    if not slow:
        return None
    took = slow["ended"] - slow["sent"] if slow.get("ended") and slow.get("sent") else None
    return {"path": slow.get("path"), "gunicorn_timeout_s": slow.get("gunicorn_timeout_s"),
            "took_s": None if took is None else round(took, 3), "status": slow.get("status"),
            "error": slow.get("error"), "ended_after_s": rel(slow.get("ended"))}  # fmt: skip


def _deploy(deploy: dict | None, rel) -> dict | None:
    """A deploy's own tasks: when they began and ended (seconds from the instant it restarted or reloaded the
    instance), what the readiness check did (restart or reload), whether the code or a virtualenv changed, and
    why it failed if it did."""
    if not deploy:
        return None
    return {"began_after_s": rel(deploy.get("began")), "ended_after_s": rel(deploy.get("ended")),
            "action": deploy.get("action"), "ok": bool(deploy.get("ok")), "error": deploy.get("error") or None,
            "code_changed": deploy.get("code_changed"), "venvs_changed": deploy.get("venvs_changed"),
            "ready_s": deploy.get("ready_s")}  # fmt: skip


def with_journal(found: dict, lines: list[tuple[float, str]]) -> dict:
    """The operation's figures with the unit's journal around it (bench/parse/events.py's lines) as evidence; a
    recycle's, with the restarts the journal saw over the whole run (recycled)."""
    if found["kind"] == "recycle":
        return recycled(found, lines)
    found = {
        **found,
        "journal": journal_around(lines, found["evidence_from"], found["evidence_to"]),
        "journal_error": first_error(lines, found["evidence_from"], found["evidence_to"]),
    }
    found["verdict"], found["reason"] = verdict(found)
    return found


def recycled(found: dict, lines: list[tuple[float, str]]) -> dict:
    """A run of workers recycled by max_requests: when each said it would restart (the journal), the requests due
    within RECYCLE_NEAR_S after each against the others (their p99 and max), those of them later than the bound (the
    target, else twice the others' p99 and at least 50 ms more) delayed; lost, all the run's."""
    run_from = found["run_from_epoch"]
    instants = sorted(when - found["at_epoch"] for when, message in lines
                      if run_from <= when <= found["run_to_epoch"] and RECYCLING.search(message))  # fmt: skip
    is_near = [any(r <= x[0] < r + RECYCLE_NEAR_S for r in instants) for x in found["timeline"]]
    near = [x for x, n in zip(found["timeline"], is_near, strict=True) if n]
    rest = [x for x, n in zip(found["timeline"], is_near, strict=True) if not n]
    near_lat, rest_lat = [x[1] for x in near if x[1] is not None], [x[1] for x in rest if x[1] is not None]
    p99_rest = _p(rest_lat, 99)
    bound = found["bound_s"] if found["bound_is"] == "target" else _bound(p99_rest)
    late = [x for x in near if x[1] is not None and bound is not None and x[1] > bound]
    found = {**found, "journal": journal_around(lines, run_from, found["run_to_epoch"]),
             "delayed": len(late), "bound_s": None if bound is None else round(bound, 6),
             "bound_is": found["bound_is"] if found["bound_is"] == "target" else "rest",
             # no instant: nothing to be back from
             "back_after_s": None, "whole_after_s": None, "returned_after_s": None,
             "before": {"requests": len(rest), "p99_s": _round(p99_rest),
                                              "max_s": _round(max(rest_lat, default=None))},
             "after": {"requests": len(near), "p99_s": _round(_p(near_lat, 99)),
                       "max_s": _round(max(near_lat, default=None))},
             "recycles_at_s": [round(r, 3) for r in instants]}  # fmt: skip
    found["verdict"], found["reason"] = verdict(found)
    return found


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _ms(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _means(kind: str, answer_timeout_s: float | None) -> str:
    if kind == "timeout" and answer_timeout_s:
        return f"no answer within {answer_timeout_s:g} s (the load generator's wait)"
    return ERROR_MEANS.get(kind, kind)


def evidence(found: dict) -> str:
    """The journal's lines around the operation, in words: 'the journal: HUP handled, 2 workers booted, ...'."""
    words = [f"{n} × {w}" if n > 1 else w for w, n in found["journal"].items()]
    return f"the journal: {', '.join(words)}" if words else "nothing of gunicorn's in the journal around it"


def _deploy_words(found: dict) -> list[str]:
    """A deploy's part of the reason: when its tasks ran and what they did to the instance; too little of the run
    after it to judge, when it came late."""
    deploy = found.get("deploy")
    if not deploy or not deploy.get("action"):
        return []
    began, ended = deploy["began_after_s"], deploy["ended_after_s"]
    parts = [
        f"deploy.yml's tasks ran from {began:+.2f} s to {ended:+.2f} s"
        + (" (the code changed" + (" and a virtualenv was rebuilt" if deploy.get("venvs_changed") else "") + ")"
           if deploy.get("code_changed") else "")
        + f" and {deploy['action']}ed the instance at 0 s"
    ]  # fmt: skip
    left = found["run_to_epoch"] - found["at_epoch"]
    if left < found["window_s"]:
        parts.append(
            f"it did so {max(left, 0):.1f} s before the run's end: too little of the run after it to judge "
            f"(give the deploy more time: load_operations.deploy_s)"
        )
    return parts


def verdict(found: dict) -> tuple[str, str]:
    """`lost`, `delayed` or `safe`, and why, from the evidence."""
    parts = []
    if found["kind"] == "recycle":
        limit = found.get("max_requests") or [None, None]
        parts.append(
            f"{len(found.get('recycles_at_s') or [])} workers recycled in the run (max_requests {limit[0]} + up to "
            f"{limit[1]}); the {found['after']['requests']} requests due within {RECYCLE_NEAR_S:g} s after each: p99 "
            f"{_ms(found['after']['p99_s'])} against {_ms(found['before']['p99_s'])} for the others"
        )
    parts += _deploy_words(found)
    slow = found.get("slow")
    if slow:
        ended = f"answered {slow['status']}" if slow.get("status") else f"ended by {slow.get('error') or 'nothing'}"
        timed_out = found["journal"].get("WORKER TIMEOUT")
        parts.append(
            f"the request slower than gunicorn's timeout ({slow['gunicorn_timeout_s']:g} s), `{slow['path']}`, "
            f"{ended} after {slow['took_s']:.2f} s; "
            + (f"the master aborted {'its worker' if timed_out == 1 else f'{timed_out} workers'} (WORKER TIMEOUT)"
               if timed_out else "no worker was timed out")
        )  # fmt: skip
    if found["operation_rc"] not in (0, None):
        parts.append(f"the operation itself failed (exit {found['operation_rc']}: {found['operation_output'][:200]})")
    if found["lost"]:
        kinds = "; ".join(f"{n} {_means(k, found.get('answer_timeout_s'))}" for k, n in found["lost_by_kind"].items())
        first, last = found["lost_first_after_s"], found["lost_last_after_s"]
        span = f"due {first:+.2f} s" + (f" to {last:+.2f} s" if last != first else "") + " from the operation"
        kept = (f"; {found['lost_on_kept']} of them sent on a connection kept alive from an earlier answer, which the "
                "server closed" if found.get("lost_on_kept") else "")  # fmt: skip
        parts.append(f"lost {found['lost']} of {found['requests']} ({kinds}{kept}), {span}")
    if found["delayed"]:
        what = {"target": "its target", "rest": "twice the others' p99"}.get(found["bound_is"] or "", "")
        what = what or "twice the p99 before it"
        parts.append(f"{found['delayed']} answered later than {what} ({_ms(found['bound_s'])})")
    if found["whole_after_s"] is None and found["kind"] != "recycle":
        parts.append("the service was not whole again (its workers, each with the app loaded) within the wait")
    if found["release_after"] != found["release_before"] and not found.get("new_code_after") and found["requests"]:
        why = (": preload_app, the new workers forked from the master, which had loaded the app before it"
               if found.get("preload_app") and found["kind"] == "reload" else "")  # fmt: skip
        parts.append(f"no answer came from the new release after it, all {found['old_code_after']} from the old{why}")
    elif found["old_code_after"]:
        parts.append(
            f"{found['old_code_after']} answered by the old release after it (the last "
            f"{found['old_code_last_after_s']:+.2f} s): old workers finishing"
        )
    if found["new_code_before"]:
        parts.append(f"{found['new_code_before']} answered by the new release before it: a fault of the harness")
    if found.get("journal_error"):
        again = " and systemd started it again" if found["journal"].get("restarted by systemd") else ""
        parts.append(f'the master exited on "{found["journal_error"]}"{again}')
    parts.append(evidence(found))
    kind = "lost" if found["lost"] else "delayed" if found["delayed"] else "safe"
    if kind == "safe":
        parts.insert(0, f"nothing lost of {found['requests']}, none later than {_ms(found['bound_s'])}")
    return kind, "; ".join(parts)


def operation_rows(results: list[dict]) -> list[dict]:
    """Every run with an operation whose figures were read, with them (the run's order); `what`: the operation as
    the report names it (a deploy's with what it did to the instance; with keep-alive when the load kept its
    connections)."""
    out = []
    for r in results:
        found = (r.get("rate") or {}).get("operation") if r["scenario"] == "operation" else None
        if found:
            how = [(found.get("deploy") or {}).get("action") or "", "keep-alive" if found.get("keep_alive") else ""]
            how = ", ".join(h for h in how if h)
            out.append({**r, **found, "what": found["kind"] + (f" ({how})" if how else "")})
    return out
