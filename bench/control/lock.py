"""One benchmark at a time: a lock file holding the pid of the ansible-playbook that owns the run.

The playbook takes it right after validation and gives it back after the report; a lock whose owner is gone (a
crash, Ctrl-C, a reboot; a reused pid does not count as the owner) is stale and taken over. A second run refuses,
or waits up to --wait seconds.

Two runs may find the same stale lock at once. The lock file is therefore only ever created whole (written to a
file of its own, then hard-linked to the lock's name, which fails when the name exists: no one reads it half
written), and a stale one is replaced only under an exclusive flock of the folder, after reading it again: the
first run takes it over, the second then finds a live owner.
"""

from __future__ import annotations

import contextlib
import fcntl
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


def _create(path: Path, content: str) -> bool:
    """Make the lock file with its content in one step; False when it exists."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(content)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True


def _is_stale(current: tuple[int, str] | None) -> bool:
    return current is None or identity(current[0]) != current[1]


def _take_over(path: Path, stale: tuple[int, str] | None) -> None:
    """Remove the stale lock that was read, if it is still that one: under an exclusive flock of its folder, so
    that of two runs that read it, the second finds the first one's lock and leaves it."""
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if holder(path) == stale:
            with contextlib.suppress(FileNotFoundError):  # gone meanwhile, when it could not be read
                path.unlink()  # stale: its run is gone (or the file is not ours to read)
    finally:
        os.close(fd)  # and the flock with it


def acquire(path: Path, pid: int, wait_s: float = 0, poll_s: float = 1.0) -> None:
    me = identity(pid) or "unknown"
    deadline = time.monotonic() + wait_s
    while not _create(path, f"{pid} {me}\n"):
        current = holder(path)
        if current == (pid, me):
            return
        if not path.exists():
            continue  # given back meanwhile
        if _is_stale(current):
            _take_over(path, current)
            continue
        if time.monotonic() >= deadline:
            raise Busy(
                f"another benchmark run (pid {current[0]}) holds {path}; wait for it, or pass "
                f"-e bench_lock_wait=SECONDS to wait for it"
            ) from None
        time.sleep(poll_s)


def release(path: Path, pid: int) -> bool:
    current = holder(path)
    if current is not None and current[0] == pid:
        path.unlink()
        return True
    return False
