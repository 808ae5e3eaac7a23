"""Two app processes sharing PostgreSQL, Redis and Cassandra act as one product, in real browsers.

Alice's Chromium talks to process A, Bob's to process B, each the production build on its own
port (as ``make run`` serves it), with Reflex keeping tab state in the shared Redis. Messages,
ticks, typing and presence cross between them through Redis; the chat list is each user's
rows in Cassandra. Then B is killed (SIGKILL) while Bob keeps his tab, Alice writes on, Bob
types into the dead connection, and B comes back on the same port: Bob's tab reconnects and
every message is there exactly once on both sides, with its ticks.

(``test_two_processes.py`` tells the same story over the public WebSocket API.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from e2e.conftest import STATUS_RECORDER, Person, send, sign_up, start_chat, statuses
from e2e.server import ServedApp

Open = Callable[[ServedApp], Page]


@pytest.fixture(scope="module")
def apps(
    scale_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServedApp, ServedApp]]:
    root: Path = tmp_path_factory.mktemp("two-browsers")
    a = ServedApp("a", scale_env, root / "data-a", root / "a.log")
    b = ServedApp("b", scale_env, root / "data-b", root / "b.log")
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def tab_on(browser: Browser) -> Iterator[Open]:
    """A new browser (context) whose tab talks to the given process."""
    contexts = []

    def make(app: ServedApp) -> Page:
        context = browser.new_context(base_url=app.url)
        context.set_default_timeout(15_000)
        context.add_init_script(STATUS_RECORDER)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def bubbles(page: Page, text: str) -> Locator:
    """The messages whose text is exactly ``text``."""
    return page.get_by_test_id("message").filter(has=page.get_by_text(text, exact=True))


def open_chat(person: Person, chat_id: str) -> None:
    person.page.get_by_test_id(f"chat-item-{chat_id}").click()
    person.page.wait_for_url(f"**/chats/{chat_id}")


def test_a_conversation_across_two_processes_survives_one_being_killed(
    apps: tuple[ServedApp, ServedApp], tab_on: Open
) -> None:
    a, b = apps
    alice = sign_up(tab_on(a), "Alice")
    bob = sign_up(tab_on(b), "Bob")  # one database: A finds Bob at once
    chat_id = start_chat(alice, bob)

    # Alice sends on A; Bob, on his chat list on B, gets it live: two grey ticks for Alice.
    send(alice.page, "Hello from A")
    mine = bubbles(alice.page, "Hello from A")
    expect(mine).to_have_attribute("data-status", "delivered")
    item = bob.page.get_by_test_id(f"chat-item-{chat_id}")
    expect(item).to_contain_text("Alice")
    expect(item).to_contain_text("Hello from A")  # his own list row, in Cassandra
    expect(item.get_by_test_id("unread-badge")).to_have_text("1")

    # Bob opens the chat on B: Alice's ticks turn blue on A.
    open_chat(bob, chat_id)
    expect(bubbles(bob.page, "Hello from A")).to_be_visible()
    expect(mine).to_have_attribute("data-status", "read")
    assert statuses(alice.page, "Hello from A") == ["pending", "sent", "delivered", "read"]

    # Bob types on B: Alice sees it on A; his message arrives and the indicator goes.
    bob.page.get_by_test_id("message-input").press_sequentially("Hi Alice", delay=60)
    expect(alice.page.get_by_test_id("typing-indicator")).to_have_text("typing…")
    bob.page.get_by_test_id("message-input").press("Enter")
    expect(bubbles(alice.page, "Hi Alice")).to_be_visible()
    expect(bubbles(bob.page, "Hi Alice")).to_have_attribute("data-status", "read")
    expect(alice.page.get_by_test_id("typing-indicator")).to_have_count(0, timeout=10_000)

    # B dies. Bob's tab stays open and says the connection is lost.
    b.kill()
    expect(bob.page.get_by_test_id("connection-banner")).to_be_visible(timeout=30_000)
    send(alice.page, "While B was down")
    expect(bubbles(alice.page, "While B was down")).to_have_attribute("data-status", "sent")
    send(bob.page, "Typed while B was down")  # the tab keeps it for the reconnect

    # B comes back on the same port; Bob's tab reconnects by itself.
    b.start()
    expect(bob.page.get_by_test_id("connection-banner")).to_have_count(0, timeout=60_000)
    expect(bubbles(bob.page, "While B was down")).to_be_visible(timeout=30_000)
    expect(bubbles(alice.page, "Typed while B was down")).to_be_visible(timeout=30_000)
    send(alice.page, "After the restart")
    expect(bubbles(bob.page, "After the restart")).to_be_visible()

    # Everything exactly once, in the server's order, on both sides; every tick complete.
    texts = [
        "Hello from A",
        "Hi Alice",
        "While B was down",
        "Typed while B was down",
        "After the restart",
    ]
    own = {alice.page: texts[0::2], bob.page: texts[1::2]}
    for page, mine_texts in own.items():
        expect(page.locator(".message-text")).to_have_text(texts)
        for text in mine_texts:
            expect(bubbles(page, text)).to_have_attribute("data-status", "read")

    # And so it is stored: reloaded from PostgreSQL and Cassandra through either process.
    for page in (alice.page, bob.page):
        page.reload()
        expect(page.locator(".message-text")).to_have_text(texts)
    expect(item).to_contain_text("After the restart")
    expect(item.get_by_test_id("unread-badge")).to_have_count(0)


def test_presence_crosses_processes(apps: tuple[ServedApp, ServedApp], tab_on: Open) -> None:
    a, b = apps
    alice = sign_up(tab_on(a), "Alice")
    bob = sign_up(tab_on(b), "Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "Are you there?")
    open_chat(bob, chat_id)

    # Each is online for the other, though their heartbeats reach different processes.
    expect(alice.page.get_by_test_id("presence-status")).to_have_text("online")
    expect(bob.page.get_by_test_id("presence-status")).to_have_text("online")

    bob.page.context.close()  # no goodbye: the heartbeats to B just stop
    expect(alice.page.get_by_test_id("presence-status")).to_have_text(
        re.compile(r"^last seen today at "), timeout=15_000
    )
