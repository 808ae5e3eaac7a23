"""History paging and ingest with a very long chat, on SQLite and on Cassandra.

Loads one chat with --messages messages (default 1,000,000) spread over two years (so the
Cassandra store has ~700 day partitions, as a real long-lived chat would), then measures, per
store, through the MessageStore port:

  * bulk ingest rate (the loader: batched inserts on SQLite, concurrent async writes on
    Cassandra) - how fast a store takes rows, e.g. for a migration;
  * send-path ingest rate: ``add_message`` one after another on the same chat, exactly as
    sends do (per-chat serialisation, dedup, id made inside the write);
  * history page latency (page of 50), read as a member does (``viewer_id`` given: their
    deleted-for-me messages left out, reactions read with the page): the newest page, and deep
    pages before random cursors anywhere in the history; p50 / p95 / max in milliseconds.

Message actions are in the loaded history too: every --reactions-every'th message has a
reaction (every third of those a second one), and the reader deleted every --hidden-every'th
for themselves (0 turns either off).

    python bench/history_paging.py                       # 1M messages, both stores
    python bench/history_paging.py --messages 20000 --stores cassandra
    python bench/history_paging.py --reactions-every 0 --hidden-every 0   # plain messages
    python bench/history_paging.py --stores cassandra --against dbf080c

--against REV also times the Cassandra store as it was at git revision REV (its messages.py,
loaded from git) on the same data, page for page in turn with today's, so both see the same
machine load: the before/after of a change. It reads as that revision did (no viewer).

Cassandra is the test node of scripts/servers.py (started if needed, stopped again if this
script started it); its keyspace is dropped at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import types
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from backend.adapters.sql.accounts import SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine, upgrade_schema
from backend.adapters.sql.messages import HIDDEN, MESSAGES, REACTIONS, SqlMessageStore
from backend.content import dump_content, text_content
from backend.ids import new_message_id
from backend.models import Chat, ChatKind, Member, Message, Role, User
from backend.ports import MessageStore
from scripts import servers

REPO = Path(__file__).resolve().parents[1]
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


class Samples(list[float]):
    """Wall-clock milliseconds per page, and this process's CPU milliseconds per page beside
    them (the driver's threads included): what the client pays, which a loaded machine
    stretches far less than the wall-clock time."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu: list[float] = []


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    cpu = getattr(samples, "cpu", [])
    return (
        f"p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms  max {ordered[-1]:6.2f} ms"
        + (f"  client CPU p50 {statistics.median(cpu):5.2f} ms" if cpu else "")
    )


@dataclasses.dataclass(frozen=True)
class Actions:
    """Which loaded messages carry reactions and which the reader hid (0 = none)."""

    reactions_every: int
    hidden_every: int

    def reactions(self, i: int) -> int:
        if not self.reactions_every or i % self.reactions_every:
            return 0
        return 2 if (i // self.reactions_every) % 3 == 0 else 1

    def hidden(self, i: int) -> bool:
        return bool(self.hidden_every) and i % self.hidden_every == self.hidden_every // 2


@dataclasses.dataclass
class Loaded:
    store: MessageStore
    chat_id: str
    sender: str
    reader: str  # whose history is paged: the one who hid messages
    ids: list[str]
    rate: float
    session: object = None  # Cassandra's, for --against


PageReader = Callable[[str], list[Message]]  # a cursor -> the page of PAGE before it


def time_pages(readers: dict[str, PageReader], cursors: list[str]) -> dict[str, Samples]:
    """Each reader's page before each cursor, the readers taking turns page by page."""
    samples = {label: Samples() for label in readers}
    for cursor in cursors:
        for label, read in readers.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            page = read(cursor)
            samples[label].append((time.perf_counter() - started) * 1000)
            samples[label].cpu.append((time.process_time() - started_cpu) * 1000)
            assert len(page) == PAGE, f"a page before {cursor!r} held only {len(page)} messages"
    return samples


def store_at(revision: str, session: object) -> MessageStore:
    """The Cassandra message store of an earlier git revision, on ``session``."""
    source = subprocess.run(
        ["git", "show", f"{revision}:backend/adapters/cassandra/messages.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"cassandra_messages_at_{revision}")
    exec(compile(source, f"{revision}:messages.py", "exec"), module.__dict__)  # our own history
    store: MessageStore = module.CassandraMessageStore(session)
    return store


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


def load_sqlite(count: int, end: datetime, actions: Actions) -> Loaded:
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
    reactions: list[dict[str, object]] = []
    hidden: list[dict[str, object]] = []
    with engine.begin() as conn:
        for i, (message_id, at) in enumerate(synthetic_ids(count, end)):
            ids.append(message_id)
            for who in range(actions.reactions(i)):
                reactions.append(
                    {
                        "message_id": message_id,
                        "user_id": people[who].id,
                        "chat_id": chat.id,
                        "emoji": "👍",
                        "reacted_at": at,
                    }
                )
            if actions.hidden(i):
                hidden.append(
                    {
                        "user_id": people[1].id,
                        "message_id": message_id,
                        "chat_id": chat.id,
                        "hidden_at": at,
                    }
                )
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
        for table, rows in ((REACTIONS, reactions), (HIDDEN, hidden)):
            if rows:
                conn.execute(sa.insert(table), rows)
    rate = count / (time.perf_counter() - started)
    return Loaded(SqlMessageStore(engine), chat.id, people[0].id, people[1].id, ids, rate)


# --- Cassandra --------------------------------------------------------------------------------


def load_cassandra(count: int, end: datetime, keyspace: str, actions: Actions) -> Loaded:
    from cassandra.concurrent import execute_concurrent, execute_concurrent_with_args
    from cassandra.query import UNSET_VALUE, BatchStatement, BatchType

    from backend.adapters.cassandra.messages import CassandraMessageStore
    from backend.adapters.cassandra.rows import bucket_of, micros
    from backend.adapters.cassandra.schema import connect

    session = connect((f"{servers.HOST}:{servers.CASSANDRA_PORT}",), keyspace)
    store = CassandraMessageStore(session)
    chat, people = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    insert = session.prepare(
        "INSERT INTO messages (chat_id, bucket, message_id, sender_id, content_type, content, "
        "created_us, reactions) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    insert_bucket = session.prepare("INSERT INTO chat_buckets (chat_id, bucket) VALUES (?, ?)")
    insert_hidden = session.prepare(
        "INSERT INTO hidden_by_chat (user_id, chat_id, message_id, hidden_us) VALUES (?, ?, ?, ?)"
    )
    hidden: list[tuple[object, ...]] = []

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
            # Reactions are a map column of the row (UNSET_VALUE: none, not a null).
            reactions = {people[w]: ("👍", micros(at)) for w in range(actions.reactions(i))}
            row = (chat, bucket, message_id, people[i % 2], "text", content, micros(at))
            batch.add(insert, (*row, reactions or UNSET_VALUE))
            if actions.hidden(i):
                hidden.append((people[1], chat, message_id, micros(at)))
        if len(batch):
            yield batch, ()

    started = time.perf_counter()
    for _ in execute_concurrent(
        session, batches(), concurrency=32, raise_on_first_error=True, results_generator=True
    ):
        pass
    execute_concurrent_with_args(session, insert_bucket, [(chat, b) for b in buckets])
    execute_concurrent_with_args(session, insert_hidden, hidden, concurrency=32)
    rate = count / (time.perf_counter() - started)
    return Loaded(store, str(chat), str(people[0]), str(people[1]), ids, rate, session)


# --- main -------------------------------------------------------------------------------------


def run(name: str, loader: Callable[[], Loaded], samples: int, sends: int,
        settle: float = 0, against: str = "") -> None:  # fmt: skip
    print(f"\n== {name}")
    loaded = loader()
    store, chat_id, sender, reader, ids = (
        loaded.store,
        loaded.chat_id,
        loaded.sender,
        loaded.reader,
        loaded.ids,
    )
    print(f"bulk ingest:      {len(ids):,} messages at {loaded.rate:,.0f} messages/s")
    if settle:
        # A store just loaded in bulk is still flushing and compacting what it took in; a
        # long-lived chat's history is not. Give it time before timing reads.
        time.sleep(settle)
    rng = random.Random(7)
    readers: dict[str, PageReader] = {
        "": lambda cursor: store.list_before(chat_id, cursor, PAGE, viewer_id=reader)
    }
    if against:
        before = store_at(against, loaded.session)
        readers[f" at {against}"] = lambda cursor: before.list_before(chat_id, cursor, PAGE)
    time_pages(readers, [""] * 5 + [ids[-1000]] * 5)  # warm connections and caches
    deep_cursors = [ids[rng.randrange(PAGE * 2, len(ids))] for _ in range(samples)]
    oldest_cursors = [ids[rng.randrange(PAGE * 2, PAGE * 20)] for _ in range(20)]
    kinds = [
        ("newest page", [""] * samples, f"({samples} pages of {PAGE})"),
        ("deep pages", deep_cursors, "(random cursors over the whole chat)"),
        ("oldest pages", oldest_cursors, "(cursors among the first 1,000)"),
    ]
    for kind, cursors, note in kinds:
        for label, timed in time_pages(readers, cursors).items():
            print(f"{kind + label + ':':<27} {percentiles(timed)}   {note}")
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
    parser.add_argument("--reactions-every", type=int, default=10, help="0: no reactions")
    parser.add_argument("--hidden-every", type=int, default=100, help="0: nothing hidden")
    parser.add_argument(
        "--against", default="", help="also time Cassandra's store at this git revision"
    )
    args = parser.parse_args()
    actions = Actions(args.reactions_every, args.hidden_every)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    end = datetime.now(UTC) - timedelta(days=1)  # live sends come after the history
    print(f"history_paging: {args.messages:,} messages in one chat, {os.cpu_count()} cores")
    print(
        f"reactions on every {args.reactions_every or '-'}th message, "
        f"the reader hid every {args.hidden_every or '-'}th; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )

    if "sqlite" in stores:
        run("SQLite", lambda: load_sqlite(args.messages, end, actions), args.samples, args.sends)
    if "cassandra" in stores:
        started_here = not servers.READY["cassandra"]()
        servers.start(("cassandra",))
        keyspace = f"chat_bench_{os.getpid()}"
        try:
            run(
                "Cassandra (one local node)",
                lambda: load_cassandra(args.messages, end, keyspace, actions),
                args.samples,
                args.sends,
                args.settle,
                args.against,
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
