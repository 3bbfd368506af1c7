"""Turn the user's worker choice and knobs into the gunicorn instances to deploy, or refuse them clearly.

Runs on the controller before any host is touched (the gunicorn role's validate entry point calls it through the
gunicorn_plan action, plugins/action/gunicorn_plan.py). What a type is, which knobs it reads and from which gunicorn
release, comes from the catalog (worker_types.yml); every refusal names the variable and what would be valid."""

from __future__ import annotations

import re

from bench.model import app as app_mod
from bench.model import catalog as catalog_mod

WORKERS_MAX = 64
VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)?$")
# Knobs in the order the command line and the report list them; workers applies to every type.
KNOBS = ("threads", "worker_connections", "http_parser", "asgi_loop")
# The theory bound (worker_types.yml) each numeric knob sets.
BOUND_BY = {"threads": "threads", "worker_connections": "connections"}


class PlanError(ValueError):
    """A refusal; the message names the variable and what would be valid."""


def parse_types(worker_types, cat: catalog_mod.Catalog, interfaces=catalog_mod.INTERFACES) -> list[str]:
    """Type names from `worker_types` (the command line's `worker`): one type, a comma-separated list, a set of the
    catalog (classic), or all (every type that serves one of `interfaces`: those the app has an entry for)."""
    raw = "" if worker_types is None else str(worker_types).strip()
    names: list[str] = []
    for w in (w.strip() for w in raw.split(",")):
        if not w:
            continue
        every = [n for n in cat.names if cat.type(n).interface in interfaces]
        names += every if w == "all" else list(cat.sets.get(w, (w,)))
    unknown = [w for w in names if w not in cat.types]
    if not names or unknown:
        sets = "".join(f", {s} ({' '.join(m)})" for s, m in cat.sets.items())
        raise PlanError(
            f"worker={raw!r}: unknown worker type {', '.join(unknown) or '(empty)'}; use one of "
            f"{', '.join(cat.names)}, a comma-separated list of them, all (every type){sets}"
        )
    return list(dict.fromkeys(names))


def whole_number(name: str, value, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"\+?\d+", text) or not low <= int(text) <= high:
        raise PlanError(f"{name}={value!r}: must be a whole number from {low} to {high}")
    return int(text)


def knob_value(name: str, value, spec: dict):
    """The knob's value checked against the catalog's `values` (a [low, high] range or a list of choices)."""
    if value is None or value == "":
        return None
    values = spec["values"]
    if all(isinstance(v, int) for v in values) and len(values) == 2:
        return whole_number(name, value, values[0], values[1])
    text = str(value).strip()
    if text not in values:
        raise PlanError(f"{name}={value!r}: use one of {', '.join(map(str, values))}")
    return text


def readers(cat: catalog_mod.Catalog, knob: str) -> str:
    """Who reads a knob, in words: 'gthread', 'asgi (gunicorn 25.0 or newer), sync (25.2 or newer), ...'."""
    parts = []
    for t in cat.types.values():
        if knob in t.knobs:
            parts.append(t.name + (f" (gunicorn {t.knobs[knob]} or newer)" if t.knobs[knob] else ""))
    return ", ".join(parts)


def plan_instances(worker_types, *, app: app_mod.App | None = None, gunicorn_version=None, workers=None,
                   cat: catalog_mod.Catalog | None = None, **knobs):  # fmt: skip
    """One entry per worker type to deploy, of one app (the demo unless given), with every knob resolved; raises
    PlanError (or app.AppError: an app that has no entry for a type's interface). `worker_types` is the command line's
    choice (its `worker`: a type, a list, a set or all); each entry's `worker_type` is its worker type, under the
    name the playbooks, the roles and results.json use."""
    cat = cat or catalog_mod.load()
    app = app or app_mod.given_or_demo(None)
    unknown_knobs = [k for k in knobs if k not in KNOBS]
    if unknown_knobs:
        raise TypeError(f"unknown knobs {unknown_knobs}")
    types = [cat.type(n) for n in parse_types(worker_types, cat, tuple(app.entries))]
    app.check_worker_types([t.name for t in types])
    label = ",".join(t.name for t in types)
    n_workers = whole_number("workers", workers, 1, WORKERS_MAX)
    given = {k: knob_value(k, knobs.get(k), cat.knobs[k]) for k in KNOBS}
    version = None if gunicorn_version in (None, "") else str(gunicorn_version).strip()
    if version is not None and not VERSION_RE.match(version):
        raise PlanError(f"gunicorn_version={gunicorn_version!r}: use a release number such as 27.0.1")

    for t in types:
        if version is not None and not t.exists_in(version):
            raise PlanError(
                f"gunicorn_version={version} with worker type {t.name}: the {t.name} worker exists in {t.releases()}; "
                f"use gunicorn_version={t.default_version} (its default), or leave gunicorn_version unset"
            )
        if not t.lock_file.is_file():
            lock = t.lock_file.relative_to(catalog_mod.ROOT)
            raise PlanError(f"worker type {t.name}: its lock file {lock} is missing")

    for knob, value in given.items():
        if value is None:
            continue
        if not any(t.reads(knob, version or t.default_version) for t in types):
            lacking = [t for t in types if knob in t.knobs]
            plural = len(types) > 1
            why = (
                "; ".join(f"gunicorn {version or t.default_version} lacks it for {t.name}" for t in lacking)
                if lacking
                else f"gunicorn's {label} worker{'s' if plural else ''} ignore{'' if plural else 's'} it"
            )
            hint = (
                ". With sync, gunicorn silently switches to gthread and the result would be mislabelled; use "
                "worker=gthread"
                if knob == "threads" and any(t.worker_class == "sync" for t in types)
                else ""
            )
            raise PlanError(f"{knob}={value} with worker={label}: {why}; it applies to {readers(cat, knob)}{hint}")

    instances = []
    for t in types:
        v = version or t.default_version
        inst = {
            "name": app.instance_name(t.name),  # the systemd instance: gunicorn@<app>-<type>
            "worker_type": t.name,
            "app": app.name,
            "worker_class": t.worker_class,
            "interface": t.interface,
            "entry": app.entries[t.interface],
            "app_requirements": list(app.requirements[t.interface]),
            "app_packages": app.packages(t.interface),
            "env": dict(app.env),
            "worker_versions": list(t.versions),
            "gunicorn_version": v,
            "workers": n_workers or t.defaults["workers"],
            "threads": t.defaults["threads"],
            "worker_connections": t.defaults["worker_connections"],
            "http_parser": None,
            "asgi_loop": None,
        }
        requirements = [f"gunicorn=={v}"]
        for knob, value in given.items():
            if value is not None and t.reads(knob, v):
                inst[knob] = value
                requirements += cat.knobs[knob].get("requires", {}).get(value, [])
        inst["requirements"] = requirements
        # requests it works on at once when they wait on IO, by the catalog's theory (the verification sends this
        # many at a time: none waits in a queue behind another)
        inst["slots"] = catalog_mod.slots_of(
            t.theory["io"], inst["workers"], inst["threads"], inst["worker_connections"]
        )
        instances.append(inst)
    return instances


def run_label(names: list[str], cat: catalog_mod.Catalog | None = None, interfaces=catalog_mod.INTERFACES) -> str:
    """A run's name for its folder: all (every type that serves the app's interfaces), a set's name (classic), or the
    types joined by '+'."""
    cat = cat or catalog_mod.load()
    if set(names) == {n for n in cat.names if cat.type(n).interface in interfaces}:
        return "all"
    for set_name, members in cat.sets.items():
        if set(names) == set(members):
            return set_name
    return "+".join(names)


def config_label(record: dict, cat: catalog_mod.Catalog | None = None) -> str:
    """The configuration in a few characters, for the report: 1w×2t (one worker, two threads), 2w, 1w×1000c with
    parser fast. The numbers its theory counts (threads, worker_connections: worker_types.yml theory), then the other
    knobs it reads when they were set. record: a record or an instance of the model (its worker_type)."""
    cat = cat or catalog_mod.load()
    t = cat.types.get(record.get("worker_type") or record.get("name"))
    text = f"{record.get('workers', '?')}w"
    if t is None:
        return text
    extras = []
    for knob in KNOBS:
        if knob not in t.knobs or record.get(knob) in (None, ""):
            continue
        if knob in BOUND_BY and BOUND_BY[knob] not in t.theory.values():
            continue
        fmt = cat.knobs[knob]["label"]
        if fmt.startswith("×"):
            text += fmt.format(record[knob])
        else:
            extras.append(fmt.format(record[knob]))
    return ", ".join([text, *extras])
