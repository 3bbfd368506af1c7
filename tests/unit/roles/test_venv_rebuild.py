"""The bench_app role's decision to rebuild a virtualenv (its Python changed, its locks changed, or its install did not
finish), run as the role writes it, by ansible-playbook on this machine (no lab host)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from support import ROOT, lab_is_possible, playbook

lab = [pytest.mark.lab, pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux")]

HOSTS_DIR = ROOT / ".lab/hosts"
WORKER = "sync"
RECORD = f"/opt/bench/venvs/demo-{WORKER}/bench-venv.json"


# --- the virtualenv-rebuild decision, on this machine (no lab host) -------------------------------------------------

ROLE_TASKS = ROOT / "roles/bench_app/tasks"


def role_task(path: Path, name_start: str) -> dict:
    """One task of the role, as written (the check runs the role's own expressions, not a copy of them)."""
    return next(t for t in yaml.safe_load(path.read_text()) if t.get("name", "").startswith(name_start))


def decide(tmp_path: Path, instances: list[dict]) -> list[str]:
    """Run the role's tasks that write the locks, read the records and list the virtualenvs to build, then write a
    record for each listed one as the role does after an install; return the names listed."""
    record = role_task(ROLE_TASKS / "venv.yml", "Record, last")
    record = {**record, "loop": "{{ bench_app_stale }}", "loop_control": {"loop_var": "bench_app_instance"}}
    play = {
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {
            "bench_app_dir": str(tmp_path / "opt"),
            "bench_app_instances": instances,
            # what the wheelhouse step (bench_lock) says of each instance: its lock on the controller
            "bench_app_locks": {
                i["name"]: {"lock": str(tmp_path / f"locks/{i['name']}.txt"), "app_wheel": None} for i in instances
            },
            "bench_app_venv": "{{ bench_app_dir }}/venvs/{{ bench_app_instance.name }}",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        },
        "tasks": [
            {"name": "Gather", "ansible.builtin.setup": {"gather_subset": ["!all", "!min", "python", "platform"]}},
            role_task(ROLE_TASKS / "install.yml", "Write each virtualenv's locked requirements"),
            role_task(ROLE_TASKS / "install.yml", "Read each virtualenv's record"),
            role_task(ROLE_TASKS / "install.yml", "List the virtualenvs to build"),
            {
                "name": "Show",
                "ansible.builtin.debug": {"msg": "STALE={{ bench_app_stale | map(attribute='name') | join(',') }}"},
            },
            record,
        ],
    }
    book = tmp_path / "decide.yml"
    book.write_text(yaml.safe_dump([play], sort_keys=False))
    proc = playbook("-i", "localhost,", str(book), timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return [n for n in re.search(r'"STALE=([^"]*)"', proc.stdout).group(1).split(",") if n]


def test_a_virtualenv_is_rebuilt_when_its_python_or_locks_change_or_its_install_did_not_finish(tmp_path):
    names = ["same", "version", "path", "half", "locks"]
    (tmp_path / "locks").mkdir(parents=True)
    for name in names:
        (tmp_path / f"locks/{name}.txt").write_text("flask==3.1.3\n")
        (tmp_path / f"opt/venvs/{name}").mkdir(parents=True)
    instances = [{"name": n, "gunicorn_version": "27.0.1", "requirements": ["gunicorn==27.0.1"]} for n in names]
    venvs = tmp_path / "opt/venvs"

    assert decide(tmp_path, instances) == names, "no record yet (made before records, or never finished): all"

    def rewrite(name: str, **changes: str) -> None:
        record = json.loads((venvs / f"{name}/bench-venv.json").read_text())
        assert set(record) == {"python", "version", "architecture", "requirements_sha1"}
        (venvs / f"{name}/bench-venv.json").write_text(json.dumps({**record, **changes}, sort_keys=True))

    rewrite("version", version="3.10.9.final")  # the host's Python was upgraded under the virtualenv
    rewrite("path", python="/usr/local/bin/python3")  # another interpreter
    (venvs / "half/bench-venv.json").unlink()  # the install was interrupted before its record
    (tmp_path / "locks/locks.txt").write_text("flask==3.1.2\n")
    assert decide(tmp_path, instances) == ["version", "path", "half", "locks"], "and the unchanged one is kept"
