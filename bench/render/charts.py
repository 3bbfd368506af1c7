"""PNG charts beside the report: probe ladders, who waited for whom in each probe burst, sweep throughput and
latency against concurrency, and app hosts side by side."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

from bench.analyse import capacity, capacity_bound, queueing
from bench.model.catalog import UNBOUNDED
from bench.model.results_model import variant_of
from bench.model.scenarios import slug

STYLE = {"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9}


DIGEST_KEY = "bench-digest"  # a PNG text chunk: what the chart was drawn from (drawn_from)


def save(fig, path: Path, digest: str | None = None) -> Path:
    """Lay the figure out, write it to path and free it: how every chart here ends. A digest (drawn_from) is kept in
    the PNG, for a chart that is drawn again and again from the same figures to be left as it is (trend_chart)."""
    fig.tight_layout()
    fig.savefig(path, metadata={DIGEST_KEY: digest} if digest else None)
    plt.close(fig)
    return path


@functools.cache
def _code() -> bytes:
    return Path(__file__).read_bytes()


def drawn_from(*data) -> str:
    """What a chart is drawn from: its data and this module's code (a change to either draws it again)."""
    return hashlib.sha256(_code() + json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def already_drawn(path: Path, digest: str) -> bool:
    """Whether path is a chart this module drew from the same data (its PNG carries the digest)."""
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 -- matplotlib's own dependency, needed only here

    try:
        with Image.open(path) as png:
            return png.info.get(DIGEST_KEY) == digest
    except (OSError, UnidentifiedImageError):
        return False


def probe_chart(rows: list[dict], task: str, order: list[str], path: Path) -> Path | None:
    """Response time of each request of the largest burst, sorted, one line per worker type."""
    rows = [r for r in rows if r["task"] == task and r["valid"] and r["response_times_s"]]
    if not rows:
        return None
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7, 4))
        for variant in order:
            mine = [r for r in rows if variant_of(r) == variant]
            if not mine:
                continue
            row = max(mine, key=lambda r: r["concurrency"])
            times = sorted(row["response_times_s"])
            ax.plot(range(1, len(times) + 1), times, marker="o", label=f"{variant} (c={row['concurrency']})")
        unit = next((r["unit"] for r in rows if r["unit"]), None)
        if unit:
            ax.axhline(unit, color="grey", linestyle=":", linewidth=1, label=f"one unit of work ({unit:.2f} s)")
        ax.set_xlabel("request (sorted by response time)")
        ax.set_ylabel("response time (s)")
        ax.set_title(f"{', '.join(dict.fromkeys(r['label'] for r in rows))} probe: who waited for whom")
        ax.legend(fontsize=8)
        return save(fig, path)


def timeline_chart(rows: list[dict], title: str, path: Path) -> Path | None:
    """Who waited for whom: one panel per probe burst (rows: one worker type and scenario, each with the server's
    wait_s and service_s in order of arrival), one bar per request, from when the burst was sent: its wait before
    it reached the app, then its time inside the app."""
    rows = sorted((r for r in rows if r.get("service_s")), key=lambda r: r["concurrency"])
    if not rows:
        return None
    with plt.rc_context(STYLE):
        heights = [max(len(r["service_s"]), 2) for r in rows]
        fig, axes = plt.subplots(len(rows), 1, figsize=(7, 0.9 + 0.28 * sum(heights)), sharex=True,
                                 gridspec_kw={"height_ratios": heights}, squeeze=False)  # fmt: skip
        for ax, row in zip(axes[:, 0], rows, strict=True):
            n = len(row["service_s"])
            ys = range(n, 0, -1)  # the first to arrive on top
            sent = row.get("sent_s") or [0.0] * n
            reached = [s + w for s, w in zip(sent, row["wait_s"], strict=True)]
            ax.barh(ys, row["wait_s"], left=sent, color="#d9d9d9", edgecolor="#999999", linewidth=0.5, label="waiting")
            ax.barh(ys, row["service_s"], left=reached, color="#3b75af", label="inside the app")
            ax.set_yticks(list(ys), [str(i) for i in range(1, n + 1)], fontsize=7)
            at_once = f"{row['measured']:.2f} at once, theory {row['expected']:.2f}" if row.get("measured") else ""
            ax.set_title(f"c={row['concurrency']}" + (f" ×{row['reps']} in a row" if (row.get("reps") or 1) > 1 else "")
                         + (f": {at_once}" if at_once else ""), fontsize=8, loc="left")  # fmt: skip
            ax.grid(axis="y", visible=False)
        axes[0, 0].legend(fontsize=7, loc="lower right")
        axes[-1, 0].set_xlabel("seconds since the burst was sent (request numbers in order of arrival)")
        fig.suptitle(title, fontsize=9)
        return save(fig, path)


def sweep_chart(rows: list[dict], label: str, order: list[str], path: Path) -> Path | None:
    """Throughput (median, with min-max) and p50/p99 latency against concurrency of one swept scenario (its label),
    one line per worker type."""
    rows = [r for r in rows if r["label"] == label and r["rps"] is not None]
    if not rows:
        return None
    with plt.rc_context(STYLE):
        fig, (rps_ax, lat_ax, cpu_ax) = plt.subplots(1, 3, figsize=(14, 4))
        for variant in order:
            mine = sorted((r for r in rows if variant_of(r) == variant), key=lambda r: r["concurrency"])
            if not mine:
                continue
            conc = [r["concurrency"] for r in mine]
            line = rps_ax.plot(conc, [r["rps"] for r in mine], marker="o", label=variant)[0]
            rps_ax.fill_between(
                conc, [r["rps_min"] for r in mine], [r["rps_max"] for r in mine], color=line.get_color(), alpha=0.15
            )
            lat_ax.plot(
                conc, [r["p50_s"] * 1000 for r in mine], marker="o", color=line.get_color(), label=f"{variant} p50"
            )
            lat_ax.plot(
                conc, [r["p99_s"] * 1000 for r in mine], marker="x", linestyle="--", color=line.get_color(),
                label=f"{variant} p99",
            )  # fmt: skip
            cpu = [(r["concurrency"], r["server_cpu_pct"], r["server_rss_mb"]) for r in mine
                   if r.get("server_cpu_pct") is not None]  # fmt: skip
            if cpu:
                cpu_ax.plot([c for c, _, _ in cpu], [v for _, v, _ in cpu], marker="o", color=line.get_color(),
                            label=f"{variant} ({max(m for _, _, m in cpu):.0f} MiB RSS)")  # fmt: skip
        ticks = sorted({r["concurrency"] for r in rows})
        for ax in (rps_ax, lat_ax, cpu_ax):
            ax.set_xscale("log", base=2)
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.set_xlabel("concurrent users (siege -c)")
        rps_ax.set_ylabel("requests / s")
        rps_ax.set_title(f"{label}: throughput")
        lat_ax.set_ylabel("response time (ms)")
        cpu_ax.set_ylabel("gunicorn CPU (% of one core, master + workers)")
        cpu_ax.set_title(f"{label}: what the server spent")
        if cpu_ax.lines:
            cpu_ax.legend(fontsize=7)
        lat_ax.set_title(f"{label}: latency (p99 where the requests support it)")
        rps_ax.legend(fontsize=8)
        lat_ax.legend(fontsize=7, ncol=2)
        return save(fig, path)


def trend_chart(series: dict[str, list[tuple[str, float]]], label: str, path: Path) -> Path | None:
    """One metric across runs, one line per worker configuration. The index draws every trend after every run: a
    chart whose figures have not changed since it was drawn is left as it is (about 0.25 s a chart: 19 of them took 5
    of the index's 5.5 s over this machine's 140 runs)."""
    if not series:
        return None
    digest = drawn_from(series, label)
    if already_drawn(path, digest):
        return path
    run_ids = sorted({run_id for points in series.values() for run_id, _ in points})
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 3.5))
        for config, points in sorted(series.items()):
            ax.plot([run_ids.index(r) for r, _ in points], [v for _, v in points], marker="o", label=config)
        ax.set_xticks(range(len(run_ids)), [r.split("-")[0][:13] for r in run_ids], rotation=30, ha="right")
        ax.set_title(label)
        ax.legend(fontsize=7)
        return save(fig, path, digest)


def hosts_chart(rows: list[dict], hosts: list[str], label: str, path: Path) -> Path | None:
    """Throughput per core of each app host, side by side for each worker type (bench/model/fleet.py's rows of one
    swept scenario, its label)."""
    rows = [r for r in rows if any(r["hosts"][h]["rps_per_core"] is not None for h in hosts)]
    if not rows:
        return None
    width = 0.8 / len(hosts)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(rows) + 2), 3.8))
        for i, host in enumerate(hosts):
            values = [r["hosts"][host]["rps_per_core"] or 0 for r in rows]
            ax.bar([x + (i - (len(hosts) - 1) / 2) * width for x in range(len(rows))], values, width,
                   label=f"{host} ({rows[0]['hosts'][host]['cores']} core(s))")  # fmt: skip
        ax.set_xticks(range(len(rows)), [f"{variant_of(r)}\nc={r['concurrency'] or '?'}" for r in rows])
        ax.set_ylabel("requests per second per core")
        ax.set_title(f"{label}: app hosts side by side")
        ax.legend(fontsize=8)
        return save(fig, path)


def rate_chart(rows: list[dict], label: str, order: list[str], path: Path) -> Path | None:
    """Mean wait (with its 95 % interval) against offered rate for one scenario loaded at a rate (its label), one
    colour per worker type and a marker per arrivals, with the wait queueing theory gives for the type's slots and the
    service time it measured (a line up to 95 % of its slots' capacity); and p50 and p99 latency."""
    rows = [r for r in rows if r["label"] == label and r.get("rate") and r["rate"]["wait"]["mean"] is not None]
    if not rows:
        return None
    with plt.rc_context(STYLE):
        fig, (wait_ax, lat_ax) = plt.subplots(1, 2, figsize=(12, 4))
        for variant in order:
            mine = sorted((r for r in rows if variant_of(r) == variant), key=lambda r: r["rate_per_s"])
            colour = None
            for arrivals, marker in (("poisson", "o"), ("even", "s")):
                runs = [r for r in mine if r["arrivals"] == arrivals]
                if not runs:
                    continue
                x = [r["rate_per_s"] for r in runs]
                mean = [r["rate"]["wait"]["mean"] * 1000 for r in runs]
                # the interval's reach below and above the mean (none drawn without an interval)
                bounds = [(r["rate"]["wait"]["low"], r["rate"]["wait"]["high"]) for r in runs]
                low = [0.0 if lo is None else max(0.0, m - lo * 1000) for m, (lo, _) in zip(mean, bounds, strict=True)]
                high = [0.0 if hi is None else max(0.0, hi * 1000 - m) for m, (_, hi) in zip(mean, bounds, strict=True)]
                drawn = wait_ax.errorbar(x, mean, yerr=[low, high], marker=marker, linestyle="none", capsize=3,
                                         color=colour, label=f"{variant} {arrivals}")  # fmt: skip
                colour = drawn[0].get_color()
                lat_ax.plot(x, [r["p50_s"] * 1000 for r in runs], marker=marker, color=colour,
                            label=f"{variant} {arrivals} p50")  # fmt: skip
                # p99 only where the requests bound it (quantiles.samples_needed: 368 at least)
                p99 = [(r["rate_per_s"], r["p99_s"]) for r in runs
                       if r["rate"]["latency"]["percentiles"]["p99"]["supported"]]  # fmt: skip
                if p99:
                    lat_ax.plot([x for x, _ in p99], [v * 1000 for _, v in p99], marker=marker, linestyle="--",
                                color=colour, label=f"{variant} {arrivals} p99")  # fmt: skip
                service = [r["service_s"] for r in runs if r.get("service_s")]
                if service and runs[0].get("slots"):
                    d, k = sum(service) / len(service), runs[0]["slots"]
                    top = min(0.95 * k / d, 2 * max(x))
                    grid = [top * i / 60 for i in range(1, 61)]
                    theory = [queueing.mean_wait_s(lam, d, k, arrivals) for lam in grid]
                    law = f"{'M' if arrivals == 'poisson' else 'D'}/D/{'∞' if k >= UNBOUNDED else k}"
                    wait_ax.plot(grid, [t * 1000 for t in theory], linestyle=":", color=colour, linewidth=1,
                                 label=f"{variant} {arrivals}: theory ({law})")  # fmt: skip
        wait_ax.set_xlabel("offered rate (requests / s)")
        wait_ax.set_ylabel("mean wait before the app (ms)")
        wait_ax.set_title(f"{label}: wait against theory")
        wait_ax.legend(fontsize=7)
        lat_ax.set_xlabel("offered rate (requests / s)")
        lat_ax.set_ylabel("latency from when each was due (ms)")
        lat_ax.set_title(f"{label}: latency (p99 where the requests support it)")
        lat_ax.legend(fontsize=7, ncol=2)
        return save(fig, path)


def chart_name(kind: str, key: str) -> str:
    return f"{kind}-{slug(key)}.png"


def capacity_chart(rows: list[dict], label: str, order: list[str], path: Path) -> Path | None:
    """The steps of each worker type's capacity search of one scenario (its label): the target's percentile of each
    step, with its 95 % interval where the requests bound it, against the offered rate (a filled marker where the
    step met the target, a cross where it broke it, a hollow one where it was undecided), and the target's line."""
    rows = [r for r in rows if r["label"] == label and r.get("search") and r["search"]["steps"]]
    if not rows:
        return None
    target = rows[0]["search"]["target"]
    markers = {"met": ("o", "full"), "broken": ("x", "full"), "undecided": ("o", "none")}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for variant in order:
            for row in (r for r in rows if variant_of(r) == variant):
                steps = sorted((s for s in row["search"]["steps"] if s["value_s"] is not None), key=lambda s: s["rate"])
                result = row["search"]["result"] or {}
                found, floor = result.get("capacity_per_s"), capacity.at_least(result)
                name = (f"{variant}: {'≥ ' if floor else ''}{capacity_bound.per_s(found)}/s" if found
                        else f"{variant}: not met")  # fmt: skip
                (line,) = ax.plot([s["rate"] for s in steps], [s["value_s"] * 1000 for s in steps], linewidth=1,
                                  label=name)  # fmt: skip
                for s in steps:
                    marker, fill = markers.get(s["verdict"], ("o", "none"))
                    low = (s["value_s"] - s["low_s"]) * 1000 if s["low_s"] is not None else 0
                    high = (s["high_s"] - s["value_s"]) * 1000 if s["high_s"] is not None else 0
                    ax.errorbar([s["rate"]], [s["value_s"] * 1000], yerr=[[low], [high]], color=line.get_color(),
                                marker=marker, fillstyle=fill, capsize=2, linewidth=0.8)  # fmt: skip
        ax.axhline(target["latency_s"] * 1000, color="grey", linestyle="--", linewidth=1,
                   label=f"target: p{target['percentile']:g} ≤ {target['latency_s'] * 1000:g} ms")  # fmt: skip
        rates = [s["rate"] for r in rows for s in r["search"]["steps"]]
        if max(rates) > 4 * min(rates):  # a search up by factors of two: a log scale, plain numbers on it
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel("offered rate (requests a second, Poisson)")
        ax.set_ylabel(f"p{target['percentile']:g} latency from when due (ms)")
        ax.set_title(f"{label}: capacity search, each step's p{target['percentile']:g} (95 % interval)")
        ax.legend(fontsize=7)
        return save(fig, path)


def operation_chart(rows: list[dict], kind: str, label: str, order: list[str], path: Path) -> Path | None:
    """Every request of each instance's run with one operation under load (bench/analyse/operations.py's rows), on
    one row each: its latency against when it was due, from the operation's instant (the line at 0); the stretch
    until the service was whole again shaded (a deploy's: its tasks' whole time too); a request lost marked with a
    red cross at the top, its kind beside."""
    rows = [r for r in rows if r["what"] == kind and r["label"] == label and r.get("timeline")]
    rows.sort(key=lambda r: order.index(variant_of(r)) if variant_of(r) in order else 0)
    if not rows:
        return None
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(rows), 1, figsize=(10, 1.2 + 1.5 * len(rows)), sharex=True, squeeze=False)
        for ax, r in zip(axes[:, 0], rows, strict=True):
            answered = [(t, lat * 1000) for t, lat, _ in r["timeline"] if lat is not None]
            lost = [(t, why) for t, lat, why in r["timeline"] if lat is None]
            if answered:
                ax.plot([t for t, _ in answered], [v for _, v in answered], marker=".", linestyle="none",
                        markersize=4, label="answered")  # fmt: skip
            top = max([v for _, v in answered] + [(r.get("bound_s") or 0) * 1000] + [1.0]) * 1.15
            if lost:
                ax.plot([t for t, _ in lost], [top] * len(lost), marker="x", color="red", linestyle="none",
                        label=f"lost ({', '.join(sorted({w for _, w in lost}))})")  # fmt: skip
            if r.get("recycles_at_s") is not None:  # a recycle has no instant: each restart the journal saw instead
                for n, at in enumerate(r["recycles_at_s"]):
                    mark = None if n else "a worker restarted"
                    ax.axvline(at, color="black", linestyle="--", linewidth=1, label=mark)
            else:
                ax.axvline(0, color="black", linewidth=1)
            if r.get("whole_after_s"):
                ax.axvspan(0, r["whole_after_s"], color="orange", alpha=0.2, label="until whole again")
            deploy = r.get("deploy") or {}
            if deploy.get("began_after_s") is not None and deploy.get("ended_after_s") is not None:
                ax.axvspan(deploy["began_after_s"], deploy["ended_after_s"], color="tab:blue", alpha=0.08,
                           label="deploy.yml's tasks")  # fmt: skip
            if r.get("bound_s"):
                ax.axhline(r["bound_s"] * 1000, color="grey", linestyle=":", linewidth=1, label="bound")
            ax.set_ylim(0, top * 1.1)
            ax.set_ylabel("ms")
            counts = f"lost {r['lost']} of {r['requests']}, {r['delayed']} delayed"
            ax.set_title(f"{variant_of(r)}: {r['verdict']}; {counts}", fontsize=9)
            ax.legend(fontsize=7, loc="upper left")
        zero = "the run's start + at_s" if rows[0].get("recycles_at_s") is not None else f"the {kind}"
        axes[-1, 0].set_xlabel(f"when each request was due, seconds from {zero} (latency from then)")
        fig.suptitle(f"{kind} under load: {label}")
        return save(fig, path)
