#!/usr/bin/python
"""Turn the user's worker choice and knobs into the gunicorn instances to deploy, or refuse them clearly."""

from __future__ import annotations

import re

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: gunicorn_plan
short_description: Validate worker type and knobs; resolve per-type defaults
description:
  - Runs on the controller before any host is touched. Each refusal names the variable and what would be valid.
options:
  worker: {type: raw, required: true, description: "A worker type, a comma-separated list of them, or all."}
  workers: {type: raw, description: gunicorn workers per instance (default per type).}
  threads: {type: raw, description: Threads per worker; gthread only (default per type).}
  worker_connections: {type: raw, description: Simultaneous clients per worker (gthread, gevent, eventlet).}
  gunicorn_version: {type: raw, description: gunicorn release to install (default per type).}
  defaults: {type: dict, required: true, description: Per-type defaults (gunicorn_worker_defaults).}
"""

TYPES = ("sync", "gthread", "gevent", "eventlet", "tornado")
LIMITS = {"workers": 64, "threads": 256, "worker_connections": 100_000}
VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)?$")
EVENTLET_REMOVED_IN = (26, 0)
CONNECTION_LIMITED = ("gthread", "gevent", "eventlet")  # worker types that read worker_connections


class PlanError(ValueError):
    """A refusal; the message names the variable and what would be valid."""


def parse_types(worker) -> list[str]:
    raw = "" if worker is None else str(worker).strip()
    names = [w.strip() for w in raw.split(",") if w.strip()]
    if names == ["all"]:
        return list(TYPES)
    unknown = [w for w in names if w not in TYPES]
    if not names or unknown:
        raise PlanError(
            f"worker={raw!r}: unknown worker type {', '.join(unknown) or '(empty)'}; "
            f"use one of {', '.join(TYPES)}, a comma-separated list of them, or all"
        )
    return list(dict.fromkeys(names))


def positive_int(name: str, value) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"\+?\d+", text) or int(text) < 1:
        raise PlanError(f"{name}={value!r}: must be a whole number from 1 to {LIMITS[name]}")
    number = int(text)
    if number > LIMITS[name]:
        raise PlanError(f"{name}={number}: must be a whole number from 1 to {LIMITS[name]}")
    return number


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def plan_instances(
    worker, *, defaults: dict, workers=None, threads=None, worker_connections=None, gunicorn_version=None
) -> list[dict]:
    """One entry per worker type to deploy, with every knob resolved; raises PlanError."""
    types = parse_types(worker)
    knobs = {
        "workers": positive_int("workers", workers),
        "threads": positive_int("threads", threads),
        "worker_connections": positive_int("worker_connections", worker_connections),
    }
    version = None if gunicorn_version in (None, "") else str(gunicorn_version).strip()
    if version is not None and not VERSION_RE.match(version):
        raise PlanError(f"gunicorn_version={gunicorn_version!r}: use a release number such as 27.0.1")
    if knobs["threads"] and knobs["threads"] > 1 and "gthread" not in types:
        raise PlanError(
            f"threads={knobs['threads']} with worker={','.join(types)}: only gthread runs threads. With sync, gunicorn "
            "silently switches to gthread and the result would be mislabelled; use worker=gthread"
        )
    instances = []
    for name in types:
        base = defaults.get(name)
        if not base:
            raise PlanError(f"gunicorn_worker_defaults has no entry for {name}; add one (see roles/gunicorn/defaults)")
        inst = {"name": name, **base}
        inst["workers"] = knobs["workers"] or base["workers"]
        if name == "gthread" and knobs["threads"]:
            inst["threads"] = knobs["threads"]
        if name in CONNECTION_LIMITED and knobs["worker_connections"]:
            inst["worker_connections"] = knobs["worker_connections"]
        elif knobs["worker_connections"] and len(types) == 1:
            raise PlanError(
                f"worker_connections={knobs['worker_connections']} with worker={name}: gunicorn's {name} worker "
                f"ignores it; it applies to {', '.join(CONNECTION_LIMITED)}"
            )
        inst["gunicorn_version"] = version or str(base["gunicorn_version"])
        if inst.get("worker_class", name) == "sync" and int(inst.get("threads", 1)) > 1:
            raise PlanError(
                f"gunicorn_worker_defaults.{name}: threads={inst['threads']} with the sync worker class runs gthread "
                "under the sync label; set threads: 1"
            )
        if name == "eventlet" and version_tuple(inst["gunicorn_version"])[:2] >= EVENTLET_REMOVED_IN:
            raise PlanError(
                f"gunicorn_version={inst['gunicorn_version']} with worker eventlet: gunicorn removed the eventlet "
                f"worker in 26.0; use gunicorn_version=25.3.0 (the eventlet default), or leave gunicorn_version unset"
            )
        instances.append(inst)
    return instances


ARGUMENT_SPEC = {
    "worker": {"type": "raw", "required": True},
    "workers": {"type": "raw"},
    "threads": {"type": "raw"},
    "worker_connections": {"type": "raw"},
    "gunicorn_version": {"type": "raw"},
    "defaults": {"type": "dict", "required": True},
}


def plan_from(p: dict) -> list[dict]:
    """plan_instances from the task's arguments (ARGUMENT_SPEC), for the module and the action plugin alike."""
    return plan_instances(
        p["worker"],
        defaults=p["defaults"],
        workers=p["workers"],
        threads=p["threads"],
        worker_connections=p["worker_connections"],
        gunicorn_version=p["gunicorn_version"],
    )


def main() -> None:
    """As a module (plugins/action/gunicorn_plan.py runs the same in the controller's process instead)."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        instances = plan_from(module.params)
    except PlanError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, instances=instances, names=[i["name"] for i in instances])


if __name__ == "__main__":
    main()
