"""An app to benchmark, as data (a `bench_app` mapping, usually in a file passed with `-e @myapp.bench.yml`), checked
as it is read: every error names the field and what would be valid.

The built-in demo app is one such file (app/demo.bench.yml); nothing treats it specially."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

from bench.deps import resolve
from bench.model import catalog
from bench.model import target as slo

NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,30}")
# package.module:callable, or a factory call: package.module:make_app()
ENTRY_RE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\(\))?")
ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ARCHIVES = (".whl", ".tar.gz", ".zip")
# operations: loaded while one is done; timeout: the request a `timeout` operation sends, slower than gunicorn's timeout
LOADS = ("probe", "sweep", "rate", "capacity", "operations", "timeout")
FIELDS = ("name", "description", "src", "entry", "interface", "requirements", "ready", "env", "matrix", "scenarios",
          "mixes")  # fmt: skip
MIX_FIELDS = ("name", "of", "rate_per_s", "clients", "alone", "profiles", "target")
SCENARIO_FIELDS = (
    "name",
    "method",
    "path",
    "body",
    "headers",
    "status",
    "task",
    "unit_s",
    "load",
    "profiles",
    "rate_per_s",
    "target",
)


def instance_name(app: str, worker_type: str) -> str:
    """The systemd instance of an app under one worker type: gunicorn@<app>-<type> (app names have no '-')."""
    return f"{app}-{worker_type}"


class AppError(ValueError):
    """The app's description is wrong; the message names the field (bench_app.<field>) and what would be valid."""


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    body: str | None
    headers: dict[str, str]
    status: int
    task: str | None  # io or cpu: the scenario gets a verdict; None: measured only
    unit_s: float | None  # the work one request asks for (io: the wait); None: measured by the c=1 probe
    load: tuple[str, ...]  # probe, sweep, rate and/or capacity; none: sent only in a mix (bench_app.mixes)
    profiles: tuple[str, ...] | None  # only in these profiles; None: in every profile
    # the rates its rate runs offer, requests a second; None: the profile's utilizations of one slot over unit_s
    rate_per_s: tuple[float, ...] | None = None
    # the latency target its capacity search looks for the highest rate within (bench/model/target.py)
    target: dict | None = None

    @property
    def capacity_start_per_s(self) -> float | None:
        """Where its capacity search starts: the lowest of its rate_per_s, else half of one slot (0.5 / unit_s)."""
        if "capacity" not in self.load:
            return None
        return min(self.rate_per_s) if self.rate_per_s else round(0.5 / self.unit_s, 6)

    @property
    def label(self) -> str:
        """How the report and the history name it: the path for a GET, else the method and the path."""
        return self.path if self.method == "GET" else f"{self.method} {self.path}"

    def as_run(self) -> dict:
        """What one run of the matrix needs of it, its `label` among them (a record's `label` in results.json)."""
        return {"scenario_name": self.name, "label": self.label, "method": self.method, "path": self.path,
                "body": self.body, "headers": self.headers, "status": self.status, "task": self.task,
                "unit_s": self.unit_s}  # fmt: skip


@dataclass(frozen=True)
class Mix:
    """Scenarios sent together in one run, at a rate or by a closed loop of clients, each request of one of them drawn
    by weight (bench_app.mixes)."""

    name: str
    of: tuple[tuple[str, float], ...]  # (scenario name, weight), in the file's order
    rate_per_s: tuple[float, ...]  # open loop: its rates
    alone: tuple[str, ...]  # the scenarios also run alone, each on the arrivals it had in the mix
    profiles: tuple[str, ...] | None
    clients: tuple[int, ...] = ()  # closed loop: that many clients, each sending when its last was answered
    target: dict | None = None  # the latency target every scenario of the mix must meet (a recommendation by it)

    @property
    def label(self) -> str:
        """How the report names it: its scenarios' weights, `9 × io_100ms + 1 × cpu_small`."""
        return " + ".join(f"{w:g} × {name}" for name, w in self.of)

    def as_run(self, scenarios: dict[str, Scenario]) -> dict:
        """What its runs need: each class's request, weight and task."""
        classes = [scenarios[name].as_run() | {"name": name, "weight": weight} for name, weight in self.of]
        return {"name": self.name, "label": self.label, "rate_per_s": list(self.rate_per_s), "alone": list(self.alone),
                "clients": list(self.clients), "target": self.target,
                "profiles": None if self.profiles is None else list(self.profiles), "classes": classes}  # fmt: skip


@dataclass(frozen=True)
class App:
    name: str
    description: str
    src: Path
    entries: dict[str, str]  # interface (wsgi, asgi) -> module:callable
    requirements: dict[str, tuple[str, ...]]  # interface -> its requirements (the same for both unless split)
    ready_path: str
    ready_status: int
    env: dict[str, str]
    scenarios: tuple[Scenario, ...] = field(default_factory=tuple)
    # the knobs' values to try (bench_app.matrix: workers, threads, ...), each a list; the command line's win
    matrix: dict[str, list] = field(default_factory=dict)
    mixes: tuple[Mix, ...] = field(default_factory=tuple)

    @property
    def src_kind(self) -> str:
        return "folder" if self.src.is_dir() else "archive"

    def serves(self, interface: str) -> bool:
        return interface in self.entries

    def instance_name(self, worker_type: str) -> str:
        return instance_name(self.name, worker_type)

    @property
    def distribution(self) -> str | None:
        """The project an app given as a wheel or an sdist installs (from its file name), None for a folder."""
        if self.src_kind == "folder":
            return None
        if self.src.name.endswith(".whl"):
            return str(parse_wheel_filename(self.src.name)[0])
        return str(parse_sdist_filename(self.src.name)[0])

    def packages(self, interface: str) -> list[str]:
        """The app's top-level packages under one interface, itself first when it is installed from an archive (the
        report shows their versions)."""
        own = [self.distribution] if self.distribution else []
        return own + [Requirement(r).name for r in self.requirements.get(interface, ())]

    def as_vars(self) -> dict:
        """The app as the playbooks use it (plain data)."""
        return {
            "name": self.name,
            "description": self.description,
            "src": str(self.src),
            "src_kind": self.src_kind,
            "entries": dict(self.entries),
            "requirements": {i: list(r) for i, r in self.requirements.items()},
            "packages": {i: self.packages(i) for i in self.entries},
            "ready": {"path": self.ready_path, "status": self.ready_status},
            "env": dict(self.env),
            "matrix": {k: list(v) for k, v in self.matrix.items()},
            "scenarios": [
                s.as_run()
                | {
                    "name": s.name,
                    "load": list(s.load),
                    "profiles": None if s.profiles is None else list(s.profiles),
                    "rate_per_s": None if s.rate_per_s is None else list(s.rate_per_s),
                    "target": s.target,
                    "capacity_start_per_s": s.capacity_start_per_s,
                }
                for s in self.scenarios
            ],
            "mixes": [m.as_run({s.name: s for s in self.scenarios}) for m in self.mixes],
        }

    def check_worker_types(self, worker_types: list[str]) -> None:
        """Refuse worker types whose interface the app has no entry for (an ASGI app on sync, say)."""
        cat = catalog.load()
        wrong = [w for w in worker_types if not self.serves(cat.type(w).interface)]
        if wrong:
            fits = [n for n in cat.names if self.serves(cat.type(n).interface)]
            have = " and ".join(f"entry.{i}" for i in self.entries)
            raise AppError(
                f"worker={','.join(worker_types)}: {', '.join(wrong)} serve{'s' if len(wrong) == 1 else ''} "
                f"{'/'.join(sorted({cat.type(w).interface.upper() for w in wrong}))} apps and bench_app {self.name} "
                f"has only {have}; use worker types of its interface: {', '.join(fits)}"
            )


def _text(where: str, value, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise AppError(f"{where}={value!r}: a non-empty string")
    return value


def _mapping(where: str, value) -> dict:
    if not isinstance(value, dict):
        raise AppError(f"{where}={value!r}: a mapping")
    return value


def _unknown(where: str, given: dict, known: tuple[str, ...]) -> None:
    extra = sorted(set(given) - set(known))
    if extra:
        raise AppError(f"{where}: unknown field{'s' if len(extra) > 1 else ''} {', '.join(map(str, extra))} "
                       f"(known: {', '.join(known)})")  # fmt: skip


def _status(where: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise AppError(f"{where}={value!r}: an HTTP status, a number from 100 to 599")
    return value


def _path(where: str, value) -> str:
    text = _text(where, value)
    if not text.startswith("/") or any(c.isspace() for c in text):
        raise AppError(f"{where}={value!r}: a URL path starting with / (query allowed), no spaces")
    return text


def _src(where: str, value, base: Path) -> Path:
    text = _text(where, value)
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base / path
    if path.is_dir():
        return path.resolve()
    if path.is_file() and path.name.endswith(ARCHIVES):
        try:
            (parse_wheel_filename if path.name.endswith(".whl") else parse_sdist_filename)(path.name)
        except (InvalidWheelFilename, InvalidSdistFilename):
            raise AppError(f"{where}={text}: not named as a wheel or an sdist is (name-version.tar.gz, "
                           "name-version-py3-none-any.whl)") from None  # fmt: skip
        return path.resolve()
    what = "is not a folder, a wheel or an sdist" if path.exists() else "does not exist"
    raise AppError(f"{where}={text}: {path} {what} (the app's code: a folder, or a .whl, .tar.gz or .zip)")


def _entries(raw: dict) -> dict[str, str]:
    entry, interface = raw.get("entry"), raw.get("interface")
    if isinstance(entry, dict):
        if interface is not None:
            raise AppError("bench_app.interface: leave it out when entry names one entry per interface")
        given = entry
    else:
        if interface not in catalog.INTERFACES:
            raise AppError(f"bench_app.interface={interface!r}: wsgi or asgi (or give entry as a mapping of both)")
        given = {interface: entry}
    if not given:
        raise AppError("bench_app.entry={}: name at least one entry (wsgi: module:callable, asgi: module:callable)")
    out = {}
    for iface, target in given.items():
        if iface not in catalog.INTERFACES:
            raise AppError(f"bench_app.entry.{iface}: unknown interface; use wsgi or asgi")
        where = "bench_app.entry" if not isinstance(entry, dict) else f"bench_app.entry.{iface}"
        if not isinstance(target, str) or not ENTRY_RE.fullmatch(target):
            raise AppError(f"{where}={target!r}: package.module:callable (e.g. myapp.web:app, or myapp:create_app())")
        out[iface] = target
    return out


def _requirements(raw, src: Path, entries: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """One list for every interface, or (an app whose WSGI and ASGI entries need different packages, like the demo's
    Flask app and FastAPI twin) a mapping of interface to list."""
    if isinstance(raw, dict):
        extra = sorted(set(raw) - set(entries))
        if extra:
            raise AppError(f"bench_app.requirements.{extra[0]}: the app has no {extra[0]} entry (entry: "
                           f"{', '.join(entries)})")  # fmt: skip
        return {i: _requirement_list(raw.get(i), src, f"bench_app.requirements.{i}") for i in entries}
    common = _requirement_list(raw, src, "bench_app.requirements")
    return dict.fromkeys(entries, common)


def _requirement_list(raw, src: Path, field: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):  # a requirements file in the app's folder
        if not src.is_dir():
            raise AppError(f"{field}={raw}: a file name needs src to be a folder; list them instead")
        path = src / raw
        if not path.is_file():
            raise AppError(f"{field}={raw}: no such file in {src}")
        items, where = resolve.requirement_lines(path.read_text()), f"{field} ({raw})"
        if any(line.startswith("-") for line in items):
            bad = next(line for line in items if line.startswith("-"))
            raise AppError(f"{where}: {bad!r}: options are not supported; list packages only (name, version, extras)")
    elif isinstance(raw, list):
        items, where = raw, field
    else:
        raise AppError(f"{field}={raw!r}: a list of requirements, or a requirements file in src")
    out = []
    for i, item in enumerate(items):
        try:
            req = Requirement(str(item))
        except InvalidRequirement as exc:
            raise AppError(f"{where}[{i}]={item!r}: not a requirement ({exc})") from None
        if req.url:
            raise AppError(f"{where}[{i}]={item!r}: a URL requirement; hosts install from the wheelhouse only")
        out.append(str(req))
    return tuple(out)


def _matrix(raw) -> dict[str, list]:
    """bench_app.matrix: the values to try of each knob (workers and worker_types.yml's knobs), one or a list; the
    values themselves are checked with the plan (bench/model/plan.py), naming bench_app.matrix.<knob>."""
    if raw is None:
        return {}
    matrix = _mapping("bench_app.matrix", raw)
    _unknown("bench_app.matrix", matrix, ("workers", *catalog.load().knobs))
    out = {}
    for knob, values in matrix.items():
        values = values if isinstance(values, list) else [values]  # noqa: PLW2901 -- one value or a list
        if not values or any(isinstance(v, (dict, list)) or v is None for v in values):
            raise AppError(f"bench_app.matrix.{knob}={matrix[knob]!r}: a value or a list of at least one value")
        out[knob] = values
    return out


def _env(raw) -> dict[str, str]:
    if raw is None:
        return {}
    env = _mapping("bench_app.env", raw)
    out = {}
    for key, value in env.items():
        if not isinstance(key, str) or not ENV_RE.fullmatch(key):
            raise AppError(f"bench_app.env.{key}: not a variable name (letters, digits, _; not starting with a digit)")
        if isinstance(value, (dict, list)) or value is None:
            raise AppError(f"bench_app.env.{key}={value!r}: a string or a number")
        out[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _named(field: str, i: int, raw) -> tuple[dict, str, str]:
    """An entry of a list of named mappings (scenarios, mixes): the mapping, its name, and how errors name it
    (`bench_app.scenarios[2] (create)`)."""
    where = f"{field}[{i}]"
    entry = _mapping(where, raw)
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise AppError(f"{where}.name={name!r}: lowercase letters, digits and _, starting with a letter")
    return entry, name, f"{where} ({name})"


def _scenario(i: int, raw, names: set[str], profiles: tuple[str, ...]) -> Scenario:  # noqa: PLR0912 -- field by field
    sc, name, where = _named("bench_app.scenarios", i, raw)
    if name in names:
        raise AppError(f"{where}: a second scenario named {name}; names are unique")
    _unknown(where, sc, SCENARIO_FIELDS)
    if "path" not in sc:
        raise AppError(f"{where}: no path (the URL path to load, e.g. /items?page=1)")
    path = _path(f"{where}.path", sc["path"])
    method = sc.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise AppError(f"{where}.method={method!r}: one of {', '.join(METHODS)}")
    method = method.upper()
    body = sc.get("body")
    as_json = body is not None and not isinstance(body, str)  # a mapping or list body is sent as JSON
    if body is not None:
        if method in ("GET", "HEAD", "DELETE", "OPTIONS"):
            raise AppError(f"{where}.body: a {method} request carries no body; use POST, PUT or PATCH")
        body = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    headers = _mapping(f"{where}.headers", sc.get("headers") or {})
    for key, value in headers.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9-]+", key) or isinstance(value, (dict, list)):
            raise AppError(f"{where}.headers.{key}: a header name (letters, digits, -) with a string value")
    headers = {k: str(v) for k, v in headers.items()}
    if as_json:
        headers.setdefault("Content-Type", "application/json")
    status = _status(f"{where}.status", sc.get("status", 200))
    task = sc.get("task")
    if task is not None and task not in catalog.TASKS:
        raise AppError(f"{where}.task={task!r}: io or cpu (or leave it out: measured, no verdict)")
    unit_s = sc.get("unit_s")
    if unit_s is not None:
        if task is None:
            raise AppError(f"{where}.unit_s: only with a task (io or cpu)")
        if isinstance(unit_s, bool) or not isinstance(unit_s, (int, float)) or unit_s <= 0:
            raise AppError(f"{where}.unit_s={unit_s!r}: seconds of work per request, a number > 0")
        unit_s = float(unit_s)
    load = sc.get("load", ["probe", "sweep"] if task else ["sweep"])  # rate runs only when asked for
    if not isinstance(load, list) or any(x not in LOADS for x in load):
        raise AppError(
            f"{where}.load={load!r}: a list of probe, sweep, rate, capacity, operations and/or timeout ([]: only in a "
            "mix)"
        )
    if "timeout" in load and (task is None or unit_s is None):
        raise AppError(
            f"{where}.load: the request a timeout operation sends needs its task (io or cpu: whether it holds its "
            "worker's loop) and unit_s (how long it takes, longer than gunicorn's timeout)"
        )
    if "probe" in load and task is None:
        raise AppError(f"{where}.load: probes give a verdict and need a task (io or cpu)")
    rates, target = _rates(where, sc.get("rate_per_s"), load, unit_s), _target(where, sc.get("target"), load)
    only = sc.get("profiles")
    if only is not None:
        if not isinstance(only, list) or not only or any(p not in profiles for p in only):
            raise AppError(f"{where}.profiles={only!r}: a list of profiles among {', '.join(profiles)}")
        only = tuple(only)
    return Scenario(name, method, path, body, headers, status, task, unit_s, tuple(load), only, rates, target)


def _target(where: str, target, load: list) -> dict | None:
    """A scenario's latency target: what its capacity search looks for, needed by it and by nothing else."""
    if target is None:
        if "capacity" in load:
            raise AppError(
                f"{where}.target: a capacity search needs a latency target, e.g. "
                "{percentile: 99, latency_s: 0.25, error_budget: 0.01}"
            )
        return None
    if "capacity" not in load:
        raise AppError(f"{where}.target: only for a scenario whose capacity is searched (load: [capacity])")
    try:
        return slo.check(target, f"{where}.target")
    except slo.TargetError as exc:
        raise AppError(str(exc)) from exc


def _rates(where: str, rates, load: list, unit_s: float | None) -> tuple[float, ...] | None:
    """A scenario's rate_per_s: the rates of its runs at a rate, if it is loaded at a rate and gives them."""
    if rates is None:
        if "operations" in load and unit_s is None:
            raise AppError(
                f"{where}.load: loaded during operations, it needs the rate (rate_per_s: [5]) or the work of one "
                "request (unit_s, whose utilization the profile's operations settings give)"
            )
        if "rate" in load and unit_s is None:
            raise AppError(
                f"{where}.load: a rate run needs the rates (rate_per_s: [5, 8]) or the work of one request (unit_s,"
                " whose utilizations the profile gives)"
            )
        if "capacity" in load and unit_s is None:
            raise AppError(
                f"{where}.load: a capacity search starts at the lowest of rate_per_s, or at half of one slot "
                "(0.5 / unit_s): give one of them"
            )
        return None
    if not {"rate", "capacity", "operations"} & set(load):
        raise AppError(
            f"{where}.rate_per_s: only for a scenario loaded at a rate (load: [rate], [capacity] or [operations])"
        )
    if (
        not isinstance(rates, list)
        or not rates
        or any(isinstance(r, bool) or not isinstance(r, (int, float)) or r <= 0 for r in rates)
    ):
        raise AppError(f"{where}.rate_per_s={rates!r}: a list of requests a second, each a number > 0")
    return tuple(float(r) for r in rates)


def _mixes(raw, scenarios: list[Scenario], profiles: tuple[str, ...]) -> tuple[Mix, ...]:
    """bench_app.mixes: scenarios sent together at a rate or by a closed loop, by weight; each mix names two or more
    of the app's scenarios (any of them, whatever their own load)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise AppError(f"bench_app.mixes={raw!r}: a list of mixes ({{name, of: {{scenario: weight}}, rate_per_s}})")
    known, out = {s.name for s in scenarios}, []
    for i, item in enumerate(raw):
        mix, name, where = _named("bench_app.mixes", i, item)
        if name in {m.name for m in out} | known:
            raise AppError(f"{where}: the name of another mix or scenario; names are unique")
        _unknown(where, mix, MIX_FIELDS)
        of = _weights(where, mix.get("of"), known)
        rates, clients = _mix_loads(where, mix)
        alone, names = mix.get("alone", True), [k for k, _ in of]
        alone = names if alone is True else [] if alone is False else alone
        if not isinstance(alone, list) or any(a not in names for a in alone) or len(set(alone)) < len(alone):
            raise AppError(f"{where}.alone={mix.get('alone')!r}: true (each scenario also alone, on the arrivals it "
                           "had in the mix), false, or a list of the mix's scenarios")  # fmt: skip
        only = mix.get("profiles")
        if only is not None and (not isinstance(only, list) or not only or any(p not in profiles for p in only)):
            raise AppError(f"{where}.profiles={only!r}: a list of profiles among {', '.join(profiles)}")
        target = None
        if mix.get("target") is not None:
            if not rates:
                raise AppError(f"{where}.target: only for a mix at a rate (rate_per_s): a closed loop sets no rate")
            try:
                target = slo.check(mix["target"], f"{where}.target")
            except slo.TargetError as exc:
                raise AppError(str(exc)) from exc
        out.append(Mix(name, of, rates, tuple(alone), None if only is None else tuple(only), clients, target))
    return tuple(out)


def _weights(where: str, of, known: set[str]) -> tuple[tuple[str, float], ...]:
    """A mix's `of`: two or more of the app's scenarios, each with a weight > 0."""
    if not isinstance(of, dict) or len(of) < 2:
        raise AppError(f"{where}.of={of!r}: two scenarios or more with their weights, e.g. {{io: 9, cpu: 1}}")
    for scenario, weight in of.items():
        if scenario not in known:
            raise AppError(f"{where}.of.{scenario}: no such scenario (the app's: {', '.join(sorted(known))})")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise AppError(f"{where}.of.{scenario}={weight!r}: a weight, a number > 0 (9 and 1: nine to one)")
    return tuple((k, float(v)) for k, v in of.items())


def _mix_loads(where: str, mix: dict) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """A mix's rates (open loop) and clients (closed loop): one of them at least."""
    rates, clients = mix.get("rate_per_s", []), mix.get("clients", [])
    if not isinstance(rates, list) or any(isinstance(r, bool) or not isinstance(r, (int, float)) or r <= 0
                                          for r in rates):  # fmt: skip
        raise AppError(f"{where}.rate_per_s={rates!r}: a list of requests a second of the whole mix, each > 0")
    if not isinstance(clients, list) or any(isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= 1000
                                            for c in clients):  # fmt: skip
        raise AppError(f"{where}.clients={clients!r}: a list of closed loops' clients, each a whole number 1-1000")
    if not rates and not clients:
        raise AppError(f"{where}: no rate_per_s (open loop: requests a second of the whole mix) nor clients "
                       "(closed loop: clients, each sending when its last was answered)")  # fmt: skip
    return tuple(float(r) for r in rates), tuple(clients)


def parse(raw, *, base: Path | None = None, profiles: tuple[str, ...] = ("quick", "full")) -> App:
    """Check a `bench_app` mapping. base: where relative paths start (the directory ansible-playbook runs in)."""
    base = base or Path.cwd()
    app = _mapping("bench_app", raw)
    _unknown("bench_app", app, FIELDS)
    name = app.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise AppError(f"bench_app.name={name!r}: lowercase letters, digits and _, starting with a letter, up to 31")
    description = app.get("description") or ""
    src = _src("bench_app.src", app.get("src"), base)
    entries = _entries(app)
    requirements = _requirements(app.get("requirements"), src, entries)
    ready = _mapping("bench_app.ready", app.get("ready") or {})
    _unknown("bench_app.ready", ready, ("path", "status"))
    ready_path = _path("bench_app.ready.path", ready.get("path", "/"))
    ready_status = _status("bench_app.ready.status", ready.get("status", 200))
    env = _env(app.get("env"))
    raw_scenarios = app.get("scenarios")
    if not isinstance(raw_scenarios, list) or not raw_scenarios:
        raise AppError("bench_app.scenarios: a list of at least one endpoint to load (name, path, ...)")
    scenarios: list[Scenario] = []
    for i, sc in enumerate(raw_scenarios):
        scenarios.append(_scenario(i, sc, {s.name for s in scenarios}, profiles))
        new = scenarios[-1]
        twin = next((s for s in scenarios[:-1] if s.label == new.label and set(s.load) & set(new.load)
                     and set(s.profiles or profiles) & set(new.profiles or profiles)), None)  # fmt: skip
        if twin is not None:
            raise AppError(f"bench_app.scenarios[{i}] ({new.name}): the same request as {twin.name} "
                           f"({twin.label}), loaded the same way in the same profile; give it another path or "
                           "query")  # fmt: skip
    for profile in profiles:
        if not any("sweep" in s.load and (s.profiles is None or profile in s.profiles) for s in scenarios):
            raise AppError(f"bench_app.scenarios: none is swept in profile {profile}")
    mixes = _mixes(app.get("mixes"), scenarios, profiles)
    for i, sc in enumerate(scenarios):
        if not sc.load and not any(sc.name in dict(m.of) for m in mixes):
            raise AppError(f"bench_app.scenarios[{i}] ({sc.name}).load=[]: loaded in no way; name it in a mix "
                           "(bench_app.mixes), or give it a load (probe, sweep, rate, capacity)")  # fmt: skip
    return App(
        name,
        description,
        src,
        entries,
        requirements,
        ready_path,
        ready_status,
        env,
        tuple(scenarios),
        _matrix(app.get("matrix")),
        mixes,
    )


DEMO_FILE = catalog.ROOT / "app" / "demo.bench.yml"


def given_or_demo(raw) -> App:
    """The app of a run: the `bench_app` mapping given (relative paths from where ansible-playbook runs), or the demo
    app's file (its paths from this repository) when none is."""
    return parse(raw) if raw is not None else load_file(DEMO_FILE, base=catalog.ROOT)


def load_file(path: Path, **kw) -> App:
    """An app file (`bench_app:` at its top), as `-e @FILE` passes it."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise AppError(f"{path}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    except OSError as exc:
        raise AppError(f"{path}: cannot read it ({exc.strerror})") from None
    if not isinstance(data, dict) or "bench_app" not in data:
        raise AppError(f"{path}: no bench_app at its top (bench_app: {{name: ..., src: ..., entry: ...}})")
    return parse(data["bench_app"], **kw)
