"""bench_lock: the lock and wheels of each instance of the plan for one app host's Python and architecture, made on
the controller (bench/deps/wheels.py) before anything changes on any host; documented in
plugins/modules/bench_lock.py."""

from __future__ import annotations

import sys
from pathlib import Path

from ansible.plugins.action import ActionBase

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.deps import resolve, wheels

ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "app": {"type": "dict", "required": True},
    "python": {"type": "str", "required": True},
    "arch": {"type": "str", "required": True},
    "cache": {"type": "path", "required": True},
    "index_args": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        tag = resolve.Tag(args["python"], args["arch"])
        try:
            locks = wheels.locks(args["instances"], args["app"], tag, cache=Path(args["cache"]),
                                 index_args=args["index_args"])  # fmt: skip
        except resolve.ResolveError as exc:
            app = args["app"]["name"]
            result.update(failed=True, msg=f"bench_app {app} cannot be installed on Python {tag.python} ({tag.arch}): "
                                           f"{exc}. Nothing was changed on any host")  # fmt: skip
            return result
        result.update(changed=any(v["changed"] for v in locks.values()), locks=locks, tag=tag.name)
        return result
