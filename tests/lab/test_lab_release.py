"""The lab's hosts on another Debian release and back: each release boots on its own base root and writable layers,
a virtualenv follows its host's Python, and lab_wipe=true discards every layer. The lab test leaves the lab up on
bookworm, with fresh layers (as `make lab` leaves a new lab). The virtualenv-rebuild decision is also checked here
without a host: the bench_app role's own tasks run on this machine against a scratch folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from labtools import ansible, app_address
from support import ROOT, lab_is_possible, lab_leftovers, playbook

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
