"""The scenario matrix of a run: every siege run, in order, with its place, its parameters and its worker config."""

from __future__ import annotations

import math
import re

from bench.analyse import quantiles  # the samples a percentile needs: a search that cannot bound it is refused
from bench.model import catalog
from bench.model import operations as ops

SLUG_RE = re.compile(r"[^A-Za-z0-9]+")


# A siege sweep run of -t 1S measures mostly siege's own start (2026-11-27, quick runs on the lab: 25 of 36 such runs
# lasted under 0.8 s, 3 had no transaction); from 2 s on, every run had transactions (siege's elapsed time is
# about 0.5-1 s short of the time asked at any length: rps is transactions over that elapsed time).
SIEGE_MIN_TIME_S = 2
ARRIVALS = ("poisson", "even")  # open_loop.py's schedules (bench/analyse/queueing.py has the theory of each)
# A rate run's connections open at once, at most, unless load_rate.max_open says otherwise: past it a due request
# waits for one to close, and the run is load-bound (bench/parse/rate.py).
RATE_MAX_OPEN = 1000
# The most requests a second one load host sends on time (open_loop.py, send lag p99 under 1 ms): 3,000 measured from
# one pinned lab core against uvicorn's `/` (0.78 ms at 3,000, 17 ms at 3,500; docs/measurement.md#load-at-a-rate).
RATE_CEILING_PER_HOST = 3000


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


def _positive_numbers(name: str, values, high: float | None = None) -> list[float]:
    if not isinstance(values, list) or not values:
        raise ScenarioError(f"{name}={values!r}: a non-empty list of numbers > 0")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0 or (high is not None and v > high):
            raise ScenarioError(f"{name}: {v!r} is not a number > 0" + (f" and <= {high:g}" if high else ""))
    return [float(v) for v in values]


def rate_runs(rate: dict, eps: list[dict]) -> list[tuple[dict, float, float | None]]:
    """(scenario, offered rate, utilization of one slot or None) of every rate run a worker type gets: a scenario's own
    rate_per_s, else the profile's utilizations of one slot (load_rate.utilization: 0.5 offers one request per two
    units of work, what one slot serving unit_s each would be busy half the time with). The same rates for every type:
    its slots make its own utilization (bench/analyse/queueing.py)."""
    out = []
    for ep in eps:
        if ep.get("rate_per_s"):
            out += [(ep, float(r), None) for r in ep["rate_per_s"]]
            continue
        if not ep.get("unit_s"):
            raise ScenarioError(f"bench_app.scenarios ({ep['scenario_name']}): a rate run needs rate_per_s or unit_s")
        utilization = _positive_numbers("load_rate.utilization", rate.get("utilization"), high=10)
        out += [(ep, round(u / float(ep["unit_s"]), 6), u) for u in utilization]
    return out


def _rate_settings(rate: dict) -> dict:
    arrivals = rate.get("arrivals", "poisson")
    arrivals = [arrivals] if isinstance(arrivals, str) else arrivals
    if not isinstance(arrivals, list) or not arrivals or any(a not in ARRIVALS for a in arrivals):
        raise ScenarioError(f"load_rate.arrivals={rate.get('arrivals')!r}: {' or '.join(ARRIVALS)}, or a list of them")
    return {
        "arrivals": list(dict.fromkeys(arrivals)),
        "time_s": _whole("load_rate.time_s", rate.get("time_s"), unit="seconds"),
        "warmup_s": _whole("load_rate.warmup_s", rate.get("warmup_s", 0), low=0, unit="seconds"),
        "max_open": _whole("load_rate.max_open", rate.get("max_open", RATE_MAX_OPEN), unit="connections"),
    }


def _rate_plan(rate: dict | None, eps: list[dict], load_hosts: int, app_hosts: int) -> tuple[list, dict]:
    """The rate runs (rate_runs) and settings of the profile; none for a profile without rate settings (load_rate
    empty), whatever the scenarios ask. A rate past what an app host's share of the load hosts sends on time is
    refused (bench/model/pairs.py's rule: app hosts that share a load host take turns on it)."""
    if not rate or not eps:
        return [], {}
    runs = rate_runs(rate, eps)
    each = max(1, load_hosts // max(1, app_hosts))
    for ep, per_s, _ in runs:
        if per_s > RATE_CEILING_PER_HOST * each:
            raise ScenarioError(
                f"load_rate / bench_app.scenarios ({ep['scenario_name']}): {per_s:g} requests a second is more than "
                f"{each} load host(s) send on time ({RATE_CEILING_PER_HOST:,} a second each, measured: "
                "docs/measurement.md#load-at-a-rate); add load hosts or lower the rate"
            )
    return runs, _rate_settings(rate)


def _mix_plan(rate: dict | None, mixes: list[dict], profile: str, load_hosts: int, app_hosts: int) -> list[dict]:
    """The app's mixes run in this profile (bench_app.mixes, as App.as_vars gives them): none without rate settings
    (load_rate), as for scenarios at a rate; a rate past what the load hosts send on time is refused."""
    if not rate:
        return []
    found = [m for m in mixes if m.get("profiles") is None or profile in m["profiles"]]
    each = max(1, load_hosts // max(1, app_hosts))
    for mix in found:
        for per_s in mix["rate_per_s"]:
            if per_s > RATE_CEILING_PER_HOST * each:
                raise ScenarioError(
                    f"bench_app.mixes ({mix['name']}): {per_s:g} requests a second is more than {each} load host(s) "
                    f"send on time ({RATE_CEILING_PER_HOST:,} a second each); add load hosts or lower the rate"
                )
    return found


def _rate_rows(common: dict, r_runs: list, r_set: dict, grace_s: int) -> list[dict]:
    """A worker type's runs at a rate (rate_runs), one per scenario, rate and arrivals (Poisson runs named as such,
    evenly spaced ones with -even)."""
    variant = common["variant"]
    # the runs' schedules differ (seed: its place), and are the same for every type and every night
    return [{**common, **_request(ep), "scenario": "rate", "concurrency": r_set["max_open"], "reps": None,
             "time_s": r_set["time_s"], "warmup_s": r_set["warmup_s"], "rate_per_s": per_s,
             "utilization": utilization, "arrivals": arrivals, "seed": n,
             "timeout_s": r_set["warmup_s"] + r_set["time_s"] + grace_s, "repeat": 1, "discard": False,
             "tool": "open_loop",
             "name": f"{variant}-rate-{slug(ep['label'])}-{per_s:g}ps" + ("-even" if arrivals == "even" else "")}
            for n, (ep, per_s, utilization) in enumerate(r_runs, start=1)
            for arrivals in r_set["arrivals"]]  # fmt: skip


def _mix_rows(common: dict, mixes: list[dict], r_set: dict, grace_s: int, first_seed: int) -> list[dict]:
    """A worker type's runs of the app's mixes (bench_app.mixes) in a profile with rate settings: per mix and rate one
    run of its classes together (Poisson arrivals, each request's class drawn by weight), then each class the mix runs
    alone (all, unless it says otherwise) on the very arrivals it had in the mix (the same seed, the others left
    out); and per `clients` a closed loop of that many clients, each sending its next request when its last was
    answered (its concurrency)."""
    rows = []
    for n, mix in enumerate(mixes):
        for per_s in mix["rate_per_s"]:
            first = mix["classes"][0]
            for only in [None, *mix["alone"]]:
                rows.append({**common, "scenario_name": mix["name"], "label": mix["label"], "method": "GET",
                             "path": first["path"], "body": None, "headers": {}, "status": first["status"],
                             "task": None, "unit_s": None, "target": mix.get("target"), "scenario": "mix",
                             "mix": {"name": mix["name"], "classes": mix["classes"], "only": only},
                             "concurrency": r_set["max_open"], "reps": None, "time_s": r_set["time_s"],
                             "warmup_s": r_set["warmup_s"], "rate_per_s": float(per_s), "utilization": None,
                             "arrivals": "poisson", "seed": first_seed + n, "repeat": 1, "discard": False,
                             "timeout_s": r_set["warmup_s"] + r_set["time_s"] + grace_s, "tool": "open_loop",
                             "name": f"{common['variant']}-mix-{mix['name']}-{per_s:g}ps"
                                     + (f"-alone-{only}" if only else "")})  # fmt: skip
        for clients in mix.get("clients") or []:  # a closed loop: that many clients, each sending when answered
            first = mix["classes"][0]
            rows.append({**common, "scenario_name": mix["name"], "label": mix["label"], "method": "GET",
                         "path": first["path"], "body": None, "headers": {}, "status": first["status"], "task": None,
                         "unit_s": None, "target": None, "scenario": "mix",
                         "mix": {"name": mix["name"], "classes": mix["classes"], "only": None},
                         "concurrency": int(clients), "clients": int(clients), "reps": None,
                         "time_s": r_set["time_s"], "warmup_s": r_set["warmup_s"], "rate_per_s": None,
                         "utilization": None, "arrivals": "closed", "seed": first_seed + n, "repeat": 1,
                         "discard": False, "timeout_s": r_set["warmup_s"] + r_set["time_s"] + grace_s,
                         "tool": "open_loop", "name": f"{common['variant']}-mix-{mix['name']}-c{clients}"})  # fmt: skip
    return rows


def _operation_rows(common: dict, o_runs: list, o_set: dict, grace_s: int, first_seed: int, *,
                    slow: list[dict], asked: bool) -> list[dict]:  # fmt: skip
    """A worker type's runs with an operation under load (bench/model/operations.py), after all its others: an
    operation changes the instance (a reload, a restart, a worker killed); those that apply to its type (asked:
    named on the command line, when one that does not is refused)."""
    cat = catalog.load() if slow else None
    return [{**common, **_request(ep), **ops.row_fields(kind, per_s, o_set, grace_s, slow, connection=connection),
             "seed": first_seed + n,
             "name": f"{common['variant']}-op-{kind}-{slug(ep['label'])}" + ("-keepalive" if connection != "close"
                                                                            else "")}
            for ep, kind, per_s, n in o_runs for connection in o_set["connections"]
            if ops.fits(common["worker_type"], kind, slow, cat, asked=asked)]  # fmt: skip


def _capacity_settings(capacity: dict) -> dict:
    return {
        "time_s": _whole("load_capacity.time_s", capacity.get("time_s"), unit="seconds"),
        "warmup_s": _whole("load_capacity.warmup_s", capacity.get("warmup_s", 0), low=0, unit="seconds"),
        "max_step_s": _whole("load_capacity.max_step_s", capacity.get("max_step_s", 60), unit="seconds"),
        "max_steps": _whole("load_capacity.max_steps", capacity.get("max_steps", 16), unit="steps"),
        "max_open": _whole("load_capacity.max_open", capacity.get("max_open", RATE_MAX_OPEN), unit="connections"),
    }


def _capacity_rows(common: dict, eps: list[dict], capacity: dict | None, grace_s: int, first_seed: int) -> list[dict]:
    """A worker type's capacity searches, one per scenario that asks for one (load: [capacity]) in a profile with
    capacity settings (load_capacity): a run of steps on its first load host (roles/load/files/load_driver.py,
    bench/analyse/capacity.py), from the scenario's start up to what one load host sends on time. Its timeout is the
    longest the search may take: every step twice as long as the longest a step runs, with its warm-up and grace."""
    if not capacity or not eps:
        return []
    c_set = _capacity_settings(capacity)
    floors = {}
    for ep in eps:
        # the lowest rate whose longest step (max_step_s, twice when run again) has the requests to bound the
        # target's percentile from above: below it a step can never meet the target, whatever the server does
        needed = quantiles.samples_needed(ep["target"]["percentile"])
        floors[ep["scenario_name"]] = math.ceil(needed / (2 * c_set["max_step_s"]) * 1000) / 1000
        if float(ep["capacity_start_per_s"]) < floors[ep["scenario_name"]]:
            raise ScenarioError(
                f"bench_app.scenarios ({ep['scenario_name']}): a capacity search from {ep['capacity_start_per_s']:g} "
                f"requests a second cannot meet a p{ep['target']['percentile']:g} target: {needed} requests bound it, "
                f"more than its longest step (load_capacity.max_step_s={c_set['max_step_s']}, twice when run again) "
                f"sends at that rate; start at {floors[ep['scenario_name']]:g}/s or more (rate_per_s), or raise "
                "max_step_s"
            )
        if float(ep["capacity_start_per_s"]) >= RATE_CEILING_PER_HOST:
            raise ScenarioError(
                f"bench_app.scenarios ({ep['scenario_name']}): a capacity search from "
                f"{ep['capacity_start_per_s']:g} requests a second has no room: one load host sends at most "
                f"{RATE_CEILING_PER_HOST:,} a second on time (the search runs on one); start lower (rate_per_s)"
            )
    worst_s = c_set["max_steps"] * (c_set["warmup_s"] + 2 * max(c_set["time_s"], c_set["max_step_s"]) + grace_s)
    return [{**common, **_request(ep), "scenario": "capacity", "concurrency": c_set["max_open"], "reps": None,
             "time_s": c_set["time_s"], "warmup_s": c_set["warmup_s"], "max_step_s": c_set["max_step_s"],
             "max_steps": c_set["max_steps"], "step_grace_s": grace_s, "target": ep["target"],
             "start_per_s": float(ep["capacity_start_per_s"]), "high_per_s": float(RATE_CEILING_PER_HOST),
             "low_per_s": max(float(ep["capacity_start_per_s"]) / 16, floors[ep["scenario_name"]]),
             "arrivals": "poisson", "rate_per_s": None,
             "seed": first_seed + n, "timeout_s": worst_s, "repeat": 1, "discard": False, "tool": "open_loop",
             "name": f"{common['variant']}-capacity-{slug(ep['label'])}"}
            for n, ep in enumerate(eps)]  # fmt: skip


def _how_loaded(run: dict) -> str:
    """c=4, 8/s poisson, or from 5/s (a capacity search's start)."""
    if run["scenario"] == "rate":
        return f"{run['rate_per_s']:g}/s {run['arrivals']}"
    if run["scenario"] == "mix" and run.get("clients"):
        return f"c={run['clients']} closed loop"
    if run["scenario"] == "mix":
        return f"{run['rate_per_s']:g}/s poisson" + (f", {run['mix']['only']} alone" if run["mix"]["only"] else "")
    if run["scenario"] == "capacity":
        return f"from {run['start_per_s']:g}/s"
    if run["scenario"] == "operation":
        kept = ", keep-alive" if run.get("keep_alive") else ""
        return f"{run['rate_per_s']:g}/s{kept}, {run['operation']['kind']} at {run['operation']['at_s']:g} s"
    return f"c={run['concurrency']}"


def _request(scenario: dict) -> dict:
    """What a run sends and expects (bench_app.scenarios); `label` is how the report names its scenario
    (Scenario.label)."""
    return {k: scenario.get(k) for k in ("scenario_name", "label", "method", "path", "body", "headers", "status",
                                          "task", "unit_s", "rate_per_s", "target")}  # fmt: skip


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
    rate: dict | None = None,
    capacity: dict | None = None,
    load_hosts: int = 1,
    app_hosts: int = 1,
    mixes: list[dict] | None = None,
    operations: list[str] | None = None,
    operation_settings: dict | None = None,
    gunicorn_limits: dict | None = None,
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
    r_runs, r_set = _rate_plan(rate, endpoints_for(scenarios, "rate", profile), load_hosts, app_hosts)
    c_eps = endpoints_for(scenarios, "capacity", profile) if capacity else []
    m_mixes = _mix_plan(rate, mixes or [], profile, load_hosts, app_hosts)
    m_set = (r_set or _rate_settings(rate)) if m_mixes else {}
    kinds = ops.chosen(operations, (operation_settings or {}).get("do"))  # the command line's, else the profile's
    o_set = ops.settings(operation_settings) if kinds else {}
    slow = endpoints_for(scenarios, "timeout", profile)  # the request a timeout operation sends
    # named on the command line: an operation that cannot work is refused (by `all` or the profile: left out)
    asked = isinstance(operations, (str, list)) and operations not in ("all", "")
    o_runs = ops.runs(endpoints_for(scenarios, "operations", profile), kinds, o_set, slow, gunicorn_limits,
                      asked=asked)  # fmt: skip
    connections = connection_by_worker_type or {}
    for inst in instances:
        worker_type = inst["worker_type"]
        connection = connections.get(worker_type, connection_default)
        if connection not in ("close", "keep-alive"):
            raise ScenarioError(f"load_connection_by_worker_type.{worker_type}={connection!r}: use close or keep-alive")
        variant = inst.get("variant") or worker_type
        common = {
            "worker_type": worker_type,
            "variant": variant,
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
                             "name": f"{variant}-probe-{slug(ep['label'])}-c{c}"})  # fmt: skip
        for ep in s_eps:
            if warmup_s:
                runs.append({**common, **_request(ep), "scenario": "warmup", "concurrency": max(s_conc), "reps": None,
                             "time_s": warmup_s, "timeout_s": warmup_s + sweep_grace_s, "repeat": 1, "tool": sweep_tool,
                             "discard": True, "name": f"{variant}-warmup-{slug(ep['label'])}"})  # fmt: skip
            for c in s_conc:
                for r in range(1, repeats + 1):
                    runs.append({**common, **_request(ep), "scenario": "sweep", "concurrency": c, "reps": None,
                                 "time_s": time_s,
                                 "timeout_s": time_s + sweep_grace_s, "repeat": r, "discard": False, "tool": sweep_tool,
                                 "name": f"{variant}-sweep-{slug(ep['label'])}-c{c}-r{r}"})  # fmt: skip
        runs += _rate_rows(common, r_runs, r_set, sweep_grace_s)
        runs += _capacity_rows(common, c_eps, capacity, sweep_grace_s, len(r_runs) + 1)
        runs += _mix_rows(common, m_mixes, m_set, sweep_grace_s, len(r_runs) + len(c_eps) + 1)
        runs += _operation_rows(
            common,
            o_runs,
            o_set,
            sweep_grace_s,
            len(r_runs) + len(c_eps) + len(m_mixes) + 1,
            slow=slow,
            asked=isinstance(operations, (str, list)) and operations != "all",
        )
    total = len(runs)
    for i, run in enumerate(runs, start=1):
        run["index"] = i
        kind = run["scenario"] + (f", {run['tool']}" if run["tool"] not in ("siege", "open_loop") else "")
        run["progress"] = f"[{i}/{total}] {run['variant']} {run['label']} {_how_loaded(run)} ({kind})"
    return runs
