"""User stories of message actions (issue #7) in two or three real browsers: reply, react,
edit, delete, forward, star and search; the menu from hover, right-click, keyboard and long
press."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from e2e import api_helpers as api
from e2e.conftest import send, sign_in, start_chat
from e2e.test_media import attach
from tests import media_samples as samples


def bubble(page: Page, text: str):
    """The bubble whose own words (not a quote of another) contain ``text``."""
    return page.get_by_test_id("message").filter(has=page.locator(".message-text", has_text=text))


def open_menu(page: Page, text: str) -> None:
    target = bubble(page, text)
    target.hover()
    target.get_by_test_id("message-actions").click()


def test_reply_react_edit_and_delete_are_seen_live(person):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "Lunch at noon?")
    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    expect(bubble(bob.page, "Lunch at noon?")).to_be_visible()

    # Bob replies: the composer quotes Alice's message, and the quote can be cancelled.
    open_menu(bob.page, "Lunch at noon?")
    bob.page.get_by_test_id("action-reply").click()
    preview = bob.page.get_by_test_id("reply-preview")
    expect(preview).to_contain_text("Alice")
    expect(preview).to_contain_text("Lunch at noon?")
    bob.page.get_by_test_id("reply-cancel").click()
    expect(preview).to_have_count(0)
    # The keyboard does the same: R on a focused message replies to it.
    bubble(bob.page, "Lunch at noon?").focus()
    bob.page.keyboard.press("r")
    expect(bob.page.get_by_test_id("message-input")).to_be_focused()
    send(bob.page, "Yes, see you there")
    expect(preview).to_have_count(0)
    for page in (alice.page, bob.page):  # the reply shows the quote, for both of them
        quote = bubble(page, "Yes, see you there").get_by_test_id("quoted-message")
        expect(quote).to_contain_text("Lunch at noon?")
    expect(
        bubble(alice.page, "Yes, see you there").get_by_test_id("quoted-message")
    ).to_contain_text("You")
    # Choosing the quote goes to the original and highlights it.
    bubble(alice.page, "Yes, see you there").get_by_test_id("quoted-message").click()
    expect(bubble(alice.page, "Lunch at noon?")).to_have_attribute("data-highlighted", "true")

    # Bob reacts; Alice sees it live. Her own reaction adds to the count; Bob's again removes his.
    open_menu(bob.page, "Lunch at noon?")
    bob.page.get_by_test_id("action-react-thumbsup").click()
    reactions = bubble(alice.page, "Lunch at noon?").get_by_test_id("reaction-bubble")
    expect(reactions).to_contain_text("👍")
    expect(reactions.get_by_role("img", name="👍 Bob")).to_be_visible()
    open_menu(alice.page, "Lunch at noon?")
    alice.page.get_by_test_id("action-react-thumbsup").click()
    expect(reactions).to_have_text("👍2")
    open_menu(bob.page, "Lunch at noon?")
    bob.page.get_by_test_id("action-react-thumbsup").click()
    expect(reactions.get_by_role("img", name="👍 You")).to_be_visible()
    expect(bubble(bob.page, "Lunch at noon?").get_by_test_id("reaction-bubble")).to_have_text("👍")

    # Copy puts the words on the clipboard.
    alice.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_menu(alice.page, "Lunch at noon?")
    alice.page.get_by_test_id("action-copy").click()
    expect(alice.page.get_by_test_id("action-copy")).to_have_count(0)
    copied = ""
    for _ in range(50):  # the copy lands after the server's answer reaches the browser
        copied = alice.page.evaluate("navigator.clipboard.readText()")
        if copied:
            break
        alice.page.wait_for_timeout(100)
    assert copied == "Lunch at noon?"

    # Alice edits her message: Bob sees the new words marked "edited", and his quote follows.
    open_menu(alice.page, "Lunch at noon?")
    alice.page.get_by_test_id("action-edit").click()
    box = alice.page.get_by_test_id("edit-input")
    expect(box).to_have_value("Lunch at noon?")
    box.fill("Lunch at one?")
    alice.page.get_by_test_id("edit-save").click()
    edited = bubble(bob.page, "Lunch at one?").first
    expect(edited.get_by_test_id("edited-label")).to_have_text("edited")
    expect(bubble(bob.page, "Yes, see you there").get_by_test_id("quoted-message")).to_contain_text(
        "Lunch at one?"
    )

    # Bob cannot edit or delete Alice's message for everyone: his menu doesn't offer it.
    open_menu(bob.page, "Lunch at one?")
    expect(bob.page.get_by_test_id("action-delete-me")).to_be_visible()
    expect(bob.page.get_by_test_id("action-edit")).to_have_count(0)
    expect(bob.page.get_by_test_id("action-delete-everyone")).to_have_count(0)
    bob.page.keyboard.press("Escape")

    # Alice deletes it for everyone: Bob sees the tombstone live, and the quote says so too.
    open_menu(alice.page, "Lunch at one?")
    alice.page.get_by_test_id("action-delete-everyone").click()
    tombstone = bob.page.locator(
        "[data-testid=message]", has=bob.page.locator(".message-text.deleted")
    )
    expect(tombstone).to_contain_text("This message was deleted")
    expect(bob.page.get_by_text("Lunch at one?")).to_have_count(0)
    expect(tombstone.get_by_test_id("reaction-bubble")).to_have_count(0)

    # Bob deletes his reply for himself only: gone for him, still there for Alice.
    open_menu(bob.page, "Yes, see you there")
    bob.page.get_by_test_id("action-delete-me").click()
    expect(bubble(bob.page, "Yes, see you there")).to_have_count(0)
    bob.page.reload()
    expect(bubble(bob.page, "This message was deleted")).to_be_visible()
    expect(bubble(bob.page, "Yes, see you there")).to_have_count(0)
    expect(bubble(alice.page, "Yes, see you there")).to_be_visible()


def test_forward_to_two_chats_and_find_it_starred(person):
    alice, bob, carol = person("Alice"), person("Bob"), person("Carol")
    carol_chat = start_chat(alice, carol)
    bob_chat = start_chat(alice, bob)
    send(alice.page, "Party on Friday, https://example.com/party?x=1 javascript:alert(1)")
    original = bubble(alice.page, "Party on Friday")
    expect(original).to_have_attribute("data-status", re.compile("sent|delivered|read"))
    # Only the http(s) address became a link, opening safely; the rest is text.
    link = original.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "https://example.com/party?x=1")
    expect(link).to_have_attribute("rel", "noopener noreferrer")

    # Forward to Carol's chat and (again) Bob's, picked through the search box of the picker.
    open_menu(alice.page, "Party on Friday")
    alice.page.get_by_test_id("action-forward").click()
    alice.page.get_by_test_id("forward-search").fill("Car")
    expect(alice.page.get_by_test_id(f"forward-option-{bob_chat}")).to_have_count(0)
    # (The box is ticked by the server's answer: click, then wait for the tick.)
    alice.page.get_by_test_id(f"forward-option-{carol_chat}").click()
    expect(alice.page.get_by_test_id(f"forward-option-{carol_chat}")).to_be_checked()
    alice.page.get_by_test_id("forward-search").fill("")
    alice.page.get_by_test_id(f"forward-option-{bob_chat}").click()
    expect(alice.page.get_by_test_id(f"forward-option-{bob_chat}")).to_be_checked()
    expect(alice.page.get_by_test_id(f"forward-option-{carol_chat}")).to_be_checked()
    alice.page.get_by_test_id("forward-confirm").click()
    expect(alice.page.get_by_test_id("forward-confirm")).to_have_count(0)

    # Bob has the chat open: the forwarded copy arrives live, labelled.
    bob.page.get_by_test_id(f"chat-item-{bob_chat}").click()
    copies = bubble(bob.page, "Party on Friday")
    expect(copies).to_have_count(2)
    expect(copies.get_by_test_id("forwarded-label")).to_have_count(1)
    # Carol gets it in her chat with Alice.
    carol.page.get_by_test_id(f"chat-item-{carol_chat}").click()
    forwarded = bubble(carol.page, "Party on Friday")
    expect(forwarded.get_by_test_id("forwarded-label")).to_have_text("Forwarded")

    # Carol stars it; it is in her starred view, and choosing it opens the chat at it.
    open_menu(carol.page, "Party on Friday")
    carol.page.get_by_test_id("action-star").click()
    expect(forwarded.get_by_test_id("star-mark")).to_be_visible()
    carol.page.goto("/chats")
    carol.page.get_by_test_id("starred-button").click()
    item = carol.page.get_by_test_id("starred-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Party on Friday")
    expect(item).to_contain_text("Alice")
    item.click()
    carol.page.wait_for_url(f"**/chats/{carol_chat}")
    expect(forwarded).to_be_in_viewport()
    # Unstarring empties the view again.
    open_menu(carol.page, "Party on Friday")
    expect(carol.page.get_by_test_id("action-star")).to_have_text("Unstar")
    carol.page.get_by_test_id("action-star").click()
    expect(forwarded.get_by_test_id("star-mark")).to_have_count(0)
    carol.page.get_by_test_id("starred-button").click()
    expect(carol.page.get_by_text("No starred messages yet")).to_be_visible()


def test_a_forwarded_photo_shows_and_opens_for_someone_not_in_the_original_chat(person, tmp_path):
    alice, bob, carol = person("Alice"), person("Bob"), person("Carol")
    carol_chat = start_chat(alice, carol)
    send(alice.page, "Beach photos coming")
    bob_chat = start_chat(alice, bob)
    beach = tmp_path / "beach.jpg"
    beach.write_bytes(samples.jpeg_with_location(1600, 1200))
    attach(alice.page, beach)
    sent = alice.page.get_by_test_id("message").filter(
        has=alice.page.get_by_test_id("message-image")
    )
    expect(sent).to_have_attribute("data-status", re.compile("sent|delivered|read"))
    # Carol has a photo of her own in their chat, sent before the forward.
    carol.page.get_by_test_id(f"chat-item-{carol_chat}").click()
    carol.page.wait_for_url(f"**/chats/{carol_chat}")
    mine = tmp_path / "mine.jpg"
    mine.write_bytes(samples.jpeg_with_location(800, 600))
    attach(carol.page, mine)
    expect(carol.page.get_by_test_id("message-image")).to_have_count(1)
    own = carol.page.get_by_test_id("message").filter(
        has=carol.page.get_by_test_id("message-image")
    )
    expect(own).to_have_attribute("data-status", re.compile("sent|delivered|read"))

    # Alice forwards the photo from her chat with Bob to her chat with Carol.
    sent.hover()
    sent.get_by_test_id("message-actions").click()
    alice.page.get_by_test_id("action-forward").click()
    alice.page.get_by_test_id(f"forward-option-{carol_chat}").click()
    expect(alice.page.get_by_test_id(f"forward-option-{carol_chat}")).to_be_checked()
    expect(alice.page.get_by_test_id(f"forward-option-{bob_chat}")).not_to_be_checked()
    alice.page.get_by_test_id("forward-confirm").click()
    expect(alice.page.get_by_test_id("forward-confirm")).to_have_count(0)

    # Carol, who is not in Alice's chat with Bob, gets it live, and the picture loads.
    forwarded = carol.page.get_by_test_id("message").filter(
        has=carol.page.get_by_test_id("forwarded-label")
    )
    image = forwarded.get_by_test_id("message-image")
    expect(image).to_be_visible()
    carol.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    preview = re.fullmatch(r"/api/v1/media/([0-9a-f-]+)/preview", image.get_attribute("src") or "")
    assert preview, image.get_attribute("src")
    media_id = preview.group(1)

    # She opens it full screen; the viewer finds it among her chat's photos (hers is older).
    image.click()
    expect(carol.page.get_by_test_id("photo-viewer")).to_be_visible()
    full = carol.page.get_by_test_id("photo-viewer-image")
    expect(full).to_have_attribute("src", re.compile(rf"/api/v1/media/{media_id}/full$"))
    carol.page.wait_for_function(
        "() => document.querySelector('[data-testid=photo-viewer-image]').naturalWidth === 1600"
    )
    expect(carol.page.get_by_test_id("photo-viewer-next")).to_be_disabled()  # the newest
    carol.page.get_by_test_id("photo-viewer-prev").click()
    expect(full).not_to_have_attribute("src", re.compile(media_id))
    carol.page.wait_for_function(
        "() => document.querySelector('[data-testid=photo-viewer-image]').naturalWidth === 800"
    )
    carol.page.keyboard.press("Escape")
    expect(carol.page.get_by_test_id("photo-viewer")).to_have_count(0)


def test_search_finds_an_old_message_and_opens_the_chat_at_it(person, app_services):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    users = app_services.accounts.search_users("", alice.username)
    alice_id = next(u.id for u in users if u.username == alice.username)
    old = app_services.messaging.send_message(
        alice_id, chat_id, {"type": "text", "text": "The pineapples arrive on Tuesday"}, "seed-x"
    )
    for i in range(80):  # the old message is now two pages back
        text = "pineapple cake tonight" if i == 70 else f"filler {i:03d}"
        app_services.messaging.send_message(
            alice_id, chat_id, {"type": "text", "text": text}, f"seed-{i}"
        )
    page = bob.page
    page.reload()
    expect(page.get_by_test_id(f"chat-item-{chat_id}")).to_be_visible()

    # Prefix matching: "pineapp" finds "pineapples"; the matched word is marked.
    page.get_by_test_id("message-search").fill("pineapp")
    result = page.get_by_test_id(f"search-result-{old.id}")
    expect(result).to_contain_text("Alice")
    expect(result.locator("mark")).to_have_text("pineapples")
    expect(page.get_by_test_id("search-result-" + "0" * 8)).to_have_count(0)
    page.get_by_test_id("message-search").fill("nothingmatchesthis")
    expect(page.get_by_text("No messages found")).to_be_visible()

    page.get_by_test_id("message-search").fill("pineapp")
    result.click()
    page.wait_for_url(f"**/chats/{chat_id}")
    target = page.locator(f"[data-testid=message][data-message-id='{old.id}']")
    expect(target).to_be_in_viewport(timeout=25_000)
    expect(target).to_contain_text("The pineapples arrive on Tuesday")

    # Inside the chat, a search steps through its matches, newest first.
    page.get_by_test_id("chat-search-button").click()
    page.get_by_test_id("chat-search").fill("pineapp")
    position = page.get_by_test_id("chat-search-position")
    expect(position).to_have_text("1 / 2")
    newest = bubble(page, "pineapple cake tonight")
    expect(newest).to_be_in_viewport(timeout=25_000)
    page.get_by_test_id("chat-search-older").click()
    expect(position).to_have_text("2 / 2")
    expect(target).to_be_in_viewport(timeout=25_000)
    page.get_by_test_id("chat-search-newer").click()
    expect(position).to_have_text("1 / 2")
    expect(newest).to_be_in_viewport(timeout=25_000)


def test_the_emoji_picker_types_into_the_composer_and_reacts_with_any_emoji(person):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    box = alice.page.get_by_test_id("message-input")
    box.fill("Launch day ")
    # Ctrl+E opens the picker; searching by name narrows it; the choice is typed at the caret.
    box.press("Control+e")
    alice.page.get_by_test_id("emoji-search").fill("rocket")
    options = alice.page.get_by_test_id("emoji-option")
    expect(options).to_have_count(1)
    options.click()
    expect(alice.page.get_by_test_id("emoji-picker")).to_have_count(0)
    expect(box).to_have_value("Launch day 🚀")
    box.press("Enter")
    expect(bubble(alice.page, "Launch day 🚀")).to_be_visible()

    # Bob reacts with an emoji that is not one of the quick six, through the menu's picker.
    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    open_menu(bob.page, "Launch day")
    bob.page.get_by_test_id("action-react-more").click()
    bob.page.get_by_test_id("emoji-search").fill("party popper")
    expect(bob.page.get_by_test_id("emoji-option")).to_have_count(1)
    bob.page.get_by_test_id("emoji-option").click()
    reactions = bubble(alice.page, "Launch day").get_by_test_id("reaction-bubble")
    expect(reactions.get_by_role("img", name="🎉 Bob")).to_be_visible()


def touch(page: Page, target: Locator, hold_ms: int, move_px: int = 0) -> tuple[float, float]:
    """A finger on the middle of ``target`` for ``hold_ms``, moving ``move_px`` sideways after
    100 ms; returns where it touched. (Trusted touch events, through the DevTools protocol:
    Playwright's touchscreen only taps.)"""
    x, y = _middle(target)
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}
        )
        if move_px:
            page.wait_for_timeout(100)
            moved = {"x": x + move_px, "y": y}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [moved]})
            hold_ms -= 100
        page.wait_for_timeout(hold_ms)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()
    return x, y


def near(menu: Locator, x: float, y: float) -> bool:
    """Whether the point is on or inside the menu's box (it opens at a pointer or finger)."""
    box = menu.bounding_box()
    assert box is not None
    return (
        box["x"] - 2 <= x <= box["x"] + box["width"] + 2
        and box["y"] - 2 <= y <= box["y"] + box["height"] + 2
    )


def test_a_long_press_on_a_touch_screen_opens_the_menu_where_the_finger_is(client, new_page):
    alice, bob = api.register(client, "alice", "Alice"), api.register(client, "bob", "Bob")
    chat_id = api.open_chat(client, alice, bob)
    api.send(client, alice, chat_id, "Hold this one to react")
    page = new_page(has_touch=True)
    sign_in(page, bob.username)
    page.get_by_test_id(f"chat-item-{chat_id}").click()
    words = bubble(page, "Hold this one").locator(".message-text")
    expect(words).to_be_visible()
    heart = page.get_by_test_id("action-react-heart")

    # A tap opens nothing, nor does a finger that moves (it is scrolling), however long.
    touch(page, words, hold_ms=150)
    touch(page, words, hold_ms=800, move_px=30)
    page.wait_for_timeout(700)
    expect(heart).to_have_count(0)

    # Holding still for half a second opens the menu where the finger is, selecting nothing.
    x, y = touch(page, words, hold_ms=700)
    expect(heart).to_be_visible()
    assert near(page.locator(".actions-menu"), x, y)
    assert page.evaluate("getSelection().toString()") == ""
    page.touchscreen.tap(*_middle(heart))
    reactions = bubble(page, "Hold this one").get_by_test_id("reaction-bubble")
    expect(reactions.get_by_role("img", name="\u2764\ufe0f You")).to_be_visible()
    expect(heart).to_have_count(0)


def test_the_menu_opens_beside_the_bubble_and_gives_focus_back(client, new_page):
    alice, bob = api.register(client, "alice", "Alice"), api.register(client, "bob", "Bob")
    chat_id = api.open_chat(client, alice, bob)
    api.send(client, alice, chat_id, "Menus everywhere")
    page = new_page()
    sign_in(page, bob.username)
    page.get_by_test_id(f"chat-item-{chat_id}").click()
    target = bubble(page, "Menus everywhere")
    menu = page.locator(".actions-menu")

    # The chevron shows on hover (and on focus), hidden otherwise.
    chevron = target.get_by_test_id("message-actions")
    expect(chevron).to_have_css("opacity", "0")
    target.hover()
    expect(chevron).to_have_css("opacity", "1")
    chevron.click()
    expect(menu).to_be_visible()
    chevron_box, menu_box = chevron.bounding_box(), menu.bounding_box()
    assert chevron_box and menu_box
    # Beside the bubble, not in the middle of the screen: below it, or above if no room.
    bubble_box = target.locator(".bubble").bounding_box()
    assert bubble_box
    assert (
        abs(menu_box["y"] - (bubble_box["y"] + bubble_box["height"])) < 12
        or abs(menu_box["y"] + menu_box["height"] - bubble_box["y"]) < 12
    )
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)

    # Right-click opens it at the pointer.
    box = target.locator(".message-text").bounding_box()
    assert box
    page.mouse.click(box["x"] + 5, box["y"] + 5, button="right")
    expect(menu).to_be_visible()
    assert near(menu, box["x"] + 5, box["y"] + 5)
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)

    # The keyboard: Enter on a focused message opens it; Tab stays inside; Escape closes it
    # and the message has focus again.
    target.focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    for _ in range(14):
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('.actions-menu')")
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(target).to_be_focused()
    # A reaction chosen from the keyboard closes it too, and focus comes back the same way.
    page.keyboard.press("Enter")
    page.get_by_test_id("action-react-joy").focus()
    page.keyboard.press("Enter")
    expect(target.get_by_test_id("reaction-bubble")).to_contain_text("\U0001f602")
    expect(target).to_be_focused()


def _middle(target: Locator) -> tuple[float, float]:
    box = target.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
