"""The scenario matrix of a run: every siege run, in order, with its place, its parameters and its worker config."""

from __future__ import annotations

import re

SLUG_RE = re.compile(r"[^A-Za-z0-9]+")


# A siege sweep run of -t 1S measures mostly siege's own start (2026-11-27, quick runs on the lab: 25 of 36 such runs
# lasted under 0.8 s, 3 had no transaction); from 2 s on, every run had transactions (siege's elapsed time is
# about 0.5-1 s short of the time asked at any length: rps is transactions over that elapsed time).
SIEGE_MIN_TIME_S = 2


class ScenarioError(ValueError):
    """A scenario setting that cannot work; the message names the variable."""


def slug(path: str) -> str:
    return SLUG_RE.sub("-", path).strip("-") or "root"


def _positive_ints(name: str, values) -> list[int]:
    if not isinstance(values, list) or not values:
        raise ScenarioError(f"{name}={values!r}: a non-empty list of whole numbers, e.g. [1, 2, 4, 10]")
    out = []
    for v in values:
        if isinstance(v, bool) or not str(v).isdigit() or int(v) < 1 or int(v) > 1000:
            raise ScenarioError(f"{name}: {v!r} is not a whole number from 1 to 1000")
        out.append(int(v))
    return out


def endpoints_for(scenarios: list[dict], load: str, profile: str) -> list[dict]:
    """The app's scenarios (bench_app.scenarios, as App.as_vars gives them) that this load (probe, sweep) runs in this
    profile."""
    return [sc for sc in scenarios if load in sc["load"] and (sc.get("profiles") is None or profile in sc["profiles"])]


def _whole(name: str, value, low: int = 1, unit: str = "") -> int:
    """A whole number >= low of `unit` (seconds, runs); the refusal names the variable, what it counts and the floor."""
    if isinstance(value, bool) or not str(value).isdigit() or int(value) < low:
        raise ScenarioError(f"{name}={value!r}: a whole number of {unit} >= {low}")
    return int(value)


def _request(scenario: dict) -> dict:
    """What a run sends and expects (bench_app.scenarios); `label` is how the report names its scenario
    (Scenario.label)."""
    return {k: scenario.get(k) for k in ("scenario_name", "label", "method", "path", "body", "headers", "status",
                                          "task", "unit_s")}  # fmt: skip


def build_matrix(
    instances: list[dict],
    probes: dict,
    sweep: dict,
    *,
    scenarios: list[dict],
    profile: str,
    connection_default: str = "close",
    connection_by_worker_type: dict | None = None,
    probe_timeout_s: int = 60,
    sweep_grace_s: int = 30,
    sweep_tool: str = "siege",
) -> list[dict]:
    """Every siege run of the benchmark, numbered across the whole matrix ("[7/30]"): the app's scenarios (probes and
    sweeps, those of this profile) under the profile's concurrencies and times. Probes always use siege (they need
    every response time); the sweep and its warm-ups use sweep_tool (siege or wrk). Each row's keys are the ones the
    playbooks and roles read, and run.json keeps, under results.json's names: `worker_type`, `label` (how the report
    names its scenario) and `progress` (its line in Ansible's output and the load driver's)."""
    if sweep_tool not in ("siege", "wrk"):
        raise ScenarioError(f"load_tool={sweep_tool!r}: use siege or wrk (wrk runs the sweep; probes stay on siege)")
    runs: list[dict] = []
    p_conc = _positive_ints("load_probes.concurrency", probes.get("concurrency"))
    p_eps = endpoints_for(scenarios, "probe", profile)
    # c=1 measures one unit of work (for endpoints without unit_s): several requests, one after another.
    calibration_reps = _whole("load_probes.calibration_reps", probes.get("calibration_reps", 3), unit="requests")
    s_conc = _positive_ints("load_sweep.concurrency", sweep.get("concurrency"))
    s_eps = endpoints_for(scenarios, "sweep", profile)
    if not s_eps:
        raise ScenarioError(f"bench_app.scenarios: none is swept in profile {profile}")
    time_s = _whole("load_sweep.time_s", sweep.get("time_s"), unit="seconds")
    if sweep_tool == "siege" and time_s < SIEGE_MIN_TIME_S:
        raise ScenarioError(
            f"load_sweep.time_s={time_s}: siege needs at least {SIEGE_MIN_TIME_S} s (its clock starts before its "
            "clients: runs of -t 1S on the lab lasted 0.0-0.98 s, 3 of 36 with no transaction at all)"
        )
    warmup_s = _whole("load_sweep.warmup_s", sweep.get("warmup_s", 0), low=0, unit="seconds")
    repeats = _whole("load_sweep.repeats", sweep.get("repeats", 1), unit="runs")
    connections = connection_by_worker_type or {}
    for inst in instances:
        worker_type = inst["worker_type"]
        connection = connections.get(worker_type, connection_default)
        if connection not in ("close", "keep-alive"):
            raise ScenarioError(f"load_connection_by_worker_type.{worker_type}={connection!r}: use close or keep-alive")
        common = {
            "worker_type": worker_type,
            "instance": inst["name"],
            "app": inst["app"],
            "worker_class": inst["worker_class"],
            "workers": int(inst["workers"]),
            "threads": int(inst["threads"]),
            "worker_connections": int(inst["worker_connections"]),
            "gunicorn_version": str(inst["gunicorn_version"]),
            "http_parser": inst.get("http_parser"),
            "asgi_loop": inst.get("asgi_loop"),
            "connection": connection,
        }
        for ep in p_eps:
            for c in p_conc:
                runs.append({**common, **_request(ep), "scenario": "probe", "concurrency": c,
                             "reps": calibration_reps if c == 1 else 1, "time_s": None,
                             "timeout_s": probe_timeout_s, "repeat": 1, "discard": False, "tool": "siege",
                             "name": f"{worker_type}-probe-{slug(ep['label'])}-c{c}"})  # fmt: skip
        for ep in s_eps:
            if warmup_s:
                runs.append({**common, **_request(ep), "scenario": "warmup", "concurrency": max(s_conc), "reps": None,
                             "time_s": warmup_s, "timeout_s": warmup_s + sweep_grace_s, "repeat": 1, "tool": sweep_tool,
                             "discard": True, "name": f"{worker_type}-warmup-{slug(ep['label'])}"})  # fmt: skip
            for c in s_conc:
                for r in range(1, repeats + 1):
                    runs.append({**common, **_request(ep), "scenario": "sweep", "concurrency": c, "reps": None,
                                 "time_s": time_s,
                                 "timeout_s": time_s + sweep_grace_s, "repeat": r, "discard": False, "tool": sweep_tool,
                                 "name": f"{worker_type}-sweep-{slug(ep['label'])}-c{c}-r{r}"})  # fmt: skip
    total = len(runs)
    for i, run in enumerate(runs, start=1):
        run["index"] = i
        kind = run["scenario"] + (f", {run['tool']}" if run["tool"] != "siege" else "")
        run["progress"] = f"[{i}/{total}] {run['worker_type']} {run['label']} c={run['concurrency']} ({kind})"
    return runs
