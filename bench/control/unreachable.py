"""Which load host stopped answering during a worker type's load, from what Ansible registered of the steps that reach
the load hosts (roles/load/tasks/turn.yml and run_shared.yml run them with ignore_unreachable)."""

from __future__ import annotations

from collections.abc import Mapping


def lost_load_host(registered: list, load_hosts: list[str]) -> dict:
    """{"lost", "host", "msg"} of the first unreachable result among the registered steps' results.

    A step is a loop (its `results`) or one task. A result's `item` names the host when the loop went over the load
    hosts (a host name), or over their jobs (the job's own `item`); a task with no loop (the driver's turn on the one
    load host) names none: the first load host."""
    unreachable = [result for one in registered if isinstance(one, Mapping)
                   for result in one.get("results", [one])
                   if isinstance(result, Mapping) and result.get("unreachable")]  # fmt: skip
    first = unreachable[0] if unreachable else {}
    item = first.get("item")
    if isinstance(item, str):
        host = item
    elif isinstance(item, Mapping) and "item" in item:
        host = item["item"]
    else:
        host = load_hosts[0] if load_hosts else None
    return {"lost": bool(unreachable), "host": host, "msg": first.get("msg", "unreachable")}
