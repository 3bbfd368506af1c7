"""One benchmark at a time: a lock file holding the pid of the ansible-playbook that owns the run.

The playbook takes it right after validation and gives it back after the report; a lock whose owner is gone (a
crash, Ctrl-C) is stale and taken over. A second run refuses, or waits up to --wait seconds.
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


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def acquire(path: Path, pid: int, wait_s: float = 0, poll_s: float = 1.0) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            current = holder(path)
            if current is not None and current != pid and not alive(current):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # stale: its run is gone
                continue
            if current == pid:
                return
            if time.monotonic() >= deadline:
                raise Busy(
                    f"another benchmark run (pid {current}) holds {path}; wait for it, or pass "
                    f"-e bench_lock_wait=SECONDS to wait for it"
                ) from None
            time.sleep(poll_s)
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{pid}\n")
        return


def release(path: Path, pid: int) -> bool:
    if holder(path) == pid:
        path.unlink()
        return True
    return False
