"""The load hosts' driver: the load generator of a run is a named field of its record, not a place in its command."""

from __future__ import annotations

import json

import pytest
from conftest import load_module

driver = load_module("roles/load/files/siege_driver.py")

PLAN = {"base_url": "http://10.203.0.2:8000", "rc_dir": "/etc/bench", "socket_timeout_s": 30}
SWEEP = {"name": "sweep-c4", "endpoint": "/ioTask?ms=100", "connection": "close", "concurrency": 4, "time_s": 3}


@pytest.mark.parametrize(("asked", "tool"), [(None, "siege"), ("siege", "siege"), ("wrk", "wrk")])
def test_the_tool_named_is_the_one_the_command_runs(asked, tool):
    run = {**SWEEP, "timeout_s": 30, **({"tool": asked} if asked else {})}
    cmd = driver.command(PLAN, run)
    assert driver.tool_of(run) == tool
    assert cmd[:4] == ["timeout", "--kill-after=5", "30", tool]
    assert cmd[-1] == PLAN["base_url"] + "/ioTask?ms=100"


def test_a_run_prints_and_records_its_tool_by_name(tmp_path, monkeypatch, capsys):
    """The command itself is replaced by `true`: no load generator, no app."""
    plan = {**PLAN, "out_dir": str(tmp_path / "out"), "archive": str(tmp_path / "raw.tar.gz")}
    plan["runs"] = [{**SWEEP, "reps": 1, "time_s": None, "timeout_s": 30, "tool": "wrk", "label": "[1/1] sync / c=4"}]
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    monkeypatch.setattr(driver, "command", lambda plan, run: ["true"])
    assert driver.main([str(plan_file), "run", "sweep-c4", "--base-url", "http://10.203.0.2:8000/"]) == 0
    assert capsys.readouterr().out.startswith("[1/1] sync / c=4: wrk exit 0 after ")
    meta = json.loads((tmp_path / "out/sweep-c4.meta.json").read_text())
    assert (meta["tool"], meta["cmd"], meta["rc"], meta["concurrency"]) == ("wrk", ["true"], 0, 4)


CREATE = {"name": "gthread-sweep-POST-notes-c4-r1", "endpoint": "POST /notes", "path": "/notes", "method": "POST",
          "body": '{"text":"a ]] note","tags":["bench"]}', "headers": {"Content-Type": "application/json",
          "X-Tenant": "bench"}, "connection": "close", "concurrency": 4, "time_s": 3, "timeout_s": 33}  # fmt: skip


def test_siege_sends_a_scenarios_method_body_and_headers_in_its_url_format():
    cmd = driver.command(PLAN, CREATE)
    assert cmd[-1] == 'http://10.203.0.2:8000/notes POST {"text":"a ]] note","tags":["bench"]}'
    assert cmd[cmd.index("-T") + 1] == "application/json" and cmd[cmd.index("-H") + 1] == "X-Tenant: bench"
    delete = driver.command(PLAN, {**CREATE, "method": "DELETE", "body": None, "headers": {}})
    assert delete[-1] == "http://10.203.0.2:8000/notes DELETE" and "-T" not in delete
    assert driver.command(PLAN, {**SWEEP, "timeout_s": 30})[-1] == "http://10.203.0.2:8000/ioTask?ms=100", "plain GET"


def test_wrk_gets_a_lua_script_that_sets_the_method_body_and_headers(tmp_path):
    cmd = driver.command({**PLAN, "out_dir": str(tmp_path)}, {**CREATE, "tool": "wrk"})
    script = cmd[cmd.index("-s") + 1]
    assert script == str(tmp_path / f"{CREATE['name']}.lua") and cmd[-1] == "http://10.203.0.2:8000/notes"
    lua = (tmp_path / f"{CREATE['name']}.lua").read_text()
    # the body holds "]]": the long string's level goes up until its closing bracket cannot appear inside
    assert 'wrk.body = [=[\n{"text":"a ]] note","tags":["bench"]}]=]' in lua
    assert "wrk.method = [[\nPOST]]" in lua and "wrk.headers[[[\nX-Tenant]]] = [[\nbench]]" in lua
    plain = driver.command({**PLAN, "out_dir": str(tmp_path)}, {**SWEEP, "tool": "wrk", "timeout_s": 30})
    assert "-s" not in plain, "a plain GET needs no script"
