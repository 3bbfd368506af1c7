#!/usr/bin/env python3
"""Open-loop HTTP load at a given rate: requests sent on a schedule fixed before the run, never held back by slow
answers, each timed from the moment it was due (its intended send time), so that a server's stall shows in every
request that fell due during it (no coordinated omission).

Usage:
  open_loop.py URL (--rate R | --clients N) --duration S [--arrivals even|poisson] [--seed N] [--phase S] [--timeout S]
               [--max-open N] [--method M] [--body TEXT] [--header 'Name: value' ...] [--mix FILE] [--keep-alive]
               [--out FILE]
The schedule: R requests a second for S seconds, evenly spaced (i / R) or Poisson arrivals (exponential gaps of mean
1 / R, from --seed: the same seed gives the same schedule), each --phase seconds later (several load hosts sharing an
evenly spaced rate: host i of n sends R / n a second, i / R later than the first). Each request opens its own
connection (HTTP/1.1, Connection: close), so that a slow answer never delays the next request; at most --max-open
are open at once, and a request due while that many are open waits for one to close (its lag shows it, and the
summary counts it). With --keep-alive (open loop only) a request goes on a connection an earlier one left open and
idle (HTTP/1.1 keep-alive, its answer read to its Content-Length or its last chunk), else on a new one; a connection
the server says it closes is not used again. Each row then ends with whether its connection was reused (1) or new
(0): a reused one the server closed meanwhile is the keep-alive race a proxy in front of gunicorn meets.
With --clients N instead of --rate, the load is a closed loop: N clients, each sending its next request as soon as its
last was answered, for --duration seconds (a request's due time is then when it was sent; the header's rate is null and
its arrivals "closed"; each row ends with its class, or null without a mix, and the client that sent it).
A mix (--mix FILE: {"classes": [{"name", "weight", "path", "method", "body", "headers"}, ...], "only": NAME or null})
sends several requests on the one schedule: each due request is of a class drawn by weight (from --seed too: the same
seed gives the same classes), and with "only" the requests of the other classes are left out (that class alone, on the
very arrivals it had in the mix); each row then ends with its class's place in the list, and the header names them.
Writes to --out (stdout by default) one JSON line first, {"open_loop": 1, "url", "rate", "duration_s", "arrivals",
"seed", "timeout_s", "max_open", "keep_alive", "epoch"} (epoch: the wall-clock time of the schedule's zero), then one
line per request, [i, due, sent, done, status, bytes, error, app_s, cls, client, pid, release, reused] (seconds from
the schedule's zero, on one monotonic clock; status null and error a word when no answer came: timeout, refused,
reset, closed, or the exception's name; app_s the time the app spent on it by its own clock, from the answer's
Server-Timing header `app;dur=` in ms, or null; cls and client a mix's class and a closed loop's client, else null;
pid and release the worker that answered and the app's release it had loaded, from the harness's X-Bench-Worker
header, else null; reused with --keep-alive, else null), then a summary {"summary": {"requests", "answered", "errors",
"waited_for_open", "lag_p50_s", "lag_p99_s", "lag_max_s"}} where lag is sent - due: the generator's own delay, never
the server's. Standard library only: load hosts have python3 and nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import urllib.parse

SPIN_S = 0.002  # the last stretch before a request is due is waited by yielding, not sleeping (epoll's ms granularity)


def schedule(
    rate: float, duration_s: float, arrivals: str = "even", seed: int = 0, phase_s: float = 0.0
) -> list[float]:
    """When each request is due, in seconds from zero, all before duration_s (then phase_s later)."""
    if rate <= 0 or duration_s <= 0:
        raise ValueError(f"rate and duration must be positive, not {rate} and {duration_s}")
    if phase_s:
        return [due + phase_s for due in schedule(rate, duration_s, arrivals, seed)]
    if arrivals == "even":
        return [i / rate for i in range(int(rate * duration_s + 1e-9))]
    if arrivals != "poisson":
        raise ValueError(f"arrivals={arrivals!r}: use even or poisson")
    rng, due, out = random.Random(seed), 0.0, []
    while True:
        due += rng.expovariate(rate)
        if due >= duration_s:
            return out
        out.append(due)


def classes_of(count: int, weights: list[float], seed: int) -> list[int]:
    """The class of each of `count` due requests, drawn by weight from its own stream of the seed (the schedule's
    draws stay what they are without a mix)."""
    rng = random.Random(f"mix-{seed}")
    return rng.choices(range(len(weights)), weights=weights, k=count)


def request_bytes(url: urllib.parse.SplitResult, method: str, body: str | None, headers: list[str],
                  connection: str = "close") -> bytes:  # fmt: skip
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {url.netloc}", f"Connection: {connection}",
             "User-Agent: gunicorn-bench open_loop"]  # fmt: skip
    lines += headers
    data = body.encode() if body is not None else b""
    if body is not None:
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def worker_of(head: bytes) -> tuple[int | None, str | None]:
    """The worker that answered and the app's release it runs, from an answer's X-Bench-Worker header ("PID
    RELEASE", the harness's middleware); (None, None) without it."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-bench-worker":
            pid, _, release = value.strip().decode("latin-1").partition(" ")
            return (int(pid) if pid.isdigit() else None), (release or None)
    return None, None


def app_seconds(head: bytes) -> float | None:
    """The app's own time from an answer's head: its Server-Timing header's `app;dur=` (milliseconds), in seconds."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"server-timing":
            for metric in value.split(b","):
                key, *params = (part.strip() for part in metric.split(b";"))
                for param in params:
                    if key == b"app" and param.startswith(b"dur="):
                        try:
                            return round(float(param[4:]) / 1000, 6)
                        except ValueError:
                            return None
    return None


async def exchange(host: str, port: int, payload: bytes) -> tuple[int, int, float | None, tuple]:
    """One request on its own connection: the answer's status, how many bytes came once the server closed, the
    app's own time when the answer says it, and (pid, release) of the worker that answered (worker_of)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(payload)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        rest = await reader.read()  # Connection: close: the body ends where the connection does
        return status, len(head) + len(rest), app_seconds(head), worker_of(head)
    finally:
        writer.close()


class Kept:
    """Connections left open and idle by earlier answers (--keep-alive), to one host."""

    def __init__(self, host: str, port: int):
        self.host, self.port, self.idle = host, port, []

    async def exchange(self, payload: bytes) -> tuple[int, int, float | None, tuple, bool]:
        """One request on an idle connection if there is one, else a new one: exchange()'s answer, and whether the
        connection was reused. The answer is read to its length; the connection is kept unless either side closes
        it."""
        reused = bool(self.idle)
        reader, writer = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(payload)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status, fields = int(head.split(b" ", 2)[1]), header_fields(head)
            if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
                size = await read_chunked(reader)
            elif b"content-length" in fields:
                size = len(await reader.readexactly(int(fields[b"content-length"])))
            else:  # no length: the body ends where the connection does
                size, fields[b"connection"] = len(await reader.read()), b"close"
        except BaseException:
            writer.close()
            raise
        if fields.get(b"connection", b"").lower() == b"close":
            writer.close()
        else:
            self.idle.append((reader, writer))
        return status, len(head) + size, app_seconds(head), worker_of(head), reused

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


def header_fields(head: bytes) -> dict[bytes, bytes]:
    """An answer's header fields by lower-case name (the last of a repeated one)."""
    out = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


async def read_chunked(reader: asyncio.StreamReader) -> int:
    """A chunked body read to its last chunk and trailer; its size."""
    size = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        length = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if length == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # the trailer's fields, if any
                pass
            return size
        size += len(await reader.readexactly(length))
        await reader.readexactly(2)


def error_word(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, (asyncio.IncompleteReadError, BrokenPipeError)):
        return "closed"
    return type(exc).__name__


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..100) of values; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(-(-q * len(ordered) // 100)) - 1))]


async def run(url: str, dues: list[float], *, timeout_s: float, max_open: int, payload: bytes | list[bytes], emit,
              header: dict | None = None, classes: list[int] | None = None,
              keep_alive: bool = False) -> dict:  # fmt: skip
    """Send a request at each due time (seconds from zero); emit the header (with the schedule's epoch), then a row per
    request as it ends; the summary. With classes (a mix), request i is payload[classes[i]] and its row ends with its
    class."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    loop = asyncio.get_running_loop()
    zero = loop.time() + 0.05  # a moment to set up before the first request is due
    emit({**(header or {}), "epoch": round(time.time() + (zero - loop.time()), 6)})
    slots = asyncio.Semaphore(max_open)
    lags, waited, answered, errors, pending = [], 0, 0, 0, set()
    kept = Kept(host, port) if keep_alive else None

    async def one(i: int, due: float) -> None:
        nonlocal answered, errors
        try:
            sent = loop.time() - zero
            lags.append(sent - due)
            data = payload if classes is None else payload[classes[i]]
            reused = None
            try:
                if kept is not None:
                    reused = bool(kept.idle)  # as it was asked: the exchange takes one, or opens one
                    status, size, app_s, worker, reused = await asyncio.wait_for(kept.exchange(data), timeout_s)
                else:
                    status, size, app_s, worker = await asyncio.wait_for(exchange(host, port, data), timeout_s)
                row = [i, round(due, 6), round(sent, 6), round(loop.time() - zero, 6), status, size, None, app_s]
                answered += 1
            except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ValueError, IndexError) as exc:  # fmt: skip
                row = [i, round(due, 6), round(sent, 6), round(loop.time() - zero, 6), None, 0, error_word(exc), None]
                worker = (None, None)
                errors += 1
            emit([*row, None if classes is None else classes[i], None, *worker,
                  None if reused is None else int(reused)])  # fmt: skip
        finally:
            slots.release()

    for i, due in enumerate(dues):
        wait = zero + due - loop.time()
        if wait > SPIN_S:
            await asyncio.sleep(wait - SPIN_S)
        while loop.time() < zero + due:
            await asyncio.sleep(0)
        if slots.locked():
            waited += 1
        await slots.acquire()
        task = asyncio.ensure_future(one(i, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)
    if kept is not None:
        kept.close()
    return {
        "requests": len(dues),
        "answered": answered,
        "errors": errors,
        "waited_for_open": waited,
        "lag_p50_s": percentile(lags, 50),
        "lag_p99_s": percentile(lags, 99),
        "lag_max_s": max(lags, default=None),
    }


async def closed(url: str, clients: int, duration_s: float, *, timeout_s: float, payload: bytes | list[bytes], emit,
                 header: dict | None = None, weights: list[float] | None = None, seed: int = 0) -> dict:  # fmt: skip
    """A closed loop: `clients` clients, each sending its next request when its last was answered, until duration_s;
    each request's class (a mix: weights) drawn by weight in the order the requests start, from the seed. Rows as
    run()'s, each due when it was sent."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    loop = asyncio.get_running_loop()
    zero = loop.time() + 0.05
    emit({**(header or {}), "epoch": round(time.time() + (zero - loop.time()), 6)})
    rng = random.Random(f"mix-{seed}")
    counts = {"requests": 0, "answered": 0, "errors": 0}

    async def client(me: int) -> None:
        await asyncio.sleep(max(0.0, zero - loop.time()))
        while (sent := loop.time() - zero) < duration_s:
            i = counts["requests"]
            counts["requests"] += 1
            cls = rng.choices(range(len(weights)), weights=weights)[0] if weights else None
            data = payload if cls is None else payload[cls]
            try:
                status, size, app_s, worker = await asyncio.wait_for(exchange(host, port, data), timeout_s)
                row = [i, round(sent, 6), round(sent, 6), round(loop.time() - zero, 6), status, size, None, app_s]
                counts["answered"] += 1
            except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ValueError, IndexError) as exc:  # fmt: skip
                row = [i, round(sent, 6), round(sent, 6), round(loop.time() - zero, 6), None, 0, error_word(exc), None]
                worker = (None, None)
                counts["errors"] += 1
            emit([*row, cls, me, *worker])

    await asyncio.gather(*(client(me) for me in range(clients)))
    return {**counts, "waited_for_open": 0, "lag_p50_s": 0.0, "lag_p99_s": 0.0, "lag_max_s": 0.0}


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, help="requests a second (open loop)")
    parser.add_argument("--clients", type=int, help="clients, each sending when its last was answered (closed loop)")
    parser.add_argument("--duration", type=float, required=True, help="seconds of schedule")
    parser.add_argument("--arrivals", choices=["even", "poisson"], default="even")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--phase", type=float, default=0.0, help="seconds every request is due later")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds an answer may take")
    parser.add_argument("--max-open", type=int, default=1000, help="connections open at once, at most")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--mix", help="a JSON file of the mix's classes (its requests and weights), and `only`")
    parser.add_argument("--keep-alive", action="store_true", help="reuse idle connections (open loop only)")
    parser.add_argument("--out", help="file of the records (stdout by default)")
    args = parser.parse_args(argv)
    if (args.rate is None) == (args.clients is None):
        parser.error("one of --rate (open loop) and --clients (closed loop)")
    if args.keep_alive and args.clients is not None:
        parser.error("--keep-alive is for an open loop (--rate)")
    if (args.clients is not None and args.clients < 1) or (args.rate is not None and args.rate <= 0):
        parser.error("--rate must be positive, --clients at least 1")
    if args.duration <= 0 or args.timeout <= 0 or args.max_open < 1 or args.phase < 0:
        parser.error("--duration and --timeout must be positive, --phase not negative, --max-open at least 1")
    parts = urllib.parse.urlsplit(args.url)
    if parts.scheme != "http" or not parts.hostname:
        parser.error(f"{args.url}: an http:// URL")
    args.mix_spec = None
    if args.mix:
        with open(args.mix, encoding="utf-8") as fh:
            args.mix_spec = json.load(fh)
        names = [c["name"] for c in args.mix_spec["classes"]]
        weights = [float(c["weight"]) for c in args.mix_spec["classes"]]
        if not names or any(w <= 0 for w in weights) or args.mix_spec.get("only") not in (None, *names):
            parser.error(f"--mix {args.mix}: classes with weights > 0, and `only` one of them or null")
    return args


def payloads(args: argparse.Namespace) -> bytes | list[bytes]:
    """The request to send, or a mix's: each class its own on the same host, with the command line's headers (the
    probe marker) and its own."""
    connection = "keep-alive" if args.keep_alive else "close"
    if not args.mix_spec:
        return request_bytes(urllib.parse.urlsplit(args.url), args.method, args.body, args.header, connection)
    return [request_bytes(urllib.parse.urlsplit(urllib.parse.urljoin(args.url, c["path"])), c.get("method") or "GET",
                          c.get("body"), args.header + [f"{k}: {v}" for k, v in (c.get("headers") or {}).items()],
                          connection)
            for c in args.mix_spec["classes"]]  # fmt: skip


def main(argv: list[str]) -> int:
    args = arguments(argv)
    mix = args.mix_spec
    dues = schedule(args.rate, args.duration, args.arrivals, args.seed, args.phase) if args.rate else []
    weights, classes = None, None
    if mix:  # the class of each due request; only one class: its requests alone, the others left out
        weights = [float(c["weight"]) if mix.get("only") in (None, c["name"]) else 0.0 for c in mix["classes"]]
        classes = classes_of(len(dues), [float(c["weight"]) for c in mix["classes"]], args.seed)
        if mix.get("only") is not None:
            keep = [c["name"] for c in mix["classes"]].index(mix["only"])
            dues, classes = [d for d, c in zip(dues, classes, strict=True) if c == keep], [keep] * classes.count(keep)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115 (closed below)
    header = {
        "open_loop": 1,
        "url": args.url,
        "rate": args.rate,
        "duration_s": args.duration,
        "arrivals": args.arrivals if args.rate else "closed",
        **({"clients": args.clients} if args.clients else {}),
        "seed": args.seed,
        "phase_s": args.phase,
        "timeout_s": args.timeout,
        "max_open": args.max_open,
        **({"classes": [c["name"] for c in mix["classes"]], "only": mix.get("only")} if mix else {}),
        "keep_alive": args.keep_alive,
    }

    def emit(line) -> None:
        out.write(json.dumps(line, separators=(",", ":")) + "\n")

    try:
        payload = payloads(args)
        if args.clients:
            load = closed(args.url, args.clients, args.duration, timeout_s=args.timeout, payload=payload, emit=emit,
                          header=header, weights=weights, seed=args.seed)  # fmt: skip
        else:
            load = run(args.url, dues, timeout_s=args.timeout, max_open=args.max_open, payload=payload, emit=emit,
                       header=header, classes=classes, keep_alive=args.keep_alive)  # fmt: skip
        emit({"summary": asyncio.run(load)})
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
