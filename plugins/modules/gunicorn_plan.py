#!/usr/bin/python
"""Documentation only: plugins/action/gunicorn_plan.py runs the task in the controller's process
(bench/model/plan.py)."""

DOCUMENTATION = r"""
module: gunicorn_plan
short_description: Validate worker types and knobs against the catalog; resolve per-type defaults
description:
  - Runs on the controller before any host is touched (an action plugin; no module code runs on a host).
  - Worker types, their defaults, the knobs each reads and the gunicorn releases they exist in come from
    worker_types.yml. Each refusal names the variable and what would be valid.
options:
  app:
    type: raw
    description: "The app (a bench_app mapping, bench/model/app.py); null for the demo, app/demo.bench.yml."
  worker_types:
    type: raw
    required: true
    description: "A worker type, a comma-separated list, a set (classic), or all (of the app's interfaces)."
  workers: {type: raw, description: gunicorn workers per instance (default per type).}
  threads: {type: raw, description: Threads per worker (types that read threads; gthread).}
  worker_connections: {type: raw, description: Simultaneous clients per worker (types that read it).}
  http_parser: {type: raw, description: "gunicorn's HTTP parser: auto, fast (installs gunicorn[fast]'s wheel), python."}
  asgi_loop: {type: raw, description: "Event loop of gunicorn's asgi worker: auto, asyncio, uvloop."}
  gunicorn_version: {type: raw, description: gunicorn release to install (default per type).}
"""

EXAMPLES = r"""
- name: Resolve the instances
  gunicorn_plan:
    worker_types: gthread
    threads: 4
  register: plan
"""

RETURN = r"""
instances:
  description: >-
    One dict per worker type (its worker_type), the app's instance of it (name <app>-<type>), every setting
    resolved
  returned: success
  type: list
names: {description: "The instances' names, in order", returned: success, type: list}
app:
  description: "The app as the playbooks use it (App.as_vars: src, entries, requirements, ready, env, scenarios...)"
  returned: success
  type: dict
label: {description: "The run's name: <app>-<types>", returned: success, type: str}
"""
