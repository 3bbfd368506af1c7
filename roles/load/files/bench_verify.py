#!/usr/bin/env python3
"""Verify an app before any load, as TechEmpower's toolset does: one request per scenario, from this load host, and
the status each answered against the one it must.

Usage:
  bench_verify.py SCENARIOS.json --base-url URL [--timeout S] [--at-once N]
SCENARIOS: [{"name", "method", "path", "body" (or null), "headers" {...}, "status"}, ...] (bench/model/app.py's
scenarios)
Up to N requests are sent at once (the worker type's simultaneous requests, from its theory: a type that serves one
at a time is asked one at a time, and no answer waits in its queue behind another's); one at a time, in the file's
order, when a scenario's method is not safe (POST, PUT, PATCH, DELETE: its requests may depend on their order).
Prints one JSON line per scenario, in the file's order: name, method, path, expected, status (null when no answer
came), ok, started_s (since the verification began), elapsed_s, head (the answer's first 300 characters), error (why
no answer came). Exits 0 when every scenario answered its status, 1 otherwise. Standard library only: load hosts have
python3 and nothing else.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import sys
import time
import urllib.error
import urllib.request

HEAD_CHARS = 300
# Methods that change nothing on the server (RFC 9110, 9.2.1): scenarios that use only these may be asked in any order.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is the answer, not a step to follow: siege and wrk would load the first URL too."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def verify(base_url: str, scenario: dict, timeout: float, began: float | None = None) -> dict:
    body = scenario.get("body")
    request = urllib.request.Request(
        base_url.rstrip("/") + scenario["path"],
        data=body.encode() if body is not None else None,
        headers={"User-Agent": "gunicorn-bench verify", **(scenario.get("headers") or {})},
        method=scenario.get("method", "GET"),
    )
    out = {"name": scenario["name"], "method": request.get_method(), "path": scenario["path"],
           "expected": scenario.get("status", 200), "status": None, "ok": False, "elapsed_s": None, "head": "",
           "error": None}  # fmt: skip
    started = time.monotonic()
    out["started_s"] = round(started - (started if began is None else began), 4)
    try:
        with OPENER.open(request, timeout=timeout) as answer:
            out["status"], raw = answer.status, answer.read(HEAD_CHARS * 4)
    except urllib.error.HTTPError as exc:  # an answer, with a status >= 400
        out["status"], raw = exc.code, exc.read(HEAD_CHARS * 4)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        out["error"] = f"no answer within {timeout:g} s" if isinstance(reason, TimeoutError) else str(reason)
        raw = b""
    out["elapsed_s"] = round(time.monotonic() - started, 4)
    out["head"] = raw.decode("utf-8", errors="replace")[:HEAD_CHARS]
    out["ok"] = out["status"] == out["expected"]
    return out


def verify_all(base_url: str, scenarios_file: str, timeout: float, at_once: int = 1) -> bool:
    """Each scenario of the file requested once, up to at_once of them at a time, a JSON line each printed in the
    file's order; whether every one answered its status. One at a time, in the file's order, when a scenario uses a
    method that is not safe (a POST that creates what a later GET reads). (load_driver.py's turn calls it before any
    load.)"""
    with open(scenarios_file, encoding="utf-8") as fh:
        scenarios = json.load(fh)
    if any(str(sc.get("method") or "GET").upper() not in SAFE_METHODS for sc in scenarios):
        at_once = 1
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(at_once, len(scenarios) or 1))) as pool:
        results = list(pool.map(lambda sc: verify(base_url, sc, timeout, began), scenarios))
    for row in results:
        print(json.dumps(row), flush=True)
    return all(r["ok"] for r in results)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("scenarios")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--at-once", type=int, default=1, help="requests sent at once (default 1: one after another)")
    args = parser.parse_args(argv)
    return 0 if verify_all(args.base_url, args.scenarios, args.timeout, args.at_once) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
