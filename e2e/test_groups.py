"""User stories of groups, typing and presence, three people in three real browser contexts."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.conftest import Person, send, start_chat


def create_group(owner: Person, title: str, members: list[Person]) -> str:
    page = owner.page
    page.get_by_test_id("new-group-button").click()
    page.get_by_test_id("group-name-input").fill(title)
    for member in members:
        page.get_by_test_id("group-member-search").fill(member.username)
        page.get_by_test_id(f"group-member-result-{member.username}").click()
    page.get_by_test_id("create-group-button").click()
    page.wait_for_url("**/chats/*")
    expect(page.get_by_test_id("chat-header")).to_contain_text(title)
    return page.url.rstrip("/").rsplit("/", 1)[1]


def open_chat(person: Person, chat_id: str) -> None:
    person.page.get_by_test_id(f"chat-item-{chat_id}").click()
    person.page.wait_for_url(f"**/chats/{chat_id}")


def bubble(page: Page, text: str):
    return page.get_by_test_id("message").filter(has_text=text)


def test_a_group_of_three_chats_live_types_and_loses_a_member(person):
    alice, bob, carol = person("Alice"), person("Bob"), person("Carol")
    chat_id = create_group(alice, "Climbing club", [bob, carol])
    expect(alice.page.get_by_test_id("system-message")).to_contain_text(
        "You created the group “Climbing club”"
    )

    # The new group reaches the others' lists live; they open it.
    for member in (bob, carol):
        expect(member.page.get_by_test_id(f"chat-item-{chat_id}")).to_contain_text("Climbing club")
        open_chat(member, chat_id)
        expect(member.page.get_by_test_id("chat-members")).to_contain_text("You")

    # A message fans out to both; others see who wrote it; ticks turn blue when all have read.
    send(alice.page, "Saturday at 9?")
    for member in (bob, carol):
        expect(bubble(member.page, "Saturday at 9?")).to_contain_text("Alice")
    expect(bubble(alice.page, "Saturday at 9?")).to_have_attribute("data-status", "read")
    # Message info says who read it, and when.
    bubble(alice.page, "Saturday at 9?").hover()
    bubble(alice.page, "Saturday at 9?").get_by_test_id("message-actions").click()
    alice.page.get_by_test_id("action-info").click()  # (in the message menu since issue #7)
    read_by = alice.page.get_by_test_id("info-read")
    expect(read_by).to_contain_text("Bob")
    expect(read_by).to_contain_text("Carol")
    expect(read_by).to_contain_text("today at")
    alice.page.keyboard.press("Escape")

    # Typing shows for the others (never for the typist) and clears by itself.
    bob.page.get_by_test_id("message-input").press_sequentially("I'm in", delay=50)
    for watcher in (alice, carol):
        expect(watcher.page.get_by_test_id("typing-indicator")).to_have_text("Bob is typing…")
    expect(bob.page.get_by_test_id("typing-indicator")).to_have_count(0)
    for watcher in (alice, carol):
        expect(watcher.page.get_by_test_id("typing-indicator")).to_have_count(0, timeout=8_000)

    # Two people typing at once.
    bob.page.get_by_test_id("message-input").press_sequentially(" too", delay=50)
    carol.page.get_by_test_id("message-input").press_sequentially("Me too", delay=50)
    expect(alice.page.get_by_test_id("typing-indicator")).to_have_text(
        re.compile("(Bob and Carol|Carol and Bob) are typing…")
    )

    # Alice (the owner) removes Carol from the group panel; it takes effect live.
    alice.page.get_by_test_id("group-info-button").click()
    expect(alice.page.get_by_test_id(f"group-member-{carol.username}")).to_be_visible()
    alice.page.get_by_test_id(f"remove-member-{carol.username}").click()
    expect(alice.page.get_by_test_id(f"group-member-{carol.username}")).to_have_count(0)
    alice.page.keyboard.press("Escape")
    expect(carol.page.get_by_test_id("system-message").last).to_have_text("Alice removed you")
    expect(carol.page.get_by_test_id("not-member")).to_be_visible()
    expect(carol.page.get_by_test_id("message-input")).to_have_count(0)
    expect(bob.page.get_by_test_id("system-message").last).to_have_text("Alice removed Carol")

    # Carol gets nothing new, but keeps what she received.
    send(alice.page, "Just the two of us now")
    expect(bubble(bob.page, "Just the two of us now")).to_be_visible()
    expect(bubble(alice.page, "Just the two of us now")).to_have_attribute("data-status", "read")
    carol.page.reload()
    expect(bubble(carol.page, "Saturday at 9?")).to_be_visible()
    expect(bubble(carol.page, "Just the two of us now")).to_have_count(0)
    expect(carol.page.get_by_test_id(f"chat-item-{chat_id}")).not_to_contain_text("two of us")


def test_a_non_admin_sees_members_but_cannot_remove_them(person):
    alice, bob, carol = person("Alice"), person("Bob"), person("Carol")
    chat_id = create_group(alice, "Book club", [bob, carol])
    open_chat(bob, chat_id)
    bob.page.get_by_test_id("group-info-button").click()
    expect(bob.page.get_by_test_id(f"group-member-{alice.username}")).to_contain_text("owner")
    expect(bob.page.get_by_test_id(f"group-member-{carol.username}")).to_be_visible()
    expect(bob.page.get_by_test_id(f"remove-member-{carol.username}")).to_have_count(0)
    expect(bob.page.get_by_test_id("add-member-button")).to_have_count(0)


def test_presence_shows_online_then_last_seen_after_the_other_browser_closes(person):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "Are you there?")
    open_chat(bob, chat_id)

    expect(alice.page.get_by_test_id("presence-status")).to_have_text("online")
    expect(bob.page.get_by_test_id("presence-status")).to_have_text("online")

    bob.page.context.close()  # the laptop lid: no goodbye, the heartbeats just stop
    expect(alice.page.get_by_test_id("presence-status")).to_have_text(
        re.compile(r"^last seen today at "), timeout=15_000
    )


def test_unread_badge_and_new_messages_divider(person):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "first")
    open_chat(bob, chat_id)
    expect(bubble(bob.page, "first")).to_be_visible()
    bob.page.goto("/chats")  # Bob looks at his list, not at the chat

    send(alice.page, "second")
    send(alice.page, "third")
    item = bob.page.get_by_test_id(f"chat-item-{chat_id}")
    expect(item.get_by_test_id("unread-badge")).to_have_text("2")

    open_chat(bob, chat_id)
    divider = bob.page.get_by_test_id("unread-divider")
    expect(divider).to_have_text("2 unread messages")
    # The divider sits right above the first unread message.
    ids = bob.page.locator("[data-testid=unread-divider] + [data-testid=message]")
    expect(ids).to_contain_text("second")
    expect(item.get_by_test_id("unread-badge")).to_have_count(0)
    expect(bob.page.get_by_test_id("day-separator").first).to_have_text("Today")


def test_hiding_last_seen_hides_it_both_ways(person):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "hi")
    open_chat(bob, chat_id)
    bob.page.get_by_test_id("settings-button").click()
    bob.page.get_by_test_id("hide-last-seen").click()
    expect(bob.page.get_by_test_id("hide-last-seen")).to_be_checked()
    bob.page.keyboard.press("Escape")
    expect(alice.page.get_by_test_id("presence-status")).to_have_text("online")  # still shown

    bob.page.context.close()
    # Offline, and no time: Bob keeps when he was last seen to himself.
    expect(alice.page.get_by_test_id("presence-status")).to_have_attribute(
        "data-online", "false", timeout=15_000
    )
    alice.page.reload()
    expect(alice.page.get_by_test_id("presence-status")).to_have_text("")
