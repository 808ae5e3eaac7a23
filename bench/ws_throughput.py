"""WebSocket API under load: messages stored-and-delivered per second, delivery latency, the CPU
each side used, and the server's memory per idle connection.

K clients in pairs (one sends, its partner receives) against the production build, one worker.
A message counts when the partner's socket has it; latency is send -> partner's receipt, on one
clock (a pair's two sockets live in the same client process). Two ways to load the server:

- closed loop (default): each sender keeps ``--in-flight`` messages outstanding (sends the next
  when one is acked): the most the server stores and delivers. Latency there is mostly queueing:
  with S senders, in flight / rate (Little's law), e.g. 200 / 2,000 per second = 100 ms.
- open loop (``--rate R``): the senders together offer R messages a second on a fixed schedule,
  whatever the answers: the latency at that rate.

The clients run in ``--client-procs`` processes (pairs split between them) so that they can use
the other core; the CPU time each side used during the measured window is printed, as is the
load average (the machine is shared). Idle memory: a fresh server per figure, its resident
memory with N sockets open and quiet, minus before (after a warm-up of 50 sockets), per socket.

    python bench/ws_throughput.py --clients 10 100 1000 --seconds 10 --idle 1000 5000
    python bench/ws_throughput.py --clients 100 --rate 2000 --idle
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psutil
import websockets

from e2e.server import TEST_ENV, running_app

PASSWORD = "correct horse battery"
WARM_UP_SECONDS = 1.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


async def register(client: httpx.AsyncClient, name: str) -> tuple[str, str]:
    r = await client.post(
        "/api/v1/auth/register",
        json={"username": name, "displayName": name, "password": PASSWORD},
    )
    r.raise_for_status()
    return r.json()["token"], r.json()["user"]["id"]


async def make_pairs(base: str, pairs: int, tag: str) -> list[tuple[str, str, str]]:
    """(sender token, receiver token, chat id) for each pair."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        semaphore = asyncio.Semaphore(20)

        async def one(i: int) -> tuple[str, str, str]:
            async with semaphore:
                a_token, _ = await register(client, f"{tag}a{i}")
                b_token, b_id = await register(client, f"{tag}b{i}")
                r = await client.post(
                    "/api/v1/chats",
                    json={"participantIds": [b_id]},
                    headers={"Authorization": f"Bearer {a_token}"},
                )
                r.raise_for_status()
                return a_token, b_token, r.json()["chatId"]

        return await asyncio.gather(*(one(i) for i in range(pairs)))


# --- one client process ---------------------------------------------------------------------


async def drive_pairs(
    base: str,
    pairs: list[tuple[str, str, str]],
    first_index: int,
    seconds: float,
    in_flight: int,
    rate_per_sender: float,
    parent: Connection,
) -> dict:
    """Connect the pairs' sockets, tell the parent, start sending at the wall-clock time it
    answers (the same for every client process, once all are connected), warm up, then count
    for ``seconds``."""
    ws_base = base.replace("http", "ws", 1)
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    counts = {"delivered": 0, "refused": 0}
    measuring = asyncio.Event()
    stop = asyncio.Event()

    async def receiver(token: str, ready: asyncio.Event) -> None:
        async with websockets.connect(
            f"{ws_base}/ws?token={token}", max_queue=None, open_timeout=120
        ) as ws:
            ready.set()
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    started = sent_at.pop(frame["content"]["text"], None)
                    if started is not None and measuring.is_set() and not stop.is_set():
                        latencies.append((time.perf_counter() - started) * 1000)
                        counts["delivered"] += 1

    async def sender(token: str, chat_id: str, index: int, ready: asyncio.Event) -> None:
        async with websockets.connect(
            f"{ws_base}/ws?token={token}", max_queue=None, open_timeout=120
        ) as ws:
            acked = asyncio.Queue[None]()

            async def read_answers() -> None:
                async for raw in ws:
                    kind = json.loads(raw)["type"]
                    if kind == "error" and measuring.is_set():
                        counts["refused"] += 1
                    if kind in ("message_ack", "error"):
                        acked.put_nowait(None)

            reader = asyncio.create_task(read_answers())
            try:
                await send_until_stopped(ws, chat_id, index, acked, ready)
            finally:  # cancelled at the end: take the reader down with it, quietly
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

    async def send_until_stopped(
        ws: websockets.ClientConnection,
        chat_id: str,
        index: int,
        acked: asyncio.Queue[None],
        ready: asyncio.Event,
    ) -> None:
        ready.set()
        await go.wait()
        for _ in range(in_flight):
            acked.put_nowait(None)
        n = 0
        interval = 1 / rate_per_sender if rate_per_sender else 0.0
        # Open loop: senders spread over the interval, so the offered load is smooth.
        next_at = time.perf_counter() + interval * (index % 97) / 97
        while not stop.is_set():
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += interval
            else:
                await acked.get()
            text = f"{index}:{n}"
            n += 1
            sent_at[text] = time.perf_counter()
            await ws.send(
                json.dumps(
                    {
                        "type": "message",
                        "tempId": text,
                        "chatId": chat_id,
                        "content": {"type": "text", "text": text},
                    }
                )
            )

    go = asyncio.Event()
    readies = [asyncio.Event() for _ in range(2 * len(pairs))]
    tasks = [
        asyncio.create_task(receiver(b, readies[2 * i])) for i, (_, b, _) in enumerate(pairs)
    ] + [
        asyncio.create_task(sender(a, chat, first_index + i, readies[2 * i + 1]))
        for i, (a, _, chat) in enumerate(pairs)
    ]
    # Every socket open (a socket that could not open fails the run instead of hanging it).
    waiting = [asyncio.create_task(r.wait()) for r in readies]
    await asyncio.wait([*tasks, asyncio.gather(*waiting)], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done():
            task.result()
    parent.send("connected")
    start_at = await asyncio.to_thread(parent.recv)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    go.set()
    await asyncio.sleep(WARM_UP_SECONDS)  # not counted
    measuring.set()
    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    result = {
        "delivered": counts["delivered"],
        "refused": counts["refused"],
        "latencies": list(latencies),
        "elapsed": elapsed,
        "cpu": cpu,
    }
    stop.set()
    await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def client_process(args: tuple, parent: Connection) -> None:
    parent.send(asyncio.run(drive_pairs(*args, parent)))


# --- the run ----------------------------------------------------------------------------------


def server_cpu(root_pid: int) -> float:
    root = psutil.Process(root_pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


def throughput(
    base: str,
    root_pid: int | None,
    clients: int,
    seconds: float,
    in_flight: int,
    rate: float,
    procs: int,
    mark_window: str = "",
) -> dict:
    tag = f"k{clients}x{os.urandom(3).hex()}"  # a name per run: runs share the server
    pairs = asyncio.run(make_pairs(base, clients // 2, tag))
    procs = max(1, min(procs, len(pairs)))
    rate_per_sender = rate / len(pairs) if rate else 0.0
    context = multiprocessing.get_context("spawn")
    workers, pipes, first = [], [], 0
    for i in range(procs):
        chunk = pairs[i::procs]
        ours, theirs = context.Pipe()
        job = (base, chunk, first, seconds, in_flight, rate_per_sender)
        workers.append(context.Process(target=client_process, args=(job, theirs)))
        pipes.append(ours)
        first += len(chunk)
    for worker in workers:
        worker.start()
    try:
        for pipe in pipes:  # every socket of every process is open
            if not pipe.poll(600) or pipe.recv() != "connected":
                raise RuntimeError("a client process could not connect its sockets")
        start_at = time.time() + 0.5
        for pipe in pipes:
            pipe.send(start_at)
        time.sleep(max(0.0, start_at + WARM_UP_SECONDS - time.time()))
        if mark_window:
            Path(mark_window).touch()
        cpu_before = server_cpu(root_pid) if root_pid else 0.0
        load_before = load()
        time.sleep(seconds)
        cpu_during = (server_cpu(root_pid) - cpu_before) if root_pid else float("nan")
        load_after = load()
        results = [pipe.recv() for pipe in pipes if pipe.poll(seconds + 300)]
        if len(results) != len(pipes):
            raise RuntimeError("a client process did not report")
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.terminate()
    elapsed = max(r["elapsed"] for r in results)
    delivered = sum(r["delivered"] for r in results)
    latencies = [x for r in results for x in r["latencies"]]
    return {
        "clients": clients,
        "rate": delivered / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "n": delivered,
        "refused": sum(r["refused"] for r in results),
        "server_cpu": cpu_during / seconds,
        "client_cpu": sum(r["cpu"] for r in results) / elapsed,
        "server_ms_per_message": cpu_during / delivered * 1000 if delivered else float("nan"),
        "load": f"{load_before} -> {load_after}",
    }


def server_rss(root_pid: int) -> int:
    root = psutil.Process(root_pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


async def idle_memory(base: str, root_pid: int, sockets: int) -> float:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        tokens = [(await register(client, f"idle{sockets}u{i}"))[0] for i in range(50)]
    ws_base = base.replace("http", "ws", 1)
    # Warm up the socket path (first-use imports and allocations are not per socket).
    warm = [await websockets.connect(f"{ws_base}/ws?token={t}") for t in tokens]
    for ws in warm:
        await ws.close()
    await asyncio.sleep(1)
    before = server_rss(root_pid)
    opened = []
    for i in range(sockets):
        opened.append(await websockets.connect(f"{ws_base}/ws?token={tokens[i % len(tokens)]}"))
    await asyncio.sleep(2)
    after = server_rss(root_pid)
    for ws in opened:
        await ws.close()
    return (after - before) / sockets / 1024


@contextmanager
def app_server() -> Iterator[tuple[str, int]]:
    os.environ.update(TEST_ENV)
    # The product's defaults, not the browser tests' quick ones: idle sockets re-check their
    # session once a minute, and a receiving client that pings every 25 s (seed) stays online
    # (presence lapses after 30 s, not 4).
    os.environ["CHAT_SESSION_RECHECK_SECONDS"] = "60"
    os.environ["CHAT_PRESENCE_TTL_SECONDS"] = "30"
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    with running_app(data_dir, data_dir / "app.log") as base:
        port = base.rsplit(":", 1)[1]
        root_pid = next(
            p.pid
            for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"]
            and "serve.py" in " ".join(p.info["cmdline"])
            and port in p.info["cmdline"]
        )
        yield base, root_pid


def report(r: dict) -> None:
    print(
        f"K={r['clients']:<5} delivered {r['rate']:6.0f} msg/s   "
        f"latency p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms   "
        f"(n={r['n']}, refused={r['refused']})   "
        f"CPU server {r['server_cpu']:4.0%} ({r['server_ms_per_message']:.2f} ms/msg), "
        f"clients {r['client_cpu']:4.0%}   {r['load']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="*", default=[10, 100, 1000])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0, help="open loop: messages/s offered")
    parser.add_argument("--runs", type=int, default=1, help="runs per K")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--idle", type=int, nargs="*", default=[1000, 5000])
    parser.add_argument("--base", help="use an app already running there (e.g. to profile it)")
    parser.add_argument("--server-pid", type=int, help="its process id, for its CPU time")
    parser.add_argument("--mark-window", help="touch this file when a measured window starts")
    args = parser.parse_args()
    mode = (
        f"open loop, {args.rate:.0f} msg/s offered"
        if args.rate
        else f"closed loop, {args.in_flight} in flight per sender"
    )
    print(
        f"\nWebSocket API, one worker, {args.seconds:.0f} s per run, {mode}, "
        f"{args.client_procs} client processes",
        flush=True,
    )

    def runs(base: str, pid: int | None) -> None:
        for clients in args.clients:
            for _ in range(args.runs):
                report(
                    throughput(
                        base,
                        pid,
                        clients,
                        args.seconds,
                        args.in_flight,
                        args.rate,
                        args.client_procs,
                        args.mark_window or "",
                    )
                )

    if args.base:
        runs(args.base, args.server_pid)
        return
    if args.clients:
        with app_server() as (base, pid):
            runs(base, pid)
    for sockets in args.idle:
        with app_server() as (base, pid):  # a fresh server: nothing freed earlier to reuse
            per = asyncio.run(idle_memory(base, pid, sockets))
        print(
            f"idle sockets {sockets:<5} server memory {per:6.1f} KiB per connection   {load()}",
            flush=True,
        )


if __name__ == "__main__":
    main()
