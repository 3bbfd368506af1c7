"""Constants written twice, once in a file that runs alone on a host (roles/*/files: standard library only, no bench/)
and once on the controller (bench/) or in a template: each pair must agree, or the two sides stop understanding
each other without any error."""

from __future__ import annotations

import ast
import re

from support import ROOT, load_module

from bench.model import operations
from bench.parse import siege, timing, wrk

driver = load_module("roles/load/files/load_driver.py")
server_timing = load_module("roles/gunicorn/files/server_timing.py")
open_loop = load_module("roles/load/files/open_loop.py")


def constants(relpath: str) -> dict[str, object]:
    """The module-level constants of a host file, read without importing it (bench_entry.py imports its neighbours)."""
    tree = ast.parse((ROOT / relpath).read_text())
    return {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name) and t.id.isupper()}  # fmt: skip


entry = constants("roles/gunicorn/files/bench_entry.py")


def test_the_apps_timing_lines_are_the_ones_the_controller_reads():
    assert server_timing.LOG_PREFIX == timing.LOG_PREFIX == "bench-timing "


def test_the_driver_and_the_parsers_agree_on_what_a_timeout_exit_is():
    assert driver.TIMEOUT_EXIT == siege.TIMEOUT_EXIT == wrk.TIMEOUT_EXIT == (124, 137, -9)


def test_the_probe_marker_the_driver_sends_is_the_one_the_app_looks_for():
    assert driver.PROBE_HEADER == "X-Bench-Probe"
    assert "HTTP_" + driver.PROBE_HEADER.upper().replace("-", "_") == server_timing.MARKER_ENVIRON, "WSGI's name"
    assert driver.PROBE_HEADER.lower().encode() == server_timing.MARKER_HEADER, "ASGI's name"


def test_the_entry_variables_the_config_sets_are_the_ones_the_entry_reads():
    config = (ROOT / "roles/gunicorn/templates/etc/gunicorn/instance.conf.py.j2").read_text()
    assert entry == {"ENTRY_ENV": "BENCH_APP_ENTRY", "INTERFACE_ENV": "BENCH_APP_INTERFACE",
                     "RELEASE_ENV": "BENCH_RELEASE_FILE"}  # fmt: skip
    assert f"'{entry['ENTRY_ENV']}': item.entry" in config and f"'{entry['INTERFACE_ENV']}': item.interface" in config
    assert f"'{entry['RELEASE_ENV']}': '/etc/gunicorn/' ~ item.name ~ '.release'" in config


def test_the_worker_header_the_app_sends_is_the_one_the_load_generator_reads():
    head = f"HTTP/1.1 200 OK\r\n{server_timing.WORKER_HEADER}: 4242 7\r\n\r\n".encode()
    assert open_loop.worker_of(head) == (4242, "7")
    assert open_loop.worker_of(b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n") == (None, None)


def test_the_operations_the_app_host_does_are_the_ones_the_controller_plans():
    gunicorn_operation = load_module("roles/gunicorn/files/gunicorn_operation.py")
    assert tuple(operations.OPERATIONS) == gunicorn_operation.KINDS
    config = (ROOT / "roles/gunicorn/templates/etc/gunicorn/instance.conf.py.j2").read_text()
    assert gunicorn_operation.RELEASE_FILE.format(name="X") == "/etc/gunicorn/X.release"
    assert "'/etc/gunicorn/' ~ item.name ~ '.release'" in config
    record = re.search(r'path = f"(/run/gunicorn-\{\{ item.name \}\}/process-\{_os.getpid\(\)\}.json)"', config)
    assert record and gunicorn_operation.PROCESS_RECORD == "/run/gunicorn-{name}/process-{pid}.json"
