"""Search latency: 1,000,000 messages across 1,000 chats, one user who may read 100 of them.

Loads a SQLite database (through the app's own migrations) with direct chats whose messages use
a Zipf-distributed vocabulary (Latin, Cyrillic and Arabic words), then times
``SearchService.search_messages`` - the whole service path, readable ranges included - for
one-word and two-word queries over common, middling and rare words, as whole words and as
prefixes. Prints p50/p99 per kind. Target: p50 <= 50 ms, p99 <= 200 ms.

    python bench/search.py                       # the full million (loading takes minutes)
    python bench/search.py --messages 100000     # a quick run
    python bench/search.py --data /tmp/s --keep  # keep the database; later runs reuse it
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.adapters.sql.engine import upgrade_schema
from backend.adapters.sql.search import FTS_TABLE, chat_token, kind_token
from backend.container import build_services
from backend.content import dump_content
from backend.search_text import fold, index_text
from backend.settings import Settings

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


def load(path: Path, messages: int, chats: int, readable: int, seed: int) -> tuple[str, list[str]]:
    """Fill the database; returns the reader's user id and the vocabulary (rank order)."""
    rng = random.Random(seed)
    random.seed(seed)
    url = f"sqlite:///{path}"
    upgrade_schema(url)
    words = vocabulary(rng)
    folded = [fold(w) for w in words]
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")  # a bench load: durability is not the point
    created = db_time(START)
    reader = str(uuid.uuid4())
    others = [str(uuid.uuid4()) for _ in range(chats + 1)]
    users = [reader, *others]
    db.executemany(
        "INSERT INTO users (id, username, display_name, display_name_key, password_hash,"
        " created_at) VALUES (?, ?, ?, ?, 'x', ?)",
        [(u, f"user{i}", f"User {i}", f"user {i}", created) for i, u in enumerate(users)],
    )
    chat_ids = [str(uuid.uuid4()) for _ in range(chats)]
    # The reader is in the first ``readable`` chats; the others are between other people.
    pairs = [(reader if i < readable else others[i + 1], others[i]) for i in range(len(chat_ids))]
    db.executemany(
        "INSERT INTO chats (id, kind, title, direct_key, created_by, created_at, last_message_id,"
        " last_preview, last_sender_id) VALUES (?, 'direct', '', ?, ?, ?, '', '', '')",
        [(c, f"{a}:{b}", a, created) for c, (a, b) in zip(chat_ids, pairs, strict=True)],
    )
    db.executemany(
        "INSERT INTO chat_members (chat_id, user_id, role, joined_at, delivered_upto, read_upto,"
        " is_listed) VALUES (?, ?, 'member', ?, '', '', 1)",
        [(c, u, created) for c, pair in zip(chat_ids, pairs, strict=True) for u in pair],
    )
    db.commit()
    tokens = [chat_token(c) for c in chat_ids]
    text_kind = kind_token("text")
    cumulative = []
    total = 0.0
    for rank in range(1, VOCABULARY + 1):
        total += 1 / rank
        cumulative.append(total)
    step = timedelta(days=365) / max(messages, 1)
    started = time.perf_counter()
    done = 0
    while done < messages:
        n = min(BATCH, messages - done)
        lengths = [rng.randint(3, 14) for _ in range(n)]
        picks = rng.choices(range(VOCABULARY), cum_weights=cumulative, k=sum(lengths))
        rows, index = [], []
        at = 0
        for i, length in enumerate(lengths):
            chosen = picks[at : at + length]
            at += length
            k = done + i
            chat = rng.randrange(chats)
            moment = START + step * k
            mid = message_id(moment, k)
            body = " ".join(words[w] for w in chosen)
            content = {"type": "text", "text": body.capitalize()}
            rows.append(
                (
                    mid,
                    chat_ids[chat],
                    rng.choice(pairs[chat]),
                    dump_content(content),
                    db_time(moment),
                )
            )
            # The index row the message store writes, from pre-folded words (checked below).
            index.append((k + 1, " ".join(folded[w] for w in chosen), tokens[chat], text_kind, mid))
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
        if done == 0:  # the shortcut above must index exactly what the app would
            for (mid, _c, _s, content_json, _t), (rowid, body, *_rest) in zip(
                rows[:200], index[:200], strict=True
            ):
                assert body == index_text(json.loads(content_json)), mid
                [(found,)] = db.execute("SELECT id FROM messages WHERE rowid = ?", (rowid,))
                assert found == mid
        done += n
        rate = done / (time.perf_counter() - started)
        print(f"\rloaded {done:,} messages ({rate:,.0f}/s)", end="", flush=True)
    print()
    db.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return reader, words


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
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--readable", type=int, default=100, help="chats the reader is in")
    parser.add_argument("--queries", type=int, default=300, help="per kind")
    parser.add_argument("--data", type=Path, help="data directory (default: a fresh temp dir)")
    parser.add_argument("--keep", action="store_true", help="reuse/keep the loaded database")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="bench-search-"))
    data.mkdir(parents=True, exist_ok=True)
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
        reader, words = load(path, args.messages, args.chats, args.readable, args.seed)
        print(f"load: {time.perf_counter() - started:.0f} s, {path.stat().st_size / 2**20:.0f} MiB")
        marker.write_text(reader)
    try:
        measure(settings, reader, words, args)
    finally:
        if args.data is None and not args.keep:  # a throwaway database: don't leave it behind
            shutil.rmtree(data, ignore_errors=True)


def measure(settings: Settings, reader: str, words: list[str], args: argparse.Namespace) -> None:
    services = build_services(settings)
    allowed = {r.chat_id for r in services.chats.readable_ranges(reader)}
    assert len(allowed) == args.readable
    rng = random.Random(args.seed + 1)
    print(
        f"\n{args.messages:,} messages, {args.chats:,} chats, the reader in {args.readable};"
        f" {args.queries} queries per kind, 20 results a page"
    )
    for kind, texts in queries(words, rng, args.queries).items():
        for text in texts[:20]:  # warm the page cache and the statement caches
            services.search.search_messages(reader, text)
        timings, hits = [], []
        for text in texts:
            started = time.perf_counter()
            page = services.search.search_messages(reader, text)
            timings.append((time.perf_counter() - started) * 1000)
            hits.append(len(page.hits))
            assert {h.message.chat_id for h in page.hits} <= allowed, "a hit from another chat"
        print(
            f"{kind:>9}: p50 {percentile(timings, 50):6.1f} ms   p99 {percentile(timings, 99):6.1f}"
            f" ms   max {max(timings):6.1f} ms   mean hits {statistics.mean(hits):4.1f}"
            f"   (target p50 <= 50, p99 <= 200)"
        )


if __name__ == "__main__":
    main()
