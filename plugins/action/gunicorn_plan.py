"""gunicorn_plan: resolve the worker types and knobs into the instances to deploy, in the controller's own process
(it touches no host). The logic is bench/model/plan.py, over the catalog worker_types.yml; the documentation is
plugins/modules/gunicorn_plan.py."""

from __future__ import annotations

import sys
from pathlib import Path

from ansible.plugins.action import ActionBase

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.model import app as app_mod
from bench.model import plan

ARGUMENT_SPEC = {
    "worker_types": {"type": "raw", "required": True},
    "app": {"type": "raw"},
    "gunicorn_version": {"type": "raw"},
    "workers": {"type": "raw"},
    **{knob: {"type": "raw"} for knob in plan.KNOBS},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        raw_app = args.pop("app", None)
        try:
            app = app_mod.given_or_demo(raw_app)  # runs in ansible-playbook's own process: relative paths from there
            instances = plan.plan_instances(app=app, **args)
        except (plan.PlanError, app_mod.AppError) as exc:
            result.update(failed=True, msg=str(exc))
            return result
        types = [i["worker_type"] for i in instances]
        result.update(
            changed=False,
            instances=instances,
            virtualenvs=plan.virtualenvs(instances),
            names=[i["name"] for i in instances],
            app=app.as_vars(),
            label=f"{app.name}-{plan.run_label(types, interfaces=tuple(app.entries))}",
        )
        return result
