"""Search latency: 1,000,000 messages across 1,000 chats, one user who may read 100 of them.

Loads a database (through the app's own migrations) with direct chats whose messages use a
Zipf-distributed vocabulary (Latin, Cyrillic and Arabic words), then times
``SearchService.search_messages`` - the whole service path, readable ranges included - for
one-word and two-word queries over common, middling and rare words, as whole words and as
prefixes. Prints p50/p99 per kind and the load average. Target: p50 <= 50 ms, p99 <= 200 ms.

``--engine sqlite`` (the default) loads a SQLite file (FTS5); ``--engine postgres`` loads a
database on the PostgreSQL of ``scripts/servers.py`` (started if needed, stopped again if this
script started it; the database is dropped unless ``--keep``).

    python bench/search.py                       # the full million (loading takes minutes)
    python bench/search.py --messages 100000     # a quick run
    python bench/search.py --data /tmp/s --keep  # keep the database; later runs reuse it
    python bench/search.py --engine postgres --keep
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from backend.adapters.sql.engine import upgrade_schema
from backend.adapters.sql.search import FTS_TABLE, chat_token, kind_token
from backend.adapters.sql.search_postgres import chat_key
from backend.adapters.sql.search_postgres import index_row as postgres_index_row
from backend.container import build_services
from backend.content import dump_content, load_content
from backend.models import Message
from backend.search_text import fold, index_text
from backend.settings import Settings
from scripts import servers

VOCABULARY = 5000
BATCH = 50_000
START = datetime(2025, 1, 1, tzinfo=UTC)
CONSONANTS = "bcdfghjklmnprstvz"
VOWELS = "aeiou"
CYRILLIC = "бвгджзклмнпрстфхцчшаеиоуыэюяё"
ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def vocabulary(rng: random.Random) -> list[str]:
    """Distinct words: mostly Latin-like, one in ten Cyrillic, one in twenty Arabic."""
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < VOCABULARY:
        i = len(words)
        if i % 20 == 7:
            word = "".join(rng.choice(ARABIC) for _ in range(rng.randint(3, 7)))
        elif i % 10 == 3:
            word = "".join(rng.choice(CYRILLIC) for _ in range(rng.randint(4, 9)))
        else:
            syllables = rng.randint(2, 4)
            word = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables))
        if fold(word) not in seen:
            seen.add(fold(word))
            words.append(word)
    return words


def message_id(moment: datetime, counter: int) -> str:
    """A UUIDv7 for ``moment`` (ids sort in time order, as the app's do)."""
    ms = int(moment.timestamp() * 1000)
    value = (ms << 80) | (0x7 << 76) | ((counter & 0xFFF) << 64) | (0b10 << 62)
    value |= random.getrandbits(62)
    return str(uuid.UUID(int=value))


def db_time(moment: datetime) -> str:
    # How the UTCDateTime column stores times on SQLite (naive UTC).
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@dataclass
class Corpus:
    """The people, chats and words of one load (the messages come in batches)."""

    reader: str
    users: list[str]
    chat_ids: list[str]
    pairs: list[tuple[str, str]]
    words: list[str]
    folded: list[str]


@dataclass
class Batch:
    """Messages as rows: (id, chat index, sender, content JSON, moment), and their folded
    words (what the index holds; checked against the app's own indexing once)."""

    rows: list[tuple[str, int, str, str, datetime]]
    bodies: list[list[str]]


def corpus(chats: int, readable: int, seed: int) -> tuple[Corpus, random.Random]:
    rng = random.Random(seed)
    random.seed(seed)
    words = vocabulary(rng)
    reader = str(uuid.uuid4())
    others = [str(uuid.uuid4()) for _ in range(chats + 1)]
    chat_ids = [str(uuid.uuid4()) for _ in range(chats)]
    # The reader is in the first ``readable`` chats; the others are between other people.
    pairs = [(reader if i < readable else others[i + 1], others[i]) for i in range(len(chat_ids))]
    folded = [fold(w) for w in words]
    return Corpus(reader, [reader, *others], chat_ids, pairs, words, folded), rng


def batches(data: Corpus, rng: random.Random, messages: int) -> Iterator[Batch]:
    cumulative = []
    total = 0.0
    for rank in range(1, VOCABULARY + 1):
        total += 1 / rank
        cumulative.append(total)
    step = timedelta(days=365) / max(messages, 1)
    done = 0
    while done < messages:
        n = min(BATCH, messages - done)
        lengths = [rng.randint(3, 14) for _ in range(n)]
        picks = rng.choices(range(VOCABULARY), cum_weights=cumulative, k=sum(lengths))
        batch = Batch([], [])
        at = 0
        for i, length in enumerate(lengths):
            chosen = picks[at : at + length]
            at += length
            k = done + i
            chat = rng.randrange(len(data.chat_ids))
            moment = START + step * k
            body = " ".join(data.words[w] for w in chosen)
            content = {"type": "text", "text": body.capitalize()}
            sender = rng.choice(data.pairs[chat])
            batch.rows.append((message_id(moment, k), chat, sender, dump_content(content), moment))
            batch.bodies.append([data.folded[w] for w in chosen])
        done += n
        yield batch


def check_indexing(batch: Batch) -> None:
    """The loaders index from pre-folded words: they must be exactly what the app indexes."""
    for (mid, _chat, _sender, content_json, _at), body in zip(
        batch.rows[:200], batch.bodies[:200], strict=True
    ):
        assert " ".join(body) == index_text(json.loads(content_json)), mid


def load_sqlite(
    path: Path, messages: int, chats: int, readable: int, seed: int
) -> tuple[str, list[str]]:
    """Fill the database; returns the reader's user id and the vocabulary (rank order)."""
    data, rng = corpus(chats, readable, seed)
    upgrade_schema(f"sqlite:///{path}")
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")  # a bench load: durability is not the point
    created = db_time(START)
    db.executemany(
        "INSERT INTO users (id, username, display_name, display_name_key, password_hash,"
        " created_at) VALUES (?, ?, ?, ?, 'x', ?)",
        [(u, f"user{i}", f"User {i}", f"user {i}", created) for i, u in enumerate(data.users)],
    )
    db.executemany(
        "INSERT INTO chats (id, kind, title, direct_key, created_by, created_at, last_message_id,"
        " last_preview, last_sender_id) VALUES (?, 'direct', '', ?, ?, ?, '', '', '')",
        [(c, f"{a}:{b}", a, created) for c, (a, b) in zip(data.chat_ids, data.pairs, strict=True)],
    )
    db.executemany(
        "INSERT INTO chat_members (chat_id, user_id, role, joined_at, delivered_upto, read_upto,"
        " is_listed) VALUES (?, ?, 'member', ?, '', '', 1)",
        [(c, u, created) for c, pair in zip(data.chat_ids, data.pairs, strict=True) for u in pair],
    )
    db.commit()
    tokens = [chat_token(c) for c in data.chat_ids]
    text_kind = kind_token("text")
    started = time.perf_counter()
    done = 0
    for batch in batches(data, rng, messages):
        rows = [
            (mid, data.chat_ids[chat], sender, content, db_time(at))
            for mid, chat, sender, content, at in batch.rows
        ]
        # The index row the message store writes (rowid = the message's: inserted in order).
        pairs = zip(batch.rows, batch.bodies, strict=True)
        index = [
            (done + i + 1, " ".join(body), tokens[chat], text_kind, mid)
            for i, ((mid, chat, *_rest), body) in enumerate(pairs)
        ]
        db.executemany(
            "INSERT INTO messages (id, chat_id, sender_id, content, created_at, forwarded)"
            " VALUES (?, ?, ?, ?, ?, 0)",
            rows,
        )
        db.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, body, chat, kind, message_id) VALUES (?, ?, ?, ?, ?)",
            index,
        )
        db.commit()
        if done == 0:
            check_indexing(batch)
            for rowid, *_rest, mid in index[:200]:
                [(found,)] = db.execute("SELECT id FROM messages WHERE rowid = ?", (rowid,))
                assert found == mid
        done += len(rows)
        rate = done / (time.perf_counter() - started)
        print(f"\rloaded {done:,} messages ({rate:,.0f}/s)", end="", flush=True)
    print()
    db.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return data.reader, data.words


def _tsvector(lexemes: list[str]) -> str:
    """A tsvector's text form (what COPY takes), of lexemes exactly as given."""
    return " ".join("'" + x.replace("\\", "\\\\").replace("'", "''") + "'" for x in lexemes)


def load_postgres(
    url: str, messages: int, chats: int, readable: int, seed: int
) -> tuple[str, list[str]]:
    """Fill the database with COPY (the GIN index is built once at the end, as migration 0008
    does); returns the reader's user id and the vocabulary (rank order)."""
    data, rng = corpus(chats, readable, seed)
    upgrade_schema(url)
    with psycopg.connect(url) as db:
        db.execute("DROP INDEX ix_message_search_words")
        with db.cursor() as cur:
            columns = "id, username, display_name, display_name_key, password_hash, created_at"
            with cur.copy(f"COPY users ({columns}) FROM STDIN") as copy:
                for i, u in enumerate(data.users):
                    copy.write_row((u, f"user{i}", f"User {i}", f"user {i}", "x", START))
            columns = "id, kind, title, direct_key, created_by, created_at, last_message_id, "
            columns += "last_preview, last_sender_id"
            with cur.copy(f"COPY chats ({columns}) FROM STDIN") as copy:
                for c, (a, b) in zip(data.chat_ids, data.pairs, strict=True):
                    copy.write_row((c, "direct", "", f"{a}:{b}", a, START, "", "", ""))
            columns = "chat_id, user_id, role, joined_at, delivered_upto, read_upto, is_listed"
            with cur.copy(f"COPY chat_members ({columns}) FROM STDIN") as copy:
                for c, pair in zip(data.chat_ids, data.pairs, strict=True):
                    for u in pair:
                        copy.write_row((c, u, "member", START, "", "", True))
        db.commit()
        keys = [chat_key(c) for c in data.chat_ids]
        started = time.perf_counter()
        done = 0
        for batch in batches(data, rng, messages):
            with db.cursor() as cur:
                columns = "id, chat_id, sender_id, content, created_at, forwarded"
                with cur.copy(f"COPY messages ({columns}) FROM STDIN") as copy:
                    for mid, chat, sender, content, at in batch.rows:
                        copy.write_row((mid, data.chat_ids[chat], sender, content, at, False))
                columns = "message_id, chat_id, sender_id, created_at, kind, words"
                with cur.copy(f"COPY message_search ({columns}) FROM STDIN") as copy:
                    for (mid, chat, sender, _content, at), body in zip(
                        batch.rows, batch.bodies, strict=True
                    ):
                        words = _tsvector(sorted({f"{keys[chat]}:{w}" for w in body}))
                        copy.write_row((mid, data.chat_ids[chat], sender, at, "text", words))
            db.commit()
            if done == 0:
                check_indexing(batch)
                _check_postgres_rows(db, batch, data)
            done += len(batch.rows)
            rate = done / (time.perf_counter() - started)
            print(f"\rloaded {done:,} messages ({rate:,.0f}/s)", end="", flush=True)
        print()
        db.execute("CREATE INDEX ix_message_search_words ON message_search USING gin (words)")
        db.commit()
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("VACUUM ANALYZE")
    return data.reader, data.words


def _check_postgres_rows(db: psycopg.Connection, batch: Batch, data: Corpus) -> None:
    """The COPY'd rows hold exactly what the app's own indexing writes."""
    for mid, chat, sender, content, at in batch.rows[:200]:
        message = Message(mid, data.chat_ids[chat], sender, load_content(content), at)
        row = postgres_index_row(message)
        assert row is not None
        [(same,)] = db.execute(
            "SELECT words = array_to_tsvector(%s::text[]) FROM message_search"
            " WHERE message_id = %s",
            (row["lexemes"], mid),
        )
        assert same, mid


def queries(words: list[str], rng: random.Random, count: int) -> dict[str, list[str]]:
    """One- and two-word queries over common (top 50), middling and rare words, a third of
    them typed as prefixes (the first 3-4 letters)."""

    def word() -> str:
        band = rng.choice((range(0, 50), range(50, 1000), range(1000, VOCABULARY)))
        chosen = words[rng.choice(band)]
        return chosen[: rng.randint(3, 4)] if rng.random() < 1 / 3 else chosen

    return {
        "one word": [word() for _ in range(count)],
        "two words": [f"{word()} {word()}" for _ in range(count)],
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--readable", type=int, default=100, help="chats the reader is in")
    parser.add_argument("--queries", type=int, default=300, help="per kind")
    parser.add_argument("--data", type=Path, help="data directory (default: a fresh temp dir)")
    parser.add_argument("--keep", action="store_true", help="reuse/keep the loaded database")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--candidates", type=int, help="the first plan's window (default: Settings')"
    )
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="bench-search-"))
    data.mkdir(parents=True, exist_ok=True)
    try:
        if args.engine == "postgres":
            run_postgres(args, data)
        else:
            run_sqlite(args, data)
    finally:
        if args.data is None and not args.keep:  # a throwaway directory: don't leave it behind
            shutil.rmtree(data, ignore_errors=True)


def run_sqlite(args: argparse.Namespace, data: Path) -> None:
    settings = Settings(data_dir=data)
    path = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    marker = data / f"loaded-{args.messages}-{args.chats}-{args.readable}-{args.seed}"
    if args.keep and marker.exists():
        reader, words = marker.read_text().split("\n", 1)[0], vocabulary(random.Random(args.seed))
        print(f"reusing {path}")
    else:
        for stale in data.glob("chat.db*"):
            stale.unlink()
        started = time.perf_counter()
        reader, words = load_sqlite(path, args.messages, args.chats, args.readable, args.seed)
        print(f"load: {time.perf_counter() - started:.0f} s, {path.stat().st_size / 2**20:.0f} MiB")
        marker.write_text(reader)
    measure(settings, reader, words, args)


def run_postgres(args: argparse.Namespace, data: Path) -> None:
    started_here = not servers.READY["postgres"]()
    servers.start(("postgres",))
    server = servers.urls()["DATABASE_URL"]
    name = f"bench_search_{args.messages}_{args.chats}_{args.readable}_{args.seed}"
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        with psycopg.connect(server, autocommit=True) as admin:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            exists = admin.execute(query, (name,)).fetchone()
            if not (args.keep and exists):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}"')
        if args.keep and exists:
            with psycopg.connect(url) as db:  # the reader is the one member of many chats
                [(reader,)] = db.execute(
                    "SELECT user_id FROM chat_members GROUP BY user_id"
                    " ORDER BY count(*) DESC LIMIT 1"
                )
            words = vocabulary(random.Random(args.seed))
            print(f"reusing database {name}")
        else:
            started = time.perf_counter()
            reader, words = load_postgres(url, args.messages, args.chats, args.readable, args.seed)
            with psycopg.connect(url) as db:
                [(size,)] = db.execute("SELECT pg_database_size(current_database())")
            print(f"load: {time.perf_counter() - started:.0f} s, {size / 2**20:.0f} MiB")
        measure(Settings(data_dir=data, database_url=url), reader, words, args)
    finally:
        if not args.keep:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if started_here:
            servers.stop(("postgres",))


def measure(settings: Settings, reader: str, words: list[str], args: argparse.Namespace) -> None:
    if args.candidates:
        settings = dataclasses.replace(settings, search_candidates=args.candidates)
    services = build_services(settings)
    allowed = {r.chat_id for r in services.chats.readable_ranges(reader)}
    assert len(allowed) == args.readable
    rng = random.Random(args.seed + 1)
    print(
        f"\n{args.engine}: {args.messages:,} messages, {args.chats:,} chats, the reader in"
        f" {args.readable}; {args.queries} queries per kind, 20 results a page,"
        f" {settings.search_candidates} candidates"
    )
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for kind, texts in queries(words, rng, args.queries).items():
        for text in texts[:20]:  # warm the page cache and the statement caches
            services.search.search_messages(reader, text)
        cpu = CpuProbe(settings.database_url)
        timings, used, waited, hits = [], [], [], []
        for text in texts:
            before = cpu.read()
            started = time.perf_counter()
            page = services.search.search_messages(reader, text)
            timings.append((time.perf_counter() - started) * 1000)
            after = cpu.read()
            used.append((after[0] - before[0]) / 1e6)
            waited.append((after[1] - before[1]) / 1e6)
            hits.append(len(page.hits))
            assert {h.message.chat_id for h in page.hits} <= allowed, "a hit from another chat"
        print(
            f"{kind:>9}: p50 {percentile(timings, 50):6.1f} ms   p99 {percentile(timings, 99):6.1f}"
            f" ms   max {max(timings):6.1f} ms   mean hits {statistics.mean(hits):4.1f}"
            f"   (target p50 <= 50, p99 <= 200)"
        )
        print(
            f"{'':>9}  on a CPU (this process + its database backends): p50"
            f" {percentile(used, 50):6.1f} ms   p99 {percentile(used, 99):6.1f} ms;"
            f" waiting for a CPU: mean {statistics.mean(waited):6.1f} ms"
        )
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


class CpuProbe:
    """Nanoseconds this process and its PostgreSQL backends spent on a CPU, and waiting for
    one (``/proc/<pid>/schedstat``): what a query costs whatever else the machine is doing,
    and how much of its latency was a queue for a core. (Linux; PostgreSQL on this machine.)"""

    def __init__(self, database_url: str) -> None:
        threads = os.listdir("/proc/self/task")
        self._tasks = [Path(f"/proc/self/task/{t}/schedstat") for t in threads]
        self._backends: list[Path] = []
        if database_url:
            with psycopg.connect(database_url) as db:
                pids = db.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()"
                ).fetchall()
            self._backends = [Path(f"/proc/{pid}/schedstat") for (pid,) in pids]

    def read(self) -> tuple[int, int]:
        on_cpu = waiting = 0
        for path in (*self._tasks, *self._backends):
            try:
                ran, queued, _slices = path.read_text().split()
            except OSError:
                continue  # a thread or backend that ended
            on_cpu, waiting = on_cpu + int(ran), waiting + int(queued)
        return on_cpu, waiting


if __name__ == "__main__":
    main()
