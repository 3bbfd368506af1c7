"""The lock of one virtualenv (one app under one worker type, for one Python and architecture of the app hosts) and
its wheels in the controller's wheelhouse, made once and reused: the worker type's locked packages, the pins its
knobs add and the app's own requirements, resolved together (bench/deps/resolve.py); then every pinned wheel downloaded
(no dependencies: the lock has them all), and the app itself as a wheel when it comes as one (or as an sdist, built
here into a pure-Python wheel). A lock is named by a hash of everything that went into it, so a change of any input
makes a new one and an unchanged run resolves nothing."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.utils import parse_wheel_filename

from bench.deps import resolve
from bench.model import catalog

# pip runs here to build the app's wheel and to fetch pip itself: its refusals name this controller's Python and machine
CONTROLLER = resolve.Tag(f"{sys.version_info.major}.{sys.version_info.minor}", platform.machine())


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _pip(args: list[str], python: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pip", *args, "--disable-pip-version-check", "--quiet"],
                          capture_output=True, text=True, check=False, timeout=900)  # fmt: skip


def app_wheel(src: Path, wheelhouse: Path, *, python: str = sys.executable, index_args: list[str] | None = None) -> str:
    """The app's own wheel in the wheelhouse (its file name): a wheel is copied, an sdist built here. A wheel that
    only runs on this controller's platform is refused: the hosts install it with no compiler."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    if src.name.endswith(".whl"):
        built = src
    else:
        with tempfile.TemporaryDirectory(prefix="bench-sdist-") as tmp:
            proc = _pip(["wheel", "--no-deps", "--wheel-dir", tmp, *(index_args or []), str(src)], python)
            if proc.returncode != 0:
                raise resolve.ResolveError(f"bench_app.src={src.name}: cannot build a wheel of it: "
                                           f"{resolve.explain(proc.stderr, CONTROLLER)}")  # fmt: skip
            built_file = next(Path(tmp).glob("*.whl"))
            if not built_file.name.endswith("-none-any.whl"):
                raise resolve.ResolveError(
                    f"bench_app.src={src.name}: it builds {built_file.name}, compiled for this controller; give a "
                    "wheel built for the hosts (their Python and architecture) instead"
                )
            shutil.copy2(built_file, wheelhouse / built_file.name)
            return built_file.name
    shutil.copy2(built, wheelhouse / built.name)
    return built.name


def pip_wheel(wheelhouse: Path, *, python: str = sys.executable, index_args: list[str] | None = None) -> str:
    """The wheel of the pip that resolves here, in the wheelhouse (its file name): the hosts run it from the wheel
    with each virtualenv's Python (`python pip-*.whl/pip install ...`), so a virtualenv needs no pip of its own and a
    host's Python no ensurepip (Debian's python3 without python3-venv has none)."""
    if python == sys.executable:  # this controller's own pip: no process to start on every run
        version = importlib.metadata.version("pip")
    else:
        version = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True, check=True,
                                 timeout=60).stdout.split()[1]  # fmt: skip

    def found() -> str | None:
        return next((p.name for p in sorted(wheelhouse.glob(f"pip-{version}-*.whl"))), None)

    if name := found():
        return name
    wheelhouse.mkdir(parents=True, exist_ok=True)
    proc = _pip(["download", "--no-deps", "--only-binary", ":all:", "--dest", str(wheelhouse), *(index_args or []),
                 f"pip=={version}"], python)  # fmt: skip
    if proc.returncode == 0:
        return found()
    # A controller with no index (a scheduled one runs from a copy of this wheelhouse, its own pip another version):
    # the newest pip wheel it was given installs the virtualenvs as well.
    given = sorted(wheelhouse.glob("pip-*.whl"), key=lambda p: parse_wheel_filename(p.name)[1])
    if given:
        return given[-1].name
    raise resolve.ResolveError(f"pip {version} (installs the hosts' virtualenvs): "
                               f"{resolve.explain(proc.stderr, CONTROLLER)}")  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def locks(instances: list[dict], app: dict, tag: resolve.Tag, *, cache: Path, index_args: list[str] | None = None,
          python: str = sys.executable) -> dict[str, dict]:  # fmt: skip
    """The lock of each instance of the plan (by instance name), and the app's own wheel once for all of them when
    the app comes as an archive: lock() of each, with app_wheel and app_wheel_sha256 (None for a folder), and
    pip_wheel (pip_wheel(): what installs them)."""
    wheelhouse = cache / "wheelhouse" / tag.name
    own = {"app_wheel": None, "app_wheel_sha256": None,
           "pip_wheel": pip_wheel(wheelhouse, python=python, index_args=index_args)}  # fmt: skip
    if app["src_kind"] == "archive":
        name = app_wheel(Path(app["src"]), wheelhouse, python=python, index_args=index_args)
        own |= {"app_wheel": name, "app_wheel_sha256": sha256(wheelhouse / name)}
    return {inst["name"]: lock(inst, app, tag, cache=cache, index_args=index_args, python=python) | own
            for inst in instances}  # fmt: skip


def lock(instance: dict, app: dict, tag: resolve.Tag, *, cache: Path, index_args: list[str] | None = None,
         python: str = sys.executable) -> dict:  # fmt: skip
    """The lock of one instance (gunicorn_plan's: worker_type, requirements, app_requirements) for one tag, made unless
    it exists: {lock: path of its pin file, wheels: the wheelhouse folder, changed: made now}. Raises
    resolve.ResolveError naming the package."""
    worker_type = instance["worker_type"]  # Ansible passes gunicorn_plan's instance as is
    lock_file = catalog.load().type(worker_type).lock_file
    locked = resolve.requirement_lines(lock_file.read_text()) + list(instance["requirements"])
    wanted = list(instance["app_requirements"])
    digest = hashlib.sha256(json.dumps([locked, wanted, tag.name], sort_keys=True).encode()).hexdigest()[:16]
    wheelhouse = cache / "wheelhouse" / tag.name
    out = cache / "locks" / tag.name / app["name"] / f"{worker_type}-{digest}.txt"
    answer = {"lock": str(out), "wheels": str(wheelhouse), "changed": False}
    if out.is_file():
        return answer
    pins = resolve.resolve(locked, wanted, tag, who=f"worker type {worker_type}", index_args=index_args, python=python)
    wheelhouse.mkdir(parents=True, exist_ok=True)
    proc = _pip(["download", "--no-deps", "--dest", str(wheelhouse), *tag.pip_args(), *(index_args or []),
                 *(p.line() for p in pins)], python)  # fmt: skip
    if proc.returncode != 0:
        raise resolve.ResolveError(f"worker type {worker_type}: {resolve.explain(proc.stderr, tag)}")
    header = (f"# {app['name']} under {worker_type} for {tag.name}: {lock_file.name} and the app's requirements "
              f"({', '.join(wanted) or 'none'}), resolved by bench/deps/wheels.py\n")  # fmt: skip
    _atomic_write(out, header + "".join(p.line() + "\n" for p in pins))
    return answer | {"changed": True}
