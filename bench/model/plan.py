"""Turn the user's worker choice and knobs into the gunicorn instances to deploy, or refuse them clearly.

Runs on the controller before any host is touched (the gunicorn role's validate entry point calls it through the
gunicorn_plan action, plugins/action/gunicorn_plan.py). What a type is, which knobs it reads and from which gunicorn
release, comes from the catalog (worker_types.yml); every refusal names the variable and what would be valid."""

from __future__ import annotations

import itertools
import re

from bench.model import app as app_mod
from bench.model import catalog as catalog_mod

WORKERS_MAX = 64
VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)?$")
# Knobs in the order the command line and the report list them; workers applies to every type.
KNOBS = ("threads", "worker_connections", "http_parser", "asgi_loop")
# The theory bound (worker_types.yml) each numeric knob sets.
BOUND_BY = {"threads": "threads", "worker_connections": "connections"}
# What a matrix may vary (a list of values each: the command line's workers=1,2, or bench_app.matrix), and how an
# instance's name tells its value when its type runs several combinations (gthread-w2-t4, asgi-loop-uvloop).
MATRIX_KNOBS = ("workers", *KNOBS)
VARIANT_TAGS = {"workers": "w{}", "threads": "t{}", "worker_connections": "c{}", "http_parser": "parser-{}",
                "asgi_loop": "loop-{}"}  # fmt: skip


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


def knob_values(name: str, value, check) -> list | None:
    """The values given for a knob (one, a comma-separated list such as '1,2,4', or a list), each checked by
    check(name, value); None when none is given. Repeats are dropped, the order kept."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    else:
        items = [value]
    if not items or any(v is None or v == "" for v in items):
        raise PlanError(f"{name}={value!r}: an empty value; give one value or a list of them (e.g. {name}=1,2)")
    return list(dict.fromkeys(check(name, v) for v in items))


def readers(cat: catalog_mod.Catalog, knob: str) -> str:
    """Who reads a knob, in words: 'gthread', 'asgi (gunicorn 25.0 or newer), sync (25.2 or newer), ...'."""
    parts = []
    for t in cat.types.values():
        if knob in t.knobs:
            parts.append(t.name + (f" (gunicorn {t.knobs[knob]} or newer)" if t.knobs[knob] else ""))
    return ", ".join(parts)


def _given(app: app_mod.App, workers, knobs: dict, cat: catalog_mod.Catalog) -> dict[str, list | None]:
    """Each matrix knob's values: the command line's (one or a list), else the app file's (bench_app.matrix), else
    None (the type's default)."""
    out = {}
    for knob in MATRIX_KNOBS:
        value, name = (workers if knob == "workers" else knobs.get(knob)), knob
        if value in (None, "") and knob in app.matrix:
            value, name = app.matrix[knob], f"bench_app.matrix.{knob}"
        if knob == "workers":
            out[knob] = knob_values(name, value, lambda n, v: whole_number(n, v, 1, WORKERS_MAX))
        else:
            out[knob] = knob_values(name, value, lambda n, v, k=knob: knob_value(n, v, cat.knobs[k]))
    return out


def _refuse_unread(given: dict, types: list, version: str | None, label: str, cat: catalog_mod.Catalog) -> None:
    """A knob that no type of the run reads (on its gunicorn release) is refused: it would change nothing."""
    for knob, values in given.items():
        if values is None or knob == "workers" or any(t.reads(knob, version or t.default_version) for t in types):
            continue
        value = ",".join(map(str, values))
        lacking = [t for t in types if knob in t.knobs]
        plural = len(types) > 1
        why = (
            "; ".join(f"gunicorn {version or t.default_version} lacks it for {t.name}" for t in lacking)
            if lacking
            else f"gunicorn's {label} worker{'s' if plural else ''} ignore{'' if plural else 's'} it"
        )
        hint = (
            ". With sync, gunicorn silently switches to gthread and the result would be mislabelled; use worker=gthread"
            if knob == "threads" and any(t.worker_class == "sync" for t in types)
            else ""
        )
        raise PlanError(f"{knob}={value} with worker={label}: {why}; it applies to {readers(cat, knob)}{hint}")


def combinations(t: catalog_mod.WorkerType, given: dict, version: str) -> list[tuple[str, dict]]:
    """A type's combinations of the knobs given (each knob only if the type reads it: a value it ignores is not run
    twice), as (variant, settings): its name within the run (the type's, with the knobs that vary for it when it
    has several: gthread-w2-t4) and the knobs' values (those given)."""
    axes = {k: v for k, v in given.items() if v and (k == "workers" or t.reads(k, version))}
    varying = [k for k, values in axes.items() if len(values) > 1]
    out = []
    for values in itertools.product(*axes.values()):
        setting = dict(zip(axes, values, strict=True))
        out.append((t.name + "".join("-" + VARIANT_TAGS[k].format(setting[k]) for k in varying), setting))
    return out


def plan_instances(worker_types, *, app: app_mod.App | None = None, gunicorn_version=None, workers=None,
                   cat: catalog_mod.Catalog | None = None, **knobs):  # fmt: skip
    """One entry per instance to deploy, of one app (the demo unless given), with every knob resolved; raises
    PlanError (or app.AppError: an app that has no entry for a type's interface). `worker_types` is the command line's
    choice (its `worker`: a type, a list, a set or all); `workers` and the knobs each one value or a list of them
    (a matrix; else the app's bench_app.matrix): a type runs one instance per combination of the values it reads.
    Each entry's `worker_type` is its worker type, under the name the playbooks, the roles and results.json use;
    `variant` its name within the run (the type's own, or with the knobs that vary: gthread-w2-t4); `venv` the
    virtualenv it runs in (one per type and set of requirements: the name of its first instance)."""
    cat = cat or catalog_mod.load()
    app = app or app_mod.given_or_demo(None)
    unknown_knobs = [k for k in knobs if k not in KNOBS]
    if unknown_knobs:
        raise TypeError(f"unknown knobs {unknown_knobs}")
    types = [cat.type(n) for n in parse_types(worker_types, cat, tuple(app.entries))]
    app.check_worker_types([t.name for t in types])
    label = ",".join(t.name for t in types)
    given = _given(app, workers, knobs, cat)
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
    _refuse_unread(given, types, version, label, cat)

    instances = []
    for t in types:
        v = version or t.default_version
        venvs: dict[tuple, str] = {}  # the type's requirements -> the virtualenv that has them
        for variant, setting in combinations(t, given, v):
            inst = {
                "name": app.instance_name(variant),  # the systemd instance: gunicorn@<app>-<variant>
                "worker_type": t.name,
                "variant": variant,
                "app": app.name,
                "worker_class": t.worker_class,
                "interface": t.interface,
                "entry": app.entries[t.interface],
                "app_requirements": list(app.requirements[t.interface]),
                "app_packages": app.packages(t.interface),
                "env": dict(app.env),
                "worker_versions": list(t.versions),
                "gunicorn_version": v,
                "workers": setting.get("workers", t.defaults["workers"]),
                "threads": t.defaults["threads"],
                "worker_connections": t.defaults["worker_connections"],
                "http_parser": None,
                "asgi_loop": None,
            }
            requirements = [f"gunicorn=={v}"]
            for knob in KNOBS:
                if knob in setting:
                    inst[knob] = setting[knob]
                    requirements += cat.knobs[knob].get("requires", {}).get(setting[knob], [])
            inst["requirements"] = requirements
            inst["venv"] = venvs.setdefault(tuple(requirements), inst["name"])
            # requests it works on at once when they wait on IO, by the catalog's theory (the verification sends this
            # many at a time: none waits in a queue behind another)
            inst["slots"] = catalog_mod.slots_of(
                t.theory["io"], inst["workers"], inst["threads"], inst["worker_connections"]
            )
            instances.append(inst)
    return instances


def virtualenvs(instances: list[dict]) -> list[dict]:
    """The plan's virtualenvs to build: one per `venv`, as the first instance that runs in it (its `name` is the
    virtualenv's); the other instances of a type reach theirs by a link of their own name (the gunicorn role)."""
    return [i for i in instances if i["venv"] == i["name"]]


def run_label(names: list[str], cat: catalog_mod.Catalog | None = None, interfaces=catalog_mod.INTERFACES) -> str:
    """A run's name for its folder: all (every type that serves the app's interfaces), a set's name (classic), or the
    types joined by '+' (each once: a matrix runs several instances of a type)."""
    cat = cat or catalog_mod.load()
    names = list(dict.fromkeys(names))
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
