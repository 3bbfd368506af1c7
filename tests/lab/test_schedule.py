"""The nightly timer on a lab host with real systemd: installed, verified, and one run started by hand."""

from __future__ import annotations

import json
import re
import textwrap

import pytest
from labtools import ansible, app_address
from support import ROOT, demo_app, lab_is_possible, playbook

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]

HARNESS = "/opt/gunicorn-bench"
# The timer installed here must not fire while the tests run: its own benchmark would load the lab's app host at the
# same time as theirs (the default, 02:30, fired in the middle of a test run at 02:50). A nightly time from 2099 on
# never fires, and its next elapse is the same whatever the hour the tests run at.
ON_CALENDAR = "2099-*-* 02:30:00"
# Arguments the nightly unit passes on to bench.yml: JSON with spaces and quotes, as a user overriding the profile or
# the app writes it (ExecStart= must quote it for systemd), and a short profile and one scenario of the demo app that
# keep the nightly run of this test short.
PROFILE = {
    "load_probes": {"concurrency": [1, 4], "calibration_reps": 2},
    "load_sweep": {"concurrency": [4], "time_s": 2, "warmup_s": 0, "repeats": 1},
}
APP = demo_app({"name": "io_100ms", "path": "/ioTask?ms=100", "task": "io", "unit_s": 0.1})
EXTRA = ["-e", json.dumps(PROFILE), "-e", APP, "-e", "bench_keep_raw_runs=5"]


@pytest.fixture(scope="module")
def controller(lab, tmp_path_factory):
    """load1 as the controller host: its own copy of the harness, an inventory of the lab's hosts."""
    tmp = tmp_path_factory.mktemp("schedule")
    load_ip = app_address("load1")
    (tmp / "controller.yml").write_text("all:\n  children:\n    controller:\n      hosts:\n        load1:\n")
    (tmp / "nightly.yml").write_text(textwrap.dedent(f"""\
        all:
          vars:
            ansible_user: ansible
            ansible_become: true
            ansible_python_interpreter: /usr/bin/python3
            load_tune_sysctl: false  # lab hosts: /proc/sys is read-only inside, the lab sets the load netns sysctls
            ansible_ssh_private_key_file: {HARNESS}/inventory/nightly/id_ssh
            ansible_ssh_common_args: >-
              -o UserKnownHostsFile={HARNESS}/inventory/nightly/known_hosts -o StrictHostKeyChecking=yes
          children:
            app:
              hosts:
                app1: {{ansible_host: {app_address()}}}
            load:
              hosts:
                load1: {{ansible_host: {load_ip}}}
        """))  # fmt: skip
    args = ["-i", "inventory/lab", "-i", str(tmp / "controller.yml")]
    proc = playbook(
        "playbooks/schedule.yml", *args,
        "-e", "schedule_install_harness=true", "-e", f"schedule_repo_dir={HARNESS}",
        "-e", f"schedule_inventory_src={tmp / 'nightly.yml'}",
        "-e", f"schedule_ssh_key_src={ROOT / '.lab/ssh/id_ed25519'}",
        "-e", f"schedule_known_hosts_src={ROOT / '.lab/ssh/known_hosts'}",
        "-e", "schedule_worker_types=gevent", "-e", "schedule_profile=quick",
        "-e", json.dumps({"schedule_on_calendar": ON_CALENDAR, "schedule_extra_args": EXTRA}),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-5000:]
    yield args
    removed = playbook("playbooks/schedule.yml", *args, "-e", "schedule_state=absent")
    assert removed.returncode == 0, removed.stdout[-3000:]
    gone = ansible("load", "-m", "ansible.builtin.command", "-a", "systemctl cat bench-nightly.timer", check=False)
    assert gone["load1"]["rc"] != 0


def test_timer_is_installed_with_its_next_elapse(controller):
    timers = ansible(
        "load", "-m", "ansible.builtin.command", "-a", "systemctl list-timers --all --no-pager bench-nightly.timer"
    )
    line = next(x for x in timers["load1"]["stdout_lines"] if "bench-nightly.timer" in x)
    # Its next elapse: the first night of 2099 at 02:30, plus up to 30 minutes of RandomizedDelaySec.
    assert re.match(r"^Thu 2099-01-01 (02:[3-5]\d|03:00):\d{2} \w+", line), line
    verify = ansible(
        "load",
        "-m",
        "ansible.builtin.command",
        "-a",
        "systemd-analyze verify /etc/systemd/system/bench-nightly.service /etc/systemd/system/bench-nightly.timer",
    )
    assert verify["load1"]["rc"] == 0 and verify["load1"]["stderr"] == ""
    show = ansible("load", "-m", "ansible.builtin.command", "-a", "systemctl show -p ExecStart bench-nightly.service")
    argv = re.search(r"argv\[\]=(.*?) ; ignore_errors", show["load1"]["stdout"]).group(1)
    assert argv.endswith(" " + " ".join(EXTRA)), argv  # systemd read each argument back unchanged


def test_starting_the_service_by_hand_runs_the_benchmark_and_updates_the_index(controller):
    # A history left on this lab host by earlier test sessions could flag a regression and fail the service by
    # design (schedule_fail_on_regression); start from no history, as a newly scheduled controller does.
    ansible("load", "-m", "ansible.builtin.file", "-a", f"path={HARNESS}/reports state=absent")
    run = ansible(
        "load", "-m", "ansible.builtin.command", "-a", "timeout 600 systemctl start bench-nightly.service", check=False
    )  # its journal, below, says why it failed
    journal = ansible(
        "load", "-m", "ansible.builtin.command", "-a", "journalctl -u bench-nightly.service -o cat --no-pager -n 60"
    )["load1"]["stdout"]
    assert run["load1"]["rc"] == 0, journal[-3000:]
    assert "Report: " in journal
    files = ansible(
        "load",
        "-m",
        "ansible.builtin.shell",
        "-a",
        f"ls {HARNESS}/reports/latest/ && grep -c '^| 20' {HARNESS}/reports/index.md",
    )
    out = files["load1"]["stdout"]
    assert "report.md" in out and "results.json" in out
    assert int(out.splitlines()[-1]) >= 1
    results = json.loads(ansible("load", "-m", "ansible.builtin.command", "-a",
                                 f"cat {HARNESS}/reports/latest/results.json")["load1"]["stdout"])  # fmt: skip
    sweeps = [r for r in results["results"] if r["scenario"] == "sweep"]
    assert [(r["label"], r["concurrency"], r["elapsed_s"] < 3) for r in sweeps] == [("/ioTask?ms=100", 4, True)]


def test_refused_where_pid_1_is_not_systemd_and_for_a_bad_schedule(controller):
    here = playbook("playbooks/schedule.yml")  # the machine running Ansible: no systemd as PID 1 here
    assert here.returncode != 0
    assert "as PID 1, not systemd: a systemd timer cannot run there" in here.stdout
    bad = playbook("playbooks/schedule.yml", *controller, "-e", '{"schedule_on_calendar": "every night"}')
    assert bad.returncode != 0
    assert "schedule_on_calendar=every night is not a systemd calendar expression" in bad.stdout
