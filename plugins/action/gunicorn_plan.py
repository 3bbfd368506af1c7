"""gunicorn_plan, run in the controller's own process: it only computes (it touches no host), and as a module it cost
a Python start and Ansible's module wrapper on every run, about half a second. The logic and its documentation stay
in plugins/modules/gunicorn_plan.py, which the tests import too."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ansible.plugins.action import ActionBase

_path = Path(__file__).resolve().parent.parent / "modules" / "gunicorn_plan.py"
_spec = importlib.util.spec_from_file_location("bench_gunicorn_plan", _path)
plan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plan)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=plan.ARGUMENT_SPEC)
        try:
            instances = plan.plan_from(args)
        except plan.PlanError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=False, instances=instances, names=[i["name"] for i in instances])
        return result
