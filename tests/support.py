"""What tests share (tests/support.py; `from support import ...`): the repository root, its virtualenv's tools, loading
Python files of roles and plugins, the JSON fixtures, the demo app with other scenarios, running commands and
playbooks, and the lab's state on this machine. Fixtures and pytest's hooks are conftest.py's."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
LAB_TESTS = TESTS / "lab"  # every test of the lab, and only those: they carry the `lab` marker (conftest checks it)
BIN = Path(sys.executable).parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
QUICK_ALL = FIXTURES / "results/quick-all.json"  # a real results.json: make bench, quick profile, all five types


def demo_app(*scenarios: dict, mixes: list | None = None) -> str:
    """`-e` for the demo app (app/demo.bench.yml) with other scenarios (and none of its mixes): what the lab tests
    load, in less time."""
    import yaml  # noqa: PLC0415 -- only the tests that run bench.yml need it

    app = yaml.safe_load((ROOT / "app" / "demo.bench.yml").read_text())["bench_app"]
    return json.dumps({"bench_app": {**app, "scenarios": list(scenarios), "mixes": mixes or []}})


# The demo app with the scenarios of the short profiles of tests/fixtures/profiles: faults.yml (an IO burst, an IO
# sweep) and probes.yml (the IO burst of the original experiment, a sweep of `/`).
IO_PROBE = {"name": "io", "path": "/ioTask", "task": "io", "unit_s": 1.0, "load": ["probe"]}
FAULTS_APP = demo_app(IO_PROBE, {"name": "io_100ms", "path": "/ioTask?ms=100", "task": "io", "unit_s": 0.1,
                                 "load": ["sweep"]})  # fmt: skip
PROBES_APP = demo_app(IO_PROBE, {"name": "hello", "path": "/"})
# ... and rate.yml's: 100 ms of IO loaded at a rate and searched for its capacity within p75 <= 250 ms (13 requests
# bound a p75: short steps), and the sweep of `/` every profile needs; and a mix of four of those waits to one
# computation of about 80 ms (sent only in the mix) at 8 a second, then the waits alone, and by three clients in a
# closed loop; each scenario of the mix judged against p75 within 500 ms.
RATE_APP = demo_app({"name": "io_100ms", "path": "/ioTask?ms=100", "task": "io", "unit_s": 0.1,
                     "load": ["rate", "capacity"], "target": {"percentile": 75, "latency_s": 0.25}},
                    {"name": "cpu_80ms", "path": "/cpuTask?n=1300000", "task": "cpu", "load": []},
                    {"name": "hello", "path": "/"},
                    mixes=[{"name": "io_with_cpu", "of": {"io_100ms": 4, "cpu_80ms": 1}, "rate_per_s": [8],
                            "clients": [3], "alone": ["io_100ms"],
                            "target": {"percentile": 75, "latency_s": 0.5}}])  # fmt: skip


def fixture_json(relpath: str):
    """A JSON file of tests/fixtures, parsed (a fresh copy at every call: tests may change it)."""
    return json.loads((FIXTURES / relpath).read_text())


def load_module(relpath: str) -> ModuleType:
    """Import a Python file of the repo (an Ansible module in a role's library/, say) by path."""
    path = ROOT / relpath
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(cmd: list[str], timeout: float = 600, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """Run a command from the repo root with the venv first on PATH; never raises on a non-zero exit."""
    full_env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "ANSIBLE_FORCE_COLOR": "0", **(env or {})}
    return subprocess.run(
        cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, check=False, **kw
    )


def playbook(*args: str, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    return run([str(BIN / "ansible-playbook"), *args], timeout=timeout, env=env)


def lab_is_possible() -> bool:
    return sys.platform == "linux" and os.geteuid() == 0


def snapshot() -> dict:
    """What the lab can change on this machine: interfaces, namespaces, nspawn processes, mounts, inventory."""
    links = run(["ip", "-o", "link", "show"]).stdout
    return {
        "links": sorted(line.split(":")[1].strip() for line in links.splitlines()),
        "netns": sorted(run(["ip", "netns", "list"]).stdout.split()),
        "nspawn": sorted(run(["pgrep", "-x", "systemd-nspawn"]).stdout.split()),
        "mounts": sorted(line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()),
        "inventory": (ROOT / "inventory/lab/hosts.yml").exists(),
    }


def lab_leftovers(prefix: str = "bl", bridge: str = "blbr0") -> list[str]:
    """Anything of the lab still on this machine: namespaces, interfaces, nspawn processes, mounts."""
    snap = snapshot()
    left = [f"netns {n}" for n in snap["netns"] if n.startswith(f"{prefix}-")]
    left += [f"link {n}" for n in snap["links"] if n.startswith(f"{prefix}-") or n.split("@")[0] == bridge]
    left += [f"nspawn pid {p}" for p in snap["nspawn"]]
    left += [f"mount {m}" for m in snap["mounts"] if m.startswith(str(ROOT / ".lab")) or m.startswith("/run/netns/bl-")]
    return left


def lab_up(*extra: str) -> subprocess.CompletedProcess:
    """playbooks/lab.yml (a no-op when the lab is up), which must succeed."""
    proc = playbook("playbooks/lab.yml", *extra)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc
