"""The refusals of the bench_pairs filter (plugins/filter/bench.py) and the bench_lock action (plugins/action/) as
Ansible shows them, run by Ansible on this machine only (an ad-hoc task on localhost, the repository's ansible.cfg;
no host is reached): each message names the host or package and what would be valid. About a second each."""

from __future__ import annotations

import importlib.metadata
import json

import pytest
import yaml
from builders import instance, wheel
from support import BIN, ROOT, run

# The expression playbooks/preflight.yml pairs the hosts with, read from it: what is tested is what runs.
PREFLIGHT = yaml.safe_load((ROOT / "playbooks/preflight.yml").read_text())
PAIR_TASK = next(t for play in PREFLIGHT for t in play.get("tasks", []) if t.get("name") == "Pair each app host with "
                 "its load hosts")  # fmt: skip
PAIRS = PAIR_TASK["ansible.builtin.set_fact"]["bench_pairs"]


def adhoc(tmp_path, module: str, args: dict, inventory: dict | None = None, extra: dict | None = None) -> tuple:
    """(exit status, localhost's result) of one ad-hoc task on localhost."""
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump(inventory or {"all": {"hosts": {"localhost": {}}}}))
    cmd = [str(BIN / "ansible"), "-i", str(inv), "localhost", "-c", "local", "-m", module, "-a", json.dumps(args)]
    if extra:
        (tmp_path / "extra.json").write_text(json.dumps(extra))
        cmd += ["-e", f"@{tmp_path / 'extra.json'}"]
    proc = run(cmd, timeout=120)
    for mark in ("localhost | FAILED! => ", "localhost | SUCCESS => ", "localhost | CHANGED => "):
        if mark in proc.stdout:
            return proc.returncode, json.loads(proc.stdout.split(mark, 1)[1])
    raise AssertionError(proc.stdout + proc.stderr)


def fleet(app_vars: dict[str, dict], load: list[str]) -> dict:
    local = {"ansible_connection": "local"}
    return {"all": {"hosts": {"localhost": local}, "children": {
        "app": {"hosts": {h: {**local, **v} for h, v in app_vars.items()}},
        "load": {"hosts": {h: local for h in load}} if load else {},
    }}}  # fmt: skip


FILTER_FAILED = "Error while resolving value for 'bench_pairs': The filter plugin 'bench_pairs' failed: "


@pytest.mark.parametrize(
    ("app_vars", "load", "message"),
    [
        ({"app1": {}, "app2": {"bench_load_hosts": ["load9"]}}, ["load1"],
         "app host app2: bench_load_hosts names load9, not in the load group (its hosts: load1)"),
        ({"app1": {}, "app2": {"bench_load_hosts": "load1, load9"}}, ["load1"],
         "app host app2: bench_load_hosts names load9, not in the load group (its hosts: load1)"),
        ({"app1": {}, "app2": {"bench_load_hosts": {"load1": 1}}}, ["load1"],
         "app host app2: bench_load_hosts={'load1': 1}: give a list of hosts of the load group (load1)"),
        ({"app1": {}, "app2": {"bench_load_hosts": []}}, ["load1"],
         "app host app2 has no load host: add hosts to the load group or name some in its bench_load_hosts "
         "(load hosts: load1)"),
        ({"app1": {}}, [],
         "app host app1 has no load host: add hosts to the load group or name some in its bench_load_hosts "
         "(load hosts: none)"),
    ],
)  # fmt: skip
def test_bench_pairs_refuses_naming_the_host_and_the_variable(tmp_path, app_vars, load, message):
    rc, result = adhoc(tmp_path, "ansible.builtin.set_fact", {"bench_pairs": PAIRS}, fleet(app_vars, load))
    assert rc == 2, result
    assert result["msg"].endswith(FILTER_FAILED + message), result["msg"]


def test_bench_pairs_as_preflight_sets_them(tmp_path):
    hosts = fleet({"app1": {}, "app2": {}, "app3": {"bench_load_hosts": "load2"}}, ["load1", "load2"])
    rc, result = adhoc(tmp_path, "ansible.builtin.set_fact", {"bench_pairs": PAIRS}, hosts)
    assert rc == 0, result
    assert result["ansible_facts"]["bench_pairs"] == {
        "app1": {"load_hosts": ["load1"], "round": 0}, "app2": {"load_hosts": ["load2"], "round": 0},
        "app3": {"load_hosts": ["load2"], "round": 1},
    }  # fmt: skip


# --- bench_lock: pip's real resolver against a folder of wheels made here (tests/builders.py's) ---------------------


@pytest.fixture
def lock_args(tmp_path) -> tuple[dict, dict]:
    """(the task's arguments, the variables they name): the notes example under gthread, as wheelhouse.yml passes it."""
    folder = tmp_path / "index"
    folder.mkdir()
    for name, version, requires in [("gunicorn", "27.0.1", ("packaging",)), ("packaging", "26.4", ()),
                                    ("Flask", "3.1.3", ("Werkzeug>=3",)), ("Flask", "3.0.0", ("Werkzeug>=3",)),
                                    ("Werkzeug", "3.1.9", ()), ("marshmallow", "4.4.0", ()),
                                    ("pip", importlib.metadata.version("pip"), ())]:  # fmt: skip
        wheel(folder, name, version, requires)
    inst, spec = instance("gthread", ("Flask==9.9", "marshmallow"))
    args = {"instances": "{{ lock_instances }}", "app": "{{ lock_app }}", "python": "3.11", "arch": "x86_64",
            "cache": str(tmp_path / "cache"), "index_args": ["--no-index", "--find-links", str(folder)]}  # fmt: skip
    return args, {"lock_instances": [inst], "lock_app": spec}


def test_bench_lock_refuses_an_app_that_cannot_be_installed_naming_the_package(tmp_path, lock_args):
    args, extra = lock_args
    rc, result = adhoc(tmp_path, "bench_lock", args, extra=extra)
    assert rc == 2, result
    assert result["msg"] == (
        "bench_app notes cannot be installed on Python 3.11 (x86_64): worker type gthread: Flask==9.9: no version that "
        "fits (there are: 3.0.0, 3.1.3). Nothing was changed on any host"
    )
    assert not (tmp_path / "cache/locks").exists(), "no lock is written for a refusal"


def test_bench_lock_refuses_a_package_with_no_wheel_for_the_hosts(tmp_path, lock_args):
    """A requirement whose only wheel is compiled for another Python: the hosts install wheels only."""
    args, extra = lock_args
    wheel(tmp_path / "index", "fastparse", "2.0", tag="cp312-cp312-manylinux_2_17_x86_64")
    extra["lock_instances"][0]["app_requirements"] = ["Flask>=3", "fastparse"]
    rc, result = adhoc(tmp_path, "bench_lock", args, extra=extra)
    assert rc == 2, result
    assert result["msg"].startswith("bench_app notes cannot be installed on Python 3.11 (x86_64): worker type gthread: "
                                    "fastparse: no wheel of it for Python 3.11 on x86_64: ")  # fmt: skip
    assert result["msg"].endswith(". Nothing was changed on any host")


def test_bench_lock_refuses_missing_arguments_by_name(tmp_path, lock_args):
    args, extra = lock_args
    rc, result = adhoc(tmp_path, "bench_lock", {k: v for k, v in args.items() if k not in ("arch", "cache")},
                       extra=extra)  # fmt: skip
    assert rc == 2 and "missing required arguments: arch, cache" in result["msg"], result


def test_gunicorn_plan_takes_worker_types_and_names_each_instances_worker_type(tmp_path):
    """The action's choice is `worker_types` (the command line's `worker`); each instance it returns carries its
    `worker_type`, the name the playbooks, the roles and results.json read."""
    rc, result = adhoc(tmp_path, "gunicorn_plan", {"worker_types": "sync,gthread"})
    assert rc == 0, result
    assert [i["worker_type"] for i in result["instances"]] == ["sync", "gthread"]
    assert result["label"] == "demo-sync+gthread"
    assert not any("worker" in i for i in result["instances"])
    rc, result = adhoc(tmp_path, "gunicorn_plan", {"worker": "sync"})
    assert rc != 0 and "worker_types" in result["msg"], result
