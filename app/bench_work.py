"""What the WSGI and the ASGI app share, so that both do exactly the same work: the bounds of every parameter, the
CPU-bound loop, and what ``/healthz`` says about the process (its versions and a hash of each file of the app it
loaded; the harness reads none of it). Standard library only."""

from __future__ import annotations

import functools
import hashlib
import os
import platform
from importlib import metadata

DEFAULTS = {
    "IO_DEFAULT_MS": 1000,  # /ioTask without ?ms=
    "IO_MAX_MS": 10_000,  # largest ?ms= accepted
    "CPU_DEFAULT_N": 6_500_000,  # /cpuTask without ?n= (about 0.3 s on one core, Debian 12 Python 3.11)
    "CPU_MAX_N": 65_000_000,  # largest ?n= accepted (about 3 s)
}
ENV_PREFIX = "BENCH_"  # BENCH_IO_MAX_MS=... from the service's environment overrides DEFAULTS
HELLO = "Hello from gunicorn\n"


class BadParameter(ValueError):
    """A query parameter outside its bounds; answered with 400 and a JSON error."""


def settings(environ=os.environ) -> dict[str, int]:
    """DEFAULTS, each overridden by BENCH_<NAME> from the environment."""
    return {k: int(environ.get(ENV_PREFIX + k, v)) for k, v in DEFAULTS.items()}


def bounded_int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise BadParameter(f"{name}={raw!r} is not an integer; use {low}..{high}") from None
    if not low <= value <= high:
        raise BadParameter(f"{name}={value} is out of range; use {low}..{high}")
    return value


def io_ms(raw: str | None, config: dict) -> int:
    return bounded_int("ms", raw, config["IO_DEFAULT_MS"], 0, config["IO_MAX_MS"])


def cpu_n(raw: str | None, config: dict) -> int:
    return bounded_int("n", raw, config["CPU_DEFAULT_N"], 1, config["CPU_MAX_N"])


def cpu_work(n: int) -> int:
    """Pure-Python work proportional to n; holds the GIL (and a gevent/eventlet/asyncio loop) throughout."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def file_sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def files_sha256(*modules) -> dict[str, str]:
    """sha256 of each module's file, by file name: the app's code as this process loaded it."""
    return {os.path.basename(m.__file__): file_sha256(m.__file__) for m in modules}


@functools.cache
def versions() -> dict[str, str]:
    """Python and every package installed beside the app (its virtualenv), by lower-case name. Read once per process:
    the virtualenv does not change under it, and /healthz is asked before every sweep run (the driver's settle)."""
    found = {"python": platform.python_version()}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name and name not in ("pip", "setuptools"):
            found[name] = dist.version
    return found


def health(app_sha256: dict[str, str]) -> dict:
    return {
        "status": "ok",
        "pid": os.getpid(),
        "versions": versions(),
        "app_sha256": app_sha256,
    }
