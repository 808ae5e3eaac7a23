"""The service-level cost of one message: send + the recipient's delivered receipt, on a SQLite
file (no network, no UI). The floor under every other figure.

Two shapes of the same path: one message at a time (``send_message`` + ``mark_delivered``, what
a browser tab's send costs), and batches (``send_messages`` of ``--batch`` messages from
``--pairs`` senders, each to its own chat, + one ``mark_delivered_many`` for their recipients:
what the WebSocket gateway hands over when many sockets send at once). CPU time is reported
beside wall-clock time: on a shared machine the latter stretches with other people's work.

    python bench/send_path.py --messages 500 --runs 3 --batch 64 --pairs 32
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.container import Services, build_services
from backend.models import Chat, User
from backend.services.messaging import SendRequest
from backend.settings import Settings


def set_up(pairs: int) -> tuple[Services, list[tuple[User, User, Chat]]]:
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="bench-send-")),
        password_time_cost=1,
        password_memory_kib=64,
        sends_per_user=10**9,
        registrations_per_ip=10**9,
    )
    services = build_services(settings)
    people = []
    for i in range(pairs):
        alice, _ = services.accounts.register(f"alice{i}", "Alice", "password123")
        bob, _ = services.accounts.register(f"bob{i}", "Bob", "password123")
        people.append((alice, bob, services.chats.open_direct_chat(alice.id, bob.id)))
    for alice, _, chat in people:
        for i in range(100 // pairs + 1):  # warm caches and the history a little
            services.messaging.send_message(alice.id, chat.id, {"type": "text", "text": f"w{i}"})
    return services, people


def one_at_a_time(messages: int) -> tuple[float, float]:
    services, [(alice, bob, chat)] = set_up(1)
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(messages):
        sent = services.messaging.send_message(
            alice.id, chat.id, {"type": "text", "text": f"m{i}"}, f"t{i}"
        )
        services.receipts.mark_delivered(bob.id, chat.id, sent.id)
    return _per_message(messages, started, cpu_started)


def batched(messages: int, batch: int, pairs: int) -> tuple[float, float]:
    services, people = set_up(pairs)
    started, cpu_started = time.perf_counter(), time.process_time()
    done = 0
    while done < messages:
        requests = []
        for j in range(batch):
            alice, _, chat = people[(done + j) % pairs]
            text = f"m{done + j}"
            requests.append(SendRequest(alice.id, chat.id, {"type": "text", "text": text}, text))
        outcomes = services.messaging.send_messages(requests)
        delivered = {}
        for request, outcome in zip(requests, outcomes, strict=True):
            assert not isinstance(outcome, Exception), outcome
            _, bob, chat = next(p for p in people if p[2].id == request.chat_id)
            delivered[(bob.id, chat.id)] = outcome.id
        services.receipts.mark_delivered_many([(u, c, m) for (u, c), m in delivered.items()])
        done += batch
    return _per_message(done, started, cpu_started)


def _per_message(messages: int, started: float, cpu_started: float) -> tuple[float, float]:
    wall = (time.perf_counter() - started) / messages * 1000
    # CPU time of this process: what the send costs, even when a shared machine's other work
    # stretches the wall-clock figure.
    return wall, (time.process_time() - cpu_started) / messages * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=32)
    args = parser.parse_args()
    shapes = {
        "one at a time: send_message + mark_delivered": lambda: one_at_a_time(args.messages),
        f"batches of {args.batch} over {args.pairs} chats: send_messages + mark_delivered_many": (
            lambda: batched(args.messages, args.batch, args.pairs)
        ),
    }
    for title, run in shapes.items():
        print(f"\n{title}, SQLite, one thread")
        for i in range(1, args.runs + 1):
            wall, cpu = run()
            print(
                f"run {i}: {wall:.2f} ms per message ({1000 / wall:.0f} messages/s),"
                f" {cpu:.2f} ms of CPU"
            )


if __name__ == "__main__":
    main()
