"""Statistics over response times: percentiles, effective concurrency, and what theory predicts per worker type."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.model import catalog


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def effective_concurrency(response_times: Sequence[float], unit_s: float, n: int | None = None) -> float | None:
    """How many requests the server worked on at once, from a burst of N simultaneous requests.

    N requests of ``unit_s`` seconds each that all finished within ``max(response_times)`` were served, on average,
    N * unit_s / max(response_times) at a time: 1 for a 1,2,3,4 s ladder, 2 for 1,1,2,2, N when all took unit_s.
    ``n`` is the burst size when it differs from the number of times (c=1 repeated to measure one unit).
    """
    if not response_times or unit_s <= 0 or max(response_times) <= 0:
        return None
    return (n or len(response_times)) * unit_s / max(response_times)


def capacity(
    worker_type: str, workers: int, threads: int, worker_connections: int, *, cat: catalog.Catalog | None = None
) -> int:
    """Simultaneous requests a worker configuration can hold: its IO bound in the catalog (the run's, else today's
    worker_types.yml)."""
    return slots(worker_type, "io", workers, threads, worker_connections, cat=cat)


def slots(
    worker_type: str,
    task: str,
    workers: int,
    threads: int,
    worker_connections: int,
    *,
    cat: catalog.Catalog | None = None,
) -> int:
    """How many requests the app works on at once, by the catalog's theory of the type for that task: on IO its
    capacity; on CPU work a request that blocks a loop (gevent, eventlet, asgi, uvicorn) leaves one per worker, while
    threads still take one each, sharing their process's GIL. A type the catalog does not know is an error."""
    bound = (cat or catalog.load()).type(worker_type).theory["cpu" if task == "cpu" else "io"]  # untagged: as io
    return catalog.slots_of(bound, workers, threads, worker_connections)


def cpu_lanes(workers: int, cores: int) -> int:
    """How many CPU-bound requests can progress at the same instant: one per process (the GIL), one per core."""
    return max(1, min(workers, cores))


def ladder(n: int, k: int) -> float:
    """Average number at once of n simultaneous requests on k slots: they finish in ceil(n/k) rounds, so a perfect
    ladder serves n ÷ ceil(n/k) at a time (10 on 4: 3.33, not 4)."""
    return n / math.ceil(n / max(k, 1))


def expected_at_once(
    worker_type: str,
    task: str,
    n: int,
    *,
    workers: int,
    threads: int,
    worker_connections: int,
    cores: int,
    cat: catalog.Catalog | None = None,
) -> float:
    """Theory of how many of a burst of n requests the app works on at once (the queue): rounds of up to k (the
    slots), time-averaged. On IO every round lasts one unit, which gives n ÷ ceil(n/k). On CPU work a round of r
    requests that share fewer lanes (cores, GILs) lasts r ÷ lanes units, so the full rounds weigh more: 10 requests
    on 4 threads of one process are rounds of 4, 4 and 2 lasting 4, 4 and 2 units, 3.6 at once (not 3.33)."""
    k = slots(worker_type, task, workers, threads, worker_connections, cat=cat)
    lanes = cpu_lanes(workers, cores) if task == "cpu" else k
    rounds = [min(k, n - i) for i in range(0, n, k)]
    durations = [max(r / lanes, 1.0) for r in rounds]
    return sum(r * d for r, d in zip(rounds, durations, strict=True)) / sum(durations)


def expected_concurrency(
    worker_type: str,
    task: str,
    concurrency: int,
    *,
    workers: int,
    threads: int,
    worker_connections: int,
    cores: int,
    cat: catalog.Catalog | None = None,
) -> float:
    """Theory of the effective concurrency (units of work done per unit of time) of a burst: IO waits overlap up to
    the slots, in rounds; CPU work also needs a core and its process's GIL, so it never goes beyond
    min(workers, cores) (more slots than that share the cores: 3 sync workers on 2 cores give 2)."""
    at_once = ladder(concurrency, slots(worker_type, task, workers, threads, worker_connections, cat=cat))
    if task == "cpu":
        return min(at_once, float(cpu_lanes(workers, cores)))
    return at_once


def relative_error(measured: float, expected: float) -> float:
    return abs(measured - expected) / expected


def round_or_none(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
