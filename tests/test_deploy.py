"""Deploy the app behind gunicorn on the lab, one worker type at a time, and check what runs."""

from __future__ import annotations

import re

import pytest
from conftest import lab_is_possible, playbook
from labtools import ansible, app_address, recap

from bench import catalog

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]

CAT = catalog.load()
TYPES = list(CAT.names)


# Bad input to deploy.yml is in the table of test_refusals.py.


@pytest.mark.parametrize("worker", TYPES)
def test_deploy_each_worker_type(lab, worker):
    proc = playbook("playbooks/deploy.yml", "-e", f"worker={worker}")
    assert proc.returncode == 0, proc.stdout[-5000:]
    addr = app_address()

    answers = ansible(
        "load",
        "-m",
        "ansible.builtin.shell",
        "-a",
        f"for p in / '/ioTask?ms=50' '/cpuTask?n=1000' '/cpuTask?n=0'; do "
        f"curl -s -o /dev/null -w '%{{http_code}} ' --max-time 10 http://{addr}:8000$p; done",
    )
    assert answers["load1"]["stdout"].split() == ["200", "200", "200", "400"]

    state = ansible(
        "app",
        "-m",
        "ansible.builtin.shell",
        "-a",
        "systemctl is-active " + " ".join(f"gunicorn@{t}.service" for t in TYPES) + " || true",
    )
    active = dict(zip(TYPES, state["app1"]["stdout"].split(), strict=True))
    assert active[worker] == "active"
    assert [t for t, s in active.items() if s == "active"] == [worker], active

    journal = ansible(
        "app",
        "-m",
        "ansible.builtin.command",
        "-a",
        f"journalctl -u gunicorn@{worker}.service -o cat --no-pager -n 200",
    )["app1"]["stdout"]
    t = CAT.type(worker)
    last_start = journal[journal.rindex("Starting gunicorn") :]
    assert last_start.startswith(f"Starting gunicorn {t.default_version}")
    assert re.search(rf"Using worker: {re.escape(t.worker_class)}\b", last_start), last_start[:500]

    if worker == "gthread":  # a second deploy changes nothing (once is enough: the tasks are the same for each type)
        again = playbook("playbooks/deploy.yml", "-e", f"worker={worker}")
        assert again.returncode == 0
        assert recap(again.stdout, "app1")["changed"] == 0, again.stdout[-3000:]


@pytest.mark.parametrize("worker", TYPES)
def test_unit_is_hardened_and_verifies_clean(lab, worker):
    security = ansible(
        "app", "-m", "ansible.builtin.command", "-a", f"systemd-analyze security --no-pager gunicorn@{worker}.service"
    )["app1"]
    score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", security["stdout"]).group(1))
    print(f"systemd-analyze security gunicorn@{worker}.service: {score}")
    assert score <= 2.0, security["stdout"][-2000:]
    verify = ansible("app", "-m", "ansible.builtin.command", "-a", f"systemd-analyze verify gunicorn@{worker}.service")[
        "app1"
    ]
    assert verify["rc"] == 0
    assert verify["stderr"] == "", verify["stderr"]


def test_runs_unprivileged_on_the_benchmark_address(lab):
    assert playbook("playbooks/deploy.yml", "-e", "worker=gthread").returncode == 0
    ps = ansible(
        "app",
        "-m",
        "ansible.builtin.shell",
        "-a",
        "ps -o user= -C gunicorn | sort -u; ss -ltnH 'sport = :8000' | awk '{print $4}'",
    )
    lines = ps["app1"]["stdout"].split()
    assert lines == ["gunicorn", f"{app_address()}:8000"], lines


def test_what_the_playbooks_wrote_on_the_hosts_is_root_owned_and_not_writable_by_the_service(lab):
    """The service user may not change its own code, config or unit; nothing written is world-writable."""
    app = ansible("app", "-m", "ansible.builtin.shell", "-a",
                  "find /opt/bench /etc/gunicorn /etc/systemd/system/gunicorn@.service ! -type l "
                  "\\( -perm /o+w -o -user gunicorn -o -group gunicorn -o ! -user root \\) -print; "
                  "find /opt/bench /etc/gunicorn ! -type l | wc -l")["app1"]["stdout"].split()  # fmt: skip
    assert int(app[-1]) > 100 and app[:-1] == [], app[:20]
    load = ansible("load", "-m", "ansible.builtin.shell", "-a",
                   "find /opt/bench /var/tmp/bench ! -type l \\( -perm /o+w -o ! -user root \\) -print; "
                   "find /opt/bench/load -type f | wc -l")["load1"]["stdout"].split()  # fmt: skip
    assert int(load[-1]) >= 3 and load[:-1] == [], load[:20]


def test_the_load_role_removes_raw_output_older_than_load_keep_work_days():
    """A nightly schedule would fill the load hosts' disks: each run leaves its raw output under /var/tmp/bench."""
    plant = ("mkdir -p /var/tmp/bench/20000101T000000Z-sync/sync /var/tmp/bench/fresh-run && "
             "touch /var/tmp/bench/old.plan.json && "
             "touch -d '10 days ago' /var/tmp/bench/20000101T000000Z-sync /var/tmp/bench/old.plan.json")  # fmt: skip
    assert ansible("load1", "-m", "ansible.builtin.shell", "-a", plant)["load1"]["rc"] == 0
    ran = ansible("load1", "-m", "ansible.builtin.include_role", "-a", "name=load")
    assert not ran["load1"].get("failed"), ran["load1"]
    left = ansible("load1", "-m", "ansible.builtin.command", "-a", "ls /var/tmp/bench")["load1"]["stdout_lines"]
    assert "20000101T000000Z-sync" not in left and "old.plan.json" not in left
    assert "fresh-run" in left, "output younger than load_keep_work_days (7) stays"
    ansible("load1", "-m", "ansible.builtin.file", "-a", "path=/var/tmp/bench/fresh-run state=absent")
