"""The line drops: the banner says so, what was typed goes out on reconnect, what was missed
comes in, and nothing is lost or shown twice."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from e2e.conftest import send, start_chat

# Keeps a handle on the page's WebSockets, so a test can drop them as a failing network would.
SOCKET_TRACKER = """
const NativeWebSocket = window.WebSocket;
window.__sockets = [];
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) { super(...args); window.__sockets.push(this); }
};
"""


class Line:
    """Bob's network, which the test can cut and restore: a cut takes the browser offline
    (new connections fail as on a dropped network) and drops the open sockets (which the
    browser's offline mode would leave open)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        page.context.add_init_script(SOCKET_TRACKER)

    def cut(self) -> None:
        self.page.context.set_offline(True)
        self.page.evaluate("() => window.__sockets.forEach((s) => s.close())")

    def restore(self) -> None:
        self.page.context.set_offline(False)


def bubbles(page: Page, text: str) -> Locator:
    return page.get_by_test_id("message").filter(has_text=text)


def test_a_dropped_connection_queues_sends_and_catches_up(person):
    alice, bob = person("Alice"), person("Bob")
    line = Line(bob.page)
    bob.page.reload()  # from now on Bob's sockets are tracked
    chat_id = start_chat(alice, bob)
    send(alice.page, "before the drop")
    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    expect(bubbles(bob.page, "before the drop")).to_be_visible()
    expect(bob.page.get_by_test_id("connection-banner")).to_have_count(0)

    line.cut()
    expect(bob.page.get_by_test_id("connection-banner")).to_be_visible(timeout=15_000)
    send(alice.page, "while you were away")
    send(bob.page, "typed while offline")
    bob.page.wait_for_timeout(500)
    expect(bubbles(bob.page, "while you were away")).to_have_count(0)

    line.restore()
    expect(bob.page.get_by_test_id("connection-banner")).to_have_count(0, timeout=20_000)
    # Missed messages are fetched, queued ones go out: each exactly once, on both sides.
    for page in (bob.page, alice.page):
        for text in ("before the drop", "while you were away", "typed while offline"):
            expect(bubbles(page, text)).to_have_count(1)
    expect(bubbles(bob.page, "typed while offline")).to_have_attribute("data-status", "read")
