"""Delivery latency across two backend processes vs within one, over the WebSocket API.

Alice sends message frames one at a time; the figure is the time from her send to Bob's socket
receiving the message. Three set-ups, each with real processes (``reflex run --env prod
--backend-only``):

  * embedded: one process on SQLite and the in-process bus (the laptop default);
  * scale, same process: Alice and Bob on one process on PostgreSQL + Redis + Cassandra;
  * scale, across processes: Alice on process A, Bob on process B, the event crossing Redis.

Target (issue 5): across processes p50 within 1.5x of one process.

    python bench/cross_process_delivery.py --messages 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from websockets.sync.client import ClientConnection, connect

from e2e.api_helpers import open_chat, register
from e2e.server import Backend
from scripts import servers
from tests.engines import (
    cassandra_keyspace,
    drop_postgres_database,
    fresh_postgres_database,
)


def ws(base: str, token: str) -> ClientConnection:
    return connect(f"ws://{base.split('://', 1)[1]}/ws?token={token}", open_timeout=10)


RECEIPT_WAIT = 5.0


def settle(alice_ws: ClientConnection, temp_id: str) -> bool:
    """Read Alice's frames up to the ack of ``temp_id`` and its delivery (in either order: the
    receipt can overtake the ack), so nothing queues up between samples. Whether the delivery
    receipt came within RECEIPT_WAIT (a missing one is counted and reported, not hidden)."""
    message_id, delivered = "", ""
    deadline = time.monotonic() + RECEIPT_WAIT
    while not (message_id and delivered >= message_id):
        left = deadline - time.monotonic()
        try:
            frame = json.loads(alice_ws.recv(timeout=max(left, 0.01)))
        except TimeoutError:
            if message_id:
                return False
            raise
        if frame.get("type") == "message_ack" and frame.get("tempId") == temp_id:
            message_id = frame["messageId"]
        elif frame.get("type") == "delivered":
            delivered = max(delivered, frame["messageId"] or "")
    return True


def measure(alice_base: str, bob_base: str, messages: int) -> tuple[list[float], int]:
    """Send-to-receive times, and how many delivery receipts never reached the sender."""
    with httpx.Client(base_url=alice_base, timeout=30) as client:
        alice, bob = register(client, "alice", "Alice"), register(client, "bob", "Bob")
        chat_id = open_chat(client, alice, bob)
    samples, missing = [], 0
    with ws(alice_base, alice.token) as alice_ws, ws(bob_base, bob.token) as bob_ws:
        for i in range(messages + 10):  # the first ten warm connections and caches
            body = f"m{i}-{uuid.uuid4().hex[:6]}"
            frame = {
                "type": "message",
                "chatId": chat_id,
                "tempId": f"t{i}",
                "content": {"type": "text", "text": body},
            }
            started = time.perf_counter()
            alice_ws.send(json.dumps(frame))
            while True:
                got = json.loads(bob_ws.recv(timeout=10))
                if got.get("type") == "message" and got["content"].get("text") == body:
                    break
            elapsed = (time.perf_counter() - started) * 1000
            missing += not settle(alice_ws, f"t{i}")
            if i >= 10:
                samples.append(elapsed)
    return samples, missing


def report(name: str, measured: tuple[list[float], int]) -> float:
    samples, missing = measured
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(f"{name:32s} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   ({len(samples)} messages)")
    if missing:
        print(f"{'':32s} {missing} delivery receipt(s) did not reach the sender in {RECEIPT_WAIT}s")
    return p50


@contextmanager
def scale_env() -> Iterator[dict[str, str]]:
    before = {name for name in servers.ALL if servers.READY[name]()}
    servers.start(servers.ALL)
    urls = servers.urls()
    database = fresh_postgres_database(urls["DATABASE_URL"], "chat_bench_delivery")
    try:
        hosts = tuple(urls["CASSANDRA_HOSTS"].split(","))
        with cassandra_keyspace(hosts) as keyspace:
            yield {**urls, "DATABASE_URL": database, "CASSANDRA_KEYSPACE": keyspace}
    finally:
        drop_postgres_database(urls["DATABASE_URL"], database)
        servers.stop(tuple(n for n in servers.ALL if n not in before))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    print(f"cross_process_delivery: Alice's send to Bob's socket, {args.messages} messages each")
    with ExitStack() as stack:
        embedded = Backend("embedded", {}, root / "embedded", root / "embedded.log")
        embedded.start()
        stack.callback(embedded.stop)
        one = report("embedded, one process", measure(embedded.url, embedded.url, args.messages))
        embedded.stop()

        env = stack.enter_context(scale_env())
        a = Backend("A", env, root / "a", root / "a.log")
        b = Backend("B", env, root / "b", root / "b.log")
        a.start()
        stack.callback(a.stop)
        b.start()
        stack.callback(b.stop)
        same = report("scale, same process", measure(a.url, a.url, args.messages))
        cross = report("scale, across two processes", measure(a.url, b.url, args.messages))
        print(f"across / same process: {cross / same:.2f}x (target <= 1.5x)")
        print(f"across / embedded:     {cross / one:.2f}x")


if __name__ == "__main__":
    main()
