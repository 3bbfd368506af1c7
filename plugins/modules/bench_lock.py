#!/usr/bin/python
"""Documentation only: plugins/action/bench_lock.py runs the task in the controller's process (bench/deps/wheels.py)."""

DOCUMENTATION = r"""
module: bench_lock
short_description: Resolve and download, on the controller, what each virtualenv of the plan installs on a host
description:
  - For one app host's Python and architecture, resolves each instance's worker type lock, the pins its knobs add
    and the app's own requirements together, with pip's resolver and wheels only, and downloads every pinned wheel
    into the controller's wheelhouse. Each lock is kept under its inputs' hash and reused.
  - A conflict, a package without a wheel for the hosts or a version that does not exist fails the task, naming the
    package, before any host is changed.
options:
  instances: {type: list, elements: dict, required: true, description: The plan (gunicorn_plan's instances).}
  app: {type: dict, required: true, description: The app (gunicorn_plan's app).}
  python: {type: str, required: true, description: "The host's Python, major.minor."}
  arch: {type: str, required: true, description: "The host's architecture (x86_64, aarch64)."}
  cache: {type: path, required: true, description: "Where locks/ and wheelhouse/ are kept on the controller."}
  index_args: {type: list, elements: str, default: [], description: "pip's index options (a mirror, say)."}
"""

EXAMPLES = r"""
- name: Lock and fetch the wheels
  bench_lock:
    instances: "{{ gunicorn_plan }}"
    app: "{{ bench_app_spec }}"
    python: "3.11"
    arch: x86_64
    cache: .cache
  register: locks
"""

RETURN = r"""
locks:
  description: "Per instance: lock (pin file), wheels (folder), app_wheel, app_wheel_sha256, pip_wheel, changed"
  returned: success
  type: dict
tag: {description: "The wheel tag, e.g. cp311-x86_64", returned: success, type: str}
"""
