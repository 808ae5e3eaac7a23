"""Search in the browser (issue #7): the global search narrowed by chat, sender, days (in the
viewer's time zone) and type; results and starred messages page by the services' cursors."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from backend.container import Services, build_services
from backend.content import text_content
from backend.settings import Settings
from e2e.api_helpers import API, Account, open_chat, register
from e2e.conftest import sign_in
from e2e.server import TEST_ENV
from tests import media_samples as samples

# UTC+14 all year: a message sent at 20:00 UTC on the 10th was sent on the 11th for Bob.
BOBS_ZONE = "Pacific/Kiritimati"


@pytest.fixture
def dated(app_data_dir: Path, base_url: str) -> tuple[Services, Callable[[datetime], None]]:
    """Services on the app's storage whose clock the test sets: messages sent on given days.

    (Their bus is this process's own: what they write reaches browsers on their next load.)
    """
    now = [datetime.now(UTC)]

    def set_now(moment: datetime) -> None:
        now[0] = moment

    env = {**os.environ, **TEST_ENV, "CHAT_DATA_DIR": str(app_data_dir)}
    return build_services(Settings.from_env(env), clock=lambda: now[0]), set_now


def create_group(client: httpx.Client, owner: Account, name: str, *members: Account) -> str:
    response = client.post(
        f"{API}/chats",
        json={"groupName": name, "participantIds": [m.id for m in members]},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["chatId"])


def send_photo(client: httpx.Client, who: Account, chat_id: str, caption: str) -> str:
    uploaded = client.post(
        f"{API}/media/upload",
        params={"chatId": chat_id, "filename": "photo.jpg"},
        content=samples.jpeg_with_location(320, 240),
        headers={**who.headers, "Content-Type": "application/octet-stream"},
    )
    assert uploaded.status_code == 201, uploaded.text
    sent = client.post(
        f"{API}/chats/{chat_id}/messages",
        json={
            "tempId": f"photo-{time.monotonic_ns()}",
            "content": {"type": "image", "mediaId": uploaded.json()["mediaId"], "caption": caption},
        },
        headers=who.headers,
    )
    assert sent.status_code == 201, sent.text
    return str(sent.json()["messageId"])


def shown_results(page: Page) -> list[str]:
    """The ids of the results on screen, in order (read in one go: the list re-renders)."""
    ids = page.eval_on_selector_all(
        "[data-testid^=search-result-]", "els => els.map(e => e.dataset.testid)"
    )
    return [i.removeprefix("search-result-") for i in ids]


def expect_results(page: Page, expected: list[str], timeout: float = 15) -> None:
    """Exactly ``expected`` on screen, newest first (waiting for the answer to a change)."""
    deadline = time.monotonic() + timeout
    while (shown := shown_results(page)) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert shown == expected


def sign_in_browser(new_page: Callable[..., Page], who: Account, **options: Any) -> Page:
    page = new_page(**options)
    sign_in(page, who.username)
    return page


def test_bob_narrows_a_search_by_chat_sender_days_and_type(client, dated, new_page):
    services, set_now = dated
    alice = register(client, "alice", "Alice")
    bob = register(client, "bob", "Bob")
    carol = register(client, "carol", "Carol")
    direct = open_chat(client, alice, bob)
    group = create_group(client, alice, "Trip", bob, carol)

    def say(who: Account, chat_id: str, text: str, day: int, hour: int) -> str:
        set_now(datetime(2025, 3, day, hour, tzinfo=UTC))
        return services.messaging.send_message(who.id, chat_id, text_content(text)).id

    # At these hours of March 2025 (UTC); for Bob (UTC+14) the 10th, 11th, 12th and 12th.
    ninth = say(alice, direct, "Ticket one, bought on the ninth", 9, 12)
    tenth = say(alice, direct, "ticket two, late on the tenth", 10, 20)
    train = say(carol, group, "Train tickets booked", 11, 20)
    printed = say(bob, group, "My ticket is printed", 11, 21)
    say(alice, direct, "nothing to find here", 11, 22)
    # Today, through the API: a photo with a caption, and a text in the group.
    photo = send_photo(client, alice, direct, "The ticket photo")
    prices = client.post(
        f"{API}/chats/{group}/messages",
        json={"tempId": "prices", "content": text_content("Ticket prices went up")},
        headers=alice.headers,
    ).json()["messageId"]
    everything = [prices, photo, printed, train, tenth, ninth]  # newest first

    page = sign_in_browser(new_page, bob, timezone_id=BOBS_ZONE)
    page.get_by_test_id("message-search").fill("ticket")
    expect_results(page, everything)
    # A result says where, who, and (for a photo) what; the matched word is marked.
    result = page.get_by_test_id(f"search-result-{photo}")
    expect(result).to_contain_text("Alice")
    expect(result).to_contain_text("Photo")
    expect(result.locator("mark")).to_have_text("ticket")
    expect(page.get_by_test_id(f"search-result-{train}")).to_contain_text("Trip")

    # By chat: the group's only.
    chat_filter = page.get_by_test_id("search-filter-chat")
    expect(chat_filter.locator("option")).to_have_count(3)  # all chats, Alice, Trip
    chat_filter.select_option(group)
    expect_results(page, [prices, printed, train])
    chat_filter.select_option("")
    expect_results(page, everything)

    # By sender: the people of Bob's chats, himself as "You".
    sender = page.get_by_test_id("search-filter-sender")
    expect(sender.locator("option")).to_have_text(
        ["Anyone", "You", f"Alice (@{alice.username})", f"Carol (@{carol.username})"]
    )
    sender.select_option(carol.id)
    expect_results(page, [train])
    sender.select_option(bob.id)
    expect_results(page, [printed])
    sender.select_option(alice.id)
    expect_results(page, [prices, photo, tenth, ninth])

    # By type, with the sender still chosen: photos, then texts.
    kind = page.get_by_test_id("search-filter-type")
    kind.select_option("image")
    expect_results(page, [photo])
    kind.select_option("text")
    expect_results(page, [prices, tenth, ninth])
    page.get_by_test_id("search-filter-clear").click()
    expect_results(page, everything)
    expect(sender).to_have_value("")

    # By days in Bob's zone: 20:00 UTC on the 10th was the 11th for him.
    page.get_by_test_id("search-filter-from").fill("2025-03-11")
    expect_results(page, [prices, photo, printed, train, tenth])
    page.get_by_test_id("search-filter-to").fill("2025-03-11")
    expect_results(page, [tenth])
    page.get_by_test_id("search-filter-from").fill("")
    page.get_by_test_id("search-filter-to").fill("2025-03-10")
    expect_results(page, [ninth])

    # All of them at once, and a search that finds nothing says so.
    page.get_by_test_id("search-filter-to").fill("")
    chat_filter.select_option(direct)
    sender.select_option(alice.id)
    kind.select_option("image")
    expect_results(page, [photo])
    page.get_by_test_id("message-search").fill("printed")
    expect(page.get_by_text("No messages found")).to_be_visible()
    expect_results(page, [])

    # Without words the filters stay, asking for a word; the words bring the results back.
    page.get_by_test_id("message-search").fill("")
    expect(page.get_by_text("Type a word to search for.")).to_be_visible()
    expect(chat_filter).to_have_value(direct)
    expect_results(page, [])
    page.get_by_test_id("message-search").fill("ticket")
    expect_results(page, [photo])

    # Choosing a result opens its chat at it and closes the search, filters and all.
    page.get_by_test_id(f"search-result-{photo}").click()
    page.wait_for_url(f"**/chats/{direct}")
    expect(page.locator(f"[data-testid=message][data-message-id='{photo}']")).to_be_in_viewport()
    expect(page.get_by_test_id("search-filter-chat")).to_have_count(0)
    expect(page.get_by_test_id(f"chat-item-{group}")).to_be_visible()


def test_paging_shows_every_match_and_every_starred_message_once(client, app_services, new_page):
    alice = register(client, "alice", "Alice")
    bob = register(client, "bob", "Bob")
    chat_id = open_chat(client, alice, bob)
    send = app_services.messaging.send_message
    needles = []
    for i in range(60):
        text = f"needle number {i}" if i % 4 else f"haystack {i}"
        needles.append(send(alice.id, chat_id, text_content(text)).id)
    matches = [m for i, m in enumerate(needles) if i % 4][::-1]  # 45, newest first
    for message_id in needles[:55]:
        app_services.message_actions.star(bob.id, message_id)
    starred = needles[:55][::-1]

    page = sign_in_browser(new_page, bob)
    page.get_by_test_id("message-search").fill("needle")
    expect_results(page, matches[:20])
    # Scrolling to the end of the results loads the next page; then the last five.
    more = page.get_by_test_id("search-more")
    more.scroll_into_view_if_needed()
    expect_results(page, matches[:40])
    more.scroll_into_view_if_needed()
    expect_results(page, matches)
    expect(more).to_have_count(0)
    assert len(set(shown_results(page))) == 45

    # The starred view: 50, then the last 5 with the button.
    page.get_by_test_id("message-search").fill("")
    page.get_by_test_id("starred-button").click()
    items = page.get_by_test_id("starred-item")
    expect(items).to_have_count(50)
    page.get_by_test_id("starred-more").click()
    expect(items).to_have_count(55)
    expect(page.get_by_test_id("starred-more")).to_have_count(0)
    shown = page.eval_on_selector_all(
        "[data-testid=starred-item]", "els => els.map(e => e.dataset.messageId)"
    )
    assert shown == starred
