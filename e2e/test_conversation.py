"""User stories of two (or three) people chatting in real browsers."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.api_helpers import Account, login, send_frame, socket
from e2e.conftest import send, sign_in, start_chat, statuses


def test_alice_and_bob_chat_live_with_ticks(person):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)

    send(alice.page, "Hello Bob")
    mine = alice.page.get_by_test_id("message").filter(has_text="Hello Bob")
    expect(mine).to_have_count(1)
    # Bob is online on his chat list but hasn't opened the chat: two grey ticks.
    expect(mine).to_have_attribute("data-status", "delivered")
    expect(mine.get_by_test_id("status-delivered")).to_be_visible()

    # Bob's list shows the new chat live, with its preview and an unread badge.
    item = bob.page.get_by_test_id(f"chat-item-{chat_id}")
    expect(item).to_contain_text("Alice")
    expect(item).to_contain_text("Hello Bob")
    expect(item.get_by_test_id("unread-badge")).to_have_text("1")

    item.click()
    bob.page.wait_for_url(f"**/chats/{chat_id}")
    expect(bob.page.get_by_test_id("message").filter(has_text="Hello Bob")).to_be_visible()
    expect(mine).to_have_attribute("data-status", "read")
    expect(mine.get_by_role("img", name="Read")).to_be_visible()  # a label, not colour alone
    expect(item.get_by_test_id("unread-badge")).to_have_count(0)
    assert statuses(alice.page, "Hello Bob") == ["pending", "sent", "delivered", "read"]

    # Bob replies; Alice has the chat open and sees it without doing anything.
    send(bob.page, "Hi Alice!")
    expect(alice.page.get_by_test_id("message").filter(has_text="Hi Alice!")).to_be_visible()
    expect(bob.page.get_by_test_id("message").filter(has_text="Hi Alice!")).to_have_attribute(
        "data-status", "read"
    )

    # A reload keeps everything, in order.
    for page in (alice.page, bob.page):
        page.reload()
        expect(page.locator(".message-text")).to_have_text(["Hello Bob", "Hi Alice!"])


def test_a_third_user_cannot_open_someone_elses_chat(person):
    alice, bob, mallory = person("Alice"), person("Bob"), person("Mallory")
    chat_id = start_chat(alice, bob)
    send(alice.page, "our secret")
    expect(alice.page.get_by_test_id("message")).to_have_attribute("data-status", "delivered")

    mallory.page.goto(f"/chats/{chat_id}")
    expect(mallory.page.get_by_test_id("chat-not-found")).to_be_visible()
    expect(mallory.page.get_by_text("our secret")).to_have_count(0)
    expect(mallory.page.get_by_test_id(f"chat-item-{chat_id}")).to_have_count(0)


def test_enter_sends_and_shift_enter_makes_a_new_line(person):
    alice, bob = person("Alice"), person("Bob")
    start_chat(alice, bob)
    box = alice.page.get_by_test_id("message-input")
    box.fill("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(alice.page.get_by_test_id("message")).to_have_count(0)
    box.press("Enter")
    expect(alice.page.locator(".message-text")).to_have_text("first line\nsecond line")
    expect(box).to_have_value("")
    # Blank input sends nothing.
    box.press("Enter")
    alice.page.get_by_test_id("send-button").click()
    expect(alice.page.get_by_test_id("message")).to_have_count(1)


def test_an_oversized_message_is_refused_and_the_draft_kept(person):
    alice, bob = person("Alice"), person("Bob")
    start_chat(alice, bob)
    huge = "x" * (64 * 1024 + 1)
    box = alice.page.get_by_test_id("message-input")
    box.fill(huge)
    box.press("Enter")
    expect(alice.page.get_by_test_id("composer-error")).to_contain_text("too long")
    expect(box).to_have_value(huge)
    expect(alice.page.get_by_test_id("message")).to_have_count(0)


def test_same_user_in_two_tabs_sees_the_same_chat(person, new_page):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    second_tab = alice.page.context.new_page()
    second_tab.goto(f"/chats/{chat_id}")
    expect(second_tab.get_by_test_id("chat-header")).to_contain_text("Bob")

    send(alice.page, "from tab one")
    twin = second_tab.get_by_test_id("message").filter(has_text="from tab one")
    expect(twin).to_have_attribute("data-status", "delivered")

    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    expect(twin).to_have_attribute("data-status", "read")
    expect(alice.page.get_by_test_id("message").filter(has_text="from tab one")).to_have_attribute(
        "data-status", "read"
    )


def settled_box(page, locator, quiet_ms: int = 300, timeout_ms: int = 5000):
    """The element's box once it has stopped moving for ``quiet_ms``."""
    box, still_since, waited = locator.bounding_box(), 0, 0
    while still_since < quiet_ms and waited < timeout_ms:
        page.wait_for_timeout(50)
        waited += 50
        now = locator.bounding_box()
        still_since = still_since + 50 if now == box else 0
        box = now
    return box


def seed_messages(app_services, sender, chat_id: str, texts: list[str]) -> None:
    """Store messages from ``sender`` straight through the services (a chat with a past)."""
    users = app_services.accounts.search_users("", sender.username)
    sender_id = next(u.id for u in users if u.username == sender.username)
    for i, text in enumerate(texts):
        app_services.messaging.send_message(
            sender_id, chat_id, {"type": "text", "text": text}, f"seed-{i}"
        )


def test_a_long_chat_opens_at_the_newest_and_pages_older_in_without_jumping(person, app_services):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    seed_messages(app_services, alice, chat_id, [f"history {i:03d}" for i in range(120)])
    page = alice.page
    page.reload()
    bubbles = page.get_by_test_id("message")
    expect(bubbles.last).to_contain_text("history 119")
    expect(bubbles.last).to_be_in_viewport()
    # The list is virtual: of the 50 messages loaded, only those near the viewport are in the DOM.
    assert 0 < bubbles.count() < 50

    # Scrolling to the top pages older messages in and keeps the reader's place: the message
    # at the top before the load is still where it was, not pushed down by 50 new ones.
    scroller = page.get_by_test_id("message-list")
    anchor = page.get_by_text("history 070")
    for _ in range(20):  # (a slow machine may still be placing the list when we first scroll)
        scroller.evaluate("el => el.scrollTo(0, 0)")
        page.wait_for_timeout(100)
        if anchor.count():
            break
    expect(anchor).to_be_visible()
    before = anchor.bounding_box()
    expect(page.get_by_text("history 069")).to_be_attached()  # the older page arrived
    # Virtuoso measures the new rows over a few frames (a brief shift), then holds the anchor.
    after = settled_box(page, anchor)
    assert before is not None and after is not None and abs(after["y"] - before["y"]) < 60

    for _ in range(20):  # keep scrolling up until the first message is rendered at the top
        scroller.evaluate("el => el.scrollTo(0, 0)")
        page.wait_for_timeout(300)
        if page.get_by_text("history 000").count():
            break
    expect(page.get_by_text("history 000")).to_be_in_viewport()
    expect(page.get_by_text(re.compile("beginning of your chat"))).to_be_in_viewport()


def test_at_phone_width_one_pane_shows_at_a_time(person, browser, base_url):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "hello small screen")
    phone = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 800})
    page = phone.new_page()
    try:
        sign_in(page, bob.username)
        item = page.get_by_test_id(f"chat-item-{chat_id}")
        expect(item).to_be_visible()
        expect(page.get_by_test_id("message-input")).to_be_hidden()
        item.click()
        expect(page.locator(".message-text")).to_have_text(["hello small screen"])
        expect(item).to_be_hidden()
        page.get_by_role("link", name="Back to chats").click()
        expect(item).to_be_visible()
    finally:
        phone.close()


def test_markup_in_a_message_is_shown_as_text_never_run(person):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    payload = '<img src=x onerror="window.__xss=1"><b>bold?</b>'
    send(alice.page, payload)
    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    bubble = bob.page.get_by_test_id("message")
    expect(bubble.locator(".message-text")).to_have_text(payload)
    expect(bubble.locator("img, b")).to_have_count(0)
    assert bob.page.evaluate("window.__xss") is None
    assert alice.page.evaluate("window.__xss") is None


def set_visibility(page, state: str) -> None:
    page.evaluate(
        """state => {
             Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
             document.dispatchEvent(new Event('visibilitychange'));
           }""",
        state,
    )


def test_a_chat_open_in_a_hidden_tab_is_delivered_not_read_until_shown(person):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "are you there?")
    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    mine = alice.page.get_by_test_id("message").filter(has_text="are you there?")
    expect(mine).to_have_attribute("data-status", "read")

    set_visibility(bob.page, "hidden")
    send(alice.page, "while you were away")
    expect(
        bob.page.get_by_test_id("message").filter(has_text="while you were away")
    ).to_be_visible()
    later = alice.page.get_by_test_id("message").filter(has_text="while you were away")
    expect(later).to_have_attribute("data-status", "delivered")
    bob.page.wait_for_timeout(300)
    expect(later).to_have_attribute("data-status", "delivered")

    set_visibility(bob.page, "visible")
    expect(later).to_have_attribute("data-status", "read")


def test_a_new_message_scrolls_into_view_only_for_a_reader_at_the_bottom(person, app_services):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    seed_messages(app_services, alice, chat_id, [f"older {i:03d}" for i in range(60)])
    page = bob.page
    page.reload()
    page.get_by_test_id(f"chat-item-{chat_id}").click()
    expect(page.locator(".message-text", has_text="older 059")).to_be_in_viewport()

    # At the bottom: a new message comes into view by itself.
    send(alice.page, "first new one")
    expect(page.locator(".message-text", has_text="first new one")).to_be_in_viewport()

    # Reading further up: what the reader is looking at stays where it is. (Just after a
    # change Virtuoso may still align the end once more, undoing a scroll made at that moment:
    # the reader scrolls again, as a person would.)
    scroller = page.get_by_test_id("message-list")
    below = "el => el.scrollHeight - el.scrollTop - el.clientHeight"
    for _ in range(5):
        scroller.evaluate("el => el.scrollBy(0, -600)")
        page.wait_for_timeout(500)
        if scroller.evaluate(below) > 400:
            break
    assert scroller.evaluate(below) > 400
    first_in_view = scroller.evaluate(
        """el => [...el.querySelectorAll('.message-text')]
              .find(p => p.getBoundingClientRect().top >= el.getBoundingClientRect().top)
              .textContent"""
    )
    anchor = page.locator(".message-text", has_text=first_in_view)
    expect(anchor).to_be_in_viewport()
    send(alice.page, "second new one")
    second = page.locator(".message-text", has_text="second new one")
    # It has arrived (announced to screen readers) though its row, out of view, may not be
    # rendered at all.
    expect(page.get_by_text("New message from Alice: second new one")).to_be_attached()
    page.wait_for_timeout(500)
    # Not taken to the new message; still reading the same place (the view may shift by at
    # most a row as the list measures the new one).
    expect(second).not_to_be_in_viewport()
    expect(anchor).to_be_in_viewport()


def test_a_reader_at_the_bottom_keeps_up_and_ones_own_send_always_shows(person, app_services):
    """Rows grow a little after they are placed (their time and ticks render late): a reader
    at the bottom is still followed after many messages, and a sender who scrolled up is taken
    to what they just sent."""
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    seed_messages(app_services, alice, chat_id, [f"older {i:03d}" for i in range(300)])
    for page in (alice.page, bob.page):
        page.reload()
        page.get_by_test_id(f"chat-item-{chat_id}").click()
        expect(page.locator(".message-text", has_text="older 299")).to_be_in_viewport()

    for i in range(8):
        send(alice.page, f"new {i}")
        for page in (bob.page, alice.page):
            expect(page.locator(".message-text", has_text=f"new {i}")).to_be_in_viewport()

    bob.page.get_by_test_id("message-list").evaluate("el => el.scrollBy(0, -900)")
    bob.page.wait_for_timeout(300)
    send(bob.page, "my own reply")
    expect(bob.page.locator(".message-text", has_text="my own reply")).to_be_in_viewport()


def test_a_chat_opened_while_the_other_is_typing_shows_it_until_they_go_quiet(
    person, client, base_url
):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "are you there?")
    item = bob.page.get_by_test_id(f"chat-item-{chat_id}")
    expect(item).to_contain_text("are you there?")

    # Alice starts typing on her phone (an API socket), once: Bob is not in the chat yet, so
    # only the typing state kept on the server can tell him when he opens it.
    phone = login(client, Account(token="", user={"username": alice.username}))
    with socket(base_url, phone) as ws:
        send_frame(ws, {"type": "typing", "chatId": chat_id, "isTyping": True})
        item.click()
        bob.page.wait_for_url(f"**/chats/{chat_id}")
        indicator = bob.page.get_by_test_id("typing-indicator")
        expect(indicator).to_have_text("typing…", timeout=3_000)
        # She goes quiet: the indicator lapses by itself (3.5 s after her last news).
        expect(indicator).to_have_count(0, timeout=6_000)
