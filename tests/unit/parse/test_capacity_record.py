"""A capacity search as collect records it and the report shows it, from a real lab run (tests/fixtures/capacity:
sync -w1 on /ioTask?ms=100 within p75 <= 250 ms, three steps: 5/s undecided, again twice as long undecided, 2.5/s
met), its step outputs as the load host wrote them."""

from __future__ import annotations

import json
import shutil

from support import FIXTURES, fixture_json

from bench.model import results_model
from bench.parse import collect
from bench.render import report, summary

RUN = fixture_json("capacity/run-row.json")
RESULTS = fixture_json("capacity/results.json")


def record(raw) -> dict:
    rec = {key: RUN[key] for key in collect.FIELDS} | {key: RUN.get(key) for key in collect.RATE_FIELDS}
    return collect.capacity_record(rec, RUN, raw)


def test_each_step_is_judged_again_from_its_requests_as_the_load_host_judged_it(tmp_path):
    shutil.copytree(FIXTURES / "capacity", tmp_path / "raw")
    got = record(tmp_path / "raw")
    assert got["valid"], got["invalid_reason"]
    assert [(s["rate"], s["longer"], s["time_s"], s["verdict"]) for s in got["search"]["steps"]] == [
        (5.0, 1, 3, "undecided"), (5.0, 2, 6, "undecided"), (2.5, 1, 6, "met")
    ]  # fmt: skip
    result = got["search"]["result"]
    assert (result["capacity_per_s"], result["missed_per_s"]) == (2.5, 5.0)
    assert result["how"].endswith("stopped after max_steps=3 steps")
    assert got["transactions"] == sum(s["n"] for s in got["search"]["steps"]) and got["failed"] == 0
    assert got["load_host"] == "load1"
    (recorded,) = [r for r in RESULTS["results"] if r["scenario"] == "capacity"]
    assert got["search"] == recorded["search"], "what the lab run's collect wrote"


def test_a_step_the_load_host_judged_otherwise_makes_the_search_invalid(tmp_path):
    shutil.copytree(FIXTURES / "capacity", tmp_path / "raw")
    path = tmp_path / "raw" / "load1" / f"{RUN['name']}.search.json"
    search = json.loads(path.read_text())
    search["steps"][2]["verdict"] = "broken"
    path.write_text(json.dumps(search))
    got = record(tmp_path / "raw")
    assert not got["valid"]
    assert got["invalid_reason"] == f"{RUN['name']}-s03: met here, broken on the load host"


def late(raw, step: int, by_s: float) -> None:
    """Step `step`'s requests sent `by_s` after they were due, as a generator that fell behind sends them (their
    latency, from when they were due, unchanged)."""
    path = raw / "load1" / f"{RUN['name']}-s{step:02d}.out"
    header, *rows = path.read_text().splitlines()
    rows = [json.loads(r) for r in rows]
    rows = [[r[0], r[1], r[1] + by_s, *r[3:]] if isinstance(r, list) else r for r in rows]  # the summary line last
    path.write_text("\n".join([header] + [json.dumps(r) for r in rows]) + "\n")


def test_a_load_bound_step_decides_nothing_where_its_lag_could_have_made_the_verdict(tmp_path):
    shutil.copytree(FIXTURES / "capacity", tmp_path / "raw")
    late(tmp_path / "raw", 3, 0.05)  # 2.5/s, met: a late send only adds to a latency timed from when it was due
    got = record(tmp_path / "raw")
    step = got["search"]["steps"][2]
    assert step["load_bound"] and not step["lag_decides"] and got["valid"]
    assert got["search"]["result"]["capacity_per_s"] == 2.5 and "fell behind" not in got["search"]["result"]["how"]
    late(tmp_path / "raw", 2, 0.05)  # 5/s undecided twice (counted as not met): the lag may be all of it
    got = record(tmp_path / "raw")
    result = got["search"]["result"]
    assert got["valid"] and got["search"]["steps"][1]["lag_decides"]
    assert (result["capacity_per_s"], result["missed_per_s"]) == (2.5, None), "met, and never missed for sure"
    assert "; at 5/s the load host fell behind (load-bound): decides nothing" in result["how"]


def test_a_search_with_no_output_is_no_output(tmp_path):
    (tmp_path / "load1").mkdir()
    got = record(tmp_path)
    assert not got["valid"] and got["invalid_reason"] == collect.NO_OUTPUT and got["search"] is None


def test_the_report_has_the_section_its_chart_and_the_first_paragraphs_sentence(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(RESULTS))
    text = report.main(str(tmp_path)).read_text()
    section = text[text.index("## Capacity within a latency target") :]
    row = (
        "| sync | `/ioTask?ms=100` | p75 ≤ 250 ms with at most 1 % errors | **2.5/s** | 5.0/s | 3 | its 1 slot: "
        "100 ms a request, at most 10/s, 6.67/s within the target by queueing theory (M/D/1) | met at 2.5/s"
    )
    assert row in section, "this fixture has no samples of the app: its CPU is not known"
    assert "| sync | `/ioTask?ms=100` | 3 | 2.5/s |" in section and "met: p75 within the target" in section
    assert "![/ioTask?ms=100: capacity search](capacity-ioTask-ms-100.png)" in section
    assert (tmp_path / "capacity-ioTask-ms-100.png").stat().st_size > 5000
    first = text[: text.index("## ")]
    assert (
        "- **io_100ms** (`/ioTask?ms=100`) within p75 ≤ 250 ms with at most 1 % errors: **sync** carries 2.5 requests"
        " a second (not met at 5: the search left them 100 % apart), bounded by its 1 slot (queueing theory: 6.67/s)"
    ) in first


def test_who_carries_the_most_and_by_how_much_against_the_next():
    (rec,) = [r for r in results_model.current(RESULTS)["results"] if r["scenario"] == "capacity"]
    wide = {**rec, "worker_type": "gevent", "variant": "gevent", "search": {**rec["search"], "result": {
        **rec["search"]["result"], "capacity_per_s": 180.0, "missed_per_s": 185.0}}}  # fmt: skip
    nowhere = {**rec, "worker_type": "tornado", "variant": "tornado", "search": {**rec["search"], "result": {
        **rec["search"]["result"], "capacity_per_s": None}}}  # fmt: skip
    (line,) = summary.capacity_sentences([rec, wide, nowhere])
    assert line.endswith(
        "**gevent** carries the most, 180 requests a second, 72 × sync's 2.5 requests a second (not met at 5: the "
        "search left them 100 % apart); tornado met it at no rate tried"
    ), line
    bound = {"capacity_per_s": 160.0, "missed_per_s": None, "how": "met at 160/s; stopped after max_steps=5 steps"}
    floor = {**wide, "search": {**wide["search"], "result": {**wide["search"]["result"], **bound}}}
    (line,) = summary.capacity_sentences([rec, floor])
    assert line.endswith(
        "**gevent** carries the most, at least 160 requests a second (the search stopped before it missed the target:"
        " met at 160/s; stopped after max_steps=5 steps), at least 64 × sync's 2.5 requests a second (not met at 5: "
        "the search left them 100 % apart)"
    ), line
    higher = {**floor, "worker_type": "gthread", "variant": "gthread", "search": {**floor["search"], "result": {
        **floor["search"]["result"], "capacity_per_s": 320.0, "how": "met at 320/s"}}}  # fmt: skip
    (line,) = summary.capacity_sentences([higher, floor])
    assert line.endswith(
        "; gevent at least 160 requests a second (the search stopped before it missed the target: "
        "met at 160/s; stopped after max_steps=5 steps) (which carries more is not known)"
    ), line
    (line,) = summary.capacity_sentences([{**floor, "worker_type": "gthread", "variant": "gthread"}, floor, rec])
    assert "**gthread** and **gevent** carry the most, at least 160 requests a second" in line, "a tie: one tier"
    assert line.endswith(
        ", at least 64 × sync's 2.5 requests a second (not met at 5: the search left them 100 % apart)"
    )
    bounded = [
        {**r, "bound": {"short": "its CPU"}} for r in (floor, {**floor, "worker_type": "asgi", "variant": "asgi"})
    ]
    (line,) = summary.capacity_sentences(bounded)
    assert "**gevent** and **asgi** carry alike, at least 160" in line and line.endswith(", bounded by their CPU")
