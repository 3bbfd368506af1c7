"""The one timer of a run: print the slowest tasks and the total at the end of a playbook (profile_tasks lives
outside ansible-core), and note when each phase of a run began (bench/control/phases.py: a play names its phase in
its vars, `bench_phase`) for the run's report."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ansible.plugins.callback import CallbackBase

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.control import phases

DOCUMENTATION = r"""
name: task_timer
type: aggregate
short_description: Time every task and print the slowest ones at the end
description:
  - Like ansible.posix.profile_tasks, which is not part of ansible-core.
  - Notes when the first play of each phase of a run began (a play's var bench_phase) in a file of this
    ansible-playbook's own, which the run's report reads; removed when the playbook ends.
requirements:
  - enable in ansible.cfg (callbacks_enabled = task_timer)
"""

SHOWN = int(os.environ.get("TASK_TIMER_SHOW", "8"))  # how many of the slowest tasks to list


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()
        self.durations: dict[str, float] = {}
        self.current: tuple[str, float] | None = None

    def _close_current(self) -> None:
        if self.current:
            name, since = self.current
            self.durations[name] = self.durations.get(name, 0.0) + time.monotonic() - since
            self.current = None

    def _start(self, task) -> None:
        self._close_current()
        self.current = (task.get_name(), time.monotonic())

    def v2_playbook_on_start(self, playbook):
        phases.forget(os.getpid())  # a file left by an earlier playbook of the same pid (one killed) is not ours

    def v2_playbook_on_play_start(self, play):
        phase = (play.get_vars() or {}).get("bench_phase")
        if phase:
            try:
                phases.note(os.getpid(), phase, time.time())
            except (ValueError, OSError) as exc:
                self._display.warning(f"task_timer: {exc}")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def v2_playbook_on_stats(self, stats):
        self._close_current()
        phases.forget(os.getpid())
        total = time.monotonic() - self.started
        slowest = sorted(self.durations.items(), key=lambda kv: kv[1], reverse=True)[:SHOWN]
        self._display.display(f"Slowest tasks (of {len(self.durations)}), wall {total:.1f} s:")
        for name, secs in slowest:
            self._display.display(f"  {secs:7.2f} s  {name}")
