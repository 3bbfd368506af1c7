"""Every turn on the process it claims (lab): a worker type's turn in bench.yml loads a fresh process that runs the
recorded settings and the deployed app, whatever deploy.yml left running; /healthz says what the process runs and
readiness refuses a process that runs something else."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from conftest import ROOT, lab_is_possible, playbook
from labtools import ansible, app_address

from bench import verdict

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not lab_is_possible(), reason="the lab needs root on Linux"),
]

PROBES = ["-e", "@tests/fixtures/profiles/probes.yml"]


def latest_results() -> dict:
    return json.loads((ROOT / "reports/latest/results.json").read_text())


def gthread_io_burst(results: dict) -> dict:
    rows = verdict.probe_rows(results["results"], verdict.app_cores(results["hosts"]))
    return next(r for r in rows if r["worker"] == "gthread" and r["endpoint"] == "/ioTask" and r["concurrency"] == 10)


def assert_four_threads_served_the_burst(results: dict) -> None:
    """10 requests of 1 s of IO on 4 threads: 4, 4 and 2 of them reached the app at 0, 1 and 2 s (served at 1, 2
    and 3 s); the verdict is expected, from what the process itself reported."""
    assert results["processes"]["gthread"]["threads"] == 4, results["processes"]
    assert results["processes"]["gthread"]["worker_class"] == "gthread"
    row = gthread_io_burst(results)
    assert row["timed_by"] == "server"
    rounds = [round(w) for w in row["wait_s"]]
    assert rounds == [0] * 4 + [1] * 4 + [2] * 2, row["wait_s"]
    assert all(abs(s - 1.0) < 0.05 for s in row["service_s"]), row["service_s"]
    assert row["expected"] == pytest.approx(10 / 3)
    assert row["as_expected"], (row["measured"], row["expected"])
    assert row["measured"] == pytest.approx(10 / 3, rel=0.05)


@pytest.fixture(scope="module")
def deployed_with_two_threads(lab):
    """gthread left running by deploy.yml with its default 2 threads; afterwards, deploy.yml again: the repository's
    app and config, whatever the tests changed on the host."""
    proc = playbook("playbooks/deploy.yml", "-e", "worker=gthread")
    assert proc.returncode == 0, proc.stdout[-4000:]
    health = ansible("load", "-m", "ansible.builtin.uri", "-a", f"url=http://{app_url()}/healthz")
    assert health["load1"]["json"]["process"]["threads"] == 2
    yield
    assert playbook("playbooks/deploy.yml", "-e", "worker=gthread").returncode == 0


def app_url() -> str:
    return f"{app_address()}:8000"


def test_readiness_refuses_a_process_that_runs_another_config(deployed_with_two_threads):
    """A config changed on the host under a running process (no restart): the check names what differs. First in
    this module: the process deploy.yml left running is the premise (the bench runs below stop it)."""
    ansible("app", "-m", "ansible.builtin.shell", "-a", "echo '# edited by hand' >> /etc/gunicorn/gthread.conf.py")
    instance = {"name": "gthread", "worker_class": "gthread", "workers": 1, "threads": 2,
                "worker_connections": 1000, "gunicorn_version": "27.0.1"}  # fmt: skip
    proc = playbook("tests/fixtures/playbooks/ready.yml", "-e", json.dumps({"gunicorn_instance": instance}))
    assert proc.returncode != 0
    assert "gunicorn@gthread is not running what was deployed: config_sha256 is " in proc.stdout, proc.stdout[-3000:]
    again = playbook("tests/fixtures/playbooks/ready.yml", "-e",
                     json.dumps({"gunicorn_instance": {**instance, "threads": 4}}))  # fmt: skip
    assert "threads is 2, planned 4" in again.stdout, again.stdout[-3000:]
    # the config edited by hand is rewritten by the next deploy (the bench runs below, then the fixture's)


def test_a_changed_setting_is_what_the_turn_loads(deployed_with_two_threads):
    proc = playbook("bench.yml", "-e", "worker=gthread", "-e", "threads=4", *PROBES)
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert_four_threads_served_the_burst(latest_results())


def test_a_changed_app_is_what_the_turn_loads(deployed_with_two_threads, tmp_path):
    """The app's code changed since deploy.yml started the process: the turn loads the new code (its hash is the one
    the process reports) and measures it."""
    src = tmp_path / "app"
    shutil.copytree(ROOT / "app", src)
    changed = (src / "flask_app.py").read_text() + "\n# changed by tests/test_process.py\n"
    (src / "flask_app.py").write_text(changed)
    proc = playbook("bench.yml", "-e", "worker=gthread", "-e", "threads=4", "-e", f"bench_app_src_dir={src}", *PROBES)
    assert proc.returncode == 0, proc.stdout[-5000:]
    results = latest_results()
    loaded = results["processes"]["gthread"]["app_sha256"]["flask_app.py"]
    assert loaded == hashlib.sha256(changed.encode()).hexdigest()
    assert_four_threads_served_the_burst(results)
