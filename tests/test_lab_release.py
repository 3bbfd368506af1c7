"""The lab's hosts on another Debian release and back: each release boots on its own base root and writable layers,
a virtualenv follows its host's Python, and lab_wipe=true discards every layer. The lab test leaves the lab up on
bookworm, with fresh layers (as `make lab` leaves a new lab). The virtualenv-rebuild decision is also checked here
without a host: the bench_app role's own tasks run on this machine against a scratch folder."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, lab_is_possible, lab_leftovers, playbook
from labtools import ansible, app_address

lab = [pytest.mark.lab, pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux")]

HOSTS_DIR = ROOT / ".lab/hosts"
WORKER = "sync"
RECORD = f"/opt/bench/venvs/demo-{WORKER}/bench-venv.json"


def lab_up(*extra: str) -> None:
    proc = playbook("playbooks/lab.yml", *extra)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def deploy() -> str:
    proc = playbook("playbooks/deploy.yml", "-e", f"worker={WORKER}")
    assert proc.returncode == 0, proc.stdout[-5000:]
    return proc.stdout


def rebuilt(deploy_output: str) -> bool:
    """Did the deploy build the virtualenv (rather than skip the include)?"""
    return f"Create the virtualenv of {WORKER}" in deploy_output


def served() -> dict:
    """What the deployed worker type answers, asked from the load host: /healthz, and the app's three endpoints."""
    addr = app_address()
    out = ansible(
        "load",
        "-m",
        "ansible.builtin.shell",
        "-a",
        f"curl -sf --max-time 10 http://{addr}:8000/healthz && echo && "
        f"for p in / '/ioTask?ms=50' '/cpuTask?n=1000'; do "
        f"curl -s -o /dev/null -w '%{{http_code}} ' --max-time 10 http://{addr}:8000$p; done",
    )["load1"]
    assert out["rc"] == 0, out
    health, codes = [line for line in out["stdout"].splitlines() if line.strip()]
    assert codes.split() == ["200", "200", "200"]
    return json.loads(health)


def app_host() -> tuple[str, dict]:
    """The app host's Debian version and its virtualenv's record."""
    out = ansible("app", "-m", "ansible.builtin.shell", "-a", f"cat /etc/debian_version {RECORD}")["app1"]
    assert out["rc"] == 0, out
    debian, record = out["stdout"].split("\n", 1)
    return debian, json.loads(record)


def layers() -> list[Path]:
    """Every folder in a host's folder: the hosts' writable layers, of any release."""
    return sorted(p for host in HOSTS_DIR.iterdir() if host.is_dir() for p in host.iterdir() if p.is_dir())


def on_bookworm() -> None:
    lab_up()
    deploy()
    assert served()["versions"]["python"].startswith("3.11.")
    debian, record = app_host()
    assert debian.startswith("12.") and record["version"].startswith("3.11."), (debian, record)


def on_trixie() -> None:
    lab_up("-e", "lab_debian_suite=trixie")  # builds trixie's base root the first time (about 2 min)
    assert (HOSTS_DIR / "app1/trixie/upper").is_dir()
    assert (HOSTS_DIR / "app1/bookworm/upper/opt/bench/venvs" / f"demo-{WORKER}").is_dir(), "bookworm's layer stays"
    deploy()
    assert served()["versions"]["python"].startswith("3.13.")
    debian, record = app_host()
    assert debian.startswith("13.") and record["version"].startswith("3.13."), (debian, record)


def back_on_bookworm() -> None:
    lab_up()
    assert not rebuilt(deploy()), "bookworm's layer came back as it was left: its virtualenv still fits"
    assert served()["versions"]["python"].startswith("3.11.")
    assert app_host()[0].startswith("12.")


def venv_follows_python() -> None:
    # Python changed under the virtualenv (what an in-place Debian upgrade does): its record names another one.
    edit = f'sed -i \'s/"version": "3[.]11[.]/"version": "3.13./\' {RECORD}'
    assert ansible("app", "-m", "ansible.builtin.shell", "-a", edit)["app1"]["rc"] == 0
    assert app_host()[1]["version"].startswith("3.13.")
    assert rebuilt(deploy()), "a virtualenv made for another Python is rebuilt"
    assert app_host()[1]["version"].startswith("3.11.")
    served()
    # An install interrupted half-way: the virtualenv is there but has no record.
    half = f"rm {RECORD} /opt/bench/venvs/demo-{WORKER}/bin/gunicorn"
    assert ansible("app", "-m", "ansible.builtin.shell", "-a", half)["app1"]["rc"] == 0
    assert rebuilt(deploy()), "a half-built virtualenv is rebuilt"
    served()


def wipe() -> None:
    assert {p.name for p in layers()} >= {"bookworm", "trixie"}, layers()
    proc = playbook("playbooks/lab.yml", "-e", "lab_state=absent", "-e", "lab_wipe=true")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert layers() == []
    assert lab_leftovers() == []


# About 4-5 minutes, and it leaves the lab's hosts with fresh layers (every later test would rebuild its virtualenvs):
# `make test-release` runs it, `make test` leaves it out to stay under 20 minutes.
@lab[0]
@lab[1]
@pytest.mark.release
def test_a_worker_type_runs_on_bookworm_on_trixie_and_back_then_wipe_discards_every_layer():
    times: dict[str, float] = {}
    start = time.monotonic()
    steps = [
        ("bookworm: lab up, deploy", on_bookworm),
        ("trixie: lab up, deploy", on_trixie),
        ("bookworm again: lab up, deploy", back_on_bookworm),
        ("venv rebuilt: Python changed, then half-built", venv_follows_python),
        ("lab down with lab_wipe=true", wipe),
    ]
    try:
        for what, step in steps:
            began = time.monotonic()
            step()
            times[what] = round(time.monotonic() - began, 1)
    finally:
        began = time.monotonic()
        lab_up()  # the rest of the suite shares the lab: up on bookworm
        times["bookworm: lab up (fresh layers after the wipe)"] = round(time.monotonic() - began, 1)
        times["total"] = round(time.monotonic() - start, 1)
        print(f"test_lab_release times (s): {json.dumps(times)}")
    debian = ansible("app", "-m", "ansible.builtin.command", "-a", "cat /etc/debian_version")["app1"]["stdout"]
    assert debian.startswith("12.")
    pings = ansible("all", "-m", "ansible.builtin.ping")
    assert {h: r["ping"] for h, r in pings.items()} == {"app1": "pong", "load1": "pong"}


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
