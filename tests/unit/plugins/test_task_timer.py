"""The run's one timer (plugins/callback/task_timer.py, bench/control/phases.py): a play that names its phase is
noted once, when it begins, in a file of the ansible-playbook's own that `bench finish` reads from inside it; the file
goes when the playbook ends."""

from __future__ import annotations

import json
import os
import sys

import pytest
import yaml
from support import ROOT, playbook

from bench.control import phases

READ = [sys.executable, "-c", "import json; from bench.control import lock, phases; "
        "print(json.dumps({'pid': lock.owner_pid(), 'marks': phases.read(lock.owner_pid())}))"]  # fmt: skip


def play(name: str, phase: str | None, tasks: list | None = None) -> dict:
    named = {"vars": {"bench_phase": phase}} if phase else {}
    return {"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False, **named,
            "tasks": tasks or [{"ansible.builtin.meta": "noop"}]}  # fmt: skip


def test_each_phase_is_noted_once_when_its_first_play_begins_and_read_from_inside_the_playbook(tmp_path):
    read = {"ansible.builtin.command": {"argv": READ, "chdir": str(ROOT)}, "register": "read", "changed_when": False}
    show = {"ansible.builtin.copy": {"content": "{{ read.stdout }}", "dest": str(tmp_path / "read.json"),
                                     "mode": "0644"}}  # fmt: skip
    (tmp_path / "run.yml").write_text(yaml.safe_dump([
        play("first", "validate"), play("no phase", None), play("the load", "load"),
        play("the load again", "load", [{"ansible.builtin.pause": {"seconds": 1}}]),
        play("the report", "report", [read, show]),
    ]))  # fmt: skip
    done = playbook(
        str(tmp_path / "run.yml"), timeout=120, env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    )
    assert done.returncode == 0, done.stdout[-3000:]
    found = json.loads((tmp_path / "read.json").read_text())
    marks = found["marks"]
    assert list(marks) == ["validate", "load", "report"], "only plays that name a phase; each phase once"
    assert marks["validate"] <= marks["load"] and marks["report"] - marks["load"] >= 1.0, "load: its first play's start"
    assert not phases.marks_path(found["pid"]).exists(), "the playbook's file goes when it ends"


def test_a_phase_that_is_no_phase_of_a_run_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="bench_phase: 'deploying' is no phase of a run; one of validate, lab"):
        phases.note(1, "deploying", 0.0, tmp_path)
    assert phases.read(1, tmp_path) == {}


def test_the_first_mark_of_a_phase_stays(tmp_path):
    phases.note(7, "deploy", 10.0, tmp_path)
    assert phases.note(7, "deploy", 20.0, tmp_path) == {"deploy": 10.0}
    phases.forget(7, tmp_path)
    assert phases.read(7, tmp_path) == {}
