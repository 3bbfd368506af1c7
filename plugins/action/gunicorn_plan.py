"""gunicorn_plan: resolve the worker types and knobs into the instances to deploy, in the controller's own process
(it touches no host). The logic is bench/plan.py, over the catalog worker_types.yml; the documentation is
plugins/modules/gunicorn_plan.py."""

from __future__ import annotations

import sys
from pathlib import Path

from ansible.plugins.action import ActionBase

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import plan

ARGUMENT_SPEC = {
    "worker": {"type": "raw", "required": True},
    "gunicorn_version": {"type": "raw"},
    "workers": {"type": "raw"},
    **{knob: {"type": "raw"} for knob in plan.KNOBS},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            instances = plan.plan_instances(**args)
        except plan.PlanError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(
            changed=False,
            instances=instances,
            names=[i["name"] for i in instances],
            label=plan.run_label([i["name"] for i in instances]),
        )
        return result
