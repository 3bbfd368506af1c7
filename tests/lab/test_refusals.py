"""Bad input to the four playbooks, as three tables: each invocation exits non-zero within seconds with one message
naming the problem and the fix, and changes nothing.

`CONTROLLER` holds what is decided on this machine before any host is reached (the variables, the gunicorn plan, the
reports folder, the inventory's groups): it runs without the lab, against an inventory of addresses nothing answers
at (TEST-NET-1), and must end before a host of it is reached; in make test it runs beside the lab's tests
(tests/conftest.py). `LAB_PLAN` is lab.yml's own (its variables and its plan): this machine's lab state is read before
and after each row, so those rows run with the lab's tests, in order. `ON_HOSTS` needs the hosts (a port taken, a host
that does not answer, siege missing, another lab on the bridge): marked `lab`, it runs with the lab up and gunicorn
deployed, so "nothing changed" is checked against live hosts. `SETUPS` makes each row's situation and undoes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from labtools import ansible, in_a_lab_host, processes
from support import ROOT, lab_is_possible, playbook, snapshot

# Root on Linux for every row (not the lab): lab.yml refuses anyone else first, and two rows mount a tmpfs.
pytestmark = pytest.mark.skipif(not lab_is_possible(), reason="the playbooks' refusals are checked as root on Linux")

LAB = "playbooks/lab.yml"
DEPLOY = "playbooks/deploy.yml"
SCHEDULE = "playbooks/schedule.yml"
BENCH = "bench.yml"
TYPES = "use one of sync, gthread, gevent, eventlet, tornado, gevent_pywsgi, asgi, uvicorn"

NOTES = yaml.safe_load((ROOT / "examples/notes/notes.bench.yml").read_text())["bench_app"]
DEMO = yaml.safe_load((ROOT / "app/demo.bench.yml").read_text())["bench_app"]


def app(base: dict = NOTES, **changes) -> list[str]:
    """-e for an app file with changes (the notes example's, by default)."""
    return ["-e", json.dumps({"bench_app": {**base, **changes}})]


# (playbook, extra arguments, message (a regular expression), setup or None)
CONTROLLER = [
    # bench.yml and deploy.yml: the app (bench_app, from -e @myapp.bench.yml), checked before any host is reached
    (BENCH, app(src="examples/nowhere"), r"bench_app.src=examples/nowhere: \S+/examples/nowhere does not exist", None),
    (BENCH, app(entry="notes"), r"bench_app.entry='notes': package.module:callable", None),
    (BENCH, [*app(DEMO, entry="fastapi_app:app", interface="asgi", requirements=["fastapi==0.165.0"]),
             "-e", "worker=sync,asgi"],
     "worker=sync,asgi: sync serves WSGI apps and bench_app demo has only entry.asgi; use worker types of its "
     "interface: asgi, uvicorn", None),
    (BENCH, app(scenarios=[{"name": "list"}]), r"bench_app.scenarios\[0\] \(list\): no path", None),
    (BENCH, app(scenarios=[{"name": "list", "path": "/notes", "method": "FETCH"}]),
     r"bench_app.scenarios\[0\] \(list\).method='FETCH': one of GET, POST", None),
    (BENCH, app(scenarios=[{"name": "list", "path": "/notes", "status": "ok"}]),
     r"bench_app.scenarios\[0\] \(list\).status='ok': an HTTP status, a number from 100 to 599", None),
    (DEPLOY, ["-e", "@tests/fixtures/apps/broken.bench.yml"],
     r"YAML parsing failed: While parsing a flow mapping did not find expected ','", None),
    # bench.yml: the run's own options, the matrix, the reports folder, the inventory's groups
    (BENCH, ["-e", "worker=fastest"], f"worker='fastest': unknown worker type fastest; {TYPES}", None),
    (BENCH, ["-e", "profile=nightly"], "profile=nightly: unknown profile; use one of quick, full", None),
    (BENCH, ["-e", "worker=sync", "-e", "threads=4"], "threads=4 with worker=sync: .* it applies to gthread", None),
    (BENCH, ["-e", "worker=asgi", "-e", "threads=4"], "threads=4 with worker=asgi: gunicorn's asgi worker ignores it",
     None),
    (BENCH, ["-e", "worker=gthread", "-e", "http_parser=fast", "-e", "gunicorn_version=24.1.0"],
     r"http_parser=fast with worker=gthread: gunicorn 24\.1\.0 lacks it for gthread", None),
    (BENCH, ["-e", "worker=sync", "-e", "asgi_loop=uvloop"], "asgi_loop=uvloop with worker=sync: .* applies to asgi",
     None),
    # the run's own options: types and choices by roles/bench_run/meta/argument_specs.yml, bounds by its validate
    (BENCH, ["-e", "bench_on_worker_failure=maybe"],
     "bench_on_worker_failure must be one of: continue, stop, got: maybe", None),
    (BENCH, ["-e", "verify_only=maybe"],
     r"argument 'verify_only' .* unable to convert to bool: .*'maybe'.*Valid booleans include: .*'true'", None),
    (BENCH, ["-e", "bench_lock_wait=-5"], "bench_lock_wait=-5: a whole number of seconds >= 0", None),
    (BENCH, ["-e", "bench_regression_threshold=15"], "bench_regression_threshold=15: a fraction between 0 and 1", None),
    (BENCH, ["-e", "bench_keep_raw_runs=all"], r"argument 'bench_keep_raw_runs' .* unable to convert to int: .*'all'",
     None),
    (BENCH, ["-e", "bench_keep_raw_runs=-1"], "bench_keep_raw_runs=-1: a whole number >= 0", None),
    (BENCH, ["-e", "bench_min_free_mb=lots"], r"argument 'bench_min_free_mb' .* unable to convert to int: .*'lots'",
     None),
    (BENCH, ["-e", '{"load_connection_by_worker_type": {"sync": "pipelined"}}'],
     "load_connection_by_worker_type.sync='pipelined': use close or keep-alive", None),
    (BENCH, ["-e", '{"load_sweep": {"concurrency": [0], "time_s": 3, "warmup_s": 1, "repeats": 1}}'],
     r"concurrency: 0 is not a whole number from 1 to 1000", None),
    (BENCH, ["-e", "gunicorn_bind_address=0.0.0.0"],
     "gunicorn_bind_address=0.0.0.0: .* set gunicorn_bind_any=true as well", None),
    (BENCH, [], r"bench_reports_dir=\S+: cannot write in \S+ \(Read-only file system\)", "reports_read_only"),
    (BENCH, [], r"bench_reports_dir=\S+: only \d+ MiB free on its file system, a run needs bench_min_free_mb=50",
     "reports_full"),
    (BENCH, [], "the inventory has no hosts in group 'load': bench.yml needs at least one load host",
     "inventory_without_load"),
    (BENCH, ["-e", "load_keep_work_days=-1"], r"load_keep_work_days=-1: a whole number of days >= 0", None),
    # deploy.yml: worker types and knobs, the port
    (DEPLOY, ["-e", "worker=meinheld"], f"worker='meinheld': unknown worker type meinheld; {TYPES}", None),
    (DEPLOY, ["-e", "worker=gthread", "-e", "workers=0"], "workers='0': must be a whole number from 1 to 64", None),
    (DEPLOY, ["-e", "worker=gthread", "-e", "threads=1.5"], r"threads='1.5': must be a whole number", None),
    (DEPLOY, ["-e", "worker=sync", "-e", "threads=2"], "threads=2 with worker=sync: .* mislabelled", None),
    (DEPLOY, ["-e", "worker=eventlet", "-e", "gunicorn_version=27.0.1"],
     "the eventlet worker exists in gunicorn before 26.0", None),
    (DEPLOY, ["-e", "worker=gevent", "-e", "gunicorn_version=latest"],
     "gunicorn_version='latest': use a release number", None),
    (DEPLOY, ["-e", "worker=tornado", "-e", "worker_connections=5"], "gunicorn's tornado worker ignores it", None),
    (DEPLOY, ["-e", "worker=sync", "-e", "gunicorn_port=80"], "gunicorn_port=80: use a port from 1024 to 65535", None),
    # schedule.yml: checked with bench.yml's own validation; with no group controller, its host is this machine
    (SCHEDULE, [], "runs .* as PID 1, not systemd: a systemd timer cannot run there", None),
    (SCHEDULE, ["-e", "schedule_worker_types=fastest"], f"worker='fastest': unknown worker type fastest; {TYPES}",
     None),
    (SCHEDULE, ["-e", "schedule_profile=hourly"], "profile=hourly: unknown profile; use one of quick, full", None),
    (SCHEDULE, ["-e", "schedule_state=bogus"], "schedule_state must be one of: present, absent, got: bogus", None),
    (SCHEDULE, ["-e", "schedule_lock_wait=soon"], r"schedule_lock_wait.*soon.*(int|integer)", None),
]  # fmt: skip

LAB_PLAN = [
    # lab.yml: its variables and its plan, checked before it builds or boots anything
    (LAB, ["-e", "lab_state=bogus"], r"lab_state.*present, absent", None),
    (LAB, ["-e", "lab_load_hosts=abc"], r"lab_load_hosts", None),
    (LAB, ["-e", "lab_load_hosts=0"], r"lab_load_hosts=0: must be between 1 and 8", None),
    (LAB, ["-e", f"lab_app_hosts={os.cpu_count()}"],
     r"lab_cpu_pinning=true: this machine has \d+ core.*lab_cpu_pinning=false", None),
    (LAB, ["-e", "lab_subnet=10.203.0.0/30"], r"lab_subnet='10.203.0.0/30': 2 usable addresses", None),
    (LAB, ["-e", "lab_subnet=not-a-subnet"], r"lab_subnet='not-a-subnet': not an IPv4 network", None),
    (LAB, ["-e", "lab_name=Lab_1"], r"lab_name='Lab_1'", None),
    (LAB, ["-e", "lab_state_dir=/tmp/bench-lab-nospace", "-e", "lab_min_free_mb=999999999"],
     r"needs lab_min_free_mb=999999999 MiB", None),
]  # fmt: skip

ON_HOSTS = [
    # the app's requirements are resolved for the app host's own Python, on the controller, before any host changes
    (BENCH, [*app(requirements=["Flask==0.0.1", "marshmallow"]), "-e", "worker=sync"],
     r"bench_app notes cannot be installed on Python 3\.\d+ \(x86_64\): worker type sync: Flask==0\.0\.1: no version "
     r"that fits \(there are: .*\)\. Nothing was changed on any host", None),
    # each app host's load hosts (bench/model/pairs.py), decided from the inventory before any host changes
    (BENCH, ["-e", '{"bench_load_hosts": ["load9"]}'],
     r"app host app1: bench_load_hosts names load9, not in the load group \(its hosts: load1\)", None),
    (BENCH, ["-e", "load_install_siege=false"],
     "siege is not installed on load host load1 and load_install_siege=false", "siege_missing"),
    (DEPLOY, ["-e", "worker=sync", "-e", "gunicorn_port=8081"],
     r"gunicorn_port=8081 is already taken on app1 by bench-squatter.service python3 pid \d+: stop that service",
     "port_taken"),
    (DEPLOY, ["-e", "worker=sync", "-e", "gunicorn_bind_address=10.203.0.99"],
     r"gunicorn_bind_address=10.203.0.99 is not an address of app1 \(it has .*10.203.0.2", None),
    (DEPLOY, ["-e", "worker=sync"], r"app host app1 \(10.203.0.250\) does not answer over SSH: .*No route to host",
     "app_unreachable"),
    (LAB, ["-e", "lab_name=zz"], r"lab_bridge=blbr0 already carries the hosts of another lab \(bl-app1, bl-load1\)",
     None),
]  # fmt: skip


def ids(table: list[tuple]) -> list[str]:
    def short(arg: str) -> str:  # an app as JSON: the fields it changes
        if not arg.startswith('{"bench_app"'):
            return arg
        given = json.loads(arg)["bench_app"]
        base = NOTES if given["name"] == NOTES["name"] else DEMO
        return "bench_app." + ",".join(k for k in given if given[k] != base.get(k))

    return [f"{r[0].split('/')[-1]} {' '.join(map(short, r[1][1::2])) or r[3]}" for r in table]


@pytest.fixture(scope="module")
def deployed(lab):
    """The lab up, with an instance deployed and running (so that nothing changed is checked against live hosts): the
    one a test before left running (test_deploy's, in make test: a deploy fewer), else sync deployed here."""
    active = "systemctl list-units --state=active --plain --no-legend 'gunicorn@*'"
    if not ansible("app", "-m", "ansible.builtin.shell", "-a", active)["app1"]["stdout"].strip():
        assert playbook(DEPLOY, "-e", "worker=sync").returncode == 0


# --- situations some rows need ---------------------------------------------------------------------------------------


def offline_inventory(tmp: Path, *, with_load: bool = True) -> Path:
    """App and load hosts at TEST-NET-1 addresses, where nothing answers, and no group lab (bench.yml leaves the lab
    alone): a refusal that reached a host would fail on SSH instead, with another message."""
    text = "all:\n  children:\n    app:\n      hosts:\n        app1: {ansible_host: 192.0.2.2}\n"
    if with_load:
        text += "    load:\n      hosts:\n        load1: {ansible_host: 192.0.2.3}\n"
    path = tmp / "offline.yml"
    path.write_text(text)
    return path


def lab_inventory(tmp: Path, *, app_address: str | None = None) -> Path:
    """A copy of the lab's inventory with changes; its group is renamed so that bench.yml does not run the lab."""
    text = (ROOT / "inventory/lab/hosts.yml").read_text().replace("    lab:\n", "    bench:\n", 1)
    if app_address:
        text = re.sub(r"(app1:\s+ansible_host: )\S+", rf"\g<1>{app_address}", text)
    path = tmp / "hosts.yml"
    path.write_text(text)
    return path


@contextlib.contextmanager
def tmpfs(options: str):
    """A small tmpfs mounted on a scratch folder for the length of the block."""
    where = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)
        where.rmdir()


@contextlib.contextmanager
def reports_read_only():
    with tmpfs("ro,size=100m") as where:
        yield ["-e", f"bench_reports_dir={where}/reports"]


@contextlib.contextmanager
def reports_full():
    with tmpfs("size=1m") as where:
        (where / "filler").write_bytes(b"\0" * (1024 * 1024 - 8192))
        yield ["-e", f"bench_reports_dir={where}"]


@contextlib.contextmanager
def inventory_without_load():
    with tempfile.TemporaryDirectory() as tmp:
        yield ["-i", str(offline_inventory(Path(tmp), with_load=False))]


@contextlib.contextmanager
def app_unreachable():
    with tempfile.TemporaryDirectory() as tmp:  # an unused lab address: nothing answers there
        yield ["-i", str(lab_inventory(Path(tmp), app_address="10.203.0.250"))]


@contextlib.contextmanager
def port_taken():
    ansible("app", "-m", "ansible.builtin.command",
            "-a", "systemd-run --unit=bench-squatter python3 -m http.server --bind 10.203.0.2 8081")  # fmt: skip
    try:
        yield []
    finally:
        ansible("app", "-m", "ansible.builtin.command", "-a", "systemctl stop bench-squatter.service")


@contextlib.contextmanager
def siege_missing():
    ansible("load", "-m", "ansible.builtin.command", "-a", "mv /usr/bin/siege /usr/bin/siege.hidden")
    try:
        yield []
    finally:
        ansible("load", "-m", "ansible.builtin.command", "-a", "mv /usr/bin/siege.hidden /usr/bin/siege")


SETUPS = {f.__name__: f for f in (reports_read_only, reports_full, inventory_without_load, app_unreachable,
                                  port_taken, siege_missing)}  # fmt: skip


def hosts_state() -> dict:
    """What a refused run must not change on the hosts, read from here (no SSH, so it is cheap for every row):
    the files under /opt/bench and the configuration folders, from each host's writable layer, and the processes
    the harness runs there (gunicorn, siege), from /proc."""
    state: dict = {}
    for upper in sorted((ROOT / ".lab/hosts").glob("*/upper")):
        for top in ("opt/bench", "etc/gunicorn", "etc/systemd/system", "etc/sysctl.d", "var/tmp/bench"):
            for folder, _, names in os.walk(upper / top):
                for name in names:
                    path = Path(folder, name)
                    with contextlib.suppress(FileNotFoundError):
                        state[str(path.relative_to(ROOT))] = path.lstat().st_mtime_ns
    state["processes"] = sorted(
        (pid, cmd) for pid, _, cmd in processes()
        if ("/opt/bench/" in cmd or cmd.startswith(("siege ", "wrk "))) and in_a_lab_host(pid)
    )  # fmt: skip
    return state


def run_folders(reports: Path) -> list[str]:
    return sorted(p.name for p in reports.iterdir() if p.is_dir()) if reports.exists() else []


def assert_refused_with(proc: subprocess.CompletedProcess, took: float, message: str) -> None:
    """Non-zero, within seconds, with exactly one error, the one expected."""
    assert proc.returncode != 0
    errors = re.findall(r"^\[ERROR\]: (.*?)(?:\nOrigin:|\n\n|\Z)", proc.stdout + proc.stderr, re.M | re.S)
    assert len(errors) == 1, errors
    assert re.search(message, errors[0]), proc.stdout[-3000:] + proc.stderr[-1000:]
    assert took < 45, f"refused after {took:.0f} s"


def assert_refused_offline(book: str, extra: list[str], message: str, setup: str | None, tmp: Path) -> None:
    """The playbook against the offline inventory (or the one the row's setup gives): refused within seconds with the
    message, no host reached, no run folder written."""
    reports = tmp / "reports"  # not the repository's reports/: a run there would be ours to clean
    situation = SETUPS[setup]() if setup else contextlib.nullcontext([])
    with situation as more:
        inventory = [] if "-i" in more else ["-i", str(offline_inventory(tmp))]
        started = time.monotonic()
        proc = playbook(book, *inventory, "-e", f"bench_reports_dir={reports}", *more, *extra, timeout=180)
        took = time.monotonic() - started
    assert_refused_with(proc, took, message)
    reached = set(re.findall(r"^(\S+)\s+:\s+ok=", proc.stdout, re.M)) - {"localhost"}
    assert not reached, f"the refusal came after reaching {reached}"
    assert run_folders(reports) == [], "a run folder was written"


@pytest.mark.parametrize(("book", "extra", "message", "setup"), CONTROLLER, ids=ids(CONTROLLER))
def test_bad_input_is_refused_on_this_machine_before_any_host_is_reached(book, extra, message, setup, tmp_path):
    assert_refused_offline(book, extra, message, setup, tmp_path)


@pytest.mark.lab  # reaches no host, but compares this machine's lab before and after: never beside the lab's tests
@pytest.mark.parametrize(("book", "extra", "message", "setup"), LAB_PLAN, ids=ids(LAB_PLAN))
def test_bad_input_to_the_lab_is_refused_and_leaves_this_machines_lab_as_it_was(book, extra, message, setup, tmp_path):
    lab_before = snapshot()
    assert_refused_offline(book, extra, message, setup, tmp_path)
    assert snapshot() == lab_before
    assert not os.path.exists("/tmp/bench-lab-nospace")


@pytest.mark.lab
@pytest.mark.parametrize(("book", "extra", "message", "setup"), ON_HOSTS, ids=ids(ON_HOSTS))
def test_bad_input_found_on_the_hosts_is_refused_and_changes_nothing(book, extra, message, setup, deployed):
    situation = SETUPS[setup]() if setup else contextlib.nullcontext([])
    with situation as more:
        reports = ROOT / "reports"
        lab_before, hosts_before, folders_before = snapshot(), hosts_state(), run_folders(reports)
        started = time.monotonic()
        proc = playbook(book, *more, *extra, timeout=180)
        took = time.monotonic() - started
        hosts_after, lab_after = hosts_state(), snapshot()
    assert_refused_with(proc, took, message)
    assert not re.search(r"^(app|load)\d+\s+:.*changed=[1-9]", proc.stdout, re.M), "a host was changed"
    assert hosts_after == hosts_before
    assert lab_after == lab_before
    assert run_folders(reports) == folders_before, "a run folder was written"
