"""Several app hosts in one run (machines side by side): each app host's view of a run's results, and the figures that
put the hosts side by side.

A view has the shape of a run with one app host (its records, failures, events, versions, processes, verification, and
only its own hosts' facts: the app host and its load hosts), so the report, the history and the index read it as they
read any run. Every run has its app hosts (results_model: schema 6 and the upgrade of older files), one or several.
"""

from __future__ import annotations

from bench.analyse import throughput, verdict
from bench.model import results_model
from bench.model.results_model import variant_of


def app_hosts(results: dict) -> list[str]:
    """The run's app hosts, in inventory order."""
    return list(results["app_hosts"])


def view(results: dict, host: str) -> dict:
    """One app host's part of a run (the model in memory, results_model.current), shaped like a run of one app host."""
    mine = results["app_hosts"][host]
    keep = {host, *mine["load_hosts"]}
    out = {k: v for k, v in results.items() if k != "app_hosts"}
    out.update({k: mine[k] for k in results_model.PER_APP_HOST})
    out.update(
        app_host=host,
        fleet=app_hosts(results),
        load_hosts=list(mine["load_hosts"]),
        hosts={name: facts for name, facts in results["hosts"].items() if name in keep},
        results=[r for r in results["results"] if r["app_host"] == host],
        failures=[f for f in results["failures"] if f["app_host"] == host],
        events=[e for e in results["events"] if e["app_host"] == host],
    )
    if results.get("recommendations") is not None:  # none recorded in a file written before them
        out["recommendations"] = [x for x in results["recommendations"] if x["app_host"] == host]
    return out


def views(results: dict) -> list[dict]:
    """Every app host's view, in inventory order, of a run's results.json content of any schema (results_model)."""
    model = results_model.current(results)
    return [view(model, h) for h in app_hosts(model)]


def app_facts(one: dict) -> dict:
    """The app host's facts in a view (empty when the run recorded none)."""
    return next((h for h in one.get("hosts", {}).values() if h.get("role") == "app"), {})


def host_type(one: dict) -> str:
    """The app host's CPU model and cores: 'Intel Xeon x2'."""
    return f"{app_facts(one).get('cpu_model', '?')} x{verdict.app_cores(one.get('hosts', {}))}"


def machine(one: dict) -> str:
    """What the app host is, in a few words: 'Intel Xeon x2, 3.8 GiB, Debian 13.1, Python 3.13.5'."""
    facts = app_facts(one)
    parts = [host_type(one)]
    if facts.get("memory_mb"):
        parts.append(f"{facts['memory_mb'] / 1024:.1f} GiB")
    parts += [facts[k] for k in ("os",) if facts.get(k)]
    if facts.get("python"):
        parts.append(f"Python {facts['python']}")
    return ", ".join(parts)


def side_by_side(fleet: list[dict], order: list[str]) -> list[dict]:
    """Per worker type and swept scenario (its label), each app host's throughput at the sweep's highest concurrency
    that every host ran validly (or its own highest, marked), per core of that host, and its p99."""
    per_host = {one["app_host"]: throughput.sweep_rows(one["results"]) for one in fleet}
    cores = {one["app_host"]: verdict.app_cores(one.get("hosts", {})) for one in fleet}
    keys = dict.fromkeys((variant_of(r), r["label"]) for rows in per_host.values() for r in rows)
    out = []
    for variant, label in sorted(keys, key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k[1])):
        valid = {h: {r["concurrency"]: r for r in rows if variant_of(r) == variant and r["label"] == label
                     and r["rps"] is not None} for h, rows in per_host.items()}  # fmt: skip
        common = set.intersection(*(set(v) for v in valid.values())) if valid else set()
        at = max(common) if common else None
        cells = {}
        for host, points in valid.items():
            c = at if at is not None else max(points, default=None)
            row = points.get(c) if c is not None else None
            cells[host] = {
                "concurrency": c,
                "rps": row["rps"] if row else None,
                "rps_per_core": row["rps"] / cores[host] if row else None,
                "p99_s": row["p99_s"] if row else None,
                "cores": cores[host],
            }
        out.append({"variant": variant, "label": label, "concurrency": at, "hosts": cells})
    return out
