"""The access check of a media fetch (``MediaService.download``: which messages carry the file,
and whether the caller may read one of them), on the embedded engine (SQLite, one process).

Cases: a member fetching a file sent in their chat; a member of a chat it was forwarded to; a
file forwarded into 30 chats (more than ``FEW_SENDS``: checked against all the caller's chats
at once); an outsider (404). Prints p50/p99 per case over ``--fetches`` fetches.

    python bench/media_access.py --fetches 2000
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.container import Services, build_services
from backend.errors import NotFound
from backend.settings import Settings
from tests import media_samples as samples


def timed(fetches: int, fetch: Callable[[], object]) -> tuple[float, float]:
    took = []
    for _ in range(fetches):
        began = time.perf_counter()
        with contextlib.suppress(NotFound):
            fetch()
        took.append((time.perf_counter() - began) * 1e6)
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fetches", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            password_time_cost=1,
            password_memory_kib=64,
            sends_per_user=100_000,
            registrations_per_ip=100_000,
        )
        services: Services = build_services(settings)
        people = [
            services.accounts.register(f"user{i}", f"User {i}", "correct horse battery")[0]
            for i in range(34)
        ]
        alice, bob, carol, dave = people[:4]
        chat = services.chats.open_direct_chat(alice.id, bob.id)
        path = Path(data_dir) / "p.jpg"
        path.write_bytes(samples.jpeg_with_location())
        sent = services.media.upload(alice.id, chat.id, path, "p.jpg")
        message = services.messaging.send_message(
            alice.id, chat.id, {"type": "image", "mediaId": sent.id}
        )
        with_carol = services.chats.open_direct_chat(alice.id, carol.id)
        services.message_actions.forward(alice.id, message.id, [with_carol.id])
        viral = services.media.upload(alice.id, chat.id, path, "v.jpg")
        original = services.messaging.send_message(
            alice.id, chat.id, {"type": "image", "mediaId": viral.id}
        )
        targets = [services.chats.open_direct_chat(alice.id, p.id).id for p in people[4:]]
        for i in range(0, len(targets), 5):
            services.message_actions.forward(alice.id, original.id, targets[i : i + 5])
        last = people[-1]

        download = services.media.download
        cases = {
            "sent in the caller's chat": (bob.id, sent.id),
            "forwarded to the caller's chat": (carol.id, sent.id),
            "forwarded to 30 chats": (last.id, viral.id),
            "outsider (404)": (dave.id, sent.id),
        }
        for name, (user_id, media_id) in cases.items():
            fetch = functools.partial(download, user_id, media_id, "thumbnail")
            p50, p99 = timed(args.fetches, fetch)
            print(f"{name:32s} p50 {p50:7.0f} us   p99 {p99:7.0f} us")


if __name__ == "__main__":
    main()
