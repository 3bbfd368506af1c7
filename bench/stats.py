"""Statistics over response times: percentiles, effective concurrency, and what theory predicts per worker type."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Worker types whose requests share one interpreter loop (greenlets): concurrent on IO, serial on CPU.
GREEN = ("gevent", "eventlet")


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


def capacity(worker: str, workers: int, threads: int, worker_connections: int) -> int:
    """Simultaneous requests a worker configuration can hold, by gunicorn's model of each worker type."""
    if worker == "gthread":
        return workers * threads
    if worker in GREEN:
        return workers * worker_connections
    return workers  # sync: one request per process; tornado runs the WSGI app inside its loop, one at a time


def expected_concurrency(
    worker: str, task: str, concurrency: int, *, workers: int, threads: int, worker_connections: int, cores: int
) -> int:
    """Theory for a burst of ``concurrency`` requests: IO waits overlap up to the capacity; CPU work overlaps only
    across processes (the GIL, or one greenlet loop per process), and never beyond the app host's cores."""
    cap = capacity(worker, workers, threads, worker_connections)
    if task == "cpu":
        cap = min(workers, max(cores, 1))
    return max(1, min(concurrency, cap))


def relative_error(measured: float, expected: float) -> float:
    return abs(measured - expected) / expected


def ladder_sentence(response_times: Sequence[float], unit_s: float) -> str:
    """One plain sentence on how a burst of requests was served, from their response times."""
    times = sorted(response_times)
    n = len(times)
    if not n:
        return "no request completed"
    if times[-1] < 1.5 * unit_s:
        return f"all {n} requests were served at once (each took about {unit_s:g} s)"
    if times[0] >= (n - 0.5) * unit_s:
        return (
            f"the {n} requests were worked on one after another, but none was answered before the last had "
            f"finished (all took about {times[-1]:.1f} s)"
        )
    first_wait = next(i for i, t in enumerate(times) if t >= 1.5 * unit_s)
    at_once = first_wait
    if at_once == 0:
        return (
            f"no request finished in one unit of work: the {n} requests shared the server and took turns "
            f"(first answered after {times[0]:.1f} s, last after {times[-1]:.1f} s)"
        )
    return (
        f"{at_once} request{'s were' if at_once > 1 else ' was'} served at once; the {ordinal(first_wait + 1)} "
        f"request waited for the {'1st' if at_once == 1 else 'first ' + str(at_once)} to finish "
        f"(longest {times[-1]:.1f} s)"
    )


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
