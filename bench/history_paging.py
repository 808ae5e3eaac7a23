"""History paging and ingest with a very long chat, on SQLite and on Cassandra.

Loads one chat with --messages messages (default 1,000,000) spread over two years (so the
Cassandra store has ~700 day partitions, as a real long-lived chat would), then measures, per
store, through the MessageStore port:

  * bulk ingest rate (the loader: batched inserts on SQLite, concurrent async writes on
    Cassandra) - how fast a store takes rows, e.g. for a migration;
  * send-path ingest rate: ``add_message`` one after another on the same chat, exactly as
    sends do (per-chat serialisation, dedup, id made inside the write);
  * history page latency (page of 50): the newest page, and deep pages before random cursors
    anywhere in the history; p50 / p95 / max in milliseconds.

    python bench/history_paging.py                       # 1M messages, both stores
    python bench/history_paging.py --messages 20000 --stores cassandra

Cassandra is the test node of scripts/servers.py (started if needed, stopped again if this
script started it); its keyspace is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from backend.adapters.sql.accounts import SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine, upgrade_schema
from backend.adapters.sql.messages import MESSAGES, SqlMessageStore
from backend.content import dump_content, text_content
from backend.ids import new_message_id
from backend.models import Chat, ChatKind, Member, Message, Role, User
from backend.ports import MessageStore
from scripts import servers

PAGE = 50
ROWS_PER_BATCH = 40  # ~4 KiB: under Cassandra's batch size warning
SPAN = timedelta(days=730)


def synthetic_ids(count: int, end: datetime) -> Iterator[tuple[str, datetime]]:
    """``count`` UUIDv7 ids in increasing order, evenly over SPAN ending at ``end``."""
    start = end - SPAN
    step_us = SPAN / timedelta(microseconds=1) / count
    for i in range(count):
        at = start + timedelta(microseconds=int(i * step_us))
        ms = int(at.timestamp() * 1000)
        counter = i & 0xFFF  # distinct within a millisecond, increasing with i
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
        yield str(uuid.UUID(int=value)), at


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms  max {ordered[-1]:6.2f} ms"


def time_pages(store: MessageStore, chat_id: str, cursors: list[str]) -> list[float]:
    samples = []
    for cursor in cursors:
        started = time.perf_counter()
        page = store.list_before(chat_id, cursor, PAGE)
        samples.append((time.perf_counter() - started) * 1000)
        assert len(page) == PAGE, f"a page before {cursor!r} held only {len(page)} messages"
    return samples


def send_path_rate(store: MessageStore, chat_id: str, sender: str, count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        draft = Message(
            id="",
            chat_id=chat_id,
            sender_id=sender,
            content=text_content(f"live {i}"),
            created_at=datetime.now(UTC),
            temp_id=f"bench-{i}",
        )
        store.add_message(draft, new_message_id)
    return count / (time.perf_counter() - started)


# --- SQLite -----------------------------------------------------------------------------------


def load_sqlite(count: int, end: datetime) -> tuple[MessageStore, str, str, list[str], float]:
    path = Path(tempfile.mkdtemp(prefix="bench-history-")) / "chat.db"
    url = f"sqlite:///{path}"
    upgrade_schema(url)
    engine = create_sql_engine(url)
    users = SqlUserStore(engine)
    now = datetime.now(UTC)
    people = [User(str(uuid.uuid4()), f"user{i}", f"User {i}", now) for i in range(2)]
    for person in people:
        users.add_user(person, "x")
    chat = Chat(str(uuid.uuid4()), ChatKind.DIRECT, "", people[0].id, now)
    members = [Member(chat.id, p.id, Role.MEMBER, now) for p in people]
    SqlChatStore(engine).add_direct_chat(chat, f"{people[0].id}:{people[1].id}", members)

    ids: list[str] = []
    started = time.perf_counter()
    batch: list[dict[str, object]] = []
    with engine.begin() as conn:
        for i, (message_id, at) in enumerate(synthetic_ids(count, end)):
            ids.append(message_id)
            batch.append(
                {
                    "id": message_id,
                    "chat_id": chat.id,
                    "sender_id": people[i % 2].id,
                    "temp_id": None,
                    "content": dump_content(text_content(f"message {i}")),
                    "created_at": at,
                }
            )
            if len(batch) == 20_000:
                conn.execute(sa.insert(MESSAGES), batch)
                batch.clear()
        if batch:
            conn.execute(sa.insert(MESSAGES), batch)
    rate = count / (time.perf_counter() - started)
    return SqlMessageStore(engine), chat.id, people[0].id, ids, rate


# --- Cassandra --------------------------------------------------------------------------------


def load_cassandra(
    count: int, end: datetime, keyspace: str
) -> tuple[MessageStore, str, str, list[str], float]:
    from cassandra.concurrent import execute_concurrent, execute_concurrent_with_args
    from cassandra.query import BatchStatement, BatchType

    from backend.adapters.cassandra.messages import CassandraMessageStore, _micros, bucket_of
    from backend.adapters.cassandra.schema import connect

    session = connect((f"{servers.HOST}:{servers.CASSANDRA_PORT}",), keyspace)
    store = CassandraMessageStore(session)
    chat, people = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    insert = store._insert  # the store's own prepared statement
    insert_bucket = store._insert_bucket

    ids: list[str] = []
    buckets: set[str] = set()

    def batches() -> Iterator[tuple[BatchStatement, tuple[()]]]:
        """Unlogged batches of rows of one partition: one mutation each for the node, and far
        fewer requests for the driver (the client, not the node, is what limits here)."""
        batch, batch_bucket = BatchStatement(batch_type=BatchType.UNLOGGED), ""
        for i, (message_id, at) in enumerate(synthetic_ids(count, end)):
            ids.append(message_id)
            bucket = bucket_of(message_id)
            if bucket != batch_bucket or len(batch) == ROWS_PER_BATCH:
                if len(batch):
                    yield batch, ()
                batch, batch_bucket = BatchStatement(batch_type=BatchType.UNLOGGED), bucket
                buckets.add(bucket)
            content = dump_content(text_content(f"message {i}"))
            row = (chat, bucket, message_id, people[i % 2], None, "text", content, _micros(at))
            batch.add(insert, row)
        if len(batch):
            yield batch, ()

    started = time.perf_counter()
    for _ in execute_concurrent(
        session, batches(), concurrency=32, raise_on_first_error=True, results_generator=True
    ):
        pass
    execute_concurrent_with_args(session, insert_bucket, [(chat, b) for b in buckets])
    rate = count / (time.perf_counter() - started)
    return store, str(chat), str(people[0]), ids, rate


# --- main -------------------------------------------------------------------------------------


def run(name: str, loader: Callable[[], tuple[MessageStore, str, str, list[str], float]],
        samples: int, sends: int, settle: float = 0) -> None:  # fmt: skip
    print(f"\n== {name}")
    store, chat_id, sender, ids, bulk_rate = loader()
    print(f"bulk ingest:      {len(ids):,} messages at {bulk_rate:,.0f} messages/s")
    if settle:
        # A store just loaded in bulk is still flushing and compacting what it took in; a
        # long-lived chat's history is not. Give it time before timing reads.
        time.sleep(settle)
    rng = random.Random(7)
    time_pages(store, chat_id, [""] * 5 + [ids[-1000]] * 5)  # warm connections and caches
    newest = time_pages(store, chat_id, [""] * samples)
    deep = time_pages(store, chat_id, [ids[rng.randrange(PAGE, len(ids))] for _ in range(samples)])
    oldest = time_pages(store, chat_id, [ids[rng.randrange(PAGE, PAGE * 20)] for _ in range(20)])
    print(f"newest page:      {percentiles(newest)}   ({samples} pages of {PAGE})")
    print(f"deep pages:       {percentiles(deep)}   (random cursors over the whole chat)")
    print(f"oldest pages:     {percentiles(oldest)}   (cursors among the first 1,000)")
    rate = send_path_rate(store, chat_id, sender, sends)
    print(
        f"send-path ingest: {rate:,.0f} messages/s ({sends} add_message calls in a row, one chat)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,cassandra")
    parser.add_argument("--samples", type=int, default=300, help="pages timed per kind")
    parser.add_argument("--sends", type=int, default=500, help="add_message calls timed")
    parser.add_argument(
        "--settle", type=float, default=30, help="seconds Cassandra gets after the load"
    )
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    end = datetime.now(UTC) - timedelta(days=1)  # live sends come after the history
    print(f"history_paging: {args.messages:,} messages in one chat, {os.cpu_count()} cores")

    if "sqlite" in stores:
        run("SQLite", lambda: load_sqlite(args.messages, end), args.samples, args.sends)
    if "cassandra" in stores:
        started_here = not servers.READY["cassandra"]()
        servers.start(("cassandra",))
        keyspace = f"chat_bench_{os.getpid()}"
        try:
            run(
                "Cassandra (one local node)",
                lambda: load_cassandra(args.messages, end, keyspace),
                args.samples,
                args.sends,
                args.settle,
            )
        finally:
            from backend.adapters.cassandra.schema import connect

            session = connect((f"{servers.HOST}:{servers.CASSANDRA_PORT}",), keyspace)
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
            session.cluster.shutdown()
            if started_here:
                servers.stop(("cassandra",))


if __name__ == "__main__":
    main()
