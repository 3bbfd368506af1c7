"""Which load hosts load which app host, and when: several app hosts are benchmarked at once, each by its own load
hosts; app hosts that would share a load host take turns on it (rounds), so that no load host ever loads two app
hosts at once.

The rule, by default (inventory order of both groups, app hosts numbered i = 0.., load hosts j = 0..):
- at least as many load hosts as app hosts: app host i gets every load host j with j % len(app) == i (one app host
  gets them all; two app and two load hosts make two pairs; two app and four load hosts give each two);
- fewer load hosts than app hosts: app host i gets load host i % len(load), and the app hosts that share one take turns.

An app host's host variable `bench_load_hosts` (a list of hosts of the load group) overrides the rule for that host.
Rounds are given greedily in inventory order: each app host takes the first round in which none of its load hosts is
already taken.
"""

from __future__ import annotations


class PairError(ValueError):
    """A refusal: the message names the host, the variable and what would be valid."""


def default_load_hosts(app_hosts: list[str], load_hosts: list[str]) -> dict[str, list[str]]:
    """The rule above, without host variables."""
    if not load_hosts:
        return {a: [] for a in app_hosts}
    if len(load_hosts) >= len(app_hosts):
        return {a: [h for j, h in enumerate(load_hosts) if j % len(app_hosts) == i] for i, a in enumerate(app_hosts)}
    return {a: [load_hosts[i % len(load_hosts)]] for i, a in enumerate(app_hosts)}


def _chosen(app: str, value, load_hosts: list[str]) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise PairError(f"app host {app}: bench_load_hosts={value!r}: give a list of hosts of the load group "
                        f"({', '.join(load_hosts) or 'none'})")  # fmt: skip
    unknown = [v for v in value if v not in load_hosts]
    if unknown:
        raise PairError(f"app host {app}: bench_load_hosts names {', '.join(unknown)}, not in the load group "
                        f"(its hosts: {', '.join(load_hosts) or 'none'})")  # fmt: skip
    return list(dict.fromkeys(value))


def pairs(app_hosts: list[str], load_hosts: list[str], chosen: dict[str, object] | None = None) -> dict[str, dict]:
    """Per app host, in inventory order: its load hosts and its round (0..). `chosen` holds each app host's
    bench_load_hosts where the inventory sets one. Refuses an app host left without a load host, naming it."""
    chosen = chosen or {}
    stray = sorted(set(chosen) - set(app_hosts))
    if stray:
        raise PairError(f"bench_load_hosts is set for {', '.join(stray)}, which is not in the app group")
    given = default_load_hosts(app_hosts, load_hosts)
    out: dict[str, dict] = {}
    taken: list[set[str]] = []  # per round, the load hosts busy in it
    for app in app_hosts:
        mine = _chosen(app, chosen[app], load_hosts) if chosen.get(app) is not None else given[app]
        if not mine:
            raise PairError(f"app host {app} has no load host: add hosts to the load group or name some in its "
                            f"bench_load_hosts (load hosts: {', '.join(load_hosts) or 'none'})")  # fmt: skip
        turn = next((i for i, busy in enumerate(taken) if not busy & set(mine)), len(taken))
        if turn == len(taken):
            taken.append(set())
        taken[turn] |= set(mine)
        out[app] = {"load_hosts": mine, "round": turn}
    return out


def describe(found: dict[str, dict]) -> list[str]:
    """One line per app host, for the run's output: 'app1 <- load1 (round 1 of 2)'."""
    rounds = 1 + max((p["round"] for p in found.values()), default=0)
    return [f"{app} <- {', '.join(p['load_hosts'])}" + (f" (round {p['round'] + 1} of {rounds})" if rounds > 1 else "")
            for app, p in found.items()]  # fmt: skip
