"""Queueing theory, the yardstick of load at a rate: how long a request waits for a slot (before the app starts on
it) when requests of a fixed service time D arrive at rate λ on a worker type with k slots.

- Poisson arrivals, k = 1 (M/D/1): Pollaczek-Khinchine, exact: Wq = ρD / (2(1 - ρ)), ρ = λD.
- Poisson arrivals, k > 1 (M/D/k): Cosmetatos' approximation (G. P. Cosmetatos, "Approximate explicit formulae for
  the average queueing time in the processes (M/D/r) and (D/M/r)", INFOR 13(3), 1975, 328-331), which corrects half
  of the M/M/k wait (Erlang C): Wq ≈ ½ Wq(M/M/k) [1 + (1 - ρ)(k - 1)(√(4 + 5k) - 2) / (16ρk)], ρ = λD / k; exact
  for k = 1.
- Evenly spaced arrivals below saturation (D/D/k): nobody waits.
At ρ ≥ 1 the queue grows without bound for as long as the load lasts: no mean wait exists (None).

The distribution of the wait, k = 1 (M/D/1), exact (A. K. Erlang, 1909; e.g. Gross and Harris, "Fundamentals of
Queueing Theory"): P(W <= t) = (1 - ρ) Σ_{j=0}^{⌊t/D⌋} (λ(jD - t))^j / j! e^{-λ(jD - t)}. From it, the capacity
within a latency target: the highest rate whose q-th percentile of wait plus D is within the bound."""

from __future__ import annotations

import heapq
import math

ARRIVALS = ("poisson", "even")


def utilisation(rate: float, service_s: float, slots: int) -> float:
    """ρ: the share of the slots' time the offered load asks for."""
    if rate < 0 or service_s <= 0 or slots < 1:
        raise ValueError(f"rate {rate}, service time {service_s} s, {slots} slots: use a rate >= 0, a positive time")
    return rate * service_s / slots


def erlang_c(slots: int, offered: float) -> float:
    """The probability that an arrival waits in M/M/k with k slots and offered load a = λ/μ < k (Erlang's C)."""
    if not 0 <= offered < slots:
        raise ValueError(f"offered load {offered} with {slots} slots: it must be below the slots")
    term, total = 1.0, 1.0  # a^n / n!, summed for n = 0 .. k-1
    for n in range(1, slots):
        term *= offered / n
        total += term
    last = term * offered / slots  # a^k / k!
    waiting = last * slots / (slots - offered)
    return waiting / (total + waiting)


def mmk_wait_s(rate: float, service_s: float, slots: int) -> float | None:
    """Mean wait in M/M/k (exponential service of mean service_s): Erlang C over (kμ - λ); None at ρ >= 1."""
    if utilisation(rate, service_s, slots) >= 1:
        return None
    return erlang_c(slots, rate * service_s) / (slots / service_s - rate)


# Slots beyond which no request waits, for an offered load a = λD: the chance that a Poisson number of mean a busy
# slots reaches 10a + 100 is below 1e-40 (a type whose IO is bounded by a million connections, say).
def never_full(offered: float, slots: int) -> bool:
    return slots > 10 * offered + 100


def mdk_wait_s(rate: float, service_s: float, slots: int) -> float | None:
    """Mean wait in M/D/k: exact for one slot, Cosmetatos' approximation for more; None at ρ >= 1."""
    rho = utilisation(rate, service_s, slots)
    if rho >= 1:
        return None
    if rho == 0 or never_full(rate * service_s, slots):
        return 0.0
    if slots == 1:
        return rho * service_s / (2 * (1 - rho))
    correction = 1 + (1 - rho) * (slots - 1) * (math.sqrt(4 + 5 * slots) - 2) / (16 * rho * slots)
    return 0.5 * mmk_wait_s(rate, service_s, slots) * correction


def mean_wait_s(rate: float, service_s: float, slots: int, arrivals: str) -> float | None:
    """What theory says a request waits on average, for the arrivals of a run (poisson or even)."""
    if arrivals not in ARRIVALS:
        raise ValueError(f"arrivals={arrivals!r}: use {' or '.join(ARRIVALS)}")
    if arrivals == "even":
        return 0.0 if utilisation(rate, service_s, slots) < 1 else None
    return mdk_wait_s(rate, service_s, slots)


def simulate_wait_s(arrival_times: list[float], service_s: float, slots: int) -> list[float]:
    """Each request's wait in a first-come first-served queue of k slots and a fixed service time: what the theory
    above describes, computed request by request (the tests check the formulas against it)."""
    free = [0.0] * min(slots, len(arrival_times) or 1)  # when each slot is next free, kept as a heap (more slots
    # than requests: as many)
    waits = []
    for t in arrival_times:
        soonest = heapq.heappop(free)
        start = max(t, soonest)
        waits.append(start - t)
        heapq.heappush(free, start + service_s)
    return waits


def md1_wait_cdf(wait_s: float, rate: float, service_s: float) -> float:
    """P(W <= wait_s) in M/D/1 (Erlang's formula above); at rho >= 1 no stationary wait exists: 0."""
    rho = utilisation(rate, service_s, 1)
    if wait_s < 0 or rho >= 1:
        return 0.0
    total = sum((rate * (j * service_s - wait_s)) ** j / math.factorial(j) * math.exp(-rate * (j * service_s - wait_s))
                for j in range(int(wait_s // service_s) + 1))  # fmt: skip
    return min(1.0, max(0.0, (1 - rho) * total))


def md1_capacity(percentile: float, latency_s: float, service_s: float) -> float:
    """The highest Poisson rate at which one slot of service_s keeps the percentile of its latency (wait + service)
    within latency_s: 0 when one request alone takes longer. Bisection to 0.01 %: P(W <= t) falls as the rate grows.
    Exact only while latency_s - service_s is a few units at most (the alternating sum loses digits beyond)."""
    if not 0 < percentile < 100 or service_s <= 0:
        raise ValueError(f"percentile {percentile}, service time {service_s} s: 0 < percentile < 100, time > 0")
    if latency_s < service_s:
        return 0.0
    low, high = 0.0, 1 / service_s
    while (high - low) > 1e-4 * high:
        mid = (low + high) / 2
        low, high = (
            (mid, high) if md1_wait_cdf(latency_s - service_s, mid, service_s) >= percentile / 100 else (low, mid)
        )
    return low
