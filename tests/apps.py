"""The two apps of app/ (the WSGI app and its ASGI twin) behind one small client, so that each test runs on both."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from support import ROOT

sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "roles" / "gunicorn" / "files"))
import bench_entry
import fastapi_app
import flask_app
import server_timing

INTERFACES = ("wsgi", "asgi")


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class Client:
    """GET against the app in-process, wrapped as gunicorn serves it (bench_entry.wrap: the harness's timing
    middleware): Flask's test client, or the ASGI app called directly (one http scope)."""

    def __init__(self, interface: str, config: dict | None = None):
        self.interface = interface
        if interface == "wsgi":
            self.app = flask_app.create_app({"TESTING": True, **(config or {})})
            self.app.wsgi_app = bench_entry.wrap(self.app.wsgi_app, "wsgi")
            self.timing: server_timing._Timing = self.app.wsgi_app
            self._flask = self.app.test_client()
        else:
            self.app = bench_entry.wrap(fastapi_app.create_app(config), "asgi")
            self.timing = self.app

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        if self.interface == "wsgi":
            r = self._flask.get(url, headers=headers or {})
            return Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.data)
        return asyncio.run(self._asgi_get(url, headers or {}))

    async def _asgi_get(self, url: str, headers: dict[str, str]) -> Response:
        parts = urlsplit(url)
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": parts.path, "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
            "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        }  # fmt: skip
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return Response(start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body)
