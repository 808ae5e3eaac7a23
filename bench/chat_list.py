"""The per-user chat list: its cost on a send to a group of 256, and reading a list of 500 chats.

Through the ChatListStore port, on the real servers of scripts/servers.py (started if needed,
stopped again if this script started them), chats and memberships in PostgreSQL:

  * record_activity for one message to a group of 256 (what a send adds):
      - cassandra: ``chats_by_user`` clustered by chat, one blind write per member, in small
        unlogged batches grouped by node, sent at once (what the product does);
      - cassandra, one write per member: the same rows as 256 concurrent requests;
      - seed layout: ``chats_by_user`` clustered by last_activity (seed section 6): per member,
        read where the row is now, then delete it and insert the new one (a logged batch with
        the lookup table that says where it is);
      - postgresql: the SQL store (one UPDATE of the chat's row);
  * list_user_chats for a user in 500 chats (PostgreSQL memberships + the list), and the
    Cassandra partition read alone; the seed layout's read (already in order) for comparison;
  * a whole send_message to the group of 256 on PostgreSQL + Cassandra + Redis (services as
    the app builds them).

CPU is counted for the app (this process, the driver's threads included) and for the
Cassandra node (from /proc), both on this machine.

    python bench/chat_list.py --runs 3 --sends 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cassandra.cluster import Session
from cassandra.query import BatchStatement, BatchType

from backend.adapters.cassandra.chat_list import CassandraChatList, write_time_of
from backend.adapters.cassandra.schema import connect
from backend.adapters.sql.accounts import SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine
from backend.container import build_services
from backend.ids import new_message_id
from backend.models import Chat, ChatKind, Member, Role, User
from backend.ports import ChatListStore
from backend.settings import Settings
from scripts import servers
from tests.engines import drop_postgres_database, fresh_postgres_database

GROUP, CHATS = 256, 500
SEED_TABLES = [
    "CREATE TABLE IF NOT EXISTS seed_chats_by_user (user_id uuid, last_activity timestamp, "
    "chat_id uuid, last_message text, PRIMARY KEY (user_id, last_activity, chat_id)) "
    "WITH CLUSTERING ORDER BY (last_activity DESC, chat_id ASC)",
    "CREATE TABLE IF NOT EXISTS seed_activity_of (user_id uuid, chat_id uuid, "
    "last_activity timestamp, PRIMARY KEY (user_id, chat_id))",
]


def timed(action: Callable[[], object], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def cassandra_cpu() -> float:
    """Seconds of CPU the test node has used (its pid file is scripts/servers.py's)."""
    pid = (servers.STATE / "cassandra" / "cassandra.pid").read_text().strip()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):7.2f} ms  p95 {p95:7.2f} ms"


class SeedLayout:
    """The seed's chats_by_user, kept correct the cheapest way we know (no LWT, so two sends
    to one chat at once could still leave two rows for it)."""

    def __init__(self, session: Session) -> None:
        for cql in SEED_TABLES:
            session.execute(cql)
        self._s = session
        self._where = session.prepare(
            "SELECT last_activity FROM seed_activity_of WHERE user_id = ? AND chat_id = ?"
        )
        self._delete = session.prepare(
            "DELETE FROM seed_chats_by_user WHERE user_id = ? AND last_activity = ? AND chat_id = ?"
        )
        self._insert = session.prepare(
            "INSERT INTO seed_chats_by_user (user_id, last_activity, chat_id, last_message) "
            "VALUES (?, ?, ?, ?)"
        )
        self._note = session.prepare(
            "INSERT INTO seed_activity_of (user_id, chat_id, last_activity) VALUES (?, ?, ?)"
        )
        self._list = session.prepare(
            "SELECT chat_id, last_activity, last_message FROM seed_chats_by_user WHERE user_id = ?"
        )

    def record(self, chat: uuid.UUID, members: list[uuid.UUID], at: datetime, text: str) -> None:
        olds = [self._s.execute_async(self._where, (m, chat)) for m in members]
        writes = []
        for member, old in zip(members, olds, strict=True):
            row = old.result().one()
            batch = BatchStatement(batch_type=BatchType.LOGGED)
            if row is not None:
                batch.add(self._delete, (member, row.last_activity, chat))
            batch.add(self._insert, (member, at, chat, text))
            batch.add(self._note, (member, chat, at))
            writes.append(self._s.execute_async(batch))
        for write in writes:
            write.result()

    def read(self, user: uuid.UUID) -> list[object]:
        return list(self._s.execute(self._list, (user,)))


def people(users: SqlUserStore, count: int) -> list[User]:
    now = datetime.now(UTC)
    made = [User(str(uuid.uuid4()), f"u{uuid.uuid4().hex[:12]}", "U", now) for _ in range(count)]
    for user in made:
        users.add_user(user, "x")
    return made


def store_benches(database_url: str, session: Session, sends: int) -> None:
    engine = create_sql_engine(database_url)
    chats, users = SqlChatStore(engine), SqlUserStore(engine)
    stores: dict[str, ChatListStore] = {
        "cassandra": CassandraChatList(session, chats),
        "postgresql": chats,
    }
    seed = SeedLayout(session)
    members = people(users, GROUP)
    now = datetime.now(UTC)
    group = Chat(str(uuid.uuid4()), ChatKind.GROUP, "Bench", members[0].id, now)
    chats.add_group_chat(group, [Member(group.id, u.id, Role.MEMBER, now) for u in members])
    ids = [u.id for u in members]

    def send_to(store: ChatListStore) -> Callable[[], None]:
        return lambda: store.record_activity(
            group.id, new_message_id(), datetime.now(UTC), "a message", ids[0], ids
        )

    insert = session.prepare(
        "INSERT INTO chats_by_user (user_id, chat_id, last) VALUES (?, ?, ?) USING TIMESTAMP ?"
    )
    seed_chat = uuid.UUID(group.id)
    seed_members = [uuid.UUID(i) for i in ids]

    def one_write_per_member() -> None:
        message_id = new_message_id()
        last, stamp = (message_id, 0, "a message", ids[0]), write_time_of(message_id)
        writes = [session.execute_async(insert, (u, seed_chat, last, stamp)) for u in seed_members]
        for write in writes:
            write.result()

    print(f"\nrecord_activity, one message to a group of {GROUP} ({sends} messages)")
    for name, action in (
        ("cassandra, batches by node (product)", send_to(stores["cassandra"])),
        ("cassandra, one write per member", one_write_per_member),
        ("seed layout (read, delete+insert)", lambda: seed.record(
            seed_chat, seed_members, datetime.now(UTC), "a message")),
        ("postgresql (the chat's row)", send_to(stores["postgresql"])),
    ):  # fmt: skip
        action()  # warm (prepared statements, connections)
        cpu, server = time.process_time(), cassandra_cpu()
        samples = timed(action, sends)
        cpu_ms = (time.process_time() - cpu) / sends * 1000
        server_ms = (cassandra_cpu() - server) / sends * 1000
        cpus = f"CPU: app {cpu_ms:5.1f} ms, node {server_ms:5.1f} ms"
        print(f"  {name:36} {summary(samples)}  {cpus}")

    reader = people(users, 1)[0]
    peers = people(users, CHATS)
    base = datetime.now(UTC) - timedelta(days=30)
    for i, peer in enumerate(peers):
        chat = Chat(str(uuid.uuid4()), ChatKind.DIRECT, "", reader.id, base)
        both = [Member(chat.id, u, Role.MEMBER, base) for u in (reader.id, peer.id)]
        chats.add_direct_chat(chat, f"{reader.id}:{peer.id}", both)
        at = base + timedelta(minutes=i)
        for store in stores.values():
            store.record_activity(chat.id, new_message_id(), at, f"m{i}", peer.id, [reader.id])
        seed.record(uuid.UUID(chat.id), [uuid.UUID(reader.id)], at, f"m{i}")
    partition = session.prepare("SELECT chat_id, last FROM chats_by_user WHERE user_id = ?")
    print(f"\nlist_user_chats, a user in {CHATS} chats ({sends} reads)")
    for name, action in (
        ("cassandra (postgresql + partition)", lambda: stores["cassandra"].list_user_chats(
            reader.id)),
        ("  the cassandra partition alone", lambda: list(session.execute(
            partition, (uuid.UUID(reader.id),)))),
        ("  seed layout's partition (in order)", lambda: seed.read(uuid.UUID(reader.id))),
        ("postgresql (one join)", lambda: stores["postgresql"].list_user_chats(reader.id)),
    ):  # fmt: skip
        assert len(action()) == CHATS  # type: ignore[arg-type]
        print(f"  {name:36} {summary(timed(action, sends))}")
    engine.dispose()


def send_bench(database_url: str, keyspace: str, sends: int) -> None:
    settings = Settings(
        data_dir=Path(f"/tmp/bench-chat-list-{os.getpid()}"),
        database_url=database_url,
        redis_url=servers.urls()["REDIS_URL"],
        cassandra_hosts=(f"{servers.HOST}:{servers.CASSANDRA_PORT}",),
        cassandra_keyspace=keyspace,
        password_time_cost=1,
        password_memory_kib=64,
        registrations_per_ip=10**6,
        sends_per_user=10**9,
    )
    services = build_services(settings)
    tag = uuid.uuid4().hex[:6]
    ids = [
        services.accounts.register(f"s{tag}{i}", f"S {i}", "password123")[0].id
        for i in range(GROUP)
    ]
    group = services.groups.create_group(ids[0], "Bench", ids[1:])

    def send() -> None:
        services.messaging.send_message(ids[0], group.id, {"type": "text", "text": "hi all"})

    send()
    print(f"\nsend_message to a group of {GROUP}: PostgreSQL + Cassandra + Redis, no listeners")
    print(f"  {'whole send':36} {summary(timed(send, sends))}")
    close = getattr(services.bus, "close", None)
    if close is not None:
        close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sends", type=int, default=30)
    args = parser.parse_args()
    running_before = {name for name in servers.ALL if servers.READY[name]()}
    servers.start(servers.ALL)
    urls = servers.urls()
    keyspace = f"chat_bench_list_{os.getpid()}"
    database = fresh_postgres_database(urls["DATABASE_URL"], "chat_bench_list")
    session = connect((urls["CASSANDRA_HOSTS"],), keyspace)
    try:
        for run in range(1, args.runs + 1):
            print(f"\n=== run {run} (load average {os.getloadavg()[0]:.2f})")
            store_benches(database, session, args.sends)
            send_bench(database, keyspace, args.sends)
    finally:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        session.cluster.shutdown()
        drop_postgres_database(urls["DATABASE_URL"], database)
        started = tuple(n for n in servers.ALL if n not in running_before)
        if started:
            servers.stop(started)


if __name__ == "__main__":
    main()
