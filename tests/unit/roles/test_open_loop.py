"""The open-loop load generator (roles/load/files/open_loop.py): its schedule, and real requests to a server on
loopback whose delays are known, down to a stall of the whole server, which every request due during it must carry."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import statistics
import threading
import time

import pytest
from support import load_module

open_loop = load_module("roles/load/files/open_loop.py")


def test_even_arrivals_are_evenly_spaced_and_stop_before_the_end():
    dues = open_loop.schedule(4, 2.0)
    assert dues == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    assert len(open_loop.schedule(1000, 3.0)) == 3000


def test_poisson_arrivals_have_the_rate_and_the_spread_of_a_poisson_process():
    """Exponential gaps: mean 1/rate and a coefficient of variation of 1 (even gaps have 0), the count within four
    standard deviations (sqrt of the mean) of rate x duration; the seed fixes the schedule."""
    rate, duration = 500.0, 20.0
    dues = open_loop.schedule(rate, duration, "poisson", seed=7)
    expected = rate * duration
    assert abs(len(dues) - expected) < 4 * expected**0.5, len(dues)
    gaps = [b - a for a, b in zip([0.0, *dues], dues, strict=False)]
    mean = statistics.fmean(gaps)
    assert mean == pytest.approx(1 / rate, rel=0.05)
    assert statistics.pstdev(gaps) / mean == pytest.approx(1.0, abs=0.05)
    assert all(0 < d < duration for d in dues) and dues == sorted(dues)
    assert open_loop.schedule(rate, duration, "poisson", seed=7) == dues
    assert open_loop.schedule(rate, duration, "poisson", seed=8) != dues


def test_a_phase_delays_every_request_so_that_hosts_sharing_an_even_rate_interleave():
    shared = sorted(open_loop.schedule(2, 2.0, phase_s=i / 4) for i in range(2))  # two hosts sharing 4 a second
    assert sorted(shared[0] + shared[1]) == pytest.approx(open_loop.schedule(4, 2.0))


@pytest.mark.parametrize(
    ("head", "app_s"),
    [
        (b"HTTP/1.1 200 OK\r\nServer-Timing: app;dur=301.2, cpu;dur=298.7\r\n\r\n", 0.3012),
        (b"HTTP/1.1 200 OK\r\nserver-timing: db;dur=3, app;desc=x;dur=12.5\r\n\r\n", 0.0125),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", None),
        (b"HTTP/1.1 200 OK\r\nServer-Timing: app;dur=soon\r\n\r\n", None),
    ],
)
def test_the_apps_own_time_is_read_from_its_server_timing_header(head, app_s):
    assert open_loop.app_seconds(head) == app_s


@pytest.mark.parametrize(("args", "word"), [((0, 1.0), "positive"), ((10, -1.0), "positive")])
def test_a_schedule_needs_a_positive_rate_and_duration(args, word):
    with pytest.raises(ValueError, match=word):
        open_loop.schedule(*args)
    with pytest.raises(ValueError, match="even or poisson"):
        open_loop.schedule(10, 1.0, "bursty")


class Server:
    """An HTTP server on loopback, on its own event loop in a thread: each answer takes delay_s (asyncio.sleep: many
    at once), and the stall_at-th request stops the whole server for stall_s (time.sleep blocks its loop), as a
    server paused by the kernel or a stop-the-world collection would."""

    def __init__(self, delay_s: float = 0.0, stall_at: int | None = None, stall_s: float = 1.0, answer: bool = True):
        self.delay_s, self.stall_at, self.stall_s, self.answer = delay_s, stall_at, stall_s, answer
        self.seen = 0
        self.heads: list[bytes] = []  # every request's head, as it came
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(5)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        self.heads.append(await reader.readuntil(b"\r\n\r\n"))
        self.seen += 1
        if self.seen == self.stall_at:
            time.sleep(self.stall_s)  # the whole server stops: nothing is accepted, read or answered
        if not self.answer:
            await asyncio.sleep(3600)
        await asyncio.sleep(self.delay_s)
        # the app's time as the harness's server_timing.py says it (roles/gunicorn/files/server_timing.py)
        timing = f"Server-Timing: app;dur={self.delay_s * 1000:.1f}, cpu;dur=0.1\r\n".encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + timing + b"Connection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()  # the answers still pending (answer=False): ended before the loop stops

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)


def load(url: str, rate: float, duration: float, tmp_path, *more: str) -> tuple[dict, list[list], dict]:
    """Run the generator as the load host does (its command line); its header, rows and summary (rate 0: none, a
    closed loop's --clients in `more`)."""
    out = tmp_path / "records.jsonl"
    paced = ["--rate", str(rate)] if rate else []
    assert open_loop.main([url, *paced, "--duration", str(duration), "--out", str(out), *more]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    return lines[0], lines[1:-1], lines[-1]["summary"]


def test_every_request_is_sent_on_time_and_timed_from_then(tmp_path):
    server = Server(delay_s=0.05)
    try:
        header, rows, summary = load(server.url("/x"), 100, 1.0, tmp_path, "--arrivals", "poisson", "--seed", "3")
    finally:
        server.close()
    assert header["open_loop"] == 1 and header["arrivals"] == "poisson" and header["epoch"] > 0
    dues = open_loop.schedule(100, 1.0, "poisson", seed=3)
    assert sorted(r[1] for r in rows) == pytest.approx(dues, abs=1e-6), "the schedule fixed before the run"
    assert summary["requests"] == len(dues) == summary["answered"] == len(rows) and summary["errors"] == 0
    assert all(r[4] == 200 and r[5] > 0 and r[6] is None and r[7] == 0.05 for r in rows), "app_s: the app's own 50 ms"
    assert all(r[3] - r[1] >= 0.05 for r in rows), "each waited the server's 50 ms at least"
    print(f"\nlag p50 {summary['lag_p50_s'] * 1e3:.2f} ms, p99 {summary['lag_p99_s'] * 1e3:.2f} ms")
    # never held back by the answers: one connection at a time, 50 ms each, would send 20 of them in this second; the
    # lag itself is this machine's (0.07 ms p50 alone, p99 145 ms once with the lab's benchmarks beside it): its
    # ceiling is measured on the lab (docs/measurement.md#load-at-a-rate), not here
    assert max(r[2] for r in rows) < 1.0 + 0.5 and summary["lag_p50_s"] < 0.05, summary


def test_requests_due_during_a_stall_are_sent_anyway_and_carry_it(tmp_path):
    """The server stops for 1 s at its 40th request (about 0.4 s in): a closed-loop client would stop sending and
    never time the requests that fell due meanwhile. Here each is sent when due and its latency, from that moment,
    holds what was left of the stall when it fell due."""
    server = Server(stall_at=40, stall_s=1.0)
    try:
        _, rows, summary = load(server.url(), 100, 3.0, tmp_path)
    finally:
        server.close()
    assert summary["answered"] == 300 and summary["errors"] == 0
    stalled_at = next(r for r in rows if r[0] == 39)[2]  # the 40th, sent when it was due
    during = [r for r in rows if stalled_at + 0.1 < r[1] < stalled_at + 0.7]
    assert len(during) >= 55, "the requests due during the stall were sent"
    # sent while the server stood still (a closed-loop client sends none of them before it answers again); the bound
    # leaves this machine's noise 0.3 s at least (0.17 s seen with other tests beside it), the median is on time
    lags = sorted(sent - due for _, due, sent, *_ in during)
    assert lags[len(lags) // 2] < 0.02, lags
    for i, due, sent, done, status, *_ in during:
        assert sent < stalled_at + 1.0, f"request {i} was held back {sent - due:.3f} s, until the stall ended"
        assert done - due >= stalled_at + 1.0 - due - 0.05, f"request {i}: {done - due:.3f} s, the stall not in it"
        assert status == 200
    # once the server has worked off the second's backlog (0.025 s after the stall ended, run alone; 0.64 s once in
    # make test, its lab tests beside it: the server shares this process), each is served at once again: those of
    # the run's last 0.5 s
    after = [r[3] - r[1] for r in rows if r[1] > 2.5]
    assert after and max(after) < 0.2, "served at once again after the stall"


def test_the_open_connection_bound_holds_and_is_counted(tmp_path):
    server = Server(delay_s=0.2)
    try:
        _, rows, summary = load(server.url(), 50, 1.0, tmp_path, "--max-open", "2")
    finally:
        server.close()
    assert summary["answered"] == 50 and summary["waited_for_open"] > 30, summary
    assert summary["lag_max_s"] > 0.5, "requests that waited for a connection show it as the generator's lag"
    spans = sorted([(r[2], r[3]) for r in rows])
    for k, (sent, _) in enumerate(spans):
        assert sum(1 for s, d in spans[:k] if d > sent + 1e-3) < 2, "never more than two open at once"


def test_no_answer_is_an_error_word_not_a_hang(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # bound, not listening: connections are refused
        _, rows, summary = load(f"http://127.0.0.1:{closed}/", 20, 0.5, tmp_path)
    assert summary == {**summary, "requests": 10, "answered": 0, "errors": 10}
    assert {r[6] for r in rows} == {"refused"} and all(r[4] is None for r in rows)
    server = Server(answer=False)
    try:
        started = time.monotonic()
        _, rows, summary = load(server.url(), 20, 0.5, tmp_path, "--timeout", "0.3")
        assert time.monotonic() - started < 3
    finally:
        server.close()
    assert {r[6] for r in rows} == {"timeout"} and summary["errors"] == 10
    assert all(0.29 <= r[3] - r[2] < 0.5 for r in rows)


MIX = {"classes": [{"name": "io", "weight": 3, "path": "/io?ms=1"},
                   {"name": "cpu", "weight": 1, "path": "/cpu", "method": "POST", "body": "n=5",
                    "headers": {"X-Class": "cpu"}}]}  # fmt: skip


def test_a_mix_sends_each_class_by_its_weight_and_says_which_each_request_was(tmp_path):
    """Three to one: the classes drawn by weight from the seed (the same seed, the same classes), each request the
    class's own (path, method, body, headers) with the command line's headers too, and its row ends with its class."""
    mix = tmp_path / "mix.json"
    mix.write_text(json.dumps({**MIX, "only": None}))
    server = Server()
    try:
        header, rows, summary = load(server.url("/io?ms=1"), 400, 1.0, tmp_path, "--arrivals", "poisson", "--seed",
                                     "5", "--mix", str(mix), "--header", "X-Bench-Probe: m")  # fmt: skip
    finally:
        server.close()
    assert header["classes"] == ["io", "cpu"] and header["only"] is None
    assert summary["answered"] == len(rows) == len(open_loop.schedule(400, 1.0, "poisson", seed=5))
    counts = [sum(1 for r in rows if r[8] == c) for c in (0, 1)]
    assert counts[0] / len(rows) == pytest.approx(0.75, abs=4 * (0.75 * 0.25 / len(rows)) ** 0.5), counts
    by_order = [r[8] for r in sorted(rows)]
    assert by_order == open_loop.classes_of(len(rows), [3, 1], 5), "the classes are the seed's"
    firsts = sorted(h.split(b"\r\n", 1)[0] for h in server.heads)
    assert firsts.count(b"GET /io?ms=1 HTTP/1.1") == counts[0] and firsts.count(b"POST /cpu HTTP/1.1") == counts[1]
    cpu_heads = [h for h in server.heads if h.startswith(b"POST")]
    assert all(b"X-Class: cpu" in h and b"Content-Length: 3" in h and b"X-Bench-Probe: m" in h for h in cpu_heads)
    assert all(b"X-Class" not in h for h in server.heads if h.startswith(b"GET"))


def test_a_class_alone_gets_the_very_arrivals_it_had_in_the_mix(tmp_path):
    mix, alone = tmp_path / "mix.json", tmp_path / "alone.json"
    mix.write_text(json.dumps({**MIX, "only": None}))
    alone.write_text(json.dumps({**MIX, "only": "cpu"}))
    server = Server()
    try:
        _, together, _ = load(server.url("/io"), 300, 1.0, tmp_path, "--arrivals", "poisson", "--seed", "9",
                              "--mix", str(mix))  # fmt: skip
        header, rows, summary = load(server.url("/io"), 300, 1.0, tmp_path, "--arrivals", "poisson", "--seed", "9",
                                     "--mix", str(alone))  # fmt: skip
    finally:
        server.close()
    assert header["only"] == "cpu" and summary["requests"] == len(rows) > 0
    assert sorted(r[1] for r in rows) == pytest.approx(sorted(r[1] for r in together if r[8] == 1), abs=1e-6)
    assert {r[8] for r in rows} == {1}


def test_a_mix_without_positive_weights_or_with_an_unknown_class_alone_is_refused(tmp_path, capsys):
    for bad in ({**MIX, "classes": [{**MIX["classes"][0], "weight": 0}, MIX["classes"][1]]}, {**MIX, "only": "db"}):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(SystemExit):
            open_loop.main(["http://127.0.0.1:9/", "--rate", "1", "--duration", "1", "--mix", str(path)])
        assert "--mix" in capsys.readouterr().err


def test_a_closed_loop_keeps_its_clients_busy_and_no_more(tmp_path):
    """Two clients for a second on a server of 50 ms: each sends its next request when its last was answered, so two
    are in flight at any moment and about forty are sent; a mix's classes are drawn by weight as they start."""
    mix = tmp_path / "mix.json"
    mix.write_text(json.dumps({**MIX, "only": None}))
    server = Server(delay_s=0.05)
    try:
        header, rows, summary = load(server.url("/io"), 0, 1.0, tmp_path, "--clients", "2", "--mix", str(mix))
    finally:
        server.close()
    assert header["arrivals"] == "closed" and header["clients"] == 2 and header["rate"] is None
    assert summary["requests"] == summary["answered"] == len(rows) and 30 <= len(rows) <= 42, len(rows)
    assert all(r[1] == r[2] and r[3] - r[2] >= 0.05 for r in rows), "due when sent, answered after the server's 50 ms"
    for _, _, sent, *_ in rows:
        assert sum(1 for r in rows if r[2] <= sent + 1e-4 < r[3]) <= 2, "never more than the two clients' requests"
    assert max(r[2] for r in rows) < 1.0 and {r[8] for r in rows} == {0, 1} and {r[9] for r in rows} == {0, 1}
    for client in (0, 1):  # each client's next request sent once its last was answered
        mine = sorted(r for r in rows if r[9] == client)
        assert all(b[2] >= a[3] for a, b in itertools.pairwise(mine)), mine
    alone = tmp_path / "alone.json"
    alone.write_text(json.dumps({**MIX, "only": "cpu"}))
    server = Server(delay_s=0.02)
    try:
        _, rows, _ = load(server.url("/io"), 0, 0.3, tmp_path, "--clients", "1", "--mix", str(alone))
    finally:
        server.close()
    assert rows and {r[8] for r in rows} == {1}, "a class alone: the others never drawn"


def test_bad_arguments_are_refused_with_the_option_named(capsys):
    with pytest.raises(SystemExit):
        open_loop.main(["http://127.0.0.1:9/", "--rate", "0", "--duration", "1"])
    assert "--rate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        open_loop.main(["ftp://127.0.0.1/", "--rate", "1", "--duration", "1"])
    assert "http://" in capsys.readouterr().err
    for both in (["--rate", "1", "--clients", "2"], []):
        with pytest.raises(SystemExit):
            open_loop.main(["http://127.0.0.1:9/", *both, "--duration", "1"])
        assert "one of --rate (open loop) and --clients (closed loop)" in capsys.readouterr().err


class KeptServer(Server):
    """An HTTP/1.1 server on loopback that keeps connections open: each answer after delay_s, with a Content-Length,
    or chunked (every other one); the drop_at-th request read on a connection that had answered before is dropped
    with its connection, unanswered, as a worker on its way out closes what it kept alive."""

    def __init__(self, delay_s: float = 0.005, drop_at: int | None = None):
        self.drop_at, self.connections = drop_at, 0
        super().__init__(delay_s=delay_s)

    async def _handle(self, reader, writer) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                self.seen += 1
                if self.seen == self.drop_at and answered:
                    writer.close()
                    return
                await asyncio.sleep(self.delay_s)
                head = b"HTTP/1.1 200 OK\r\nX-Bench-Worker: 77 3\r\n"
                if self.seen % 2:
                    writer.write(head + b"Content-Length: 2\r\n\r\nok")
                else:
                    writer.write(head + b"Transfer-Encoding: chunked\r\n\r\n1\r\no\r\n1;x=y\r\nk\r\n0\r\n\r\n")
                await writer.drain()
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def test_keep_alive_reuses_idle_connections_and_a_dropped_one_is_a_loss_on_a_reused_connection(tmp_path):
    server = KeptServer(drop_at=12)
    try:
        header, rows, summary = load(f"http://127.0.0.1:{server.port}/", 40, 1.0, tmp_path, "--keep-alive")
    finally:
        server.close()
    assert header["keep_alive"] is True and len(rows) == summary["requests"] == 40
    fields = [dict(zip(("i", "due", "sent", "done", "status", "bytes", "error", "app_s", "cls", "client", "pid",
                        "release", "reused"), r, strict=True)) for r in rows]  # fmt: skip
    lost = [f for f in fields if f["error"]]
    assert len(lost) == 1 and lost[0]["reused"] == 1 and lost[0]["error"] in ("closed", "reset"), lost
    answered = [f for f in fields if f["status"] == 200]
    assert all(f["bytes"] > 0 and (f["pid"], f["release"]) == (77, "3") for f in answered), "chunked and sized alike"
    assert sum(f["reused"] for f in answered) >= 30 and server.connections <= 5, "one or two connections, reused"


def test_keep_alive_is_refused_for_a_closed_loop(capsys):
    with pytest.raises(SystemExit):
        open_loop.main(["http://127.0.0.1:1/", "--clients", "2", "--duration", "1", "--keep-alive"])
    assert "--keep-alive is for an open loop (--rate)" in capsys.readouterr().err
