"""Search: words and prefixes in any script, filters, and above all never a message the user
cannot read (other chats, outside their readable ranges, deleted for everyone or for them)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from backend.container import Services
from backend.content import text_content
from backend.errors import InvalidInput, NotFound
from backend.models import Chat, Message, ReadableRange, SnippetSpan
from backend.search_text import fold, query_terms, snippet
from backend.settings import Settings
from tests.backend.helpers import Person
from tests.conftest import FakeClock


@pytest.fixture
def search_candidates() -> int:
    """How many of the newest messages with the words the index's first plan looks at."""
    return Settings().search_candidates


@pytest.fixture
def settings(settings: Settings, search_candidates: int) -> Settings:
    return dataclasses.replace(settings, search_candidates=search_candidates)


def say(services: Services, who: Person, chat: Chat, text: str) -> Message:
    return services.messaging.send_message(who.id, chat.id, text_content(text))


def found(services: Services, who: Person, text: str, **filters: object) -> list[str]:
    """The texts of what ``who`` finds, newest first."""
    page = services.search.search_messages(who.id, text, **filters)  # type: ignore[arg-type]
    return [hit.message.content["text"] for hit in page.hits]


# --- words ----------------------------------------------------------------------------------


def test_words_match_as_prefixes_case_and_accent_insensitively(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    say(services, alice, chat, "The Café opens at nine")
    say(services, bob, chat, "Let's meet at the cafeteria")
    say(services, bob, chat, "nothing to see")

    assert found(services, alice, "cafe") == [
        "Let's meet at the cafeteria",
        "The Café opens at nine",
    ]
    assert found(services, alice, "CAFÉ OPEN") == ["The Café opens at nine"]
    assert found(services, alice, "caf meet") == ["Let's meet at the cafeteria"]
    assert found(services, alice, "cafes") == []
    assert found(services, bob, "zebra") == []


def test_long_words_match_whole_beyond_the_indexed_prefix(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    say(services, alice, chat, "Internationalization matters")
    say(services, alice, chat, "an international day")
    say(services, alice, chat, "hyperinternationalization")

    assert found(services, bob, "internationaliz") == ["Internationalization matters"]
    assert found(services, bob, "internationx") == []
    assert found(services, bob, "internat") == [
        "an international day",
        "Internationalization matters",
    ]
    assert found(services, bob, "matters internationalization") == ["Internationalization matters"]


def test_cyrillic_and_arabic_words_are_found_with_or_without_marks(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    say(services, alice, chat, "Привет, как дела? Ёжик в тумане")
    say(services, bob, chat, "مَرْحَبًا بِكُمْ في المدينة")
    say(services, bob, chat, "أهلا وسهلا")

    assert found(services, bob, "привет") == ["Привет, как дела? Ёжик в тумане"]
    assert found(services, bob, "дел") == ["Привет, как дела? Ёжик в тумане"]
    assert found(services, bob, "ежик") == ["Привет, как дела? Ёжик в тумане"]
    assert found(services, alice, "مرحبا") == ["مَرْحَبًا بِكُمْ في المدينة"]
    assert found(services, alice, "المدي") == ["مَرْحَبًا بِكُمْ في المدينة"]
    assert found(services, alice, "اهلا") == ["أهلا وسهلا"]  # hamza on alef folded


def test_a_hit_carries_chat_sender_date_and_a_snippet_of_plain_spans(
    services: Services, clock: FakeClock, alice: Person, bob: Person, chat: Chat
) -> None:
    sent = say(services, bob, chat, "<b>Budget</b> review moved to budgeting day")

    [hit] = services.search.search_messages(alice.id, "budg").hits

    assert hit.message.id == sent.id and hit.message.chat_id == chat.id
    assert hit.message.sender_id == bob.id and hit.message.created_at == clock()
    assert hit.snippet == (
        SnippetSpan("<b>"),
        SnippetSpan("Budget", match=True),
        SnippetSpan("</b> review moved to "),
        SnippetSpan("budgeting", match=True),
        SnippetSpan(" day"),
    )


def test_what_a_user_types_is_words_never_engine_syntax(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    say(services, alice, chat, "and or not near")
    for text in ("AND", "NEAR(a b)", "chat : x", "^a", "a OR b", 'x"y', "body:w*", "{chat}: c"):
        services.search.search_messages(alice.id, text)  # never an engine error
    assert found(services, alice, "AND") == ["and or not near"]
    assert found(services, alice, "near(") == ["and or not near"]
    for nothing in ("", "   ", "!!!", "--"):
        with pytest.raises(InvalidInput):
            services.search.search_messages(alice.id, nothing)
    with pytest.raises(InvalidInput):
        services.search.search_messages(alice.id, "x" * 257)


# --- who may find what ----------------------------------------------------------------------


def test_search_never_returns_messages_of_chats_the_user_is_not_in(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person, chat: Chat
) -> None:
    elsewhere = services.chats.open_direct_chat(carol.id, dave.id)
    say(services, carol, elsewhere, "secret plan")
    say(services, alice, chat, "public plan")

    assert found(services, alice, "plan") == ["public plan"]
    assert found(services, carol, "plan") == ["secret plan"]
    assert found(services, alice, "secret") == []
    with pytest.raises(NotFound):
        services.search.search_messages(alice.id, "plan", chat_id=elsewhere.id)
    with pytest.raises(NotFound):
        services.search.search_messages(alice.id, "plan", chat_id="nonsense")


def test_deleted_messages_leave_the_index_and_edits_replace_their_words(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    gone = say(services, alice, chat, "embarrassing typo")
    edited = say(services, alice, chat, "meeting on mondya")
    hidden = say(services, bob, chat, "hidden treasure")

    services.message_actions.delete_for_everyone(alice.id, gone.id)
    services.message_actions.edit(alice.id, edited.id, text_content("meeting on monday"))
    services.message_actions.delete_for_me(alice.id, hidden.id)

    assert found(services, bob, "embarrass") == []
    assert found(services, bob, "mondya") == []
    assert found(services, bob, "monday") == ["meeting on monday"]
    assert found(services, alice, "treasure") == []  # deleted for alice only
    assert found(services, bob, "treasure") == ["hidden treasure"]


@pytest.mark.parametrize("search_candidates", [1, 3, 2000])
def test_the_index_honours_bounded_readable_ranges(
    services: Services,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
    chat: Chat,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What groups will ask of it: a late joiner reads after ``after``, a member who left up to
    ``upto``. Exercised on the real index with ranges ChatService will produce, with both of
    its plans (few candidates: the words are mostly in other people's chats)."""
    elsewhere = services.chats.open_direct_chat(carol.id, dave.id)
    m = []
    for i in range(5):
        m.append(say(services, alice, chat, f"note {i}"))
        for _ in range(3):
            say(services, carol, elsewhere, "note not for bob")

    def texts(*ranges: ReadableRange) -> list[str]:
        monkeypatch.setattr(services.chats, "readable_ranges", lambda *_: list(ranges))
        return found(services, bob, "note")

    assert texts(ReadableRange(chat.id)) == [f"note {i}" for i in (4, 3, 2, 1, 0)]
    assert texts(ReadableRange(chat.id, after=m[2].id)) == ["note 4", "note 3"]
    assert texts(ReadableRange(chat.id, upto=m[1].id)) == ["note 1", "note 0"]
    assert texts(ReadableRange(chat.id, upto=m[0].id), ReadableRange(chat.id, after=m[3].id)) == [
        "note 4",
        "note 0",
    ]
    assert texts(ReadableRange(chat.id, after=m[1].id, upto=m[2].id)) == ["note 2"]
    assert texts() == []
    assert texts(ReadableRange("01a2101b-ee53-7000-8881-e88d4fab3664")) == []


def test_search_uses_the_chat_services_readable_ranges(
    services: Services,
    alice: Person,
    bob: Person,
    chat: Chat,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one rule lives in ChatService.readable_ranges: narrowing it narrows search."""
    first, _second = (
        say(services, alice, chat, "alpha one"),
        say(services, alice, chat, "alpha two"),
    )
    original = services.chats.readable_ranges

    def left_after_first(user_id: str, chat_id: str = "") -> list[ReadableRange]:
        return [ReadableRange(r.chat_id, upto=first.id) for r in original(user_id, chat_id)]

    monkeypatch.setattr(services.chats, "readable_ranges", left_after_first)
    assert found(services, bob, "alpha") == ["alpha one"]


# --- filters and pages ----------------------------------------------------------------------


def test_filters_by_chat_sender_dates_and_type(
    services: Services, clock: FakeClock, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    with_carol = services.chats.open_direct_chat(alice.id, carol.id)
    say(services, alice, chat, "report draft")
    start = clock()
    clock.advance(days=1)
    say(services, bob, chat, "report final")
    clock.advance(days=1)
    say(services, carol, with_carol, "report carol")
    search = services.search

    assert found(services, alice, "report") == ["report carol", "report final", "report draft"]
    assert found(services, alice, "report", chat_id=chat.id) == ["report final", "report draft"]
    assert found(services, alice, "report", sender_id=bob.id) == ["report final"]
    assert found(services, alice, "report", since=start + timedelta(hours=1)) == [
        "report carol",
        "report final",
    ]
    assert found(services, alice, "report", until=start + timedelta(days=1)) == [
        "report final",
        "report draft",
    ]
    assert found(services, alice, "report", content_type="text") == [
        "report carol",
        "report final",
        "report draft",
    ]
    assert found(services, alice, "report", content_type="image") == []
    with pytest.raises(InvalidInput):
        search.search_messages(alice.id, "report", since=start, until=start - timedelta(days=1))
    with pytest.raises(InvalidInput):
        search.search_messages(alice.id, "report", sender_id="bob")
    with pytest.raises(InvalidInput):
        search.search_messages(alice.id, "report", content_type="image/png' OR 1")


@pytest.mark.parametrize("search_candidates", [1, 4, 2000])
def test_results_come_in_pages_newest_first(
    services: Services,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
    chat: Chat,
) -> None:
    elsewhere = services.chats.open_direct_chat(carol.id, dave.id)
    for i in range(7):
        say(services, alice, chat, f"item {i}")
        say(services, carol, elsewhere, f"item elsewhere {i}")
    seen: list[str] = []
    cursor = ""
    while True:
        page = services.search.search_messages(bob.id, "item", before=cursor, limit=3)
        seen += [h.message.content["text"] for h in page.hits]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [f"item {i}" for i in range(6, -1, -1)]
    assert services.search.search_messages(bob.id, "item", limit=50).next_cursor == ""


# --- the words themselves -------------------------------------------------------------------


def test_folding_and_terms() -> None:
    assert fold("Ёжик CAFÉ مَرْحَبًا") == "ежик cafe مرحبا"
    assert query_terms('  "Hello" hello, wor*ld AND  ') == ["hello", "wor", "ld", "and"]
    assert query_terms("a b c d e f g h i j") == list("abcdefgh")


def test_a_long_snippet_starts_near_the_first_match() -> None:
    text = "lorem " * 30 + "needle in the haystack " + "ipsum " * 30
    spans = snippet(text, ["needle"])
    assert spans[0] == SnippetSpan("…") and spans[-1] == SnippetSpan("…")
    assert SnippetSpan("needle", match=True) in spans
    assert sum(len(s.text) for s in spans[1:-1]) <= 160
    assert spans[1].text.startswith("lorem")  # starts on a word boundary
