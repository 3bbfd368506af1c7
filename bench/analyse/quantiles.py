"""Percentiles you can believe: each with its number of samples and a distribution-free confidence interval from
order statistics, or the plain statement that the samples cannot support it (p99.9 of 400 requests).

With n samples, the number B of them below the true p-quantile is Binomial(n, p). The interval between the l-th and
u-th smallest samples covers the quantile with probability P(l <= B <= u - 1); l and u are taken equal-tailed (each
tail at most (1 - level) / 2), the narrowest such pair. When no rank is far enough out on a side (too few samples
beyond the quantile), the interval is unbounded there and the percentile is not supported."""

from __future__ import annotations

import math
from collections.abc import Sequence

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def binomial_cdf(n: int, p: float) -> list[float]:
    """P(B <= j) for j = 0 .. n, B ~ Binomial(n, p), computed in log space (n in the hundreds of thousands)."""
    if n < 0 or not 0 < p < 1:
        raise ValueError(f"n={n}, p={p}: n >= 0 and 0 < p < 1")
    log_p, log_q = math.log(p), math.log1p(-p)
    out, total = [], 0.0
    for j in range(n + 1):
        log_pmf = math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * log_p + (n - j) * log_q
        total += math.exp(log_pmf)
        out.append(min(total, 1.0))
    return out


def ci_ranks(n: int, q: float, level: float = 0.95) -> tuple[int | None, int | None]:
    """1-based ranks (l, u) of the order statistics that bound the q-th percentile (0 < q < 100) at this confidence
    level; None on a side the samples cannot bound."""
    if not 0 < q < 100 or not 0 < level < 1:
        raise ValueError(f"percentile {q}, level {level}: 0 < q < 100 and 0 < level < 1")
    if n == 0:
        return None, None
    tail = (1 - level) / 2
    cdf = binomial_cdf(n, q / 100)  # cdf[j] = P(B <= j)
    lows = [j for j in range(1, n + 1) if cdf[j - 1] <= tail]
    highs = [j for j in range(1, n + 1) if cdf[j - 1] >= 1 - tail]
    return (max(lows) if lows else None), (min(highs) if highs else None)


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile as the sample of rank ceil(q n / 100): a value that was measured, never an interpolation."""
    return ordered[max(1, math.ceil(q * len(ordered) / 100 - 1e-9)) - 1]


def summary(values: Sequence[float], percentiles: Sequence[float] = PERCENTILES, level: float = 0.95) -> dict:
    """{"n", "max", "percentiles": {"p50": {"value", "low", "high", "supported"}, ...}}: value the nearest-rank
    percentile, low and high its interval's bounds (None where unbounded), supported whether both exist. An
    unsupported percentile keeps its value for reference, but a report shows it as not supported."""
    ordered = sorted(values)
    n = len(ordered)
    out = {"n": n, "max": ordered[-1] if ordered else None, "level": level, "percentiles": {}}
    for q in percentiles:
        low, high = ci_ranks(n, q, level)
        out["percentiles"][label(q)] = {
            "value": nearest_rank(ordered, q) if ordered else None,
            "low": ordered[low - 1] if low else None,
            "high": ordered[high - 1] if high else None,
            "supported": bool(low and high),
        }
    return out


def label(q: float) -> str:
    """p50, p99, p99.9."""
    return f"p{q:g}"


def samples_needed(q: float, level: float = 0.95) -> int:
    """The fewest samples whose interval for the q-th percentile is bounded on both sides: the top rank bounds it
    once P(every sample below it) = p^n is at most the tail, the bottom rank once (1 - p)^n is."""
    if not 0 < q < 100 or not 0 < level < 1:
        raise ValueError(f"percentile {q}, level {level}: 0 < q < 100 and 0 < level < 1")
    tail, p = (1 - level) / 2, q / 100
    return max(math.ceil(math.log(tail) / math.log(p)), math.ceil(math.log(tail) / math.log1p(-p)))
