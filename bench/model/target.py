"""A latency target (a service level objective): the percentile of the latency, from each request's due time, that
must stay within a bound, and the share of requests that may fail. A scenario's capacity search
(bench/analyse/capacity.py) finds the highest rate that meets it."""

from __future__ import annotations

FIELDS = ("percentile", "latency_s", "error_budget")
ERROR_BUDGET = 0.01  # when a target gives none


class TargetError(ValueError):
    """A latency target that cannot be searched for; the message names the field and what would be valid."""


def check(target, where: str) -> dict:
    """{"percentile", "latency_s", "error_budget"} from what a user wrote; refuses what cannot be searched for."""
    if not isinstance(target, dict):
        raise TargetError(f"{where}: give percentile, latency_s and optionally error_budget, not {target!r}")
    unknown = sorted(set(target) - set(FIELDS))
    if unknown:
        raise TargetError(f"{where}: unknown field(s) {', '.join(unknown)} ({', '.join(FIELDS)})")
    q, latency = target.get("percentile"), target.get("latency_s")
    budget = target.get("error_budget", ERROR_BUDGET)
    if q is None:
        raise TargetError(f"{where}.percentile: missing (a latency target needs the percentile it bounds, e.g. 99)")
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q < 100:
        raise TargetError(f"{where}.percentile={q!r}: a number between 0 and 100, e.g. 99 or 99.9")
    if isinstance(latency, bool) or not isinstance(latency, int | float) or not latency > 0:
        raise TargetError(f"{where}.latency_s={latency!r}: the bound in seconds, a number > 0, e.g. 0.25")
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 <= budget < 1:
        raise TargetError(f"{where}.error_budget={budget!r}: the share of requests that may fail, 0 <= it < 1")
    return {"percentile": float(q), "latency_s": float(latency), "error_budget": float(budget)}
