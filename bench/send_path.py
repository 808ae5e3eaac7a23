"""The service-level cost of one message: send_message + the recipient's mark_delivered, on a
SQLite file (no network, no UI). The floor under every other figure.

    python bench/send_path.py --messages 500 --runs 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.container import build_services
from backend.settings import Settings


def one_run(messages: int) -> tuple[float, float]:
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="bench-send-")),
        password_time_cost=1,
        password_memory_kib=64,
        sends_per_user=10**9,
    )
    services = build_services(settings)
    alice, _ = services.accounts.register("alice", "Alice", "password123")
    bob, _ = services.accounts.register("bob", "Bob", "password123")
    chat = services.chats.open_direct_chat(alice.id, bob.id)
    for i in range(100):  # warm caches and the history a little
        services.messaging.send_message(alice.id, chat.id, {"type": "text", "text": f"w{i}"})
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(messages):
        sent = services.messaging.send_message(
            alice.id, chat.id, {"type": "text", "text": f"m{i}"}, f"t{i}"
        )
        services.receipts.mark_delivered(bob.id, chat.id, sent.id)
    wall = (time.perf_counter() - started) / messages * 1000
    # CPU time of this process: what the send costs, even when a shared machine's other work
    # stretches the wall-clock figure.
    return wall, (time.process_time() - cpu_started) / messages * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    costs = [one_run(args.messages) for _ in range(args.runs)]
    print("\nsend_message + mark_delivered, SQLite, one thread")
    for i, (wall, cpu) in enumerate(costs, 1):
        print(
            f"run {i}: {wall:.2f} ms per message ({1000 / wall:.0f} messages/s),"
            f" {cpu:.2f} ms of CPU"
        )


if __name__ == "__main__":
    main()
