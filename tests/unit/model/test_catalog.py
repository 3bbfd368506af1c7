"""The worker-type catalog (worker_types.yml) walked entry by entry: every type has its theory, a lock file, the
releases it exists in and its knobs, and the report renders its rows from a fixed results file of a real run of
every type (quick profile, the lab)."""

from __future__ import annotations

import re

import pytest
from support import FIXTURES

from bench import files
from bench.analyse import stats
from bench.model import catalog, plan, results_model
from bench.render import report

CAT = catalog.load()
EIGHT = FIXTURES / "results" / "quick-eight.json"
PIN = re.compile(r"^[A-Za-z0-9_.\-]+==[0-9][A-Za-z0-9.]*$")
SLOTS = {"workers": 2, "threads": 6, "connections": 10, "unbounded": catalog.UNBOUNDED}
QUICK_ALL = FIXTURES / "results" / "quick-all.json"  # a real run of worker=classic: the original experiment's five


@pytest.mark.parametrize("name", CAT.names)
def test_every_type_has_theory_a_lock_releases_and_knobs(name):
    t = CAT.type(name)
    assert set(t.theory) == {"io", "cpu"} and set(t.theory.values()) <= set(catalog.BOUNDS)
    assert t.explain and t.explain.startswith(name), "the report's theory sentence names its type first"
    lines = [ln for ln in t.lock_file.read_text().splitlines() if ln and not ln.startswith("#")]
    assert all(PIN.match(ln) for ln in lines), f"{t.lock_file.name}: exact pins only"
    assert not any(ln.lower().startswith("gunicorn==") for ln in lines), "gunicorn is pinned by the catalog"
    assert plan.VERSION_RE.match(t.default_version) and t.exists_in(t.default_version)
    assert set(t.knobs) <= set(CAT.knobs)
    assert t.interface in catalog.INTERFACES
    for framework in ("flask", "fastapi", "starlette", "werkzeug"):  # the app's packages are the app's (bench_app)
        assert not any(ln.lower().startswith(f"{framework}==") for ln in lines), f"{t.lock_file.name} pins {framework}"
    for package in t.versions:
        assert any(ln.lower().startswith(f"{package}==") for ln in lines), f"the report shows {package}: lock it"
    # 2 workers, 3 threads, 5 connections: each bound gives its own number, so a bound read wrong shows
    for task in ("io", "cpu"):
        assert stats.slots(name, task, 2, 3, 5) == SLOTS[t.theory[task]], (name, task)


def test_each_knob_has_values_and_a_label_and_every_set_names_types():
    for name, knob in CAT.knobs.items():
        assert knob["values"] and "{}" in knob["label"], name
    # worker=classic names what the original experiment's run (a real quick run of the five) loaded, in its order,
    # and a run of those types is labelled by the set's name
    five = files.read_json(QUICK_ALL)["workers_tested"]
    assert plan.parse_types("classic", CAT) == five == list(CAT.sets["classic"])
    assert plan.run_label(five, CAT) == "classic" and plan.run_label(five[:4], CAT) == "+".join(five[:4])


def test_a_type_the_catalog_does_not_know_has_no_theory():
    with pytest.raises(KeyError, match=r"worker type 'meinheld' is not in worker_types\.yml"):
        stats.slots("meinheld", "io", 1, 1, 1000)


def test_the_fixed_run_covers_the_catalog_as_written():
    """The eight types of this catalog are all in the fixed run (a type added later skips its rendering test until the
    fixture is refreshed; this count says when that happened)."""
    tested = files.read_json(EIGHT)["workers_tested"]
    assert len(tested) == 8 and set(tested) <= set(CAT.names), tested


@pytest.mark.parametrize("name", CAT.names)
def test_the_report_renders_each_types_rows_from_a_real_run(name, tmp_path):
    results = files.read_json(EIGHT)
    if name not in results["workers_tested"]:  # a type added since: refresh the fixture from a run of worker=all
        pytest.skip(f"{name} is not in {EIGHT.name}: copy reports/<run>/results.json of a quick worker=all run there")
    text = report.render(results, tmp_path, make_charts=False)
    verdicts = text[text.index("## Verdict") : text.index("## Changes")]
    t = CAT.type(name)
    for task in ("io", "cpu"):
        row = next(ln for ln in verdicts.splitlines() if ln.startswith(f"| {name} | ") and f" | {task} | 10 |" in ln)
        assert " | expected | " in row, row
    assert t.explain in " ".join(verdicts.split())
    versions = text[text.index("| worker | python | gunicorn |") :].splitlines()
    header, row = versions[0], next(ln for ln in versions if ln.startswith(f"| {name} | "))
    cols = [c.strip() for c in header.strip("|").split("|")]
    cells = dict(zip(cols, (c.strip() for c in row.strip("|").split("|")), strict=True))
    for package in [results_model.DEMO_APP["packages"][t.interface][0], *t.versions]:
        assert cells[package] not in ("", "–"), f"{name}: no {package} version in the report"
