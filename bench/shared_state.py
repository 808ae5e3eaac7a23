"""What shared state on Redis costs and saves: presence heartbeats, chat-list loads with unread
counts, and the send path that keeps the counters, embedded vs Redis.

Through the services (``build_services``), per set-up:

  * heartbeat: ``PresenceService.heartbeat`` of a tab already online (the browser beats every
    10 s per tab; in-process dict vs one Lua script on Redis);
  * sweep: one ``PresenceService.sweep`` with --online users connected, none lapsed (every
    process runs one a second);
  * chat list: ``ChatService.list_chats`` of a reader with --chats 1:1 chats, each holding
    --unread messages from the peer, half of them partly read (unread counts by the message
    store vs Redis counters, rebuilt on the first load and trusted after);
  * unread: the ``UnreadCounter`` call alone that the chat list makes (the rest of a chat
    list load is the same SQL on both sides);
  * send: ``MessagingService.send_message`` into one of those chats (Redis adds the counter
    script per message).

Set-ups: SQLite (the embedded default) and SQLite + Redis; PostgreSQL and PostgreSQL + Redis;
Cassandra messages (+ PostgreSQL) without and with Redis. Servers come from
scripts/servers.py (started if needed, stopped again if this script started them).

    python bench/shared_state.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from backend.container import Services, build_services
from backend.content import text_content
from backend.models import UnreadSpan
from backend.settings import Settings
from scripts import servers
from tests.engines import cassandra_keyspace, drop_postgres_database, fresh_postgres_database

FAST_HASH = {"password_time_cost": 1, "password_memory_kib": 64, "registrations_per_ip": 10**6}
SETUPS = ("sqlite", "sqlite+redis", "postgres", "postgres+redis", "cassandra", "cassandra+redis")


def timed(action: Callable[[], object], times: int) -> list[float]:
    """Milliseconds per call, ``times`` calls."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p50_p95(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):7.3f}  p95 {p95:7.3f}"


def populate(svc: Services, chats: int, unread: int, tag: str) -> tuple[str, list[str]]:
    """A reader and ``chats`` peers who each wrote ``unread`` messages to them; the reader
    has read half of them in every other chat. Returns the reader's id and the chat ids."""
    reader, _ = svc.accounts.register(f"reader{tag}", "Reader", "correct horse battery")
    chat_ids = []
    for i in range(chats):
        peer, _ = svc.accounts.register(f"peer{tag}x{i}", f"Peer {i}", "correct horse battery")
        chat = svc.chats.open_direct_chat(peer.id, reader.id)
        sent = [
            svc.messaging.send_message(peer.id, chat.id, text_content(f"m{j}"))
            for j in range(unread)
        ]
        if i % 2:
            svc.receipts.mark_read(reader.id, chat.id, sent[unread // 2 - 1].id)
        chat_ids.append(chat.id)
    return reader.id, chat_ids


def run_setup(settings: Settings, args: argparse.Namespace, tag: str) -> dict[str, list[float]]:
    svc = build_services(settings)
    try:
        reader, chat_ids = populate(svc, args.chats, args.unread, tag)
        expected = [
            args.unread - args.unread // 2 if i % 2 else args.unread for i in range(args.chats)
        ]
        first = svc.chats.list_chats(reader)  # builds the Redis counters
        assert sorted(s.unread for s in first) == sorted(expected), "unread counts are wrong"
        spans = [
            UnreadSpan(chat.id, me.read_upto, chat.last_message_id)
            for chat, me in svc.chats._chats.list_user_chats(reader)  # what _summarize asks
            if chat.last_message_id > me.read_upto
        ]
        counter = svc.chats._unread
        figures = {
            "chat list": timed(lambda: svc.chats.list_chats(reader), args.loads),
            "unread": timed(lambda: counter.unread_counts(reader, spans), args.loads),
            "heartbeat": timed(lambda: svc.presence.heartbeat(reader, "tab-1"), args.beats),
        }
        peer_chat = chat_ids[0]
        peer_id = next(s.peer.id for s in first if s.chat.id == peer_chat and s.peer is not None)
        figures["send"] = timed(
            lambda: svc.messaging.send_message(peer_id, peer_chat, text_content("more")),
            args.sends,
        )
        for i in range(args.online):
            svc.presence.heartbeat(f"online-{tag}-{i}", "tab")
        figures["sweep"] = timed(svc.presence.sweep, 20)
        return figures
    finally:
        close = getattr(svc.bus, "close", None)
        if close is not None:
            close()


@contextmanager
def engines() -> Iterator[dict[str, str]]:
    before = {n for n in servers.ALL if servers.READY[n]()}
    servers.start(servers.ALL)
    urls = servers.urls()
    database = fresh_postgres_database(urls["DATABASE_URL"], "chat_bench_state")
    try:
        with cassandra_keyspace(tuple(urls["CASSANDRA_HOSTS"].split(","))) as keyspace:
            yield {**urls, "DATABASE_URL": database, "CASSANDRA_KEYSPACE": keyspace}
    finally:
        drop_postgres_database(urls["DATABASE_URL"], database)
        servers.stop(tuple(n for n in servers.ALL if n not in before))


def settings_for(setup: str, env: dict[str, str], data_dir: Path) -> Settings:
    chosen: dict[str, object] = {"data_dir": data_dir, **FAST_HASH}
    if setup.startswith(("postgres", "cassandra")):
        chosen["database_url"] = env["DATABASE_URL"]
    if setup.startswith("cassandra"):
        chosen["cassandra_hosts"] = tuple(env["CASSANDRA_HOSTS"].split(","))
        chosen["cassandra_keyspace"] = env["CASSANDRA_KEYSPACE"]
    if setup.endswith("+redis"):
        chosen["redis_url"] = env["REDIS_URL"]
    return Settings(**chosen)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--unread", type=int, default=20)
    parser.add_argument("--loads", type=int, default=100)
    parser.add_argument("--beats", type=int, default=500)
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--online", type=int, default=1000)
    parser.add_argument("--setups", default=",".join(SETUPS))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-shared-state-"))
    print(
        f"shared_state: {args.chats} chats x {args.unread} unread, {args.runs} runs; "
        f"ms per call; load average {os.getloadavg()[0]:.2f}"
    )
    with ExitStack() as stack:
        env = stack.enter_context(engines())
        for run in range(args.runs):
            for setup in args.setups.split(","):
                redis.Redis.from_url(env["REDIS_URL"]).flushdb()
                tag = f"{os.getpid()}r{run}{setup.replace('+', '')}"
                settings = settings_for(setup, env, root / tag)
                figures = run_setup(settings, args, tag)
                line = "  ".join(f"{name} {p50_p95(s)}" for name, s in figures.items())
                print(f"run {run + 1} {setup:16} {line}  (load {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
