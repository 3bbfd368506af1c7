"""lab_plan lives once: the action plugin holds its documentation and logic, the role's library/ only points at it."""

from __future__ import annotations

import json

import yaml
from support import ROOT, load_module, run

PLUGIN = ROOT / "roles/lab/action_plugins/lab_plan.py"
LIBRARY = ROOT / "roles/lab/library/lab_plan.py"


def test_the_module_name_and_the_action_plugin_are_one_file():
    assert LIBRARY.is_symlink() and LIBRARY.resolve() == PLUGIN.resolve()


def test_the_arguments_checked_are_the_documented_options():
    lab_plan = load_module("roles/lab/action_plugins/lab_plan.py")
    options = yaml.safe_load(lab_plan.DOCUMENTATION)["options"]
    assert set(lab_plan.ARGUMENT_SPEC) == set(options) == {
        "name", "bridge", "subnet", "app_hosts", "load_hosts", "cpu_pinning", "suite", "host_settings",
        "prebuild_suites", "roots_dir", "hosts_dir", "base_id_of"
    }  # fmt: skip
    assert lab_plan.ARGUMENT_SPEC["cpu_pinning"] == {"type": "bool", "default": True}
    assert lab_plan.ARGUMENT_SPEC["app_hosts"] == {"type": "int", "required": True}
    assert not hasattr(lab_plan, "main"), "nothing runs it as a module: a main() would be code that never runs"


def test_ansible_runs_the_action_plugin_and_reports_its_refusal():
    """A refusal comes before the plugin reads `ip`: nothing on this machine is read or changed."""
    env = {"ANSIBLE_ACTION_PLUGINS": str(PLUGIN.parent), "ANSIBLE_LIBRARY": str(LIBRARY.parent)}
    args = "name=Bad bridge=zqbr0 subnet=10.250.9.0/24 app_hosts=1 load_hosts=1"
    proc = run(["ansible", "-i", "localhost,", "-c", "local", "localhost", "-m", "lab_plan", "-a", args], env=env)
    assert proc.returncode == 2 and "localhost | FAILED! => {" in proc.stdout, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.split("localhost | FAILED! => ", 1)[1])
    assert result["msg"].startswith("lab_name='Bad': use 1-6 lowercase letters"), result
