"""Plain sentences of how a burst of requests was served, from the response times or the server's own clock."""

from __future__ import annotations

from collections.abc import Sequence


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


def burst_sentence(
    wait_s: Sequence[float], service_s: Sequence[float], unit_s: float, response_times: Sequence[float] | None = None
) -> str:
    """One plain sentence on how a burst was served, from the server's clock: each request's wait before it reached
    the app and its time inside it (in order of arrival), against one unit of work."""
    n = len(service_s)
    if not n or unit_s <= 0:
        return "no request reached the app"
    times = sorted(response_times or [])
    typical = sorted(service_s)[n // 2]
    waited = [i for i, w in enumerate(wait_s) if w > 0.5 * unit_s]
    last_done = max(w + s for w, s in zip(wait_s, service_s, strict=True))
    # a queue in the app (some waited) that nobody left: the first answer came when the last request was done
    if n > 1 and waited and times and times[0] >= 0.95 * last_done:
        return (
            f"the {n} requests were worked on one after another (each {typical:.2f} s in the app), but none was "
            f"answered before the last had finished (all took about {times[-1]:.1f} s)"
        )
    stretch = typical / unit_s
    shared = f", each {stretch:.1f}× as long as alone (they shared the core)" if stretch >= 1.5 else ""
    if not waited:
        return f"all {n} requests were worked on at once{shared or f' (each {typical:.2f} s in the app)'}"
    at_once = waited[0]
    return (
        f"{at_once} request{'s were' if at_once > 1 else ' was'} worked on at once{shared}; the "
        f"{ordinal(at_once + 1)} waited {wait_s[at_once]:.2f} s to reach the app (the longest wait "
        f"{max(wait_s):.2f} s)"
    )


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
