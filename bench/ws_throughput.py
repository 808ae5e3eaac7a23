"""WebSocket API under load: messages stored-and-delivered per second, delivery latency, and the
server's memory per idle connection.

K clients in pairs (one sends, its partner receives) on the production build, one worker. Each
sender keeps a fixed number of messages in flight (sends the next when one is acked), for a fixed
time. A message counts when the partner's socket has it; latency is send -> partner's receipt on
one clock. Idle memory: the server's resident memory with N sockets open and quiet, minus before.

    python bench/ws_throughput.py --clients 10 100 1000 --seconds 10 --idle 1000 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psutil
import websockets

from e2e.server import TEST_ENV, running_app

PASSWORD = "correct horse battery"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


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


async def throughput(base: str, clients: int, seconds: float, in_flight: int) -> dict:
    pairs = await make_pairs(base, clients // 2, f"k{clients}x{os.getpid() % 1000}")
    ws_base = base.replace("http", "ws", 1)
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    delivered = 0
    refused = 0  # sends answered with an error frame (should stay 0)
    stop = asyncio.Event()

    async def receiver(token: str, ready: asyncio.Event) -> None:
        nonlocal delivered
        async with websockets.connect(f"{ws_base}/ws?token={token}", max_queue=None) as ws:
            ready.set()
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    started = sent_at.pop(frame["content"]["text"], None)
                    if started is not None and not stop.is_set():
                        latencies.append((time.perf_counter() - started) * 1000)
                        delivered += 1

    async def sender(token: str, chat_id: str, index: int) -> None:
        async with websockets.connect(f"{ws_base}/ws?token={token}", max_queue=None) as ws:
            acked = asyncio.Queue[None]()

            async def read_acks() -> None:
                nonlocal refused
                async for raw in ws:
                    kind = json.loads(raw)["type"]
                    if kind == "error":
                        refused += 1
                    if kind in ("message_ack", "error"):
                        acked.put_nowait(None)

            reader = asyncio.create_task(read_acks())
            for _ in range(in_flight):
                acked.put_nowait(None)
            n = 0
            while not stop.is_set():
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
            reader.cancel()

    readies = [asyncio.Event() for _ in pairs]
    receivers = [
        asyncio.create_task(receiver(b, ready))
        for (_, b, _), ready in zip(pairs, readies, strict=False)
    ]
    await asyncio.gather(*(r.wait() for r in readies))
    senders = [asyncio.create_task(sender(a, chat, i)) for i, (a, _, chat) in enumerate(pairs)]
    await asyncio.sleep(1.0)  # warm-up, not counted
    latencies.clear()
    delivered = 0
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - started
    counted, measured = delivered, list(latencies)
    stop.set()
    await asyncio.gather(*senders, return_exceptions=True)
    for task in receivers:
        task.cancel()
    await asyncio.gather(*receivers, return_exceptions=True)
    return {
        "clients": clients,
        "rate": counted / elapsed,
        "p50": percentile(measured, 50),
        "p99": percentile(measured, 99),
        "n": counted,
        "refused": refused,
    }


def server_rss(root_pid: int) -> int:
    root = psutil.Process(root_pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


async def idle_memory(base: str, root_pid: int, sockets: int) -> float:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        tokens = [
            (await register(client, f"idle{sockets}u{i}x{os.getpid() % 1000}"))[0]
            for i in range(50)
        ]
    ws_base = base.replace("http", "ws", 1)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="*", default=[10, 100, 1000])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--idle", type=int, nargs="*", default=[1000, 5000])
    parser.add_argument("--base", help="use an app already running there (e.g. to profile it)")
    args = parser.parse_args()
    if args.base:
        for clients in args.clients:
            print(asyncio.run(throughput(args.base, clients, args.seconds, args.in_flight)))
        return
    os.environ.update(TEST_ENV)
    # The product's default: idle sockets re-check their session once a minute, not every 3 s.
    os.environ["CHAT_SESSION_RECHECK_SECONDS"] = "60"
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    with running_app(data_dir, data_dir / "app.log") as base:
        root_pid = next(
            p.pid
            for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"]
            and base.rsplit(":", 1)[1] in " ".join(p.info["cmdline"])
            and "reflex" in " ".join(p.info["cmdline"])
        )
        print(
            f"\nWebSocket API, one worker, {args.seconds:.0f} s per run, "
            f"{args.in_flight} in flight per sender"
        )
        for clients in args.clients:
            r = asyncio.run(throughput(base, clients, args.seconds, args.in_flight))
            print(
                f"K={r['clients']:<5} delivered {r['rate']:8.0f} msg/s   "
                f"latency p50 {r['p50']:7.1f} ms   p99 {r['p99']:7.1f} ms   "
                f"(n={r['n']}, refused={r['refused']})"
            )
        for sockets in args.idle:
            per = asyncio.run(idle_memory(base, root_pid, sockets))
            print(f"idle sockets {sockets:<5} server memory {per:6.1f} KiB per connection")


if __name__ == "__main__":
    main()
