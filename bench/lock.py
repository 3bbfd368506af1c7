"""One benchmark at a time: a lock file holding the pid of the ansible-playbook that owns the run.

The playbook takes it right after validation and gives it back after the report; a lock whose owner is gone (a
crash, Ctrl-C, a reboot; a reused pid does not count as the owner) is stale and taken over. A second run refuses,
or waits up to --wait seconds.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path


class Busy(RuntimeError):
    """Another run holds the lock."""


def _process(pid: int) -> tuple[list[bytes], int] | None:
    """A process's command line and parent pid, or None when it is gone."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return cmdline, int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


def _is_playbook(cmdline: list[bytes]) -> bool:
    return any(part.endswith(b"ansible-playbook") for part in cmdline[:2])


def owner_pid() -> int:
    """The ansible-playbook that runs us: the outermost of the ansible-playbook processes above us (its task
    workers are forks of it, with the same command line, and come and go with every task). Else our parent."""
    pid, found = os.getppid(), None
    while pid > 1:
        proc = _process(pid)
        if proc is None:
            break
        cmdline, parent = proc
        if _is_playbook(cmdline):
            found = pid
        elif found is not None:
            break
        pid = parent
    return found or os.getppid()


def identity(pid: int) -> str | None:
    """Who a pid is: the boot and the process's start time, so that a pid reused later (after a reboot, say) is not
    mistaken for the run that took the lock. None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    start = stat.rsplit(")", 1)[1].split()[19]  # field 22 of proc(5), counted after the command name
    return f"{boot}:{start}"


def holder(path: Path) -> tuple[int, str] | None:
    try:
        pid, ident = path.read_text().split()[:2]
        return int(pid), ident
    except (FileNotFoundError, ValueError):
        return None


def acquire(path: Path, pid: int, wait_s: float = 0, poll_s: float = 1.0) -> None:
    me = identity(pid) or "unknown"
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            current = holder(path)
            if current == (pid, me):
                return
            if current is None or identity(current[0]) != current[1]:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # stale: its run is gone (or the file is not ours to read)
                continue
            if time.monotonic() >= deadline:
                raise Busy(
                    f"another benchmark run (pid {current[0]}) holds {path}; wait for it, or pass "
                    f"-e bench_lock_wait=SECONDS to wait for it"
                ) from None
            time.sleep(poll_s)
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{pid} {me}\n")
        return


def release(path: Path, pid: int) -> bool:
    current = holder(path)
    if current is not None and current[0] == pid:
        path.unlink()
        return True
    return False
