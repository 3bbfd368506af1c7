"""Turn a run folder's raw load-generator output into results.json (schema 6: bench/model/results_model.py): one record
per run of the matrix, written atomically.

Reads RUN_DIR/run.json (what the run is: id, start, commit, profile, app, scenario matrix, the app hosts and their load
hosts), RUN_DIR/raw/context.json (the hosts' hardware and OS, and per app host what each worker type's process ran and
how it answered the verification) and, per app host (its folder under raw/: results_model.plan_of), per run of the
matrix and per load host, <load host>/NAME.out, .err, .meta.json and .cpu.json (an app host's folder may hold one load
host's NAME.* itself), merged into one record tagged with its app host and naming its instance. A run with no raw
output is recorded as invalid ("no output"), never dropped. Per worker type, TYPE.journal.json (its unit's journal
during the load) gives the service's faults and the app's own timing of each probe request (bench/parse/timing.py;
a probe record's `server`), TYPE.samples.jsonl what its processes spent, and TYPE.failure.json why a type was not
loaded; raw/phases.json gives the phase timings. Each app host's part (load hosts, versions, processes,
verification) is under `app_hosts`; bench/model/fleet.py gives one app host's view. What the playbooks wrote (run.json,
TYPE.failure.json) is read under the model's names (results_model.plan_of, results_model.renamed).
"""

from __future__ import annotations

import itertools
import math
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from bench import files
from bench.analyse import capacity, mix, operations, recommend, stats, verdict
from bench.model import results_model
from bench.parse import events, rate, resources, siege, timing, wrk

NO_OUTPUT = "no output: the run did not happen (the load phase stopped early)"


# What a record takes from its entry of the plan's matrix (results_model.plan_of): its instance, and what it asked.
FIELDS = ("name", "index", "instance", "connection", "scenario", "scenario_name", "label", "method", "path",
          "status", "task", "unit_s", "concurrency", "reps", "repeat", "time_s", "tool")  # fmt: skip
# ... and of a run at a rate (None for the others): what it offered; of a capacity search, its latency target
RATE_FIELDS = (
    "rate_per_s",
    "utilization",
    "arrivals",
    "warmup_s",
    "seed",
    "target",
    "mix",
    "clients",
    "operation",
    "keep_alive",
)

PER_HOST = (
    "host",
    "concurrency",
    "transactions",
    "failed",
    "rps",
    "elapsed_s",
    "started",
    "finished",
    "settle_s",
    "load_resources",
)


def outputs(raw: Path, name: str) -> list[tuple[Path, dict]]:
    """(output base path, meta) of each load host's output of one run in an app host's folder: <load host>/NAME.*
    (one folder per load host), and NAME.* in the folder itself (an archive named for no load host, see unpack)."""
    found = []
    for folder in [raw, *sorted(p for p in raw.iterdir() if p.is_dir())]:
        meta = files.read_json(folder / f"{name}.meta.json", default={})
        if meta:
            found.append((folder / name, meta))
    return found


def parse_one(base: Path, meta: dict, run: dict) -> dict:
    """One load host's output of one run, as figures (siege or wrk, whichever the run used)."""
    out = base.with_name(base.name + ".out").read_text(errors="replace")
    err = base.with_name(base.name + ".err").read_text(errors="replace")
    rc = meta.get("rc", 0)
    cpu = files.read_json(base.with_name(base.name + ".cpu.json"), default={})
    common = {"host": meta.get("host"), "concurrency": meta.get("concurrency", run["concurrency"]),
              "started": meta.get("started"), "finished": meta.get("finished"), "settle_s": meta.get("settle_s"),
              "load_resources": resources.load_usage(cpu) if cpu else None}  # fmt: skip
    expected_status = int(run["status"])
    if run["tool"] == "wrk":
        w = wrk.parse(out, err, rc)
        w.expected_status = expected_status
        return {**common, "tool": "wrk", "transactions": w.transactions, "failed": w.failed, "elapsed_s": w.elapsed_s,
                "rps": w.rps, "times": [], "p50_s": w.percentiles.get(50.0), "p90_s": w.percentiles.get(90.0),
                "p99_s": w.percentiles.get(99.0), "max_s": w.max_s, "siege_concurrency": None,
                "reason": who_hung(w.invalid_reason(), meta)}  # fmt: skip
    parsed = siege.parse(out, err, rc)
    times = parsed.response_times
    expected = common["concurrency"] * run["reps"] if run["scenario"] == "probe" else None
    return {**common, "tool": "siege", "transactions": parsed.transactions, "failed": parsed.failed,
            "elapsed_s": parsed.summary.get("elapsed_time"), "rps": parsed.summary.get("transaction_rate"),
            "times": times, "p50_s": stats.percentile(times, 50), "p90_s": stats.percentile(times, 90),
            "p99_s": stats.percentile(times, 99), "max_s": max(times) if times else None,
            "siege_concurrency": parsed.summary.get("concurrency"),
            "reason": who_hung(parsed.invalid_reason(expected, expected_status), meta)}  # fmt: skip


def who_hung(reason: str | None, meta: dict) -> str | None:
    """A run stopped by `timeout` after which the app answered its ready path at once (the driver asks it): the load
    generator hung, not the server (siege 4.0.7 at times never returns after a timed run's end)."""
    after = meta.get("app_answered_after_timeout_s")
    if reason and meta.get("timed_out") and after is not None and after < 1.0:
        said = reason.split(":")[0]  # what the tool did, without its guess at why
        return f"{said}, yet the app answered its ready path {after:.2f} s later: siege hung, not the server"
    return reason


def total(values: list, combine=sum):
    present = [v for v in values if v is not None]
    return combine(present) if present else None


def mix_classes(run: dict, header: dict, rows: list[dict], slots: int) -> list[dict] | None:
    """A mix's classes: what each measured (bench/analyse/mix.py) and, under `theory`, what the type's model predicts
    for the same arrivals; None when the output names no classes (not a mix's)."""
    if "classes" not in header:
        return None
    warmup_s = float(run.get("warmup_s") or 0)
    tasks = [c.get("task") for c in run["mix"]["classes"]]
    measured = mix.classes(header, rows, [int(c["status"]) for c in run["mix"]["classes"]], warmup_s, tasks)
    model = mix.theory(
        rows,
        measured,
        tasks=tasks,
        worker_type=run["worker_type"],
        slots=slots,
        workers=int(run["workers"]),
        warmup_s=warmup_s,
    )
    for c, got in enumerate(measured):
        if run.get("target"):  # every scenario of the mix against its target, as a capacity search's step is
            status = int(run["mix"]["classes"][c]["status"])
            latencies, errors = capacity.sample([r for r in rows if r.get("cls") == c], warmup_s, status)
            got["target_verdict"] = capacity.judge(latencies, errors, run["target"])
        got["weight"], got["task"] = run["mix"]["classes"][c]["weight"], tasks[c]
        got["label"] = run["mix"]["classes"][c]["label"]
        got["theory"] = {"model": model["model"], "why": model["why"],
                         **(model["classes"][c] if model["classes"] else {})}  # fmt: skip
    return measured


def rate_record(rec: dict, run: dict, raw: Path) -> dict:
    """The record of a run at a rate: every load host's requests merged onto one clock (bench/parse/rate.py), its
    figures under `rate`, and the fields every record has (transactions: answered with the scenario's status; failed:
    the others, errors and other statuses, which are the measurement, not a fault of the run)."""
    found = outputs(raw, run["name"])
    parts, reasons = [], []
    for base, meta in found:
        host = meta.get("host")
        if meta.get("timed_out"):
            reasons.append(f"{host}: open_loop.py did not end within {run['timeout_s']} s")
        try:
            parts.append((base, meta, rate.read(base.with_name(base.name + ".out").read_text(errors="replace"), host)))
        except (OSError, rate.RateOutputError) as exc:
            reasons.append(f"{host}: {exc}")
    if not parts:
        return {**rec, **EMPTY, "rate": None, "invalid_reason": "; ".join(reasons) or NO_OUTPUT}
    header, rows = rate.merge(p for _, _, p in parts)
    slots = stats.slots(run["worker_type"], run.get("task") or "io", int(run["workers"]), int(run["threads"]),
                        int(run["worker_connections"]))  # fmt: skip
    statuses = [int(c["status"]) for c in run["mix"]["classes"]] if run.get("mix") else int(run["status"])
    got = rate.summarize(header, rows, statuses, float(run.get("warmup_s") or 0), None if run.get("mix") else slots)
    if run.get("mix"):
        got["classes"] = mix_classes(run, header, rows, slots)
    if run.get("operation"):  # what the operation did and when, kept beside the run by operation_run.yml
        done = files.read_json(raw / f"{run['name']}.operation.json", default=None)
        got["operation"] = operations.analyse(header, rows, done, run) if done else None
        if not done:
            reasons.append("the operation's record (what it did and when) is missing")
    latency = (got["latency"] or {}).get("percentiles", {})
    per_host = []
    for base, meta, (_, host_rows, _) in parts:
        cpu = files.read_json(base.with_name(base.name + ".cpu.json"), default={})  # beside its output, as parse_one
        ok = sum(1 for r in host_rows if r["status"] == int(run["status"]))
        per_host.append({"host": meta.get("host"), "concurrency": meta.get("concurrency"), "transactions": ok,
                         "failed": len(host_rows) - ok, "rps": None, "elapsed_s": None, "started": meta.get("started"),
                         "finished": meta.get("finished"), "settle_s": meta.get("settle_s"),
                         "load_resources": resources.load_usage(cpu) if cpu else None})  # fmt: skip
    loads = [h["load_resources"] for h in per_host if h["load_resources"]]
    metas = [meta for _, meta, _ in parts]
    return {
        **rec,
        "transactions": got["answered_ok"],
        "failed": got["requests"] - got["answered_ok"],
        "elapsed_s": got["duration_s"],
        "rps": got["achieved_rate"],
        "response_times_s": None,
        **{f"p{q}_s": stats.round_or_none((latency.get(f"p{q}") or {}).get("value")) for q in (50, 90, 99)},
        "max_s": (got["latency"] or {}).get("max"),
        "availability": round(100 * got["answered_ok"] / got["requests"], 2) if got["requests"] else None,
        "siege_concurrency": None,
        "started": total([m.get("started") for m in metas], min),
        "finished": total([m.get("finished") for m in metas], max),
        "settle_s": total([m.get("settle_s") for m in metas], max),
        "load_host": "+".join(sorted(str(m.get("host")) for m in metas)),
        "per_host": per_host,
        "load_resources": max(loads, key=lambda x: x["cpu_pct"]) if loads else None,
        "rate": got,
        "valid": not reasons and got["requests"] > 0,
        "invalid_reason": "; ".join(reasons) or (None if got["requests"] else "no request was due after the warm-up"),
    }


def capacity_record(rec: dict, run: dict, raw: Path) -> dict:
    """The record of a capacity search: its steps as the load host ran them (NAME.search.json: rate, time, and
    whether it was run again twice as long), each judged again here from its own requests (bench/parse/rate.py,
    bench/analyse/capacity.py) and summarized; the result from those verdicts. A step whose verdict here is not the
    load host's makes the search invalid; a step whose generator fell behind (load-bound) enough to decide its verdict
    decides nothing (capacity.lag_decides; the result leaves it out and says so)."""
    found = sorted(raw.glob(f"*/{run['name']}.search.json")) + sorted(raw.glob(f"{run['name']}.search.json"))
    if not found:
        return {**rec, **EMPTY, "rate": None, "search": None, "invalid_reason": NO_OUTPUT}
    search = files.read_json(found[0], default={})
    target, warmup_s, status = run["target"], float(run.get("warmup_s") or 0), int(run["status"])
    steps, reasons, metas = [], [], []
    for step in search.get("steps", []):
        base = found[0].with_name(step["name"])
        meta = files.read_json(base.with_name(base.name + ".meta.json"), default={})
        metas.append(meta)
        try:
            header, rows, _ = rate.read(base.with_name(base.name + ".out").read_text(errors="replace"), step["name"])
        except (OSError, rate.RateOutputError) as exc:
            reasons.append(str(exc))
            continue
        verdict = capacity.judge(*capacity.sample(rows, warmup_s, status), target)
        got = rate.summarize(header, rows, status, warmup_s)
        if verdict["verdict"] != step["verdict"]:
            reasons.append(f"{step['name']}: {verdict['verdict']} here, {step['verdict']} on the load host")
        steps.append({"name": step["name"], "rate": step["rate"], "longer": step.get("longer", 1),
                      "time_s": step["time_s"],
                      **{k: stats.round_or_none(v, 4) if isinstance(v, float) and math.isfinite(v) else
                         (None if isinstance(v, float) else v) for k, v in verdict.items()},
                      "achieved_rate": got["achieved_rate"], "lag_p99_s": got["lag_p99_s"],
                      "load_bound": got["load_bound"],
                      "lag_decides": bool(got["load_bound"])
                      and capacity.lag_decides(verdict, got["lag_max_s"], target),
                      "started": meta.get("started"),
                      "finished": meta.get("finished"), "app_cpu_pct": None})  # fmt: skip
    result = (capacity.result(steps, float(run["high_per_s"]), float(run["low_per_s"]), float(run["start_per_s"]),
                              int(run["max_steps"])) if steps else None)  # fmt: skip
    ran = [m for m in metas if m]
    return {
        **rec,
        **EMPTY,
        "transactions": sum(s["n"] - s["errors"] for s in steps),
        "failed": sum(s["errors"] for s in steps),
        "started": total([m.get("started") for m in ran], min),
        "finished": total([m.get("finished") for m in ran], max),
        "load_host": found[0].parent.name if found[0].parent != raw else None,
        "rate": None,
        "search": {"target": target, "start_per_s": search.get("start_per_s"), "steps": steps, "result": result},
        "valid": bool(steps) and not reasons,
        "invalid_reason": "; ".join(reasons) or (None if steps else "the search ran no step"),
    }


def steps_cpu(rec: dict, clk: int, samples: list[dict]) -> None:
    """Each step of a capacity search gets the workers' CPU during it (% of one core, from the app host's samples:
    resources.app_usage), what tells a type bounded by its CPU from one bounded by its slots
    (bench/analyse/capacity_bound.py)."""
    for step in (rec.get("search") or {}).get("steps", []):
        used = resources.app_usage(clk, samples, step["started"], step["finished"]) if step.get("started") else None
        step["app_cpu_pct"] = used["workers_cpu_pct"] if used else None


# A record with no output: nothing measured.
EMPTY = {"transactions": 0, "failed": 0, "elapsed_s": None, "rps": None, "response_times_s": None, "p50_s": None,
         "p90_s": None, "p99_s": None, "max_s": None, "availability": None, "siege_concurrency": None, "started": None,
         "finished": None, "settle_s": None, "load_host": None, "per_host": [], "load_resources": None,
         "valid": False}  # fmt: skip


def record(run: dict, raw: Path) -> dict:
    """The result record of one run of the matrix: the load hosts' outputs merged (counts and rates added, response
    times pooled; wrk's percentiles, which cannot be pooled, are the worst host's), each host's kept in per_host."""
    rec = {key: run[key] for key in FIELDS} | {key: run[key] for key in results_model.INSTANCE_FIELDS}
    rec |= {key: run.get(key) for key in RATE_FIELDS} | {"search": None}
    if run.get("scenario") == "capacity":
        return capacity_record(rec, run, raw)
    if run.get("tool") == "open_loop":
        return rate_record(rec, run, raw)
    hosts = [parse_one(base, meta, run) for base, meta in outputs(raw, run["name"])]
    if not hosts:
        return {**rec, **EMPTY, "rate": None, "invalid_reason": NO_OUTPUT}
    times = [t for h in hosts for t in h["times"]]
    pooled = rec["tool"] == "siege"
    transactions, failed = sum(h["transactions"] for h in hosts), sum(h["failed"] for h in hosts)
    reasons = [f"{h['host']}: {h['reason']}" if len(hosts) > 1 else h["reason"] for h in hosts if h["reason"]]
    loads = [h["load_resources"] for h in hosts if h["load_resources"]]
    return {
        **rec,
        "transactions": transactions,
        "failed": failed,
        "elapsed_s": total([h["elapsed_s"] for h in hosts], max),
        "rps": stats.round_or_none(total([h["rps"] for h in hosts]), 2),
        "response_times_s": times if run["scenario"] == "probe" else None,
        "p50_s": stats.round_or_none(
            stats.percentile(times, 50) if pooled else total([h["p50_s"] for h in hosts], max)
        ),
        "p90_s": stats.round_or_none(
            stats.percentile(times, 90) if pooled else total([h["p90_s"] for h in hosts], max)
        ),
        "p99_s": stats.round_or_none(
            stats.percentile(times, 99) if pooled else total([h["p99_s"] for h in hosts], max)
        ),
        "max_s": total([h["max_s"] for h in hosts], max),
        "availability": round(100 * transactions / (transactions + failed), 2) if transactions + failed else None,
        "siege_concurrency": stats.round_or_none(total([h["siege_concurrency"] for h in hosts]), 2),
        "started": total([h["started"] for h in hosts], min),
        "finished": total([h["finished"] for h in hosts], max),
        "settle_s": total([h["settle_s"] for h in hosts], max),
        "load_host": "+".join(sorted(str(h["host"]) for h in hosts)),
        "per_host": [{k: h[k] for k in PER_HOST} for h in hosts],
        "load_resources": max(loads, key=lambda x: x["cpu_pct"]) if loads else None,
        "rate": None,
        "valid": not reasons,
        "invalid_reason": "; ".join(reasons) or None,
    }


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unpack(raw: Path) -> None:
    """Unpack each fetched archive of an app host's folder once: <worker type>@<load host>.tar.gz into <load host>/,
    and one named for no load host, <worker type>.tar.gz, into the folder itself."""
    for archive in sorted(raw.glob("*.tar.gz")):
        marker = archive.with_name(f".{archive.name}.unpacked")
        if marker.exists():
            continue
        stem = archive.name.removesuffix(".tar.gz")
        dest = raw / stem.split("@", 1)[1] if "@" in stem else raw
        dest.mkdir(exist_ok=True)
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
                tar.extractall(dest, filter="data")
            else:  # Debian 12's 3.11.2 (a scheduled controller host): refuse what the data filter would refuse
                for member in tar.getmembers():
                    if (
                        not (member.isfile() or member.isdir())
                        or Path(member.name).is_absolute()
                        or ".." in Path(member.name).parts
                    ):
                        raise ValueError(f"{archive}: unexpected member {member.name!r}")
                tar.extractall(dest)  # members checked above
        marker.touch()


def _failure(path: Path) -> dict:
    """A failure.json, under the model's names; one written before matrices names no variant: its type's."""
    failure = results_model.renamed(files.read_json(path))
    return {**failure, "variant": failure.get("variant") or failure["worker_type"]}


def collect_host(run: dict, folder: Path, host: str) -> dict:
    """One app host's records (each with its app_host), warm-ups, service events, failures and time in the load
    generator (siege or wrk), from its raw folder; `run` is the plan (results_model.plan_of)."""
    folder.mkdir(parents=True, exist_ok=True)
    unpack(folder)
    tag = {"app_host": host}
    results = [record(r, folder) | tag for r in run["matrix"] if r["scenario"] != "warmup"]
    warmups = [record(r, folder) | tag for r in run["matrix"] if r["scenario"] == "warmup"]
    variants = results_model.variants(run)  # raw/<app host>/ names an instance's files by its variant
    worker_types = {i["variant"]: i["worker_type"] for i in run["instances"].values()}
    for variant in variants:
        samples = folder / f"{variant}.samples.jsonl"
        clk, found = resources.read_samples(samples.read_text(errors="replace")) if samples.exists() else (100, [])
        for r in results:
            if r["variant"] == variant:
                usage = resources.app_usage(clk, found, r["started"], r["finished"]) if r["started"] else None
                r["app_resources"] = usage
                steps_cpu(r, clk, found)
                # the load host's CPU, siege's connections, and a rate run's own lag (bench/parse/rate.py)
                why = [resources.load_bound(r), (r.get("rate") or {}).get("load_bound")]
                r["load_bound"] = "; ".join(x for x in why if x) or None
    service_events = []
    for variant in variants:
        journal = folder / f"{variant}.journal.json"
        text = journal.read_text(errors="replace") if journal.exists() else ""
        found_events = events.attach(events.parse(text), worker_types.get(variant, variant), results + warmups, variant)
        # what an operation under load did (a worker it killed) is its evidence, not a fault of the run
        operated = {r["name"] for r in results if r["scenario"] == "operation"}
        service_events += [e | tag for e in found_events if e["during"] not in operated]
        lines = events.lines(text)
        for r in results:  # an operation's evidence: the unit's journal around its instant
            if r["variant"] == variant and (r.get("rate") or {}).get("operation"):
                r["rate"]["operation"] = operations.with_journal(r["rate"]["operation"], lines)
        bursts = timing.parse_journal(text)  # the app's own clock, for each probe request
        for r in results:
            if r["variant"] == variant and r["scenario"] == "probe":
                one_client = r["concurrency"] == 1 and (r["reps"] or 1) > 1
                r["server"] = timing.burst(bursts[r["name"]], r["started"], one_client) if r["name"] in bursts else None
    # each as playbooks/tasks/load_worker_type.yml writes it (its `worker_type`; an older run's says `worker`), under
    # the model's names
    failures = [_failure(folder / f"{v}.failure.json") | tag for v in variants
                if (folder / f"{v}.failure.json").exists()]  # fmt: skip
    load_s = sum(r["finished"] - r["started"] for r in results + warmups if r["started"] is not None)
    return {
        "results": results,
        "events": service_events,
        "failures": failures,
        "time_in_load_s": load_s,
        "settle_s": sum(r.get("settle_s") or 0 for r in results + warmups),
        "warmups": len(warmups),
        "complete": not failures and all(r["invalid_reason"] != NO_OUTPUT for r in results),
    }


def in_rounds(values: dict[str, float], app_hosts: dict) -> float:
    """Wall time of per-app-host durations: app hosts of one round ran at once (the longest counts), rounds in turn."""
    rounds: dict[int, float] = {}
    for host, value in values.items():
        turn = app_hosts[host]["round"]
        rounds[turn] = max(rounds.get(turn, 0.0), value)
    return sum(rounds.values())


def collect(run_dir: Path, finished: str | None = None) -> dict:
    """The run's results, as results_model.load() would read them back from the results.json main() writes."""
    raw = run_dir / "raw"
    plan = results_model.plan_of(
        files.read_json(run_dir / "run.json"), files.read_json(raw / "context.json", default={})
    )
    hosts = plan["app_hosts"]
    per_host = {host: collect_host(plan, raw / part["raw"], host) for host, part in hosts.items()}
    marks = files.read_json(raw / "phases.json", default={"none": 0})
    order = [p for p in ("validate", "lab", "preflight", "deploy", "load", "report") if p in marks]
    phases = {p: round(marks[n] - marks[p], 2) for p, n in itertools.pairwise(order)}
    out = {
        "schema": results_model.SCHEMA,
        "run_id": plan["run_id"],
        "started": plan["started"],
        "finished": finished or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": plan["git_commit"],
        "profile": plan["profile"],
        "ansible_core": plan["ansible_core"],
        "worker_types": plan["worker_types"],
        "app": plan["app"],
        "verify_only": plan["verify_only"],
        # gunicorn's settings of every instance, when run.json recorded them (a run from before them has none: as its
        # results.json upgraded)
        **({"gunicorn_settings": plan["gunicorn_settings"]} if plan.get("gunicorn_settings") else {}),
        "catalog_source": results_model.CATALOG_RECORDED,
        "catalog": results_model.catalog_entries(plan["worker_types"]),
        "instances": plan["instances"],
        "hosts": plan["hosts"],
        "app_hosts": {
            host: {
                "load_hosts": part["load_hosts"],
                "round": part["round"],
                "verify": {v: rows for v, rows in part["verify"].items() if v in results_model.variants(plan)},
                "versions": part["versions"],
                "processes": part["processes"],
                "time_in_load_s": round(per_host[host]["time_in_load_s"], 2),
                "settle_s": round(per_host[host]["settle_s"], 2),
                "complete": per_host[host]["complete"],
            }
            for host, part in hosts.items()
        },
        "time_in_load_s": round(in_rounds({h: p["time_in_load_s"] for h, p in per_host.items()}, hosts), 2),
        "settle_s": round(in_rounds({h: p["settle_s"] for h, p in per_host.items()}, hosts), 2),
        "warmups_discarded": sum(p["warmups"] for p in per_host.values()),
        "phases_s": phases,
        "complete": all(p["complete"] for p in per_host.values()),
        "failures": [f for p in per_host.values() for f in p["failures"]],
        "events": [e for p in per_host.values() for e in p["events"]],
        # which instance to choose per scenario, on each app host (bench/analyse/recommend.py), for the nightly
        "recommendations": [
            {"app_host": host, **entry}
            for host, part in per_host.items()
            for entry in recommend.recommend(part["results"], verdict.app_cores({host: plan["hosts"].get(host, {})}))
        ],
        "results": [r for p in per_host.values() for r in p["results"]],
    }
    return results_model.expand(results_model.stored(out))


class RawGone(RuntimeError):
    """A run whose raw output is gone (the keep policy removed it) cannot be collected again: its results.json is all
    that is left of what it measured, and stays as it is."""


def main(run_dir: str) -> Path:
    path = Path(run_dir)
    if (path / "results.json").exists() and not (path / "raw").is_dir():
        raise RawGone(
            f"{path / 'raw'} is gone (raw output is kept for the newest bench_keep_raw_runs runs): collecting again "
            f"would find nothing and overwrite what {path / 'results.json'} holds, so it stays as it is. To render "
            f"its report again: python -m bench report {path}"
        )
    files.write_json_atomic(path / "results.json", results_model.stored(collect(path)))
    return path / "results.json"
