"""Helpers for tests that talk to the lab's hosts through Ansible."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path

from support import BIN, ROOT, run

from bench.model import fleet


def run_dir_of(output: str) -> Path:
    """The folder under reports/ of the run a bench.yml output names (its line "Run <id>: raw output, results.json and
    report.md go to <folder>/"; the last, when the output holds several runs)."""
    found = re.findall(r"Run \S+: raw output, results\.json and report\.md go to (\S+)/", output)
    assert found, output[-3000:]
    return ROOT / "reports" / Path(found[-1]).name


def one_host(run_dir: Path) -> dict:
    """results.json of a run (in run_dir) with one app host, as that host's view (bench/model/fleet.py): its versions,
    processes and verification where a run of one host had them before several were possible."""
    views = fleet.views(json.loads((run_dir / "results.json").read_text()))
    assert len(views) == 1, [v.get("app_host") for v in views]
    return views[0]


def ansible(pattern: str, *args: str, check: bool = True) -> dict[str, dict]:
    """Run an ad-hoc module over the lab inventory; each host's result as ansible's tree callback wrote it. With check
    (the default) Ansible must exit 0 having answered for at least one host: an empty or missing inventory, a pattern
    that matches nothing or a host that failed stops the test here (an all(...) over no result would pass). A caller
    that expects a command to fail (rc != 0 on the host) passes check=False and looks at the results itself."""
    with tempfile.TemporaryDirectory() as tree:
        proc = run([str(BIN / "ansible"), pattern, *args, "--tree", tree], timeout=120)
        results = {p.name: json.loads(p.read_text()) for p in Path(tree).iterdir()}
    if check:
        said = f"ansible {pattern} {' '.join(args)}: exit {proc.returncode}\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        assert proc.returncode == 0, said
        assert results, "no host answered: " + said
    return results


def recap(output: str, host: str) -> dict[str, int]:
    match = re.search(rf"^{host}\s+:\s+(.*)$", output, re.M)
    assert match, output[-2000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def app_address(host: str = "app1") -> str:
    inventory = (ROOT / "inventory/lab/hosts.yml").read_text()
    return re.search(rf"{host}:\s+ansible_host: (\S+)", inventory).group(1)


# --- fault injection: the lab's hosts are containers on this machine, so their processes are visible here ------------


def processes() -> list[tuple[int, int, str]]:
    """(pid, ppid, command line) of every process on this machine, the lab hosts' included."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            ppid = int(next(x for x in (proc / "status").read_text().splitlines() if x.startswith("PPid:")).split()[1])
        except (OSError, StopIteration):
            continue
        out.append((int(proc.name), ppid, cmdline))
    return out


def in_a_lab_host(pid: int) -> bool:
    """Whether a process runs inside a lab host (each has its own network namespace), not on this machine itself: a
    siege or wrk of a unit test beside the lab's tests is this machine's."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
    except OSError:
        return False


def siege_running(*needles: str) -> bool:
    """Is a siege whose command line holds every needle running (on a lab load host)?"""
    return any(c.startswith("siege ") and all(n in c for n in needles) for _, _, c in processes())


def gunicorn_pids(worker: str) -> tuple[int | None, list[int]]:
    """The master and the workers of gunicorn@WORKER on the lab's app host, as pids seen from this machine."""
    mine = {pid: ppid for pid, ppid, c in processes() if f"/opt/bench/venvs/demo-{worker}/bin/gunicorn" in c}
    masters = [pid for pid, ppid in mine.items() if ppid not in mine]
    master = masters[0] if len(masters) == 1 else None
    return master, [pid for pid, ppid in mine.items() if ppid == master]


def wait_for(condition, timeout: float, what: str, every: float = 0.1):
    """Poll until condition() is truthy; its value, or AssertionError naming what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not seen within {timeout:.0f} s")


def lab_host_init(host: str) -> int:
    """The pid (seen from here) of a lab host's own systemd: the child of its systemd-nspawn."""
    procs = processes()
    nspawn = next(
        pid for pid, _, c in procs if c.startswith("/usr/bin/systemd-nspawn") and f"--machine=bl-{host} " in c
    )
    return next(pid for pid, ppid, _ in procs if ppid == nspawn)
