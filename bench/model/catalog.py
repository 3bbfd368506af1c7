"""The worker-type catalog (worker_types.yml at the repository's root), read once and checked as it is read.

Everything that needs to know a worker type (validation, theory, the report, compare, the tests) asks this module;
nothing else names the types."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]  # bench/model/catalog.py -> the repository
CATALOG_PATH = ROOT / "worker_types.yml"
LOCKS_DIR = ROOT / "app" / "requirements"
BOUNDS = ("workers", "threads", "connections", "unbounded")
TASKS = ("io", "cpu")
INTERFACES = ("wsgi", "asgi")
# What "unbounded" counts as: more than any burst or connection limit a profile can ask for.
UNBOUNDED = 1_000_000


class CatalogError(ValueError):
    """worker_types.yml is malformed; the message names the entry and what would be valid."""


def version_tuple(version: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in str(version).split(".")) if version else ()


@dataclass(frozen=True)
class WorkerType:
    name: str
    worker_class: str
    interface: str  # of the app it serves: wsgi or asgi
    default_version: str
    since: str | None
    until: str | None
    theory: dict[str, str]
    explain: str
    defaults: dict[str, int]
    knobs: dict[str, str | None]
    versions: tuple[str, ...]

    @property
    def lock_file(self) -> Path:
        return LOCKS_DIR / f"{self.name}.txt"

    def exists_in(self, version: str) -> bool:
        v = version_tuple(version)[:2]
        return (not self.since or v >= version_tuple(self.since)[:2]) and (
            not self.until or v < version_tuple(self.until)[:2]
        )

    def releases(self) -> str:
        """The releases it exists in, in words: 'gunicorn 25.1 or newer', 'gunicorn before 26.0'."""
        if self.since and self.until:
            return f"gunicorn {self.since} up to (not including) {self.until}"
        if self.since:
            return f"gunicorn {self.since} or newer"
        if self.until:
            return f"gunicorn before {self.until}"
        return "every gunicorn release"

    def reads(self, knob: str, version: str) -> bool:
        """Whether this type, on this gunicorn release, reads the knob."""
        if knob not in self.knobs:
            return False
        since = self.knobs[knob]
        return not since or version_tuple(version)[:2] >= version_tuple(since)[:2]


@dataclass(frozen=True)
class Catalog:
    types: dict[str, WorkerType]
    sets: dict[str, tuple[str, ...]]
    knobs: dict[str, dict]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.types)

    def type(self, name: str) -> WorkerType:
        try:
            return self.types[name]
        except KeyError:
            raise KeyError(f"worker type {name!r} is not in worker_types.yml ({', '.join(self.types)})") from None

    def version_columns(self, names, app_packages=()) -> list[str]:
        """Packages the report's versions table shows for these types: python, gunicorn, the app's own top-level
        packages (bench_app.requirements), then each type's own packages, in catalog order, once."""
        cols = ["python", "gunicorn", *app_packages]
        for n in names:
            t = self.types.get(n)
            if t is not None:
                cols += list(t.versions)
        return list(dict.fromkeys(cols))


def _require(entry: str, data: dict, keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise CatalogError(f"worker_types.yml {entry}: missing {', '.join(missing)}")


def parse(data: dict) -> Catalog:
    """A Catalog from worker_types.yml's content, or CatalogError naming what is wrong."""
    _require("(top level)", data, ("sets", "knobs", "types"))
    knobs = dict(data["knobs"])
    types: dict[str, WorkerType] = {}
    for name, t in data["types"].items():
        entry = f"types.{name}"
        _require(
            entry, t, ("worker_class", "interface", "gunicorn", "theory", "explain", "defaults", "knobs", "versions")
        )
        if t["interface"] not in INTERFACES:
            raise CatalogError(
                f"worker_types.yml {entry}.interface={t['interface']!r}: use one of {', '.join(INTERFACES)}"
            )
        for task in TASKS:
            if t["theory"].get(task) not in BOUNDS:
                raise CatalogError(
                    f"worker_types.yml {entry}.theory.{task}={t['theory'].get(task)!r}: use one of {', '.join(BOUNDS)}"
                )
        _require(f"{entry}.gunicorn", t["gunicorn"], ("default",))
        _require(f"{entry}.defaults", t["defaults"], ("workers", "threads", "worker_connections"))
        unknown = [k for k in t["knobs"] if k not in knobs]
        if unknown:
            raise CatalogError(
                f"worker_types.yml {entry}.knobs: {', '.join(unknown)} not under knobs ({', '.join(knobs)})"
            )
        if "threads" not in t["knobs"] and int(t["defaults"]["threads"]) != 1:
            raise CatalogError(f"worker_types.yml {entry}.defaults.threads: 1 (the type does not read threads)")
        types[name] = WorkerType(
            name=name,
            worker_class=str(t["worker_class"]),
            interface=t["interface"],
            default_version=str(t["gunicorn"]["default"]),
            since=t["gunicorn"].get("since"),
            until=t["gunicorn"].get("until"),
            theory={task: t["theory"][task] for task in TASKS},
            explain=" ".join(str(t["explain"]).split()),
            defaults={k: int(v) for k, v in t["defaults"].items()},
            knobs={k: (None if v is None else str(v)) for k, v in t["knobs"].items()},
            versions=tuple(t["versions"]),
        )
    sets = {}
    for set_name, members in data["sets"].items():
        if set_name in types or set_name == "all":
            raise CatalogError(f"worker_types.yml sets.{set_name}: a set cannot be named like a type or 'all'")
        bad = [m for m in members if m not in types]
        if bad:
            raise CatalogError(f"worker_types.yml sets.{set_name}: {', '.join(bad)} not under types")
        sets[set_name] = tuple(members)
    return Catalog(types=types, sets=sets, knobs=knobs)


@functools.cache
def load(path: Path = CATALOG_PATH) -> Catalog:
    return parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def slots_of(bound: str, workers: int, threads: int, worker_connections: int) -> int:
    """Simultaneous requests a bound allows: see worker_types.yml's `theory`."""
    return {
        "workers": workers,
        "threads": workers * threads,
        "connections": workers * worker_connections,
        "unbounded": UNBOUNDED,
    }[bound]
