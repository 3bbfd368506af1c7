"""Deploy the app behind gunicorn on the lab (several worker types at once, as `worker=all` does; one type alone, as a
turn leaves it) and check what runs."""

from __future__ import annotations

import re
import shlex

import pytest
from labtools import ansible, app_address, recap
from support import lab_is_possible, playbook

from bench.model import catalog

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]

CAT = catalog.load()
# one type of each bound on IO and interface (workers; connections, the green worker's own libraries; unbounded,
# an ASGI worker class from outside gunicorn): make test's time (each type adds about 6 s here). Every type of the
# catalog is deployed, started, checked against its plan and loaded by bench.yml in test_bench.py.
TYPES = ["sync", "gevent", "uvicorn"]
assert all(t in CAT.names for t in TYPES)
PATHS = ["/", "/ioTask?ms=50", "/cpuTask?n=1000", "/cpuTask?n=0"]
LOGGED = "Starting gunicorn [0-9.]+$|Using worker: [^ ]+$"  # gunicorn's own lines of a start, in the journal
ACTIVE = "systemctl list-units --state=active --plain --no-legend 'gunicorn@*' | wc -l"


# Bad input to deploy.yml is in the table of test_refusals.py.


@pytest.fixture(scope="module")
def served(lab) -> dict[str, list[str]]:
    """deploy.yml of TYPES (the role starts each instance, checks it and stops it again), then each instance started
    alone on the app host, as a turn does: how many run, the status of each of PATHS, and its journal's last start.
    One shell run on the app host for all of them (one ansible call per type cost ~3 s each)."""
    proc = playbook("playbooks/deploy.yml", "-e", f"worker={','.join(TYPES)}")
    assert proc.returncode == 0, proc.stdout[-5000:]
    base = f"http://{app_address()}:8000"
    script = ["set -u", f'echo "left running by deploy.yml: $({ACTIVE})"']
    for t in TYPES:
        unit = shlex.quote(f"gunicorn@demo-{t}.service")
        curls = " ".join(f"$(curl -s -o /dev/null -w '%{{http_code}}' --max-time 10 '{base}{p}')" for p in PATHS)
        script += [
            f"echo '=== {t}'; systemctl start {unit}",
            f"for i in $(seq 100); do curl -sf -o /dev/null --max-time 1 {base}/healthz && break; sleep 0.1; done",
            f'echo "running: $({ACTIVE})"; echo "answers: {curls}"; systemctl stop {unit}',
            f"journalctl -u {unit} -o cat --no-pager -n 300 | grep -oE '{LOGGED}' | tail -n 2",
        ]
    out = ansible("app", "-m", "ansible.builtin.shell", "-a", "\n".join(script))["app1"]
    assert out["rc"] == 0, out
    head, *blocks = out["stdout"].split("=== ")
    assert head.strip() == "left running by deploy.yml: 0", head
    return {block.split("\n", 1)[0]: block.splitlines()[1:] for block in blocks}


@pytest.mark.parametrize("worker", TYPES)
def test_each_worker_type_runs_alone_answers_and_says_its_class(served, worker):
    t = CAT.type(worker)
    lines = served[worker]
    assert lines[:2] == ["running: 1", "answers: 200 200 200 400"], lines
    assert lines[2] == f"Starting gunicorn {t.default_version}", lines
    assert re.fullmatch(rf"Using worker: {re.escape(t.worker_class)}", lines[3]), lines


@pytest.fixture(scope="module")
def gthread_alone(lab):
    """deploy.yml for one worker type: the instance left running, alone."""
    proc = playbook("playbooks/deploy.yml", "-e", "worker=gthread")
    assert proc.returncode == 0, proc.stdout[-5000:]
    return proc


def test_deploying_one_type_leaves_only_it_running_and_a_second_deploy_changes_nothing(gthread_alone):
    active = ansible("app", "-m", "ansible.builtin.shell", "-a", "systemctl list-units --state=active --plain "
                     "--no-legend 'gunicorn@*' | awk '{print $1}'")["app1"]["stdout"].split()  # fmt: skip
    assert active == ["gunicorn@demo-gthread.service"], active
    again = playbook("playbooks/deploy.yml", "-e", "worker=gthread")
    assert again.returncode == 0
    assert recap(again.stdout, "app1")["changed"] == 0, again.stdout[-3000:]


def test_runs_unprivileged_on_the_benchmark_address(gthread_alone):
    ps = ansible(
        "app",
        "-m",
        "ansible.builtin.shell",
        "-a",
        "ps -o user= -C gunicorn | sort -u; ss -ltnH 'sport = :8000' | awk '{print $4}'",
    )
    lines = ps["app1"]["stdout"].split()
    assert lines == ["gunicorn", f"{app_address()}:8000"], lines


@pytest.fixture(scope="module")
def analyzed(served) -> dict[str, str]:
    """systemd-analyze security and verify of every instance's unit, in one shell run on the app host."""
    script = "\n".join(
        f"echo '=== {t}'; systemd-analyze security --no-pager gunicorn@demo-{t}.service | tail -n 1; "
        f'systemd-analyze verify gunicorn@demo-{t}.service 2>&1; echo "verify rc $?"'
        for t in TYPES
    )
    out = ansible("app", "-m", "ansible.builtin.shell", "-a", script)["app1"]
    return {block.split("\n", 1)[0]: block for block in out["stdout"].split("=== ")[1:]}


@pytest.mark.parametrize("worker", TYPES)
def test_unit_is_hardened_and_verifies_clean(analyzed, worker):
    out = analyzed[worker]
    score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", out).group(1))
    print(f"systemd-analyze security gunicorn@demo-{worker}.service: {score}")
    assert score <= 2.0, out
    # verify's output (its stderr) says what is wrong; a clean unit prints nothing
    assert out.splitlines()[2:] == ["verify rc 0"], out


@pytest.fixture(scope="module")
def load_configured(lab):
    """The load role applied to load1 (a fresh lab has run no bench yet, so nothing is on it)."""
    ran = ansible("load1", "-m", "ansible.builtin.include_role", "-a", "name=load")
    assert not ran["load1"].get("failed"), ran["load1"]
    return ran


def test_what_the_playbooks_wrote_on_the_hosts_is_root_owned_and_not_writable_by_the_service(load_configured):
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
