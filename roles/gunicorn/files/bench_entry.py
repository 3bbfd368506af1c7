"""What gunicorn loads for every app the harness runs (wsgi_app = "bench_entry:app"): the app's own entry point,
named in BENCH_APP_ENTRY (``package.module:callable`` or a factory call ``package.module:make_app()``, imported by
gunicorn's own loader from the app's folder, the config's chdir), wrapped in the harness's timing middleware
(server_timing.py: a ``Server-Timing`` header on every response, a journal line per probe request). The middleware
is WSGI or ASGI after BENCH_APP_INTERFACE, and it reports the app's release: the first word of the file named in
BENCH_RELEASE_FILE when the app was loaded ("0" without one; an operation under load writes a new one before a
reload or a restart, so that the answers tell which code served them). Installed by the gunicorn role beside
server_timing.py, outside the app."""

from __future__ import annotations

import os

import server_timing

ENTRY_ENV = "BENCH_APP_ENTRY"
INTERFACE_ENV = "BENCH_APP_INTERFACE"
RELEASE_ENV = "BENCH_RELEASE_FILE"


def release() -> str:
    """The app's release as it is loaded now: the release file's first word, "0" when there is none."""
    try:
        with open(os.environ[RELEASE_ENV], encoding="utf-8") as fh:
            return (fh.read().split() or ["0"])[0][:40]
    except (KeyError, OSError):
        return "0"


def wrap(target, interface: str, loaded: str = "0"):
    if interface == "asgi":
        return server_timing.ServerTimingASGI(target, release=loaded)
    if interface == "wsgi":
        return server_timing.ServerTiming(target, release=loaded)
    raise RuntimeError(f"{INTERFACE_ENV}={interface!r}: wsgi or asgi")


def load():
    from gunicorn.util import import_app  # noqa: PLC0415 -- gunicorn's own loader, in the instance's virtualenv

    return wrap(import_app(os.environ[ENTRY_ENV]), os.environ.get(INTERFACE_ENV, "wsgi"), release())


def __getattr__(name: str):
    """`app`, loaded when gunicorn asks for it (bench_entry:app), not when the module is imported."""
    if name == "app":
        globals()["app"] = loaded = load()
        return loaded
    raise AttributeError(name)
