"""The run's own options have one place (roles/bench_run): each default has an argument spec with a type, and the
default passes it; no playbook defaults one again inline; what still repeats a default elsewhere agrees with it. The
load role's spec covers its defaults, entry point by entry point."""

from __future__ import annotations

import re

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from support import ROOT

from bench.trends import history

BENCH_RUN = ROOT / "roles/bench_run"
DEFAULTS = yaml.safe_load((BENCH_RUN / "defaults/main.yml").read_text())
SPECS = yaml.safe_load((BENCH_RUN / "meta/argument_specs.yml").read_text())["argument_specs"]
OPTIONS = SPECS["validate"]["options"]

# Playbooks that still default an option inline: none (every play that reads one lists the bench_run role).
STILL_INLINE: set[tuple[str, str]] = set()


def untemplated(values: dict) -> dict:
    return {k: v for k, v in values.items() if not (isinstance(v, str) and "{{" in v)}


def test_every_option_has_a_default_and_a_typed_spec_and_its_default_passes_it():
    assert set(DEFAULTS) == set(OPTIONS)
    assert all(spec.get("type") and spec.get("description") for spec in OPTIONS.values())
    result = ArgumentSpecValidator(OPTIONS).validate(untemplated(DEFAULTS))
    assert not result.error_messages
    for name, spec in OPTIONS.items():
        assert DEFAULTS[name] in spec.get("choices", [DEFAULTS[name]]), name


def test_each_default_has_its_comment():
    lines = (BENCH_RUN / "defaults/main.yml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"[a-z_]+:", line):  # a default: its comment above it, or its group's (the knobs share one)
            above = next(lines[j] for j in range(i - 1, -1, -1) if not re.match(r"[a-z_]+: null", lines[j]))
            assert above.startswith("# "), line


def test_no_playbook_defaults_a_run_option_inline():
    found = set()
    for path in [ROOT / "bench.yml", *sorted((ROOT / "playbooks").rglob("*.yml"))]:
        text = path.read_text()
        for name in DEFAULTS:
            if re.search(rf"(?<![\w.]){name}\s*\|\s*default\(", text):
                found.add((str(path.relative_to(ROOT)), name))
    assert found == STILL_INLINE


def test_the_plays_that_read_the_options_list_the_role():
    for book in ("validate.yml", "begin.yml", "report.yml"):
        plays = yaml.safe_load((ROOT / "playbooks" / book).read_text())
        on_controller = [play for play in plays if play["hosts"] == "localhost"]
        assert all({"role": "bench_run"} in play.get("roles", []) for play in on_controller), book
    preflight = yaml.safe_load((ROOT / "playbooks/preflight.yml").read_text())
    assert {"role": "bench_run"} in preflight[1]["roles"]
    load = yaml.safe_load((ROOT / "playbooks/bench_load.yml").read_text())  # run.json's verify_only; each turn's
    assert [{"role": "bench_run"} in play.get("roles", []) for play in load] == [True, False, True]


def test_the_command_line_of_bench_finish_agrees_with_the_roles_defaults():
    # bench/__main__.py repeats --keep-raw's default; bench/trends/history.py's DEFAULT is the thresholds'
    main = (ROOT / "bench/__main__.py").read_text()
    assert re.search(r'"--keep-raw", type=int, default=(\d+)', main).group(1) == str(DEFAULTS["bench_keep_raw_runs"])
    given = history.DEFAULT
    role = tuple(DEFAULTS[f"bench_regression_{k}"] for k in ("threshold", "noise_factor", "min_history", "window"))
    assert (given.relative, given.noise_factor, given.min_history, given.window) == role


def test_the_load_roles_spec_covers_its_defaults_and_they_pass_it():
    load = ROOT / "roles/load"
    defaults = yaml.safe_load((load / "defaults/main.yml").read_text())
    specs = yaml.safe_load((load / "meta/argument_specs.yml").read_text())["argument_specs"]
    covered = {name for entry in specs.values() for name in entry["options"]}
    # left to bench_matrix, which names the bad field (meta/argument_specs.yml says why)
    assert set(defaults) - covered == {"load_probes", "load_sweep", "load_rate", "load_capacity", "load_operations"}
    for entry, spec in specs.items():
        assert (load / "tasks" / f"{entry}.yml").is_file(), entry
        given = untemplated({k: v for k, v in defaults.items() if k in spec["options"]})
        optional = {name: option | {"required": False} for name, option in spec["options"].items()}
        assert not ArgumentSpecValidator(optional).validate(given).error_messages, entry
