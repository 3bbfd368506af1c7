"""lab_plan, run in the controller's own process: the lab is built on the controller itself, and planning only
computes and reads `ip`; as a module it cost a Python start and Ansible's module wrapper on every run, about half a
second. The logic and its documentation stay in the role's library/lab_plan.py, which the tests import too."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

from ansible.plugins.action import ActionBase

_path = Path(__file__).resolve().parent.parent / "library" / "lab_plan.py"
_spec = importlib.util.spec_from_file_location("bench_lab_plan", _path)
lab_plan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab_plan)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=lab_plan.ARGUMENT_SPEC)
        try:
            plan = lab_plan.plan_here(args)
        except lab_plan.PlanError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        addrs = subprocess.run(lab_plan.ADDRS, capture_output=True, text=True, check=True).stdout
        routes = subprocess.run(lab_plan.ROUTES, capture_output=True, text=True, check=True).stdout
        clash = lab_plan.bridge_clash(plan, args["name"], addrs) or lab_plan.subnet_clash(plan, addrs, routes)
        if clash:
            result.update(failed=True, **clash)
            return result
        if plan["warnings"]:
            result["warnings"] = list(plan["warnings"])
        result.update(changed=False, plan=plan)
        return result
