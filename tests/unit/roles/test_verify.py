"""Verify before load (roles/load/files/bench_verify.py): one real HTTP request per scenario to a server on loopback,
each status against the one the scenario must answer."""

from __future__ import annotations

import itertools
import json
import socketserver
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from support import load_module

verify = load_module("roles/load/files/bench_verify.py")


def app(environ, start_response):
    """Answers like a small JSON service: a list, a create that needs a JSON body, a redirect, a crash, a slow path."""
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    if path == "/notes" and method == "POST":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        ok = environ.get("CONTENT_TYPE") == "application/json" and b"text" in body
        start_response("201 Created" if ok else "400 Bad Request", [("Content-Type", "application/json")])
        return [b'{"id": 1}' if ok else b'{"error": "text is required"}']
    if path == "/notes":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"[]"]
    if path == "/old":
        start_response("301 Moved Permanently", [("Location", "/notes")])
        return [b""]
    if path == "/wait":  # a quarter second of IO
        time.sleep(0.25)
        start_response("200 OK", [])
        return [b"waited"]
    if path == "/slow":
        time.sleep(2)
        start_response("200 OK", [])
        return [b"late"]
    start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
    return [b"Traceback (most recent call last):\n  KeyError: 'NOTES_DB'\n"]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Threaded(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve(server_class=WSGIServer):
    server = make_server("127.0.0.1", 0, app, server_class=server_class, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def base_url():
    server = serve()  # one request at a time, as a sync worker
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def threaded_url():
    server = serve(Threaded)  # a thread per request
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def scenario(name, path, status=200, method="GET", body=None, headers=None):
    return {"name": name, "method": method, "path": path, "body": body, "headers": headers or {}, "status": status}


def test_each_scenario_answers_its_status_or_says_what_came(base_url):
    rows = [verify.verify(base_url, sc, timeout=1.0) for sc in [
        scenario("list", "/notes"),
        scenario("create", "/notes", 201, "POST", '{"text": "hi"}', {"Content-Type": "application/json"}),
        scenario("create_wrong", "/notes", 201, "POST", "text=hi", {"Content-Type": "text/plain"}),
        scenario("moved", "/old", 301),
        scenario("crash", "/report"),
        scenario("slow", "/slow"),
    ]]  # fmt: skip
    by = {r["name"]: r for r in rows}
    assert [r["ok"] for r in rows] == [True, True, False, True, False, False]
    assert by["create"]["status"] == 201 and by["create"]["head"] == '{"id": 1}'
    assert by["create_wrong"]["status"] == 400 and "text is required" in by["create_wrong"]["head"]
    assert by["moved"]["status"] == 301, "a redirect is the answer, not followed"
    assert by["crash"]["status"] == 500 and by["crash"]["head"].startswith("Traceback")
    assert by["slow"]["status"] is None and by["slow"]["error"] == "no answer within 1 s"


def test_the_command_prints_a_line_per_scenario_and_fails_when_one_did_not_answer_its_status(
    base_url, tmp_path, capsys
):
    plan = tmp_path / "scenarios.json"
    plan.write_text(json.dumps([scenario("list", "/notes"), scenario("moved", "/old", 301)]))
    assert verify.main([str(plan), "--base-url", base_url]) == 0
    assert [json.loads(line)["name"] for line in capsys.readouterr().out.splitlines()] == ["list", "moved"]
    plan.write_text(json.dumps([scenario("list", "/notes"), scenario("crash", "/x")]))
    assert verify.main([str(plan), "--base-url", base_url]) == 1
    assert [json.loads(line)["ok"] for line in capsys.readouterr().out.splitlines()] == [True, False]


def test_nothing_listening_is_an_error_not_a_status():
    row = verify.verify("http://127.0.0.1:9", scenario("list", "/notes"), timeout=1.0)
    assert row["status"] is None and not row["ok"] and "refused" in row["error"].lower()


def test_up_to_at_once_requests_are_sent_together_and_printed_in_the_files_order(threaded_url, tmp_path, capsys):
    plan = tmp_path / "scenarios.json"
    plan.write_text(json.dumps([scenario(f"wait{i}", "/wait") for i in range(4)] + [scenario("list", "/notes")]))

    def rows(at_once):
        began = time.monotonic()
        assert verify.verify_all(threaded_url, str(plan), 5.0, at_once)
        wall = time.monotonic() - began
        return wall, [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    wall, one = rows(1)
    assert [r["name"] for r in one] == ["wait0", "wait1", "wait2", "wait3", "list"]
    assert wall >= 1.0 and all(b["started_s"] >= a["started_s"] + 0.25 for a, b in itertools.pairwise(one[:4])), one
    wall, together = rows(4)
    assert [r["name"] for r in together] == ["wait0", "wait1", "wait2", "wait3", "list"], "the file's order"
    assert wall < 0.9 and max(r["started_s"] for r in together[:4]) < 0.2, together
    assert together[4]["started_s"] >= 0.25, "the fifth waited for a place among the four"


def test_a_scenario_that_is_not_a_safe_method_makes_every_request_wait_its_turn_in_the_files_order(
    threaded_url, tmp_path, capsys
):
    create = scenario("create", "/notes", 201, "POST", '{"text": "x"}', {"Content-Type": "application/json"})
    plan = tmp_path / "scenarios.json"
    plan.write_text(json.dumps([create] + [scenario(f"wait{i}", "/wait") for i in range(3)]))
    assert verify.verify_all(threaded_url, str(plan), 5.0, at_once=4)
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in rows] == ["create", "wait0", "wait1", "wait2"]
    # one after another: each started when the one before ended (both times rounded to 0.1 ms: within that)
    assert all(b["started_s"] >= a["started_s"] + a["elapsed_s"] - 2e-4 for a, b in itertools.pairwise(rows)), rows
