"""The benchmark lock under contention: two real processes finding one stale lock, exactly one of them takes it over."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from bench.control import lock

ROUNDS = 10


def gone_pid() -> int:
    """The pid of a process that has ended: the owner of a stale lock."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def contend(path: str, start, finish, slow_read_s: float, results) -> None:
    """One run trying to take the lock (in a process of its own, holding it as itself) once `start` is set, and staying
    alive, a live owner, until `finish` is.
    slow_read_s widens the window between reading the stale lock and acting on it, as a busy machine does."""
    if slow_read_s:
        read = lock.holder

        def slow_holder(p):
            found = read(p)
            time.sleep(slow_read_s)
            return found

        lock.holder = slow_holder
    start.wait()
    try:
        lock.acquire(lock.Path(path), os.getpid())
    except lock.Busy:
        results.put((os.getpid(), "busy"))
    else:
        results.put((os.getpid(), "won"))
    finish.wait(timeout=30)


@pytest.mark.parametrize("slow_read_s", [0.0, 0.05])
def test_two_runs_finding_one_stale_lock_exactly_one_takes_it_over(tmp_path, slow_read_s):
    ctx = multiprocessing.get_context("fork")
    for n in range(ROUNDS):
        path = tmp_path / f"bench{n}.lock"
        path.write_text(f"{gone_pid()} gone-boot:1\n")  # stale: its owner has ended
        start, finish, results = ctx.Event(), ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=contend, args=(str(path), start, finish, slow_read_s, results)) for _ in range(2)]
        for p in procs:
            p.start()
        start.set()
        outcomes = dict(results.get(timeout=30) for _ in procs)
        holder = lock.holder(path)
        finish.set()
        for p in procs:
            p.join(timeout=30)
        winners = [pid for pid, outcome in outcomes.items() if outcome == "won"]
        assert len(winners) == 1, f"round {n}: {outcomes}, the lock names {holder}"
        assert holder is not None and holder[0] == winners[0], f"round {n}: the lock names {holder}, not the winner"


def test_taking_and_giving_back_leaves_no_file_beside_the_lock(tmp_path):
    """The lock is written whole through a file of its own, which goes."""
    path = tmp_path / "bench.lock"
    lock.acquire(path, os.getpid())
    assert lock.holder(path) == (os.getpid(), lock.identity(os.getpid()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.lock"], "no temporary file left beside it"
    lock.acquire(path, os.getpid())  # taking it again as its holder is a no-op
    assert lock.release(path, os.getpid()) and not path.exists()


def test_lock_refuses_a_second_run_and_takes_over_a_stale_one(tmp_path):
    path = tmp_path / "bench.lock"
    lock.acquire(path, os.getpid())
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(lock.Busy, match=f"pid {os.getpid()}.*bench_lock_wait"):
            lock.acquire(path, other.pid, wait_s=0.3, poll_s=0.1)
    finally:
        other.kill()
        other.wait()
    path.write_text(f"{other.pid} {lock.identity(os.getpid())}\n")  # its owner is gone now: stale
    lock.acquire(path, os.getpid())
    assert lock.holder(path)[0] == os.getpid()
    assert lock.release(path, os.getpid()) and not path.exists()


def test_a_reused_pid_does_not_keep_a_stale_lock(tmp_path):
    path = tmp_path / "bench.lock"
    path.write_text(f"{os.getpid()} another-boot:12345\n")  # our pid, but written by a process of an earlier boot
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock.acquire(path, helper.pid)
        assert lock.holder(path) == (helper.pid, lock.identity(helper.pid))
    finally:
        helper.kill()
        helper.wait()
