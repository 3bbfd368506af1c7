"""What gunicorn loads for every app the harness runs (wsgi_app = "bench_entry:app"): the app's own entry point,
named in BENCH_APP_ENTRY (``package.module:callable`` or a factory call ``package.module:make_app()``, imported by
gunicorn's own loader from the app's folder, the config's chdir), wrapped in the harness's timing middleware
(server_timing.py: a ``Server-Timing`` header on every response, a journal line per probe request). The middleware
is WSGI or ASGI after BENCH_APP_INTERFACE. Installed by the gunicorn role beside server_timing.py, outside the app."""

from __future__ import annotations

import os

import server_timing

ENTRY_ENV = "BENCH_APP_ENTRY"
INTERFACE_ENV = "BENCH_APP_INTERFACE"


def wrap(target, interface: str):
    if interface == "asgi":
        return server_timing.ServerTimingASGI(target)
    if interface == "wsgi":
        return server_timing.ServerTiming(target)
    raise RuntimeError(f"{INTERFACE_ENV}={interface!r}: wsgi or asgi")


def load():
    from gunicorn.util import import_app  # noqa: PLC0415 -- gunicorn's own loader, in the instance's virtualenv

    return wrap(import_app(os.environ[ENTRY_ENV]), os.environ.get(INTERFACE_ENV, "wsgi"))


def __getattr__(name: str):
    """`app`, loaded when gunicorn asks for it (bench_entry:app), not when the module is imported."""
    if name == "app":
        globals()["app"] = loaded = load()
        return loaded
    raise AttributeError(name)
