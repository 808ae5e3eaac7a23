"""The SearchIndex contract, on every arrangement of it:

- ``sqlite``: FTS5, written in the SQLite message store's transactions;
- ``postgres``: full-text search, written in the PostgreSQL message store's transactions;
- ``cassandra+postgres`` / ``cassandra+sqlite``: messages in Cassandra, the index in SQL,
  following the store's writes from outside (``backend.adapters.indexing``).

Every test goes through the stores (a send, an edit, a delete), never the index's own writes,
except the ones that stage what a crash between the two writes leaves behind.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from backend.adapters.indexing import SETTLE, IndexingMessageActionStore, IndexingMessageStore
from backend.adapters.sql.accounts import SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.message_actions import SqlMessageActionStore
from backend.adapters.sql.messages import SqlMessageStore
from backend.adapters.sql.search_backlog import SqlSearchBacklog
from backend.adapters.sql.search_pages import StoreMessageSource
from backend.container import build_search_index
from backend.content import text_content
from backend.ids import MessageIdGenerator
from backend.models import Message, ReadableRange, SearchQuery, SnippetSpan
from backend.ports import MessageActionStore, MessageStore, SearchIndex
from tests.conftest import FakeClock
from tests.contracts.conftest import NOW, make_direct_chat, make_user, sqlite_copy
from tests.engines import empty_tables

ARRANGEMENTS = ["sqlite", "postgres", "cassandra+postgres", "cassandra+sqlite"]


@dataclasses.dataclass
class SearchBackend:
    name: str
    store: MessageStore  # what services write through (the indexing wrapper on Cassandra)
    actions: MessageActionStore
    new_chat: Callable[[], tuple[str, str, str]]  # chat id, two member ids
    make_index: Callable[[int], SearchIndex]  # an index over the same data, given candidates
    engine: sa.Engine
    # Cassandra only: the bare store (writes that miss the index), the index's own writes,
    # and the wrapper that replays the backlog.
    bare_store: MessageStore | None = None
    writer: Any = None
    following: IndexingMessageActionStore | None = None
    clock: FakeClock | None = None
    new_id: Callable[[], str] = dataclasses.field(default_factory=MessageIdGenerator)

    def index(self, candidates: int = 2000) -> SearchIndex:
        return self.make_index(candidates)

    def say(self, chat: str, sender: str, text: str, at: datetime = NOW, **content: Any) -> Message:
        body = text_content(text) if not content else {**content, "caption": text}
        draft = Message(id="", chat_id=chat, sender_id=sender, content=body, created_at=at)
        return self.store.add_message(draft, self.new_id)[0]


@pytest.fixture(params=ARRANGEMENTS)
def search_backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    sql = request.param.removeprefix("cassandra+")
    if sql == "postgres":
        engine: sa.Engine = request.getfixturevalue("postgres_engine")
        empty_tables(engine)
    else:
        engine = sqlite_copy(request)
    if request.param.startswith("cassandra"):
        yield _following(request, engine)
    else:
        users, chats = SqlUserStore(engine), SqlChatStore(engine)
        writer = build_search_index(engine, 2000)

        def new_chat() -> tuple[str, str, str]:
            a, b = make_user(users), make_user(users)
            return make_direct_chat(chats, a.id, b.id).id, a.id, b.id

        yield SearchBackend(
            name=request.param,
            store=SqlMessageStore(engine, writer),
            actions=SqlMessageActionStore(engine, writer),
            new_chat=new_chat,
            make_index=lambda candidates: build_search_index(engine, candidates),
            engine=engine,
        )
    if sql == "sqlite":
        engine.dispose()


def _following(request: pytest.FixtureRequest, engine: sa.Engine) -> SearchBackend:
    from backend.adapters.cassandra.message_actions import CassandraMessageActionStore
    from backend.adapters.cassandra.messages import CassandraMessageStore

    session = request.getfixturevalue("cassandra_session")
    bare = CassandraMessageStore(session)
    # Previews of chats: these messages' chats exist nowhere, so there is nothing to refresh.
    bare_actions = CassandraMessageActionStore(session, SqlChatStore(engine))
    source = StoreMessageSource(bare, bare_actions)
    writer = build_search_index(engine, 2000, source)
    clock = FakeClock()
    following = IndexingMessageActionStore(
        bare_actions, bare, writer, SqlSearchBacklog(engine), clock
    )
    return SearchBackend(
        name=request.param,
        store=IndexingMessageStore(bare, writer),
        actions=following,
        # Nothing to create: messages in Cassandra refer to chats and users by id only.
        new_chat=lambda: (str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())),
        make_index=lambda candidates: build_search_index(engine, candidates, source),
        engine=engine,
        bare_store=bare,
        writer=writer,
        following=following,
        clock=clock,
    )


def texts(
    index: SearchIndex, viewer: str, text: str, *ranges: ReadableRange, **q: Any
) -> list[str]:
    """What ``viewer`` finds with ``ranges``, newest first, as caption or text."""
    page = index.search(viewer, SearchQuery(text=text, **q), list(ranges))
    return [h.message.content.get("text") or h.message.content["caption"] for h in page.hits]


# --- words ----------------------------------------------------------------------------------


def test_words_match_as_prefixes_in_any_case_and_without_accents(
    search_backend: SearchBackend,
) -> None:
    b = search_backend
    chat, alice, bob = b.new_chat()
    b.say(chat, alice, "The Café opens at nine")
    b.say(chat, bob, "Let's meet at the cafeteria")
    b.say(chat, bob, "nothing to see")
    b.say(chat, bob, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 letters and a \ue000private one")
    index, mine = b.index(), ReadableRange(chat)

    assert texts(index, alice, "cafe", mine) == [
        "Let's meet at the cafeteria",
        "The Café opens at nine",
    ]
    assert texts(index, alice, "CAFÉ OPEN", mine) == ["The Café opens at nine"]
    assert texts(index, alice, "caf meet", mine) == ["Let's meet at the cafeteria"]
    assert texts(index, alice, "cafes", mine) == []
    assert texts(index, alice, "zebra", mine) == []
    # Compatibility letters fold to plain ones; private-use characters are letters (as in FTS5).
    assert texts(index, alice, "UNICODE", mine) == ["𝔘𝔫𝔦𝔠𝔬𝔡𝔢 letters and a \ue000private one"]
    assert texts(index, alice, "\ue000priv", mine) == ["𝔘𝔫𝔦𝔠𝔬𝔡𝔢 letters and a \ue000private one"]
    assert texts(index, alice, "private", mine) == []


def test_long_words_match_whole_and_nothing_else(search_backend: SearchBackend) -> None:
    b = search_backend
    chat, alice, bob = b.new_chat()
    b.say(chat, alice, "Internationalization matters")
    b.say(chat, alice, "an international day")
    b.say(chat, alice, "hyperinternationalization")
    index, mine = b.index(), ReadableRange(chat)

    assert texts(index, bob, "internationaliz", mine) == ["Internationalization matters"]
    assert texts(index, bob, "internationx", mine) == []
    assert texts(index, bob, "internat", mine) == [
        "an international day",
        "Internationalization matters",
    ]


def test_cyrillic_and_arabic_words_are_found_with_or_without_marks(
    search_backend: SearchBackend,
) -> None:
    b = search_backend
    chat, alice, bob = b.new_chat()
    b.say(chat, alice, "Привет, как дела? Ёжик в тумане")
    b.say(chat, bob, "مَرْحَبًا بِكُمْ في المدينة")
    b.say(chat, bob, "أهلا وسهلا")
    index, mine = b.index(), ReadableRange(chat)

    assert texts(index, bob, "привет", mine) == ["Привет, как дела? Ёжик в тумане"]
    assert texts(index, bob, "ДЕЛ", mine) == ["Привет, как дела? Ёжик в тумане"]
    assert texts(index, bob, "ежик", mine) == ["Привет, как дела? Ёжик в тумане"]
    assert texts(index, alice, "مرحبا", mine) == ["مَرْحَبًا بِكُمْ في المدينة"]
    assert texts(index, alice, "المدي", mine) == ["مَرْحَبًا بِكُمْ في المدينة"]
    assert texts(index, alice, "اهلا", mine) == ["أهلا وسهلا"]


@pytest.mark.parametrize("candidates", [1, 10, 2000])
def test_every_word_must_match_in_any_order(search_backend: SearchBackend, candidates: int) -> None:
    """On every plan: with 10 candidates all holding the common word, PostgreSQL's GIN plan
    reads only the rare word's postings and checks the common one on its hits."""
    b = search_backend
    chat, alice, bob = b.new_chat()
    b.say(chat, alice, "rarely common words")
    for i in range(12):
        b.say(chat, bob, f"common filler {i}")
    index, mine = b.index(candidates), ReadableRange(chat)

    assert texts(index, alice, "common rare", mine) == ["rarely common words"]
    assert texts(index, alice, "RARELY comm", mine) == ["rarely common words"]
    assert texts(index, alice, "common fill 11", mine) == ["common filler 11"]
    assert texts(index, alice, "rare filler", mine) == []
    assert len(texts(index, alice, "common", mine, limit=50)) == 13


def test_what_a_user_types_is_words_never_engine_syntax(search_backend: SearchBackend) -> None:
    b = search_backend
    chat, alice, _ = b.new_chat()
    b.say(chat, alice, "and or not near")
    index, mine = b.index(), ReadableRange(chat)
    for text in ("AND", "NEAR(a b)", "chat : x", "^a", "a | b", "x'y", "w:*", "!a & b", "\\"):
        index.search(alice, SearchQuery(text=text), [mine])  # never an engine error
    assert texts(index, alice, "AND", mine) == ["and or not near"]
    assert texts(index, alice, "near(", mine) == ["and or not near"]


def test_a_hit_carries_the_message_and_a_snippet_of_plain_spans(
    search_backend: SearchBackend,
) -> None:
    b = search_backend
    chat, alice, bob = b.new_chat()
    sent = b.say(chat, bob, "<b>Budget</b> review moved to budgeting day")

    [hit] = b.index().search(alice, SearchQuery(text="budg"), [ReadableRange(chat)]).hits

    assert (hit.message.id, hit.message.chat_id, hit.message.sender_id) == (sent.id, chat, bob)
    assert hit.message.created_at == NOW and hit.message.content == sent.content
    assert hit.snippet == (
        SnippetSpan("<b>"),
        SnippetSpan("Budget", match=True),
        SnippetSpan("</b> review moved to "),
        SnippetSpan("budgeting", match=True),
        SnippetSpan(" day"),
    )


# --- who may find what ----------------------------------------------------------------------


@pytest.mark.parametrize("candidates", [1, 2000])
def test_nothing_from_chats_the_viewer_cannot_read(
    search_backend: SearchBackend, candidates: int
) -> None:
    b = search_backend
    mine, alice, _ = b.new_chat()
    theirs, carol, _ = b.new_chat()
    for i in range(3):
        b.say(theirs, carol, f"secret plan {i}")
    b.say(mine, alice, "public plan")
    index = b.index(candidates)

    assert texts(index, alice, "plan", ReadableRange(mine)) == ["public plan"]
    assert texts(index, alice, "secret", ReadableRange(mine)) == []
    assert texts(index, alice, "plan") == []  # no ranges, nothing
    assert texts(index, alice, "plan", ReadableRange(mine), chat_id=theirs) == []
    assert texts(index, carol, "plan", ReadableRange(theirs), chat_id=theirs) == [
        "secret plan 2",
        "secret plan 1",
        "secret plan 0",
    ]


@pytest.mark.parametrize("candidates", [1, 3, 2000])
def test_a_member_who_left_or_joined_late_finds_only_what_they_could_read(
    search_backend: SearchBackend, candidates: int
) -> None:
    """Ranges as ChatService.readable_ranges makes them, on both of the index's plans (few
    candidates: the words are mostly in other people's chats)."""
    b = search_backend
    chat, alice, bob = b.new_chat()
    elsewhere, carol, _ = b.new_chat()
    m = []
    for i in range(5):
        m.append(b.say(chat, alice, f"note {i}"))
        for _ in range(3):
            b.say(elsewhere, carol, "note not for bob")
    index = b.index(candidates)

    def found(*ranges: ReadableRange) -> list[str]:
        return texts(index, bob, "note", *ranges)

    assert found(ReadableRange(chat)) == [f"note {i}" for i in (4, 3, 2, 1, 0)]
    assert found(ReadableRange(chat, after=m[2].id)) == ["note 4", "note 3"]  # joined late
    assert found(ReadableRange(chat, upto=m[1].id)) == ["note 1", "note 0"]  # left
    assert found(ReadableRange(chat, upto=m[0].id), ReadableRange(chat, after=m[3].id)) == [
        "note 4",
        "note 0",
    ]  # left and came back
    assert found(ReadableRange(chat, after=m[1].id, upto=m[2].id)) == ["note 2"]
    assert found(ReadableRange(str(uuid.uuid4()))) == []


def test_filters_by_sender_dates_and_type(search_backend: SearchBackend) -> None:
    b = search_backend
    chat, alice, bob = b.new_chat()
    b.say(chat, alice, "report draft")
    b.say(chat, bob, "report final", at=NOW + timedelta(days=1))
    b.say(chat, bob, "report chart", at=NOW + timedelta(days=2), type="image", mediaId="x")
    index, mine = b.index(), ReadableRange(chat)

    assert texts(index, alice, "report", mine) == ["report chart", "report final", "report draft"]
    assert texts(index, alice, "report", mine, sender_id=bob) == ["report chart", "report final"]
    assert texts(index, alice, "report", mine, since=NOW + timedelta(hours=1)) == [
        "report chart",
        "report final",
    ]
    assert texts(index, alice, "report", mine, until=NOW + timedelta(days=1)) == [
        "report final",
        "report draft",
    ]
    assert texts(index, alice, "report", mine, content_type="image") == ["report chart"]
    assert texts(index, alice, "report", mine, content_type="text", sender_id=bob) == [
        "report final"
    ]
    assert texts(index, alice, "report", mine, content_type="voice") == []


@pytest.mark.parametrize("candidates", [1, 4, 2000])
def test_results_come_in_pages_newest_first(search_backend: SearchBackend, candidates: int) -> None:
    b = search_backend
    chat, alice, bob = b.new_chat()
    elsewhere, carol, _ = b.new_chat()
    for i in range(7):
        b.say(chat, alice, f"item {i}")
        b.say(elsewhere, carol, f"item elsewhere {i}")
    index = b.index(candidates)
    seen: list[str] = []
    cursor = ""
    while True:
        query = SearchQuery("item", before=cursor, limit=3)
        page = index.search(bob, query, [ReadableRange(chat)])
        seen += [h.message.content["text"] for h in page.hits]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [f"item {i}" for i in range(6, -1, -1)]
    assert index.search(bob, SearchQuery("item", limit=7), [ReadableRange(chat)]).next_cursor == ""


# --- what the index forgets -----------------------------------------------------------------


def test_a_message_deleted_for_everyone_leaves_the_index(search_backend: SearchBackend) -> None:
    b = search_backend
    actions = b.actions
    chat, alice, bob = b.new_chat()
    gone = b.say(chat, alice, "embarrassing typo")
    b.say(chat, alice, "embarrassingly fine")

    actions.delete_message(gone.id, NOW)

    assert texts(b.index(), bob, "embarrass", ReadableRange(chat)) == ["embarrassingly fine"]
    assert texts(b.index(), bob, "typo", ReadableRange(chat)) == []


def test_an_edit_replaces_the_words(search_backend: SearchBackend) -> None:
    b = search_backend
    actions = b.actions
    chat, alice, bob = b.new_chat()
    edited = b.say(chat, alice, "meeting on mondya")

    actions.edit_message(edited.id, text_content("meeting on monday"), NOW)

    index, mine = b.index(), ReadableRange(chat)
    assert texts(index, bob, "mondya", mine) == []
    assert texts(index, bob, "monday", mine) == ["meeting on monday"]
    assert texts(index, bob, "meeting", mine) == ["meeting on monday"]


def test_a_message_deleted_for_me_is_not_found_by_me(search_backend: SearchBackend) -> None:
    b = search_backend
    actions = b.actions
    chat, alice, bob = b.new_chat()
    hidden = b.say(chat, bob, "hidden treasure")

    actions.hide_message(alice, hidden, NOW)

    index, mine = b.index(), ReadableRange(chat)
    assert texts(index, alice, "treasure", mine) == []
    assert texts(index, bob, "treasure", mine) == ["hidden treasure"]


# --- following a store without transactions (Cassandra) -------------------------------------


def following(backend: SearchBackend) -> SearchBackend:
    if backend.bare_store is None:
        pytest.skip("the index is written in the message's own transaction here")
    return backend


def test_a_resend_indexes_a_message_whose_index_write_was_lost(
    search_backend: SearchBackend,
) -> None:
    b = following(search_backend)
    assert b.bare_store is not None
    chat, alice, _ = b.new_chat()
    draft = Message("", chat, alice, text_content("lost in the crash"), NOW, temp_id="t-1")
    stored, _ = b.bare_store.add_message(draft, b.new_id)  # the process died here
    index = b.index()
    assert texts(index, alice, "crash", ReadableRange(chat)) == []

    again, is_new = b.store.add_message(draft, b.new_id)  # the client sends it again

    assert (again.id, is_new) == (stored.id, False)
    assert texts(index, alice, "crash", ReadableRange(chat)) == ["lost in the crash"]
    b.store.add_message(draft, b.new_id)
    assert texts(index, alice, "crash", ReadableRange(chat)) == ["lost in the crash"]


def test_words_the_message_no_longer_has_are_never_shown(search_backend: SearchBackend) -> None:
    """An edit whose index change was lost: the index still holds the old words."""
    b = following(search_backend)
    assert b.bare_store is not None
    chat, alice, _ = b.new_chat()
    draft = Message("", chat, alice, text_content("the new words"), NOW)
    stored, _ = b.bare_store.add_message(draft, b.new_id)
    b.writer.put(dataclasses.replace(stored, content=text_content("the old words")))
    b.say(chat, alice, "old but still true")
    index = b.index()

    assert texts(index, alice, "old", ReadableRange(chat)) == ["old but still true"]
    assert texts(index, alice, "new", ReadableRange(chat)) == []  # never indexed


def test_a_restart_replays_changes_a_crash_left_half_done(search_backend: SearchBackend) -> None:
    b = following(search_backend)
    assert b.bare_store is not None and b.following is not None and b.clock is not None
    chat, alice, _ = b.new_chat()
    stored, _ = b.bare_store.add_message(
        Message("", chat, alice, text_content("now"), NOW), b.new_id
    )
    b.writer.put(dataclasses.replace(stored, content=text_content("before")))
    backlog = SqlSearchBacklog(b.engine)
    backlog.note(stored.id, b.clock())  # noted, then the process died after the store's write
    index, mine = b.index(), ReadableRange(chat)

    assert b.following.recover() == 0  # too young: its own write may still be on its way
    b.clock.advance(seconds=SETTLE.total_seconds() + 1)
    assert b.following.recover() == 1

    assert texts(index, alice, "now", mine) == ["now"]
    assert backlog.noted_before(b.clock() + SETTLE) == []
    b.writer.remove(stored.id)
    backlog.note(str(uuid.uuid4()), b.clock())  # a message the store never got
    b.clock.advance(seconds=SETTLE.total_seconds() + 1)
    assert b.following.recover() == 1
    assert texts(index, alice, "now", mine) == []


def test_an_edit_that_finds_no_live_message_leaves_no_backlog(
    search_backend: SearchBackend,
) -> None:
    b = following(search_backend)
    assert b.following is not None
    chat, alice, _ = b.new_chat()
    sent = b.say(chat, alice, "as it was")
    unknown = MessageIdGenerator()()
    assert b.following.edit_message(unknown, text_content("who?"), NOW) is None
    assert b.following.delete_message(sent.id, NOW) is not None
    assert b.following.edit_message(sent.id, text_content("as it is"), NOW) is None
    assert SqlSearchBacklog(b.engine).noted_before(NOW + timedelta(days=1)) == []
    assert texts(b.index(), alice, "was", ReadableRange(chat)) == []
    assert texts(b.index(), alice, "is", ReadableRange(chat)) == []
